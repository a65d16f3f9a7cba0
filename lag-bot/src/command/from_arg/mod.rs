//! Typed command arguments: the [`FromArg`] trait and its built-in implementations.

mod duration;

pub(crate) use duration::parse_duration;
mod mention;
mod text;

use std::borrow::Cow;
use std::fmt;
use std::num::IntErrorKind;
use std::ops::Deref;
use std::str::FromStr;

pub use mention::MemberMention;
pub use text::{Quoted, Rest};

use super::args::Args;
use super::error::ArgError;

/// How many words an argument takes, which decides how it is shown in a usage line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ArgKind {
    /// Exactly one argument must be given: `<name>`.
    Required,
    /// One argument may be given: `[name]`.
    Optional,
    /// Any number of arguments, including none: `[name...]`.
    Variadic,
    /// The rest of the line, which must not be empty: `<name...>`.
    Rest,
    /// The rest of the line, possibly empty: `[name...]`.
    OptionalRest,
}

/// A type a command argument can be parsed into.
///
/// A command's parameters after the context are parsed in order from the text after its
/// trigger; a refused argument answers the author with what was wrong and the command's usage
/// line, and the handler does not run.
///
/// Built in: every integer type (out-of-range values are refused with the allowed range),
/// `f32`/`f64` (finite only), `bool` (`yes`/`no`, `true`/`false`, `on`/`off`, `y`/`n`, `1`/`0`),
/// `char`, [`String`] (one word, or several in quotes), [`Quoted`], [`Rest`],
/// [`Duration`] (`45s`, `10m`, `1h30m`, `2d`, `1w`), [`MemberMention`], [`Mention`],
/// [`Parsed<T>`] (any [`FromStr`] type), [`Option<T>`] and [`Vec<T>`].
///
/// Implement it for your own types; most take one word:
///
/// ```
/// use std::borrow::Cow;
/// use lag_bot::command::{ArgError, Args, FromArg};
///
/// enum Colour { Red, Green, Blue }
///
/// impl FromArg for Colour {
///     fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
///         let word = args.word()?;
///         match word.to_lowercase().as_str() {
///             "red" => Ok(Colour::Red),
///             "green" => Ok(Colour::Green),
///             "blue" => Ok(Colour::Blue),
///             _ => Err(ArgError::invalid(word, "is not red, green or blue")),
///         }
///     }
///
///     fn expected() -> Cow<'static, str> {
///         "red, green or blue".into()
///     }
/// }
///
/// let mut args = Args::new("GREEN");
/// assert!(matches!(Colour::from_arg(&mut args), Ok(Colour::Green)));
/// ```
///
/// [`Duration`]: std::time::Duration
/// [`Mention`]: crate::model::Mention
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be used as a command argument",
    label = "no `FromArg` implementation for `{Self}`",
    note = "implement `lag_bot::command::FromArg` for `{Self}`, or use a built-in argument type: integers, floats, bool, String, Quoted, Rest, Duration, MemberMention, Parsed<T>, Option<T>, Vec<T>"
)]
pub trait FromArg: Sized {
    /// Takes this argument from the cursor.
    ///
    /// # Errors
    ///
    /// [`ArgError::missing`] when nothing is left to take, [`ArgError::invalid`] when the
    /// argument is not acceptable.
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError>;

    /// How many words the argument takes (for the usage line); one, by default.
    fn kind() -> ArgKind {
        ArgKind::Required
    }

    /// What the argument should be, shown when it is missing, e.g. `"a whole number"`.
    fn expected() -> Cow<'static, str> {
        "a value".into()
    }
}

macro_rules! integers {
    ($($t:ty),* $(,)?) => {$(
        impl FromArg for $t {
            fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
                let word = args.word()?;
                parse_integer::<$t>(&word, <$t>::MIN, <$t>::MAX)
            }

            fn expected() -> Cow<'static, str> {
                "a whole number".into()
            }
        }
    )*};
}

integers!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize
);

fn parse_integer<T>(word: &str, min: T, max: T) -> Result<T, ArgError>
where
    T: FromStr<Err = std::num::ParseIntError> + fmt::Display,
{
    word.parse::<T>().map_err(|err| {
        let reason = match err.kind() {
            IntErrorKind::PosOverflow => format!("is too large (at most {max})"),
            IntErrorKind::NegOverflow => format!("is too small (at least {min})"),
            _ if is_negative_integer(word) => format!("is too small (at least {min})"),
            _ => "is not a whole number".to_owned(),
        };
        ArgError::invalid(word, reason)
    })
}

fn is_negative_integer(word: &str) -> bool {
    word.strip_prefix('-')
        .is_some_and(|digits| !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()))
}

macro_rules! floats {
    ($($t:ty),* $(,)?) => {$(
        impl FromArg for $t {
            fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
                let word = args.word()?;
                let looks_numeric = word.bytes().any(|b| b.is_ascii_digit());
                match word.parse::<$t>() {
                    Ok(value) if value.is_finite() => Ok(value),
                    Ok(_) if looks_numeric => Err(ArgError::invalid(word, "is out of range")),
                    _ => Err(ArgError::invalid(word, "is not a number")),
                }
            }

            fn expected() -> Cow<'static, str> {
                "a number".into()
            }
        }
    )*};
}

