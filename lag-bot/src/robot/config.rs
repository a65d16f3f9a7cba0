//! Reading a robot's settings from `LAG_*` environment variables.

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

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
    /// `LAG_LISTEN`: the webhook's listener, and where the robot's own routes listen when
    /// it has no webhook listener.
    pub(crate) listen: Option<SocketAddr>,
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
    let get = trimmed(&var);
    let key = get("LAG_ROBOT_API_KEY");
    if need_key && key.is_none() {
        return Err(Error::config(
            "LAG_ROBOT_API_KEY is not set: set it to the robot's API key (`lag_robot_...`), or, \
             to run against a local Lag, enable lag-bot's `dev` feature \
             (`lag-bot = { version = \"0.1\", features = [\"dev\"] }`)",
        ));
    }
    let transport = match transport_name(&get)? {
        Name::Webhook => {
            let secrets = get("LAG_WEBHOOK_SECRET").ok_or_else(|| {
                Error::config("LAG_TRANSPORT=webhook needs LAG_WEBHOOK_SECRET (one or more `whsec_...`, comma-separated)")
            })?;
            webhook(&get, WebhookSecret::parse_list(&secrets)?)?
        }
        Name::Sse => Transport::Sse(SseConfig::new()),
        Name::Poll => Transport::Poll(PollConfig::new()),
    };
    Ok(EnvSettings {
        key,
        base_url: get("LAG_API_BASE"),
        transport,
        metrics_listen: metrics_listen(&get)?,
        listen: listen(&var)?,
    })
}

/// `LAG_REDIS_URL` and `LAG_REDIS_PREFIX`: the Redis the robot's replicas share, when set.
#[cfg(feature = "redis")]
pub(crate) fn redis(
    var: impl Fn(&str) -> Option<String>,
) -> Result<Option<crate::redis::RedisConfig>> {
    crate::redis::RedisConfig::from_vars(var)
}

/// Without the `redis` feature, a set `LAG_REDIS_URL` is an error: the robot would otherwise
/// run unshared while its operator believes it replicated.
#[cfg(not(feature = "redis"))]
pub(crate) fn redis(var: impl Fn(&str) -> Option<String>) -> Result<()> {
    match trimmed(&var)("LAG_REDIS_URL") {
        Some(_) => Err(Error::config(
            "LAG_REDIS_URL is set, but lag-bot was built without its `redis` feature: enable it \
             (`lag-bot = { version = \"0.1\", features = [\"redis\"] }`) to share the robot's \
             state through Redis, or unset LAG_REDIS_URL to run one process alone",
        )),
        None => Ok(()),
    }
}

/// `LAG_LISTEN`, when set.
pub(crate) fn listen(var: impl Fn(&str) -> Option<String>) -> Result<Option<SocketAddr>> {
    trimmed(&var)("LAG_LISTEN")
        .map(|v| address("LAG_LISTEN", &v))
        .transpose()
}

/// Whether `LAG_ROBOT_API_KEY` is set (to something other than blanks).
#[cfg(feature = "dev")]
pub(crate) fn has_key(var: impl Fn(&str) -> Option<String>) -> bool {
    trimmed(&var)("LAG_ROBOT_API_KEY").is_some()
}

/// The settings of dev mode: the robot's transport as `LAG_TRANSPORT` and `LAG_LISTEN` say
/// (a webhook's secret comes from the local Lag), and where the local Lag listens.
#[cfg(feature = "dev")]
pub(crate) fn dev_from_vars(
    var: impl Fn(&str) -> Option<String>,
) -> Result<(crate::dev::Settings, Option<SocketAddr>)> {
    let get = trimmed(&var);
    if let Some(base) = get("LAG_API_BASE") {
        tracing::warn!(
            LAG_API_BASE = base,
            "no LAG_ROBOT_API_KEY is set: dev mode ignores LAG_API_BASE and runs a local Lag"
        );
    }
    let transport = match transport_name(&get)? {
        Name::Webhook => webhook(&get, Vec::new())?,
        Name::Sse => Transport::Sse(SseConfig::new()),
        Name::Poll => Transport::Poll(PollConfig::new()),
    };
    let lag_listen = get("LAG_DEV_LISTEN")
        .map(|v| address("LAG_DEV_LISTEN", &v))
        .transpose()?;
    let chat = match get("LAG_DEV_CHAT")
        .map(|v| v.to_ascii_lowercase())
        .as_deref()
    {
        None | Some("on" | "1" | "true" | "yes") => true,
        Some("off" | "0" | "false" | "no") => false,
        Some(other) => {
            return Err(Error::config(format!(
                "LAG_DEV_CHAT={other:?} is neither on nor off"
            )));
        }
    };
    let settings = crate::dev::Settings {
        transport,
        lag_listen,
        chat,
    };
    Ok((settings, metrics_listen(&get)?))
}

