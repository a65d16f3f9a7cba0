//! Run with: `cargo bench -p lag-bot-bench --bench load` (options after `--`, see `USAGE`)
//!
//! The webhook intake under load: the `commands` example's robot and a floor (a bare axum
//! handler doing only the signature check and the JSON decode the robot does) each run as a
//! program of their own (`src/bin/lag-bot-load-robot.rs`, `src/bin/lag-bot-load-floor.rs`) in
//! a child process on 127.0.0.1, one after the other, in alternating repetitions.
//! This process is the load client and the local Lag the robot starts against: it fires
//! distinct, correctly signed `room.message` deliveries at each server for a bounded time with
//! bounded concurrency, and reports deliveries per second, acknowledgement latency, the
//! server's CPU time and allocations per delivery, its peak memory and the failures.
//!
//! `soak` runs the robot alone at a steady rate for minutes and samples its memory, open files,
//! queue depth and errors (see `soak.rs`).

#[path = "load/deliveries.rs"]
mod deliveries;
#[path = "load/latency.rs"]
mod latency;
#[path = "load/servers.rs"]
mod servers;
#[path = "load/soak.rs"]
mod soak;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use deliveries::{Outcome, Sender, Target, count_failure, with_duplicates};
use lag_bot_bench::SOAK;
use servers::{Role, Server, cpu_seconds, raised_sim_limits};

const USAGE: &str = "\
usage: load [OPTIONS]          the robot against the floor, alternating repetitions
       load soak [OPTIONS]     the robot alone at a steady rate, sampled (see BENCHMARKS.md)
       load latency [OPTIONS]  end-to-end latency of a reply over each transport
options: --seconds N      how long each server is loaded in one repetition, or each transport
                          measured (default 10)
         --concurrency N  deliveries in flight at once (default 64; the soak's cap)
         --reps N         alternating repetitions of robot then floor (default 2)
         --duplicates P   percent of deliveries that repeat an earlier one (default 0)
         --commands P     percent of deliveries that are `!ping`, answered through the paced
                          client (default 0; the soak's default 10)
         --lag-limits     keep Lag's rate limits when replies are sent (default: raised to
                          200 messages a second in the local Lag and the robot alike)
         --content TEXT   the other messages' text (default: a chat line that matches no command)
soak:    --minutes N      how long the soak runs (default 10)
         --rate N         deliveries per second (default 1000; latency: posts, default 5)
         --every N        seconds between samples (default 10)";

/// The text of a delivery that asks for a reply.
const COMMAND: &str = "!ping";

fn main() {
    let options = Options::parse();
    match options.mode {
        Mode::Load => drive(options),
        Mode::Soak => soak::run(options),
        Mode::Latency => latency::run(options),
    }
}

// ---------------------------------------------------------------------------------------------
// The load client.

/// What the program measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// The robot against the floor.
    Load,
    /// The robot alone at a steady rate for minutes.
    Soak,
    /// End-to-end latency per transport.
    Latency,
}

/// The command line.
struct Options {
    mode: Mode,
    seconds: u64,
    concurrency: usize,
    reps: usize,
    duplicates: u64,
    commands: Option<u64>,
    lag_limits: bool,
    content: String,
    minutes: u64,
    rate: Option<u64>,
    every: u64,
}

impl Options {
    fn parse() -> Self {
        let mut options = Options {
            mode: Mode::Load,
            seconds: 10,
            concurrency: 64,
            reps: 2,
            duplicates: 0,
            commands: None,
            lag_limits: false,
            content: "just chatting, nothing for the robot here".to_owned(),
            minutes: 10,
            rate: None,
            every: 10,
        };
        let mut args = std::env::args().skip(1);
        while let Some(arg) = args.next() {
            let mut value = || {
                args.next().unwrap_or_else(|| {
                    eprintln!("{arg} needs a value\n{USAGE}");
                    std::process::exit(2)
                })
            };
            let number = |text: String| {
                text.parse::<u64>().unwrap_or_else(|_| {
                    eprintln!("not a number: {text}\n{USAGE}");
                    std::process::exit(2)
                })
            };
            match arg.as_str() {
                "soak" => options.mode = Mode::Soak,
                "latency" => options.mode = Mode::Latency,
                "--seconds" => options.seconds = number(value()).max(1),
                "--concurrency" => options.concurrency = number(value()).max(1) as usize,
                "--reps" => options.reps = number(value()).max(1) as usize,
                "--duplicates" => options.duplicates = number(value()).min(100),
                "--commands" => options.commands = Some(number(value()).min(100)),
                "--lag-limits" => options.lag_limits = true,
                "--content" => options.content = value(),
                "--minutes" => options.minutes = number(value()).max(1),
                "--rate" => options.rate = Some(number(value()).max(1)),
                "--every" => options.every = number(value()).max(1),
                "--bench" => {} // passed by `cargo bench`
                "--help" | "-h" => {
                    println!("{USAGE}");
                    std::process::exit(0)
                }
                other => {
                    eprintln!("unknown option {other}\n{USAGE}");
                    std::process::exit(2)
                }
            }
        }
        options
    }

