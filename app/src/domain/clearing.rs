//! The arithmetic of clearing: the fee of one transaction and the totals of one settlement.
//!
//! Fee rule (stated once, used everywhere): the fee of a settled sale is its amount times the card
//! organisation's rate for its card type, in parts per million, rounded to the fen **half up**
//! (0.5 fen and more rounds up, as "四舍五入"), then limited by the rate's cap when it has one. Fees
//! are charged per transaction, never on a day's total, so a settlement's fee is the sum of its
//! transactions' fees and each transaction's fee can be shown and checked on its own. Refunds and
//! voids do not return the fee of the sale they undo.

use chrono::{DateTime, Utc};

use super::money::{Currency, Money, MoneyError};

/// Parts per million: 0.38 % is 3,800.
pub const PPM: i64 = 1_000_000;

/// A fee rate of a card organisation and card type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeRate {
    pub rate_ppm: i64,
    /// The most one transaction pays, if capped (e.g. debit cards).
    pub cap_fen: Option<i64>,
}

impl FeeRate {
    /// The fee of a sale of `amount` (non-negative), in the amount's currency.
    pub fn fee(self, amount: Money) -> Result<Money, MoneyError> {
        if amount.fen() < 0 || self.rate_ppm < 0 {
            return Err(MoneyError::Negative);
        }
        // i128: amount × rate cannot overflow, whatever the amount.
        let exact = i128::from(amount.fen()) * i128::from(self.rate_ppm);
        let rounded = (exact + i128::from(PPM / 2)) / i128::from(PPM);
        let mut fee = i64::try_from(rounded).map_err(|_| MoneyError::Overflow)?;
        if let Some(cap) = self.cap_fen {
            fee = fee.min(cap.max(0));
        }
        Ok(Money::from_fen(fee, amount.currency()))
    }
}

/// The largest amount clearing settles in SQL: amount × the highest allowed rate (100,000 ppm, a
/// CHECK of `fee_rates`) must fit a 64-bit integer, which SQLite would otherwise turn into a float.
pub const MAX_CLEARABLE_FEN: i64 = i64::MAX / 100_000;

/// The fee rule of [`FeeRate::fee`] as an SQL expression over an amount, a rate and a nullable cap
/// (column names or placeholders), so that clearing prices a whole day in one statement. Integer
/// division truncates on both databases, which for non-negative operands is the floor: adding half a
/// million before dividing rounds half up. A test of the clearing service runs both over the same
/// cases on SQLite and PostgreSQL.
pub fn fee_sql(amount: &str, rate_ppm: &str, cap_fen: &str) -> String {
    let exact = format!(
        "(({amount}) * ({rate_ppm}) + {half}) / {PPM}",
        half = PPM / 2
    );
    format!(
        "CASE WHEN ({cap_fen}) IS NOT NULL AND {exact} > ({cap_fen}) THEN ({cap_fen}) ELSE {exact} END"
    )
}

/// The totals of one settlement, built up transaction by transaction with checked arithmetic.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SettlementTotals {
    pub currency: Currency,
    /// Settled sales.
    pub txn_count: i64,
    pub gross: Money,
    pub fees: Money,
    /// Refunds debited in this settlement.
    pub refund_count: i64,
    pub refunds: Money,
}

impl SettlementTotals {
    pub fn new(currency: Currency) -> Self {
        Self {
            currency,
            txn_count: 0,
            gross: Money::zero(currency),
            fees: Money::zero(currency),
            refund_count: 0,
            refunds: Money::zero(currency),
        }
    }

    /// Adds a settled sale and its fee.
    pub fn add_sale(&mut self, amount: Money, fee: Money) -> Result<(), MoneyError> {
        self.gross = self.gross.checked_add(amount)?;
        self.fees = self.fees.checked_add(fee)?;
        self.txn_count += 1;
        Ok(())
    }

    /// Adds a refund debited in this settlement.
    pub fn add_refund(&mut self, amount: Money) -> Result<(), MoneyError> {
        self.refunds = self.refunds.checked_add(amount)?;
        self.refund_count += 1;
        Ok(())
    }

    /// What the merchant is paid: gross − refunds − fees, to the fen. Negative when the day's refunds
    /// exceed its takings.
    pub fn net(&self) -> Result<Money, MoneyError> {
        self.gross.checked_sub(self.refunds)?.checked_sub(self.fees)
    }
}

