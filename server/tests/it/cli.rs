//! The `vpos` command line, run as a process.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{
    CertificateDer, CertificateRevocationListDer, PrivateKeyDer, PrivatePkcs8KeyDer,
};

use crate::support::app::{client_config, get_once, root_store};

const P12_PASSWORD: &str = "import-me-1234";

fn vpos(dir: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_vpos"))
        .args(args)
        .current_dir(dir)
        .env_remove("DATABASE_URL")
        .env_remove("VPOS_CONFIG")
        .env("P12_PASSWORD", P12_PASSWORD)
        .env("VPOS_LOG__FILTER", "warn")
        .output()
        .expect("run vpos")
}

fn ok(dir: &Path, args: &[&str]) -> String {
    let out = vpos(dir, args);
    assert!(
        out.status.success(),
        "vpos {args:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A migrated database in `dir` with merchant M00000021 and its number 898000000000021.
fn migrated_shop(dir: &Path) {
    ok(dir, &["migrate"]);
    ok(
        dir,
        &[
            "merchant",
            "create",
            "--code",
            "M00000021",
            "--name",
            "Shop",
            "--number",
            "898000000000021=Main",
            "--settlement-bank",
            "Bank",
            "--settlement-account",
            "6222020200112233",
        ],
    );
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_pki_files_work_for_a_server_and_its_clients() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["pki", "init"]);
    ok(d, &["pki", "server"]);
    let issued = ok(
        d,
        &[
            "pki",
            "operator",
            "--name",
            "alice",
            "--org",
            "Alice Shop",
            "--password-env",
            "P12_PASSWORD",
        ],
    );
    assert!(issued.contains(&format!("import password: {P12_PASSWORD}")));
    let gateway_issued = ok(d, &["pki", "gateway", "--name", "front-end"]);
    assert!(
        gateway_issued.contains("var/pki/issued/front-end.pem"),
        "{gateway_issued}"
    );
    assert!(
        !d.join("var/pki/issued/front-end.p12").exists(),
        "a gateway certificate has no PKCS#12 file"
    );
    ok(d, &["migrate"]);
    std::fs::create_dir_all(d.join("site/pkg")).expect("site");

    // The real server, configured through the environment.
    let (port, gateway_port) = (free_port(), free_port());
    let mut server = Command::new(env!("CARGO_BIN_EXE_vpos"))
        .arg("serve")
        .current_dir(d)
        .env_remove("DATABASE_URL")
        .env("VPOS_LISTEN", format!("127.0.0.1:{port}"))
        .env("VPOS_GATEWAY__LISTEN", format!("127.0.0.1:{gateway_port}"))
        .env("VPOS_OPS__LISTEN", format!("127.0.0.1:{}", free_port()))
        .env("VPOS_SITE_ROOT", d.join("site"))
        .env("VPOS_LOG__FILTER", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start vpos serve");
    let addr = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let deadline = Instant::now() + Duration::from_secs(20);
    while tokio::net::TcpStream::connect(addr).await.is_err() {
        assert!(
            Instant::now() < deadline,
            "vpos serve did not open its port"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let pki = server::pki::Pki::new(d.join("var/pki"));
    let ca = pki.ca_cert_path();
    // 1. The PEM certificate and key.
    let alice = server::pki::IssuedCert {
        cert_path: pki.issued_dir().join("alice.pem"),
        key_path: pki.issued_dir().join("alice.key.pem"),
        p12_path: pki.issued_dir().join("alice.p12"),
        p12_password: P12_PASSWORD.to_owned().into(),
        fingerprint: String::new(),
        serial_hex: String::new(),
        subject_cn: "alice".into(),
        not_before: chrono::Utc::now(),
        not_after: chrono::Utc::now(),
    };
    let pem_result = get_once(addr, Arc::new(client_config(&ca, Some(&alice))), "/health").await;
    // 2. The key and chain as a browser gets them: out of the PKCS#12 file.
    let p12 = std::fs::read(&alice.p12_path).expect("p12");
    let store = p12_keystore::KeyStore::from_pkcs12(
        &p12,
        P12_PASSWORD,
        p12_keystore::Pkcs12ImportPolicy::Relaxed,
    )
    .expect("the PKCS#12 opens with its password");
    let (_, chain) = store.private_key_chain().expect("a key with its chain");
    assert_eq!(chain.certs().len(), 2, "the certificate and the CA");
    let p12_config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .expect("versions")
    .with_root_certificates(root_store(&ca))
    .with_client_auth_cert(
        vec![CertificateDer::from(chain.certs()[0].as_der().to_vec())],
        PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(chain.key().as_der().to_vec())),
    )
    .expect("client auth");
    let p12_result = get_once(addr, Arc::new(p12_config), "/health").await;
    // 3. The terminal gateway beside the console: gateway certificates only, and the console none.
    let front = server::pki::IssuedCert {
        cert_path: pki.issued_dir().join("front-end.pem"),
        key_path: pki.issued_dir().join("front-end.key.pem"),
        p12_path: pki.issued_dir().join("front-end.p12"),
        p12_password: P12_PASSWORD.to_owned().into(),
        fingerprint: String::new(),
        serial_hex: String::new(),
        subject_cn: "front-end".into(),
        not_before: chrono::Utc::now(),
        not_after: chrono::Utc::now(),
    };
    let gateway = std::net::SocketAddr::from(([127, 0, 0, 1], gateway_port));
    let front_config = Arc::new(client_config(&ca, Some(&front)));
    let alice_config = Arc::new(client_config(&ca, Some(&alice)));
    // A GET reaches the router (which takes POSTs only) with a gateway certificate …
    let front_on_gateway = get_once(gateway, front_config.clone(), "/v1/sign-in").await;
    let alice_on_gateway = get_once(gateway, alice_config, "/v1/sign-in").await;
    let front_on_console = get_once(addr, front_config, "/health").await;
    let _ = server.kill();
    let _ = server.wait();

    assert_eq!(pem_result.map(|r| r.0), Ok(200));
    assert_eq!(p12_result.map(|r| r.0), Ok(200));
    assert_eq!(front_on_gateway.map(|r| r.0), Ok(405));
    assert_eq!(alice_on_gateway.map(|r| r.0), Ok(403));
    assert_eq!(front_on_console.map(|r| r.0), Ok(403));
    assert!(p12_keystore::KeyStore::from_pkcs12(
        &p12,
        "wrong",
        p12_keystore::Pkcs12ImportPolicy::Relaxed
    )
    .is_err());

    // 4. OpenSSL agrees: the PKCS#12 opens, the chain verifies, the CRL is signed by the CA.
    let openssl = |args: &[&str]| {
        Command::new("openssl")
            .args(args)
            .current_dir(d)
            .output()
            .map(|o| (o.status.success(), o))
    };
    match openssl(&["version"]) {
        Ok(_) => {
            let pass = format!("pass:{P12_PASSWORD}");
            for args in [
                vec![
                    "pkcs12",
                    "-in",
                    "var/pki/issued/alice.p12",
                    "-passin",
                    pass.as_str(),
                    "-noout",
                ],
                vec![
                    "verify",
                    "-CAfile",
                    "var/pki/ca.pem",
                    "-purpose",
                    "sslclient",
                    "var/pki/issued/alice.pem",
                ],
                vec![
                    "verify",
                    "-CAfile",
                    "var/pki/ca.pem",
                    "-purpose",
                    "sslserver",
                    "var/pki/server.pem",
                ],
                vec![
                    "crl",
                    "-in",
                    "var/pki/crl.pem",
                    "-CAfile",
                    "var/pki/ca.pem",
                    "-noout",
                ],
            ] {
                let (success, out) = openssl(&args).expect("openssl");
                assert!(
                    success,
                    "openssl {args:?}: {}",
                    String::from_utf8_lossy(&out.stderr)
                );
            }
        }
        Err(_) => eprintln!("openssl is not installed: skipped the OpenSSL cross-checks"),
    }
}

#[test]
fn pki_init_refuses_to_replace_a_ca() {
    let dir = tempfile::tempdir().expect("temp dir");
    ok(dir.path(), &["pki", "init"]);
    let before = std::fs::read(dir.path().join("var/pki/ca.pem")).expect("ca");

    let out = vpos(dir.path(), &["pki", "init"]);

    assert_eq!(out.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("already exists (use --force to replace it)")
    );
    assert_eq!(
        std::fs::read(dir.path().join("var/pki/ca.pem")).expect("ca"),
        before
    );
}

#[test]
fn revoking_by_file_puts_the_serial_on_the_crl() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["pki", "init"]);
    let issued = ok(d, &["pki", "operator", "--name", "bob"]);
    let serial = issued
        .lines()
        .find_map(|l| l.strip_prefix("serial:"))
        .expect("serial")
        .trim()
        .to_owned();

    let out = ok(
        d,
        &[
            "pki",
            "revoke",
            "--cert",
            "var/pki/issued/bob.pem",
            "--reason",
            "key-compromise",
        ],
    );
    assert!(out.contains(&serial));
    assert!(ok(d, &["pki", "revoke", "--serial", &serial]).contains("already revoked"));

    let crl = std::fs::read(d.join("var/pki/crl.pem")).expect("crl");
    let der = CertificateRevocationListDer::from_pem_slice(&crl).expect("CRL PEM");
    let (_, parsed) = x509_parser::parse_x509_crl(&der).expect("parse CRL");
    let serials: Vec<String> = parsed
        .iter_revoked_certificates()
        .map(|r| hex::encode(r.raw_serial()))
        .collect();
    assert_eq!(serials, vec![serial]);
}

#[test]
fn a_revocation_is_recorded_in_the_database_and_the_certificate_cannot_be_bound_again() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["pki", "init"]);
    ok(d, &["migrate"]);
    ok(
        d,
        &[
            "merchant",
            "create",
            "--code",
            "M00000031",
            "--name",
            "Shop",
            "--number",
            "898000000000031=Main",
            "--settlement-bank",
            "Bank",
            "--settlement-account",
            "6222020200112233",
        ],
    );
    ok(
        d,
        &[
            "operator",
            "create",
            "--merchant",
            "M00000031",
            "--login",
            "shop.admin",
            "--name",
            "A",
            "--role",
            "administrator",
        ],
    );
    ok(d, &["pki", "operator", "--name", "shop.admin"]);
    let cert = "var/pki/issued/shop.admin.pem";
    let bind = [
        "operator",
        "bind-cert",
        "--login",
        "shop.admin",
        "--cert",
        cert,
    ];
    ok(d, &bind);

    let out = ok(d, &["pki", "revoke", "--cert", cert]);
    assert!(
        out.contains("recorded in the database: 1 certificate(s)"),
        "{out}"
    );
    let again = ok(d, &["pki", "revoke", "--cert", cert]);
    assert!(
        again.contains("already revoked") && again.contains("0 certificate(s)"),
        "{again}"
    );

    let out = vpos(d, &bind);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("this certificate is revoked"));
    assert!(ok(d, &["audit", "verify"]).contains("audit log intact"));
}

