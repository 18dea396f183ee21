//! What a node reports beyond HTTP: its Raft (term, role, leader changes, log indexes,
//! replication lag per peer, apply delay, fsync latency) and its view of the orchestrator
//! (services, placed and pending replicas, nodes up and down). Readings are passed in as plain
//! values ([`RaftReading`], [`NodeReading`]) so this module knows neither openraft nor the node.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::histogram::exponential_buckets;

use super::ServerRegistry;

/// The Raft roles a node can be in, as the `role` label spells them.
pub const ROLES: [&str; 5] = ["leader", "follower", "candidate", "learner", "shutdown"];

/// One node's Raft at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RaftReading {
    /// Current term.
    pub term: u64,
    /// One of [`ROLES`].
    pub role: &'static str,
    /// Index of the last entry in its log.
    pub last_log_index: u64,
    /// Index of the last entry it knows committed.
    pub commit_index: u64,
    /// Index of the last entry it applied.
    pub applied_index: u64,
    /// As leader: how many entries each peer's log is behind this one's (by peer id).
    pub lag: Vec<(u64, u64)>,
}

/// One node's view of the orchestrator at one instant.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct NodeReading {
    /// Services in the state.
    pub services: u64,
    /// Replicas placed on nodes.
    pub placed: u64,
    /// Replicas waiting for room.
    pub pending: u64,
    /// Nodes the leader counts up.
    pub nodes_up: u64,
    /// Nodes the leader marked down.
    pub nodes_down: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RoleLabel {
    role: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PeerLabel {
    peer: u64,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StatusLabel {
    status: &'static str,
}

/// The families of one node. Cheap to clone (shared).
#[derive(Clone)]
pub struct NodeMetrics {
    term: Gauge,
    role: Family<RoleLabel, Gauge>,
    leader_changes: Counter,
    last_log_index: Gauge,
    commit_index: Gauge,
    applied_index: Gauge,
    lag: Family<PeerLabel, Gauge>,
    apply_delay: Histogram,
    fsync: Histogram,
    services: Gauge,
    placed: Gauge,
    pending: Gauge,
    nodes: Family<StatusLabel, Gauge>,
}

/// Latency buckets: 50 µs … ~1.6 s.
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.000_05, 2.0, 16))
}

impl NodeMetrics {
    /// The families, registered in `registry`.
    pub fn new(registry: &ServerRegistry) -> Self {
        let metrics = NodeMetrics {
            term: Gauge::default(),
            role: Family::default(),
            leader_changes: Counter::default(),
            last_log_index: Gauge::default(),
            commit_index: Gauge::default(),
            applied_index: Gauge::default(),
            lag: Family::default(),
            apply_delay: latency_buckets(),
            fsync: latency_buckets(),
            services: Gauge::default(),
            placed: Gauge::default(),
            pending: Gauge::default(),
            nodes: Family::default(),
        };
        let m = metrics.clone();
        registry.register(move |r| {
            r.register("raft_term", "The node's current Raft term", m.term);
            r.register(
                "raft_role",
                "1 for the node's current Raft role, 0 for the others",
                m.role,
            );
            r.register(
                "raft_leader_changes",
                "Times the leader this node knows changed (including to none)",
                m.leader_changes,
            );
            r.register(
                "raft_last_log_index",
                "Index of the last entry in the node's log",
                m.last_log_index,
            );
            r.register(
                "raft_commit_index",
                "Index of the last entry the node knows committed",
                m.commit_index,
            );
            r.register(
                "raft_applied_index",
                "Index of the last entry the node applied to its state",
                m.applied_index,
            );
            r.register(
                "raft_replication_lag_entries",
                "As leader: entries each peer's log is behind the leader's",
                m.lag,
            );
            r.register(
                "raft_apply_delay_seconds",
                "Time from the node seeing entries committed to having applied them",
                m.apply_delay,
            );
            r.register(
                "storage_fsync_seconds",
                "Time one durable write of the log store took, fsync included",
                m.fsync,
            );
            r.register("services", "Services in the state", m.services);
            r.register("replicas_placed", "Replicas placed on nodes", m.placed);
            r.register(
                "replicas_pending",
                "Replicas waiting for room on a node",
                m.pending,
            );
            r.register("nodes", "Orchestrator nodes by status (up, down)", m.nodes);
        });
        metrics
    }

    /// Records a Raft reading (at scrape time).
    pub fn set_raft(&self, reading: &RaftReading) {
        self.term.set(clamp(reading.term));
        for role in ROLES {
            self.role
                .get_or_create(&RoleLabel { role })
                .set(i64::from(role == reading.role));
        }
        self.last_log_index.set(clamp(reading.last_log_index));
        self.commit_index.set(clamp(reading.commit_index));
        self.applied_index.set(clamp(reading.applied_index));
        // Peers come and go: only the current ones are reported.
        self.lag.clear();
        for &(peer, lag) in &reading.lag {
            self.lag.get_or_create(&PeerLabel { peer }).set(clamp(lag));
        }
    }

    /// Records the orchestrator's state (at scrape time).
    pub fn set_state(&self, reading: &NodeReading) {
        self.services.set(clamp(reading.services));
        self.placed.set(clamp(reading.placed));
        self.pending.set(clamp(reading.pending));
        for (status, count) in [("up", reading.nodes_up), ("down", reading.nodes_down)] {
            self.nodes
                .get_or_create(&StatusLabel { status })
                .set(clamp(count));
        }
    }

    /// The leader this node knows changed.
    pub fn leader_changed(&self) {
        self.leader_changes.inc();
    }

    /// Entries seen committed were applied `seconds` later.
    pub fn observe_apply_delay(&self, seconds: f64) {
        self.apply_delay.observe(seconds);
    }

    /// One durable write of the log store took `seconds`.
    pub fn observe_fsync(&self, seconds: f64) {
        self.fsync.observe(seconds);
    }
}

/// A count as a gauge value (gauges are signed; counts beyond `i64::MAX` do not happen).
fn clamp(value: u64) -> i64 {
    i64::try_from(value).unwrap_or(i64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readings_are_encoded_as_families_with_help_and_type() {
        let registry = ServerRegistry::new();
        let metrics = NodeMetrics::new(&registry);
        metrics.set_raft(&RaftReading {
            term: 3,
            role: "leader",
            last_log_index: 12,
            commit_index: 11,
            applied_index: 10,
            lag: vec![(2, 1), (3, 4)],
        });
        metrics.set_state(&NodeReading {
            services: 2,
            placed: 7,
            pending: 1,
            nodes_up: 2,
            nodes_down: 1,
        });
        metrics.leader_changed();
        metrics.observe_fsync(0.002);
        let text = registry.encode();
        for line in [
            "# TYPE flotilla_raft_term gauge",
            "flotilla_raft_term 3",
            "flotilla_raft_role{role=\"leader\"} 1",
            "flotilla_raft_role{role=\"follower\"} 0",
            "flotilla_raft_leader_changes_total 1",
            "flotilla_raft_replication_lag_entries{peer=\"3\"} 4",
            "flotilla_replicas_placed 7",
            "flotilla_nodes{status=\"down\"} 1",
            "flotilla_storage_fsync_seconds_count 1",
            "# EOF",
        ] {
            assert!(text.contains(line), "{line:?} missing from:\n{text}");
        }
    }
}
