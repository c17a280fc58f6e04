//! Merchant-local time. A merchant's business day, the dates its staff type and every time a page
//! shows are in the merchant's time zone; the database stores UTC. Every conversion between the two
//! is here, so that a filter, a clearing run and a page agree on where a day starts.

use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
use chrono_tz::Tz;

/// A stored time zone name that is not an IANA zone.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("time zone {0:?} is not an IANA zone name")]
pub struct UnknownZone(pub String);

/// A merchant's time zone from its stored IANA name. Onboarding stores only names that parse: one
/// that does not is a damaged row, reported rather than silently read as another zone.
pub fn zone(name: &str) -> Result<Tz, UnknownZone> {
    name.parse().map_err(|_| UnknownZone(name.to_owned()))
}

/// The calendar day it is at `now` in `tz`.
pub fn today(now: DateTime<Utc>, tz: Tz) -> NaiveDate {
    now.with_timezone(&tz).date_naive()
}

/// The first instant of `day` in `tz`, as UTC: local midnight, or where a zone skips midnight (a
/// daylight-saving change at 00:00), the first hour of the day that exists.
pub fn day_start(day: NaiveDate, tz: Tz) -> DateTime<Utc> {
    (0..24)
        .filter_map(|hour| day.and_hms_opt(hour, 0, 0))
        .find_map(|local| tz.from_local_datetime(&local).earliest())
        .map(|t| t.with_timezone(&Utc))
        // No zone skips a whole day's hours; read as UTC if one ever did.
        .unwrap_or_else(|| Utc.from_utc_datetime(&day.and_time(chrono::NaiveTime::MIN)))
}

/// The merchant-local day `day` as the UTC interval [start, end).
pub fn day_bounds(day: NaiveDate, tz: Tz) -> (DateTime<Utc>, DateTime<Utc>) {
    (day_start(day, tz), day_start(day + Duration::days(1), tz))
}

/// `yyyy-mm-dd hh:mm` in `tz`: when something happened to an account (a sign-in, a certificate).
pub fn minutes(at: DateTime<Utc>, tz: Tz) -> String {
    let t = at.with_timezone(&tz);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute()
    )
}

/// `yyyy-mm-dd hh:mm:ss` in `tz`: when money moved. Written out field by field: chrono's `format`
/// reads its pattern anew for every call, and a page formats one time per row.
pub fn seconds(at: DateTime<Utc>, tz: Tz) -> String {
    let t = at.with_timezone(&tz);
    format!(
        "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
        t.year(),
        t.month(),
        t.day(),
        t.hour(),
        t.minute(),
        t.second()
    )
}

/// `at` as the local date and time a spreadsheet cell holds.
pub fn naive(at: DateTime<Utc>, tz: Tz) -> chrono::NaiveDateTime {
    at.with_timezone(&tz).naive_local()
}

/// A downloaded file's name, `{stem}-yyyymmdd-hhmmss.{extension}` at `now` in `tz`: the staff's own
/// clock, so that the files of one day sort together on their disk.
pub fn file_name(stem: &str, now: DateTime<Utc>, tz: Tz, extension: &str) -> String {
    format!(
        "{stem}-{}.{extension}",
        now.with_timezone(&tz).format("%Y%m%d-%H%M%S")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono_tz::{America, Asia, UTC};

    fn day(y: i32, m: u32, d: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, d).expect("date")
    }

    #[test]
    fn days_start_at_local_midnight() {
        let (start, end) = day_bounds(day(2026, 11, 22), Asia::Shanghai);
        assert_eq!(start.to_rfc3339(), "2026-11-21T16:00:00+00:00");
        assert_eq!(end.to_rfc3339(), "2026-11-22T16:00:00+00:00");
    }

    #[test]
    fn a_day_without_midnight_starts_at_its_first_hour() {
        // Santiago moved its clocks from 00:00 to 01:00 on 2026-09-06.
        let tz = America::Santiago;
        let start = day_start(day(2026, 9, 6), tz);
        assert_eq!(start.to_rfc3339(), "2026-09-06T04:00:00+00:00");
        let (before, after) = day_bounds(day(2026, 9, 5), tz);
        assert_eq!(after, start);
        assert_eq!(after - before, Duration::hours(24));
    }

    #[test]
    fn times_are_shown_in_the_zone() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 30, 16, 5, 9)
            .single()
            .expect("time");
        assert_eq!(seconds(at, Asia::Shanghai), "2026-12-01 00:05:09");
        assert_eq!(seconds(at, UTC), "2026-11-30 16:05:09");
        assert_eq!(minutes(at, Asia::Shanghai), "2026-12-01 00:05");
        assert_eq!(today(at, Asia::Shanghai), day(2026, 12, 1));
        assert_eq!(
            file_name("settlements", at, Asia::Shanghai, "xlsx"),
            "settlements-20261201-000509.xlsx"
        );
    }

    #[test]
    fn an_unknown_zone_is_an_error() {
        assert_eq!(zone("Asia/Shanghai").ok(), Some(Asia::Shanghai));
        assert!(zone("Mars/Olympus").is_err());
    }
}
