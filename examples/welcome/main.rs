//! Run with: `cargo run --example welcome` (with no key it runs against a local Lag; type `/join dave`)
//!
//! A welcome robot. It greets every member who joins the server in the `welcome` room (or the
//! room named by `WELCOME_ROOM`) with a text from a templates file: the member's name and
//! mention, the server's name, the rules room and useful links. It says goodbye when one
//! leaves, and answers `!rules` and `!members` in any room.
//!
//! The texts come from `WELCOME_TEMPLATES` (default: `templates.toml` next to this file, which
//! documents the placeholders). Edit the file while the robot runs: it notices within
//! `WELCOME_POLL_MS` (default 2000) and reloads it, or at once on SIGHUP
//! (`kill -HUP <pid>`), without a restart. A file with a mistake (bad TOML, an unknown
//! placeholder) is logged and the robot keeps the texts it had; at start-up it is an error.
//!
//! It is configured like any `lag-bot` robot, from `LAG_ROBOT_API_KEY`, `LAG_API_BASE`,
//! `LAG_TRANSPORT` and, for webhooks, `LAG_WEBHOOK_SECRET` and `LAG_LISTEN`. With no
//! `LAG_ROBOT_API_KEY` set, lag-bot's `dev` feature runs it against a local Lag in this
//! process: type `/join dave` to see the greeting, `/leave dave` for the goodbye. Stop it with
//! Ctrl-C: it finishes the greetings it has started, then exits.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use lag_bot::events::{MemberJoin, MemberLeave};
use lag_bot::{Client, Ctx, Error, ErrorContext, ErrorKind, Robot, RobotBuilder, command, on};
use serde::Deserialize;
use tokio::sync::OnceCell;

/// How the robot is set up.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The room greetings and goodbyes go to (`WELCOME_ROOM`).
    pub room: String,
    /// The templates file (`WELCOME_TEMPLATES`).
    pub templates: PathBuf,
    /// How often the file is checked for changes (`WELCOME_POLL_MS`).
    pub poll: Duration,
}

impl Settings {
    /// Reads the settings from the environment.
    ///
    /// # Errors
    ///
    /// A configuration error naming a malformed variable.
    pub fn from_env() -> lag_bot::Result<Self> {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
        let poll = match var("WELCOME_POLL_MS") {
            None => Duration::from_secs(2),
            Some(ms) => Duration::from_millis(ms.trim().parse().map_err(|_| {
                Error::new(
                    ErrorKind::Config,
                    format!("WELCOME_POLL_MS={ms:?} is not a number of milliseconds"),
                )
            })?),
        };
        Ok(Self {
            room: var("WELCOME_ROOM").unwrap_or_else(|| "welcome".to_owned()),
            templates: var("WELCOME_TEMPLATES").map_or_else(
                || Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/welcome/templates.toml"),
                PathBuf::from,
            ),
            poll,
        })
    }
}

/// A link shown in the greeting.
#[derive(Debug, Clone, Deserialize)]
struct Link {
    title: String,
    url: String,
}

/// The texts, as the templates file has them.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Templates {
    server: String,
    rules_room: String,
    #[serde(default)]
    links: Vec<Link>,
    join: String,
    leave: String,
    rules: String,
    members: String,
}

/// The placeholders each text may use.
const PERSON: &[&str] = &["name", "mention", "server", "rules_room", "links"];
const SERVER: &[&str] = &["server", "rules_room", "links", "members", "list"];

