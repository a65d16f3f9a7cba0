//! Prometheus metrics of a running robot.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// The metrics of one robot, in the Prometheus/OpenMetrics text format.
///
/// A webhook robot serves them at `/metrics` next to its receiver; any robot can hand out
/// [`encode`](Self::encode) from its own endpoint, or serve them on a small listener of their own
/// (see the robot builder's `metrics_listen`). Every series is prefixed `lag_bot_`:
///
/// | series | type | labels |
/// |---|---|---|
/// | `lag_bot_deliveries_total` | counter | `transport`, `outcome` (`accepted`, `duplicate`, `unauthorized`, `malformed`, `too_large`, `body_timeout`, `queue_full`, `shutting_down`, `gone`) |
/// | `lag_bot_dedup_hits_total` | counter | `transport` |
/// | `lag_bot_queue_depth` | gauge | accepted deliveries whose handlers have not finished (one that no handler wants is done as it arrives and never counts) |
/// | `lag_bot_handlers_running` | gauge | |
/// | `lag_bot_handler_duration_seconds` | histogram | `handler` (a scheduled job by its name) |
/// | `lag_bot_handler_errors_total` | counter | `handler`, `cause` (`error`, `panic`) |
/// | `lag_bot_transport_reconnects_total` | counter | `transport` |
/// | `lag_bot_limiter_wait_seconds` | histogram | time outgoing calls waited for the rate limiter |
/// | `lag_bot_rate_limited_total` | counter | 429 answers seen by the client |
/// | `lag_bot_connections_open` | gauge | connections the robot's listener holds open |
/// | `lag_bot_connections_dropped_total` | counter | `reason` (`header_timeout`, `evicted`, `refused`): connections the listener closed without an answer, or refused at its cap |
/// | `lag_bot_intake_lag` | gauge | durable intake (Redis): events appended and not yet finished, all partitions |
/// | `lag_bot_intake_pending` | gauge | durable intake: events handed to a worker and not yet acknowledged |
/// | `lag_bot_intake_claimed_total` | counter | durable intake: unfinished events this replica took over from a previous holder |
/// | `lag_bot_intake_dead_lettered_total` | counter | durable intake: events this replica gave up after too many attempts |
///
/// ```
/// let metrics = lag_bot::metrics::Metrics::new();
/// let text = metrics.encode();
/// assert!(text.contains("lag_bot_queue_depth"));
/// assert!(text.ends_with("# EOF\n"));
/// ```
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    deliveries: Family<DeliveryLabels, Counter>,
    dedup_hits: Family<TransportLabels, Counter>,
    queue_depth: Gauge,
    handlers_running: Gauge,
    handler_duration: Family<HandlerLabels, Histogram>,
    handler_errors: Family<HandlerErrorLabels, Counter>,
    reconnects: Family<TransportLabels, Counter>,
    limiter_wait: Histogram,
    rate_limited: Counter,
    connections_open: Gauge,
    connections_dropped: Family<ReasonLabels, Counter>,
    intake: IntakeSeries,
}

