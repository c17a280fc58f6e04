//! Parsing the text filters of a search page (all of them arrive as URL text): the one place that
//! turns bad input into field messages instead of errors, for every search of the console.

use chrono::{DateTime, NaiveDate, Utc};
use chrono_tz::Tz;
use sea_orm::sea_query::LikeExpr;

use crate::domain::Money;
use crate::error::{FieldError, FieldProblem};

/// Collects every bad field of a filter, so that the page names them all at once.
#[derive(Debug, Default)]
pub struct FieldCheck {
    pub errors: Vec<FieldError>,
}

impl FieldCheck {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn bad(&mut self, field: &str, problem: FieldProblem) {
        self.errors.push(FieldError::new(field, problem));
    }

    /// An optional day `YYYY-MM-DD`.
    pub fn date(&mut self, field: &str, text: &str) -> Option<NaiveDate> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = NaiveDate::parse_from_str(text, "%Y-%m-%d").ok();
        if parsed.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        parsed
    }

    /// An optional range of days; a reversed one is reported on its end.
    pub fn date_range(
        &mut self,
        (from_field, from): (&str, &str),
        (to_field, to): (&str, &str),
    ) -> (Option<NaiveDate>, Option<NaiveDate>) {
        let from = self.date(from_field, from);
        let to = self.date(to_field, to);
        if let (Some(f), Some(t)) = (from, to) {
            if t < f {
                self.bad(to_field, FieldProblem::RangeReversed);
            }
        }
        (from, to)
    }

    /// An optional code: empty is "any"; an unknown code is a format error.
    pub fn code<T>(
        &mut self,
        field: &str,
        text: &str,
        from_code: fn(&str) -> Option<T>,
    ) -> Option<T> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let value = from_code(text);
        if value.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        value
    }

    /// An optional positive id (a cursor or a reference to a row).
    pub fn id(&mut self, field: &str, text: &str) -> Option<i64> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let id = text.parse::<i64>().ok().filter(|id| *id > 0);
        if id.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        id
    }

    /// An optional count of rows (a position in a list): digits, at most a billion.
    pub fn count(&mut self, field: &str, text: &str) -> Option<u64> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let n = text
            .parse::<u64>()
            .ok()
            .filter(|n| *n <= 1_000_000_000 && text.bytes().all(|b| b.is_ascii_digit()));
        if n.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        n
    }

    /// An optional amount in yuan (`12.5`, `1,234.56`), as minor units (fen): a filter's or a limit's,
    /// compared in whichever currency the rows are in ([`Money::parse_minor`]).
    pub fn amount(&mut self, field: &str, text: &str) -> Option<i64> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let fen = Money::parse_minor(text).ok();
        if fen.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        fen
    }

    /// A page size, one of `sizes`; empty is `default`.
    pub fn page_size(&mut self, field: &str, text: &str, sizes: &[u64], default: u64) -> u64 {
        match text.trim() {
            "" => default,
            text => match text.parse::<u64>().ok().filter(|s| sizes.contains(s)) {
                Some(size) => size,
                None => {
                    self.bad(field, FieldProblem::Format);
                    default
                }
            },
        }
    }

    /// An optional keyset cursor of a list ordered by time then id, as [`cursor_text`] writes it.
    pub fn time_cursor(&mut self, field: &str, text: &str) -> Option<(DateTime<Utc>, i64)> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = text.split_once('.').and_then(|(micros, id)| {
            Some((
                DateTime::from_timestamp_micros(micros.parse().ok()?)?,
                id.parse::<i64>().ok().filter(|id| *id > 0)?,
            ))
        });
        if parsed.is_none() {
            self.bad(field, FieldProblem::Format);
        }
        parsed
    }

    /// Optional free text, trimmed and cut to `max` characters.
    pub fn text(&mut self, text: &str, max: usize) -> Option<String> {
        Some(text.trim())
            .filter(|s| !s.is_empty())
            .map(|s| s.chars().take(max).collect())
    }

    pub fn finish(self) -> Result<(), crate::error::AppError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(crate::error::AppError::Invalid(self.errors))
        }
    }
}