/// Something clearing debits from a merchant's ledger: a refund made at a terminal (or a void of a
/// sale settled earlier), or a refund request made in the console. Ordered so that, at one instant,
/// a terminal's refund goes before the console's and lower ids before higher ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum DebitItem {
    Transaction(i64),
    Request(i64),
}

/// One refund waiting to be debited: when it was made, what it is, and its amount.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Debit {
    pub time: DateTime<Utc>,
    pub item: DebitItem,
    pub amount: Money,
}

/// What one clearing run does with a merchant number's waiting refunds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DebitPlan {
    /// Debited in this settlement, in the order they were made.
    pub covered: Vec<DebitItem>,
    /// Held for a later run, each with what the balance lacked when its turn came.
    pub held: Vec<(DebitItem, Money)>,
    /// The sum of the covered refunds: the settlement's refund total.
    pub refunded: Money,
}

/// The debit order: refunds are debited in the order they were made (so refunds held by earlier
/// runs, being older, go first), each as far as the balance `available` covers it. One the balance
/// cannot cover is held and does not block the smaller ones after it; the balance never goes below
/// zero.
pub fn plan_debits(mut available: Money, mut debits: Vec<Debit>) -> Result<DebitPlan, MoneyError> {
    debits.sort_by_key(|d| (d.time, d.item));
    let mut plan = DebitPlan {
        covered: Vec::new(),
        held: Vec::new(),
        refunded: Money::zero(available.currency()),
    };
    for debit in debits {
        if debit.amount.fen() < 0 {
            return Err(MoneyError::Negative);
        }
        if debit.amount.fen() <= available.fen() {
            available = available.checked_sub(debit.amount)?;
            plan.refunded = plan.refunded.checked_add(debit.amount)?;
            plan.covered.push(debit.item);
        } else {
            let usable = Money::from_fen(available.fen().max(0), available.currency());
            plan.held
                .push((debit.item, debit.amount.checked_sub(usable)?));
        }
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rate(rate_ppm: i64, cap_fen: Option<i64>) -> FeeRate {
        FeeRate { rate_ppm, cap_fen }
    }

    #[test]
    fn fees_round_half_up_to_the_fen() {
        // (amount fen, rate ppm, cap, fee fen)
        let cases = [
            (10_000, 3_800, None, 38),               // 100.00 × 0.38 % = 0.38
            (100, 3_800, None, 0),                   // 0.38 fen → 0
            (132, 3_800, None, 1),                   // 0.5016 fen → 1
            (131, 3_800, None, 0),                   // 0.4978 fen → 0
            (125, 4_000, None, 1),                   // exactly 0.5 fen → 1 (half up)
            (375, 4_000, None, 2),                   // exactly 1.5 fen → 2
            (1, 1_000_000 / 10, None, 0),            // 0.1 fen → 0
            (5, 100_000, None, 1),                   // 0.5 fen → 1
            (0, 3_800, None, 0),                     // nothing sold, nothing paid
            (12_345_678, 6_000, None, 74_074),       // 74,074.068 → 74,074
            (12_345_678, 6_000, Some(2_000), 2_000), // capped
            (100_000, 5_000, Some(2_000), 500),      // below the cap
            (99_999, 0, None, 0),                    // zero rate
            (i64::MAX / 2, 100_000, None, 461_168_601_842_738_790), // no overflow on huge amounts
        ];
        for (amount, ppm, cap, fee) in cases {
            assert_eq!(
                rate(ppm, cap).fee(Money::cny(amount)),
                Ok(Money::cny(fee)),
                "{amount} fen at {ppm} ppm, cap {cap:?}"
            );
        }
    }

    #[test]
    fn negative_input_is_refused() {
        assert_eq!(
            rate(3_800, None).fee(Money::cny(-1)),
            Err(MoneyError::Negative)
        );
        assert_eq!(rate(-1, None).fee(Money::cny(1)), Err(MoneyError::Negative));
    }

    #[test]
    fn a_settlement_is_the_sum_of_its_transactions_to_the_fen() {
        let visa = rate(6_000, None);
        let debit = rate(5_000, Some(2_000));
        let mut totals = SettlementTotals::new(Currency::Cny);
        let sales = [
            (visa, 1_999),
            (visa, 250_000),
            (debit, 9_999_999),
            (debit, 1),
        ];
        let mut expected_fees = 0;
        for (rate, amount) in sales {
            let fee = rate.fee(Money::cny(amount)).expect("fee");
            expected_fees += fee.fen();
            totals.add_sale(Money::cny(amount), fee).expect("add");
        }
        totals.add_refund(Money::cny(1_000)).expect("refund");
        assert_eq!(totals.txn_count, 4);
        assert_eq!(totals.gross, Money::cny(1_999 + 250_000 + 9_999_999 + 1));
        // 11.994 → 12; 1,500 → 1,500; 49,999.995 → capped 2,000; 0.005 → 0
        assert_eq!(expected_fees, 12 + 1_500 + 2_000);
        assert_eq!(totals.fees, Money::cny(expected_fees));
        assert_eq!(
            totals.net(),
            Ok(Money::cny(10_251_999 - 1_000 - expected_fees))
        );
    }

    #[test]
    fn refunds_beyond_the_takings_give_a_negative_net() {
        let mut totals = SettlementTotals::new(Currency::Cny);
        totals
            .add_sale(Money::cny(100), Money::cny(1))
            .expect("sale");
        totals.add_refund(Money::cny(500)).expect("refund");
        assert_eq!(totals.net(), Ok(Money::cny(-401)));
    }

    #[test]
    fn totals_never_overflow() {
        let mut totals = SettlementTotals::new(Currency::Cny);
        totals
            .add_sale(Money::cny(i64::MAX), Money::cny(0))
            .expect("one huge sale");
        assert_eq!(
            totals.add_sale(Money::cny(1), Money::cny(0)),
            Err(MoneyError::Overflow)
        );
    }

    #[test]
    fn refunds_are_debited_in_the_order_made_as_far_as_the_balance_goes() {
        use DebitItem::{Request as R, Transaction as T};
        let at = |minute: i64| DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::minutes(minute);
        let d = |minute, item, fen| Debit {
            time: at(minute),
            item,
            amount: Money::cny(fen),
        };
        // (balance fen, waiting refunds, covered, held with shortfall, refunded fen)
        #[allow(clippy::type_complexity)]
        let cases: [(i64, Vec<Debit>, Vec<DebitItem>, Vec<(DebitItem, i64)>, i64); 7] = [
            (1_000, vec![], vec![], vec![], 0),
            // enough for both
            (
                1_000,
                vec![d(2, T(2), 300), d(1, R(9), 700)],
                vec![R(9), T(2)],
                vec![],
                1_000,
            ),
            // the first too large waits; the smaller after it still fits
            (
                500,
                vec![d(1, T(1), 800), d(2, R(2), 400)],
                vec![R(2)],
                vec![(T(1), 300)],
                400,
            ),
            // a shortfall is measured against what is left when its turn comes
            (
                500,
                vec![d(1, T(1), 400), d(2, T(2), 300)],
                vec![T(1)],
                vec![(T(2), 200)],
                400,
            ),
            // at one instant the terminal's refund goes first, then lower ids
            (
                300,
                vec![d(1, R(1), 300), d(1, T(5), 300)],
                vec![T(5)],
                vec![(R(1), 300)],
                300,
            ),
            // exactly the balance is covered
            (300, vec![d(1, T(1), 300)], vec![T(1)], vec![], 300),
            // a negative balance covers nothing, and each waits for its whole amount
            (-100, vec![d(1, T(1), 50)], vec![], vec![(T(1), 50)], 0),
        ];
        for (balance, debits, covered, held, refunded) in cases {
            let plan = plan_debits(Money::cny(balance), debits.clone()).expect("plan");
            let held: Vec<_> = held.into_iter().map(|(i, f)| (i, Money::cny(f))).collect();
            assert_eq!(plan.covered, covered, "{balance} for {debits:?}");
            assert_eq!(plan.held, held, "{balance} for {debits:?}");
            assert_eq!(
                plan.refunded,
                Money::cny(refunded),
                "{balance} for {debits:?}"
            );
        }
    }

    #[test]
    fn a_negative_refund_is_refused() {
        let refund = Debit {
            time: DateTime::<Utc>::UNIX_EPOCH,
            item: DebitItem::Transaction(1),
            amount: Money::cny(-1),
        };
        assert_eq!(
            plan_debits(Money::cny(10), vec![refund]),
            Err(MoneyError::Negative)
        );
    }
}
