//! lag-sim's integration tests, in one binary: each module drives a real emulator over HTTP
//! (or runs the `lag-sim` program), and `support` holds the helpers they share.

mod support;

mod access;
mod admin;
mod events;
mod feed;
mod longpoll;
mod manage_messages;
mod playground;
mod program;
mod rate_limits;
mod rest;
mod robustness;
mod sse;
mod webhook;
