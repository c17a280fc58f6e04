//! zh-CN and English texts.
//!
//! Every text is a field of [`Texts`], so a language that lacks one does not compile. The language of a
//! page comes from the `vpos_lang` cookie, else the browser's Accept-Language, else zh-CN; the switch in
//! the header changes it without a reload and remembers it in the cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::contract::audit::ObjectKind;
use crate::contract::fast_refunds::{FileProblem, RowProblem};
use crate::domain::access::{Function, Role};
use crate::domain::cardholder::{CardholderProblem, IdType};
use crate::domain::fast_refund::{BatchColumn, FastRefundStatus};
use crate::domain::money::format_fen;
use crate::domain::password::PasswordRule;
use crate::domain::refund::{RefundReason, RefundRefusal, RefundStatus};
use crate::domain::regions::PlaceProblem;
use crate::domain::{
    AuditAction, AuditOutcome, Bank, CardOrg, CardType, DataScope, ExportStatus, MerchantStatus,
    OperatorStatus, RefundMode, SessionEnd, SettlementStatus, TerminalStatus, TxnStatus, TxnType,
};
use crate::error::{AppError, FieldProblem, Policy};

mod en;
mod zh_cn;

pub use en::EN;
pub use zh_cn::ZH_CN;

pub const LANG_COOKIE: &str = "vpos_lang";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum Lang {
    #[default]
    ZhCn,
    En,
}

impl Lang {
    pub const ALL: [Lang; 2] = [Lang::ZhCn, Lang::En];

    /// BCP 47 tag, used in `<html lang>` and the cookie.
    pub const fn tag(self) -> &'static str {
        match self {
            Lang::ZhCn => "zh-CN",
            Lang::En => "en",
        }
    }

    /// Items as a list in this language: `成功、失败` or `Successful, Failed`.
    pub fn list<'a>(self, items: impl IntoIterator<Item = &'a str>) -> String {
        let separator = match self {
            Lang::ZhCn => "、",
            Lang::En => ", ",
        };
        items.into_iter().collect::<Vec<_>>().join(separator)
    }

    pub fn from_tag(tag: &str) -> Option<Lang> {
        let primary = tag.trim().split(['-', '_']).next().unwrap_or_default();
        if primary.eq_ignore_ascii_case("zh") {
            Some(Lang::ZhCn)
        } else if primary.eq_ignore_ascii_case("en") {
            Some(Lang::En)
        } else {
            None
        }
    }

    /// Picks the first supported language of an `Accept-Language` header, by quality.
    pub fn from_accept_language(header: &str) -> Option<Lang> {
        let mut choices: Vec<(Lang, u16)> = header
            .split(',')
            .filter_map(|part| {
                let mut pieces = part.split(';');
                let lang = Lang::from_tag(pieces.next()?)?;
                let q = pieces
                    .find_map(|p| p.trim().strip_prefix("q="))
                    .and_then(|q| q.trim().parse::<f32>().ok())
                    .unwrap_or(1.0);
                // Quality has at most three decimals (RFC 9110): compare in thousandths.
                Some((lang, (q.clamp(0.0, 1.0) * 1000.0) as u16))
            })
            .filter(|(_, q)| *q > 0)
            .collect();
        choices.sort_by_key(|c| std::cmp::Reverse(c.1));
        choices.first().map(|(lang, _)| *lang)
    }

    /// The language for a request: its cookie, else its Accept-Language header, else zh-CN.
    pub fn negotiate(cookie_header: Option<&str>, accept_language: Option<&str>) -> Lang {
        cookie_header
            .and_then(|cookies| {
                cookies.split(';').find_map(|c| {
                    let (name, value) = c.trim().split_once('=')?;
                    (name == LANG_COOKIE)
                        .then(|| Lang::from_tag(value))
                        .flatten()
                })
            })
            .or_else(|| accept_language.and_then(Lang::from_accept_language))
            .unwrap_or_default()
    }

    pub const fn texts(self) -> &'static Texts {
        match self {
            Lang::ZhCn => &ZH_CN,
            Lang::En => &EN,
        }
    }
}

/// The current language, shared through context.
#[derive(Debug, Clone, Copy)]
pub struct I18n {
    lang: RwSignal<Lang>,
}

impl I18n {
    pub fn lang(&self) -> Lang {
        self.lang.get()
    }

    /// The texts of the current language (tracks the language signal).
    pub fn t(&self) -> &'static Texts {
        self.lang.get().texts()
    }

    pub fn set_lang(&self, lang: Lang) {
        self.lang.set(lang);
        #[cfg(feature = "hydrate")]
        remember_lang(lang);
    }
}

#[cfg(feature = "hydrate")]
fn remember_lang(lang: Lang) {
    use wasm_bindgen::JsCast;
    let Some(document) = web_sys::window().and_then(|w| w.document()) else {
        return;
    };
    if let Some(root) = document.document_element() {
        let _ = root.set_attribute("lang", lang.tag());
    }
    if let Ok(html) = document.dyn_into::<web_sys::HtmlDocument>() {
        let _ = html.set_cookie(&format!(
            "{LANG_COOKIE}={}; Path=/; Max-Age=31536000; SameSite=Strict; Secure",
            lang.tag()
        ));
    }
}

/// The language the page starts in. On the server it is negotiated from the request; in the browser it
/// is read back from `<html lang>`, which the server wrote, so hydration renders the same text.
pub fn initial_lang() -> Lang {
    #[cfg(feature = "ssr")]
    {
        use_context::<http::request::Parts>()
            .map(|parts| {
                let header = |name: http::header::HeaderName| {
                    parts
                        .headers
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .map(str::to_owned)
                };
                let cookies = crate::backend::session::all_cookies(&parts.headers);
                Lang::negotiate(
                    Some(cookies.as_str()),
                    header(http::header::ACCEPT_LANGUAGE).as_deref(),
                )
            })
            .unwrap_or_default()
    }
    #[cfg(all(feature = "hydrate", not(feature = "ssr")))]
    {
        web_sys::window()
            .and_then(|w| w.document())
            .and_then(|d| d.document_element())
            .and_then(|e| e.get_attribute("lang"))
            .and_then(|tag| Lang::from_tag(&tag))
            .unwrap_or_default()
    }
    #[cfg(not(any(feature = "ssr", feature = "hydrate")))]
    {
        Lang::default()
    }
}

pub fn provide_i18n(lang: Lang) -> I18n {
    let shared = ArcRwSignal::new(lang);
    let i18n = I18n {
        lang: RwSignal::from(shared.clone()),
    };
    provide_context(i18n);
    provide_context(TitleLang(shared));
    i18n
}