/// The durable intake's series (zero for a robot without Redis).
#[derive(Default)]
struct IntakeSeries {
    lag: Gauge,
    pending: Gauge,
    claimed: Counter,
    dead_lettered: Counter,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ReasonLabels {
    reason: &'static str,
}

/// Why the listener closed a connection without answering it, as counted in
/// `lag_bot_connections_dropped_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Dropped {
    /// The request's head did not arrive in time (or a kept-alive connection sat idle).
    HeaderTimeout,
    /// Closed to make room for a new connection past the cap.
    Evicted,
    /// Refused at the cap, every open connection being mid-request.
    Refused,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DeliveryLabels {
    transport: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct TransportLabels {
    transport: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    handler: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerErrorLabels {
    handler: String,
    cause: &'static str,
}

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

/// What became of one incoming delivery, as counted in `lag_bot_deliveries_total`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    Accepted,
    Duplicate,
    Unauthorized,
    Malformed,
    TooLarge,
    BodyTimeout,
    QueueFull,
    ShuttingDown,
    Gone,
}

impl Outcome {
    fn label(self) -> &'static str {
        match self {
            Outcome::Accepted => "accepted",
            Outcome::Duplicate => "duplicate",
            Outcome::Unauthorized => "unauthorized",
            Outcome::Malformed => "malformed",
            Outcome::TooLarge => "too_large",
            Outcome::BodyTimeout => "body_timeout",
            Outcome::QueueFull => "queue_full",
            Outcome::ShuttingDown => "shutting_down",
            Outcome::Gone => "gone",
        }
    }
}

impl Metrics {
    /// The content type of [`encode`](Self::encode)'s output, for a `Content-Type` header.
    pub const CONTENT_TYPE: &'static str =
        "application/openmetrics-text; version=1.0.0; charset=utf-8";

    /// A fresh set of metrics, all zero.
    pub fn new() -> Self {
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        let dedup_hits = Family::<TransportLabels, Counter>::default();
        let queue_depth = Gauge::default();
        let handlers_running = Gauge::default();
        let handler_duration = Family::<HandlerLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> _,
        );
        let handler_errors = Family::<HandlerErrorLabels, Counter>::default();
        let reconnects = Family::<TransportLabels, Counter>::default();
        let limiter_wait = latency_histogram();
        let rate_limited = Counter::default();
        let connections_open = Gauge::default();
        let connections_dropped = Family::<ReasonLabels, Counter>::default();

        let mut registry = Registry::with_prefix("lag_bot");
        registry.register(
            "deliveries",
            "Incoming event deliveries by transport and outcome",
            deliveries.clone(),
        );
        registry.register(
            "dedup_hits",
            "Deliveries dropped as duplicates of an event already accepted",
            dedup_hits.clone(),
        );
        registry.register(
            "queue_depth",
            "Accepted deliveries whose handlers have not finished",
            queue_depth.clone(),
        );
        registry.register(
            "handlers_running",
            "Handlers running right now",
            handlers_running.clone(),
        );
        registry.register(
            "handler_duration_seconds",
            "How long handlers ran",
            handler_duration.clone(),
        );
        registry.register(
            "handler_errors",
            "Handler runs that failed, by cause",
            handler_errors.clone(),
        );
        registry.register(
            "transport_reconnects",
            "Times an SSE or long-poll consumer reconnected after an error",
            reconnects.clone(),
        );
        registry.register(
            "limiter_wait_seconds",
            "How long outgoing calls waited for the rate limiter",
            limiter_wait.clone(),
        );
        registry.register(
            "rate_limited",
            "429 Too Many Requests answers seen by the client",
            rate_limited.clone(),
        );
        registry.register(
            "connections_open",
            "Connections the robot's listener holds open",
            connections_open.clone(),
        );
        registry.register(
            "connections_dropped",
            "Connections the listener closed without an answer, or refused at its cap",
            connections_dropped.clone(),
        );
        let intake = IntakeSeries::default();
        registry.register(
            "intake_lag",
            "Durable intake: events appended and not yet finished",
            intake.lag.clone(),
        );
        registry.register(
            "intake_pending",
            "Durable intake: events handed to a worker and not yet acknowledged",
            intake.pending.clone(),
        );
        registry.register(
            "intake_claimed",
            "Durable intake: unfinished events taken over from a previous holder",
            intake.claimed.clone(),
        );
        registry.register(
            "intake_dead_lettered",
            "Durable intake: events given up after too many attempts",
            intake.dead_lettered.clone(),
        );
        Self {
            inner: Arc::new(Inner {
                registry,
                deliveries,
                dedup_hits,
                queue_depth,
                handlers_running,
                handler_duration,
                handler_errors,
                reconnects,
                limiter_wait,
                rate_limited,
                connections_open,
                connections_dropped,
                intake,
            }),
        }
    }

