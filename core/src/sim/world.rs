//! [`World`]: what the simulated nodes share — the wire, the clocks of their election timers and
//! the record of what happened — behind one lock that network tasks and the driver both take.
//!
//! Links and faults are data here: a set of cut directed links, a drop rate and a latency range
//! that every send consults, so the page and the fault campaigns change them by plain calls.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;

use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::SimConfig;
use super::event::DropReason;
use super::event::Event;
use super::event::EventKind;
use super::event::Message;
use super::event::MessageId;
use super::event::MessageKind;
use super::event::NodeId;
use super::event::RequestId;
use super::types::SimRaft;
use crate::raft::Applied;
use crate::rt::VirtualInstant;

/// A handle to the shared world; clones share it.
#[derive(Clone)]
pub(crate) struct WorldHandle(Arc<Mutex<World>>);

impl WorldHandle {
    pub(crate) fn new(world: World) -> Self {
        WorldHandle(Arc::new(Mutex::new(world)))
    }

    /// Locks the world. Never held across an await or while calling into Raft.
    pub(crate) fn lock(&self) -> MutexGuard<'_, World> {
        self.0
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// What the nodes share.
pub(crate) struct World {
    pub(crate) config: SimConfig,
    /// Randomness of the wire and the timers; its own stream so that openraft's draws and the
    /// network's do not shift each other. Xoshiro256++ by name, not `SmallRng`, which is a
    /// different generator on 32-bit targets: wasm32 must draw what native draws.
    rng: Xoshiro256PlusPlus,
    /// Directed links that are down: `(from, to)`.
    pub(crate) cut: BTreeSet<(NodeId, NodeId)>,
    /// Running nodes. A crashed node is absent: what is sent to it is lost.
    pub(crate) rafts: BTreeMap<NodeId, SimRaft>,
    /// When each running follower or candidate will start an election, unless it hears from a
    /// leader (or grants a vote) first. Leaders have none.
    pub(crate) election_deadline: BTreeMap<NodeId, VirtualInstant>,
    /// Messages on the wire.
    pub(crate) in_flight: BTreeMap<MessageId, Message>,
    /// Messages already doomed while in flight (lost at random, or dropped by hand), revealed
    /// when they would have arrived so observers see them travel and vanish.
    doomed: BTreeMap<MessageId, DropReason>,
    next_message: MessageId,
    pub(crate) next_request: RequestId,
    /// Answers clients got, by request.
    pub(crate) replies: BTreeMap<RequestId, Result<Applied, String>>,
    /// What happened since the driver last collected events.
    pub(crate) events: Vec<Event>,
    /// Nodes whose removal from the membership has committed, for the driver to stop.
    pub(crate) leaving: Vec<NodeId>,
    /// Extra one-way latency of every message to or from a slow node.
    pub(crate) slow: BTreeMap<NodeId, Duration>,
}

impl World {
    pub(crate) fn new(config: SimConfig) -> Self {
        let rng = Xoshiro256PlusPlus::seed_from_u64(config.seed ^ 0x005e_ed0f_f107_111a);
        World {
            config,
            rng,
            cut: BTreeSet::new(),
            rafts: BTreeMap::new(),
            election_deadline: BTreeMap::new(),
            in_flight: BTreeMap::new(),
            doomed: BTreeMap::new(),
            next_message: 1,
            next_request: 1,
            replies: BTreeMap::new(),
            events: Vec::new(),
            leaving: Vec::new(),
            slow: BTreeMap::new(),
        }
    }

    /// Records an event at `now`.
    pub(crate) fn record(&mut self, now: VirtualInstant, kind: EventKind) {
        self.events.push(Event {
            at: now.since_start(),
            kind,
        });
    }

    fn draw(&mut self, (min, max): (Duration, Duration)) -> Duration {
        if max <= min {
            min
        } else {
            Duration::from_nanos(
                self.rng
                    .random_range(min.as_nanos() as u64..max.as_nanos() as u64),
            )
        }
    }

