//! The admin and member-puppet API under `/_sim`, driven over HTTP only.

use lag_sim::{RobotSpec, Transport};
use serde_json::{Value, json};

use crate::support::{self, Api};

async fn created(reply: support::Reply) -> Value {
    assert_eq!(reply.status, 201, "{}", reply.text);
    reply.json()
}

#[tokio::test]
async fn a_world_built_and_driven_over_http() {
    let sim = support::sim_with(support::short_polls(200)).await;
    let admin = Api::anonymous(&sim);

    let server = created(admin.post("/_sim/servers", &json!({"name": "Acme"})).await).await;
    let server_id = server["id"].as_str().unwrap().to_owned();
    assert_eq!(server["name"], "Acme");
    assert_eq!(server["ownerId"], Value::Null);

    let alice = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/members"),
                &json!({"username": "alice", "displayName": "Alice A."}),
            )
            .await,
    )
    .await;
    assert_eq!(alice["role"], "owner", "the first member owns the server");
    assert_eq!(alice["displayName"], "Alice A.");
    let alice_id = alice["userId"].as_str().unwrap().to_owned();
    let bob = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/members"),
                &json!({"username": "bob"}),
            )
            .await,
    )
    .await;
    let bob_id = bob["userId"].as_str().unwrap().to_owned();
    assert_eq!(bob["role"], "member");

    let robot = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/robots"),
                &json!({"name": "Helper", "transportType": "longpoll",
                        "permissions": ["read_messages", "send_messages", "read_rooms", "read_members", "read_voice", "read_presence"]}),
            )
            .await,
    )
    .await;
    let key = robot["key"].as_str().unwrap().to_owned();
    assert!(key.starts_with("lag_robot_"));
    assert!(robot["secrets"][0].as_str().unwrap().starts_with("whsec_"));
    let robot_id = robot["id"].as_str().unwrap().to_owned();
    let api = Api::robot(&sim, &key);

    let room = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/rooms"),
                &json!({"name": "general", "createdBy": alice_id}),
            )
            .await,
    )
    .await;
    let room_id = room["id"].as_str().unwrap().to_owned();
    assert_eq!(room["createdBy"], alice_id.as_str());

    let message = created(
        admin
            .post(
                &format!("/_sim/rooms/{room_id}/messages"),
                &json!({"userId": bob_id, "content": "hello @Helper"}),
            )
            .await,
    )
    .await;
    let message_id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(message["mentions"][0]["id"], robot_id.as_str());
    let reply = created(
        admin
            .post(
                &format!("/_sim/rooms/{room_id}/messages"),
                &json!({"userId": alice_id, "content": "hi bob", "replyToId": message_id}),
            )
            .await,
    )
    .await;
    assert_eq!(reply["replyTo"]["id"], message_id.as_str());

    let edited = admin
        .patch(
            &format!("/_sim/rooms/{room_id}/messages/{message_id}"),
            &json!({"userId": bob_id, "content": "hello again"}),
        )
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    assert!(edited.json()["editedAt"].is_string());
    let deleted = admin
        .delete(&format!(
            "/_sim/rooms/{room_id}/messages/{message_id}?userId={bob_id}"
        ))
        .await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);

    let joined = admin
        .post(
            &format!("/_sim/rooms/{room_id}/voice"),
            &json!({"userId": bob_id}),
        )
        .await;
    assert_eq!(joined.status, 200, "{}", joined.text);
    assert_eq!(joined.json()["participants"][0]["userId"], bob_id.as_str());
    let left = admin
        .delete(&format!("/_sim/rooms/{room_id}/voice/{bob_id}"))
        .await;
    assert_eq!(left.status, 200, "{}", left.text);
    assert_eq!(left.json()["participants"], json!([]));

    let status = admin
        .put(
            &format!("/_sim/users/{bob_id}/status"),
            &json!({"status": "idle"}),
        )
        .await;
    assert_eq!(status.status, 204, "{}", status.text);
    let role = admin
        .patch(
            &format!("/_sim/servers/{server_id}/members/{bob_id}"),
            &json!({"role": "admin"}),
        )
        .await;
    assert_eq!(role.status, 200, "{}", role.text);
    assert_eq!(role.json()["role"], "admin");
    assert_eq!(role.json()["status"], "idle");

    let updated = admin
        .patch(
            &format!("/_sim/servers/{server_id}"),
            &json!({"name": "Acme Inc", "iconEmoji": ":rocket:", "updatedBy": bob_id}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json()["name"], "Acme Inc");

    let extra = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/rooms"),
                &json!({"name": "temp"}),
            )
            .await,
    )
    .await;
    let extra_id = extra["id"].as_str().unwrap();
    assert_eq!(
        admin
            .delete(&format!("/_sim/rooms/{extra_id}"))
            .await
            .status,
        204
    );

    let carol = created(
        admin
            .post(
                &format!("/_sim/servers/{server_id}/members"),
                &json!({"username": "carol"}),
            )
            .await,
    )
    .await;
    let carol_id = carol["userId"].as_str().unwrap();
    assert_eq!(
        admin
            .delete(&format!("/_sim/servers/{server_id}/members/{carol_id}"))
            .await
            .status,
        204
    );

    let mut kinds = Vec::new();
    loop {
        let batch = api.poll().await;
        if batch.is_empty() {
            break;
        }
        kinds.extend(
            batch
                .iter()
                .map(|e| e["eventType"].as_str().unwrap().to_owned()),
        );
    }
    assert_eq!(
        kinds,
        [
            "room.created",
            "room.message",
            "robot.mentioned",
            "room.message",
            "room.message.edited",
            "room.message.deleted",
            "voice.join",
            "voice.leave",
            "presence.update",
            "member.role_changed",
            "server.updated",
            "room.created",
            "room.deleted",
            "member.join",
            "member.leave",
        ]
    );

    // The world view shows the result.
    let world = admin.get("/_sim/world").await.json();
    let acme = &world["servers"][0];
    assert_eq!(acme["server"]["name"], "Acme Inc");
    assert_eq!(acme["rooms"].as_array().unwrap().len(), 1);
    assert_eq!(acme["members"].as_array().unwrap().len(), 2);
    assert_eq!(acme["robots"][0]["key"], key.as_str());
    let history = admin
        .get(&format!("/_sim/rooms/{room_id}/messages"))
        .await
        .json();
    assert_eq!(history.as_array().unwrap().len(), 1, "one message left");
    sim.shutdown().await;
}

