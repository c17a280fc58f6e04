//! TOTP tokens: enrolment shown once and confirmed with a code, the secret sealed at rest,
//! a code accepted at most once (also under concurrent requests), and 5 wrong codes lock the token
//! for 15 minutes.

use chrono::Duration;
use futures::future::join_all;
use sea_orm::EntityTrait;

use app::api::token::{Enrolment, TokenState, TokenView};
use app::backend::entities::totp_tokens;
use app::backend::token::{code_at_step, secret_from_typing, step_of};
use app::domain::access::Role;
use app::error::{AppError, FieldProblem, Policy};

use crate::on_both_backends;
use crate::support::app::TestApp;
use crate::support::browser::Browser;
use crate::support::PASSWORD;
use crate::support::{spawn_app, Backend};

on_both_backends!(
    enrolment_shows_the_secret_once_and_needs_a_right_code,
    a_code_is_accepted_once_and_codes_do_not_go_back,
    concurrent_requests_with_one_code_succeed_once,
    five_wrong_codes_lock_the_token_for_fifteen_minutes,
    an_administrator_reset_lets_the_operator_enrol_again,
);

/// The code the operator's app shows now, `offset` steps away.
pub fn code(app: &TestApp, secret: &[u8], offset: i64) -> String {
    code_at_step(secret, step_of(app.clock.now().timestamp()) + offset)
}

/// A code that is none of the three accepted now.
fn wrong_code(app: &TestApp, secret: &[u8]) -> String {
    let accepted: Vec<String> = (-1..=1).map(|o| code(app, secret, o)).collect();
    (0..1_000_000)
        .map(|n| format!("{n:06}"))
        .find(|c| !accepted.contains(c))
        .expect("a wrong code")
}

pub async fn enrol(app: &TestApp, browser: &mut Browser<'_>) -> Vec<u8> {
    let enrolment: Enrolment = browser
        .call("begin_token_enrolment", &[("password", PASSWORD)])
        .await
        .json();
    let secret = secret_from_typing(&enrolment.secret).expect("base32 secret");
    let answer = browser
        .call(
            "confirm_token_enrolment",
            &[("code", &code(app, &secret, 0))],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    // The enrolment used the current step; the tests continue in the next one.
    app.clock.advance(Duration::seconds(30));
    secret
}

async fn enrolment_shows_the_secret_once_and_needs_a_right_code(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M40000001", "token.user", &[Role::RefundApprover])
        .await;
    let token: TokenView = browser.call("my_token", &[]).await.json();
    assert_eq!(token.state, TokenState::None);
    // Without a token, an action that needs a code is refused as such.
    let answer = browser.call("try_token_code", &[("code", "123456")]).await;
    assert_eq!(answer.error(), AppError::Policy(Policy::TokenNotEnrolled));

    let enrolment: Enrolment = browser
        .call("begin_token_enrolment", &[("password", PASSWORD)])
        .await
        .json();
    assert!(enrolment.qr_svg.contains("<svg"));
    assert_eq!(enrolment.account, "token.user");
    let secret = secret_from_typing(&enrolment.secret).expect("base32 secret");
    assert_eq!(secret.len(), 20);

    // At rest the secret is sealed: neither its bytes nor its base32 form are in the row.
    let row = totp_tokens::Entity::find()
        .one(&app.db.conn)
        .await
        .expect("query")
        .expect("pending token");
    assert_eq!(row.status, "pending");
    assert!(row.secret_ciphertext.starts_with("v1:"));
    assert!(!row
        .secret_ciphertext
        .contains(&enrolment.secret.replace(' ', "")));

    // A pending token is not a token yet.
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::TokenNotEnrolled));
    let answer = browser
        .call(
            "confirm_token_enrolment",
            &[("code", &wrong_code(&app, &secret))],
        )
        .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::CodeWrong)
    );
    let answer = browser
        .call("confirm_token_enrolment", &[("code", "12 34")])
        .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::Format)
    );

    let answer = browser
        .call(
            "confirm_token_enrolment",
            &[("code", &code(&app, &secret, 0))],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token: TokenView = browser.call("my_token", &[]).await.json();
    assert_eq!(token.state, TokenState::Active);
    assert!(token.enrolled_at.is_some());

    // The secret is not shown again: a new enrolment is refused while this token stands.
    let answer = browser
        .call("begin_token_enrolment", &[("password", PASSWORD)])
        .await;
    assert_eq!(
        answer.error(),
        AppError::Policy(Policy::TokenAlreadyEnrolled)
    );

    let enrolled = app.audit_details("token_enrol").await;
    assert_eq!(enrolled.len(), 2, "{enrolled:?}");
    assert!(enrolled[0].contains("\"reason\":\"wrong\""));
    assert!(enrolled[1].contains("\"purpose\":\"enrolment\""));
    assert!(enrolled
        .iter()
        .all(|d| !d.contains(&enrolment.secret.replace(' ', ""))));

    // Enrolling asks for the password again: a wrong one is refused before anything else, and
    // counts toward the lockout as at sign-in.
    let answer = browser
        .call(
            "begin_token_enrolment",
            &[("password", "not-my-password-1")],
        )
        .await;
    assert_eq!(
        answer.error().field_problem("password"),
        Some(FieldProblem::WrongPassword)
    );
    assert_eq!(app.operator_row("token.user").await.failed_login_count, 1);
    let answer = browser.call("begin_token_enrolment", &[]).await;
    assert_eq!(answer.status, 422);
}