/// `var`, with values trimmed and blank ones taken as unset.
fn trimmed(var: &impl Fn(&str) -> Option<String>) -> impl Fn(&str) -> Option<String> + '_ {
    move |name| {
        var(name)
            .map(|v| v.trim().to_owned())
            .filter(|v| !v.is_empty())
    }
}

/// The transports `LAG_TRANSPORT` names.
enum Name {
    Webhook,
    Sse,
    Poll,
}

fn transport_name(get: &impl Fn(&str) -> Option<String>) -> Result<Name> {
    let name = get("LAG_TRANSPORT").map(|t| t.to_ascii_lowercase());
    let has_secret = get("LAG_WEBHOOK_SECRET").is_some();
    match name.as_deref() {
        Some("webhook") => Ok(Name::Webhook),
        None if has_secret => Ok(Name::Webhook),
        Some("sse") | None => Ok(Name::Sse),
        Some("poll" | "longpoll" | "long-poll" | "long_poll") => Ok(Name::Poll),
        Some(other) => Err(Error::config(format!(
            "LAG_TRANSPORT={other:?} is not a transport (use webhook, sse or poll)"
        ))),
    }
}

fn webhook(
    get: &impl Fn(&str) -> Option<String>,
    secrets: Vec<WebhookSecret>,
) -> Result<Transport> {
    let mut webhook = WebhookConfig::new(secrets);
    if let Some(listen) = get("LAG_LISTEN") {
        webhook = webhook.listen(address("LAG_LISTEN", &listen)?);
    }
    if let Some(max) = get("LAG_WEBHOOK_MAX_CONNECTIONS") {
        let max = max.parse().ok().filter(|max| *max > 0).ok_or_else(|| {
            Error::config(format!(
                "LAG_WEBHOOK_MAX_CONNECTIONS={max:?} is not a number of connections (at least 1)"
            ))
        })?;
        webhook = webhook.max_connections(max);
    }
    if let Some(timeout) = duration(get, "LAG_WEBHOOK_HEADER_TIMEOUT")? {
        webhook = webhook.header_timeout(timeout);
    }
    if let Some(timeout) = duration(get, "LAG_WEBHOOK_BODY_TIMEOUT")? {
        webhook = webhook.body_timeout(timeout);
    }
    Ok(Transport::Webhook(webhook))
}

/// A duration variable such as `10s` or `1m30s`.
fn duration(get: &impl Fn(&str) -> Option<String>, var: &str) -> Result<Option<Duration>> {
    get(var)
        .map(|value| {
            crate::command::parse_duration(&value)
                .ok()
                .filter(|d| !d.is_zero())
                .ok_or_else(|| {
                    Error::config(format!(
                        "{var}={value:?} is not a duration (write it like 10s, 1m or 1m30s)"
                    ))
                })
        })
        .transpose()
}

