//! Half-open periods, calendar presets in a fixed UTC offset, and business hours.
//!
//! Civil-date arithmetic is done here (proleptic Gregorian calendar, Howard Hinnant's
//! `days_from_civil` algorithm); there is no time-zone database. A caller in a daylight-saving
//! zone passes explicit [`Period`]s instead of using the presets.

#[cfg(feature = "serde")]
use serde::{Deserialize, Serialize};

use super::KpiError;
use crate::time::{Millis, Timestamp};

const MS_PER_MIN: i64 = 60_000;
const MS_PER_DAY: i64 = 86_400_000;

/// A half-open time range `[start, end)` in Unix-epoch milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Period {
    /// First instant inside.
    pub start: Timestamp,
    /// First instant after.
    pub end: Timestamp,
}

impl Period {
    /// `[start, end)`.
    ///
    /// # Errors
    /// [`KpiError::InvalidPeriod`] if `end < start`.
    pub fn new(start: Timestamp, end: Timestamp) -> Result<Self, KpiError> {
        if end < start {
            return Err(KpiError::InvalidPeriod {
                start: i128::from(start.0),
                end: i128::from(end.0),
            });
        }
        Ok(Period { start, end })
    }

    /// Whether `t` is inside: `start <= t < end`.
    pub fn contains(&self, t: Timestamp) -> bool {
        self.start <= t && t < self.end
    }

    /// Length of the period.
    pub fn duration(&self) -> Millis {
        self.end.since(self.start)
    }

    fn from_local_ms(start_local: i64, end_local: i64, offset_ms: i64) -> Result<Self, KpiError> {
        let s = i128::from(start_local) - i128::from(offset_ms);
        let e = i128::from(end_local) - i128::from(offset_ms);
        match (u64::try_from(s), u64::try_from(e)) {
            (Ok(a), Ok(b)) if a <= b => Ok(Period {
                start: Timestamp(a),
                end: Timestamp(b),
            }),
            _ => Err(KpiError::InvalidPeriod { start: s, end: e }),
        }
    }
}

/// A day of the week.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub enum Weekday {
    /// Monday (ISO first day of the week).
    Monday = 0,
    /// Tuesday.
    Tuesday = 1,
    /// Wednesday.
    Wednesday = 2,
    /// Thursday.
    Thursday = 3,
    /// Friday.
    Friday = 4,
    /// Saturday.
    Saturday = 5,
    /// Sunday.
    Sunday = 6,
}

impl Weekday {
    /// Monday = 0 … Sunday = 6.
    pub fn index(self) -> u8 {
        self as u8
    }

    /// Inverse of [`Weekday::index`]; `None` above 6.
    pub fn from_index(i: u8) -> Option<Weekday> {
        Some(match i {
            0 => Weekday::Monday,
            1 => Weekday::Tuesday,
            2 => Weekday::Wednesday,
            3 => Weekday::Thursday,
            4 => Weekday::Friday,
            5 => Weekday::Saturday,
            6 => Weekday::Sunday,
            _ => return None,
        })
    }

    fn of_day(days: i64) -> Weekday {
        // 1970-01-01 was a Thursday (index 3).
        let i = (days + 3).rem_euclid(7) as u8;
        Weekday::from_index(i).unwrap_or(Weekday::Monday)
    }
}

/// A calendar date in the proleptic Gregorian calendar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct CivilDate {
    /// Year (e.g. 2024).
    pub year: i32,
    /// Month 1–12.
    pub month: u8,
    /// Day 1–31.
    pub day: u8,
}

