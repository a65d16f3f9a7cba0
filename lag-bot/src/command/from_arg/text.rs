//! Text arguments beyond one word: [`Quoted`] phrases and the [`Rest`] of the line.

use std::borrow::Cow;
use std::fmt;
use std::ops::Deref;

use super::{ArgError, ArgKind, Args, FromArg};

/// Text that must be written in quotes: `"What should we eat?"`.
///
/// Use it where forgetting the quotes would silently cut a phrase to its first word, e.g. the
/// question of `!poll "Pizza or tacos?" pizza tacos`.
///
/// ```
/// use lag_bot::command::{Args, FromArg, Quoted};
///
/// let mut args = Args::new(r#""Pizza or tacos?" pizza"#);
/// assert_eq!(Quoted::from_arg(&mut args).unwrap().as_str(), "Pizza or tacos?");
/// let err = Quoted::from_arg(&mut Args::new("Pizza or tacos?")).unwrap_err();
/// assert_eq!(err.to_string(), "`Pizza` must be in quotes, like \"two words\"");
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Quoted(pub String);

impl Quoted {
    /// The text, without its quotes.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text, without its quotes.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl FromArg for Quoted {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        match args.next_token()? {
            Some(token) if token.quoted => Ok(Quoted(token.text.into_owned())),
            Some(token) => Err(ArgError::invalid(
                token.raw,
                "must be in quotes, like \"two words\"",
            )),
            None => Err(ArgError::missing()),
        }
    }

    fn expected() -> Cow<'static, str> {
        "text in quotes".into()
    }
}

/// Everything after the previous arguments, exactly as typed (trimmed): the text of `!echo`,
/// the reason of `!ban @bob spamming links`.
///
/// ```
/// use lag_bot::command::{Args, FromArg, Rest};
///
/// let mut args = Args::new(r#"  say "hi" twice  "#);
/// assert_eq!(Rest::from_arg(&mut args).unwrap().as_str(), r#"say "hi" twice"#);
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct Rest(pub String);

impl Rest {
    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The text.
    pub fn into_inner(self) -> String {
        self.0
    }
}

impl FromArg for Rest {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        args.rest()
            .map(|text| Rest(text.to_owned()))
            .ok_or_else(ArgError::missing)
    }

    fn kind() -> ArgKind {
        ArgKind::Rest
    }

    fn expected() -> Cow<'static, str> {
        "some text".into()
    }
}

macro_rules! text_wrapper_traits {
    ($($t:ident),*) => {$(
        impl Deref for $t {
            type Target = str;

            fn deref(&self) -> &str {
                &self.0
            }
        }

        impl AsRef<str> for $t {
            fn as_ref(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<$t> for String {
            fn from(value: $t) -> String {
                value.0
            }
        }
    )*};
}

text_wrapper_traits!(Quoted, Rest);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::from_arg::tests::{err, parse};

    #[test]
    fn quoted_requires_quotes() {
        assert_eq!(
            parse::<Quoted>("“smart quotes”").unwrap().as_str(),
            "smart quotes"
        );
        assert_eq!(
            err::<Quoted>("bare"),
            "`bare` must be in quotes, like \"two words\""
        );
        assert!(parse::<Quoted>(" ").unwrap_err().is_missing());
    }

    #[test]
    fn rest_takes_everything_and_must_not_be_empty() {
        assert_eq!(
            parse::<Rest>(" a  b \"c\" ").unwrap().as_str(),
            "a  b \"c\""
        );
        assert!(parse::<Rest>("  ").unwrap_err().is_missing());
        assert_eq!(Rest::kind(), ArgKind::Rest);
        assert_eq!(<Option<Rest>>::kind(), ArgKind::OptionalRest);
        assert_eq!(parse::<Option<Rest>>("").unwrap(), None);
    }
}
