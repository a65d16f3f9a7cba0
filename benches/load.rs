//! Run with: `cargo bench -p lag-bot-project --bench load` (options after `--`, see `USAGE`)
//!
//! The webhook intake under load: the `commands` example's robot and a floor (a bare axum
//! handler doing only the signature check and the JSON decode the robot does) each run in a
//! child process of their own on 127.0.0.1, one after the other, in alternating repetitions.
//! This process is the load client and the local Lag the robot starts against: it fires
//! distinct, correctly signed `room.message` deliveries at each server for a bounded time with
//! bounded concurrency, and reports deliveries per second, acknowledgement latency, the
//! server's CPU time and allocations per delivery, its peak memory and the failures.

use std::alloc::System;
use std::collections::BTreeMap;
use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::rt::TokioExecutor;
use lag_bot::command::{Captures, Rest};
use lag_bot::transport::{WebhookConfig, WebhookSecret};
use lag_bot::{Ctx, Robot};
use stats_alloc::{INSTRUMENTED_SYSTEM, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const USAGE: &str = "\
options: --seconds N      how long each server is loaded in one repetition (default 10)
         --concurrency N  deliveries in flight at once (default 64)
         --reps N         alternating repetitions of robot then floor (default 2)
         --duplicates P   percent of deliveries that repeat an earlier one (default 0)
         --content TEXT   the messages' text (default: a chat line that matches no command)";

/// The variable that makes this program a server child instead of the load client.
const ROLE: &str = "LAG_LOAD_ROLE";
/// The webhook signing secret both servers check.
const SECRET: &str = "whsec_bG9hZC1iZW5jaG1hcmstc2VjcmV0LWtleQ==";
/// `/proc` counts CPU time in clock ticks of 1/100 s on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

fn main() {
    match std::env::var(ROLE).as_deref() {
        Ok("robot") => serve_robot(),
        Ok("floor") => serve_floor(),
        _ => drive(Options::parse()),
    }
}

// ---------------------------------------------------------------------------------------------
// The servers (child processes). Each prints `listening ADDR`, answers `stats` on stdin with its
// allocation count, and exits when stdin closes.

/// Checks that the robot is listening.
#[lag_bot::command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// Rolls dice.
#[lag_bot::command("!roll", aliases("!dice"))]
async fn roll(_ctx: Ctx, sides: Option<u32>, count: Option<u8>) -> String {
    format!("d{} x{}", sides.unwrap_or(6), count.unwrap_or(1))
}

/// Repeats what you say.
#[lag_bot::command("!echo", aliases("!say"))]
async fn echo(_ctx: Ctx, text: Rest) -> String {
    text.into_inner()
}

/// Tells the time.
#[lag_bot::command("!time")]
async fn time(_ctx: Ctx, offset: Option<i8>) -> String {
    format!("UTC{:+}", offset.unwrap_or(0))
}

/// Answers thanks addressed to the robot by name.
#[lag_bot::hear(r"(?i)\b(?:thanks|thank you|thx),?\s+(?P<name>@?\w+)")]
async fn thanks(ctx: Ctx, caps: Captures) -> Option<String> {
    let name = caps.name("name")?.trim_start_matches('@');
    let who = ctx.message()?.sender_name.clone();
    name.eq_ignore_ascii_case(&ctx.me().name)
        .then(|| format!("You're welcome, {who}!"))
}

fn secrets() -> Vec<WebhookSecret> {
    vec![WebhookSecret::new(SECRET).unwrap()]
}

fn serve_robot() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let key = std::env::var("LAG_ROBOT_API_KEY").unwrap();
        let base = std::env::var("LAG_API_BASE").unwrap();
        let transport = WebhookConfig::new(secrets()).listen("127.0.0.1:0".parse().unwrap());
        // The `commands` example's command set (its replies are shortened: no load fires them
        // unless `--content` asks).
        let robot = Robot::builder()
            .key(key)
            .base_url(base)
            .transport(transport)
            .build()
            .unwrap()
            .command(ping())
            .command(roll())
            .command(echo())
            .command(time())
            .hear(thanks());
        let handle = robot.start().await.unwrap();
        announce(handle.local_addr().unwrap());
        answer_stats().await;
        handle.shutdown().await.unwrap();
    });
}

