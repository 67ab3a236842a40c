//! The application's one clock. Every "now", "today" and "this year" a flow needs comes from
//! here, so a test moves time forward instead of sleeping (sessions going idle, sign-in waits,
//! round deadlines) and two doors never disagree about the date.

use healthplan_core::{Date, Period};
use jiff::{tz::TimeZone, Timestamp, ZonedDateTime};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::Duration;

/// The system clock, moved forward by however much [`Clock::advance`] was asked to.
#[derive(Debug, Default)]
pub struct Clock {
    /// Microseconds added to the system time.
    ahead_us: AtomicI64,
}

impl Clock {
    pub fn now(&self) -> Timestamp {
        let ahead = jiff::SignedDuration::from_micros(self.ahead_us.load(Ordering::Relaxed));
        Timestamp::now()
            .checked_add(ahead)
            .unwrap_or_else(|_| Timestamp::now())
    }

    fn zoned(&self) -> ZonedDateTime {
        self.now().to_zoned_datetime(TimeZone::system())
    }

    /// The local calendar date.
    pub fn today(&self) -> Date {
        Date::from_civil(self.zoned().date())
    }

    /// Today as a day period (what the surveillance board shows first).
    pub fn today_period(&self) -> Period {
        let d = self.zoned().date();
        Period::Day(i32::from(d.year()), d.month() as u8, d.day() as u8)
    }

    pub fn year(&self) -> i32 {
        i32::from(self.zoned().date().year())
    }

    /// The last full year: what evaluations and monitoring reports are as of unless asked.
    pub fn last_full_year(&self) -> i32 {
        self.year() - 1
    }

    /// Moves this clock forward (tests: an idle session, a sign-in wait, a deadline passing).
    pub fn advance(&self, by: Duration) {
        let us = i64::try_from(by.as_micros()).unwrap_or(i64::MAX);
        self.ahead_us.fetch_add(us, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn advancing_moves_every_reading() {
        let c = Clock::default();
        let (t0, y0) = (c.now(), c.year());
        c.advance(Duration::from_secs(400 * 24 * 3600));
        assert!(c.now().duration_since(t0).as_secs() >= 400 * 24 * 3600);
        assert!(c.year() > y0);
        assert_eq!(c.last_full_year(), c.year() - 1);
        assert_eq!(c.today_period().year(), c.year());
    }
}