/// The same language signal, reference-counted instead of arena-stored: `<Title>` texts are rendered
/// by leptos_meta after the page's reactive owner, where arena-stored signals may not be reachable.
#[derive(Clone)]
struct TitleLang(ArcRwSignal<Lang>);

/// A reactive page title in the current language, for `<Title text=…/>`.
pub fn title_text(text: fn(Lang) -> String) -> impl Fn() -> String + Send + Sync + 'static {
    let lang = use_context::<TitleLang>()
        .map(|t| t.0)
        .unwrap_or_else(|| ArcRwSignal::new(Lang::default()));
    move || text(lang.get())
}

pub fn use_i18n() -> I18n {
    use_context::<I18n>().unwrap_or_else(|| provide_i18n(Lang::default()))
}

/// A label in each language for a code.
pub trait Label: Copy {
    fn labels(self) -> (&'static str, &'static str);

    fn label(self, lang: Lang) -> &'static str {
        let (zh, en) = self.labels();
        match lang {
            Lang::ZhCn => zh,
            Lang::En => en,
        }
    }
}

macro_rules! labels {
    ($ty:ty { $($variant:ident => $zh:literal, $en:literal;)+ }) => {
        impl Label for $ty {
            fn labels(self) -> (&'static str, &'static str) {
                match self {
                    $(<$ty>::$variant => ($zh, $en),)+
                }
            }
        }
    };
}

labels!(RefundMode {
    Direct => "直接退货", "Direct";
    Approval => "退货审核", "Approval required";
});
labels!(MerchantStatus {
    Active => "正常", "Active";
    Suspended => "已暂停", "Suspended";
});
labels!(OperatorStatus {
    Active => "正常", "Active";
    Locked => "已锁定", "Locked";
    Disabled => "已停用", "Disabled";
});
labels!(DataScope {
    Merchant => "全部终端", "All terminals";
    Groups => "指定终端组", "Assigned terminal groups";
});
labels!(SettlementStatus {
    Pending => "待划付", "Pending";
    Paid => "已划付", "Paid";
});
labels!(CardOrg {
    UnionPay => "银联", "UnionPay";
    Visa => "Visa", "Visa";
    Mastercard => "万事达", "Mastercard";
    Jcb => "JCB", "JCB";
    Amex => "美国运通", "American Express";
    Diners => "大来", "Diners Club";
});
labels!(ExportStatus {
    Queued => "排队中", "Queued";
    Running => "生成中", "Being written";
    Done => "可下载", "Ready";
    Failed => "失败", "Failed";
    Expired => "已过期", "Expired";
});
labels!(TxnType {
    Purchase => "消费", "Purchase";
    PreAuth => "预授权", "Pre-authorisation";
    PreAuthCompletion => "预授权完成", "Pre-auth completion";
    Void => "撤销", "Void";
    Refund => "退货", "Refund";
});
labels!(TxnStatus {
    Success => "成功", "Successful";
    Failed => "失败", "Failed";
    Reversed => "已冲正", "Reversed";
});
labels!(RefundStatus {
    PendingApproval => "待审核", "Awaiting approval";
    Approved => "已审核", "Approved";
    Rejected => "已拒绝", "Rejected";
    Cancelled => "已撤回", "Cancelled";
    Submitted => "已提交", "Submitted";
    PendingClearing => "待清算", "Pending clearing";
    Cleared => "已清算", "Cleared";
    Refunded => "已退款", "Refunded";
    Failed => "退款失败", "Failed";
});
labels!(RefundReason {
    ReturnedGoods => "顾客退货", "Goods returned";
    NotDelivered => "商品或服务未提供", "Goods or service not provided";
    DuplicateCharge => "重复扣款", "Charged twice";
    WrongAmount => "金额错误", "Wrong amount";
    CustomerRequest => "顾客要求取消", "Cancelled at the customer's request";
    Other => "其他", "Other";
});
labels!(CardType {
    Debit => "借记卡", "Debit";
    Credit => "信用卡", "Credit";
});
labels!(Bank {
    Cmb => "招商银行", "China Merchants Bank";
    Icbc => "工商银行", "ICBC";
    Ccb => "建设银行", "China Construction Bank";
    Abc => "农业银行", "Agricultural Bank of China";
    Bocom => "交通银行", "Bank of Communications";
    Cgb => "广发银行", "China Guangfa Bank";
    Cib => "兴业银行", "Industrial Bank";
    Citic => "中信银行", "China CITIC Bank";
    Ceb => "光大银行", "China Everbright Bank";
    Boc => "中国银行", "Bank of China";
    Psbc => "邮储银行", "Postal Savings Bank of China";
    Spdb => "浦发银行", "SPD Bank";
    Cmbc => "民生银行", "China Minsheng Bank";
    Pab => "平安银行", "Ping An Bank";
    Hxb => "华夏银行", "Hua Xia Bank";
    Foreign => "境外发卡行", "Foreign issuer";
});
labels!(Role {
    Administrator => "管理员", "Administrator";
    Finance => "财务人员", "Finance";
    Monitor => "交易监控员", "Transaction monitor";
    RefundOperator => "退货操作员", "Refund operator";
    RefundApprover => "退货审核员", "Refund approver";
    FastRefundOperator => "快速退货操作员", "Fast-refund operator";
});
labels!(Function {
    SettlementQuery => "结算查询", "Settlement query";
    SettlementExport => "下载结算记录", "Download settlements";
    SettlementReconciliationFile => "下载对账文件", "Download reconciliation files";
    TransactionQuery => "交易查询", "Transaction query";
    TransactionExport => "下载交易记录", "Download transactions";
    TransactionReprintSlip => "重打签购单", "Reprint sales slip";
    RefundRequest => "退货申请", "Request refunds";
    RefundApprove => "退货审核", "Approve refunds";
    RefundQuery => "退货申请查询", "Refund request query";
    RefundPendingClearing => "待清算退货列表", "Refunds pending clearing";
    MonitorView => "实时交易监控", "Realtime monitor";
    FastRefundRequest => "快速退货", "Fast refund";
    FastRefundBatch => "批量快速退货", "Batch fast refund";
    FastRefundExceptions => "快速退货异常列表", "Fast-refund exceptions";
    FastRefundQuery => "快速退货查询", "Fast-refund query";
    AdminRoleMatrix => "人员角色与功能", "Roles and functions";
    AdminOperators => "操作员管理", "Operators";
    AdminTerminals => "终端管理", "Terminals";
    AdminTerminalGroups => "终端组管理", "Terminal groups";
    AdminAuditLog => "审计日志", "Audit log";
});

