//! The operations listener: plain HTTP for the platform's probes and scraper, bound to localhost by
//! default (`ops.listen`), apart from the console's mutual-TLS port, which a probe without an
//! operator's certificate could not reach.
//!
//! - `GET /health`: liveness, 200 while the process serves, whatever the database does (restarting
//!   the process would not mend the database).
//! - `GET /ready`: readiness, 200 when the database answers and has every migration this build
//!   needs, 503 with the reason otherwise (and while the instance is stopping), so that a load
//!   balancer sends it nothing then.
//! - `GET /metrics`: [`crate::metrics`] in the Prometheus text format.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use sea_orm::{ConnectionTrait, DatabaseConnection, FromQueryResult};
use sea_orm_migration::MigratorTrait;

use crate::metrics::{Gauges, Metrics, PoolGauge};

/// What the operations listener reads.
#[derive(Clone)]
pub struct Ops {
    pub metrics: Arc<Metrics>,
    /// The pool readiness and the job gauges are read on (the background pool: a console pool
    /// exhausted by requests still lets the probe through).
    pub db: DatabaseConnection,
    /// The pools whose use is reported, by name.
    pub pools: Arc<std::sync::RwLock<Vec<(&'static str, DatabaseConnection)>>>,
    /// Set when the instance begins to stop.
    pub stopping: Arc<AtomicBool>,
}

impl Ops {
    pub fn new(metrics: Arc<Metrics>, db: DatabaseConnection) -> Self {
        Self {
            metrics,
            pools: Arc::new(std::sync::RwLock::new(vec![("background", db.clone())])),
            db,
            stopping: Arc::default(),
        }
    }

    /// Reports the use of `pool` too.
    pub fn watch_pool(&self, name: &'static str, pool: DatabaseConnection) {
        self.pools
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push((name, pool));
    }

    pub fn stop(&self) {
        self.stopping.store(true, Ordering::SeqCst);
    }

    /// Why the instance should not be sent requests now, if it should not.
    pub async fn unready(&self) -> Option<String> {
        if self.stopping.load(Ordering::SeqCst) {
            return Some("stopping".into());
        }
        if let Err(error) = self.db.execute_unprepared("SELECT 1").await {
            return Some(format!("database unreachable: {error}"));
        }
        match migrations::Migrator::get_pending_migrations(&self.db).await {
            Ok(pending) if pending.is_empty() => None,
            Ok(pending) => Some(format!(
                "{} pending migration(s): run `vpos migrate`",
                pending.len()
            )),
            Err(error) => Some(format!("reading the migrations: {error}")),
        }
    }

    async fn gauges(&self) -> Gauges {
        let pools = self
            .pools
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .map(|(name, db)| PoolGauge::of(name, db))
            .collect();
        #[derive(FromQueryResult)]
        struct Jobs {
            status: String,
            jobs: i64,
        }
        let backend = self.db.get_database_backend();
        let export_jobs = Jobs::find_by_statement(sea_orm::Statement::from_string(
            backend,
            "SELECT status, COUNT(*) AS jobs FROM export_jobs GROUP BY status ORDER BY status",
        ))
        .all(&self.db)
        .await
        .map(|rows| rows.into_iter().map(|r| (r.status, r.jobs)).collect())
        .unwrap_or_default();
        Gauges { pools, export_jobs }
    }
}

pub fn router(ops: Ops) -> Router {
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .with_state(ops)
}

async fn health() -> impl IntoResponse {
    Json(serde_json::json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION") }))
}

async fn ready(State(ops): State<Ops>) -> Response {
    match ops.unready().await {
        None => Json(serde_json::json!({ "status": "ready" })).into_response(),
        Some(reason) => (
            StatusCode::SERVICE_UNAVAILABLE,
            Json(serde_json::json!({ "status": "unready", "reason": reason })),
        )
            .into_response(),
    }
}

async fn metrics(State(ops): State<Ops>) -> Response {
    let gauges = ops.gauges().await;
    (
        [(
            header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        ops.metrics.render(&gauges),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn not_ready_while_the_database_is_unreachable_or_the_instance_stops() {
        // Nothing listens on port 1: every statement fails.
        let mut options = sea_orm::ConnectOptions::new("postgres://postgres@127.0.0.1:1/vpos");
        options
            .connect_lazy(true)
            .acquire_timeout(std::time::Duration::from_secs(1));
        let db = sea_orm::Database::connect(options)
            .await
            .expect("a lazy pool");
        let ops = Ops::new(Arc::new(Metrics::default()), db);
        let reason = ops.unready().await.expect("not ready");
        assert!(reason.starts_with("database unreachable"), "{reason}");
        ops.stop();
        assert_eq!(ops.unready().await.as_deref(), Some("stopping"));
    }
}
