//! What a platform team watches: counters and histograms kept in the process, written in the
//! Prometheus text format (version 0.0.4) by the operations listener ([`crate::ops`]). Only bounded
//! label values are kept: a route is the path pattern the router matched (every server function has
//! a route of its own, a page its pattern), never the path a client sent, so that requests for
//! made-up paths cannot grow the set.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::time::Duration;

use axum::body::Body;
use axum::extract::{MatchedPath, State};
use axum::http::Request;
use axum::response::Response;

/// Upper bounds (seconds) of the latency histograms' buckets.
const BUCKETS: [f64; 12] = [
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
];

/// The label of requests that matched no route of their own.
const OTHER: &str = "other";

#[derive(Debug, Default, Clone)]
struct Histogram {
    /// Observations at or below each bound of [`BUCKETS`] (not cumulated: summed when written).
    buckets: [u64; BUCKETS.len()],
    sum: f64,
    count: u64,
}

impl Histogram {
    fn observe(&mut self, seconds: f64) {
        if let Some(i) = BUCKETS.iter().position(|bound| seconds <= *bound) {
            self.buckets[i] += 1;
        }
        self.sum += seconds;
        self.count += 1;
    }
}

/// The requests of one route.
#[derive(Debug, Default)]
struct RouteCounts {
    /// status → requests.
    statuses: BTreeMap<u16, u64>,
    latency: Histogram,
}

#[derive(Debug, Default)]
struct Counts {
    routes: BTreeMap<String, RouteCounts>,
    /// (message kind, response code) → terminal messages answered.
    gateway: BTreeMap<(String, String), u64>,
    clearing: ClearingCounts,
}

/// What the clearing runs of this process did.
#[derive(Debug, Default, Clone, Copy)]
pub struct ClearingCounts {
    pub runs: u64,
    /// Runs that stopped on a database error.
    pub errors: u64,
    pub settled: u64,
    /// Merchant numbers' days that could not be settled (logged, tried again by the next run).
    pub failed: u64,
    pub paid: u64,
    /// How long the last run took.
    pub last_run_seconds: f64,
}

/// The process's metrics.
#[derive(Debug, Default)]
pub struct Metrics {
    counts: Mutex<Counts>,
}

/// The route label of a request: the pattern it matched (a wildcard route's by its prefix), or
/// [`OTHER`].
fn route_label(matched: Option<&str>) -> Cow<'_, str> {
    match matched {
        Some(pattern) => match pattern.find("/{*") {
            Some(at) => Cow::Owned(format!("{}/*", &pattern[..at])),
            None => Cow::Borrowed(pattern),
        },
        None => Cow::Borrowed(OTHER),
    }
}

impl Metrics {
    fn counts(&self) -> std::sync::MutexGuard<'_, Counts> {
        // A panic while counting leaves counts that are still counts.
        self.counts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Counts a request that matched the route pattern `matched` (None: no route).
    pub fn request(&self, matched: Option<&str>, status: u16, took: Duration) {
        let route = route_label(matched);
        let mut counts = self.counts();
        // A route seen before costs no allocation.
        if !counts.routes.contains_key(route.as_ref()) {
            counts
                .routes
                .insert(route.clone().into_owned(), RouteCounts::default());
        }
        if let Some(counted) = counts.routes.get_mut(route.as_ref()) {
            *counted.statuses.entry(status).or_default() += 1;
            counted.latency.observe(took.as_secs_f64());
        }
    }

    pub fn gateway_message(&self, kind: &str, code: &str) {
        *self
            .counts()
            .gateway
            .entry((kind.to_owned(), code.to_owned()))
            .or_default() += 1;
    }

    pub fn clearing_run(&self, run: Result<(u64, u64, u64), ()>, took: Duration) {
        let mut counts = self.counts();
        let clearing = &mut counts.clearing;
        clearing.runs += 1;
        clearing.last_run_seconds = took.as_secs_f64();
        match run {
            Ok((settled, failed, paid)) => {
                clearing.settled += settled;
                clearing.failed += failed;
                clearing.paid += paid;
            }
            Err(()) => clearing.errors += 1,
        }
    }

