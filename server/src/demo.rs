//! The demo data set: five merchants of different trades (a supermarket chain holding most of the
//! traffic, a coffee chain, hotels with pre-authorisations, an online shop on virtual POS, a small
//! bookshop), their merchant numbers, terminals and groups, operators for every built-in role, and
//! transactions over the last N days with realistic hours, card organisations, issuing banks, types and
//! statuses. Generated from a seed, so the same seed gives the same data.
//!
//! Everything is loaded in one database transaction: a failure leaves the database as it was.

use std::collections::HashMap;
use std::time::Instant;

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc, Weekday};
use chrono_tz::Tz;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Set, Statement, Value,
};
use secrecy::SecretString;

use app::backend::db::begin_write;
use app::backend::entities::{
    terminal_batches, terminal_group_members, terminal_groups, terminals,
};
use app::backend::services::clearing;
use app::backend::services::platform::{
    self, standard_fee_rates, NewMerchant, NewOperator, PlatformError,
};
use app::domain::access::Role;
use app::domain::{
    Bank, CardOrg, CardType, Currency, DataScope, LoginName, LoginPrefix, MaskedAccount,
    MerchantCode, MerchantNo, Money, RefundMode, TxnStatus, TxnType,
};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("the database already holds merchants; the demo data set is only loaded into an empty database")]
    NotEmpty,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Platform(#[from] PlatformError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub transactions: u64,
    pub days: u32,
    pub seed: u64,
    pub now: DateTime<Utc>,
    /// The first password of every demo operator (each must change it at first sign-in).
    pub password: SecretString,
}

pub const DEFAULT_TRANSACTIONS: u64 = 120_000;
pub const MAX_TRANSACTIONS: u64 = 50_000_000;

#[derive(Debug)]
pub struct DemoReport {
    pub merchants: usize,
    pub terminals: usize,
    pub operators: Vec<DemoOperator>,
    pub transactions: u64,
    pub setup_secs: f64,
    pub transactions_secs: f64,
    /// Refund requests made in the console by the supermarket's refund operators.
    pub refund_requests: usize,
    /// Fast refunds sent by the supermarket's fast-refund operator (answered by the simulated bank).
    pub fast_refunds: usize,
    /// Settlements made by clearing every ended day of the data set.
    pub settlements: usize,
    /// Requesting the refunds and clearing.
    pub clearing_secs: f64,
}

impl DemoReport {
    pub fn rows_per_second(&self) -> f64 {
        self.transactions as f64 / self.transactions_secs.max(1e-9)
    }
}

#[derive(Debug, Clone)]
pub struct DemoOperator {
    pub merchant_code: String,
    pub login: String,
    pub roles: Vec<Role>,
    pub scope: DataScope,
}

pub const TZ: Tz = chrono_tz::Asia::Shanghai;

/// The trade of a merchant: decides hours, amounts, transaction types and cards.
#[derive(Debug, Clone, Copy)]
enum Trade {
    Supermarket,
    Coffee,
    Hotel,
    Online,
    Bookshop,
}

struct MerchantSpec {
    code: &'static str,
    name: &'static str,
    short: &'static str,
    trade: Trade,
    mcc: &'static str,
    /// Share of all transactions.
    share: f64,
    bank: &'static str,
    account: &'static str,
    refund_mode: RefundMode,
    token: bool,
    quota_yuan: i64,
    window_days: i32,
    fast_refund: bool,
    /// (store name, terminals, group name)
    stores: &'static [(&'static str, usize, &'static str)],
    models: &'static [&'static str],
    operators: &'static [(
        &'static str,
        &'static str,
        &'static [Role],
        Option<&'static str>,
    )],
}

const MERCHANTS: &[MerchantSpec] = &[
    MerchantSpec {
        code: "M00000001",
        name: "华联优选超市连锁有限公司",
        short: "hualian",
        trade: Trade::Supermarket,
        mcc: "5411",
        share: 0.58,
        bank: "招商银行上海分行",
        account: "6214830212345678",
        refund_mode: RefundMode::Direct,
        token: false,
        quota_yuan: 500_000,
        window_days: 180,
        fast_refund: true,
        stores: &[
            ("华联优选 浦东店", 8, "浦东店收银台"),
            ("华联优选 徐汇店", 6, "徐汇店收银台"),
            ("华联优选 静安店", 6, "静安店收银台"),
            ("华联优选 闵行店", 5, "闵行店收银台"),
            ("华联优选 杭州西湖店", 5, "杭州西湖店收银台"),
        ],
        models: &["PAX A920", "Newland N910", "Ingenico Move/5000"],
        operators: &[
            ("admin", "王立新", &[Role::Administrator], None),
            ("finance", "李秀英", &[Role::Finance], None),
            ("monitor", "张伟", &[Role::Monitor], None),
            ("refund", "刘洋", &[Role::RefundOperator], None),
            ("approver", "陈静", &[Role::RefundApprover], None),
            ("fastrefund", "杨帆", &[Role::FastRefundOperator], None),
            (
                "pudong",
                "赵敏",
                &[Role::Monitor, Role::RefundOperator],
                Some("浦东店收银台"),
            ),
        ],
    },
    MerchantSpec {
        code: "M00000002",
        name: "悦客咖啡连锁（上海）有限公司",
        short: "yueke",
        trade: Trade::Coffee,
        mcc: "5814",
        share: 0.20,
        bank: "工商银行上海市分行",
        account: "1001234509876543210",
        refund_mode: RefundMode::Approval,
        token: true,
        quota_yuan: 20_000,
        window_days: 90,
        fast_refund: true,
        stores: &[
            ("悦客咖啡 陆家嘴店", 4, "陆家嘴店"),
            ("悦客咖啡 新天地店", 4, "新天地店"),
            ("悦客咖啡 五角场店", 4, "五角场店"),
        ],
        models: &["PAX A920", "Sunmi P2"],
        operators: &[
            ("admin", "周婷", &[Role::Administrator], None),
            ("finance", "吴磊", &[Role::Finance], None),
            ("refund", "郑爽", &[Role::RefundOperator], None),
            ("approver", "孙浩", &[Role::RefundApprover], None),
            ("approver2", "马丽", &[Role::RefundApprover], None),
        ],
    },
    MerchantSpec {
        code: "M00000003",
        name: "云栖酒店管理有限公司",
        short: "yunqi",
        trade: Trade::Hotel,
        mcc: "7011",
        share: 0.13,
        bank: "中国银行杭州分行",
        account: "6216610200012345",
        refund_mode: RefundMode::Approval,
        token: true,
        quota_yuan: 200_000,
        window_days: 365,
        fast_refund: false,
        stores: &[
            ("云栖酒店 西湖店", 4, "西湖店前台"),
            ("云栖酒店 外滩店", 4, "外滩店前台"),
        ],
        models: &["Verifone V200c", "PAX S920"],
        operators: &[
            ("admin", "何晓东", &[Role::Administrator], None),
            ("finance", "林芳", &[Role::Finance], None),
            ("refund", "高远", &[Role::RefundOperator], None),
            ("approver", "罗佳", &[Role::RefundApprover], None),
        ],
    },
    MerchantSpec {
        code: "M00000004",
        name: "易购在线商城有限公司",
        short: "yigou",
        trade: Trade::Online,
        mcc: "5999",
        share: 0.07,
        bank: "建设银行深圳分行",
        account: "4367420012345678901",
        refund_mode: RefundMode::Direct,
        token: true,
        quota_yuan: 100_000,
        window_days: 180,
        fast_refund: true,
        stores: &[("易购在线商城 VPOS", 3, "在线支付")],
        models: &["VPOS virtual terminal"],
        operators: &[
            ("admin", "冯军", &[Role::Administrator, Role::Finance], None),
            (
                "fastrefund",
                "韩梅",
                &[Role::FastRefundOperator, Role::RefundOperator],
                None,
            ),
        ],
    },
    MerchantSpec {
        code: "M00000005",
        name: "墨香书店",
        short: "moxiang",
        trade: Trade::Bookshop,
        mcc: "5942",
        share: 0.02,
        bank: "交通银行南京分行",
        account: "6222600110012345678",
        refund_mode: RefundMode::Direct,
        token: false,
        quota_yuan: 5_000,
        window_days: 30,
        fast_refund: false,
        stores: &[("墨香书店 新街口店", 2, "书店收银")],
        models: &["Newland ME31"],
        operators: &[(
            "admin",
            "许文",
            &[Role::Administrator, Role::Finance, Role::RefundOperator],
            None,
        )],
    },
];