labels!(AuditAction {
    SignIn => "登录", "Sign-in";
    Lockout => "账户锁定", "Account locked";
    SignOut => "退出", "Sign-out";
    SessionTimeout => "会话超时", "Session timed out";
    PasswordChange => "修改密码", "Password change";
    PasswordReset => "重置密码", "Password reset";
    TokenEnrol => "启用令牌", "Token enrolment";
    TokenReset => "重置令牌", "Token reset";
    TokenCheck => "令牌验证", "Token code check";
    OperatorCreate => "新增操作员", "Operator added";
    OperatorUpdate => "修改操作员", "Operator edited";
    OperatorRoles => "修改角色", "Roles changed";
    OperatorScope => "修改数据范围", "Scope changed";
    OperatorEnable => "启用操作员", "Operator enabled";
    OperatorDisable => "停用操作员", "Operator disabled";
    OperatorUnlock => "解锁操作员", "Operator unlocked";
    CertificateBind => "绑定证书", "Certificate bound";
    CertificateUnbind => "解除证书绑定", "Certificate unbound";
    CertificateRevoke => "吊销证书", "Certificate revoked";
    AccessDenied => "拒绝访问", "Access refused";
    AuditExport => "下载审计日志", "Audit log downloaded";
    SettlementExport => "下载结算记录", "Settlements downloaded";
    ReconciliationDownload => "下载对账文件", "Reconciliation file downloaded";
    TransactionExport => "下载交易记录", "Transactions downloaded";
    SlipReprint => "重打签购单", "Slip reprinted";
    ExportStart => "生成下载文件", "Download file requested";
    ExportDownload => "下载文件", "Download file fetched";
    RefundRequest => "退货申请", "Refund requested";
    RefundCancel => "撤回退货申请", "Refund request cancelled";
    RefundApprove => "审核通过退货", "Refund approved";
    RefundReject => "审核拒绝退货", "Refund rejected";
    TerminalUpdate => "修改终端", "Terminal edited";
    TerminalEnable => "启用终端", "Terminal enabled";
    TerminalDisable => "停用终端", "Terminal disabled";
    GroupCreate => "新增终端组", "Terminal group added";
    GroupRename => "重命名终端组", "Terminal group renamed";
    GroupDelete => "删除终端组", "Terminal group deleted";
    GroupTerminals => "调整终端组成员", "Group terminals changed";
    TerminalAdd => "新增终端", "Terminal added";
    FeeRateSet => "设置手续费率", "Fee rate set";
    MerchantPolicy => "修改退货规则", "Refund policy changed";
    FastRefundRequest => "快速退货", "Fast refund sent";
    FastRefundResubmit => "重新快速退货", "Fast refund corrected and resent";
    FastRefundAnswer => "银行处理快速退货", "Bank's answer to a fast refund";
    FastRefundExport => "下载快速退货记录", "Fast refunds downloaded";
    FastRefundBatch => "批量快速退货", "Fast-refund batch sent";
});
labels!(FastRefundStatus {
    Processing => "处理中", "Processing";
    Success => "成功", "Successful";
    Failed => "失败", "Failed";
    Exception => "异常", "Exception";
});
labels!(BatchColumn {
    Reference => "原交易参考号", "Reference number";
    Amount => "退货金额", "Amount";
    Reason => "退货原因", "Reason";
    Name => "持卡人姓名", "Cardholder's name";
    IdType => "证件类型", "ID type";
    IdNumber => "证件号码", "ID number";
    Bank => "开户银行", "Bank";
    Province => "开户省份", "Province";
    City => "开户城市", "City";
    Branch => "开户支行", "Branch";
});
labels!(IdType {
    ResidentId => "居民身份证", "Resident ID card";
    Passport => "护照", "Passport";
    Other => "其他证件", "Other document";
});
labels!(TerminalStatus {
    Enabled => "启用", "Enabled";
    Disabled => "停用", "Disabled";
});
labels!(AuditOutcome {
    Success => "成功", "Success";
    Failure => "失败", "Failure";
    Denied => "拒绝", "Refused";
});

impl Texts {
    /// What a field problem is called in this language.
    /// What the user reads of `error`, in this language.
    pub fn error(&self, error: &AppError) -> String {
        let t = self;
        match error {
            AppError::NoCertificate => t.error_no_certificate.to_owned(),
            AppError::Unauthenticated => t.error_unauthenticated.to_owned(),
            AppError::SignInRefused => t.error_sign_in_refused.to_owned(),
            AppError::PasswordChangeRequired => t.error_password_change_required.to_owned(),
            AppError::Forbidden => t.error_forbidden.to_owned(),
            AppError::NotFound => t.error_not_found.to_owned(),
            AppError::Invalid(_) => t.error_invalid.to_owned(),
            AppError::Conflict => t.error_conflict.to_owned(),
            AppError::Policy(policy) => t.policy(*policy).to_owned(),
            AppError::Refund(refusal) => (t.refund_refusal)(*refusal),
            AppError::TooManyAttempts { retry_after_s } => {
                (t.error_too_many_attempts)(*retry_after_s)
            }
            AppError::Busy => t.error_busy.to_owned(),
            AppError::Internal { correlation_id } => (t.error_internal)(correlation_id),
            AppError::Transport(_) => t.error_unavailable.to_owned(),
        }
    }

