//! Who may use the playground and the admin API (see [`AdminAccess`](crate::AdminAccess)):
//! state-changing requests from another site are refused wherever lag-sim listens, and off
//! loopback every request needs the run's token, in the `X-Lag-Sim-Token` header or in the
//! cookie that opening `/?token=...` sets.

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use subtle::ConstantTimeEq as _;

use super::ApiError;
use crate::error::Error;
use crate::shared::Shared;

/// The header a script or a program sends the token in.
pub(crate) const TOKEN_HEADER: &str = "x-lag-sim-token";

/// Checks a request to the page or the admin API.
pub(super) async fn guard(
    State(shared): State<Arc<Shared>>,
    request: Request,
    next: Next,
) -> Response {
    let changes_state = !matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if changes_state && let Some(reason) = cross_site(request.headers()) {
        return forbidden(reason);
    }
    let Some(token) = shared.admin_token.as_deref() else {
        return next.run(request).await;
    };
    let headers = request.headers();
    let cookie = cookie_name(headers);
    if headers
        .get(TOKEN_HEADER)
        .is_some_and(|value| same(value.as_bytes(), token))
    {
        return next.run(request).await;
    }
    if changes_state {
        return forbidden(format!(
            "a state-changing request needs the admin token in the {TOKEN_HEADER} header"
        ));
    }
    if cookies(headers).any(|(name, value)| name == cookie && same(value.as_bytes(), token)) {
        return next.run(request).await;
    }
    if request.uri().path() == "/"
        && query_token(request.uri().query()).is_some_and(|t| same(t.as_bytes(), token))
    {
        let mut response = next.run(request).await;
        let set = format!("{cookie}={token}; Path=/; HttpOnly; SameSite=Strict");
        if let Ok(value) = HeaderValue::from_str(&set) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
        return response;
    }
    ApiError(Error::unauthorized(format!(
        "this lag-sim listens beyond loopback, so its playground and admin API need the \
             token it printed at start: open the page's link with ?token=, or send the token \
             in the {TOKEN_HEADER} header"
    )))
    .into_response()
}

/// Why a state-changing request looks like it comes from another site, if it does: browsers
/// say so in `Sec-Fetch-Site` and `Origin`; other clients send neither.
fn cross_site(headers: &HeaderMap) -> Option<String> {
    if let Some(site) = headers.get("sec-fetch-site") {
        let site = site.to_str().unwrap_or("");
        if !matches!(site, "same-origin" | "none") {
            return Some(format!(
                "a state-changing request from another site (Sec-Fetch-Site: {site}) is refused"
            ));
        }
    }
    let origin = headers.get(header::ORIGIN)?;
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    let origin_host = origin.to_str().ok().and_then(|o| {
        o.strip_prefix("http://")
            .or_else(|| o.strip_prefix("https://"))
    });
    match (origin_host, host) {
        (Some(origin_host), Some(host)) if origin_host.eq_ignore_ascii_case(host) => None,
        _ => Some(format!(
            "a state-changing request from another origin ({}) is refused",
            origin.to_str().unwrap_or("not text")
        )),
    }
}

fn forbidden(reason: String) -> Response {
    ApiError(Error::forbidden(reason)).into_response()
}

fn same(presented: &[u8], token: &str) -> bool {
    bool::from(presented.ct_eq(token.as_bytes()))
}

/// The cookie's name carries the port, so that lag-sims on several ports of one host do not
/// overwrite each other's cookie in a browser (cookies are not kept per port).
fn cookie_name(headers: &HeaderMap) -> String {
    let port = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .and_then(|h| h.rsplit_once(':'))
        .map(|(_, port)| port)
        .filter(|port| !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or("80");
    format!("lag_sim_token_{port}")
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = (&str, &str)> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
}

fn query_token(query: Option<&str>) -> Option<&str> {
    query?
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .find(|(name, _)| *name == "token")
        .map(|(_, value)| value)
}
