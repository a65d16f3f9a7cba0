//! lag-sim's playground in a real browser: headless Chromium driven through WebDriver
//! (chromedriver, started here on a free port), against a lag-bot robot with `!ping` on the test
//! kit's in-process lag-sim, receiving signed webhooks. A binary of its own: it needs Chromium,
//! so it is ignored unless asked for (`cargo test -p lag-bot-project --test browser --
//! --ignored`, see the README's Testing section), and it fails, never passes, when the browser
//! cannot start.
//!
//! Through the page it posts `!ping` by keyboard alone and sees the reply, edits and deletes a
//! message, inspects the delivery's signed request and the robot's answer, redelivers it and
//! sees the robot deduplicate it, changes the robot's subscriptions, and opens the page of a
//! lag-sim that needs its admin token; it saves screenshots of a wide and a narrow window in
//! `target/playground-screenshots/`.

use std::net::TcpListener;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::actions::{InputSource as _, KeyAction, KeyActions};
use fantoccini::error::CmdError;
use fantoccini::key::Key;
use fantoccini::{Client, ClientBuilder, Locator};
use futures_util::FutureExt as _;
use hyper_util::client::legacy::connect::HttpConnector;
use lag_bot::testing::{Kit, Via};
use lag_bot::{Ctx, command};
use lag_sim::{AdminAccess, EventType, Sim, SimConfig};
use serde_json::{Value, json};

/// How long any wait may take before the test fails instead of hanging.
const PATIENCE: Duration = Duration::from_secs(20);

/// The variables that point the test at another chromedriver or Chromium than Debian's.
const DRIVER_VARIABLE: &str = "LAG_TEST_CHROMEDRIVER";
const BROWSER_VARIABLE: &str = "LAG_TEST_CHROMIUM";

/// Replies with pong.
#[command("!ping")]
async fn ping(_ctx: Ctx) -> &'static str {
    "pong"
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs Chromium: install chromium and chromium-driver, or set LAG_TEST_CHROMEDRIVER and LAG_TEST_CHROMIUM (see README, Testing)"]
async fn the_playground_works_in_a_browser() {
    let kit = Kit::builder()
        .via(Via::Webhook)
        .start(|lag| Ok(lag.build()?.command(ping())))
        .await
        .expect("the robot starts against the kit's lag-sim");
    let mut driver = Driver::start();
    let browser = driver.session().await;
    let outcome = AssertUnwindSafe(scenario(&kit, &browser))
        .catch_unwind()
        .await;
    let closed = browser.close().await;
    driver.stop();
    let stopped = kit.stop().await;
    if let Err(panic) = outcome {
        std::panic::resume_unwind(panic);
    }
    closed.expect("the browser session closes");
    stopped.expect("the robot stops cleanly");
}

