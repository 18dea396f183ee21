//! Faults as method calls: cut and heal directed links, isolate a node or split the cluster
//! (the plans come from [`crate::scenario`]), lose messages, slow the wire, crash and restart
//! nodes.

use std::time::Duration;

use super::EventKind;
use super::MessageId;
use super::NodeId;
use super::SimError;
use super::Simulation;
use crate::scenario;

impl Simulation {
    /// Cuts the directed link `from → to`: what `from` sends to `to` is lost (requests and
    /// answers alike), while `to → from` still works.
    pub fn cut(&mut self, from: NodeId, to: NodeId) -> Result<(), SimError> {
        self.check_node(from)?;
        self.check_node(to)?;
        if from != to && self.world.lock().cut.insert((from, to)) {
            self.record(EventKind::LinkCut { from, to });
        }
        Ok(())
    }

    /// Heals the directed link `from → to`.
    pub fn heal(&mut self, from: NodeId, to: NodeId) -> Result<(), SimError> {
        self.check_node(from)?;
        self.check_node(to)?;
        if self.world.lock().cut.remove(&(from, to)) {
            self.record(EventKind::LinkHealed { from, to });
        }
        Ok(())
    }

    /// Cuts every link to and from `id` ([`scenario::isolate`]).
    pub fn isolate(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        for (from, to) in scenario::isolate(&self.node_ids(), id) {
            self.cut(from, to)?;
        }
        Ok(())
    }

    /// Cuts every link to and from the current leader; returns who it was.
    pub fn isolate_leader(&mut self) -> Result<NodeId, SimError> {
        let leader = self.leader().ok_or(SimError::NoLeader)?;
        self.isolate(leader)?;
        Ok(leader)
    }

    /// Splits the cluster in two as [`scenario::split_in_two`] says (the lower half of the ids,
    /// rounded down, against the rest: 5 nodes split 2 | 3): links between the sides are cut
    /// both ways, links inside each side healed.
    pub fn split_in_two(&mut self) -> Result<(), SimError> {
        let plan = scenario::split_in_two(&self.node_ids());
        self.partition(&plan.groups)
    }

    /// Splits the cluster: links between nodes of different groups are cut both ways; links
    /// inside a group are healed. Nodes in no group form one more group.
    pub fn partition(&mut self, groups: &[Vec<NodeId>]) -> Result<(), SimError> {
        let group_of = |id: NodeId| {
            groups
                .iter()
                .position(|group| group.contains(&id))
                .unwrap_or(groups.len())
        };
        for id in groups.iter().flatten() {
            self.check_node(*id)?;
        }
        let ids = self.node_ids();
        for &a in &ids {
            for &b in &ids {
                if a != b {
                    if group_of(a) == group_of(b) {
                        self.heal(a, b)?
                    } else {
                        self.cut(a, b)?
                    }
                }
            }
        }
        Ok(())
    }

    /// Heals every cut link ([`scenario::heal_all`]).
    pub fn heal_all(&mut self) {
        for (from, to) in scenario::heal_all(&self.cut_links()) {
            // Both ends exist: the link was cut between known nodes.
            let _ = self.heal(from, to);
        }
    }

    /// Sets the probability that any one message is lost.
    pub fn set_drop_rate(&mut self, rate: f64) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SimError::InvalidConfig(format!(
                "drop rate must be between 0 and 1, got {rate}"
            )));
        }
        self.world.lock().config.drop_rate = rate;
        Ok(())
    }

    /// Sets the range one-way latencies are drawn from.
    pub fn set_latency(&mut self, min: Duration, max: Duration) -> Result<(), SimError> {
        if max < min {
            return Err(SimError::InvalidConfig("latency range is reversed".into()));
        }
        self.world.lock().config.latency = (min, max);
        Ok(())
    }

    /// Sets the probability that the wire delivers a Raft message twice (each copy with a
    /// latency of its own, so the copy may also arrive first).
    pub fn set_duplicate_rate(&mut self, rate: f64) -> Result<(), SimError> {
        if !(0.0..=1.0).contains(&rate) {
            return Err(SimError::InvalidConfig(format!(
                "duplicate rate must be between 0 and 1, got {rate}"
            )));
        }
        self.world.lock().config.duplicate_rate = rate;
        Ok(())
    }

    /// Makes node `id` slow: every message to or from it takes `extra` longer (zero: back to
    /// normal).
    pub fn set_slow(&mut self, id: NodeId, extra: Duration) -> Result<(), SimError> {
        self.check_node(id)?;
        let mut world = self.world.lock();
        if extra.is_zero() {
            world.slow.remove(&id);
        } else {
            world.slow.insert(id, extra);
        }
        Ok(())
    }

    /// Log entries crashed nodes lost because their disk had not flushed them yet.
    pub fn entries_lost_in_crashes(&self) -> u64 {
        self.entries_lost_in_crashes
    }

    /// Loses message `id` (it vanishes when it would have arrived). Returns `false` if it is not
    /// on the wire.
    pub fn drop_message(&mut self, id: MessageId) -> bool {
        self.world.lock().drop_message(id)
    }

    /// Kills node `id`'s process: its tasks stop mid-flight; its log, vote and snapshot stay,
    /// except what its disk had not flushed yet ([`SimConfig::disk_flush_delay`]).
    ///
    /// [`SimConfig::disk_flush_delay`]: super::SimConfig::disk_flush_delay
    pub fn crash(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        if !self.stop(id) {
            return Err(SimError::NodeDown(id));
        }
        self.entries_lost_in_crashes += self.nodes[&id].log.lose_unflushed();
        self.record(EventKind::Crashed { node: id });
        Ok(())
    }

    /// Ends node `id`'s process (its tasks stop mid-flight, its disk stays). Returns `false` if it
    /// was not running.
    pub(super) fn stop(&mut self, id: NodeId) -> bool {
        let raft = {
            let mut world = self.world.lock();
            world.election_deadline.remove(&id);
            world.rafts.remove(&id)
        };
        if raft.is_none() {
            return false;
        }
        drop(raft);
        self.exec().kill_owner(id);
        self.seen.remove(&id);
        true
    }

    /// Starts a crashed node again from its disk: it restores its latest snapshot, replays its
    /// log and catches up with the leader. A removed node cannot be restarted.
    pub fn restart(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        if self.removed.contains(&id) {
            return Err(SimError::Removed(id));
        }
        if self.is_running(id) {
            return Err(SimError::NodeRunning(id));
        }
        let node = self.nodes.get_mut(&id).ok_or(SimError::UnknownNode(id))?;
        node.state_machine = node.state_machine.after_crash();
        self.boot(id);
        self.record(EventKind::Restarted { node: id });
        Ok(())
    }
}
