//! Events: every type with its canonical data, filtering by permission and subscription,
//! robots' own actions, and mentions.

use lag_sim::{EventType, Permission, RobotSpec, Role, ServerUpdate, Sim, UserStatus};
use serde_json::{Value, json};

use crate::support::{self, Api, messages_path};

/// Everything queued for a long-poll robot right now: `(type, data)` pairs.
async fn drain(api: &Api) -> Vec<(String, Value)> {
    let mut all = Vec::new();
    loop {
        let batch = api.poll().await;
        if batch.is_empty() {
            return all;
        }
        for event in batch {
            assert_eq!(event["eventType"], event["payload"]["type"]);
            all.push((
                event["eventType"].as_str().unwrap().to_owned(),
                event["payload"]["data"].clone(),
            ));
        }
    }
}

fn types(events: &[(String, Value)]) -> Vec<&str> {
    events.iter().map(|(t, _)| t.as_str()).collect()
}

#[tokio::test]
async fn every_event_type_carries_its_canonical_data() {
    let (sim, demo, api) =
        support::demo_with(support::short_polls(200), RobotSpec::new("Helper")).await;
    let (alice, bob, carol) = (&demo.alice, &demo.bob, &demo.carol);

    let posted = sim.post(carol, &demo.general, "hi").unwrap();
    sim.edit(carol, &demo.general, &posted.id, "hi!").unwrap();
    sim.delete(bob, &demo.general, &posted.id).unwrap();
    sim.join_voice(carol, &demo.general).unwrap();
    sim.leave_voice(carol, &demo.general).unwrap();
    let dave = sim.add_member(&demo.server_id, "dave").unwrap();
    sim.set_role(&demo.server_id, &dave, Role::Admin).unwrap();
    sim.remove_member(&demo.server_id, &dave).unwrap();
    let room = sim.create_room_as(alice, &demo.server_id, "games").unwrap();
    sim.delete_room(&room).unwrap();
    sim.set_status(carol, UserStatus::InGame).unwrap();
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            name: Some("Renamed".into()),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    sim.post(bob, &demo.general, "hey @helper").unwrap();

    let events = drain(&api).await;
    assert_eq!(
        types(&events),
        [
            "room.message",
            "room.message.edited",
            "room.message.deleted",
            "voice.join",
            "voice.leave",
            "member.join",
            "member.role_changed",
            "member.leave",
            "room.created",
            "room.deleted",
            "presence.update",
            "server.updated",
            "room.message",
            "robot.mentioned",
        ]
    );
    let data = |n: usize| &events[n].1;

    assert_eq!(data(0)["messageId"], posted.id.as_str());
    assert_eq!(data(0)["senderId"], carol.as_str());
    assert_eq!(data(0)["senderName"], "carol");

    let edited = data(1);
    assert_eq!(edited["roomId"], demo.general.as_str());
    assert_eq!(edited["messageId"], posted.id.as_str());
    assert_eq!(edited["content"], "hi!");
    assert_eq!(edited["editedBy"], carol.as_str());
    assert!(edited["editedAt"].is_string());

    assert_eq!(
        data(2),
        &json!({"roomId": demo.general, "messageId": posted.id, "deletedBy": bob})
    );
    assert_eq!(
        data(3),
        &json!({"roomId": demo.general, "userId": carol, "username": "carol"})
    );
    assert_eq!(data(4)["roomId"], demo.general.as_str());
    assert_eq!(data(4)["userId"], carol.as_str());
    assert_eq!(data(4)["username"], "carol");
    assert!(data(4)["duration"].is_u64(), "duration in whole seconds");

    assert_eq!(data(5)["userId"], dave.as_str());
    assert_eq!(data(5)["username"], "dave");
    assert!(data(5)["joinedAt"].is_string());
    assert_eq!(
        data(6),
        &json!({"userId": dave, "oldRole": "member", "newRole": "admin"})
    );
    assert_eq!(data(7), &json!({"userId": dave, "username": "dave"}));
    assert_eq!(
        data(8),
        &json!({"roomId": room, "name": "games", "createdBy": alice})
    );
    assert_eq!(data(9), &json!({"roomId": room, "name": "games"}));
    assert_eq!(data(10), &json!({"userId": carol, "status": "in-game"}));
    assert_eq!(
        data(11),
        &json!({"changes": {"name": "Renamed"}, "updatedBy": alice})
    );
    assert_eq!(
        data(12),
        data(13),
        "robot.mentioned carries the room.message data"
    );
    assert_eq!(data(13)["mentions"][0]["id"], demo.robot.id.as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn events_need_the_matching_permission() {
    let (sim, demo, api) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Helper").permissions([Permission::ReadVoice]),
    )
    .await;
    let act = |sim: &Sim| {
        sim.post(&demo.alice, &demo.general, "text").unwrap();
        sim.join_voice(&demo.alice, &demo.general).unwrap();
        sim.set_status(&demo.alice, UserStatus::Idle).unwrap();
        let room = sim.create_room(&demo.server_id, "extra").unwrap();
        sim.delete_room(&room).unwrap();
        let user = sim.add_member(&demo.server_id, "eve").unwrap();
        sim.remove_member(&demo.server_id, &user).unwrap();
        sim.set_status(&demo.alice, UserStatus::Online).unwrap();
        sim.leave_voice(&demo.alice, &demo.general).unwrap();
    };
    act(&sim);
    assert_eq!(types(&drain(&api).await), ["voice.join", "voice.leave"]);

    sim.set_permissions(
        &demo.robot.id,
        [
            Permission::ReadMessages,
            Permission::ReadRooms,
            Permission::ReadPresence,
            Permission::ReadMembers,
        ],
    )
    .unwrap();
    sim.post(&demo.alice, &demo.general, "text").unwrap();
    sim.set_status(&demo.alice, UserStatus::Idle).unwrap();
    let room = sim.create_room(&demo.server_id, "extra").unwrap();
    sim.delete_room(&room).unwrap();
    sim.add_member(&demo.server_id, "frank").unwrap();
    sim.join_voice(&demo.alice, &demo.general).unwrap();
    assert_eq!(
        types(&drain(&api).await),
        [
            "room.message",
            "presence.update",
            "room.created",
            "room.deleted",
            "member.join"
        ]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn server_updates_need_no_permission() {
    let (sim, demo, api) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Helper").permissions([]),
    )
    .await;
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            icon_emoji: Some(Some(":tada:".into())),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    // An update that changes nothing emits nothing.
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            icon_emoji: Some(Some(":tada:".into())),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    let events = drain(&api).await;
    assert_eq!(types(&events), ["server.updated"]);
    assert_eq!(events[0].1["changes"], json!({"iconEmoji": ":tada:"}));
    sim.shutdown().await;
}

#[tokio::test]
async fn only_subscribed_events_are_delivered() {
    let (sim, demo, api) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Helper").subscriptions([EventType::MemberJoin]),
    )
    .await;
    sim.post(&demo.alice, &demo.general, "ignored").unwrap();
    sim.post(&demo.alice, &demo.general, "@Helper ignored too")
        .unwrap();
    sim.add_member(&demo.server_id, "gina").unwrap();
    let events = drain(&api).await;
    assert_eq!(types(&events), ["member.join"]);
    assert_eq!(events[0].1["username"], "gina");

    sim.set_subscriptions(&demo.robot.id, [EventType::RobotMentioned])
        .unwrap();
    sim.post(&demo.alice, &demo.general, "plain").unwrap();
    sim.post(&demo.alice, &demo.general, "@HELPER look")
        .unwrap();
    assert_eq!(types(&drain(&api).await), ["robot.mentioned"]);
    sim.shutdown().await;
}

#[tokio::test]
async fn robots_receive_their_own_actions_too() {
    let (sim, demo, api) =
        support::demo_with(support::short_polls(200), RobotSpec::new("Helper")).await;
    let path = messages_path(&demo.server_id, &demo.general);
    let sent = api.post(&path, &json!({"content": "mine"})).await.json();
    let id = sent["id"].as_str().unwrap();
    api.patch(&format!("{path}/{id}"), &json!({"content": "mine, edited"}))
        .await;
    api.delete(&format!("{path}/{id}")).await;

    let events = drain(&api).await;
    assert_eq!(
        types(&events),
        [
            "room.message",
            "room.message.edited",
            "room.message.deleted"
        ]
    );
    let message = &events[0].1;
    assert_eq!(message["isBot"], true);
    assert_eq!(message["robotId"], demo.robot.id.as_str());
    assert_eq!(message["senderId"], demo.robot.id.as_str());
    assert_eq!(message["senderName"], "Helper");
    assert_eq!(events[1].1["editedBy"], demo.robot.id.as_str());
    assert_eq!(events[2].1["deletedBy"], demo.robot.id.as_str());

    // Another robot in the server sees them as well.
    let other = sim
        .create_robot(&demo.server_id, RobotSpec::new("Watcher"))
        .unwrap();
    api.post(&path, &json!({"content": "again"})).await;
    let seen = drain(&Api::robot(&sim, &other.key)).await;
    assert_eq!(types(&seen), ["room.message"]);
    assert_eq!(seen[0].1["content"], "again");
    sim.shutdown().await;
}

#[tokio::test]
async fn mentions_match_names_case_insensitively_longest_first() {
    let sim = support::sim_with(support::short_polls(200)).await;
    let demo = sim.seed_demo_with(RobotSpec::new("Mod")).unwrap();
    let long = sim
        .create_robot(&demo.server_id, RobotSpec::new("Mod Bot"))
        .unwrap();
    let short = Api::robot(&sim, &demo.robot.key);
    let long_api = Api::robot(&sim, &long.key);

    let message = sim
        .post(&demo.alice, &demo.general, "hey @mod bot, ask @BOB")
        .unwrap();
    let mentions: Vec<(String, String)> = message
        .mentions
        .iter()
        .map(|m| {
            (
                serde_json::to_value(m.kind)
                    .unwrap()
                    .as_str()
                    .unwrap()
                    .to_owned(),
                m.name.clone(),
            )
        })
        .collect();
    assert_eq!(
        mentions,
        [
            ("robot".to_owned(), "Mod Bot".to_owned()),
            ("user".to_owned(), "bob".to_owned())
        ]
    );
    assert_eq!(message.mentions[0].id, long.id);
    assert_eq!(message.mentions[1].id, demo.bob);

    assert_eq!(
        types(&drain(&long_api).await),
        ["room.message", "robot.mentioned"]
    );
    assert_eq!(
        types(&drain(&short).await),
        ["room.message"],
        "the shorter name was not mentioned"
    );

    // Word boundaries: an e-mail address or a longer word is not a mention.
    let plain = sim
        .post(&demo.alice, &demo.general, "mail me@mod.com or @moderator")
        .unwrap();
    assert!(plain.mentions.is_empty(), "{:?}", plain.mentions);
    assert_eq!(types(&drain(&short).await), ["room.message"]);
    assert_eq!(types(&drain(&long_api).await), ["room.message"]);

    // Both robots, each once, even when named twice.
    let both = sim
        .post(&demo.alice, &demo.general, "@Mod and @MOD BOT and @mod")
        .unwrap();
    assert_eq!(both.mentions.len(), 2);
    assert_eq!(
        types(&drain(&short).await),
        ["room.message", "robot.mentioned"]
    );
    assert_eq!(
        types(&drain(&long_api).await),
        ["room.message", "robot.mentioned"]
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn a_mention_without_read_messages_arrives_without_content() {
    let (sim, demo, api) = support::demo_with(
        support::short_polls(200),
        RobotSpec::new("Helper").permissions([Permission::SendMessages]),
    )
    .await;
    let message = sim
        .post(&demo.alice, &demo.general, "@Helper secret plans")
        .unwrap();
    let events = drain(&api).await;
    assert_eq!(
        types(&events),
        ["robot.mentioned"],
        "no room.message without read_messages"
    );
    let data = &events[0].1;
    assert_eq!(data["content"], "");
    assert_eq!(data["messageId"], message.id.as_str());
    assert_eq!(data["roomId"], demo.general.as_str());
    assert_eq!(data["mentions"][0]["id"], demo.robot.id.as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn robot_messages_can_mention_and_be_edited_into_mentions() {
    let (sim, demo, api) =
        support::demo_with(support::short_polls(200), RobotSpec::new("Helper")).await;
    let sent = api
        .post(
            &messages_path(&demo.server_id, &demo.general),
            &json!({"content": "welcome @carol"}),
        )
        .await
        .json();
    assert_eq!(sent["mentions"][0]["type"], "user");
    assert_eq!(sent["mentions"][0]["id"], demo.carol.as_str());
    let message = sim.post(&demo.alice, &demo.general, "plain").unwrap();
    let edited = sim
        .edit(&demo.alice, &demo.general, &message.id, "plain @alice")
        .unwrap();
    assert_eq!(edited.mentions[0].id, demo.alice);
    assert!(edited.edited_at.is_some());
    sim.shutdown().await;
}

#[tokio::test]
async fn member_actions_respect_membership_and_roles() {
    let sim = support::sim_with(support::short_polls(200)).await;
    let demo = sim.seed_demo().unwrap();
    let other = sim.create_server("Other").unwrap();
    let outsider = sim.add_member(&other, "outsider").unwrap();
    let err = sim.post(&outsider, &demo.general, "let me in").unwrap_err();
    assert_eq!(err.status(), 403);

    let carols = sim.post(&demo.carol, &demo.general, "carol's").unwrap();
    // A member cannot delete or edit someone else's message...
    let alices = sim.post(&demo.alice, &demo.general, "alice's").unwrap();
    assert_eq!(
        sim.delete(&demo.carol, &demo.general, &alices.id)
            .unwrap_err()
            .status(),
        403
    );
    assert_eq!(
        sim.edit(&demo.bob, &demo.general, &carols.id, "bob was here")
            .unwrap_err()
            .status(),
        403
    );
    // ...but an admin may delete it.
    sim.delete(&demo.bob, &demo.general, &carols.id).unwrap();
    assert_eq!(sim.messages(&demo.general).len(), 1);

    // Errors have the right statuses.
    assert_eq!(
        sim.post(&demo.alice, "room_nope", "x")
            .unwrap_err()
            .status(),
        404
    );
    assert_eq!(
        sim.post(&demo.alice, &demo.general, "")
            .unwrap_err()
            .status(),
        400
    );
    assert_eq!(
        sim.remove_member(&demo.server_id, &demo.alice)
            .unwrap_err()
            .status(),
        409,
        "the owner cannot leave"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn ownership_moves_with_two_role_events() {
    let (sim, demo, api) =
        support::demo_with(support::short_polls(200), RobotSpec::new("Helper")).await;
    sim.set_role(&demo.server_id, &demo.carol, Role::Owner)
        .unwrap();
    let events = drain(&api).await;
    assert_eq!(
        events.iter().map(|(_, d)| d.clone()).collect::<Vec<_>>(),
        [
            json!({"userId": demo.carol, "oldRole": "member", "newRole": "owner"}),
            json!({"userId": demo.alice, "oldRole": "owner", "newRole": "admin"}),
        ]
    );
    assert_eq!(
        sim.server(&demo.server_id).unwrap().owner_id.as_deref(),
        Some(demo.carol.as_str())
    );
    // Setting the same role again changes nothing and emits nothing.
    sim.set_role(&demo.server_id, &demo.bob, Role::Admin)
        .unwrap();
    assert!(drain(&api).await.is_empty());
    sim.shutdown().await;
}

#[tokio::test]
async fn the_permission_mapping_is_configurable() {
    let mut config = support::short_polls(200);
    config.event_permissions.insert(EventType::VoiceJoin, None);
    config
        .event_permissions
        .insert(EventType::ServerUpdated, Some(Permission::ReadRooms));
    let (sim, demo, api) =
        support::demo_with(config, RobotSpec::new("Helper").permissions([])).await;
    sim.join_voice(&demo.bob, &demo.general).unwrap();
    sim.leave_voice(&demo.bob, &demo.general).unwrap();
    sim.update_server(
        &demo.server_id,
        ServerUpdate {
            name: Some("Quiet".into()),
            ..ServerUpdate::default()
        },
    )
    .unwrap();
    assert_eq!(types(&drain(&api).await), ["voice.join"]);
    sim.shutdown().await;
}
