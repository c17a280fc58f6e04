//! The platform's commands for what a merchant runs on after onboarding: its terminals, its fee rates
//! and its refund policy (`vpos terminal …`, `vpos fee-rate …`, `vpos merchant policy …`).

use chrono::Utc;
use clap::{Args, Subcommand};

use app::backend::services::platform::{self, FeeRate, PolicyChange};
use app::domain::money::format_fen;
use app::domain::{CardOrg, CardType, Currency, MerchantCode, MerchantNo, Money, RefundMode};

use crate::cli::{connect, CliError};
use crate::settings::Settings;

#[derive(Debug, Subcommand)]
pub enum TerminalAction {
    /// Install a terminal on a merchant number (enabled, signed out until it signs in).
    Add {
        /// The 15-digit merchant number the terminal takes payments for.
        #[arg(long)]
        merchant_no: String,
        /// The terminal number, 8 digits.
        #[arg(long)]
        terminal: String,
        #[arg(long, default_value = "PAX A920")]
        model: String,
        #[arg(long)]
        alias: Option<String>,
    },
    /// List a merchant's terminals.
    List {
        /// The merchant code.
        #[arg(long)]
        merchant: String,
    },
    /// Disable a terminal: its next message to the gateway is refused (code 58).
    Disable {
        #[arg(long)]
        terminal: String,
    },
    /// Enable a disabled terminal again.
    Enable {
        #[arg(long)]
        terminal: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum FeeRateAction {
    /// Set a merchant's fee rate for one card organisation and type (added or replaced).
    Set {
        /// The merchant code.
        #[arg(long)]
        merchant: String,
        /// unionpay, visa, mastercard, jcb, amex or diners.
        #[arg(long)]
        org: String,
        /// debit or credit.
        #[arg(long = "type")]
        card_type: String,
        /// The rate in per cent, e.g. 0.6 or 0.38% (at most four decimals).
        #[arg(long)]
        rate: String,
        /// The most one sale pays, in yuan (none: no cap).
        #[arg(long)]
        cap: Option<String>,
    },
    /// List a merchant's fee rates.
    List {
        #[arg(long)]
        merchant: String,
    },
}

/// `vpos merchant policy`: what is not given stays as it is.
#[derive(Debug, Args)]
pub struct PolicyArgs {
    /// The merchant code.
    #[arg(long)]
    pub code: String,
    #[arg(long, value_parser = ["direct", "approval"])]
    pub refund_mode: Option<String>,
    /// Whether refunds need a one-time code from the operator's token.
    #[arg(long)]
    pub token_required: Option<bool>,
    /// The most the merchant's refunds of one day add up to, in yuan.
    #[arg(long)]
    pub daily_quota: Option<String>,
    /// How many days after a sale it may be refunded.
    #[arg(long)]
    pub refund_window_days: Option<i32>,
    #[arg(long)]
    pub fast_refund_agreement: Option<bool>,
}

fn merchant_code(code: &str) -> Result<MerchantCode, CliError> {
    MerchantCode::parse(code).map_err(|e| CliError(format!("{code:?}: {e}")))
}

pub async fn run_terminal(settings: &Settings, action: TerminalAction) -> Result<(), CliError> {
    let conn = connect(settings).await?;
    match action {
        TerminalAction::Add {
            merchant_no,
            terminal,
            model,
            alias,
        } => {
            let number = MerchantNo::parse(&merchant_no)
                .map_err(|e| CliError(format!("--merchant-no {merchant_no:?}: {e}")))?;
            platform::add_terminal(
                &conn,
                &number,
                &terminal,
                &model,
                alias.as_deref(),
                Utc::now(),
            )
            .await?;
            println!("terminal {terminal} added to {merchant_no}");
        }
        TerminalAction::List { merchant } => {
            let rows = platform::terminals_of(&conn, &merchant_code(&merchant)?).await?;
            println!(
                "{:<10} {:<16} {:<9} {:<11} {:<12} alias",
                "terminal", "merchant no", "status", "signed in", "model"
            );
            for t in rows {
                println!(
                    "{:<10} {:<16} {:<9} {:<11} {:<12} {}",
                    t.terminal_no,
                    t.merchant_no,
                    t.status,
                    if t.signed_in { "yes" } else { "no" },
                    t.model,
                    t.alias.unwrap_or_default()
                );
            }
        }
        TerminalAction::Disable { terminal } => {
            let changed =
                platform::set_terminal_enabled(&conn, &terminal, false, Utc::now()).await?;
            println!(
                "terminal {terminal} {}",
                if changed {
                    "disabled"
                } else {
                    "was disabled already"
                }
            );
        }
        TerminalAction::Enable { terminal } => {
            let changed =
                platform::set_terminal_enabled(&conn, &terminal, true, Utc::now()).await?;
            println!(
                "terminal {terminal} {}",
                if changed {
                    "enabled"
                } else {
                    "was enabled already"
                }
            );
        }
    }
    Ok(())
}

/// A rate in per cent as typed (`0.6`, `0.38%`) in parts per million.
pub fn rate_ppm(typed: &str) -> Result<i32, CliError> {
    let bad = || {
        CliError(format!(
            "--rate {typed:?}: a rate in per cent, e.g. 0.6 or 0.38%"
        ))
    };
    let number = typed.trim().trim_end_matches('%').trim();
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty()
        || fraction.len() > 4
        || !whole
            .bytes()
            .chain(fraction.bytes())
            .all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    let whole: i32 = whole.parse().map_err(|_| bad())?;
    let fraction: i32 = format!("{fraction:0<4}").parse().map_err(|_| bad())?;
    whole
        .checked_mul(10_000)
        .and_then(|w| w.checked_add(fraction))
        .ok_or_else(bad)
}

fn percent(ppm: i32) -> String {
    let text = format!("{}.{:04}", ppm / 10_000, ppm % 10_000);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

pub async fn run_fee_rate(settings: &Settings, action: FeeRateAction) -> Result<(), CliError> {
    let conn = connect(settings).await?;
    match action {
        FeeRateAction::Set {
            merchant,
            org,
            card_type,
            rate,
            cap,
        } => {
            let card_org = CardOrg::from_code(&org).ok_or_else(|| {
                CliError(format!(
                    "--org {org:?}: one of unionpay, visa, mastercard, jcb, amex, diners"
                ))
            })?;
            let card_type = CardType::from_code(&card_type)
                .ok_or_else(|| CliError(format!("--type {card_type:?}: debit or credit")))?;
            let cap_fen = cap
                .map(|cap| {
                    Money::parse(&cap, Currency::Cny)
                        .ok()
                        .filter(|m| m.is_positive())
                        .map(Money::fen)
                        .ok_or_else(|| {
                            CliError(format!("--cap {cap:?}: a positive amount in yuan"))
                        })
                })
                .transpose()?;
            let rate = FeeRate {
                card_org,
                card_type,
                rate_ppm: rate_ppm(&rate)?,
                cap_fen,
            };
            platform::set_fee_rate(&conn, &merchant_code(&merchant)?, rate, Utc::now()).await?;
            println!(
                "{merchant}: {} {} at {}{}",
                card_org.code(),
                card_type.code(),
                percent(rate.rate_ppm),
                cap_fen
                    .map(|c| format!(", at most ¥{} a sale", format_fen(c)))
                    .unwrap_or_default()
            );
        }
        FeeRateAction::List { merchant } => {
            println!("{:<11} {:<7} {:>8} {:>12}", "org", "type", "rate", "cap");
            for r in platform::fee_rates_of(&conn, &merchant_code(&merchant)?).await? {
                println!(
                    "{:<11} {:<7} {:>8} {:>12}",
                    r.card_org.code(),
                    r.card_type.code(),
                    percent(r.rate_ppm),
                    r.cap_fen
                        .map(|c| format!("¥{}", format_fen(c)))
                        .unwrap_or_else(|| "-".into())
                );
            }
        }
    }
    Ok(())
}

pub async fn run_policy(settings: &Settings, args: PolicyArgs) -> Result<(), CliError> {
    let code = merchant_code(&args.code)?;
    let daily_quota = args
        .daily_quota
        .map(|q| {
            Money::parse(&q, Currency::Cny)
                .ok()
                .filter(|m| m.fen() >= 0)
                .ok_or_else(|| CliError(format!("--daily-quota {q:?}: an amount in yuan")))
        })
        .transpose()?;
    let change = PolicyChange {
        refund_mode: args.refund_mode.as_deref().and_then(RefundMode::from_code),
        token_required: args.token_required,
        daily_quota,
        window_days: args.refund_window_days,
        fast_refund_agreement: args.fast_refund_agreement,
    };
    let conn = connect(settings).await?;
    let m = platform::change_policy(&conn, &code, change, Utc::now()).await?;
    println!("{code} {}", m.name);
    println!("  refund mode:           {}", m.refund_mode);
    println!("  token required:        {}", m.refund_requires_token);
    println!(
        "  daily refund quota:    ¥{}",
        format_fen(m.daily_refund_quota_fen)
    );
    println!("  refund window:         {} days", m.refund_window_days);
    println!("  fast refund agreement: {}", m.fast_refund_agreement);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_in_per_cent_to_the_part_per_million() {
        for (typed, ppm) in [
            ("0.6", 6_000),
            ("0.38%", 3_800),
            ("2.5 %", 25_000),
            ("0", 0),
            ("0.0001", 1),
        ] {
            assert_eq!(rate_ppm(typed).ok(), Some(ppm), "{typed}");
            assert_eq!(rate_ppm(&percent(ppm)).ok(), Some(ppm));
        }
        for bad in ["", "abc", "0.00001", "-1", "1.2.3", ".5"] {
            assert!(rate_ppm(bad).is_err(), "{bad}");
        }
    }
}