fn serve_floor() {
    use axum::http::{HeaderMap, StatusCode};

    async fn webhook(headers: HeaderMap, body: Bytes) -> StatusCode {
        let secrets = secrets();
        let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
        let verified = lag_bot::__fuzz::verify_webhook(
            &secrets,
            header("webhook-id"),
            header("webhook-timestamp"),
            header("webhook-signature"),
            &body,
            SystemTime::now(),
        );
        if verified.is_none() {
            return StatusCode::UNAUTHORIZED;
        }
        match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(_) => StatusCode::OK,
            Err(_) => StatusCode::BAD_REQUEST,
        }
    }

    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let app = axum::Router::new().route("/webhook", axum::routing::post(webhook));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        announce(listener.local_addr().unwrap());
        let server = tokio::spawn(async move { axum::serve(listener, app).await });
        answer_stats().await;
        server.abort();
    });
}

fn announce(addr: std::net::SocketAddr) {
    println!("listening {addr}");
    std::io::stdout().flush().unwrap();
}

/// Answers each `stats` line on stdin with the allocations so far; returns when stdin closes.
async fn answer_stats() {
    tokio::task::spawn_blocking(|| {
        for line in std::io::stdin().lines() {
            let Ok(line) = line else { break };
            if line.trim() == "stats" {
                let stats = GLOBAL.stats();
                println!("allocs {}", stats.allocations + stats.reallocations);
                std::io::stdout().flush().unwrap();
            }
        }
    })
    .await
    .unwrap();
}

// ---------------------------------------------------------------------------------------------
// The load client.

struct Options {
    seconds: u64,
    concurrency: usize,
    reps: usize,
    duplicates: u64,
    content: String,
}