impl Templates {
    /// Parses and checks a templates file's text.
    ///
    /// # Errors
    ///
    /// A configuration error naming the file and what is wrong: bad TOML (with its line), a
    /// missing text, or a placeholder the text cannot use.
    pub fn parse(text: &str, path: &Path) -> lag_bot::Result<Self> {
        let templates: Self = toml::from_str(text).map_err(|error| {
            Error::new(ErrorKind::Config, format!("{}: {error}", path.display()))
        })?;
        for (field, text, allowed) in [
            ("join", &templates.join, PERSON),
            ("leave", &templates.leave, PERSON),
            ("rules", &templates.rules, PERSON),
            ("members", &templates.members, SERVER),
        ] {
            check(text, allowed).map_err(|unknown| {
                Error::new(
                    ErrorKind::Config,
                    format!(
                        "{}: `{field}` uses {{{unknown}}}, which it cannot; it may use {}",
                        path.display(),
                        allowed
                            .iter()
                            .map(|p| format!("{{{p}}}"))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )
            })?;
        }
        Ok(templates)
    }

    /// Reads and checks the templates file at `path`.
    ///
    /// # Errors
    ///
    /// As [`parse`](Self::parse), and when the file cannot be read.
    pub fn load(path: &Path) -> lag_bot::Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::new(
                ErrorKind::Config,
                format!("cannot read the templates {}: {error}", path.display()),
            )
        })?;
        Self::parse(&text, path)
    }

    fn fill(&self, text: &str, values: &[(&str, &str)]) -> String {
        let links = self
            .links
            .iter()
            .map(|link| format!("• {}: {}", link.title, link.url))
            .collect::<Vec<_>>()
            .join("\n");
        let rules_room = format!("#{}", self.rules_room.trim_start_matches('#'));
        let mut out = text.trim().to_owned();
        for (key, value) in [
            ("server", self.server.as_str()),
            ("rules_room", rules_room.as_str()),
            ("links", links.as_str()),
        ]
        .iter()
        .chain(values)
        {
            out = out.replace(&format!("{{{key}}}"), value);
        }
        out
    }

    /// The greeting for `name`.
    pub fn join(&self, name: &str) -> String {
        self.fill(
            &self.join,
            &[("name", name), ("mention", &format!("@{name}"))],
        )
    }

    /// The goodbye for `name`.
    pub fn leave(&self, name: &str) -> String {
        self.fill(
            &self.leave,
            &[("name", name), ("mention", &format!("@{name}"))],
        )
    }

    /// The rules, for `name` who asked.
    pub fn rules(&self, name: &str) -> String {
        self.fill(
            &self.rules,
            &[("name", name), ("mention", &format!("@{name}"))],
        )
    }

    /// The member list.
    pub fn members(&self, names: &[String]) -> String {
        let count = names.len().to_string();
        self.fill(
            &self.members,
            &[("members", &count), ("list", &names.join(", "))],
        )
    }
}

/// The first `{placeholder}` in `text` that is not in `allowed`.
fn check<'a>(text: &'a str, allowed: &[&str]) -> Result<(), &'a str> {
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        rest = &rest[open + 1..];
        let Some(close) = rest.find('}') else { break };
        let name = &rest[..close];
        let is_name =
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
        if is_name && !allowed.contains(&name) {
            return Err(name);
        }
        rest = &rest[close + 1..];
    }
    Ok(())
}

/// What the handlers share.
#[derive(Debug)]
pub struct Welcome {
    settings: Settings,
    templates: RwLock<Arc<Templates>>,
    /// How many times the templates were loaded: 1 after start-up.
    loads: AtomicU64,
    /// How many changed files were refused for a mistake.
    rejects: AtomicU64,
    /// The text last loaded, to tell a change from a touch.
    last_text: RwLock<String>,
    room_id: OnceCell<String>,
}

impl Welcome {
    /// Loads the templates `settings` names.
    ///
    /// # Errors
    ///
    /// As [`Templates::load`].
    pub fn new(settings: Settings) -> lag_bot::Result<Self> {
        let text = std::fs::read_to_string(&settings.templates).map_err(|error| {
            Error::new(
                ErrorKind::Config,
                format!(
                    "cannot read the templates {}: {error}",
                    settings.templates.display()
                ),
            )
        })?;
        let templates = Templates::parse(&text, &settings.templates)?;
        Ok(Self {
            settings,
            templates: RwLock::new(Arc::new(templates)),
            loads: AtomicU64::new(1),
            rejects: AtomicU64::new(0),
            last_text: RwLock::new(text),
            room_id: OnceCell::new(),
        })
    }

    /// The templates in use.
    pub fn templates(&self) -> Arc<Templates> {
        Arc::clone(&self.templates.read().unwrap_or_else(|e| e.into_inner()))
    }

    /// How many times the templates were loaded (1 after start-up).
    pub fn loads(&self) -> u64 {
        self.loads.load(Ordering::Acquire)
    }

    /// How many changed files were refused for a mistake (the texts in use stayed).
    pub fn rejects(&self) -> u64 {
        self.rejects.load(Ordering::Acquire)
    }

    /// Reloads the templates if the file changed (or always, with `force`). A file with a
    /// mistake is logged and the texts in use stay.
    ///
    /// # Errors
    ///
    /// What is wrong with the file; the texts in use are kept.
    pub fn reload(&self, force: bool) -> lag_bot::Result<bool> {
        let path = &self.settings.templates;
        let text = std::fs::read_to_string(path).map_err(|error| {
            Error::new(
                ErrorKind::Config,
                format!("cannot read the templates {}: {error}", path.display()),
            )
        })?;
        if !force && *self.last_text.read().unwrap_or_else(|e| e.into_inner()) == text {
            return Ok(false);
        }
        *self.last_text.write().unwrap_or_else(|e| e.into_inner()) = text.clone();
        let templates = Templates::parse(&text, path).inspect_err(|_| {
            self.rejects.fetch_add(1, Ordering::AcqRel);
        })?;
        *self.templates.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(templates);
        self.loads.fetch_add(1, Ordering::AcqRel);
        tracing::info!(path = %path.display(), "templates reloaded");
        Ok(true)
    }

