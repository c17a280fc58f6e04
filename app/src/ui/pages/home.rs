//! Home: the merchant's basic information (manual §3.1.1), the operator and their certificate.

use leptos::prelude::*;
use leptos_meta::Title;

use crate::api::home::{get_home, DayFigures, HomeFigures, HomeView, MerchantView, OperatorView};
use crate::contract::home::SettlementDay;
use crate::contract::refunds::HeldSums;
use crate::domain::access::Function;
use crate::domain::money::format_count;
use crate::domain::SettlementStatus;
use crate::i18n::{title_text, use_i18n, Label};
use crate::ui::components::badge::StatusBadge;
use crate::ui::components::day_chart::DayChart;
use crate::ui::components::load::Loaded;
use crate::ui::components::money::{CountText, MoneyText};
use crate::ui::paths;

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
    let balance_fen = merchant.balance_fen;
    let may_terminals =
        crate::domain::access::functions_of(&operator.roles).contains(&Function::AdminTerminals);
    view! {
        <Figures figures=view.figures balance_fen/>
        <div class="cards">
            <MerchantCard merchant may_terminals/>
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

/// The finance user's start: what came in and went back today and yesterday, what the merchant is
/// owed, what waits for them, and the last 30 days. Every figure links to the list it is read from.
#[component]
fn Figures(figures: HomeFigures, balance_fen: i64) -> impl IntoView {
    let i18n = use_i18n();
    let HomeFigures {
        today: _,
        days,
        last_settlement,
        next_payout,
        held,
        approvals_waiting,
        exports_running,
    } = figures;
    let running = (exports_running > 0).then(|| {
        let n = format_count(i64::try_from(exports_running).unwrap_or(i64::MAX));
        view! {
            <p class="alert alert-info" role="status" data-field="exports-running">
                {move || (i18n.t().home_running)(n.clone())} " "
                <a href=paths::downloads::PATH>{move || i18n.t().home_running_link}</a>
            </p>
        }
    });
    let recent = days.clone().map(|days| {
        let mut latest = days.iter().rev();
        let (today, yesterday) = (latest.next().cloned(), latest.next().cloned());
        view! {
            <section class="card" aria-labelledby="days-title" data-field="recent-days">
                <h2 id="days-title">{move || i18n.t().home_figures_title}</h2>
                <div class="day-figures">
                    {today.map(|d| view! { <DayCard label=|t| t.home_today field="today" day=d/> })}
                    {yesterday.map(|d| view! { <DayCard label=|t| t.home_yesterday field="yesterday" day=d/> })}
                </div>
            </section>
        }
    });
    // Where the figures come from, for a user who wants the lists themselves.
    let links = [
        days.is_some().then_some((
            paths::transactions::LIST_PATH,
            (|t| t.home_link_search) as fn(&crate::i18n::Texts) -> &'static str,
        )),
        last_settlement
            .is_some()
            .then_some((paths::settlements::LIST_PATH, |t| t.home_link_settlements)),
        approvals_waiting
            .is_some()
            .then_some((paths::refunds::AWAITING_PATH, |t| t.home_link_approvals)),
        held.is_some()
            .then_some((paths::refunds::PENDING_PATH, |t| t.home_link_held)),
    ];
    let links = links.into_iter().flatten().collect::<Vec<_>>();
    let quick = (!links.is_empty()).then(|| {
        view! {
            <div class="quick-links" role="group" aria-label=move || i18n.t().home_quick_links>
                {links.into_iter().map(|(href, label)| view! {
                    <a class="button button-quiet" href=href>{move || label(i18n.t())}</a>
                }).collect_view()}
            </div>
        }
    });
    let chart = days.map(|days| {
        let n = days.len() as i64;
        view! {
            <section class="card card-wide" aria-labelledby="chart-title">
                <h2 id="chart-title">{move || (i18n.t().home_chart_title)(n)}</h2>
                <DayChart days=days.clone()/>
                <details>
                    <summary>{move || i18n.t().home_chart_table}</summary>
                    <DayTable days/>
                </details>
            </section>
        }
    });
    view! {
        {running}
        {quick}
        <div class="cards">
            {recent}
            <MoneyCard balance_fen last_settlement next_payout held/>
            {approvals_waiting.map(|n| view! {
                <section class="card" aria-labelledby="approvals-title">
                    <h2 id="approvals-title">{move || i18n.t().home_approvals}</h2>
                    <p class="big-figure" data-field="approvals-waiting">
                        <a href=paths::refunds::AWAITING_PATH><CountText n=i64::try_from(n).unwrap_or(i64::MAX)/></a>
                    </p>
                </section>
            })}
            {chart}
        </div>
    }
}

/// One day's sales, voids with refunds, and net, linked to that day's transactions.
#[component]
fn DayCard(
    label: fn(&crate::i18n::Texts) -> &'static str,
    field: &'static str,
    day: DayFigures,
) -> impl IntoView {
    let i18n = use_i18n();
    let f = day.figures;
    let out = f.voids.checked_add(f.refunds).ok();
    let net = f.net_fen().ok();
    let sales_count = format_count(f.sales.count);
    view! {
        <div class="day-card" data-field=field data-day=day.day.clone()>
            <h3>{move || label(i18n.t())} " " <span class="muted">{day.day.clone()}</span></h3>
            <dl class="facts">
                <dt>{move || (i18n.t().home_sales_of)(sales_count.clone())}</dt>
                <dd data-figure="sales"><MoneyText fen=f.sales.amount_fen/></dd>
                <dt>{move || i18n.t().home_out}</dt>
                <dd data-figure="out">{match out {
                    Some(t) => view! { <MoneyText fen=-t.amount_fen/> }.into_any(),
                    None => "—".into_any(),
                }}</dd>
                <dt>{move || i18n.t().txn_sum_net}</dt>
                <dd data-figure="net">{match net {
                    Some(fen) => view! { <strong><MoneyText fen/></strong> }.into_any(),
                    None => "—".into_any(),
                }}</dd>
            </dl>
            <a href=paths::transactions::days_path(&day.day, &day.day)>{move || i18n.t().home_view_day}</a>
        </div>
    }
}

/// Balance, what clearing holds back, the last settlement and the next payout.
#[component]
fn MoneyCard(
    balance_fen: i64,
    last_settlement: Option<SettlementDay>,
    next_payout: Option<crate::api::home::NextPayout>,
    held: Option<HeldSums>,
) -> impl IntoView {
    let i18n = use_i18n();
    let settles = last_settlement.is_some();
    let settlement = last_settlement.map(|s| {
        let date = s.date.to_string();
        let href = paths::settlements::day_path(&date);
        let n = format_count(s.sums.count);
        view! {
            <dt>{move || i18n.t().home_last_settlement}</dt>
            <dd data-field="last-settlement">
                <a href=href>{move || (i18n.t().home_settlement_day)(date.clone(), n.clone())}</a> " "
                <MoneyText fen=s.sums.net_fen/> " "
                <StatusBadge status=if s.paid { SettlementStatus::Paid } else { SettlementStatus::Pending }/>
            </dd>
        }
    });
    let payout = next_payout.map(|p| {
        let date = p.date.to_string();
        view! {
            <dt>{move || i18n.t().home_next_payout}</dt>
            <dd data-field="next-payout">
                <a href=paths::settlements::pending_path(&p.last_settlement_date.to_string())>
                    {move || (i18n.t().home_next_payout_value)(date.clone(), p.settlements)}
                </a> " "
                <strong><MoneyText fen=p.net_fen/></strong>
                <br/><small class="muted">{move || i18n.t().home_payout_note}</small>
            </dd>
        }
        .into_any()
    });
    let payout = payout.or_else(|| {
        settles.then(|| {
            view! {
                <dt>{move || i18n.t().home_next_payout}</dt>
                <dd data-field="next-payout" class="muted">{move || i18n.t().home_no_payout}</dd>
            }
            .into_any()
        })
    });
    let held = held.filter(|h| h.held_count > 0).map(|h| {
        let n = format_count(i64::try_from(h.held_count).unwrap_or(i64::MAX));
        view! {
            <dt>{move || i18n.t().home_held}</dt>
            <dd data-field="held">
                <a href=paths::refunds::PENDING_PATH>{move || (i18n.t().home_held_value)(n.clone())}</a> " "
                <MoneyText fen=h.held_fen/>
            </dd>
        }
    });
    view! {
        <section class="card" aria-labelledby="money-title">
            <h2 id="money-title">{move || i18n.t().home_money_title}</h2>
            <dl class="facts">
                <dt>{move || i18n.t().home_balance}</dt>
                <dd data-field="balance"><MoneyText fen=balance_fen/></dd>
                {held}
                {settlement}
                {payout}
            </dl>
        </section>
    }
}

/// The chart's days as a table, newest first, each linked to its transactions.
#[component]
fn DayTable(days: Vec<DayFigures>) -> impl IntoView {
    let i18n = use_i18n();
    let rows = days
        .into_iter()
        .rev()
        .map(|d| {
            let f = d.figures;
            let out = f.voids.checked_add(f.refunds).ok();
            view! {
                <tr data-day=d.day.clone()>
                    <td><a href=paths::transactions::days_path(&d.day, &d.day)>{d.day.clone()}</a></td>
                    <td class="num"><CountText n=f.sales.count/></td>
                    <td class="num"><MoneyText fen=f.sales.amount_fen/></td>
                    <td class="num">{out.map(|t| view! { <MoneyText fen=-t.amount_fen/> })}</td>
                    <td class="num">{f.net_fen().ok().map(|fen| view! { <MoneyText fen/> })}</td>
                </tr>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="table">
                <thead>
                    <tr>
                        <th scope="col">{move || i18n.t().home_day}</th>
                        <th scope="col" class="num">{move || i18n.t().txn_sum_count}</th>
                        <th scope="col" class="num">{move || i18n.t().txn_sum_sales}</th>
                        <th scope="col" class="num">{move || i18n.t().home_out}</th>
                        <th scope="col" class="num">{move || i18n.t().txn_sum_net}</th>
                    </tr>
                </thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn MerchantCard(merchant: MerchantView, may_terminals: bool) -> impl IntoView {
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
                <dd data-field="terminals">
                    {if may_terminals {
                        view! {
                            <a href=paths::terminals::LIST_PATH>
                                {move || (i18n.t().home_terminal_count)(terminal_count, terminals_signed_in)}
                            </a>
                        }.into_any()
                    } else {
                        (move || (i18n.t().home_terminal_count)(terminal_count, terminals_signed_in)).into_any()
                    }}
                </dd>
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
