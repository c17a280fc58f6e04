//! The audit log as administrators read it: their merchant's events, filtered, newest first, a page at
//! a time (keyset on the event number), and the same selection as an Excel download.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect, Select, TransactionTrait,
};
use serde_json::json;

use super::filters::{starts_with_pattern, FieldCheck};
use crate::backend::audit::{self, AuditEntry};
use crate::backend::entities::audit_events;
use crate::backend::export::{Cell, Column, XlsxExport};
use crate::backend::local_time::{self, day_start};
use crate::backend::Session;
use crate::contract::audit::{
    AuditFilter, AuditPage, AuditRow, DetailItem, DetailValue, ObjectKind, ObjectRef,
};
use crate::domain::{AuditAction, AuditOutcome};
use crate::error::{AppError, Policy};
use crate::i18n::{Label, Lang};

pub const PAGE_SIZE: u64 = 50;
/// Events in one download; more must be narrowed by the filters.
pub const EXPORT_LIMIT: u64 = 100_000;
/// Rows read from the database at a time while writing a download.
const EXPORT_BATCH: u64 = 2_000;

/// The filters, parsed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuditQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub operator: Option<String>,
    pub action: Option<AuditAction>,
    pub outcome: Option<AuditOutcome>,
    pub before: Option<i64>,
}

impl AuditQuery {
    /// Checks every field and reports every bad one at once.
    pub fn parse(filter: &AuditFilter) -> Result<Self, AppError> {
        let mut check = FieldCheck::new();
        let (from, to) = check.date_range(("from", &filter.from), ("to", &filter.to));
        let operator = check.text(&filter.operator, 64);
        let action = check.code("action", &filter.action, AuditAction::from_code);
        let outcome = check.code("outcome", &filter.outcome, AuditOutcome::from_code);
        let before = check.id("before", &filter.before);
        check.finish()?;
        Ok(Self {
            from,
            to,
            operator,
            action,
            outcome,
            before,
        })
    }

    /// The filters in words, for the download's filter sheet.
    fn described(&self, lang: Lang) -> Vec<(String, String)> {
        let t = lang.texts();
        let any = t.audit_any.to_owned();
        vec![
            (
                t.audit_from.to_owned(),
                self.from.map_or(any.clone(), |d| d.to_string()),
            ),
            (
                t.audit_to.to_owned(),
                self.to.map_or(any.clone(), |d| d.to_string()),
            ),
            (
                t.audit_operator.to_owned(),
                self.operator.clone().unwrap_or(any.clone()),
            ),
            (
                t.audit_action.to_owned(),
                self.action
                    .map_or(any.clone(), |a| a.label(lang).to_owned()),
            ),
            (
                t.audit_outcome.to_owned(),
                self.outcome.map_or(any, |o| o.label(lang).to_owned()),
            ),
        ]
    }
}

/// The one selection both the page and the download use: the session's merchant only, then the
/// filters.
fn selection(session: &Session, query: &AuditQuery, tz: Tz) -> Select<audit_events::Entity> {
    let mut select = audit_events::Entity::find()
        .filter(audit_events::Column::MerchantId.eq(session.merchant_id));
    if let Some(from) = query.from.map(|d| day_start(d, tz)) {
        select = select.filter(audit_events::Column::OccurredAt.gte(from));
    }
    if let Some(end) = query
        .to
        .and_then(|d| d.succ_opt())
        .map(|d| day_start(d, tz))
    {
        select = select.filter(audit_events::Column::OccurredAt.lt(end));
    }
    if let Some(login) = &query.operator {
        select = select
            .filter(Expr::col(audit_events::Column::LoginName).like(starts_with_pattern(login)));
    }
    if let Some(action) = query.action {
        select = select.filter(audit_events::Column::Action.eq(action.code()));
    }
    if let Some(outcome) = query.outcome {
        select = select.filter(audit_events::Column::Outcome.eq(outcome.code()));
    }
    select
}

pub async fn page(
    db: &impl ConnectionTrait,
    session: &Session,
    query: &AuditQuery,
) -> Result<AuditPage, AppError> {
    let tz = session.tz;
    let total = selection(session, query, tz).count(db).await?;
    let mut select = selection(session, query, tz);
    if let Some(before) = query.before {
        select = select.filter(audit_events::Column::Id.lt(before));
    }
    let mut events = select
        .order_by_desc(audit_events::Column::Id)
        .limit(PAGE_SIZE + 1)
        .all(db)
        .await?;
    let more = events.len() as u64 > PAGE_SIZE;
    events.truncate(PAGE_SIZE as usize);
    let next_before = more.then(|| events.last().map(|e| e.id)).flatten();
    Ok(AuditPage {
        rows: events.into_iter().map(|e| row(e, tz)).collect(),
        total,
        next_before,
        export_limit: EXPORT_LIMIT,
    })
}

