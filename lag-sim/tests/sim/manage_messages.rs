//! The `manage_messages` permission: an emulator extension (Lag has no such permission today)
//! under which a robot may delete anyone's message in its own server. Off by default; a world
//! file, the admin API and `Sim::set_permissions` grant it.

use lag_sim::worldfile::WorldFile;
use lag_sim::{EventType, Permission, RobotSpec};
use serde_json::json;

use crate::support::{self, Api, messages_path};

#[tokio::test]
async fn robots_do_not_have_it_unless_granted() {
    let (sim, demo, api) = support::demo().await;
    let info = api.get("/robots/@me/info").await.json();
    let granted: Vec<&str> = info["permissions"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert!(!granted.contains(&"manage_messages"), "{granted:?}");

    let path = messages_path(&demo.server_id, &demo.general);
    let carol = sim.post(&demo.carol, &demo.general, "spam spam").unwrap();
    let refused = api.delete(&format!("{path}/{}", carol.id)).await;
    let message = refused.assert_error(403);
    assert!(message.contains("manage_messages"), "{message}");
    assert_eq!(sim.messages(&demo.general).len(), 1, "still there");
    sim.shutdown().await;
}

#[tokio::test]
async fn granted_robots_delete_members_and_robots_messages_but_edit_only_their_own() {
    let (sim, demo, api) = support::demo().await;
    let granted = Permission::LAG
        .iter()
        .copied()
        .chain([Permission::ManageMessages]);
    sim.set_permissions(&demo.robot.id, granted).unwrap();
    let mut feed = sim.subscribe();
    let path = messages_path(&demo.server_id, &demo.general);

    let carol = sim.post(&demo.carol, &demo.general, "spam spam").unwrap();
    let other = sim
        .create_robot(&demo.server_id, RobotSpec::new("Other"))
        .unwrap();
    let robot_message = Api::robot(&sim, &other.key)
        .post(&path, &json!({"content": "robot spam"}))
        .await
        .json();
    let robot_message_id = robot_message["id"].as_str().unwrap().to_owned();

    api.patch(
        &format!("{path}/{}", carol.id),
        &json!({"content": "edited by the robot"}),
    )
    .await
    .assert_error(403);
    for id in [carol.id.as_str(), robot_message_id.as_str()] {
        let deleted = api.delete(&format!("{path}/{id}")).await;
        assert_eq!(deleted.status, 204, "{}", deleted.text);
    }
    assert!(sim.messages(&demo.general).is_empty());

    let mut deletions = Vec::new();
    while deletions.len() < 2 {
        let event = tokio::time::timeout(support::PATIENCE, feed.recv())
            .await
            .expect("the deletions are reported")
            .expect("the feed is open");
        if event.kind == EventType::RoomMessageDeleted {
            deletions.push(event.body.data);
        }
    }
    assert_eq!(deletions[0]["messageId"], carol.id.as_str());
    assert_eq!(deletions[0]["deletedBy"], demo.robot.id.as_str());
    assert_eq!(deletions[1]["messageId"], robot_message_id.as_str());
    sim.shutdown().await;
}

#[tokio::test]
async fn it_does_not_reach_other_servers() {
    let (sim, demo, api) = support::demo().await;
    sim.set_permissions(
        &demo.robot.id,
        [Permission::SendMessages, Permission::ManageMessages],
    )
    .unwrap();
    let elsewhere = sim.create_server("Elsewhere").unwrap();
    let room = sim.create_room(&elsewhere, "lobby").unwrap();
    let dave = sim.add_member(&elsewhere, "dave").unwrap();
    let message = sim.post(&dave, &room, "hello").unwrap();
    api.delete(&format!(
        "{}/{}",
        messages_path(&elsewhere, &room),
        message.id
    ))
    .await
    .assert_error(403);
    assert_eq!(sim.messages(&room).len(), 1);
    sim.shutdown().await;
}

#[tokio::test]
async fn the_admin_api_grants_it() {
    let (sim, demo, api) = support::demo().await;
    let admin = Api::anonymous(&sim);
    let updated = admin
        .patch(
            &format!("/_sim/robots/{}", demo.robot.id),
            &json!({"permissions": ["read_messages", "send_messages", "manage_messages"]}),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(
        updated.json()["permissions"],
        json!(["read_messages", "send_messages", "manage_messages"])
    );
    let info = api.get("/robots/@me/info").await.json();
    assert_eq!(info["permissions"][2], "manage_messages");

    let carol = sim.post(&demo.carol, &demo.general, "spam").unwrap();
    let path = messages_path(&demo.server_id, &demo.general);
    let deleted = api.delete(&format!("{path}/{}", carol.id)).await;
    assert_eq!(deleted.status, 204, "{}", deleted.text);
    sim.shutdown().await;
}

#[tokio::test]
async fn world_files_grant_it_only_when_listed() {
    let sim = support::sim().await;
    let world = WorldFile::parse(
        r#"
        [[servers]]
        name = "Acme"
        rooms = ["general"]

        [[servers.members]]
        username = "alice"

        [[servers.robots]]
        name = "Moderator"
        permissions = ["read_messages", "send_messages", "manage_messages"]

        [[servers.robots]]
        name = "Helper"
        "#,
    )
    .unwrap();
    let robots = sim.load_world(&world).unwrap();
    assert!(robots[0].permissions.contains(&Permission::ManageMessages));
    assert_eq!(robots[1].permissions, Permission::LAG);
    sim.shutdown().await;
}
