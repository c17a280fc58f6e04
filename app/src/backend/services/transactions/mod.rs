//! Transactions as merchants' staff read them (manual §3.3): the filtered search newest first by
//! keyset, its total, the summary tabs, one transaction, its reprinted sales slip and the Excel download.
//! Every read starts from [`crate::backend::services::scope::transactions`]. One file per step: the
//! filters as typed ([`query`]), the selection they make ([`filters`]), totals and summaries
//! ([`tallies`]), a page ([`page`]), one transaction ([`detail`]) and the download ([`export`]).

mod detail;
mod export;
mod filters;
mod page;
mod query;
mod tallies;
#[cfg(test)]
mod tests;

pub use self::detail::{detail, slip};
pub(crate) use self::detail::{row_of, visible};
pub use self::export::{export, export_size, export_to_file, DIRECT_LIMIT, EXPORT_CAP};
pub(crate) use self::page::groups_for;
pub use self::page::{filter_options, page, pick};
pub use self::query::{CardMatch, Place, ResolvedQuery, TxnQuery};
pub use self::tallies::summary;