fn row(event: audit_events::Model, tz: Tz) -> AuditRow {
    AuditRow {
        id: event.id,
        at: local_time::minutes(event.occurred_at, tz),
        login_name: event.login_name,
        action: AuditAction::from_code(&event.action),
        action_code: event.action,
        outcome: AuditOutcome::from_code(&event.outcome),
        object: object_text(event.object_type.as_deref(), event.object_id.as_deref()),
        object_ref: object_ref(event.object_type.as_deref(), event.object_id.as_deref()),
        remote_addr: event.remote_addr,
        certificate: event.cert_fingerprint.map(|f| f.chars().take(16).collect()),
        detail_items: event
            .detail
            .as_deref()
            .map(|d| detail_items(d, tz))
            .unwrap_or_default(),
        detail: event.detail,
    }
}

fn object_ref(kind: Option<&str>, id: Option<&str>) -> Option<ObjectRef> {
    Some(ObjectRef {
        kind: ObjectKind::from_code(kind?)?,
        id: id?.parse().ok()?,
    })
}

/// An event's detail (a JSON object, as the services record it) read field by field: amounts by their
/// `_fen` names, moments into the merchant's time zone, ids of records as links, `{before, after}` as
/// a change. A detail that is not an object is one item of its own.
pub(crate) fn detail_items(detail: &str, tz: Tz) -> Vec<DetailItem> {
    match serde_json::from_str::<serde_json::Value>(detail) {
        Ok(serde_json::Value::Object(fields)) => fields
            .into_iter()
            .map(|(key, value)| {
                let value = detail_value(&key, value, tz);
                DetailItem { key, value }
            })
            .collect(),
        Ok(other) => vec![DetailItem {
            key: String::new(),
            value: DetailValue::Other(other.to_string()),
        }],
        Err(_) => vec![DetailItem {
            key: String::new(),
            value: DetailValue::Text(detail.to_owned()),
        }],
    }
}

fn detail_value(key: &str, value: serde_json::Value, tz: Tz) -> DetailValue {
    use serde_json::Value;
    match value {
        Value::Object(mut change)
            if change.contains_key("before") && change.contains_key("after") =>
        {
            let before = change.remove("before").unwrap_or(Value::Null);
            let after = change.remove("after").unwrap_or(Value::Null);
            DetailValue::Change(
                Box::new(detail_value(key, before, tz)),
                Box::new(detail_value(key, after, tz)),
            )
        }
        Value::Number(n) => match (n.as_i64(), ObjectKind::from_code(key)) {
            (Some(fen), _) if key.ends_with("_fen") => DetailValue::Money(fen),
            (Some(id), Some(kind)) => DetailValue::Record(ObjectRef { kind, id }),
            (Some(n), None) => DetailValue::Number(n),
            (None, _) => DetailValue::Other(n.to_string()),
        },
        Value::Bool(b) => DetailValue::Flag(b),
        Value::String(text) => match DateTime::parse_from_rfc3339(&text) {
            Ok(at) => DetailValue::Time(local_time::minutes(at.with_timezone(&Utc), tz)),
            Err(_) => DetailValue::Text(text),
        },
        other => DetailValue::Other(other.to_string()),
    }
}

fn object_text(kind: Option<&str>, id: Option<&str>) -> Option<String> {
    match (kind, id) {
        (Some(kind), Some(id)) => Some(format!("{kind} #{id}")),
        (Some(kind), None) => Some(kind.to_owned()),
        (None, Some(id)) => Some(id.to_owned()),
        (None, None) => None,
    }
}

/// A download of the events the filters select (without the page cursor), as an `.xlsx` file, and
/// its file name. Recorded in the audit log itself.
pub async fn export<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    session: &Session,
    query: &AuditQuery,
    lang: Lang,
    now: DateTime<Utc>,
) -> Result<(String, Vec<u8>), AppError> {
    let query = AuditQuery {
        before: None,
        ..query.clone()
    };
    let tz = session.tz;
    let total = selection(session, &query, tz).count(db).await?;
    if total > EXPORT_LIMIT {
        return Err(AppError::Policy(Policy::ExportTooLarge));
    }
    let t = lang.texts();
    let columns = [
        (t.audit_col_id, 10.0),
        (t.audit_col_time, 20.0),
        (t.audit_col_operator, 18.0),
        (t.audit_col_action, 16.0),
        (t.audit_col_outcome, 10.0),
        (t.audit_col_object, 16.0),
        (t.audit_col_address, 16.0),
        (t.audit_col_certificate, 66.0),
        (t.audit_col_detail, 60.0),
    ]
    .map(|(header, width)| Column { header, width });
    let mut file = XlsxExport::new(t.audit_sheet, &columns).map_err(internal)?;
    let mut cursor: Option<i64> = None;
    loop {
        let mut select = selection(session, &query, tz);
        if let Some(before) = cursor {
            select = select.filter(audit_events::Column::Id.lt(before));
        }
        let batch = select
            .order_by_desc(audit_events::Column::Id)
            .limit(EXPORT_BATCH)
            .all(db)
            .await?;
        let Some(last) = batch.last().map(|e| e.id) else {
            break;
        };
        for event in batch {
            let action = AuditAction::from_code(&event.action)
                .map_or(event.action.clone(), |a| a.label(lang).to_owned());
            let outcome = AuditOutcome::from_code(&event.outcome)
                .map_or(event.outcome.clone(), |o| o.label(lang).to_owned());
            file.push(&[
                Cell::Integer(event.id),
                Cell::DateTime(local_time::naive(event.occurred_at, tz)),
                event.login_name.into(),
                action.into(),
                outcome.into(),
                object_text(event.object_type.as_deref(), event.object_id.as_deref()).into(),
                event.remote_addr.into(),
                event.cert_fingerprint.into(),
                event.detail.into(),
            ])
            .map_err(internal)?;
        }
        cursor = Some(last);
    }
    let rows = file.rows();
    let bytes = file
        .finish(t.audit_filters_sheet, &query.described(lang))
        .map_err(internal)?;
    let entry = AuditEntry::new(
        session.actor(),
        AuditAction::AuditExport,
        AuditOutcome::Success,
    )
    .detail(json!({
        "rows": rows,
        "from": query.from,
        "to": query.to,
        "operator": query.operator,
        "action": query.action.map(AuditAction::code),
        "outcome": query.outcome.map(AuditOutcome::code),
    }));
    audit::record(db, entry, now).await?;
    let name = local_time::file_name("audit-log", now, tz, "xlsx");
    Ok((name, bytes))
}

