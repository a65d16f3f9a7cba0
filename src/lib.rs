//! Examples and end-to-end tests for `lag-bot` live in this package; it exports nothing.