floats!(f32, f64);

impl FromArg for bool {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = args.word()?;
        match word.to_lowercase().as_str() {
            "yes" | "y" | "true" | "on" | "1" => Ok(true),
            "no" | "n" | "false" | "off" | "0" => Ok(false),
            _ => Err(ArgError::invalid(word, "is not yes or no")),
        }
    }

    fn expected() -> Cow<'static, str> {
        "yes or no".into()
    }
}

impl FromArg for char {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = args.word()?;
        let mut chars = word.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => Ok(c),
            _ => Err(ArgError::invalid(word, "is not a single character")),
        }
    }

    fn expected() -> Cow<'static, str> {
        "a single character".into()
    }
}

/// One word, or several in quotes: `alice`, `"Alice Smith"`.
impl FromArg for String {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        args.word().map(Cow::into_owned)
    }

    fn expected() -> Cow<'static, str> {
        "a word, or \"words in quotes\"".into()
    }
}

/// Any [`FromStr`] type as a one-word argument, e.g. `Parsed<std::net::IpAddr>`; a refused
/// value is explained with the type's own error message.
///
/// ```
/// use std::net::IpAddr;
/// use lag_bot::command::{Args, FromArg, Parsed};
///
/// let ip = Parsed::<IpAddr>::from_arg(&mut Args::new("127.0.0.1")).unwrap();
/// assert!(ip.0.is_loopback());
/// let err = Parsed::<IpAddr>::from_arg(&mut Args::new("home")).unwrap_err();
/// assert_eq!(err.to_string(), "`home` is not valid: invalid IP address syntax");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Parsed<T>(pub T);

impl<T> Parsed<T> {
    /// The parsed value.
    pub fn into_inner(self) -> T {
        self.0
    }
}

impl<T> Deref for Parsed<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> FromArg for Parsed<T>
where
    T: FromStr,
    T::Err: fmt::Display,
{
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let word = args.word()?;
        word.parse::<T>()
            .map(Parsed)
            .map_err(|err| ArgError::invalid(word.as_ref(), format!("is not valid: {err}")))
    }
}

/// An argument that may be left out.
///
/// When the next word does not parse as `T`, it is left for the following parameters, so
/// `!remind [in] <text...>` accepts both `!remind 10m stretch` and `!remind stretch`; if no later
/// parameter takes the word either, the author is told why `T` refused it.
impl<T: FromArg> FromArg for Option<T> {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        if args.is_empty() {
            return Ok(None);
        }
        let checkpoint = args.checkpoint();
        match T::from_arg(args) {
            Ok(value) => Ok(Some(value)),
            Err(error) if error.is_fatal() => Err(error),
            Err(error) => {
                args.restore(checkpoint);
                args.defer(checkpoint, error);
                Ok(None)
            }
        }
    }

    fn kind() -> ArgKind {
        match T::kind() {
            ArgKind::Rest | ArgKind::OptionalRest => ArgKind::OptionalRest,
            ArgKind::Variadic => ArgKind::Variadic,
            _ => ArgKind::Optional,
        }
    }

    fn expected() -> Cow<'static, str> {
        T::expected()
    }
}