    /// What is wrong with `field`: the field's own rule where the language has one, else the
    /// problem in general.
    pub fn field_problem(&self, field: &str, problem: FieldProblem) -> &'static str {
        let specific = match problem {
            FieldProblem::Format => (self.format_rule)(field),
            FieldProblem::RangeReversed => (self.reversed_rule)(field),
            _ => None,
        };
        specific.unwrap_or_else(|| self.problem(problem))
    }

    pub fn problem(&self, problem: FieldProblem) -> &'static str {
        match problem {
            FieldProblem::Required => self.field_required,
            FieldProblem::Format => self.field_format,
            FieldProblem::Captcha => self.field_captcha,
            FieldProblem::WrongPassword => self.field_wrong_password,
            FieldProblem::Taken => self.field_taken,
            FieldProblem::Password(rule) => self.rule(rule),
            FieldProblem::CodeWrong => self.field_code_wrong,
            FieldProblem::CodeUsed => self.field_code_used,
            FieldProblem::RangeReversed => self.field_range_reversed,
            FieldProblem::Cardholder(problem) => (self.cardholder_problem)(problem),
            FieldProblem::Place(problem) => (self.place_problem)(problem),
        }
    }

    /// What is wrong with a row of a batch file.
    pub fn row_problem(&self, column: Option<BatchColumn>, problem: RowProblem) -> String {
        match problem {
            RowProblem::Field(p) => self
                .field_problem(column.map_or("", |c| c.code()), p)
                .to_owned(),
            RowProblem::Refusal(r) => (self.refund_refusal)(r),
            RowProblem::TxnNotFound => self.fr_err_txn_not_found.to_owned(),
            RowProblem::NotInList => self.fr_err_not_in_list.to_owned(),
        }
    }

    pub fn policy(&self, policy: Policy) -> &'static str {
        match policy {
            Policy::SelfDisable => self.policy_self_disable,
            Policy::SelfDemote => self.policy_self_demote,
            Policy::LastAdministrator => self.policy_last_admin,
            Policy::CertificateBoundElsewhere => self.policy_cert_elsewhere,
            Policy::CertificateUnknown => self.policy_cert_unknown,
            Policy::CertificateNotValid => self.policy_cert_not_valid,
            Policy::CertificateNotForMerchant => self.policy_cert_not_for_merchant,
            Policy::TokenNotEnrolled => self.policy_token_not_enrolled,
            Policy::TokenAlreadyEnrolled => self.policy_token_enrolled,
            Policy::TokenLocked => self.policy_token_locked,
            Policy::ExportTooLarge => self.policy_export_too_large,
            Policy::MerchantScopeRequired => self.policy_merchant_scope,
            Policy::MerchantSuspended => self.policy_merchant_suspended,
            Policy::GroupInUse => self.policy_group_in_use,
            Policy::BatchEmpty => self.policy_batch_empty,
            Policy::BatchAlreadySubmitted => self.policy_batch_submitted,
            Policy::SlipFromToday => self.policy_slip_today,
            Policy::ExportsBusy => self.policy_exports_busy,
            Policy::OwnRefund => self.policy_own_refund,
            Policy::SecondApproverNeeded => self.policy_second_approver,
            Policy::NotTheRequester => self.policy_not_requester,
            Policy::RefundStatusChanged => self.policy_refund_status_changed,
            Policy::IdempotencyKeyReused => self.policy_idempotency_reused,
        }
    }

    pub fn rule(&self, rule: PasswordRule) -> &'static str {
        match rule {
            PasswordRule::TooShort => self.rule_too_short,
            PasswordRule::TooLong => self.rule_too_long,
            PasswordRule::NeedsLetter => self.rule_letter,
            PasswordRule::NeedsDigit => self.rule_digit,
            PasswordRule::SurroundingSpace => self.rule_space,
            PasswordRule::RecentlyUsed => self.rule_recent,
            PasswordRule::Mismatch => self.rule_mismatch,
        }
    }
}

/// One question and its answer on the help page.
pub struct Faq {
    pub question: &'static str,
    pub answer: &'static [&'static str],
}

/// Every text of the console in one language.
pub struct Texts {
    pub app_name: &'static str,
    pub app_short: &'static str,
    pub language_name: &'static str,
    pub switch_language: &'static str,
    pub skip_to_content: &'static str,
    pub loading: &'static str,
    pub yes: &'static str,
    pub no: &'static str,
    pub none: &'static str,

    pub nav_label: &'static str,
    pub nav_menu: &'static str,
    pub nav_home: &'static str,
    pub nav_help: &'static str,

    pub not_found_title: &'static str,
    pub not_found_body: &'static str,
    pub back_home: &'static str,

    pub home_title: &'static str,
    pub home_welcome: &'static str,
    pub home_merchant_info: &'static str,
    pub home_merchant_code: &'static str,
    pub home_merchant_name: &'static str,
    pub home_status: &'static str,
    pub home_settlement_account: &'static str,
    pub home_settlement_cycle: &'static str,
    pub home_settlement_cycle_value: fn(i32) -> String,
    pub home_refund_mode: &'static str,
    pub home_refund_token: &'static str,
    pub home_refund_token_required: &'static str,
    pub home_refund_token_not_required: &'static str,
    pub home_daily_quota: &'static str,
    pub home_refund_window: &'static str,
    pub home_refund_window_value: fn(i32) -> String,
    pub home_fast_refund: &'static str,
    pub home_fast_refund_signed: &'static str,
    pub home_fast_refund_unsigned: &'static str,
    pub home_balance: &'static str,
    pub home_time_zone: &'static str,
    pub home_merchant_numbers: &'static str,
    pub home_merchant_no: &'static str,
    pub home_store_name: &'static str,
    pub home_terminals: &'static str,
    pub home_terminal_count: fn(i64, i64) -> String,
    pub home_you: &'static str,
    pub home_operator: &'static str,
    pub home_roles: &'static str,
    pub home_scope: &'static str,
    pub home_certificate: &'static str,
    pub home_cert_subject: &'static str,
    pub home_cert_fingerprint: &'static str,
    pub home_cert_valid_until: &'static str,
    pub home_unbound_title: &'static str,
    pub home_unbound_body: &'static str,
    pub home_figures_title: &'static str,
    pub home_today: &'static str,
    pub home_yesterday: &'static str,
    pub home_sales_of: fn(String) -> String,
    pub home_out: &'static str,
    pub home_view_day: &'static str,
    pub home_money_title: &'static str,
    pub home_last_settlement: &'static str,
    pub home_settlement_day: fn(String, String) -> String,
    pub home_next_payout: &'static str,
    pub home_next_payout_value: fn(String, u64) -> String,
    pub home_no_payout: &'static str,
    pub home_payout_note: &'static str,
    pub home_held: &'static str,
    pub home_held_value: fn(String) -> String,
    pub home_approvals: &'static str,
    pub home_running: fn(String) -> String,
    pub home_running_link: &'static str,
    pub home_chart_title: fn(i64) -> String,
    pub home_chart_scale: &'static str,
    pub home_chart_table: &'static str,
    pub home_day: &'static str,
    pub home_quick_links: &'static str,
    pub home_link_search: &'static str,
    pub home_link_settlements: &'static str,
    pub home_link_approvals: &'static str,
    pub home_link_held: &'static str,
    pub home_open: &'static str,

    pub help_title: &'static str,
    pub help_intro: &'static str,
    pub help_statuses_q: &'static str,
    pub help_statuses_txn: &'static str,
    pub help_statuses_settlement: &'static str,
    pub help_statuses_refund: &'static str,
    pub help_statuses_refund_flow: &'static str,
    pub faqs: &'static [Faq],

