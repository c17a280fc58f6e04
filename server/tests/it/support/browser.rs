//! A browser as the console sees it: one client certificate, the console's Origin on every POST, and
//! the session cookie kept between requests. Redirects are not followed, so tests see them.

use std::time::Duration;

use sea_orm::EntityTrait;
use serde::de::DeserializeOwned;

use app::api::auth::{SignInFormView, SignInOutcome};
use app::backend::entities::captchas;
use app::backend::session::SESSION_COOKIE;
use app::error::AppError;
use server::pki::IssuedCert;

use super::app::TestApp;

pub struct Browser<'a> {
    pub app: &'a TestApp,
    client: reqwest::Client,
    pub origin: String,
    /// The session token the console last set, if any.
    pub session: Option<String>,
    /// Another instance of the console to send requests to, instead of the app's own.
    base: Option<String>,
    /// The `Set-Cookie` value of the last response that set the session cookie.
    pub last_set_cookie: Option<String>,
}

/// A server function's answer: the status and the body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: String,
    pub elapsed: Duration,
}

impl Answer {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.body)
            .unwrap_or_else(|e| panic!("{e}: status {} body {}", self.status, self.body))
    }

    pub fn error(&self) -> AppError {
        assert!(
            self.status >= 400,
            "expected an error, got {} {}",
            self.status,
            self.body
        );
        self.json()
    }
}

impl TestApp {
    pub fn browser(&self, cert: &IssuedCert) -> Browser<'_> {
        let client = reqwest::Client::builder()
            .use_preconfigured_tls(self.client_config(Some(cert)))
            .redirect(reqwest::redirect::Policy::none())
            // A request that hangs fails its test instead of the whole run (TEST_HTTP_TIMEOUT_SECS
            // lengthens the wait, to look at a hung server with a debugger).
            .timeout(Duration::from_secs(
                std::env::var("TEST_HTTP_TIMEOUT_SECS")
                    .ok()
                    .and_then(|s| s.parse().ok())
                    .unwrap_or(60),
            ))
            .build()
            .expect("reqwest client");
        Browser {
            app: self,
            client,
            origin: format!("https://127.0.0.1:{}", self.addr.port()),
            session: None,
            last_set_cookie: None,
            base: None,
        }
    }
}

