//! Durations as arguments: `45s`, `10m`, `1h30m`, `2d`, `1w`.

use std::borrow::Cow;
use std::time::Duration;

use super::{ArgError, Args, FromArg};

/// A duration: a number and a unit, repeated: `45s`, `10m`, `1h30m`, `2d`, `1w`.
///
/// Units: `s`/`sec`/`second(s)`, `m`/`min`/`minute(s)`, `h`/`hr`/`hour(s)`, `d`/`day(s)`,
/// `w`/`week(s)`; letters in any case. A bare number is refused, because minutes and seconds
/// are easy to confuse.
impl FromArg for Duration {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = args.word()?;
        parse_duration(&word).map_err(|reason| ArgError::invalid(word, reason))
    }

    fn expected() -> Cow<'static, str> {
        "a duration like 10m or 1h30m".into()
    }
}

pub(crate) fn parse_duration(text: &str) -> Result<Duration, &'static str> {
    const NOT_A_DURATION: &str = "is not a duration (try 45s, 10m, 1h30m or 2d)";
    let mut rest = text;
    let mut total: u64 = 0;
    if rest.is_empty() {
        return Err(NOT_A_DURATION);
    }
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(NOT_A_DURATION);
        }
        let amount: u64 = rest[..digits].parse().map_err(|_| "is too long")?;
        rest = &rest[digits..];
        let letters = rest
            .find(|c: char| !c.is_alphabetic())
            .unwrap_or(rest.len());
        let unit = rest[..letters].to_lowercase();
        rest = &rest[letters..];
        let seconds = match unit.as_str() {
            "s" | "sec" | "secs" | "second" | "seconds" => 1,
            "m" | "min" | "mins" | "minute" | "minutes" => 60,
            "h" | "hr" | "hrs" | "hour" | "hours" => 3_600,
            "d" | "day" | "days" => 86_400,
            "w" | "week" | "weeks" => 604_800,
            "" => return Err("needs a unit (s, m, h, d or w), like 10m"),
            _ => return Err(NOT_A_DURATION),
        };
        total = amount
            .checked_mul(seconds)
            .and_then(|s| total.checked_add(s))
            .ok_or("is too long")?;
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::from_arg::tests::{err, parse};

    #[test]
    fn durations_combine_units() {
        let d = |s| parse::<Duration>(s).unwrap().as_secs();
        assert_eq!(d("45s"), 45);
        assert_eq!(d("10m"), 600);
        assert_eq!(d("1h30m"), 5_400);
        assert_eq!(d("2d"), 172_800);
        assert_eq!(d("1w"), 604_800);
        assert_eq!(d("2H5M3S"), 7_503);
        assert_eq!(d("3hours10mins"), 11_400);
        assert_eq!(d("0s"), 0);
        assert_eq!(
            err::<Duration>("10"),
            "`10` needs a unit (s, m, h, d or w), like 10m"
        );
        assert_eq!(
            err::<Duration>("10x"),
            "`10x` is not a duration (try 45s, 10m, 1h30m or 2d)"
        );
        assert_eq!(
            err::<Duration>("m10"),
            "`m10` is not a duration (try 45s, 10m, 1h30m or 2d)"
        );
        assert_eq!(
            err::<Duration>("99999999999999999999w"),
            "`99999999999999999999w` is too long"
        );
        assert_eq!(
            err::<Duration>("18446744073709551615w"),
            "`18446744073709551615w` is too long"
        );
    }
}