fn internal(err: crate::backend::export::ExportError) -> AppError {
    AppError::internal("writing the audit log download", &err)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::FieldProblem;

    fn filter(from: &str, to: &str) -> AuditFilter {
        AuditFilter {
            from: from.into(),
            to: to.into(),
            ..AuditFilter::default()
        }
    }

    #[test]
    fn filters_parse_or_name_every_bad_field() {
        let ok = AuditQuery::parse(&AuditFilter {
            action: "sign_in".into(),
            outcome: "failure".into(),
            operator: " hualian ".into(),
            ..filter("2026-11-01", "2026-11-22")
        })
        .expect("valid");
        assert_eq!(ok.action, Some(AuditAction::SignIn));
        assert_eq!(ok.outcome, Some(AuditOutcome::Failure));
        assert_eq!(ok.operator.as_deref(), Some("hualian"));

        let err = AuditQuery::parse(&AuditFilter {
            action: "drop table".into(),
            before: "-3".into(),
            ..filter("2026-13-01", "yesterday")
        })
        .expect_err("invalid");
        for field in ["from", "to", "action", "before"] {
            assert_eq!(
                err.field_problem(field),
                Some(FieldProblem::Format),
                "{field}"
            );
        }
        let reversed =
            AuditQuery::parse(&filter("2026-11-22", "2026-11-01")).expect_err("reversed");
        assert_eq!(
            reversed.field_problem("to"),
            Some(FieldProblem::RangeReversed)
        );
    }
}

#[cfg(test)]
mod detail_tests {
    use super::*;

    fn items(detail: &str) -> Vec<(String, DetailValue)> {
        detail_items(detail, chrono_tz::Asia::Shanghai)
            .into_iter()
            .map(|i| (i.key, i.value))
            .collect()
    }

    #[test]
    fn fields_are_read_by_kind() {
        let read = items(
            r#"{"txn_id": 42, "amount_fen": 3590, "reason": "wrong_amount", "second_approver_needed": false,
                "failures": 5, "until": "2026-12-06T02:30:00Z", "settlement": 7}"#,
        );
        let expect = |key: &str| read.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
        let record = |kind, id| Some(DetailValue::Record(ObjectRef { kind, id }));
        assert_eq!(expect("txn_id"), record(ObjectKind::Transaction, 42));
        assert_eq!(expect("settlement"), record(ObjectKind::Settlement, 7));
        assert_eq!(expect("amount_fen"), Some(DetailValue::Money(3590)));
        assert_eq!(
            expect("reason"),
            Some(DetailValue::Text("wrong_amount".into()))
        );
        assert_eq!(
            expect("second_approver_needed"),
            Some(DetailValue::Flag(false))
        );
        assert_eq!(expect("failures"), Some(DetailValue::Number(5)));
        // Moments in the merchant's time zone (UTC+8).
        assert_eq!(
            expect("until"),
            Some(DetailValue::Time("2026-12-06 10:30".into()))
        );
    }

    #[test]
    fn a_change_reads_before_and_after() {
        let read = items(r#"{"approval_limit_fen": {"before": null, "after": 100000}}"#);
        assert_eq!(
            read,
            [(
                "approval_limit_fen".to_owned(),
                DetailValue::Change(
                    Box::new(DetailValue::Other("null".into())),
                    Box::new(DetailValue::Money(100_000))
                )
            )]
        );
    }

    #[test]
    fn a_detail_that_is_no_object_is_kept_whole() {
        assert_eq!(
            items("not json"),
            [(String::new(), DetailValue::Text("not json".into()))]
        );
        assert_eq!(
            items("[1,2]"),
            [(String::new(), DetailValue::Other("[1,2]".into()))]
        );
    }
}
