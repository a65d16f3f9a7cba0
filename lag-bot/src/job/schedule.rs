//! [`Schedule`]: when a job runs.

use std::fmt;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use croner::Cron;
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::{Error, Result};

/// When a [`Job`](super::Job) runs: every fixed period, or at the moments a cron expression
/// names, in a time zone.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::job::Schedule;
///
/// let poll = Schedule::every(Duration::from_secs(300));
/// let digest = Schedule::cron("0 9 * * *")?.in_time_zone("Europe/Paris")?;
/// assert_eq!(digest.to_string(), "cron `0 9 * * *` in Europe/Paris");
/// assert!(Schedule::cron("0 25 * * *").is_err()); // there is no hour 25
/// assert!(Schedule::cron("0 9 * * *")?.in_time_zone("Mars/Olympus_Mons").is_err());
/// # let _ = poll;
/// # Ok::<(), lag_bot::Error>(())
/// ```
#[derive(Clone)]
pub struct Schedule {
    kind: Kind,
}

#[derive(Clone)]
enum Kind {
    Every(Duration),
    Cron {
        cron: Box<Cron>,
        zone: TimeZone,
        zone_name: String,
    },
    /// Made by a macro whose expression was checked at compile time, with a zone name that
    /// could not be found: reported when the robot starts.
    BadZone {
        expression: String,
        zone: String,
    },
}

impl Schedule {
    /// Every `period` (at least one second), counted from the robot's start, or from the last
    /// run recorded in the robot's [`JobStore`](super::JobStore).
    pub fn every(period: Duration) -> Self {
        Self {
            kind: Kind::Every(period.max(Duration::from_secs(1))),
        }
    }

    /// At the moments `expression` names: five fields (minute, hour, day of month, month, day
    /// of week, e.g. `0 9 * * 1-5` for 9:00 on weekdays), or six with seconds first, and the
    /// aliases `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly`. Times are in the
    /// machine's local time zone unless [`in_time_zone`](Self::in_time_zone) says otherwise.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming what is wrong with the
    /// expression.
    pub fn cron(expression: &str) -> Result<Self> {
        let cron = parse_cron(expression).map_err(Error::config)?;
        Ok(Self {
            kind: Kind::Cron {
                cron: Box::new(cron),
                zone: TimeZone::system(),
                zone_name: "local time".to_owned(),
            },
        })
    }

    /// Reads the cron expression's times in time zone `name` from the tz database (e.g.
    /// `Europe/Paris`, `America/New_York`, `UTC`). Daylight-saving changes follow the zone: a
    /// time skipped by a change runs at the first moment after it, and a time that happens
    /// twice runs once. No effect on an `every` schedule.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) for a name the tz database does not
    /// know.
    pub fn in_time_zone(mut self, name: &str) -> Result<Self> {
        if let Kind::Cron {
            zone, zone_name, ..
        } = &mut self.kind
        {
            *zone = TimeZone::get(name)
                .map_err(|_| Error::config(format!("unknown time zone `{name}`")))?;
            name.clone_into(zone_name);
        }
        Ok(self)
    }

    /// What `#[cron]` expands to: the expression was checked when the robot was compiled.
    #[doc(hidden)]
    pub fn __checked_cron(expression: &str, zone: Option<&str>) -> Self {
        let schedule = match Self::cron(expression) {
            Ok(schedule) => schedule,
            Err(_) => {
                return Self {
                    kind: Kind::BadZone {
                        expression: expression.to_owned(),
                        zone: String::new(),
                    },
                };
            }
        };
        match zone {
            None => schedule,
            Some(zone) => schedule.in_time_zone(zone).unwrap_or_else(|_| Self {
                kind: Kind::BadZone {
                    expression: expression.to_owned(),
                    zone: zone.to_owned(),
                },
            }),
        }
    }

    /// Whether the schedule can be used, checked when the robot starts.
    pub(crate) fn check(&self) -> Result<()> {
        match &self.kind {
            Kind::BadZone { expression, zone } if zone.is_empty() => Err(Error::config(format!(
                "the cron expression `{expression}` is not valid"
            ))),
            Kind::BadZone { zone, .. } => Err(Error::config(format!("unknown time zone `{zone}`"))),
            _ => Ok(()),
        }
    }

