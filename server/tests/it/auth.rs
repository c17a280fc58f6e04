//! Sign-in, sessions, passwords and the CSRF guard, over real mutual TLS.

use chrono::Duration;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

use app::api::auth::{Me, SignInOutcome};
use app::backend::entities::{audit_events, merchants, operators, sessions};
use app::backend::services::auth as auth_service;
use app::backend::throttle::{Throttle, ThrottleLimits};
use app::backend::AuthConfig;
use app::domain::access::Role;
use app::domain::password::PasswordRule;
use app::error::{AppError, FieldProblem};

use crate::on_both_backends;
use crate::support::app::spawn_app_with;
use crate::support::browser::{Answer, Browser};
use crate::support::{spawn_app, Backend, FIRST_PASSWORD, PASSWORD};

/// The audit events with `action`, oldest first.
async fn events(app: &crate::support::app::TestApp, action: &str) -> Vec<audit_events::Model> {
    audit_events::Entity::find()
        .filter(audit_events::Column::Action.eq(action))
        .order_by_asc(audit_events::Column::Id)
        .all(&app.db.conn)
        .await
        .expect("audit query")
}

async fn operator(app: &crate::support::app::TestApp, login: &str) -> operators::Model {
    operators::Entity::find()
        .filter(operators::Column::LoginName.eq(login))
        .one(&app.db.conn)
        .await
        .expect("operator query")
        .expect("operator")
}

on_both_backends!(
    first_sign_in_opens_a_strict_session_and_forces_a_password_change,
    a_certificate_of_another_operator_is_refused,
    every_refusal_reads_the_same_and_takes_the_same_time,
    five_failures_lock_the_account_for_thirty_minutes,
    a_captcha_is_good_for_one_try_and_expires,
    password_rules_are_enforced_and_bad_input_changes_nothing,
    idle_sessions_end_after_fifteen_minutes,
    sessions_end_twelve_hours_after_sign_in,
    sign_out_ends_the_session_on_the_server,
    sessions_are_deleted_a_week_after_their_limit,
    state_changing_calls_need_the_consoles_origin_and_post,
    a_flood_of_refusals_adds_one_event_per_certificate_and_minute,
    a_session_is_bound_to_its_certificate,
    a_session_read_a_moment_ago_serves_until_this_process_changes_one,
    no_other_certificate_can_lock_an_operator_out,
    parallel_wrong_passwords_are_judged_five_times_and_lock_once,
    a_wrong_current_password_counts_toward_the_lockout,
    sign_ins_are_limited_per_certificate_and_per_address,
    a_flood_of_sign_ins_leaves_signed_in_users_served,
    a_suspended_merchants_staff_are_signed_out_and_kept_out,
);

async fn first_sign_in_opens_a_strict_session_and_forces_a_password_change(backend: Backend) {
    let app = spawn_app(backend).await;
    let cert = app
        .operator("M20000001", "ann.admin", &[Role::Administrator])
        .await;
    let mut browser = app.browser(&cert);

    // Not signed in: pages lead to the sign-in page, which is open.
    assert_eq!(browser.page("/").await.body, "/login");
    assert_eq!(browser.page("/login").await.status, 200);

    // A session cookie from before is not reused: sign-in makes a new one.
    browser.session = Some("f".repeat(64));
    let outcome: SignInOutcome = browser.signed_in("ann.admin", FIRST_PASSWORD).await;
    assert!(outcome.must_change_password);
    let token = browser.session.clone().expect("session cookie");
    assert_ne!(token, "f".repeat(64));
    assert_eq!(token.len(), 64);
    let cookie = browser.last_set_cookie.clone().expect("set-cookie");
    // Only this secure origin may set it, for the whole site: no neighbouring host shadows it.
    assert!(cookie.starts_with("__Host-vpos_session="), "{cookie}");
    for attr in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/"] {
        assert!(cookie.contains(attr), "{cookie} lacks {attr}");
    }
    // The database holds only the token's hash.
    let stored = sessions::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("sessions");
    assert_eq!(stored.len(), 1);
    assert_ne!(stored[0].token_hash, token);

    // Before the change only the password page (and help) open; server functions refuse.
    assert_eq!(browser.page("/").await.body, "/password");
    assert_eq!(browser.page("/admin/roles").await.body, "/password");
    assert_eq!(browser.page("/password").await.status, 200);
    assert_eq!(browser.page("/help").await.status, 200);
    let refused = browser.call("admin/role_matrix", &[]).await;
    assert_eq!(refused.error(), AppError::PasswordChangeRequired);
    let refused = browser.call("home", &[]).await;
    assert_eq!(refused.error(), AppError::PasswordChangeRequired);

    let changed = browser
        .change_password(FIRST_PASSWORD, PASSWORD, PASSWORD)
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    assert_eq!(browser.page("/").await.status, 200);
    assert_eq!(browser.page("/login").await.body, "/");
    let me: Option<Me> = browser.call("me", &[]).await.json();
    let me = me.expect("signed in");
    assert_eq!(me.login_name, "ann.admin");
    assert!(!me.must_change_password);

    let op = operator(&app, "ann.admin").await;
    assert!(!op.must_change_password);
    assert_eq!(op.failed_login_count, 0);
    assert!(op.last_login_at.is_some());
    assert_eq!(events(&app, "sign_in").await.len(), 1);
    assert_eq!(events(&app, "password_change").await.len(), 1);
}

