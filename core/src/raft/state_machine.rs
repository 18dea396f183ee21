//! [`StateMachineStore`]: the orchestrator ([`ClusterState`]) as openraft's state machine.
//!
//! Applying is pure and deterministic, so every node derives the same placements from the same
//! log; the leader's answer to a client is simply what applying its entry returned. Snapshots are
//! the serialised [`ClusterState`] plus the Raft bookkeeping, and a restarted node rebuilds
//! itself from the latest snapshot and the log after it.

use std::io;
use std::io::Cursor;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

use futures_util::Stream;
use futures_util::TryStreamExt;
use openraft::EntryPayload;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use openraft::alias::LogIdOf;
use openraft::alias::SnapshotMetaOf;
use openraft::alias::SnapshotOf;
use openraft::alias::StoredMembershipOf;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;
use serde::Deserialize;
use serde::Serialize;

use super::FlotillaConfig;
use super::Member;
use crate::model::ClusterState;
use crate::model::Command;
use crate::model::NodeSpec;
use crate::model::Outcome;

/// What applying one log entry answered: the entry's index (the seed API's `log_index`) and the
/// orchestrator's outcome (`None` for Raft's own blank entries, and for membership entries that
/// added or removed no node or several). For a copy of a
/// request that was already applied, both are the first copy's (see `ClusterState::apply_write`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Applied {
    /// The Raft log index of the entry.
    pub log_index: u64,
    /// What the orchestrator did with it.
    pub outcome: Option<Outcome>,
}

/// A state machine shared by handle: clones see the same state. Like the log store, the lock is
/// never held across an await, so observers can read the state synchronously.
#[derive(Clone)]
pub struct StateMachineStore<C: FlotillaConfig> {
    inner: Arc<Mutex<Inner<C>>>,
}

struct Inner<C: FlotillaConfig> {
    last_applied: Option<LogIdOf<C>>,
    membership: StoredMembershipOf<C>,
    state: ClusterState,
    snapshot: Option<StoredSnapshot<C>>,
    snapshots_built: u64,
}

struct StoredSnapshot<C: FlotillaConfig> {
    meta: SnapshotMetaOf<C>,
    data: Vec<u8>,
}

impl<C: FlotillaConfig> Clone for StoredSnapshot<C> {
    fn clone(&self) -> Self {
        StoredSnapshot {
            meta: self.meta.clone(),
            data: self.data.clone(),
        }
    }
}

impl<C: FlotillaConfig> Default for StateMachineStore<C> {
    fn default() -> Self {
        let inner = Inner {
            last_applied: None,
            membership: StoredMembershipOf::<C>::default(),
            state: ClusterState::default(),
            snapshot: None,
            snapshots_built: 0,
        };
        StateMachineStore {
            inner: Arc::new(Mutex::new(inner)),
        }
    }
}

impl<C: FlotillaConfig> StateMachineStore<C> {
    fn lock(&self) -> MutexGuard<'_, Inner<C>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Reads the orchestrator state as of the last applied entry.
    pub fn read<R>(&self, f: impl FnOnce(&ClusterState) -> R) -> R {
        f(&self.lock().state)
    }

    /// Index of the last applied entry (0 if none).
    pub fn last_applied_index(&self) -> u64 {
        self.lock().last_applied.as_ref().map_or(0, |id| id.index)
    }

    /// Index up to which the latest snapshot covers the log (0 if there is none).
    pub fn snapshot_index(&self) -> u64 {
        self.lock()
            .snapshot
            .as_ref()
            .and_then(|s| s.meta.last_log_id.as_ref())
            .map_or(0, |id| id.index)
    }

    /// How many snapshots this node has built itself (installed ones from a leader not counted).
    pub fn snapshots_built(&self) -> u64 {
        self.lock().snapshots_built
    }

    /// A state machine restored from a snapshot, as a restarted node needs it: the state, the
    /// last applied log id and the membership are the snapshot's, and the snapshot is the current
    /// one (to send to followers). `data` is what [`RaftSnapshotBuilder::build_snapshot`] produced
    /// (on this or another node) with its `meta`; hosts that keep snapshots on disk read both back
    /// and call this. Fails with [`io::ErrorKind::InvalidData`] if `data` does not decode.
    pub fn from_snapshot(meta: SnapshotMetaOf<C>, data: Vec<u8>) -> Result<Self, io::Error> {
        let store = Self::default();
        store.lock().restore(StoredSnapshot { meta, data })?;
        Ok(store)
    }

    /// What survives a crash: a fresh state machine holding only the latest snapshot, which a
    /// restarted node restores before replaying the log after it. (The applied state itself is
    /// volatile, as in a real process.)
    pub fn after_crash(&self) -> Self {
        let fresh = Self::default();
        let snapshot = self.lock().snapshot.clone();
        if let Some(snapshot) = snapshot {
            // A snapshot this store wrote itself always decodes; if it did not, starting empty and
            // replaying the log is still correct as long as the log was not purged.
            let _ = fresh.lock().restore(snapshot);
        }
        fresh
    }
}

/// The serialised form of a snapshot.
#[derive(Serialize, Deserialize)]
struct SnapshotBody {
    state: ClusterState,
}

impl<C: FlotillaConfig> Inner<C> {
    fn restore(&mut self, snapshot: StoredSnapshot<C>) -> Result<(), io::Error> {
        let body: SnapshotBody = serde_json::from_slice(&snapshot.data)
            .map_err(|err| io::Error::new(io::ErrorKind::InvalidData, err))?;
        self.state = body.state;
        self.last_applied = snapshot.meta.last_log_id;
        self.membership = snapshot.meta.last_membership.clone();
        self.snapshot = Some(snapshot);
        Ok(())
    }

