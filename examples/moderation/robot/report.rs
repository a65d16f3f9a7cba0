//! Reports to the mod-log room, batched: at most one message per report window.
//!
//! The first report after a quiet window is posted at once, so a moderator sees a single
//! violation as it happens. Whatever comes within the next window waits and is posted as one
//! summary when the window ends: under a flood of 200 violations in a few seconds the room gets
//! a handful of messages, not 200. What waits is bounded: counts per member and rule, and a few
//! quoted messages, however many violations arrive.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::SystemTime;

use lag_bot::Client;
use tokio::sync::OnceCell;

use super::clock::Clock;

/// Quoted messages kept for one summary.
const QUOTES: usize = 5;
/// Member-and-rule lines kept for one summary; the rest are counted together.
const LINES: usize = 15;
/// Escalations kept for one summary.
const ESCALATIONS: usize = 10;
/// The longest quote, in characters.
const QUOTE_CHARS: usize = 120;

/// One violation, as the mod-log room hears of it.
#[derive(Debug, Clone)]
pub struct Report {
    /// The member's username.
    pub member: String,
    /// The rule broken.
    pub rule: String,
    /// The room's name, or its id when the name is unknown.
    pub room: String,
    /// The message's text.
    pub text: String,
    /// What the robot did, in words ("removed", "could not remove: Lag refused; warned").
    pub outcome: String,
}

/// What waits for the next summary.
#[derive(Debug, Default)]
struct Pending {
    /// Violations since the last summary.
    total: u64,
    /// Per (member, rule): how many.
    lines: BTreeMap<(String, String), u64>,
    /// Violations of member-and-rule pairs past [`LINES`].
    other: u64,
    /// The latest few violations, quoted.
    quotes: Vec<Report>,
    /// Escalation lines, admins mentioned.
    escalations: Vec<String>,
    /// Escalations past [`ESCALATIONS`].
    other_escalations: u64,
    /// When the last summary was posted.
    last_post: Option<SystemTime>,
    /// Whether a task is posting or waiting to post.
    flushing: bool,
}

impl Pending {
    fn is_empty(&self) -> bool {
        self.total == 0 && self.escalations.is_empty() && self.other_escalations == 0
    }
}

/// Batches reports for the mod-log room.
pub struct Reporter {
    room_name: String,
    room_id: OnceCell<String>,
    window: std::time::Duration,
    clock: Arc<dyn Clock>,
    pending: Mutex<Pending>,
}

impl std::fmt::Debug for Reporter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reporter")
            .field("room", &self.room_name)
            .field("window", &self.window)
            .finish_non_exhaustive()
    }
}

impl Reporter {
    /// Reports to room `room_name`, at most one message per `window` of `clock`.
    pub fn new(room_name: String, window: std::time::Duration, clock: Arc<dyn Clock>) -> Self {
        Self {
            room_name,
            room_id: OnceCell::new(),
            window,
            clock,
            pending: Mutex::new(Pending::default()),
        }
    }

    /// The mod-log room's id, asked of Lag once.
    pub async fn room_id(&self, client: &Client) -> lag_bot::Result<&str> {
        let id = self
            .room_id
            .get_or_try_init(|| async {
                client.room_named(&self.room_name).await.map(|room| room.id)
            })
            .await?;
        Ok(id)
    }

    /// Adds a violation to the next summary, and makes sure one will be posted.
    pub fn report(self: &Arc<Self>, client: &Client, report: Report) {
        self.add(client, |pending| {
            pending.total += 1;
            let key = (report.member.clone(), report.rule.clone());
            if pending.lines.len() < LINES || pending.lines.contains_key(&key) {
                *pending.lines.entry(key).or_default() += 1;
            } else {
                pending.other += 1;
            }
            if pending.quotes.len() == QUOTES {
                pending.quotes.remove(0);
            }
            pending.quotes.push(report);
        });
    }

    /// Adds an escalation (a line that already mentions the admins) to the next summary.
    pub fn escalate(self: &Arc<Self>, client: &Client, line: String) {
        self.add(client, |pending| {
            if pending.escalations.len() < ESCALATIONS {
                pending.escalations.push(line);
            } else {
                pending.other_escalations += 1;
            }
        });
    }

    fn add(self: &Arc<Self>, client: &Client, change: impl FnOnce(&mut Pending)) {
        let mut pending = self.lock();
        change(&mut pending);
        if pending.flushing {
            return;
        }
        pending.flushing = true;
        drop(pending);
        let reporter = Arc::clone(self);
        let client = client.clone();
        tokio::spawn(async move { reporter.flush(client).await });
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Posts summaries until nothing waits, each no sooner than a window after the last.
    async fn flush(&self, client: Client) {
        loop {
            let wait = {
                let mut pending = self.lock();
                if pending.is_empty() {
                    pending.flushing = false;
                    return;
                }
                pending.last_post.and_then(|last| {
                    let due = last + self.window;
                    due.duration_since(self.clock.now()).ok()
                })
            };
            if let Some(wait) = wait.filter(|w| !w.is_zero()) {
                self.clock.sleep(wait).await;
            }
            let (text, taken) = {
                let mut pending = self.lock();
                let taken = std::mem::take(&mut *pending);
                pending.flushing = true;
                pending.last_post = Some(self.clock.now());
                (summary(&taken), taken.total)
            };
            if let Err(error) = self.post(&client, &text).await {
                tracing::error!(%error, violations = taken, "could not post a mod-log report");
            }
        }
    }

    async fn post(&self, client: &Client, text: &str) -> lag_bot::Result<()> {
        let room = self.room_id(client).await?;
        client.send_split(room, text).await.map(drop)
    }
}

/// The text of a summary.
fn summary(pending: &Pending) -> String {
    let mut out = String::new();
    if !pending.escalations.is_empty() || pending.other_escalations > 0 {
        for line in &pending.escalations {
            let _ = writeln!(out, "**Escalation:** {line}");
        }
        if pending.other_escalations > 0 {
            let _ = writeln!(
                out,
                "...and {} more escalations.",
                pending.other_escalations
            );
        }
    }
    match pending.total {
        0 => {}
        1 => {
            if let Some(report) = pending.quotes.first() {
                let _ = writeln!(
                    out,
                    "**1 violation:** {} in #{} broke `{}`: {}\n> {}",
                    report.member,
                    report.room,
                    report.rule,
                    report.outcome,
                    quote(&report.text)
                );
            }
        }
        total => {
            let _ = writeln!(out, "**{total} violations** since the last report:");
            for ((member, rule), count) in &pending.lines {
                let _ = writeln!(out, "- {member}: {count} x `{rule}`");
            }
            if pending.other > 0 {
                let _ = writeln!(out, "- and {} more", pending.other);
            }
            let _ = writeln!(out, "Latest:");
            for report in &pending.quotes {
                let _ = writeln!(
                    out,
                    "> {} in #{} (`{}`, {}): {}",
                    report.member,
                    report.room,
                    report.rule,
                    report.outcome,
                    quote(&report.text)
                );
            }
        }
    }
    out.trim_end().to_owned()
}

/// `text` on one line, cut to [`QUOTE_CHARS`].
pub fn quote(text: &str) -> String {
    let line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if line.chars().count() <= QUOTE_CHARS {
        return line;
    }
    let cut: String = line.chars().take(QUOTE_CHARS - 3).collect();
    format!("{cut}...")
}
