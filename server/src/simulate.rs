//! `vpos simulate`: POS terminals on a real HTTPS connection to the terminal gateway, as the
//! acquirer's front end would relay them (docs/GATEWAY.md).
//!
//! Each terminal keeps one connection, signs in with a batch, sends sales with now and then a void of
//! one of its sales of the batch or a refund of an earlier one, and signs out with the totals it
//! counted. On purpose it also sends a few messages the host must refuse (an amount over the limit, a
//! card number with a wrong check digit), resends a message whose answer it "lost" (a timeout: the
//! same voucher number again) and repeats a few at random; a message that fails on the connection is
//! sent again on a new one, with the same voucher number. At the end it prints what it sent and what
//! came back.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use http_body_util::BodyExt;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rustls::ClientConfig;
use serde_json::{json, Value};

use crate::cli::CliError;

#[derive(Debug, Args)]
pub struct SimulateArgs {
    /// The gateway's address, e.g. https://localhost:8444.
    #[arg(long, default_value = "https://localhost:8444")]
    pub gateway: String,
    /// The gateway certificate (PEM) the front end presents (`vpos pki gateway`).
    #[arg(long)]
    pub cert: PathBuf,
    /// Its private key (PEM).
    #[arg(long)]
    pub key: PathBuf,
    /// The platform CA that signed the gateway's server certificate.
    #[arg(long, default_value = "var/pki/ca.pem")]
    pub ca: PathBuf,
    /// The terminals: numbers and ranges, e.g. 10010001-10010008,10110001. Default: the first
    /// store of the demo data.
    #[arg(long, default_value = "10010001-10010008")]
    pub terminals: String,
    /// Messages per second, all terminals together.
    #[arg(long, default_value_t = 20.0)]
    pub rate: f64,
    /// How long to send, in seconds.
    #[arg(long, default_value_t = 30)]
    pub duration: u64,
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
}

