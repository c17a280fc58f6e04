//! What a set of transactions moved, by kind: the one way every total of the console is added up.
//!
//! Only successful transactions move money. A sale (purchase or pre-authorisation completion) is
//! money in; a void cancels a sale of the same amount and a refund pays part of one back, so both
//! are money out. A pre-authorisation only holds an amount on the card: the completion that follows
//! it is the sale. Failed and reversed transactions moved nothing; they are counted beside the money,
//! never in it.

use serde::{Deserialize, Serialize};

use super::{MoneyError, TxnStatus, TxnType};

/// Count and amount (fen, as the transactions carry it: never negative) of some transactions.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    pub count: i64,
    pub amount_fen: i64,
}

impl Tally {
    pub fn checked_add(self, other: Tally) -> Result<Tally, MoneyError> {
        Ok(Tally {
            count: self
                .count
                .checked_add(other.count)
                .ok_or(MoneyError::Overflow)?,
            amount_fen: self
                .amount_fen
                .checked_add(other.amount_fen)
                .ok_or(MoneyError::Overflow)?,
        })
    }
}

/// The types that are sales when they succeed: money in, settled and priced by clearing.
pub const SALE_TYPES: [TxnType; 2] = [TxnType::Purchase, TxnType::PreAuthCompletion];

/// Where a transaction of this type and status is counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Sale,
    Void,
    Refund,
    PreAuth,
    Failed,
    Reversed,
}

impl Kind {
    pub fn of(txn_type: TxnType, status: TxnStatus) -> Kind {
        match (status, txn_type) {
            (TxnStatus::Failed, _) => Kind::Failed,
            (TxnStatus::Reversed, _) => Kind::Reversed,
            (TxnStatus::Success, TxnType::Void) => Kind::Void,
            (TxnStatus::Success, TxnType::Refund) => Kind::Refund,
            (TxnStatus::Success, TxnType::PreAuth) => Kind::PreAuth,
            (TxnStatus::Success, TxnType::Purchase | TxnType::PreAuthCompletion) => Kind::Sale,
        }
    }
}

/// The transactions of one summary line (or of a whole search), by [`Kind`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Successful purchases and pre-authorisation completions.
    pub sales: Tally,
    /// Successful voids.
    pub voids: Tally,
    /// Successful refunds made at the terminal.
    pub refunds: Tally,
    /// Successful pre-authorisations: held on the card, not money.
    pub preauths: Tally,
    pub failed: Tally,
    pub reversed: Tally,
}

impl Breakdown {
    fn slot(&mut self, kind: Kind) -> &mut Tally {
        match kind {
            Kind::Sale => &mut self.sales,
            Kind::Void => &mut self.voids,
            Kind::Refund => &mut self.refunds,
            Kind::PreAuth => &mut self.preauths,
            Kind::Failed => &mut self.failed,
            Kind::Reversed => &mut self.reversed,
        }
    }

    /// Counts `count` transactions of `txn_type` and `status` amounting to `amount_fen`.
    pub fn add(
        &mut self,
        txn_type: TxnType,
        status: TxnStatus,
        tally: Tally,
    ) -> Result<(), MoneyError> {
        let slot = self.slot(Kind::of(txn_type, status));
        *slot = slot.checked_add(tally)?;
        Ok(())
    }

    /// Adds another breakdown, kind by kind.
    pub fn merge(&mut self, other: &Breakdown) -> Result<(), MoneyError> {
        for (mine, theirs) in [
            (&mut self.sales, other.sales),
            (&mut self.voids, other.voids),
            (&mut self.refunds, other.refunds),
            (&mut self.preauths, other.preauths),
            (&mut self.failed, other.failed),
            (&mut self.reversed, other.reversed),
        ] {
            *mine = mine.checked_add(theirs)?;
        }
        Ok(())
    }

    /// Money the merchant kept: sales less voids and refunds, in fen (negative when more went back
    /// than came in).
    pub fn net_fen(&self) -> Result<i64, MoneyError> {
        self.sales
            .amount_fen
            .checked_sub(self.voids.amount_fen)
            .and_then(|n| n.checked_sub(self.refunds.amount_fen))
            .ok_or(MoneyError::Overflow)
    }

