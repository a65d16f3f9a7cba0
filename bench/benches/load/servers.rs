//! The servers under load, each a program of its own started as a child process: the robot
//! (`src/bin/lag-bot-load-robot.rs`, the `commands` example's command set on the webhook
//! transport) and the floor (`src/bin/lag-bot-load-floor.rs`, a bare axum handler), both
//! built by `cargo bench` with the benchmark. What they share with the load client is the
//! package's library; this is the client's side: starting them, asking for their allocation
//! counts, and what it reads about them from `/proc`.

use std::io::{BufRead as _, BufReader, Write as _};
use std::process::{Child, ChildStdin, ChildStdout, Command as Process, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use lag_bot_bench::{RAISED_MESSAGES, RAISED_REQUESTS};

/// `/proc` counts CPU time in clock ticks of 1/100 s on Linux.
const TICKS_PER_SECOND: f64 = 100.0;

/// The limits of the local Lag when replies are sent (see [`RAISED_MESSAGES`]), the same as
/// [`lag_bot_bench::raised_robot_limits`] gives the robot.
pub fn raised_sim_limits() -> lag_sim::RateLimits {
    lag_sim::RateLimits {
        requests: RAISED_REQUESTS.0 as usize,
        request_window: RAISED_REQUESTS.1,
        messages: RAISED_MESSAGES.0 as usize,
        message_window: RAISED_MESSAGES.1,
    }
}

/// Which server program to start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    Robot,
    Floor,
}

impl Role {
    pub fn name(self) -> &'static str {
        match self {
            Role::Robot => "robot",
            Role::Floor => "floor",
        }
    }

    fn program(self) -> &'static str {
        match self {
            Role::Robot => env!("CARGO_BIN_EXE_lag-bot-load-robot"),
            Role::Floor => env!("CARGO_BIN_EXE_lag-bot-load-floor"),
        }
    }
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
    pub fn start(role: Role, env: &[(&str, String)]) -> Self {
        let mut child = Process::new(role.program())
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
            .unwrap_or_else(|| panic!("the {} did not start: {line:?}", role.name()))
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