impl CivilDate {
    /// A date, checked (month 1–12, day within the month).
    ///
    /// # Errors
    /// [`KpiError::InvalidConfig`] with field `date`.
    pub fn new(year: i32, month: u8, day: u8) -> Result<Self, KpiError> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return Err(KpiError::InvalidConfig {
                field: "date",
                reason: "no such calendar date",
            });
        }
        Ok(CivilDate { year, month, day })
    }

    /// Days since 1970-01-01 (negative before).
    pub fn days_since_epoch(self) -> i64 {
        let y = i64::from(self.year) - i64::from(self.month <= 2);
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let m = i64::from(self.month);
        let mp = if m > 2 { m - 3 } else { m + 9 };
        let doy = (153 * mp + 2) / 5 + i64::from(self.day) - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }

    /// The date `days` after 1970-01-01.
    pub fn from_days_since_epoch(days: i64) -> CivilDate {
        let z = days + 719_468;
        let era = z.div_euclid(146_097);
        let doe = z - era * 146_097;
        let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
        let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        let mp = (5 * doy + 2) / 153;
        let day = (doy - (153 * mp + 2) / 5 + 1) as u8;
        let month = if mp < 10 { mp + 3 } else { mp - 9 } as u8;
        let year = yoe + era * 400 + i64::from(month <= 2);
        CivilDate {
            year: year.clamp(i64::from(i32::MIN), i64::from(i32::MAX)) as i32,
            month,
            day,
        }
    }

    /// The day of the week.
    pub fn weekday(self) -> Weekday {
        Weekday::of_day(self.days_since_epoch())
    }
}

fn is_leap(year: i32) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i32, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

fn check_offset(utc_offset_minutes: i32) -> Result<i64, KpiError> {
    if utc_offset_minutes.unsigned_abs() > 18 * 60 {
        return Err(KpiError::InvalidConfig {
            field: "utc_offset_minutes",
            reason: "a utc offset is within ±18 h",
        });
    }
    Ok(i64::from(utc_offset_minutes) * MS_PER_MIN)
}

/// Calendar presets (today, this week, …) in a fixed UTC offset.
///
/// No daylight saving: the offset is fixed. A caller in a DST zone passes explicit periods.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct Calendar {
    offset_ms: i64,
    first_day_of_week: Weekday,
}

impl Calendar {
    /// A calendar `utc_offset_minutes` east of UTC (Seoul: 540) whose weeks start on
    /// `first_day_of_week`.
    ///
    /// # Errors
    /// [`KpiError::InvalidConfig`] if the offset is beyond ±18 h.
    pub fn new(utc_offset_minutes: i32, first_day_of_week: Weekday) -> Result<Self, KpiError> {
        Ok(Calendar {
            offset_ms: check_offset(utc_offset_minutes)?,
            first_day_of_week,
        })
    }

    /// The local civil date at `t`.
    pub fn date_of(&self, t: Timestamp) -> CivilDate {
        CivilDate::from_days_since_epoch(self.local_day(t))
    }

    fn local_day(&self, t: Timestamp) -> i64 {
        (i128::from(t.0) + i128::from(self.offset_ms)).div_euclid(i128::from(MS_PER_DAY)) as i64
    }

    fn days(&self, first: i64, last_exclusive: i64) -> Result<Period, KpiError> {
        Period::from_local_ms(
            first.saturating_mul(MS_PER_DAY),
            last_exclusive.saturating_mul(MS_PER_DAY),
            self.offset_ms,
        )
    }

    fn week_start(&self, now: Timestamp) -> i64 {
        let day = self.local_day(now);
        let back = (i64::from(Weekday::of_day(day).index())
            - i64::from(self.first_day_of_week.index()))
        .rem_euclid(7);
        day - back
    }

    fn month_start(day: i64, months_back: i64) -> (i64, i64) {
        let d = CivilDate::from_days_since_epoch(day);
        let idx = i64::from(d.year) * 12 + i64::from(d.month) - 1 - months_back;
        let first = |idx: i64| {
            CivilDate {
                year: idx.div_euclid(12) as i32,
                month: (idx.rem_euclid(12) + 1) as u8,
                day: 1,
            }
            .days_since_epoch()
        };
        (first(idx), first(idx + 1))
    }

