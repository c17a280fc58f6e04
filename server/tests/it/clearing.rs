//! Clearing: settlements to the fen, idempotence, concurrent runs, the ledger.

use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder, Set,
};

use app::backend::entities::{
    ledger_entries, merchant_numbers, merchants, settlements, terminals, transactions,
};
use app::backend::services::clearing::{self, Outcome};
use app::domain::clearing::{FeeRate, MAX_CLEARABLE_FEN};
use app::domain::Money;

use crate::on_both_backends;
use crate::support::app::seed_merchant;
use crate::support::{Backend, TestDb};

/// 2026-11-20 in Shanghai: 2026-11-19T16:00Z .. 2026-11-20T16:00Z.
pub fn day() -> NaiveDate {
    NaiveDate::from_ymd_opt(2026, 11, 20).expect("date")
}

pub fn at(hour_local: i64, minute: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 20, 0, 0, 0)
        .single()
        .expect("t")
        - Duration::hours(8)
        + Duration::hours(hour_local)
        + Duration::minutes(minute)
}

pub fn after_the_day() -> DateTime<Utc> {
    at(24 + 2, 0)
}

/// A merchant with one number and one terminal, and a way to add transactions to it.
pub struct Shop {
    pub merchant_id: i64,
    pub number_id: i64,
    pub terminal_id: i64,
    voucher: u32,
}

impl Shop {
    pub async fn open(db: &TestDb, code: &str) -> Shop {
        let merchant_id = seed_merchant(db, code).await;
        let number = merchant_numbers::Entity::find()
            .filter(merchant_numbers::Column::MerchantId.eq(merchant_id))
            .one(&db.conn)
            .await
            .expect("query")
            .expect("number");
        let terminal = add_terminal(db, merchant_id, number.id, &format!("T{}", &code[2..])).await;
        Shop {
            merchant_id,
            number_id: number.id,
            terminal_id: terminal.id,
            voucher: 0,
        }
    }

    /// Another number of the same merchant (`merchant_no`), with a terminal of its own.
    pub async fn another_number(&self, db: &TestDb, merchant_no: &str) -> Shop {
        let now = Utc::now();
        let number = merchant_numbers::ActiveModel {
            merchant_id: Set(self.merchant_id),
            merchant_no: Set(merchant_no.into()),
            name: Set(format!("Store {merchant_no}")),
            status: Set("active".into()),
            created_at: Set(now),
            ..Default::default()
        }
        .insert(&db.conn)
        .await
        .expect("number");
        let terminal_no = format!("T{}", &merchant_no[merchant_no.len() - 7..]);
        let terminal = add_terminal(db, self.merchant_id, number.id, &terminal_no).await;
        Shop {
            merchant_id: self.merchant_id,
            number_id: number.id,
            terminal_id: terminal.id,
            voucher: 0,
        }
    }

    /// Adds `count` successful purchases of `amount_fen` each with `card` (organisation, type) at
    /// `at`, in statements of 1,000 rows: their reference numbers, `prefix` then the row's number
    /// (12 digits in all).
    pub async fn add_sales(
        &self,
        db: &TestDb,
        prefix: &str,
        count: usize,
        (amount_fen, card): (i64, (&str, &str)),
        at: DateTime<Utc>,
    ) -> Vec<String> {
        let width = 12 - prefix.len();
        let references: Vec<String> = (0..count).map(|i| format!("{prefix}{i:0width$}")).collect();
        let local = at + Duration::hours(8);
        for (n, chunk) in references.chunks(1_000).enumerate() {
            transactions::Entity::insert_many(chunk.iter().enumerate().map(|(i, reference)| {
                transactions::ActiveModel {
                    merchant_id: Set(self.merchant_id),
                    merchant_number_id: Set(self.number_id),
                    terminal_id: Set(self.terminal_id),
                    txn_type: Set("purchase".into()),
                    status: Set("success".into()),
                    card_masked: Set("622588******1234".into()),
                    card_last4: Set("1234".into()),
                    card_org: Set(card.0.into()),
                    card_type: Set(card.1.into()),
                    issuer_bank: Set("CMB".into()),
                    amount_fen: Set(amount_fen),
                    currency: Set("CNY".into()),
                    txn_time: Set(at),
                    txn_date: Set(local.date_naive()),
                    reference_no: Set(reference.clone()),
                    // Voucher numbers are unique within a terminal's batch: one batch per prefix.
                    voucher_no: Set(format!("{:06}", n * 1_000 + i)),
                    batch_no: Set(format!("{prefix:0>6}")),
                    created_at: Set(at),
                    ..Default::default()
                }
            }))
            .exec_without_returning(&db.conn)
            .await
            .expect("sales");
        }
        references
    }