    /// Restarts `node`'s election timer with a fresh random timeout.
    pub(crate) fn reset_election_timer(&mut self, node: NodeId, now: VirtualInstant) {
        let timeout = self.draw(self.config.election_timeout);
        self.election_deadline.insert(node, now + timeout);
    }

    /// Puts a message on the wire and returns its id and arrival time. Whether it will arrive is
    /// decided when it does (a link cut while it travels loses it too).
    pub(crate) fn send(
        &mut self,
        now: VirtualInstant,
        from: NodeId,
        to: NodeId,
        kind: MessageKind,
        term: u64,
        detail: String,
    ) -> (MessageId, VirtualInstant) {
        let id = self.next_message;
        self.next_message += 1;
        let slowness = |node| self.slow.get(&node).copied().unwrap_or_default();
        let extra = slowness(from) + slowness(to);
        let deliver_at = now + self.draw(self.config.latency) + extra;
        let message = Message {
            id,
            from,
            to,
            kind,
            term,
            sent_at: now.since_start(),
            deliver_at: deliver_at.since_start(),
            detail,
        };
        self.in_flight.insert(id, message.clone());
        self.record(now, EventKind::Sent { message });
        // Whether it is lost is drawn now, from the seed, but only revealed at arrival.
        if self.config.drop_rate > 0.0 && self.rng.random_bool(self.config.drop_rate) {
            self.doomed.insert(id, DropReason::Lost);
        }
        (id, deliver_at)
    }

    /// Whether the wire delivers message `original` twice, drawn from the seed (at
    /// [`SimConfig::duplicate_rate`]): if so, puts the copy on the wire, with a latency of its
    /// own, and returns its id and arrival time. Raft's messages only: a forwarded client
    /// request stands for a client's own connection, which does not repeat itself.
    pub(crate) fn duplicate(
        &mut self,
        now: VirtualInstant,
        original: MessageId,
    ) -> Option<(MessageId, VirtualInstant)> {
        if self.config.duplicate_rate <= 0.0 {
            return None;
        }
        let message = self.in_flight.get(&original)?.clone();
        if message.kind == MessageKind::Forward || !self.rng.random_bool(self.config.duplicate_rate)
        {
            return None;
        }
        let detail = format!("duplicate of #{original}");
        Some(self.send(
            now,
            message.from,
            message.to,
            message.kind,
            message.term,
            detail,
        ))
    }

    /// Marks an in-flight message to be lost. Returns `false` if it is not on the wire.
    pub(crate) fn drop_message(&mut self, id: MessageId) -> bool {
        if !self.in_flight.contains_key(&id) {
            return false;
        }
        self.doomed.insert(id, DropReason::Dropped);
        true
    }

    /// A message reaches its receiver's door: returns the receiver's Raft if it gets in, or
    /// records why it was lost and returns `None`.
    pub(crate) fn arrive(&mut self, now: VirtualInstant, id: MessageId) -> Option<SimRaft> {
        let message = self.in_flight.remove(&id)?;
        let doomed = self.doomed.remove(&id);
        let raft = self.rafts.get(&message.to).cloned();
        let reason = match (doomed, &raft) {
            (Some(reason), _) => Some(reason),
            _ if self.cut.contains(&(message.from, message.to)) => Some(DropReason::LinkCut),
            (None, None) => Some(DropReason::NodeDown),
            (None, Some(_)) => None,
        };
        let (from, to, kind) = (message.from, message.to, message.kind);
        match reason {
            Some(reason) => {
                self.record(
                    now,
                    EventKind::Dropped {
                        message: id,
                        from,
                        to,
                        kind,
                        reason,
                    },
                );
                None
            }
            None => {
                self.record(
                    now,
                    EventKind::Delivered {
                        message: id,
                        from,
                        to,
                        kind,
                    },
                );
                raft
            }
        }
    }
}