#[tokio::test]
async fn robots_are_configured_over_http() {
    let sim = support::sim_with(support::short_polls(200)).await;
    let demo = sim
        .seed_demo_with(RobotSpec::new("Helper").transport(Transport::LongPoll))
        .unwrap();
    let admin = Api::anonymous(&sim);
    let path = format!("/_sim/robots/{}", demo.robot.id);

    let details = admin.get(&path).await.json();
    assert_eq!(details["transportType"], "longpoll");
    assert_eq!(details["active"], true);
    assert_eq!(details["subscriptions"].as_array().unwrap().len(), 13);

    let changed = admin
        .patch(
            &path,
            &json!({"permissions": ["send_messages"], "subscriptions": ["member.join"],
                    "transportType": "sse", "name": "Renamed"}),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    let changed = changed.json();
    assert_eq!(changed["permissions"], json!(["send_messages"]));
    assert_eq!(changed["subscriptions"], json!(["member.join"]));
    assert_eq!(changed["transportType"], "sse");
    assert_eq!(changed["name"], "Renamed");
    let info = Api::robot(&sim, &demo.robot.key)
        .get("/robots/@me/info")
        .await
        .json();
    assert_eq!(info["name"], "Renamed");
    assert_eq!(info["permissions"], json!(["send_messages"]));

    let key = admin
        .post(&format!("{path}/regenerate-key"), &json!({}))
        .await;
    assert_eq!(key.status, 200);
    let new_key = key.json()["key"].as_str().unwrap().to_owned();
    assert_ne!(new_key, demo.robot.key);
    Api::robot(&sim, &demo.robot.key)
        .get("/robots/@me/info")
        .await
        .assert_error(401);

    // Webhook transport needs a URL; a bad one is refused without changing anything.
    admin
        .patch(&path, &json!({"transportType": "webhook"}))
        .await
        .assert_error(400);
    admin
        .patch(
            &path,
            &json!({"transportType": "webhook", "webhookUrl": "ftp://x"}),
        )
        .await
        .assert_error(400);
    admin
        .patch(&path, &json!({"webhookUrl": "http://127.0.0.1:9/hook"}))
        .await
        .assert_error(400);
    admin
        .patch(&path, &json!({"transportType": "pigeon"}))
        .await
        .assert_error(400);
    admin
        .patch(&path, &json!({"permissions": ["read_minds"]}))
        .await
        .assert_error(400);
    admin
        .patch(&path, &json!({"subscriptions": ["room.exploded"]}))
        .await
        .assert_error(400);
    assert_eq!(admin.get(&path).await.json()["transportType"], "sse");

    let log = admin.get(&format!("{path}/deliveries")).await;
    assert_eq!(log.status, 200);
    assert_eq!(log.json(), json!([]));
    let events = admin.get(&format!("{path}/events")).await;
    assert_eq!(events.status, 200);
    assert!(events.json().is_array());

    admin.get("/_sim/robots/rob_nope").await.assert_error(404);
    admin
        .get("/_sim/robots/rob_nope/deliveries")
        .await
        .assert_error(404);
    sim.shutdown().await;
}

#[tokio::test]
async fn robot_names_and_counts_follow_lag_limits() {
    let sim = support::sim().await;
    let admin = Api::anonymous(&sim);
    let demo = sim.seed_demo().unwrap(); // one robot already
    let robots = format!("/_sim/servers/{}/robots", demo.server_id);

    admin
        .post(&robots, &json!({"name": ""}))
        .await
        .assert_error(400);
    admin
        .post(&robots, &json!({"name": "x".repeat(33)}))
        .await
        .assert_error(400);
    admin.post(&robots, &json!({})).await.assert_error(400);
    admin
        .post(&robots, &json!({"name": "helper"}))
        .await
        .assert_error(409);
    let ok = admin.post(&robots, &json!({"name": "y".repeat(32)})).await;
    assert_eq!(ok.status, 201, "32 characters is fine");
    for n in 2..10 {
        let reply = admin
            .post(&robots, &json!({"name": format!("Robot {n}")}))
            .await;
        assert_eq!(reply.status, 201, "{}", reply.text);
    }
    let eleventh = admin.post(&robots, &json!({"name": "Eleventh"})).await;
    eleventh.assert_error(409);

    // Disabling one frees a slot; re-enabling it past the limit is refused.
    let first = admin.get(&robots).await.json()[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let disabled = admin
        .patch(&format!("/_sim/robots/{first}"), &json!({"active": false}))
        .await;
    assert_eq!(disabled.status, 200);
    assert_eq!(
        admin
            .post(&robots, &json!({"name": "Eleventh"}))
            .await
            .status,
        201
    );
    admin
        .patch(&format!("/_sim/robots/{first}"), &json!({"active": true}))
        .await
        .assert_error(409);
    // Another server has its own ten.
    let other = sim.create_server("Other").unwrap();
    assert_eq!(
        admin
            .post(
                &format!("/_sim/servers/{other}/robots"),
                &json!({"name": "Helper"})
            )
            .await
            .status,
        201
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn admin_errors_use_the_envelope() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let admin = Api::anonymous(&sim);
    admin.get("/_sim/servers/srv_nope").await.assert_error(404);
    admin
        .post("/_sim/servers/srv_nope/rooms", &json!({"name": "x"}))
        .await
        .assert_error(404);
    admin
        .post(
            "/_sim/rooms/room_nope/messages",
            &json!({"userId": demo.alice, "content": "x"}),
        )
        .await
        .assert_error(404);
    admin
        .post(
            &format!("/_sim/rooms/{}/messages", demo.general),
            &json!({"userId": "usr_nope", "content": "x"}),
        )
        .await
        .assert_error(404);
    admin
        .post(
            &format!("/_sim/rooms/{}/messages", demo.general),
            &json!({"userId": demo.alice}),
        )
        .await
        .assert_error(400);
    admin
        .post(
            &format!("/_sim/rooms/{}/messages", demo.general),
            &json!({"userId": demo.alice, "content": "x", "colour": "red"}),
        )
        .await
        .assert_error(400);
    admin
        .raw(reqwest::Method::POST, "/_sim/servers", "{\"name\":")
        .await
        .assert_error(400);
    admin
        .post("/_sim/servers", &json!({"name": 7}))
        .await
        .assert_error(400);
    admin
        .post(
            &format!("/_sim/servers/{}/members", demo.server_id),
            &json!({"username": "bob"}),
        )
        .await
        .assert_error(409);
    admin
        .post(
            &format!("/_sim/servers/{}/members", demo.server_id),
            &json!({"username": "has space"}),
        )
        .await
        .assert_error(400);
    admin
        .put(
            &format!("/_sim/users/{}/status", demo.bob),
            &json!({"status": "asleep"}),
        )
        .await
        .assert_error(400);
    admin
        .patch(
            &format!("/_sim/servers/{}/members/{}", demo.server_id, demo.alice),
            &json!({"role": "member"}),
        )
        .await
        .assert_error(409);
    admin
        .delete(&format!("/_sim/rooms/{}/messages/whatever", demo.general))
        .await
        .assert_error(400);
    admin
        .delete(&format!("/_sim/rooms/{}/voice/{}", demo.general, demo.bob))
        .await
        .assert_error(404);
    admin.delete("/_sim/servers").await.assert_error(405);
    assert!(sim.messages(&demo.general).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_demo_and_stream_cut_endpoints() {
    let sim = support::sim().await;
    let admin = Api::anonymous(&sim);
    let demo = created(
        admin
            .post("/_sim/demo", &json!({"transportType": "sse"}))
            .await,
    )
    .await;
    assert_eq!(demo["robot"]["name"], "Helper");
    let key = demo["robot"]["key"].as_str().unwrap();
    let api = Api::robot(&sim, key);
    let mut stream = support::SseReader::connect(&api, None).await;
    let cut = admin.post("/_sim/streams/cut", &json!({})).await;
    assert_eq!(cut.status, 204);
    assert_eq!(stream.next_frame().await, None);

    // An empty body is fine where every field is optional.
    let second = admin
        .send(admin.request(reqwest::Method::POST, "/_sim/demo"))
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    assert_eq!(
        second.json()["robot"]["name"],
        "Helper",
        "the demo robot's name by default"
    );
    let robot_id = second.json()["robot"]["id"].as_str().unwrap().to_owned();
    let details = admin.get(&format!("/_sim/robots/{robot_id}")).await.json();
    assert_eq!(
        details["transportType"], "sse",
        "the demo transport by default"
    );
    let servers = admin.get("/_sim/servers").await.json();
    assert_eq!(servers.as_array().unwrap().len(), 2);
    sim.shutdown().await;
}
