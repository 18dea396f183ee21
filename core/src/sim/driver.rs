//! How time moves in a simulation: advancing the virtual clock instant by instant, firing the
//! election timers the simulation owns (openraft's own are off), and turning what changed at the
//! nodes into events after every instant.

use std::time::Duration;

use openraft_rt::WatchReceiver;

use super::EventKind;
use super::NodeId;
use super::Role;
use super::Seen;
use super::SimConfig;
use super::SimError;
use super::SimRaft;
use super::Simulation;
use crate::rt::VirtualInstant;

impl Simulation {
    /// Virtual time since the start of the run.
    pub fn now(&self) -> Duration {
        self.exec().now().since_start()
    }

    /// The settings this run was created with (faults changed since are reflected).
    pub fn config(&self) -> SimConfig {
        self.world.lock().config.clone()
    }

    /// Runs the cluster for `duration` of virtual time.
    pub fn advance(&mut self, duration: Duration) {
        let target = self.exec().now() + duration;
        while let Some(at) = self.next_wakeup().filter(|at| *at <= target) {
            self.run_instant(at);
        }
        self.exec().run_until(target);
        self.observe();
    }

    /// Runs to the next instant at which something observable happens (a message sent or
    /// delivered, a role change…) and returns `true`; `false` if nothing is scheduled to happen
    /// within a virtual minute.
    pub fn step(&mut self) -> bool {
        let before = self.events_recorded;
        let limit = self.exec().now() + Duration::from_secs(60);
        while let Some(at) = self.next_wakeup().filter(|at| *at <= limit) {
            self.run_instant(at);
            if self.events_recorded > before {
                return true;
            }
        }
        false
    }

    /// Runs until `done` holds (checked after every instant at which something happens) or
    /// `limit` of virtual time has passed. Returns whether `done` held.
    pub fn run_until(
        &mut self,
        limit: Duration,
        mut done: impl FnMut(&Simulation) -> bool,
    ) -> bool {
        let target = self.exec().now() + limit;
        loop {
            if done(self) {
                return true;
            }
            match self.next_wakeup().filter(|at| *at <= target) {
                Some(at) => self.run_instant(at),
                None => {
                    self.exec().run_until(target);
                    self.observe();
                    return done(self);
                }
            }
        }
    }

    /// The earliest instant at which a timer of any task or an election timer is due.
    fn next_wakeup(&self) -> Option<VirtualInstant> {
        let election = self.world.lock().election_deadline.values().min().copied();
        match (self.exec().next_deadline(), election) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn run_instant(&mut self, at: VirtualInstant) {
        self.exec().run_until(at);
        self.fire_elections(at);
        self.exec().run_ready();
        self.observe();
    }

    /// Starts an election at every running voter whose timer has run out.
    fn fire_elections(&mut self, now: VirtualInstant) {
        let due: Vec<(NodeId, SimRaft)> = {
            let world = self.world.lock();
            world
                .election_deadline
                .iter()
                .filter(|(_, at)| **at <= now)
                .filter_map(|(id, _)| world.rafts.get(id).map(|raft| (*id, raft.clone())))
                .collect()
        };
        for (id, raft) in due {
            self.start_election(id, raft, now);
        }
    }

    fn start_election(&mut self, id: NodeId, raft: SimRaft, now: VirtualInstant) {
        let pre_vote = {
            let mut world = self.world.lock();
            world.record(now, EventKind::ElectionTimeout { node: id });
            world.reset_election_timer(id, now);
            world.config.pre_vote
        };
        let is_voter = raft
            .metrics()
            .borrow_watched()
            .membership_config
            .membership()
            .voter_ids()
            .any(|voter| voter == id);
        if !is_voter {
            return;
        }
        self.exec().enter_as(Some(id), || {
            self.exec().spawn(async move {
                // Fails only if the node is shutting down, and then there is nothing to elect.
                let _ = raft.trigger().elect(pre_vote).await;
            })
        });
    }

    /// Turns what changed at running nodes since the last look into events, and keeps election
    /// timers in step with roles: leaders have none, a node that stops leading gets a fresh one.
    pub(super) fn observe(&mut self) {
        let leaving = std::mem::take(&mut self.world.lock().leaving);
        for id in leaving {
            self.removed.insert(id);
            self.stop(id);
        }
        let now = self.exec().now();
        let rafts: Vec<(NodeId, SimRaft)> = self
            .world
            .lock()
            .rafts
            .iter()
            .map(|(id, raft)| (*id, raft.clone()))
            .collect();
        for (id, raft) in rafts {
            let metrics = raft.metrics().borrow_watched().clone();
            let role = Role::from(metrics.state);
            let seen = Seen {
                role,
                term: metrics.current_term,
                commit: metrics.local_committed.as_ref().map_or(0, |id| id.index),
            };
            let before = self.seen.insert(id, seen);
            let mut world = self.world.lock();
            if before.is_none_or(|before| before.role != seen.role || before.term != seen.term) {
                world.record(
                    now,
                    EventKind::RoleChanged {
                        node: id,
                        role: seen.role,
                        term: seen.term,
                    },
                );
            }
            if before.is_some_and(|before| seen.commit > before.commit)
                || (before.is_none() && seen.commit > 0)
            {
                world.record(
                    now,
                    EventKind::Committed {
                        node: id,
                        index: seen.commit,
                    },
                );
            }
            match role {
                Role::Leader => {
                    world.election_deadline.remove(&id);
                }
                _ if !world.election_deadline.contains_key(&id) => {
                    world.reset_election_timer(id, now)
                }
                _ => {}
            }
        }
        let fresh = std::mem::take(&mut self.world.lock().events);
        self.events_recorded += fresh.len() as u64;
        self.events.extend(fresh);
    }

    /// Makes node `id`'s election timer run out now.
    pub fn time_out(&mut self, id: NodeId) -> Result<(), SimError> {
        self.check_node(id)?;
        let raft = self
            .world
            .lock()
            .rafts
            .get(&id)
            .cloned()
            .ok_or(SimError::NodeDown(id))?;
        let now = self.exec().now();
        self.start_election(id, raft, now);
        self.exec().run_ready();
        self.observe();
        Ok(())
    }

    /// Sets node `id`'s election timer to run out after `after` (until it is next reset). With
    /// it, a user can align timers to provoke a split vote, or spread them apart.
    pub fn set_election_timer(&mut self, id: NodeId, after: Duration) -> Result<(), SimError> {
        self.check_node(id)?;
        let now = self.exec().now();
        let mut world = self.world.lock();
        if !world.rafts.contains_key(&id) {
            return Err(SimError::NodeDown(id));
        }
        if world.election_deadline.contains_key(&id) {
            world.election_deadline.insert(id, now + after);
        }
        Ok(())
    }
}
