//! Shared by the examples: the robot's connection from the `LAG_*` environment, or, when no
//! `LAG_ROBOT_API_KEY` is set, against a local Lag started in this process.
//!
//! The local Lag is `lag-sim` with its demo world (server "Demo Server", rooms `general`,
//! `welcome` and `mod-log`, members alice, bob and carol, robot "Helper"). It listens on
//! 127.0.0.1:8090 (another free port when that one is taken), so its `/_sim` admin API answers
//! curl too. What you type is posted to the room as the current member; every message posted
//! in the server is printed as it arrives. Lines starting with `/` steer the chat: see `/help`.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::Duration;

use lag_bot::transport::SseConfig;
use lag_bot::{Client, Error, ErrorKind, Robot, RobotBuilder};
use lag_sim::{Demo, RobotSpec, Sim, SimConfig, Transport};
use tokio::io::{AsyncBufReadExt, BufReader};

const CHAT_HELP: &str = "\
  type a message to post it in the current room as the current member
  /room NAME    switch room (general, welcome, mod-log, or any room you create)
  /as NAME      speak as another member (alice, bob, carol, or any member who joined)
  /join NAME    a new member joins the server (member.join)
  /leave NAME   a member leaves the server (member.leave)
  /create NAME  the current member creates a room (room.created)
  /help         this list";

/// Where an example's robot connects: Lag as the `LAG_*` environment says when
/// `LAG_ROBOT_API_KEY` is set, otherwise the demo robot of a local Lag started here, with a
/// chat on this terminal.
pub struct Connection {
    client: Client,
    /// The local Lag's transport; `None` when the environment decides.
    transport: Option<SseConfig>,
}

impl Connection {
    /// The REST client of the robot-to-be, for what its state needs to know first.
    #[allow(dead_code, reason = "not every example has state to prepare")]
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Builds the robot `builder` describes (its state, if any) on this connection.
    pub fn robot<S: Send + Sync + 'static>(
        self,
        builder: RobotBuilder<S>,
    ) -> lag_bot::Result<Robot<S>> {
        let builder = builder.client(self.client);
        match self.transport {
            Some(transport) => builder.transport(transport).build(),
            None => builder.build_from_env(),
        }
    }
}

/// Connects to Lag, or starts a local one.
pub async fn connect() -> lag_bot::Result<Connection> {
    if let Ok(key) = std::env::var("LAG_ROBOT_API_KEY") {
        let mut client = Client::builder(key);
        if let Ok(base) = std::env::var("LAG_API_BASE") {
            client = client.base_url(base);
        }
        return Ok(Connection {
            client: client.build()?,
            transport: None,
        });
    }
    let sim = start_sim().await?;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::Sse))
        .map_err(sim_error)?;
    let client = Client::builder(demo.robot.key.clone())
        .base_url(sim.base_url())
        .build()?;
    println!(
        "A local Lag is running at {url} (no LAG_ROBOT_API_KEY set).\n\
         Robot \"{name}\" of \"Demo Server\" receives its events over SSE.\n\
         You are alice in #general; try !help. Chat commands: /help. Stop with Ctrl-C.\n",
        url = sim.base_url(),
        name = demo.robot.name,
    );
    tokio::spawn(chat(sim, demo));
    Ok(Connection {
        client,
        transport: Some(SseConfig::new()),
    })
}

async fn start_sim() -> lag_bot::Result<Sim> {
    let preferred = SimConfig {
        bind: SocketAddr::from(([127, 0, 0, 1], 8090)),
        ..SimConfig::default()
    };
    match Sim::start(preferred).await {
        Ok(sim) => Ok(sim),
        Err(_) => Sim::start(SimConfig::default()).await.map_err(sim_error),
    }
}

fn sim_error(error: lag_sim::Error) -> Error {
    Error::new(ErrorKind::Config, format!("local Lag: {error}"))
}

/// Who is speaking where, and which messages were printed already.
struct Chat {
    sim: Sim,
    demo: Demo,
    /// The member speaking (user id).
    user: String,
    /// The room spoken in (room id).
    room: String,
    seen: HashSet<String>,
}

async fn chat(sim: Sim, demo: Demo) {
    let mut chat = Chat {
        user: demo.alice.clone(),
        room: demo.general.clone(),
        seen: HashSet::new(),
        sim,
        demo,
    };
    let mut lines = BufReader::new(tokio::io::stdin()).lines();
    let mut stdin_open = true;
    let mut tick = tokio::time::interval(Duration::from_millis(100));
    loop {
        tokio::select! {
            line = lines.next_line(), if stdin_open => match line {
                Ok(Some(line)) => chat.input(line.trim()),
                Ok(None) | Err(_) => stdin_open = false,
            },
            _ = tick.tick() => chat.print_new(),
        }
    }
}

impl Chat {
    fn input(&mut self, line: &str) {
        if line.is_empty() {
            return;
        }
        let (word, rest) = line.split_once(' ').unwrap_or((line, ""));
        let name = rest.trim();
        let server = self.demo.server_id.clone();
        let outcome = match word {
            "/help" => Ok(CHAT_HELP.to_owned()),
            "/room" => self.switch_room(name),
            "/as" => self.member_id(name).map(|id| {
                self.user = id;
                format!("* you are {name}")
            }),
            "/join" => self
                .sim
                .add_member(&server, name)
                .map(|_| format!("* {name} joined the server"))
                .map_err(|error| error.to_string()),
            "/leave" => self.member_id(name).and_then(|id| {
                self.sim
                    .remove_member(&server, &id)
                    .map(|()| format!("* {name} left the server"))
                    .map_err(|error| error.to_string())
            }),
            "/create" => self
                .sim
                .create_room_as(&self.user, &server, name)
                .map(|_| format!("* room #{name} created"))
                .map_err(|error| error.to_string()),
            _ if word.starts_with('/') => {
                Err(format!("unknown chat command {word}; /help lists them"))
            }
            _ => self
                .sim
                .post(&self.user, &self.room, line)
                .map(|_| String::new())
                .map_err(|error| error.to_string()),
        };
        match outcome {
            Ok(said) if said.is_empty() => {}
            Ok(said) => println!("{said}"),
            Err(error) => println!("* {error}"),
        }
    }

    fn switch_room(&mut self, name: &str) -> Result<String, String> {
        let rooms = self
            .sim
            .rooms(&self.demo.server_id)
            .map_err(|error| error.to_string())?;
        let room = rooms
            .into_iter()
            .find(|room| room.name.as_deref() == Some(name))
            .ok_or_else(|| format!("no room named {name:?}"))?;
        self.room = room.id;
        Ok(format!("* you are in #{name}"))
    }

    fn member_id(&self, name: &str) -> Result<String, String> {
        let members = self
            .sim
            .members(&self.demo.server_id)
            .map_err(|error| error.to_string())?;
        members
            .into_iter()
            .find(|member| member.username.eq_ignore_ascii_case(name))
            .map(|member| member.user_id)
            .ok_or_else(|| format!("no member named {name:?}"))
    }

    fn print_new(&mut self) {
        let Ok(rooms) = self.sim.rooms(&self.demo.server_id) else {
            return;
        };
        let mut fresh = Vec::new();
        for room in rooms {
            let name = room.name.unwrap_or_default();
            for message in self.sim.messages(&room.id) {
                if self.seen.insert(message.id.clone()) {
                    fresh.push((
                        message.created_at,
                        name.clone(),
                        message.username,
                        message.content,
                    ));
                }
            }
        }
        fresh.sort();
        for (_, room, author, content) in fresh {
            println!("#{room} {author}: {content}");
        }
    }
}
