//! Home: the merchant's basic information (manual §3.1.1), the operator and their certificate.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::home::{get_home, HomeView, MerchantView, OperatorView};
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::load::Loaded;
use crate::ui::components::money::MoneyText;

#[component]
pub fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let home = Resource::new(|| (), |_| get_home());
    view! {
        <Title text=title_text(|l| l.texts().home_title.to_owned())/>
        <h1>{move || i18n.t().home_welcome}</h1>
        <Loaded resource=home ok=move |view| view! { <HomeContent view/> }/>
    }
}

#[component]
fn HomeContent(view: HomeView) -> impl IntoView {
    let i18n = use_i18n();
    let cert = view.certificate;
    let (merchant, operator) = (view.merchant, view.operator);
    view! {
        <div class="cards">
            <MerchantCard merchant/>
            <OperatorCard operator/>
            <section class="card" aria-labelledby="cert-title">
                <h2 id="cert-title">{move || i18n.t().home_certificate}</h2>
                <dl class="facts">
                    <dt>{move || i18n.t().home_cert_subject}</dt>
                    <dd data-field="cert-subject">{cert.subject_cn}</dd>
                    <dt>{move || i18n.t().home_cert_fingerprint}</dt>
                    <dd class="mono wrap" data-field="cert-fingerprint">{cert.fingerprint}</dd>
                    <dt>{move || i18n.t().home_cert_valid_until}</dt>
                    <dd>{cert.not_after}</dd>
                </dl>
            </section>
        </div>
    }
}

#[component]
fn MerchantCard(merchant: MerchantView) -> impl IntoView {
    let i18n = use_i18n();
    let MerchantView {
        code,
        name,
        status,
        settlement_bank,
        settlement_account_masked,
        settlement_cycle_days,
        refund_mode,
        refund_requires_token,
        daily_refund_quota_fen,
        refund_window_days,
        fast_refund_agreement,
        balance_fen,
        time_zone,
        merchant_numbers,
        terminal_count,
        terminals_signed_in,
    } = merchant;
    view! {
        <section class="card card-wide" aria-labelledby="merchant-title">
            <h2 id="merchant-title">{move || i18n.t().home_merchant_info}</h2>
            <dl class="facts facts-2col">
                <dt>{move || i18n.t().home_merchant_name}</dt>
                <dd data-field="merchant-name">{name}</dd>
                <dt>{move || i18n.t().home_merchant_code}</dt>
                <dd class="mono">{code}</dd>
                <dt>{move || i18n.t().home_status}</dt>
                <dd><span class=format!("badge badge-{}", status.code())>{move || status.label(i18n.lang())}</span></dd>
                <dt>{move || i18n.t().home_balance}</dt>
                <dd><MoneyText fen=balance_fen/></dd>
                <dt>{move || i18n.t().home_settlement_account}</dt>
                <dd>{settlement_bank} " " <span class="mono">{settlement_account_masked}</span></dd>
                <dt>{move || i18n.t().home_settlement_cycle}</dt>
                <dd>{move || (i18n.t().home_settlement_cycle_value)(settlement_cycle_days)}</dd>
                <dt>{move || i18n.t().home_refund_mode}</dt>
                <dd>{move || refund_mode.label(i18n.lang())}</dd>
                <dt>{move || i18n.t().home_refund_token}</dt>
                <dd>
                    {move || if refund_requires_token {
                        i18n.t().home_refund_token_required
                    } else {
                        i18n.t().home_refund_token_not_required
                    }}
                </dd>
                <dt>{move || i18n.t().home_daily_quota}</dt>
                <dd><MoneyText fen=daily_refund_quota_fen/></dd>
                <dt>{move || i18n.t().home_refund_window}</dt>
                <dd>{move || (i18n.t().home_refund_window_value)(refund_window_days)}</dd>
                <dt>{move || i18n.t().home_fast_refund}</dt>
                <dd>
                    {move || if fast_refund_agreement {
                        i18n.t().home_fast_refund_signed
                    } else {
                        i18n.t().home_fast_refund_unsigned
                    }}
                </dd>
                <dt>{move || i18n.t().home_terminals}</dt>
                <dd>{move || (i18n.t().home_terminal_count)(terminal_count, terminals_signed_in)}</dd>
                <dt>{move || i18n.t().home_time_zone}</dt>
                <dd>{time_zone}</dd>
            </dl>
            <h3>{move || i18n.t().home_merchant_numbers}</h3>
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t().home_merchant_no}</th>
                        <th scope="col">{move || i18n.t().home_store_name}</th>
                    </tr>
                </thead>
                <tbody>
                    {merchant_numbers
                        .into_iter()
                        .map(|n| view! {
                            <tr>
                                <td class="mono">{n.merchant_no}</td>
                                <td>{n.name}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn OperatorCard(operator: OperatorView) -> impl IntoView {
    let i18n = use_i18n();
    let OperatorView {
        login_name,
        display_name,
        roles,
        scope,
    } = operator;
    view! {
        <section class="card" aria-labelledby="operator-title">
            <h2 id="operator-title">{move || i18n.t().home_you}</h2>
            <dl class="facts">
                <dt>{move || i18n.t().home_operator}</dt>
                <dd data-field="operator">{display_name} " (" <span class="mono">{login_name}</span> ")"</dd>
                <dt>{move || i18n.t().home_roles}</dt>
                <dd>
                    {move || {
                        let lang = i18n.lang();
                        if roles.is_empty() {
                            i18n.t().none.to_owned()
                        } else {
                            lang.list(roles.iter().map(|r| r.label(lang)))
                        }
                    }}
                </dd>
                <dt>{move || i18n.t().home_scope}</dt>
                <dd>{move || scope.label(i18n.lang())}</dd>
            </dl>
        </section>
    }
}