    /// Adds a transaction: (type, status), card (organisation, type), amount, time, original.
    pub async fn add(
        &mut self,
        db: &TestDb,
        (kind, status): (&str, &str),
        card: (&str, &str),
        amount_fen: i64,
        time: DateTime<Utc>,
        original: Option<i64>,
    ) -> i64 {
        self.voucher += 1;
        let local = time + Duration::hours(8);
        transactions::ActiveModel {
            merchant_id: Set(self.merchant_id),
            merchant_number_id: Set(self.number_id),
            terminal_id: Set(self.terminal_id),
            txn_type: Set(kind.into()),
            status: Set(status.into()),
            card_masked: Set("622588******1234".into()),
            card_last4: Set("1234".into()),
            card_org: Set(card.0.into()),
            card_type: Set(card.1.into()),
            issuer_bank: Set("CMB".into()),
            amount_fen: Set(amount_fen),
            currency: Set("CNY".into()),
            txn_time: Set(time),
            txn_date: Set(local.date_naive()),
            auth_code: Set(Some("A1B2C3".into())),
            reference_no: Set(format!("{:012}", self.voucher)),
            voucher_no: Set(format!("{:06}", self.voucher)),
            batch_no: Set("000001".into()),
            original_txn_id: Set(original),
            created_at: Set(time),
            ..Default::default()
        }
        .insert(&db.conn)
        .await
        .expect("transaction")
        .id
    }
}

/// A signed-in terminal `terminal_no` of merchant number `number_id`.
pub async fn add_terminal(
    db: &TestDb,
    merchant_id: i64,
    number_id: i64,
    terminal_no: &str,
) -> terminals::Model {
    let now = Utc::now();
    terminals::ActiveModel {
        merchant_id: Set(merchant_id),
        merchant_number_id: Set(number_id),
        terminal_no: Set(terminal_no.into()),
        model: Set("PAX S90".into()),
        status: Set("enabled".into()),
        signed_in: Set(true),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&db.conn)
    .await
    .expect("terminal")
}

const UP_DEBIT: (&str, &str) = ("unionpay", "debit");
pub const UP_CREDIT: (&str, &str) = ("unionpay", "credit");
const VISA: (&str, &str) = ("visa", "credit");

async fn settlement_of(db: &TestDb, number_id: i64, date: NaiveDate) -> Option<settlements::Model> {
    settlements::Entity::find()
        .filter(settlements::Column::MerchantNumberId.eq(number_id))
        .filter(settlements::Column::SettlementDate.eq(date))
        .one(&db.conn)
        .await
        .expect("query")
}

async fn ledger(db: &TestDb, merchant_id: i64) -> Vec<ledger_entries::Model> {
    ledger_entries::Entity::find()
        .filter(ledger_entries::Column::MerchantId.eq(merchant_id))
        .order_by_asc(ledger_entries::Column::Id)
        .all(&db.conn)
        .await
        .expect("ledger")
}

async fn balance(db: &TestDb, merchant_id: i64) -> i64 {
    merchants::Entity::find_by_id(merchant_id)
        .one(&db.conn)
        .await
        .expect("query")
        .expect("merchant")
        .balance_fen
}

