//! The webhook receiver under hostile clients: idle and half-sent connections, trickled and
//! huge bodies, storms of bad signatures. In each case the bad client gets a defined answer (or
//! its connection closed), and a genuine delivery sent meanwhile still gets its 200.
//!
//! The same cases at a larger scale (5,000 connections, CPU per invalid delivery) are in
//! `tests/hostile_load.rs`, run on demand.

use std::time::Duration;

use lag_bot::transport::WebhookConfig;
use lag_bot::{Robot, RobotHandle};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::support::{
    Seen, World, eventually, metric, now, recorder, secrets, sign, stop, within, world,
};

/// A robot whose receiver listens on a free loopback port, configured further by `config`.
fn receiver(world: &World, config: impl FnOnce(WebhookConfig) -> WebhookConfig) -> Robot {
    let secrets = secrets(&world.demo.robot.secrets);
    world.robot(config(
        WebhookConfig::new(secrets).listen("127.0.0.1:0".parse().unwrap()),
    ))
}

/// Posts a correctly signed delivery of `content` on a fresh connection, and returns the status.
async fn deliver(handle: &RobotHandle, world: &World, content: &str) -> u16 {
    let body = world.message_body(&format!("msg_{content}"), content);
    let id = format!("evt_{content}");
    let ts = now();
    let signature = sign(world.demo.robot.secret(), &id, ts, &body);
    let url = format!("http://{}/webhook", handle.local_addr().unwrap());
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()
        .unwrap();
    let sent = http
        .post(url)
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", signature)
        .body(body)
        .send();
    within("the genuine delivery's answer", sent)
        .await
        .expect("the genuine delivery is answered")
        .status()
        .as_u16()
}

/// The head of a signed POST to the receiver announcing a body of `length` bytes.
fn head(world: &World, length: &str) -> String {
    let ts = now();
    let signature = sign(world.demo.robot.secret(), "evt_raw", ts, b"");
    format!(
        "POST /webhook HTTP/1.1\r\nhost: robot\r\ncontent-type: application/json\r\n\
         webhook-id: evt_raw\r\nwebhook-timestamp: {ts}\r\nwebhook-signature: {signature}\r\n\
         content-length: {length}\r\n\r\n"
    )
}

/// Reads one answer's head from `stream`: its status and its lowercased header lines. `None`
/// when the connection closes (or is reset) before a complete head.
async fn read_head(stream: &mut (impl AsyncRead + Unpin)) -> Option<(u16, String)> {
    let mut seen = Vec::new();
    let mut buf = [0u8; 1024];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&seen).to_lowercase();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    Some((status, text))
}

/// Whether the peer closed `stream`: a read gives end of file or an error.
async fn closed(stream: &mut TcpStream) -> bool {
    let mut buf = [0u8; 1024];
    loop {
        match stream.read(&mut buf).await {
            Ok(0) | Err(_) => return true,
            Ok(_) => continue,
        }
    }
}

#[tokio::test]
async fn idle_and_half_sent_connections_never_lock_out_a_delivery() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = receiver(&world, |c| c.max_connections(64))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr().unwrap();

    // 300 connections, over four times the cap: half say nothing, half stop mid-header.
    let mut hostile = Vec::new();
    for i in 0..300 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        if i % 2 == 1 {
            stream
                .write_all(b"POST /webhook HTTP/1.1\r\nhost: robot\r\nwebhook-id: ev")
                .await
                .unwrap();
        }
        hostile.push(stream);
    }
    assert_eq!(deliver(&handle, &world, "through the crowd").await, 200);

    let metrics = handle.metrics().clone();
    eventually("the oldest connections to be evicted", || {
        let evicted = metric(
            &metrics,
            r#"lag_bot_connections_dropped_total{reason="evicted"}"#,
        );
        (evicted >= 300.0 - 64.0).then_some(())
    })
    .await;
    assert!(metric(&metrics, "lag_bot_connections_open") <= 64.0);
    // The first connections were the ones closed to make room.
    assert!(within("the oldest to be closed", closed(&mut hostile[0])).await);

    // Stopping does not wait for the connections that never sent a request.
    within("the robot to stop", handle.shutdown())
        .await
        .expect("the robot stops cleanly");
    world.sim.shutdown().await;
    assert_eq!(seen.all(), ["through the crowd"]);
}

