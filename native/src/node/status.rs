//! What a node reports about itself (`GET /stats`, and `GET /events` as it changes) and about
//! the cluster as it sees it (`GET /state`): plain serialisable views built from openraft's
//! metrics and the stores.

use std::collections::BTreeMap;

use flotilla_core::model::NodeView;
use flotilla_core::model::ServiceView;
use flotilla_core::raft::LogEntryView;
use flotilla_core::raft::status::HostFacts;
use flotilla_core::raft::status::NodeReport;
use flotilla_core::raft::status::Role;
use openraft_rt::WatchReceiver;
use serde::Deserialize;
use serde::Serialize;

use super::ctx::NodeCtx;
use super::propose::known_leader;

/// Most log entries one `/stats` page returns.
pub const MAX_LOG_PAGE: u64 = 1000;
/// Log entries a `/stats` page returns when the client does not say.
pub const DEFAULT_LOG_PAGE: u64 = 20;

/// A node's view of who leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderRef {
    /// Raft id.
    pub id: u64,
    /// `host:port`.
    pub addr: String,
}

/// A page of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LogPage {
    /// First index asked for.
    pub from: u64,
    /// Most entries asked for.
    pub limit: u64,
    /// Index of the first entry still stored (earlier ones were compacted into a snapshot).
    pub first_index: u64,
    /// Index of the last entry.
    pub last_index: u64,
    /// The entries, in index order.
    pub entries: Vec<LogEntryView>,
}

/// What `GET /stats` answers: the node's report (core's [`NodeReport`], as the simulation's
/// nodes report themselves) and a page of its log.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStats {
    /// Everything but the log.
    #[serde(flatten)]
    pub report: NodeReport,
    /// A page of its log.
    pub log: LogPage,
}

// Read back by hand: serde's `flatten` cannot read a map with numeric keys (the report's
// `members`) from JSON, so the log is taken out first and the rest read as a report.
impl<'de> Deserialize<'de> for NodeStats {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let mut fields = serde_json::Map::<String, serde_json::Value>::deserialize(deserializer)?;
        let log = fields
            .remove("log")
            .ok_or_else(|| D::Error::missing_field("log"))?;
        Ok(NodeStats {
            report: NodeReport::deserialize(serde_json::Value::Object(fields))
                .map_err(D::Error::custom)?,
            log: LogPage::deserialize(log).map_err(D::Error::custom)?,
        })
    }
}

/// Raft facts about one node, for `/state`.
struct RaftFacts {
    role: Role,
    term: u64,
    commit_index: u64,
    last_applied: u64,
}

fn raft_facts(ctx: &NodeCtx) -> RaftFacts {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    RaftFacts {
        role: Role::from(metrics.state),
        term: metrics.current_term,
        commit_index: metrics.local_committed.as_ref().map_or(0, |id| id.index),
        last_applied: metrics.last_applied.as_ref().map_or(0, |id| id.index),
    }
}

/// Each peer's address and whether the link from this node to it is up (1) or cut (0): the
/// shape `POST /connections` takes.
pub fn connections(ctx: &NodeCtx) -> BTreeMap<String, u8> {
    ctx.members()
        .into_iter()
        .filter(|(id, _)| *id != ctx.id)
        .map(|(_, member)| {
            let up = u8::from(ctx.links.is_up(&member.addr));
            (member.addr, up)
        })
        .collect()
}

/// This node's report, as of now: core's one builder over openraft's metrics and the state
/// machine, with what only the node knows (its address, cluster, links, stores' indexes).
pub fn node_report(ctx: &NodeCtx) -> NodeReport {
    let host = HostFacts {
        name: ctx.name.clone(),
        addr: ctx.addr.clone(),
        cluster: ctx.cluster.clone(),
        capacity: ctx.capacity,
        last_log_index: ctx.log.last_index(),
        applied_index: ctx.state_machine.core().last_applied_index(),
        snapshot_index: ctx.state_machine.core().snapshot_index(),
        connections: connections(ctx),
        list_members: true,
        election_timeout_in: None,
    };
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched().clone();
    ctx.state_machine
        .core()
        .read(|state| NodeReport::from_metrics(&metrics, state, host))
}

/// This node's stats with the log page starting at `from` (default: the last entries).
pub fn node_stats(ctx: &NodeCtx, from: Option<u64>, limit: Option<u64>) -> NodeStats {
    let limit = limit.unwrap_or(DEFAULT_LOG_PAGE).clamp(1, MAX_LOG_PAGE);
    let last_index = ctx.log.last_index();
    let first_index = ctx.log.purged_index() + 1;
    let from = from.unwrap_or_else(|| last_index.saturating_sub(limit - 1).max(first_index));
    let entries = ctx
        .log
        .entries(from..from.saturating_add(limit))
        .unwrap_or_default();
    NodeStats {
        report: node_report(ctx),
        log: LogPage {
            from,
            limit,
            first_index,
            last_index,
            entries,
        },
    }
}

/// What `GET /state` answers: the cluster as this node's state machine has it.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct ClusterStateView {
    /// Cluster name.
    pub cluster: String,
    /// The node that answered.
    pub reported_by: u64,
    /// Its role.
    pub role: Role,
    /// Its term.
    pub term: u64,
    /// The leader it knows.
    pub leader: Option<LeaderRef>,
    /// Its commit index.
    pub commit_index: u64,
    /// The index its state reflects.
    pub last_applied: u64,
    /// Every node with its capacity and load.
    pub nodes: Vec<NodeView>,
    /// Every service with its placement and pending replicas.
    pub services: Vec<ServiceView>,
    /// Replicas waiting for capacity, over all services.
    pub pending: u64,
}

/// The cluster state as this node has applied it.
pub fn cluster_state(ctx: &NodeCtx) -> ClusterStateView {
    let facts = raft_facts(ctx);
    let (nodes, services, pending) = ctx.state_machine.core().read(|state| {
        (
            state.node_views().collect(),
            state.service_views().collect(),
            state.total_pending(),
        )
    });
    ClusterStateView {
        cluster: ctx.cluster.clone(),
        reported_by: ctx.id,
        role: facts.role,
        term: facts.term,
        leader: known_leader(ctx).map(|leader| LeaderRef {
            id: leader.id,
            addr: leader.addr,
        }),
        commit_index: facts.commit_index,
        last_applied: facts.last_applied,
        nodes,
        services,
        pending,
    }
}

#[cfg(test)]
mod tests {
    use flotilla_core::model::ClusterState;

    use super::*;

    #[test]
    fn stats_read_back_as_they_were_written() {
        let report = NodeReport {
            members: BTreeMap::from([(1, "localhost:8001".into()), (2, "localhost:8002".into())]),
            connections: BTreeMap::from([("localhost:8002".into(), 0)]),
            ..NodeReport::stopped(1, None, &ClusterState::default(), HostFacts::default())
        };
        let stats = NodeStats {
            report,
            log: LogPage {
                from: 1,
                limit: 5,
                first_index: 1,
                last_index: 1,
                entries: vec![LogEntryView {
                    index: 1,
                    term: 1,
                    summary: "membership".into(),
                }],
            },
        };
        let json = serde_json::to_string(&stats).unwrap();
        let read: NodeStats = serde_json::from_str(&json).unwrap();
        assert_eq!(read.report, stats.report);
        assert_eq!(read.log, stats.log);
        assert!(serde_json::from_str::<NodeStats>(r#"{"id": 1}"#).is_err());
    }
}
