//! Webhook delivery: Standard Webhooks signing, the ten-attempt retry schedule, 410 handling.

use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::sync::mpsc;

use crate::clock;
use crate::event::EventRecord;
use crate::log::{DeliveryOutcome, DeliveryRecord, SentRequest, WebhookResponse};
use crate::shared::Shared;
use crate::spec::TransportKind;

/// How much of a webhook's answer the delivery log keeps.
const ANSWER_KEPT: usize = 4 * 1024;

/// Delay before attempts 1..=10, in simulated time, each counted from the previous failure.
pub(crate) const RETRY_SCHEDULE: [Duration; 10] = [
    Duration::ZERO,
    Duration::from_secs(5),
    Duration::from_secs(25),
    Duration::from_secs(2 * 60),
    Duration::from_secs(10 * 60),
    Duration::from_secs(30 * 60),
    Duration::from_secs(60 * 60),
    Duration::from_secs(3 * 60 * 60),
    Duration::from_secs(8 * 60 * 60),
    Duration::from_secs(24 * 60 * 60),
];

/// The `webhook-signature` header value: one `v1,<base64>` entry per key, space separated.
pub(crate) fn signature_header(keys: &[Vec<u8>], id: &str, timestamp: i64, body: &[u8]) -> String {
    let timestamp = timestamp.to_string();
    keys.iter()
        .filter_map(|key| {
            let mut mac = Hmac::<Sha256>::new_from_slice(key).ok()?;
            mac.update(id.as_bytes());
            mac.update(b".");
            mac.update(timestamp.as_bytes());
            mac.update(b".");
            mac.update(body);
            Some(format!("v1,{}", BASE64.encode(mac.finalize().into_bytes())))
        })
        .collect::<Vec<_>>()
        .join(" ")
}

enum Attempt {
    Delivered,
    Failed,
    Gone,
    Cancelled,
}

/// Delivers one robot's webhook events: first attempts in order, retries in the background.
pub(crate) async fn run_worker(
    shared: Arc<Shared>,
    robot_id: String,
    mut queue: mpsc::UnboundedReceiver<(Arc<EventRecord>, u64)>,
) {
    loop {
        let next = tokio::select! {
            () = shared.shutdown.cancelled() => return,
            next = queue.recv() => next,
        };
        let Some((event, epoch)) = next else { return };
        match attempt(&shared, &robot_id, &event, epoch, 1).await {
            Attempt::Failed => {
                let shared_for_retry = Arc::clone(&shared);
                let robot_id = robot_id.clone();
                shared.spawn(async move {
                    retry(shared_for_retry, robot_id, event, epoch).await;
                });
            }
            Attempt::Delivered | Attempt::Gone | Attempt::Cancelled => {}
        }
    }
}

async fn retry(shared: Arc<Shared>, robot_id: String, event: Arc<EventRecord>, epoch: u64) {
    for (number, delay) in (1u32..).zip(RETRY_SCHEDULE).skip(1) {
        tokio::select! {
            () = shared.shutdown.cancelled() => return,
            () = shared.clock.sleep(delay) => {}
        }
        match attempt(&shared, &robot_id, &event, epoch, number).await {
            Attempt::Failed => {}
            Attempt::Delivered | Attempt::Gone | Attempt::Cancelled => return,
        }
    }
}

