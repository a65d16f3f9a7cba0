//! The soak: the robot alone under a steady rate of deliveries for minutes (by default 1,000 a
//! second for 10 minutes, a tenth of them `!ping`, answered through the paced client), sampled
//! every few seconds: memory (resident, and the bytes its live allocations hold), open files,
//! the robot's queue depth and errors. It ends with a verdict on whether memory and
//! descriptors stayed flat.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tokio::sync::Semaphore;

use crate::deliveries::{Outcome, Sender, count_failure, with_duplicates};
use crate::servers::{Role, Server};
use crate::{COMMAND, Lag, Options};

/// What the deliveries came to so far, shared by the firing tasks and the sampler.
#[derive(Default)]
struct Tally {
    sent: AtomicU64,
    answered: AtomicU64,
    commands_answered: AtomicU64,
    failures: Mutex<BTreeMap<String, u64>>,
    /// Acknowledgement times since the last sample, in microseconds.
    latencies_us: Mutex<Vec<u32>>,
}

/// One row of the table.
struct Sample {
    at_s: f64,
    per_second: f64,
    p99_ms: f64,
    rss_kib: u64,
    live_bytes: u64,
    fds: usize,
    queue_depth: f64,
    handler_errors: f64,
    refused: f64,
    failed: u64,
    commands_done: f64,
}

/// The robot's own figures, read from its `/metrics`.
#[derive(Default)]
struct RobotMetrics {
    queue_depth: f64,
    handler_errors: f64,
    refused: f64,
    commands_done: f64,
}

impl RobotMetrics {
    fn parse(text: &str) -> Self {
        let mut metrics = Self::default();
        for line in text.lines().filter(|l| !l.starts_with('#')) {
            let Some((series, value)) = line.rsplit_once(' ') else {
                continue;
            };
            let Ok(value) = value.parse::<f64>() else {
                continue;
            };
            let name = series.split('{').next().unwrap_or(series);
            match name {
                "lag_bot_queue_depth" => metrics.queue_depth = value,
                "lag_bot_handler_errors_total" => metrics.handler_errors += value,
                "lag_bot_deliveries_total"
                    if series.contains("queue_full") || series.contains("shutting_down") =>
                {
                    metrics.refused += value;
                }
                "lag_bot_handler_duration_seconds_count" if series.contains("ping\"") => {
                    metrics.commands_done = value;
                }
                _ => {}
            }
        }
        metrics
    }
}

