//! End-to-end latency per transport: a member posts `!ping` in a local Lag at a steady rate
//! (default 5 a second), the robot in this process receives it over the webhook, SSE or long
//! polling, and answers through its paced client; the latency is the time from the post to
//! the reply appearing in the local Lag's live feed.

use std::collections::VecDeque;
use std::net::TcpListener;
use std::time::{Duration, Instant};

use lag_bot::transport::{PollConfig, SseConfig, Transport, WebhookConfig, WebhookSecret};
use lag_bot::{Ctx, Robot};
use lag_bot_bench::raised_robot_limits;
use lag_sim::{EventType, RobotSpec, Sim, SimConfig};

use crate::Options;
use crate::servers::raised_sim_limits;

/// Checks that the robot is listening.
#[lag_bot::command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

/// The transports measured, in order.
const TRANSPORTS: [&str; 3] = ["webhook", "sse", "poll"];

pub fn run(options: Options) {
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let rate = options.rate.unwrap_or(5);
    println!(
        "latency: `!ping` posted {rate} times a second for {} s per transport, answered through \
         the paced client (raised limits); from the post to the reply in the local Lag",
        options.seconds
    );
    println!(
        "{:<8} {:>6} {:>8} {:>8} {:>8} {:>8}",
        "via", "posts", "replies", "p50 ms", "p99 ms", "max ms"
    );
    for transport in TRANSPORTS {
        let (posts, mut latencies) = runtime.block_on(measure(transport, rate, options.seconds));
        latencies.sort_unstable();
        let at = |p: f64| {
            latencies
                .get((latencies.len().saturating_sub(1) as f64 * p).round() as usize)
                .map_or(f64::NAN, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "{transport:<8} {posts:>6} {:>8} {:>8.2} {:>8.2} {:>8.2}",
            latencies.len(),
            at(0.5),
            at(0.99),
            at(1.0)
        );
    }
}

/// Posts `rate` pings a second for `seconds` to a robot receiving over `transport`; the number
/// posted and the latency of each reply.
async fn measure(transport: &str, rate: u64, seconds: u64) -> (u64, Vec<Duration>) {
    let config = SimConfig {
        rate_limits: raised_sim_limits(),
        ..SimConfig::default()
    };
    let sim = Sim::start(config).await.unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let receiver = match transport {
        "webhook" => lag_sim::Transport::Webhook {
            url: format!("http://{}/webhook", listener.local_addr().unwrap()),
        },
        "sse" => lag_sim::Transport::Sse,
        _ => lag_sim::Transport::LongPoll,
    };
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(receiver))
        .unwrap();
    let robot_transport = match transport {
        "webhook" => Transport::from(
            WebhookConfig::new([WebhookSecret::new(demo.robot.secret()).unwrap()])
                .listener(listener),
        ),
        "sse" => Transport::from(SseConfig::new()),
        _ => Transport::from(PollConfig::new()),
    };
    let handle = Robot::builder()
        .key(demo.robot.key.clone())
        .base_url(sim.base_url())
        .transport(robot_transport)
        .rate_limits(raised_robot_limits())
        .build()
        .unwrap()
        .command(ping())
        .start()
        .await
        .unwrap();
    let mut feed = sim.subscribe();
    let total = rate * seconds;
    let mut tick = tokio::time::interval(Duration::from_secs(1).div_f64(rate as f64));
    let give_up = tokio::time::sleep(Duration::from_secs(seconds + 10));
    tokio::pin!(give_up);
    let (mut sent, mut posted, mut latencies) = (0, VecDeque::new(), Vec::new());
    while (latencies.len() as u64) < total {
        tokio::select! {
            _ = tick.tick(), if sent < total => {
                posted.push_back(Instant::now());
                sim.post(&demo.alice, &demo.general, "!ping").unwrap();
                sent += 1;
            }
            event = feed.recv() => {
                let Some(event) = event else { break };
                let is_reply = event.kind == EventType::RoomMessage
                    && event.body.data["robotId"].is_string()
                    && event.body.data["content"] == "pong";
                if is_reply && let Some(at) = posted.pop_front() {
                    latencies.push(at.elapsed());
                }
            }
            () = &mut give_up => break,
        }
    }
    handle.shutdown().await.unwrap();
    sim.shutdown().await;
    (total, latencies)
}
