//! Micro-benchmarks of the pure steps a delivery goes through: signature verification, event
//! decoding, the dedup claim, routing, argument parsing and the limiter's admit path.
//!
//! Run with: `cargo bench -p lag-bot --bench micro` (BENCHMARKS.md has the figures). Divan
//! reports time and, through its allocation profiler, allocations per iteration.

use std::cell::Cell;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use divan::{AllocProfiler, Bencher, black_box};
use futures_util::FutureExt as _;
use lag_bot::__bench::{Claimer, Router};
use lag_bot::Ctx;
use lag_bot::client::{CallClass, MemoryLimiter, RateLimiter};
use lag_bot::command::{Args, Captures, Command, FromArg, Hear, Quoted, Rest};
use lag_bot::events::{Envelope, Event, RoomMessage};
use lag_bot::transport::{DedupStore, MemoryDedup, WebhookSecret};

#[global_allocator]
static ALLOC: AllocProfiler = AllocProfiler::system();

fn main() {
    divan::main();
}

const ROBOT_ID: &str = "rob_1";
const ROBOT_NAME: &str = "Helper";

/// The `data` of one event of each type, as Lag sends them.
fn sample_data(event_type: &str) -> &'static str {
    match event_type {
        "room.message" => {
            r#"{"roomId":"room_01J0general","messageId":"msg_01J0000001","senderId":"usr_01J0alice","senderName":"alice","content":"just chatting, nothing for the robot here","createdAt":"2026-01-01T00:00:00.000Z","isBot":false,"robotId":null,"mentions":[],"replyToId":null}"#
        }
        "room.message.edited" => {
            r#"{"roomId":"room_01J0general","messageId":"msg_01J0000001","content":"edited text","editedBy":"usr_01J0alice","editedAt":"2026-01-01T00:00:01.000Z"}"#
        }
        "room.message.deleted" => {
            r#"{"roomId":"room_01J0general","messageId":"msg_01J0000001","deletedBy":"usr_01J0alice"}"#
        }
        "member.join" => {
            r#"{"userId":"usr_01J0alice","username":"alice","joinedAt":"2026-01-01T00:00:00Z"}"#
        }
        "presence.update" => r#"{"userId":"usr_01J0alice","status":"idle"}"#,
        "robot.mentioned" => {
            r#"{"roomId":"room_01J0general","messageId":"msg_01J0000003","senderId":"usr_01J0alice","senderName":"alice","content":"@Helper hi","createdAt":"2026-01-01T00:00:00.000Z","isBot":false,"robotId":null,"mentions":[{"type":"robot","id":"rob_1","name":"Helper"}],"replyToId":null}"#
        }
        "galaxy.exploded" => r#"{"x":1,"y":[1,2,3]}"#,
        other => unreachable!("no sample for {other}"),
    }
}

fn webhook_body(event_type: &str, data: &str) -> Vec<u8> {
    format!(
        r#"{{"type":"{event_type}","serverId":"srv_01J0demo","timestamp":"2026-01-01T00:00:00.000Z","data":{data}}}"#
    )
    .into_bytes()
}

fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
        .try_into()
        .unwrap()
}

fn secret(n: usize) -> WebhookSecret {
    let key = STANDARD.encode(format!("secret number {n} for the benchmarks"));
    WebhookSecret::new(&format!("whsec_{key}")).unwrap()
}

/// Verifying a delivery's signature when the robot holds 1 or 3 secrets; with 3 the delivery
/// is signed with the last one (the worst case during a rotation).
#[divan::bench(args = [1, 3])]
fn verify_signature(bencher: Bencher<'_, '_>, secrets: usize) {
    let secrets: Vec<WebhookSecret> = (0..secrets).map(secret).collect();
    let body = webhook_body("room.message", sample_data("room.message"));
    let timestamp = now();
    let signature = secrets.last().unwrap().sign("evt_1", timestamp, &body);
    let timestamp = timestamp.to_string();
    let at = SystemTime::now();
    bencher.bench_local(|| {
        let id = lag_bot::__fuzz::verify_webhook(
            black_box(&secrets),
            Some("evt_1"),
            Some(&timestamp),
            Some(&signature),
            black_box(&body),
            at,
        );
        assert!(id.is_some());
        id
    });
}

