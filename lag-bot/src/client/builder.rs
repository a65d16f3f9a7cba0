//! [`ClientBuilder`]: the settings a [`Client`] is built from.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use reqwest::header::{self, HeaderMap, HeaderValue};

use super::limiter::{MemoryLimiter, RateLimiter, RateLimits};
use super::retry::RetryPolicy;
use super::{Client, DEFAULT_BASE_URL, Inner};
use crate::clock::Clock;
use crate::metrics::Metrics;
use crate::{Error, Result};

/// Configures a [`Client`]. Made by [`Client::builder`].
///
/// ```
/// use std::time::Duration;
/// use lag_bot::client::{Client, RateLimits};
/// let client = Client::builder("lag_robot_abcd1234_secret")
///     .base_url("http://127.0.0.1:4000")
///     .timeout(Duration::from_secs(10))
///     .user_agent("my-robot/1.0")
///     .rate_limits(RateLimits::lag())
///     .build()?;
/// assert_eq!(client.base_url(), "http://127.0.0.1:4000/");
/// assert!(!format!("{client:?}").contains("secret"));
/// # Ok::<(), lag_bot::Error>(())
/// ```
pub struct ClientBuilder {
    key: String,
    base_url: String,
    timeout: Duration,
    connect_timeout: Duration,
    user_agent: String,
    rate_limits: RateLimits,
    rate_limiter: Option<Arc<dyn RateLimiter>>,
    retry: RetryPolicy,
    metrics: Option<Metrics>,
    clock: Clock,
}

impl ClientBuilder {
    pub(super) fn new(key: String) -> Self {
        Self {
            key,
            base_url: DEFAULT_BASE_URL.to_owned(),
            timeout: Duration::from_secs(30),
            connect_timeout: Duration::from_secs(10),
            user_agent: concat!("lag-bot/", env!("CARGO_PKG_VERSION")).to_owned(),
            rate_limits: RateLimits::lag(),
            rate_limiter: None,
            retry: RetryPolicy::default(),
            metrics: None,
            clock: Clock::default(),
        }
    }

    /// Paces on `clock` (the test kit's simulated time) instead of Tokio's.
    pub(crate) fn clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    /// Sets the API base URL (default [`DEFAULT_BASE_URL`]); point it at a local Lag in tests.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into();
        self
    }

    /// Sets how long one request may take, from sending to the last byte of the answer
    /// (default 30 s). A long-poll request gets 30 s more, since Lag holds it open.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets how long opening a connection may take (default 10 s).
    pub fn connect_timeout(mut self, timeout: Duration) -> Self {
        self.connect_timeout = timeout;
        self
    }

    /// Sets the `User-Agent` header (default `lag-bot/<version>`).
    pub fn user_agent(mut self, user_agent: impl Into<String>) -> Self {
        self.user_agent = user_agent.into();
        self
    }

    /// Sets the limits calls are paced under (default Lag's, [`RateLimits::lag`]). A limiter
    /// supplied with [`rate_limiter`](Self::rate_limiter) paces by its own limits instead.
    pub fn rate_limits(mut self, limits: RateLimits) -> Self {
        self.rate_limits = limits;
        self
    }

    /// Paces calls with `limiter` instead of a fresh [`MemoryLimiter`] under the
    /// [rate limits](Self::rate_limits): for several clients of one robot key, in one process
    /// or (with a limiter backed by a shared store) in several, since Lag counts its limits
    /// per key.
    ///
    /// ```
    /// use std::sync::Arc;
    /// use lag_bot::client::{Client, MemoryLimiter, RateLimits};
    ///
    /// let limiter = Arc::new(MemoryLimiter::new(RateLimits::lag()));
    /// let events = Client::builder("lag_robot_abcd1234_secret")
    ///     .rate_limiter(limiter.clone())
    ///     .build()?;
    /// let reports = Client::builder("lag_robot_abcd1234_secret")
    ///     .rate_limiter(limiter)
    ///     .build()?;
    /// # let _ = (events, reports);
    /// # Ok::<(), lag_bot::Error>(())
    /// ```
    pub fn rate_limiter(mut self, limiter: Arc<dyn RateLimiter>) -> Self {
        self.rate_limiter = Some(limiter);
        self
    }

    /// Sets the retry policy (default [`RetryPolicy::default`]).
    pub fn retry(mut self, policy: RetryPolicy) -> Self {
        self.retry = policy;
        self
    }

    /// Records rate-limiter waits and 429 answers in `metrics`.
    pub fn metrics(mut self, metrics: Metrics) -> Self {
        self.metrics = Some(metrics);
        self
    }

    /// Builds the client.
    ///
    /// Fails with [`ErrorKind::Config`](crate::ErrorKind::Config) when the key is empty or not
    /// a valid header value, or the base URL is not an `http`/`https` URL.
    pub fn build(self) -> Result<Client> {
        let key = self.key.trim();
        if key.is_empty() {
            return Err(Error::config("the robot API key is empty"));
        }
        let mut auth = HeaderValue::from_str(&format!("Robot {key}")).map_err(|_| {
            Error::config("the robot API key holds characters a header cannot carry")
        })?;
        auth.set_sensitive(true);
        let mut base = Url::parse(self.base_url.trim())
            .map_err(|err| Error::config(format!("invalid base URL: {err}")).with_source(err))?;
        if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
            return Err(Error::config(format!(
                "the base URL must be an http or https URL, not `{}`",
                self.base_url
            )));
        }
        base.set_query(None);
        base.set_fragment(None);
        let user_agent = HeaderValue::from_str(&self.user_agent)
            .map_err(|_| Error::config("the user agent is not a valid header value"))?;
        let mut headers = HeaderMap::new();
        headers.insert(header::ACCEPT, HeaderValue::from_static("application/json"));
        let http = reqwest::Client::builder()
            .user_agent(user_agent)
            .default_headers(headers)
            .connect_timeout(self.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .map_err(|err| Error::config(format!("cannot build the HTTP client: {err}")))?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                auth,
                timeout: self.timeout,
                retry: self.retry,
                limiter: self.rate_limiter.unwrap_or_else(|| {
                    Arc::new(MemoryLimiter::with_clock(
                        self.rate_limits,
                        self.clock.clone(),
                    ))
                }),
                clock: self.clock,
                rate_limits: self.rate_limits,
                metrics: self.metrics,
                me: tokio::sync::Mutex::new(None),
            }),
        })
    }
}

impl fmt::Debug for ClientBuilder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ClientBuilder")
            .field("key", &"[redacted]")
            .field("base_url", &self.base_url)
            .field("timeout", &self.timeout)
            .field("connect_timeout", &self.connect_timeout)
            .field("user_agent", &self.user_agent)
            .field("rate_limits", &self.rate_limits)
            .field("retry", &self.retry)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn builder_rejects_unusable_settings() {
        for key in ["", "   ", "lag_robot_a\nb"] {
            let err = Client::new(key).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config, "{key:?}");
        }
        for url in ["not a url", "ftp://example.com", "mailto:x@y"] {
            let err = Client::builder("k").base_url(url).build().unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config, "{url}");
        }
    }

    #[test]
    fn debug_never_shows_the_key() {
        let builder = Client::builder("lag_robot_abcd1234_topsecret");
        assert!(!format!("{builder:?}").contains("topsecret"));
        let client = builder.build().unwrap();
        assert!(!format!("{client:?}").contains("topsecret"));
        assert!(format!("{client:?}").contains("api.trylag.com"));
    }
}
