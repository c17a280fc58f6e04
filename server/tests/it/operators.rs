//! Operator management by a merchant's administrator (manual §3.7.2).

use serde_json::json;

use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};

use app::api::auth::Me;
use app::api::operators::{
    OneTimePassword, OperatorDetail, OperatorForm, OperatorFormOptions, OperatorRow,
};
use app::backend::entities::{operator_certificates, operator_roles, operators, sessions};
use app::backend::{services, Session};
use app::domain::access::{functions_of, Role};
use app::domain::{DataScope, OperatorStatus};
use app::error::{AppError, FieldProblem, Policy};
use chrono::Utc;

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::Browser;
use crate::support::{spawn_app, Backend, FIRST_PASSWORD, PASSWORD};

fn form(name: &str, roles: &[Role]) -> serde_json::Value {
    json!({ "display_name": name, "roles": roles, "scope": "merchant", "group_ids": [] })
}

async fn create(admin: &mut Browser<'_>, login: &str, roles: &[Role]) -> OneTimePassword {
    let answer = admin
        .call_json(
            "admin/operator_create",
            json!({ "login_name": login, "form": form(&format!("New {login}"), roles) }),
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    answer.json()
}

async fn operator_row(app: &TestApp, login: &str) -> operators::Model {
    app.operator_row(login).await
}

/// The operator's browser: their certificate is shown to the console once (the sign-in page), then
/// the administrator binds it by its fingerprint.
async fn bound_browser<'a>(
    app: &'a TestApp,
    admin: &mut Browser<'_>,
    login: &str,
    id: i64,
) -> Browser<'a> {
    let cert = app.pki.client(login);
    let mut browser = app.browser(&cert);
    browser.call("sign_in_form", &[]).await;
    let id = id.to_string();
    let bound = admin
        .call(
            "admin/operator_bind",
            &[
                ("id", &id),
                ("fingerprint", &cert.fingerprint.to_uppercase()),
            ],
        )
        .await;
    assert_eq!(bound.status, 200, "{}", bound.body);
    browser
}

on_both_backends!(
    an_added_operator_signs_in_with_the_one_time_password_and_sees_only_their_menu,
    bad_operator_input_is_refused_and_nothing_is_written,
    an_administrator_cannot_disable_or_demote_themself,
    disabling_resetting_and_unlocking_take_effect_at_once,
    certificates_are_bound_by_fingerprint_once,
    another_merchants_operators_are_out_of_reach,
    the_last_active_administrator_stays_even_in_a_race,
);

async fn an_added_operator_signs_in_with_the_one_time_password_and_sees_only_their_menu(
    backend: Backend,
) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000001", "one.admin", &[Role::Administrator])
        .await;

    let created = create(&mut admin, "one.monitor", &[Role::Monitor, Role::Finance]).await;
    assert_eq!(created.password.len(), 16);
    let mut monitor = bound_browser(&app, &mut admin, "one.monitor", created.operator_id).await;

    let outcome = monitor.signed_in("one.monitor", &created.password).await;
    assert!(outcome.must_change_password);
    let changed = monitor
        .change_password(&created.password, PASSWORD, PASSWORD)
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
    let me: Option<Me> = monitor.call("me", &[]).await.json();
    let me = me.expect("signed in");
    assert_eq!(me.roles, vec![Role::Finance, Role::Monitor]);
    let page = monitor.page("/").await.body;
    assert!(
        !page.contains("href=\"/admin/"),
        "no system management in their menu"
    );
    let refused = monitor.call("admin/operators", &[("search", "")]).await;
    assert_eq!(refused.error(), AppError::Forbidden);

    let rows: Vec<OperatorRow> = admin
        .call("admin/operators", &[("search", "monitor")])
        .await
        .json();
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].login_name, "one.monitor");
    assert_eq!(rows[0].certificates, 1);
    assert!(!app.audit_details("operator_create").await.is_empty());
    assert!(app
        .audit_details("certificate_bind")
        .await
        .iter()
        .any(|d| d.contains("one.monitor")));
}

