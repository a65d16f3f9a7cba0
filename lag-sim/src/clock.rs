//! The one place where simulated durations become real ones.
//!
//! Every timer in the emulator (webhook retry delays, rate-limit windows, SSE keepalives, long-poll
//! holds, secret-rotation overlaps, event retention) goes through [`Clock`], so a single
//! `time_scale` makes a whole test run faster. Reported timestamps stay wall-clock time: a scale
//! changes how long the emulator waits, not what time it says it is.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;
use time::macros::format_description;

/// Scales simulated durations to real ones and formats wall-clock timestamps.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    scale: f64,
}

impl Clock {
    pub(crate) fn new(scale: f64) -> Self {
        let scale = if scale.is_finite() && scale > 0.0 {
            scale
        } else {
            1.0
        };
        Self { scale }
    }

    /// The real duration that stands for `simulated`.
    pub(crate) fn real(&self, simulated: Duration) -> Duration {
        simulated.div_f64(self.scale)
    }

    /// Sleeps for the real duration standing for `simulated`.
    pub(crate) async fn sleep(&self, simulated: Duration) {
        tokio::time::sleep(self.real(simulated)).await;
    }
}

/// A duration in whole milliseconds, saturating at `u64::MAX`.
pub(crate) fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

/// Milliseconds since the Unix epoch, now.
pub(crate) fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

/// Seconds since the Unix epoch, now.
pub(crate) fn now_unix_seconds() -> i64 {
    now_millis() / 1000
}

/// Formats epoch milliseconds as `2024-01-15T12:30:00.000Z`.
pub(crate) fn format_millis(millis: i64) -> String {
    let nanos = i128::from(millis) * 1_000_000;
    let at = OffsetDateTime::from_unix_timestamp_nanos(nanos).unwrap_or(OffsetDateTime::UNIX_EPOCH);
    at.format(format_description!(
        "[year]-[month]-[day]T[hour]:[minute]:[second].[subsecond digits:3]Z"
    ))
    .unwrap_or_else(|_| "1970-01-01T00:00:00.000Z".to_owned())
}

/// The current wall-clock time as an ISO 8601 string with milliseconds.
pub(crate) fn now_iso() -> String {
    format_millis(now_millis())
}

/// Parses an RFC 3339 timestamp into epoch milliseconds, rounding sub-millisecond parts up so that
/// `createdAt < cursor` keeps its meaning for cursors finer than a millisecond.
pub(crate) fn parse_iso_millis(text: &str) -> Option<i64> {
    let at = OffsetDateTime::parse(text, &Rfc3339).ok()?;
    let nanos = at.unix_timestamp_nanos();
    let millis = nanos.div_euclid(1_000_000) + i128::from(nanos.rem_euclid(1_000_000) != 0);
    i64::try_from(millis).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses_round_trip() {
        let text = format_millis(1_705_321_800_123);
        assert_eq!(text, "2024-01-15T12:30:00.123Z");
        assert_eq!(parse_iso_millis(&text), Some(1_705_321_800_123));
        assert_eq!(
            parse_iso_millis("2024-01-15T12:30:00Z"),
            Some(1_705_321_800_000)
        );
        assert_eq!(
            parse_iso_millis("2024-01-15T12:30:00.0001Z"),
            Some(1_705_321_800_001)
        );
        assert_eq!(parse_iso_millis("yesterday"), None);
    }

    #[test]
    fn scales_durations() {
        let clock = Clock::new(100.0);
        assert_eq!(
            clock.real(Duration::from_secs(5)),
            Duration::from_millis(50)
        );
        let broken = Clock::new(0.0);
        assert_eq!(broken.real(Duration::from_secs(5)), Duration::from_secs(5));
    }
}