async fn a_code_is_accepted_once_and_codes_do_not_go_back(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M40000002", "replay.user", &[Role::RefundApprover])
        .await;
    let secret = enrol(&app, &mut browser).await;

    let now = code(&app, &secret, 0);
    let answer = browser.call("try_token_code", &[("code", &now)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let answer = browser.call("try_token_code", &[("code", &now)]).await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::CodeUsed)
    );
    // The previous step's code is still within the window, but older than the one used.
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, -1))])
        .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::CodeUsed)
    );
    // The next step's code (a phone clock slightly ahead) is accepted once.
    let next = code(&app, &secret, 1);
    let answer = browser.call("try_token_code", &[("code", &next)]).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    app.clock.advance(Duration::seconds(30));
    let answer = browser.call("try_token_code", &[("code", &next)]).await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::CodeUsed)
    );
    // Two steps back is outside the window: simply wrong.
    app.clock.advance(Duration::seconds(60));
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, -2))])
        .await;
    assert_eq!(
        answer.error(),
        AppError::invalid("code", FieldProblem::CodeWrong)
    );
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let checks = app.audit_details("token_check").await;
    assert_eq!(
        checks
            .iter()
            .filter(|d| d.contains("\"reason\":\"replay\""))
            .count(),
        3
    );
}

async fn concurrent_requests_with_one_code_succeed_once(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M40000003", "race.user", &[Role::RefundApprover])
        .await;
    let secret = enrol(&app, &mut browser).await;
    for round in 0..3 {
        let code = code(&app, &secret, 0);
        let mut tabs: Vec<Browser<'_>> = (0..20).map(|_| browser.twin()).collect();
        let answers = join_all(tabs.iter_mut().map(|tab| {
            let code = code.clone();
            async move { tab.call("try_token_code", &[("code", &code)]).await }
        }))
        .await;
        let accepted = answers.iter().filter(|a| a.status == 200).count();
        assert_eq!(accepted, 1, "round {round}: {answers:?}");
        for answer in answers.iter().filter(|a| a.status != 200) {
            assert_eq!(
                answer.error(),
                AppError::invalid("code", FieldProblem::CodeUsed)
            );
        }
        app.clock.advance(Duration::seconds(30));
    }
}

async fn five_wrong_codes_lock_the_token_for_fifteen_minutes(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut browser = app
        .ready_browser("M40000004", "lock.user", &[Role::RefundApprover])
        .await;
    let secret = enrol(&app, &mut browser).await;

    // Wrong codes that are not in a row do not add up: a right code starts the count again.
    for _ in 0..4 {
        let answer = browser
            .call("try_token_code", &[("code", &wrong_code(&app, &secret))])
            .await;
        assert_eq!(
            answer.error(),
            AppError::invalid("code", FieldProblem::CodeWrong)
        );
    }
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    app.clock.advance(Duration::seconds(30));

    for attempt in 1..=5 {
        let answer = browser
            .call("try_token_code", &[("code", &wrong_code(&app, &secret))])
            .await;
        let expected = if attempt < 5 {
            AppError::invalid("code", FieldProblem::CodeWrong)
        } else {
            AppError::Policy(Policy::TokenLocked)
        };
        assert_eq!(answer.error(), expected, "attempt {attempt}");
    }
    let token: TokenView = browser.call("my_token", &[]).await.json();
    assert_eq!(token.state, TokenState::Locked);
    assert!(token.locked_until.is_some());
    // While locked even the right code is refused …
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::TokenLocked));
    app.clock.advance(Duration::minutes(14));
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::TokenLocked));
    // … and 15 minutes after the lock it works again.
    app.clock.advance(Duration::minutes(1));
    let answer = browser
        .call("try_token_code", &[("code", &code(&app, &secret, 0))])
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let token: TokenView = browser.call("my_token", &[]).await.json();
    assert_eq!(token.state, TokenState::Active);

    let checks = app.audit_details("token_check").await;
    assert_eq!(
        checks.iter().filter(|d| d.contains("locked_until")).count(),
        1,
        "{checks:?}"
    );
    assert_eq!(
        checks
            .iter()
            .filter(|d| d.contains("\"reason\":\"locked\""))
            .count(),
        2
    );
}

async fn an_administrator_reset_lets_the_operator_enrol_again(backend: Backend) {
    let app = spawn_app(backend).await;
    let mut admin = app
        .ready_browser("M40000005", "reset.admin", &[Role::Administrator])
        .await;
    let mut user = app
        .ready_browser("M40000005", "reset.user", &[Role::RefundApprover])
        .await;
    let old_secret = enrol(&app, &mut user).await;
    let user_id = app.operator_id("reset.user").await;
    let answer = admin
        .call(
            "admin/operator_reset_token",
            &[("id", &user_id.to_string())],
        )
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);

    let token: TokenView = user.call("my_token", &[]).await.json();
    assert_eq!(token.state, TokenState::None);
    let answer = user
        .call("try_token_code", &[("code", &code(&app, &old_secret, 0))])
        .await;
    assert_eq!(answer.error(), AppError::Policy(Policy::TokenNotEnrolled));
    let new_secret = enrol(&app, &mut user).await;
    assert_ne!(new_secret, old_secret);
}