on_both_backends!(
    the_fee_rule_in_sql_is_the_domain_rule,
    a_day_settles_to_the_fen,
    clearing_a_day_twice_changes_nothing,
    concurrent_runs_settle_each_day_once,
    numbers_of_one_merchant_post_one_after_the_other,
    a_day_without_a_fee_rate_waits,
    a_sale_voided_on_its_day_needs_no_fee_rate,
    a_sale_too_large_to_price_stops_its_day,
    refunds_the_balance_cannot_cover_wait,
    a_day_that_has_not_ended_is_not_settled,
    a_catch_up_pays_out_at_noon_of_the_merchants_own_next_day,
);

async fn the_fee_rule_in_sql_is_the_domain_rule(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let amounts = [
        0,
        1,
        5,
        99,
        100,
        125,
        131,
        132,
        375,
        9_999,
        10_000,
        123_457,
        9_999_999,
        4_000_000_000_000,
    ];
    let rates = [
        (0, None),
        (3_800, None),
        (4_000, None),
        (5_000, Some(2_000)),
        (6_000, None),
        (25_000, None),
        (100_000, Some(1)),
    ];
    for amount in amounts {
        for (rate_ppm, cap_fen) in rates {
            let domain = FeeRate { rate_ppm, cap_fen }
                .fee(Money::cny(amount))
                .expect("fee")
                .fen();
            let sql = clearing::fee_in_sql(&db.conn, amount, rate_ppm, cap_fen)
                .await
                .expect("sql");
            assert_eq!(
                sql, domain,
                "{amount} fen at {rate_ppm} ppm, cap {cap_fen:?}"
            );
        }
    }
}

/// What one day of the test shop holds, and what its settlement must say.
async fn a_busy_day(db: &TestDb, shop: &mut Shop) -> (i64, i64, i64, i64, i64) {
    // An earlier day's sale, settled then, voided and refunded today.
    let yesterday_sale = shop
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            50_000,
            at(-10, 0),
            None,
        )
        .await;
    let earlier = clearing::clear_day(&db.conn, day() - Duration::days(1), after_the_day())
        .await
        .expect("clear");
    assert!(
        matches!(earlier.results[0].outcome, Outcome::Settled(_)),
        "{earlier:?}"
    );

    // Sales: UnionPay debit 2,500.00 → 0.5 % = 12.50, capped at 20.00? no: 1,250 fen < 2,000.
    shop.add(
        db,
        ("purchase", "success"),
        UP_DEBIT,
        250_000,
        at(9, 0),
        None,
    )
    .await; // fee 1,250
    shop.add(
        db,
        ("purchase", "success"),
        UP_DEBIT,
        1_000_000,
        at(9, 5),
        None,
    )
    .await; // 5,000 → cap 2,000
    shop.add(
        db,
        ("purchase", "success"),
        UP_CREDIT,
        13_299,
        at(10, 0),
        None,
    )
    .await; // 79.794 → 80
    shop.add(
        db,
        ("preauth_completion", "success"),
        VISA,
        12_345,
        at(11, 0),
        None,
    )
    .await; // 308.625 → 309
    shop.add(db, ("purchase", "success"), UP_CREDIT, 1, at(23, 59), None)
        .await; // 0.006 → 0
                // Not settled: a sale voided the same day (and its void), a pre-authorisation, failures.
    let voided = shop
        .add(db, ("purchase", "success"), VISA, 88_800, at(12, 0), None)
        .await;
    shop.add(
        db,
        ("void", "success"),
        VISA,
        88_800,
        at(12, 1),
        Some(voided),
    )
    .await;
    shop.add(db, ("preauth", "success"), VISA, 100_000, at(13, 0), None)
        .await;
    shop.add(
        db,
        ("purchase", "failed"),
        UP_CREDIT,
        7_000,
        at(14, 0),
        None,
    )
    .await;
    shop.add(
        db,
        ("purchase", "reversed"),
        UP_CREDIT,
        7_000,
        at(14, 1),
        None,
    )
    .await;
    // A failed void leaves its sale settled.
    let kept = shop
        .add(
            db,
            ("purchase", "success"),
            UP_CREDIT,
            20_000,
            at(15, 0),
            None,
        )
        .await; // 120
    shop.add(
        db,
        ("void", "failed"),
        UP_CREDIT,
        20_000,
        at(15, 1),
        Some(kept),
    )
    .await;
    // Refunds: a POS refund of the earlier sale, and a void of it (settled yesterday).
    shop.add(
        db,
        ("refund", "success"),
        UP_CREDIT,
        30_000,
        at(16, 0),
        Some(yesterday_sale),
    )
    .await;
    shop.add(
        db,
        ("refund", "failed"),
        UP_CREDIT,
        10_000,
        at(16, 5),
        Some(yesterday_sale),
    )
    .await;
    shop.add(
        db,
        ("void", "success"),
        UP_CREDIT,
        5_000,
        at(16, 10),
        Some(yesterday_sale),
    )
    .await;
    // The next day's sale is not this day's.
    shop.add(
        db,
        ("purchase", "success"),
        UP_CREDIT,
        99_999,
        at(24, 0),
        None,
    )
    .await;

    let gross = 250_000 + 1_000_000 + 13_299 + 12_345 + 1 + 20_000;
    let fees = 1_250 + 2_000 + 80 + 309 + 120;
    let refunds = 30_000 + 5_000;
    (6, gross, fees, 2, refunds)
}

