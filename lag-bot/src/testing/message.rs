//! [`Message`]: a message the kit saw in a room, with assertions; and the pattern syntax that
//! [`Message::assert_like`] and transcript files share.

use std::fmt;

use lag_sim::WorldEvent;
use regex::Regex;
use serde_json::Value;

use super::witness::Witness;

/// A message seen in a room: a robot's reply returned by [`Kit::reply`](super::Kit::reply),
/// or a member's message returned by [`Member::say`](super::Member::say).
///
/// Its assertions panic with the message and the room's transcript, like the kit's
/// expectations, and return the message so that checks can be chained:
///
/// ```no_run
/// # async fn run(kit: lag_bot::testing::Kit) {
/// let alice = kit.member("alice");
/// let question = alice.say("!roll 6");
/// kit.reply()
///     .await
///     .assert_like("You rolled * (1-6).")
///     .assert_reply_to(&question);
/// # }
/// ```
#[derive(Clone)]
pub struct Message {
    pub(super) id: String,
    pub(super) room_id: String,
    pub(super) room: String,
    pub(super) author: String,
    pub(super) text: String,
    pub(super) reply_to: Option<String>,
    /// The transcript when the message was seen, for failure messages (none for a member's).
    pub(super) context: Option<Witness>,
}

impl Message {
    /// Reads a message out of a `room.message` world event.
    pub(super) fn from_event(event: &WorldEvent, context: Option<Witness>) -> Self {
        let text = |key: &str| {
            event
                .body
                .data
                .get(key)
                .and_then(Value::as_str)
                .map(str::to_owned)
        };
        Self {
            id: text("messageId").unwrap_or_default(),
            room_id: text("roomId").unwrap_or_default(),
            room: event.room_name.clone().unwrap_or_default(),
            author: event
                .actor_name
                .clone()
                .or_else(|| text("senderName"))
                .unwrap_or_default(),
            text: text("content").unwrap_or_default(),
            reply_to: text("replyToId"),
            context,
        }
    }

    /// The message id.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The room's id.
    pub fn room_id(&self) -> &str {
        &self.room_id
    }

    /// The room's name, without `#`.
    pub fn room(&self) -> &str {
        &self.room
    }

    /// Who posted it: a member's username, or the robot's name.
    pub fn author(&self) -> &str {
        &self.author
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The id of the message this one replies to (is threaded under), if any.
    pub fn reply_to(&self) -> Option<&str> {
        self.reply_to.as_deref()
    }

    /// Checks that the text is exactly `expected`.
    #[track_caller]
    pub fn assert_text(&self, expected: &str) -> &Self {
        if self.text != expected {
            self.fail(&format!("expected the text {expected:?}"));
        }
        self
    }

    /// Checks the text against a pattern, where `*` stands for any text (`\*` for a star):
    /// `"You rolled * (1-6)."`. The whole text must match.
    #[track_caller]
    pub fn assert_like(&self, pattern: &str) -> &Self {
        if !Pattern::new(pattern).matches(&self.text) {
            self.fail(&format!("expected text like {pattern:?}"));
        }
        self
    }

    /// Checks that the text contains `part`.
    #[track_caller]
    pub fn assert_contains(&self, part: &str) -> &Self {
        if !self.text.contains(part) {
            self.fail(&format!("expected text containing {part:?}"));
        }
        self
    }

    /// Checks that this message replies to (is threaded under) `message`.
    #[track_caller]
    pub fn assert_reply_to(&self, message: &Message) -> &Self {
        if self.reply_to.as_deref() != Some(message.id.as_str()) {
            self.fail(&format!(
                "expected a reply to {}'s message {:?}",
                message.author, message.text
            ));
        }
        self
    }

    #[track_caller]
    fn fail(&self, expected: &str) -> ! {
        panic!(
            "{expected}, but {} said in #{}: {:?}\n\n{}",
            self.author,
            self.room,
            self.text,
            self.context
                .as_ref()
                .map(Witness::render)
                .unwrap_or_default()
        );
    }
}

impl fmt::Debug for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Message")
            .field("id", &self.id)
            .field("room", &self.room)
            .field("author", &self.author)
            .field("text", &self.text)
            .field("reply_to", &self.reply_to)
            .finish()
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "#{} {}: {}", self.room, self.author, self.text)
    }
}

/// Text with `*` for any run of characters (line breaks included); `\*` and `\\` stand for a
/// star and a backslash.
#[derive(Debug, Clone)]
pub(super) struct Pattern {
    regex: Regex,
}

impl Pattern {
    pub(super) fn new(pattern: &str) -> Self {
        let mut source = String::from("(?s)\\A");
        let mut literal = String::new();
        let mut chars = pattern.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(next @ ('*' | '\\')) => literal.push(next),
                    Some(next) => {
                        literal.push('\\');
                        literal.push(next);
                    }
                    None => literal.push('\\'),
                },
                '*' => {
                    source.push_str(&regex::escape(&literal));
                    literal.clear();
                    source.push_str(".*?");
                }
                other => literal.push(other),
            }
        }
        source.push_str(&regex::escape(&literal));
        source.push_str("\\z");
        let regex = Regex::new(&source).expect("every literal part is escaped");
        Self { regex }
    }

    pub(super) fn matches(&self, text: &str) -> bool {
        self.regex.is_match(text)
    }
}

#[cfg(test)]
mod tests {
    use super::Pattern;

    #[test]
    fn stars_match_any_text_and_the_rest_is_literal() {
        let roll = Pattern::new("You rolled * (1-6).");
        assert!(roll.matches("You rolled 4 (1-6)."));
        assert!(roll.matches("You rolled  (1-6)."));
        assert!(!roll.matches("You rolled 4 (1-6)!"));
        assert!(!roll.matches("Then: You rolled 4 (1-6)."));
        assert!(Pattern::new("*").matches("two\nlines"));
        assert!(Pattern::new("a \\* b").matches("a * b"));
        assert!(!Pattern::new("a \\* b").matches("a x b"));
        assert!(Pattern::new("back\\\\slash").matches("back\\slash"));
        assert!(Pattern::new("[x]+ $1 \\d").matches("[x]+ $1 \\d"));
    }
}
