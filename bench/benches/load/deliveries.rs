//! The load client's deliveries: distinct, correctly signed `room.message` webhook requests
//! (optionally repeating an earlier one), sent over one pooled hyper client, and what became of
//! each. The load runs and the soak both fire through here.

use std::collections::BTreeMap;
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http_body_util::{BodyExt as _, Full};
use hyper_util::client::legacy::Client as HttpClient;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use lag_bot::transport::WebhookSecret;

use lag_bot_bench::SECRET;

/// Where deliveries go and what they say about their room and sender.
pub struct Target {
    pub url: hyper::Uri,
    pub room: String,
    pub sender: String,
    /// Distinguishes the ids of one run from another's.
    pub run: u64,
}

/// The pooled HTTP client and the signing key the deliveries share.
#[derive(Clone)]
pub struct Sender {
    client: HttpClient<HttpConnector, Full<Bytes>>,
    secret: WebhookSecret,
}

/// What became of one delivery.
pub enum Outcome {
    /// A 2xx answer after this many microseconds.
    Answered(u32),
    /// Anything else: `HTTP 503`, `connection: ...`.
    Failed(String),
}

impl Sender {
    pub fn new(max_idle: usize) -> Self {
        Self {
            client: HttpClient::builder(TokioExecutor::new())
                .pool_max_idle_per_host(max_idle)
                .build_http(),
            secret: WebhookSecret::new(SECRET).unwrap(),
        }
    }

    /// Sends delivery number `n` of `target` with `content` as the message's text.
    pub async fn send(&self, target: &Target, n: u64, content: &str) -> Outcome {
        let id = format!("evt_{}_{n:012}", target.run);
        let body = format!(
            r#"{{"type":"room.message","serverId":"srv_load","timestamp":"2026-01-01T00:00:00.000Z","data":{{"roomId":"{room}","messageId":"msg_{run}_{n:012}","senderId":"{sender}","senderName":"alice","content":"{content}","createdAt":"2026-01-01T00:00:00.000Z","isBot":false,"robotId":null,"mentions":[],"replyToId":null}}}}"#,
            room = target.room,
            run = target.run,
            sender = target.sender,
            content = content.replace('\\', "\\\\").replace('"', "\\\""),
        );
        let timestamp = unix_now();
        let signature = self.secret.sign(&id, timestamp, body.as_bytes());
        let request = hyper::Request::post(target.url.clone())
            .header("content-type", "application/json")
            .header("webhook-id", id)
            .header("webhook-timestamp", timestamp.to_string())
            .header("webhook-signature", signature)
            .body(Full::new(Bytes::from(body)))
            .unwrap();
        let sent = Instant::now();
        match self.client.request(request).await {
            Ok(response) => {
                let status = response.status();
                let _ = response.into_body().collect().await;
                if status.is_success() {
                    let us = sent.elapsed().as_micros();
                    Outcome::Answered(u32::try_from(us).unwrap_or(u32::MAX))
                } else {
                    Outcome::Failed(format!("HTTP {}", status.as_u16()))
                }
            }
            Err(error) => Outcome::Failed(format!("connection: {error}")),
        }
    }

    /// A plain GET (the robot's metrics), its body as text.
    pub async fn get_text(&self, url: hyper::Uri) -> Option<String> {
        let request = hyper::Request::get(url)
            .body(Full::new(Bytes::new()))
            .ok()?;
        let response = self.client.request(request).await.ok()?;
        let body = response.into_body().collect().await.ok()?.to_bytes();
        String::from_utf8(body.to_vec()).ok()
    }
}

/// The delivery number to send for the `n`-th send when `duplicates` percent of them repeat
/// the one before (id and body alike).
pub fn with_duplicates(n: u64, duplicates: u64) -> u64 {
    if duplicates > 0 && n > 0 && (n * duplicates) % 100 < duplicates {
        n - 1
    } else {
        n
    }
}

/// Adds one to the count of `why`.
pub fn count_failure(failures: &mut BTreeMap<String, u64>, why: String) {
    *failures.entry(why).or_default() += 1;
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}
