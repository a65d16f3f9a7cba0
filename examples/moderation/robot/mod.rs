//! The moderation robot, as `main` and the tests build it.
//!
//! - [`rules`]: the rules file and its checks; [`words`]: disguise-resistant word matching.
//! - [`detect`]: which rule a message breaks, remembering what flooding and repeats need.
//! - [`actions`]: what the robot does about it; [`report`]: the mod-log summaries.
//! - [`store`]: strikes and the audit log, in SQLite or PostgreSQL, and [`schema`], their
//!   tables; [`clock`]: the time all of them read.
//! - [`commands`]: the moderators' `!mod` commands.
//!
//! [`robot`] puts them together: a listener for new messages, one for edits, and the `!mod` group.

pub mod actions;
pub mod clock;
pub mod commands;
pub mod detect;
pub mod report;
pub mod rules;
pub mod schema;
pub mod store;
pub mod words;

use std::collections::HashMap;
use std::sync::Arc;

use lag_bot::events::{RoomMessage, RoomMessageEdited};
use lag_bot::{Ctx, Robot, RobotBuilder, on};
use tokio::sync::OnceCell;

use actions::{Deletion, Roster, Warnings};
use clock::Clock;
use detect::{Detector, Incoming};
use report::Reporter;
use rules::RuleSet;
use store::{Database, Store, StoreError};

/// What the robot is started with.
pub struct Setup {
    /// The rules.
    pub rules: RuleSet,
    /// Where strikes and the audit log are kept.
    pub database: Database,
    /// The clock the robot reads.
    pub clock: Arc<dyn Clock>,
}

/// The robot's state, shared by its handlers.
pub struct Moderation {
    /// The rules in force.
    pub rules: RuleSet,
    /// Strikes and the audit log.
    pub store: Store,
    /// The clock every time the robot keeps is read from.
    pub clock: Arc<dyn Clock>,
    /// The mod-log summaries.
    pub reporter: Arc<Reporter>,
    /// What flooding and repeats remember.
    detector: Detector,
    /// The member list, cached.
    roster: Roster,
    /// When each member was last warned.
    warnings: Warnings,
    /// Whether Lag refused a deletion a moment ago.
    deletion: Deletion,
    /// Room names by id, asked of Lag once.
    rooms: OnceCell<HashMap<String, String>>,
}

impl std::fmt::Debug for Moderation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Moderation")
            .field("rules", &self.rules.rules.len())
            .field("database", self.store.database())
            .finish_non_exhaustive()
    }
}

impl Moderation {
    /// Opens the database and gets the state ready.
    ///
    /// # Errors
    ///
    /// When the database cannot be reached, opened, created or migrated.
    pub async fn new(setup: Setup) -> Result<Arc<Self>, StoreError> {
        let store = Store::open(&setup.database).await?;
        let reporter = Arc::new(Reporter::new(
            setup.rules.settings.mod_log.clone(),
            setup.rules.settings.report_window,
            Arc::clone(&setup.clock),
        ));
        Ok(Arc::new(Self {
            rules: setup.rules,
            store,
            clock: setup.clock,
            reporter,
            detector: Detector::default(),
            roster: Roster::default(),
            warnings: Warnings::default(),
            deletion: Deletion::default(),
            rooms: OnceCell::new(),
        }))
    }

    /// The name of room `room_id`, or the id when Lag does not say.
    async fn room_name(&self, client: &lag_bot::Client, room_id: &str) -> String {
        let names = self
            .rooms
            .get_or_try_init(|| async {
                let rooms = client.rooms().await?;
                Ok::<_, lag_bot::Error>(
                    rooms
                        .into_iter()
                        .filter_map(|room| Some((room.id, room.name?)))
                        .collect(),
                )
            })
            .await;
        names
            .ok()
            .and_then(|names| names.get(room_id).cloned())
            .unwrap_or_else(|| room_id.to_owned())
    }

    /// Checks `message` and acts on the rule it breaks, if any.
    async fn moderate(&self, client: &lag_bot::Client, message: Incoming) -> lag_bot::Result<()> {
        if actions::exempt(self, client, &message.member_id).await? {
            return Ok(());
        }
        if let Some(violation) = self.detector.check(&self.rules, &message) {
            actions::enforce(self, client, &message, &violation).await?;
        }
        Ok(())
    }
}

/// The robot: `lag` is `Robot::builder()` in `main`, or the test kit's builder in the tests.
///
/// # Errors
///
/// As [`RobotBuilder::build_from_env`].
pub fn robot(lag: RobotBuilder, moderation: Arc<Moderation>) -> lag_bot::Result<Robot<Moderation>> {
    Ok(lag
        .with_state(moderation)
        .build_from_env()?
        .on(new_message())
        .on(edited_message())
        .command(commands::group()))
}

/// Checks every new message.
#[on(room_message)]
async fn new_message(ctx: Ctx<Moderation>, message: RoomMessage) -> lag_bot::Result<()> {
    let (Some(message_id), Some(member_id)) = (message.message_id, message.sender_id) else {
        return Ok(());
    };
    let state = ctx.state();
    let incoming = Incoming {
        room_id: message.room_id,
        message_id,
        member_id,
        member_name: message.sender_name,
        text: message.content,
        mentions: message.mentions.len(),
        edited: false,
        at: state.clock.now(),
    };
    state.moderate(ctx.client(), incoming).await
}

/// Checks the new text of every edited message.
#[on(room_message_edited)]
async fn edited_message(ctx: Ctx<Moderation>, edit: RoomMessageEdited) -> lag_bot::Result<()> {
    let Some(member_id) = edit.edited_by else {
        return Ok(());
    };
    let state = ctx.state();
    let now = state.clock.now();
    let members = state.roster.members(ctx.client(), now).await?;
    let member_name = members
        .iter()
        .find(|m| m.user_id == member_id)
        .map_or_else(|| member_id.clone(), |m| m.username.clone());
    // The edit event carries the text only; count the distinct @names in it.
    let mut named: Vec<&str> = edit
        .content
        .split_whitespace()
        .filter_map(|word| word.strip_prefix('@'))
        .map(|name| name.trim_end_matches(|c: char| !c.is_alphanumeric() && c != '_'))
        .filter(|name| !name.is_empty())
        .collect();
    named.sort_unstable();
    named.dedup();
    let incoming = Incoming {
        room_id: edit.room_id,
        message_id: edit.message_id,
        member_id,
        member_name,
        mentions: named.len(),
        text: edit.content,
        edited: true,
        at: now,
    };
    state.moderate(ctx.client(), incoming).await
}
