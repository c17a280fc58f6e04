//! Fixed codes stored in status and category columns. Each enum maps one-to-one to the codes allowed by
//! the CHECK constraint of its column.

macro_rules! code_enum {
    ($(#[$doc:meta])* $name:ident { $($(#[$vdoc:meta])* $variant:ident = $code:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, ::serde::Serialize, ::serde::Deserialize)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $code)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            /// The code stored in the database.
            pub const fn code(self) -> &'static str {
                match self {
                    $($name::$variant => $code),+
                }
            }

            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $($code => Some($name::$variant),)+
                    _ => None,
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.code())
            }
        }
    };
}
pub(crate) use code_enum;

code_enum!(
    /// Transaction type.
    TxnType {
        Purchase = "purchase",
        PreAuth = "preauth",
        PreAuthCompletion = "preauth_completion",
        Void = "void",
        Refund = "refund",
    }
);

code_enum!(
    TxnStatus {
        Success = "success",
        Failed = "failed",
        Reversed = "reversed",
    }
);

impl TxnStatus {
    /// The host's response code of a transaction of this status, where the status tells it: a
    /// successful or a later reversed one was approved (`00`); a failed one's decline code is not
    /// kept with the transaction.
    pub const fn response_code(self) -> Option<&'static str> {
        match self {
            TxnStatus::Success | TxnStatus::Reversed => Some("00"),
            TxnStatus::Failed => None,
        }
    }
}

code_enum!(
    CardOrg {
        UnionPay = "unionpay",
        Visa = "visa",
        Mastercard = "mastercard",
        Jcb = "jcb",
        Amex = "amex",
        Diners = "diners",
    }
);

code_enum!(
    CardType {
        Debit = "debit",
        Credit = "credit",
    }
);

code_enum!(
    /// How a merchant's refunds are submitted (manual §3.4).
    RefundMode {
        /// The request goes straight to the acquirer.
        Direct = "direct",
        /// A refund approver must approve it first.
        Approval = "approval",
    }
);

code_enum!(
    MerchantStatus {
        Active = "active",
        Suspended = "suspended",
    }
);

code_enum!(
    /// A merchant number: taking payments, or closed.
    MerchantNumberStatus {
        Active = "active",
        Closed = "closed",
    }
);

code_enum!(
    /// An operator's TOTP token: issued and waiting for its first code, or in use.
    TokenStatus {
        Pending = "pending",
        Active = "active",
    }
);

code_enum!(
    OperatorStatus {
        Active = "active",
        Locked = "locked",
        Disabled = "disabled",
    }
);

code_enum!(
    /// Which transactions an operator sees.
    DataScope {
        /// Every terminal of the merchant.
        Merchant = "merchant",
        /// Only the terminals of the operator's terminal groups.
        Groups = "groups",
    }
);

code_enum!(
    TerminalStatus {
        Enabled = "enabled",
        Disabled = "disabled",
    }
);

code_enum!(
    SettlementStatus {
        Pending = "pending",
        Paid = "paid",
    }
);

code_enum!(
    /// What moved money on a merchant's ledger.
    LedgerEntryType {
        /// A settlement's sales less their fees.
        SettlementCredit = "settlement_credit",
        /// A settlement's refunds.
        RefundDebit = "refund_debit",
        FastRefundDebit = "fast_refund_debit",
        /// A settlement's net paid to the merchant's bank account.
        PayoutDebit = "payout_debit",
        /// Money the merchant paid in.
        AdjustmentCredit = "adjustment_credit",
        AdjustmentDebit = "adjustment_debit",
    }
);

code_enum!(
    /// A background export (a download too large to be written while the user waits).
    ExportStatus {
        Queued = "queued",
        Running = "running",
        Done = "done",
        Failed = "failed",
        /// The file was kept for its time and has been deleted.
        Expired = "expired",
    }
);

code_enum!(
    /// Issuing banks known to the console. The fast-refund ones are those of manual §3.6.1.2.
    Bank {
        Cmb = "CMB",
        Icbc = "ICBC",
        Ccb = "CCB",
        Abc = "ABC",
        Bocom = "BOCOM",
        Cgb = "CGB",
        Cib = "CIB",
        Citic = "CITIC",
        Ceb = "CEB",
        Boc = "BOC",
        Psbc = "PSBC",
        Spdb = "SPDB",
        Cmbc = "CMBC",
        Pab = "PAB",
        Hxb = "HXB",
        Foreign = "FOREIGN",
    }
);