async fn bad_operator_input_is_refused_and_nothing_is_written(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000002", "two.admin", &[Role::Administrator])
        .await;
    let before = operators::Entity::find()
        .count(&app.db.conn)
        .await
        .expect("count");

    let cases = [
        (
            json!({ "login_name": "has space", "form": form("A", &[Role::Monitor]) }),
            "login_name",
            FieldProblem::Format,
        ),
        (
            json!({ "login_name": "two.admin", "form": form("A", &[Role::Monitor]) }),
            "login_name",
            FieldProblem::Taken,
        ),
        (
            json!({ "login_name": "two.x", "form": form("  ", &[Role::Monitor]) }),
            "display_name",
            FieldProblem::Required,
        ),
        (
            json!({ "login_name": "two.x", "form": form("A", &[]) }),
            "roles",
            FieldProblem::Required,
        ),
        (
            json!({ "login_name": "two.x", "form": { "display_name": "A", "roles": ["monitor"], "scope": "groups", "group_ids": [] } }),
            "group_ids",
            FieldProblem::Required,
        ),
        (
            json!({ "login_name": "two.x", "form": { "display_name": "A", "roles": ["monitor"], "scope": "groups", "group_ids": [424242] } }),
            "group_ids",
            FieldProblem::Format,
        ),
    ];
    for (body, field, problem) in cases {
        let answer = admin.call_json("admin/operator_create", body.clone()).await;
        assert_eq!(answer.status, 422, "{body}: {}", answer.body);
        assert_eq!(answer.error().field_problem(field), Some(problem), "{body}");
    }
    let after = operators::Entity::find()
        .count(&app.db.conn)
        .await
        .expect("count");
    assert_eq!(before, after);
}

async fn an_administrator_cannot_disable_or_demote_themself(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000003", "three.admin", &[Role::Administrator])
        .await;
    let me = operator_row(&app, "three.admin").await;
    let id = me.id.to_string();

    let refused = admin
        .call(
            "admin/operator_enabled",
            &[("id", &id), ("enabled", "false")],
        )
        .await;
    assert_eq!(refused.error(), AppError::Policy(Policy::SelfDisable));
    let refused = admin
        .call_json(
            "admin/operator_update",
            json!({ "id": me.id, "form": form("Me", &[Role::Finance]) }),
        )
        .await;
    assert_eq!(refused.error(), AppError::Policy(Policy::SelfDemote));
    assert_eq!(operator_row(&app, "three.admin").await.status, "active");

    // A second administrator may be demoted; the last one is then protected from the other side too
    // (the race of two administrators demoting each other is refused at the service).
    let second = create(&mut admin, "three.second", &[Role::Administrator]).await;
    let demoted = admin
        .call_json(
            "admin/operator_update",
            json!({ "id": second.operator_id, "form": form("Second", &[Role::Finance]) }),
        )
        .await;
    assert_eq!(demoted.status, 200, "{}", demoted.body);
    let roles: OperatorDetail = admin
        .call("admin/operator", &[("id", &second.operator_id.to_string())])
        .await
        .json();
    assert_eq!(roles.roles, vec![Role::Finance]);
    assert!(app
        .audit_details("operator_roles")
        .await
        .iter()
        .any(|d| d.contains("\"before\":[\"administrator\"]")));
}

async fn disabling_resetting_and_unlocking_take_effect_at_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000004", "four.admin", &[Role::Administrator])
        .await;
    let mut clerk = app
        .ready_browser("M40000004", "four.clerk", &[Role::Monitor])
        .await;
    let clerk_id = operator_row(&app, "four.clerk").await.id.to_string();

    // Disabled: the open session ends, sign-in is refused.
    let answer = admin
        .call(
            "admin/operator_enabled",
            &[("id", &clerk_id), ("enabled", "false")],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(clerk.page("/").await.body, "/login");
    assert_eq!(
        clerk.sign_in("four.clerk", PASSWORD).await.error(),
        AppError::SignInRefused
    );
    admin
        .call(
            "admin/operator_enabled",
            &[("id", &clerk_id), ("enabled", "true")],
        )
        .await;
    clerk.signed_in("four.clerk", PASSWORD).await;

    // Reset: a new one-time password, the old one and the old session stop working.
    let reset: OneTimePassword = admin
        .call("admin/operator_reset_password", &[("id", &clerk_id)])
        .await
        .json();
    assert_eq!(clerk.page("/").await.body, "/login");
    assert_eq!(
        clerk.sign_in("four.clerk", PASSWORD).await.error(),
        AppError::SignInRefused
    );
    let outcome = clerk.signed_in("four.clerk", &reset.password).await;
    assert!(outcome.must_change_password);

    // Locked by failures, unlocked by the administrator.
    for _ in 0..5 {
        clerk.sign_in("four.clerk", "wrong-password-00").await;
    }
    assert_eq!(operator_row(&app, "four.clerk").await.status, "locked");
    let detail: OperatorDetail = admin
        .call("admin/operator", &[("id", &clerk_id)])
        .await
        .json();
    assert_eq!(detail.status, OperatorStatus::Locked);
    assert!(detail.locked_until.is_some());
    let answer = admin
        .call("admin/operator_unlock", &[("id", &clerk_id)])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    clerk.signed_in("four.clerk", &reset.password).await;
    let again = admin
        .call("admin/operator_unlock", &[("id", &clerk_id)])
        .await;
    assert_eq!(again.error(), AppError::Conflict, "not locked any more");
    for action in [
        "operator_disable",
        "operator_enable",
        "password_reset",
        "operator_unlock",
    ] {
        assert_eq!(app.audit_details(action).await.len(), 1, "{action}");
    }
}

