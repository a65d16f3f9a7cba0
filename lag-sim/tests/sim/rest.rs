//! The robot REST API over HTTP: every endpoint, its JSON shape and every error status.

use lag_sim::{Permission, RobotSpec, SimConfig};
use serde_json::{Value, json};

use crate::support::{self, Api, messages_path};

#[tokio::test]
async fn info_describes_the_robot() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let reply = Api::robot(&sim, &demo.robot.key)
        .get("/robots/@me/info")
        .await;
    assert_eq!(reply.status, 200);
    assert!(reply.header("x-request-id").is_some());
    let info = reply.json();
    assert_eq!(info["id"], demo.robot.id.as_str());
    assert_eq!(info["name"], "Helper");
    assert_eq!(info["serverId"], demo.server_id.as_str());
    assert_eq!(info["avatarUrl"], Value::Null);
    assert_eq!(info["active"], true);
    assert!(info["createdAt"].as_str().unwrap().ends_with('Z'));
    let permissions: Vec<&str> = info["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.as_str().unwrap())
        .collect();
    assert_eq!(
        permissions,
        [
            "read_messages",
            "send_messages",
            "read_members",
            "read_voice",
            "read_rooms",
            "read_presence"
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn keys_have_the_documented_format() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let key = &demo.robot.key;
    let rest = key.strip_prefix("lag_robot_").expect("lag_robot_ prefix");
    let (prefix, secret) = rest.split_once('_').expect("prefix and secret");
    assert_eq!(prefix.len(), 8);
    assert!(
        prefix
            .chars()
            .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase())
    );
    assert_eq!(secret.len(), 32);
    assert!(demo.robot.secret().starts_with("whsec_"));
    sim.shutdown().await;
}

#[tokio::test]
async fn authentication_failures_are_401() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let anonymous = Api::anonymous(&sim);
    anonymous.get("/robots/@me/info").await.assert_error(401);

    let wrong = Api::robot(&sim, "lag_robot_00000000_notarealkeynotarealkeynotarealk");
    wrong.get("/robots/@me/info").await.assert_error(401);

    let bearer = Api {
        auth: Some(format!("Bearer {}", demo.robot.key)),
        ..Api::anonymous(&sim)
    };
    bearer.get("/robots/@me/info").await.assert_error(401);

    let garbage = Api {
        auth: Some("Robot".to_owned()),
        ..Api::anonymous(&sim)
    };
    garbage.get("/robots/@me/info").await.assert_error(401);

    // Every robot endpoint checks the key, including the event endpoints.
    for path in [
        format!("/robots/@me/servers/{}/rooms", demo.server_id),
        format!("/robots/@me/servers/{}/members", demo.server_id),
        messages_path(&demo.server_id, &demo.general),
        "/robots/@me/events/poll".to_owned(),
        "/robots/@me/events/sse".to_owned(),
    ] {
        anonymous.get(&path).await.assert_error(401);
    }
    anonymous
        .post(
            &messages_path(&demo.server_id, &demo.general),
            &json!({"content": "hi"}),
        )
        .await
        .assert_error(401);
    assert!(sim.messages(&demo.general).is_empty());

    // A regenerated key replaces the old one at once.
    let fresh = sim.regenerate_key(&demo.robot.id).unwrap();
    Api::robot(&sim, &demo.robot.key)
        .get("/robots/@me/info")
        .await
        .assert_error(401);
    assert_eq!(
        Api::robot(&sim, &fresh.key)
            .get("/robots/@me/info")
            .await
            .status,
        200
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn send_edit_delete_round_trip() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);

    let created = api
        .post(&path, &json!({"content": "Hello from the robot!"}))
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let message = created.json();
    assert!(message["id"].as_str().unwrap().starts_with("msg_"));
    assert_eq!(message["roomId"], demo.general.as_str());
    assert_eq!(message["userId"], Value::Null);
    assert_eq!(message["username"], "Helper");
    assert_eq!(message["displayName"], "Helper");
    assert_eq!(message["avatarUrl"], Value::Null);
    assert_eq!(message["content"], "Hello from the robot!");
    assert_eq!(message["editedAt"], Value::Null);
    assert_eq!(message["robotId"], demo.robot.id.as_str());
    assert_eq!(message["robotName"], "Helper");
    assert_eq!(message["isBot"], true);
    assert_eq!(message["replyTo"], Value::Null);
    assert_eq!(message["mentions"], json!([]));
    let id = message["id"].as_str().unwrap().to_owned();
    assert_eq!(sim.messages(&demo.general)[0].id, id);

    let edited = api
        .patch(&format!("{path}/{id}"), &json!({"content": "Edited"}))
        .await;
    assert_eq!(edited.status, 200, "{}", edited.text);
    let edited = edited.json();
    assert_eq!(edited["id"], id.as_str());
    assert_eq!(edited["content"], "Edited");
    assert!(edited["editedAt"].as_str().is_some());
    assert_eq!(edited["roomId"], demo.general.as_str());
    assert_eq!(sim.messages(&demo.general)[0].content, "Edited");

    let deleted = api.delete(&format!("{path}/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert!(deleted.text.is_empty(), "204 has no body");
    assert!(deleted.header("x-request-id").is_some());
    assert!(sim.messages(&demo.general).is_empty());

    api.delete(&format!("{path}/{id}")).await.assert_error(404);
    api.patch(&format!("{path}/{id}"), &json!({"content": "again"}))
        .await
        .assert_error(404);
    sim.shutdown().await;
}

#[tokio::test]
async fn replies_quote_a_message_in_the_same_room() {
    let (sim, demo, api) = support::demo().await;
    let original = sim.post(&demo.bob, &demo.general, "question?").unwrap();
    let reply = api
        .post(
            &messages_path(&demo.server_id, &demo.general),
            &json!({"content": "answer", "replyToId": original.id}),
        )
        .await;
    assert_eq!(reply.status, 201, "{}", reply.text);
    let quoted = &reply.json()["replyTo"];
    assert_eq!(quoted["id"], original.id.as_str());
    assert_eq!(quoted["userId"], demo.bob.as_str());
    assert_eq!(quoted["username"], "bob");
    assert_eq!(quoted["content"], "question?");
    assert_eq!(quoted["isBot"], false);

    // A message from another room cannot be replied to from here.
    let elsewhere = sim.post(&demo.bob, &demo.welcome, "other room").unwrap();
    api.post(
        &messages_path(&demo.server_id, &demo.general),
        &json!({"content": "answer", "replyToId": elsewhere.id}),
    )
    .await
    .assert_error(404);
    sim.shutdown().await;
}

#[tokio::test]
async fn content_must_be_1_to_2000_characters() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);

    api.post(&path, &json!({"content": ""}))
        .await
        .assert_error(400);
    api.post(&path, &json!({"content": "x".repeat(2001)}))
        .await
        .assert_error(400);
    api.post(&path, &json!({})).await.assert_error(400);
    api.post(&path, &json!({"content": null}))
        .await
        .assert_error(400);
    api.post(&path, &json!({"content": 42}))
        .await
        .assert_error(400);
    api.post(&path, &json!(["content"])).await.assert_error(400);
    assert!(sim.messages(&demo.general).is_empty(), "nothing was stored");

    // 2000 characters (multi-byte ones count as one) is accepted.
    let long = "é".repeat(2000);
    let ok = api.post(&path, &json!({"content": long})).await;
    assert_eq!(ok.status, 201, "{}", ok.text);

    let id = ok.json()["id"].as_str().unwrap().to_owned();
    api.patch(&format!("{path}/{id}"), &json!({"content": ""}))
        .await
        .assert_error(400);
    api.patch(
        &format!("{path}/{id}"),
        &json!({"content": "y".repeat(2001)}),
    )
    .await
    .assert_error(400);
    assert_eq!(sim.messages(&demo.general)[0].content, long);
    sim.shutdown().await;
}

