//! Membership changes through the leader: adding a node (a learner first, then a voter) and
//! removing one (it stops for good once the change commits).

use std::collections::BTreeSet;

use openraft::ChangeMembers;
use openraft_rt::WatchReceiver;

use super::EventKind;
use super::NodeId;
use super::SimError;
use super::SimRaft;
use super::Simulation;
use crate::raft::Member;

impl Simulation {
    /// The leader of the highest term and its Raft handle: membership changes go through it.
    fn leader_raft(&self) -> Result<(NodeId, SimRaft), SimError> {
        let leader = self.leader().ok_or(SimError::NoLeader)?;
        let raft = self
            .world
            .lock()
            .rafts
            .get(&leader)
            .cloned()
            .ok_or(SimError::NoLeader)?;
        Ok((leader, raft))
    }

    /// Starts a new node with `capacity` and asks the leader to add it to the membership (as a
    /// learner first, then as a voter once it has caught up). Returns its id.
    pub fn add_node(&mut self, capacity: u32) -> Result<NodeId, SimError> {
        let (leader, raft) = self.leader_raft()?;
        let id = self.nodes.keys().next_back().map_or(1, |last| last + 1);
        self.create_node(id, capacity);
        self.boot(id);
        let member = self.nodes[&id].member.clone();
        self.exec().enter_as(Some(leader), || {
            self.exec().spawn(async move {
                if raft.add_learner(id, member, true).await.is_ok() {
                    let voters: Vec<NodeId> = raft
                        .metrics()
                        .borrow_watched()
                        .membership_config
                        .membership()
                        .voter_ids()
                        .chain([id])
                        .collect();
                    let _ = raft.change_membership(voters, false).await;
                }
            })
        });
        self.record(EventKind::NodeAdded { node: id });
        Ok(id)
    }

    /// Asks the leader to remove node `id` from the membership (not even a learner stays);
    /// once the change is committed the node stops for good. Applying the change removes the node
    /// from the orchestrator's node list, so its replicas are re-placed on the others.
    pub fn remove_node(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let (leader, raft) = self.leader_raft()?;
        let world = self.world.clone();
        let exec = self.exec().clone();
        exec.enter_as(Some(leader), || {
            exec.spawn(async move {
                let membership = raft
                    .metrics()
                    .borrow_watched()
                    .membership_config
                    .membership()
                    .clone();
                let change: ChangeMembers<NodeId, Member> =
                    if membership.voter_ids().any(|voter| voter == id) {
                        let voters: BTreeSet<NodeId> = membership
                            .voter_ids()
                            .filter(|voter| *voter != id)
                            .collect();
                        ChangeMembers::ReplaceAllVoters(voters)
                    } else {
                        ChangeMembers::RemoveNodes(BTreeSet::from([id]))
                    };
                // retain = false: a removed voter does not stay on as a learner.
                if raft.change_membership(change, false).await.is_ok() {
                    let now = crate::rt::executor_here().now();
                    let mut world = world.lock();
                    world.record(now, EventKind::NodeRemoved { node: id });
                    // The driver stops it as soon as this instant's tasks are done.
                    world.leaving.push(id);
                }
            })
        });
        self.exec().run_ready();
        self.observe();
        Ok(())
    }
}
