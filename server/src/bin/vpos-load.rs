//! `vpos-load`: a load generator for the transaction-search endpoint of a running console (the
//! load benchmark; `scripts/bench-load.sh` prepares a server and runs this).
//!
//! It signs in as a browser would (presenting a client certificate; the captcha's answer is read from
//! the database, as only a test harness can), changes a first password when asked to, then keeps
//! `--connections` TLS connections with keep-alive busy for `--seconds`, each sending one search at a
//! time: the largest merchant's last 30 days with `status=success`, the console's first page. Prints
//! requests per second and latency percentiles (client side, request sent to response body read).
//!
//! With `--rate R` the connections send R searches a second between them, each at its appointed
//! time, as users would, instead of as fast as the server answers: the latency a user waits while
//! the server does other work. It is counted from the moment the request is sent: the timer wakes
//! up to a millisecond or two after the appointed time, which would otherwise be counted too. A
//! stall longer than a connection's period (connections / R) delays the next request rather than
//! lengthening it; the maximum shows such stalls.
//!
//! With `--monitor` it opens `--connections` realtime monitors instead (the live stream of the
//! operator's new transactions, one TLS connection each) and, over `--seconds` after the warm-up,
//! measures for every transaction each monitor receives the time from the host's accepting it (the
//! row's `accepted_ms`, by the clock of this machine) to its arrival here. With `--idle` it only
//! opens them, says so once each has its first rows, and holds them open for `--seconds`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use hyper::client::conn::http1::SendRequest;
use rustls::ClientConfig;
use sea_orm::EntityTrait;

use app::backend::db;
use app::backend::entities::captchas;
use app::backend::session::SESSION_COOKIE;

struct Args {
    addr: SocketAddr,
    ca: PathBuf,
    cert: PathBuf,
    key: PathBuf,
    database_url: String,
    login: String,
    password: String,
    new_password: String,
    connections: usize,
    seconds: u64,
    warmup: u64,
    days: i64,
    /// Searches a second between all connections; none: each as soon as the last one answered.
    rate: Option<f64>,
    /// Open realtime monitors instead of searching.
    monitor: bool,
    /// The monitors only stay open.
    idle: bool,
}

fn args() -> Result<Args, String> {
    let mut addr = None;
    let mut ca = None;
    let mut cert = None;
    let mut key = None;
    let mut out_login = None;
    let mut database_url = std::env::var("DATABASE_URL").unwrap_or_default();
    let mut password = std::env::var("LOAD_PASSWORD").unwrap_or_default();
    let mut new_password = std::env::var("LOAD_NEW_PASSWORD").unwrap_or_default();
    let (mut connections, mut seconds, mut warmup, mut days) = (32, 20, 3, 30);
    let mut rate = None;
    let (mut monitor, mut idle) = (false, false);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or(format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--addr" => addr = Some(value()?.parse().map_err(|e| format!("--addr: {e}"))?),
            "--ca" => ca = Some(PathBuf::from(value()?)),
            "--cert" => cert = Some(PathBuf::from(value()?)),
            "--key" => key = Some(PathBuf::from(value()?)),
            "--database-url" => database_url = value()?,
            "--login" => out_login = Some(value()?),
            "--password-env" => {
                password = std::env::var(value()?).map_err(|e| format!("--password-env: {e}"))?
            }
            "--new-password-env" => {
                new_password =
                    std::env::var(value()?).map_err(|e| format!("--new-password-env: {e}"))?
            }
            "--connections" => connections = number(value()?)? as usize,
            "--seconds" => seconds = number(value()?)?,
            "--warmup" => warmup = number(value()?)?,
            "--days" => days = number(value()?)? as i64,
            "--rate" => {
                let r: f64 = value()?.parse().map_err(|e| format!("--rate: {e}"))?;
                if !(r > 0.0 && r <= 100_000.0) {
                    return Err("--rate: between 0 and 100000 searches a second".into());
                }
                rate = Some(r);
            }
            "--monitor" => monitor = true,
            "--idle" => idle = true,
            other => return Err(format!("unknown argument {other}")),
        }
    }
    fn need<T>(v: Option<T>, name: &str) -> Result<T, String> {
        v.ok_or(format!("give {name}"))
    }
    if connections == 0 || seconds == 0 || days == 0 {
        return Err("--connections, --seconds and --days must be at least 1".into());
    }
    if database_url.is_empty() || password.is_empty() {
        return Err("give --database-url (or DATABASE_URL) and --password-env".into());
    }
    Ok(Args {
        addr: need(addr, "--addr")?,
        ca: need(ca, "--ca")?,
        cert: need(cert, "--cert")?,
        key: need(key, "--key")?,
        database_url,
        login: need(out_login, "--login")?,
        password,
        new_password,
        connections,
        seconds,
        warmup,
        days,
        rate,
        monitor,
        idle,
    })
}