#[tokio::test]
async fn malformed_bodies_get_400_envelopes() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    for body in [
        "{",
        "not json",
        "{\"content\": \"unterminated",
        "null",
        "[]",
        "\"text\"",
    ] {
        api.raw(reqwest::Method::POST, &path, body)
            .await
            .assert_error(400);
    }
    let invalid_utf8 = api
        .raw(reqwest::Method::POST, &path, vec![b'{', 0xff, 0xfe, b'}'])
        .await;
    invalid_utf8.assert_error(400);
    assert!(sim.messages(&demo.general).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn images_are_refused_to_robots() {
    let (sim, demo, api) = support::demo().await;
    api.post(
        &messages_path(&demo.server_id, &demo.general),
        &json!({"content": "look", "imageId": "img_1"}),
    )
    .await
    .assert_error(403);
    assert!(sim.messages(&demo.general).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn oversized_bodies_get_413() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    let huge = json!({ "content": "x".repeat(100_000) }).to_string();
    api.raw(reqwest::Method::POST, &path, huge.clone())
        .await
        .assert_error(413);

    // Without a Content-Length (chunked), the limit is enforced while reading.
    let chunks = futures_util::stream::iter(
        huge.into_bytes()
            .chunks(8192)
            .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
            .collect::<Vec<_>>(),
    );
    api.raw(
        reqwest::Method::POST,
        &path,
        reqwest::Body::wrap_stream(chunks),
    )
    .await
    .assert_error(413);

    // Admin routes are limited too.
    Api::anonymous(&sim)
        .raw(
            reqwest::Method::POST,
            "/_sim/servers",
            json!({"name": "x".repeat(70_000)}).to_string(),
        )
        .await
        .assert_error(413);
    assert!(sim.messages(&demo.general).is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_rooms_and_messages_are_404() {
    let (sim, demo, api) = support::demo().await;
    let bad_room = messages_path(&demo.server_id, "room_nope");
    api.get(&bad_room).await.assert_error(404);
    api.post(&bad_room, &json!({"content": "hi"}))
        .await
        .assert_error(404);
    let path = messages_path(&demo.server_id, &demo.general);
    api.patch(&format!("{path}/msg_nope"), &json!({"content": "hi"}))
        .await
        .assert_error(404);
    api.delete(&format!("{path}/msg_nope"))
        .await
        .assert_error(404);

    // A message id from another room is unknown in this one.
    let elsewhere = sim.post(&demo.alice, &demo.welcome, "hi").unwrap();
    api.delete(&format!("{path}/{}", elsewhere.id))
        .await
        .assert_error(404);
    assert_eq!(sim.messages(&demo.welcome).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn foreign_servers_and_rooms_are_refused() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let other = sim.create_server("Elsewhere").unwrap();
    let dave = sim.add_member(&other, "dave").unwrap();
    let other_room = sim.create_room(&other, "lobby").unwrap();
    let api = Api::robot(&sim, &demo.robot.key);

    // Another server's id, even with its own real room: 403.
    api.get(&messages_path(&other, &other_room))
        .await
        .assert_error(403);
    api.post(
        &messages_path(&other, &other_room),
        &json!({"content": "hi"}),
    )
    .await
    .assert_error(403);
    api.get(&format!("/robots/@me/servers/{other}/rooms"))
        .await
        .assert_error(403);
    api.get(&format!("/robots/@me/servers/{other}/members"))
        .await
        .assert_error(403);
    api.get(&messages_path("srv_unknown", &demo.general))
        .await
        .assert_error(403);
    // Another server's room under the robot's own server id: 404 (it is not in this server).
    api.get(&messages_path(&demo.server_id, &other_room))
        .await
        .assert_error(404);
    let theirs = sim.post(&dave, &other_room, "mine").unwrap();
    api.delete(&format!(
        "{}/{}",
        messages_path(&other, &other_room),
        theirs.id
    ))
    .await
    .assert_error(403);
    assert_eq!(sim.messages(&other_room).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn robots_only_touch_their_own_messages() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let other = sim
        .create_robot(&demo.server_id, RobotSpec::new("Other"))
        .unwrap();
    let api = Api::robot(&sim, &demo.robot.key);
    let path = messages_path(&demo.server_id, &demo.general);
    let human = sim.post(&demo.alice, &demo.general, "human words").unwrap();
    let robot_message = Api::robot(&sim, &other.key)
        .post(&path, &json!({"content": "robot words"}))
        .await
        .json();
    let robot_message_id = robot_message["id"].as_str().unwrap();

    for id in [human.id.as_str(), robot_message_id] {
        api.patch(&format!("{path}/{id}"), &json!({"content": "mine now"}))
            .await
            .assert_error(403);
        api.delete(&format!("{path}/{id}")).await.assert_error(403);
    }
    let contents: Vec<String> = sim
        .messages(&demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["robot words", "human words"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn missing_permissions_are_403() {
    let (sim, demo, api) =
        support::demo_with(SimConfig::default(), RobotSpec::new("Mute").permissions([])).await;
    let path = messages_path(&demo.server_id, &demo.general);
    let existing = sim.post(&demo.alice, &demo.general, "hi").unwrap();

    // Identity needs no permission.
    assert_eq!(api.get("/robots/@me/info").await.status, 200);
    api.post(&path, &json!({"content": "hi"}))
        .await
        .assert_error(403);
    api.patch(&format!("{path}/{}", existing.id), &json!({"content": "x"}))
        .await
        .assert_error(403);
    api.delete(&format!("{path}/{}", existing.id))
        .await
        .assert_error(403);
    api.get(&path).await.assert_error(403);
    api.get(&format!("/robots/@me/servers/{}/rooms", demo.server_id))
        .await
        .assert_error(403);
    api.get(&format!("/robots/@me/servers/{}/members", demo.server_id))
        .await
        .assert_error(403);

    // Granting one permission opens exactly that endpoint.
    sim.set_permissions(&demo.robot.id, [Permission::ReadRooms])
        .unwrap();
    assert_eq!(
        api.get(&format!("/robots/@me/servers/{}/rooms", demo.server_id))
            .await
            .status,
        200
    );
    api.get(&path).await.assert_error(403);
    assert_eq!(sim.messages(&demo.general).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn disabled_robots_get_403_everywhere() {
    let (sim, demo, api) = support::demo().await;
    sim.set_active(&demo.robot.id, false).unwrap();
    api.get("/robots/@me/info").await.assert_error(403);
    api.post(
        &messages_path(&demo.server_id, &demo.general),
        &json!({"content": "hi"}),
    )
    .await
    .assert_error(403);
    api.get("/robots/@me/events/poll").await.assert_error(403);
    assert!(sim.messages(&demo.general).is_empty());

    sim.set_active(&demo.robot.id, true).unwrap();
    let info = api.get("/robots/@me/info").await;
    assert_eq!(info.status, 200);
    assert_eq!(info.json()["active"], true);
    sim.shutdown().await;
}

#[tokio::test]
async fn rooms_and_members_are_bare_arrays() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    sim.join_voice(&demo.carol, &demo.general).unwrap();
    let api = Api::robot(&sim, &demo.robot.key);

    let rooms = api
        .get(&format!("/robots/@me/servers/{}/rooms", demo.server_id))
        .await;
    assert_eq!(rooms.status, 200);
    let rooms = rooms.json();
    let names: Vec<&str> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "welcome", "mod-log"]);
    let general = &rooms[0];
    assert_eq!(general["id"], demo.general.as_str());
    assert_eq!(general["serverId"], demo.server_id.as_str());
    assert_eq!(general["createdBy"], demo.alice.as_str());
    assert!(general["createdAt"].is_string());
    assert!(general.get("maxParticipants").is_some());
    let participant = &general["participants"][0];
    assert_eq!(participant["userId"], demo.carol.as_str());
    assert_eq!(participant["username"], "carol");
    assert_eq!(participant["isMuted"], false);
    assert!(participant["joinedAt"].is_string());
    assert_eq!(rooms[1]["participants"], json!([]));

    let members = api
        .get(&format!("/robots/@me/servers/{}/members", demo.server_id))
        .await;
    assert_eq!(members.status, 200);
    let members = members.json();
    let roles: Vec<(&str, &str)> = members
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["username"].as_str().unwrap(), m["role"].as_str().unwrap()))
        .collect();
    assert_eq!(
        roles,
        [("alice", "owner"), ("bob", "admin"), ("carol", "member")]
    );
    let alice = &members[0];
    assert_eq!(alice["userId"], demo.alice.as_str());
    assert_eq!(alice["displayName"], "Alice");
    assert_eq!(alice["status"], "online");
    assert_eq!(alice["roleId"], Value::Null);
    assert_eq!(alice["avatarUrl"], Value::Null);
    assert!(alice["joinedAt"].is_string());
    sim.shutdown().await;
}

#[tokio::test]
async fn history_pages_newest_first_with_a_timestamp_cursor() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    for n in 0..7 {
        sim.post(&demo.alice, &demo.general, &format!("m{n}"))
            .unwrap();
    }

    let first = api.get(&format!("{path}?limit=3")).await;
    assert_eq!(first.status, 200);
    let first = first.json();
    let contents = |page: &Value| -> Vec<String> {
        page["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["content"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(contents(&first), ["m6", "m5", "m4"]);
    assert_eq!(first["hasMore"], true);
    assert_eq!(first["nextCursor"], first["messages"][2]["createdAt"]);

    let cursor = first["nextCursor"].as_str().unwrap();
    let second = api
        .send(
            api.request(reqwest::Method::GET, &path)
                .query(&[("limit", "3"), ("cursor", cursor)]),
        )
        .await
        .json();
    assert_eq!(contents(&second), ["m3", "m2", "m1"]);
    assert_eq!(second["hasMore"], true);

    let third = api
        .send(api.request(reqwest::Method::GET, &path).query(&[
            ("limit", "3"),
            ("cursor", second["nextCursor"].as_str().unwrap()),
        ]))
        .await
        .json();
    assert_eq!(contents(&third), ["m0"]);
    assert_eq!(third["hasMore"], false);
    assert_eq!(third["nextCursor"], Value::Null);

    // Default page is 50, the maximum 100 (larger limits are clamped).
    for n in 7..120 {
        sim.post(&demo.bob, &demo.general, &format!("m{n}"))
            .unwrap();
    }
    let default = api.get(&path).await.json();
    assert_eq!(default["messages"].as_array().unwrap().len(), 50);
    let clamped = api.get(&format!("{path}?limit=500")).await.json();
    assert_eq!(clamped["messages"].as_array().unwrap().len(), 100);
    assert_eq!(clamped["hasMore"], true);

    // Empty room.
    let empty = api
        .get(&messages_path(&demo.server_id, &demo.mod_log))
        .await
        .json();
    assert_eq!(
        empty,
        json!({"messages": [], "hasMore": false, "nextCursor": null})
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn bad_history_parameters_are_400() {
    let (sim, demo, api) = support::demo().await;
    let path = messages_path(&demo.server_id, &demo.general);
    for query in [
        "limit=0",
        "limit=-1",
        "limit=ten",
        "limit=1.5",
        "cursor=yesterday",
        "cursor=2024-13-45T00:00:00Z",
        "cursor=%ZZ",
    ] {
        api.get(&format!("{path}?{query}")).await.assert_error(400);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn unknown_routes_and_methods_use_the_envelope() {
    let (sim, demo, api) = support::demo().await;
    api.get("/robots").await.assert_error(404);
    api.get("/users/me").await.assert_error(404);
    api.get("/robots/@me/servers").await.assert_error(404);
    api.get(&format!("/robots/@me/servers/{}/events", demo.server_id))
        .await
        .assert_error(404);
    Api::anonymous(&sim)
        .get("/_sim/nothing")
        .await
        .assert_error(404);

    api.delete("/robots/@me/info").await.assert_error(405);
    api.post("/robots/@me/events/poll", &json!({}))
        .await
        .assert_error(405);
    api.put(&messages_path(&demo.server_id, &demo.general), &json!({}))
        .await
        .assert_error(405);
    sim.shutdown().await;
}

#[tokio::test]
async fn every_response_carries_a_fresh_request_id() {
    let (sim, _demo, api) =
        support::demo_with(SimConfig::default(), RobotSpec::new("Helper")).await;
    let mut ids = Vec::new();
    for reply in [
        api.get("/robots/@me/info").await,
        api.get("/nope").await,
        Api::anonymous(&sim).get("/robots/@me/info").await,
        Api::anonymous(&sim).get("/_sim/world").await,
    ] {
        let id = reply
            .header("x-request-id")
            .expect("x-request-id")
            .to_owned();
        assert!(!id.is_empty());
        ids.push(id);
    }
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 4, "ids are unique per response");
    sim.shutdown().await;
}
