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

/// Whether the leader hears a majority of the voters (itself included) within `down_after`. A
/// leader that does not is the one cut off, or the cluster has lost its quorum: either way it is
/// in no position to say who is down, and what it proposed could not commit until the links
/// heal — by when it would be stale.
pub fn hears_a_quorum(
    voters: &[NodeId],
    leader: NodeId,
    silence: &BTreeMap<NodeId, Duration>,
    policy: LivenessPolicy,
) -> bool {
    let heard = voters
        .iter()
        .filter(|&&id| {
            id == leader
                || silence
                    .get(&id)
                    .is_some_and(|silent| *silent < policy.down_after)
        })
        .count();
    heard > voters.len() / 2
}

/// What the leader hears now: its id and how long each tracked node has been silent, or `None`
/// if it does not lead (which resets `leading_since`) or does not hear a quorum.
fn observe<C, SM>(
    raft: &Raft<C, SM>,
    leading_since: &mut Option<<C::AsyncRuntime as AsyncRuntime>::Instant>,
    policy: LivenessPolicy,
) -> Option<(NodeId, BTreeMap<NodeId, Duration>)>
where
    C: FlotillaConfig,
    SM: RaftStateMachine<C>,
{
    let now = <C::AsyncRuntime as AsyncRuntime>::Instant::now();
    let metrics = raft.metrics();
    let metrics = metrics.borrow_watched();
    let Some(heartbeat) = metrics
        .heartbeat
        .as_ref()
        .filter(|_| metrics.state == ServerState::Leader)
    else {
        *leading_since = None;
        return None;
    };
    let since = *leading_since.get_or_insert(now);
    let silence: BTreeMap<NodeId, Duration> = heartbeat
        .iter()
        .map(|(id, acked)| {
            let heard = acked.as_ref().map_or(since, |at| **at).max(since);
            (*id, now - heard)
        })
        .collect();
    let voters: Vec<NodeId> = metrics.membership_config.membership().voter_ids().collect();
    hears_a_quorum(&voters, metrics.id, &silence, policy).then_some((metrics.id, silence))
}

/// Runs the failure detector for as long as the returned future is polled: every
/// [`LivenessPolicy::check_every`], if `raft` leads and hears a quorum, proposes what
/// [`liveness_changes`] says — one command at a time, each judged afresh from what the leader
/// hears then and the state as it is then (so a change that waited is never proposed stale),
/// and each given at most `check_every` to commit. A node never heard from in this leadership
/// counts as silent since the leadership began, so a new leader gives every node `down_after`
/// to answer. Hosts drop the future to stop it.
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
        while let Some((leader, silence)) = observe(&raft, &mut leading_since, policy) {
            let next = state
                .read(|state| liveness_changes(state, leader, &silence, policy))
                .into_iter()
                .next();
            let Some(command) = next else {
                break;
            };
            // Not committed in time, or leadership lost: look again at the next check.
            let proposed =
                C::AsyncRuntime::timeout(policy.check_every(), raft.client_write(command.into()))
                    .await;
            if !matches!(proposed, Ok(Ok(_))) {
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
    fn a_leader_judges_only_while_it_hears_a_majority() {
        let voters = [1, 2, 3, 4, 5];
        let heard = |ids: &[NodeId]| -> BTreeMap<NodeId, Duration> {
            voters
                .iter()
                .map(|id| {
                    let silent = if ids.contains(id) { 0 } else { 10 };
                    (*id, Duration::from_secs(silent))
                })
                .collect()
        };
        assert!(hears_a_quorum(&voters, 1, &heard(&[2, 3]), POLICY));
        assert!(!hears_a_quorum(&voters, 1, &heard(&[2]), POLICY));
        assert!(!hears_a_quorum(&voters, 1, &heard(&[]), POLICY));
        assert!(hears_a_quorum(&[1], 1, &BTreeMap::new(), POLICY));
    }

    #[test]
    fn checks_come_four_times_per_threshold() {
        assert_eq!(POLICY.check_every(), Duration::from_millis(750));
    }
}