    /// `[local midnight, next local midnight)` containing `now`.
    ///
    /// # Errors
    /// [`KpiError::InvalidPeriod`] if the range falls before the epoch.
    pub fn today(&self, now: Timestamp) -> Result<Period, KpiError> {
        let d = self.local_day(now);
        self.days(d, d + 1)
    }

    /// The day before [`Calendar::today`].
    ///
    /// # Errors
    /// As [`Calendar::today`].
    pub fn yesterday(&self, now: Timestamp) -> Result<Period, KpiError> {
        let d = self.local_day(now);
        self.days(d - 1, d)
    }

    /// Seven days from the last `first_day_of_week` at local midnight.
    ///
    /// # Errors
    /// As [`Calendar::today`].
    pub fn this_week(&self, now: Timestamp) -> Result<Period, KpiError> {
        let s = self.week_start(now);
        self.days(s, s + 7)
    }

    /// The week before [`Calendar::this_week`].
    ///
    /// # Errors
    /// As [`Calendar::today`].
    pub fn last_week(&self, now: Timestamp) -> Result<Period, KpiError> {
        let s = self.week_start(now);
        self.days(s - 7, s)
    }

    /// From the 1st of the local month, 00:00, to the 1st of the next month.
    ///
    /// # Errors
    /// As [`Calendar::today`].
    pub fn this_month(&self, now: Timestamp) -> Result<Period, KpiError> {
        let (a, b) = Self::month_start(self.local_day(now), 0);
        self.days(a, b)
    }

    /// The month before [`Calendar::this_month`].
    ///
    /// # Errors
    /// As [`Calendar::today`].
    pub fn last_month(&self, now: Timestamp) -> Result<Period, KpiError> {
        let (a, b) = Self::month_start(self.local_day(now), 1);
        self.days(a, b)
    }
}

/// One weekly opening interval: on `weekday`, from `start_minute` to `end_minute` after local
/// midnight, half-open (`end_minute` ≤ 1440).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
pub struct OpenInterval {
    /// The day.
    pub weekday: Weekday,
    /// Opening, minutes after local midnight.
    pub start_minute: u16,
    /// Closing, minutes after local midnight (exclusive, at most 1440).
    pub end_minute: u16,
}

/// A business-hours calendar: weekly open intervals in a fixed UTC offset, plus closed dates
/// (holidays), used to count only open time in first response times.
///
/// `business_ms(a, b)` = Σ over local days of |[a, b) ∩ open(day)|, closed dates contributing
/// nothing; whole weeks are counted arithmetically, so the cost does not grow with the span.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(Serialize, Deserialize))]
#[cfg_attr(feature = "serde", serde(try_from = "BusinessHoursSpec"))]
pub struct BusinessHours {
    utc_offset_minutes: i32,
    open: Vec<OpenInterval>,
    closed: Vec<CivilDate>,
    #[cfg_attr(feature = "serde", serde(skip))]
    closed_days: Vec<i64>,
    #[cfg_attr(feature = "serde", serde(skip))]
    day_open_ms: [u64; 7],
}

/// The serialized shape of [`BusinessHours`], validated on the way in.
#[cfg(feature = "serde")]
#[derive(Deserialize)]
struct BusinessHoursSpec {
    utc_offset_minutes: i32,
    open: Vec<OpenInterval>,
    closed: Vec<CivilDate>,
}

#[cfg(feature = "serde")]
impl TryFrom<BusinessHoursSpec> for BusinessHours {
    type Error = KpiError;
    fn try_from(s: BusinessHoursSpec) -> Result<Self, KpiError> {
        BusinessHours::new(s.utc_offset_minutes, s.open, s.closed)
    }
}

