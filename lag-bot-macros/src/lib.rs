//! Attribute macros for `lag-bot`. Use them through `lag_bot::{command, on, hear}`.