async fn scenario(kit: &Kit, browser: &Client) {
    let robot_id = kit.demo().robot.id.clone();
    let general = kit.demo().general.clone();
    browser.set_window_size(1280, 800).await.unwrap();
    browser.goto(&kit.sim().playground_url()).await.unwrap();
    until(
        browser,
        "the page to follow the live feed in #general as alice",
        "return document.getElementById('connection').textContent === 'live' \
            && document.getElementById('room-title').textContent === '#general' \
            && document.getElementById('author').selectedOptions[0]?.textContent === 'alice'",
    )
    .await;

    // Keyboard only: Tab from the top reaches the composer, every stop shows its focus, and
    // Enter sends.
    let stops = tab_to(browser, "text").await;
    assert!(
        stops.iter().any(|s| s["id"] == "tab-chat") && stops.iter().any(|s| s["id"] == "author"),
        "the tab order passes the tabs and the author's choice before the composer: {stops:#?}"
    );
    for stop in &stops {
        assert!(
            stop["outline"] != "none" && stop["width"] != "0px",
            "focus is not visible on {stop}: every stop needs an outline"
        );
    }
    type_text(browser, "!ping").await;
    press(browser, Key::Enter).await;
    until(
        browser,
        "alice's !ping and the robot's pong in the page",
        "const rows = [...document.querySelectorAll('#messages .msg')];
         return rows.some((r) => r.querySelector('.author').textContent === 'alice'
                && r.querySelector('.content').textContent === '!ping')
            && rows.some((r) => r.classList.contains('bot')
                && r.querySelector('.badge')?.textContent === 'robot'
                && r.querySelector('.content').textContent === 'pong');",
    )
    .await;
    let text = browser
        .find(Locator::Id("text"))
        .await
        .unwrap()
        .prop("value")
        .await
        .unwrap();
    assert_eq!(text.as_deref(), Some(""), "sending empties the composer");
    assert_eq!(robot_texts(kit, &general), ["pong"]);

    edit_and_delete(kit, browser, &general).await;
    screenshot(browser, "chat-wide").await;

    // The delivery inspector: the !ping event's successful attempt, its signed headers, the
    // body as sent and the robot's answer.
    let record = kit
        .sim()
        .deliveries(&robot_id)
        .into_iter()
        .find(|r| {
            r.event_type == "room.message"
                && r.request.as_ref().is_some_and(|q| q.body.contains("!ping"))
        })
        .expect("lag-sim delivered the !ping event");
    let event_id = record.event_id;
    click(browser, "#tab-deliveries").await;
    click(
        browser,
        &format!("#events button[aria-label='Inspect room.message {event_id} for Helper']"),
    )
    .await;
    let detail = until(
        browser,
        "the event's attempt in the inspector",
        "const d = document.getElementById('detail');
         return d.querySelector('h3') && d.textContent.includes('delivered') ? d.innerText : null;",
    )
    .await;
    let detail = detail.as_str().unwrap().to_lowercase();
    for part in [
        event_id.to_lowercase().as_str(),
        "webhook-id",
        "webhook-timestamp",
        "webhook-signature",
        "v1,",
        "\"content\": \"!ping\"",
        "response: 200",
        "accepted",
    ] {
        assert!(
            detail.contains(part),
            "the inspector shows {part:?}: {detail}"
        );
    }
    screenshot(browser, "deliveries-wide").await;

    // Redelivery: the same event again; the robot answers that it is a duplicate and does not
    // reply twice.
    click_button(browser, "#detail", "Redeliver").await;
    let answer = until(
        browser,
        "the redelivered attempt and the robot's answer",
        "const d = document.getElementById('detail');
         const re = [...d.querySelectorAll('.attempts button')].some((b) => b.textContent.includes('(re)'));
         return re && d.innerText.includes('delivered (redelivery)') ? d.innerText : null;",
    )
    .await;
    let answer = answer.as_str().unwrap();
    assert!(answer.contains("duplicate"), "the robot's answer: {answer}");
    let redelivered = kit
        .sim()
        .deliveries(&robot_id)
        .into_iter()
        .find(|r| r.event_id == event_id && r.redelivery)
        .expect("the redelivery is in the log");
    assert_eq!(
        redelivered.response.map(|r| (r.status, r.body)),
        Some((200, "duplicate".to_owned()))
    );
    assert_eq!(robot_texts(kit, &general), ["pong"], "one pong, not two");

    subscriptions(kit, browser, &robot_id, &general).await;

    // A narrow window: one column, nothing wider than the window.
    browser.set_window_size(400, 800).await.unwrap();
    click(browser, "#tab-chat").await;
    let overflow = until(
        browser,
        "the narrow layout",
        "return window.innerWidth <= 400 ? document.documentElement.scrollWidth - window.innerWidth : null;",
    )
    .await;
    assert_eq!(overflow, json!(0), "the page scrolls sideways at 400 px");
    let stacked = browser
        .execute(
            "const bottom = document.querySelector('.composer').getBoundingClientRect().bottom;
             return bottom <= document.querySelector('.people').getBoundingClientRect().top + 1;",
            vec![],
        )
        .await
        .unwrap();
    assert_eq!(
        stacked,
        json!(true),
        "the composer overlaps the members in one column"
    );
    screenshot(browser, "chat-narrow").await;
    click(browser, "#tab-deliveries").await;
    screenshot(browser, "deliveries-narrow").await;

    protected_page(browser).await;
}

