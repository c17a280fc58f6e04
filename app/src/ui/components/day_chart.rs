//! Daily sales and what went back, as an SVG drawn on the server: readable before (and without) the
//! browser code, with each day's figures in its tooltip and, under it, in a table.

use leptos::prelude::*;

use crate::contract::home::DayFigures;
use crate::domain::Money;
use crate::i18n::use_i18n;

const WIDTH: f64 = 960.0;
const HEIGHT: f64 = 220.0;
/// Room for the day labels under the bars.
const LABELS: f64 = 20.0;
/// Of the height above the labels, the part for money in (the rest is for money out).
const UP_SHARE: f64 = 0.75;

/// How the amounts map to heights: one scale for sales, voids with refunds, and the net, so that
/// bars compare honestly.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Scale {
    /// The y of zero.
    baseline: f64,
    /// Pixels per fen.
    per_fen: f64,
}

impl Scale {
    fn of(days: &[DayFigures]) -> Scale {
        let plot = HEIGHT - LABELS;
        let up = plot * UP_SHARE;
        let down = plot - up;
        let most_in = days
            .iter()
            .map(|d| d.figures.sales.amount_fen)
            .max()
            .unwrap_or(0);
        let most_out = days.iter().map(out_fen).max().unwrap_or(0);
        // The scale that fits both the highest sales above and the largest outflow below.
        let per_fen = [(most_in, up), (most_out, down)]
            .into_iter()
            .filter(|(fen, _)| *fen > 0)
            .map(|(fen, room)| room / fen as f64)
            .fold(f64::INFINITY, f64::min);
        Scale {
            baseline: up,
            per_fen: if per_fen.is_finite() { per_fen } else { 0.0 },
        }
    }

    fn height(self, fen: i64) -> f64 {
        fen.max(0) as f64 * self.per_fen
    }

    fn y(self, fen: i64) -> f64 {
        self.baseline - fen as f64 * self.per_fen
    }
}

/// Voids and refunds of a day, in fen.
fn out_fen(day: &DayFigures) -> i64 {
    day.figures
        .voids
        .amount_fen
        .saturating_add(day.figures.refunds.amount_fen)
}

fn yuan(fen: i64) -> String {
    Money::cny(fen).to_string()
}

#[component]
pub fn DayChart(days: Vec<DayFigures>) -> impl IntoView {
    let i18n = use_i18n();
    let scale = Scale::of(&days);
    let slot = WIDTH / days.len().max(1) as f64;
    let bar = (slot * 0.36).max(1.0);
    let most_in = days
        .iter()
        .map(|d| d.figures.sales.amount_fen)
        .max()
        .unwrap_or(0);
    let net_points = days
        .iter()
        .enumerate()
        .filter_map(|(i, d)| {
            let net = d.figures.net_fen().ok()?;
            Some(format!(
                "{:.1},{:.1}",
                slot * (i as f64 + 0.5),
                scale.y(net)
            ))
        })
        .collect::<Vec<_>>()
        .join(" ");
    let last = days.len().saturating_sub(1);
    let columns = days
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let x = slot * i as f64;
            let sales = scale.height(d.figures.sales.amount_fen);
            let out = scale.height(out_fen(d));
            let net = d.figures.net_fen().ok();
            let tip = {
                let (day, d) = (d.day.clone(), d.figures);
                move || {
                    let t = i18n.t();
                    format!(
                        "{day}\n{}: {}\n{}: {}\n{}: {}",
                        (t.home_sales_of)(d.sales.count.to_string()),
                        yuan(d.sales.amount_fen),
                        t.home_out,
                        yuan(d.voids.amount_fen.saturating_add(d.refunds.amount_fen)),
                        t.txn_sum_net,
                        net.map_or_else(|| "—".to_owned(), yuan),
                    )
                }
            };
            // A label under every fifth day and under today, month and day only.
            let label = (i % 5 == 0 || i == last).then(|| d.day.get(5..).unwrap_or_default().to_owned());
            view! {
                <g class="chart-day" data-day=d.day.clone()>
                    <title>{tip}</title>
                    <rect class="chart-hit" x=format!("{x:.1}") y="0" width=format!("{slot:.1}") height=format!("{:.1}", HEIGHT - LABELS)/>
                    <rect class="chart-in" x=format!("{:.1}", x + slot / 2.0 - bar) y=format!("{:.1}", scale.baseline - sales) width=format!("{bar:.1}") height=format!("{sales:.1}")/>
                    <rect class="chart-out" x=format!("{:.1}", x + slot / 2.0) y=format!("{:.1}", scale.baseline) width=format!("{bar:.1}") height=format!("{out:.1}")/>
                    {label.map(|l| view! {
                        <text class="chart-label" x=format!("{:.1}", x + slot / 2.0) y=format!("{:.1}", HEIGHT - 5.0) text-anchor="middle">{l}</text>
                    })}
                </g>
            }
        })
        .collect_view();
    view! {
        <figure class="day-chart">
            <svg viewBox=format!("0 0 {WIDTH} {HEIGHT}") role="img"
                aria-label=move || (i18n.t().home_chart_title)(days.len() as i64)>
                <line class="chart-axis" x1="0" x2=WIDTH.to_string() y1=format!("{:.1}", scale.baseline) y2=format!("{:.1}", scale.baseline)/>
                {columns}
                <polyline class="chart-net" points=net_points/>
            </svg>
            <figcaption class="chart-legend">
                <span class="legend legend-in">{move || i18n.t().txn_sum_sales}</span>
                <span class="legend legend-out">{move || i18n.t().home_out}</span>
                <span class="legend legend-net">{move || i18n.t().txn_sum_net}</span>
                <span class="muted">{move || i18n.t().home_chart_scale} " " {yuan(most_in)}</span>
            </figcaption>
        </figure>
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::breakdown::{Breakdown, Tally};

    fn day(sales: i64, refunds: i64) -> DayFigures {
        DayFigures {
            day: "2026-12-01".into(),
            figures: Breakdown {
                sales: Tally {
                    count: 1,
                    amount_fen: sales,
                },
                refunds: Tally {
                    count: 1,
                    amount_fen: refunds,
                },
                ..Breakdown::default()
            },
        }
    }

    #[test]
    fn the_highest_sales_fill_the_room_above_the_baseline() {
        let scale = Scale::of(&[day(10_000, 100), day(5_000, 0)]);
        assert!((scale.height(10_000) - scale.baseline).abs() < 1e-9);
        assert!((scale.y(10_000)).abs() < 1e-9);
    }

    #[test]
    fn a_large_refund_shrinks_the_scale_so_that_it_fits_below() {
        let scale = Scale::of(&[day(1_000, 100_000)]);
        let room_below = HEIGHT - LABELS - scale.baseline;
        assert!((scale.height(100_000) - room_below).abs() < 1e-9);
        assert!(scale.height(1_000) < scale.baseline);
    }

    #[test]
    fn days_without_money_draw_nothing() {
        let scale = Scale::of(&[day(0, 0), day(0, 0)]);
        assert_eq!(scale.height(0), 0.0);
        assert_eq!(scale.per_fen, 0.0);
    }
}
