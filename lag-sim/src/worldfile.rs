//! World files: a TOML description of servers, rooms, members and robots to load at start.