/// The merchant and terminal ids the generator draws from.
struct LoadedMerchant {
    merchant_id: i64,
    trade: Trade,
    share: f64,
    /// (terminal id, merchant number id, weight)
    terminals: Vec<(i64, i64, f64)>,
}

/// Loads the whole demo data set into an empty database.
pub async fn load(db: &DatabaseConnection, options: &DemoOptions) -> Result<DemoReport, DemoError> {
    if options.transactions > MAX_TRANSACTIONS {
        return Err(DemoError::Invalid(format!(
            "at most {MAX_TRANSACTIONS} transactions"
        )));
    }
    if !(1..=730).contains(&options.days) {
        return Err(DemoError::Invalid(
            "--days must be between 1 and 730".into(),
        ));
    }
    let started = Instant::now();
    let txn = begin_write(db).await?;
    let count = txn
        .query_one_raw(Statement::from_string(
            txn.get_database_backend(),
            "SELECT COUNT(*) AS n FROM merchants",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("counting merchants returned no row".into()))?
        .try_get::<i64>("", "n")?;
    if count > 0 {
        return Err(DemoError::NotEmpty);
    }

    let mut loaded = Vec::new();
    let mut operators = Vec::new();
    let mut terminal_total = 0;
    for (index, spec) in MERCHANTS.iter().enumerate() {
        let (merchant, ops, terminals) = create_merchant(&txn, index, spec, options).await?;
        terminal_total += terminals;
        loaded.push(merchant);
        operators.extend(ops);
    }
    let setup_secs = started.elapsed().as_secs_f64();

    let started = Instant::now();
    let postgres = db.get_database_backend() == DbBackend::Postgres;
    let tallies = app::backend::tallies::ALL;
    if postgres {
        // Tallied once at the end instead of batch by batch (see `app::backend::tallies`); undone
        // with the rest if the load fails.
        for tally in &tallies {
            txn.execute_unprepared(&format!(
                "ALTER TABLE transactions DISABLE TRIGGER {}",
                tally.insert_trigger
            ))
            .await?;
        }
    }
    let inserted = generate_transactions(&txn, &loaded, options).await?;
    if postgres {
        for tally in &tallies {
            for statement in tally.rebuild_statements() {
                txn.execute_unprepared(&statement).await?;
            }
            txn.execute_unprepared(&format!(
                "ALTER TABLE transactions ENABLE TRIGGER {}",
                tally.insert_trigger
            ))
            .await?;
        }
    }
    txn.commit().await?;
    if db.get_database_backend() == DbBackend::Sqlite {
        // Fold the large write-ahead log back into the database file and shrink it.
        db.execute_unprepared("PRAGMA wal_checkpoint(TRUNCATE)")
            .await?;
    }
    analyze(db).await?;
    let transactions_secs = started.elapsed().as_secs_f64();

    // Refunds requested in the console over the last days, through the console's own service, then
    // settled with the sales of their days (today's wait for tonight's run).
    let started = Instant::now();
    let refund_requests = request_refunds(db, loaded[0].merchant_id, options).await?;
    let fast_refunds = send_fast_refunds(db, loaded[0].merchant_id, options).await?;

    // Settle every ended day the way the platform does, so that the demo's settlements are real.
    let clearing = clearing::clear_due(db, options.now, options.days).await?;
    if let Some((line, why)) = clearing.failures().next() {
        return Err(DemoError::Invalid(format!(
            "clearing {} {} failed: {why}",
            line.merchant_no, line.date
        )));
    }
    let settlements = clearing.settled().count();
    let clearing_secs = started.elapsed().as_secs_f64();
    // Clearing changed the settlement columns of almost every row.
    analyze(db).await?;

    Ok(DemoReport {
        refund_requests,
        fast_refunds,
        settlements,
        clearing_secs,
        merchants: loaded.len(),
        terminals: terminal_total,
        operators,
        transactions: inserted,
        setup_secs,
        transactions_secs,
    })
}

/// The supermarket's refund operators (one sees the whole merchant, one only the Pudong store's tills)
/// and how many refunds each requests over the demo's days, at most the last 30 of them.
const REFUNDERS: &[(&str, usize)] = &[("hualian.refund", 30), ("hualian.pudong", 10)];

/// Why a refund was given back, in the words an operator would type (with [`RefundReason::Other`]).
const OTHER_REASONS: &[&str] = &["会员积分抵扣后补退差额", "商品价签错误，按标价退差价"];

/// Requests refunds of purchases of merchant `merchant_id` as its refund operators would have on the
/// demo's last days: one request at a time through the console's service, with its checks (scope,
/// window, what is left of the sale, the daily quota), audited under the operator's name. About a
/// quarter give the whole sale back, the rest a part. Returns how many were made.
async fn request_refunds(
    db: &DatabaseConnection,
    merchant_id: i64,
    options: &DemoOptions,
) -> Result<usize, DemoError> {
    use app::backend::services::refunds;
    use app::backend::token::TokenKey;
    use app::backend::AuthConfig;
    use app::domain::refund::RefundReason;
    use app::error::AppError;

    let mut rng = StdRng::seed_from_u64(options.seed ^ 0x05EF_00D5);
    // The merchant requires no token: no code is ever asked for.
    let (key, cfg) = (TokenKey::generate(), AuthConfig::default());
    let today = options.now.with_timezone(&TZ).date_naive();
    let span = i64::from(options.days.min(30));
    let mut made = 0;
    for (login, count) in REFUNDERS {
        let session = demo_session(db, merchant_id, login, Role::RefundOperator).await?;
        // The sales each refunds: the first of a random moment of the last days, oldest first.
        let mut moments: Vec<DateTime<Utc>> = (0..*count)
            .filter_map(|_| {
                let day = today - Duration::days(rng.random_range(0..span.max(1)));
                let at = day.and_hms_opt(rng.random_range(8..21), rng.random_range(0..60), 0)?;
                TZ.from_local_datetime(&at).single()
            })
            .map(|t| t.with_timezone(&Utc))
            .filter(|t| *t < options.now)
            .collect();
        moments.sort();
        for (n, moment) in moments.into_iter().enumerate() {
            let Some(sale) = untouched_sale(db, &session, moment, None).await? else {
                continue;
            };
            let at = sale.txn_time + Duration::minutes(rng.random_range(20..600));
            if at >= options.now {
                continue;
            }
            let fen = if rng.random_bool(0.25) || sale.amount_fen < 200 {
                sale.amount_fen
            } else {
                // A part, in whole jiao.
                std::cmp::max(
                    sale.amount_fen * rng.random_range(10..90) / 100 / 10 * 10,
                    10,
                )
            };
            let reason = RefundReason::ALL[rng.random_range(0..RefundReason::ALL.len())];
            let new = refunds::NewRefund {
                txn_id: sale.id,
                amount: Money::from_fen(fen, Currency::Cny),
                reason,
                reason_text: (reason == RefundReason::Other)
                    .then(|| OTHER_REASONS[rng.random_range(0..OTHER_REASONS.len())].to_owned()),
                // A login name's dots are no key characters.
                key: app::domain::IdempotencyKey::parse(&format!(
                    "demo-{}-{n}",
                    login.replace('.', "-")
                ))
                .expect("a demo key is a key"),
                code: String::new(),
            };
            match refunds::request(db, &key, &cfg, &session, new, at).await {
                Ok(_) => made += 1,
                // Over the day's quota, say: an operator would be told and try another day.
                Err(AppError::Refund(_)) => {}
                Err(other) => {
                    return Err(DemoError::Invalid(format!(
                        "demo refund by {login} failed: {other}"
                    )))
                }
            }
        }
    }
    Ok(made)
}

/// The session of demo operator `login` of merchant `merchant_id` with `role`, as a sign-in would
/// have made it: what the loader does in the console it does through the console's services.
async fn demo_session(
    db: &DatabaseConnection,
    merchant_id: i64,
    login: &str,
    role: Role,
) -> Result<app::backend::Session, DemoError> {
    use app::backend::entities::{operator_terminal_groups, operators};
    use app::domain::access::functions_of;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

    let operator = operators::Entity::find()
        .filter(operators::Column::MerchantId.eq(merchant_id))
        .filter(operators::Column::LoginName.eq(login))
        .one(db)
        .await?
        .ok_or_else(|| DemoError::Invalid(format!("demo operator {login} is missing")))?;
    let group_ids = operator_terminal_groups::Entity::find()
        .filter(operator_terminal_groups::Column::OperatorId.eq(operator.id))
        .all(db)
        .await?
        .into_iter()
        .map(|g| g.group_id)
        .collect();
    let roles = vec![role];
    Ok(app::backend::Session {
        token_hash: String::new(),
        operator_id: operator.id,
        merchant_id,
        login_name: operator.login_name.clone(),
        display_name: operator.display_name.clone(),
        functions: functions_of(&roles),
        roles,
        scope: DataScope::from_code(&operator.data_scope).unwrap_or(DataScope::Groups),
        group_ids,
        must_change_password: false,
        cert_fingerprint: "demo".into(),
        remote_addr: "demo loader".into(),
        tz: TZ,
        currency: app::domain::Currency::Cny,
    })
}

/// The first successful purchase in `session`'s scope at or after `moment` that nothing was
/// refunded of yet (of a card of one of `banks`, when given): what a demo refund takes.
async fn untouched_sale(
    db: &DatabaseConnection,
    session: &app::backend::Session,
    moment: DateTime<Utc>,
    banks: Option<&[&str]>,
) -> Result<Option<app::backend::entities::transactions::Model>, DemoError> {
    use app::backend::entities::transactions;
    use app::backend::services::scope;
    use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder};

    let mut select = transactions::Entity::find()
        .filter(scope::transactions(session))
        .filter(transactions::Column::TxnType.eq(TxnType::Purchase.code()))
        .filter(transactions::Column::Status.eq(TxnStatus::Success.code()))
        .filter(transactions::Column::RefundedFen.eq(0))
        .filter(transactions::Column::RefundPendingFen.eq(0))
        .filter(transactions::Column::TxnTime.gte(moment));
    if let Some(banks) = banks {
        select = select.filter(transactions::Column::IssuerBank.is_in(banks.iter().copied()));
    }
    Ok(select
        .order_by_asc(transactions::Column::TxnTime)
        .order_by_asc(transactions::Column::Id)
        .one(db)
        .await?)
}