    /// The first moment strictly after `after`, or `None` when there is none (a cron
    /// expression that never matches again, or a bad schedule).
    pub(crate) fn next_after(&self, after: SystemTime) -> Option<SystemTime> {
        match &self.kind {
            Kind::Every(period) => after.checked_add(*period),
            Kind::Cron { cron, zone, .. } => {
                let start = Timestamp::try_from(after).ok()?.to_zoned(zone.clone());
                let next = cron.find_next_occurrence(&start, false).ok()?;
                Some(SystemTime::from(next.timestamp()))
            }
            Kind::BadZone { .. } => None,
        }
    }
}

/// Parses a cron expression, with a message fit for a user.
fn parse_cron(expression: &str) -> std::result::Result<Cron, String> {
    Cron::from_str(expression.trim())
        .map_err(|err| format!("invalid cron expression `{expression}`: {err}"))
}

impl fmt::Display for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.kind {
            Kind::Every(period) => write!(f, "every {}", crate::command::format_duration(*period)),
            Kind::Cron {
                cron, zone_name, ..
            } => write!(f, "cron `{}` in {zone_name}", cron.pattern),
            Kind::BadZone { expression, zone } => write!(f, "cron `{expression}` in {zone}"),
        }
    }
}

impl fmt::Debug for Schedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Schedule({self})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(text: &str) -> SystemTime {
        SystemTime::from(text.parse::<Timestamp>().unwrap())
    }

    fn iso(time: SystemTime) -> String {
        Timestamp::try_from(time).unwrap().to_string()
    }

    #[test]
    fn every_counts_from_the_moment_given() {
        let schedule = Schedule::every(Duration::from_secs(300));
        assert_eq!(
            iso(schedule.next_after(at("2026-03-29T00:58:00Z")).unwrap()),
            "2026-03-29T01:03:00Z"
        );
        assert_eq!(schedule.to_string(), "every 5m");
    }

    #[test]
    fn cron_follows_the_zone_across_daylight_saving_changes() {
        let nine = Schedule::cron("0 9 * * *")
            .unwrap()
            .in_time_zone("Europe/Paris")
            .unwrap();
        // Paris is UTC+1 in winter and UTC+2 from the last Sunday of March.
        assert_eq!(
            iso(nine.next_after(at("2026-03-28T12:00:00Z")).unwrap()),
            "2026-03-29T07:00:00Z"
        );
        assert_eq!(
            iso(nine.next_after(at("2026-03-27T12:00:00Z")).unwrap()),
            "2026-03-28T08:00:00Z"
        );
        // 02:30 does not exist in Paris on 2026-03-29: it runs at the first moment after.
        let half_past_two = Schedule::cron("30 2 * * *")
            .unwrap()
            .in_time_zone("Europe/Paris")
            .unwrap();
        let skipped = half_past_two
            .next_after(at("2026-03-28T12:00:00Z"))
            .unwrap();
        assert!(
            iso(skipped).starts_with("2026-03-29T01:"),
            "{}",
            iso(skipped)
        );
        // 02:30 happens twice in Paris on 2026-10-25: it runs once.
        let first = half_past_two
            .next_after(at("2026-10-24T12:00:00Z"))
            .unwrap();
        assert_eq!(iso(first), "2026-10-25T00:30:00Z");
        let next = half_past_two.next_after(first).unwrap();
        assert_eq!(iso(next), "2026-10-26T01:30:00Z");
    }

    #[test]
    fn bad_expressions_and_zones_say_what_is_wrong() {
        let err = Schedule::cron("0 9 * *").unwrap_err().to_string();
        assert!(err.contains("invalid cron expression `0 9 * *`"), "{err}");
        let err = Schedule::cron("@daily")
            .unwrap()
            .in_time_zone("Europe/Nowhere")
            .unwrap_err()
            .to_string();
        assert!(err.contains("unknown time zone `Europe/Nowhere`"), "{err}");
        let checked = Schedule::__checked_cron("0 9 * * *", Some("Europe/Nowhere"));
        assert!(checked.check().is_err());
        assert_eq!(checked.next_after(SystemTime::now()), None);
    }
}