async fn attempt(
    shared: &Shared,
    robot_id: &str,
    event: &EventRecord,
    epoch: u64,
    number: u32,
) -> Attempt {
    let target = {
        let world = shared.world.lock();
        world
            .robot(robot_id)
            .ok()
            .filter(|robot| robot.epoch == epoch)
            .and_then(|robot| robot.webhook_target(shared.clock.now()))
    };
    let Some((url, keys)) = target else {
        let mut entry = DeliveryRecord::new(
            event,
            TransportKind::Webhook,
            number,
            DeliveryOutcome::Cancelled,
        );
        entry.error = Some("the robot was disabled or changed transport".to_owned());
        shared.world.lock().push_log(robot_id, entry);
        return Attempt::Cancelled;
    };
    let timestamp = clock::now_unix_seconds();
    let signature = signature_header(&keys, &event.id, timestamp, &event.json);
    let headers = vec![
        ("content-type".to_owned(), "application/json".to_owned()),
        ("webhook-id".to_owned(), event.id.clone()),
        ("webhook-timestamp".to_owned(), timestamp.to_string()),
        ("webhook-signature".to_owned(), signature),
    ];
    let mut request = shared.http.post(&url);
    for (name, value) in &headers {
        request = request.header(name.as_str(), value.as_str());
    }
    let sent_request = SentRequest {
        url: Some(url.clone()),
        headers: std::iter::once(("user-agent".to_owned(), "Lag-Webhooks/1.0".to_owned()))
            .chain(headers)
            .collect(),
        body: String::from_utf8_lossy(&event.json).into_owned(),
    };
    let started = Instant::now();
    let request = request.body(event.json.clone()).send();
    let sent = tokio::select! {
        () = shared.shutdown.cancelled() => return Attempt::Cancelled,
        sent = request => sent,
    };
    let latency = started.elapsed();
    let last = usize::try_from(number).unwrap_or(usize::MAX) >= RETRY_SCHEDULE.len();
    let failure = if last {
        DeliveryOutcome::GaveUp
    } else {
        DeliveryOutcome::Failed
    };
    let next_delay = (!last).then(|| RETRY_SCHEDULE[usize::try_from(number).unwrap_or(0)]);
    let mut answer = None;
    let (outcome, status, error) = match sent {
        Ok(response) => {
            let status = response.status().as_u16();
            answer = tokio::select! {
                () = shared.shutdown.cancelled() => return Attempt::Cancelled,
                answer = read_answer(response) => Some(answer),
            };
            if (200..300).contains(&status) {
                (Attempt::Delivered, Some(status), None)
            } else if status == 410 {
                (
                    Attempt::Gone,
                    Some(status),
                    Some("410 Gone: robot disabled".to_owned()),
                )
            } else {
                (
                    Attempt::Failed,
                    Some(status),
                    Some(format!("HTTP {status}")),
                )
            }
        }
        Err(error) => {
            let reason = if error.is_timeout() {
                format!("no response within {:?}", shared.config.webhook_timeout)
            } else if error.is_connect() {
                "connection failed".to_owned()
            } else {
                "request failed".to_owned()
            };
            (Attempt::Failed, None, Some(reason))
        }
    };
    let logged = match outcome {
        Attempt::Delivered => DeliveryOutcome::Delivered,
        Attempt::Gone => DeliveryOutcome::Gone,
        Attempt::Cancelled => DeliveryOutcome::Cancelled,
        Attempt::Failed => failure,
    };
    let mut entry = DeliveryRecord::new(event, TransportKind::Webhook, number, logged);
    entry.status = status;
    entry.latency_ms = Some(clock::millis(latency));
    entry.error = error;
    entry.request = Some(sent_request);
    entry.response = answer;
    if matches!(outcome, Attempt::Failed) {
        entry.next_attempt_in_ms = next_delay.map(clock::millis);
    }
    {
        let mut world = shared.world.lock();
        if matches!(outcome, Attempt::Gone) {
            tracing::warn!(robot = %robot_id, "webhook answered 410 Gone; robot disabled");
            world.disable_gone(robot_id);
        }
        world.push_log(robot_id, entry);
    }
    if matches!(outcome, Attempt::Failed) && last {
        tracing::warn!(robot = %robot_id, event = %event.id, "webhook delivery gave up after 10 attempts");
    }
    outcome
}

/// Reads up to [`ANSWER_KEPT`] bytes of a webhook's answer for the delivery log; a body that
/// fails halfway keeps what arrived.
async fn read_answer(mut response: reqwest::Response) -> WebhookResponse {
    let status = response.status().as_u16();
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                String::from_utf8_lossy(value.as_bytes()).into_owned(),
            )
        })
        .collect();
    let mut body = Vec::new();
    let mut truncated = false;
    while let Ok(Some(chunk)) = response.chunk().await {
        let room = ANSWER_KEPT - body.len();
        if chunk.len() > room {
            body.extend_from_slice(&chunk[..room]);
            truncated = true;
            break;
        }
        body.extend_from_slice(&chunk);
    }
    WebhookResponse {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
        truncated,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signs_like_the_standard_webhooks_reference() {
        // Test vector from the Standard Webhooks reference libraries.
        let key = BASE64.decode("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let header = signature_header(&[key], "msg_p5jXN8AQM9LWM0D4loKWxJek", 1_614_265_330, body);
        assert_eq!(header, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
    }
}