/// Fast refunds the supermarket's fast-refund operator sent on the demo's ended days.
const FAST_REFUNDS: usize = 24;
/// The cardholders' names.
const HOLDERS: &[&str] = &[
    "王芳", "李娜", "张伟", "刘强", "陈静", "杨洋", "赵敏", "黄磊",
];

/// Sends fast refunds of card purchases of merchant `merchant_id` as its fast-refund operator would
/// have on the demo's ended days, through the console's service (agreement, supported bank, what is
/// left of the sale, the shared daily quota), then lets the simulated bank answer them as
/// `vpos serve`'s worker would: most are paid; one in eight each is rejected for the cardholder's
/// name (R01), branch (R02) or account (R03), or failed (F01), so that the exception list and the
/// query have something to show. Returns how many were sent.
async fn send_fast_refunds(
    db: &DatabaseConnection,
    merchant_id: i64,
    options: &DemoOptions,
) -> Result<usize, DemoError> {
    use app::backend::services::fast_refunds;
    use app::backend::services::fast_refunds::bank::{BankConfig, BankWorker, Simulator};
    use app::backend::token::TokenKey;
    use app::backend::{AuthConfig, FastRefundConfig};
    use app::contract::fast_refunds::{CardholderInput, FastRefundInput};
    use app::domain::cardholder::resident_id_with_check;
    use app::domain::Bank;
    use app::error::AppError;

    let mut rng = StdRng::seed_from_u64(options.seed ^ 0xFA57_2EF0);
    let session = demo_session(
        db,
        merchant_id,
        "hualian.fastrefund",
        Role::FastRefundOperator,
    )
    .await?;
    let (key, cfg, config) = (
        TokenKey::generate(),
        AuthConfig::default(),
        FastRefundConfig::default(),
    );
    let supported: Vec<&str> = Bank::ALL
        .iter()
        .filter(|b| b.supports_fast_refund())
        .map(|b| b.code())
        .collect();
    // Sent a while before now, so that the simulated bank has answered by now.
    let sent_by = options.now - Duration::minutes(15);
    let today = options.now.with_timezone(&TZ).date_naive();
    let span = i64::from(options.days.clamp(1, 10));
    let mut made = 0;
    for n in 0..FAST_REFUNDS {
        let day = today - Duration::days(rng.random_range(1..=span));
        let Some(moment) = day
            .and_hms_opt(rng.random_range(9..20), rng.random_range(0..60), 0)
            .and_then(|t| TZ.from_local_datetime(&t).single())
        else {
            continue;
        };
        let at_or_after = moment.with_timezone(&Utc);
        let Some(sale) = untouched_sale(db, &session, at_or_after, Some(&supported)).await? else {
            continue;
        };
        let at = sale.txn_time + Duration::minutes(rng.random_range(30..600));
        if at >= sent_by {
            continue;
        }
        let holder = HOLDERS[rng.random_range(0..HOLDERS.len())];
        let (mut name, mut branch, mut serial) = (
            holder.to_owned(),
            "01",
            format!("{:03}", rng.random_range(100..999)),
        );
        // Whole jiao, below the sale (a fen of 44 is what the simulated bank fails).
        let mut fen = std::cmp::max(
            sale.amount_fen * rng.random_range(20..100) / 100 / 10 * 10,
            10,
        );
        match n % 8 {
            1 => name = format!("{}错", holder.chars().next().unwrap_or('王')),
            3 => branch = "03",
            5 => serial = "999".into(),
            7 if sale.amount_fen >= 100 => {
                fen = std::cmp::min(fen / 100 * 100 + 44, sale.amount_fen)
            }
            _ => {}
        }
        let birth = NaiveDate::from_ymd_opt(
            rng.random_range(1960..2002),
            rng.random_range(1..13),
            rng.random_range(1..29),
        )
        .unwrap_or_default();
        let input = FastRefundInput {
            txn_id: sale.id,
            amount: format!("{}.{:02}", fen / 100, fen % 100),
            reason: "顾客退货，原卡已注销，退至持卡人账户".into(),
            cardholder: CardholderInput {
                name,
                id_type: "resident_id".into(),
                id_number: resident_id_with_check(&format!(
                    "310104{}{serial}",
                    birth.format("%Y%m%d")
                )),
                bank: sale.issuer_bank.clone(),
                province: "31".into(),
                city: "3101".into(),
                branch: format!("{}-3101-{branch}", sale.issuer_bank),
            },
            key: format!("demo-fast-refund-{n:04}"),
            code: String::new(),
        };
        let new = fast_refunds::NewFastRefund::parse(&input, Currency::Cny)
            .map_err(|e| DemoError::Invalid(format!("demo fast refund {n}: {e}")))?;
        match fast_refunds::request(db, &key, &cfg, &config, &session, new, at).await {
            Ok(_) => made += 1,
            // Over the day's quota, say: the operator would be told and send it another day.
            Err(AppError::Refund(_)) => {}
            Err(other) => {
                return Err(DemoError::Invalid(format!(
                    "demo fast refund {n} failed: {other}"
                )))
            }
        }
    }
    // The bank takes them, and answers (the simulator after its delay, long past).
    let worker = BankWorker {
        db: db.clone(),
        bank: std::sync::Arc::new(Simulator::new(std::time::Duration::from_secs(30))),
        config: BankConfig::default(),
    };
    for now in [sent_by, options.now] {
        worker
            .tick(now)
            .await
            .map_err(|e| DemoError::Invalid(format!("demo fast refunds at the bank: {e}")))?;
    }
    Ok(made)
}

