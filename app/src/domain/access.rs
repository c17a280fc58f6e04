//! Functions (menu items and actions) and the built-in roles that grant them (manual §3.7.1).
//!
//! The database holds the same catalogue (migration `seed_roles`); a test checks that they agree.

use super::codes::code_enum;

code_enum!(
    /// A function a role may grant. Every server function checks one of these on the server.
    Function {
        SettlementQuery = "settlement.query",
        SettlementExport = "settlement.export",
        SettlementReconciliationFile = "settlement.reconciliation_file",
        TransactionQuery = "transaction.query",
        TransactionExport = "transaction.export",
        TransactionReprintSlip = "transaction.reprint_slip",
        RefundRequest = "refund.request",
        RefundApprove = "refund.approve",
        RefundQuery = "refund.query",
        RefundPendingClearing = "refund.pending_clearing",
        MonitorView = "monitor.view",
        FastRefundRequest = "fast_refund.request",
        FastRefundBatch = "fast_refund.batch",
        FastRefundExceptions = "fast_refund.exceptions",
        FastRefundQuery = "fast_refund.query",
        AdminRoleMatrix = "admin.role_matrix",
        AdminOperators = "admin.operators",
        AdminTerminals = "admin.terminals",
        AdminTerminalGroups = "admin.terminal_groups",
        AdminAuditLog = "admin.audit_log",
    }
);

code_enum!(
    /// The built-in roles An operator may hold several.
    Role {
        Administrator = "administrator",
        Finance = "finance",
        Monitor = "monitor",
        RefundOperator = "refund_operator",
        RefundApprover = "refund_approver",
        FastRefundOperator = "fast_refund_operator",
    }
);

impl Role {
    pub const fn functions(self) -> &'static [Function] {
        use Function as F;
        match self {
            Role::Administrator => &[
                F::SettlementQuery,
                F::TransactionQuery,
                F::RefundQuery,
                F::MonitorView,
                F::FastRefundQuery,
                F::AdminRoleMatrix,
                F::AdminOperators,
                F::AdminTerminals,
                F::AdminTerminalGroups,
                F::AdminAuditLog,
            ],
            Role::Finance => &[
                F::SettlementQuery,
                F::SettlementExport,
                F::SettlementReconciliationFile,
                F::TransactionQuery,
                F::TransactionExport,
                F::TransactionReprintSlip,
                F::RefundQuery,
                F::RefundPendingClearing,
                F::FastRefundQuery,
            ],
            Role::Monitor => &[
                F::TransactionQuery,
                F::TransactionReprintSlip,
                F::MonitorView,
            ],
            Role::RefundOperator => &[
                F::TransactionQuery,
                F::RefundRequest,
                F::RefundQuery,
                F::RefundPendingClearing,
            ],
            Role::RefundApprover => &[F::TransactionQuery, F::RefundApprove, F::RefundQuery],
            Role::FastRefundOperator => &[
                F::TransactionQuery,
                F::FastRefundRequest,
                F::FastRefundBatch,
                F::FastRefundExceptions,
                F::FastRefundQuery,
            ],
        }
    }

    pub fn grants(self, function: Function) -> bool {
        self.functions().contains(&function)
    }
}

/// The union of the functions granted by a set of roles.
pub fn functions_of(roles: &[Role]) -> Vec<Function> {
    Function::ALL
        .iter()
        .copied()
        .filter(|f| roles.iter().any(|r| r.grants(*f)))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_function_is_granted_by_some_role() {
        for f in Function::ALL {
            assert!(
                Role::ALL.iter().any(|r| r.grants(*f)),
                "{f} is granted by no role"
            );
        }
    }

    #[test]
    fn requesting_and_approving_refunds_are_separate_roles() {
        for r in Role::ALL {
            assert!(
                !(r.grants(Function::RefundRequest) && r.grants(Function::RefundApprove)),
                "{r} may both request and approve"
            );
        }
    }

    #[test]
    fn functions_of_several_roles_is_their_union_in_catalogue_order() {
        let fs = functions_of(&[Role::Monitor, Role::RefundApprover]);
        assert_eq!(
            fs,
            vec![
                Function::TransactionQuery,
                Function::TransactionReprintSlip,
                Function::RefundApprove,
                Function::RefundQuery,
                Function::MonitorView
            ]
        );
        assert!(functions_of(&[]).is_empty());
    }
}
