//! The playground: one web page, served at `/`, to chat as any member, follow every delivery
//! and change robots' settings. It is plain HTML, CSS and JavaScript embedded in the binary,
//! with no external resource, and it talks only to the admin API under `/_sim`.

use std::borrow::Cow;
use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::shared::Shared;

const PAGE: &str = include_str!("index.html");

/// The page's style and scripts, by path; the page loads the scripts in this order, and they
/// share one global scope (`app.js` says what each holds).
const ASSETS: [(&str, &str, &str); 5] = [
    (
        "/playground/style.css",
        include_str!("style.css"),
        "text/css; charset=utf-8",
    ),
    ("/playground/app.js", include_str!("app.js"), SCRIPT),
    ("/playground/chat.js", include_str!("chat.js"), SCRIPT),
    (
        "/playground/inspector.js",
        include_str!("inspector.js"),
        SCRIPT,
    ),
    ("/playground/live.js", include_str!("live.js"), SCRIPT),
];

const SCRIPT: &str = "text/javascript; charset=utf-8";

/// The page's empty token element, filled in when the admin API needs a token.
const TOKEN_META: &str = r#"<meta name="lag-sim-token" content="">"#;

/// Only this origin, no inline script, no framing: the page needs nothing else.
const POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; \
    connect-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'none'; \
    frame-ancestors 'none'";

pub(super) fn routes() -> Router<Arc<Shared>> {
    ASSETS.into_iter().fold(
        Router::new().route("/", get(page)),
        |router, (path, text, content_type)| {
            router.route(path, get(move || async move { asset(text, content_type) }))
        },
    )
}

/// The page, with the admin token in its `lag-sim-token` meta element when the admin API needs
/// one: the request that fetched it carried the token already, and the script sends it back in
/// a header, which a page on another site can neither read nor forge.
async fn page(State(shared): State<Arc<Shared>>) -> Response {
    let html = match &shared.admin_token {
        Some(token) => Cow::Owned(PAGE.replacen(
            TOKEN_META,
            &format!(r#"<meta name="lag-sim-token" content="{token}">"#),
            1,
        )),
        None => Cow::Borrowed(PAGE),
    };
    asset(html, "text/html; charset=utf-8")
}

fn asset(text: impl Into<Cow<'static, str>>, content_type: &'static str) -> Response {
    let mut response = text.into().into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    response
}