#[tokio::main]
async fn main() {
    let args = match args() {
        Ok(args) => args,
        Err(e) => {
            eprintln!("vpos-load: {e}");
            std::process::exit(2);
        }
    };
    if let Err(e) = run(&args).await {
        eprintln!("vpos-load: {e}");
        std::process::exit(1);
    }
}

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn tls_config(args: &Args) -> Result<Arc<ClientConfig>, Failure> {
    Ok(Arc::new(server::client::tls_config(
        &args.ca, &args.cert, &args.key,
    )?))
}

/// One keep-alive TLS connection speaking HTTP/1.1, as a browser tab's.
struct Connection {
    sender: SendRequest<String>,
    origin: String,
    cookie: Option<String>,
}

impl Connection {
    async fn open(addr: SocketAddr, config: Arc<ClientConfig>) -> Result<Self, Failure> {
        let sender = server::client::http1(&addr.ip().to_string(), addr.port(), config).await?;
        Ok(Self {
            sender,
            origin: format!("https://{addr}"),
            cookie: None,
        })
    }

    /// POSTs a server function; the status and the body. Remembers a session cookie it is given.
    async fn post(
        &mut self,
        endpoint: &str,
        content_type: &str,
        body: String,
    ) -> Result<(u16, Vec<u8>), Failure> {
        let request = http::Request::post(format!("/api/{endpoint}"))
            .header("origin", &self.origin)
            .header("content-type", content_type);
        self.send(endpoint, request, body).await
    }

    /// GETs a server function that changes nothing, its arguments in `query`.
    async fn get(&mut self, endpoint: &str, query: &str) -> Result<(u16, Vec<u8>), Failure> {
        let request = http::Request::get(format!("/api/{endpoint}?{query}"));
        self.send(endpoint, request, String::new()).await
    }

    async fn send(
        &mut self,
        endpoint: &str,
        request: http::request::Builder,
        body: String,
    ) -> Result<(u16, Vec<u8>), Failure> {
        let mut request = request
            .header("host", self.origin.trim_start_matches("https://"))
            .header("accept", "application/json");
        if let Some(cookie) = &self.cookie {
            request = request.header("cookie", cookie);
        }
        self.sender
            .ready()
            .await
            .map_err(|e| format!("{endpoint}: {e}"))?;
        let response = self
            .sender
            .send_request(request.body(body)?)
            .await
            .map_err(|e| format!("{endpoint}: {e}"))?;
        let status = response.status().as_u16();
        for value in response.headers().get_all("set-cookie") {
            let value = value.to_str()?;
            if let Some(rest) = value.strip_prefix(&format!("{SESSION_COOKIE}=")) {
                let token = rest.split(';').next().unwrap_or_default();
                self.cookie = Some(format!("{SESSION_COOKIE}={token}"));
            }
        }
        let body = response.into_body().collect().await?.to_bytes().to_vec();
        Ok((status, body))
    }

