//! The defaults of every timing setting, in one place: the command line's flag defaults read
//! these constants.
//!
//! A node's Raft timing ([`NODE_TIMING`]) is faster than core's [`RaftTiming::DEFAULT`], which
//! the simulation keeps for its page: a real cluster should elect a new leader within a few
//! hundred milliseconds of losing one. openraft makes a follower wait out the leader's lease
//! (the longest election timeout) before its own random election timeout starts, so a node
//! starts an election only after `election_max + [election_min, election_max)` of silence:
//! 200–300 ms with these defaults (the Raft paper measured 150–300 ms), at least eight missed
//! heartbeats.

use std::time::Duration;

pub use flotilla_core::raft::timing::RaftTiming;

/// A node's default Raft timing: heartbeats every 25 ms, election timeouts of 50–150 ms (after
/// the 150 ms lease: elections after 200–300 ms without a leader), a node silent for 5 s marked
/// down.
pub const NODE_TIMING: RaftTiming = RaftTiming {
    heartbeat: Duration::from_millis(25),
    election_min: Duration::from_millis(50),
    election_max: Duration::from_millis(150),
    node_down_after: RaftTiming::DEFAULT.node_down_after,
};

/// Default leader heartbeat interval, in milliseconds.
pub const DEFAULT_HEARTBEAT_MS: u64 = whole_millis(NODE_TIMING.heartbeat);
/// Default shortest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MIN_MS: u64 = whole_millis(NODE_TIMING.election_min);
/// Default longest election timeout, in milliseconds.
pub const DEFAULT_ELECTION_MAX_MS: u64 = whole_millis(NODE_TIMING.election_max);
/// Default time after which the leader marks a silent node down, in milliseconds.
pub const DEFAULT_NODE_DOWN_AFTER_MS: u64 = whole_millis(NODE_TIMING.node_down_after);
/// Default time a client request may wait for a leader and a commit, in milliseconds.
pub const DEFAULT_REQUEST_TIMEOUT_MS: u64 = 10_000;

/// A duration in whole milliseconds, for a flag's default (every default is far below `u64::MAX`
/// milliseconds, so the conversion is exact).
const fn whole_millis(duration: Duration) -> u64 {
    duration.as_millis() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_node_timing_makes_a_valid_config() {
        let options = flotilla_core::raft::timing::RaftOptions {
            cluster_name: "test".into(),
            openraft_elections: true,
            pre_vote: true,
            snapshot_every: 1000,
            logs_kept_after_snapshot: 100,
        };
        assert!(NODE_TIMING.raft_config(options).is_ok());
    }
}