    pub nav_password: &'static str,
    pub audit_any: &'static str,
    pub audit_from: &'static str,
    pub audit_to: &'static str,
    pub audit_operator: &'static str,
    pub audit_action: &'static str,
    pub audit_outcome: &'static str,
    pub audit_col_id: &'static str,
    pub audit_col_time: &'static str,
    pub audit_col_operator: &'static str,
    pub audit_col_action: &'static str,
    pub audit_col_outcome: &'static str,
    pub audit_col_object: &'static str,
    pub audit_col_address: &'static str,
    pub audit_col_certificate: &'static str,
    pub audit_col_detail: &'static str,
    pub label_sep: &'static str,
    pub audit_object_kind: fn(ObjectKind) -> &'static str,
    pub audit_detail_key: fn(&str) -> Option<&'static str>,
    pub audit_ids_note: &'static str,
    pub audit_by_platform: &'static str,
    pub audit_sheet: &'static str,
    pub audit_filters_sheet: &'static str,
    pub audit_intro: &'static str,
    pub audit_search: &'static str,
    pub audit_reset: &'static str,
    pub audit_download: &'static str,
    pub audit_total: &'static str,
    pub audit_next: &'static str,
    pub audit_newest: &'static str,
    pub audit_none: &'static str,
    pub audit_download_too_many: &'static str,
    pub policy_merchant_scope: &'static str,
    pub policy_merchant_suspended: &'static str,
    pub settle_intro: &'static str,
    pub settle_from: &'static str,
    pub settle_to: &'static str,
    pub settle_number: &'static str,
    pub settle_status: &'static str,
    pub settle_col_date: &'static str,
    pub settle_col_number: &'static str,
    pub settle_col_store: &'static str,
    pub settle_col_sales: &'static str,
    pub settle_col_gross: &'static str,
    pub settle_col_refunds: &'static str,
    pub settle_col_refund_amount: &'static str,
    pub settle_col_fees: &'static str,
    pub settle_col_net: &'static str,
    pub settle_col_status: &'static str,
    pub settle_col_account: &'static str,
    pub settle_col_period: &'static str,
    pub settle_col_paid_at: &'static str,
    pub settle_sheet: &'static str,
    pub settle_total: &'static str,
    pub settle_sums: &'static str,
    pub settle_none: &'static str,
    pub settle_detail: &'static str,
    pub settle_recon: &'static str,
    pub settle_transactions: &'static str,
    pub settle_yesterday: &'static str,
    pub settle_back: &'static str,
    pub search: &'static str,
    pub reset: &'static str,
    pub download_excel: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
    pub prev_page: &'static str,
    pub last_page: &'static str,
    pub page_position: &'static str,
    pub page_position_none: &'static str,
    pub page_nav: &'static str,
    pub page_jump_day: &'static str,
    pub page_jump: &'static str,
    pub settle_recon_short: &'static str,
    pub txn_intro: &'static str,
    pub txn_from: &'static str,
    pub txn_to: &'static str,
    pub txn_type: &'static str,
    pub txn_status: &'static str,
    pub txn_card: &'static str,
    pub txn_card_hint: &'static str,
    pub txn_amount: &'static str,
    pub txn_reference: &'static str,
    pub txn_terminal: &'static str,
    pub txn_group: &'static str,
    pub txn_number: &'static str,
    pub txn_org: &'static str,
    pub txn_card_type: &'static str,
    pub txn_bank: &'static str,
    pub txn_auth: &'static str,
    pub txn_batch: &'static str,
    pub txn_sdate: &'static str,
    pub txn_settlement: &'static str,
    pub txn_min: &'static str,
    pub txn_max: &'static str,
    pub txn_size: &'static str,
    pub txn_advanced: &'static str,
    pub txn_filters_none: &'static str,
    pub txn_sheet: &'static str,
    pub txn_col_time: &'static str,
    pub txn_col_card: &'static str,
    pub txn_col_amount: &'static str,
    pub txn_col_fee: &'static str,
    pub txn_col_reference: &'static str,
    pub txn_col_voucher: &'static str,
    pub txn_total: &'static str,
    pub txn_none: &'static str,
    pub txn_today: &'static str,
    pub txn_yesterday: &'static str,
    pub txn_detail: &'static str,
    pub txn_back: &'static str,
    pub txn_summary: &'static str,
    pub txn_sum_by_date: &'static str,
    pub txn_sum_by_sdate: &'static str,
    pub txn_sum_by_number: &'static str,
    pub txn_sum_by_org: &'static str,
    pub txn_sum_count: &'static str,
    pub txn_sum_amount: &'static str,
    pub txn_sum_total: &'static str,
    pub txn_unsettled: &'static str,
    pub txn_sum_sales: &'static str,
    pub txn_sum_voids: &'static str,
    pub txn_sum_refunds: &'static str,
    pub txn_sum_net: &'static str,
    pub txn_sum_preauths: &'static str,
    pub txn_sum_failed: &'static str,
    pub txn_sum_reversed: &'static str,
    pub txn_sum_no_money: &'static str,
    pub txn_sum_explained: &'static str,
    pub txn_sum_amount_of: &'static str,
    pub tie_title: &'static str,
    pub tie_item: &'static str,
    pub tie_settlement: &'static str,
    pub tie_rows: &'static str,
    pub tie_sales: &'static str,
    pub tie_terminal_refunds: &'static str,
    pub tie_console_refunds: &'static str,
    pub tie_console_note: &'static str,
    pub tie_refunds_total: &'static str,
    pub tie_fees: &'static str,
    pub tie_net: &'static str,
    pub tie_ok: &'static str,
    pub tie_off: &'static str,
    pub tie_refund_list: &'static str,
    pub txn_original: &'static str,
    pub txn_linked: &'static str,
    pub txn_refunded: &'static str,
    pub txn_alias: &'static str,
    pub txn_store: &'static str,
    pub txn_reprint: &'static str,
    pub txn_reprint_on_terminal: &'static str,
    pub txn_settlement_link: &'static str,
    pub slip_title: &'static str,
    pub slip_copy: &'static str,
    pub slip_reprint: &'static str,
    pub slip_merchant_name: &'static str,
    pub slip_merchant_no: &'static str,
    pub slip_terminal: &'static str,
    pub slip_card: &'static str,
    pub slip_issuer: &'static str,
    pub slip_txn_type: &'static str,
    pub slip_batch: &'static str,
    pub slip_voucher: &'static str,
    pub slip_reference: &'static str,
    pub slip_auth: &'static str,
    pub slip_time: &'static str,
    pub slip_amount: &'static str,
    pub slip_original: &'static str,
    pub slip_signature: &'static str,
    pub slip_ack: &'static str,
    pub slip_reprinted_at: &'static str,
    pub slip_print: &'static str,
    pub policy_slip_today: &'static str,
    pub policy_exports_busy: &'static str,
    pub refund_new_title: &'static str,
    pub refund_intro_direct: &'static str,
    pub refund_intro_approval: &'static str,
    pub refund_token_needed: &'static str,
    pub refund_original: &'static str,
    pub refund_refunded: &'static str,
    pub refund_in_flight: &'static str,
    pub refund_refundable: &'static str,
    pub refund_quota_left: &'static str,
    pub refund_window: &'static str,
    pub refund_amount: &'static str,
    pub refund_amount_hint: &'static str,
    pub refund_reason: &'static str,
    pub refund_reason_pick: &'static str,
    pub refund_reason_text: &'static str,
    pub refund_reason_text_hint: &'static str,
    pub refund_submit: &'static str,
    pub refund_created: &'static str,
    pub approvals_intro: &'static str,
    pub approvals_none_direct: &'static str,
    pub approvals_none: &'static str,
    pub refund_confirm_approve: fn(String) -> String,
    pub refund_confirm_reject: fn(String) -> String,
    pub refund_decision_done: fn(RefundStatus) -> &'static str,
    pub refund_confirm_title: &'static str,
    pub refund_confirm_card: &'static str,
    pub refund_confirm_left: &'static str,
    pub refund_confirm_clearing: &'static str,
    pub refund_confirm_covered: &'static str,
    pub refund_confirm_held: &'static str,
    pub refund_confirm_token: &'static str,
    pub refund_confirm_yes: &'static str,
    pub refund_confirm_no: &'static str,
    pub refund_confirm_approval: &'static str,
    pub refund_confirm_submit: &'static str,
    pub refund_confirm_back: &'static str,
    pub refund_view_request: &'static str,
    pub refund_cannot: &'static str,
    pub refund_history: &'static str,
    pub refund_none: &'static str,
    pub refund_col_requested: &'static str,
    pub refund_col_txn_amount: &'static str,
    pub refund_col_amount: &'static str,
    pub refund_col_status: &'static str,
    pub refund_col_requester: &'static str,
    pub refund_col_approver: &'static str,
    pub refund_from: &'static str,
    pub refund_to: &'static str,
    pub refund_reference: &'static str,
    pub refund_total: &'static str,
    pub refund_awaiting: &'static str,
    pub refund_detail: &'static str,
    pub refund_back: &'static str,
    pub refund_steps: &'static str,
    pub refund_step_by_clearing: &'static str,
    pub refund_shortfall: &'static str,
    pub refund_failure: &'static str,
    pub refund_comment: &'static str,
    pub refund_comment_hint: &'static str,
    pub refund_approve: &'static str,
    pub refund_reject: &'static str,
    pub refund_cancel: &'static str,
    pub refund_decide_title: &'static str,
    pub refund_decide_intro: &'static str,
    pub refund_second_note: &'static str,
    pub refund_others: &'static str,
    pub refund_action: &'static str,
    pub refund_requests_of_txn: &'static str,
    pub refund_decision_comment: &'static str,
    pub refund_decided_at: &'static str,
    pub refund_submitted_at: &'static str,
    pub refund_cleared_at: &'static str,
    pub refund_col_shortfall: &'static str,
    pub refund_settlement: &'static str,
    pub refund_in_settlement: &'static str,
    pub pending_intro: &'static str,
    pub pending_balance: &'static str,
    pub pending_held: fn(u64, i64) -> String,
    pub pending_missing: &'static str,
    pub pending_none: &'static str,
    pub policy_own_refund: &'static str,
    pub policy_second_approver: &'static str,
    pub policy_not_requester: &'static str,
    pub policy_refund_status_changed: &'static str,
    pub policy_idempotency_reused: &'static str,
    /// Why a refund is refused, amounts as money.
    pub refund_refusal: fn(RefundRefusal) -> String,
    pub nav_downloads: &'static str,
    pub exports_intro: &'static str,
    pub exports_col_requested: &'static str,
    pub exports_col_kind: &'static str,
    pub exports_col_rows: &'static str,
    pub exports_col_progress: &'static str,
    pub exports_col_status: &'static str,
    pub exports_col_file: &'static str,
    pub exports_col_expires: &'static str,
    pub exports_none: &'static str,
    pub exports_download: &'static str,
    pub exports_kind_transactions: &'static str,
    pub exports_start: &'static str,
    pub exports_background: &'static str,
    pub exports_too_many: &'static str,
    pub exports_started: &'static str,
    pub exports_interrupted: &'static str,
    pub nav_token: &'static str,
    pub token_title: &'static str,
    pub token_intro: &'static str,
    pub token_status: &'static str,
    pub token_state_none: &'static str,
    pub token_state_active: &'static str,
    pub token_state_locked: &'static str,
    pub token_enrolled_at: &'static str,
    pub token_locked_until: &'static str,
    pub token_enrol: &'static str,
    pub token_enrol_intro: &'static str,
    pub token_enrol_start: &'static str,
    pub token_enrol_password: &'static str,
    pub token_scan: &'static str,
    pub token_qr_label: &'static str,
    pub token_type_instead: &'static str,
    pub token_account: &'static str,
    pub token_shown_once: &'static str,
    pub token_code: &'static str,
    pub token_enrol_confirm: &'static str,
    pub token_try: &'static str,
    pub token_try_intro: &'static str,
    pub token_try_submit: &'static str,
    pub token_try_ok: &'static str,
    pub nav_sign_in: &'static str,
    pub sign_out: &'static str,
    pub signed_in_as: &'static str,

