//! Why a command's arguments were refused.

use std::borrow::Cow;
use std::fmt;

/// Why an argument was refused: missing, malformed, out of range, or one too many.
///
/// The robot answers a refused command with this message and the command's usage line; the
/// handler never runs. [`FromArg`](super::FromArg) implementations create one with
/// [`ArgError::invalid`] (or [`ArgError::missing`]); the parameter name and what was expected
/// are filled in by the command.
///
/// ```
/// use lag_bot::command::ArgError;
///
/// let err = ArgError::invalid("purple", "is not a colour (red, green or blue)").with_param("colour");
/// assert_eq!(err.to_string(), "colour: `purple` is not a colour (red, green or blue)");
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArgError {
    kind: ArgErrorKind,
    param: Option<String>,
}

/// The kinds of [`ArgError`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ArgErrorKind {
    /// The argument was not given.
    Missing {
        /// What the argument should have been, e.g. "a whole number".
        expected: Option<Cow<'static, str>>,
    },
    /// The argument was given but is not acceptable.
    Invalid {
        /// The argument as typed.
        value: String,
        /// What is wrong with it, phrased to follow the value ("is not a whole number").
        reason: String,
    },
    /// A quoted argument was never closed.
    UnclosedQuote {
        /// The text from the opening quote on.
        text: String,
    },
    /// More arguments were given than the command takes.
    Extra {
        /// The first argument too many.
        value: String,
    },
}

impl ArgError {
    /// The argument was not given.
    pub fn missing() -> Self {
        Self::from_kind(ArgErrorKind::Missing { expected: None })
    }

    /// `value` was given but is not acceptable; `reason` follows the value in the message, e.g.
    /// `"is not a whole number"`.
    pub fn invalid(value: impl Into<String>, reason: impl Into<String>) -> Self {
        Self::from_kind(ArgErrorKind::Invalid {
            value: value.into(),
            reason: reason.into(),
        })
    }

    /// More arguments were given than the command takes; `value` is the first one too many.
    pub fn extra(value: impl Into<String>) -> Self {
        Self::from_kind(ArgErrorKind::Extra {
            value: value.into(),
        })
    }

    pub(crate) fn unclosed_quote(text: &str) -> Self {
        Self::from_kind(ArgErrorKind::UnclosedQuote {
            text: text.trim_end().to_owned(),
        })
    }

    fn from_kind(kind: ArgErrorKind) -> Self {
        Self { kind, param: None }
    }

    /// Names the parameter the error is about.
    pub fn with_param(mut self, param: impl Into<String>) -> Self {
        self.param = Some(param.into());
        self
    }

    /// Says what a missing argument should have been.
    pub fn with_expected(mut self, what: impl Into<Cow<'static, str>>) -> Self {
        if let ArgErrorKind::Missing { expected } = &mut self.kind {
            *expected = Some(what.into());
        }
        self
    }

    /// What went wrong.
    pub fn kind(&self) -> &ArgErrorKind {
        &self.kind
    }

    /// The parameter the error is about, when known.
    pub fn param(&self) -> Option<&str> {
        self.param.as_deref()
    }

    /// Whether the argument was simply not given.
    pub fn is_missing(&self) -> bool {
        matches!(self.kind, ArgErrorKind::Missing { .. })
    }

    pub(crate) fn set_param(&mut self, param: &str) {
        self.param = Some(param.to_owned());
    }

    /// Errors no backtracking can fix: the input cannot even be split into arguments.
    pub(crate) fn is_fatal(&self) -> bool {
        matches!(self.kind, ArgErrorKind::UnclosedQuote { .. })
    }
}

impl fmt::Display for ArgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (&self.kind, &self.param) {
            (ArgErrorKind::Missing { expected }, param) => {
                f.write_str("missing ")?;
                match param {
                    Some(param) => write!(f, "argument `{param}`")?,
                    None => f.write_str("an argument")?,
                }
                if let Some(expected) = expected {
                    write!(f, " ({expected})")?;
                }
                Ok(())
            }
            (ArgErrorKind::Invalid { value, reason }, Some(param)) => {
                write!(f, "{param}: `{value}` {reason}")
            }
            (ArgErrorKind::Invalid { value, reason }, None) => write!(f, "`{value}` {reason}"),
            (ArgErrorKind::UnclosedQuote { text }, _) => write!(f, "unclosed quote in `{text}`"),
            (ArgErrorKind::Extra { value }, _) => write!(f, "unexpected extra argument `{value}`"),
        }
    }
}

impl std::error::Error for ArgError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_parameter_and_the_problem() {
        let missing = ArgError::missing()
            .with_param("sides")
            .with_expected("a whole number");
        assert_eq!(
            missing.to_string(),
            "missing argument `sides` (a whole number)"
        );
        assert_eq!(ArgError::missing().to_string(), "missing an argument");
        let invalid = ArgError::invalid("abc", "is not a whole number");
        assert_eq!(invalid.to_string(), "`abc` is not a whole number");
        assert_eq!(
            ArgError::extra("x").with_param("ignored").to_string(),
            "unexpected extra argument `x`"
        );
    }

    #[test]
    fn expected_only_applies_to_missing() {
        let err = ArgError::invalid("a", "is bad").with_expected("a number");
        assert_eq!(err.to_string(), "`a` is bad");
        assert!(!err.is_missing());
    }
}