#[test]
fn bad_arguments_get_a_clear_message_and_a_non_zero_exit() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["pki", "init"]);
    std::fs::write(d.join("bad.toml"), "listen = \"not an address\"\n").expect("write");
    std::fs::write(d.join("unknown.toml"), "lisen = \"127.0.0.1:1\"\n").expect("write");

    // (arguments, extra environment, what stderr must say)
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (&["frobnicate"], &[], "unrecognized subcommand"),
        (&["pki", "operator"], &[], "--name"),
        (
            &["pki", "operator", "--name", "../../etc/passwd"],
            &[],
            "must be 1 to 64 letters",
        ),
        (
            &["pki", "operator", "--name", "x", "--days", "0"],
            &[],
            "--days must be between",
        ),
        (
            &[
                "pki",
                "operator",
                "--name",
                "x",
                "--password-env",
                "NO_SUCH_VAR",
            ],
            &[],
            "NO_SUCH_VAR is not set",
        ),
        (
            &["pki", "revoke", "--serial", "not-hex"],
            &[],
            "not a hexadecimal serial",
        ),
        (&["pki", "revoke"], &[], "--cert"),
        (
            &["pki", "server", "--dir", "empty-dir", "--force"],
            &[],
            "vpos pki init",
        ),
        (
            &["demo", "--transactions", "lots"],
            &[],
            "invalid value 'lots'",
        ),
        (
            &["migrate"],
            &[("DATABASE_URL", "mysql://localhost/x")],
            "database_url must start with sqlite:// or postgres://",
        ),
        (
            &["--config", "missing.toml", "migrate"],
            &[],
            "missing.toml does not exist",
        ),
        (&["--config", "bad.toml", "migrate"], &[], "listen"),
        (&["--config", "unknown.toml", "migrate"], &[], "lisen"),
        (
            &["serve"],
            &[],
            "does not exist (create the development PKI",
        ),
        (
            &["demo"],
            &[],
            "pending migration(s): run `vpos migrate` first",
        ),
        (
            &[
                "operator",
                "bind-cert",
                "--login",
                "a.b",
                "--cert",
                "nope.pem",
            ],
            &[],
            "nope.pem",
        ),
        (
            &[
                "merchant",
                "create",
                "--code",
                "M1",
                "--name",
                "x",
                "--number",
                "1=x",
                "--settlement-bank",
                "b",
                "--settlement-account",
                "12345678",
            ],
            &[],
            "merchant number has 15 digits",
        ),
        (
            &[
                "operator",
                "create",
                "--merchant",
                "M00000001",
                "--login",
                "a.b",
                "--name",
                "A",
                "--role",
                "administrator",
            ],
            &[],
            "pending migration(s): run `vpos migrate` first",
        ),
    ];
    for (args, env, expected) in cases {
        let mut command = Command::new(env!("CARGO_BIN_EXE_vpos"));
        command
            .args(*args)
            .current_dir(d)
            .env_remove("DATABASE_URL")
            .env_remove("VPOS_CONFIG");
        for (k, v) in *env {
            command.env(k, v);
        }
        let out = command.output().expect("run vpos");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "vpos {args:?} succeeded");
        assert!(
            matches!(out.status.code(), Some(1 | 2)),
            "vpos {args:?} exited with {:?}",
            out.status.code()
        );
        assert!(
            !stderr.contains("panicked"),
            "vpos {args:?} panicked: {stderr}"
        );
        assert!(
            stderr.contains(expected),
            "vpos {args:?}: expected {expected:?} in: {stderr}"
        );
    }
}