async fn a_day_settles_to_the_fen(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000001").await;
    let (txn_count, gross, fees, refund_count, refunds) = a_busy_day(&db, &mut shop).await;
    let balance_before = balance(&db, shop.merchant_id).await;
    assert_eq!(
        balance_before,
        50_000 - 300,
        "yesterday: 500.00 less its 0.6 % fee"
    );

    let report = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("clear");

    let Outcome::Settled(settled) = &report.results[0].outcome else {
        panic!("not settled: {report:?}");
    };
    let net = gross - refunds - fees;
    assert_eq!(
        (
            settled.txn_count,
            settled.gross_fen,
            settled.fee_fen,
            settled.refund_count,
            settled.refund_fen,
            settled.net_fen
        ),
        (txn_count, gross, fees, refund_count, refunds, net)
    );
    let row = settlement_of(&db, shop.number_id, day())
        .await
        .expect("settlement");
    assert_eq!(
        (row.gross_fen, row.fee_fen, row.refund_fen, row.net_fen),
        (gross, fees, refunds, net)
    );
    assert_eq!(row.status, "pending");
    assert_eq!(row.period_start, at(0, 0));
    assert_eq!(row.period_end, at(24, 0));

    // Each settled transaction carries the settlement, its date and its fee; the sum of the parts is the whole.
    let settled_rows = transactions::Entity::find()
        .filter(transactions::Column::SettlementId.eq(row.id))
        .all(&db.conn)
        .await
        .expect("rows");
    assert_eq!(settled_rows.len() as i64, txn_count + refund_count);
    assert!(settled_rows
        .iter()
        .all(|t| t.settlement_date == Some(day()) && t.status == "success"));
    let fee_sum: i64 = settled_rows.iter().filter_map(|t| t.fee_fen).sum();
    assert_eq!(fee_sum, fees);
    let unsettled_today = transactions::Entity::find()
        .filter(transactions::Column::TxnDate.eq(day()))
        .filter(transactions::Column::SettlementId.is_null())
        .all(&db.conn)
        .await
        .expect("rows");
    let mut left: Vec<_> = unsettled_today
        .iter()
        .map(|t| format!("{} {}", t.txn_type, t.status))
        .collect();
    left.sort();
    assert_eq!(
        left,
        [
            "preauth success",
            "purchase failed",
            "purchase reversed",
            "purchase success",
            "refund failed",
            "void failed",
            "void success"
        ],
        "voided sale and its void, pre-authorisation and failures stay unsettled"
    );

    // The ledger: credit of gross − fees, debit of the refunds, balance after each.
    let entries = ledger(&db, shop.merchant_id).await;
    let today: Vec<_> = entries
        .iter()
        .filter(|e| e.settlement_id == Some(row.id))
        .collect();
    assert_eq!(today.len(), 2);
    assert_eq!(
        (today[0].entry_type.as_str(), today[0].amount_fen),
        ("settlement_credit", gross - fees)
    );
    assert_eq!(today[0].balance_after_fen, balance_before + gross - fees);
    assert_eq!(
        (today[1].entry_type.as_str(), today[1].amount_fen),
        ("refund_debit", refunds)
    );
    assert_eq!(today[1].balance_after_fen, balance_before + net);
    assert_eq!(balance(&db, shop.merchant_id).await, balance_before + net);

    // Paid once the payout day (T+1) has come.
    let paid = clearing::mark_paid(&db.conn, at(24 + 12, 0))
        .await
        .expect("paid");
    assert_eq!(paid, 2, "both days' settlements are due");
}

