//! How events reach a robot: a signed webhook receiver, an SSE consumer or a long-poll consumer.
//!
//! All three produce the same thing, a delivery (an id and a decoded event), and feed the one
//! dispatcher of the robot; verification, deduplication and acknowledgement are settled here so
//! that handlers see each event once.

mod backoff;
mod dedup;
mod signature;

pub use dedup::{DedupStore, MemoryDedup};
pub use signature::WebhookSecret;