#[test]
fn merchant_and_operator_arguments_are_validated_against_a_migrated_database() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["migrate"]);
    let create = |code: &str, number: &str, quota: &str| {
        vpos(
            d,
            &[
                "merchant",
                "create",
                "--code",
                code,
                "--name",
                "Shop",
                "--number",
                number,
                "--settlement-bank",
                "Bank",
                "--settlement-account",
                "6222020200112233",
                &format!("--daily-refund-quota={quota}"),
            ],
        )
    };
    for (code, number, quota, expected) in [
        ("M1", "898000000000001=Main", "100", "--code \"M1\""),
        (
            "M00000009",
            "12345=Main",
            "100",
            "merchant number has 15 digits",
        ),
        ("M00000009", "898000000000001", "100", "NUMBER=STORE"),
        (
            "M00000009",
            "898000000000001=Main",
            "100.001",
            "more than two decimal places",
        ),
        ("M00000009", "898000000000001=Main", "-5", "negative"),
        (
            "M00000009",
            "898000000000001=Main",
            "1e5",
            "not a decimal number",
        ),
    ] {
        let out = create(code, number, quota);
        assert_eq!(out.status.code(), Some(1), "{code} {number} {quota}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            stderr.contains(expected),
            "expected {expected:?} in {stderr}"
        );
    }
    assert!(create("M00000009", "898000000000001=Main", "50,000.00")
        .status
        .success());
    let taken = create("M00000010", "898000000000001=Other", "100");
    assert!(String::from_utf8_lossy(&taken.stderr)
        .contains("merchant number 898000000000001 is already taken"));

    let create_operator = |role: &str| {
        vpos(
            d,
            &[
                "operator",
                "create",
                "--merchant",
                "M00000009",
                "--login",
                "shop.admin",
                "--name",
                "A",
                "--role",
                role,
            ],
        )
    };
    let out = create_operator("king");
    assert!(String::from_utf8_lossy(&out.stderr).contains("\"king\" is not a built-in role"));
    let created = create_operator("administrator");
    assert!(created.status.success());
    assert!(String::from_utf8_lossy(&created.stdout).contains("one-time password: "));
    let again = create_operator("finance");
    assert!(
        String::from_utf8_lossy(&again.stderr).contains("login name shop.admin is already taken")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn audit_verify_fails_on_a_tampered_log() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    migrated_shop(d);
    for login in ["shop.admin", "shop.finance"] {
        ok(
            d,
            &[
                "operator",
                "create",
                "--merchant",
                "M00000021",
                "--login",
                login,
                "--name",
                "A",
                "--role",
                "administrator",
            ],
        );
    }
    assert!(ok(d, &["audit", "verify"]).contains("audit log intact: 2 event(s)"));

    // Without the key file, the log cannot be checked, and no command starts a fresh key for it.
    let key = std::fs::read(d.join("var/audit.key")).expect("the audit key was created");
    std::fs::rename(d.join("var/audit.key"), d.join("audit.key.away")).expect("move");
    let out = vpos(d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr)
        .contains("audit key file var/audit.key does not exist"));
    let out = vpos(
        d,
        &[
            "merchant",
            "deposit",
            "--code",
            "M00000021",
            "--amount",
            "1.00",
        ],
    );
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("does not verify with the audit key"),
        "{stderr}"
    );
    assert!(
        !d.join("var/audit.key").exists(),
        "the key made for nothing is removed"
    );
    std::fs::write(d.join("var/audit.key"), key).expect("restore");

    // The database's owner gets round the append-only trigger; the edit still shows.
    let url = format!("sqlite://{}", d.join("var/vpos.db").display());
    let conn = app::backend::db::connect(&url, 1).await.expect("database");
    for sql in [
        "DROP TRIGGER audit_events_no_update",
        "UPDATE audit_events SET detail = '{\"login_name\":\"someone.else\"}' WHERE id = 1",
    ] {
        sea_orm::ConnectionTrait::execute_unprepared(&conn, sql)
            .await
            .expect("tamper");
    }
    conn.close().await.expect("close");

    let out = vpos(d, &["audit", "verify"]);
    assert_eq!(out.status.code(), Some(1));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("audit log tampered with: event 1"),
        "{stderr}"
    );
}