async fn snapshot(
    db: &TestDb,
) -> (
    Vec<settlements::Model>,
    Vec<ledger_entries::Model>,
    Vec<transactions::Model>,
    i64,
) {
    let s = settlements::Entity::find()
        .order_by_asc(settlements::Column::Id)
        .all(&db.conn)
        .await
        .expect("s");
    let l = ledger_entries::Entity::find()
        .order_by_asc(ledger_entries::Column::Id)
        .all(&db.conn)
        .await
        .expect("l");
    let t = transactions::Entity::find()
        .order_by_asc(transactions::Column::Id)
        .all(&db.conn)
        .await
        .expect("t");
    let b = merchants::Entity::find()
        .all(&db.conn)
        .await
        .expect("m")
        .iter()
        .map(|m| m.balance_fen)
        .sum();
    (s, l, t, b)
}

async fn clearing_a_day_twice_changes_nothing(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000002").await;
    a_busy_day(&db, &mut shop).await;
    clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("first");
    let first = clearing::clear_due(&db.conn, after_the_day(), 7)
        .await
        .expect("due");
    assert_eq!(first.paid, 2, "T+1: both days are due for payout");
    let before = snapshot(&db).await;

    let again = clearing::clear_day(&db.conn, day(), after_the_day() + Duration::hours(5))
        .await
        .expect("again");
    assert_eq!(again.results[0].outcome, Outcome::AlreadySettled);
    let due = clearing::clear_due(&db.conn, after_the_day(), 7)
        .await
        .expect("due");
    assert_eq!((due.settled().count(), due.paid), (0, 0), "{due:?}");

    assert_eq!(snapshot(&db).await, before);
}