#[tokio::test]
async fn a_connection_silent_past_the_header_timeout_is_closed() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let handle = receiver(&world, |c| c.header_timeout(Duration::from_millis(200)))
        .start()
        .await
        .unwrap();
    let addr = handle.local_addr().unwrap();
    let mut half = TcpStream::connect(addr).await.unwrap();
    half.write_all(b"POST /webhook HTTP/1.1\r\nhost: rob")
        .await
        .unwrap();
    let mut silent = TcpStream::connect(addr).await.unwrap();
    assert!(within("the half-sent connection to close", closed(&mut half)).await);
    assert!(within("the silent connection to close", closed(&mut silent)).await);
    assert!(
        metric(
            handle.metrics(),
            r#"lag_bot_connections_dropped_total{reason="header_timeout"}"#
        ) >= 2.0
    );

    // A kept-alive connection that goes quiet after an answer is closed the same way.
    let mut kept = TcpStream::connect(addr).await.unwrap();
    kept.write_all(b"GET /metrics HTTP/1.1\r\nhost: robot\r\n\r\n")
        .await
        .unwrap();
    let (status, _) = read_head(&mut kept).await.expect("an answer");
    assert_eq!(status, 200);
    assert!(within("the idle kept-alive connection to close", closed(&mut kept)).await);
    assert_eq!(deliver(&handle, &world, "still listening").await, 200);
    stop(handle, world).await;
}

