//! The robot's handler table: which of its listeners, commands and pattern listeners an event
//! starts.

use crate::Result;
use crate::command::lookup::{Action, CommandIndex, Me};
use std::sync::Arc;

use crate::command::{Command, CommandOptions, CooldownStore, Hear};
use crate::ctx::Ctx;
use crate::events::{Event, RoomMessage};
use crate::listener::Listener;
use crate::reply::Run;

/// Every handler of a robot, ready to match events; built once when the robot starts.
pub(crate) struct Handlers<S> {
    listeners: Vec<Listener<S>>,
    commands: Option<CommandIndex<S>>,
    options: CommandOptions,
}

impl<S: Send + Sync + 'static> Handlers<S> {
    /// Indexes the commands and pattern listeners (see [`CommandIndex::new`] for the errors).
    pub(crate) fn new(
        listeners: Vec<Listener<S>>,
        commands: Vec<Command<S>>,
        hears: Vec<Hear<S>>,
        options: CommandOptions,
        cooldowns: Arc<dyn CooldownStore>,
    ) -> Result<Self> {
        let commands = if commands.is_empty() && hears.is_empty() {
            options.validate()?;
            None
        } else {
            Some(CommandIndex::new(
                commands,
                hears,
                options.clone(),
                cooldowns,
            )?)
        };
        Ok(Self {
            listeners,
            commands,
            options,
        })
    }

    /// What `event` asks of the handlers, decided from the event alone: `None` when no
    /// listener takes its type and (a `room.message`) no command or pattern listener matches
    /// it. Commands see `room.message` only, so a mention (which Lag also sends as
    /// `robot.mentioned`) runs a command once.
    pub(crate) fn plan(&self, me: Me<'_>, event: &Event) -> Option<Vec<Action>> {
        let listeners = self.listeners.iter().any(|listener| listener.wants(event));
        let actions = match (&self.commands, event) {
            (Some(commands), Event::RoomMessage(msg)) => commands.decide(me, msg),
            _ => Vec::new(),
        };
        (listeners || !actions.is_empty()).then_some(actions)
    }

    /// Starts every handler the event in `ctx` asks for: the listeners of its type in
    /// registration order, then the command and pattern listener `actions` that
    /// [`plan`](Self::plan) found in it.
    pub(crate) fn runs(&self, ctx: &Ctx<S>, actions: Vec<Action>) -> Vec<Run> {
        let event = ctx.event();
        let mut runs: Vec<Run> = self
            .listeners
            .iter()
            .filter(|listener| listener.wants(event))
            .filter_map(|listener| listener.start(ctx.clone()))
            .collect();
        if let (Some(commands), Event::RoomMessage(msg)) = (&self.commands, event) {
            runs.extend(commands.start_all(ctx, msg, actions));
        }
        runs
    }

    /// The robot's command options (conversation settings and texts included).
    pub(crate) fn options(&self) -> &CommandOptions {
        &self.options
    }

    /// Whether `msg` is the cancel word.
    pub(crate) fn is_cancel(&self, content: &str) -> bool {
        crate::command::conversation::is_cancel_word(
            content,
            self.options.cancel_word_text(),
            self.options.is_case_insensitive(),
        )
    }

    /// Whether `msg` invokes one of the robot's commands explicitly.
    pub(crate) fn invokes_command(&self, me: Me<'_>, msg: &RoomMessage) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|c| c.invokes_command(me, msg))
    }

    /// Whether `handler` names runs of a command.
    pub(crate) fn is_command_run(&self, handler: &str) -> bool {
        self.commands
            .as_ref()
            .is_some_and(|c| c.is_command_run(handler))
    }

    /// How many handlers of each kind there are: listeners, commands (the built-in help
    /// included), pattern listeners.
    pub(crate) fn counts(&self) -> (usize, usize, usize) {
        let (commands, hears) = self
            .commands
            .as_ref()
            .map_or((0, 0), |c| (c.command_count(), c.hear_count()));
        (self.listeners.len(), commands, hears)
    }
}
