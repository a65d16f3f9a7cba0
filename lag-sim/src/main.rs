//! `lag-sim`: run a local Lag for robots.
//!
//! Run with: `cargo run -p lag-sim -- [--port 8090] [--world world.toml] [-- ROBOT COMMAND...]`

use std::ffi::OsString;
use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::{ExitCode, ExitStatus, Stdio};
use std::time::Duration;

use clap::Parser;
use lag_sim::worldfile::WorldFile;
use lag_sim::{
    DEMO_TRANSPORT, EventFeed, RobotDetails, RobotSpec, Sim, SimConfig, Transport, TransportKind,
};

/// Where the demo robot's webhooks go when a command runs it and no --webhook-url is given:
/// the address and path a `lag-bot` robot listens on by default.
const DEFAULT_WEBHOOK_URL: &str = "http://127.0.0.1:3000/webhook";

/// The variables that tell a robot how to connect; a robot command gets exactly those its
/// robot needs, so none is left over from the shell for another robot.
const CONNECTION_VARIABLES: [&str; 5] = [
    "LAG_API_BASE",
    "LAG_ROBOT_API_KEY",
    "LAG_TRANSPORT",
    "LAG_WEBHOOK_SECRET",
    "LAG_LISTEN",
];

/// How long the robot command may take to stop after SIGTERM before it is killed.
const GRACE: Duration = Duration::from_secs(10);

/// A local, in-memory Lag that speaks the robot API (REST, webhooks, SSE, long-poll).
///
/// With no world file it creates a demo server (rooms general, welcome and mod-log; members
/// alice, bob and carol) with one robot, and prints what the robot needs to connect. The admin
/// and member-puppet API lives under /_sim (see the README).
///
/// Then it prints the conversation on stdout as it happens: every message (robots' replies
/// included), edit and deletion, members joining and leaving, and other changes to the world.
/// Logs go to stderr.
///
/// Give it a command after `--` and it runs your robot too: the command starts once lag-sim
/// listens, as the demo robot, and lag-sim stops when it exits (see COMMAND below).
#[derive(Debug, Parser)]
#[command(name = "lag-sim", version, after_help = EXAMPLES)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 8090)]
    port: u16,

    /// Address to listen on. On loopback the admin API and the playground are open; anywhere
    /// else they need a token that lag-sim makes and prints at start.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,

    /// A TOML world file (servers, rooms, members, robots) to load instead of the demo world.
    #[arg(long, short)]
    world: Option<PathBuf>,

    /// Transport of the demo robot: sse, longpoll or webhook (ignored with --world).
    #[arg(long, default_value_t = DEMO_TRANSPORT.kind())]
    transport: TransportKind,

    /// Webhook URL of the demo robot (implies --transport webhook). With a COMMAND and
    /// --transport webhook it defaults to http://127.0.0.1:3000/webhook, where a lag-bot robot
    /// listens by default.
    #[arg(long)]
    webhook_url: Option<String>,

    /// Run timers (webhook retries, rate-limit windows, keepalives, poll holds) this many times
    /// faster than real time.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,

    /// Do not print the conversation (messages, edits, deletions, joins, ...) on stdout.
    #[arg(long, short)]
    quiet: bool,

    /// With --world: the robot COMMAND runs as (default: the first robot of the file).
    #[arg(long, value_name = "NAME", requires = "command")]
    robot: Option<String>,

    /// A command that runs your robot (after `--`), as the demo robot or the --robot of --world.
    ///
    /// lag-sim starts it once it listens, with LAG_API_BASE, LAG_ROBOT_API_KEY and LAG_TRANSPORT
    /// set for that robot, plus LAG_WEBHOOK_SECRET and LAG_LISTEN (from the webhook URL) for a
    /// webhook robot (and the others of these unset). The rest of the environment passes
    /// through unchanged; stdin is closed. When the command
    /// exits, lag-sim shuts down and exits with the command's status. Ctrl-C or SIGTERM stops
    /// the command (SIGTERM to its process group; SIGKILL after 10 s or on a second Ctrl-C),
    /// then lag-sim.
    #[arg(last = true, value_name = "COMMAND")]
    command: Vec<OsString>,
}

