//! What a node reports about itself (`GET /stats`, and `GET /events` as it changes) and about
//! the cluster as it sees it (`GET /state`): plain serialisable views built from openraft's
//! metrics and the stores.

use std::collections::BTreeMap;

use flotilla_core::model::NodeView;
use flotilla_core::model::ServiceView;
use flotilla_core::raft::LogEntryView;
use openraft::ServerState;
use openraft::vote::RaftLeaderId;
use openraft_rt::WatchReceiver;
use serde::Deserialize;
use serde::Serialize;

use super::ctx::NodeCtx;
use super::propose::known_leader;

/// Most log entries one `/stats` page returns.
pub const MAX_LOG_PAGE: u64 = 1000;
/// Log entries a `/stats` page returns when the client does not say.
pub const DEFAULT_LOG_PAGE: u64 = 20;

/// A node's Raft role in words.
pub fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Candidate => "candidate",
        ServerState::Follower => "follower",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

/// A node's view of who leads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeaderRef {
    /// Raft id.
    pub id: u64,
    /// `host:port`.
    pub addr: String,
}

/// A page of the log.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
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

/// What a node says about itself in a few dozen bytes: role, term, vote, leader, indexes,
/// load and links. `GET /stats` adds a page of the log; `GET /events` publishes it each time it
/// changes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct NodeSummary {
    /// Raft id.
    pub id: u64,
    /// Human name.
    pub name: String,
    /// `host:port`.
    pub addr: String,
    /// Cluster name.
    pub cluster: String,
    /// `leader`, `follower`, `candidate`, `learner` or `shutdown`.
    pub role: &'static str,
    /// Current term.
    pub term: u64,
    /// Whom this node voted for in `term`.
    pub voted_for: Option<u64>,
    /// The leader this node knows.
    pub leader: Option<LeaderRef>,
    /// Highest log index this node knows is committed.
    pub commit_index: u64,
    /// Highest log index applied to its state machine.
    pub last_applied: u64,
    /// Index of its last log entry.
    pub last_log_index: u64,
    /// Index its latest snapshot covers.
    pub snapshot_index: u64,
    /// Replica capacity.
    pub capacity: u32,
    /// Replicas placed on it.
    pub load: u32,
    /// Its peers' addresses and whether the link from this node to each is up.
    pub connections: BTreeMap<String, u8>,
    /// Every member of the membership this node knows (itself included): Raft id → address.
    pub members: BTreeMap<u64, String>,
    /// As leader: for each member, the highest log index known to be stored there (its
    /// "match index"); `None` on other nodes.
    pub replication: Option<BTreeMap<u64, u64>>,
}

/// What `GET /stats` answers: the summary and a page of the log.
#[derive(Clone, Debug, Serialize)]
pub struct NodeStats {
    /// Everything but the log.
    #[serde(flatten)]
    pub summary: NodeSummary,
    /// A page of its log.
    pub log: LogPage,
}

/// Raft facts about one node, for stats and state.
struct RaftFacts {
    role: &'static str,
    term: u64,
    voted_for: Option<u64>,
    commit_index: u64,
    last_applied: u64,
    last_log_index: u64,
}

fn raft_facts(ctx: &NodeCtx) -> RaftFacts {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    let term = metrics.current_term;
    RaftFacts {
        role: role_name(metrics.state),
        term,
        voted_for: (term > 0).then(|| *metrics.vote.leader_id.node_id()),
        commit_index: metrics.local_committed.as_ref().map_or(0, |id| id.index),
        last_applied: metrics.last_applied.as_ref().map_or(0, |id| id.index),
        last_log_index: metrics.last_log_index.unwrap_or(0),
    }
}

/// Each peer's address and whether the link from this node to it is up (1) or cut (0): the
/// shape `POST /connections` takes.
pub fn connections(ctx: &NodeCtx) -> BTreeMap<String, u8> {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    metrics
        .membership_config
        .membership()
        .nodes()
        .filter(|(id, _)| **id != ctx.id)
        .map(|(_, member)| (member.addr.clone(), u8::from(ctx.links.is_up(&member.addr))))
        .collect()
}

/// As leader, each member's match index.
fn replication(ctx: &NodeCtx) -> Option<BTreeMap<u64, u64>> {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    let progress = metrics.replication.as_ref()?;
    Some(
        progress
            .iter()
            .map(|(id, matched)| (*id, matched.as_ref().map_or(0, |log_id| log_id.index)))
            .collect(),
    )
}

/// This node's summary, as of now.
pub fn node_summary(ctx: &NodeCtx) -> NodeSummary {
    let facts = raft_facts(ctx);
    NodeSummary {
        id: ctx.id,
        name: ctx.name.clone(),
        addr: ctx.addr.clone(),
        cluster: ctx.cluster.clone(),
        role: facts.role,
        term: facts.term,
        voted_for: facts.voted_for,
        leader: known_leader(ctx).map(|leader| LeaderRef {
            id: leader.id,
            addr: leader.addr,
        }),
        commit_index: facts.commit_index,
        last_applied: facts.last_applied,
        last_log_index: facts.last_log_index.max(ctx.log.last_index()),
        snapshot_index: ctx.state_machine.core().snapshot_index(),
        capacity: ctx.capacity,
        load: ctx
            .state_machine
            .core()
            .read(|state| state.node_load(ctx.id))
            .unwrap_or(0),
        connections: connections(ctx),
        members: ctx
            .members()
            .into_iter()
            .map(|(id, member)| (id, member.addr))
            .collect(),
        replication: replication(ctx),
    }
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
        summary: node_summary(ctx),
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
    pub role: String,
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
        role: facts.role.to_string(),
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
