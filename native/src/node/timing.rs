//! The defaults of every timing setting, in one place: the command line's flag defaults read
//! these constants, and those of Raft come from core's [`RaftTiming`], which the simulation
//! uses too.

pub use flotilla_core::raft::timing::RaftTiming;

/// Default leader heartbeat interval, in milliseconds.
pub const DEFAULT_HEARTBEAT_MS: u64 = whole_millis(RaftTiming::DEFAULT.heartbeat);
/// Default shortest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MIN_MS: u64 = whole_millis(RaftTiming::DEFAULT.election_min);
/// Default longest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MAX_MS: u64 = whole_millis(RaftTiming::DEFAULT.election_max);
/// Default time after which the leader marks a silent node down, in milliseconds.
pub const DEFAULT_NODE_DOWN_AFTER_MS: u64 = whole_millis(RaftTiming::DEFAULT.node_down_after);
/// Default time a client request may wait for a leader and a commit, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// A duration in whole milliseconds, for a flag's default (every default is far below `u64::MAX`
/// milliseconds, so the conversion is exact).
const fn whole_millis(duration: std::time::Duration) -> u64 {
    duration.as_millis() as u64
}