/// A lag-sim whose admin API needs its token (forced on loopback): the printed link opens the
/// page, which follows the feed with the cookie the link set, posts with the token in its
/// header, and takes the token out of the address bar.
async fn protected_page(browser: &Client) {
    let sim = Sim::start(SimConfig {
        admin_access: AdminAccess::Token,
        ..SimConfig::default()
    })
    .await
    .expect("a protected lag-sim starts");
    let demo = sim.seed_demo().unwrap();
    browser.set_window_size(1280, 800).await.unwrap();
    browser.goto(&sim.playground_link()).await.unwrap();
    until(
        browser,
        "the protected page to follow the live feed",
        "return document.getElementById('connection').textContent === 'live' \
            && document.getElementById('room-title').textContent === '#general';",
    )
    .await;
    let url = browser.current_url().await.unwrap();
    assert_eq!(url.query(), None, "the token leaves the address bar: {url}");
    send_from_composer(browser, "hello from behind the token").await;
    let contents: Vec<String> = sim
        .messages(&demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["hello from behind the token"]);
    sim.shutdown().await;
}

/// Alice edits her message and deletes it through the page; the room shows both, the edit's new
/// mention highlighted.
async fn edit_and_delete(kit: &Kit, browser: &Client, general: &str) {
    let alice = kit.member("alice");
    let id = alice.say("typo hree").id().to_owned();
    let row = format!("#messages .msg[data-id='{id}']");
    until(
        browser,
        "alice's new message in the page",
        &format!("return !!document.querySelector(\"{row}\");"),
    )
    .await;
    click_button(browser, &row, "Edit").await;
    let text = browser.find(Locator::Id("text")).await.unwrap();
    assert_eq!(
        text.prop("value").await.unwrap().as_deref(),
        Some("typo hree")
    );
    // Clearing takes the focus away (as WebDriver defines it); typing into the element gives it back.
    text.clear().await.unwrap();
    text.send_keys("thanks @bob, typo fixed").await.unwrap();
    press(browser, Key::Enter).await;
    until(
        browser,
        "the edit in the page",
        &format!(
            "const r = document.querySelector(\"{row}\");
             return r && r.querySelector('.content').textContent === 'thanks @bob, typo fixed'
                 && r.querySelector('mark.mention')?.textContent === '@bob' && !!r.querySelector('.edited');"
        ),
    )
    .await;
    let stored = kit.sim().messages(general);
    assert!(
        stored
            .iter()
            .any(|m| m.id == id && m.content == "thanks @bob, typo fixed" && m.edited_at.is_some())
    );

    click_button(browser, &row, "Delete").await;
    until(
        browser,
        "the deletion in the page",
        &format!("const r = document.querySelector(\"{row}\"); return !!r && r.classList.contains('deleted');"),
    )
    .await;
    assert!(
        !kit.sim().messages(general).iter().any(|m| m.id == id),
        "deleted in lag-sim"
    );
}

