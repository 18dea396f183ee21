//! The node's side of `/metrics`: readings of its Raft and state for the gauges
//! ([`raft_reading`], [`state_reading`], taken at scrape time), and [`watch_raft`], the task that
//! counts what happens between scrapes (leader changes, the delay between seeing entries
//! committed and having applied them) from openraft's metrics.

use std::collections::VecDeque;
use std::time::Instant;

use flotilla_core::model::NodeStatus;
use openraft::ServerState;
use openraft_rt::WatchReceiver;

use super::NodeCtx;
use crate::metrics::NodeMetrics;
use crate::metrics::NodeReading;
use crate::metrics::RaftReading;
use crate::types::NativeRaft;

/// How many commit points [`watch_raft`] remembers while it waits for them to be applied; older
/// ones are dropped (the delay is then not measured for them, nothing else).
const PENDING_COMMITS: usize = 1024;

/// The node's Raft now.
pub fn raft_reading(ctx: &NodeCtx) -> RaftReading {
    let metrics = ctx.raft.metrics();
    let metrics = metrics.borrow_watched();
    let last_log_index = metrics.last_log_index.unwrap_or(0);
    let lag = metrics
        .replication
        .as_ref()
        .map(|peers| {
            peers
                .iter()
                .filter(|(peer, _)| **peer != ctx.id)
                .map(|(peer, matched)| {
                    let matched = matched.as_ref().map_or(0, |id| id.index);
                    (*peer, last_log_index.saturating_sub(matched))
                })
                .collect()
        })
        .unwrap_or_default();
    RaftReading {
        term: metrics.current_term,
        role: role_name(metrics.state),
        last_log_index,
        commit_index: metrics.local_committed.as_ref().map_or(0, |id| id.index),
        applied_index: metrics.last_applied.as_ref().map_or(0, |id| id.index),
        lag,
    }
}

/// The orchestrator's state as this node has applied it.
pub fn state_reading(ctx: &NodeCtx) -> NodeReading {
    ctx.state_machine.core().read(|state| {
        let nodes: Vec<_> = state.node_views().collect();
        let down = nodes
            .iter()
            .filter(|node| node.status == NodeStatus::Down)
            .count() as u64;
        NodeReading {
            services: state.services().len() as u64,
            placed: nodes.iter().map(|node| u64::from(node.load)).sum(),
            pending: state.total_pending(),
            nodes_up: nodes.len() as u64 - down,
            nodes_down: down,
        }
    })
}

/// The `role` label of a Raft server state.
fn role_name(state: ServerState) -> &'static str {
    match state {
        ServerState::Leader => "leader",
        ServerState::Follower => "follower",
        ServerState::Candidate => "candidate",
        ServerState::Learner => "learner",
        ServerState::Shutdown => "shutdown",
    }
}

/// Counts leader changes and measures apply delays from openraft's metrics until the node's
/// Raft stops.
pub async fn watch_raft(raft: NativeRaft, metrics: NodeMetrics) {
    let mut watch = raft.metrics();
    let mut leader = watch.borrow_watched().current_leader;
    // Commit points seen, oldest first: (index, when seen committed).
    let mut commits: VecDeque<(u64, Instant)> = VecDeque::new();
    while watch.changed().await.is_ok() {
        let (now_leader, committed, applied) = {
            let now = watch.borrow_watched();
            (
                now.current_leader,
                now.local_committed.as_ref().map_or(0, |id| id.index),
                now.last_applied.as_ref().map_or(0, |id| id.index),
            )
        };
        if now_leader != leader {
            leader = now_leader;
            metrics.leader_changed();
        }
        let now = Instant::now();
        if commits.back().is_none_or(|(index, _)| committed > *index) && committed > applied {
            if commits.len() == PENDING_COMMITS {
                commits.pop_front();
            }
            commits.push_back((committed, now));
        }
        while let Some(&(index, seen)) = commits.front() {
            if index > applied {
                break;
            }
            commits.pop_front();
            metrics.observe_apply_delay(now.duration_since(seen).as_secs_f64());
        }
    }
}
