use sea_orm::{EntityTrait, QueryFilter, QueryTrait};

use super::filters::terminal_filters;
use super::query::{CardMatch, ResolvedQuery, TerminalId, TxnQuery};
use super::tallies::{tallied, Tallies};
use crate::backend::entities::{transaction_terminal_tallies, transactions};
use crate::backend::Session;
use crate::contract::transactions::{SummaryBy, TxnFilter};
use crate::domain::DataScope;
use crate::error::AppError;

#[test]
fn cards_are_looked_for_by_last_digits_or_the_masked_number_only() {
    assert_eq!(
        CardMatch::parse("1234"),
        Some(CardMatch::Last4("1234".into()))
    );
    assert_eq!(
        CardMatch::parse(" 622848 ****** 1234 "),
        Some(CardMatch::Masked {
            bin: "622848".into(),
            last4: "1234".into()
        })
    );
    for bad in [
        "123",
        "12345",
        "6228480000001234",
        "622848*12a4",
        "62284*1234",
        "abcd",
        "622848******",
    ] {
        assert_eq!(CardMatch::parse(bad), None, "{bad}");
    }
}

fn session(scope: DataScope) -> Session {
    Session {
        token_hash: String::new(),
        operator_id: 1,
        merchant_id: 1,
        login_name: "finance".into(),
        display_name: String::new(),
        roles: Vec::new(),
        functions: Vec::new(),
        scope,
        group_ids: vec![3],
        must_change_password: false,
        cert_fingerprint: String::new(),
        remote_addr: String::new(),
        tz: chrono_tz::Asia::Shanghai,
        currency: crate::domain::Currency::Cny,
    }
}

#[test]
fn totals_are_read_from_the_coarsest_tallies_that_hold_the_filters() {
    use Tallies::{Bank, BankFine, Day, Terminal, TerminalFine, Transaction};
    let days = TxnFilter {
        from: "2026-11-01".into(),
        to: "2026-11-30".into(),
        status: "success".into(),
        ..TxnFilter::default()
    };
    let with = |change: fn(&mut TxnFilter)| {
        let mut filter = days.clone();
        change(&mut filter);
        looked_up(TxnQuery::parse(&filter).expect("valid filters"))
    };
    let plain = with(|_| {});
    let terminal = with(|f| f.terminal = "T0000001".into());
    let group = with(|f| f.group = "3".into());
    let group_number = with(|f| {
        f.group = "3".into();
        f.number = "898310054110001".into();
    });
    let bank_sdate = with(|f| {
        f.bank = "ICBC".into();
        f.sdate = "2026-11-30".into();
    });
    let settled = with(|f| f.settlement = "12".into());
    let group_org = with(|f| {
        f.group = "3".into();
        f.org = "visa".into();
    });
    let number = with(|f| f.number = "898310054110001".into());
    let amount = with(|f| f.amount = "12.34".into());
    let bank = with(|f| f.bank = "ICBC".into());
    let bank_number = with(|f| {
        f.bank = "ICBC".into();
        f.number = "898310054110001".into();
    });
    let bank_terminal = with(|f| {
        f.bank = "ICBC".into();
        f.terminal = "T0000001".into();
    });
    let (merchant, groups) = (session(DataScope::Merchant), session(DataScope::Groups));
    let cases = [
        (&merchant, &plain, None, Some(Day)),
        (&merchant, &plain, Some(SummaryBy::TxnDate), Some(Day)),
        (
            &merchant,
            &plain,
            Some(SummaryBy::MerchantNumber),
            Some(Transaction),
        ),
        (
            &merchant,
            &plain,
            Some(SummaryBy::CardOrg),
            Some(Transaction),
        ),
        (&merchant, &number, None, Some(Transaction)),
        (&merchant, &terminal, None, Some(Terminal)),
        (&merchant, &group, Some(SummaryBy::TxnDate), Some(Terminal)),
        (
            &merchant,
            &group,
            Some(SummaryBy::MerchantNumber),
            Some(Terminal),
        ),
        (
            &merchant,
            &group,
            Some(SummaryBy::SettlementDate),
            Some(TerminalFine),
        ),
        (&merchant, &group_number, None, Some(Terminal)),
        (&merchant, &group_org, None, Some(TerminalFine)),
        (&merchant, &amount, None, None),
        (&groups, &plain, None, Some(Terminal)),
        (
            &groups,
            &plain,
            Some(SummaryBy::MerchantNumber),
            Some(Terminal),
        ),
        (
            &groups,
            &plain,
            Some(SummaryBy::CardOrg),
            Some(TerminalFine),
        ),
        (&groups, &terminal, Some(SummaryBy::TxnDate), Some(Terminal)),
        (&merchant, &bank, None, Some(Bank)),
        (&merchant, &bank, Some(SummaryBy::TxnDate), Some(Bank)),
        (
            &merchant,
            &bank_number,
            Some(SummaryBy::MerchantNumber),
            Some(Bank),
        ),
        (&merchant, &bank, Some(SummaryBy::CardOrg), Some(BankFine)),
        (&merchant, &bank_sdate, None, Some(BankFine)),
        (
            &groups,
            &settled,
            Some(SummaryBy::TxnDate),
            Some(TerminalFine),
        ),
        (&merchant, &bank_terminal, None, Some(TerminalFine)),
        (&groups, &bank, Some(SummaryBy::CardOrg), Some(TerminalFine)),
    ];
    for (i, (session, query, by, expected)) in cases.into_iter().enumerate() {
        let chosen = tallied(session, query, by).map(|(tallies, _)| tallies);
        assert_eq!(chosen, expected, "case {i}: {by:?}");
    }
}