impl Bank {
    /// Banks whose cards (credit and debit) can receive a fast refund (manual §3.6.1.2).
    pub const fn supports_fast_refund(self) -> bool {
        matches!(
            self,
            Bank::Cmb
                | Bank::Icbc
                | Bank::Ccb
                | Bank::Abc
                | Bank::Bocom
                | Bank::Cgb
                | Bank::Cib
                | Bank::Citic
                | Bank::Ceb
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_round_trips() {
        for t in TxnType::ALL {
            assert_eq!(TxnType::from_code(t.code()), Some(*t));
        }
        for b in Bank::ALL {
            assert_eq!(Bank::from_code(b.code()), Some(*b));
        }
        assert_eq!(CardOrg::from_code("VISA"), None, "codes are exact");
    }

    #[test]
    fn serde_uses_the_stored_codes() {
        assert_eq!(
            serde_json::to_string(&TxnType::PreAuthCompletion).ok(),
            Some("\"preauth_completion\"".into())
        );
        assert_eq!(
            serde_json::from_str::<CardOrg>("\"unionpay\"").ok(),
            Some(CardOrg::UnionPay)
        );
    }

    #[test]
    fn nine_banks_support_fast_refunds() {
        assert_eq!(
            Bank::ALL
                .iter()
                .filter(|b| b.supports_fast_refund())
                .count(),
            9
        );
        assert!(!Bank::Boc.supports_fast_refund());
    }
}

code_enum!(
    /// What an audit event records.
    AuditAction {
        SignIn = "sign_in",
        Lockout = "lockout",
        SignOut = "sign_out",
        SessionTimeout = "session_timeout",
        PasswordChange = "password_change",
        PasswordReset = "password_reset",
        TokenEnrol = "token_enrol",
        TokenReset = "token_reset",
        TokenCheck = "token_check",
        OperatorCreate = "operator_create",
        OperatorUpdate = "operator_update",
        OperatorRoles = "operator_roles",
        OperatorScope = "operator_scope",
        OperatorEnable = "operator_enable",
        OperatorDisable = "operator_disable",
        OperatorUnlock = "operator_unlock",
        CertificateBind = "certificate_bind",
        CertificateUnbind = "certificate_unbind",
        CertificateRevoke = "certificate_revoke",
        AccessDenied = "access_denied",
        AuditExport = "audit_export",
        SettlementExport = "settlement_export",
        ReconciliationDownload = "reconciliation_download",
        TransactionExport = "transaction_export",
        SlipReprint = "slip_reprint",
        ExportStart = "export_start",
        ExportDownload = "export_download",
        RefundRequest = "refund_request",
        RefundCancel = "refund_cancel",
        RefundApprove = "refund_approve",
        RefundReject = "refund_reject",
        TerminalUpdate = "terminal_update",
        TerminalEnable = "terminal_enable",
        TerminalDisable = "terminal_disable",
        GroupCreate = "group_create",
        GroupRename = "group_rename",
        GroupDelete = "group_delete",
        GroupTerminals = "group_terminals",
        TerminalAdd = "terminal_add",
        FeeRateSet = "fee_rate_set",
        MerchantPolicy = "merchant_policy",
        FastRefundRequest = "fast_refund_request",
        FastRefundResubmit = "fast_refund_resubmit",
        /// The bank's answer to a fast refund: paid, failed or rejected.
        FastRefundAnswer = "fast_refund_answer",
        FastRefundExport = "fast_refund_export",
        FastRefundBatch = "fast_refund_batch",
    }
);

code_enum!(
    AuditOutcome {
        Success = "success",
        Failure = "failure",
        Denied = "denied",
    }
);

code_enum!(
    /// Why a session ended.
    SessionEnd {
        Logout = "logout",
        /// No request for longer than the idle timeout.
        Idle = "idle",
        /// The absolute limit since sign-in.
        Expired = "expired",
        PasswordChanged = "password_changed",
        /// Disabled, locked, reset or demoted by an administrator.
        OperatorChanged = "operator_changed",
        /// A request came with another certificate than the one the session was opened with, or
        /// the session's certificate was revoked.
        Certificate = "certificate",
    }
);