async fn a_certificate_of_another_operator_is_refused(backend: Backend) {
    let app = spawn_app(backend).await;
    let cert_a = app
        .operator("M20000002", "amy.monitor", &[Role::Monitor])
        .await;
    app.operator("M20000002", "bob.admin", &[Role::Administrator])
        .await;
    let stranger = app.pki.client("stranger");

    // A's certificate with B's (correct) password.
    let mut browser = app.browser(&cert_a);
    let refused = browser.sign_in("bob.admin", FIRST_PASSWORD).await;
    assert_eq!(refused.status, 401);
    assert_eq!(refused.error(), AppError::SignInRefused);
    assert!(browser.session.is_none());
    // A certificate bound to nobody, with B's password.
    let refused = app
        .browser(&stranger)
        .sign_in("bob.admin", FIRST_PASSWORD)
        .await;
    assert_eq!(refused.error(), AppError::SignInRefused);

    let failures = events(&app, "sign_in").await;
    assert_eq!(failures.len(), 2);
    for event in &failures {
        assert_eq!(event.outcome, "failure");
        assert_eq!(event.login_name.as_deref(), Some("bob.admin"));
        assert!(event
            .detail
            .as_deref()
            .unwrap_or_default()
            .contains("certificate_not_bound"));
    }
    assert_eq!(
        failures[0].cert_fingerprint,
        Some(cert_a.fingerprint.clone())
    );
    // Attempts with someone else's certificate do not count toward bob's lockout.
    assert_eq!(operator(&app, "bob.admin").await.failed_login_count, 0);
    // A's own sign-in still works.
    browser.signed_in("amy.monitor", FIRST_PASSWORD).await;
}

async fn every_refusal_reads_the_same_and_takes_the_same_time(backend: Backend) {
    let app = spawn_app(backend).await;
    let cert = app
        .operator("M20000003", "cat.admin", &[Role::Administrator])
        .await;
    let locked_cert = app
        .operator("M20000003", "dan.locked", &[Role::Monitor])
        .await;
    let disabled_cert = app
        .operator("M20000003", "eve.gone", &[Role::Monitor])
        .await;
    // Lock one account, disable another.
    let mut locker = app.browser(&locked_cert);
    for _ in 0..5 {
        locker.sign_in("dan.locked", "wrong-password-1").await;
    }
    assert_eq!(operator(&app, "dan.locked").await.status, "locked");
    operators::Entity::update_many()
        .col_expr(
            operators::Column::Status,
            sea_orm::sea_query::Expr::value("disabled"),
        )
        .filter(operators::Column::LoginName.eq("eve.gone"))
        .exec(&app.db.conn)
        .await
        .expect("disable");

    let mut answers = Vec::new();
    for (cert, login, password) in [
        (&cert, "nobody.here", FIRST_PASSWORD),
        (&cert, "cat.admin", "wrong-password-1"),
        (&locked_cert, "dan.locked", FIRST_PASSWORD),
        (&disabled_cert, "eve.gone", FIRST_PASSWORD),
    ] {
        let answer = app.browser(cert).sign_in(login, password).await;
        answers.push((login, answer));
    }

    let (_, first) = &answers[0];
    for (login, answer) in &answers {
        assert_eq!(answer.status, 401, "{login}");
        assert_eq!(answer.body, first.body, "{login} got another answer");
        assert!(
            answer.elapsed >= app.auth.refusal_floor,
            "{login} answered in {:?}",
            answer.elapsed
        );
    }
    let times: Vec<_> = answers.iter().map(|(_, a)| a.elapsed).collect();
    let (fastest, slowest) = (
        times.iter().min().copied().unwrap_or_default(),
        times.iter().max().copied().unwrap_or_default(),
    );
    assert!(
        slowest - fastest < std::time::Duration::from_millis(250),
        "refusals took from {fastest:?} to {slowest:?}"
    );
    // The reasons are told apart in the audit log only.
    let reasons: Vec<String> = events(&app, "sign_in")
        .await
        .into_iter()
        .rev()
        .take(4)
        .map(|e| e.detail.unwrap_or_default())
        .collect();
    for reason in ["unknown_login", "wrong_password", "locked", "disabled"] {
        assert!(
            reasons.iter().any(|r| r.contains(reason)),
            "{reason} not recorded: {reasons:?}"
        );
    }
}