    /// The id of the room greetings go to, asked of Lag the first time.
    async fn room(&self, client: &Client) -> lag_bot::Result<&str> {
        let id = self
            .room_id
            .get_or_try_init(|| async {
                match client.room_named(&self.settings.room).await {
                    Ok(room) => Ok(room.id),
                    Err(error) if error.kind() == &ErrorKind::NotFound => Err(Error::new(
                        ErrorKind::Config,
                        format!("{}; set WELCOME_ROOM to one of them", error.message()),
                    )),
                    Err(error) => Err(error),
                }
            })
            .await?;
        Ok(id)
    }
}

/// Reloads the templates when the file changes (checked every `settings.poll`) and on
/// SIGHUP, until the robot stops.
async fn watch(welcome: Arc<Welcome>, shutdown: lag_bot::Shutdown) {
    #[cfg(unix)]
    let mut hangup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup()).ok();
    let mut tick = tokio::time::interval(welcome.settings.poll);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        #[cfg(unix)]
        let hup = async {
            match hangup.as_mut() {
                Some(signal) => signal.recv().await,
                None => std::future::pending().await,
            }
        };
        #[cfg(not(unix))]
        let hup = std::future::pending::<Option<()>>();
        let force = tokio::select! {
            () = shutdown.triggered() => return,
            _ = tick.tick() => false,
            _ = hup => true,
        };
        if let Err(error) = welcome.reload(force) {
            tracing::error!(%error, "the templates were not reloaded; the texts in use stay");
        }
    }
}

/// Greets a new member in the welcome room.
#[on(member_join)]
async fn greet(ctx: Ctx<Welcome>, join: MemberJoin) -> lag_bot::Result<()> {
    let welcome = ctx.state();
    let room = welcome.room(ctx.client()).await?;
    ctx.send(room, welcome.templates().join(&join.username))
        .await?;
    Ok(())
}

/// Says goodbye when a member leaves.
#[on(member_leave)]
async fn farewell(ctx: Ctx<Welcome>, leave: MemberLeave) -> lag_bot::Result<()> {
    let welcome = ctx.state();
    let room = welcome.room(ctx.client()).await?;
    ctx.send(room, welcome.templates().leave(&leave.username))
        .await?;
    Ok(())
}

/// Shows the server's rules.
#[command("!rules")]
async fn rules(ctx: Ctx<Welcome>) -> String {
    let name = ctx.message().map_or("", |m| m.sender_name.as_str());
    ctx.state().templates().rules(name)
}

/// Lists the server's members.
#[command("!members")]
async fn members(ctx: Ctx<Welcome>) -> lag_bot::Result<String> {
    let mut names: Vec<String> = ctx
        .client()
        .members()
        .await?
        .into_iter()
        .map(|member| member.username)
        .collect();
    names.sort_unstable_by_key(|name| name.to_lowercase());
    Ok(ctx.state().templates().members(&names))
}

async fn report(error: Error, cx: ErrorContext<Welcome>) {
    tracing::error!(
        handler = cx.handler(),
        event = cx.event_type(),
        panicked = cx.panicked(),
        %error,
        "a handler failed"
    );
}

/// The robot, as `main` and the tests build it: `lag` is pointed at Lag (or the test kit's
/// local Lag), `welcome` is its state. Starts watching the templates file.
///
/// # Errors
///
/// As `RobotBuilder::build_from_env`.
pub fn robot(lag: RobotBuilder, welcome: Arc<Welcome>) -> lag_bot::Result<Robot<Welcome>> {
    let robot = lag.with_state(Arc::clone(&welcome)).build_from_env()?;
    tokio::spawn(watch(welcome, robot.shutdown_handle()));
    Ok(robot
        .on(greet())
        .on(farewell())
        .command(rules())
        .command(members())
        .on_error(report))
}

#[tokio::main]
async fn main() -> lag_bot::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .init();

    let welcome = Arc::new(Welcome::new(Settings::from_env()?)?);
    let robot = robot(Robot::builder(), Arc::clone(&welcome))?;
    // Look the room up now, so that a missing one stops the robot before it starts.
    let room = welcome.room(robot.client()).await?;
    tracing::info!(
        room,
        name = welcome.settings.room,
        templates = %welcome.settings.templates.display(),
        "greeting new members"
    );
    robot.run().await
}