/// Statistics for the planner, as after any bulk load. PostgreSQL's autovacuum may be off or late (it
/// had not analysed 10M fresh rows when clearing began): without them PostgreSQL reads a merchant's
/// month to sort it instead of walking the index, and clearing looked for each sale's voids by
/// scanning an index of all the number's voids and refunds: about 8 settlements a minute instead of
/// 180. SQLite keeps none unless asked: without them it found a payment by reference or card number
/// by walking the merchant's month by time (190 ms on 1M rows instead of 0.1 ms).
async fn analyze(db: &DatabaseConnection) -> Result<(), DemoError> {
    db.execute_unprepared("ANALYZE").await?;
    Ok(())
}

async fn create_merchant<C>(
    db: &C,
    index: usize,
    spec: &MerchantSpec,
    options: &DemoOptions,
) -> Result<(LoadedMerchant, Vec<DemoOperator>, usize), DemoError>
where
    C: ConnectionTrait + sea_orm::TransactionTrait,
{
    let bad = |what: &str| DemoError::Invalid(format!("demo data: bad {what} for {}", spec.code));
    let code = MerchantCode::parse(spec.code).map_err(|_| bad("merchant code"))?;
    let numbers = spec
        .stores
        .iter()
        .enumerate()
        .map(|(i, (store, _, _))| {
            let no = format!("898{:04}{}{:04}", 3100 + index, spec.mcc, i + 1);
            MerchantNo::parse(&no)
                .map(|no| (no, (*store).to_owned()))
                .map_err(|_| bad("merchant number"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let now = options.now;
    let merchant_id = platform::create_merchant(
        db,
        NewMerchant {
            code: code.clone(),
            login_prefix: Some(LoginPrefix::parse(spec.short).map_err(|_| bad("short name"))?),
            name: spec.name.into(),
            settlement_bank: spec.bank.into(),
            settlement_account: MaskedAccount::from_account(spec.account)
                .map_err(|_| bad("account"))?,
            refund_mode: spec.refund_mode,
            refund_requires_token: spec.token,
            daily_refund_quota: Money::from_fen(spec.quota_yuan * 100, Currency::Cny),
            refund_window_days: spec.window_days,
            fast_refund_agreement: spec.fast_refund,
            numbers: numbers.clone(),
            fee_rates: standard_fee_rates(),
        },
        now,
    )
    .await?;

    // Merchant number ids, in the order of the stores.
    let backend = db.get_database_backend();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            "SELECT id FROM merchant_numbers WHERE merchant_id = $1 ORDER BY merchant_no",
            [merchant_id.into()],
        ))
        .await?;
    let number_ids = rows
        .iter()
        .map(|r| r.try_get::<i64>("", "id"))
        .collect::<Result<Vec<_>, _>>()?;

    let mut rng = StdRng::seed_from_u64(options.seed ^ ((index as u64 + 1) * 7919));
    let mut terminal_rows = Vec::new();
    let mut groups: HashMap<&str, i64> = HashMap::new();
    let mut serial = 0;
    for (store_index, (_, count, group)) in spec.stores.iter().enumerate() {
        let group_id = match groups.get(group) {
            Some(id) => *id,
            None => {
                let g = terminal_groups::ActiveModel {
                    merchant_id: Set(merchant_id),
                    name: Set((*group).to_owned()),
                    created_at: Set(now),
                    updated_at: Set(now),
                    ..Default::default()
                }
                .insert(db)
                .await?;
                groups.insert(group, g.id);
                g.id
            }
        };
        for t in 0..*count {
            serial += 1;
            let signed_in = rng.random_bool(0.75);
            let status = if rng.random_bool(0.95) {
                "enabled"
            } else {
                "disabled"
            };
            // A terminal signed in today, with today's batch open; the others signed out.
            let today = now.with_timezone(&TZ).date_naive();
            let sign_state_at = (now - Duration::minutes(rng.random_range(5..600)))
                .max(app::backend::local_time::day_start(today, TZ));
            let terminal = terminals::ActiveModel {
                merchant_id: Set(merchant_id),
                merchant_number_id: Set(number_ids[store_index]),
                terminal_no: Set(format!("{}{:04}", 1001 + index * 10, serial)),
                model: Set(spec.models[t % spec.models.len()].to_owned()),
                alias: Set(Some(format!("{} #{}", spec.stores[store_index].0, t + 1))),
                location: Set(None),
                status: Set(status.into()),
                signed_in: Set(signed_in),
                sign_state_at: Set(Some(sign_state_at)),
                last_seen_at: Set(Some(now - Duration::minutes(rng.random_range(0..120)))),
                created_at: Set(now - Duration::days(400)),
                updated_at: Set(now),
                ..Default::default()
            }
            .insert(db)
            .await?;
            terminal_group_members::ActiveModel {
                group_id: Set(group_id),
                terminal_id: Set(terminal.id),
            }
            .insert(db)
            .await?;
            if signed_in {
                terminal_batches::ActiveModel {
                    terminal_id: Set(terminal.id),
                    batch_no: Set(batch_of(today)),
                    status: Set("open".to_owned()),
                    opened_at: Set(sign_state_at),
                    ..Default::default()
                }
                .insert(db)
                .await?;
            }
            // Busy tills and quiet ones: the first terminals of a store take more payments.
            terminal_rows.push((
                terminal.id,
                number_ids[store_index],
                1.0 / ((t + 1) as f64).sqrt(),
            ));
        }
    }

    let mut operators = Vec::new();
    for (suffix, display, roles, group) in spec.operators {
        let login = format!("{}.{}", spec.short, suffix);
        let scope = if group.is_some() {
            DataScope::Groups
        } else {
            DataScope::Merchant
        };
        let created = platform::create_operator(
            db,
            NewOperator {
                merchant_code: code.clone(),
                login_name: LoginName::parse(&login).map_err(|_| bad("login"))?,
                display_name: (*display).to_owned(),
                roles: roles.to_vec(),
                scope,
            },
            Some(options.password.clone()),
            now,
        )
        .await?;
        if let Some(group) = group.and_then(|g| groups.get(g)) {
            db.execute_raw(Statement::from_sql_and_values(
                backend,
                "INSERT INTO operator_terminal_groups (operator_id, group_id) VALUES ($1, $2)",
                [created.id.into(), (*group).into()],
            ))
            .await?;
        }
        operators.push(DemoOperator {
            merchant_code: spec.code.into(),
            login,
            roles: roles.to_vec(),
            scope,
        });
    }

    let count = terminal_rows.len();
    Ok((
        LoadedMerchant {
            merchant_id,
            trade: spec.trade,
            share: spec.share,
            terminals: terminal_rows,
        },
        operators,
        count,
    ))
}

/// One generated transaction row.
struct Row {
    merchant_id: i64,
    merchant_number_id: i64,
    terminal_id: i64,
    txn_type: TxnType,
    status: TxnStatus,
    card_masked: String,
    card_org: CardOrg,
    card_type: CardType,
    bank: Bank,
    amount_fen: i64,
    txn_time: DateTime<Utc>,
    txn_date: NaiveDate,
    auth_code: Option<String>,
    reference_no: String,
    voucher_no: String,
    batch_no: String,
    original_txn_id: Option<i64>,
}

const COLUMNS: &[&str] = &[
    "id",
    "merchant_id",
    "merchant_number_id",
    "terminal_id",
    "txn_type",
    "status",
    "card_masked",
    "card_last4",
    "card_org",
    "card_type",
    "issuer_bank",
    "amount_fen",
    "currency",
    "txn_time",
    "txn_date",
    "auth_code",
    "reference_no",
    "voucher_no",
    "batch_no",
    "original_txn_id",
    "created_at",
];

/// Rows per INSERT statement: SQLite allows 32 766 bound values, PostgreSQL 65 535.
const ROWS_PER_STATEMENT: usize = 1_000;

/// A successful sale that a later void or refund on the same terminal may refer to.
#[derive(Clone, Copy)]
struct Refundable {
    id: i64,
    amount_fen: i64,
    remaining_fen: i64,
    date: NaiveDate,
}

async fn generate_transactions<C: ConnectionTrait>(
    db: &C,
    merchants: &[LoadedMerchant],
    options: &DemoOptions,
) -> Result<u64, DemoError> {
    let mut rng = StdRng::seed_from_u64(options.seed);
    let today = options.now.with_timezone(&TZ).date_naive();
    let first_day = today - Duration::days(i64::from(options.days) - 1);

    // Share of each day: weekends busier, a slow upward trend, today only up to now.
    let day_weights: Vec<f64> = (0..options.days)
        .map(|i| {
            let day = first_day + Duration::days(i64::from(i));
            let weekend = matches!(day.weekday(), Weekday::Sat | Weekday::Sun);
            let trend = 0.9 + 0.2 * f64::from(i) / f64::from(options.days.max(1));
            let part = if day == today {
                elapsed_share(options.now)
            } else {
                1.0
            };
            (if weekend { 1.25 } else { 1.0 }) * trend * part
        })
        .collect();
    let weight_sum: f64 = day_weights.iter().sum();

    let mut writer = Writer::new(db, ROWS_PER_STATEMENT);
    let mut next_id: i64 = 1;
    let mut generated: u64 = 0;
    let mut reference_seq: u64 = 0;
    let mut vouchers: HashMap<i64, u32> = HashMap::new();
    let mut refundable: HashMap<i64, Vec<Refundable>> = HashMap::new();
    let mut refunded: HashMap<i64, i64> = HashMap::new();
    let mut last_report = 0;

    for (i, weight) in day_weights.iter().enumerate() {
        let day = first_day + Duration::days(i as i64);
        // Spread the total exactly: the last day takes what rounding left over.
        let target = if i + 1 == day_weights.len() {
            options.transactions - generated
        } else {
            ((options.transactions as f64) * weight / weight_sum).round() as u64
        }
        .min(options.transactions - generated);
        let batch_no = batch_of(day);
        vouchers.clear();

        let mut rows: Vec<Row> = Vec::with_capacity(target as usize);
        for _ in 0..target {
            let merchant = pick_merchant(&mut rng, merchants);
            let (terminal_id, number_id) = pick_terminal(&mut rng, merchant);
            let time = sample_time(&mut rng, merchant.trade, day, options.now);
            rows.push(sale_skeleton(
                &mut rng,
                merchant,
                terminal_id,
                number_id,
                time,
                day,
            ));
        }
        rows.sort_by_key(|r| r.txn_time);

        for row in &mut rows {
            let id = next_id;
            next_id += 1;
            let voucher = vouchers.entry(row.terminal_id).or_insert(0);
            *voucher += 1;
            row.voucher_no = format!("{:06}", *voucher);
            row.batch_no.clone_from(&batch_no);
            reference_seq += 1;
            row.reference_no = format!(
                "{:03}{:02}{:07}",
                row.txn_time.with_timezone(&TZ).ordinal(),
                row.txn_time.with_timezone(&TZ).hour(),
                reference_seq % 10_000_000
            );
            link_to_original(&mut rng, row, &mut refundable, &mut refunded);
            if row.status == TxnStatus::Success
                && matches!(row.txn_type, TxnType::Purchase | TxnType::PreAuthCompletion)
            {
                let list = refundable.entry(row.terminal_id).or_default();
                list.push(Refundable {
                    id,
                    amount_fen: row.amount_fen,
                    remaining_fen: row.amount_fen,
                    date: day,
                });
                if list.len() > 64 {
                    list.remove(0);
                }
            }
            writer.push(id, row).await?;
        }
        generated += target;
        let percent = generated * 100 / options.transactions.max(1);
        if percent >= last_report + 10 {
            last_report = percent - percent % 10;
            eprintln!("  … {generated} transactions ({percent} %)");
        }
    }
    writer.flush().await?;

    // POS refunds count against their original sale (invariant 1 covers every refund channel).
    let backend = db.get_database_backend();
    for chunk in refunded.into_iter().collect::<Vec<_>>().chunks(500) {
        let mut sql = String::from("UPDATE transactions SET refunded_fen = CASE id");
        let mut values: Vec<Value> = Vec::new();
        for (id, amount) in chunk {
            sql.push_str(&format!(
                " WHEN ${} THEN ${}",
                values.len() + 1,
                values.len() + 2
            ));
            values.push((*id).into());
            values.push((*amount).into());
        }
        sql.push_str(" ELSE refunded_fen END WHERE id IN (");
        for (i, (id, _)) in chunk.iter().enumerate() {
            sql.push_str(&format!(
                "{}${}",
                if i == 0 { "" } else { ", " },
                values.len() + 1
            ));
            values.push((*id).into());
        }
        sql.push(')');
        db.execute_raw(Statement::from_sql_and_values(backend, sql, values))
            .await?;
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared(
            "SELECT setval(pg_get_serial_sequence('transactions', 'id'), (SELECT COALESCE(MAX(id), 1) FROM transactions))",
        )
        .await?;
    }
    Ok(generated)
}

/// Buffers rows and writes them with multi-row INSERTs.
struct Writer<'a, C> {
    db: &'a C,
    rows_per_statement: usize,
    values: Vec<Value>,
    rows: usize,
    full_sql: String,
}

impl<'a, C: ConnectionTrait> Writer<'a, C> {
    fn new(db: &'a C, rows_per_statement: usize) -> Self {
        Self {
            db,
            rows_per_statement,
            values: Vec::with_capacity(rows_per_statement * COLUMNS.len()),
            rows: 0,
            full_sql: insert_sql(db.get_database_backend(), rows_per_statement),
        }
    }

    async fn push(&mut self, id: i64, row: &Row) -> Result<(), DemoError> {
        let last4 = row.card_masked[row.card_masked.len() - 4..].to_owned();
        self.values.extend([
            Value::from(id),
            row.merchant_id.into(),
            row.merchant_number_id.into(),
            row.terminal_id.into(),
            row.txn_type.code().into(),
            row.status.code().into(),
            row.card_masked.clone().into(),
            last4.into(),
            row.card_org.code().into(),
            row.card_type.code().into(),
            row.bank.code().into(),
            row.amount_fen.into(),
            "CNY".into(),
            row.txn_time.into(),
            row.txn_date.into(),
            row.auth_code.clone().into(),
            row.reference_no.clone().into(),
            row.voucher_no.clone().into(),
            row.batch_no.clone().into(),
            row.original_txn_id.into(),
            (row.txn_time + Duration::seconds(1)).into(),
        ]);
        self.rows += 1;
        if self.rows == self.rows_per_statement {
            self.flush().await?;
        }
        Ok(())
    }

    async fn flush(&mut self) -> Result<(), DemoError> {
        if self.rows == 0 {
            return Ok(());
        }
        let sql = if self.rows == self.rows_per_statement {
            self.full_sql.clone()
        } else {
            insert_sql(self.db.get_database_backend(), self.rows)
        };
        let values = std::mem::take(&mut self.values);
        self.db
            .execute_raw(Statement::from_sql_and_values(
                self.db.get_database_backend(),
                sql,
                values,
            ))
            .await?;
        self.values.reserve(self.rows_per_statement * COLUMNS.len());
        self.rows = 0;
        Ok(())
    }
}

/// A multi-row INSERT. SQLite gets positional `?` placeholders: it resolves `$N` by name, which costs
/// time quadratic in the number of parameters of a statement.
fn insert_sql(backend: DbBackend, rows: usize) -> String {
    let mut sql = format!("INSERT INTO transactions ({}) VALUES ", COLUMNS.join(", "));
    let mut n = 0;
    for r in 0..rows {
        if r > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for c in 0..COLUMNS.len() {
            n += 1;
            if c > 0 {
                sql.push_str(", ");
            }
            if backend == DbBackend::Sqlite {
                sql.push('?');
            } else {
                sql.push('$');
                sql.push_str(&n.to_string());
            }
        }
        sql.push(')');
    }
    sql
}

/// The batch of a demo terminal's day: one batch a day, numbered by the day.
fn batch_of(day: NaiveDate) -> String {
    format!(
        "{:06}",
        (day - NaiveDate::from_ymd_opt(2020, 1, 1).unwrap_or(day)).num_days() % 999_999 + 1
    )
}

fn pick_merchant<'m>(rng: &mut StdRng, merchants: &'m [LoadedMerchant]) -> &'m LoadedMerchant {
    let mut x = rng.random::<f64>() * merchants.iter().map(|m| m.share).sum::<f64>();
    for m in merchants {
        if x < m.share {
            return m;
        }
        x -= m.share;
    }
    &merchants[merchants.len() - 1]
}

