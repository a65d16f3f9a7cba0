//! One REST call: how it is described, paced, attempted and retried.

use std::time::Duration;

use bytes::Bytes;
use reqwest::header;
use reqwest::{Method, StatusCode, Url};
use tokio::time::Instant;

use super::Client;
use super::limiter::CallClass;
use super::response::{error_from_response, request_id};
use crate::{Error, ErrorKind, Result};

/// Whether a failed call may be tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Retry {
    /// Repeating it does no harm (reads, edits, deletes).
    Always,
    /// Only when the first attempt certainly did not reach Lag (message sends).
    IfUnsent,
    /// Never: the caller has its own loop (event endpoints). A 429 still pauses the limiter.
    Never,
}

/// One REST call, described before it is made.
pub(super) struct Call {
    method: Method,
    path: Vec<String>,
    pub(super) query: Vec<(&'static str, String)>,
    pub(super) body: Option<Bytes>,
    pub(super) class: CallClass,
    pub(super) retry: Retry,
    pub(super) timeout: Option<Duration>,
    /// The body is a stream read for as long as it lasts: only the headers are timed.
    pub(super) streams: bool,
    pub(super) headers: Vec<(&'static str, String)>,
    what: &'static str,
}

impl Call {
    pub(super) fn new(method: Method, what: &'static str, path: Vec<String>) -> Self {
        Self {
            method,
            path,
            query: Vec::new(),
            body: None,
            class: CallClass::Request,
            retry: Retry::Always,
            timeout: None,
            streams: false,
            headers: Vec::new(),
            what,
        }
    }
}

impl Client {
    fn url(&self, call: &Call) -> Result<Url> {
        let mut url = self.inner.base.clone();
        url.path_segments_mut()
            .map_err(|()| Error::config("the base URL cannot carry a path"))?
            .pop_if_empty()
            .extend(&call.path);
        if !call.query.is_empty() {
            url.query_pairs_mut().extend_pairs(&call.query);
        }
        Ok(url)
    }

    /// Runs `call` to the end: pacing, retries, and the whole body.
    pub(super) async fn run(&self, call: Call) -> Result<Bytes, Failed> {
        let what = call.what;
        let retry = call.retry;
        let (response, _) = self.attempt_loop(call).await?;
        let request_id = request_id(response.headers());
        match response.bytes().await {
            Ok(body) => Ok(body),
            Err(err) => {
                let mut error = Error::new(
                    ErrorKind::Connection,
                    format!("{what}: the answer broke off: {err}"),
                )
                .with_source(err);
                if let Some(id) = request_id {
                    error = error.with_request_id(id);
                }
                if retry == Retry::IfUnsent {
                    error = error.context("the request reached Lag, so it was not repeated");
                }
                Err(Failed {
                    error,
                    repeated: true,
                })
            }
        }
    }

    /// Attempts `call` until it gets a success status or must give up. Returns the response
    /// (body unread) and whether an earlier attempt may already have done the work.
    pub(super) async fn attempt_loop(
        &self,
        call: Call,
    ) -> Result<(reqwest::Response, bool), Failed> {
        let url = self.url(&call).map_err(|error| Failed {
            error,
            repeated: false,
        })?;
        let policy = self.inner.retry;
        let mut retries = 0;
        let mut repeated = false;
        loop {
            let waited_from = Instant::now();
            let acquired = self.inner.limiter.acquire(call.class).await;
            if let Some(metrics) = &self.inner.metrics {
                metrics.limiter_waited(waited_from.elapsed());
            }
            let permit = acquired.map_err(|error| Failed {
                error: error.context(&format!("{}: the rate limiter", call.what)),
                repeated,
            })?;
            let (error, may_retry, wait) = match self.attempt(&call, &url).await {
                Ok(response) if response.status().is_success() => {
                    permit.sent();
                    return Ok((response, repeated));
                }
                Ok(response) => {
                    permit.sent();
                    let status = response.status();
                    let error = error_from_response(call.what, response).await;
                    let too_many = status == StatusCode::TOO_MANY_REQUESTS;
                    let wait = if too_many {
                        self.rate_limited(&error, retries + 1).await
                    } else {
                        None
                    };
                    let unapplied = too_many || status == StatusCode::SERVICE_UNAVAILABLE;
                    let may_retry = match call.retry {
                        Retry::Never => false,
                        Retry::IfUnsent => unapplied,
                        Retry::Always => unapplied || status.is_server_error(),
                    } && !(too_many && wait.is_none());
                    repeated |= !unapplied && status.is_server_error();
                    (error, may_retry, wait)
                }
                Err(failure) => {
                    if failure.unsent {
                        permit.unsent();
                    } else {
                        permit.sent();
                        repeated = true;
                    }
                    let may_retry = match call.retry {
                        Retry::Never => false,
                        Retry::IfUnsent => failure.unsent,
                        Retry::Always => true,
                    };
                    let mut error = failure.error;
                    if !failure.unsent && call.retry == Retry::IfUnsent {
                        error = error.context(
                            "it may have reached Lag, so it was not repeated (a duplicate \
                             message is worse than an error)",
                        );
                    }
                    (error, may_retry, None)
                }
            };
            if !may_retry || retries >= policy.max_retries {
                return Err(Failed { error, repeated });
            }
            retries += 1;
            let wait = wait.unwrap_or_else(|| policy.backoff(retries));
            tracing::debug!(
                call = call.what,
                retry = retries,
                wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                error = %error,
                "retrying"
            );
            self.inner.clock.sleep(wait).await;
        }
    }

    /// Handles a 429: pauses the limiter (so every call waits out `Retry-After`, up to the
    /// policy's `max_retry_after`) and says whether to retry: `None` when Lag asked for longer
    /// than the policy waits out.
    async fn rate_limited(&self, error: &Error, retry: u32) -> Option<Duration> {
        if let Some(metrics) = &self.inner.metrics {
            metrics.rate_limited();
        }
        let wait = error
            .retry_after()
            .unwrap_or_else(|| self.inner.retry.backoff(retry));
        let pause = wait.min(self.inner.retry.max_retry_after);
        if let Err(err) = self.inner.limiter.pause(pause).await {
            tracing::warn!(error = %err, "could not pause the rate limiter after a 429");
        }
        tracing::warn!(
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            request_id = error.request_id(),
            "Lag answered 429 Too Many Requests; pausing every call"
        );
        (wait <= self.inner.retry.max_retry_after).then_some(Duration::ZERO)
    }

    /// One attempt, up to the response headers.
    async fn attempt(&self, call: &Call, url: &Url) -> Result<reqwest::Response, AttemptFailed> {
        let mut request = self
            .inner
            .http
            .request(call.method.clone(), url.clone())
            .header(header::AUTHORIZATION, self.inner.auth.clone());
        let timeout = call.timeout.unwrap_or(self.inner.timeout);
        if !call.streams {
            request = request.timeout(timeout);
        }
        for (name, value) in &call.headers {
            request = request.header(*name, value);
        }
        if let Some(body) = &call.body {
            request = request
                .header(header::CONTENT_TYPE, "application/json")
                .body(body.clone());
        }
        let sent = match tokio::time::timeout(timeout, request.send()).await {
            Ok(sent) => sent,
            Err(_) => {
                return Err(AttemptFailed {
                    error: Error::new(
                        ErrorKind::Connection,
                        format!("{}: no answer within {timeout:?}", call.what),
                    ),
                    unsent: false,
                });
            }
        };
        sent.map_err(|err| {
            let unsent = err.is_connect();
            let message = if err.is_timeout() {
                format!("{}: no answer within {timeout:?}", call.what)
            } else if unsent {
                format!("{}: cannot connect to Lag: {err}", call.what)
            } else {
                format!("{}: the connection failed: {err}", call.what)
            };
            AttemptFailed {
                error: Error::new(ErrorKind::Connection, message).with_source(err),
                unsent,
            }
        })
    }
}

/// A failed attempt, and whether the request certainly never left.
struct AttemptFailed {
    error: Error,
    unsent: bool,
}

/// A failed call, and whether an earlier attempt may already have done its work.
pub(super) struct Failed {
    pub(super) error: Error,
    pub(super) repeated: bool,
}

impl From<Failed> for Error {
    fn from(failed: Failed) -> Self {
        failed.error
    }
}

/// The path segments of a robot endpoint: `/robots/@me/<rest>`.
pub(super) fn robot_path(rest: &[&str]) -> Vec<String> {
    ["robots", "@me"]
        .iter()
        .chain(rest)
        .map(|s| (*s).to_owned())
        .collect()
}

/// The path segments of an endpoint in the robot's server: `/robots/@me/servers/<id>/<rest>`.
pub(super) fn server_path(server_id: &str, rest: &[&str]) -> Vec<String> {
    let mut path = robot_path(&["servers", server_id]);
    path.extend(rest.iter().map(|s| (*s).to_owned()));
    path
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use super::*;
    use crate::client::{Permit, RateLimiter, RetryPolicy, Settlement};

    #[test]
    fn urls_encode_ids_and_keep_a_base_path() {
        let client = Client::builder("k")
            .base_url("http://127.0.0.1:9/prefix/")
            .build()
            .unwrap();
        let mut call = Call::new(
            Method::GET,
            "t",
            server_path("srv 1", &["rooms", "a/b", "messages"]),
        );
        call.query
            .push(("cursor", "2026-01-01T00:00:00+01:00".into()));
        assert_eq!(
            client.url(&call).unwrap().as_str(),
            "http://127.0.0.1:9/prefix/robots/@me/servers/srv%201/rooms/a%2Fb/messages\
             ?cursor=2026-01-01T00%3A00%3A00%2B01%3A00"
        );
    }

    /// Records the settlements of its permits; refuses every call once `refuse` is set.
    #[derive(Debug, Default)]
    struct Recording {
        refuse: bool,
        settled: Arc<std::sync::Mutex<Vec<(CallClass, Settlement)>>>,
    }

    #[async_trait::async_trait]
    impl RateLimiter for Recording {
        async fn acquire(&self, class: CallClass) -> Result<Permit> {
            if self.refuse {
                return Err(Error::new(ErrorKind::Connection, "store down"));
            }
            let settled = Arc::clone(&self.settled);
            Ok(Permit::new(move |settlement| {
                settled.lock().unwrap().push((class, settlement));
            }))
        }

        async fn pause(&self, _wait: Duration) -> Result<()> {
            Ok(())
        }
    }

    #[tokio::test]
    async fn a_supplied_limiter_paces_the_calls() {
        let limiter = Arc::new(Recording::default());
        let client = Client::builder("k")
            .base_url("http://127.0.0.1:9")
            .retry(RetryPolicy::none())
            .rate_limiter(limiter.clone())
            .build()
            .unwrap();
        let err = client.me().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Connection);
        let settled = limiter.settled.lock().unwrap().clone();
        assert_eq!(
            settled,
            [(CallClass::Request, Settlement::Unsent)],
            "the call never connected"
        );
    }

    #[tokio::test]
    async fn a_limiter_error_fails_the_call_unsent() {
        let limiter = Recording {
            refuse: true,
            ..Recording::default()
        };
        let client = Client::builder("k")
            .rate_limiter(Arc::new(limiter))
            .build()
            .unwrap();
        let err = client.me().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Connection);
        assert_eq!(err.message(), "robot info: the rate limiter: store down");
    }
}
