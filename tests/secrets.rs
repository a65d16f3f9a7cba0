//! The robot's API key and webhook secrets never leak: a full robot runs against an in-process
//! lag-sim at the trace level of every crate through every error path it can reach (a rejected
//! key at start and mid-run, a wrong secret, 429, 404s, webhook refusals, a panicking handler,
//! bad settings, shutdown), and the captured log lines, panic messages, errors, `Debug`
//! output and metrics are searched for the key and every secret.
//!
//! Its own test binary: it installs the process-wide log subscriber and panic hook.

use std::io::Write;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lag_bot::client::{Client, RateLimits, RetryPolicy};
use lag_bot::events::RoomMessage;
use lag_bot::transport::{PollConfig, SseConfig, Transport, WebhookConfig, WebhookSecret};
use lag_bot::{Ctx, Listener, Robot};
use lag_sim::{RobotSpec, Sim, SimConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Everything the robot, its client and the sim printed.
#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }

    fn note(&self, what: &str, text: impl std::fmt::Display) {
        writeln!(self.0.lock().unwrap(), "[{what}] {text}").unwrap();
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Records an error in every form a program might print it: `Display`, `Debug`, pretty
/// `Debug`, and each source.
fn record_error(out: &Captured, what: &str, err: &lag_bot::Error) {
    out.note(what, format_args!("{err} | {err:?} | {err:#?}"));
    let mut source = std::error::Error::source(err);
    while let Some(cause) = source {
        out.note(what, format_args!("caused by {cause} | {cause:?}"));
        source = cause.source();
    }
}

const KEY_SECRET: &str = "K3ySecretPartNeverShown";
const WRONG_KEY_SECRET: &str = "Wr0ngKeyPartNeverShown";

fn secret_of(text: &str) -> String {
    format!("whsec_{}", STANDARD.encode(text))
}

/// The pieces of a `whsec_` secret that must not appear: the whole, the base64 part and the
/// key bytes themselves.
fn secret_needles(secret: &str) -> Vec<String> {
    let encoded = secret.strip_prefix("whsec_").unwrap_or(secret).to_owned();
    let raw = String::from_utf8_lossy(&STANDARD.decode(&encoded).unwrap()).into_owned();
    vec![secret.to_owned(), encoded, raw]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_key_or_secret_appears_anywhere_at_any_log_level() {
    let out = Captured::default();
    let writer = out.clone();
    tracing_subscriber::fmt()
        .with_env_filter("trace")
        .with_ansi(false)
        .with_writer(move || writer.clone())
        .init();
    let hook_out = out.clone();
    std::panic::set_hook(Box::new(move |info| hook_out.note("panic", info)));

    let robot_secret = secret_of("robot-signing-secret-1");
    let wrong_secret = secret_of("a-secret-lag-never-used");
    let key = format!("lag_robot_abcd1234_{KEY_SECRET}");
    let wrong_key = format!("lag_robot_abcd1234_{WRONG_KEY_SECRET}");

    // Lag at its own pace, so that its rate limits answer 429 to an unpaced client.
    let sim = Sim::start(SimConfig {
        time_scale: 1.0,
        ..SimConfig::default()
    })
    .await
    .unwrap();
    let receiver = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let webhook_url = format!("http://{}/webhook", receiver.local_addr().unwrap());
    let demo = sim
        .seed_demo_with(
            RobotSpec::new("Helper")
                .key(&key)
                .secret(&robot_secret)
                .transport(lag_sim::Transport::Webhook {
                    url: webhook_url.clone(),
                }),
        )
        .unwrap();
    assert_eq!(demo.robot.key, key);

    // Bad settings: a key a header cannot carry, secrets that are not base64.
    for bad in [format!("{key}\n"), format!("{key}\u{7f}")] {
        if let Err(err) = Client::new(bad) {
            record_error(&out, "bad key", &err);
        }
    }
    for bad in [format!("{robot_secret}*"), format!("whsec_*{KEY_SECRET}")] {
        if let Err(err) = WebhookSecret::new(&bad) {
            record_error(&out, "bad secret", &err);
        }
        if let Err(err) = WebhookSecret::parse_list(&format!("{robot_secret},{bad}")) {
            record_error(&out, "bad secret list", &err);
        }
    }
    let vars = [
        ("LAG_ROBOT_API_KEY", key.clone()),
        (
            "LAG_WEBHOOK_SECRET",
            format!("{robot_secret},{KEY_SECRET}*"),
        ),
    ];
    if let Err(err) = Robot::builder().build_from_vars(vars) {
        record_error(&out, "bad variables", &err);
    }

    // A rejected key, on every transport.
    let transports: [Transport; 3] = [
        WebhookConfig::new([WebhookSecret::new(&robot_secret).unwrap()])
            .listen("127.0.0.1:0".parse().unwrap())
            .into(),
        SseConfig::new().into(),
        PollConfig::new().into(),
    ];
    for transport in transports {
        let name = transport.name();
        let robot = Robot::builder()
            .key(&wrong_key)
            .base_url(sim.base_url())
            .transport(transport)
            .build()
            .unwrap();
        out.note("robot with a wrong key", format_args!("{robot:?}"));
        let err = robot.start().await.expect_err("a wrong key is refused");
        record_error(&out, name, &err);
    }

    // The real robot: its secret list holds a wrong secret next to the right one.
    let secrets = WebhookSecret::parse_list(&format!("{wrong_secret},{robot_secret}")).unwrap();
    out.note("secrets", format_args!("{secrets:?} | {secrets:#?}"));
    let config = WebhookConfig::new(secrets)
        .listener(receiver)
        .body_timeout(Duration::from_millis(300))
        .max_connections(16);
    out.note("config", format_args!("{config:?} | {config:#?}"));
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    let robot = Robot::builder()
        .key(&key)
        .base_url(sim.base_url())
        .transport(config)
        .build()
        .unwrap()
        .on(Listener::new(move |ctx: Ctx, msg: RoomMessage| {
            let log = Arc::clone(&log);
            async move {
                log.lock().unwrap().push(msg.content.clone());
                if msg.content == "panic" {
                    panic!("a handler panicked on purpose");
                }
                ctx.reply(format!("echo: {}", msg.content)).await.map(drop)
            }
        }));
    out.note("robot", format_args!("{robot:?} | {:?}", robot.client()));
    let handle = robot.start().await.unwrap();
    out.note("handle", format_args!("{handle:?} | {handle:#?}"));
    let client = handle.client().clone();

    // Deliveries that work, and a handler that panics.
    sim.post(&demo.alice, &demo.general, "hello").unwrap();
    sim.post(&demo.alice, &demo.general, "panic").unwrap();
    eventually(|| seen.lock().unwrap().len() >= 2).await;

    // 404s.
    for err in [
        client.send("room_missing", "hi").await.unwrap_err(),
        client
            .edit(&demo.general, "msg_missing", "hi")
            .await
            .unwrap_err(),
        client
            .delete(&demo.general, "msg_missing")
            .await
            .unwrap_err(),
    ] {
        record_error(&out, "not found", &err);
    }

    // 429: an unpaced client that does not retry, sending past Lag's 10 messages per 10 s.
    let unpaced = Client::builder(&key)
        .base_url(sim.base_url())
        .rate_limits(RateLimits::unlimited())
        .retry(RetryPolicy::none())
        .build()
        .unwrap();
    out.note("unpaced client", format_args!("{unpaced:?}"));
    let mut limited = None;
    for i in 0..30 {
        if let Err(err) = unpaced.send(&demo.general, format!("burst {i}")).await {
            limited = Some(err);
            break;
        }
    }
    let limited = limited.expect("Lag answers 429 past its limit");
    assert!(matches!(
        limited.kind(),
        lag_bot::ErrorKind::RateLimited { .. }
    ));
    record_error(&out, "rate limited", &limited);

    // Webhook refusals: missing and wrong signatures, a huge body, a stalled body, bad JSON,
    // the wrong method.
    let url = format!("http://{}/webhook", handle.local_addr().unwrap());
    let http = reqwest::Client::new();
    let ts = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let wrong = WebhookSecret::new(&secret_of("forged")).unwrap();
    let right = WebhookSecret::new(&robot_secret).unwrap();
    let cases: [(&str, Option<&WebhookSecret>, Vec<u8>); 4] = [
        ("evt_forged", Some(&wrong), b"{}".to_vec()),
        ("evt_unsigned", None, b"{}".to_vec()),
        ("evt_garbled", Some(&right), b"{\"type\": ".to_vec()),
        ("evt_huge", Some(&right), vec![b'x'; 2 * 1024 * 1024]),
    ];
    for (id, signer, body) in cases {
        let mut request = http
            .post(&url)
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string());
        if let Some(secret) = signer {
            request = request.header("webhook-signature", secret.sign(id, ts, &body));
        }
        let status = request.body(body).send().await.unwrap().status();
        out.note("refused delivery", status);
        assert!(status.is_client_error(), "{id}: {status}");
    }
    out.note("GET", reqwest::get(&url).await.unwrap().status().as_u16());
    let mut stalled = TcpStream::connect(handle.local_addr().unwrap())
        .await
        .unwrap();
    stalled
        .write_all(
            format!(
                "POST /webhook HTTP/1.1\r\nhost: robot\r\nwebhook-id: evt_slow\r\n\
                 webhook-timestamp: {ts}\r\nwebhook-signature: {}\r\ncontent-length: 10\r\n\r\n",
                right.sign("evt_slow", ts, b"0123456789")
            )
            .as_bytes(),
        )
        .await
        .unwrap();
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(20), stalled.read_to_end(&mut answer)).await;
    out.note("stalled body", String::from_utf8_lossy(&answer));

    // Lag rotates the secret with no overlap: the robot refuses its deliveries (401) and Lag
    // retries; then the key is regenerated and every call of the robot is refused (401).
    let rotated = sim
        .rotate_secret_with_overlap(&demo.robot.id, Duration::ZERO)
        .unwrap();
    sim.post(&demo.alice, &demo.general, "signed with a new secret")
        .unwrap();
    eventually(|| {
        sim.deliveries(&demo.robot.id)
            .iter()
            .any(|d| d.status == Some(401))
    })
    .await;
    let regenerated = sim.regenerate_key(&demo.robot.id).unwrap();
    match client.send(&demo.general, "after the key changed").await {
        Err(err) => record_error(&out, "key regenerated", &err),
        Ok(_) => panic!("the old key still works"),
    }

    let metrics = handle.metrics().encode();
    out.note("metrics", &metrics);
    handle.shutdown().await.unwrap();
    sim.shutdown().await;

    let mut needles = vec![
        key.clone(),
        KEY_SECRET.to_owned(),
        wrong_key.clone(),
        WRONG_KEY_SECRET.to_owned(),
        regenerated.key.clone(),
    ];
    if let Some((_, secret_part)) = regenerated.key.rsplit_once('_') {
        needles.push(secret_part.to_owned());
    }
    for secret in [&robot_secret, &wrong_secret]
        .into_iter()
        .chain(rotated.secrets.iter())
    {
        needles.extend(secret_needles(secret));
    }
    let text = out.text();
    assert!(
        text.lines().count() > 200,
        "the trace was captured:\n{text}"
    );
    for expected in [
        "a handler panicked on purpose",
        "webhook delivery rejected",
        "429",
        "404",
    ] {
        assert!(text.contains(expected), "{expected:?} was not exercised");
    }
    let leaks: Vec<String> = text
        .lines()
        .filter(|line| needles.iter().any(|needle| line.contains(needle.as_str())))
        .map(|line| line.chars().take(300).collect())
        .collect();
    assert!(leaks.is_empty(), "secrets leaked:\n{}", leaks.join("\n"));
}

async fn eventually(mut check: impl FnMut() -> bool) {
    tokio::time::timeout(Duration::from_secs(30), async {
        while !check() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the condition came true");
}