pub fn run(options: Options) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let _context = runtime.enter();
    let lag = Lag::start(&runtime, &options);
    let mut server = Server::start(Role::Robot, &lag.robot_env);
    let target = lag.target(&server, 1);
    let options = Arc::new(options);
    let sender = Sender::new(options.concurrency);
    let metrics_url: hyper::Uri = format!("http://{}/metrics", server.addr).parse().unwrap();
    let tally = Arc::new(Tally::default());
    let duration = Duration::from_secs(options.minutes * 60);
    println!(
        "soak: {} deliveries/s for {} min, {}% `{COMMAND}` ({}), at most {} in flight, \
         a sample every {} s",
        options.soak_rate(),
        options.minutes,
        options.command_percent(),
        if options.raised_limits() {
            "raised limits"
        } else {
            "Lag's limits"
        },
        options.concurrency,
        options.every,
    );
    println!(
        "{:>6} {:>9} {:>8} {:>8} {:>9} {:>5} {:>6} {:>8} {:>8} {:>8} {:>9}",
        "t s",
        "deliv/s",
        "p99 ms",
        "RSS MiB",
        "heap MiB",
        "fds",
        "queue",
        "h.errors",
        "refused",
        "failed",
        "pings run"
    );

    let firing = runtime.spawn(fire_steadily(
        sender.clone(),
        target,
        options.clone(),
        tally.clone(),
        duration,
    ));
    let started = Instant::now();
    let mut samples = Vec::new();
    let mut last_answered = 0;
    let mut last_at = started;
    while !firing.is_finished() {
        std::thread::sleep(Duration::from_secs(options.every).min(duration));
        let sample = sample(
            &runtime,
            &sender,
            &metrics_url,
            &mut server,
            &tally,
            started,
            {
                let answered = tally.answered.load(Ordering::Relaxed);
                let rate = (answered - last_answered) as f64 / last_at.elapsed().as_secs_f64();
                (last_answered, last_at) = (answered, Instant::now());
                rate
            },
        );
        print_row(&sample);
        samples.push(sample);
    }
    runtime.block_on(firing).unwrap();

    // Let the queue drain and the last replies go out, then take the closing figures.
    let drained_by = Instant::now() + Duration::from_secs(60);
    let mut closing;
    loop {
        let metrics = robot_metrics(&runtime, &sender, &metrics_url);
        closing = metrics;
        if closing.queue_depth == 0.0 || Instant::now() > drained_by {
            break;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
    let end_rss = server.status_kib("VmRSS");
    let end_heap = server.heap().1;
    let end_fds = server.open_fds();
    let peak = server.status_kib("VmHWM");
    let replies = lag.replies();
    server.stop();
    drop(lag);

    let sent = tally.sent.load(Ordering::Relaxed);
    let answered = tally.answered.load(Ordering::Relaxed);
    let commands = tally.commands_answered.load(Ordering::Relaxed);
    println!(
        "\nsent {sent}, answered 2xx {answered}, of them `{COMMAND}` {commands}; \
         `{COMMAND}` handlers finished {:.0}, replies stored by the local Lag {replies}",
        closing.commands_done
    );
    let failures = tally.failures.lock().unwrap();
    for (why, count) in failures.iter() {
        println!("  {count} × {why}");
    }
    println!(
        "after the drain: queue depth {:.0}, RSS {:.1} MiB, live heap {:.2} MiB, {end_fds} open \
         files, peak {:.1} MiB",
        closing.queue_depth,
        end_rss as f64 / 1024.0,
        end_heap as f64 / (1024.0 * 1024.0),
        peak as f64 / 1024.0
    );
    verdict(&samples);
}

/// Sends `options.soak_rate()` deliveries a second on a fixed schedule (not waiting for answers),
/// with at most `options.concurrency` in flight: when that many are waiting, the schedule
/// slips and the table's rate shows it.
async fn fire_steadily(
    sender: Sender,
    target: Arc<crate::Target>,
    options: Arc<Options>,
    tally: Arc<Tally>,
    duration: Duration,
) {
    let in_flight = Arc::new(Semaphore::new(options.concurrency));
    let period = Duration::from_secs(1).div_f64(options.soak_rate() as f64);
    let started = tokio::time::Instant::now();
    let end = started + duration;
    let mut tasks = tokio::task::JoinSet::new();
    for count in 0u64.. {
        let at = started + period.mul_f64(count as f64);
        if at >= end {
            break;
        }
        tokio::time::sleep_until(at).await;
        let permit = in_flight.clone().acquire_owned().await.unwrap();
        let (sender, target, options, tally) = (
            sender.clone(),
            target.clone(),
            options.clone(),
            tally.clone(),
        );
        tally.sent.fetch_add(1, Ordering::Relaxed);
        tasks.spawn(async move {
            let n = with_duplicates(count, options.duplicates);
            let content = options.content_of(n);
            match sender.send(&target, n, content).await {
                Outcome::Answered(us) => {
                    tally.answered.fetch_add(1, Ordering::Relaxed);
                    if content == COMMAND {
                        tally.commands_answered.fetch_add(1, Ordering::Relaxed);
                    }
                    tally.latencies_us.lock().unwrap().push(us);
                }
                Outcome::Failed(why) => count_failure(&mut tally.failures.lock().unwrap(), why),
            }
            drop(permit);
        });
        // Reap finished tasks as we go, so that the set stays as small as what is in flight.
        while tasks.try_join_next().is_some() {}
    }
    while tasks.join_next().await.is_some() {}
}

fn robot_metrics(
    runtime: &tokio::runtime::Runtime,
    sender: &Sender,
    url: &hyper::Uri,
) -> RobotMetrics {
    runtime
        .block_on(sender.get_text(url.clone()))
        .map(|text| RobotMetrics::parse(&text))
        .unwrap_or_default()
}

fn sample(
    runtime: &tokio::runtime::Runtime,
    sender: &Sender,
    metrics_url: &hyper::Uri,
    server: &mut Server,
    tally: &Tally,
    started: Instant,
    per_second: f64,
) -> Sample {
    let metrics = robot_metrics(runtime, sender, metrics_url);
    let mut latencies = std::mem::take(&mut *tally.latencies_us.lock().unwrap());
    latencies.sort_unstable();
    let p99_ms = latencies
        .get((latencies.len().saturating_sub(1) as f64 * 0.99).round() as usize)
        .map_or(f64::NAN, |us| f64::from(*us) / 1000.0);
    Sample {
        at_s: started.elapsed().as_secs_f64(),
        per_second,
        p99_ms,
        rss_kib: server.status_kib("VmRSS"),
        live_bytes: server.heap().1,
        fds: server.open_fds(),
        queue_depth: metrics.queue_depth,
        handler_errors: metrics.handler_errors,
        refused: metrics.refused,
        failed: tally.failures.lock().unwrap().values().sum(),
        commands_done: metrics.commands_done,
    }
}

fn print_row(s: &Sample) {
    println!(
        "{:>6.0} {:>9.0} {:>8.2} {:>8.1} {:>9.2} {:>5} {:>6.0} {:>8.0} {:>8.0} {:>8} {:>9.0}",
        s.at_s,
        s.per_second,
        s.p99_ms,
        s.rss_kib as f64 / 1024.0,
        s.live_bytes as f64 / (1024.0 * 1024.0),
        s.fds,
        s.queue_depth,
        s.handler_errors,
        s.refused,
        s.failed,
        s.commands_done
    );
}

/// Growing when every sample of the last third is above every sample of the first third
/// (after the first sample, the warm-up) by more than a margin: 10% and at least 1 MiB of
/// memory, 8 open files. A leak lifts the whole curve; pooled connections and allocator
/// caches only make it wobble.
fn verdict(samples: &[Sample]) {
    let warm = samples.get(1..).unwrap_or_default();
    if warm.len() < 3 {
        println!("verdict: too few samples for a verdict (run longer, or sample more often)");
        return;
    }
    let third = warm.len() / 3;
    let (first, last) = (&warm[..third], &warm[warm.len() - third..]);
    let rss_first = first.iter().map(|s| s.rss_kib).max().unwrap_or(0);
    let rss_last = last.iter().map(|s| s.rss_kib).min().unwrap_or(0);
    let fds_first = first.iter().map(|s| s.fds).max().unwrap_or(0);
    let fds_last = last.iter().map(|s| s.fds).min().unwrap_or(0);
    let rss_flat = rss_last <= rss_first + (rss_first / 10).max(1024);
    let fds_flat = fds_last <= fds_first + 8;
    let word = |flat: bool| if flat { "flat" } else { "growing" };
    println!(
        "verdict: memory {} (highest RSS of the first third {:.1} MiB, lowest of the last \
         {:.1} MiB), open files {} (highest of the first third {fds_first}, lowest of the \
         last {fds_last})",
        word(rss_flat),
        rss_first as f64 / 1024.0,
        rss_last as f64 / 1024.0,
        word(fds_flat),
    );
}