const EXAMPLES: &str = "\
Examples:
  cargo run -p lag-sim -- -- cargo run --example commands
                        run a robot against the demo world, and see the conversation
  lag-sim --port 0 --quiet
                        any free port; print only what a robot needs
  lag-sim --transport webhook -- ./target/debug/my-robot
                        the robot gets webhooks at http://127.0.0.1:3000/webhook
  lag-sim --world world.toml --robot Pager -- ./pager";

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("lag_sim=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(code) => code,
        Err(error) => {
            eprintln!("lag-sim: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<ExitCode, Box<dyn std::error::Error>> {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err("--time-scale must be a positive number".into());
    }
    let mut signals = Signals::catch()?;
    let seed = match &args.world {
        Some(path) => Seed::World(WorldFile::load(path)?),
        None => Seed::Demo(RobotSpec::new("Helper").transport(demo_transport(&args)?)),
    };
    let config = SimConfig {
        bind: SocketAddr::new(args.bind, args.port),
        time_scale: args.time_scale,
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await?;
    if let Some(token) = sim.admin_token() {
        eprintln!(
            "lag-sim: listening on {} - the playground and the admin API under /_sim need the \
             token {token} (opening the link below sets it in the browser; scripts send it in \
             the X-Lag-Sim-Token header). Robot keys are readable with it: keep it to yourself.",
            args.bind
        );
    }
    let robots = match seed {
        Seed::World(world) => sim.load_world(&world)?,
        Seed::Demo(robot) => vec![sim.robot(&sim.seed_demo_with(robot)?.robot.id)?],
    };
    let runs_as = if args.command.is_empty() {
        None
    } else {
        Some(robot_to_run(&robots, args.robot.as_deref())?)
    };
    let feed = (!args.quiet).then(|| sim.subscribe());
    print_banner(&sim, &robots);
    let stop = match runs_as {
        Some(robot) => format!(
            "Running `{}` as robot {:?}; Ctrl-C stops it and lag-sim.",
            shown(&args.command),
            robot.name
        ),
        None => "Press Ctrl-C to stop.".to_owned(),
    };
    if feed.is_some() {
        println!("{stop} What happens in the server follows (--quiet hides it):");
        println!();
    } else {
        println!("{stop}");
    }
    let printer = feed.map(|feed| tokio::spawn(print_conversation(feed)));
    let outcome = match runs_as {
        Some(robot) => run_robot(&args.command, &robot_env(&sim, robot), &mut signals).await,
        None => {
            signals.next().await;
            Ok(ExitCode::SUCCESS)
        }
    };
    eprintln!("lag-sim: shutting down");
    sim.shutdown().await;
    if let Some(printer) = printer {
        let _ = printer.await;
    }
    outcome
}

/// What the emulator's world starts as.
enum Seed {
    /// The servers of a world file.
    World(WorldFile),
    /// The demo world, around this robot.
    Demo(RobotSpec),
}

/// The demo robot's transport, from --transport and --webhook-url.
fn demo_transport(args: &Args) -> Result<Transport, String> {
    let kind = match &args.webhook_url {
        Some(_) => TransportKind::Webhook,
        None => args.transport,
    };
    let url = match &args.webhook_url {
        Some(url) => Some(url.clone()),
        None if kind != TransportKind::Webhook => None,
        None if !args.command.is_empty() => Some(DEFAULT_WEBHOOK_URL.to_owned()),
        None => return Err("--transport webhook needs --webhook-url (the robot's address)".into()),
    };
    Transport::from_parts(kind, url).map_err(|e| e.to_string())
}

/// The robot a command runs as: the one named, or the first.
fn robot_to_run<'a>(
    robots: &'a [RobotDetails],
    name: Option<&str>,
) -> Result<&'a RobotDetails, String> {
    let Some(name) = name else {
        return robots
            .first()
            .ok_or_else(|| "the world has no robot for the command to run as".to_owned());
    };
    robots
        .iter()
        .find(|robot| robot.name.eq_ignore_ascii_case(name))
        .ok_or_else(|| {
            let names: Vec<&str> = robots.iter().map(|robot| robot.name.as_str()).collect();
            format!(
                "no robot named {name:?} (the world has {})",
                names.join(", ")
            )
        })
}