async fn certificates_are_bound_by_fingerprint_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000005", "five.admin", &[Role::Administrator])
        .await;
    let created = create(&mut admin, "five.new", &[Role::Monitor]).await;
    let id = created.operator_id.to_string();

    // A fingerprint the console has never seen, and a malformed one.
    let never_seen = "ab".repeat(32);
    let refused = admin
        .call(
            "admin/operator_bind",
            &[("id", &id), ("fingerprint", &never_seen)],
        )
        .await;
    assert_eq!(
        refused.error(),
        AppError::Policy(Policy::CertificateUnknown)
    );
    let refused = admin
        .call(
            "admin/operator_bind",
            &[("id", &id), ("fingerprint", "12:34")],
        )
        .await;
    assert_eq!(
        refused.error().field_problem("fingerprint"),
        Some(FieldProblem::Format)
    );

    // The administrator's own certificate is bound to them already.
    let own = admin
        .call("home", &[])
        .await
        .json::<app::api::home::HomeView>();
    let refused = admin
        .call(
            "admin/operator_bind",
            &[("id", &id), ("fingerprint", &own.certificate.fingerprint)],
        )
        .await;
    assert_eq!(
        refused.error(),
        AppError::Policy(Policy::CertificateBoundElsewhere)
    );

    // Certificates that reached the console but were not issued for this merchant's staff: one for
    // another merchant's operator and one for a name nobody has get the same answer.
    app.operator("M40000015", "five.elsewhere", &[Role::Monitor])
        .await;
    for subject in ["five.elsewhere", "nobody.at.all"] {
        let foreign = reissue(&app, subject);
        app.browser(&foreign).call("sign_in_form", &[]).await;
        let refused = admin
            .call(
                "admin/operator_bind",
                &[("id", &id), ("fingerprint", &foreign.fingerprint)],
            )
            .await;
        assert_eq!(
            refused.error(),
            AppError::Policy(Policy::CertificateNotForMerchant),
            "{subject}"
        );
    }

    let mut newcomer = bound_browser(&app, &mut admin, "five.new", created.operator_id).await;
    newcomer.signed_in("five.new", &created.password).await;

    // Unbinding ends the sessions opened with that certificate.
    let detail: OperatorDetail = admin.call("admin/operator", &[("id", &id)]).await.json();
    assert_eq!(detail.certificates.len(), 1);
    let fp = detail.certificates[0].fingerprint.clone();
    let answer = admin
        .call(
            "admin/operator_unbind",
            &[("id", &id), ("fingerprint", &fp)],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(newcomer.page("/").await.body, "/login");
    let open = sessions::Entity::find()
        .filter(sessions::Column::CertFingerprint.eq(fp.as_str()))
        .filter(sessions::Column::EndedAt.is_null())
        .count(&app.db.conn)
        .await
        .expect("count");
    assert_eq!(open, 0);
    assert_eq!(
        newcomer
            .sign_in("five.new", &created.password)
            .await
            .error(),
        AppError::SignInRefused
    );

    // A second certificate issued for the newcomer, expired or revoked since it was seen.
    let stale = reissue(&app, "five.new");
    app.browser(&stale).call("sign_in_form", &[]).await;
    for (column, value) in [
        (
            operator_certificates::Column::NotAfter,
            app.clock.now() - chrono::Duration::days(1),
        ),
        (operator_certificates::Column::RevokedAt, app.clock.now()),
    ] {
        operator_certificates::Entity::update_many()
            .col_expr(column, sea_orm::sea_query::Expr::value(value))
            .filter(operator_certificates::Column::FingerprintSha256.eq(&stale.fingerprint))
            .exec(&app.db.conn)
            .await
            .expect("age the certificate");
        let refused = admin
            .call(
                "admin/operator_bind",
                &[("id", &id), ("fingerprint", &stale.fingerprint)],
            )
            .await;
        assert_eq!(
            refused.error(),
            AppError::Policy(Policy::CertificateNotValid)
        );
    }
}

/// A new certificate for `subject`, whether or not one was issued before.
fn reissue(app: &TestApp, subject: &str) -> server::pki::IssuedCert {
    app.pki
        .pki
        .issue_client(
            subject,
            Some("Test"),
            30,
            Some(secrecy::SecretString::from(
                crate::support::pki::P12_PASSWORD.to_owned(),
            )),
            true,
        )
        .expect("client certificate")
}