    /// Makes the orchestrator's node list follow a new membership: joiners are added with their
    /// declared capacity, leavers removed (their replicas re-placed). Runs inside `apply`, so every
    /// node does it at the same log position.
    ///
    /// Only voters are orchestrator nodes. A learner is a node on its way in (catching up before
    /// its promotion) or one whose join failed half-way; either way it is no placement target,
    /// so replicas never land on a node that may never finish joining. It becomes a node when a
    /// membership makes it a voter (in a joint configuration, as soon as either half does).
    ///
    /// Returns what the change did to the orchestrator when it added or removed exactly one node
    /// (every join and leave Flotilla makes), the answer a client's join or leave gets.
    fn follow_membership(&mut self, log_index: u64) -> Option<Outcome> {
        let membership = self.membership.membership();
        let members: Vec<(u64, Member)> = membership
            .voter_ids()
            .filter_map(|id| Some((id, membership.get_node(&id)?.clone())))
            .collect();
        let leavers: Vec<u64> = self
            .state
            .nodes()
            .keys()
            .copied()
            .filter(|id| !members.iter().any(|(member, _)| member == id))
            .collect();
        let mut outcomes = Vec::new();
        for id in leavers {
            outcomes.push(self.state.apply(log_index, &Command::RemoveNode { id }));
        }
        for (id, member) in members {
            if self.state.node(id).is_none() {
                let node = NodeSpec {
                    id,
                    name: member.name,
                    addr: member.addr,
                    capacity: member.capacity,
                };
                outcomes.push(self.state.apply(log_index, &Command::AddNode { node }));
            }
        }
        match <[Outcome; 1]>::try_from(outcomes) {
            Ok([one]) => Some(one),
            Err(_) => None,
        }
    }
}

/// Whether the test-only [`Mutation::SkipApply`](crate::mutation::Mutation::SkipApply) drops
/// this entry's command. Never outside core's own tests.
fn skipped_by_mutation(log_index: u64) -> bool {
    #[cfg(test)]
    if crate::mutation::active(crate::mutation::Mutation::SkipApply) {
        return log_index.is_multiple_of(13);
    }
    let _ = log_index;
    false
}

impl<C: FlotillaConfig> RaftSnapshotBuilder<C> for StateMachineStore<C> {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn build_snapshot(&mut self) -> Result<SnapshotOf<C, Cursor<Vec<u8>>>, io::Error> {
        // Copied under the lock, encoded outside it: applying entries (and every read of the
        // state) waits only for the copy, not for the encoding.
        let (state, meta) = {
            let inner = self.lock();
            let meta = SnapshotMetaOf::<C> {
                last_log_id: inner.last_applied,
                last_membership: inner.membership.clone(),
            };
            (inner.state.clone(), meta)
        };
        let data = serde_json::to_vec(&SnapshotBody { state }).map_err(io::Error::other)?;
        let mut inner = self.lock();
        // A snapshot installed meanwhile may be newer: it stays.
        let newer_kept = inner
            .snapshot
            .as_ref()
            .is_some_and(|kept| kept.meta.last_log_id > meta.last_log_id);
        if !newer_kept {
            inner.snapshot = Some(StoredSnapshot {
                meta: meta.clone(),
                data: data.clone(),
            });
        }
        inner.snapshots_built += 1;
        Ok(SnapshotOf::<C, Cursor<Vec<u8>>> {
            meta,
            snapshot: Cursor::new(data),
        })
    }
}

impl<C: FlotillaConfig> RaftStateMachine<C> for StateMachineStore<C> {
    type SnapshotData = Cursor<Vec<u8>>;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>), io::Error> {
        let inner = self.lock();
        Ok((inner.last_applied, inner.membership.clone()))
    }

    async fn apply<Strm>(&mut self, mut entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + OptionalSend,
    {
        while let Some((entry, responder)) = entries.try_next().await? {
            let log_index = entry.log_id.index;
            // A copy of an applied request answers the first one's index, not its own.
            let mut answered_index = log_index;
            let outcome = {
                let mut inner = self.lock();
                inner.last_applied = Some(entry.log_id);
                match &entry.payload {
                    EntryPayload::Blank => None,
                    EntryPayload::Normal(_) if skipped_by_mutation(log_index) => None,
                    EntryPayload::Normal(write) => {
                        let answer = inner.state.apply_write(log_index, write);
                        answered_index = answer.log_index;
                        Some(answer.outcome)
                    }
                    EntryPayload::Membership(membership) => {
                        inner.membership =
                            StoredMembershipOf::<C>::new(Some(entry.log_id), membership.clone());
                        inner.follow_membership(log_index)
                    }
                }
            };
            if let Some(responder) = responder {
                responder.send(Applied {
                    log_index: answered_index,
                    outcome,
                });
            }
        }
        Ok(())
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<C>,
        snapshot: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        self.lock().restore(StoredSnapshot {
            meta: meta.clone(),
            data: snapshot.into_inner(),
        })
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<C, Cursor<Vec<u8>>>>, io::Error> {
        Ok(self
            .lock()
            .snapshot
            .as_ref()
            .map(|snapshot| SnapshotOf::<C, Cursor<Vec<u8>>> {
                meta: snapshot.meta.clone(),
                snapshot: Cursor::new(snapshot.data.clone()),
            }))
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }
}

#[cfg(test)]
mod tests;
