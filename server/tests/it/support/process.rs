//! `vpos serve` as real processes on a test database: the directory they run in (PKI, the test
//! audit key, an empty site), processes that can be started, stopped and killed, and an operator's
//! signed-in HTTPS client. For the tests of what several instances share and of what a crash
//! leaves.

use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::Utc;
use sea_orm::EntityTrait;

use super::app::{client_config, FIRST_PASSWORD, PASSWORD};
use super::db::TestDb;

/// The directory the processes run in, with the platform's PKI and the database's audit key.
pub struct ServeDir<'a> {
    pub db: &'a TestDb,
    dir: tempfile::TempDir,
}

/// A `vpos serve` process: killed (SIGKILL) when dropped.
pub struct Serving {
    child: Child,
    pub port: u16,
    pub gateway_port: u16,
    /// Plain HTTP: /health, /ready, /metrics.
    pub ops_port: u16,
}

impl Serving {
    /// Ends the process at once, as a crash or `kill -9` does: no shutdown of any kind.
    pub fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Stops the process as a deployment does (SIGTERM) and waits until it has ended.
    pub fn stop(&mut self) {
        let terminated = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("kill -TERM");
        assert!(terminated.success());
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        loop {
            if self.child.try_wait().expect("wait").is_some() {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "vpos serve did not stop within 30 s"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn origin(&self) -> String {
        format!("https://127.0.0.1:{}", self.port)
    }

    /// `GET <path>` here with the session `cookie`.
    pub async fn get(
        &self,
        client: &reqwest::Client,
        cookie: &str,
        path: &str,
    ) -> reqwest::Response {
        client
            .get(format!("{}{path}", self.origin()))
            .header("cookie", cookie)
            .header("accept", "application/json")
            .send()
            .await
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// Starts a background export of every transaction here for the session `cookie`: the job's
    /// id.
    pub async fn start_export(&self, client: &reqwest::Client, cookie: &str) -> i64 {
        let started = client
            .post(format!("{}/api/exports/transactions", self.origin()))
            .header("origin", self.origin())
            .header("cookie", cookie)
            .header("accept", "application/json")
            .json(&serde_json::json!({"filter": {}}))
            .send()
            .await
            .expect("start an export");
        assert_eq!(started.status(), 200);
        started.json().await.expect("job id")
    }
}

impl Drop for Serving {
    fn drop(&mut self) {
        self.kill();
    }
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl<'a> ServeDir<'a> {
    /// The directory, with a CA, the server's and a gateway's certificates.
    pub fn new(db: &'a TestDb) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        // The test database's audit log is sealed with the test processes' key: the processes get
        // the same one (`support::db::audit_key`, 32 bytes of 7, in base64).
        std::fs::create_dir_all(dir.path().join("var")).expect("var");
        std::fs::write(
            dir.path().join("var/audit.key"),
            "BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=\n",
        )
        .expect("audit key");
        std::fs::create_dir_all(dir.path().join("site/pkg")).expect("site");
        let serve_dir = Self { db, dir };
        serve_dir.vpos(&["pki", "init"]);
        serve_dir.vpos(&["pki", "server"]);
        serve_dir.vpos(&["pki", "gateway", "--name", "front-end"]);
        serve_dir
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// Runs `vpos` with `args` here, on the test database; it must succeed.
    pub fn vpos(&self, args: &[&str]) {
        let out = Command::new(env!("CARGO_BIN_EXE_vpos"))
            .args(args)
            .current_dir(self.path())
            .env("DATABASE_URL", &self.db.url)
            .env_remove("VPOS_CONFIG")
            .env("P12_PASSWORD", "p12-unused-1")
            .env("VPOS_LOG__FILTER", "warn")
            .output()
            .expect("run vpos");
        assert!(out.status.success(), "vpos {args:?}: {out:?}");
    }

    /// Issues `login`'s certificate and binds it (the operator must exist).
    pub fn certify(&self, login: &str) {
        self.vpos(&[
            "pki",
            "operator",
            "--name",
            login,
            "--password-env",
            "P12_PASSWORD",
        ]);
        self.vpos(&[
            "operator",
            "bind-cert",
            "--login",
            login,
            "--cert",
            &format!("var/pki/issued/{login}.pem"),
        ]);
    }

    /// Starts `vpos serve` on free ports, with `env` besides the test settings, and waits until it
    /// listens.
    pub async fn serve(&self, env: &[(&str, &str)]) -> Serving {
        self.serve_logging(env, Stdio::null()).await
    }

    /// [`Self::serve`], with the process's log (stderr) going to `log`.
    pub async fn serve_logging(&self, env: &[(&str, &str)], log: Stdio) -> Serving {
        let (port, gateway_port, ops_port) = (free_port(), free_port(), free_port());
        let mut command = Command::new(env!("CARGO_BIN_EXE_vpos"));
        command
            .arg("serve")
            .current_dir(self.path())
            .env("DATABASE_URL", &self.db.url)
            .env_remove("VPOS_CONFIG")
            .env("VPOS_LISTEN", format!("127.0.0.1:{port}"))
            .env("VPOS_PUBLIC_URL", format!("https://127.0.0.1:{port}"))
            .env("VPOS_GATEWAY__LISTEN", format!("127.0.0.1:{gateway_port}"))
            .env("VPOS_OPS__LISTEN", format!("127.0.0.1:{ops_port}"))
            .env("VPOS_SITE_ROOT", self.path().join("site"))
            .env("VPOS_CLEARING__SCHEDULE", "false")
            .env("VPOS_LOG__FILTER", "warn")
            .stdout(Stdio::null())
            .stderr(log);
        for (key, value) in env {
            command.env(key, value);
        }
        let serving = Serving {
            child: command.spawn().expect("start vpos serve"),
            port,
            gateway_port,
            ops_port,
        };
        listening(port).await;
        listening(gateway_port).await;
        serving
    }

    /// An HTTPS client presenting `name`'s certificate (an operator's or the gateway's).
    pub fn client(&self, name: &str) -> reqwest::Client {
        let pki = server::pki::Pki::new(self.path().join("var/pki"));
        let issued = server::pki::IssuedCert {
            cert_path: pki.issued_dir().join(format!("{name}.pem")),
            key_path: pki.issued_dir().join(format!("{name}.key.pem")),
            p12_path: pki.issued_dir().join(format!("{name}.p12")),
            p12_password: String::new().into(),
            fingerprint: String::new(),
            serial_hex: String::new(),
            subject_cn: name.into(),
            not_before: Utc::now(),
            not_after: Utc::now(),
        };
        reqwest::Client::builder()
            .use_preconfigured_tls(client_config(&pki.ca_cert_path(), Some(&issued)))
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client")
    }

    /// Signs `login` in on `serving` with [`FIRST_PASSWORD`] and changes it to [`PASSWORD`]: the
    /// session cookie (`name=value`) to send.
    pub async fn sign_in(
        &self,
        client: &reqwest::Client,
        serving: &Serving,
        login: &str,
    ) -> String {
        let origin = serving.origin();
        let cookie = self.session(client, serving, login, FIRST_PASSWORD).await;
        let changed = client
            .post(format!("{origin}/api/change_password"))
            .header("origin", &origin)
            .header("cookie", &cookie)
            .form(&[
                ("current_password", FIRST_PASSWORD),
                ("new_password", PASSWORD),
                ("confirm_password", PASSWORD),
            ])
            .send()
            .await
            .expect("change password");
        assert_eq!(changed.status(), 200);
        cookie
    }

    /// Signs `login` in again on `serving`, with [`PASSWORD`] (set by [`Self::sign_in`]).
    pub async fn sign_in_again(
        &self,
        client: &reqwest::Client,
        serving: &Serving,
        login: &str,
    ) -> String {
        self.session(client, serving, login, PASSWORD).await
    }

    /// A new session of `login` on `serving`: its cookie.
    async fn session(
        &self,
        client: &reqwest::Client,
        serving: &Serving,
        login: &str,
        password: &str,
    ) -> String {
        let origin = serving.origin();
        let form: serde_json::Value = client
            .get(format!("{origin}/api/sign_in_form"))
            .header("accept", "application/json")
            .send()
            .await
            .expect("sign-in form")
            .json()
            .await
            .expect("form");
        let captcha = form["captcha_id"].as_str().expect("captcha").to_owned();
        let answer = app::backend::entities::captchas::Entity::find_by_id(captcha.as_str())
            .one(&self.db.conn)
            .await
            .expect("query")
            .expect("captcha")
            .answer;
        let signed_in = client
            .post(format!("{origin}/api/sign_in"))
            .header("origin", &origin)
            .header("accept", "application/json")
            .form(&[
                ("login_name", login),
                ("password", password),
                ("captcha_id", &captcha),
                ("captcha_answer", &answer),
            ])
            .send()
            .await
            .expect("sign in");
        assert_eq!(signed_in.status(), 200);
        signed_in
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(app::backend::session::SESSION_COOKIE))
            .and_then(|v| v.split(';').next())
            .expect("a session cookie")
            .to_owned()
    }
}

/// Waits until something listens on `port`.
pub async fn listening(port: u16) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .is_err()
    {
        assert!(
            std::time::Instant::now() < deadline,
            "vpos serve did not open {port}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}