/// The terminal numbers of a list such as `10010001-10010003,10110001`.
pub fn terminal_list(typed: &str) -> Result<Vec<String>, CliError> {
    let bad = |part: &str| {
        CliError(format!(
            "--terminals: {part:?} is not a terminal number (8 digits) or a range of them"
        ))
    };
    let number = |s: &str| -> Option<u32> {
        (s.len() == 8 && s.bytes().all(|b| b.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let mut out = Vec::new();
    for part in typed.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (from, to) = part.split_once('-').unwrap_or((part, part));
        let (from, to) = (
            number(from.trim()).ok_or_else(|| bad(part))?,
            number(to.trim()).ok_or_else(|| bad(part))?,
        );
        if to < from || to - from >= 10_000 {
            return Err(bad(part));
        }
        out.extend((from..=to).map(|n| format!("{n:08}")));
    }
    out.sort();
    out.dedup();
    if out.is_empty() {
        return Err(CliError("--terminals: name at least one terminal".into()));
    }
    Ok(out)
}

/// What the terminals sent and got back.
#[derive(Debug, Default)]
struct Tally {
    sent: u64,
    approved: BTreeMap<&'static str, u64>,
    refused: BTreeMap<String, u64>,
    repeated: u64,
    /// Repeats whose answer was not the first one's.
    repeated_differently: u64,
    resent_after_error: u64,
    latencies_us: Vec<u64>,
    signed_out: u64,
    in_balance: u64,
    /// Batches of an earlier run carried on and left open.
    left_open: u64,
    failures: Vec<String>,
}

impl Tally {
    fn merge(&mut self, other: Tally) {
        self.sent += other.sent;
        for (k, v) in other.approved {
            *self.approved.entry(k).or_default() += v;
        }
        for (k, v) in other.refused {
            *self.refused.entry(k).or_default() += v;
        }
        self.repeated += other.repeated;
        self.repeated_differently += other.repeated_differently;
        self.resent_after_error += other.resent_after_error;
        self.latencies_us.extend(other.latencies_us);
        self.signed_out += other.signed_out;
        self.in_balance += other.in_balance;
        self.left_open += other.left_open;
        self.failures.extend(other.failures);
    }
}

pub async fn run(args: SimulateArgs) -> Result<(), CliError> {
    let terminals = terminal_list(&args.terminals)?;
    if !(args.rate > 0.0 && args.rate <= 100_000.0) {
        return Err(CliError(
            "--rate: between 0 and 100000 messages a second".into(),
        ));
    }
    let target = Target::parse(&args.gateway)?;
    let config = Arc::new(client_config(&args)?);
    let per_terminal = Duration::from_secs_f64(terminals.len() as f64 / args.rate);
    let until = Instant::now() + Duration::from_secs(args.duration);
    let started = Instant::now();
    let runs = terminals.iter().enumerate().map(|(i, terminal)| {
        let pos = Pos {
            target: target.clone(),
            config: Arc::clone(&config),
            terminal: terminal.clone(),
            rng: StdRng::seed_from_u64(args.seed.wrapping_mul(1_000_003).wrapping_add(i as u64)),
            connection: None,
            tally: Tally::default(),
        };
        tokio::spawn(pos.run(per_terminal, until))
    });
    let mut total = Tally::default();
    for run in futures::future::join_all(runs).await {
        match run {
            Ok(tally) => total.merge(tally),
            Err(e) => total
                .failures
                .push(format!("a terminal's task failed: {e}")),
        }
    }
    report(&total, terminals.len(), started.elapsed());
    if total.sent == 0 {
        return Err(CliError(format!(
            "nothing was sent: {}",
            total.failures.first().cloned().unwrap_or_default()
        )));
    }
    Ok(())
}

fn report(t: &Tally, terminals: usize, took: Duration) {
    let secs = took.as_secs_f64().max(0.001);
    println!(
        "sent {} messages from {terminals} terminals in {secs:.1} s ({:.1}/s)",
        t.sent,
        t.sent as f64 / secs
    );
    let approved: u64 = t.approved.values().sum();
    let kinds: Vec<String> = t.approved.iter().map(|(k, n)| format!("{k} {n}")).collect();
    println!(
        "  approved  {approved} ({}): {:.1}/s",
        kinds.join(", "),
        approved as f64 / secs
    );
    let refused: u64 = t.refused.values().sum();
    let codes: Vec<String> = t.refused.iter().map(|(k, n)| format!("{k} ×{n}")).collect();
    println!("  refused   {refused} ({})", codes.join(", "));
    println!(
        "  repeated  {} answered again ({} differently), {} resent after a connection error",
        t.repeated, t.repeated_differently, t.resent_after_error
    );
    let mut latencies = t.latencies_us.clone();
    latencies.sort_unstable();
    let pick = |q: f64| {
        latencies
            .get(((latencies.len() as f64 - 1.0) * q).round() as usize)
            .map_or(0.0, |us| *us as f64 / 1000.0)
    };
    println!(
        "  latency   p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        pick(0.5),
        pick(0.99),
        pick(1.0)
    );
    println!(
        "  batches   {} signed out, {} in balance with the host; {} open before this run \
         carried on and left open",
        t.signed_out, t.in_balance, t.left_open
    );
    for failure in t.failures.iter().take(10) {
        println!("  problem   {failure}");
    }
}

#[derive(Clone)]
struct Target {
    host: String,
    port: u16,
}

impl Target {
    fn parse(url: &str) -> Result<Target, CliError> {
        let bad = || {
            CliError(format!(
                "--gateway {url:?}: an https:// address, e.g. https://localhost:8444"
            ))
        };
        let rest = url.strip_prefix("https://").ok_or_else(bad)?;
        let authority = rest.split('/').next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((host, port)) => (host, port.parse().map_err(|_| bad())?),
            None => (authority, 443),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(Target {
            host: host.trim_matches(['[', ']']).to_owned(),
            port,
        })
    }
}

fn client_config(args: &SimulateArgs) -> Result<ClientConfig, CliError> {
    crate::client::tls_config(&args.ca, &args.cert, &args.key).map_err(CliError)
}

type Sender = hyper::client::conn::http1::SendRequest<String>;

/// A sale of this run that a void or refund may name.
#[derive(Clone)]
struct Sale {
    reference: String,
    date: String,
    amount_fen: i64,
    card: String,
    /// Given back already (voided or refunded).
    returned_fen: i64,
}

struct Pos {
    target: Target,
    config: Arc<ClientConfig>,
    terminal: String,
    rng: StdRng,
    connection: Option<Sender>,
    tally: Tally,
}

/// One of the demo data's card ranges: (first digits, length, type, issuing bank).
const CARDS: &[(&str, usize, &str, &str)] = &[
    ("622202", 19, "debit", "ICBC"),
    ("621700", 19, "debit", "CCB"),
    ("622848", 19, "debit", "ABC"),
    ("621661", 19, "debit", "BOC"),
    ("621485", 16, "debit", "CMB"),
    ("622588", 16, "credit", "CMB"),
    ("625330", 16, "credit", "ICBC"),
    ("622262", 19, "debit", "BOCOM"),
    ("4", 16, "credit", "FOREIGN"),
    ("4", 16, "debit", "CCB"),
    ("53", 16, "credit", "FOREIGN"),
    ("3566", 16, "credit", "FOREIGN"),
    ("37", 15, "credit", "FOREIGN"),
];

impl Pos {
    async fn run(mut self, every: Duration, until: Instant) -> Tally {
        let mut batch = format!("{:06}", self.rng.random_range(1..1_000_000));
        let mut voucher = 0_u32;
        // Sign in; a batch number used before is refused (A9): another one. One left open by an
        // earlier run (or the demo's today's batch) is carried on, and left open at the end: what
        // it held before this run is not known here, so a sign-out would declare too little.
        let mut carried = false;
        for _ in 0..5 {
            match self
                .send(
                    "sign-in",
                    json!({"terminal": self.terminal, "batch": batch}),
                )
                .await
            {
                Some(answer) if code(&answer) == "00" => break,
                Some(answer) if code(&answer) == "A8" => {
                    batch = answer["batch"].as_str().unwrap_or_default().to_owned();
                    // Its voucher numbers so far are unknown: carry on well past the likely ones.
                    voucher = self.rng.random_range(500_000..900_000);
                    carried = true;
                    break;
                }
                Some(answer) if code(&answer) == "A9" => {
                    batch = format!("{:06}", self.rng.random_range(1..1_000_000));
                }
                Some(answer) => {
                    self.tally.failures.push(format!(
                        "{}: sign-in refused with {} ({})",
                        self.terminal,
                        code(&answer),
                        answer["message"].as_str().unwrap_or_default()
                    ));
                    return self.tally;
                }
                None => return self.tally,
            }
        }
        let mut sales: Vec<Sale> = Vec::new();
        let mut totals = [(0_i64, 0_i64); 3];
        let mut sent: Vec<(&'static str, Value, Value)> = Vec::new();
        let mut tick = tokio::time::interval(every);
        // A late answer holds up the next customer, not the rate: missed ticks are caught up.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        while Instant::now() < until && voucher < 999_999 {
            tick.tick().await;
            voucher += 1;
            let roll: f64 = self.rng.random();
            let open: Vec<usize> = (0..sales.len())
                .filter(|i| sales[*i].returned_fen == 0)
                .collect();
            let (kind, message) = if roll < 0.02 && !open.is_empty() {
                let sale = sales[open[self.rng.random_range(0..open.len())]].clone();
                (
                    "void",
                    json!({"terminal": self.terminal, "batch": batch, "voucher": format!("{voucher:06}"),
                    "amount_fen": sale.amount_fen,
                    "original": {"reference": sale.reference, "date": sale.date}}),
                )
            } else if roll < 0.03 && !sales.is_empty() {
                let sale = sales[self.rng.random_range(0..sales.len())].clone();
                let left = sale.amount_fen - sale.returned_fen;
                let amount = if left > 1 {
                    self.rng.random_range(1..=left)
                } else {
                    1
                };
                (
                    "refund",
                    json!({"terminal": self.terminal, "batch": batch, "voucher": format!("{voucher:06}"),
                    "amount_fen": amount, "card": {"number": sale.card},
                    "original": {"reference": sale.reference, "date": sale.date}}),
                )
            } else {
                let (card, card_type, bank) = self.card();
                let amount = if roll > 0.995 {
                    // Over the gateway's limit (its default): refused, code 61.
                    100_000_000
                } else {
                    self.amount()
                };
                let card = if roll > 0.99 && roll <= 0.995 {
                    wrong_check_digit(&card)
                } else {
                    card
                };
                (
                    "sale",
                    json!({"terminal": self.terminal, "batch": batch, "voucher": format!("{voucher:06}"),
                    "amount_fen": amount, "card": {"number": card, "type": card_type, "bank": bank}}),
                )
            };
            // A lost answer now and then: the terminal times out and sends the message again.
            let lost = self.rng.random_bool(0.01);
            let Some(answer) = self.send(kind, message.clone()).await else {
                break;
            };
            let answer = if lost {
                let Some(again) = self.send(kind, message.clone()).await else {
                    break;
                };
                self.note_repeat(&answer, &again);
                again
            } else {
                answer
            };
            if code(&answer) == "00" {
                *self.tally.approved.entry(kind).or_default() += 1;
                let amount = message["amount_fen"].as_i64().unwrap_or_default();
                let slot = match kind {
                    "sale" => 0,
                    "void" => 1,
                    _ => 2,
                };
                totals[slot].0 += 1;
                totals[slot].1 += amount;
                let original = message["original"]["reference"]
                    .as_str()
                    .unwrap_or_default();
                match kind {
                    "sale" => sales.push(Sale {
                        reference: answer["reference"].as_str().unwrap_or_default().to_owned(),
                        date: answer["booked_on"].as_str().unwrap_or_default().to_owned(),
                        amount_fen: amount,
                        card: message["card"]["number"]
                            .as_str()
                            .unwrap_or_default()
                            .to_owned(),
                        returned_fen: 0,
                    }),
                    _ => {
                        if let Some(sale) = sales.iter_mut().find(|s| s.reference == original) {
                            sale.returned_fen += amount;
                        }
                    }
                }
            } else {
                *self.tally.refused.entry(code(&answer)).or_default() += 1;
            }
            sent.push((kind, message, answer));
            // A deliberate duplicate of a message sent before.
            if self.rng.random_bool(0.005) {
                let (kind, message, first) = sent[self.rng.random_range(0..sent.len())].clone();
                if code(&first) == "00" {
                    if let Some(again) = self.send(kind, message).await {
                        self.note_repeat(&first, &again);
                    }
                }
            }
        }
        if carried {
            self.tally.left_open += 1;
            return self.tally;
        }
        let t = |(count, amount_fen): (i64, i64)| json!({"count": count, "amount_fen": amount_fen});
        let out = json!({"terminal": self.terminal, "batch": batch,
            "totals": {"sale": t(totals[0]), "void": t(totals[1]), "refund": t(totals[2])}});
        if let Some(answer) = self.send("sign-out", out).await {
            if code(&answer) == "00" {
                self.tally.signed_out += 1;
                if answer["balanced"] == true {
                    self.tally.in_balance += 1;
                } else {
                    self.tally.failures.push(format!(
                        "{} batch {batch}: out of balance, the host counted {}",
                        self.terminal, answer["host_totals"]
                    ));
                }
            } else {
                self.tally.failures.push(format!(
                    "{}: sign-out refused with {}",
                    self.terminal,
                    code(&answer)
                ));
            }
        }
        self.tally
    }

    /// A repeat of an approved message must get its answer word for word; a refused one is not
    /// kept by the host and is checked again: the same code, at another time.
    fn note_repeat(&mut self, first: &Value, again: &Value) {
        self.tally.repeated += 1;
        let same = if code(first) == "00" {
            first == again
        } else {
            code(first) == code(again)
        };
        if !same {
            self.tally.repeated_differently += 1;
        }
    }

    /// A card number of one of the demo's ranges with a valid check digit, its type and bank.
    fn card(&mut self) -> (String, &'static str, &'static str) {
        let (prefix, len, card_type, bank) = CARDS[self.rng.random_range(0..CARDS.len())];
        let mut digits: String = prefix.to_owned();
        while digits.len() < len - 1 {
            digits.push(char::from(b'0' + self.rng.random_range(0..10_u8)));
        }
        digits.push(check_digit(&digits));
        (digits, card_type, bank)
    }

    /// A shop's amounts: mostly small, some large.
    fn amount(&mut self) -> i64 {
        match self.rng.random::<f64>() {
            r if r < 0.6 => self.rng.random_range(500..10_000),
            r if r < 0.95 => self.rng.random_range(10_000..100_000),
            _ => self.rng.random_range(100_000..2_000_000),
        }
    }

    /// Sends one message and reads its answer; on a connection error it connects again and sends the
    /// same message once more (the key makes that safe). `None`: the gateway cannot be reached.
    async fn send(&mut self, kind: &str, message: Value) -> Option<Value> {
        for attempt in 0..3 {
            if attempt > 0 {
                self.tally.resent_after_error += 1;
                tokio::time::sleep(Duration::from_millis(200 * attempt)).await;
            }
            let sender = match self.connection.take() {
                Some(sender) if !sender.is_closed() => sender,
                _ => match connect(&self.target, Arc::clone(&self.config)).await {
                    Ok(sender) => sender,
                    Err(e) => {
                        self.tally.failures.push(format!("{}: {e}", self.terminal));
                        continue;
                    }
                },
            };
            let started = Instant::now();
            match post(sender, &self.target, kind, &message).await {
                Ok((sender, answer)) => {
                    self.tally.sent += 1;
                    self.tally
                        .latencies_us
                        .push(u64::try_from(started.elapsed().as_micros()).unwrap_or(u64::MAX));
                    self.connection = Some(sender);
                    return Some(answer);
                }
                Err(e) => self
                    .tally
                    .failures
                    .push(format!("{} {kind}: {e}", self.terminal)),
            }
        }
        None
    }
}

fn code(answer: &Value) -> String {
    answer["code"].as_str().unwrap_or("??").to_owned()
}

/// The Luhn check digit of `digits` (the number without it).
fn check_digit(digits: &str) -> char {
    let mut sum = 0_u32;
    for (i, b) in digits.bytes().rev().enumerate() {
        let mut d = u32::from(b - b'0');
        if i % 2 == 0 {
            d *= 2;
            if d > 9 {
                d -= 9;
            }
        }
        sum += d;
    }
    char::from(b'0' + u8::try_from((10 - sum % 10) % 10).unwrap_or(0))
}

/// The same number with a check digit that is wrong.
fn wrong_check_digit(card: &str) -> String {
    let (body, last) = card.split_at(card.len() - 1);
    let wrong = if last == "0" { '1' } else { '0' };
    format!("{body}{wrong}")
}

async fn connect(target: &Target, config: Arc<ClientConfig>) -> Result<Sender, String> {
    crate::client::http1(&target.host, target.port, config).await
}

async fn post(
    mut sender: Sender,
    target: &Target,
    kind: &str,
    message: &Value,
) -> Result<(Sender, Value), String> {
    sender.ready().await.map_err(|e| e.to_string())?;
    let request = http::Request::post(format!("/v1/{kind}"))
        .header("host", format!("{}:{}", target.host, target.port))
        .header("content-type", "application/json")
        .body(message.to_string())
        .map_err(|e| e.to_string())?;
    let response = tokio::time::timeout(Duration::from_secs(10), sender.send_request(request))
        .await
        .map_err(|_| "no answer within 10 s".to_owned())?
        .map_err(|e| app::error::source_chain(&e))?;
    let status = response.status();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    let answer: Value = serde_json::from_slice(&body)
        .map_err(|_| format!("HTTP {status}: {}", String::from_utf8_lossy(&body)))?;
    Ok((sender, answer))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_lists_take_numbers_and_ranges() {
        let list = terminal_list("10010001-10010003, 10110001,10010002").expect("a list");
        assert_eq!(list, ["10010001", "10010002", "10010003", "10110001"]);
        for bad in ["", "1001", "10010003-10010001", "10010001-abc"] {
            assert!(terminal_list(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn made_up_cards_pass_the_gateways_check_and_a_spoilt_one_does_not() {
        let mut rng = StdRng::seed_from_u64(7);
        for _ in 0..200 {
            let (prefix, len, _, _) = CARDS[rng.random_range(0..CARDS.len())];
            let mut digits = prefix.to_owned();
            while digits.len() < len - 1 {
                digits.push(char::from(b'0' + rng.random_range(0..10_u8)));
            }
            digits.push(check_digit(&digits));
            assert!(app::domain::gateway::luhn_valid(&digits), "{digits}");
            assert!(
                app::domain::gateway::org_of_pan(&digits).is_some(),
                "{digits}"
            );
            assert!(!app::domain::gateway::luhn_valid(&wrong_check_digit(
                &digits
            )));
        }
    }
}
