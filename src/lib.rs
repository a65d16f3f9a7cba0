//! Examples and end-to-end tests for `lag-bot` live in this package; it exports nothing.

/// The README's code, compiled as a doctest so that it stays true.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
mod readme {}

/// lag-sim's README, whose test example uses lag-bot's test kit.
#[cfg(doctest)]
#[doc = include_str!("../lag-sim/README.md")]
mod lag_sim_readme {}