impl<'a> Browser<'a> {
    /// Another tab of the same browser: the same certificate and session.
    pub fn twin(&self) -> Browser<'a> {
        Browser {
            app: self.app,
            client: self.client.clone(),
            origin: self.origin.clone(),
            session: self.session.clone(),
            last_set_cookie: None,
            base: self.base.clone(),
        }
    }

    /// The same browser with its session, talking to `instance` from now on.
    pub fn at(&self, instance: &super::app::Instance) -> Browser<'a> {
        let base = format!("https://127.0.0.1:{}", instance.addr.port());
        Browser {
            origin: base.clone(),
            base: Some(base),
            ..self.twin()
        }
    }

    fn url(&self, path: &str) -> String {
        match &self.base {
            Some(base) => format!("{base}{path}"),
            None => self.app.url(path),
        }
    }

    /// GETs a file: the status, the Content-Type and the bytes.
    pub async fn download(&mut self, path: &str) -> (u16, String, Vec<u8>) {
        let request = self.with_session(self.client.get(self.url(path)));
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_owned();
        let bytes = response.bytes().await.expect("body").to_vec();
        (status, content_type, bytes)
    }

    /// Calls a server function with form fields, as the console's own pages do: by GET with the
    /// fields in the query when the function is declared to change nothing, else by POST.
    pub async fn call(&mut self, endpoint: &str, fields: &[(&str, &str)]) -> Answer {
        let origin = self.origin.clone();
        self.call_from(endpoint, fields, Some(&origin)).await
    }

    /// Calls a server function with JSON arguments: a POST's body, or a GET's query.
    pub async fn call_json(&mut self, endpoint: &str, body: serde_json::Value) -> Answer {
        let url = self.url(&format!("/api/{endpoint}"));
        let request = if reads_only(endpoint) {
            let query = serde_qs::to_string(&body).expect("arguments as a query");
            self.client.get(format!("{url}?{query}"))
        } else {
            self.client.post(url).json(&body)
        };
        let request = request
            .header("accept", "application/json")
            .header("origin", self.origin.clone());
        self.send(request).await
    }

    /// The same with another Origin header (or none).
    pub async fn call_from(
        &mut self,
        endpoint: &str,
        fields: &[(&str, &str)],
        origin: Option<&str>,
    ) -> Answer {
        let url = self.url(&format!("/api/{endpoint}"));
        let request = if reads_only(endpoint) {
            self.client.get(url).query(fields)
        } else {
            self.client.post(url).form(fields)
        };
        let mut request = request.header("accept", "application/json");
        if let Some(origin) = origin {
            request = request.header("origin", origin);
        }
        self.send(request).await
    }

    /// POSTs a file as a form's file field `field` does (multipart), with the console's Origin.
    pub async fn upload(&mut self, path: &str, field: &str, name: &str, bytes: &[u8]) -> Answer {
        let boundary = "vpos-test-boundary-7d1f3a";
        let mut body = format!(
            "--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\n\
             Content-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet\r\n\r\n"
        )
        .into_bytes();
        body.extend_from_slice(bytes);
        body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
        let request = self
            .client
            .post(self.url(path))
            .header(
                "content-type",
                format!("multipart/form-data; boundary={boundary}"),
            )
            .header("origin", self.origin.clone())
            .body(body);
        self.send(request).await
    }

    /// GETs a page; a redirect comes back as its status and `Location` in the body.
    pub async fn page(&mut self, path: &str) -> Answer {
        let request = self.client.get(self.url(path));
        self.send(request).await
    }

    /// GETs any path (e.g. a server function by GET).
    pub async fn get(&mut self, path: &str) -> Answer {
        self.page(path).await
    }

    /// Opens a stream of server-sent events at `path` with this browser's session: its status, and
    /// the stream when the answer is one.
    pub async fn events(&self, path: &str) -> Result<EventStream, (u16, String)> {
        let request = self
            .with_session(self.client.get(self.url(path)))
            .header("accept", "text/event-stream");
        let response = request.send().await.expect("request");
        let status = response.status().as_u16();
        let event_stream = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|t| t.starts_with("text/event-stream"));
        if status != 200 || !event_stream {
            return Err((status, response.text().await.unwrap_or_default()));
        }
        Ok(EventStream {
            response,
            buffer: String::new(),
        })
    }

    /// The request with this browser's session cookie, if it has one.
    fn with_session(&self, request: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        match &self.session {
            Some(token) => request.header("cookie", format!("{SESSION_COOKIE}={token}")),
            None => request,
        }
    }

    async fn send(&mut self, request: reqwest::RequestBuilder) -> Answer {
        let request = self.with_session(request);
        let started = std::time::Instant::now();
        let response = request.send().await.expect("request");
        let elapsed = started.elapsed();
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str().expect("cookie").to_owned();
            if let Some(rest) = value.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let token = rest.split(';').next().unwrap_or_default();
                self.session = (!token.is_empty()).then(|| token.to_owned());
                self.last_set_cookie = Some(value);
            }
        }
        let status = response.status().as_u16();
        let location = response
            .headers()
            .get("location")
            .map(|l| l.to_str().expect("location").to_owned());
        let body = response.text().await.expect("body");
        Answer {
            status,
            body: location.unwrap_or(body),
            elapsed,
        }
    }

    /// A fresh captcha and its answer, read from the database as only the server can.
    pub async fn captcha(&mut self) -> (String, String) {
        let form: SignInFormView = self.call("sign_in_form", &[]).await.json();
        let answer = captchas::Entity::find_by_id(form.captcha_id.as_str())
            .one(&self.app.db.conn)
            .await
            .expect("captcha query")
            .expect("captcha row")
            .answer;
        (form.captcha_id, answer)
    }

    /// Signs in with a correctly answered captcha.
    pub async fn sign_in(&mut self, login: &str, password: &str) -> Answer {
        let (id, answer) = self.captcha().await;
        self.call(
            "sign_in",
            &[
                ("login_name", login),
                ("password", password),
                ("captcha_id", &id),
                ("captcha_answer", &answer),
            ],
        )
        .await
    }

    /// Signs in and expects success.
    pub async fn signed_in(&mut self, login: &str, password: &str) -> SignInOutcome {
        let answer = self.sign_in(login, password).await;
        assert_eq!(answer.status, 200, "sign-in of {login}: {}", answer.body);
        answer.json()
    }

    pub async fn change_password(&mut self, current: &str, new: &str, confirm: &str) -> Answer {
        self.call(
            "change_password",
            &[
                ("current_password", current),
                ("new_password", new),
                ("confirm_password", confirm),
            ],
        )
        .await
    }
}

/// Whether a server function is declared to change nothing (`input = GetUrl`): the app's own
/// registry says, so that the tests call each function as the console does.
pub fn reads_only(endpoint: &str) -> bool {
    let path = format!("/api/{endpoint}");
    leptos::server_fn::axum::server_fn_paths()
        .any(|(p, method)| p == path && method == http::Method::GET)
}

/// An open stream of server-sent events.
pub struct EventStream {
    response: reqwest::Response,
    buffer: String,
}

/// One event: its name and its data.
#[derive(Debug, Clone)]
pub struct ServerEvent {
    pub name: String,
    pub data: String,
}

impl ServerEvent {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_str(&self.data)
            .unwrap_or_else(|e| panic!("{e}: event {} data {}", self.name, self.data))
    }
}

impl EventStream {
    /// The next event (comments skipped), or None when the stream ends or nothing comes within
    /// `wait`.
    pub async fn next(&mut self, wait: Duration) -> Option<ServerEvent> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let mut event = ServerEvent {
                    name: "message".into(),
                    data: String::new(),
                };
                let mut has_data = false;
                for line in block.lines() {
                    if let Some(name) = line.strip_prefix("event:") {
                        event.name = name.trim().to_owned();
                    } else if let Some(data) = line.strip_prefix("data:") {
                        if has_data {
                            event.data.push('\n');
                        }
                        event.data.push_str(data.strip_prefix(' ').unwrap_or(data));
                        has_data = true;
                    }
                }
                if has_data {
                    return Some(event);
                }
                continue;
            }
            let chunk = tokio::time::timeout_at(deadline, self.response.chunk()).await;
            match chunk {
                Ok(Ok(Some(bytes))) => self.buffer.push_str(&String::from_utf8_lossy(&bytes)),
                _ => return None,
            }
        }
    }

    /// Whether the server closed the stream within `wait` (events still coming are read and
    /// dropped).
    pub async fn closes_within(&mut self, wait: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            match tokio::time::timeout_at(deadline, self.response.chunk()).await {
                Ok(Ok(Some(_))) => continue,
                Ok(Ok(None)) | Ok(Err(_)) => return true,
                Err(_) => return false,
            }
        }
    }
}
