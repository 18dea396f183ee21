//! The leader's failure detector: a node the leader has not heard from for a while is marked
//! down through the log (so its replicas are re-placed on every node alike), and marked up
//! again once it answers.
//!
//! Raft itself never gives up on a follower; what counts as "down" is the orchestrator's
//! decision. The leader judges by openraft's heartbeat metrics (when each node last
//! acknowledged a heartbeat or an append) and proposes `MarkNodeDown` / `MarkNodeUp` like any
//! other command. [`liveness_changes`] is the rule, pure; [`watch_liveness`] runs it on whatever
//! runtime the host's type config names (the simulation's virtual clock, or tokio).

use std::collections::BTreeMap;
use std::time::Duration;

use openraft::Raft;
use openraft::ServerState;
use openraft::storage::RaftStateMachine;
use openraft_rt::AsyncRuntime;
use openraft_rt::Instant;
use openraft_rt::WatchReceiver;

use super::FlotillaConfig;
use super::StateMachineStore;
use crate::model::ClusterState;
use crate::model::Command;
use crate::model::NodeId;
use crate::model::NodeStatus;

/// When the leader counts a node as down.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LivenessPolicy {
    /// A node the leader has not heard from for this long is marked down; one it heard from
    /// more recently than this, while marked down, is marked up.
    pub down_after: Duration,
}

impl LivenessPolicy {
    /// How often the leader looks: often enough that a silent node is marked down at most a
    /// quarter of `down_after` late.
    pub fn check_every(&self) -> Duration {
        (self.down_after / 4).max(Duration::from_millis(1))
    }
}

/// The commands that bring node statuses in line with what the leader hears: `silence` says,
/// for each node the leader tracks, how long it has not heard from it. The leader itself is
/// always up; nodes missing from `silence` are left as they are.
pub fn liveness_changes(
    state: &ClusterState,
    leader: NodeId,
    silence: &BTreeMap<NodeId, Duration>,
    policy: LivenessPolicy,
) -> Vec<Command> {
    state
        .nodes()
        .values()
        .filter_map(|node| {
            let silent = if node.id == leader {
                Duration::ZERO
            } else {
                *silence.get(&node.id)?
            };
            let answering = silent < policy.down_after;
            match (node.status, answering) {
                (NodeStatus::Up, false) => Some(Command::MarkNodeDown { id: node.id }),
                (NodeStatus::Down, true) => Some(Command::MarkNodeUp { id: node.id }),
                _ => None,
            }
        })
        .collect()
}

/// Runs the failure detector for as long as the returned future is polled: every
/// [`LivenessPolicy::check_every`], if `raft` leads, proposes what [`liveness_changes`] says.
/// A node never heard from in this leadership counts as silent since the leadership began, so
/// a new leader gives every node `down_after` to answer. Hosts drop the future to stop it.
pub async fn watch_liveness<C, SM>(
    raft: Raft<C, SM>,
    state: StateMachineStore<C>,
    policy: LivenessPolicy,
) where
    C: FlotillaConfig,
    SM: RaftStateMachine<C>,
{
    let mut leading_since = None;
    loop {
        C::AsyncRuntime::sleep(policy.check_every()).await;
        let now = <C::AsyncRuntime as AsyncRuntime>::Instant::now();
        let (leader, silence) = {
            let metrics = raft.metrics();
            let metrics = metrics.borrow_watched();
            let Some(heartbeat) = metrics
                .heartbeat
                .as_ref()
                .filter(|_| metrics.state == ServerState::Leader)
            else {
                leading_since = None;
                continue;
            };
            let since = *leading_since.get_or_insert(now);
            let silence: BTreeMap<NodeId, Duration> = heartbeat
                .iter()
                .map(|(id, acked)| {
                    let heard = acked.as_ref().map_or(since, |at| **at).max(since);
                    (*id, now - heard)
                })
                .collect();
            (metrics.id, silence)
        };
        let commands = state.read(|state| liveness_changes(state, leader, &silence, policy));
        for command in commands {
            // Losing leadership meanwhile is fine: the next leader looks for itself.
            if raft.client_write(command).await.is_err() {
                break;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeSpec;

    fn cluster(ids: &[NodeId]) -> ClusterState {
        let mut state = ClusterState::default();
        for (index, &id) in ids.iter().enumerate() {
            let spec = NodeSpec {
                id,
                name: format!("n{id}"),
                addr: format!("sim:{id}"),
                capacity: 10,
            };
            state.apply(index as u64 + 1, &Command::AddNode { node: spec });
        }
        state
    }

    const POLICY: LivenessPolicy = LivenessPolicy {
        down_after: Duration::from_secs(3),
    };

    #[test]
    fn silent_nodes_go_down_and_answering_ones_come_back() {
        let mut state = cluster(&[1, 2, 3]);
        let silence = BTreeMap::from([(2, Duration::from_secs(5)), (3, Duration::from_millis(10))]);
        let changes = liveness_changes(&state, 1, &silence, POLICY);
        assert_eq!(changes, vec![Command::MarkNodeDown { id: 2 }]);
        state.apply(10, &changes[0]);
        // Still silent: nothing more to say.
        assert!(liveness_changes(&state, 1, &silence, POLICY).is_empty());
        let heard = BTreeMap::from([(2, Duration::from_millis(50)), (3, Duration::ZERO)]);
        assert_eq!(
            liveness_changes(&state, 1, &heard, POLICY),
            vec![Command::MarkNodeUp { id: 2 }]
        );
    }

    #[test]
    fn the_leader_is_up_and_untracked_nodes_are_left_alone() {
        let mut state = cluster(&[1, 2]);
        state.apply(5, &Command::MarkNodeDown { id: 1 });
        let changes = liveness_changes(&state, 1, &BTreeMap::new(), POLICY);
        assert_eq!(changes, vec![Command::MarkNodeUp { id: 1 }]);
    }

    #[test]
    fn checks_come_four_times_per_threshold() {
        assert_eq!(POLICY.check_every(), Duration::from_millis(750));
    }
}
