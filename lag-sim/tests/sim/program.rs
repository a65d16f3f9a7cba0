//! The `lag-sim` program and world files.

use std::path::PathBuf;
use std::process::Stdio;

use lag_sim::worldfile::WorldFile;
use lag_sim::{Role, TransportKind, UserStatus};
use tokio::io::{AsyncBufRead, AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStderr, ChildStdout, Command};

use serde_json::json;

use crate::support::{self, Api};

const WORLD: &str = r#"
[[servers]]
name = "Acme"
rooms = ["general", "ops"]

[[servers.members]]
username = "alice"
display_name = "Alice"

[[servers.members]]
username = "bob"
role = "owner"

[[servers.members]]
username = "carol"
role = "admin"
status = "in-game"

[[servers.robots]]
name = "Deployer"
transport = "sse"
permissions = ["read_messages", "send_messages"]
subscriptions = ["room.message"]
key = "lag_robot_0123abcd_fixedfixedfixedfixedfixedfixedfi"
secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"

[[servers.robots]]
name = "Pager"
webhook_url = "http://127.0.0.1:9/hook"
"#;

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let path = std::env::temp_dir().join(format!("lag-sim-{}-{name}", std::process::id()));
    std::fs::write(&path, contents).expect("temp file written");
    path
}

struct Program {
    child: Child,
    stdout: Lines<BufReader<ChildStdout>>,
    stderr: Lines<BufReader<ChildStderr>>,
}

impl Program {
    fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_lag-sim"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true)
            .spawn()
            .expect("lag-sim starts");
        let stdout = BufReader::new(child.stdout.take().unwrap()).lines();
        let stderr = BufReader::new(child.stderr.take().unwrap()).lines();
        Self {
            child,
            stdout,
            stderr,
        }
    }

    /// Reads stdout until a line contains `needle`; returns that line.
    async fn stdout_line(&mut self, needle: &str) -> String {
        line_with(&mut self.stdout, needle, "stdout").await
    }

    async fn stderr_line(&mut self, needle: &str) -> String {
        line_with(&mut self.stderr, needle, "stderr").await
    }

    fn value(line: &str) -> String {
        line.split_once('=').expect("KEY=value").1.trim().to_owned()
    }

    async fn stop(mut self) {
        self.child.start_kill().expect("kill");
        self.child.wait().await.expect("exits");
    }

    /// The next stdout line, whatever it is.
    async fn next_stdout(&mut self) -> String {
        tokio::time::timeout(support::PATIENCE, self.stdout.next_line())
            .await
            .expect("output in time")
            .expect("output reads")
            .expect("stdout is still open")
    }

    /// Reads the banner up to the line that ends it; returns the robot's `LAG_API_BASE` and key.
    async fn banner(&mut self) -> (String, String) {
        let base = Self::value(&self.stdout_line("LAG_API_BASE=").await);
        let key = Self::value(&self.stdout_line("LAG_ROBOT_API_KEY=").await);
        self.stdout_line("Ctrl-C").await;
        (base, key)
    }

    /// Asks the program to stop as Ctrl-C would (SIGTERM), then reads the rest of its stdout;
    /// returns how it exited and those lines.
    #[cfg(unix)]
    async fn terminate(self) -> (std::process::ExitStatus, Vec<String>) {
        let pid = self.child.id().expect("still running").to_string();
        signal(&pid, "TERM").await;
        self.finish().await
    }

    /// Reads stdout to its end and waits for the program to exit.
    async fn finish(mut self) -> (std::process::ExitStatus, Vec<String>) {
        tokio::time::timeout(support::PATIENCE, async {
            let mut rest = Vec::new();
            while let Some(line) = self.stdout.next_line().await.expect("output reads") {
                rest.push(line);
            }
            (self.child.wait().await.expect("exits"), rest)
        })
        .await
        .expect("the program exits in time")
    }
}

/// Sends a signal (by name, such as `TERM`) to a process or, with a `-` before the id, to a
/// process group.
#[cfg(unix)]
async fn signal(pid: &str, name: &str) {
    let status = Command::new("kill")
        .args(["-s", name, "--", pid])
        .status()
        .await
        .expect("kill runs");
    assert!(status.success(), "kill -s {name} {pid} failed");
}

