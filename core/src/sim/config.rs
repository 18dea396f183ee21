//! [`SimConfig`]: every knob of a simulated run, seed first.

use std::time::Duration;

use crate::raft::timing::RaftTiming;

/// Everything that determines a simulated run (with the list of actions applied to it): the same
/// config gives the same run, event for event, natively and in the browser.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// The one source of randomness: election timeouts, latencies and drops all derive from it.
    pub seed: u64,
    /// How many nodes the cluster starts with (ids 1..=nodes, all voters).
    pub nodes: usize,
    /// Replica capacity of each node.
    pub capacity: u32,
    /// How often a leader sends heartbeats.
    pub heartbeat_interval: Duration,
    /// A follower that hears nothing from a leader for a random time in this range (drawn anew
    /// at every reset) starts an election.
    pub election_timeout: (Duration, Duration),
    /// One-way latency of each message, drawn uniformly from this range.
    pub latency: (Duration, Duration),
    /// Probability that any one message is lost, from 0.0 to 1.0.
    pub drop_rate: f64,
    /// Probability that the wire delivers a Raft message twice, from 0.0 to 1.0.
    pub duplicate_rate: f64,
    /// How long a node's disk takes to flush an append (zero: at once). A node that crashes
    /// loses what it wrote since its last flush.
    pub disk_flush_delay: Duration,
    /// Whether a node asks for a pre-vote before a real election (Raft thesis §9.6). On by
    /// default, as native nodes run: a node cut off from the others keeps its term, and does not
    /// depose a healthy leader when it comes back. The page turns it off unless asked, to show
    /// classic Raft, where such a node climbs terms as people expect to see when they learn it.
    pub pre_vote: bool,
    /// A node builds a snapshot (and compacts its log) every this many applied entries.
    pub snapshot_every: u64,
    /// How many entries before its latest snapshot a node keeps in its log (0: none).
    pub logs_kept_after_snapshot: u64,
    /// A client waits this long for an answer before giving up (no leader, no quorum).
    pub client_timeout: Duration,
    /// The leader marks a node it has not heard from for this long down (its replicas move to
    /// the others), and up again once it answers.
    pub node_down_after: Duration,
}

impl SimConfig {
    /// etcd-like timing (heartbeat 100 ms, elections after 1–2 s) and a LAN-like 1–5 ms latency:
    /// what the native server would do, at simulation speed.
    pub fn new(seed: u64, nodes: usize) -> Self {
        SimConfig {
            seed,
            nodes,
            capacity: 100,
            heartbeat_interval: Duration::from_millis(100),
            election_timeout: (Duration::from_millis(1000), Duration::from_millis(2000)),
            latency: (Duration::from_millis(1), Duration::from_millis(5)),
            drop_rate: 0.0,
            duplicate_rate: 0.0,
            disk_flush_delay: Duration::ZERO,
            pre_vote: true,
            snapshot_every: 200,
            logs_kept_after_snapshot: 0,
            client_timeout: Duration::from_secs(5),
            node_down_after: Duration::from_secs(5),
        }
    }

    /// Slow timing for people to watch: heartbeats every 1.5 s, elections after 3–6 s and messages
    /// that take 0.3–0.6 s to cross, so each one can be followed by eye (RaftScope's pace).
    pub fn watchable(seed: u64, nodes: usize) -> Self {
        SimConfig {
            heartbeat_interval: Duration::from_millis(1500),
            election_timeout: (Duration::from_millis(3000), Duration::from_millis(6000)),
            latency: (Duration::from_millis(300), Duration::from_millis(600)),
            client_timeout: Duration::from_secs(30),
            node_down_after: Duration::from_secs(15),
            ..SimConfig::new(seed, nodes)
        }
    }

    /// The Raft timing these settings give (heartbeat, election range, node-down threshold).
    pub fn timing(&self) -> RaftTiming {
        RaftTiming {
            heartbeat: self.heartbeat_interval,
            election_min: self.election_timeout.0,
            election_max: self.election_timeout.1,
            node_down_after: self.node_down_after,
        }
    }

    /// Checks the knobs make sense, naming the first one that does not.
    pub fn validate(&self) -> Result<(), String> {
        let (min, max) = self.election_timeout;
        if self.nodes == 0 {
            return Err("nodes must be at least 1".into());
        }
        if self.heartbeat_interval.is_zero() {
            return Err("heartbeat interval must be positive".into());
        }
        if min <= self.heartbeat_interval || max <= min {
            return Err(format!(
                "election timeout range {min:?}..{max:?} must be above the heartbeat interval {:?} and not empty",
                self.heartbeat_interval
            ));
        }
        if self.latency.1 < self.latency.0 {
            return Err("latency range is reversed".into());
        }
        if !(0.0..=1.0).contains(&self.drop_rate) {
            return Err(format!(
                "drop rate must be between 0 and 1, got {}",
                self.drop_rate
            ));
        }
        if !(0.0..=1.0).contains(&self.duplicate_rate) {
            return Err(format!(
                "duplicate rate must be between 0 and 1, got {}",
                self.duplicate_rate
            ));
        }
        if self.node_down_after <= self.heartbeat_interval {
            return Err(format!(
                "node_down_after {:?} must be above the heartbeat interval {:?}",
                self.node_down_after, self.heartbeat_interval
            ));
        }
        if self.snapshot_every == 0 {
            return Err("snapshot_every must be at least 1".into());
        }
        Ok(())
    }
}