fn pick_terminal(rng: &mut StdRng, merchant: &LoadedMerchant) -> (i64, i64) {
    let total: f64 = merchant.terminals.iter().map(|t| t.2).sum();
    let mut x = rng.random::<f64>() * total;
    for &(id, number, weight) in &merchant.terminals {
        if x < weight {
            return (id, number);
        }
        x -= weight;
    }
    let last = merchant.terminals[merchant.terminals.len() - 1];
    (last.0, last.1)
}

/// Relative activity by local hour of day.
fn hour_weights(trade: Trade) -> [f64; 24] {
    match trade {
        Trade::Supermarket => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.3, 0.8, 1.0, 1.2, 1.6, 1.8, 1.3, 1.0, 1.0, 1.3,
            2.0, 2.4, 2.1, 1.5, 0.9, 0.3, 0.0,
        ],
        Trade::Coffee => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 1.2, 2.6, 2.2, 1.4, 1.0, 1.2, 1.5, 1.8, 1.6, 1.0,
            0.7, 0.5, 0.4, 0.2, 0.0, 0.0, 0.0,
        ],
        Trade::Hotel => [
            0.3, 0.2, 0.1, 0.1, 0.1, 0.1, 0.2, 0.5, 1.0, 1.2, 1.4, 1.8, 1.6, 1.2, 1.4, 1.6, 1.8,
            2.0, 2.0, 1.8, 1.6, 1.4, 1.0, 0.6,
        ],
        Trade::Online => [
            0.6, 0.4, 0.2, 0.1, 0.1, 0.1, 0.2, 0.4, 0.7, 0.9, 1.0, 1.1, 1.2, 1.1, 1.0, 1.0, 1.1,
            1.2, 1.4, 1.7, 2.0, 2.2, 1.8, 1.1,
        ],
        Trade::Bookshop => [
            0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 1.0, 1.2, 1.0, 1.0, 1.2, 1.4, 1.4,
            1.2, 1.0, 0.8, 0.5, 0.0, 0.0, 0.0,
        ],
    }
}