    pub login_title: &'static str,
    pub login_heading: &'static str,
    pub login_intro: &'static str,
    pub login_certificate: &'static str,
    pub login_name: &'static str,
    pub login_password: &'static str,
    pub login_captcha: &'static str,
    pub login_captcha_hint: &'static str,
    pub login_captcha_refresh: &'static str,
    pub login_submit: &'static str,
    pub login_submitting: &'static str,
    pub login_help: &'static str,

    pub password_title: &'static str,
    pub password_forced: &'static str,
    pub password_current: &'static str,
    pub password_new: &'static str,
    pub password_confirm: &'static str,
    pub password_rules: &'static str,
    pub password_submit: &'static str,
    pub password_saving: &'static str,
    pub password_done: &'static str,
    pub rule_too_short: &'static str,
    pub rule_too_long: &'static str,
    pub rule_letter: &'static str,
    pub rule_digit: &'static str,
    pub rule_space: &'static str,
    pub rule_recent: &'static str,
    pub rule_mismatch: &'static str,

    pub field_required: &'static str,
    pub date_placeholder: &'static str,
    pub field_format: &'static str,
    pub field_captcha: &'static str,
    pub field_wrong_password: &'static str,
    pub field_taken: &'static str,
    pub policy_self_disable: &'static str,
    pub policy_self_demote: &'static str,
    pub policy_last_admin: &'static str,
    pub policy_cert_elsewhere: &'static str,
    pub policy_cert_unknown: &'static str,
    pub policy_cert_not_valid: &'static str,
    pub policy_cert_not_for_merchant: &'static str,
    pub policy_token_not_enrolled: &'static str,
    pub policy_token_enrolled: &'static str,
    pub policy_token_locked: &'static str,
    pub field_code_wrong: &'static str,
    pub field_code_used: &'static str,
    pub field_range_reversed: &'static str,
    /// What a field must look like, said when its value was not in that format (none: the generic
    /// [`Texts::field_format`]).
    pub format_rule: fn(&str) -> Option<&'static str>,
    /// The end of which range came before its start, by the end's field.
    pub reversed_rule: fn(&str) -> Option<&'static str>,
    pub policy_export_too_large: &'static str,