impl Options {
    fn parse() -> Self {
        let mut options = Options {
            seconds: 10,
            concurrency: 64,
            reps: 2,
            duplicates: 0,
            content: "just chatting, nothing for the robot here".to_owned(),
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
                "--seconds" => options.seconds = number(value()).max(1),
                "--concurrency" => options.concurrency = number(value()).max(1) as usize,
                "--reps" => options.reps = number(value()).max(1) as usize,
                "--duplicates" => options.duplicates = number(value()).min(100),
                "--content" => options.content = value(),
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

/// A server child and its pipes.
struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    addr: String,
}

impl Server {
    fn start(role: &str, env: &[(&str, String)]) -> Self {
        let mut child = Process::new(std::env::current_exe().unwrap())
            .env(ROLE, role)
            .env("RUST_LOG", "warn")
            .envs(env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap();
        let stdin = child.stdin.take();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let mut line = String::new();
        stdout.read_line(&mut line).unwrap();
        let addr = line
            .trim()
            .strip_prefix("listening ")
            .unwrap_or_else(|| panic!("the {role} did not start: {line:?}"))
            .to_owned();
        Server {
            child,
            stdin,
            stdout,
            addr,
        }
    }

    fn allocations(&mut self) -> u64 {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "stats").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        line.trim()
            .strip_prefix("allocs ")
            .unwrap()
            .parse()
            .unwrap()
    }

    fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    fn peak_kib(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap();
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .unwrap_or(0)
    }

    /// Closes its stdin and waits for it to exit (killing it after 10 s).
    fn stop(mut self) {
        drop(self.stdin.take());
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        eprintln!("a server did not stop in 10 s; killing it");
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// User plus system CPU time of a process (`/proc/PID/stat`), in seconds.
fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields[11].parse().unwrap();
    let stime: f64 = fields[12].parse().unwrap();
    (utime + stime) / TICKS_PER_SECOND
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

struct Target {
    url: hyper::Uri,
    room: String,
    sender: String,
    run: u64,
}

/// Fires deliveries at `target` for `options.seconds` with `options.concurrency` in flight.
async fn fire(target: Arc<Target>, options: &Options) -> Run {
    let client: HttpClient<_, Full<Bytes>> = HttpClient::builder(TokioExecutor::new())
        .pool_max_idle_per_host(options.concurrency)
        .build_http();
    let secret = WebhookSecret::new(SECRET).unwrap();
    let counter = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let deadline = started + Duration::from_secs(options.seconds);
    let mut tasks = Vec::new();
    for _ in 0..options.concurrency {
        let (client, secret, counter, target) = (
            client.clone(),
            secret.clone(),
            counter.clone(),
            target.clone(),
        );
        let (duplicates, content) = (options.duplicates, options.content.clone());
        tasks.push(tokio::spawn(async move {
            let mut latencies = Vec::with_capacity(1 << 16);
            let mut failures: BTreeMap<String, u64> = BTreeMap::new();
            while Instant::now() < deadline {
                let mut n = counter.fetch_add(1, Ordering::Relaxed);
                // Every `100 / duplicates`-th delivery repeats the one before it, id and body.
                if duplicates > 0 && n > 0 && (n * duplicates) % 100 < duplicates {
                    n -= 1;
                }
                let id = format!("evt_{}_{n:012}", target.run);
                let body = format!(
                    r#"{{"type":"room.message","serverId":"srv_load","timestamp":"2026-01-01T00:00:00.000Z","data":{{"roomId":"{room}","messageId":"msg_{run}_{n:012}","senderId":"{sender}","senderName":"alice","content":"{content}","createdAt":"2026-01-01T00:00:00.000Z","isBot":false,"robotId":null,"mentions":[],"replyToId":null}}}}"#,
                    room = target.room,
                    run = target.run,
                    sender = target.sender,
                    content = content.replace('\\', "\\\\").replace('"', "\\\""),
                );
                let timestamp = unix_now();
                let signature = secret.sign(&id, timestamp, body.as_bytes());
                let request = hyper::Request::post(target.url.clone())
                    .header("content-type", "application/json")
                    .header("webhook-id", id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
                    .body(Full::new(Bytes::from(body)))
                    .unwrap();
                let sent = Instant::now();
                match client.request(request).await {
                    Ok(response) => {
                        let status = response.status();
                        let _ = response.into_body().collect().await;
                        if status.is_success() {
                            let us = sent.elapsed().as_micros();
                            latencies.push(u32::try_from(us).unwrap_or(u32::MAX));
                        } else {
                            *failures.entry(format!("HTTP {}", status.as_u16())).or_default() +=
                                1;
                        }
                    }
                    Err(error) => {
                        *failures
                            .entry(format!("connection: {error}"))
                            .or_default() += 1;
                    }
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
    let sim = runtime
        .block_on(lag_sim::Sim::start(lag_sim::SimConfig::default()))
        .unwrap();
    let demo = sim
        .seed_demo_with(lag_sim::RobotSpec::new("Helper").transport(lag_sim::Transport::LongPoll))
        .unwrap();
    let robot_env = [
        ("LAG_ROBOT_API_KEY", demo.robot.key.clone()),
        ("LAG_API_BASE", sim.base_url().to_string()),
    ];
    println!(
        "{} s per server and repetition, {} in flight, {} repetitions, {}% duplicates, content {:?}",
        options.seconds, options.concurrency, options.reps, options.duplicates, options.content
    );
    let mut results: BTreeMap<&str, Vec<Run>> = BTreeMap::new();
    let mut run_number = 0;
    for rep in 1..=options.reps {
        for role in ["robot", "floor"] {
            run_number += 1;
            let env: &[(&str, String)] = if role == "robot" { &robot_env } else { &[] };
            let mut server = Server::start(role, env);
            let target = Arc::new(Target {
                url: format!("http://{}/webhook", server.addr).parse().unwrap(),
                room: demo.general.clone(),
                sender: demo.alice.clone(),
                run: run_number,
            });
            let (cpu_before, allocs_before) = (server.cpu_seconds(), server.allocations());
            let client_before = cpu_seconds("/proc/self/stat");
            let mut run = runtime.block_on(fire(target, &options));
            // Let queued events finish before counting what they cost.
            std::thread::sleep(Duration::from_millis(300));
            run.server_cpu_s = server.cpu_seconds() - cpu_before;
            run.client_cpu_s = cpu_seconds("/proc/self/stat") - client_before;
            run.server_allocs = server.allocations() - allocs_before;
            run.peak_kib = server.peak_kib();
            server.stop();
            report(&format!("{role} #{rep}"), &run);
            results.entry(role).or_default().push(run);
        }
    }
    summarise(&results);
    drop(sim);
}

fn report(label: &str, run: &Run) {
    let failures: u64 = run.failures.values().sum();
    println!(
        "{label:<9} {:>8.0}/s  p50 {:>6.2} ms  p99 {:>6.2} ms  max {:>7.2} ms  server CPU {:>5.1} µs/delivery  \
         client CPU {:>5.1} µs  allocs {:>6.1}/delivery  peak {:>5.1} MiB  failures {failures}",
        run.per_second(),
        run.percentile_ms(0.5),
        run.percentile_ms(0.99),
        run.percentile_ms(1.0),
        run.cpu_us_per_delivery(),
        run.client_cpu_us_per_delivery(),
        run.allocs_per_delivery(),
        run.peak_kib as f64 / 1024.0,
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
    let rows: [Metric<'_>; 6] = [
        ("deliveries/s", &Run::per_second),
        ("p50 ms", &|r: &Run| r.percentile_ms(0.5)),
        ("p99 ms", &|r: &Run| r.percentile_ms(0.99)),
        ("server CPU µs/delivery", &Run::cpu_us_per_delivery),
        ("allocations/delivery", &Run::allocs_per_delivery),
        ("peak MiB", &|r: &Run| r.peak_kib as f64 / 1024.0),
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