impl BusinessHours {
    /// Builds and validates a schedule. Intervals are sorted; closed dates sorted and deduplicated.
    ///
    /// # Errors
    /// [`KpiError::InvalidBusinessHours`] for an empty or inverted interval, one ending after
    /// 1440, or two overlapping on the same day; [`KpiError::InvalidConfig`] for an offset
    /// beyond ±18 h.
    pub fn new(
        utc_offset_minutes: i32,
        mut open: Vec<OpenInterval>,
        mut closed: Vec<CivilDate>,
    ) -> Result<Self, KpiError> {
        check_offset(utc_offset_minutes)?;
        for (index, iv) in open.iter().enumerate() {
            if iv.start_minute >= iv.end_minute {
                return Err(KpiError::InvalidBusinessHours {
                    index,
                    reason: "an interval must end after it starts",
                });
            }
            if iv.end_minute > 1440 {
                return Err(KpiError::InvalidBusinessHours {
                    index,
                    reason: "an interval must end by minute 1440 of its day",
                });
            }
        }
        open.sort();
        for (index, w) in open.windows(2).enumerate() {
            if w[0].weekday == w[1].weekday && w[1].start_minute < w[0].end_minute {
                return Err(KpiError::InvalidBusinessHours {
                    index: index + 1,
                    reason: "intervals on the same day overlap",
                });
            }
        }
        for (index, d) in closed.iter().enumerate() {
            if CivilDate::new(d.year, d.month, d.day).is_err() {
                return Err(KpiError::InvalidBusinessHours {
                    index,
                    reason: "closed date is not a calendar date",
                });
            }
        }
        closed.sort();
        closed.dedup();
        let closed_days = closed.iter().map(|d| d.days_since_epoch()).collect();
        let mut day_open_ms = [0u64; 7];
        for iv in &open {
            day_open_ms[usize::from(iv.weekday.index())] +=
                u64::from(iv.end_minute - iv.start_minute) * MS_PER_MIN as u64;
        }
        Ok(BusinessHours {
            utc_offset_minutes,
            open,
            closed,
            closed_days,
            day_open_ms,
        })
    }

    /// Open every day around the clock, no closed dates (business ms = calendar ms).
    pub fn always_open() -> Self {
        let open = (0..7)
            .filter_map(Weekday::from_index)
            .map(|weekday| OpenInterval {
                weekday,
                start_minute: 0,
                end_minute: 1440,
            })
            .collect();
        BusinessHours {
            utc_offset_minutes: 0,
            open,
            closed: Vec::new(),
            closed_days: Vec::new(),
            day_open_ms: [MS_PER_DAY as u64; 7],
        }
    }

    /// The fixed UTC offset in minutes.
    pub fn utc_offset_minutes(&self) -> i32 {
        self.utc_offset_minutes
    }

    /// The weekly intervals, sorted.
    pub fn open_intervals(&self) -> &[OpenInterval] {
        &self.open
    }

    /// The closed dates, sorted.
    pub fn closed_dates(&self) -> &[CivilDate] {
        &self.closed
    }

    fn is_closed(&self, day: i64) -> bool {
        self.closed_days.binary_search(&day).is_ok()
    }

    /// Open ms of `day` within local ms-of-day `[from, to)`.
    fn open_within_day(&self, day: i64, from: i64, to: i64) -> u64 {
        if to <= from || self.is_closed(day) {
            return 0;
        }
        let wd = Weekday::of_day(day);
        let mut total = 0u64;
        for iv in self.open.iter().filter(|iv| iv.weekday == wd) {
            let s = i64::from(iv.start_minute) * MS_PER_MIN;
            let e = i64::from(iv.end_minute) * MS_PER_MIN;
            let lo = s.max(from);
            let hi = e.min(to);
            if hi > lo {
                total += (hi - lo) as u64;
            }
        }
        total
    }

    /// Open ms of whole days `lo..hi`.
    fn full_days(&self, lo: i64, hi: i64) -> u64 {
        if hi <= lo {
            return 0;
        }
        let n = hi - lo;
        let weeks = (n / 7) as u64;
        let week_total: u64 = self.day_open_ms.iter().sum();
        let mut total = weeks.saturating_mul(week_total);
        for k in 0..(n % 7) {
            let d = lo + (n / 7) * 7 + k;
            total += self.day_open_ms[usize::from(Weekday::of_day(d).index())];
        }
        let a = self.closed_days.partition_point(|&d| d < lo);
        let b = self.closed_days.partition_point(|&d| d < hi);
        for &d in &self.closed_days[a..b] {
            total -= self.day_open_ms[usize::from(Weekday::of_day(d).index())];
        }
        total
    }