/// Unsubscribes the robot from `room.message` in its settings: a `!ping` then makes no event
/// for it; subscribing again brings the replies back.
async fn subscriptions(kit: &Kit, browser: &Client, robot_id: &str, general: &str) {
    let box_for = "#robot-settings input[name='subscription'][value='room.message']";
    let set_subscribed = async |on: bool| {
        click(browser, "#tab-robots").await;
        let checkbox = browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(box_for))
            .await
            .expect("the robot's subscriptions are shown");
        let checked = checkbox.prop("checked").await.unwrap().as_deref() == Some("true");
        if checked != on {
            checkbox.click().await.unwrap();
        }
        click_button(browser, "#robot-settings", "Save").await;
        until(
            browser,
            "the settings to be saved",
            "return document.querySelector('#robot-settings .saved')?.textContent.startsWith('Saved');",
        )
        .await;
        let subscribed = kit
            .sim()
            .robot(robot_id)
            .unwrap()
            .subscriptions
            .contains(&EventType::RoomMessage);
        assert_eq!(subscribed, on, "the change is in effect in lag-sim at once");
        click(browser, "#tab-chat").await;
    };
    let room_messages = || {
        kit.sim()
            .event_ids(robot_id)
            .into_iter()
            .filter(|(_, kind)| *kind == EventType::RoomMessage)
            .count()
    };

    set_subscribed(false).await;
    let before = room_messages();
    send_from_composer(browser, "!ping while unsubscribed").await;
    assert_eq!(
        room_messages(),
        before,
        "an unsubscribed robot gets no room.message event"
    );

    ten_thousand_messages(kit, browser).await;

    set_subscribed(true).await;
    send_from_composer(browser, "!ping").await;
    until(
        browser,
        "a second pong once subscribed again",
        "return [...document.querySelectorAll('#messages .msg.bot .content')].filter((c) => c.textContent === 'pong').length === 2;",
    )
    .await;
    assert_eq!(robot_texts(kit, general), ["pong", "pong"]);
}

/// 10,000 messages in `#welcome` (posted while the robot does not follow messages): the page
/// keeps only the rows in view, at the bottom and after scrolling to the top.
async fn ten_thousand_messages(kit: &Kit, browser: &Client) {
    let demo = kit.demo();
    for i in 0..10_000 {
        kit.sim()
            .post(&demo.bob, &demo.welcome, &format!("message {i}"))
            .unwrap();
    }
    click_button(browser, "#rooms", "#welcome").await;
    let rendered = "return document.querySelectorAll('#messages .msg').length;";
    let visible = |text: &str| {
        format!(
            "const box = document.getElementById('messages').getBoundingClientRect();
             return [...document.querySelectorAll('#messages .msg')].some((m) => {{
               const r = m.getBoundingClientRect();
               return m.querySelector('.content').textContent === '{text}'
                   && r.top >= box.top - 1 && r.bottom <= box.bottom + 1;
             }});"
        )
    };
    until(
        browser,
        "the 10,000 messages of #welcome, the newest in view",
        &format!(
            "return document.getElementById('messages-spacer').dataset.count === '10000'
                && (() => {{ {} }})();",
            visible("message 9999")
        ),
    )
    .await;
    let at_bottom = browser.execute(rendered, vec![]).await.unwrap();
    browser
        .execute("document.getElementById('messages').scrollTop = 0;", vec![])
        .await
        .unwrap();
    until(
        browser,
        "the oldest message in view after scrolling up",
        &visible("message 0"),
    )
    .await;
    let at_top = browser.execute(rendered, vec![]).await.unwrap();
    for count in [&at_bottom, &at_top] {
        let count = count.as_u64().unwrap();
        assert!(
            (1..=60).contains(&count),
            "{count} of 10,000 rows are in the page: only those in view (and a few around) should be"
        );
    }
    click_button(browser, "#rooms", "#general").await;
    until(
        browser,
        "#general again",
        "return document.getElementById('room-title').textContent === '#general';",
    )
    .await;
}