/// Decoding a webhook body into an `Envelope` with its typed event, per event type (an unknown
/// type is kept as raw JSON).
#[divan::bench(args = [
    "room.message",
    "room.message.edited",
    "room.message.deleted",
    "robot.mentioned",
    "member.join",
    "presence.update",
    "galaxy.exploded",
])]
fn decode_event(bencher: Bencher<'_, '_>, event_type: &str) {
    let body = webhook_body(event_type, sample_data(event_type));
    bencher.bench_local(|| Envelope::from_webhook(Some("evt_1"), black_box(&body)).unwrap());
}

fn message_envelope(n: u64) -> Envelope {
    let data = sample_data("room.message").replace("msg_01J0000001", &format!("msg_{n:016}"));
    Envelope::from_webhook(
        Some(&format!("evt_{n:016}")),
        &webhook_body("room.message", &data),
    )
    .unwrap()
}

/// Claiming a fresh room message (two ids: the delivery's and the message's) in a robot's
/// full in-memory store, so that each claim also forgets the oldest ids.
#[divan::bench]
fn dedup_claim_fresh(bencher: Bencher<'_, '_>) {
    claim_fresh(bencher, &Claimer::memory());
}

/// The same through the [`DedupStore`] trait, as a store given to the robot is claimed (here
/// an in-memory one): each id written out and claimed by a boxed future.
#[divan::bench]
fn dedup_claim_fresh_given_store(bencher: Bencher<'_, '_>) {
    claim_fresh(
        bencher,
        &Claimer::new(Arc::new(MemoryDedup::default()) as Arc<dyn DedupStore>),
    );
}

fn claim_fresh(bencher: Bencher<'_, '_>, claimer: &Claimer) {
    let next = Cell::new(0u64);
    for _ in 0..MemoryDedup::DEFAULT_CAPACITY {
        let n = next.get();
        next.set(n + 1);
        assert!(claimer.claim(&message_envelope(n)).now_or_never().unwrap());
    }
    bencher
        .with_inputs(|| {
            let n = next.get();
            next.set(n + 1);
            message_envelope(n)
        })
        .bench_local_refs(|envelope| {
            assert!(claimer.claim(envelope).now_or_never().unwrap());
        });
}

/// Claiming a delivery that was already claimed (a redelivery).
#[divan::bench]
fn dedup_claim_duplicate(bencher: Bencher<'_, '_>) {
    let claimer = Claimer::memory();
    let envelope = message_envelope(1);
    assert!(claimer.claim(&envelope).now_or_never().unwrap());
    bencher.bench_local(|| {
        assert!(!claimer.claim(black_box(&envelope)).now_or_never().unwrap());
    });
}

fn message(content: &str) -> RoomMessage {
    let body = webhook_body("room.message", sample_data("room.message"));
    let envelope = Envelope::from_webhook(Some("evt_1"), &body).unwrap();
    let Event::RoomMessage(mut msg) = envelope.into_event() else {
        unreachable!()
    };
    msg.content = content.to_owned();
    msg
}

fn commands(n: usize) -> Vec<Command> {
    (0..n)
        .map(|i| {
            Command::new(format!("!cmd{i}"), |_ctx: Ctx, _n: Option<u32>| async {
                "ok"
            })
        })
        .collect()
}

/// Routing a message that invokes one command among 10, 100 and 1,000 (with the built-in help).
#[divan::bench(args = [10, 100, 1000])]
fn route_command(bencher: Bencher<'_, '_>, commands_: usize) {
    let router = Router::new(commands(commands_), Vec::new()).unwrap();
    let msg = message("!cmd7 20");
    bencher.bench_local(|| {
        let runs = router.decide(ROBOT_ID, ROBOT_NAME, black_box(&msg));
        assert_eq!(runs, 1);
    });
}

/// Routing a chat message that addresses no command, among 10, 100 and 1,000 commands.
#[divan::bench(args = [10, 100, 1000])]
fn route_chat(bencher: Bencher<'_, '_>, commands_: usize) {
    let router = Router::new(commands(commands_), Vec::new()).unwrap();
    let msg = message("just chatting, nothing for the robot here");
    bencher.bench_local(|| {
        let runs = router.decide(ROBOT_ID, ROBOT_NAME, black_box(&msg));
        assert_eq!(runs, 0);
    });
}

/// Routing a mistyped command among 10, 100 and 1,000: the "did you mean" search.
#[divan::bench(args = [10, 100, 1000])]
fn route_typo(bencher: Bencher<'_, '_>, commands_: usize) {
    let router = Router::new(commands(commands_), Vec::new()).unwrap();
    let msg = message("!cmdd7 20");
    bencher.bench_local(|| router.decide(ROBOT_ID, ROBOT_NAME, black_box(&msg)));
}

