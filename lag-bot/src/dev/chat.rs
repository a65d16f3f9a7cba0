//! The terminal chat of dev mode: each line typed (or piped) in acts as a member of the demo
//! server, and every message posted in the server is printed as it arrives.
//!
//! Lines are read on a thread of their own: with a line editor (history, line editing) when
//! stdin and stdout are a terminal, plainly otherwise. Printing is a task that follows the local
//! Lag's feed of what happens; on a terminal it prints through the editor, so that a reply
//! arriving while a line is being typed does not break that line.

use std::collections::HashSet;
use std::io::{BufRead, IsTerminal};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use lag_sim::{DeliveryOutcome, Demo, EventFeed, EventType, Sim, WorldEvent};
use rustyline::error::ReadlineError;
use rustyline::{DefaultEditor, ExternalPrinter};
use serde_json::Value;
use tokio::sync::oneshot;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::input::{self, HELP, Input};

/// The longest `/quit` waits for Lag to hand the robot what was sent.
const SETTLE_PATIENCE: Duration = Duration::from_secs(10);

/// A running chat.
pub(super) struct Chat {
    shared: Arc<Shared>,
    transcript: JoinHandle<()>,
    closing: CancellationToken,
    /// Completes when the reading thread has returned.
    reader: oneshot::Receiver<()>,
}

impl std::fmt::Debug for Chat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Chat")
            .field("interactive", &self.shared.interactive)
            .finish_non_exhaustive()
    }
}

/// What the reading thread and the printing task share.
struct Shared {
    sim: Arc<Sim>,
    server: String,
    robot: String,
    interactive: bool,
    /// Messages printed, or posted from this terminal (which shows them already).
    seen: Mutex<HashSet<String>>,
    out: Mutex<Out>,
    /// Set once the robot has stopped: the chat reads no more.
    stopped: AtomicBool,
}

/// Where the chat prints.
enum Out {
    Stdout,
    /// Through the line editor, above the line being typed.
    Editor(Box<dyn ExternalPrinter + Send>),
}

impl Shared {
    fn say(&self, text: &str) {
        let mut out = self.out.lock().unwrap_or_else(PoisonError::into_inner);
        let text = format!("{text}\n");
        match &mut *out {
            Out::Stdout => print!("{text}"),
            Out::Editor(printer) => {
                if printer.print(text.clone()).is_err() {
                    print!("{text}");
                }
            }
        }
    }

    /// Prints a message, an edit or a deletion in the server, unless this terminal shows it
    /// already (a line typed here).
    fn print_event(&self, event: &WorldEvent) {
        let shown = matches!(
            event.kind,
            EventType::RoomMessage | EventType::RoomMessageEdited | EventType::RoomMessageDeleted
        );
        if !shown || event.body.server_id != self.server {
            return;
        }
        // Held while printing, so that a line posted from this terminal is recorded as seen
        // before its event is looked at.
        let seen = self.seen.lock().unwrap_or_else(PoisonError::into_inner);
        let id = event.body.data.get("messageId").and_then(Value::as_str);
        if event.kind == EventType::RoomMessage && id.is_some_and(|id| seen.contains(id)) {
            return;
        }
        self.say(&event.to_string());
    }

    /// Whether Lag has handed the robot every event it holds for it.
    fn settled(&self) -> bool {
        let delivered: HashSet<String> = self
            .sim
            .deliveries(&self.robot)
            .into_iter()
            .filter(|d| !matches!(d.outcome, DeliveryOutcome::Failed))
            .map(|d| d.event_id)
            .collect();
        self.sim
            .events(&self.robot)
            .iter()
            .all(|event| delivered.contains(&event.id))
    }

    fn stopped(&self) -> bool {
        self.stopped.load(Ordering::SeqCst)
    }
}

