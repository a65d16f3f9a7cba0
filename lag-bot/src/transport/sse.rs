//! The SSE consumer: one long-lived `GET /robots/@me/events/sse`, resumed after every break.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use bytes::Bytes;
use eventsource_stream::Eventsource as _;
use futures_util::{Stream, StreamExt as _};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::{Intake, Ready, hand_over, is_fatal};
use crate::client::Client;
use crate::events::Envelope;
use crate::metrics::{Metrics, Outcome};
use crate::{Error, ErrorKind, Result};

pub(crate) const TRANSPORT: &str = "sse";

/// Settings of the SSE transport.
///
/// ```
/// use std::time::Duration;
/// use lag_bot::transport::SseConfig;
///
/// let config = SseConfig::new()
///     .keepalive(Duration::from_secs(30))
///     .reconnect_delay(Duration::from_millis(500), Duration::from_secs(30))
///     .resume_from("01J9ZK3Q");
/// assert_eq!(config.silence_limit(), Duration::from_secs(60));
/// ```
#[derive(Debug, Clone)]
pub struct SseConfig {
    pub(crate) keepalive: Duration,
    pub(crate) retry_base: Duration,
    pub(crate) retry_max: Duration,
    pub(crate) resume_from: Option<String>,
    pub(crate) stop_grace: Duration,
}

impl SseConfig {
    /// Lag's keepalive interval (30 s), reconnecting after 1 s, backing off up to 60 s.
    pub fn new() -> Self {
        Self {
            keepalive: Duration::from_secs(30),
            retry_base: Duration::from_secs(1),
            retry_max: Duration::from_secs(60),
            resume_from: None,
            stop_grace: Duration::from_secs(2),
        }
    }

    /// The interval at which Lag sends keepalives; a stream silent for twice as long is
    /// treated as dead and reopened.
    pub fn keepalive(mut self, interval: Duration) -> Self {
        self.keepalive = interval;
        self
    }

    /// How long a stream may stay silent before it counts as dead: twice the keepalive.
    pub fn silence_limit(&self) -> Duration {
        self.keepalive.saturating_mul(2)
    }

    /// The first delay before reconnecting, and the cap it doubles up to after repeated
    /// failures. Each delay is jittered so robots cut off together do not return together.
    pub fn reconnect_delay(mut self, first: Duration, max: Duration) -> Self {
        self.retry_base = first;
        self.retry_max = max;
        self
    }

    /// On shutdown, how long the consumer may keep reading events that were already on their
    /// way when it was asked to stop (default 2 s; it stops sooner once the stream is quiet).
    pub fn stop_grace(mut self, grace: Duration) -> Self {
        self.stop_grace = grace;
        self
    }

    /// Starts with `Last-Event-ID: id`, so Lag replays what arrived after `id` (e.g. the last
    /// id a previous run handled; see the running robot's `last_event_id`).
    pub fn resume_from(mut self, id: impl Into<String>) -> Self {
        self.resume_from = Some(id.into());
        self
    }
}

impl Default for SseConfig {
    fn default() -> Self {
        Self::new()
    }
}

/// Fails the byte stream when nothing (not even a keepalive) arrives within `limit`.
fn watchdog(
    stream: impl Stream<Item = Result<Bytes>> + Send + Unpin + 'static,
    limit: Duration,
) -> impl Stream<Item = Result<Bytes>> + Send + 'static {
    futures_util::stream::unfold(Some(stream), move |state| async move {
        let mut stream = state?;
        match tokio::time::timeout(limit, stream.next()).await {
            Ok(Some(item)) => Some((item, Some(stream))),
            Ok(None) => None,
            Err(_) => Some((
                Err(Error::new(
                    ErrorKind::Connection,
                    format!("the event stream was silent for {limit:?}; reconnecting"),
                )),
                None,
            )),
        }
    })
}

/// How long a stopping consumer keeps reading while frames are still arriving.
const QUIET: Duration = Duration::from_millis(250);

