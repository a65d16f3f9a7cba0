//! `lag-sim`: a local, in-memory Lag that speaks the robot side of Lag's API.
