//! A robot's own HTTP routes: endpoints served next to its event receiver.
//!
//! A robot often has to be reached from outside Lag as well: a CI system or a monitoring
//! server posting notifications, a health check, a small admin page. Rather than run a second
//! server beside the robot, give it an [axum](https://docs.rs/axum/0.8) `Router` with
//! [`Robot::routes`](crate::Robot::routes). Its handlers take
//! `State<RouteCtx<S>>`: the robot's state, its [`Client`] (paced under Lag's limits together
//! with the event handlers) and its identity.
//!
//! Where the routes are served:
//!
//! - a webhook robot serves them on its webhook receiver's listener (`LAG_LISTEN`), next to
//!   the webhook path and `/metrics`, which take precedence over routes of the same path;
//! - an SSE or long-poll robot, or one whose webhook endpoint is mounted in another server,
//!   has no listener of its own, so the routes get one at
//!   [`RobotBuilder::routes_listen`](crate::RobotBuilder::routes_listen), or `LAG_LISTEN`
//!   when built from the environment (default `127.0.0.1:3000`).
//!
//! Either way [`RobotHandle::routes_addr`](crate::RobotHandle::routes_addr) says where they
//! listen, the listener is bound when the robot starts (a taken port fails
//! [`start`](crate::Robot::start)), and on shutdown requests in flight finish before the robot
//! returns. The test kit gives each robot a free loopback port.
//!
//! ```no_run
//! use axum::extract::State;
//! use axum::http::StatusCode;
//! use axum::routing::post;
//! use axum::Router;
//! use lag_bot::{Robot, RouteCtx};
//!
//! struct Deploys { room: String }
//!
//! /// POST /deployed with the version as the body: announces it in the deploys room.
//! async fn deployed(State(robot): State<RouteCtx<Deploys>>, version: String) -> StatusCode {
//!     let text = format!("Version {} is live.", version.trim());
//!     match robot.send(&robot.state().room, text).await {
//!         Ok(_) => StatusCode::NO_CONTENT,
//!         Err(_) => StatusCode::BAD_GATEWAY,
//!     }
//! }
//!
//! #[tokio::main]
//! async fn main() -> lag_bot::Result<()> {
//!     Robot::builder()
//!         .state(Deploys { room: "room_ops".into() })
//!         .build_from_env()?
//!         .routes(Router::new().route("/deployed", post(deployed)))
//!         .run()
//!         .await
//! }
//! ```

use std::fmt;
use std::sync::Arc;

use crate::Result;
use crate::client::Client;
use crate::kv::Kv;
use crate::model::{Message, RobotInfo};

/// What a robot's own route handlers get as their axum `State`: the robot's state, its
/// client, its identity and its key-value store. See the [module docs](self).
///
/// A cheap handle (one `Arc`); axum clones it for every request.
pub struct RouteCtx<S = ()> {
    inner: Arc<Inner<S>>,
}

struct Inner<S> {
    state: Arc<S>,
    client: Client,
    me: Arc<RobotInfo>,
    kv: Kv,
}

impl<S> RouteCtx<S> {
    pub(crate) fn new(state: Arc<S>, client: Client, me: Arc<RobotInfo>, kv: Kv) -> Self {
        Self {
            inner: Arc::new(Inner {
                state,
                client,
                me,
                kv,
            }),
        }
    }

    /// The robot's user state, the same value its event handlers see.
    pub fn state(&self) -> &S {
        &self.inner.state
    }

    /// The robot's REST client, shared with its event handlers (one rate limiter for all).
    pub fn client(&self) -> &Client {
        &self.inner.client
    }

    /// The robot's own identity, as Lag reported it at startup.
    pub fn me(&self) -> &RobotInfo {
        &self.inner.me
    }

    /// The robot's key-value store, the same one its event handlers reach with
    /// [`Ctx::kv`](crate::Ctx::kv).
    pub fn kv(&self) -> &Kv {
        &self.inner.kv
    }

    /// Posts `content` in `room_id`, as [`Client::send`].
    ///
    /// # Errors
    ///
    /// As [`Client::send`].
    pub async fn send(&self, room_id: &str, content: impl Into<String>) -> Result<Message> {
        self.inner.client.send(room_id, content).await
    }
}

impl<S> Clone for RouteCtx<S> {
    fn clone(&self) -> Self {
        Self {
            inner: Arc::clone(&self.inner),
        }
    }
}

impl<S> fmt::Debug for RouteCtx<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RouteCtx")
            .field("robot", &self.inner.me.id)
            .field("state", &std::any::type_name::<S>())
            .finish_non_exhaustive()
    }
}