#[test]
fn clear_settles_what_is_due_and_a_second_run_changes_nothing() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["migrate"]);
    let demo = ok(d, &["demo", "--transactions", "3000", "--days", "5"]);
    assert!(demo.contains("settlements)"), "{demo}");
    // The demo loader has cleared every ended day: a run finds nothing left to settle.
    let again = ok(d, &["clear"]);
    assert!(again.contains(": 0 settlement(s)"), "{again}");
    let one_day = ok(d, &["clear", "--date", "2020-01-01"]);
    assert!(one_day.contains(": 0 settlement(s)"), "{one_day}");
    let out = vpos(d, &["clear", "--date", "yesterday"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses a date that does not parse"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("--date"));
}

#[test]
fn a_demo_day_loaded_until_a_past_day_is_left_to_clear_and_clears_once() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    ok(d, &["migrate"]);
    let yesterday = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai)
        - chrono::Duration::days(1))
    .date_naive()
    .to_string();
    let today = (chrono::Utc::now().with_timezone(&chrono_tz::Asia::Shanghai))
        .date_naive()
        .to_string();
    let refused = vpos(d, &["demo", "--transactions", "500", "--until", &today]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&refused.stderr).contains("--until"));
    let demo = ok(
        d,
        &[
            "demo",
            "--transactions",
            "2000",
            "--days",
            "1",
            "--until",
            &yesterday,
        ],
    );
    assert!(
        demo.contains("(0 settlements)"),
        "the loader leaves the day: {demo}"
    );
    // A run told to take yesterday's noon as now finds the day not ended yet.
    let noon = chrono::NaiveDate::parse_from_str(&yesterday, "%Y-%m-%d")
        .expect("date")
        .and_hms_opt(4, 0, 0)
        .expect("time")
        .and_utc()
        .to_rfc3339();
    let early = ok(d, &["clear", "--date", &yesterday, "--as-of", &noon]);
    assert!(early.contains(": 0 settlement(s)"), "{early}");
    let out = vpos(d, &["clear", "--as-of", "tomorrow"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "clap refuses a time that does not parse"
    );
    let first = ok(d, &["clear", "--date", &yesterday]);
    assert!(first.contains(" sales "), "{first}");
    assert!(!first.contains(": 0 settlement(s)"), "{first}");
    let second = ok(d, &["clear", "--date", &yesterday]);
    assert!(second.contains(": 0 settlement(s)"), "{second}");
}