    pub roles_intro: &'static str,
    pub roles_function: &'static str,
    pub roles_area: &'static str,
    pub granted: &'static str,
    pub not_granted: &'static str,

    pub ops_search: &'static str,
    pub ops_search_button: &'static str,
    pub ops_add: &'static str,
    pub ops_login: &'static str,
    /// Under the login name of a new operator, given the merchant's prefix.
    pub ops_login_prefix_hint: fn(&str) -> String,
    pub ops_name: &'static str,
    pub ops_roles: &'static str,
    pub ops_scope: &'static str,
    pub ops_groups: &'static str,
    pub ops_approval_limit: &'static str,
    pub ops_approval_limit_hint: &'static str,
    pub ops_status: &'static str,
    pub ops_last_login: &'static str,
    pub ops_certificates: &'static str,
    pub ops_token: &'static str,
    pub ops_token_enrolled: &'static str,
    pub ops_token_none: &'static str,
    pub ops_none_found: &'static str,
    pub ops_new_title: &'static str,
    pub ops_create: &'static str,
    pub ops_save: &'static str,
    pub ops_saved: &'static str,
    pub ops_otp_title: &'static str,
    pub ops_otp_body: &'static str,
    pub ops_open: &'static str,
    pub ops_back: &'static str,
    pub ops_enable: &'static str,
    pub ops_disable: &'static str,
    pub ops_unlock: &'static str,
    pub ops_reset_password: &'static str,
    pub ops_reset_token: &'static str,
    pub ops_actions: &'static str,
    pub ops_done: &'static str,
    pub ops_locked_until: &'static str,
    pub ops_failed: &'static str,
    pub ops_must_change: &'static str,
    pub ops_fingerprint: &'static str,
    pub ops_subject: &'static str,
    pub ops_valid_until: &'static str,
    pub ops_bind: &'static str,
    pub ops_unbind: &'static str,
    pub ops_bind_hint: &'static str,
    pub ops_no_certificates: &'static str,
    pub ops_no_groups: &'static str,
    pub login_fingerprint: &'static str,
    pub error_sign_in_refused: &'static str,
    pub error_password_change_required: &'static str,

    pub error_title: &'static str,
    pub error_title_forbidden: &'static str,
    pub error_forbidden_hint: &'static str,
    pub downloads_about: &'static str,
    pub error_no_certificate: &'static str,
    pub error_unauthenticated: &'static str,
    pub error_forbidden: &'static str,
    pub error_not_found: &'static str,
    pub error_invalid: &'static str,
    pub error_conflict: &'static str,
    pub error_internal: fn(&str) -> String,
    pub error_unavailable: &'static str,
    pub error_too_many_attempts: fn(u32) -> String,
    pub error_busy: &'static str,

