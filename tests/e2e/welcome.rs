//! The `welcome` example: its greeting and goodbye from the templates file, `!rules` and
//! `!members`, and the templates reloaded when the file changes, a bad file keeping the texts
//! in use.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use lag_bot::testing::Kit;

use crate::support::eventually;

#[allow(dead_code)]
#[path = "../../examples/welcome/main.rs"]
mod example;

use example::{Settings, Templates, Welcome};

const TEMPLATES: &str = r#"
server = "Test Server"
rules_room = "general"
links = [{ title = "Docs", url = "https://docs.example" }]
join = "Hello {mention}, welcome to {server}! Rules: {rules_room}.\n{links}"
leave = "Bye {name}."
rules = "Be nice, {name}."
members = "{members} members: {list}"
"#;

/// A templates file of this test's own.
fn templates_file(test: &str, text: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!(
        "lag-bot-welcome-{}-{test}.toml",
        std::process::id()
    ));
    std::fs::write(&path, text).unwrap();
    path
}

fn settings(path: PathBuf) -> Settings {
    Settings {
        room: "welcome".to_owned(),
        templates: path,
        poll: Duration::from_millis(20),
    }
}

#[tokio::test]
async fn greets_says_goodbye_and_answers_rules_and_members() {
    let path = templates_file("greets", TEMPLATES);
    let welcome = Arc::new(Welcome::new(settings(path.clone())).unwrap());
    let kit = Kit::start(|lag| example::robot(lag, welcome))
        .await
        .unwrap();

    kit.join("dave");
    kit.reply_in("welcome").await.assert_text(
        "Hello @dave, welcome to Test Server! Rules: #general.\n• Docs: https://docs.example",
    );
    kit.member("carol").say("!rules");
    kit.reply().await.assert_text("Be nice, carol.");
    kit.member("carol").say("!members");
    kit.reply()
        .await
        .assert_text("4 members: alice, bob, carol, dave");
    kit.member("dave").leave();
    kit.reply_in("welcome").await.assert_text("Bye dave.");
    kit.stop().await.unwrap();
    let _ = std::fs::remove_file(path);
}

#[tokio::test]
async fn the_templates_reload_when_the_file_changes_and_a_bad_file_keeps_them() {
    let path = templates_file("reload", TEMPLATES);
    let welcome = Arc::new(Welcome::new(settings(path.clone())).unwrap());
    let kit = Kit::start(|lag| example::robot(lag, Arc::clone(&welcome)))
        .await
        .unwrap();
    assert_eq!(welcome.loads(), 1);

    std::fs::write(
        &path,
        TEMPLATES.replace("Hello {mention}", "Hi there {mention}"),
    )
    .unwrap();
    eventually("the templates to reload", || {
        (welcome.loads() == 2).then_some(())
    })
    .await;
    kit.join("erin");
    kit.reply_in("welcome")
        .await
        .assert_like("Hi there @erin, welcome to Test Server!*");

    // A mistake: an unknown placeholder. The texts in use stay.
    std::fs::write(&path, TEMPLATES.replace("Bye {name}.", "Bye {nickname}.")).unwrap();
    eventually("the bad file to be refused", || {
        (welcome.rejects() == 1).then_some(())
    })
    .await;
    let error = Templates::load(&path).unwrap_err();
    assert!(error.message().contains("{nickname}"), "{error}");
    assert!(error.message().contains("`leave`"), "{error}");
    kit.member("erin").leave();
    kit.reply_in("welcome").await.assert_text("Bye erin.");
    assert_eq!(welcome.loads(), 2, "the bad file was not taken");
    let greeting = welcome.templates().join("frank");
    assert!(greeting.starts_with("Hi there @frank"), "{greeting}");

    // Fixed again: taken.
    std::fs::write(&path, TEMPLATES.replace("Bye {name}.", "Farewell, {name}!")).unwrap();
    eventually("the fixed templates to load", || {
        (welcome.loads() == 3).then_some(())
    })
    .await;
    kit.join("frank").leave();
    kit.reply_in("welcome").await.assert_like("Hello @frank*");
    kit.reply_in("welcome")
        .await
        .assert_text("Farewell, frank!");
    kit.stop().await.unwrap();
    let _ = std::fs::remove_file(path);
}

#[test]
fn the_shipped_templates_are_valid_and_a_broken_file_names_its_line() {
    let shipped = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/welcome/templates.toml");
    let templates = Templates::load(&shipped).unwrap();
    let greeting = templates.join("dave");
    assert!(
        greeting.contains("@dave") && greeting.contains("Demo Server"),
        "{greeting}"
    );
    assert!(greeting.contains("#general"), "{greeting}");

    let broken = Templates::parse("server = \"x\"\njoin = ", std::path::Path::new("t.toml"));
    let error = broken.unwrap_err();
    assert!(
        error.message().starts_with("t.toml:") && error.message().contains("line 2"),
        "{error}"
    );
}