async fn five_failures_lock_the_account_for_thirty_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let cert = app
        .operator("M20000004", "fay.finance", &[Role::Finance])
        .await;
    let mut browser = app.browser(&cert);

    for attempt in 1..=4 {
        browser.sign_in("fay.finance", "not-the-password-9").await;
        let op = operator(&app, "fay.finance").await;
        assert_eq!(op.failed_login_count, attempt);
        assert_eq!(op.status, "active");
    }
    browser.sign_in("fay.finance", "not-the-password-9").await;
    let op = operator(&app, "fay.finance").await;
    assert_eq!(op.status, "locked");
    assert_eq!(
        op.locked_until,
        Some(app.clock.now() + Duration::minutes(30))
    );
    assert_eq!(events(&app, "lockout").await.len(), 1);

    // Locked: the right password is refused too, and does not extend or repeat the lock.
    let refused = browser.sign_in("fay.finance", FIRST_PASSWORD).await;
    assert_eq!(refused.error(), AppError::SignInRefused);
    app.clock.advance(Duration::minutes(29));
    let refused = browser.sign_in("fay.finance", FIRST_PASSWORD).await;
    assert_eq!(refused.error(), AppError::SignInRefused);
    assert_eq!(events(&app, "lockout").await.len(), 1);

    // After 30 minutes the account opens again, with a clean count.
    app.clock.advance(Duration::minutes(1));
    browser.signed_in("fay.finance", FIRST_PASSWORD).await;
    let op = operator(&app, "fay.finance").await;
    assert_eq!((op.status.as_str(), op.failed_login_count), ("active", 0));
}

async fn try_captcha(browser: &mut Browser<'_>, id: &str, answer: &str) -> Answer {
    browser
        .call(
            "sign_in",
            &[
                ("login_name", "gus.admin"),
                ("password", FIRST_PASSWORD),
                ("captcha_id", id),
                ("captcha_answer", answer),
            ],
        )
        .await
}

async fn a_captcha_is_good_for_one_try_and_expires(backend: Backend) {
    let app = spawn_app(backend).await;
    let cert = app
        .operator("M20000005", "gus.admin", &[Role::Administrator])
        .await;
    let mut browser = app.browser(&cert);

    // A wrong answer: a field error, the captcha is used up, no failed sign-in counted.
    let (id, answer) = browser.captcha().await;
    let wrong = if answer == "22222" { "33333" } else { "22222" };
    let refused = try_captcha(&mut browser, &id, wrong).await;
    assert_eq!(refused.status, 422);
    assert_eq!(
        refused.error().field_problem("captcha"),
        Some(FieldProblem::Captcha)
    );
    let reused = try_captcha(&mut browser, &id, &answer).await;
    assert_eq!(
        reused.error().field_problem("captcha"),
        Some(FieldProblem::Captcha),
        "a captcha is good for one try"
    );
    assert_eq!(operator(&app, "gus.admin").await.failed_login_count, 0);

    // An expired one.
    let (id, answer) = browser.captcha().await;
    app.clock.advance(Duration::minutes(5));
    let expired = try_captcha(&mut browser, &id, &answer).await;
    assert_eq!(
        expired.error().field_problem("captcha"),
        Some(FieldProblem::Captcha)
    );

    // Full-width digits and spaces are forgiven.
    let (id, answer) = browser.captcha().await;
    let typed: String = answer
        .chars()
        .map(|c| char::from_u32(c as u32 - '0' as u32 + '０' as u32).unwrap_or(c))
        .collect();
    let ok = try_captcha(&mut browser, &id, &format!(" {typed} ")).await;
    assert_eq!(ok.status, 200, "{}", ok.body);
}

