//! Transcript files: a conversation written down, replayed against a robot and checked.

use std::fmt::Write as _;
use std::path::Path;
use std::time::Duration;

use similar::{ChangeTag, TextDiff};

use super::Kit;
use super::message::Pattern;
use crate::{Error, Result};

/// A conversation to replay against a robot: members' lines are acted, the robot's lines are
/// expected, in order.
///
/// ```text
/// // A comment. Blank lines are ignored too.
/// alice: !roll 6
/// Helper: You rolled * (1-6).
/// #welcome
/// bob: hello
///     a second line of bob's message
/// * dave joins
/// Helper: Welcome, dave!
/// ... 10m later
/// alice: !daily
/// Helper: Here is your daily *
/// ```
///
/// - `name: text` is a message. When `name` is the robot's name (`Helper` for the kit's
///   robot) it is a message the robot must post, where `*` stands for any text (`\*` for a
///   star); otherwise member `name` posts `text`. Lines indented by four spaces continue the
///   message above.
/// - `#room` alone on a line: the lines below happen in that room (`#general` at first).
/// - `* name joins` and `* name leaves`: a member joins or leaves the server.
/// - `... 10m later` (or `... 90s`, `... 2h`, `... 1h30m`): simulated time passes.
///
/// Before each member's action, and at the end, the kit waits until the robot has handled
/// everything, and compares the messages the robot posted since (in any room) with the robot
/// lines written there. A robot message in another room than the current one is written under
/// its `#room` line. Any difference, a missing or an extra message, fails the transcript with
/// a diff:
///
/// ```text
///   #general alice: !roll 6
/// - #general Helper: You rolled * (1-6).
/// + #general Helper: You rolled 7 (1-6).
/// ```
#[derive(Debug, Clone)]
pub struct Transcript {
    steps: Vec<Step>,
}

#[derive(Debug, Clone)]
enum Step {
    Say {
        room: String,
        name: String,
        text: String,
    },
    Expect {
        room: String,
        name: String,
        text: String,
    },
    Join(String),
    Leave(String),
    Wait {
        by: Duration,
        written: String,
    },
}

impl Transcript {
    /// Reads a transcript from a file.
    ///
    /// # Errors
    ///
    /// When the file cannot be read, or as [`parse`](Self::parse), naming the file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path).map_err(|err| {
            Error::config(format!("cannot read transcript {}: {err}", path.display()))
        })?;
        Self::parse(&text).map_err(|err| Error::config(format!("{}: {err}", path.display())))
    }

    /// Parses a transcript. The robot's lines are told apart from members' when it is checked,
    /// by the robot's name.
    ///
    /// ```
    /// use lag_bot::testing::Transcript;
    /// assert!(Transcript::parse("alice: !ping\nHelper: pong\n").is_ok());
    /// let err = Transcript::parse("alice !ping").unwrap_err();
    /// assert!(err.to_string().contains("line 1"));
    /// ```
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`](crate::ErrorKind::Config) naming the first line that is none of
    /// the forms above.
    pub fn parse(text: &str) -> Result<Self> {
        let mut steps: Vec<Step> = Vec::new();
        let mut room = "general".to_owned();
        for (number, line) in text.lines().enumerate() {
            let number = number + 1;
            let bad =
                |why: &str| Error::config(format!("transcript line {number}: {why}: {line:?}"));
            if let Some(more) = line.strip_prefix("    ") {
                match steps.last_mut() {
                    Some(Step::Say { text, .. } | Step::Expect { text, .. }) => {
                        text.push('\n');
                        text.push_str(more);
                        continue;
                    }
                    _ => {
                        return Err(bad(
                            "an indented line continues a message, and none is above",
                        ));
                    }
                }
            }
            let line = line.trim();
            if line.is_empty() || line.starts_with("//") {
                continue;
            }
            if let Some(name) = line.strip_prefix('#') {
                if name.is_empty() || name.contains(char::is_whitespace) {
                    return Err(bad("a room line is `#name` alone"));
                }
                name.clone_into(&mut room);
                continue;
            }
            if let Some(rest) = line.strip_prefix("* ") {
                let step = match rest.split_whitespace().collect::<Vec<_>>()[..] {
                    [name, "joins"] => Step::Join(name.to_owned()),
                    [name, "leaves"] => Step::Leave(name.to_owned()),
                    _ => return Err(bad("expected `* name joins` or `* name leaves`")),
                };
                steps.push(step);
                continue;
            }
            if let Some(rest) = line.strip_prefix("...") {
                let amount = rest.trim().trim_end_matches("later").trim();
                let by = parse_duration(amount)
                    .ok_or_else(|| bad("expected a time like `... 10m later` (s, m, h)"))?;
                steps.push(Step::Wait {
                    by,
                    written: line.to_owned(),
                });
                continue;
            }
            let Some((name, text)) = line
                .split_once(": ")
                .or_else(|| line.strip_suffix(':').map(|name| (name, "")))
            else {
                return Err(bad("expected `name: text`"));
            };
            if name.is_empty() || name.contains(char::is_whitespace) {
                return Err(bad("a name is one word"));
            }
            steps.push(Step::Say {
                room: room.clone(),
                name: name.to_owned(),
                text: text.to_owned(),
            });
        }
        Ok(Self { steps })
    }

    /// Replays the transcript against the kit's robot.
    ///
    /// # Panics
    ///
    /// When the robot's messages differ from the transcript: the message has a diff.
    pub async fn check(&self, kit: &Kit) {
        let mut run = Run {
            expected: Vec::new(),
            actual: Vec::new(),
            pending: Vec::new(),
            same: true,
        };
        for step in self
            .steps
            .iter()
            .map(|step| step.for_robot(&kit.robot_name))
        {
            if !matches!(step, Step::Expect { .. }) {
                run.compare(kit).await;
            }
            match step {
                Step::Say { room, name, text } => {
                    kit.member(&name).in_room(&room).say(&text);
                    run.both(format!("#{room} {name}: {text}"));
                }
                Step::Expect { .. } => run.pending.push(step),
                Step::Join(name) => {
                    kit.join(&name);
                    run.both(format!("* {name} joins"));
                }
                Step::Leave(name) => {
                    kit.member(&name).leave();
                    run.both(format!("* {name} leaves"));
                }
                Step::Wait { by, written } => {
                    kit.advance(by).await;
                    run.both(written);
                }
            }
        }
        run.compare(kit).await;
        if !run.same {
            panic!(
                "the robot's messages differ from the transcript (- expected, + actual):\n\n{}\n{}",
                diff(&run.expected, &run.actual),
                kit.report("")
            );
        }
    }
}