impl Chat {
    /// Opens the chat as alice in #general; `stop` stops the robot.
    pub(super) fn open(sim: Arc<Sim>, demo: &Demo, stop: CancellationToken) -> Self {
        let interactive = std::io::stdin().is_terminal() && std::io::stdout().is_terminal();
        let mut editor = if interactive {
            DefaultEditor::new().ok()
        } else {
            None
        };
        let out = match editor.as_mut().map(DefaultEditor::create_external_printer) {
            Some(Ok(printer)) => Out::Editor(Box::new(printer)),
            _ => Out::Stdout,
        };
        if editor.is_some() {
            // The editor answers SIGINT itself while it reads and puts back the handler it
            // found: have Tokio's in place first, so that the robot's stays after the chat.
            #[cfg(unix)]
            let _ = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt());
        }
        let shared = Arc::new(Shared {
            sim,
            server: demo.server_id.clone(),
            robot: demo.robot.id.clone(),
            interactive: editor.is_some(),
            seen: Mutex::new(HashSet::new()),
            out: Mutex::new(out),
            stopped: AtomicBool::new(false),
        });
        let closing = CancellationToken::new();
        let feed = shared.sim.subscribe();
        let transcript = tokio::spawn(print_loop(Arc::clone(&shared), feed, closing.clone()));
        let (done, reader) = oneshot::channel();
        let mut session = Session {
            shared: Arc::clone(&shared),
            stop,
            user: (demo.alice.clone(), "alice".to_owned()),
            room: (demo.general.clone(), "general".to_owned()),
        };
        let spawned = std::thread::Builder::new()
            .name("lag-bot dev chat".to_owned())
            .spawn(move || {
                match editor {
                    Some(editor) => session.edit(editor),
                    None => session.read_plain(),
                }
                drop(done);
            });
        if let Err(error) = spawned {
            tracing::error!(%error, "cannot start the chat");
        }
        Self {
            shared,
            transcript,
            closing,
            reader,
        }
    }

    /// Called once the robot has stopped: prints the last messages and, on a terminal, waits
    /// for the line being typed to end, so that the terminal is left as it was found.
    pub(super) async fn close(mut self) {
        self.shared.stopped.store(true, Ordering::SeqCst);
        self.closing.cancel();
        let _ = self.transcript.await;
        let reading = matches!(
            self.reader.try_recv(),
            Err(oneshot::error::TryRecvError::Empty)
        );
        if reading && self.shared.interactive {
            self.shared
                .say("* the robot has stopped; press Enter to leave the chat");
            let _ = self.reader.await;
        }
    }
}

async fn print_loop(shared: Arc<Shared>, mut feed: EventFeed, closing: CancellationToken) {
    loop {
        tokio::select! {
            event = feed.recv() => match event {
                Some(event) => shared.print_event(&event),
                None => return,
            },
            () = closing.cancelled() => {
                while let Some(event) = feed.try_recv() {
                    shared.print_event(&event);
                }
                return;
            }
        }
    }
}

/// The reading side: who speaks, where.
struct Session {
    shared: Arc<Shared>,
    stop: CancellationToken,
    /// The member speaking: user id and username.
    user: (String, String),
    /// The room spoken in: id and name.
    room: (String, String),
}

/// Whether to go on reading.
#[derive(Debug, PartialEq, Eq)]
enum Flow {
    Continue,
    Quit,
}

impl Session {
    /// Reads with the line editor until the person quits or the robot stops.
    fn edit(&mut self, mut editor: DefaultEditor) {
        loop {
            let prompt = format!("{} #{}> ", self.user.1, self.room.1);
            let line = editor.readline(&prompt);
            if self.shared.stopped() {
                return;
            }
            match line {
                Ok(line) => {
                    if !line.trim().is_empty() {
                        let _ = editor.add_history_entry(line.as_str());
                    }
                    if self.handle(&line) == Flow::Quit {
                        return self.quit();
                    }
                }
                Err(ReadlineError::Interrupted) => {
                    self.shared.say("* stopping the robot");
                    self.stop.cancel();
                    return;
                }
                Err(ReadlineError::Eof) => return self.quit(),
                Err(error) => {
                    self.shared.say(&format!(
                        "* the chat stopped: {error}; the robot runs on (Ctrl-C stops it)"
                    ));
                    return;
                }
            }
        }
    }

    /// Reads lines from stdin as they come (piped input). At its end the robot runs on.
    fn read_plain(&mut self) {
        for line in std::io::stdin().lock().lines() {
            let Ok(line) = line else { break };
            if self.shared.stopped() {
                return;
            }
            if self.handle(&line) == Flow::Quit {
                return self.quit();
            }
        }
        if !self.shared.stopped() {
            self.shared
                .say("* end of input: the robot runs on until Ctrl-C (end the input with /quit to stop it)");
        }
    }

    /// Stops the robot gracefully once Lag has handed it what was sent.
    fn quit(&self) {
        let deadline = Instant::now() + SETTLE_PATIENCE;
        while !self.shared.settled() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        // A handed-over event may still be on its way into the robot.
        std::thread::sleep(Duration::from_millis(200));
        self.shared
            .say("* stopping the robot: it finishes what it was handed");
        self.stop.cancel();
    }