#[test]
fn an_operator_of_groups_reads_only_their_terminals_tallies() {
    let query = looked_up(TxnQuery::parse(&TxnFilter::default()).expect("no filters"));
    let (_, cond) = tallied(&session(DataScope::Groups), &query, None).expect("tallied");
    let sql = transaction_terminal_tallies::Entity::find()
        .filter(cond)
        .build(sea_orm::DbBackend::Postgres)
        .to_string();
    assert!(
        sql.contains(r#""merchant_id" = 1 AND "terminal_id" IN (SELECT "terminal_id" FROM "terminal_group_members" WHERE "group_id" IN (3))"#),
        "{sql}"
    );
}

/// Filters as [`TxnQuery::resolve`] makes them, the terminal filter's terminal being id 1.
fn looked_up(query: TxnQuery) -> ResolvedQuery {
    ResolvedQuery {
        terminal_id: query.terminal.as_ref().map(|_| TerminalId::Found(1)),
        query,
    }
}

#[test]
fn a_looked_up_terminal_is_compared_by_id() {
    let query = TxnQuery::parse(&TxnFilter {
        terminal: "t5000009".into(),
        ..Default::default()
    })
    .expect("a terminal");
    let sql = |terminal_id| {
        let resolved = ResolvedQuery {
            query: query.clone(),
            terminal_id: Some(terminal_id),
        };
        transactions::Entity::find()
            .filter(terminal_filters(&resolved))
            .build(sea_orm::DbBackend::Postgres)
            .to_string()
    };
    let found = sql(TerminalId::Found(7));
    assert!(found.ends_with(r#"WHERE "terminal_id" = 7"#), "{found}");
    let missing = sql(TerminalId::Missing);
    assert!(missing.ends_with("WHERE 1 = 0"), "{missing}");
}

#[test]
fn bad_filters_are_named_field_by_field() {
    let filter = TxnFilter {
        from: "2026-11-30".into(),
        to: "2026-11-01".into(),
        amount: "12.3a".into(),
        min: "5".into(),
        max: "1.999".into(),
        size: "100000".into(),
        card: "6228480000001234".into(),
        reference: "12345678901234".into(),
        after: "yesterday".into(),
        txn_type: "purchase' OR 1=1".into(),
        ..TxnFilter::default()
    };
    let Err(AppError::Invalid(errors)) = TxnQuery::parse(&filter) else {
        panic!("bad filters accepted");
    };
    let mut fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
    fields.sort_unstable();
    assert_eq!(
        fields,
        ["after", "amount", "card", "max", "ref", "size", "to", "type"]
    );
}

#[test]
fn amounts_are_yuan_to_the_fen_and_numbers_may_drop_leading_zeros() {
    let q = TxnQuery::parse(&TxnFilter {
        min: "1,000".into(),
        max: "1000.5".into(),
        batch: "12".into(),
        terminal: "t0000001".into(),
        size: "200".into(),
        ..TxnFilter::default()
    })
    .expect("parses");
    assert_eq!((q.min, q.max), (Some(100_000), Some(100_050)));
    assert_eq!(q.batch.as_deref(), Some("000012"));
    assert_eq!(q.terminal.as_deref(), Some("T0000001"));
    assert_eq!(q.size, 200);
}