/// The text of a keyset cursor at the row of `time` and `id`, read back by [`FieldCheck::time_cursor`].
pub fn cursor_text(time: DateTime<Utc>, id: i64) -> String {
    format!("{}.{id}", time.timestamp_micros())
}

/// A quick menu's day ("today's transactions", "yesterday's settlements"), resolved on the server in
/// the merchant's time zone, so that a bookmarked link means the same thing every day.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuickDay {
    Today,
    Yesterday,
}

impl QuickDay {
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "today" => Some(Self::Today),
            "yesterday" => Some(Self::Yesterday),
            _ => None,
        }
    }

    pub fn date(self, today: NaiveDate) -> NaiveDate {
        match self {
            Self::Today => today,
            Self::Yesterday => today.pred_opt().unwrap_or(today),
        }
    }

    /// Turns a filter's quick day, if any, into its date range in the merchant's time zone `tz` at
    /// `now`; the day is consumed, so a resolved filter resolves to itself.
    pub fn resolve(
        day: &mut Option<Self>,
        (from, to): (&mut Option<NaiveDate>, &mut Option<NaiveDate>),
        now: DateTime<Utc>,
        tz: Tz,
    ) {
        let today = crate::backend::local_time::today(now, tz);
        (*from, *to) = Self::range(day.take(), (*from, *to), today);
    }

    /// The days a filter covers: the quick day if there is one (it wins over typed dates), else
    /// the typed range.
    pub fn range(
        day: Option<Self>,
        typed: (Option<NaiveDate>, Option<NaiveDate>),
        today: NaiveDate,
    ) -> (Option<NaiveDate>, Option<NaiveDate>) {
        match day {
            Some(day) => (Some(day.date(today)), Some(day.date(today))),
            None => typed,
        }
    }
}

/// A LIKE pattern matching values that start with `prefix` literally (`%`, `_` and `\` escaped).
pub fn starts_with_pattern(prefix: &str) -> LikeExpr {
    LikeExpr::new(prefix_pattern(prefix)).escape('\\')
}

/// A LIKE pattern matching values that contain `part` literally.
pub fn contains_pattern(part: &str) -> LikeExpr {
    LikeExpr::new(format!("%{}", prefix_pattern(part))).escape('\\')
}

pub fn prefix_pattern(prefix: &str) -> String {
    let mut pattern = String::with_capacity(prefix.len() + 1);
    for c in prefix.chars() {
        if matches!(c, '%' | '_' | '\\') {
            pattern.push('\\');
        }
        pattern.push(c);
    }
    pattern.push('%');
    pattern
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn login_prefixes_match_literally() {
        assert_eq!(prefix_pattern("a_b%c\\"), "a\\_b\\%c\\\\%");
        assert_eq!(prefix_pattern("hualian."), "hualian.%");
    }

    #[test]
    fn quick_days_win_over_typed_dates() {
        let today = NaiveDate::from_ymd_opt(2026, 12, 1).expect("date");
        let typed = (NaiveDate::from_ymd_opt(2026, 1, 1), None);
        let yesterday = NaiveDate::from_ymd_opt(2026, 11, 30);
        assert_eq!(
            QuickDay::range(QuickDay::from_code("yesterday"), typed, today),
            (yesterday, yesterday)
        );
        assert_eq!(QuickDay::range(None, typed, today), typed);
        assert_eq!(QuickDay::from_code("tomorrow"), None);
    }

    #[test]
    fn every_bad_field_is_named() {
        let mut check = FieldCheck::new();
        check.date_range(("from", "2026-11-22"), ("to", "2026-11-01"));
        check.date("d", "2026-13-01");
        check.id("before", "-3");
        check.code("status", "drop table", |c| (c == "paid").then_some(()));
        let fields: Vec<_> = check
            .errors
            .iter()
            .map(|e| (e.field.as_str(), e.problem))
            .collect();
        assert_eq!(
            fields,
            [
                ("to", FieldProblem::RangeReversed),
                ("d", FieldProblem::Format),
                ("before", FieldProblem::Format),
                ("status", FieldProblem::Format)
            ]
        );
    }
}
