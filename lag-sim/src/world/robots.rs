//! Robots: creating and configuring them, keys and webhook secrets, the delivery log.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use rand::Rng as _;
use rand::distr::Alphanumeric;
use tokio::sync::{broadcast, mpsc, watch};

use crate::clock;
use crate::error::{Error, Result};
use crate::event::EventRecord;
use crate::limiter::Limiter;
use crate::log::DeliveryRecord;
use crate::spec::{RobotCredentials, RobotDetails, RobotSpec, RobotUpdate, Transport};

use super::{
    MAX_ACTIVE_ROBOTS, MAX_NAME_CHARS, RobotState, Secret, ServerState, World, check_length,
};

/// A robot freshly created, with the receiving end of its webhook queue for the delivery task.
pub(crate) struct NewRobot {
    pub(crate) credentials: RobotCredentials,
    pub(crate) webhook_rx: mpsc::UnboundedReceiver<(Arc<EventRecord>, u64)>,
}

impl World {
    fn active_robots(&self, server: &ServerState, except: Option<&str>) -> usize {
        server
            .robots
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .filter(|id| self.robots.get(*id).is_some_and(|r| r.active))
            .count()
    }

    fn check_robot_name(&self, server_id: &str, name: &str, except: Option<&str>) -> Result<()> {
        check_length("robot name", name, MAX_NAME_CHARS)?;
        if name.trim() != name || name.chars().any(char::is_control) || name.contains('@') {
            return Err(Error::bad_request(
                "robot name must not start or end with spaces or contain control characters or '@'",
            ));
        }
        let server = self.server(server_id)?;
        let taken = server
            .robots
            .iter()
            .filter(|id| Some(id.as_str()) != except)
            .filter_map(|id| self.robots.get(id))
            .any(|r| r.name.to_lowercase() == name.to_lowercase());
        if taken {
            return Err(Error::conflict(format!(
                "a robot named {name:?} already exists in server {server_id}"
            )));
        }
        Ok(())
    }

    pub(crate) fn create_robot(&mut self, server_id: &str, spec: RobotSpec) -> Result<NewRobot> {
        self.check_robot_name(server_id, &spec.name, None)?;
        let server = self.server(server_id)?;
        if self.active_robots(server, None) >= MAX_ACTIVE_ROBOTS {
            return Err(Error::conflict(format!(
                "server {server_id} already has {MAX_ACTIVE_ROBOTS} active robots"
            )));
        }
        validate_transport(&spec.transport)?;
        let key = match spec.key {
            Some(key) => {
                validate_key(&key)?;
                if self.keys.contains_key(&key) {
                    return Err(Error::conflict("that API key is already in use"));
                }
                key
            }
            None => new_key(),
        };
        let secret = match spec.secret {
            Some(text) => parse_secret(&text)?,
            None => new_secret(),
        };
        let id = self.new_id("rob");
        let (webhook, webhook_rx) = mpsc::unbounded_channel();
        let robot = RobotState {
            id: id.clone(),
            name: spec.name,
            server_id: server_id.to_owned(),
            avatar_url: spec.avatar_url,
            key: key.clone(),
            permissions: spec.permissions,
            subscriptions: spec.subscriptions,
            transport: spec.transport,
            secrets: vec![secret],
            active: true,
            created_at: clock::now_iso(),
            epoch: 0,
            outbox: VecDeque::new(),
            handed_out: 0,
            notify: watch::Sender::new(0),
            webhook,
            limiter: Limiter::new(self.settings.config.rate_limits, &self.settings.clock),
            log: VecDeque::new(),
            log_feed: self.log_feed.clone(),
        };
        let credentials = robot.credentials(self.settings.clock.now());
        self.robots.insert(id.clone(), robot);
        self.keys.insert(key, id.clone());
        self.server_mut(server_id)?.robots.push(id);
        Ok(NewRobot {
            credentials,
            webhook_rx,
        })
    }

    pub(crate) fn robots_of(&self, server_id: &str) -> Result<Vec<RobotDetails>> {
        let now = self.settings.clock.now();
        Ok(self
            .server(server_id)?
            .robots
            .iter()
            .filter_map(|id| self.robots.get(id))
            .map(|r| r.details(now))
            .collect())
    }