/// Any number of arguments, including none; stops at the first word `T` refuses and leaves it
/// for the following parameters.
impl<T: FromArg> FromArg for Vec<T> {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let mut items = Vec::new();
        while !args.is_empty() {
            let checkpoint = args.checkpoint();
            match T::from_arg(args) {
                Ok(_) if args.checkpoint() == checkpoint => break,
                Ok(item) => items.push(item),
                Err(error) if error.is_fatal() => return Err(error),
                Err(error) => {
                    args.restore(checkpoint);
                    args.defer(checkpoint, error);
                    break;
                }
            }
        }
        Ok(items)
    }

    fn kind() -> ArgKind {
        ArgKind::Variadic
    }

    fn expected() -> Cow<'static, str> {
        T::expected()
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    pub(super) fn parse<T: FromArg>(input: &str) -> Result<T, ArgError> {
        let mut args = Args::new(input);
        let value = T::from_arg(&mut args)?;
        args.finish()?;
        Ok(value)
    }

    pub(super) fn err<T: FromArg + fmt::Debug>(input: &str) -> String {
        parse::<T>(input).unwrap_err().to_string()
    }

    #[test]
    fn integers_parse_and_report_overflow_with_the_range() {
        assert_eq!(parse::<u8>("255").unwrap(), 255);
        assert_eq!(parse::<i8>("-128").unwrap(), -128);
        assert_eq!(parse::<i64>("+42").unwrap(), 42);
        assert_eq!(parse::<u32>(r#""7""#).unwrap(), 7);
        assert_eq!(err::<u8>("256"), "`256` is too large (at most 255)");
        assert_eq!(err::<i8>("-129"), "`-129` is too small (at least -128)");
        assert_eq!(err::<u32>("-1"), "`-1` is too small (at least 0)");
        assert_eq!(
            err::<u64>("99999999999999999999"),
            "`99999999999999999999` is too large (at most 18446744073709551615)"
        );
        assert_eq!(
            err::<i128>("-999999999999999999999999999999999999999999"),
            "`-999999999999999999999999999999999999999999` is too small (at least -170141183460469231731687303715884105728)"
        );
        assert_eq!(err::<u16>("12abc"), "`12abc` is not a whole number");
        assert_eq!(err::<i32>("1.5"), "`1.5` is not a whole number");
        assert_eq!(err::<usize>("-"), "`-` is not a whole number");
        assert_eq!(err::<isize>(r#""""#), "`` is not a whole number");
        assert_eq!(parse::<u128>("0").unwrap(), 0);
        assert_eq!(parse::<usize>("10").unwrap(), 10);
        assert_eq!(parse::<i16>("-300").unwrap(), -300);
    }

    #[test]
    fn floats_must_be_finite() {
        assert_eq!(parse::<f64>("2.5").unwrap(), 2.5);
        assert_eq!(parse::<f32>("-1e3").unwrap(), -1000.0);
        assert_eq!(err::<f64>("nan"), "`nan` is not a number");
        assert_eq!(err::<f64>("inf"), "`inf` is not a number");
        assert_eq!(err::<f32>("1e39"), "`1e39` is out of range");
        assert_eq!(err::<f64>("abc"), "`abc` is not a number");
    }

    #[test]
    fn bools_accept_common_words_in_any_case() {
        for yes in ["yes", "YES", "y", "true", "On", "1"] {
            assert!(parse::<bool>(yes).unwrap(), "{yes}");
        }
        for no in ["no", "N", "false", "OFF", "0"] {
            assert!(!parse::<bool>(no).unwrap(), "{no}");
        }
        assert_eq!(err::<bool>("maybe"), "`maybe` is not yes or no");
    }

    #[test]
    fn chars_take_exactly_one_character() {
        assert_eq!(parse::<char>("é").unwrap(), 'é');
        assert_eq!(parse::<char>("🎲").unwrap(), '🎲');
        assert_eq!(err::<char>("ab"), "`ab` is not a single character");
    }

    #[test]
    fn strings_take_a_word_or_a_quoted_phrase() {
        assert_eq!(parse::<String>("héllo").unwrap(), "héllo");
        assert_eq!(parse::<String>(r#""two words""#).unwrap(), "two words");
        assert_eq!(
            err::<String>("two words"),
            "unexpected extra argument `words`"
        );
        assert!(parse::<String>("").unwrap_err().is_missing());
    }

    #[test]
    fn parsed_uses_from_str() {
        assert_eq!(parse::<Parsed<u8>>("7").unwrap().into_inner(), 7);
        assert_eq!(
            err::<Parsed<u8>>("x"),
            "`x` is not valid: invalid digit found in string"
        );
    }

    #[test]
    fn option_is_none_when_absent_and_explains_a_refused_word() {
        assert_eq!(parse::<Option<u32>>("").unwrap(), None);
        assert_eq!(parse::<Option<u32>>("6").unwrap(), Some(6));
        assert_eq!(err::<Option<u32>>("six"), "`six` is not a whole number");
        assert_eq!(err::<Option<u8>>("300"), "`300` is too large (at most 255)");
    }

    #[test]
    fn option_leaves_a_refused_word_for_the_next_parameter() {
        let mut args = Args::new("stretch now");
        let when = <Option<Duration>>::from_arg(&mut args).unwrap();
        let text = Rest::from_arg(&mut args).unwrap();
        args.finish().unwrap();
        assert_eq!(when, None);
        assert_eq!(text.as_str(), "stretch now");
    }

    #[test]
    fn option_propagates_an_unclosed_quote() {
        let err = parse::<Option<String>>(r#""open"#).unwrap_err();
        assert_eq!(err.to_string(), r#"unclosed quote in `"open`"#);
    }

    #[test]
    fn vec_collects_until_refused() {
        assert_eq!(parse::<Vec<u32>>("").unwrap(), Vec::<u32>::new());
        assert_eq!(parse::<Vec<u32>>("1 2 3").unwrap(), [1, 2, 3]);
        assert_eq!(err::<Vec<u32>>("1 x 3"), "`x` is not a whole number");
        let mut args = Args::new("1 2 apples");
        let numbers = <Vec<u8>>::from_arg(&mut args).unwrap();
        let fruit = String::from_arg(&mut args).unwrap();
        args.finish().unwrap();
        assert_eq!((numbers, fruit.as_str()), (vec![1, 2], "apples"));
        assert_eq!(<Vec<u8>>::kind(), ArgKind::Variadic);
        assert_eq!(<Option<Vec<u8>>>::kind(), ArgKind::Variadic);
    }

    #[test]
    fn vec_of_options_terminates() {
        assert_eq!(err::<Vec<Option<u8>>>("1 x"), "`x` is not a whole number");
    }

    #[test]
    fn extra_arguments_are_reported() {
        assert_eq!(err::<u8>("1 2"), "unexpected extra argument `2`");
    }
}
