//! The client when the network or Lag misbehaves. A small HTTP front on 127.0.0.1 passes calls
//! through to a real lag-sim, except where a test tells it to fail one: answer 5xx, lose the
//! answer after Lag acted, stall past the client's timeout, garble a body. The sim's own state
//! then shows whether a message was posted once, twice or not at all.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use lag_bot::ErrorKind;
use lag_bot::client::{Client, RateLimits, RetryPolicy};
use lag_bot::metrics::Metrics;
use lag_sim::{Demo, Sim, SimConfig};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::support::{SCALE, demo, demo_with, eventually, metric};

/// What the front does with one call.
#[derive(Debug, Clone)]
enum Fault {
    /// Answers itself, without passing the call on.
    Answer {
        status: u16,
        body: &'static str,
        retry_after: Option<String>,
    },
    /// Passes the call on, then answers `status` instead of Lag's answer.
    LoseAnswer(u16),
    /// Passes the call on, then holds Lag's answer this long.
    Stall(Duration),
    /// Passes the call on, then answers 200 with this body instead.
    Garble(&'static str),
    /// Passes the call on and wraps Lag's list answer as `{"<key>": [...]}`.
    Wrap(&'static str),
}

fn answer(status: u16, body: &'static str) -> Fault {
    Fault::Answer {
        status,
        body,
        retry_after: None,
    }
}

#[derive(Default)]
struct Plan {
    faults: VecDeque<Fault>,
    seen: Vec<String>,
}

struct Front {
    plan: Arc<Mutex<Plan>>,
    server: JoinHandle<()>,
    addr: SocketAddr,
}

impl Front {
    async fn start(sim_base: String, listener: TcpListener) -> Self {
        let plan = Arc::new(Mutex::new(Plan::default()));
        let addr = listener.local_addr().unwrap();
        let app = Router::new().fallback(relay).with_state((
            Arc::clone(&plan),
            sim_base,
            reqwest::Client::new(),
        ));
        let server = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        Self { plan, server, addr }
    }

    async fn in_front_of(sim: &Sim) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        Self::start(sim.base_url(), listener).await
    }

    fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn fail_next(&self, faults: impl IntoIterator<Item = Fault>) {
        self.plan.lock().unwrap().faults.extend(faults);
    }

    /// The calls seen so far, as `METHOD /path`, then forgets them.
    fn take_seen(&self) -> Vec<String> {
        std::mem::take(&mut self.plan.lock().unwrap().seen)
    }
}

impl Drop for Front {
    fn drop(&mut self) {
        self.server.abort();
    }
}

type FrontState = (Arc<Mutex<Plan>>, String, reqwest::Client);

async fn relay(State((plan, sim_base, http)): State<FrontState>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path().to_owned();
    let fault = {
        let mut plan = plan.lock().unwrap();
        plan.seen.push(format!("{} {path}", parts.method));
        plan.faults.pop_front()
    };
    if let Some(Fault::Answer {
        status,
        body,
        retry_after,
    }) = &fault
    {
        let mut response = Response::new(Body::from(*body));
        *response.status_mut() = StatusCode::from_u16(*status).unwrap();
        if let Some(wait) = retry_after {
            response
                .headers_mut()
                .insert("retry-after", HeaderValue::from_str(wait).unwrap());
        }
        return response;
    }
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap();
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let mut forward = http.request(parts.method.clone(), format!("{sim_base}{path}{query}"));
    for name in ["authorization", "content-type", "accept", "user-agent"] {
        if let Some(value) = parts.headers.get(name) {
            forward = forward.header(name, value.as_bytes());
        }
    }
    let upstream = forward.body(body).send().await.unwrap();
    let status = upstream.status();
    let headers = upstream.headers().clone();
    let mut bytes: Bytes = upstream.bytes().await.unwrap();
    let mut status = StatusCode::from_u16(status.as_u16()).unwrap();
    match fault {
        Some(Fault::LoseAnswer(code)) => {
            status = StatusCode::from_u16(code).unwrap();
            bytes = Bytes::new();
        }
        Some(Fault::Stall(how_long)) => tokio::time::sleep(how_long).await,
        Some(Fault::Garble(text)) => {
            status = StatusCode::OK;
            bytes = Bytes::from_static(text.as_bytes());
        }
        Some(Fault::Wrap(key)) => {
            let list: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            bytes = serde_json::to_vec(&serde_json::json!({ key: list }))
                .unwrap()
                .into();
        }
        Some(Fault::Answer { .. }) | None => {}
    }
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    for name in ["content-type", "x-request-id", "retry-after"] {
        if let Some(value) = headers.get(name) {
            response
                .headers_mut()
                .insert(name, HeaderValue::from_bytes(value.as_bytes()).unwrap());
        }
    }
    response
}

/// A sim, a front before it, and a client of the demo robot going through the front, with
/// its identity already fetched (so the calls a test counts are the ones it makes).
async fn setup(retry: RetryPolicy, timeout: Duration) -> (Sim, Demo, Front, Client, Metrics) {
    let (sim, demo) = demo().await;
    let front = Front::in_front_of(&sim).await;
    let metrics = Metrics::new();
    let client = Client::builder(&demo.robot.key)
        .base_url(front.base_url())
        .timeout(timeout)
        .rate_limits(RateLimits::lag().time_scale(SCALE))
        .retry(retry)
        .metrics(metrics.clone())
        .build()
        .unwrap();
    client.me().await.unwrap();
    front.take_seen();
    (sim, demo, front, client, metrics)
}

fn quick_retries() -> RetryPolicy {
    RetryPolicy::default()
        .base_delay(Duration::from_millis(20))
        .jitter(Duration::from_millis(5))
}

fn posts(seen: &[String]) -> usize {
    seen.iter().filter(|call| call.starts_with("POST ")).count()
}

#[tokio::test]
async fn reads_are_retried_through_server_errors() {
    let (sim, _demo, front, client, _) = setup(quick_retries(), Duration::from_secs(5)).await;
    front.fail_next([answer(503, ""), answer(500, r#"{"message":"boom"}"#)]);
    assert_eq!(client.rooms().await.unwrap().len(), 3);
    assert_eq!(front.take_seen().len(), 3);

    front.fail_next([answer(503, ""), answer(502, ""), answer(500, "")]);
    let err = client.rooms().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Server);
    assert_eq!(err.status(), Some(500));
    assert_eq!(front.take_seen().len(), 3, "three attempts, then the error");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_send_refused_with_503_is_retried_and_posted_once() {
    let (sim, demo, front, client, _) = setup(quick_retries(), Duration::from_secs(5)).await;
    front.fail_next([answer(503, "busy")]);
    client.send(&demo.general, "once").await.unwrap();
    assert_eq!(posts(&front.take_seen()), 2);
    assert_eq!(sim.messages(&demo.general).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_send_answered_500_is_not_repeated() {
    let (sim, demo, front, client, _) = setup(quick_retries(), Duration::from_secs(5)).await;
    front.fail_next([Fault::LoseAnswer(500)]);
    let err = client.send(&demo.general, "maybe").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Server);
    assert_eq!(err.status(), Some(500));
    assert_eq!(posts(&front.take_seen()), 1, "never sent twice");
    assert_eq!(sim.messages(&demo.general).len(), 1, "Lag did post it");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_send_that_times_out_is_reported_not_repeated() {
    let (sim, demo, front, client, _) = setup(quick_retries(), Duration::from_millis(400)).await;
    front.fail_next([Fault::Stall(Duration::from_secs(3))]);
    let err = client.send(&demo.general, "slow").await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Connection);
    assert!(err.message().contains("not repeated"), "{err}");
    assert_eq!(posts(&front.take_seen()), 1);
    let stored = sim.messages(&demo.general);
    assert_eq!(stored.len(), 1, "posted exactly once");
    assert_eq!(stored[0].content, "slow");
    sim.shutdown().await;
}

#[tokio::test]
async fn a_read_that_times_out_is_retried() {
    let (sim, _demo, front, client, _) = setup(quick_retries(), Duration::from_millis(400)).await;
    front.fail_next([Fault::Stall(Duration::from_secs(3))]);
    assert_eq!(client.members().await.unwrap().len(), 3);
    assert_eq!(front.take_seen().len(), 2);
    sim.shutdown().await;
}

#[tokio::test]
async fn a_delete_whose_answer_was_lost_still_succeeds() {
    let (sim, demo, front, client, _) = setup(quick_retries(), Duration::from_secs(5)).await;
    let sent = client.send(&demo.general, "short-lived").await.unwrap();
    front.take_seen();
    front.fail_next([Fault::LoseAnswer(502)]);
    client.delete(&demo.general, &sent.id).await.unwrap();
    assert_eq!(
        front.take_seen().len(),
        2,
        "the retry found it already gone"
    );
    assert!(sim.messages(&demo.general).is_empty());
    sim.shutdown().await;
}

/// How many times calls took their turn at the rate limiter (once per attempt).
fn limiter_turns(metrics: &Metrics) -> f64 {
    metric(metrics, "lag_bot_limiter_wait_seconds_count")
}

#[tokio::test]
async fn a_send_whose_connection_was_refused_is_retried() {
    let (sim, demo) = demo_with(SimConfig::default()).await;
    let addr = {
        let reserved = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        reserved.local_addr().unwrap()
    };
    let metrics = Metrics::new();
    let client = Client::builder(&demo.robot.key)
        .base_url(format!("http://{addr}"))
        .retry(
            RetryPolicy::default()
                .max_retries(8)
                .base_delay(Duration::from_millis(100))
                .max_delay(Duration::from_millis(400)),
        )
        .metrics(metrics.clone())
        .build()
        .unwrap();
    let send = {
        let client = client.clone();
        let room = demo.general.clone();
        tokio::spawn(async move { client.send(&room, "after the outage").await })
    };
    // Every attempt first takes its turn at the limiter: a second turn means the first
    // attempt already met the closed port.
    eventually("an attempt to be refused", || {
        (limiter_turns(&metrics) >= 2.0).then_some(())
    })
    .await;
    let front = Front::start(sim.base_url(), TcpListener::bind(addr).await.unwrap()).await;
    let sent = send.await.unwrap().unwrap();
    assert_eq!(sent.content, "after the outage");
    assert_eq!(sim.messages(&demo.general).len(), 1);
    assert_eq!(
        posts(&front.take_seen()),
        1,
        "only the attempt that connected arrived"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn error_bodies_with_and_without_an_envelope() {
    let (sim, _demo, front, client, _) = setup(RetryPolicy::none(), Duration::from_secs(5)).await;
    front.fail_next([answer(502, "502 Bad Gateway")]);
    let err = client.rooms().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Server);
    assert!(err.message().contains("502 Bad Gateway"), "{err}");

    front.fail_next([answer(
        418,
        r#"{"error":"I'm a teapot","message":"short and stout","statusCode":418}"#,
    )]);
    let err = client.rooms().await.unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Api);
    assert_eq!(err.status(), Some(418));
    assert!(err.message().contains("short and stout"), "{err}");

    front.fail_next([answer(500, "<html><body>oops</body></html>")]);
    let err = client.rooms().await.unwrap_err();
    assert!(err.message().contains("Internal Server Error"), "{err}");
    sim.shutdown().await;
}

#[tokio::test]
async fn garbled_answers_are_decode_errors() {
    let (sim, demo, front, client, _) = setup(RetryPolicy::none(), Duration::from_secs(5)).await;
    for garbage in ["{not json", r#"{"id": 1}"#, "[]", ""] {
        front.fail_next([Fault::Garble(garbage)]);
        let err = client.refresh_me().await.unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Decode, "{garbage:?}: {err}");
    }
    front.fail_next([Fault::Garble(r#"{"rooms": 7}"#)]);
    assert_eq!(client.rooms().await.unwrap_err().kind(), &ErrorKind::Decode);
    front.fail_next([Fault::Garble(r#"{"messages": [{"id": "m"}]}"#)]);
    let err = client
        .history_page(&demo.general, &Default::default())
        .await
        .unwrap_err();
    assert_eq!(err.kind(), &ErrorKind::Decode);
    front.fail_next([Fault::Garble("[{\"id\": 5}]")]);
    let err = client.poll_events().await.unwrap();
    assert_eq!(err.len(), 1);
    assert_eq!(err[0].as_ref().unwrap_err().kind(), &ErrorKind::Decode);
    sim.shutdown().await;
}

#[tokio::test]
async fn wrapped_lists_decode_like_bare_ones() {
    let (sim, _demo, front, client, _) = setup(RetryPolicy::none(), Duration::from_secs(5)).await;
    let bare_rooms = client.rooms().await.unwrap();
    let bare_members = client.members().await.unwrap();
    front.fail_next([Fault::Wrap("rooms"), Fault::Wrap("members")]);
    assert_eq!(client.rooms().await.unwrap(), bare_rooms);
    assert_eq!(client.members().await.unwrap(), bare_members);
    sim.shutdown().await;
}

#[tokio::test]
async fn retry_after_as_an_http_date_is_honoured() {
    let (sim, _demo, front, client, metrics) = setup(quick_retries(), Duration::from_secs(5)).await;
    let at = httpdate::fmt_http_date(SystemTime::now() + Duration::from_secs(2));
    front.fail_next([Fault::Answer {
        status: 429,
        body: r#"{"error":"Too Many Requests","message":"slow down","statusCode":429}"#,
        retry_after: Some(at),
    }]);
    assert_eq!(client.rooms().await.unwrap().len(), 3);
    assert_eq!(front.take_seen().len(), 2);
    assert!(metrics.encode().contains("lag_bot_rate_limited_total 1"));
    sim.shutdown().await;
}

#[tokio::test]
async fn a_retry_after_beyond_the_policy_is_returned() {
    let policy = quick_retries().max_retry_after(Duration::from_millis(300));
    let (sim, _demo, front, client, _) = setup(policy, Duration::from_secs(5)).await;
    front.fail_next([Fault::Answer {
        status: 429,
        body: "",
        retry_after: Some("3600".into()),
    }]);
    let err = client.rooms().await.unwrap_err();
    assert_eq!(err.retry_after(), Some(Duration::from_secs(3600)));
    assert_eq!(front.take_seen().len(), 1);
    // Other calls wait out at most the policy's bound, then go through.
    assert_eq!(client.members().await.unwrap().len(), 3);
    sim.shutdown().await;
}