async fn concurrent_runs_settle_each_day_once(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    // Two numbers of one merchant and another merchant: runs contend on numbers and on a ledger.
    let mut shops = Vec::new();
    for code in ["M10000003", "M10000004"] {
        let mut shop = Shop::open(&db, code).await;
        for minute in 0..30 {
            shop.add(
                &db,
                ("purchase", "success"),
                UP_CREDIT,
                10_000 + minute,
                at(10, minute),
                None,
            )
            .await;
        }
        shop.add(&db, ("refund", "success"), UP_CREDIT, 500, at(11, 0), None)
            .await;
        shops.push(shop);
    }
    for round in 0..3 {
        let runs: Vec<_> = (0..4)
            .map(|_| {
                let conn = db.conn.clone();
                let date = day() - Duration::days(round);
                tokio::spawn(async move { clearing::clear_day(&conn, date, after_the_day()).await })
            })
            .collect();
        let mut settled = 0;
        for run in runs {
            let report = run.await.expect("join").expect("run");
            assert_eq!(report.failures().count(), 0, "{report:?}");
            settled += report.settled().count();
        }
        let expected = if round == 0 { 2 } else { 0 };
        assert_eq!(
            settled, expected,
            "round {round}: one settlement per number and day"
        );
    }
    let (s, l, _, _) = snapshot(&db).await;
    assert_eq!(s.len(), 2);
    assert_eq!(l.len(), 4, "one credit and one debit per settlement");
    for shop in &shops {
        let gross: i64 = (0..30).map(|m| 10_000 + m).sum();
        let fees: i64 = (0..30)
            .map(|m| {
                FeeRate {
                    rate_ppm: 6_000,
                    cap_fen: None,
                }
                .fee(Money::cny(10_000 + m))
                .expect("fee")
                .fen()
            })
            .sum();
        assert_eq!(balance(&db, shop.merchant_id).await, gross - fees - 500);
    }
}

async fn numbers_of_one_merchant_post_one_after_the_other(backend: Backend) {
    // Several numbers of one merchant post to one ledger (on PostgreSQL under the merchant's row lock,
    // which once deadlocked with the key-share lock of the number's new settlement).
    let db = TestDb::migrated(backend).await;
    let first = Shop::open(&db, "M10000005").await;
    let mut shops = vec![first];
    for no in ["898000010000051", "898000010000052", "898000010000053"] {
        let shop = shops[0].another_number(&db, no).await;
        shops.push(shop);
    }
    for (i, shop) in shops.iter_mut().enumerate() {
        let i = i as i64;
        for minute in 0..20 {
            shop.add(
                &db,
                ("purchase", "success"),
                UP_CREDIT,
                5_000 + 100 * i + minute,
                at(9, minute),
                None,
            )
            .await;
        }
        shop.add(
            &db,
            ("refund", "success"),
            UP_CREDIT,
            700 + i,
            at(15, 0),
            None,
        )
        .await;
    }
    let report = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("run");
    assert_eq!(report.failures().count(), 0, "{report:?}");
    assert_eq!(report.settled().count(), 4);
    let nets: i64 = report.settled().map(|(_, day)| day.net_fen).sum();

    // Each entry starts from the balance the one before it left: none was computed from a stale one.
    let entries = ledger(&db, shops[0].merchant_id).await;
    assert_eq!(entries.len(), 8, "a credit and a debit per number");
    let mut running = 0;
    for entry in &entries {
        running += match entry.entry_type.as_str() {
            "settlement_credit" => entry.amount_fen,
            "refund_debit" => -entry.amount_fen,
            other => panic!("unexpected entry {other}"),
        };
        assert_eq!(entry.balance_after_fen, running, "{entries:?}");
    }
    assert_eq!(running, nets);
    assert_eq!(balance(&db, shops[0].merchant_id).await, nets);
}

async fn a_day_without_a_fee_rate_waits(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000005").await;
    shop.add(&db, ("purchase", "success"), VISA, 10_000, at(10, 0), None)
        .await;
    db.conn
        .execute_unprepared("DELETE FROM fee_rates WHERE card_org = 'visa'")
        .await
        .expect("delete");

    the_day_waits(&db, &shop, "no fee rate for visa credit").await;
}

/// Clears the day and checks that the shop's number failed with a reason containing `why`, and that
/// nothing was settled, posted or marked.
async fn the_day_waits(db: &TestDb, shop: &Shop, why: &str) {
    let report = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("run");
    let failures: Vec<_> = report.failures().collect();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].1.contains(why), "{}", failures[0].1);
    assert!(settlement_of(db, shop.number_id, day()).await.is_none());
    assert!(ledger(db, shop.merchant_id).await.is_empty());
    assert!(snapshot(db)
        .await
        .2
        .iter()
        .all(|t| t.settlement_id.is_none() && t.fee_fen.is_none()));
}

