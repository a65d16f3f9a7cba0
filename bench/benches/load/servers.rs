//! The servers under load, each a child process of this program: the robot (the `commands`
//! example's command set, webhook transport) and the floor (a bare axum handler). Each prints
//! `listening ADDR`, answers `stats` on stdin with its allocation count, and exits when stdin
//! closes. Also what the load client reads about a child from `/proc`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use lag_bot::client::{RateLimits, Window};
use lag_bot::command::{Captures, Rest};
use lag_bot::transport::{WebhookConfig, WebhookSecret};
use lag_bot::{Ctx, Robot};

use crate::GLOBAL;

/// The variable that makes this program a server child instead of the load client.
pub const ROLE: &str = "LAG_LOAD_ROLE";
/// The variable that gives the robot raised rate limits (see [`raised_sim_limits`]).
pub const SOAK: &str = "LAG_LOAD_SOAK";
/// The webhook signing secret both servers check.
pub const SECRET: &str = "whsec_bG9hZC1iZW5jaG1hcmstc2VjcmV0LWtleQ==";
/// `/proc` counts CPU time in clock ticks of 1/100 s on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// The limits of the local Lag when replies are sent, the soak's: 2,000 messages per 10 s and
/// 12,000 requests per minute (200 a second each), twice the soak's default reply rate. Lag's
/// own limits (10 messages per 10 s) allow one robot far fewer replies than a soak at 1,000
/// deliveries a second asks for; `--lag-limits` keeps them.
pub fn raised_sim_limits() -> lag_sim::RateLimits {
    lag_sim::RateLimits {
        requests: 12_000,
        request_window: Duration::from_secs(60),
        messages: 2_000,
        message_window: Duration::from_secs(10),
    }
}

/// The same limits for the robot's paced client.
pub fn raised_robot_limits() -> RateLimits {
    let sim = raised_sim_limits();
    RateLimits::lag()
        .messages(Some(Window::new(sim.messages as u32, sim.message_window)))
        .requests(Some(Window::new(sim.requests as u32, sim.request_window)))
}

/// Runs this process as the server named by [`ROLE`], if it is one; `false` for the client.
pub fn serve_if_child() -> bool {
    match std::env::var(ROLE).as_deref() {
        Ok("robot") => serve_robot(),
        Ok("floor") => serve_floor(),
        _ => return false,
    }
    true
}

/// Checks that the robot is listening.
#[lag_bot::command("!ping")]
pub async fn ping(_ctx: Ctx) -> &'static str {
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

pub fn secrets() -> Vec<WebhookSecret> {
    vec![WebhookSecret::new(SECRET).unwrap()]
}

fn serve_robot() {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    runtime.block_on(async {
        let key = std::env::var("LAG_ROBOT_API_KEY").unwrap();
        let base = std::env::var("LAG_API_BASE").unwrap();
        let transport = WebhookConfig::new(secrets()).listen("127.0.0.1:0".parse().unwrap());
        let mut builder = Robot::builder()
            .key(key)
            .base_url(base)
            .transport(transport);
        if std::env::var_os(SOAK).is_some() {
            builder = builder.rate_limits(raised_robot_limits());
        }
        // The `commands` example's command set (its replies are shortened).
        let robot = builder
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
                // Reallocations are already in both byte counts, as growth or shrinkage.
                let live = stats
                    .bytes_allocated
                    .saturating_sub(stats.bytes_deallocated);
                println!(
                    "allocs {} live {live}",
                    stats.allocations + stats.reallocations
                );
                std::io::stdout().flush().unwrap();
            }
        }
    })
    .await
    .unwrap();
}

/// A line of `/proc/PID/status` in KiB (0 when it cannot be read).
fn status_kib(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// The peak of a child's private resident memory, sampled every 10 ms until [`stop`](Self::stop).
pub struct PrivatePeak {
    stop: Arc<AtomicBool>,
    sampler: std::thread::JoinHandle<u64>,
}

impl PrivatePeak {
    /// The highest `RssAnon` seen, in KiB.
    pub fn stop(self) -> u64 {
        self.stop.store(true, Ordering::Relaxed);
        self.sampler.join().unwrap_or(0)
    }
}

/// A server child and its pipes.
pub struct Server {
    child: Child,
    stdin: Option<ChildStdin>,
    stdout: BufReader<ChildStdout>,
    pub addr: String,
}

impl Server {
    pub fn start(role: &str, env: &[(&str, String)]) -> Self {
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

    /// Its allocations and reallocations so far.
    pub fn allocations(&mut self) -> u64 {
        self.heap().0
    }

    /// Its allocations and reallocations so far, and the bytes its live allocations hold now
    /// (what the program uses, without what the allocator keeps for reuse).
    pub fn heap(&mut self) -> (u64, u64) {
        let stdin = self.stdin.as_mut().unwrap();
        writeln!(stdin, "stats").unwrap();
        stdin.flush().unwrap();
        let mut line = String::new();
        self.stdout.read_line(&mut line).unwrap();
        let mut words = line.split_whitespace();
        let mut number_after = |label: &str| {
            words
                .find(|word| *word == label)
                .and_then(|_| words.next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("the server's stats are unreadable: {line:?}"))
        };
        (number_after("allocs"), number_after("live"))
    }

    pub fn cpu_seconds(&self) -> f64 {
        cpu_seconds(&format!("/proc/{}/stat", self.child.id()))
    }

    /// A line of `/proc/PID/status` in KiB, e.g. `VmHWM` (peak) or `VmRSS` (now).
    pub fn status_kib(&self, field: &str) -> u64 {
        status_kib(self.child.id(), field)
    }

    /// Starts sampling the child's private resident memory (`RssAnon`: its heap, stacks and
    /// other memory of its own, without the executable's and libraries' pages it shares with
    /// the page cache), whose peak the kernel does not keep.
    pub fn sample_private(&self) -> PrivatePeak {
        let pid = self.child.id();
        let stop = Arc::new(AtomicBool::new(false));
        let stopped = Arc::clone(&stop);
        let sampler = std::thread::spawn(move || {
            let mut peak = 0;
            while !stopped.load(Ordering::Relaxed) {
                peak = peak.max(status_kib(pid, "RssAnon"));
                std::thread::sleep(Duration::from_millis(10));
            }
            peak.max(status_kib(pid, "RssAnon"))
        });
        PrivatePeak { stop, sampler }
    }

    /// How many files the child holds open (`/proc/PID/fd`).
    pub fn open_fds(&self) -> usize {
        std::fs::read_dir(format!("/proc/{}/fd", self.child.id()))
            .map(|dir| dir.count())
            .unwrap_or(0)
    }

    /// Closes its stdin and waits for it to exit (killing it after 10 s).
    pub fn stop(mut self) {
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
pub fn cpu_seconds(stat_path: &str) -> f64 {
    let stat = std::fs::read_to_string(stat_path).unwrap();
    // Fields after the command name, which is in parentheses and may hold spaces.
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    let utime: f64 = fields[11].parse().unwrap();
    let stime: f64 = fields[12].parse().unwrap();
    (utime + stime) / TICKS_PER_SECOND
}
