//! zh-CN and English texts.
//!
//! Every text is a field of [`Texts`], so a language that lacks one does not compile. The language of a
//! page comes from the `vpos_lang` cookie, else the browser's Accept-Language, else zh-CN; the switch in
//! the header changes it without a reload and remembers it in the cookie.

use leptos::prelude::*;
use serde::{Deserialize, Serialize};

use crate::domain::access::{Function, Role};
use crate::domain::money::format_fen;
use crate::domain::password::PasswordRule;
use crate::domain::refund::{RefundReason, RefundRefusal, RefundStatus};
use crate::domain::{
    AuditAction, AuditOutcome, Bank, CardOrg, CardType, DataScope, ExportStatus, MerchantStatus,
    OperatorStatus, RefundMode, SettlementStatus, TxnStatus, TxnType,
};
use crate::error::{AppError, FieldProblem, Policy};

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

    pub help_title: &'static str,
    pub help_intro: &'static str,
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
    pub settle_console_refunds: fn(u64) -> String,
    pub settle_yesterday: &'static str,
    pub settle_back: &'static str,
    pub search: &'static str,
    pub reset: &'static str,
    pub download_excel: &'static str,
    pub next_page: &'static str,
    pub first_page: &'static str,
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
    pub refund_decided: &'static str,
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
}