/// The ids a test needs to act in the demo world, found through the robot API.
struct DemoIds {
    server: String,
    general: String,
    alice: String,
}

impl DemoIds {
    async fn find(robot: &Api) -> Self {
        let info = robot.get("/robots/@me/info").await.json();
        let server = info["serverId"].as_str().unwrap().to_owned();
        let rooms = robot
            .get(&format!("/robots/@me/servers/{server}/rooms"))
            .await
            .json();
        let general = rooms
            .as_array()
            .unwrap()
            .iter()
            .find(|room| room["name"] == "general")
            .expect("room general")["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let members = robot
            .get(&format!("/robots/@me/servers/{server}/members"))
            .await
            .json();
        let alice = members
            .as_array()
            .unwrap()
            .iter()
            .find(|member| member["username"] == "alice")
            .expect("member alice")["userId"]
            .as_str()
            .unwrap()
            .to_owned();
        Self {
            server,
            general,
            alice,
        }
    }
}

/// Alice asks in #general through the admin API and the robot answers through the REST API.
async fn converse(base: &str, key: &str) -> DemoIds {
    let robot = Api::at(base, Some(key));
    let admin = Api::at(base, None);
    let ids = DemoIds::find(&robot).await;
    let asked = admin
        .post(
            &format!("/_sim/rooms/{}/messages", ids.general),
            &json!({"userId": ids.alice, "content": "!roll 6"}),
        )
        .await;
    assert_eq!(asked.status, 201, "{}", asked.text);
    let answered = robot
        .post(
            &support::messages_path(&ids.server, &ids.general),
            &json!({"content": "You rolled 4."}),
        )
        .await;
    assert_eq!(answered.status, 201, "{}", answered.text);
    ids
}

/// Reads `lines` until one contains `needle`; returns that line.
async fn line_with<R: AsyncBufRead + Unpin>(
    lines: &mut Lines<R>,
    needle: &str,
    stream: &str,
) -> String {
    tokio::time::timeout(support::PATIENCE, async {
        while let Some(line) = lines.next_line().await.expect("output reads") {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("{stream} ended before {needle:?}");
    })
    .await
    .expect("output in time")
}

#[tokio::test]
async fn the_demo_world_prints_what_a_robot_needs() {
    let mut program = Program::start(&["--port", "0"]);
    let base = Program::value(&program.stdout_line("LAG_API_BASE=").await);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let key = Program::value(&program.stdout_line("LAG_ROBOT_API_KEY=").await);
    let transport = Program::value(&program.stdout_line("LAG_TRANSPORT=").await);
    assert_eq!(transport, "sse");
    let secret_line = program.stdout_line("whsec_").await;
    assert!(secret_line.contains("webhook secret"));

    let api = Api::at(&base, Some(&key));
    let info = api.get("/robots/@me/info").await;
    assert_eq!(info.status, 200, "{}", info.text);
    assert_eq!(info.json()["name"], "Helper");
    let server = info.json()["serverId"].as_str().unwrap().to_owned();
    let rooms = api
        .get(&format!("/robots/@me/servers/{server}/rooms"))
        .await
        .json();
    let names: Vec<&str> = rooms
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["general", "welcome", "mod-log"]);
    let members = api
        .get(&format!("/robots/@me/servers/{server}/members"))
        .await
        .json();
    assert_eq!(members.as_array().unwrap().len(), 3);
    program.stop().await;
}

#[tokio::test]
async fn a_webhook_demo_robot_prints_its_secret_as_a_variable() {
    let mut program = Program::start(&["--port", "0", "--webhook-url", "http://127.0.0.1:9/hook"]);
    let transport = Program::value(&program.stdout_line("LAG_TRANSPORT=").await);
    assert_eq!(transport, "webhook");
    let secret = Program::value(&program.stdout_line("LAG_WEBHOOK_SECRET=").await);
    assert!(secret.starts_with("whsec_"));
    program.stop().await;
}

#[tokio::test]
async fn a_world_file_replaces_the_demo() {
    let path = temp_file("world.toml", WORLD);
    let mut program = Program::start(&["--port", "0", "--world", path.to_str().unwrap()]);
    let base = Program::value(&program.stdout_line("LAG_API_BASE=").await);
    let key = Program::value(&program.stdout_line("LAG_ROBOT_API_KEY=").await);
    assert_eq!(key, "lag_robot_0123abcd_fixedfixedfixedfixedfixedfixedfi");
    let info = Api::at(&base, Some(&key))
        .get("/robots/@me/info")
        .await
        .json();
    assert_eq!(info["name"], "Deployer");
    assert_eq!(
        info["permissions"],
        serde_json::json!(["read_messages", "send_messages"])
    );
    program.stop().await;
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn binding_beyond_loopback_puts_the_admin_api_behind_a_token() {
    let mut program = Program::start(&["--port", "0", "--bind", "0.0.0.0"]);
    let notice = program.stderr_line("need the token").await;
    let token = notice
        .split_whitespace()
        .skip_while(|word| *word != "token")
        .nth(1)
        .expect("the notice names the token")
        .to_owned();
    let link = program.stdout_line("Playground").await;
    let link = link
        .rsplit_once(' ')
        .expect("the line ends with the link")
        .1;
    assert!(link.ends_with(&format!("/?token={token}")), "{link}");
    let curl = program.stdout_line("curl").await;
    assert!(
        curl.contains(&format!("x-lag-sim-token: {token}")),
        "{curl}"
    );
    let port = link
        .trim_start_matches("http://")
        .split(['/', ':'])
        .nth(1)
        .expect("the link has a port");
    let api = Api::at(&format!("http://127.0.0.1:{port}"), None);

    let refused = api.get("/_sim/world").await.assert_error(401);
    assert!(refused.contains("token"), "{refused}");
    let allowed = api
        .send(
            api.request(reqwest::Method::GET, "/_sim/world")
                .header("x-lag-sim-token", &token),
        )
        .await;
    assert_eq!(allowed.status, 200, "{}", allowed.text);
    let page = api.get(&format!("/?token={token}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(
        page.header("set-cookie").is_some(),
        "opening the link sets the cookie"
    );
    program.stop().await;
}

#[tokio::test]
async fn a_broken_world_file_is_reported() {
    let path = temp_file("broken.toml", "[[servers]]\nname = \"x\"\nroomz = []\n");
    let output = Command::new(env!("CARGO_BIN_EXE_lag-sim"))
        .args(["--port", "0", "--world", path.to_str().unwrap()])
        .output()
        .await
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("roomz"), "{stderr}");
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn world_files_load_in_process() {
    let sim = support::sim().await;
    let robots = sim.load_world(&WorldFile::parse(WORLD).unwrap()).unwrap();
    assert_eq!(robots.len(), 2);
    assert_eq!(robots[0].transport_type, TransportKind::Sse);
    assert_eq!(
        robots[0].secrets,
        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"]
    );
    assert_eq!(robots[1].transport_type, TransportKind::Webhook);
    assert_eq!(
        robots[1].webhook_url.as_deref(),
        Some("http://127.0.0.1:9/hook")
    );

    let server = &sim.servers()[0];
    let members = sim.members(&server.id).unwrap();
    let summary: Vec<(&str, Role, UserStatus)> = members
        .iter()
        .map(|m| (m.username.as_str(), m.role, m.status))
        .collect();
    assert_eq!(
        summary,
        [
            ("alice", Role::Admin, UserStatus::Online),
            ("bob", Role::Owner, UserStatus::Online),
            ("carol", Role::Admin, UserStatus::InGame),
        ]
    );
    assert_eq!(
        server.owner_id.as_deref(),
        Some(members[1].user_id.as_str())
    );
    let rooms: Vec<String> = sim
        .rooms(&server.id)
        .unwrap()
        .into_iter()
        .filter_map(|r| r.name)
        .collect();
    assert_eq!(rooms, ["general", "ops"]);

    // Loading the same fixed key twice is refused.
    let err = sim
        .load_world(&WorldFile::parse(WORLD).unwrap())
        .unwrap_err();
    assert_eq!(err.status(), 409, "{err}");
    assert!(err.message().contains("Deployer"), "{err}");
    sim.shutdown().await;
}

#[test]
fn world_file_mistakes_are_explained() {
    for (text, expected) in [
        ("[[servers]]\nrooms = []\n", "name"),
        (
            "[[servers]]\nname = \"x\"\n[[servers.robots]]\nname = \"r\"\ntransport = \"pigeon\"\n",
            "pigeon",
        ),
        (
            "[[servers]]\nname = \"x\"\n[[servers.members]]\nusername = \"a\"\nrole = \"king\"\n",
            "king",
        ),
        ("servers = 3", "invalid"),
    ] {
        let err = WorldFile::parse(text).unwrap_err();
        assert_eq!(err.status(), 400);
        assert!(err.message().contains(expected), "{expected:?} in {err}");
    }
}

#[tokio::test]
async fn the_conversation_is_printed_as_it_happens() {
    let mut program = Program::start(&["--port", "0"]);
    let (base, key) = program.banner().await;
    assert_eq!(
        program.next_stdout().await,
        "",
        "a blank line ends the banner"
    );
    let ids = converse(&base, &key).await;
    assert_eq!(program.next_stdout().await, "#general alice: !roll 6");
    assert_eq!(
        program.next_stdout().await,
        "#general Helper: You rolled 4."
    );

    let admin = Api::at(&base, None);
    let joined = admin
        .post(
            &format!("/_sim/servers/{}/members", ids.server),
            &json!({"username": "dave"}),
        )
        .await;
    assert_eq!(joined.status, 201, "{}", joined.text);
    assert_eq!(program.next_stdout().await, "* dave joined Demo Server");
    program.stop().await;
}

#[cfg(unix)]
#[tokio::test]
async fn quiet_keeps_the_conversation_off_stdout() {
    for quiet in [false, true] {
        let args: &[&str] = if quiet {
            &["--port", "0", "--quiet"]
        } else {
            &["--port", "0"]
        };
        let mut program = Program::start(args);
        let (base, key) = program.banner().await;
        converse(&base, &key).await;
        // Stopping prints what happened before it, so the lines are there unless --quiet.
        let (status, rest) = program.terminate().await;
        assert!(status.success(), "{status}");
        let printed: Vec<&String> = rest.iter().filter(|l| l.starts_with('#')).collect();
        if quiet {
            assert!(printed.is_empty(), "--quiet printed {printed:?}");
        } else {
            assert_eq!(
                printed,
                ["#general alice: !roll 6", "#general Helper: You rolled 4."]
            );
        }
    }
}

#[tokio::test]
async fn a_command_runs_as_the_demo_robot_and_lag_sim_exits_with_its_status() {
    let script = r#"echo "child $LAG_API_BASE $LAG_TRANSPORT $LAG_ROBOT_API_KEY"; exit 3"#;
    let mut program = Program::start(&["--port", "0", "--quiet", "--", "sh", "-c", script]);
    let (base, key) = program.banner().await;
    assert_eq!(
        program.next_stdout().await,
        format!("child {base} sse {key}")
    );
    let (status, _) = program.finish().await;
    assert_eq!(status.code(), Some(3), "{status}");
}

#[tokio::test]
async fn a_webhook_command_gets_its_secret_and_listen_address() {
    let script = r#"echo "child $LAG_TRANSPORT $LAG_LISTEN $LAG_WEBHOOK_SECRET""#;
    let args = [
        "--port",
        "0",
        "--transport",
        "webhook",
        "--",
        "sh",
        "-c",
        script,
    ];
    let mut program = Program::start(&args);
    let url = program.stdout_line("events are POSTed to").await;
    assert!(url.contains("http://127.0.0.1:3000/webhook"), "{url}");
    program.stdout_line("Ctrl-C").await;
    let line = program.stdout_line("child ").await;
    let words: Vec<&str> = line.split(' ').collect();
    assert_eq!(words[..3], ["child", "webhook", "127.0.0.1:3000"], "{line}");
    assert!(words[3].starts_with("whsec_"), "{line}");
    let (status, _) = program.finish().await;
    assert!(status.success(), "{status}");
}

#[tokio::test]
async fn a_command_that_cannot_start_is_reported() {
    let program = Program::start(&["--port", "0", "--", "/nonexistent/robot"]);
    let mut stderr = program.stderr;
    let line = line_with(&mut stderr, "cannot run", "stderr").await;
    assert!(line.contains("/nonexistent/robot"), "{line}");
    let mut child = program.child;
    let status = tokio::time::timeout(support::PATIENCE, child.wait())
        .await
        .expect("exits in time")
        .expect("exits");
    assert!(!status.success());
}

#[cfg(unix)]
#[tokio::test]
async fn a_signal_stops_the_command_then_lag_sim() {
    let script = r#"echo "child $$ $LAG_API_BASE $LAG_ROBOT_API_KEY"
trap 'echo "child stopping"; exit 0' TERM
while :; do sleep 1; done"#;
    let mut program = Program::start(&["--port", "0", "--", "sh", "-c", script]);
    program.banner().await;
    let line = program.stdout_line("child ").await;
    let words: Vec<&str> = line.split(' ').collect();
    let (group, base, key) = (words[1], words[2], words[3]);

    // The command's variables work: it can speak as the robot.
    let robot = Api::at(base, Some(key));
    let ids = DemoIds::find(&robot).await;
    let said = robot
        .post(
            &support::messages_path(&ids.server, &ids.general),
            &json!({"content": "I am up."}),
        )
        .await;
    assert_eq!(said.status, 201, "{}", said.text);
    assert_eq!(program.next_stdout().await, "#general Helper: I am up.");

    let (status, rest) = program.terminate().await;
    assert!(rest.contains(&"child stopping".to_owned()), "{rest:?}");
    assert!(status.success(), "the command's status: {status}");
    let gone = Command::new("kill")
        .args(["-s", "0", "--", &format!("-{group}")])
        .stderr(Stdio::null())
        .status()
        .await
        .expect("kill runs");
    assert!(!gone.success(), "the command's process group is gone");
}

#[cfg(unix)]
#[tokio::test]
async fn a_command_that_ignores_sigterm_is_killed_on_a_second_signal() {
    let script = r#"trap '' TERM; echo "child ready"; exec sleep 600"#;
    let mut program = Program::start(&["--port", "0", "--", "sh", "-c", script]);
    program.banner().await;
    program.stdout_line("child ready").await;
    let pid = program.child.id().expect("running").to_string();
    signal(&pid, "TERM").await;
    program.stderr_line("stopping the robot command").await;
    let (status, _) = program.terminate().await;
    assert_eq!(status.code(), Some(128 + 9), "killed: {status}");
}

#[tokio::test]
async fn with_a_world_file_the_command_runs_as_the_robot_named() {
    let path = temp_file("robots.toml", WORLD);
    let world = path.to_str().unwrap();
    let script = r#"echo "child $LAG_TRANSPORT $LAG_LISTEN $LAG_ROBOT_API_KEY""#;
    let mut first = Program::start(&["--port", "0", "--world", world, "--", "sh", "-c", script]);
    first.stdout_line("Ctrl-C").await;
    assert_eq!(
        first.stdout_line("child ").await,
        "child sse  lag_robot_0123abcd_fixedfixedfixedfixedfixedfixedfi",
        "the first robot by default"
    );
    assert!(first.finish().await.0.success());

    let args = [
        "--port", "0", "--world", world, "--robot", "pager", "--", "sh", "-c", script,
    ];
    let mut named = Program::start(&args);
    named.stdout_line("Ctrl-C").await;
    let line = named.stdout_line("child ").await;
    assert!(
        line.starts_with("child webhook 127.0.0.1:9 lag_robot_"),
        "{line}"
    );
    assert!(named.finish().await.0.success());

    let args = [
        "--port", "0", "--world", world, "--robot", "Nobody", "--", "true",
    ];
    let output = Command::new(env!("CARGO_BIN_EXE_lag-sim"))
        .args(args)
        .output()
        .await
        .expect("runs");
    assert!(!output.status.success());
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("no robot named \"Nobody\""), "{stderr}");
    assert!(stderr.contains("Deployer, Pager"), "{stderr}");
    std::fs::remove_file(path).ok();
}