async fn another_merchants_operators_are_out_of_reach(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin_a = app
        .ready_browser("M40000006", "six.admin", &[Role::Administrator])
        .await;
    app.ready_browser("M40000007", "seven.admin", &[Role::Administrator])
        .await;
    let victim = app
        .operator("M40000007", "seven.clerk", &[Role::Monitor])
        .await;
    let before = operator_row(&app, "seven.clerk").await;
    let id = before.id.to_string();

    let listed: Vec<OperatorRow> = admin_a
        .call("admin/operators", &[("search", "")])
        .await
        .json();
    assert!(
        listed.iter().all(|r| r.login_name.starts_with("six.")),
        "{listed:?}"
    );
    let attempts = [
        admin_a.call("admin/operator", &[("id", &id)]).await,
        admin_a
            .call_json(
                "admin/operator_update",
                json!({ "id": before.id, "form": form("Mine", &[Role::Administrator]) }),
            )
            .await,
        admin_a
            .call(
                "admin/operator_enabled",
                &[("id", &id), ("enabled", "false")],
            )
            .await,
        admin_a.call("admin/operator_unlock", &[("id", &id)]).await,
        admin_a
            .call("admin/operator_reset_password", &[("id", &id)])
            .await,
        admin_a
            .call(
                "admin/operator_bind",
                &[("id", &id), ("fingerprint", &victim.fingerprint)],
            )
            .await,
        admin_a
            .call(
                "admin/operator_unbind",
                &[("id", &id), ("fingerprint", &victim.fingerprint)],
            )
            .await,
        admin_a
            .call("admin/operator_reset_token", &[("id", &id)])
            .await,
    ];
    for answer in attempts {
        assert_eq!(answer.error(), AppError::NotFound, "{}", answer.body);
        assert!(!answer.body.contains("seven.clerk"));
    }
    let after = operator_row(&app, "seven.clerk").await;
    assert_eq!(before, after, "another merchant's operator changed");
    // Their certificate still signs them in with their own password.
    app.browser(&victim)
        .signed_in("seven.clerk", FIRST_PASSWORD)
        .await;

    // Creating an operator tells nothing of another merchant's login names: whatever is typed is
    // made in this merchant's namespace, so the other merchant's name is simply free here …
    let made = create(&mut admin_a, "seven.clerk", &[Role::Monitor]).await;
    let made = operators::Entity::find_by_id(made.operator_id)
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("made");
    assert_eq!(made.login_name, "six.seven.clerk");
    // … and a name is "taken" only when this merchant already has it.
    let taken = admin_a
        .call_json(
            "admin/operator_create",
            json!({ "login_name": "seven.clerk", "form": form("Again", &[Role::Monitor]) }),
        )
        .await;
    assert_eq!(
        taken.error().field_problem("login_name"),
        Some(FieldProblem::Taken)
    );
    let options: OperatorFormOptions = admin_a.call("admin/new_operator", &[]).await.json();
    assert_eq!(options.login_prefix, "six");
}

async fn the_last_active_administrator_stays_even_in_a_race(backend: Backend) {
    let app = spawn_app(backend).await;
    app.operator("M40000008", "race.a", &[Role::Administrator])
        .await;
    app.operator("M40000008", "race.b", &[Role::Administrator])
        .await;
    let a = operator_row(&app, "race.a").await;
    let b = operator_row(&app, "race.b").await;
    // B demoted A a moment ago, as the database now says, while a request of A's was already past the
    // role check: A may not now disable or demote B, the last administrator.
    operator_roles::Entity::delete_many()
        .filter(operator_roles::Column::OperatorId.eq(a.id))
        .exec(&app.db.conn)
        .await
        .expect("demote A");
    let session_of_a = Session {
        token_hash: "0".repeat(64),
        operator_id: a.id,
        merchant_id: a.merchant_id,
        login_name: a.login_name.clone(),
        display_name: a.display_name.clone(),
        roles: vec![Role::Administrator],
        functions: functions_of(&[Role::Administrator]),
        scope: DataScope::Merchant,
        group_ids: Vec::new(),
        must_change_password: false,
        cert_fingerprint: "0".repeat(64),
        remote_addr: "127.0.0.1".into(),
        tz: chrono_tz::Asia::Shanghai,
        currency: app::domain::Currency::Cny,
    };

    let disable =
        services::operators::set_enabled(&app.db.conn, &session_of_a, b.id, false, Utc::now())
            .await;
    assert_eq!(disable, Err(AppError::Policy(Policy::LastAdministrator)));
    let demote_form = OperatorForm {
        display_name: "B".into(),
        roles: vec![Role::Finance],
        scope: DataScope::Merchant,
        group_ids: Vec::new(),
        approval_limit: String::new(),
    };
    let demote = services::operators::update_operator(
        &app.db.conn,
        &session_of_a,
        b.id,
        &demote_form,
        Utc::now(),
    )
    .await;
    assert_eq!(demote, Err(AppError::Policy(Policy::LastAdministrator)));
    assert_eq!(operator_row(&app, "race.b").await, b, "B is unchanged");
}