    /// The metrics in the Prometheus text format, with the gauges read at this moment.
    pub fn render(&self, gauges: &Gauges) -> String {
        let counts = self.counts();
        let mut out = String::new();
        header(
            &mut out,
            "vpos_http_requests_total",
            "counter",
            "Console requests answered, by route pattern and status.",
        );
        for (route, counted) in &counts.routes {
            for (status, n) in &counted.statuses {
                let _ = writeln!(
                    out,
                    "vpos_http_requests_total{{route=\"{}\",status=\"{status}\"}} {n}",
                    escape(route)
                );
            }
        }
        header(
            &mut out,
            "vpos_http_request_duration_seconds",
            "histogram",
            "Time from a console request's arrival to its answer's head, by route pattern.",
        );
        for (route, counted) in &counts.routes {
            let (route, histogram) = (escape(route), &counted.latency);
            let mut cumulated = 0;
            for (bound, n) in BUCKETS.iter().zip(histogram.buckets) {
                cumulated += n;
                let _ = writeln!(
                    out,
                    "vpos_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"{bound}\"}} {cumulated}"
                );
            }
            let _ = writeln!(
                out,
                "vpos_http_request_duration_seconds_bucket{{route=\"{route}\",le=\"+Inf\"}} {}\n\
                 vpos_http_request_duration_seconds_sum{{route=\"{route}\"}} {}\n\
                 vpos_http_request_duration_seconds_count{{route=\"{route}\"}} {}",
                histogram.count, histogram.sum, histogram.count
            );
        }
        header(
            &mut out,
            "vpos_gateway_messages_total",
            "counter",
            "Terminal messages answered by the gateway, by kind and response code.",
        );
        for ((kind, code), n) in &counts.gateway {
            let _ = writeln!(
                out,
                "vpos_gateway_messages_total{{kind=\"{}\",code=\"{}\"}} {n}",
                escape(kind),
                escape(code)
            );
        }
        let clearing = counts.clearing;
        for (name, help, value) in [
            (
                "runs",
                "Clearing runs started by this process.",
                clearing.runs,
            ),
            (
                "errors",
                "Clearing runs stopped by a database error.",
                clearing.errors,
            ),
            (
                "settlements",
                "Settlements written by this process's clearing.",
                clearing.settled,
            ),
            (
                "failures",
                "Merchant numbers' days clearing could not settle (retried by the next run).",
                clearing.failed,
            ),
            (
                "payouts",
                "Settlements this process's clearing paid out.",
                clearing.paid,
            ),
        ] {
            let metric = format!("vpos_clearing_{name}_total");
            header(&mut out, &metric, "counter", help);
            let _ = writeln!(out, "{metric} {value}");
        }
        header(
            &mut out,
            "vpos_clearing_last_run_seconds",
            "gauge",
            "How long this process's last clearing run took.",
        );
        let _ = writeln!(
            out,
            "vpos_clearing_last_run_seconds {}",
            clearing.last_run_seconds
        );
        drop(counts);
        header(
            &mut out,
            "vpos_db_pool_connections",
            "gauge",
            "Connections of this process's database pools, in use or idle.",
        );
        for pool in &gauges.pools {
            for (state, n) in [("in_use", pool.in_use), ("idle", pool.idle)] {
                let _ = writeln!(
                    out,
                    "vpos_db_pool_connections{{pool=\"{}\",state=\"{state}\"}} {n}",
                    pool.name
                );
            }
        }
        header(
            &mut out,
            "vpos_export_jobs",
            "gauge",
            "Background export jobs of all instances, by status.",
        );
        for (status, n) in &gauges.export_jobs {
            let _ = writeln!(out, "vpos_export_jobs{{status=\"{}\"}} {n}", escape(status));
        }
        out
    }
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
}

/// A label value as the text format wants it.
fn escape(value: &str) -> String {
    value
        .replace('\\', "\\\\")
        .replace('"', "\\\"")
        .replace('\n', "\\n")
}