#[tokio::test]
async fn a_trickled_body_gets_408_while_deliveries_go_through() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = receiver(&world, |c| c.body_timeout(Duration::from_millis(500)))
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let mut slow = TcpStream::connect(handle.local_addr().unwrap())
        .await
        .unwrap();
    slow.write_all(head(&world, "100").as_bytes())
        .await
        .unwrap();
    let (mut reader, mut writer) = slow.into_split();
    let trickle = tokio::spawn(async move {
        for _ in 0..100 {
            if writer.write_all(b"x").await.is_err() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    assert_eq!(deliver(&handle, &world, "beside the trickle").await, 200);

    let (status, text) = within("the trickle's answer", read_head(&mut reader))
        .await
        .expect("an answer before the body is complete");
    assert_eq!(status, 408);
    assert!(text.contains("connection: close"), "{text}");
    trickle.abort();

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(seen.all(), ["beside the trickle"]);
    assert_eq!(
        metric(
            &metrics,
            r#"lag_bot_deliveries_total{transport="webhook",outcome="body_timeout"}"#
        ),
        1.0
    );
}

#[tokio::test]
async fn a_100_mib_body_is_refused_before_it_is_read() {
    const HUNDRED_MIB: usize = 100 * 1024 * 1024;
    let world = world(lag_sim::Transport::LongPoll).await;
    let handle = receiver(&world, |c| c).start().await.unwrap();
    let addr = handle.local_addr().unwrap();

    // Announced: the answer comes from the head alone, not one byte of the body sent.
    let mut announced = TcpStream::connect(addr).await.unwrap();
    announced
        .write_all(head(&world, &HUNDRED_MIB.to_string()).as_bytes())
        .await
        .unwrap();
    let (status, text) = within("the announced body's answer", read_head(&mut announced))
        .await
        .expect("an answer before any body");
    assert_eq!(status, 413);
    assert!(text.contains("connection: close"), "{text}");

    // Streamed without a length: refused once past the limit, long before 100 MiB.
    let streamed = TcpStream::connect(addr).await.unwrap();
    let (mut reader, mut writer) = streamed.into_split();
    let chunked = head(&world, "0").replace("content-length: 0", "transfer-encoding: chunked");
    writer.write_all(chunked.as_bytes()).await.unwrap();
    let pour = tokio::spawn(async move {
        let chunk = vec![b'x'; 64 * 1024];
        let mut sent = 0;
        while sent < HUNDRED_MIB {
            let framed = [format!("{:x}\r\n", chunk.len()).as_bytes(), &chunk, b"\r\n"].concat();
            if writer.write_all(&framed).await.is_err() {
                break;
            }
            sent += chunk.len();
        }
        sent
    });
    // The answer is 413, unless the client's own writes made the closed connection reset first.
    let answer = within("the streamed body's answer", read_head(&mut reader)).await;
    assert!(matches!(answer, None | Some((413, _))), "{answer:?}");
    drop(reader);
    let sent = within("the client to stop pouring", pour).await.unwrap();
    assert!(sent < HUNDRED_MIB, "the whole body went in: {sent} bytes");
    assert_eq!(
        metric(
            handle.metrics(),
            r#"lag_bot_deliveries_total{transport="webhook",outcome="too_large"}"#
        ),
        2.0
    );

    assert_eq!(deliver(&handle, &world, "after the flood").await, 200);
    stop(handle, world).await;
}

#[tokio::test]
async fn a_storm_of_bad_signatures_gets_401s_and_dispatches_nothing() {
    const STORM: usize = 2000;
    let world = world(lag_sim::Transport::LongPoll).await;
    let seen = Seen::default();
    let handle = receiver(&world, |c| c)
        .on(recorder(&seen))
        .start()
        .await
        .unwrap();
    let url = format!("http://{}/webhook", handle.local_addr().unwrap());
    let http = reqwest::Client::new();
    let body = world.message_body("msg_forged", "forged");
    let forged = sign("whsec_Zm9yZ2Vk", "evt_forged", now(), &body);

    let storm = (0..32).map(|worker| {
        let (http, url, body, forged) = (http.clone(), url.clone(), body.clone(), forged.clone());
        tokio::spawn(async move {
            let mut statuses = Vec::new();
            for i in (worker..STORM).step_by(32) {
                let sent = http
                    .post(&url)
                    .header("webhook-id", format!("evt_forged_{i}"))
                    .header("webhook-timestamp", now().to_string())
                    .header("webhook-signature", &forged)
                    .body(body.clone())
                    .send()
                    .await;
                statuses.push(sent.map(|r| r.status().as_u16()).unwrap_or(0));
            }
            statuses
        })
    });
    let storm: Vec<_> = storm.collect();
    assert_eq!(deliver(&handle, &world, "amid the storm").await, 200);
    for worker in storm {
        let statuses = within("the storm to pass", worker).await.unwrap();
        assert!(statuses.iter().all(|&s| s == 401), "{statuses:?}");
    }

    let metrics = handle.metrics().clone();
    stop(handle, world).await;
    assert_eq!(seen.all(), ["amid the storm"]);
    assert_eq!(
        metric(
            &metrics,
            r#"lag_bot_deliveries_total{transport="webhook",outcome="unauthorized"}"#
        ),
        STORM as f64
    );
}

#[tokio::test]
async fn past_the_cap_with_every_connection_mid_request_the_answer_is_503() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let handle = receiver(&world, |c| {
        c.max_connections(2).body_timeout(Duration::from_secs(2))
    })
    .start()
    .await
    .unwrap();
    let addr = handle.local_addr().unwrap();
    let mut busy = Vec::new();
    for _ in 0..2 {
        let mut stream = TcpStream::connect(addr).await.unwrap();
        stream
            .write_all(head(&world, "10").as_bytes())
            .await
            .unwrap();
        busy.push(stream);
    }
    // Until the receiver has read their heads they are idle and a newcomer evicts one, so
    // probe until a newcomer finds both mid-request.
    let refused = eventually_refused(addr).await;
    assert!(refused.contains("retry-after: 5"), "{refused}");

    // Once their bodies time out, the receiver takes deliveries again.
    for stream in &mut busy {
        let answer = within("the stalled body's answer", read_head(stream)).await;
        assert!(matches!(answer, None | Some((408, _))), "{answer:?}");
    }
    assert_eq!(deliver(&handle, &world, "after the stall").await, 200);
    assert!(
        metric(
            handle.metrics(),
            r#"lag_bot_connections_dropped_total{reason="refused"}"#
        ) >= 1.0
    );
    stop(handle, world).await;
}

/// Connects to `addr` until the receiver answers 503 at once; returns that answer's head.
async fn eventually_refused(addr: std::net::SocketAddr) -> String {
    within("a refusal at the cap", async {
        loop {
            let mut stream = TcpStream::connect(addr).await.unwrap();
            let probe = tokio::time::timeout(Duration::from_millis(100), read_head(&mut stream));
            if let Ok(Some((503, text))) = probe.await {
                return text;
            }
        }
    })
    .await
}

#[tokio::test]
async fn a_kept_alive_connection_closes_after_its_last_request() {
    let world = world(lag_sim::Transport::LongPoll).await;
    let handle = receiver(&world, |c| c.max_requests_per_connection(2))
        .start()
        .await
        .unwrap();
    let mut stream = TcpStream::connect(handle.local_addr().unwrap())
        .await
        .unwrap();
    let mut heads = Vec::new();
    for _ in 0..2 {
        stream
            .write_all(b"GET /webhook HTTP/1.1\r\nhost: robot\r\n\r\n")
            .await
            .unwrap();
        let (status, text) = read_head(&mut stream).await.expect("an answer");
        assert_eq!(status, 405);
        let length: usize = text
            .lines()
            .find_map(|l| l.strip_prefix("content-length: "))
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(0);
        let mut body = vec![0; length];
        let body_bytes = text.split_once("\r\n\r\n").map_or(0, |(_, b)| b.len());
        stream.read_exact(&mut body[body_bytes..]).await.unwrap();
        heads.push(text);
    }
    assert!(!heads[0].contains("connection: close"), "{}", heads[0]);
    assert!(heads[1].contains("connection: close"), "{}", heads[1]);
    assert!(within("the connection to close", closed(&mut stream)).await);
    stop(handle, world).await;
}