pub static ZH_CN: Texts = Texts {
    app_name: "VPOS 商户管理后台",
    app_short: "VPOS",
    language_name: "中文",
    switch_language: "切换语言",
    skip_to_content: "跳到正文",
    loading: "加载中…",
    yes: "是",
    no: "否",
    none: "无",

    nav_label: "主菜单",
    nav_home: "首页",
    nav_help: "常见问题",

    not_found_title: "页面不存在",
    not_found_body: "您访问的页面不存在，或者您没有权限查看。",
    back_home: "返回首页",

    home_title: "首页",
    home_welcome: "欢迎使用 VPOS 商户管理后台",
    home_merchant_info: "商户基本信息",
    home_merchant_code: "商户代码",
    home_merchant_name: "商户名称",
    home_status: "状态",
    home_settlement_account: "结算账户",
    home_settlement_cycle: "结算周期",
    home_settlement_cycle_value: |d| if d == 0 { "T+0".to_owned() } else { format!("T+{d}") },
    home_refund_mode: "退货模式",
    home_refund_token: "退货动态密码",
    home_refund_token_required: "需要快钱盾动态密码",
    home_refund_token_not_required: "不需要",
    home_daily_quota: "每日退货额度",
    home_refund_window: "可退货期限",
    home_refund_window_value: |d| format!("交易后 {d} 天内"),
    home_fast_refund: "快速退货协议",
    home_fast_refund_signed: "已签署",
    home_fast_refund_unsigned: "未签署",
    home_balance: "账户余额",
    home_time_zone: "时区",
    home_merchant_numbers: "商户编号",
    home_merchant_no: "商户编号",
    home_store_name: "门店名称",
    home_terminals: "终端",
    home_terminal_count: |total, signed_in| format!("共 {total} 台，{signed_in} 台已签到"),
    home_you: "当前操作员",
    home_operator: "操作员",
    home_roles: "角色",
    home_scope: "数据范围",
    home_certificate: "客户端证书",
    home_cert_subject: "证书主题",
    home_cert_fingerprint: "SHA-256 指纹",
    home_cert_valid_until: "有效期至",
    home_unbound_title: "证书未绑定操作员",
    home_unbound_body: "您浏览器中的证书有效，但还没有绑定到任何商户的操作员。请联系贵商户的管理员绑定证书。",

    help_title: "常见问题",
    help_intro: "以下是使用 VPOS 商户管理后台时最常遇到的问题。",
    faqs: &[
        Faq {
            question: "如何在浏览器中安装证书？",
            answer: &[
                "管理员会发给您一个 .p12 证书文件和导入密码（请分开保管）。",
                "Chrome / Edge：设置 → 隐私和安全 → 安全 → 管理证书 → 个人 → 导入，选择 .p12 文件并输入导入密码。",
                "Firefox：设置 → 隐私与安全 → 证书 → 查看证书 → 您的证书 → 导入。",
                "安装后重新打开浏览器访问后台，浏览器会询问使用哪个证书，请选择您的证书。",
            ],
        },
        Faq {
            question: "打开后台时提示连接被拒绝或证书错误？",
            answer: &[
                "后台只接受由平台签发、未过期且未吊销的客户端证书。请确认证书已导入，且在浏览器询问时选择了它。",
                "证书过期或被吊销后需要向管理员申请新证书。",
            ],
        },
        Faq {
            question: "忘记密码怎么办？",
            answer: &[
                "请联系贵商户的管理员重置密码。重置后的密码只能用于一次登录，登录后系统会要求您立即设置新密码。",
            ],
        },
        Faq {
            question: "账户被锁定怎么办？",
            answer: &[
                "连续输错密码 5 次后账户会被锁定 30 分钟，到期后自动解锁；管理员也可以提前解锁。",
            ],
        },
        Faq {
            question: "如何启用动态密码令牌？令牌丢了怎么办？",
            answer: &[
                "在手机上安装支持 TOTP 的验证器应用，登录后台后打开“我的令牌”，点击“显示二维码”，用应用扫描二维码，再输入应用显示的 6 位动态密码即可启用。二维码只显示一次。",
                "每个动态密码只能使用一次；连续输错 5 次令牌会被锁定 15 分钟。手机丢失或更换时，请管理员在操作员管理中重置令牌，然后重新启用。",
            ],
        },
        Faq {
            question: "为什么退货处于“待清算”状态？",
            answer: &[
                "清算时如果商户账户余额不足以支付退货，退货会暂停清算，进入待清算退货列表。",
                "余额足够后（例如下一次结算入账后），系统会在清算时自动完成这些退货，无需重新提交。",
            ],
        },
        Faq {
            question: "为什么快速退货处于“异常”状态？",
            answer: &[
                "银行驳回了持卡人资料（姓名、证件号码、开户省份、城市或支行）。请在快速退货异常列表中修改资料后重新提交。",
            ],
        },
        Faq {
            question: "各种状态是什么意思？",
            answer: &[
                "交易：成功、失败、已冲正。结算：待付款、已付款。",
                "退货：待审核 → 已审核 / 已拒绝 / 已撤销；已提交 → 已清算 或 待清算（余额足够后自动清算）→ 已退款 或 失败。",
                "快速退货：处理中 → 成功 / 失败 / 异常；异常修改后重新进入处理中。",
            ],
        },
    ],

    nav_password: "修改密码",
    audit_any: "不限",
    audit_from: "开始日期",
    audit_to: "结束日期",
    audit_operator: "操作员登录名",
    audit_action: "事件",
    audit_outcome: "结果",
    audit_col_id: "序号",
    audit_col_time: "时间",
    audit_col_operator: "操作员",
    audit_col_action: "事件",
    audit_col_outcome: "结果",
    audit_col_object: "对象",
    audit_col_address: "地址",
    audit_col_certificate: "证书指纹",
    audit_col_detail: "详情",
    audit_sheet: "审计日志",
    audit_filters_sheet: "查询条件",
    audit_intro: "本商户的登录、退出、密码与令牌、操作员变更和被拒绝的访问记录。记录只能追加，每条记录与前一条以哈希相连，修改或删除会被校验命令发现。",
    audit_search: "查询",
    audit_reset: "清除条件",
    audit_download: "下载 Excel",
    audit_total: "共 {} 条",
    audit_next: "更早的记录",
    audit_newest: "回到最新",
    audit_none: "没有符合条件的记录。",
    audit_download_too_many: "符合条件的记录超过 {} 条，请缩小查询范围后再下载。",
    policy_merchant_scope: "结算覆盖商户编号下的全部终端，只有可查看全部终端的操作员才能查询。请联系管理员。",
    policy_merchant_suspended: "商户已被暂停，暂不能退货。请联系收单机构。",
    settle_intro: "每个商户编号每个营业日一笔结算（T+1）：交易金额减退款、减手续费为结算净额。",
    settle_from: "结算日期从",
    settle_to: "结算日期至",
    settle_number: "商户编号",
    settle_status: "状态",
    settle_col_date: "结算日期",
    settle_col_number: "商户编号",
    settle_col_store: "门店",
    settle_col_sales: "交易笔数",
    settle_col_gross: "交易金额",
    settle_col_refunds: "退款笔数",
    settle_col_refund_amount: "退款金额",
    settle_col_fees: "手续费",
    settle_col_net: "结算净额",
    settle_col_status: "状态",
    settle_col_account: "结算账户",
    settle_col_period: "交易时段",
    settle_col_paid_at: "划付时间",
    settle_sheet: "结算记录",
    settle_total: "共 {} 笔结算",
    settle_sums: "合计",
    settle_none: "没有符合条件的结算。",
    settle_detail: "结算详情",
    settle_recon: "下载对账文件",
    settle_transactions: "交易明细",
    settle_console_refunds: |n| format!("控制台退货申请（{n} 笔）"),
    settle_yesterday: "昨日结算",
    settle_back: "返回结算查询",
    search: "查询",
    reset: "清除条件",
    download_excel: "下载 Excel",
    next_page: "下一页",
    first_page: "回到第一页",
    settle_recon_short: "对账文件",
    txn_intro: "按条件查询交易，结果按交易时间从新到旧排列；下方可按交易日期、结算日期、商户编号或卡组织汇总。",
    txn_from: "交易日期从",
    txn_to: "交易日期至",
    txn_type: "交易类型",
    txn_status: "交易状态",
    txn_card: "卡号",
    txn_card_hint: "卡号后 4 位，或 622848******1234",
    txn_amount: "交易金额",
    txn_reference: "参考号/凭证号",
    txn_terminal: "终端号",
    txn_group: "终端组",
    txn_number: "商户编号",
    txn_org: "卡组织",
    txn_card_type: "卡类型",
    txn_bank: "发卡行",
    txn_auth: "授权码",
    txn_batch: "批次号",
    txn_sdate: "结算日期",
    txn_settlement: "结算编号",
    txn_min: "金额从",
    txn_max: "金额至",
    txn_size: "每页条数",
    txn_advanced: "高级查询",
    txn_filters_none: "未设查询条件",
    txn_sheet: "交易记录",
    txn_col_time: "交易时间",
    txn_col_card: "卡号",
    txn_col_amount: "金额",
    txn_col_fee: "手续费",
    txn_col_reference: "参考号",
    txn_col_voucher: "凭证号",
    txn_total: "共 {} 笔交易",
    txn_none: "没有符合条件的交易。",
    txn_today: "今日交易",
    txn_yesterday: "昨日交易",
    txn_detail: "交易详情",
    txn_back: "返回交易查询",
    txn_summary: "汇总",
    txn_sum_by_date: "按交易日期",
    txn_sum_by_sdate: "按结算日期",
    txn_sum_by_number: "按商户编号",
    txn_sum_by_org: "按卡组织",
    txn_sum_count: "笔数",
    txn_sum_amount: "金额",
    txn_sum_total: "合计",
    txn_unsettled: "未结算",
    txn_original: "原交易",
    txn_linked: "撤销与退货",
    txn_refunded: "已退货金额",
    txn_alias: "终端名称",
    txn_store: "门店",
    txn_reprint: "重打签购单",
    txn_reprint_on_terminal: "当日交易的签购单请在终端上重打。",
    txn_settlement_link: "查看结算",
    slip_title: "签购单",
    slip_copy: "商户存根 MERCHANT COPY",
    slip_reprint: "重打印 REPRINT",
    slip_merchant_name: "商户名称 MERCHANT NAME",
    slip_merchant_no: "商户编号 MERCHANT NO.",
    slip_terminal: "终端编号 TERMINAL NO.",
    slip_card: "卡号 CARD NO.",
    slip_issuer: "发卡行 ISSUER",
    slip_txn_type: "交易类型 TRANS TYPE",
    slip_batch: "批次号 BATCH NO.",
    slip_voucher: "凭证号 VOUCHER NO.",
    slip_reference: "参考号 REFER NO.",
    slip_auth: "授权码 AUTH NO.",
    slip_time: "日期/时间 DATE/TIME",
    slip_amount: "金额 AMOUNT",
    slip_original: "原参考号 ORIG REFER NO.",
    slip_signature: "持卡人签名 CARDHOLDER SIGNATURE",
    slip_ack: "本人确认以上交易，同意将其记入本卡账户",
    slip_reprinted_at: "重打时间",
    slip_print: "打印",
    policy_slip_today: "当日交易的签购单只能在终端上重打。",
    policy_exports_busy: "您已有 2 个文件正在生成，请等其中一个完成后再试。",
    refund_new_title: "退货申请",
    refund_intro_direct: "本商户为直接退货：提交后即交由清算，从商户账户中扣款。",
    refund_intro_approval: "本商户退货需审核：提交后由退货审核员审核，审核通过后交由清算。在审核前，您可以撤回申请。",
    refund_token_needed: "本商户要求退货申请使用动态令牌确认。",
    refund_original: "原交易",
    refund_refunded: "已退金额",
    refund_in_flight: "退货处理中",
    refund_refundable: "可退金额",
    refund_quota_left: "今日剩余退货额度",
    refund_window: "退货期限",
    refund_amount: "退货金额（元）",
    refund_amount_hint: "可部分退货，可多次退货；最多两位小数。",
    refund_reason: "退货原因",
    refund_reason_pick: "请选择",
    refund_reason_text: "说明",
    refund_reason_text_hint: "选择“其他”时必填，最多 200 字。",
    refund_submit: "提交退货申请",
    refund_created: "退货申请已提交。",
    refund_view_request: "查看该申请",
    refund_cannot: "该交易目前不能退货：",
    refund_history: "该交易的退货申请",
    refund_none: "没有符合条件的退货申请。",
    refund_col_requested: "申请时间",
    refund_col_txn_amount: "原交易金额",
    refund_col_amount: "退货金额",
    refund_col_status: "状态",
    refund_col_requester: "申请人",
    refund_col_approver: "审核人",
    refund_from: "申请日期（起）",
    refund_to: "申请日期（止）",
    refund_reference: "原交易参考号",
    refund_total: "共 {} 条退货申请",
    refund_awaiting: "待审核的退货",
    refund_detail: "退货申请详情",
    refund_back: "返回退货申请查询",
    refund_steps: "处理记录",
    refund_step_by_clearing: "清算系统",
    refund_shortfall: "商户账户余额不足，差额 ¥{}。余额足够后，下次清算时将自动退款。",
    refund_failure: "退款失败原因",
    refund_comment: "审核意见",
    refund_comment_hint: "拒绝时必填，最多 200 字。",
    refund_approve: "审核通过",
    refund_reject: "拒绝",
    refund_cancel: "撤回申请",
    refund_decide_title: "审核",
    refund_decide_intro: "请核对原交易和退货金额，输入您的动态令牌密码后审核。申请人不能审核自己的申请。",
    refund_second_note: "本笔退货金额超过第一位审核员的审核限额：{} 已审核通过，需要另一位审核员再次审核。（双人审核是本系统在操作手册之外增加的控制，限额由管理员为每位审核员设置。）",
    refund_decided: "已处理，当前状态：",
    refund_others: "同一交易的其他退货申请",
    refund_action: "退货",
    refund_requests_of_txn: "退货记录",
    refund_decision_comment: "审核意见",
    refund_decided_at: "审核时间",
    refund_submitted_at: "提交清算时间",
    refund_cleared_at: "清算时间",
    refund_col_shortfall: "差额",
    refund_settlement: "清算结算单",
    refund_in_settlement: "只列出此结算单清算的退货申请（在控制台申请的退货计入结算单的退货笔数，但不在交易明细中）。",
    pending_intro: "清算时商户账户余额不足以扣减的退货在此等待（含差额）。无需重新提交：余额足够后（例如下一笔结算入账），下次清算会按提交顺序自动扣款退货。",
    pending_balance: "当前账户余额",
    pending_held: |n, fen| format!("{n} 笔待清算退货，共 ¥{}", format_fen(fen)),
    pending_missing: "尚缺",
    pending_none: "没有待清算的退货。",
    policy_own_refund: "不能审核自己提交的退货申请。",
    policy_second_approver: "该笔退货金额超过第一位审核员的审核限额，需由另一位审核员再次审核。",
    policy_not_requester: "只有提交该退货申请的操作员可以撤回。",
    policy_refund_status_changed: "该退货申请的状态已变化（可能已被他人处理），请刷新后查看。",
    policy_idempotency_reused: "此次提交与之前的一次提交内容不同，请刷新页面后重新填写。",
    refund_refusal: |refusal| match refusal {
        RefundRefusal::NotRefundableType(t) => {
            format!("{}交易不能退货，只有消费和预授权完成可以退货。", t.label(Lang::ZhCn))
        }
        RefundRefusal::NotSuccessful(s) => {
            format!("只有成功的交易可以退货，该交易状态为“{}”。", s.label(Lang::ZhCn))
        }
        RefundRefusal::OutsideWindow { window_days } => {
            format!("该交易已超过商户的退货期限（交易后 {window_days} 天内）。")
        }
        RefundRefusal::AmountNotPositive => "退货金额必须大于 0。".to_owned(),
        RefundRefusal::OtherCurrency => "退货币种与原交易不同。".to_owned(),
        RefundRefusal::MoreThanRefundable { refundable_fen } => {
            format!("退货金额超过可退金额，该交易最多还可退 ¥{}。", format_fen(refundable_fen))
        }
        RefundRefusal::OverDailyQuota { left_fen } => {
            format!("超过商户当日退货额度，今日还可退 ¥{}。", format_fen(left_fen))
        }
    },
    nav_downloads: "下载中心",
    exports_intro: "超过 {} 笔的下载在后台生成，完成后在这里下载；文件保留 24 小时。",
    exports_col_requested: "申请时间",
    exports_col_kind: "内容",
    exports_col_rows: "行数",
    exports_col_progress: "进度",
    exports_col_status: "状态",
    exports_col_file: "文件",
    exports_col_expires: "保留至",
    exports_none: "还没有下载文件。",
    exports_download: "下载",
    exports_kind_transactions: "交易记录",
    exports_start: "生成下载文件",
    exports_background: "共 {} 笔，超过直接下载的上限，将在后台生成。",
    exports_too_many: "共 {} 笔，超过下载上限 {} 笔，请缩小查询范围。",
    exports_started: "已开始生成，可在“下载中心”查看进度。",
    exports_interrupted: "服务重启时文件尚未生成完，请重新申请。",
    nav_token: "我的令牌",
    token_title: "我的令牌",
    token_intro: "动态密码令牌是手机上的验证器应用（如 Google Authenticator、Microsoft Authenticator 或其他支持 TOTP 的应用），每 30 秒显示一个 6 位动态密码。退货审批等操作需要输入当前的动态密码。",
    token_status: "令牌状态",
    token_state_none: "未启用",
    token_state_active: "已启用",
    token_state_locked: "已锁定",
    token_enrolled_at: "启用时间",
    token_locked_until: "锁定至",
    token_enrol: "启用令牌",
    token_enrol_intro: "请再次输入登录密码并点击下面的按钮，页面会显示一个二维码。请用手机上的验证器应用扫描它，再输入应用显示的 6 位动态密码完成启用。",
    token_enrol_start: "显示二维码",
    token_enrol_password: "登录密码",
    token_scan: "请用验证器应用扫描此二维码：",
    token_qr_label: "令牌二维码",
    token_type_instead: "无法扫描时，可在应用中手动输入以下密钥：",
    token_account: "账户",
    token_shown_once: "二维码和密钥只显示这一次，离开本页后无法再次查看。请勿截图或转发。",
    token_code: "动态密码（6 位数字）",
    token_enrol_confirm: "确认启用",
    token_try: "验证动态密码",
    token_try_intro: "输入令牌当前显示的动态密码，检查令牌是否正常。每个动态密码只能使用一次。",
    token_try_submit: "验证",
    token_try_ok: "动态密码正确，令牌工作正常。",
    nav_sign_in: "登录",
    sign_out: "退出",
    signed_in_as: "当前操作员",

    login_title: "登录",
    login_heading: "操作员登录",
    login_intro: "请输入登录名、密码和图中的附加码。您浏览器中的证书必须绑定到该操作员。",
    login_certificate: "当前证书",
    login_name: "登录名",
    login_password: "密码",
    login_captcha: "附加码",
    login_captcha_hint: "请输入图中的 5 位数字",
    login_captcha_refresh: "看不清，换一张",
    login_submit: "登录",
    login_submitting: "正在登录…",
    login_help: "忘记密码或账户被锁定？请联系贵商户的管理员。",

    password_title: "修改密码",
    password_forced: "您使用的是初始密码或被重置的密码，请先设置自己的新密码。",
    password_current: "当前密码",
    password_new: "新密码",
    password_confirm: "确认新密码",
    password_rules: "密码要求",
    password_submit: "修改密码",
    password_saving: "正在保存…",
    password_done: "密码已修改。",
    rule_too_short: "至少 12 个字符",
    rule_too_long: "最多 128 个字符",
    rule_letter: "包含字母",
    rule_digit: "包含数字",
    rule_space: "首尾不能是空格",
    rule_recent: "不能与最近 4 次使用过的密码相同",
    rule_mismatch: "两次输入的新密码不一致",

    field_required: "请填写此项",
    field_format: "格式不正确",
    field_captcha: "附加码不正确或已过期，请看新图重新输入。",
    field_wrong_password: "当前密码不正确",
    field_taken: "已被使用",
    policy_self_disable: "不能停用自己的账户。",
    policy_self_demote: "不能取消自己的管理员角色。",
    policy_last_admin: "商户至少要保留一名正常状态的管理员。",
    policy_cert_elsewhere: "该证书已绑定到其他操作员，请先在那里解除绑定。",
    policy_cert_unknown: "系统尚未见过该指纹的证书：请证书持有人先用它打开一次登录页。",
    policy_cert_not_valid: "该证书已过期、尚未生效或已被吊销，不能绑定。",
    policy_cert_not_for_merchant: "该证书不是为本商户的操作员签发的（证书主题不是本商户的登录名），不能绑定。",
    policy_token_not_enrolled: "此操作需要动态令牌，您还没有启用令牌：请先在“我的令牌”页面启用。",
    policy_token_enrolled: "您已启用令牌。如需更换，请联系管理员重置令牌。",
    policy_token_locked: "动态密码连续错误次数过多，令牌已锁定 15 分钟。",
    field_code_wrong: "动态密码不正确。",
    field_code_used: "该动态密码已使用过，请等待令牌显示下一个动态密码。",
    field_range_reversed: "结束日期早于开始日期。",
    policy_export_too_large: "符合条件的记录太多，无法在一个文件中下载：请缩小查询范围。",

    roles_intro: "每个角色可以使用的功能。一名操作员可以拥有多个角色，拥有其所有功能。",
    roles_function: "功能",
    roles_area: "类别",
    granted: "允许",
    not_granted: "不允许",

    ops_search: "登录名或姓名",
    ops_search_button: "查询",
    ops_add: "添加操作员",
    ops_login: "登录名",
    ops_login_prefix_hint: |p| format!("本商户的登录名都以“{p}.”开头，只需填写其后的部分，如 finance2。"),
    ops_name: "姓名",
    ops_roles: "角色",
    ops_scope: "数据范围",
    ops_groups: "终端组",
    ops_approval_limit: "退货审核金额上限（元）",
    ops_approval_limit_hint: "本系统扩展功能（手册未规定）：超过此金额的退货，该审核员批准后还需另一名审核员批准。留空表示不设上限。",
    ops_status: "状态",
    ops_last_login: "最近登录",
    ops_certificates: "证书",
    ops_token: "动态密码令牌",
    ops_token_enrolled: "已启用",
    ops_token_none: "未启用",
    ops_none_found: "没有符合条件的操作员。",
    ops_new_title: "添加操作员",
    ops_create: "添加",
    ops_save: "保存",
    ops_saved: "已保存。",
    ops_otp_title: "一次性密码",
    ops_otp_body: "请把这个密码交给操作员本人。它只显示这一次，操作员首次登录时必须修改。",
    ops_open: "查看",
    ops_back: "返回操作员列表",
    ops_enable: "启用",
    ops_disable: "停用",
    ops_unlock: "解除锁定",
    ops_reset_password: "重置密码",
    ops_reset_token: "重置令牌",
    ops_actions: "操作",
    ops_done: "已完成。",
    ops_locked_until: "锁定至",
    ops_failed: "连续登录失败次数",
    ops_must_change: "下次登录须修改密码",
    ops_fingerprint: "证书指纹（SHA-256）",
    ops_subject: "证书名称",
    ops_valid_until: "有效期至",
    ops_bind: "绑定证书",
    ops_unbind: "解除绑定",
    ops_bind_hint: "证书持有人用该证书打开登录页后，页面上会显示指纹；复制到这里。",
    ops_no_certificates: "尚未绑定证书。",
    ops_no_groups: "商户还没有终端组。",
    login_fingerprint: "证书指纹",
    error_sign_in_refused: "登录失败：登录名、密码或证书不正确，或账户已被锁定或停用。",
    error_password_change_required: "请先修改密码。",

    error_title: "出错了",
    error_no_certificate: "没有收到有效的客户端证书。",
    error_unauthenticated: "请先登录。",
    error_forbidden: "您没有执行此操作的权限。",
    error_not_found: "要找的记录不存在。",
    error_invalid: "输入有误，请检查标出的栏位。",
    error_conflict: "记录已被其他人修改，请刷新后重试。",
    error_internal: |id| format!("系统繁忙，请稍后再试。如需联系客服，请提供编号 {id}。"),
    error_unavailable: "无法连接服务器，请检查网络后重试。",
    error_too_many_attempts: |s| format!("登录尝试过于频繁，请 {s} 秒后再试。"),
    error_busy: "系统正忙，请稍后再试。",

    footer: "VPOS 商户管理后台 · 请妥善保管您的证书和密码",
};

