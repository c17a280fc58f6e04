//! What a platform team runs the console with: the operations listener's liveness, readiness and
//! metrics, and JSON logs naming each request's id, operator and merchant.

use std::time::Duration;

use app::domain::access::Role;

use crate::on_both_backends;
use crate::support::app::operator_with_password;
use crate::support::process::{ServeDir, Serving};
use crate::support::{Backend, TestDb, FIRST_PASSWORD};

on_both_backends!(
    health_readiness_and_metrics_on_the_operations_listener,
    json_logs_name_the_request_operator_and_merchant
);

/// `GET http://127.0.0.1:<ops port><path>`, as a probe sends it (plain HTTP/1.1): status and body.
async fn ops(serving: &Serving, path: &str) -> (u16, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(("127.0.0.1", serving.ops_port))
        .await
        .expect("the operations listener answers");
    let request = format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.expect("read");
    let (head, body) = answer.split_once("\r\n\r\n").expect("an HTTP answer");
    assert!(!head.to_ascii_lowercase().contains("chunked"), "{head}");
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .expect("a status");
    (status, body.to_owned())
}

async fn health_readiness_and_metrics_on_the_operations_listener(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let place = ServeDir::new(&db);
    let login = "m81.finance";
    crate::clearing::Shop::open(&db, "M81000001").await;
    operator_with_password(
        &db,
        "M81000001",
        login,
        &[Role::Finance],
        Some(FIRST_PASSWORD),
    )
    .await;
    place.certify(login);
    let serving = place.serve(&[]).await;
    assert_eq!(ops(&serving, "/health").await.0, 200);
    let (status, body) = ops(&serving, "/ready").await;
    assert_eq!(status, 200, "{body}");

    // Console requests and a terminal's message, counted by route and status.
    let client = place.client(login);
    let cookie = place.sign_in(&client, &serving, login).await;
    for _ in 0..3 {
        let me = client
            .get(format!("{}/api/me", serving.origin()))
            .header("cookie", &cookie)
            .send()
            .await
            .expect("me");
        assert_eq!(me.status(), 200);
    }
    let made_up = client
        .get(format!("{}/api/no-such-function-{}", serving.origin(), 42))
        .send()
        .await
        .expect("made-up path");
    assert_ne!(made_up.status(), 200);
    let gateway = place
        .client("front-end")
        .post(format!(
            "https://127.0.0.1:{}/v1/sale",
            serving.gateway_port
        ))
        .header("content-type", "application/json")
        .body("{}")
        .send()
        .await
        .expect("gateway");
    assert_eq!(gateway.status(), 400);
    let (status, metrics) = ops(&serving, "/metrics").await;
    assert_eq!(status, 200);
    let has = |line: &str| metrics.lines().any(|l| l == line);
    let starts = |prefix: &str| metrics.lines().any(|l| l.starts_with(prefix));
    assert!(
        has("vpos_http_requests_total{route=\"/api/me\",status=\"200\"} 3"),
        "{metrics}"
    );
    assert!(has(
        "vpos_http_request_duration_seconds_count{route=\"/api/me\"} 3"
    ));
    assert!(has(
        "vpos_http_requests_total{route=\"/api/sign_in\",status=\"200\"} 1"
    ));
    assert!(
        !metrics.contains("no-such-function"),
        "a made-up path is no label"
    );
    assert!(starts("vpos_gateway_messages_total{kind=\"sale\",code="));
    assert!(starts(
        "vpos_db_pool_connections{pool=\"console\",state=\"idle\"}"
    ));
    assert!(starts(
        "vpos_db_pool_connections{pool=\"background\",state=\"in_use\"}"
    ));
    assert!(has("# TYPE vpos_export_jobs gauge"));
    assert!(
        has("vpos_clearing_runs_total 0"),
        "clearing is off in the tests"
    );

    // A migration missing (rolled back under the running instance): not ready, and says why;
    // alive all the same. Migrated again, ready again.
    place.vpos(&["migrate", "down"]);
    let (status, body) = ops(&serving, "/ready").await;
    assert_eq!(status, 503);
    assert!(body.contains("1 pending migration"), "{body}");
    assert_eq!(ops(&serving, "/health").await.0, 200);
    place.vpos(&["migrate"]);
    assert_eq!(ops(&serving, "/ready").await.0, 200);
}

async fn json_logs_name_the_request_operator_and_merchant(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let place = ServeDir::new(&db);
    let login = "m82.finance";
    let merchant_id = crate::support::app::seed_merchant(&db, "M82000001").await;
    operator_with_password(
        &db,
        "M82000001",
        login,
        &[Role::Finance],
        Some(FIRST_PASSWORD),
    )
    .await;
    place.certify(login);
    let log_path = place.path().join("serve.log");
    let log = std::fs::File::create(&log_path).expect("log file");
    let mut serving = place
        .serve_logging(
            &[("VPOS_LOG__FORMAT", "json"), ("VPOS_LOG__FILTER", "info")],
            log.into(),
        )
        .await;
    let client = place.client(login);
    let cookie = place.sign_in(&client, &serving, login).await;
    let answer = client
        .get(format!("{}/api/me", serving.origin()))
        .header("cookie", &cookie)
        .header("x-request-id", "lb-7f3a-0001")
        .send()
        .await
        .expect("me");
    assert_eq!(answer.headers()["x-request-id"], "lb-7f3a-0001");
    // An id that is no id is replaced, not logged.
    let odd = client
        .get(format!("{}/api/me", serving.origin()))
        .header("x-request-id", "\"}{injected")
        .send()
        .await
        .expect("me");
    let given = odd.headers()["x-request-id"]
        .to_str()
        .expect("id")
        .to_owned();
    assert_eq!(given.len(), 32);
    serving.stop();
    tokio::time::sleep(Duration::from_millis(100)).await;

    let text = std::fs::read_to_string(&log_path).expect("log");
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|_| panic!("not JSON: {l}")))
        .collect();
    let of_request = lines
        .iter()
        .find(|l| l["span"]["request_id"] == "lb-7f3a-0001")
        .unwrap_or_else(|| panic!("no line of the request in\n{text}"));
    assert_eq!(of_request["span"]["operator"], login);
    assert_eq!(of_request["span"]["merchant"], merchant_id);
    assert_eq!(of_request["span"]["path"], "/api/me");
    assert!(!text.contains("injected"));
    assert!(!text.contains(cookie.split('=').nth(1).expect("token")));
    assert!(!text.contains(crate::support::PASSWORD));
}