    pub(crate) fn robot_details(&self, robot_id: &str) -> Result<RobotDetails> {
        Ok(self.robot(robot_id)?.details(self.settings.clock.now()))
    }

    pub(crate) fn update_robot(
        &mut self,
        robot_id: &str,
        update: RobotUpdate,
    ) -> Result<RobotDetails> {
        let robot = self.robot(robot_id)?;
        let server_id = robot.server_id.clone();
        if let Some(name) = &update.name {
            self.check_robot_name(&server_id, name, Some(robot_id))?;
        }
        if let Some(transport) = &update.transport {
            validate_transport(transport)?;
        }
        if update.active == Some(true) && !robot.active {
            let server = self.server(&server_id)?;
            if self.active_robots(server, Some(robot_id)) >= MAX_ACTIVE_ROBOTS {
                return Err(Error::conflict(format!(
                    "server {server_id} already has {MAX_ACTIVE_ROBOTS} active robots"
                )));
            }
        }
        let robot = self.robot_mut(robot_id)?;
        if let Some(name) = update.name {
            robot.name = name;
        }
        if let Some(permissions) = update.permissions {
            robot.permissions = permissions.into_iter().collect();
        }
        if let Some(subscriptions) = update.subscriptions {
            robot.subscriptions = subscriptions.into_iter().collect();
        }
        if let Some(avatar_url) = update.avatar_url {
            robot.avatar_url = avatar_url;
        }
        if let Some(transport) = update.transport {
            let kind_changed = transport.kind() != robot.transport.kind();
            robot.transport = transport;
            if kind_changed {
                robot.epoch += 1;
                if matches!(robot.transport, Transport::Webhook { .. }) {
                    let pending: Vec<_> = robot.pending().cloned().collect();
                    for record in pending {
                        robot.handed_out = record.seq;
                        let _ = robot.webhook.send((record, robot.epoch));
                    }
                }
                robot.notify.send_modify(|_| {});
            }
        }
        if let Some(active) = update.active
            && active != robot.active
        {
            robot.active = active;
            robot.epoch += 1;
            if !active {
                robot.handed_out = robot.outbox.back().map_or(robot.handed_out, |e| e.seq);
            }
            robot.notify.send_modify(|_| {});
        }
        self.robot_details(robot_id)
    }

    /// Disables a robot whose webhook answered 410, dropping what was queued for it.
    pub(crate) fn disable_gone(&mut self, robot_id: &str) {
        if let Some(robot) = self.robots.get_mut(robot_id) {
            robot.active = false;
            robot.epoch += 1;
            robot.handed_out = robot.outbox.back().map_or(robot.handed_out, |e| e.seq);
            robot.notify.send_modify(|_| {});
        }
    }

    pub(crate) fn rotate_secret(
        &mut self,
        robot_id: &str,
        overlap: Option<Duration>,
    ) -> Result<RobotCredentials> {
        let overlap = self
            .settings
            .clock
            .span(overlap.unwrap_or(self.settings.config.secret_overlap));
        let now = self.settings.clock.now();
        let robot = self.robot_mut(robot_id)?;
        robot
            .secrets
            .retain(|s| s.expires.is_none_or(|at| at > now));
        for secret in &mut robot.secrets {
            let expires = now + overlap;
            secret.expires = Some(secret.expires.map_or(expires, |at| at.min(expires)));
        }
        robot.secrets.insert(0, new_secret());
        Ok(robot.credentials(now))
    }

    pub(crate) fn regenerate_key(&mut self, robot_id: &str) -> Result<RobotCredentials> {
        let key = new_key();
        let now = self.settings.clock.now();
        let robot = self.robot_mut(robot_id)?;
        let old = std::mem::replace(&mut robot.key, key.clone());
        let credentials = robot.credentials(now);
        self.keys.remove(&old);
        self.keys.insert(key, robot_id.to_owned());
        Ok(credentials)
    }

    pub(crate) fn credentials(&self, robot_id: &str) -> Result<RobotCredentials> {
        Ok(self.robot(robot_id)?.credentials(self.settings.clock.now()))
    }

    pub(crate) fn deliveries(&self, robot_id: &str) -> Result<Vec<DeliveryRecord>> {
        Ok(self.robot(robot_id)?.log.iter().cloned().collect())
    }