/// The share of a day's traffic that lies before `now` (for today), by a typical shop's hours.
fn elapsed_share(now: DateTime<Utc>) -> f64 {
    let local = now.with_timezone(&TZ);
    let weights = hour_weights(Trade::Supermarket);
    let total: f64 = weights.iter().sum();
    let hour = local.hour() as usize;
    let done: f64 =
        weights[..hour].iter().sum::<f64>() + weights[hour] * f64::from(local.minute()) / 60.0;
    done / total
}

/// A moment on `day` (local) following the trade's hours, never after `now`.
fn sample_time(
    rng: &mut StdRng,
    trade: Trade,
    day: NaiveDate,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    let weights = hour_weights(trade);
    let local_now = now.with_timezone(&TZ);
    let limit_secs = if day == local_now.date_naive() {
        local_now.num_seconds_from_midnight().max(60)
    } else {
        86_400
    };
    // Restrict the hours to those already begun today; fall back to any hour so there is always one.
    let open: Vec<(usize, f64)> = weights
        .iter()
        .enumerate()
        .filter(|(h, w)| **w > 0.0 && (*h as u32) * 3600 < limit_secs)
        .map(|(h, w)| (h, *w))
        .collect();
    let secs = if open.is_empty() {
        rng.random_range(0..limit_secs)
    } else {
        let total: f64 = open.iter().map(|(_, w)| w).sum();
        let mut x = rng.random::<f64>() * total;
        let mut hour = open[open.len() - 1].0;
        for (h, w) in &open {
            if x < *w {
                hour = *h;
                break;
            }
            x -= w;
        }
        let start = hour as u32 * 3600;
        start + rng.random_range(0..(limit_secs - start).min(3600))
    };
    let local = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::seconds(i64::from(secs));
    TZ.from_local_datetime(&local)
        .earliest()
        .map(|t| t.with_timezone(&Utc))
        .unwrap_or(now)
}