pub static EN: Texts = Texts {
    app_name: "VPOS Merchant Console",
    app_short: "VPOS",
    language_name: "English",
    switch_language: "Switch language",
    skip_to_content: "Skip to content",
    loading: "Loading…",
    yes: "Yes",
    no: "No",
    none: "None",

    nav_label: "Main menu",
    nav_home: "Home",
    nav_help: "Help",

    not_found_title: "Page not found",
    not_found_body: "The page does not exist, or you may not see it.",
    back_home: "Back to the home page",

    home_title: "Home",
    home_welcome: "Welcome to the VPOS merchant console",
    home_merchant_info: "Merchant information",
    home_merchant_code: "Merchant code",
    home_merchant_name: "Merchant name",
    home_status: "Status",
    home_settlement_account: "Settlement account",
    home_settlement_cycle: "Settlement cycle",
    home_settlement_cycle_value: |d| if d == 0 { "T+0".to_owned() } else { format!("T+{d}") },
    home_refund_mode: "Refund mode",
    home_refund_token: "Refund token",
    home_refund_token_required: "One-time code required",
    home_refund_token_not_required: "Not required",
    home_daily_quota: "Daily refund quota",
    home_refund_window: "Refund window",
    home_refund_window_value: |d| format!("{d} days after the transaction"),
    home_fast_refund: "Fast-refund agreement",
    home_fast_refund_signed: "Signed",
    home_fast_refund_unsigned: "Not signed",
    home_balance: "Account balance",
    home_time_zone: "Time zone",
    home_merchant_numbers: "Merchant numbers",
    home_merchant_no: "Merchant number",
    home_store_name: "Store",
    home_terminals: "Terminals",
    home_terminal_count: |total, signed_in| format!("{total} in all, {signed_in} signed in"),
    home_you: "Signed-in operator",
    home_operator: "Operator",
    home_roles: "Roles",
    home_scope: "Data scope",
    home_certificate: "Client certificate",
    home_cert_subject: "Subject",
    home_cert_fingerprint: "SHA-256 fingerprint",
    home_cert_valid_until: "Valid until",
    home_unbound_title: "Certificate not bound to an operator",
    home_unbound_body: "The certificate in your browser is valid but not yet bound to an operator of any merchant. Ask your merchant's administrator to bind it.",

    help_title: "Help",
    help_intro: "The questions merchants ask most often about the console.",
    faqs: &[
        Faq {
            question: "How do I install my certificate in the browser?",
            answer: &[
                "Your administrator gives you a .p12 certificate file and its import password (keep them apart).",
                "Chrome / Edge: Settings → Privacy and security → Security → Manage certificates → Your certificates → Import, pick the .p12 file and type the import password.",
                "Firefox: Settings → Privacy & Security → Certificates → View Certificates → Your Certificates → Import.",
                "Then open the console again; when the browser asks which certificate to use, choose yours.",
            ],
        },
        Faq {
            question: "The browser says the connection was refused or the certificate is wrong?",
            answer: &[
                "The console only accepts client certificates issued by the platform that have not expired and have not been revoked. Check that yours is imported and that you chose it when asked.",
                "An expired or revoked certificate must be replaced: ask your administrator for a new one.",
            ],
        },
        Faq {
            question: "I forgot my password.",
            answer: &[
                "Ask your merchant's administrator to reset it. A reset password works for one sign-in only: you will be asked to choose a new one straight away.",
            ],
        },
        Faq {
            question: "My account is locked.",
            answer: &[
                "After 5 wrong passwords in a row the account is locked for 30 minutes and then unlocks by itself; an administrator can unlock it sooner.",
            ],
        },
        Faq {
            question: "How do I enrol my token? What if I lose it?",
            answer: &[
                "Install an authenticator app that supports TOTP on your phone, sign in to the console, open “My token”, press “Show the QR code”, scan it with the app and type the 6-digit code the app shows. The QR code is shown only once.",
                "Each code can be used once; after 5 wrong codes in a row the token is locked for 15 minutes. If you lose or replace your phone, ask an administrator to reset your token in operator management, then enrol again.",
            ],
        },
        Faq {
            question: "Why is a refund pending clearing?",
            answer: &[
                "At clearing, a refund that the merchant's account balance cannot cover is held and listed under Refunds pending clearing.",
                "Once the balance allows (for example after the next settlement is credited), clearing completes it by itself: there is nothing to submit again.",
            ],
        },
        Faq {
            question: "Why is a fast refund in exception?",
            answer: &[
                "The bank rejected the cardholder data (name, ID number, province, city or branch). Correct it in the fast-refund exception list and submit it again.",
            ],
        },
        Faq {
            question: "What do the statuses mean?",
            answer: &[
                "Transactions: success, failed, reversed. Settlements: pending, paid.",
                "Refunds: pending approval → approved / rejected / cancelled; submitted → cleared, or pending clearing (clears by itself once the balance allows) → refunded or failed.",
                "Fast refunds: processing → success / failed / exception; a corrected exception goes back to processing.",
            ],
        },
    ],

    nav_password: "Change password",
    audit_any: "Any",
    audit_from: "From",
    audit_to: "To",
    audit_operator: "Operator login name",
    audit_action: "Event",
    audit_outcome: "Outcome",
    audit_col_id: "No.",
    audit_col_time: "Time",
    audit_col_operator: "Operator",
    audit_col_action: "Event",
    audit_col_outcome: "Outcome",
    audit_col_object: "Object",
    audit_col_address: "Address",
    audit_col_certificate: "Certificate fingerprint",
    audit_col_detail: "Detail",
    audit_sheet: "Audit log",
    audit_filters_sheet: "Filters",
    audit_intro: "Sign-ins, sign-outs, password and token events, operator changes and refused accesses of this merchant. The log is append-only; each record is chained to the one before by a hash, so an edit or deletion is found by the verify command.",
    audit_search: "Search",
    audit_reset: "Clear",
    audit_download: "Download Excel",
    audit_total: "{} records",
    audit_next: "Older records",
    audit_newest: "Back to the newest",
    audit_none: "No records match.",
    audit_download_too_many: "More than {} records match: narrow the search to download them.",
    policy_merchant_scope: "A settlement covers every terminal of a merchant number: only operators who see all terminals can read settlements. Ask an administrator.",
    policy_merchant_suspended: "The merchant is suspended: no refunds can be made. Contact the acquirer.",
    settle_intro: "One settlement per merchant number and business day (T+1): sales less refunds less fees is the net amount paid.",
    settle_from: "Settlement date from",
    settle_to: "Settlement date to",
    settle_number: "Merchant number",
    settle_status: "Status",
    settle_col_date: "Settlement date",
    settle_col_number: "Merchant number",
    settle_col_store: "Store",
    settle_col_sales: "Sales",
    settle_col_gross: "Sales amount",
    settle_col_refunds: "Refunds",
    settle_col_refund_amount: "Refund amount",
    settle_col_fees: "Fees",
    settle_col_net: "Net amount",
    settle_col_status: "Status",
    settle_col_account: "Account",
    settle_col_period: "Period",
    settle_col_paid_at: "Paid at",
    settle_sheet: "Settlements",
    settle_total: "{} settlements",
    settle_sums: "Total",
    settle_none: "No settlement matches.",
    settle_detail: "Settlement",
    settle_recon: "Download reconciliation file",
    settle_transactions: "Transactions",
    settle_console_refunds: |n| format!("Console refunds ({n})"),
    settle_yesterday: "Yesterday's settlements",
    settle_back: "Back to settlements",
    search: "Search",
    reset: "Clear",
    download_excel: "Download Excel",
    next_page: "Next page",
    first_page: "First page",
    settle_recon_short: "Reconciliation file",
    txn_intro: "Search transactions, newest first; the tabs below the results sum them up by day, settlement date, merchant number or card organisation.",
    txn_from: "Date from",
    txn_to: "Date to",
    txn_type: "Type",
    txn_status: "Status",
    txn_card: "Card",
    txn_card_hint: "Last 4 digits, or 622848******1234",
    txn_amount: "Amount",
    txn_reference: "Reference or voucher no.",
    txn_terminal: "Terminal",
    txn_group: "Terminal group",
    txn_number: "Merchant number",
    txn_org: "Card organisation",
    txn_card_type: "Card type",
    txn_bank: "Issuing bank",
    txn_auth: "Authorisation code",
    txn_batch: "Batch no.",
    txn_sdate: "Settlement date",
    txn_settlement: "Settlement",
    txn_min: "Amount from",
    txn_max: "Amount to",
    txn_size: "Rows per page",
    txn_advanced: "Advanced search",
    txn_filters_none: "No filter",
    txn_sheet: "Transactions",
    txn_col_time: "Time",
    txn_col_card: "Card",
    txn_col_amount: "Amount",
    txn_col_fee: "Fee",
    txn_col_reference: "Reference no.",
    txn_col_voucher: "Voucher no.",
    txn_total: "{} transactions",
    txn_none: "No transaction matches these filters.",
    txn_today: "Today's transactions",
    txn_yesterday: "Yesterday's transactions",
    txn_detail: "Transaction detail",
    txn_back: "Back to transaction query",
    txn_summary: "Summary",
    txn_sum_by_date: "By transaction date",
    txn_sum_by_sdate: "By settlement date",
    txn_sum_by_number: "By merchant number",
    txn_sum_by_org: "By card organisation",
    txn_sum_count: "Count",
    txn_sum_amount: "Amount",
    txn_sum_total: "Total",
    txn_unsettled: "Not settled yet",
    txn_original: "Original transaction",
    txn_linked: "Voids and refunds",
    txn_refunded: "Refunded",
    txn_alias: "Terminal name",
    txn_store: "Store",
    txn_reprint: "Reprint sales slip",
    txn_reprint_on_terminal: "Today's slips are reprinted on the terminal.",
    txn_settlement_link: "View settlement",
    slip_title: "Sales slip",
    slip_copy: "MERCHANT COPY",
    slip_reprint: "REPRINT",
    slip_merchant_name: "MERCHANT NAME",
    slip_merchant_no: "MERCHANT NO.",
    slip_terminal: "TERMINAL NO.",
    slip_card: "CARD NO.",
    slip_issuer: "ISSUER",
    slip_txn_type: "TRANS TYPE",
    slip_batch: "BATCH NO.",
    slip_voucher: "VOUCHER NO.",
    slip_reference: "REFER NO.",
    slip_auth: "AUTH NO.",
    slip_time: "DATE/TIME",
    slip_amount: "AMOUNT",
    slip_original: "ORIG REFER NO.",
    slip_signature: "CARDHOLDER SIGNATURE",
    slip_ack: "I acknowledge satisfactory receipt of the relative goods/services",
    slip_reprinted_at: "Reprinted at",
    slip_print: "Print",
    policy_slip_today: "Today's slips can only be reprinted on the terminal.",
    policy_exports_busy: "Two of your files are being written already: try again when one is ready.",
    refund_new_title: "Refund request",
    refund_intro_direct: "This merchant refunds directly: a request goes to clearing as soon as it is submitted and is debited from the merchant's account.",
    refund_intro_approval: "This merchant's refunds need approval: a refund approver decides on the request, and an approved refund goes to clearing. You can cancel the request until it is decided.",
    refund_token_needed: "This merchant requires a token code for every refund request.",
    refund_original: "Original transaction",
    refund_refunded: "Refunded",
    refund_in_flight: "Being refunded",
    refund_refundable: "Still refundable",
    refund_quota_left: "Quota left today",
    refund_window: "Refund window",
    refund_amount: "Amount (yuan)",
    refund_amount_hint: "A part of the amount may be refunded, several times; at most two decimals.",
    refund_reason: "Reason",
    refund_reason_pick: "Choose a reason",
    refund_reason_text: "Details",
    refund_reason_text_hint: "Required for “Other”; at most 200 characters.",
    refund_submit: "Submit the refund",
    refund_created: "The refund request was submitted.",
    refund_view_request: "View the request",
    refund_cannot: "This transaction cannot be refunded now:",
    refund_history: "Refund requests of this transaction",
    refund_none: "No refund requests match.",
    refund_col_requested: "Requested",
    refund_col_txn_amount: "Original amount",
    refund_col_amount: "Refund amount",
    refund_col_status: "Status",
    refund_col_requester: "Requested by",
    refund_col_approver: "Decided by",
    refund_from: "Requested from",
    refund_to: "Requested until",
    refund_reference: "Original reference no.",
    refund_total: "{} refund requests",
    refund_awaiting: "Awaiting approval",
    refund_detail: "Refund request",
    refund_back: "Back to refund requests",
    refund_steps: "History",
    refund_step_by_clearing: "Clearing run",
    refund_shortfall: "The merchant's balance was short by ¥{}. The refund clears by itself at the next clearing run once the balance allows.",
    refund_failure: "Why it failed",
    refund_comment: "Comment",
    refund_comment_hint: "Required for a rejection; at most 200 characters.",
    refund_approve: "Approve",
    refund_reject: "Reject",
    refund_cancel: "Cancel the request",
    refund_decide_title: "Decision",
    refund_decide_intro: "Check the original transaction and the amount, then confirm with a code from your token. A requester never decides on their own request.",
    refund_second_note: "This refund is above the first approver's limit: {} approved it, and another approver must approve it too. (Two approvers above a limit is a control of this console beyond the manual; an administrator sets each approver's limit.)",
    refund_decided: "Done. The request is now:",
    refund_others: "Other requests on this transaction",
    refund_action: "Refund",
    refund_requests_of_txn: "Refund requests",
    refund_decision_comment: "Decision comment",
    refund_decided_at: "Decided",
    refund_submitted_at: "Handed to clearing",
    refund_cleared_at: "Cleared",
    refund_col_shortfall: "Shortfall",
    refund_settlement: "Cleared in settlement",
    refund_in_settlement: "Only the refunds this settlement cleared (refunds requested in the console count among the settlement's refunds but are not in its transactions).",
    pending_intro: "Refunds that clearing could not debit because the merchant's balance was short wait here, with the shortfall. Nothing needs to be submitted again: once the balance allows (for example after the next settlement is credited), the next clearing run debits them in the order they were submitted.",
    pending_balance: "Balance now",
    pending_held: |n, fen| format!("{n} refunds pending clearing, ¥{} in all", format_fen(fen)),
    pending_missing: "Still missing",
    pending_none: "No refund is pending clearing.",
    policy_own_refund: "You cannot decide on a refund you requested yourself.",
    policy_second_approver: "This refund is above the first approver's limit: another approver must approve it too.",
    policy_not_requester: "Only the operator who requested this refund can cancel it.",
    policy_refund_status_changed: "This refund request has changed (someone may have acted on it). Reload to see where it stands.",
    policy_idempotency_reused: "This submission differs from an earlier one with the same key. Reload the page and fill in the form again.",
    refund_refusal: |refusal| match refusal {
        RefundRefusal::NotRefundableType(t) => format!(
            "A {} cannot be refunded: only purchases and pre-auth completions can.",
            t.label(Lang::En).to_lowercase()
        ),
        RefundRefusal::NotSuccessful(s) => format!(
            "Only a successful transaction can be refunded; this one is {}.",
            s.label(Lang::En).to_lowercase()
        ),
        RefundRefusal::OutsideWindow { window_days } => format!(
            "The transaction is older than the merchant's refund window ({window_days} days)."
        ),
        RefundRefusal::AmountNotPositive => "The amount must be more than zero.".to_owned(),
        RefundRefusal::OtherCurrency => {
            "The amount is in another currency than the transaction.".to_owned()
        }
        RefundRefusal::MoreThanRefundable { refundable_fen } => format!(
            "That is more than can be refunded: at most ¥{} is left on this transaction.",
            format_fen(refundable_fen)
        ),
        RefundRefusal::OverDailyQuota { left_fen } => format!(
            "That is over the merchant's daily refund quota: ¥{} is left today.",
            format_fen(left_fen)
        ),
    },
    nav_downloads: "Downloads",
    exports_intro: "Downloads of more than {} rows are written in the background and wait here; each file is kept for 24 hours.",
    exports_col_requested: "Requested",
    exports_col_kind: "Contents",
    exports_col_rows: "Rows",
    exports_col_progress: "Progress",
    exports_col_status: "Status",
    exports_col_file: "File",
    exports_col_expires: "Kept until",
    exports_none: "No download yet.",
    exports_download: "Download",
    exports_kind_transactions: "Transactions",
    exports_start: "Prepare the download",
    exports_background: "{} rows: more than a direct download holds, so the file is written in the background.",
    exports_too_many: "{} rows: more than the {} a download may hold. Narrow the filters.",
    exports_started: "The file is being written: follow it under Downloads.",
    exports_interrupted: "The server restarted before the file was finished: request it again.",
    nav_token: "My token",
    token_title: "My token",
    token_intro: "Your token is an authenticator app on your phone (Google Authenticator, Microsoft Authenticator or any app that supports TOTP). It shows a new 6-digit code every 30 seconds; actions such as approving a refund ask for the current code.",
    token_status: "Token",
    token_state_none: "Not enrolled",
    token_state_active: "Enrolled",
    token_state_locked: "Locked",
    token_enrolled_at: "Enrolled at",
    token_locked_until: "Locked until",
    token_enrol: "Enrol a token",
    token_enrol_intro: "Type your password again, then the button below shows a QR code. Scan it with the authenticator app on your phone, then type the 6-digit code the app shows to finish.",
    token_enrol_start: "Show the QR code",
    token_enrol_password: "Your password",
    token_scan: "Scan this QR code with your authenticator app:",
    token_qr_label: "Token QR code",
    token_type_instead: "If you cannot scan it, type this key into the app instead:",
    token_account: "Account",
    token_shown_once: "The QR code and the key are shown this once: after you leave this page they cannot be shown again. Do not take a screenshot or pass them on.",
    token_code: "Code (6 digits)",
    token_enrol_confirm: "Confirm",
    token_try: "Try a code",
    token_try_intro: "Type the code your token shows now to check that it works. Each code can be used once.",
    token_try_submit: "Check",
    token_try_ok: "The code is correct: your token works.",
    nav_sign_in: "Sign in",
    sign_out: "Sign out",
    signed_in_as: "Signed in as",

    login_title: "Sign in",
    login_heading: "Operator sign-in",
    login_intro: "Enter your login name, your password and the digits in the picture. The certificate in your browser must be bound to you.",
    login_certificate: "Certificate",
    login_name: "Login name",
    login_password: "Password",
    login_captcha: "Additional code",
    login_captcha_hint: "Type the 5 digits in the picture",
    login_captcha_refresh: "New picture",
    login_submit: "Sign in",
    login_submitting: "Signing in…",
    login_help: "Forgot your password or locked out? Ask your merchant's administrator.",

    password_title: "Change password",
    password_forced: "You signed in with a new or reset password: choose your own before you go on.",
    password_current: "Current password",
    password_new: "New password",
    password_confirm: "New password again",
    password_rules: "Password rules",
    password_submit: "Change password",
    password_saving: "Saving…",
    password_done: "Your password has been changed.",
    rule_too_short: "At least 12 characters",
    rule_too_long: "At most 128 characters",
    rule_letter: "Contains a letter",
    rule_digit: "Contains a digit",
    rule_space: "No space at either end",
    rule_recent: "Not one of your last 4 passwords",
    rule_mismatch: "The two new passwords differ",

    field_required: "Required",
    field_format: "Not in the expected format",
    field_captcha: "The additional code is wrong or has expired: type the digits of the new picture.",
    field_wrong_password: "The current password is wrong",
    field_taken: "Already taken",
    policy_self_disable: "You cannot disable your own account.",
    policy_self_demote: "You cannot take the administrator role away from yourself.",
    policy_last_admin: "The merchant must keep at least one active administrator.",
    policy_cert_elsewhere: "This certificate is bound to another operator: unbind it there first.",
    policy_cert_unknown: "No certificate with this fingerprint has reached the console yet: ask its holder to open the sign-in page with it once.",
    policy_cert_not_valid: "This certificate has expired, is not valid yet or has been revoked: it cannot be bound.",
    policy_cert_not_for_merchant: "This certificate was not issued for one of this merchant's operators (its subject is not one of their login names): it cannot be bound.",
    policy_token_not_enrolled: "This action needs a token code and you have no token yet: enrol one on the “My token” page first.",
    policy_token_enrolled: "You already have a token. To replace it, ask an administrator to reset it.",
    policy_token_locked: "Too many wrong token codes in a row: the token is locked for 15 minutes.",
    field_code_wrong: "The code is not correct.",
    field_code_used: "This code has been used already: wait for the token to show the next one.",
    field_range_reversed: "The end date is before the start date.",
    policy_export_too_large: "Too many records match to download them in one file: narrow the search.",

    roles_intro: "What each role may use. An operator may hold several roles and may use all their functions.",
    roles_function: "Function",
    roles_area: "Area",
    granted: "Granted",
    not_granted: "Not granted",

    ops_search: "Login or name",
    ops_search_button: "Search",
    ops_add: "Add operator",
    ops_login: "Login name",
    ops_login_prefix_hint: |p| format!("Every login name of this merchant starts with “{p}.”: type the part after it, e.g. finance2."),
    ops_name: "Name",
    ops_roles: "Roles",
    ops_scope: "Data scope",
    ops_groups: "Terminal groups",
    ops_approval_limit: "Refund approval limit (¥)",
    ops_approval_limit_hint: "Beyond the manual: a refund above this amount needs a second approver after this one. Leave empty for no limit.",
    ops_status: "Status",
    ops_last_login: "Last sign-in",
    ops_certificates: "Certificates",
    ops_token: "TOTP token",
    ops_token_enrolled: "Enrolled",
    ops_token_none: "Not enrolled",
    ops_none_found: "No operator matches.",
    ops_new_title: "Add operator",
    ops_create: "Add",
    ops_save: "Save",
    ops_saved: "Saved.",
    ops_otp_title: "One-time password",
    ops_otp_body: "Hand this password to the operator in person. It is shown this once; they must change it at their first sign-in.",
    ops_open: "Open",
    ops_back: "Back to the operators",
    ops_enable: "Enable",
    ops_disable: "Disable",
    ops_unlock: "Unlock",
    ops_reset_password: "Reset password",
    ops_reset_token: "Reset token",
    ops_actions: "Actions",
    ops_done: "Done.",
    ops_locked_until: "Locked until",
    ops_failed: "Failed sign-ins in a row",
    ops_must_change: "Must change password at next sign-in",
    ops_fingerprint: "Certificate fingerprint (SHA-256)",
    ops_subject: "Certificate name",
    ops_valid_until: "Valid until",
    ops_bind: "Bind certificate",
    ops_unbind: "Unbind",
    ops_bind_hint: "When the holder opens the sign-in page with the certificate, the page shows its fingerprint: copy it here.",
    ops_no_certificates: "No certificate bound yet.",
    ops_no_groups: "The merchant has no terminal groups yet.",
    login_fingerprint: "Fingerprint",
    error_sign_in_refused: "Sign-in failed: the login name, password or certificate is not right, or the account is locked or disabled.",
    error_password_change_required: "Change your password first.",

    error_title: "Something went wrong",
    error_no_certificate: "No valid client certificate was presented.",
    error_unauthenticated: "Please sign in first.",
    error_forbidden: "You may not do this.",
    error_not_found: "The record you are looking for does not exist.",
    error_invalid: "Some input is not valid: check the marked fields.",
    error_conflict: "Someone else changed this record. Reload and try again.",
    error_internal: |id| format!("The console could not complete this. If you contact support, quote reference {id}."),
    error_unavailable: "The server cannot be reached. Check your connection and try again.",
    error_too_many_attempts: |s| format!("Too many sign-in attempts: try again in {s} seconds."),
    error_busy: "The console is busy: try again in a moment.",

    footer: "VPOS Merchant Console · keep your certificate and password safe",
};

#[cfg(test)]
mod tests {
    use super::*;
    use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};

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
