//! [`RaftTiming`]: how fast a cluster's Raft beats — heartbeat, election timeout range, when a
//! silent node counts as down — and the one place that turns it into a checked
//! [`openraft::Config`], for the simulation and native nodes alike.

use std::fmt;
use std::time::Duration;

use openraft::SnapshotPolicy;

use super::LivenessPolicy;

/// Raft timing of a cluster. The default is a LAN's: heartbeats every 50 ms, elections after
/// 300–600 ms of silence, a node silent for 5 s marked down.
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

impl RaftTiming {
    /// The default, as a constant so hosts can derive their flags' defaults from it.
    pub const DEFAULT: RaftTiming = RaftTiming {
        heartbeat: Duration::from_millis(50),
        election_min: Duration::from_millis(300),
        election_max: Duration::from_millis(600),
        node_down_after: Duration::from_secs(5),
    };
}

impl Default for RaftTiming {
    fn default() -> Self {
        RaftTiming::DEFAULT
    }
}

/// Everything besides timing that a host decides about its Raft: the cluster's name, who starts
/// elections, and how the log is compacted.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RaftOptions {
    /// The cluster's name (openraft's `cluster_name`).
    pub cluster_name: String,
    /// Whether openraft starts an election itself when its timer runs out. Real nodes do; the
    /// simulation turns this off and fires elections from timers of its own, which observers
    /// can watch and users can force or align.
    pub openraft_elections: bool,
    /// Whether a node whose election timer runs out first asks the others whether it could win
    /// (Raft's pre-vote) before it raises its term. Without it, a node that stops hearing the
    /// leader — over a link cut one way, say — raises its term again and again, and when the
    /// link heals its term deposes a healthy leader.
    pub pre_vote: bool,
    /// A snapshot is built (and the log compacted) every this many applied entries.
    pub snapshot_every: u64,
    /// Entries a snapshot covers that stay in the log anyway, so a follower slightly behind
    /// still catches up from the log rather than a whole snapshot.
    pub logs_kept_after_snapshot: u64,
}

/// Why a [`RaftTiming`] cannot be used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TimingError {
    /// openraft refused the settings (an empty election range, an election timeout not above
    /// the heartbeat…), in its words.
    Raft(String),
    /// A node would be marked down before the leader even sent it a heartbeat.
    NodeDownTooSoon {
        /// The node-down threshold asked for.
        node_down_after: Duration,
        /// The heartbeat interval.
        heartbeat: Duration,
    },
}

impl fmt::Display for TimingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TimingError::Raft(why) => f.write_str(why),
            TimingError::NodeDownTooSoon {
                node_down_after,
                heartbeat,
            } => write!(
                f,
                "the node-down threshold ({} ms) must be above the heartbeat interval ({} ms)",
                millis(*node_down_after),
                millis(*heartbeat)
            ),
        }
    }
}

impl std::error::Error for TimingError {}

impl RaftTiming {
    /// openraft's config for this timing and `options`, checked: openraft's own validation
    /// first, then that a node is not marked down faster than heartbeats arrive.
    pub fn raft_config(&self, options: RaftOptions) -> Result<openraft::Config, TimingError> {
        let config = openraft::Config {
            cluster_name: options.cluster_name,
            heartbeat_interval: millis(self.heartbeat),
            election_timeout_min: millis(self.election_min),
            election_timeout_max: millis(self.election_max),
            enable_elect: options.openraft_elections,
            enable_pre_vote: Some(options.pre_vote),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(options.snapshot_every),
            max_in_snapshot_log_to_keep: options.logs_kept_after_snapshot,
            // Standard Raft: a leader that restarts comes back as a follower and must win an
            // election again. openraft would otherwise let it resume leading in its old term,
            // which is unsafe when it lost entries it had not flushed yet though a quorum of
            // followers had (it then proposes different entries under the same log ids): the
            // fault campaign found exactly that (seeds 2274, 2999, 3370).
            enable_leader_restore: Some(false),
            ..openraft::Config::default()
        }
        .validate()
        .map_err(|err| TimingError::Raft(err.to_string()))?;
        if self.node_down_after <= self.heartbeat {
            return Err(TimingError::NodeDownTooSoon {
                node_down_after: self.node_down_after,
                heartbeat: self.heartbeat,
            });
        }
        Ok(config)
    }

    /// The leader's failure detector for this timing.
    pub fn liveness(&self) -> LivenessPolicy {
        LivenessPolicy {
            down_after: self.node_down_after,
        }
    }
}

/// Whole milliseconds, as openraft's config counts them (saturating: no real timing overflows).
fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn options() -> RaftOptions {
        RaftOptions {
            cluster_name: "test".into(),
            openraft_elections: true,
            pre_vote: true,
            snapshot_every: 1000,
            logs_kept_after_snapshot: 100,
        }
    }

    #[test]
    fn the_default_timing_makes_a_valid_config() {
        let config = RaftTiming::default().raft_config(options()).unwrap();
        assert_eq!(config.heartbeat_interval, 50);
        assert_eq!(
            (config.election_timeout_min, config.election_timeout_max),
            (300, 600)
        );
        assert!(config.enable_elect);
    }

    #[test]
    fn inconsistent_timing_is_refused() {
        let too_slow_heartbeat = RaftTiming {
            heartbeat: Duration::from_millis(400),
            ..RaftTiming::default()
        };
        assert!(matches!(
            too_slow_heartbeat.raft_config(options()),
            Err(TimingError::Raft(_))
        ));
        let down_too_soon = RaftTiming {
            node_down_after: Duration::from_millis(50),
            ..RaftTiming::default()
        };
        let err = down_too_soon.raft_config(options()).unwrap_err();
        assert_eq!(
            err.to_string(),
            "the node-down threshold (50 ms) must be above the heartbeat interval (50 ms)"
        );
    }
}