    /// The soak's deliveries per second.
    fn soak_rate(&self) -> u64 {
        self.rate.unwrap_or(1000)
    }

    /// The percentage of deliveries that ask for a reply.
    fn command_percent(&self) -> u64 {
        self.commands
            .unwrap_or(if self.mode == Mode::Soak { 10 } else { 0 })
    }

    /// Whether the local Lag and the robot get raised limits: when replies are sent and
    /// `--lag-limits` was not given.
    fn raised_limits(&self) -> bool {
        self.command_percent() > 0 && !self.lag_limits
    }

    /// The text of the `n`-th delivery: every `100 / P`-th is the command.
    fn content_of(&self, n: u64) -> &str {
        let percent = self.command_percent();
        if percent > 0 && (n * percent) % 100 < percent {
            COMMAND
        } else {
            &self.content
        }
    }
}

/// The local Lag the robot starts against, with its robot and the room the deliveries name,
/// and the environment a robot child needs.
struct Lag {
    sim: lag_sim::Sim,
    demo: lag_sim::Demo,
    robot_env: Vec<(&'static str, String)>,
}

impl Lag {
    fn start(runtime: &tokio::runtime::Runtime, options: &Options) -> Self {
        let mut config = lag_sim::SimConfig::default();
        let mut robot_env = Vec::new();
        if options.raised_limits() {
            config.rate_limits = raised_sim_limits();
            robot_env.push((SOAK, "1".to_owned()));
        }
        let sim = runtime.block_on(lag_sim::Sim::start(config)).unwrap();
        let demo = sim
            .seed_demo_with(
                lag_sim::RobotSpec::new("Helper").transport(lag_sim::Transport::LongPoll),
            )
            .unwrap();
        robot_env.push(("LAG_ROBOT_API_KEY", demo.robot.key.clone()));
        robot_env.push(("LAG_API_BASE", sim.base_url().to_string()));
        Self {
            sim,
            demo,
            robot_env,
        }
    }

    fn target(&self, server: &Server, run: u64) -> Arc<Target> {
        Arc::new(Target {
            url: format!("http://{}/webhook", server.addr).parse().unwrap(),
            room: self.demo.general.clone(),
            sender: self.demo.alice.clone(),
            run,
        })
    }

    /// The messages the robot posted in the room the deliveries name.
    fn replies(&self) -> usize {
        self.sim
            .messages(&self.demo.general)
            .iter()
            .filter(|m| m.robot_id.is_some())
            .count()
    }
}

/// What one server did in one repetition.
#[derive(Default)]
struct Run {
    deliveries: u64,
    seconds: f64,
    latencies_us: Vec<u32>,
    failures: BTreeMap<String, u64>,
    server_cpu_s: f64,
    client_cpu_s: f64,
    server_allocs: u64,
    peak_kib: u64,
    /// The peak of its private resident memory (`RssAnon`), without the shared file pages.
    peak_private_kib: u64,
}

impl Run {
    fn per_second(&self) -> f64 {
        self.deliveries as f64 / self.seconds
    }
    fn cpu_us_per_delivery(&self) -> f64 {
        self.server_cpu_s * 1e6 / self.deliveries.max(1) as f64
    }
    fn client_cpu_us_per_delivery(&self) -> f64 {
        self.client_cpu_s * 1e6 / self.deliveries.max(1) as f64
    }
    fn allocs_per_delivery(&self) -> f64 {
        self.server_allocs as f64 / self.deliveries.max(1) as f64
    }
    fn percentile_ms(&self, p: f64) -> f64 {
        if self.latencies_us.is_empty() {
            return f64::NAN;
        }
        let rank = ((self.latencies_us.len() - 1) as f64 * p).round() as usize;
        f64::from(self.latencies_us[rank]) / 1000.0
    }
}

/// Fires deliveries at `target` for `options.seconds` with `options.concurrency` in flight.
async fn fire(target: Arc<Target>, options: Arc<Options>) -> Run {
    let sender = Sender::new(options.concurrency);
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency {
        let (sender, counter, target, options) = (
            sender.clone(),
            counter.clone(),
            target.clone(),
            options.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut failures: BTreeMap<String, u64> = BTreeMap::new();
            while Instant::now() < deadline {
                let n =
                    with_duplicates(counter.fetch_add(1, Ordering::Relaxed), options.duplicates);
                match sender.send(&target, n, options.content_of(n)).await {
                    Outcome::Answered(us) => latencies.push(us),
                    Outcome::Failed(why) => count_failure(&mut failures, why),
                }
            }
            (latencies, failures)
        }));
    }
    let mut run = Run::default();
    for task in tasks {
        let (latencies, failures) = task.await.unwrap();
        run.latencies_us.extend(latencies);
        for (why, count) in failures {
            *run.failures.entry(why).or_default() += count;
        }
    }
    run.seconds = started.elapsed().as_secs_f64();
    run.deliveries = run.latencies_us.len() as u64;
    run.latencies_us.sort_unstable();
    run
}

