//! The downloads list: files written in the background (exports larger than a direct download), with
//! their progress while they are written and a link once they are ready. The list refreshes itself
//! while a file is being written.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::exports::{file_path, list_exports, ExportJobView, ExportList};
use crate::domain::ExportStatus;
use crate::i18n::{title_text, use_i18n};
use crate::ui::components::badge::StatusBadge;
use crate::ui::components::load::Loaded;

/// `12.3 MB`, for a file size.
fn size_text(bytes: i64) -> String {
    let mb = bytes as f64 / 1_000_000.0;
    if mb >= 0.1 {
        format!("{mb:.1} MB")
    } else {
        format!("{} KB", (bytes + 999) / 1000)
    }
}

#[component]
pub fn DownloadsPage() -> impl IntoView {
    let i18n = use_i18n();
    let list = Resource::new(|| (), |_| list_exports());
    // While a file is being written, ask again every second (in the browser only).
    Effect::new(move |_| {
        let busy = list
            .get()
            .and_then(Result::ok)
            .is_some_and(|l: ExportList| {
                l.jobs
                    .iter()
                    .any(|j| matches!(j.status, ExportStatus::Queued | ExportStatus::Running))
            });
        if busy {
            set_timeout(move || list.refetch(), std::time::Duration::from_secs(1));
        }
    });
    view! {
        <Title text=title_text(|l| l.texts().nav_downloads.to_owned())/>
        <h1>{move || i18n.t().nav_downloads}</h1>
        <p class="muted" data-field="downloads-about">{move || i18n.t().downloads_about}</p>
        <Loaded resource=list ok=move |list| view! { <Jobs list/> }/>
    }
}

#[component]
fn Jobs(list: ExportList) -> impl IntoView {
    let i18n = use_i18n();
    let limit = list.direct_limit;
    view! {
        <p class="muted">{move || i18n.t().exports_intro.replace("{}", &limit.to_string())}</p>
        {if list.jobs.is_empty() {
            view! { <p class="muted">{move || i18n.t().exports_none}</p> }.into_any()
        } else {
            view! {
                <div class="table-wrap">
                    <table class="table" id="downloads-table">
                        <thead>
                            <tr>
                                <th>{move || i18n.t().exports_col_requested}</th>
                                <th>{move || i18n.t().exports_col_kind}</th>
                                <th class="num">{move || i18n.t().exports_col_rows}</th>
                                <th>{move || i18n.t().exports_col_progress}</th>
                                <th>{move || i18n.t().exports_col_status}</th>
                                <th>{move || i18n.t().exports_col_file}</th>
                                <th>{move || i18n.t().exports_col_expires}</th>
                            </tr>
                        </thead>
                        <tbody>
                            {list.jobs.into_iter().map(|job| view! { <Job job/> }).collect_view()}
                        </tbody>
                    </table>
                </div>
            }.into_any()
        }}
    }
}

#[component]
fn Job(job: ExportJobView) -> impl IntoView {
    let i18n = use_i18n();
    let status = job.status;
    let percent = if job.total_rows > 0 {
        (job.rows_done.saturating_mul(100) / job.total_rows).clamp(0, 100)
    } else {
        100
    };
    let interrupted = job.interrupted;
    let file = match (status, job.file_name) {
        (ExportStatus::Done, Some(name)) => {
            let size = job.file_size.map(size_text).unwrap_or_default();
            view! {
                <a href=file_path(job.id) rel="external" download="" data-action="fetch-export">{name}</a>
                " " <span class="muted small">{size}</span>
            }
            .into_any()
        }
        _ => ().into_any(),
    };
    view! {
        <tr data-job=job.id data-status=status.code()>
            <td class="nowrap">{job.requested_at}</td>
            <td>{move || if job.kind == "transactions" { i18n.t().exports_kind_transactions } else { "" }}</td>
            <td class="num">{job.total_rows}</td>
            <td>
                <progress max="100" value=percent aria-label=move || i18n.t().exports_col_progress>{percent}"%"</progress>
                " " <span class="small">{percent}"%"</span>
            </td>
            <td>
                <StatusBadge status/>
                {interrupted.then(|| view! { <p class="small muted">{move || i18n.t().exports_interrupted}</p> })}
            </td>
            <td class="nowrap">{file}</td>
            <td class="nowrap">{job.expires_at}</td>
        </tr>
    }
}
