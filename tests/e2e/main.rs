//! End-to-end tests: real robots and clients against real lag-sim instances over loopback
//! HTTP. One test binary with one module per area, all sharing [`support`], so that the suite
//! links once; the stop-signal test, which signals its own process, is `tests/runtime_signals.rs`.

mod support;

mod client;
mod client_faults;
mod client_limiter;
mod commands;
mod commands_example;
mod conversations;
mod dev;
mod digest;
mod events;
mod faults;
mod game_stats;
mod groups;
mod hostile;
mod jobs;
mod kit;
mod moderation;
mod notify;
mod poll;
mod replicas;
mod routes;
mod runtime;
mod sse;
mod webhook;
mod webhook_faults;
mod welcome;
