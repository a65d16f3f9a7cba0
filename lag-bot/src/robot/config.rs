//! Reading a robot's settings from `LAG_*` environment variables.

use std::net::{SocketAddr, ToSocketAddrs};

use crate::transport::{PollConfig, SseConfig, Transport, WebhookConfig, WebhookSecret};
use crate::{Error, Result};

/// The settings `Robot::from_env` reads.
#[derive(Debug)]
pub(crate) struct EnvSettings {
    /// `None` only when the key was not asked for (the builder has one).
    pub(crate) key: Option<String>,
    pub(crate) base_url: Option<String>,
    pub(crate) transport: Transport,
    pub(crate) metrics_listen: Option<SocketAddr>,
}

fn address(var: &str, value: &str) -> Result<SocketAddr> {
    value
        .to_socket_addrs()
        .map_err(|err| Error::config(format!("{var}={value:?} is not a host:port address: {err}")))?
        .next()
        .ok_or_else(|| Error::config(format!("{var}={value:?} resolves to no address")))
}

/// Reads the settings through `var`, which returns a variable's value when it is set;
/// `LAG_ROBOT_API_KEY` must be set when `need_key`.
///
/// `LAG_TRANSPORT` defaults to `webhook` when `LAG_WEBHOOK_SECRET` is set, else to `sse`.
pub(crate) fn from_vars(
    var: impl Fn(&str) -> Option<String>,
    need_key: bool,
) -> Result<EnvSettings> {
    let get = |name: &str| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    };
    let key = get("LAG_ROBOT_API_KEY");
    if need_key && key.is_none() {
        return Err(Error::config(
            "LAG_ROBOT_API_KEY is not set (the robot's API key, `lag_robot_...`)",
        ));
    }
    let base_url = get("LAG_API_BASE");
    let secrets = get("LAG_WEBHOOK_SECRET");
    let transport_name = get("LAG_TRANSPORT").map(|t| t.to_ascii_lowercase());
    let transport_name =
        transport_name
            .as_deref()
            .unwrap_or(if secrets.is_some() { "webhook" } else { "sse" });
    let transport = match transport_name {
        "webhook" => {
            let secrets = secrets.ok_or_else(|| {
                Error::config("LAG_TRANSPORT=webhook needs LAG_WEBHOOK_SECRET (one or more `whsec_...`, comma-separated)")
            })?;
            let mut webhook = WebhookConfig::new(WebhookSecret::parse_list(&secrets)?);
            if let Some(listen) = get("LAG_LISTEN") {
                webhook = webhook.listen(address("LAG_LISTEN", &listen)?);
            }
            Transport::Webhook(webhook)
        }
        "sse" => Transport::Sse(SseConfig::new()),
        "poll" | "longpoll" | "long-poll" | "long_poll" => Transport::Poll(PollConfig::new()),
        other => {
            return Err(Error::config(format!(
                "LAG_TRANSPORT={other:?} is not a transport (use webhook, sse or poll)"
            )));
        }
    };
    let metrics_listen = get("LAG_METRICS_LISTEN")
        .map(|v| address("LAG_METRICS_LISTEN", &v))
        .transpose()?;
    Ok(EnvSettings {
        key,
        base_url,
        transport,
        metrics_listen,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;
    use crate::ErrorKind;

    fn read(vars: &[(&str, &str)]) -> Result<EnvSettings> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        from_vars(|name| vars.get(name).cloned(), true)
    }

    #[test]
    fn the_key_is_required() {
        let err = read(&[]).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config);
        assert!(err.message().contains("LAG_ROBOT_API_KEY"));
    }

    #[test]
    fn webhook_settings_with_rotation_and_listen_address() {
        let settings = read(&[
            ("LAG_ROBOT_API_KEY", "lag_robot_abcd1234_secret"),
            ("LAG_API_BASE", "http://127.0.0.1:4000"),
            ("LAG_TRANSPORT", "Webhook"),
            ("LAG_WEBHOOK_SECRET", "whsec_b2xk, whsec_bmV3"),
            ("LAG_LISTEN", "0.0.0.0:8080"),
        ])
        .unwrap();
        assert_eq!(settings.key.as_deref(), Some("lag_robot_abcd1234_secret"));
        assert_eq!(settings.base_url.as_deref(), Some("http://127.0.0.1:4000"));
        let Transport::Webhook(webhook) = settings.transport else {
            panic!("expected a webhook transport");
        };
        assert_eq!(webhook.secrets.len(), 2);
        assert_eq!(webhook.path_str(), "/webhook");
        assert!(format!("{webhook:?}").contains("0.0.0.0:8080"));
    }

    #[test]
    fn the_webhook_listens_on_localhost_3000_by_default() {
        let settings = read(&[
            ("LAG_ROBOT_API_KEY", "k"),
            ("LAG_WEBHOOK_SECRET", "whsec_b2xk"),
        ])
        .unwrap();
        let Transport::Webhook(webhook) = settings.transport else {
            panic!("a secret alone selects the webhook transport");
        };
        assert!(format!("{webhook:?}").contains("127.0.0.1:3000"));
    }

    #[test]
    fn other_transports_and_defaults() {
        let sse = read(&[("LAG_ROBOT_API_KEY", "k")]).unwrap();
        assert_eq!(sse.transport.name(), "sse");
        for name in ["poll", "longpoll", "LONG-POLL"] {
            let poll = read(&[("LAG_ROBOT_API_KEY", "k"), ("LAG_TRANSPORT", name)]).unwrap();
            assert_eq!(poll.transport.name(), "poll");
        }
        let metrics = read(&[
            ("LAG_ROBOT_API_KEY", "k"),
            ("LAG_METRICS_LISTEN", "127.0.0.1:9100"),
        ])
        .unwrap();
        assert_eq!(
            metrics.metrics_listen,
            Some("127.0.0.1:9100".parse().unwrap())
        );
    }

    #[test]
    fn bad_values_are_config_errors_naming_the_variable() {
        let cases: &[&[(&str, &str)]] = &[
            &[
                ("LAG_ROBOT_API_KEY", "k"),
                ("LAG_TRANSPORT", "carrier-pigeon"),
            ],
            &[("LAG_ROBOT_API_KEY", "k"), ("LAG_TRANSPORT", "webhook")],
            &[
                ("LAG_ROBOT_API_KEY", "k"),
                ("LAG_WEBHOOK_SECRET", "whsec_b2xk"),
                ("LAG_LISTEN", "not an address"),
            ],
            &[
                ("LAG_ROBOT_API_KEY", "k"),
                ("LAG_WEBHOOK_SECRET", "whsec_!!!"),
            ],
        ];
        for vars in cases {
            let err = read(vars).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config, "{vars:?}");
        }
        let err = read(&[("LAG_ROBOT_API_KEY", "k"), ("LAG_TRANSPORT", "webhook")]).unwrap_err();
        assert!(err.message().contains("LAG_WEBHOOK_SECRET"));
    }
}
