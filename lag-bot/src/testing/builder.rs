//! [`KitBuilder`] and [`Via`]: how a kit starts.

use std::collections::HashMap;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime};

use lag_sim::{ManualClock, Sim, SimConfig};

use super::watch::Record;
use super::{Cursors, Kit, PATIENCE};
use crate::clock::Clock;
use crate::local::{self, Seeded, sim_error};
use crate::robot::probe::Probe;
use crate::transport::{PollConfig, SseConfig, Transport, WebhookConfig};
use crate::{Error, Result, Robot, RobotBuilder};

/// How the robot under test receives its events.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Via {
    /// Server-sent events (the default, as for a robot built without a transport).
    #[default]
    Sse,
    /// Long polling.
    LongPoll,
    /// Signed webhooks, delivered to the robot's own receiver on a free loopback port.
    Webhook,
}

impl Via {
    fn transport(self) -> Transport {
        match self {
            Via::Sse => Transport::Sse(SseConfig::new()),
            Via::LongPoll => Transport::Poll(PollConfig::new()),
            Via::Webhook => Transport::Webhook(
                WebhookConfig::new([]).listen(SocketAddr::from((Ipv4Addr::LOCALHOST, 0))),
            ),
        }
    }
}

/// Sets up a [`Kit`]: the transport and the patience of its expectations.
///
/// ```no_run
/// use std::time::Duration;
/// use lag_bot::testing::{Kit, Via};
///
/// # async fn run() -> lag_bot::Result<()> {
/// let kit = Kit::builder()
///     .via(Via::Webhook)
///     .patience(Duration::from_secs(2))
///     .start(|lag| lag.build())
///     .await?;
/// # Ok(())
/// # }
/// ```
#[derive(Debug, Clone)]
pub struct KitBuilder {
    via: Via,
    patience: Duration,
    start_at: Option<SystemTime>,
}

impl Default for KitBuilder {
    fn default() -> Self {
        Self {
            via: Via::default(),
            patience: PATIENCE,
            start_at: None,
        }
    }
}

impl KitBuilder {
    /// The transport the robot receives events over (default SSE).
    pub fn via(mut self, via: Via) -> Self {
        self.via = via;
        self
    }

    /// How long, in real time, an expectation waits before it fails (default 5 s).
    pub fn patience(mut self, patience: Duration) -> Self {
        self.patience = patience;
        self
    }

    /// Starts simulated time at the wall-clock time `at` instead of now: what cron jobs read,
    /// for a test of a given date (a daylight-saving change, a month's end).
    pub fn start_at(mut self, at: SystemTime) -> Self {
        self.start_at = Some(at);
        self
    }

    /// Starts the local Lag, builds the robot with `robot` and starts it. See [`Kit::start`].
    ///
    /// # Errors
    ///
    /// The robot function's error; [`ErrorKind::Config`](crate::ErrorKind::Config) when it
    /// set a transport other than the kit's; the robot's start-up errors
    /// ([`Robot::start`]); and an error when the local Lag cannot start.
    pub async fn start<S, F>(self, robot: F) -> Result<Kit>
    where
        S: Send + Sync + 'static,
        F: FnOnce(RobotBuilder) -> Result<Robot<S>>,
    {
        let clock = self
            .start_at
            .map_or_else(ManualClock::new, ManualClock::starting_at);
        let sim = Sim::start(SimConfig {
            clock: Some(clock.clone()),
            ..SimConfig::default()
        })
        .await
        .map_err(|e| sim_error("cannot start", e))?;
        let Seeded {
            demo, connection, ..
        } = local::seed_demo(&sim, self.via.transport())?;
        let record = Record::start(&sim);
        let probe = Arc::new(Probe::default());
        let builder = RobotBuilder::for_kit(Clock::manual(clock.clone()), Arc::clone(&probe))
            .key(connection.key)
            .base_url(connection.base_url)
            .transport(connection.transport);
        let robot = robot(builder)?;
        let chosen = robot.transport_name();
        let expected = self.via.transport().name();
        if chosen != expected {
            return Err(Error::config(format!(
                "the kit set the robot up to receive over {expected}, and the robot function \
                 changed it to {chosen}: leave the transport to the builder the kit passes, and \
                 choose it with `KitBuilder::via`"
            )));
        }
        let handle = robot.start().await?;
        let robot_name = handle.me().name.clone();
        Ok(Kit {
            sim,
            demo,
            clock,
            probe,
            record,
            handle: Some(handle),
            robot_name,
            patience: self.patience,
            cursors: Mutex::new(Cursors {
                room: None,
                read: HashMap::new(),
                received: 0,
                all: 0,
            }),
        })
    }
}