async fn password_rules_are_enforced_and_bad_input_changes_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000006", "hal.admin", &[Role::Administrator])
        .await;
    let hash_before = operator(&app, "hal.admin").await.password_hash;

    let cases: &[(&str, &str, &str, &str, FieldProblem)] = &[
        (
            PASSWORD,
            "short1A",
            "short1A",
            "new_password",
            FieldProblem::Password(PasswordRule::TooShort),
        ),
        (
            PASSWORD,
            "no-digits-at-all",
            "no-digits-at-all",
            "new_password",
            FieldProblem::Password(PasswordRule::NeedsDigit),
        ),
        (
            PASSWORD,
            "1234567890123",
            "1234567890123",
            "new_password",
            FieldProblem::Password(PasswordRule::NeedsLetter),
        ),
        (
            PASSWORD,
            "a-good-password-1",
            "a-good-password-2",
            "confirm_password",
            FieldProblem::Password(PasswordRule::Mismatch),
        ),
        (
            "wrong-current-pw-1",
            "a-good-password-1",
            "a-good-password-1",
            "current_password",
            FieldProblem::WrongPassword,
        ),
        (
            PASSWORD,
            PASSWORD,
            PASSWORD,
            "new_password",
            FieldProblem::Password(PasswordRule::RecentlyUsed),
        ),
        (
            PASSWORD,
            FIRST_PASSWORD,
            FIRST_PASSWORD,
            "new_password",
            FieldProblem::Password(PasswordRule::RecentlyUsed),
        ),
    ];
    for (current, new, confirm, field, problem) in cases {
        let answer = browser.change_password(current, new, confirm).await;
        assert_eq!(answer.status, 422, "{new}: {}", answer.body);
        assert_eq!(
            answer.error().field_problem(field),
            Some(*problem),
            "{new} / {confirm}"
        );
        assert_eq!(
            operator(&app, "hal.admin").await.password_hash,
            hash_before,
            "{new} was written"
        );
    }

    // Four changes later the first password is usable again; the three before are not.
    let sequence = [
        "second-Password-1",
        "third-Password-22",
        "fourth-Password-3",
        "fifth-Password-44",
    ];
    let mut current = PASSWORD;
    for next in sequence {
        let answer = browser.change_password(current, next, next).await;
        assert_eq!(answer.status, 200, "{next}: {}", answer.body);
        current = next;
    }
    for recent in &sequence[1..3] {
        let answer = browser.change_password(current, recent, recent).await;
        assert_eq!(
            answer.error().field_problem("new_password"),
            Some(FieldProblem::Password(PasswordRule::RecentlyUsed)),
            "{recent}"
        );
    }
    let answer = browser.change_password(current, PASSWORD, PASSWORD).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

async fn idle_sessions_end_after_fifteen_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000007", "ian.admin", &[Role::Administrator])
        .await;

    // Reading pages counts as activity.
    for _ in 0..3 {
        app.clock.advance(Duration::minutes(14));
        assert_eq!(browser.page("/").await.status, 200);
    }
    app.clock.advance(Duration::minutes(15));
    let answer = browser.page("/").await;
    assert_eq!((answer.status, answer.body.as_str()), (303, "/login"));
    assert!(browser.session.is_none(), "the cookie is cleared");

    let timeouts = events(&app, "session_timeout").await;
    assert_eq!(timeouts.len(), 1);
    assert!(timeouts[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("idle"));
}