    pub(crate) fn push_log(&mut self, robot_id: &str, record: DeliveryRecord) {
        let max = self.settings.config.max_delivery_log;
        if let Some(robot) = self.robots.get_mut(robot_id) {
            robot.push_log(record, max);
        }
    }

    /// A receiver of every delivery-log entry, of every robot, from now on.
    pub(crate) fn subscribe_deliveries(&self) -> broadcast::Receiver<Arc<DeliveryRecord>> {
        self.log_feed.subscribe()
    }

    /// Queues a retained event for the robot again, with its id, as a redelivery: over the
    /// robot's current transport, once more in full (a webhook gets a fresh attempt schedule).
    pub(crate) fn redeliver(&mut self, robot_id: &str, event_id: &str) -> Result<()> {
        let robot = self.robot(robot_id)?;
        if !robot.active {
            return Err(Error::conflict(format!(
                "robot {robot_id} is disabled; enable it before redelivering"
            )));
        }
        let original = robot
            .outbox
            .iter()
            .rev()
            .find(|e| e.id == event_id)
            .cloned()
            .ok_or_else(|| {
                Error::not_found(format!(
                    "event {event_id} is not retained for robot {robot_id}"
                ))
            })?;
        let seq = self.next_seq;
        self.next_seq += 1;
        let again = EventRecord {
            seq,
            id: original.id.clone(),
            kind: original.kind,
            body: original.body.clone(),
            json: original.json.clone(),
            created_at: original.created_at.clone(),
            queued: self.settings.clock.now(),
            redelivery: true,
        };
        self.enqueue(robot_id, Arc::new(again));
        Ok(())
    }

    /// Every event retained for a robot, oldest first.
    pub(crate) fn retained(&self, robot_id: &str) -> Result<Vec<Arc<EventRecord>>> {
        Ok(self.robot(robot_id)?.outbox.iter().cloned().collect())
    }
}

fn validate_transport(transport: &Transport) -> Result<()> {
    if let Transport::Webhook { url } = transport {
        let parsed = reqwest::Url::parse(url)
            .map_err(|e| Error::bad_request(format!("invalid webhookUrl {url:?}: {e}")))?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host().is_none() {
            return Err(Error::bad_request(format!(
                "webhookUrl must be an http or https URL, got {url:?}"
            )));
        }
    }
    Ok(())
}

fn random_text(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

fn new_key() -> String {
    let prefix: String = (0..8)
        .map(|_| char::from(b"0123456789abcdef"[rand::rng().random_range(0..16)]))
        .collect();
    format!("lag_robot_{prefix}_{}", random_text(32))
}

fn validate_key(key: &str) -> Result<()> {
    let valid = key
        .strip_prefix("lag_robot_")
        .and_then(|rest| rest.split_once('_'))
        .is_some_and(|(prefix, secret)| {
            !prefix.is_empty()
                && !secret.is_empty()
                && prefix.chars().all(|c| c.is_ascii_alphanumeric())
                && secret
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_'))
        });
    if valid {
        Ok(())
    } else {
        Err(Error::bad_request(
            "an API key must look like lag_robot_<prefix>_<secret>",
        ))
    }
}

fn new_secret() -> Secret {
    let key: [u8; 32] = rand::rng().random();
    Secret {
        text: format!("whsec_{}", BASE64.encode(key)),
        key: key.to_vec(),
        expires: None,
    }
}

fn parse_secret(text: &str) -> Result<Secret> {
    let key = text
        .strip_prefix("whsec_")
        .and_then(|b64| BASE64.decode(b64).ok())
        .filter(|key| !key.is_empty())
        .ok_or_else(|| Error::bad_request("a webhook secret must look like whsec_<base64>"))?;
    Ok(Secret {
        text: text.to_owned(),
        key,
        expires: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_secrets_have_the_documented_shape() {
        let key = new_key();
        assert!(validate_key(&key).is_ok());
        let parts: Vec<_> = key.splitn(4, '_').collect();
        assert_eq!(parts[2].len(), 8);
        assert_eq!(parts[3].len(), 32);
        let secret = new_secret();
        assert_eq!(parse_secret(&secret.text).unwrap().key, secret.key);
        assert!(parse_secret("whsec_!!").is_err());
    }
}