    async fn form(
        &mut self,
        endpoint: &str,
        fields: &[(&str, &str)],
    ) -> Result<serde_json::Value, Failure> {
        let body = fields
            .iter()
            .map(|(k, v)| format!("{k}={}", form_escape(v)))
            .collect::<Vec<_>>()
            .join("&");
        let (status, body) = self
            .post(endpoint, "application/x-www-form-urlencoded", body)
            .await?;
        if status != 200 {
            return Err(format!("{endpoint}: {status} {}", String::from_utf8_lossy(&body)).into());
        }
        Ok(serde_json::from_slice(&body)?)
    }
}

fn form_escape(value: &str) -> String {
    value
        .bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Answers a fresh captcha and signs in with `password`: the outcome, or the refusal.
async fn sign_in_with(
    conn: &mut Connection,
    db: &sea_orm::DatabaseConnection,
    login: &str,
    password: &str,
) -> Result<serde_json::Value, Failure> {
    let (status, form) = conn.get("sign_in_form", "").await?;
    if status != 200 {
        return Err(format!("sign_in_form: {status} {}", String::from_utf8_lossy(&form)).into());
    }
    let form: serde_json::Value = serde_json::from_slice(&form)?;
    let captcha_id = form["captcha_id"]
        .as_str()
        .ok_or("no captcha id")?
        .to_owned();
    let answer = captchas::Entity::find_by_id(captcha_id.as_str())
        .one(db)
        .await?
        .ok_or("the captcha is not in the database: is --database-url the server's?")?
        .answer;
    conn.form(
        "sign_in",
        &[
            ("login_name", login),
            ("password", password),
            ("captcha_id", &captcha_id),
            ("captcha_answer", &answer),
        ],
    )
    .await
}

/// Signs in on `conn` (changing a first password) and returns the session cookie.
async fn sign_in(args: &Args, conn: &mut Connection) -> Result<String, Failure> {
    let db = db::connect(&args.database_url, 1).await?;
    let outcome = match sign_in_with(conn, &db, &args.login, &args.password).await {
        Ok(outcome) => outcome,
        // A database this generator ran on before: the first password was changed then.
        Err(_) if !args.new_password.is_empty() => {
            sign_in_with(conn, &db, &args.login, &args.new_password).await?
        }
        Err(e) => return Err(e),
    };
    if outcome["must_change_password"].as_bool() == Some(true) {
        if args.new_password.is_empty() {
            return Err(
                "the operator must change the first password: give --new-password-env".into(),
            );
        }
        conn.form(
            "change_password",
            &[
                ("current_password", &args.password),
                ("new_password", &args.new_password),
                ("confirm_password", &args.new_password),
            ],
        )
        .await?;
    }
    conn.cookie
        .clone()
        .ok_or_else(|| "signed in without a session cookie".into())
}

/// The search every connection repeats, as the query of its GET: the last `days` days (the
/// merchant's local calendar, Asia/Shanghai for the demo merchants), successful transactions, the
/// first page.
fn search_query(days: i64) -> String {
    let today = chrono::Utc::now()
        .with_timezone(&chrono_tz::Asia::Shanghai)
        .date_naive();
    let from = today - chrono::Duration::days(days - 1);
    [
        ("from", from.to_string()),
        ("to", today.to_string()),
        ("status", "success".to_owned()),
    ]
    .iter()
    .map(|(field, value)| format!("filter%5B{field}%5D={}", form_escape(value)))
    .collect::<Vec<_>>()
    .join("&")
}

#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

async fn run(args: &Args) -> Result<(), Failure> {
    let config = tls_config(args)?;
    let mut first = Connection::open(args.addr, config.clone()).await?;
    let cookie = sign_in(args, &mut first).await?;
    if args.monitor {
        return monitors(args, config, cookie).await;
    }
    let query = search_query(args.days);
    let (status, answer) = first.get("transactions/search", &query).await?;
    if status != 200 {
        return Err(format!("search: {status} {}", String::from_utf8_lossy(&answer)).into());
    }
    let page: serde_json::Value = serde_json::from_slice(&answer)?;
    println!(
        "search of {}: {} rows match, {} on the page, {} bytes per answer; {} connections{}, {} s after {} s warm-up",
        args.login,
        page["total"],
        page["rows"].as_array().map_or(0, Vec::len),
        answer.len(),
        args.connections,
        args.rate.map_or(String::new(), |r| format!(" at {r} searches/s")),
        args.seconds,
        args.warmup
    );

    let started = Instant::now();
    let warm_until = started + Duration::from_secs(args.warmup);
    let stop_at = warm_until + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for _ in 0..args.connections {
        let mut conn = Connection::open(args.addr, config.clone()).await?;
        conn.cookie = Some(cookie.clone());
        let query = query.clone();
        // Paced: this connection's share of the rate, the connections' times spread over a period.
        let mut pace = args.rate.map(|rate| {
            let every = Duration::from_secs_f64(args.connections as f64 / rate);
            let offset = every.mul_f64(workers.len() as f64 / args.connections as f64);
            let mut tick = tokio::time::interval_at((started + offset).into(), every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            tick
        });
        workers.push(tokio::spawn(async move {
            let mut tally = Tally::default();
            loop {
                if let Some(tick) = pace.as_mut() {
                    tick.tick().await;
                }
                let sent = Instant::now();
                if sent >= stop_at {
                    break;
                }
                let outcome = conn.get("transactions/search", &query).await;
                let took = sent.elapsed();
                if sent < warm_until {
                    continue;
                }
                match outcome {
                    Ok((200, _)) => tally.latencies.push(took),
                    Ok((status, body)) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| {
                            format!("{status} {}", String::from_utf8_lossy(&body))
                        });
                    }
                    Err(e) => {
                        tally.errors += 1;
                        tally.first_error.get_or_insert_with(|| e.to_string());
                        break;
                    }
                }
            }
            tally
        }));
    }
    let mut all = Vec::new();
    let mut errors = 0;
    let mut first_error = None;
    for worker in workers {
        let tally = worker.await?;
        all.extend(tally.latencies);
        errors += tally.errors;
        if first_error.is_none() {
            first_error = tally.first_error;
        }
    }
    all.sort();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    let at = |q: f64| {
        all.get(((all.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .map_or(0.0, |d| ms(*d))
    };
    println!(
        "search under load: {} answers in {} s = {:.0} requests/s; latency p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; {} errors",
        all.len(),
        args.seconds,
        all.len() as f64 / args.seconds as f64,
        at(0.50),
        at(0.95),
        at(0.99),
        all.last().map_or(0.0, |d| ms(*d)),
        errors
    );
    if let Some(error) = first_error {
        println!("first error: {error}");
    }
    if errors > 0 {
        return Err(format!("{errors} requests failed").into());
    }
    Ok(())
}

/// The milliseconds since 1970 of this machine's clock.
fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// One open realtime monitor: the stream's body, and what of it is not yet read.
struct Monitor {
    body: hyper::body::Incoming,
    buffer: String,
    /// Kept: the connection lives as long as its sender.
    _sender: SendRequest<String>,
}

impl Monitor {
    async fn open(
        addr: SocketAddr,
        config: Arc<ClientConfig>,
        cookie: &str,
    ) -> Result<Self, Failure> {
        let mut sender = server::client::http1(&addr.ip().to_string(), addr.port(), config).await?;
        let request = http::Request::get(app::contract::monitor::STREAM_PATH)
            .header("host", addr.to_string())
            .header("accept", "text/event-stream")
            .header("cookie", cookie)
            .body(String::new())?;
        sender.ready().await?;
        let response = sender.send_request(request).await?;
        if response.status() != 200 {
            return Err(format!("the monitor's stream: {}", response.status()).into());
        }
        Ok(Self {
            body: response.into_body(),
            buffer: String::new(),
            _sender: sender,
        })
    }

    /// The next event's name and data; None when the stream ends.
    async fn next(&mut self) -> Result<Option<(String, String)>, Failure> {
        loop {
            if let Some(end) = self.buffer.find("\n\n") {
                let block: String = self.buffer.drain(..end + 2).collect();
                let (mut name, mut data) = (String::new(), String::new());
                for line in block.lines() {
                    if let Some(n) = line.strip_prefix("event:") {
                        name = n.trim().to_owned();
                    } else if let Some(d) = line.strip_prefix("data:") {
                        data.push_str(d.trim_start());
                    }
                }
                if !data.is_empty() {
                    return Ok(Some((name, data)));
                }
                continue;
            }
            match self.body.frame().await {
                Some(frame) => {
                    if let Ok(bytes) = frame?.into_data() {
                        self.buffer.push_str(&String::from_utf8_lossy(&bytes));
                    }
                }
                None => return Ok(None),
            }
        }
    }
}

/// `--monitor`: opens the monitors and measures what they receive (or, `--idle`, holds them).
async fn monitors(args: &Args, config: Arc<ClientConfig>, cookie: String) -> Result<(), Failure> {
    use app::contract::monitor::{event, MonitorRow};
    let mut opened = Vec::with_capacity(args.connections);
    for _ in 0..args.connections {
        let mut monitor = Monitor::open(args.addr, config.clone(), &cookie).await?;
        match monitor.next().await? {
            Some((name, _)) if name == event::LATEST => opened.push(monitor),
            other => return Err(format!("a monitor's first event: {other:?}").into()),
        }
    }
    let started = Instant::now();
    if args.idle {
        println!(
            "monitors open: {} (each with its latest rows)",
            opened.len()
        );
        tokio::time::sleep(Duration::from_secs(args.seconds)).await;
        println!("monitors held for {} s", args.seconds);
        return Ok(());
    }
    println!(
        "monitors open: {}, measured for {} s after {} s",
        opened.len(),
        args.seconds,
        args.warmup
    );
    let warm_until = started + Duration::from_secs(args.warmup);
    let stop_at = warm_until + Duration::from_secs(args.seconds);
    let mut workers = Vec::new();
    for mut monitor in opened {
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            let mut failure = None;
            loop {
                let next = tokio::time::timeout_at(stop_at.into(), monitor.next()).await;
                let (name, data) = match next {
                    Err(_) => break,
                    Ok(Ok(Some(event))) => event,
                    Ok(Ok(None)) => {
                        failure = Some("a monitor's stream ended".to_owned());
                        break;
                    }
                    Ok(Err(e)) => {
                        failure = Some(e.to_string());
                        break;
                    }
                };
                let arrived = now_ms();
                if name == event::ROWS && Instant::now() >= warm_until {
                    let rows: Vec<MonitorRow> = serde_json::from_str(&data).unwrap_or_default();
                    latencies.extend(rows.iter().map(|r| arrived - r.accepted_ms));
                } else if name == event::END {
                    failure = Some(format!("a monitor's session ended: {data}"));
                    break;
                }
            }
            (latencies, failure)
        }));
    }
    let mut all = Vec::new();
    let mut failures = 0;
    for worker in workers {
        let (latencies, failure) = worker.await?;
        all.extend(latencies);
        if let Some(failure) = failure {
            failures += 1;
            eprintln!("vpos-load: {failure}");
        }
    }
    all.sort_unstable();
    let at = |q: f64| {
        all.get(((all.len() as f64 * q).ceil() as usize).saturating_sub(1))
            .copied()
            .unwrap_or(0)
    };
    println!(
        "monitor latency (accepted by the host to received): {} rows received by {} monitors in {} s ({:.0} a second each); p50 {} ms, p95 {} ms, p99 {} ms, max {} ms; {} monitors failed",
        all.len(),
        args.connections,
        args.seconds,
        all.len() as f64 / (args.seconds as f64 * args.connections as f64),
        at(0.50),
        at(0.95),
        at(0.99),
        all.last().copied().unwrap_or(0),
        failures
    );
    if failures > 0 {
        return Err(format!("{failures} monitors failed").into());
    }
    Ok(())
}