async fn a_sale_voided_on_its_day_needs_no_fee_rate(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000005").await;
    let voided = shop
        .add(&db, ("purchase", "success"), VISA, 10_000, at(10, 0), None)
        .await;
    shop.add(
        &db,
        ("void", "success"),
        VISA,
        10_000,
        at(10, 5),
        Some(voided),
    )
    .await;
    let sale = shop
        .add(
            &db,
            ("purchase", "success"),
            UP_DEBIT,
            20_000,
            at(11, 0),
            None,
        )
        .await;
    db.conn
        .execute_unprepared("DELETE FROM fee_rates WHERE card_org = 'visa'")
        .await
        .expect("delete");

    let report = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("run");
    assert_eq!(report.failures().count(), 0, "{report:?}");
    let settlement = settlement_of(&db, shop.number_id, day())
        .await
        .expect("settled");
    assert_eq!((settlement.txn_count, settlement.gross_fen), (1, 20_000));
    let (_, _, txns, _) = snapshot(&db).await;
    for t in &txns {
        let settled = t.id == sale;
        assert_eq!(t.settlement_id.is_some(), settled, "{t:?}");
    }
}

async fn a_sale_too_large_to_price_stops_its_day(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000005").await;
    shop.add(
        &db,
        ("purchase", "success"),
        UP_DEBIT,
        20_000,
        at(9, 0),
        None,
    )
    .await;
    let too_large = MAX_CLEARABLE_FEN + 1;
    shop.add(
        &db,
        ("purchase", "success"),
        UP_CREDIT,
        too_large,
        at(10, 0),
        None,
    )
    .await;

    // The whole day waits: nothing marked, no settlement, no ledger entry.
    the_day_waits(&db, &shop, &too_large.to_string()).await;
}

async fn refunds_the_balance_cannot_cover_wait(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000006").await;
    shop.add(
        &db,
        ("purchase", "success"),
        UP_CREDIT,
        10_000,
        at(10, 0),
        None,
    )
    .await;
    let big = shop
        .add(
            &db,
            ("refund", "success"),
            UP_CREDIT,
            20_000,
            at(11, 0),
            None,
        )
        .await;
    let small = shop
        .add(
            &db,
            ("refund", "success"),
            UP_CREDIT,
            3_000,
            at(12, 0),
            None,
        )
        .await;

    // The sale settles; the big refund waits with its shortfall, the smaller one after it fits.
    let report = clearing::clear_day(&db.conn, day(), after_the_day())
        .await
        .expect("run");
    let Outcome::Settled(first) = &report.results[0].outcome else {
        panic!("{report:?}");
    };
    assert_eq!(
        (
            first.gross_fen,
            first.fee_fen,
            first.refund_count,
            first.refund_fen
        ),
        (10_000, 60, 1, 3_000)
    );
    assert_eq!(balance(&db, shop.merchant_id).await, 10_000 - 60 - 3_000);
    let txn = |id| transactions::Entity::find_by_id(id).one(&db.conn);
    assert_eq!(
        txn(small).await.expect("q").expect("row").settlement_id,
        Some(first.settlement_id)
    );
    assert_eq!(txn(big).await.expect("q").expect("row").settlement_id, None);
    let holds = db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT transaction_id, shortfall_fen FROM clearing_holds",
        ))
        .await
        .expect("holds");
    assert_eq!(holds.len(), 1);
    assert_eq!(
        holds[0]
            .try_get::<i64>("", "shortfall_fen")
            .expect("shortfall"),
        20_000 - 9_940,
    );

    // A quiet next day changes nothing; the day after brings sales that cover it.
    let next = clearing::clear_day(
        &db.conn,
        day() + Duration::days(1),
        after_the_day() + Duration::days(1),
    )
    .await
    .expect("run");
    assert_eq!(next.results[0].outcome, Outcome::Nothing);
    assert_eq!(balance(&db, shop.merchant_id).await, 6_940);
    shop.add(
        &db,
        ("purchase", "success"),
        UP_CREDIT,
        50_000,
        at(24 + 24 + 9, 0),
        None,
    )
    .await;
    let later = clearing::clear_day(
        &db.conn,
        day() + Duration::days(2),
        after_the_day() + Duration::days(2),
    )
    .await
    .expect("run");
    let Outcome::Settled(later) = &later.results[0].outcome else {
        panic!("{later:?}");
    };
    assert_eq!(
        (later.refund_count, later.refund_fen, later.net_fen),
        (1, 20_000, 50_000 - 300 - 20_000)
    );
    let big_row = txn(big).await.expect("q").expect("row");
    assert_eq!(big_row.settlement_id, Some(later.settlement_id));
    assert_eq!(big_row.settlement_date, Some(day() + Duration::days(2)));
    assert_eq!(
        balance(&db, shop.merchant_id).await,
        6_940 + 50_000 - 300 - 20_000
    );
    let left = db
        .conn
        .query_all_raw(sea_orm::Statement::from_string(
            db.conn.get_database_backend(),
            "SELECT transaction_id FROM clearing_holds",
        ))
        .await
        .expect("holds");
    assert!(left.is_empty(), "the hold is released");
    assert!(ledger(&db, shop.merchant_id)
        .await
        .iter()
        .all(|e| e.balance_after_fen >= 0));
}

