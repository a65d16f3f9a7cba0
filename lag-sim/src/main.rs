//! `lag-sim`: run a local Lag for robots.
//!
//! Run with: `cargo run -p lag-sim -- [--port 8090] [--world world.toml]`

use std::io::Write as _;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use lag_sim::worldfile::WorldFile;
use lag_sim::{
    DEMO_TRANSPORT, EventFeed, RobotDetails, RobotSpec, Sim, SimConfig, Transport, TransportKind,
};

/// A local, in-memory Lag that speaks the robot API (REST, webhooks, SSE, long-poll).
///
/// With no world file it creates a demo server (rooms general, welcome and mod-log; members
/// alice, bob and carol) with one robot, and prints what the robot needs to connect. The admin
/// and member-puppet API lives under /_sim (see the README).
///
/// Then it prints the conversation on stdout as it happens: every message (robots' replies
/// included), edit and deletion, members joining and leaving, and other changes to the world.
/// Logs go to stderr.
#[derive(Debug, Parser)]
#[command(name = "lag-sim", version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, short, default_value_t = 8090)]
    port: u16,

    /// Address to listen on. The admin API has no authentication: anything but loopback
    /// exposes it to the network.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind: IpAddr,

    /// A TOML world file (servers, rooms, members, robots) to load instead of the demo world.
    #[arg(long, short)]
    world: Option<PathBuf>,

    /// Transport of the demo robot: sse, longpoll or webhook (ignored with --world).
    #[arg(long, default_value_t = DEMO_TRANSPORT.kind())]
    transport: TransportKind,

    /// Webhook URL of the demo robot (implies --transport webhook).
    #[arg(long)]
    webhook_url: Option<String>,

    /// Run timers (webhook retries, rate-limit windows, keepalives, poll holds) this many times
    /// faster than real time.
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,

    /// Do not print the conversation (messages, edits, deletions, joins, ...) on stdout.
    #[arg(long, short)]
    quiet: bool,
}

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
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("lag-sim: {error}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    if !(args.time_scale.is_finite() && args.time_scale > 0.0) {
        return Err("--time-scale must be a positive number".into());
    }
    let mut signals = Signals::catch()?;
    let world = args.world.as_ref().map(WorldFile::load).transpose()?;
    let config = SimConfig {
        bind: SocketAddr::new(args.bind, args.port),
        time_scale: args.time_scale,
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await?;
    if !args.bind.is_loopback() {
        eprintln!(
            "WARNING: listening on {} - the admin API under /_sim has no authentication; \
             anyone who can reach this address can read robot keys and act as any member.",
            args.bind
        );
    }
    let robots = match &world {
        Some(world) => sim.load_world(world)?,
        None => {
            let kind = if args.webhook_url.is_some() {
                TransportKind::Webhook
            } else {
                args.transport
            };
            let transport = Transport::from_parts(kind, args.webhook_url.clone())?;
            let demo = sim.seed_demo_with(RobotSpec::new("Helper").transport(transport))?;
            vec![sim.robot(&demo.robot.id)?]
        }
    };
    let feed = (!args.quiet).then(|| sim.subscribe());
    print_banner(&sim, &robots);
    if feed.is_some() {
        println!("Press Ctrl-C to stop. What happens in the server follows (--quiet hides it):");
        println!();
    } else {
        println!("Press Ctrl-C to stop.");
    }
    let printer = feed.map(|feed| tokio::spawn(print_conversation(feed)));
    signals.next().await;
    eprintln!("lag-sim: shutting down");
    sim.shutdown().await;
    if let Some(printer) = printer {
        let _ = printer.await;
    }
    Ok(())
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
        println!("  export LAG_API_BASE={base}");
        println!("  export LAG_ROBOT_API_KEY={}", robot.key);
        let secret = robot
            .secrets
            .first()
            .map(String::as_str)
            .unwrap_or_default();
        match robot.transport_type {
            TransportKind::Webhook => {
                println!("  export LAG_TRANSPORT=webhook");
                println!("  export LAG_WEBHOOK_SECRET={secret}");
                if let Some(url) = &robot.webhook_url {
                    println!("  (events are POSTed to {url})");
                }
            }
            TransportKind::Sse => {
                println!("  export LAG_TRANSPORT=sse");
                println!("  webhook secret (for a webhook robot): {secret}");
            }
            _ => {
                println!("  export LAG_TRANSPORT=poll");
                println!("  webhook secret (for a webhook robot): {secret}");
            }
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
            println!(
                "  curl -s -X POST {base}/_sim/rooms/{}/messages -H 'content-type: application/json' \
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