/// A command line as it would be typed in a shell.
fn shown(command: &[OsString]) -> String {
    let plain = |c: char| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c);
    let words: Vec<String> = command
        .iter()
        .map(|word| word.to_string_lossy())
        .map(|word| {
            if !word.is_empty() && word.chars().all(plain) {
                word.into_owned()
            } else {
                format!("'{}'", word.replace('\'', r"'\''"))
            }
        })
        .collect();
    words.join(" ")
}

/// The variables a robot reads to connect as `robot`, the way lag-bot names them.
fn robot_env(sim: &Sim, robot: &RobotDetails) -> Vec<(&'static str, String)> {
    let mut vars = vec![
        ("LAG_API_BASE", sim.base_url()),
        ("LAG_ROBOT_API_KEY", robot.key.clone()),
    ];
    match robot.transport_type {
        TransportKind::Webhook => {
            vars.push(("LAG_TRANSPORT", "webhook".to_owned()));
            vars.push(("LAG_WEBHOOK_SECRET", robot.secrets.join(",")));
            let listen = robot.webhook_url.as_deref().and_then(listen_address);
            if let Some(listen) = listen {
                vars.push(("LAG_LISTEN", listen.to_string()));
            }
        }
        TransportKind::Sse => vars.push(("LAG_TRANSPORT", "sse".to_owned())),
        _ => vars.push(("LAG_TRANSPORT", "poll".to_owned())),
    }
    vars
}

/// The address a robot must listen on to receive webhooks at `url`, when the URL names one.
fn listen_address(url: &str) -> Option<SocketAddr> {
    let url = reqwest::Url::parse(url).ok()?;
    if url.scheme() != "http" {
        return None;
    }
    let host = url.host_str()?;
    let ip = if host.eq_ignore_ascii_case("localhost") {
        IpAddr::V4(Ipv4Addr::LOCALHOST)
    } else {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .parse()
            .ok()?
    };
    Some(SocketAddr::new(ip, url.port_or_known_default()?))
}

