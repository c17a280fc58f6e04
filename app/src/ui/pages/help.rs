//! Help: frequently asked questions (manual §4), in both languages.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::domain::refund::RefundStatus;
use crate::domain::{SettlementStatus, TxnStatus};
use crate::i18n::{title_text, use_i18n, Label, Lang, Texts};

#[component]
pub fn HelpPage() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Title text=title_text(|l| l.texts().help_title.to_owned())/>
        <h1>{move || i18n.t().help_title}</h1>
        <p class="muted">{move || i18n.t().help_intro}</p>
        <div class="faq">
            {move || {
                i18n.t()
                    .faqs
                    .iter()
                    .map(|faq| {
                        view! {
                            <details class="card">
                                <summary>{faq.question}</summary>
                                {faq.answer.iter().map(|p| view! { <p>{*p}</p> }).collect_view()}
                            </details>
                        }
                    })
                    .collect_view()
            }}
            <Statuses/>
        </div>
    }
}

/// The statuses, in the words the pages use for them: read from the same labels.
#[component]
fn Statuses() -> impl IntoView {
    let i18n = use_i18n();
    let line = move |name: fn(&Texts) -> &'static str, labels: fn(Lang) -> String| {
        view! {
            <p>
                <strong>{move || name(i18n.t())}</strong>
                {move || format!("{}{}", i18n.t().label_sep, labels(i18n.lang()))}
            </p>
        }
    };
    view! {
        <details class="card" id="help-statuses">
            <summary>{move || i18n.t().help_statuses_q}</summary>
            {line(|t| t.help_statuses_txn, |l| l.list(TxnStatus::ALL.iter().map(|s| s.label(l))))}
            {line(|t| t.help_statuses_settlement, |l| l.list(SettlementStatus::ALL.iter().map(|s| s.label(l))))}
            {line(|t| t.help_statuses_refund, |l| l.list(RefundStatus::ALL.iter().map(|s| s.label(l))))}
            <p>{move || i18n.t().help_statuses_refund_flow}</p>
        </details>
    }
}
