//! The console's addresses in one place: pages link to each other through these (never through
//! each other), and the server mounts the download handlers at the same paths.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

/// The `:id` of the current route (`/transactions/:id`, `/refunds/:id` …); 0 when it is not a
/// number, which no record has, so the page shows "not found".
pub fn id_param() -> Memo<i64> {
    let params = use_params_map();
    Memo::new(move |_| {
        params
            .get()
            .get("id")
            .and_then(|id| id.parse::<i64>().ok())
            .unwrap_or(0)
    })
}

pub mod transactions {
    pub const LIST_PATH: &str = "/transactions";
    /// Where the Excel download is served (a plain GET, so the browser saves the file).
    pub const EXPORT_PATH: &str = "/transactions/export";

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }

    /// The transactions of the days `from` to `to` (`YYYY-MM-DD`, inclusive).
    pub fn days_path(from: &str, to: &str) -> String {
        format!("{LIST_PATH}?from={from}&to={to}")
    }

    pub fn slip_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}/slip")
    }
}

pub mod refunds {
    pub const LIST_PATH: &str = "/refunds";
    pub const NEW_PATH: &str = "/refunds/new";
    /// The pending-clearing list (manual §3.4.4).
    pub const PENDING_PATH: &str = "/refunds/pending-clearing";

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }

    /// The refund form of transaction `txn_id`.
    pub fn new_path(txn_id: i64) -> String {
        format!("{NEW_PATH}?txn={txn_id}")
    }

    /// The refund requests of transaction `txn_id`.
    pub fn of_txn_path(txn_id: i64) -> String {
        format!("{LIST_PATH}?txn={txn_id}")
    }

    /// The approvers' list: the requests waiting for a decision.
    pub const AWAITING_PATH: &str = "/refunds/approvals";

    /// The refund requests settlement `id` debited.
    pub fn in_settlement_path(id: i64) -> String {
        format!("{LIST_PATH}?settlement={id}")
    }
}

pub mod fast_refunds {
    /// The search for a transaction to refund fast.
    pub const SEARCH_PATH: &str = "/fast-refunds";
    pub const NEW_PATH: &str = "/fast-refunds/new";
    pub const QUERY_PATH: &str = "/fast-refunds/query";
    pub const EXCEPTIONS_PATH: &str = "/fast-refunds/exceptions";
    /// Where the query's Excel download is served.
    pub const EXPORT_PATH: &str = "/fast-refunds/export";
    /// The batch page: the template, the upload and its preview.
    pub const BATCH_PATH: &str = "/fast-refunds/batch";
    pub const TEMPLATE_PATH: &str = "/fast-refunds/template";
    /// Where a batch file is posted (multipart, field `file`).
    pub const UPLOAD_PATH: &str = "/fast-refunds/upload";
    /// The error report of an upload.
    pub const ERRORS_ROUTE: &str = "/fast-refunds/upload/{id}/errors";

    pub fn preview_path(upload: i64) -> String {
        format!("{BATCH_PATH}?upload={upload}")
    }

    pub fn errors_path(upload: i64) -> String {
        format!("/fast-refunds/upload/{upload}/errors")
    }

    /// The items of batch `id` in the query.
    pub fn batch_items_path(id: i64) -> String {
        format!("{QUERY_PATH}?batch={id}")
    }

    pub fn detail_path(id: i64) -> String {
        format!("{SEARCH_PATH}/{id}")
    }

    /// The fast-refund form of transaction `txn_id`.
    pub fn new_path(txn_id: i64) -> String {
        format!("{NEW_PATH}?txn={txn_id}")
    }
}

pub mod terminals {
    pub const LIST_PATH: &str = "/admin/terminals";

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }
}

pub mod groups {
    pub const LIST_PATH: &str = "/admin/groups";

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }
}

pub mod settlements {
    pub const LIST_PATH: &str = "/settlements";
    /// Where the Excel download is served (a plain GET, so the browser saves the file).
    pub const EXPORT_PATH: &str = "/settlements/export";

    /// The route of [`reconciliation_path`] (axum's pattern).
    pub const RECONCILIATION_ROUTE: &str = "/settlements/{id}/reconciliation";

    /// The reconciliation file of one settlement.
    pub fn reconciliation_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}/reconciliation")
    }

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }

    /// The settlements of one settlement date (`YYYY-MM-DD`).
    pub fn day_path(date: &str) -> String {
        format!("{LIST_PATH}?from={date}&to={date}")
    }

    /// The settlements not paid out yet, up to settlement date `to` (`YYYY-MM-DD`).
    pub fn pending_path(to: &str) -> String {
        format!("{LIST_PATH}?status=pending&to={to}")
    }
}

pub mod downloads {
    pub const PATH: &str = "/downloads";
}

pub mod operators {
    pub const LIST_PATH: &str = "/admin/operators";

    pub fn detail_path(id: i64) -> String {
        format!("{LIST_PATH}/{id}")
    }
}

pub mod audit {
    /// Where the audit log's download is served (a plain GET, so the browser saves the file).
    pub const EXPORT_PATH: &str = "/admin/audit/export";
}