fn normal(rng: &mut StdRng) -> f64 {
    // Box–Muller.
    let u1: f64 = rng.random::<f64>().max(1e-12);
    let u2: f64 = rng.random();
    (-2.0 * u1.ln()).sqrt() * (2.0 * std::f64::consts::PI * u2).cos()
}

/// An amount typical of the trade, in fen.
fn amount(rng: &mut StdRng, trade: Trade, txn_type: TxnType) -> i64 {
    let (median_yuan, sigma, round_to) = match (trade, txn_type) {
        (Trade::Hotel, TxnType::PreAuth) => (1_500.0, 0.4, 10_000),
        (Trade::Hotel, _) => (680.0, 0.6, 100),
        (Trade::Supermarket, _) => (86.0, 0.9, 1),
        (Trade::Coffee, _) => (36.0, 0.35, 100),
        (Trade::Online, _) => (240.0, 1.0, 10),
        (Trade::Bookshop, _) => (68.0, 0.6, 10),
    };
    let yuan = median_yuan * (sigma * normal(rng)).exp();
    let fen = ((yuan * 100.0) as i64).clamp(100, 5_000_000);
    (fen / round_to).max(1) * round_to
}

fn sale_skeleton(
    rng: &mut StdRng,
    merchant: &LoadedMerchant,
    terminal_id: i64,
    number_id: i64,
    time: DateTime<Utc>,
    day: NaiveDate,
) -> Row {
    let roll: f64 = rng.random();
    let txn_type = match merchant.trade {
        Trade::Hotel => match roll {
            r if r < 0.33 => TxnType::PreAuth,
            r if r < 0.62 => TxnType::PreAuthCompletion,
            r if r < 0.95 => TxnType::Purchase,
            r if r < 0.975 => TxnType::Void,
            _ => TxnType::Refund,
        },
        Trade::Online => match roll {
            r if r < 0.94 => TxnType::Purchase,
            r if r < 0.95 => TxnType::Void,
            _ => TxnType::Refund,
        },
        _ => match roll {
            r if r < 0.955 => TxnType::Purchase,
            r if r < 0.98 => TxnType::Void,
            _ => TxnType::Refund,
        },
    };
    let status = match rng.random::<f64>() {
        r if r < 0.94 => TxnStatus::Success,
        r if r < 0.99 => TxnStatus::Failed,
        _ => TxnStatus::Reversed,
    };
    let (card_org, card_type, bank, card_masked) = card(rng, merchant.trade);
    let auth_code = (status == TxnStatus::Success).then(|| random_auth_code(rng));
    Row {
        merchant_id: merchant.merchant_id,
        merchant_number_id: number_id,
        terminal_id,
        txn_type,
        status,
        card_masked,
        card_org,
        card_type,
        bank,
        amount_fen: amount(rng, merchant.trade, txn_type),
        txn_time: time,
        txn_date: day,
        auth_code,
        reference_no: String::new(),
        voucher_no: String::new(),
        batch_no: String::new(),
        original_txn_id: None,
    }
}

/// Voids cancel a sale of the same day and terminal, refunds return part or all of an earlier sale.
/// Without such a sale the row stays a purchase.
fn link_to_original(
    rng: &mut StdRng,
    row: &mut Row,
    refundable: &mut HashMap<i64, Vec<Refundable>>,
    refunded: &mut HashMap<i64, i64>,
) {
    if !matches!(row.txn_type, TxnType::Void | TxnType::Refund) {
        return;
    }
    let candidates = refundable.entry(row.terminal_id).or_default();
    let pick = candidates
        .iter()
        .enumerate()
        .rev()
        .filter(|(_, c)| c.remaining_fen > 0)
        .find(|(_, c)| row.txn_type == TxnType::Refund || c.date == row.txn_date)
        .map(|(i, _)| i);
    let Some(index) = pick else {
        row.txn_type = TxnType::Purchase;
        return;
    };
    let original = candidates[index];
    row.original_txn_id = Some(original.id);
    if row.txn_type == TxnType::Void {
        row.amount_fen = original.amount_fen;
        if row.status == TxnStatus::Success {
            candidates.remove(index);
            // A voided sale gave its whole amount back, as the gateway counts it: nothing of it is
            // left to refund.
            *refunded.entry(original.id).or_insert(0) += original.remaining_fen;
        }
        return;
    }
    row.amount_fen = if rng.random_bool(0.6) {
        original.remaining_fen
    } else {
        (original.remaining_fen * rng.random_range(10..90) / 100).max(1)
    };
    if row.status == TxnStatus::Success {
        candidates[index].remaining_fen -= row.amount_fen;
        *refunded.entry(original.id).or_insert(0) += row.amount_fen;
    }
}