    /// Open milliseconds in `[a, b)`; zero if `b <= a`. An ask outside hours starts counting at
    /// the next opening; a reply before it gives 0.
    pub fn business_ms(&self, a: Timestamp, b: Timestamp) -> Millis {
        if b <= a {
            return Millis(0);
        }
        let off = i64::from(self.utc_offset_minutes) * MS_PER_MIN;
        let la = i128::from(a.0) + i128::from(off);
        let lb = i128::from(b.0) + i128::from(off);
        let day = i128::from(MS_PER_DAY);
        let da = la.div_euclid(day) as i64;
        let db = lb.div_euclid(day) as i64;
        let ra = la.rem_euclid(day) as i64;
        let rb = lb.rem_euclid(day) as i64;
        if da == db {
            return Millis(self.open_within_day(da, ra, rb));
        }
        Millis(
            self.open_within_day(da, ra, MS_PER_DAY)
                + self.full_days(da + 1, db)
                + self.open_within_day(db, 0, rb),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_round_trip_and_known_dates() {
        assert_eq!(
            CivilDate::new(1970, 1, 1).map(|d| d.days_since_epoch()),
            Ok(0)
        );
        assert_eq!(
            CivilDate::new(2000, 3, 1).map(|d| d.days_since_epoch()),
            Ok(11_017)
        );
        assert_eq!(
            CivilDate::new(2024, 2, 29).map(|d| d.weekday()),
            Ok(Weekday::Thursday)
        );
        assert!(CivilDate::new(2023, 2, 29).is_err());
        for days in (-800_000..800_000).step_by(997) {
            let d = CivilDate::from_days_since_epoch(days);
            assert_eq!(d.days_since_epoch(), days);
            assert!(CivilDate::new(d.year, d.month, d.day).is_ok());
        }
    }

    #[test]
    fn week_start_respects_first_day() {
        // 2024-05-15 is a Wednesday; 12:00 UTC.
        let now = Timestamp(1_715_774_400_000);
        let mon = Calendar::new(0, Weekday::Monday).and_then(|c| c.this_week(now));
        let sun = Calendar::new(0, Weekday::Sunday).and_then(|c| c.this_week(now));
        let day = 86_400_000u64;
        let wed_midnight = 1_715_731_200_000u64;
        assert_eq!(mon.map(|p| p.start.0), Ok(wed_midnight - 2 * day));
        assert_eq!(sun.map(|p| p.start.0), Ok(wed_midnight - 3 * day));
    }

    #[test]
    fn business_hours_whole_weeks_match_day_by_day() {
        let open = (0..5)
            .filter_map(Weekday::from_index)
            .map(|weekday| OpenInterval {
                weekday,
                start_minute: 9 * 60,
                end_minute: 18 * 60,
            })
            .collect();
        let bh = BusinessHours::new(
            540,
            open,
            vec![CivilDate {
                year: 2024,
                month: 5,
                day: 1,
            }],
        );
        let Ok(bh) = bh else { panic!("valid") };
        let a = Timestamp(1_714_000_000_123);
        for span_days in [0u64, 1, 3, 6, 7, 8, 15, 40] {
            let b = Timestamp(a.0 + span_days * 86_400_000 + 3_600_123);
            // Naive: walk minute by minute would be slow; walk days.
            let mut naive = 0u64;
            let mut t = a.0;
            while t < b.0 {
                let next = ((t as i64 + 540 * 60_000) / MS_PER_DAY + 1) * MS_PER_DAY - 540 * 60_000;
                let end = (next as u64).min(b.0);
                naive += bh.business_ms(Timestamp(t), Timestamp(end)).0;
                t = end;
            }
            assert_eq!(bh.business_ms(a, b).0, naive, "span {span_days}");
        }
    }
}