    /// All series in the OpenMetrics text format (which Prometheus scrapes), ending in `# EOF`.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.inner.registry).is_err() {
            out.clear();
        }
        out
    }

    pub(crate) fn delivery(&self, transport: &'static str, outcome: Outcome) {
        self.inner
            .deliveries
            .get_or_create(&DeliveryLabels {
                transport,
                outcome: outcome.label(),
            })
            .inc();
        if outcome == Outcome::Duplicate {
            self.inner
                .dedup_hits
                .get_or_create(&TransportLabels { transport })
                .inc();
        }
    }

    pub(crate) fn queue_depth(&self) -> &Gauge {
        &self.inner.queue_depth
    }

    pub(crate) fn handlers_running(&self) -> &Gauge {
        &self.inner.handlers_running
    }

    pub(crate) fn handler_finished(&self, handler: &str, took: Duration) {
        self.inner
            .handler_duration
            .get_or_create(&HandlerLabels {
                handler: handler.to_owned(),
            })
            .observe(took.as_secs_f64());
    }

    pub(crate) fn handler_failed(&self, handler: &str, panicked: bool) {
        self.inner
            .handler_errors
            .get_or_create(&HandlerErrorLabels {
                handler: handler.to_owned(),
                cause: if panicked { "panic" } else { "error" },
            })
            .inc();
    }

    pub(crate) fn reconnected(&self, transport: &'static str) {
        self.inner
            .reconnects
            .get_or_create(&TransportLabels { transport })
            .inc();
    }

    pub(crate) fn limiter_waited(&self, waited: Duration) {
        self.inner.limiter_wait.observe(waited.as_secs_f64());
    }

    pub(crate) fn rate_limited(&self) {
        self.inner.rate_limited.inc();
    }

    pub(crate) fn connections_open(&self) -> &Gauge {
        &self.inner.connections_open
    }

    pub(crate) fn connection_dropped(&self, why: Dropped) {
        let reason = match why {
            Dropped::HeaderTimeout => "header_timeout",
            Dropped::Evicted => "evicted",
            Dropped::Refused => "refused",
        };
        self.inner
            .connections_dropped
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }
}

#[cfg_attr(not(feature = "redis"), allow(dead_code))]
impl Metrics {
    pub(crate) fn intake_measured(&self, lag: i64, pending: i64) {
        self.inner.intake.lag.set(lag);
        self.inner.intake.pending.set(pending);
    }

    pub(crate) fn intake_claimed(&self, entries: usize) {
        self.inner
            .intake
            .claimed
            .inc_by(u64::try_from(entries).unwrap_or(u64::MAX));
    }

    pub(crate) fn intake_dead_lettered(&self) {
        self.inner.intake.dead_lettered.inc();
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl fmt::Debug for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Metrics")
            .field("queue_depth", &self.inner.queue_depth.get())
            .field("handlers_running", &self.inner.handlers_running.get())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_show_up_in_the_text() {
        let m = Metrics::new();
        m.delivery("webhook", Outcome::Accepted);
        m.delivery("webhook", Outcome::Duplicate);
        m.delivery("webhook", Outcome::Duplicate);
        m.handler_finished("welcome", Duration::from_millis(3));
        m.handler_failed("welcome", true);
        m.rate_limited();
        let text = m.encode();
        assert!(
            text.contains(r#"lag_bot_deliveries_total{transport="webhook",outcome="duplicate"} 2"#),
            "{text}"
        );
        assert!(text.contains(r#"lag_bot_dedup_hits_total{transport="webhook"} 2"#));
        assert!(
            text.contains(r#"lag_bot_handler_errors_total{handler="welcome",cause="panic"} 1"#)
        );
        assert!(text.contains(r#"lag_bot_handler_duration_seconds_count{handler="welcome"} 1"#));
        assert!(text.contains("lag_bot_rate_limited_total 1"));
    }
}