fn metrics_listen(get: &impl Fn(&str) -> Option<String>) -> Result<Option<SocketAddr>> {
    get("LAG_METRICS_LISTEN")
        .map(|v| address("LAG_METRICS_LISTEN", &v))
        .transpose()
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
        assert!(err.message().contains(r#"features = ["dev"]"#), "{err}");
    }

    #[test]
    fn webhook_receiver_limits_come_from_the_environment() {
        let base = [
            ("LAG_ROBOT_API_KEY", "lag_robot_abcd1234_secret"),
            ("LAG_WEBHOOK_SECRET", "whsec_b2xk"),
        ];
        let mut vars = base.to_vec();
        vars.extend([
            ("LAG_WEBHOOK_MAX_CONNECTIONS", "64"),
            ("LAG_WEBHOOK_HEADER_TIMEOUT", "3s"),
            ("LAG_WEBHOOK_BODY_TIMEOUT", "1m30s"),
        ]);
        let Transport::Webhook(webhook) = read(&vars).unwrap().transport else {
            panic!("expected a webhook transport");
        };
        assert_eq!(webhook.connections.max_connections, 64);
        assert_eq!(webhook.connections.header_timeout, Duration::from_secs(3));
        assert_eq!(webhook.body_timeout, Duration::from_secs(90));
        for (var, value) in [
            ("LAG_WEBHOOK_MAX_CONNECTIONS", "lots"),
            ("LAG_WEBHOOK_MAX_CONNECTIONS", "0"),
            ("LAG_WEBHOOK_HEADER_TIMEOUT", "soon"),
            ("LAG_WEBHOOK_BODY_TIMEOUT", "0s"),
        ] {
            let mut vars = base.to_vec();
            vars.push((var, value));
            let err = read(&vars).unwrap_err();
            assert_eq!(err.kind(), &ErrorKind::Config);
            assert!(err.to_string().contains(var), "{err}");
        }
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
    fn lag_listen_is_also_where_an_sse_robot_serves_its_routes() {
        let sse = read(&[("LAG_ROBOT_API_KEY", "k"), ("LAG_LISTEN", "0.0.0.0:8081")]).unwrap();
        assert_eq!(sse.transport.name(), "sse");
        assert_eq!(sse.listen, Some("0.0.0.0:8081".parse().unwrap()));
        assert_eq!(read(&[("LAG_ROBOT_API_KEY", "k")]).unwrap().listen, None);
        let err = read(&[("LAG_ROBOT_API_KEY", "k"), ("LAG_LISTEN", "here")]).unwrap_err();
        assert!(err.message().contains("LAG_LISTEN"), "{err}");
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

    #[cfg(not(feature = "redis"))]
    #[test]
    fn a_redis_url_without_the_feature_is_an_error_naming_it() {
        assert!(redis(|_| None).is_ok());
        let err =
            redis(|name| (name == "LAG_REDIS_URL").then(|| "redis://h/".to_owned())).unwrap_err();
        assert_eq!(err.kind(), &ErrorKind::Config);
        assert!(err.message().contains("`redis` feature"), "{err}");
        assert!(err.message().contains(r#"features = ["redis"]"#), "{err}");
    }

    #[cfg(feature = "dev")]
    mod dev {
        use super::*;

        fn dev(vars: &[(&str, &str)]) -> Result<crate::dev::Settings> {
            let vars: HashMap<String, String> = vars
                .iter()
                .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
                .collect();
            dev_from_vars(|name| vars.get(name).cloned()).map(|(settings, _)| settings)
        }

        #[test]
        fn a_blank_key_is_no_key() {
            assert!(!has_key(|_| None));
            assert!(!has_key(|_| Some("  ".to_owned())));
            assert!(has_key(|_| Some("lag_robot_k".to_owned())));
        }

        #[test]
        fn defaults_sse_on_the_preferred_port_with_the_chat() {
            let settings = dev(&[]).unwrap();
            assert_eq!(settings.transport.name(), "sse");
            assert_eq!(settings.lag_listen, None);
            assert!(settings.chat);
        }

        #[test]
        fn a_webhook_needs_no_secret_and_listens_where_told() {
            let settings =
                dev(&[("LAG_TRANSPORT", "webhook"), ("LAG_LISTEN", "127.0.0.1:0")]).unwrap();
            let Transport::Webhook(webhook) = settings.transport else {
                panic!("expected a webhook transport");
            };
            assert!(
                webhook.secrets.is_empty(),
                "the local Lag's secret comes later"
            );
            assert!(format!("{webhook:?}").contains("127.0.0.1:0"));
        }

        #[test]
        fn the_local_lag_and_the_chat_are_configurable() {
            let settings = dev(&[
                ("LAG_TRANSPORT", "poll"),
                ("LAG_DEV_LISTEN", "127.0.0.1:9999"),
                ("LAG_DEV_CHAT", "Off"),
            ])
            .unwrap();
            assert_eq!(settings.transport.name(), "poll");
            assert_eq!(settings.lag_listen, Some("127.0.0.1:9999".parse().unwrap()));
            assert!(!settings.chat);
            for vars in [
                &[("LAG_DEV_CHAT", "sometimes")][..],
                &[("LAG_DEV_LISTEN", "here")][..],
                &[("LAG_TRANSPORT", "smoke")][..],
            ] {
                let err = dev(vars).unwrap_err();
                assert_eq!(err.kind(), &ErrorKind::Config, "{vars:?}");
                assert!(err.message().contains(vars[0].0), "{err}");
            }
        }
    }
}
