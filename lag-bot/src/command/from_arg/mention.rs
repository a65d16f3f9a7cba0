//! Mentions as arguments: anyone mentioned, or a [`MemberMention`] of a member.

use std::borrow::Cow;
use std::fmt;

use super::{ArgError, Args, FromArg};
use crate::model::{Mention, MentionKind};

/// A member of the server, named with `@name` in the message and resolved from the message's
/// `mentions` (so the member certainly exists, and no request to Lag is needed).
///
/// ```
/// use lag_bot::command::{Args, FromArg, MemberMention};
/// use lag_bot::model::{Mention, MentionKind};
///
/// let mentions = vec![Mention::new(MentionKind::User, "usr_2", "bob")];
/// let mut args = Args::with_mentions("@Bob spamming", mentions);
/// let who = MemberMention::from_arg(&mut args).unwrap();
/// assert_eq!((who.id.as_str(), who.name.as_str()), ("usr_2", "bob"));
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct MemberMention {
    /// The member's user id.
    pub id: String,
    /// The member's name, as Lag spells it.
    pub name: String,
}

impl FromArg for MemberMention {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        let target = Mention::from_arg(args)?;
        if target.kind != MentionKind::User {
            return Err(ArgError::invalid(
                format!("@{}", target.name),
                "is a robot, not a member",
            ));
        }
        Ok(MemberMention {
            id: target.id,
            name: target.name,
        })
    }

    fn expected() -> Cow<'static, str> {
        "a member, like @alice".into()
    }
}

impl fmt::Display for MemberMention {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "@{}", self.name)
    }
}

/// A mention of a member or a robot, listed in the message's `mentions`.
impl FromArg for Mention {
    fn from_arg(args: &mut Args<'_>) -> Result<Self, ArgError> {
        if let Some(target) = args.mention() {
            return Ok(target);
        }
        match args.next_token()? {
            Some(token) if token.text.starts_with('@') => Err(ArgError::invalid(
                token.raw,
                "does not name anyone on this server",
            )),
            Some(token) => Err(ArgError::invalid(
                token.raw,
                "is not a mention (type @ and pick a name)",
            )),
            None => Err(ArgError::missing()),
        }
    }

    fn expected() -> Cow<'static, str> {
        "a mention, like @alice".into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn with_mentions<T: FromArg>(input: &str) -> Result<T, ArgError> {
        let mentions = vec![
            Mention::new(MentionKind::User, "usr_1", "alice"),
            Mention::new(MentionKind::Robot, "rob_1", "Helper"),
        ];
        let mut args = Args::with_mentions(input, mentions);
        let value = T::from_arg(&mut args)?;
        args.finish()?;
        Ok(value)
    }

    #[test]
    fn member_mentions_resolve_from_the_message() {
        let alice = with_mentions::<MemberMention>("@Alice").unwrap();
        assert_eq!(alice.id, "usr_1");
        assert_eq!(alice.to_string(), "@alice");
        let err = with_mentions::<MemberMention>("@helper").unwrap_err();
        assert_eq!(err.to_string(), "`@Helper` is a robot, not a member");
        let err = with_mentions::<MemberMention>("@carol").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`@carol` does not name anyone on this server"
        );
        let err = with_mentions::<MemberMention>("alice").unwrap_err();
        assert_eq!(
            err.to_string(),
            "`alice` is not a mention (type @ and pick a name)"
        );
        assert!(with_mentions::<MemberMention>("").unwrap_err().is_missing());
        assert_eq!(with_mentions::<Mention>("@helper").unwrap().id, "rob_1");
    }
}
