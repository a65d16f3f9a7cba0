//! The long-poll consumer: `GET /robots/@me/events/poll` in a loop.

use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::{Intake, Ready, hand_over, is_fatal};
use crate::Result;
use crate::client::Client;
use crate::events::decode_poll;
use crate::metrics::{Metrics, Outcome};

pub(crate) const TRANSPORT: &str = "poll";

/// Settings of the long-poll transport.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::transport::PollConfig;
///
/// let config = PollConfig::new().retry_delay(Duration::from_secs(1), Duration::from_secs(30));
/// # let _ = config;
/// ```
#[derive(Debug, Clone)]
pub struct PollConfig {
    pub(crate) retry_base: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) stop_grace: Duration,
}

impl PollConfig {
    /// Polls again at once after an answer; after a failure waits about 5 s, backing off up
    /// to 60 s while failures repeat.
    pub fn new() -> Self {
        Self {
            retry_base: Duration::from_secs(5),
            retry_max: Duration::from_secs(60),
            stop_grace: Duration::from_secs(2),
        }
    }

    /// The delay after a failed poll, and the cap it doubles up to while failures repeat.
    /// Each delay is jittered.
    pub fn retry_delay(mut self, first: Duration, max: Duration) -> Self {
        self.retry_base = first;
        self.retry_max = max;
        self
    }

    /// On shutdown, how long an open poll may still be awaited (default 2 s). Lag counts the
    /// events of a poll as taken once it answers, so an answer already on its way is handled
    /// rather than dropped; an idle hold is abandoned after the grace.
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }
}

impl Default for PollConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// How long a held poll counts as accepted by Lag, given how long a plain answer took: Lag
/// refuses a poll at once (409 for a robot set up for another transport) or holds it, so a poll
/// held for several round trips was accepted.
pub(crate) fn accepted_after(round_trip: Duration) -> Duration {
    (round_trip * 4).clamp(Duration::from_millis(250), Duration::from_secs(3))
}

/// Polls until `stop` fires. Returns an error only for failures retrying cannot fix.
pub(crate) async fn run(
    client: Client,
    config: PollConfig,
    intake: Arc<dyn Intake>,
    metrics: Metrics,
    mut ready: Ready,
    accepted_after: Duration,
    stop: CancellationToken,
) -> Result<()> {
    let mut backoff = Backoff::new(config.retry_base, config.retry_max);
    loop {
        if stop.is_cancelled() {
            return Ok(());
        }
        let poll = client.poll_raw();
        let mut poll = std::pin::pin!(poll);
        let polled = loop {
            tokio::select! {
                biased;
                polled = &mut poll => break polled,
                () = stop.cancelled() => match tokio::time::timeout(config.stop_grace, &mut poll).await {
                    Ok(polled) => break polled,
                    Err(_) => return Ok(()),
                },
                () = tokio::time::sleep(accepted_after), if ready.is_waiting() => ready.connected(),
            }
        };
        let failure = match polled.and_then(|body| decode_poll(&body)) {
            Ok(items) => {
                ready.connected();
                backoff.reset();
                for item in items {
                    let envelope = match item {
                        Ok(envelope) => envelope,
                        Err(err) => {
                            metrics.delivery(TRANSPORT, Outcome::Malformed);
                            tracing::warn!(error = %err, "skipping an event that does not decode");
                            continue;
                        }
                    };
                    hand_over(&*intake, &metrics, TRANSPORT, envelope).await?;
                }
                continue;
            }
            Err(err) if is_fatal(&err) => {
                tracing::error!(error = %err, "polling was refused; stopping");
                return Err(err);
            }
            Err(err) => err,
        };
        metrics.reconnected(TRANSPORT);
        let delay = backoff.next_delay();
        tracing::warn!(error = %failure, ?delay, "poll failed; retrying");
        tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(delay) => {}
        }
    }
}