impl Step {
    /// A message line by the robot becomes an expectation.
    fn for_robot(&self, robot: &str) -> Step {
        match self {
            Step::Say { room, name, text } if name == robot => Step::Expect {
                room: room.clone(),
                name: name.clone(),
                text: text.clone(),
            },
            other => other.clone(),
        }
    }
}

/// A transcript being replayed: both sides written out, line by line.
struct Run {
    expected: Vec<String>,
    actual: Vec<String>,
    /// The robot lines written since the last member action.
    pending: Vec<Step>,
    same: bool,
}

impl Run {
    fn both(&mut self, line: String) {
        self.expected.push(line.clone());
        self.actual.push(line);
    }

    /// Waits for the robot to finish, then matches what it posted against the pending lines.
    async fn compare(&mut self, kit: &Kit) {
        kit.settle().await;
        let posted = kit.take_all_replies();
        let pending = std::mem::take(&mut self.pending);
        for at in 0..pending.len().max(posted.len()) {
            let expected = pending.get(at).and_then(|step| match step {
                Step::Expect { room, name, text } => Some((room, name, text)),
                _ => None,
            });
            let actual = posted.get(at);
            match (expected, actual) {
                (Some((room, name, text)), Some(message))
                    if *room == message.room && Pattern::new(text).matches(&message.text) =>
                {
                    self.both(format!("#{room} {name}: {}", message.text));
                }
                (expected, actual) => {
                    self.same = false;
                    if let Some((room, name, text)) = expected {
                        self.expected.push(format!("#{room} {name}: {text}"));
                    }
                    if let Some(message) = actual {
                        self.actual.push(message.to_string());
                    }
                }
            }
        }
    }
}

/// The lines of `expected` and `actual`, unchanged ones indented, others marked `-` and `+`.
fn diff(expected: &[String], actual: &[String]) -> String {
    let (expected, actual) = (expected.join("\n") + "\n", actual.join("\n") + "\n");
    let diff = TextDiff::from_lines(&expected, &actual);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let sign = match change.tag() {
            ChangeTag::Equal => ' ',
            ChangeTag::Delete => '-',
            ChangeTag::Insert => '+',
        };
        let _ = write!(out, "{sign} {}", change.value());
        if change.missing_newline() {
            out.push('\n');
        }
    }
    out
}

/// `90s`, `10m`, `2h`, `1h30m`, `1h 30m`: as a command's duration argument.
fn parse_duration(text: &str) -> Option<Duration> {
    let compact: String = text.split_whitespace().collect();
    crate::command::parse_duration(&compact).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(parse_duration("90s"), Some(Duration::from_secs(90)));
        assert_eq!(parse_duration("1h 30m"), Some(Duration::from_secs(5_400)));
        assert_eq!(parse_duration("10"), None);
        assert_eq!(parse_duration("10 parsecs"), None);
        assert_eq!(parse_duration(""), None);
        assert_eq!(parse_duration("2d"), Some(Duration::from_secs(172_800)));
    }

    #[test]
    fn parses_every_form_and_names_bad_lines() {
        let transcript = Transcript::parse(
            "// comment\n\nalice: !roll 6\nHelper: You rolled *\n#welcome\nbob: two\n    lines\n\
             * dave joins\n* dave leaves\n... 10m later\ncarol:\n",
        )
        .unwrap();
        assert_eq!(transcript.steps.len(), 7);
        assert!(matches!(
            &transcript.steps[2],
            Step::Say { room, text, .. } if room == "welcome" && text == "two\nlines"
        ));
        assert!(matches!(
            &transcript.steps[5],
            Step::Wait { by, .. } if *by == Duration::from_secs(600)
        ));
        for bad in [
            "alice !ping",
            "    orphan",
            "* dave dances",
            "... soon",
            "# spaced room",
        ] {
            let err = Transcript::parse(bad).unwrap_err().to_string();
            assert!(err.contains("line 1"), "{bad}: {err}");
        }
    }
}