/// Gauges read when the metrics are asked for.
#[derive(Debug, Default)]
pub struct Gauges {
    pub pools: Vec<PoolGauge>,
    /// (status, jobs).
    pub export_jobs: Vec<(String, i64)>,
}

#[derive(Debug)]
pub struct PoolGauge {
    pub name: &'static str,
    pub in_use: u64,
    pub idle: u64,
}

impl PoolGauge {
    /// The connections of `db`'s pool now.
    pub fn of(name: &'static str, db: &sea_orm::DatabaseConnection) -> Self {
        let (size, idle) = match db.get_database_backend() {
            sea_orm::DbBackend::Postgres => {
                let pool = db.get_postgres_connection_pool();
                (u64::from(pool.size()), pool.num_idle() as u64)
            }
            _ => {
                let pool = db.get_sqlite_connection_pool();
                (u64::from(pool.size()), pool.num_idle() as u64)
            }
        };
        Self {
            name,
            in_use: size.saturating_sub(idle),
            idle,
        }
    }
}

/// Middleware of the console's router: counts each request by its route and status and times it.
pub async fn track(
    State(metrics): State<std::sync::Arc<Metrics>>,
    req: Request<Body>,
    next: axum::middleware::Next,
) -> Response {
    let started = std::time::Instant::now();
    // (A shared string: cheap to keep while the request is handled.)
    let matched = req.extensions().get::<MatchedPath>().cloned();
    let response = next.run(req).await;
    metrics.request(
        matched.as_ref().map(MatchedPath::as_str),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_are_patterns_never_the_path_sent() {
        // A server function has a route of its own; a made-up path matches none.
        assert_eq!(route_label(Some("/api/me")), "/api/me");
        assert_eq!(route_label(None), OTHER);
        assert_eq!(
            route_label(Some("/transactions/{id}")),
            "/transactions/{id}"
        );
        assert_eq!(route_label(Some("/pkg/{*rest}")), "/pkg/*");
    }

    #[test]
    fn the_text_format_cumulates_buckets_and_escapes_labels() {
        let metrics = Metrics::default();
        metrics.request(Some("/a"), 200, Duration::from_millis(3));
        metrics.request(Some("/a"), 200, Duration::from_millis(30));
        metrics.request(Some("/a"), 500, Duration::from_secs(60));
        metrics.gateway_message("sale", "00");
        metrics.gateway_message("sale\"x", "00");
        metrics.clearing_run(Ok((2, 1, 3)), Duration::from_millis(1500));
        metrics.clearing_run(Err(()), Duration::from_millis(10));
        let text = metrics.render(&Gauges {
            pools: vec![PoolGauge {
                name: "console",
                in_use: 1,
                idle: 3,
            }],
            export_jobs: vec![("queued".into(), 2)],
        });
        for line in [
            "vpos_http_requests_total{route=\"/a\",status=\"200\"} 2",
            "vpos_http_requests_total{route=\"/a\",status=\"500\"} 1",
            "vpos_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.005\"} 1",
            "vpos_http_request_duration_seconds_bucket{route=\"/a\",le=\"0.05\"} 2",
            "vpos_http_request_duration_seconds_bucket{route=\"/a\",le=\"30\"} 2",
            "vpos_http_request_duration_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3",
            "vpos_http_request_duration_seconds_count{route=\"/a\"} 3",
            "vpos_gateway_messages_total{kind=\"sale\",code=\"00\"} 1",
            "vpos_gateway_messages_total{kind=\"sale\\\"x\",code=\"00\"} 1",
            "vpos_clearing_runs_total 2",
            "vpos_clearing_errors_total 1",
            "vpos_clearing_settlements_total 2",
            "vpos_clearing_payouts_total 3",
            "vpos_clearing_last_run_seconds 0.01",
            "vpos_db_pool_connections{pool=\"console\",state=\"in_use\"} 1",
            "vpos_export_jobs{status=\"queued\"} 2",
            "# TYPE vpos_http_request_duration_seconds histogram",
        ] {
            assert!(
                text.lines().any(|l| l == line),
                "missing {line:?} in\n{text}"
            );
        }
    }
}