/// Consumes the stream until `stop` fires. Returns an error only for failures reconnecting
/// cannot fix (a rejected key, the wrong transport for this robot).
///
/// On `stop` it keeps reading frames that are already on their way (until the stream is quiet
/// for a moment, at most the configured grace), since Lag counts them as handed out.
pub(crate) async fn run(
    client: Client,
    config: SseConfig,
    intake: Arc<dyn Intake>,
    metrics: Metrics,
    last_seen: Arc<Mutex<Option<String>>>,
    mut ready: Ready,
    stop: CancellationToken,
) -> Result<()> {
    if let Some(id) = &config.resume_from {
        *last_seen.lock().unwrap_or_else(PoisonError::into_inner) = Some(id.clone());
    }
    let consumer = Consumer {
        intake,
        metrics,
        last_seen,
    };
    let mut backoff = Backoff::new(config.retry_base, config.retry_max);
    loop {
        let resume = consumer
            .last_seen
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone();
        let opened = tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            opened = client.sse_raw(resume.as_deref()) => opened,
        };
        match opened {
            Err(err) if is_fatal(&err) => {
                tracing::error!(error = %err, "the event stream was refused; stopping");
                return Err(err);
            }
            Err(err) => tracing::warn!(error = %err, "could not open the event stream"),
            Ok(bytes) => {
                tracing::info!(last_event_id = resume.as_deref(), "event stream open");
                ready.connected();
                backoff.reset();
                let frames = watchdog(bytes, config.silence_limit()).eventsource();
                let mut frames = std::pin::pin!(frames);
                let mut stop_by = None;
                loop {
                    let frame = if stop.is_cancelled() {
                        let deadline = *stop_by
                            .get_or_insert_with(|| tokio::time::Instant::now() + config.stop_grace);
                        let quiet = (tokio::time::Instant::now() + QUIET).min(deadline);
                        match tokio::time::timeout_at(quiet, frames.next()).await {
                            Ok(Some(Ok(frame))) => frame,
                            _ => return Ok(()),
                        }
                    } else {
                        let next = tokio::select! {
                            biased;
                            next = frames.next() => next,
                            () = stop.cancelled() => continue,
                        };
                        match next {
                            None => {
                                tracing::info!("Lag closed the event stream");
                                break;
                            }
                            Some(Err(err)) => {
                                tracing::warn!(error = %err, "the event stream broke");
                                break;
                            }
                            Some(Ok(frame)) => frame,
                        }
                    };
                    consumer.take(frame).await?;
                }
            }
        }
        if stop.is_cancelled() {
            return Ok(());
        }
        consumer.metrics.reconnected(TRANSPORT);
        let delay = backoff.next_delay();
        tracing::debug!(?delay, "reconnecting to the event stream");
        tokio::select! {
            biased;
            () = stop.cancelled() => return Ok(()),
            () = tokio::time::sleep(delay) => {}
        }
    }
}

struct Consumer {
    intake: Arc<dyn Intake>,
    metrics: Metrics,
    last_seen: Arc<Mutex<Option<String>>>,
}

impl Consumer {
    /// Hands one frame to the dispatcher and advances the resume point past it.
    async fn take(&self, frame: eventsource_stream::Event) -> Result<()> {
        let id = Some(frame.id.as_str()).filter(|id| !id.is_empty());
        match Envelope::from_sse(id, Some(&frame.event), &frame.data) {
            Ok(None) => return Ok(()),
            Ok(Some(envelope)) => {
                hand_over(&*self.intake, &self.metrics, TRANSPORT, envelope).await?;
            }
            Err(err) => {
                self.metrics.delivery(TRANSPORT, Outcome::Malformed);
                tracing::warn!(event_id = id, error = %err, "skipping an event that does not decode");
            }
        }
        if let Some(id) = id {
            *self
                .last_seen
                .lock()
                .unwrap_or_else(PoisonError::into_inner) = Some(id.to_owned());
        }
        Ok(())
    }
}
