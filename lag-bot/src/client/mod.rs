//! The REST client: every robot endpoint, paced under Lag's rate limits, retried where it is
//! safe, with typed results and errors.
//!
//! One [`Client`] serves a whole robot. Clones are cheap and share one connection pool, one
//! rate limiter and the cached robot identity, so pacing holds across every task that uses it.
//!
//! ```no_run
//! use lag_bot::client::Client;
//! # async fn run() -> lag_bot::Result<()> {
//! let client = Client::builder("lag_robot_abcd1234_secret").build()?;
//! let me = client.me().await?;
//! for room in client.rooms().await? {
//!     if room.name.as_deref() == Some("general") {
//!         client.send(&room.id, format!("{} is online", me.name)).await?;
//!     }
//! }
//! # Ok(())
//! # }
//! ```

mod builder;
mod call;
mod content;
mod endpoints;
mod limiter;
mod response;
mod retry;

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures_util::stream::BoxStream;
use reqwest::Url;
use reqwest::header::HeaderValue;

pub use builder::ClientBuilder;
pub use content::{check_content, split_content};
pub use limiter::{CallClass, MemoryLimiter, Permit, RateLimiter, RateLimits, Settlement, Window};
pub(crate) use response::error_detail;
pub use retry::RetryPolicy;
pub(crate) use retry::{doubling, parse_retry_after};

use crate::Result;
use crate::metrics::Metrics;
use crate::model::RobotInfo;

/// Lag's API host, the default base URL.
pub const DEFAULT_BASE_URL: &str = "https://api.trylag.com";

/// A stream of raw body chunks (the SSE event stream).
pub(crate) type ByteStream = BoxStream<'static, Result<Bytes>>;

/// A handle on Lag's REST API for one robot.
///
/// Cheap to clone; every clone shares the rate limiter, so a robot never exceeds Lag's limits
/// however many tasks call it. See the [module docs](self) for an example.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    base: Url,
    auth: HeaderValue,
    timeout: Duration,
    retry: RetryPolicy,
    rate_limits: RateLimits,
    limiter: Arc<dyn RateLimiter>,
    metrics: Option<Metrics>,
    /// What retry waits sleep on.
    clock: crate::clock::Clock,
    me: tokio::sync::Mutex<Option<RobotInfo>>,
}

impl Client {
    /// Starts configuring a client for the robot with API key `key` (`lag_robot_...`).
    pub fn builder(key: impl Into<String>) -> ClientBuilder {
        ClientBuilder::new(key.into())
    }

    /// A client for Lag's API with every default.
    pub fn new(key: impl Into<String>) -> Result<Self> {
        Self::builder(key).build()
    }

    /// The base URL calls go to.
    pub fn base_url(&self) -> &str {
        self.inner.base.as_str()
    }

    /// The limits given to the builder ([`ClientBuilder::rate_limits`], Lag's by default). A
    /// limiter supplied with [`ClientBuilder::rate_limiter`] paces by its own limits instead.
    pub fn rate_limits(&self) -> &RateLimits {
        &self.inner.rate_limits
    }
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("key", &"[redacted]")
            .field("base_url", &self.inner.base.as_str())
            .field("rate_limits", &self.inner.rate_limits)
            .field("retry", &self.inner.retry)
            .finish_non_exhaustive()
    }
}