    pub footer: &'static str,
    pub term_search: &'static str,
    pub term_number: &'static str,
    pub term_any_number: &'static str,
    pub term_groups: &'static str,
    pub term_any_group: &'static str,
    pub term_status: &'static str,
    pub term_any_status: &'static str,
    pub term_signed_in: &'static str,
    pub term_signed_out: &'static str,
    pub term_any_sign: &'static str,
    pub term_first_of: fn(u64, u64) -> String,
    pub term_none_found: &'static str,
    pub term_no: &'static str,
    pub term_alias: &'static str,
    pub term_sign_state: &'static str,
    pub term_last_seen: &'static str,
    pub term_last_sign_in: &'static str,
    pub term_last_sign_out: &'static str,
    pub term_back: &'static str,
    pub term_model: &'static str,
    pub term_today_sales: fn(&str) -> String,
    pub term_open_batch: &'static str,
    pub term_no_open_batch: &'static str,
    pub term_out_of_balance: &'static str,
    pub term_none_out_of_balance: &'static str,
    pub term_settings: &'static str,
    pub term_enabled: &'static str,
    pub term_enabled_hint: &'static str,
    pub term_save: &'static str,
    pub term_host_totals: &'static str,
    pub term_declared_totals: &'static str,
    pub term_sales: &'static str,
    pub term_voids: &'static str,
    pub term_refunds: &'static str,
    pub grp_new_name: &'static str,
    pub grp_create: &'static str,
    pub grp_none: &'static str,
    pub grp_name: &'static str,
    pub grp_terminals: &'static str,
    pub grp_operators: &'static str,
    pub grp_back: &'static str,
    pub grp_rename: &'static str,
    pub grp_no_operators: &'static str,
    pub grp_delete: &'static str,
    pub grp_delete_hint: &'static str,
    pub grp_no_terminals: &'static str,
    pub grp_remove: &'static str,
    pub grp_add_terminals: &'static str,
    pub grp_add: &'static str,
    pub policy_group_in_use: &'static str,
    pub fr_overdue: &'static str,
    pub policy_batch_empty: &'static str,
    pub policy_batch_submitted: &'static str,
    pub fr_err_row: &'static str,
    pub fr_err_column: &'static str,
    pub fr_err_problem: &'static str,
    pub fr_err_sheet: &'static str,
    pub fr_upload_file: &'static str,
    pub fr_err_txn_not_found: &'static str,
    pub fr_err_not_in_list: &'static str,
    pub file_problem: fn(&FileProblem) -> String,
    pub fr_batch_intro: &'static str,
    pub fr_batch_view: &'static str,
    pub fr_batch_template: &'static str,
    pub fr_batch_file: &'static str,
    pub fr_batch_file_hint: &'static str,
    pub fr_batch_upload: &'static str,
    pub fr_batch_rows: &'static str,
    pub fr_batch_valid: &'static str,
    pub fr_batch_valid_total: &'static str,
    pub fr_batch_errors: &'static str,
    pub fr_batch_over_quota: &'static str,
    pub fr_batch_error_report: &'static str,
    pub fr_batch_cancel: &'static str,
    pub fr_batch_created: fn(u64, &str) -> String,
    pub fr_batch_earlier: fn(&str) -> String,
    pub fr_batch_errors_shown: fn(u64) -> String,
    pub fr_batch_submit: fn(u64) -> String,
    pub fr_sheet: &'static str,
    pub fr_template_sheet: &'static str,
    pub fr_template_notes_sheet: &'static str,
    pub fr_template_lists_sheet: &'static str,
    pub fr_template_example_reason: &'static str,
    pub fr_template_notes: &'static [&'static str],
    pub fr_history: &'static str,
    pub fr_search_intro: &'static str,
    pub fr_no_candidates: &'static str,
    pub fr_more_candidates: &'static str,
    pub fr_new_title: &'static str,
    pub fr_back_to_search: &'static str,
    pub fr_view_item: &'static str,
    pub fr_cardholder: &'static str,
    pub fr_name: &'static str,
    pub fr_name_hint: &'static str,
    pub fr_id_type: &'static str,
    pub fr_pick: &'static str,
    pub fr_id_number: &'static str,
    pub fr_bank: &'static str,
    pub fr_bank_hint: &'static str,
    pub fr_province: &'static str,
    pub fr_city: &'static str,
    pub fr_branch: &'static str,
    pub fr_due: &'static str,
    pub fr_form_intro: &'static str,
    pub fr_history_of_txn: &'static str,
    pub fr_resubmissions: &'static str,
    pub fr_bank_reason: &'static str,
    pub fr_correct: &'static str,
    pub fr_exceptions_intro: &'static str,
    pub fr_only_overdue: &'static str,
    pub fr_no_exceptions: &'static str,
    pub fr_none: &'static str,
    pub fr_detail: &'static str,
    pub fr_back_to_query: &'static str,
    pub fr_resent: &'static str,
    pub fr_sent: &'static str,
    pub fr_completed: &'static str,
    pub fr_batch: &'static str,
    pub fr_by_bank: &'static str,
    pub fr_correct_title: &'static str,
    pub fr_correct_intro: &'static str,
    pub fr_resubmit: &'static str,
    pub fr_changed: &'static str,
    pub fr_created: fn(&str) -> String,
    pub fr_total: fn(&str) -> String,
    pub fr_bank_reason_text: fn(&str, &str) -> String,
    pub cardholder_problem: fn(CardholderProblem) -> &'static str,
    pub place_problem: fn(PlaceProblem) -> &'static str,
    pub monitor_about: &'static str,
    pub monitor_any_terminal: &'static str,
    pub monitor_apply: &'static str,
    pub monitor_refresh: &'static str,
    pub monitor_pause: &'static str,
    pub monitor_resume: &'static str,
    pub monitor_paused: fn(usize) -> String,
    pub monitor_connecting: &'static str,
    pub monitor_live: &'static str,
    pub monitor_reconnecting: &'static str,
    pub monitor_static: &'static str,
    pub monitor_ended: fn(SessionEnd) -> String,
    pub monitor_refused: &'static str,
    pub monitor_none: &'static str,
    pub monitor_col_response: &'static str,
    pub monitor_new: &'static str,
}

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

    #[test]
    fn a_fields_rule_is_said_in_both_languages() {
        let typed = [
            "amount",
            "min",
            "max",
            "approval_limit",
            "card",
            "ref",
            "size",
            "terminal",
            "number",
            "auth",
            "batch",
            "from",
            "to",
            "sdate",
            "at",
            "pos",
            "after",
            "before",
            "login_name",
        ];
        for field in typed {
            let (zh, en) = (
                ZH_CN.field_problem(field, FieldProblem::Format),
                EN.field_problem(field, FieldProblem::Format),
            );
            assert_ne!(zh, ZH_CN.field_format, "{field} has its rule in Chinese");
            assert_ne!(en, EN.field_format, "{field} has its rule in English");
        }
        // A field without a rule of its own is told the problem in general.
        assert_eq!(
            EN.field_problem("comment", FieldProblem::Format),
            EN.field_format
        );
        // A reversed range names which one.
        assert!(ZH_CN
            .field_problem("max", FieldProblem::RangeReversed)
            .contains("金额"));
        assert!(EN
            .field_problem("to", FieldProblem::RangeReversed)
            .contains("date"));
        assert_eq!(
            EN.field_problem("to", FieldProblem::Required),
            EN.field_required
        );
    }

    #[test]
    fn internal_errors_show_only_the_correlation_id() {
        let err = AppError::Internal {
            correlation_id: "abc123".into(),
        };
        assert_eq!(err.status_code(), 500);
        assert!(EN.error(&err).contains("abc123"));
        assert!(ZH_CN.error(&err).contains("abc123"));
    }

    #[test]
    fn transport_errors_do_not_show_their_detail() {
        let err = AppError::from_server_fn_error(ServerFnErrorErr::Request(
            "tcp reset by 10.0.0.1".into(),
        ));
        assert!(!EN.error(&err).contains("10.0.0.1"));
    }

    #[test]
    fn cookie_wins_over_accept_language() {
        assert_eq!(
            Lang::negotiate(Some("a=b; vpos_lang=en"), Some("zh-CN,zh;q=0.9")),
            Lang::En
        );
        assert_eq!(
            Lang::negotiate(Some("vpos_lang=zh-CN"), Some("en-US")),
            Lang::ZhCn
        );
    }

    #[test]
    fn accept_language_is_read_by_quality() {
        assert_eq!(
            Lang::from_accept_language("fr-FR, en;q=0.8, zh;q=0.9"),
            Some(Lang::ZhCn)
        );
        assert_eq!(Lang::from_accept_language("en-GB,en;q=0.9"), Some(Lang::En));
        assert_eq!(
            Lang::from_accept_language("zh-TW;q=0, en;q=0.1"),
            Some(Lang::En)
        );
        assert_eq!(Lang::from_accept_language("de, fr"), None);
        assert_eq!(Lang::from_accept_language(""), None);
    }

    #[test]
    fn unknown_or_missing_preferences_fall_back_to_chinese() {
        assert_eq!(Lang::negotiate(Some("vpos_lang=xx"), None), Lang::ZhCn);
        assert_eq!(Lang::negotiate(None, Some("de")), Lang::ZhCn);
        assert_eq!(Lang::negotiate(None, None), Lang::ZhCn);
    }

    #[test]
    fn both_languages_answer_the_same_questions() {
        assert_eq!(ZH_CN.faqs.len(), EN.faqs.len());
        for (zh, en) in ZH_CN.faqs.iter().zip(EN.faqs) {
            assert!(!zh.answer.is_empty() && !en.answer.is_empty());
        }
    }
}