fn random_auth_code(rng: &mut StdRng) -> String {
    const CHARS: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    (0..6)
        .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
        .collect()
}

/// A card: organisation, type, issuing bank, and its number masked from the start (a full number is
/// never generated).
fn card(rng: &mut StdRng, trade: Trade) -> (CardOrg, CardType, Bank, String) {
    let foreign_share = match trade {
        Trade::Hotel => 0.22,
        Trade::Online => 0.15,
        _ => 0.08,
    };
    let org = if rng.random_bool(1.0 - foreign_share) {
        CardOrg::UnionPay
    } else {
        match rng.random::<f64>() {
            r if r < 0.38 => CardOrg::Visa,
            r if r < 0.72 => CardOrg::Mastercard,
            r if r < 0.84 => CardOrg::Jcb,
            r if r < 0.95 => CardOrg::Amex,
            _ => CardOrg::Diners,
        }
    };
    let domestic: &[(Bank, f64)] = &[
        (Bank::Icbc, 18.0),
        (Bank::Ccb, 15.0),
        (Bank::Abc, 12.0),
        (Bank::Boc, 10.0),
        (Bank::Cmb, 12.0),
        (Bank::Bocom, 7.0),
        (Bank::Psbc, 5.0),
        (Bank::Cib, 4.0),
        (Bank::Citic, 4.0),
        (Bank::Ceb, 3.0),
        (Bank::Spdb, 3.0),
        (Bank::Cmbc, 3.0),
        (Bank::Pab, 2.0),
        (Bank::Cgb, 1.0),
        (Bank::Hxb, 1.0),
    ];
    let bank = match org {
        CardOrg::UnionPay => weighted(rng, domestic),
        CardOrg::Visa | CardOrg::Mastercard if rng.random_bool(0.55) => weighted(rng, domestic),
        CardOrg::Jcb | CardOrg::Amex | CardOrg::Diners if rng.random_bool(0.25) => weighted(
            rng,
            &[(Bank::Boc, 1.0), (Bank::Cmb, 1.0), (Bank::Icbc, 1.0)],
        ),
        _ => Bank::Foreign,
    };
    let card_type = match org {
        CardOrg::UnionPay if rng.random_bool(0.58) => CardType::Debit,
        CardOrg::Visa | CardOrg::Mastercard if rng.random_bool(0.15) => CardType::Debit,
        _ => CardType::Credit,
    };
    let (bin, len): (String, usize) = match (org, bank, card_type) {
        (CardOrg::UnionPay, Bank::Icbc, CardType::Debit) => ("622202".into(), 19),
        (CardOrg::UnionPay, Bank::Ccb, CardType::Debit) => ("621700".into(), 19),
        (CardOrg::UnionPay, Bank::Abc, CardType::Debit) => ("622848".into(), 19),
        (CardOrg::UnionPay, Bank::Boc, CardType::Debit) => ("621661".into(), 19),
        (CardOrg::UnionPay, Bank::Cmb, CardType::Debit) => ("621485".into(), 16),
        (CardOrg::UnionPay, Bank::Bocom, CardType::Debit) => ("622262".into(), 19),
        (CardOrg::UnionPay, Bank::Psbc, CardType::Debit) => ("621799".into(), 19),
        (CardOrg::UnionPay, Bank::Cmb, CardType::Credit) => ("622588".into(), 16),
        (CardOrg::UnionPay, Bank::Icbc, CardType::Credit) => ("625330".into(), 16),
        (CardOrg::UnionPay, _, CardType::Debit) => {
            (format!("621{:03}", rng.random_range(0..1000)), 19)
        }
        (CardOrg::UnionPay, _, CardType::Credit) => {
            (format!("625{:03}", rng.random_range(0..1000)), 16)
        }
        (CardOrg::Visa, _, _) => (format!("4{:05}", rng.random_range(0..100_000)), 16),
        (CardOrg::Mastercard, _, _) => (
            format!(
                "5{}{:04}",
                rng.random_range(1..6),
                rng.random_range(0..10_000)
            ),
            16,
        ),
        (CardOrg::Jcb, _, _) => (format!("35{:04}", rng.random_range(2800..9000)), 16),
        (CardOrg::Amex, _, _) => (format!("37{:04}", rng.random_range(0..10_000)), 15),
        (CardOrg::Diners, _, _) => (format!("36{:04}", rng.random_range(0..10_000)), 14),
    };
    let masked = format!(
        "{bin}{}{:04}",
        "*".repeat(len - 10),
        rng.random_range(0..10_000)
    );
    (org, card_type, bank, masked)
}

fn weighted(rng: &mut StdRng, items: &[(Bank, f64)]) -> Bank {
    let total: f64 = items.iter().map(|(_, w)| w).sum();
    let mut x = rng.random::<f64>() * total;
    for (bank, w) in items {
        if x < *w {
            return *bank;
        }
        x -= w;
    }
    items[items.len() - 1].0
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::domain::MaskedPan;

    #[test]
    fn generated_cards_are_already_masked() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..2_000 {
            let (_, _, _, masked) = card(&mut rng, Trade::Hotel);
            let parsed = MaskedPan::parse(&masked).expect("a valid masked PAN");
            assert_eq!(parsed.to_string(), masked);
        }
    }

    #[test]
    fn sampled_times_fall_on_their_day_and_never_after_now() {
        let mut rng = StdRng::seed_from_u64(1);
        let now = TZ
            .with_ymd_and_hms(2026, 11, 22, 9, 30, 0)
            .unwrap()
            .with_timezone(&Utc);
        let today = now.with_timezone(&TZ).date_naive();
        for trade in [
            Trade::Supermarket,
            Trade::Coffee,
            Trade::Hotel,
            Trade::Online,
            Trade::Bookshop,
        ] {
            for day in [today, today - Duration::days(1)] {
                for _ in 0..500 {
                    let t = sample_time(&mut rng, trade, day, now);
                    assert_eq!(t.with_timezone(&TZ).date_naive(), day);
                    assert!(t <= now);
                }
            }
        }
    }

    #[test]
    fn amounts_are_positive_and_bounded() {
        let mut rng = StdRng::seed_from_u64(3);
        for _ in 0..5_000 {
            let a = amount(&mut rng, Trade::Online, TxnType::Purchase);
            assert!((1..=5_000_000).contains(&a));
        }
    }
}