fn drive(options: Options) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _context = runtime.enter();
    let lag = Lag::start(&runtime, &options);
    let options = Arc::new(options);
    println!(
        "{} s per server and repetition, {} in flight, {} repetitions, {}% duplicates, \
         {}% `{COMMAND}` ({}), content {:?}",
        options.seconds,
        options.concurrency,
        options.reps,
        options.duplicates,
        options.command_percent(),
        if options.raised_limits() {
            "raised limits"
        } else {
            "Lag's limits"
        },
        options.content
    );
    let mut results: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    let mut run_number = 0;
    for rep in 1..=options.reps {
        for role in [Role::Robot, Role::Floor] {
            run_number += 1;
            let env: &[(&str, String)] = if role == Role::Robot {
                &lag.robot_env
            } else {
                &[]
            };
            let mut server = Server::start(role, env);
            let target = lag.target(&server, run_number);
            let replies_before = lag.replies();
            let (cpu_before, allocs_before) = (server.cpu_seconds(), server.allocations());
            let client_before = cpu_seconds("/proc/self/stat");
            let private = server.sample_private();
            let mut run = runtime.block_on(fire(target, options.clone()));
            // Let queued events finish before counting what they cost.
            std::thread::sleep(Duration::from_millis(300));
            run.server_cpu_s = server.cpu_seconds() - cpu_before;
            run.client_cpu_s = cpu_seconds("/proc/self/stat") - client_before;
            run.server_allocs = server.allocations() - allocs_before;
            run.peak_kib = server.status_kib("VmHWM");
            run.peak_private_kib = private.stop();
            server.stop();
            report(&format!("{} #{rep}", role.name()), &run);
            if role == Role::Robot && options.command_percent() > 0 {
                println!(
                    "          replies stored by the local Lag: {}",
                    lag.replies() - replies_before
                );
            }
            results.entry(role.name()).or_default().push(run);
        }
    }
    summarise(&results);
    drop(lag);
}

fn report(label: &str, run: &Run) {
    let failures: u64 = run.failures.values().sum();
    println!(
        "{label:<9} {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  server CPU {:>5.1} µs/delivery  \
         client CPU {:>5.1} µs  allocs {:>6.1}/delivery  peak {:>5.1} MiB (private {:>4.1})  failures {failures}",
        run.per_second(),
        run.percentile_ms(0.5),
        run.percentile_ms(0.99),
        run.percentile_ms(1.0),
        run.cpu_us_per_delivery(),
        run.client_cpu_us_per_delivery(),
        run.allocs_per_delivery(),
        run.peak_kib as f64 / 1024.0,
        run.peak_private_kib as f64 / 1024.0,
    );
    for (why, count) in &run.failures {
        println!("          {count} × {why}");
    }
}

/// A row of the summary: its name and how to read it off a run.
type Metric<'a> = (&'a str, &'a dyn Fn(&Run) -> f64);

fn summarise(results: &BTreeMap<&str, Vec<Run>>) {
    let (Some(robot), Some(floor)) = (results.get("robot"), results.get("floor")) else {
        return;
    };
    let median = |runs: &[Run], f: &dyn Fn(&Run) -> f64| {
        let mut values: Vec<f64> = runs.iter().map(f).collect();
        values.sort_by(f64::total_cmp);
        let mid = values.len() / 2;
        if values.len().is_multiple_of(2) {
            (values[mid - 1] + values[mid]) / 2.0
        } else {
            values[mid]
        }
    };
    let spread = |runs: &[Run], f: &dyn Fn(&Run) -> f64| {
        let values: Vec<f64> = runs.iter().map(f).collect();
        let min = values.iter().copied().fold(f64::INFINITY, f64::min);
        let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (min, max)
    };
    println!("\nmedian over repetitions (min–max), robot / floor:");
    let rows: [Metric<'_>; 7] = [
        ("deliveries/s", &Run::per_second),
        ("p50 ms", &|r: &Run| r.percentile_ms(0.5)),
        ("p99 ms", &|r: &Run| r.percentile_ms(0.99)),
        ("server CPU µs/delivery", &Run::cpu_us_per_delivery),
        ("allocations/delivery", &Run::allocs_per_delivery),
        ("peak MiB", &|r: &Run| r.peak_kib as f64 / 1024.0),
        ("peak private MiB", &|r: &Run| {
            r.peak_private_kib as f64 / 1024.0
        }),
    ];
    for (name, f) in rows {
        let (r, fl) = (median(robot, f), median(floor, f));
        let ((rmin, rmax), (fmin, fmax)) = (spread(robot, f), spread(floor, f));
        println!(
            "  {name:<23} robot {r:>9.2} ({rmin:.2}–{rmax:.2})  floor {fl:>9.2} ({fmin:.2}–{fmax:.2})  ratio {:.2}",
            r / fl
        );
    }
    let failures: u64 = robot
        .iter()
        .chain(floor)
        .flat_map(|r| r.failures.values())
        .sum();
    println!("  failures                {failures}");
}
