//! Property: under any interleaving of concurrent callers, unsent calls and 429 pauses, the
//! in-memory limiter never lets more calls through than Lag's sliding windows allow. Run in
//! Tokio's paused time, so every schedule takes no real time and is exact.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use proptest::prelude::*;
use tokio::time::Instant;

use super::memory::MemoryLimiter;
use super::{CallClass, RateLimiter, RateLimits, Settlement, Window};

/// What one caller does.
#[derive(Debug, Clone)]
struct Call {
    /// When it asks, from the start.
    after_ms: u64,
    message: bool,
    /// How long the attempt takes once admitted.
    takes_ms: u64,
    outcome: Outcome,
}

#[derive(Debug, Clone)]
enum Outcome {
    Sent,
    /// The attempt never left (a connection error): its place is given back.
    Unsent,
    /// Lag answered 429 asking to wait this long: counted, and every caller pauses.
    RateLimited(u64),
}

fn call() -> impl Strategy<Value = Call> {
    let outcome = prop_oneof![
        6 => Just(Outcome::Sent),
        2 => Just(Outcome::Unsent),
        1 => (1u64..3_000).prop_map(Outcome::RateLimited),
    ];
    (0u64..20_000, any::<bool>(), 0u64..1_500, outcome).prop_map(
        |(after_ms, message, takes_ms, outcome)| Call {
            after_ms,
            message,
            takes_ms,
            outcome,
        },
    )
}

/// Small windows, so that schedules of a few dozen calls press against them.
fn limits() -> RateLimits {
    RateLimits::lag()
        .requests(Some(Window::new(7, Duration::from_secs(6))))
        .messages(Some(Window::new(3, Duration::from_secs(2))))
}

/// Runs the callers and returns, for each call that reached Lag, when it was admitted and
/// whether it was a message.
fn run(calls: Vec<Call>) -> Vec<(Instant, bool)> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    runtime.block_on(async move {
        let limiter = Arc::new(MemoryLimiter::new(limits()));
        let reached: Arc<Mutex<Vec<(Instant, bool)>>> = Arc::default();
        let start = Instant::now();
        let mut tasks = Vec::new();
        for call in calls {
            let (limiter, reached) = (Arc::clone(&limiter), Arc::clone(&reached));
            tasks.push(tokio::spawn(async move {
                tokio::time::sleep_until(start + Duration::from_millis(call.after_ms)).await;
                let class = if call.message {
                    CallClass::Message
                } else {
                    CallClass::Request
                };
                let permit = limiter.acquire(class).await.expect("the memory limiter");
                let admitted = Instant::now();
                tokio::time::sleep(Duration::from_millis(call.takes_ms)).await;
                match call.outcome {
                    Outcome::Sent => {
                        reached.lock().unwrap().push((admitted, call.message));
                        permit.settle(Settlement::Sent);
                    }
                    Outcome::Unsent => permit.settle(Settlement::Unsent),
                    Outcome::RateLimited(wait) => {
                        reached.lock().unwrap().push((admitted, call.message));
                        permit.settle(Settlement::Sent);
                        limiter
                            .pause(Duration::from_millis(wait))
                            .await
                            .expect("the memory limiter");
                    }
                }
            }));
        }
        for task in tasks {
            task.await.expect("a caller");
        }
        reached.lock().unwrap().clone()
    })
}

/// The most calls among `times` that fall in one window of `period` (half-open, as Lag counts).
fn busiest(times: &[Instant], period: Duration) -> usize {
    times
        .iter()
        .map(|end| {
            times
                .iter()
                .filter(|t| **t <= *end && end.duration_since(**t) < period)
                .count()
        })
        .max()
        .unwrap_or(0)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn never_more_than_the_windows_allow(calls in proptest::collection::vec(call(), 1..40)) {
        let limits = limits();
        let reached = run(calls);
        let all: Vec<Instant> = reached.iter().map(|(t, _)| *t).collect();
        let messages: Vec<Instant> = reached.iter().filter(|(_, m)| *m).map(|(t, _)| *t).collect();
        let requests = limits.requests.expect("a request window");
        let message_window = limits.messages.expect("a message window");
        prop_assert!(busiest(&all, requests.period) <= requests.limit as usize);
        prop_assert!(busiest(&messages, message_window.period) <= message_window.limit as usize);
    }
}

#[test]
fn the_property_catches_a_limiter_that_lets_too_much_through() {
    // The check itself: eight calls in one second break a window of seven per six seconds.
    let start = Instant::now();
    let times: Vec<Instant> = (0..8)
        .map(|i| start + Duration::from_millis(i * 100))
        .collect();
    assert_eq!(busiest(&times, Duration::from_secs(6)), 8);
    assert_eq!(busiest(&times, Duration::from_millis(350)), 4);
}