async fn a_day_that_has_not_ended_is_not_settled(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000007").await;
    shop.add(
        &db,
        ("purchase", "success"),
        UP_CREDIT,
        10_000,
        at(10, 0),
        None,
    )
    .await;
    let report = clearing::clear_day(&db.conn, day(), at(23, 59))
        .await
        .expect("run");
    assert_eq!(report.results[0].outcome, Outcome::NotEnded);
    let due = clearing::clear_due(&db.conn, at(23, 59), 3)
        .await
        .expect("due");
    assert_eq!(due.settled().count(), 0);
    let due = clearing::clear_due(&db.conn, at(24, 1), 3)
        .await
        .expect("due");
    assert_eq!(due.settled().count(), 1, "{due:?}");
}

/// A merchant 14 hours ahead of UTC (Kiritimati) whose clearing catches up: its day's settlement
/// is paid at noon of the next day in its own zone, as the daily run would have paid it (noon UTC
/// of the next day was already the day after that there).
async fn a_catch_up_pays_out_at_noon_of_the_merchants_own_next_day(backend: Backend) {
    let db = TestDb::migrated(backend).await;
    let mut shop = Shop::open(&db, "M10000011").await;
    let zone = chrono_tz::Pacific::Kiritimati;
    merchants::ActiveModel {
        id: Set(shop.merchant_id),
        time_zone: Set(zone.name().to_owned()),
        settlement_cycle_days: Set(1),
        ..Default::default()
    }
    .update(&db.conn)
    .await
    .expect("merchant");
    let local = |d: u32, h: u32| {
        zone.with_ymd_and_hms(2026, 11, d, h, 0, 0)
            .single()
            .expect("a local time")
            .with_timezone(&Utc)
    };
    shop.add(
        &db,
        ("purchase", "success"),
        UP_CREDIT,
        10_000,
        local(20, 10),
        None,
    )
    .await;
    let report = clearing::clear_due(&db.conn, local(23, 12), 7)
        .await
        .expect("catch up");
    assert_eq!(report.settled().count(), 1, "{report:?}");
    let day = NaiveDate::from_ymd_opt(2026, 11, 20).expect("day");
    let settlement = settlement_of(&db, shop.number_id, day)
        .await
        .expect("settled");
    assert_eq!(settlement.status, "paid");
    assert_eq!(settlement.paid_at, Some(local(21, 12)));
}
