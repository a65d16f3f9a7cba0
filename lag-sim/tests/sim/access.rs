//! Who may use the playground and the admin API, over real HTTP: open on loopback, behind the
//! run's token elsewhere, and never changed from another site. `AdminAccess::Token` forces the
//! protected mode on 127.0.0.1, so these tests do not depend on the machine having another
//! address; `program.rs` checks the program bound to `0.0.0.0` as well.

use lag_sim::{AdminAccess, Sim, SimConfig};
use reqwest::Method;
use serde_json::json;

use crate::support::{self, Api, Reply};

async fn protected() -> (Sim, lag_sim::Demo, String) {
    let sim = support::sim_with(SimConfig {
        admin_access: AdminAccess::Token,
        ..SimConfig::default()
    })
    .await;
    let demo = sim.seed_demo().unwrap();
    let token = sim
        .admin_token()
        .expect("a forced token mode has a token")
        .to_owned();
    (sim, demo, token)
}

/// Alice posts `content` in `general` through the admin API, with `headers` on the request.
async fn post_as_alice(
    api: &Api,
    demo: &lag_sim::Demo,
    content: &str,
    headers: &[(&str, &str)],
) -> Reply {
    let mut request = api
        .request(
            Method::POST,
            &format!("/_sim/rooms/{}/messages", demo.general),
        )
        .json(&json!({ "userId": demo.alice, "content": content }));
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    api.send(request).await
}

async fn get_with(api: &Api, path: &str, headers: &[(&str, &str)]) -> Reply {
    let mut request = api.request(Method::GET, path);
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    api.send(request).await
}

#[tokio::test]
async fn on_loopback_the_page_and_the_admin_api_are_open() {
    let sim = support::sim().await;
    assert_eq!(sim.admin_token(), None);
    assert_eq!(sim.playground_link(), sim.playground_url());
    let api = Api::anonymous(&sim);
    assert_eq!(api.get("/_sim/world").await.status, 200);
    let page = api.get("/").await;
    assert_eq!(page.status, 200);
    assert!(
        page.text
            .contains(r#"<meta name="lag-sim-token" content="">"#),
        "no token in an open page"
    );
    assert!(page.header("set-cookie").is_none());
    sim.shutdown().await;
}

#[tokio::test]
async fn with_a_token_nothing_is_served_without_it() {
    let (sim, _demo, token) = protected().await;
    assert_eq!(token.len(), 32);
    assert!(token.bytes().all(|b| b.is_ascii_alphanumeric()), "{token}");
    assert_eq!(
        sim.playground_link(),
        format!("{}?token={token}", sim.playground_url())
    );
    let api = Api::anonymous(&sim);
    let wrong = "x".repeat(32);
    for path in [
        "/",
        "/playground/app.js",
        "/playground/style.css",
        "/_sim/world",
        "/_sim/meta",
        "/_sim/feed",
        "/?token=nope",
    ] {
        let message = api.get(path).await.assert_error(401);
        assert!(message.contains("x-lag-sim-token header"), "{message}");
        get_with(&api, path, &[("x-lag-sim-token", &wrong)])
            .await
            .assert_error(401);
        get_with(
            &api,
            path,
            &[(
                "cookie",
                &format!("lag_sim_token_{}={wrong}", sim.addr().port()),
            )],
        )
        .await
        .assert_error(401);
    }
    let page = api.get(&format!("/_sim/world?token={token}")).await;
    assert_eq!(
        page.status, 401,
        "the link's token is taken on the page only"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn the_link_sets_a_strict_cookie_that_reads_but_does_not_change() {
    let (sim, demo, token) = protected().await;
    let api = Api::anonymous(&sim);
    let page = api.get(&format!("/?token={token}")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    let port = sim.addr().port();
    assert_eq!(
        page.header("set-cookie"),
        Some(format!("lag_sim_token_{port}={token}; Path=/; HttpOnly; SameSite=Strict").as_str())
    );
    assert!(
        page.text
            .contains(&format!(r#"<meta name="lag-sim-token" content="{token}">"#)),
        "the page carries the token for its script"
    );

    let cookie = format!("other=1; lag_sim_token_{port}={token}");
    for path in ["/", "/playground/app.js", "/_sim/world"] {
        let reply = get_with(&api, path, &[("cookie", &cookie)]).await;
        assert_eq!(reply.status, 200, "{path}: {}", reply.text);
    }
    let feed = api
        .request(Method::GET, "/_sim/feed")
        .header("cookie", &cookie)
        .send()
        .await
        .unwrap();
    assert_eq!(feed.status(), 200, "the live feed follows the cookie");
    drop(feed);

    let message = post_as_alice(&api, &demo, "with the cookie only", &[("cookie", &cookie)])
        .await
        .assert_error(403);
    assert!(message.contains("x-lag-sim-token"), "{message}");
    assert!(sim.messages(&demo.general).is_empty(), "nothing was posted");
    sim.shutdown().await;
}

#[tokio::test]
async fn the_token_header_allows_changes_from_the_same_origin_only() {
    let (sim, demo, token) = protected().await;
    let api = Api::anonymous(&sim);
    let own = format!("http://{}", sim.addr());
    let posted = post_as_alice(&api, &demo, "from a script", &[("x-lag-sim-token", &token)]).await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    let from_the_page = post_as_alice(
        &api,
        &demo,
        "from the page",
        &[
            ("x-lag-sim-token", &token),
            ("origin", &own),
            ("sec-fetch-site", "same-origin"),
        ],
    )
    .await;
    assert_eq!(from_the_page.status, 201, "{}", from_the_page.text);
    for headers in [
        [("sec-fetch-site", "cross-site"), ("origin", own.as_str())],
        [("sec-fetch-site", "same-site"), ("origin", own.as_str())],
        [
            ("sec-fetch-site", "same-origin"),
            ("origin", "http://evil.example"),
        ],
        [("sec-fetch-site", "same-origin"), ("origin", "null")],
    ] {
        let mut all = vec![("x-lag-sim-token", token.as_str())];
        all.extend(headers);
        let message = post_as_alice(&api, &demo, "from elsewhere", &all)
            .await
            .assert_error(403);
        assert!(message.contains("another"), "{message}");
    }
    let contents: Vec<String> = sim
        .messages(&demo.general)
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(contents, ["from the page", "from a script"]);

    let robot = Api::robot(&sim, &demo.robot.key);
    assert_eq!(
        robot.get("/robots/@me/info").await.status,
        200,
        "the robot API keeps its own keys, not the admin token"
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn on_loopback_changes_from_another_site_are_refused_too() {
    let sim = support::sim().await;
    let demo = sim.seed_demo().unwrap();
    let api = Api::anonymous(&sim);
    let other_port = format!("http://127.0.0.1:{}", sim.addr().port() + 1);
    for headers in [
        [("sec-fetch-site", "cross-site")],
        [("origin", other_port.as_str())],
    ] {
        post_as_alice(&api, &demo, "from elsewhere", &headers)
            .await
            .assert_error(403);
    }
    let read = get_with(&api, "/_sim/world", &[("sec-fetch-site", "cross-site")]).await;
    assert_eq!(read.status, 200, "reads stay open on loopback");
    let own = format!("http://{}", sim.addr());
    let posted = post_as_alice(
        &api,
        &demo,
        "from the page",
        &[("origin", &own), ("sec-fetch-site", "same-origin")],
    )
    .await;
    assert_eq!(posted.status, 201, "{}", posted.text);
    assert_eq!(sim.messages(&demo.general).len(), 1);
    sim.shutdown().await;
}
