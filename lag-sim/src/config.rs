//! How an emulator instance behaves: address, time scale, timeouts, limits.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use crate::clock::ManualClock;
use crate::wire::{EventType, Permission};

/// Settings for [`Sim::start`](crate::Sim::start).
///
/// All durations are simulated time: the emulator divides them by `time_scale` before waiting,
/// except `webhook_timeout`, which is the robot's real budget for answering a webhook.
///
/// ```
/// use std::time::Duration;
/// use lag_sim::SimConfig;
/// let config = SimConfig { time_scale: 100.0, ..SimConfig::default() };
/// assert_eq!(config.keepalive, Duration::from_secs(30));
/// assert!(config.bind.ip().is_loopback());
/// ```
#[derive(Debug, Clone)]
pub struct SimConfig {
    /// Where to listen; port 0 picks a free port. Defaults to `127.0.0.1:0`.
    pub bind: SocketAddr,
    /// How much faster than real time timers run (1.0 = real time, 100.0 = 100x faster).
    pub time_scale: f64,
    /// Interval between SSE keepalive comments (30 s).
    pub keepalive: Duration,
    /// How long a long-poll request is held when no event is queued (30 s).
    pub poll_timeout: Duration,
    /// How long the emulator waits for a webhook response, in real time (15 s).
    pub webhook_timeout: Duration,
    /// The two per-robot rate limits.
    pub rate_limits: RateLimits,
    /// How long the previous webhook secret keeps signing after a rotation (24 h).
    pub secret_overlap: Duration,
    /// How long events are kept for SSE replay and for robots that are down (24 h).
    pub retention: Duration,
    /// The most events kept per robot, oldest dropped first (10 000).
    pub max_retained_events: usize,
    /// The most delivery-log entries kept per robot, oldest dropped first (10 000).
    pub max_delivery_log: usize,
    /// The largest request body accepted; larger ones get 413 (64 KiB).
    pub body_limit: usize,
    /// Simulated time for the world, when set: rate-limit windows, webhook retry delays, secret
    /// overlaps, retention and voice durations follow this clock instead of `time_scale`, and
    /// move only when it is advanced. Connection timers stay real. See [`ManualClock`].
    pub clock: Option<ManualClock>,
    /// Who may use the playground and the admin API under `/_sim` (default
    /// [`AdminAccess::ByAddress`]: open on loopback, behind a token anywhere else).
    pub admin_access: AdminAccess,
    /// Overrides of the permission each event type needs (`None`: no permission). Types not
    /// listed use [`EventType::required_permission`].
    pub event_permissions: HashMap<EventType, Option<Permission>>,
}

impl Default for SimConfig {
    fn default() -> Self {
        Self {
            bind: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)),
            time_scale: 1.0,
            keepalive: Duration::from_secs(30),
            poll_timeout: Duration::from_secs(30),
            webhook_timeout: Duration::from_secs(15),
            rate_limits: RateLimits::default(),
            secret_overlap: Duration::from_secs(24 * 60 * 60),
            retention: Duration::from_secs(24 * 60 * 60),
            max_retained_events: 10_000,
            max_delivery_log: 10_000,
            body_limit: 64 * 1024,
            clock: None,
            admin_access: AdminAccess::default(),
            event_permissions: HashMap::new(),
        }
    }
}

/// Who may use the playground page and the admin API under `/_sim`.
///
/// The admin API reads robot keys and acts as any member, so it is open only to whoever can
/// reach a loopback address. Anywhere else, lag-sim makes a random token at start
/// ([`Sim::admin_token`](crate::Sim::admin_token)) that every request to the page or the admin
/// API must carry: in the `X-Lag-Sim-Token` header, or in the cookie that opening
/// `/?token=...` sets (`HttpOnly`, `SameSite=Strict`). A state-changing request needs the
/// header, so that a page on another site cannot make one with the cookie alone; and wherever
/// lag-sim listens, a state-changing request that a browser marks as coming from another site
/// (`Sec-Fetch-Site`, or an `Origin` other than lag-sim's own) is refused with 403.
///
/// ```
/// use lag_sim::{AdminAccess, SimConfig};
/// // A test on 127.0.0.1 that checks the protected mode asks for it.
/// let config = SimConfig { admin_access: AdminAccess::Token, ..SimConfig::default() };
/// assert!(config.admin_access.needs_token(config.bind.ip()));
/// assert!(!AdminAccess::ByAddress.needs_token(SimConfig::default().bind.ip()));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum AdminAccess {
    /// Open on a loopback address, behind a token on any other (`0.0.0.0` included).
    #[default]
    ByAddress,
    /// Behind a token wherever lag-sim listens, loopback included.
    Token,
}

impl AdminAccess {
    /// Whether the page and the admin API need the token when lag-sim listens on `ip`.
    pub fn needs_token(self, ip: IpAddr) -> bool {
        match self {
            AdminAccess::ByAddress => !ip.is_loopback(),
            AdminAccess::Token => true,
        }
    }
}

/// Lag's per-robot rate limits (sliding windows).
///
/// ```
/// use lag_sim::RateLimits;
/// let limits = RateLimits::default();
/// assert_eq!((limits.requests, limits.messages), (100, 10));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimits {
    /// Requests allowed per `request_window` over all robot endpoints (100).
    pub requests: usize,
    /// The request window (60 s).
    pub request_window: Duration,
    /// `POST .../messages` requests allowed per `message_window`, all rooms together (10).
    pub messages: usize,
    /// The message window (10 s).
    pub message_window: Duration,
}

impl Default for RateLimits {
    fn default() -> Self {
        Self {
            requests: 100,
            request_window: Duration::from_secs(60),
            messages: 10,
            message_window: Duration::from_secs(10),
        }
    }
}