/// The platform's commands after onboarding: terminals, fee rates, the refund policy, deposits
/// with a reference; each change in the audit log, and the log still verifies.
#[test]
fn terminals_fee_rates_policy_and_deposits_from_the_command_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let d = dir.path();
    migrated_shop(d);
    let fails = |args: &[&str], expected: &str| {
        let out = vpos(d, args);
        assert_eq!(out.status.code(), Some(1), "vpos {args:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains(expected), "vpos {args:?}: {stderr}");
    };

    // Terminals.
    ok(
        d,
        &[
            "terminal",
            "add",
            "--merchant-no",
            "898000000000021",
            "--terminal",
            "21000001",
            "--alias",
            "Till 1",
        ],
    );
    ok(
        d,
        &[
            "terminal",
            "add",
            "--merchant-no",
            "898000000000021",
            "--terminal",
            "21000002",
        ],
    );
    fails(
        &[
            "terminal",
            "add",
            "--merchant-no",
            "898000000000021",
            "--terminal",
            "21000001",
        ],
        "terminal 21000001 exists already",
    );
    fails(
        &[
            "terminal",
            "add",
            "--merchant-no",
            "898000000000021",
            "--terminal",
            "T1",
        ],
        "a terminal number is 8 digits",
    );
    fails(
        &[
            "terminal",
            "add",
            "--merchant-no",
            "898000000000099",
            "--terminal",
            "21000003",
        ],
        "no merchant number 898000000000099",
    );
    assert!(ok(d, &["terminal", "disable", "--terminal", "21000002"]).contains("disabled"));
    assert!(ok(d, &["terminal", "disable", "--terminal", "21000002"]).contains("already"));
    let list = ok(d, &["terminal", "list", "--merchant", "M00000021"]);
    let lines: Vec<&str> = list.lines().collect();
    assert_eq!(lines.len(), 3, "{list}");
    assert!(
        lines[1].starts_with("21000001")
            && lines[1].contains("enabled")
            && lines[1].contains("Till 1")
    );
    assert!(lines[2].starts_with("21000002") && lines[2].contains("disabled"));
    ok(d, &["terminal", "enable", "--terminal", "21000002"]);

    // Fee rates.
    ok(
        d,
        &[
            "fee-rate",
            "set",
            "--merchant",
            "M00000021",
            "--org",
            "unionpay",
            "--type",
            "debit",
            "--rate",
            "0.38%",
            "--cap",
            "25",
        ],
    );
    let rates = ok(d, &["fee-rate", "list", "--merchant", "M00000021"]);
    assert!(
        rates.lines().any(|l| l.starts_with("unionpay")
            && l.contains("debit")
            && l.contains("0.38%")
            && l.contains("¥25.00")),
        "{rates}"
    );
    fails(
        &[
            "fee-rate",
            "set",
            "--merchant",
            "M00000021",
            "--org",
            "unionpay",
            "--type",
            "debit",
            "--rate",
            "12",
        ],
        "between 0 % and 10 %",
    );
    fails(
        &[
            "fee-rate",
            "set",
            "--merchant",
            "M00000021",
            "--org",
            "discover",
            "--type",
            "debit",
            "--rate",
            "1",
        ],
        "--org \"discover\"",
    );

    // The refund policy: what is given changes, the rest stays.
    let policy = ok(
        d,
        &[
            "merchant",
            "policy",
            "--code",
            "M00000021",
            "--refund-mode",
            "approval",
            "--token-required",
            "true",
            "--daily-quota",
            "1,000",
            "--refund-window-days",
            "30",
        ],
    );
    assert!(
        policy.contains("refund mode:           approval"),
        "{policy}"
    );
    assert!(
        policy.contains("daily refund quota:    ¥1,000.00"),
        "{policy}"
    );
    assert!(policy.contains("fast refund agreement: false"), "{policy}");
    let again = ok(
        d,
        &[
            "merchant",
            "policy",
            "--code",
            "M00000021",
            "--fast-refund-agreement",
            "true",
        ],
    );
    assert!(
        again.contains("refund mode:           approval")
            && again.contains("fast refund agreement: true")
    );
    fails(
        &[
            "merchant",
            "policy",
            "--code",
            "M00000021",
            "--refund-window-days",
            "400",
        ],
        "0 to 365 days",
    );

    // A deposit with a reference credits once.
    let first = ok(
        d,
        &[
            "merchant",
            "deposit",
            "--code",
            "M00000021",
            "--amount",
            "500",
            "--reference",
            "TRF-1",
        ],
    );
    assert!(first.contains("the balance is now ¥500.00"), "{first}");
    let second = ok(
        d,
        &[
            "merchant",
            "deposit",
            "--code",
            "M00000021",
            "--amount",
            "500",
            "--reference",
            "TRF-1",
        ],
    );
    assert!(
        second.contains("credited before; nothing changed"),
        "{second}"
    );
    fails(
        &[
            "merchant",
            "deposit",
            "--code",
            "M00000021",
            "--amount",
            "600",
            "--reference",
            "TRF-1",
        ],
        "another amount",
    );
    let third = ok(
        d,
        &[
            "merchant",
            "deposit",
            "--code",
            "M00000021",
            "--amount",
            "1",
        ],
    );
    assert!(third.contains("the balance is now ¥501.00"), "{third}");

    ok(d, &["audit", "verify"]);
}