/// Posts `content` with the composer and waits until the page shows it once more.
async fn send_from_composer(browser: &Client, content: &str) {
    let shown = format!(
        "return [...document.querySelectorAll('#messages .msg .content')]\
            .filter((c) => c.textContent === {}).length;",
        json!(content)
    );
    let before = browser.execute(&shown, vec![]).await.unwrap();
    browser
        .find(Locator::Id("text"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();
    type_text(browser, content).await;
    press(browser, Key::Enter).await;
    until(
        browser,
        &format!("{content:?} in the page"),
        &format!("return (() => {{ {shown} }})() > {before};"),
    )
    .await;
}

/// The robot's messages in a room, oldest first.
fn robot_texts(kit: &Kit, room_id: &str) -> Vec<String> {
    let mut texts: Vec<String> = kit
        .sim()
        .messages(room_id)
        .into_iter()
        .filter(|m| m.is_bot)
        .map(|m| m.content)
        .collect();
    texts.reverse();
    texts
}

/// Presses Tab from the top of the page until the element with id `target` has the focus;
/// returns each stop with its computed outline.
async fn tab_to(browser: &Client, target: &str) -> Vec<Value> {
    browser
        .execute("document.activeElement?.blur(); window.focus();", vec![])
        .await
        .unwrap();
    let mut stops = Vec::new();
    for _ in 0..40 {
        press(browser, Key::Tab).await;
        let stop = browser
            .execute(
                "const e = document.activeElement;
                 const style = getComputedStyle(e);
                 return { id: e.id, tag: e.tagName, label: e.getAttribute('aria-label') || e.textContent.trim().slice(0, 30),
                          outline: style.outlineStyle, width: style.outlineWidth };",
                vec![],
            )
            .await
            .unwrap();
        let done = stop["id"] == target;
        stops.push(stop);
        if done {
            return stops;
        }
    }
    panic!("40 presses of Tab never reached #{target}; the focus went through {stops:#?}");
}

async fn press(browser: &Client, key: Key) {
    let keys = KeyActions::new("keyboard".to_owned())
        .then(KeyAction::Down { value: key.into() })
        .then(KeyAction::Up { value: key.into() });
    browser.perform_actions(keys).await.unwrap();
}

/// Types into the focused element.
async fn type_text(browser: &Client, text: &str) {
    browser
        .active_element()
        .await
        .unwrap()
        .send_keys(text)
        .await
        .unwrap();
}

/// Clicks the element `selector` finds, looking it up again if a redraw made it stale.
async fn click(browser: &Client, selector: &str) {
    unless_stale(&format!("click {selector}"), async || {
        browser
            .wait()
            .at_most(PATIENCE)
            .for_element(Locator::Css(selector))
            .await
            .unwrap_or_else(|e| panic!("no {selector} in the page: {e}"))
            .click()
            .await
    })
    .await;
}

/// Runs `attempt` again while it fails only because live updates redrew the element it
/// found (a stale element), within [`PATIENCE`]; any other failure fails the test.
async fn unless_stale(what: &str, mut attempt: impl AsyncFnMut() -> Result<(), CmdError>) {
    let started = std::time::Instant::now();
    loop {
        match attempt().await {
            Ok(()) => return,
            Err(e) if e.is_stale_element_reference() && started.elapsed() < PATIENCE => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(e) => panic!("cannot {what}: {e}"),
        }
    }
}

/// Focuses and clicks the button labelled `label` inside `within` (message actions show on
/// hover or focus). Live updates may redraw the list between finding the button and clicking
/// it; a button gone stale is looked up again, within [`PATIENCE`].
async fn click_button(browser: &Client, within: &str, label: &str) {
    unless_stale(&format!("click {label:?} in {within}"), async || {
        try_click_button(browser, within, label).await
    })
    .await;
}

async fn try_click_button(browser: &Client, within: &str, label: &str) -> Result<(), CmdError> {
    let xpath = format!(".//button[normalize-space(text())='{label}']");
    let scope = browser
        .wait()
        .at_most(PATIENCE)
        .for_element(Locator::Css(within))
        .await
        .unwrap_or_else(|e| panic!("no {within} in the page: {e}"));
    let button = match scope.find(Locator::XPath(&xpath)).await {
        Ok(button) => button,
        Err(e) if e.is_stale_element_reference() => return Err(e),
        Err(e) => panic!("no {label:?} button in {within}: {e}"),
    };
    let element = serde_json::to_value(&button).expect("an element is JSON");
    browser
        .execute("arguments[0].focus();", vec![element])
        .await?;
    button.click().await
}

/// Runs `script` until it returns something other than null or false; fails after
/// [`PATIENCE`] with what it waited for and the page's error line.
async fn until(browser: &Client, what: &str, script: &str) -> Value {
    let deadline = tokio::time::Instant::now() + PATIENCE;
    loop {
        let value = browser
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("the page's script for {what} failed: {e}"));
        if !matches!(value, Value::Null | Value::Bool(false)) {
            return value;
        }
        if tokio::time::Instant::now() >= deadline {
            let error = browser
                .execute(
                    "return document.getElementById('error').textContent;",
                    vec![],
                )
                .await
                .unwrap_or(Value::Null);
            panic!("gave up waiting for {what}; the page's error line: {error}");
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Saves a PNG of the window as `target/playground-screenshots/<name>.png`.
async fn screenshot(browser: &Client, name: &str) {
    let png = browser.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG screenshot");
    let folder = screenshots();
    std::fs::create_dir_all(&folder).unwrap();
    let path = folder.join(format!("{name}.png"));
    std::fs::write(&path, png).unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
}

/// The target folder's `playground-screenshots/`: this binary runs from `<target>/<profile>/deps`.
fn screenshots() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let target = exe
        .ancestors()
        .nth(3)
        .map_or_else(|| PathBuf::from("target"), Path::to_path_buf);
    target.join("playground-screenshots")
}

/// chromedriver, in a process group of its own, so that stopping it also stops every browser
/// it started, when the test passes and when it fails.
struct Driver {
    child: Child,
    port: u16,
    browser: PathBuf,
}

impl Driver {
    /// Starts chromedriver on a free loopback port and waits until it answers.
    fn start() -> Self {
        use std::os::unix::process::CommandExt as _;

        let driver = tool(DRIVER_VARIABLE, "/usr/bin/chromedriver");
        let browser = tool(BROWSER_VARIABLE, "/usr/bin/chromium");
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free loopback port")
            .port();
        let child = Command::new(&driver)
            .arg(format!("--port={port}"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start chromedriver ({}): {e}; install chromium-driver or set {DRIVER_VARIABLE}",
                    driver.display()
                )
            });
        Self {
            child,
            port,
            browser,
        }
    }

    /// A headless Chromium session; fails with what went wrong when the browser cannot start.
    async fn session(&mut self) -> Client {
        let url = format!("http://127.0.0.1:{}", self.port);
        let capabilities = json!({
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": self.browser,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--window-size=1280,800", "--hide-scrollbars", "--force-device-scale-factor=1"],
            },
        });
        let capabilities = match capabilities {
            Value::Object(map) => map,
            _ => unreachable!("a JSON object"),
        };
        let deadline = tokio::time::Instant::now() + PATIENCE;
        loop {
            let attempt = ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&url)
                .await;
            if let Ok(Some(status)) = self.child.try_wait() {
                panic!("chromedriver exited at start ({status}); run it by hand to see why");
            }
            match attempt {
                Ok(client) => return client,
                Err(error) if tokio::time::Instant::now() < deadline && starting(&error) => {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(error) => panic!(
                    "headless Chromium did not start through chromedriver at {url}: {error} \
                     (browser {}; set {BROWSER_VARIABLE} and {DRIVER_VARIABLE} to use others)",
                    self.browser.display()
                ),
            }
        }
    }

    /// Stops chromedriver and every process of its group (the browser's included).
    fn stop(mut self) {
        self.kill_group();
    }

    fn kill_group(&mut self) {
        if let Ok(Some(_)) = self.child.try_wait() {
            return;
        }
        let group = format!("-{}", self.child.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .stderr(Stdio::null())
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        self.kill_group();
    }
}

/// chromedriver is not listening yet (the connection is refused), as opposed to a browser that
/// cannot start.
fn starting(error: &fantoccini::error::NewSessionError) -> bool {
    use fantoccini::error::NewSessionError;
    matches!(
        error,
        NewSessionError::Failed(_) | NewSessionError::FailedC(_)
    )
}

/// The path of a program: the variable's value when set, else Debian's path; fails at once
/// when neither exists.
fn tool(variable: &str, default: &str) -> PathBuf {
    let path = std::env::var_os(variable).map_or_else(|| PathBuf::from(default), PathBuf::from);
    assert!(
        path.is_file(),
        "{} does not exist: install Debian's chromium and chromium-driver \
         (apt-get install chromium chromium-driver) or set {variable} (see README, Testing)",
        path.display()
    );
    path
}