    fn handle(&mut self, line: &str) -> Flow {
        let said = match input::parse(line) {
            Err(usage) => Err(usage),
            Ok(Input::Nothing) => Ok(None),
            Ok(Input::Say(text)) => self.post(text),
            Ok(Input::Room(None)) => self.rooms(),
            Ok(Input::Room(Some(name))) => self.switch_room(name),
            Ok(Input::As(None)) => self.members(),
            Ok(Input::As(Some(name))) => self.switch_user(name),
            Ok(Input::Join(name)) => self
                .sim()
                .add_member(&self.shared.server, name)
                .map(|_| Some(format!("* {name} joined the server")))
                .map_err(|e| e.to_string()),
            Ok(Input::Leave(name)) => self.leave(name),
            Ok(Input::Create(name)) => self
                .sim()
                .create_room_as(&self.user.0, &self.shared.server, name)
                .map(|_| Some(format!("* {} created #{name}", self.user.1)))
                .map_err(|e| e.to_string()),
            Ok(Input::Quit) => return Flow::Quit,
            Ok(Input::Help) => Ok(Some(HELP.to_owned())),
        };
        match said {
            Ok(Some(text)) => self.shared.say(&text),
            Ok(None) => {}
            Err(error) => self.shared.say(&format!("* {error}")),
        }
        Flow::Continue
    }

    fn sim(&self) -> &Sim {
        &self.shared.sim
    }

    fn post(&self, text: &str) -> Result<Option<String>, String> {
        // Holding `seen` while posting keeps the printer from showing a line the terminal
        // shows already.
        let mut seen = self
            .shared
            .seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        let message = self
            .sim()
            .post(&self.user.0, &self.room.0, text)
            .map_err(|e| e.to_string())?;
        if self.shared.interactive {
            seen.insert(message.id);
        }
        Ok(None)
    }

    fn rooms(&self) -> Result<Option<String>, String> {
        let rooms = self
            .sim()
            .rooms(&self.shared.server)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = rooms
            .into_iter()
            .filter_map(|room| room.name.map(|name| format!("#{name}")))
            .collect();
        Ok(Some(format!(
            "* you are in #{}; rooms: {}",
            self.room.1,
            names.join(" ")
        )))
    }

    fn switch_room(&mut self, name: &str) -> Result<Option<String>, String> {
        let room = self
            .sim()
            .rooms(&self.shared.server)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|room| room.name.as_deref() == Some(name))
            .ok_or_else(|| format!("no room named #{name} (/room lists them)"))?;
        self.room = (room.id, name.to_owned());
        Ok(Some(format!("* you are in #{name}")))
    }

    fn members(&self) -> Result<Option<String>, String> {
        let members = self
            .sim()
            .members(&self.shared.server)
            .map_err(|e| e.to_string())?;
        let names: Vec<String> = members.into_iter().map(|m| m.username).collect();
        Ok(Some(format!(
            "* you are {}; members: {}",
            self.user.1,
            names.join(" ")
        )))
    }

    fn member(&self, name: &str) -> Result<(String, String), String> {
        self.sim()
            .members(&self.shared.server)
            .map_err(|e| e.to_string())?
            .into_iter()
            .find(|member| member.username.eq_ignore_ascii_case(name))
            .map(|member| (member.user_id, member.username))
            .ok_or_else(|| format!("no member named {name} (/as lists them)"))
    }

    fn switch_user(&mut self, name: &str) -> Result<Option<String>, String> {
        self.user = self.member(name)?;
        Ok(Some(format!("* you are {}", self.user.1)))
    }

    fn leave(&mut self, name: &str) -> Result<Option<String>, String> {
        let (id, name) = self.member(name)?;
        self.sim()
            .remove_member(&self.shared.server, &id)
            .map_err(|e| e.to_string())?;
        if id != self.user.0 {
            return Ok(Some(format!("* {name} left the server")));
        }
        let owner = self
            .sim()
            .members(&self.shared.server)
            .map_err(|e| e.to_string())?
            .into_iter()
            .next()
            .ok_or("the server has no members left")?;
        self.user = (owner.user_id, owner.username);
        Ok(Some(format!(
            "* {name} left the server; you are {}",
            self.user.1
        )))
    }
}