    /// Every transaction counted, money or not (saturating: a count is shown, never trusted for
    /// money).
    pub fn count(&self) -> i64 {
        [
            self.sales,
            self.voids,
            self.refunds,
            self.preauths,
            self.failed,
            self.reversed,
        ]
        .iter()
        .fold(0i64, |n, t| n.saturating_add(t.count))
    }

    /// Whether nothing was counted.
    pub fn is_empty(&self) -> bool {
        self.count() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(count: i64, amount_fen: i64) -> Tally {
        Tally { count, amount_fen }
    }

    #[test]
    fn each_type_and_status_has_one_kind() {
        use Kind::*;
        let cases = [
            (TxnType::Purchase, TxnStatus::Success, Sale),
            (TxnType::PreAuthCompletion, TxnStatus::Success, Sale),
            (TxnType::Void, TxnStatus::Success, Void),
            (TxnType::Refund, TxnStatus::Success, Refund),
            (TxnType::PreAuth, TxnStatus::Success, PreAuth),
            (TxnType::Purchase, TxnStatus::Failed, Failed),
            (TxnType::Refund, TxnStatus::Failed, Failed),
            (TxnType::Void, TxnStatus::Reversed, Reversed),
            (TxnType::Purchase, TxnStatus::Reversed, Reversed),
        ];
        for (txn_type, status, kind) in cases {
            assert_eq!(Kind::of(txn_type, status), kind, "{txn_type:?} {status:?}");
        }
        for t in TxnType::ALL {
            let sale = Kind::of(*t, TxnStatus::Success) == Sale;
            assert_eq!(sale, SALE_TYPES.contains(t), "{t:?}");
        }
    }

    #[test]
    fn net_subtracts_voids_and_refunds_and_ignores_what_moved_nothing() {
        let mut b = Breakdown::default();
        let rows = [
            (TxnType::Purchase, TxnStatus::Success, t(150, 2_000_000)),
            (TxnType::PreAuthCompletion, TxnStatus::Success, t(3, 87_856)),
            (TxnType::Refund, TxnStatus::Success, t(3, 60_488)),
            (TxnType::Void, TxnStatus::Success, t(2, 10_000)),
            (TxnType::PreAuth, TxnStatus::Success, t(4, 40_000)),
            (TxnType::Purchase, TxnStatus::Failed, t(5, 77_700)),
            (TxnType::Refund, TxnStatus::Reversed, t(1, 100)),
        ];
        for (txn_type, status, tally) in rows {
            b.add(txn_type, status, tally).expect("adds");
        }
        assert_eq!(b.sales, t(153, 2_087_856));
        assert_eq!(b.net_fen(), Ok(2_087_856 - 60_488 - 10_000));
        assert_eq!(b.count(), 150 + 3 + 3 + 2 + 4 + 5 + 1);
        assert_eq!(
            (b.failed, b.reversed, b.preauths),
            (t(5, 77_700), t(1, 100), t(4, 40_000))
        );

        let mut twice = b;
        twice.merge(&b).expect("merges");
        assert_eq!(twice.net_fen(), b.net_fen().map(|n| n * 2));
    }

    #[test]
    fn more_back_than_in_is_a_negative_net_and_overflow_is_an_error() {
        let mut b = Breakdown::default();
        b.add(TxnType::Refund, TxnStatus::Success, t(1, 500))
            .expect("adds");
        assert_eq!(b.net_fen(), Ok(-500));
        b.add(TxnType::Purchase, TxnStatus::Success, t(1, i64::MAX))
            .expect("adds");
        assert_eq!(b.net_fen(), Ok(i64::MAX - 500));
        assert_eq!(
            b.add(TxnType::Purchase, TxnStatus::Success, t(1, 1)),
            Err(MoneyError::Overflow)
        );
        b.voids = t(1, i64::MAX);
        b.sales = t(1, -10);
        assert_eq!(b.net_fen(), Err(MoneyError::Overflow));
    }
}