/// Runs the robot command until it exits or a signal stops it; returns its exit status.
async fn run_robot(
    command: &[OsString],
    env: &[(&'static str, String)],
    signals: &mut Signals,
) -> Result<ExitCode, Box<dyn std::error::Error>> {
    let (program, args) = command.split_first().ok_or("no command to run")?;
    let mut robot = tokio::process::Command::new(program);
    robot
        .args(args)
        .envs(env.iter().map(|(name, value)| (name, value)))
        .stdin(Stdio::null())
        .kill_on_drop(true);
    for stale in CONNECTION_VARIABLES {
        if !env.iter().any(|(name, _)| *name == stale) {
            robot.env_remove(stale);
        }
    }
    // Its own process group: Ctrl-C reaches lag-sim alone, which then stops the whole command
    // (a shell and what it started, say) exactly once.
    #[cfg(unix)]
    robot.process_group(0);
    let mut robot = robot
        .spawn()
        .map_err(|e| format!("cannot run `{}`: {e}", shown(command)))?;
    tracing::info!(pid = robot.id(), "robot command started");
    let status = tokio::select! {
        status = robot.wait() => {
            let status = status?;
            eprintln!("lag-sim: the robot command exited ({status})");
            return Ok(exit_code(status));
        }
        () = signals.next() => {
            eprintln!("lag-sim: stopping the robot command (Ctrl-C again kills it)");
            signal_group(&mut robot, "TERM").await;
            tokio::select! {
                status = robot.wait() => status?,
                () = tokio::time::sleep(GRACE) => {
                    eprintln!("lag-sim: the robot command did not stop within {GRACE:?}; killing it");
                    signal_group(&mut robot, "KILL").await;
                    robot.wait().await?
                }
                () = signals.next() => {
                    signal_group(&mut robot, "KILL").await;
                    robot.wait().await?
                }
            }
        }
    };
    eprintln!("lag-sim: the robot command stopped ({status})");
    Ok(exit_code(status))
}

/// Sends a signal (`TERM`, `KILL`) to the robot command's process group.
async fn signal_group(robot: &mut tokio::process::Child, signal: &str) {
    #[cfg(unix)]
    if let Some(pid) = robot.id() {
        // Unsafe code (libc::kill) is forbidden here, and std can only send SIGKILL to one
        // process; the POSIX kill utility reaches the group with any signal.
        let sent = tokio::process::Command::new("kill")
            .args(["-s", signal, "--", &format!("-{pid}")])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .await;
        if sent.is_ok_and(|status| status.success()) {
            return;
        }
    }
    tracing::debug!(
        signal,
        "signalling the process group failed; killing the command"
    );
    let _ = robot.start_kill();
}

/// The exit code that reports `status` to lag-sim's caller: the command's own code, or
/// 128 + the signal that ended it, as shells do.
fn exit_code(status: ExitStatus) -> ExitCode {
    if let Some(code) = status.code() {
        return ExitCode::from(u8::try_from(code).unwrap_or(1));
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt as _;
        if let Some(signal) = status.signal() {
            return ExitCode::from(u8::try_from(128 + signal).unwrap_or(1));
        }
    }
    ExitCode::FAILURE
}

/// Prints each event on its own line until the emulator shuts down (or stdout closes).
async fn print_conversation(mut feed: EventFeed) {
    let mut missed = 0;
    while let Some(event) = feed.recv().await {
        if feed.missed() > missed {
            eprintln!(
                "lag-sim: {} events not shown: the output could not keep up",
                feed.missed() - missed
            );
            missed = feed.missed();
        }
        if writeln!(std::io::stdout().lock(), "{event}").is_err() {
            return;
        }
    }
}

fn print_banner(sim: &Sim, robots: &[RobotDetails]) {
    let base = sim.base_url();
    println!("lag-sim is running: Lag's robot API at {base}");
    println!(
        "Playground (chat, deliveries, robot settings): {}",
        sim.playground_link()
    );
    println!("World: {base}/_sim/world   Delivery log: {base}/_sim/robots/<id>/deliveries");
    for robot in robots {
        let server = sim
            .server(&robot.server_id)
            .map(|s| s.name)
            .unwrap_or_default();
        println!();
        println!(
            "Robot {:?} ({}) in server {:?}, id {}",
            robot.name,
            robot.transport_type.as_str(),
            server,
            robot.id
        );
        for (name, value) in robot_env(sim, robot) {
            println!("  export {name}={value}");
        }
        match &robot.webhook_url {
            Some(url) => println!("  (events are POSTed to {url})"),
            None => println!(
                "  webhook secret (for a webhook robot): {}",
                robot
                    .secrets
                    .first()
                    .map(String::as_str)
                    .unwrap_or_default()
            ),
        }
    }
    if let Some(server) = sim.servers().first() {
        let members = sim.members(&server.id).unwrap_or_default();
        let rooms = sim.rooms(&server.id).unwrap_or_default();
        if let (Some(member), Some(room)) = (members.first(), rooms.first()) {
            println!();
            println!(
                "Say something as {} in {}:",
                member.username,
                room.name.as_deref().unwrap_or("a room")
            );
            let token = sim
                .admin_token()
                .map(|token| format!(" -H 'x-lag-sim-token: {token}'"))
                .unwrap_or_default();
            println!(
                "  curl -s -X POST {base}/_sim/rooms/{}/messages -H 'content-type: application/json'{token} \
                 -d '{{\"userId\":\"{}\",\"content\":\"hello\"}}'",
                room.id, member.user_id
            );
        }
    }
    println!();
}

/// Ctrl-C and SIGTERM, caught from start-up on so that neither ends the program abruptly.
struct Signals {
    #[cfg(unix)]
    interrupt: tokio::signal::unix::Signal,
    #[cfg(unix)]
    terminate: tokio::signal::unix::Signal,
}

impl Signals {
    fn catch() -> std::io::Result<Self> {
        #[cfg(unix)]
        {
            use tokio::signal::unix::{SignalKind, signal};
            Ok(Self {
                interrupt: signal(SignalKind::interrupt())?,
                terminate: signal(SignalKind::terminate())?,
            })
        }
        #[cfg(not(unix))]
        Ok(Self {})
    }

    /// Waits for the next Ctrl-C or SIGTERM.
    async fn next(&mut self) {
        #[cfg(unix)]
        tokio::select! {
            _ = self.interrupt.recv() => {}
            _ = self.terminate.recv() => {}
        }
        #[cfg(not(unix))]
        let _ = tokio::signal::ctrl_c().await;
    }
}
