//! Test support: databases, a PKI, and the app served over mutual TLS on a random port.

pub mod app;
pub mod browser;
pub mod db;
pub mod pki;
pub mod process;

pub use app::{spawn_app, FIRST_PASSWORD, PASSWORD};
pub use db::{Backend, TestDb};
pub use pki::TestPki;

/// Runs an async test body once per database backend, as `<name>::sqlite` and `<name>::postgres`.
/// The PostgreSQL variant needs `TEST_DATABASE_URL`; without it the variant reports that it was skipped
/// (and fails if `TEST_REQUIRE_POSTGRES=1`, which the project's test command sets when a server is
/// reachable).
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),+ $(,)?) => {
        $(
            mod $name {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$name($crate::support::Backend::Sqlite).await;
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    if $crate::support::db::postgres_available() {
                        super::$name($crate::support::Backend::Postgres).await;
                    }
                }
            }
        )+
    };
}
