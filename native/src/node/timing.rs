//! [`RaftTiming`] and the defaults of every timing setting, in one place: the node's
//! `Default` and the command line's flag defaults both read these constants.

use std::time::Duration;

/// Default leader heartbeat interval, in milliseconds.
pub const DEFAULT_HEARTBEAT_MS: u64 = 50;
/// Default shortest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MIN_MS: u64 = 300;
/// Default longest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MAX_MS: u64 = 600;
/// Default time after which the leader marks a silent node down, in milliseconds.
pub const DEFAULT_NODE_DOWN_AFTER_MS: u64 = 5_000;
/// Default time a client request may wait for a leader and a commit, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// Raft timing. Defaults are fast, for a cluster on one machine or a LAN: a lost leader is
/// replaced in well under a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaftTiming {
    /// How often the leader sends heartbeats.
    pub heartbeat: Duration,
    /// Shortest election timeout.
    pub election_min: Duration,
    /// Longest election timeout (each timeout is drawn between the two).
    pub election_max: Duration,
    /// As leader, mark a node not heard from for this long down (its replicas move), and up
    /// again once it answers.
    pub node_down_after: Duration,
}

impl Default for RaftTiming {
    fn default() -> Self {
        RaftTiming {
            heartbeat: Duration::from_millis(DEFAULT_HEARTBEAT_MS),
            election_min: Duration::from_millis(DEFAULT_ELECTION_MIN_MS),
            election_max: Duration::from_millis(DEFAULT_ELECTION_MAX_MS),
            node_down_after: Duration::from_millis(DEFAULT_NODE_DOWN_AFTER_MS),
        }
    }
}

/// A duration in whole milliseconds, as openraft's config takes them (saturating).
pub fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