/// Routing a message through 100 `#[hear]` patterns (and 10 commands): one matching pattern,
/// or none.
#[divan::bench(args = ["matches one", "matches none"])]
fn route_hear_100(bencher: Bencher<'_, '_>, case: &str) {
    let hears: Vec<Hear> = (0..100)
        .map(|i| {
            Hear::new(
                format!(r"(?i)\b(?:word{i}|term{i})\s+(?P<rest>\w+)"),
                |_ctx: Ctx, _caps: Captures| async {},
            )
        })
        .collect();
    let router = Router::new(commands(10), hears).unwrap();
    let (content, expected) = match case {
        "matches one" => ("well, word42 here is something", 1),
        _ => ("just chatting, nothing for the robot here", 0),
    };
    let msg = message(content);
    bencher.bench_local(|| {
        assert_eq!(
            router.decide(ROBOT_ID, ROBOT_NAME, black_box(&msg)),
            expected
        );
    });
}

/// Parses `T1` then `T2` from `text` as a command's parameters are parsed.
fn parse2<T1: FromArg, T2: FromArg>(text: &str) -> (T1, T2) {
    let mut args = Args::new(text);
    let first = T1::from_arg(&mut args).unwrap();
    let second = T2::from_arg(&mut args).unwrap();
    args.finish().unwrap();
    (first, second)
}

/// Parsing typed arguments from a message's text after the trigger.
#[divan::bench(args = ["two numbers", "rest of line", "quoted words", "duration"])]
fn parse_args(bencher: Bencher<'_, '_>, case: &str) {
    match case {
        "two numbers" => {
            bencher.bench_local(|| parse2::<Option<u32>, Option<u8>>(black_box("20 3")));
        }
        "rest of line" => bencher.bench_local(|| {
            parse2::<Rest, Option<String>>(black_box("repeat these words exactly, please"))
                .0
                .into_inner()
        }),
        "quoted words" => {
            bencher.bench_local(|| parse2::<Quoted, String>(black_box(r#""two words" third"#)).1);
        }
        _ => bencher
            .bench_local(|| parse2::<std::time::Duration, Option<String>>(black_box("1h30m")).0),
    }
}

/// The limiter's admit path: one call with room in every window, acquired and settled.
#[divan::bench(args = ["request", "message"])]
fn limiter_admit(bencher: Bencher<'_, '_>, class: &str) {
    let class = if class == "request" {
        CallClass::Request
    } else {
        CallClass::Message
    };
    bencher
        .with_inputs(MemoryLimiter::default)
        .bench_local_refs(|limiter| {
            let permit = limiter.acquire(class).now_or_never().unwrap().unwrap();
            drop(permit);
        });
}

/// The whole pure path of one webhook delivery that matches no command: verify, decode,
/// claim, route, in the `commands` example's robot.
#[divan::bench]
fn delivery_pure_path(bencher: Bencher<'_, '_>) {
    let secrets = vec![secret(0)];
    let claimer = Claimer::memory();
    let router = Router::new(
        ["!ping", "!roll", "!echo", "!time"]
            .into_iter()
            .map(|trigger| Command::new(trigger, |_ctx: Ctx, _n: Option<u32>| async { "ok" }))
            .collect(),
        vec![Hear::new(
            r"(?i)\b(?:thanks|thank you|thx),?\s+(?P<name>@?\w+)",
            |_ctx: Ctx, _caps: Captures| async {},
        )],
    )
    .unwrap();
    let timestamp = now();
    let at = SystemTime::now();
    let next = Cell::new(0u64);
    bencher
        .with_inputs(|| {
            let n = next.get();
            next.set(n + 1);
            let id = format!("evt_{n:016}");
            let data =
                sample_data("room.message").replace("msg_01J0000001", &format!("msg_{n:016}"));
            let body = webhook_body("room.message", &data);
            let signature = secrets[0].sign(&id, timestamp, &body);
            (id, timestamp.to_string(), signature, body)
        })
        .bench_local_refs(|(id, timestamp, signature, body)| {
            let id = lag_bot::__fuzz::verify_webhook(
                &secrets,
                Some(id),
                Some(timestamp),
                Some(signature),
                body,
                at,
            )
            .unwrap();
            let envelope = Envelope::from_webhook(Some(&id), body).unwrap();
            assert!(claimer.claim(&envelope).now_or_never().unwrap());
            let Event::RoomMessage(msg) = envelope.event() else {
                unreachable!()
            };
            assert_eq!(router.decide(ROBOT_ID, ROBOT_NAME, msg), 0);
        });
}