async fn sessions_end_twelve_hours_after_sign_in(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000008", "joy.admin", &[Role::Administrator])
        .await;
    let token = browser.session.clone();

    for _ in 0..71 {
        app.clock.advance(Duration::minutes(10));
        assert_eq!(browser.page("/").await.status, 200);
    }
    // 11 h 50 min so far; ten more minutes reach the limit, however active the operator is.
    app.clock.advance(Duration::minutes(10));
    assert_eq!(browser.page("/").await.body, "/login");
    browser.session = token;
    let me: Option<Me> = browser.call("me", &[]).await.json();
    assert!(me.is_none(), "an expired session stays ended");
    let timeouts = events(&app, "session_timeout").await;
    assert_eq!(timeouts.len(), 1);
    assert!(timeouts[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("expired"));
}

async fn sign_out_ends_the_session_on_the_server(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000009", "kim.admin", &[Role::Administrator])
        .await;
    let token = browser.session.clone();

    let answer = browser.call("sign_out", &[]).await;
    assert!(answer.status < 400, "{answer:?}");
    assert!(browser.session.is_none(), "the cookie is cleared");

    // Replaying the old cookie does not bring the session back.
    browser.session = token;
    assert_eq!(browser.page("/").await.body, "/login");
    let refused = browser.call("admin/role_matrix", &[]).await;
    assert_eq!(refused.error(), AppError::Unauthenticated);
    let ended = sessions::Entity::find()
        .all(&app.db.conn)
        .await
        .expect("sessions");
    assert!(ended
        .iter()
        .all(|s| s.end_reason.is_some() || s.ended_at.is_some()));
    assert_eq!(events(&app, "sign_out").await.len(), 1);
}

async fn sessions_are_deleted_a_week_after_their_limit(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut old = app
        .ready_browser("M20000010", "lou.admin", &[Role::Administrator])
        .await;
    let token = old.session.clone();
    assert!(old.call("sign_out", &[]).await.status < 400);
    // The other operator signs in a week later; the first session's limit passed 6 days 12 h ago.
    app.clock.advance(Duration::days(7));
    app.ready_browser("M20000011", "mo.admin", &[Role::Administrator])
        .await;
    let operators_with_sessions = || async {
        let mut rows = sessions::Entity::find()
            .all(&app.db.conn)
            .await
            .expect("sessions");
        rows.sort_by_key(|s| s.created_at);
        rows.into_iter().map(|s| s.operator_id).collect::<Vec<_>>()
    };
    let both = operators_with_sessions().await;
    assert_eq!(both.len(), 2);

    let purge = || auth_service::purge_sessions(&app.db.conn, app.clock.now());
    assert_eq!(purge().await.expect("purge"), 0, "kept for a week");
    old.session = token.clone();
    assert_eq!(old.page("/").await.body, "/login");
    app.clock
        .advance(Duration::hours(12) + Duration::minutes(1));
    assert_eq!(purge().await.expect("purge"), 1);
    assert_eq!(operators_with_sessions().await, both[1..]);
    // The deleted session is unknown now: still no way in.
    old.session = token;
    assert_eq!(old.page("/").await.body, "/login");
}

async fn state_changing_calls_need_the_consoles_origin_and_post(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000010", "lee.admin", &[Role::Administrator])
        .await;
    let denied_before = events(&app, "access_denied").await.len();

    for origin in [Some("https://evil.example"), Some("null"), None] {
        let answer = browser.call_from("sign_out", &[], origin).await;
        assert_eq!(answer.status, 403, "Origin {origin:?}");
        assert!(browser.session.is_some());
    }
    let answer = browser
        .call_from(
            "change_password",
            &[
                ("current_password", PASSWORD),
                ("new_password", "attacker-Chosen-1"),
                ("confirm_password", "attacker-Chosen-1"),
            ],
            Some("https://evil.example"),
        )
        .await;
    assert_eq!(answer.status, 403);

    // A GET does not reach a server function.
    let answer = browser.get("/api/sign_out").await;
    assert!(
        answer.status >= 400,
        "GET sign_out answered {}",
        answer.status
    );

    // The session is intact and the password unchanged.
    assert_eq!(browser.page("/").await.status, 200);
    // The certificate's first refusal of the minute is recorded as it happened; the three after it
    // are counted, and recorded as one event once the minute is over.
    let denied = events(&app, "access_denied").await;
    assert_eq!(denied.len() - denied_before, 1);
    assert!(denied[denied_before..].iter().all(|e| e
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("origin")));
    app.clock.advance(chrono::Duration::seconds(60));

    // Whatever an attacker sends as Origin, the log keeps a bounded piece of it.
    let long = format!("https://{}.example", "x".repeat(60_000));
    let answer = browser.call_from("sign_out", &[], Some(&long)).await;
    assert_eq!(answer.status, 403);
    let mut denied = events(&app, "access_denied").await;
    assert_eq!(denied.len() - denied_before, 3);
    let last = denied.pop().expect("the refusal");
    let detail = last.detail.unwrap_or_default();
    assert!(detail.len() < 1_000, "{} bytes of detail", detail.len());
    assert!(detail.contains("https://xxx"));
    let counted: serde_json::Value = serde_json::from_str(
        denied
            .pop()
            .and_then(|e| e.detail)
            .as_deref()
            .unwrap_or("{}"),
    )
    .expect("json");
    assert_eq!(counted["reason"], "repeated");
    assert_eq!(counted["count"], 3);
    assert_eq!(counted["last"]["reason"], "origin");
}

async fn a_flood_of_refusals_adds_one_event_per_certificate_and_minute(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000013", "ivy.admin", &[Role::Administrator])
        .await;
    let denied_before = events(&app, "access_denied").await.len();
    let floods = (0..300).map(|_| {
        let mut tab = browser.twin();
        async move {
            tab.call_from("sign_out", &[], Some("https://evil.example"))
                .await
        }
    });
    for answer in futures::future::join_all(floods).await {
        assert_eq!(answer.status, 403);
    }
    // Refusals of what the role does not grant are tallied the same way.
    let mut finance = app
        .ready_browser("M20000013", "ivy.finance", &[Role::Finance])
        .await;
    for _ in 0..20 {
        let answer = finance.call("admin/operators", &[("search", "")]).await;
        assert_eq!(answer.status, 403);
    }
    assert_eq!(events(&app, "access_denied").await.len() - denied_before, 2);

    app.clock.advance(chrono::Duration::seconds(60));
    assert_eq!(browser.page("/").await.status, 200);
    browser
        .call_from("sign_out", &[], Some("https://evil.example"))
        .await;
    let denied = events(&app, "access_denied").await;
    let counts: Vec<_> = denied[denied_before..]
        .iter()
        .filter_map(|e| serde_json::from_str::<serde_json::Value>(e.detail.as_deref()?).ok())
        .filter(|d| d["reason"] == "repeated")
        .map(|d| d["count"].as_u64())
        .collect();
    assert_eq!(counts.len(), 2, "one count per certificate: {counts:?}");
    assert!(
        counts.contains(&Some(299)) && counts.contains(&Some(19)),
        "{counts:?}"
    );
    assert_eq!(
        denied.len() - denied_before,
        5,
        "and the new minute's first refusal"
    );
}

async fn a_session_is_bound_to_its_certificate(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000011", "max.admin", &[Role::Administrator])
        .await;
    let other_cert = app.pki.client("max.admin.laptop");

    // The cookie, stolen and replayed with another (valid) certificate, ends the session.
    let mut thief = app.browser(&other_cert);
    thief.session = browser.session.clone();
    assert_eq!(thief.page("/").await.body, "/login");
    assert_eq!(browser.page("/").await.body, "/login");
    let denied = events(&app, "access_denied").await;
    assert_eq!(denied.len(), 1);
    assert!(denied[0]
        .detail
        .as_deref()
        .unwrap_or_default()
        .contains("certificate"));
    assert_eq!(denied[0].cert_fingerprint, Some(other_cert.fingerprint));
}

async fn a_session_read_a_moment_ago_serves_until_this_process_changes_one(backend: Backend) {
    // A minute of cache, so that "a moment ago" does not depend on how fast this machine is.
    let auth = AuthConfig {
        session_cache: std::time::Duration::from_secs(60),
        ..AuthConfig::default()
    };
    let app = spawn_app_with(backend, auth).await;
    let mut admin = app
        .ready_browser("M20000012", "ned.admin", &[Role::Administrator])
        .await;
    let mut finance = app
        .ready_browser("M20000012", "ned.finance", &[Role::Finance])
        .await;
    let display_name = |answer: Answer| answer.json::<Option<Me>>().map(|me| me.display_name);
    let before = display_name(finance.call("me", &[]).await).expect("signed in");

    // A change made elsewhere (another instance, the command line: here straight in the database)
    // reaches the session once the cache's time has passed.
    operators::Entity::update_many()
        .col_expr(operators::Column::DisplayName, "改名".into())
        .filter(operators::Column::LoginName.eq("ned.finance"))
        .exec(&app.db.conn)
        .await
        .expect("rename");
    assert_eq!(display_name(finance.call("me", &[]).await), Some(before));
    app.clock.advance(Duration::seconds(61));
    assert_eq!(
        display_name(finance.call("me", &[]).await).as_deref(),
        Some("改名")
    );

    // A change made through this process holds from the next request on: the administrator
    // disables the operator while their session is remembered.
    assert!(finance.call("me", &[]).await.status < 400);
    let id = operator(&app, "ned.finance").await.id.to_string();
    let disabled = admin
        .call(
            "admin/operator_enabled",
            &[("id", &id), ("enabled", "false")],
        )
        .await;
    assert!(disabled.status < 400, "{disabled:?}");
    assert_eq!(display_name(finance.call("me", &[]).await), None);
    assert_eq!(
        finance.call("transactions/options", &[]).await.error(),
        AppError::Unauthenticated
    );

    // A session ended by its certificate's thief is not served from memory either.
    assert!(admin.call("me", &[]).await.status < 400);
    let mut thief = app.browser(&app.pki.client("ned.admin.laptop"));
    thief.session = admin.session.clone();
    assert_eq!(thief.page("/").await.body, "/login");
    assert_eq!(display_name(admin.call("me", &[]).await), None);
}

/// Rules as [`AuthConfig::default`], with other bounds on sign-in attempts and password checks.
fn throttled(limits: ThrottleLimits) -> AuthConfig {
    AuthConfig {
        throttle: std::sync::Arc::new(Throttle::new(limits)),
        ..AuthConfig::default()
    }
}

/// Bounds that hold nothing up: for tests of what happens beneath them.
fn unthrottled() -> ThrottleLimits {
    ThrottleLimits {
        password_checks: 8,
        password_queue: 1_000,
        password_wait: std::time::Duration::from_secs(60),
        sign_ins_per_certificate: 10_000,
        sign_ins_per_address: 10_000,
    }
}

async fn no_other_certificate_can_lock_an_operator_out(backend: Backend) {
    let app = spawn_app(backend).await;
    let own = app
        .operator("M20000011", "ivy.finance", &[Role::Finance])
        .await;
    let other_merchant = app
        .operator("M20000012", "jon.admin", &[Role::Administrator])
        .await;
    let colleague = app
        .operator("M20000011", "kim.admin", &[Role::Administrator])
        .await;
    let stranger = app.pki.client("stranger");

    // Seven wrong passwords each from another merchant's administrator, a colleague and a
    // certificate bound to nobody: more than enough to lock, were they counted.
    for cert in [&other_merchant, &colleague, &stranger] {
        let mut browser = app.browser(cert);
        for _ in 0..7 {
            let refused = browser.sign_in("ivy.finance", "wrong-password-7").await;
            assert_eq!(refused.error(), AppError::SignInRefused);
        }
    }
    let op = operator(&app, "ivy.finance").await;
    assert_eq!((op.status.as_str(), op.failed_login_count), ("active", 0));
    assert!(events(&app, "lockout").await.is_empty());
    // Still recorded, each one.
    let refused = app.audit_details("sign_in").await;
    assert_eq!(
        refused
            .iter()
            .filter(|d| d.contains("certificate_not_bound"))
            .count(),
        21
    );
    app.browser(&own)
        .signed_in("ivy.finance", FIRST_PASSWORD)
        .await;
}

async fn parallel_wrong_passwords_are_judged_five_times_and_lock_once(backend: Backend) {
    let app = spawn_app_with(backend, throttled(unthrottled())).await;
    let cert = app
        .operator("M20000013", "lee.finance", &[Role::Finance])
        .await;
    let mut forms = Vec::new();
    for _ in 0..50 {
        let mut browser = app.browser(&cert);
        let captcha = browser.captcha().await;
        forms.push((browser, captcha));
    }
    let attempts = forms
        .into_iter()
        .map(|(mut browser, (id, answer))| async move {
            browser
                .call(
                    "sign_in",
                    &[
                        ("login_name", "lee.finance"),
                        ("password", "wrong-password-50"),
                        ("captcha_id", &id),
                        ("captcha_answer", &answer),
                    ],
                )
                .await
        });
    for answer in futures::future::join_all(attempts).await {
        assert_eq!(answer.error(), AppError::SignInRefused);
    }

    assert_eq!(events(&app, "lockout").await.len(), 1, "locked once");
    let reasons = app.audit_details("sign_in").await;
    let judged = reasons
        .iter()
        .filter(|d| d.contains("wrong_password"))
        .count();
    assert_eq!(judged, 5, "{reasons:?}");
    assert_eq!(
        reasons.iter().filter(|d| d.contains("\"locked\"")).count(),
        45
    );
    assert_eq!(operator(&app, "lee.finance").await.status, "locked");
}

async fn a_wrong_current_password_counts_toward_the_lockout(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M20000014", "max.finance", &[Role::Finance])
        .await;
    let next = "next-Password-2027";
    for attempt in 1..=4 {
        let refused = browser.change_password("wrong-current-1", next, next).await;
        assert_eq!(
            refused.error().field_problem("current_password"),
            Some(FieldProblem::WrongPassword)
        );
        assert_eq!(
            operator(&app, "max.finance").await.failed_login_count,
            attempt
        );
    }
    // The fifth locks the account and ends its sessions, this one too.
    let refused = browser.change_password("wrong-current-1", next, next).await;
    assert_eq!(refused.error(), AppError::Unauthenticated);
    assert_eq!(operator(&app, "max.finance").await.status, "locked");
    assert_eq!(events(&app, "lockout").await.len(), 1);
    let me: Option<Me> = browser.call("me", &[]).await.json();
    assert!(me.is_none(), "signed out");
    let refused = browser.sign_in("max.finance", PASSWORD).await;
    assert_eq!(refused.error(), AppError::SignInRefused);
}

async fn sign_ins_are_limited_per_certificate_and_per_address(backend: Backend) {
    let app = spawn_app_with(
        backend,
        throttled(ThrottleLimits {
            sign_ins_per_certificate: 4,
            sign_ins_per_address: 7,
            ..unthrottled()
        }),
    )
    .await;
    let first = app
        .operator("M20000015", "ned.finance", &[Role::Finance])
        .await;
    let second = app
        .operator("M20000015", "ola.finance", &[Role::Finance])
        .await;
    let third = app
        .operator("M20000015", "pam.finance", &[Role::Finance])
        .await;
    // Start at the top of a minute, so that the attempts below share it.
    let seconds = app.clock.now().timestamp().rem_euclid(60);
    app.clock.advance(Duration::seconds(60 - seconds));

    let mut browser = app.browser(&first);
    for _ in 0..4 {
        let refused = browser.sign_in("ned.finance", "wrong-password-4").await;
        assert_eq!(refused.error(), AppError::SignInRefused);
    }
    // The fifth attempt of this certificate in the minute is not even read.
    let limited = browser.sign_in("ned.finance", FIRST_PASSWORD).await;
    assert_eq!(limited.status, 429);
    assert_eq!(
        limited.error(),
        AppError::TooManyAttempts { retry_after_s: 60 }
    );
    assert_eq!(operator(&app, "ned.finance").await.failed_login_count, 4);

    // Another certificate from the same address has the address's two left (the refused attempt
    // counted too, so that hammering does not shorten the wait).
    let mut other = app.browser(&second);
    other.signed_in("ola.finance", FIRST_PASSWORD).await;
    let refused = app
        .browser(&third)
        .sign_in("pam.finance", "wrong-password-4")
        .await;
    assert_eq!(refused.error(), AppError::SignInRefused);
    let limited = app
        .browser(&third)
        .sign_in("pam.finance", FIRST_PASSWORD)
        .await;
    assert!(matches!(limited.error(), AppError::TooManyAttempts { .. }));

    // The next minute starts afresh.
    app.clock.advance(Duration::seconds(60));
    browser.signed_in("ned.finance", FIRST_PASSWORD).await;
}

/// The resident memory of this process, in KiB.
fn resident_kib() -> u64 {
    server::memory::current_rss_kib().unwrap_or(0)
}

async fn a_flood_of_sign_ins_leaves_signed_in_users_served(backend: Backend) {
    // Attempt limits off: this is a flood from many certificates and addresses, which only the bound
    // on password checks holds.
    let app = spawn_app_with(
        backend,
        throttled(ThrottleLimits {
            password_checks: 1,
            password_queue: 4,
            password_wait: std::time::Duration::from_secs(2),
            ..unthrottled()
        }),
    )
    .await;
    let mut user = app
        .ready_browser("M20000016", "quinn.finance", &[Role::Finance])
        .await;
    let flooder = app
        .operator("M20000017", "rex.admin", &[Role::Administrator])
        .await;
    let mut forms = Vec::new();
    for _ in 0..200 {
        let mut browser = app.browser(&flooder);
        let captcha = browser.captcha().await;
        forms.push((browser, captcha));
    }
    let before = resident_kib();
    let flood = forms
        .into_iter()
        .map(|(mut browser, (id, answer))| async move {
            browser
                .call(
                    "sign_in",
                    &[
                        ("login_name", "rex.admin"),
                        ("password", "wrong-password-200"),
                        ("captcha_id", &id),
                        ("captcha_answer", &answer),
                    ],
                )
                .await
        });
    let searches = async {
        let mut times = Vec::new();
        for _ in 0..40 {
            let answer = user
                .call_json("transactions/search", serde_json::json!({"filter": {}}))
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            times.push(answer.elapsed);
        }
        times
    };
    let (answers, mut times) = tokio::join!(futures::future::join_all(flood), searches);
    let grown_mib = resident_kib().saturating_sub(before) / 1024;

    times.sort();
    let p99 = times[times.len() * 99 / 100 - 1];
    assert!(
        p99 < std::time::Duration::from_millis(250),
        "search p99 {p99:?}"
    );
    let busy = answers
        .iter()
        .filter(|a| a.status == 503 && a.error() == AppError::Busy)
        .count();
    let refused = answers
        .iter()
        .filter(|a| a.status == 401 && a.error() == AppError::SignInRefused)
        .count();
    assert_eq!(busy + refused, 200, "each attempt refused or turned away");
    assert!(busy > 0, "the flood was held back");
    // One argon2 check at a time (19 MiB each): an unbounded one would take gigabytes.
    assert!(grown_mib < 200, "memory grew by {grown_mib} MiB");
}

async fn a_suspended_merchants_staff_are_signed_out_and_kept_out(backend: Backend) {
    let app = spawn_app_with(
        backend,
        AuthConfig {
            session_cache: std::time::Duration::ZERO,
            ..AuthConfig::default()
        },
    )
    .await;
    let mut browser = app
        .ready_browser("M20000018", "sam.finance", &[Role::Finance])
        .await;
    let merchant = operator(&app, "sam.finance").await.merchant_id;
    merchants::Entity::update_many()
        .col_expr(
            merchants::Column::Status,
            sea_orm::sea_query::Expr::value("suspended"),
        )
        .filter(merchants::Column::Id.eq(merchant))
        .exec(&app.db.conn)
        .await
        .expect("suspend");

    let me: Option<Me> = browser.call("me", &[]).await.json();
    assert!(me.is_none(), "the open session has ended");
    let refused = browser.sign_in("sam.finance", PASSWORD).await;
    assert_eq!(refused.error(), AppError::SignInRefused);
    assert!(app
        .audit_details("sign_in")
        .await
        .iter()
        .any(|d| d.contains("merchant_suspended")));
}
