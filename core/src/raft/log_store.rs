//! [`MemLogStore`]: the Raft log and vote kept in memory.
//!
//! In the simulation this is a node's "disk": it survives a crash of the node (the simulation
//! keeps the store and hands it to the restarted node). By default appends are durable at once.
//! With a flush delay ([`MemLogStore::set_flush_delay`]) it behaves like a disk written in order
//! and flushed later: an append is readable at once but reported flushed to openraft only after
//! the delay, and a crash ([`MemLogStore::lose_unflushed`]) loses every write since the last
//! flush — unflushed appends and what was written after them (the committed log id). Votes,
//! truncations and purges are flushed before they return, as openraft requires. The native
//! server has its own store on disk.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::time::Duration;

use openraft::EntryPayload;
use openraft::LogId;
use openraft::LogState;
use openraft::Membership;
use openraft::RaftLogReader;
use openraft::alias::LogIdOf;
use openraft::alias::VoteOf;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::vote::RaftLeaderId;
use openraft_rt::AsyncRuntime;

use super::FlotillaConfig;
use super::LeaderId;
use super::Member;

/// A log store shared by handle: clones see the same log. The lock is a plain mutex that is never
/// held across an await, so it is cheap and also readable from outside the runtime (the
/// simulation's node snapshots read the log without going through Raft).
#[derive(Clone)]
pub struct MemLogStore<C: FlotillaConfig> {
    inner: Arc<Mutex<Inner<C>>>,
}

struct Inner<C: FlotillaConfig> {
    last_purged: Option<LogIdOf<C>>,
    log: BTreeMap<u64, C::Entry>,
    committed: Option<LogIdOf<C>>,
    vote: Option<VoteOf<C>>,
    /// The vote as the disk holds it: what a crashed node restarts with.
    durable_vote: Option<VoteOf<C>>,
    /// How long an append takes to be flushed; zero: at once.
    flush_delay: Duration,
    /// Appends written but not flushed yet, by write number, oldest first.
    unflushed: BTreeMap<u64, Unflushed<C>>,
    /// Number of the next append.
    next_write: u64,
}

/// An append not flushed yet: what a crash now would undo.
struct Unflushed<C: FlotillaConfig> {
    /// The lowest index it wrote.
    first_index: u64,
    /// The committed log id before it (a later write, lost with it).
    committed_before: Option<LogIdOf<C>>,
}

/// One log entry as observers see it: enough to draw a log and to inspect an entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LogEntryView {
    /// Position in the log, from 1.
    pub index: u64,
    /// Term of the leader that created the entry.
    pub term: u64,
    /// A one-line description of the payload.
    pub summary: String,
}

impl<C: FlotillaConfig> Default for MemLogStore<C> {
    fn default() -> Self {
        MemLogStore {
            inner: Arc::new(Mutex::new(Inner {
                last_purged: None,
                log: BTreeMap::new(),
                committed: None,
                vote: None,
                durable_vote: None,
                flush_delay: Duration::ZERO,
                unflushed: BTreeMap::new(),
                next_write: 0,
            })),
        }
    }
}

impl<C: FlotillaConfig> MemLogStore<C> {
    /// A log that already holds the cluster's first membership at index 0, as if `initialize`
    /// had run on every member: the nodes start as followers of nobody and the first one whose
    /// election timer runs out campaigns — instead of one node electing itself at once.
    pub fn bootstrapped(members: &BTreeMap<u64, Member>) -> Result<Self, String> {
        let voters: BTreeSet<u64> = members.keys().copied().collect();
        let membership =
            Membership::new(vec![voters], members.clone()).map_err(|err| err.to_string())?;
        let log_id = LogId::new(LeaderId::new(0, 0).to_committed(), 0);
        let store = Self::default();
        store
            .lock()
            .log
            .insert(0, C::Entry::new_membership(log_id, membership));
        Ok(store)
    }

    fn lock(&self) -> MutexGuard<'_, Inner<C>> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The entries still in the log with index in `range` (purged ones are gone).
    pub fn entries(&self, range: impl RangeBounds<u64>) -> Vec<LogEntryView> {
        self.lock()
            .log
            .range(range)
            .map(|(_, entry)| LogEntryView::of(entry))
            .collect()
    }

    /// Index of the last entry, counting purged ones (0 for an empty log).
    pub fn last_index(&self) -> u64 {
        let inner = self.lock();
        inner
            .log
            .keys()
            .next_back()
            .copied()
            .or(inner.last_purged.as_ref().map(|id| id.index))
            .unwrap_or(0)
    }

    /// The vote on this "disk" (`None` if the node never voted nor followed anyone): what a node
    /// restarts with, and so what a crashed node's term and vote are.
    pub fn vote(&self) -> Option<VoteOf<C>> {
        self.lock().vote
    }

    /// Makes appends take `delay` to be flushed (zero: at once, the default). Meant for a store
    /// that has not started yet.
    pub fn set_flush_delay(&self, delay: Duration) {
        self.lock().flush_delay = delay;
    }

    /// What a crash does to the disk: every write since the last flush is lost (the unflushed
    /// appends, and the committed log id written after them), and the vote is the one last
    /// saved. Returns how many log entries were lost.
    pub fn lose_unflushed(&self) -> u64 {
        let mut inner = self.lock();
        let first = inner.unflushed.values().map(|w| w.first_index).min();
        let committed = inner.unflushed.values().next().map(|w| w.committed_before);
        inner.unflushed.clear();
        inner.vote = inner.durable_vote;
        let Some(first) = first else { return 0 };
        if let Some(committed) = committed {
            inner.committed = committed;
        }
        inner.log.split_off(&first).len() as u64
    }

    /// Every write up to now is on the disk (a flush, or a write that waits for one).
    fn flush_all(inner: &mut Inner<C>) {
        inner.unflushed.clear();
    }

    /// Index of the last entry removed by log compaction (0 if none).
    pub fn purged_index(&self) -> u64 {
        self.lock().last_purged.as_ref().map_or(0, |id| id.index)
    }
}

/// A Raft log entry in every Flotilla type config: the same type whatever the runtime, because
/// [`FlotillaConfig`] fixes the leader id and the payload.
pub type LogEntry = openraft::Entry<
    <LeaderId as openraft::vote::RaftLeaderId>::Committed,
    EntryPayload<crate::model::Write, u64, Member>,
>;

impl LogEntryView {
    /// Describes one log entry: its index, the term of the leader that created it and a one-line
    /// summary of its payload. Hosts with their own log store use this so that every log reads
    /// the same.
    pub fn of(entry: &LogEntry) -> Self {
        LogEntryView {
            index: entry.log_id.index,
            term: entry.log_id.leader_id.term,
            summary: summarize(&entry.payload),
        }
    }
}

/// Describes a payload in a few words.
fn summarize(payload: &EntryPayload<crate::model::Write, u64, Member>) -> String {
    match payload {
        EntryPayload::Blank => "blank (new leader)".to_string(),
        EntryPayload::Normal(write) => write.to_string(),
        EntryPayload::Membership(membership) => {
            let voters: Vec<String> = membership.voter_ids().map(|id| format!("n{id}")).collect();
            format!("membership: voters {}", voters.join(","))
        }
    }
}

impl<C: FlotillaConfig> RaftLogReader<C> for MemLogStore<C> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        Ok(self
            .lock()
            .log
            .range(range)
            .map(|(_, entry)| entry.clone())
            .collect())
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        Ok(self.lock().vote)
    }
}

impl<C: FlotillaConfig> RaftLogStorage<C> for MemLogStore<C> {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let inner = self.lock();
        let last = inner
            .log
            .values()
            .next_back()
            .map(|entry| entry.log_id())
            .or_else(|| inner.last_purged);
        Ok(LogState {
            last_purged_log_id: inner.last_purged,
            last_log_id: last,
        })
    }

    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        self.lock().committed = committed;
        Ok(())
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        Ok(self.lock().committed)
    }

    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        inner.vote = Some(*vote);
        #[cfg(test)]
        if crate::mutation::active(crate::mutation::Mutation::VoteNotPersisted) {
            return Ok(());
        }
        // openraft needs the vote on disk before this returns: a flush.
        inner.durable_vote = Some(*vote);
        Self::flush_all(&mut inner);
        Ok(())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry>,
    {
        let (delay, write) = {
            let mut inner = self.lock();
            let mut first_index = None;
            for entry in entries {
                first_index.get_or_insert(entry.index());
                inner.log.insert(entry.index(), entry);
            }
            let delay = inner.flush_delay;
            let write = inner.next_write;
            inner.next_write += 1;
            if let Some(first_index) = first_index.filter(|_| !delay.is_zero()) {
                let committed_before = inner.committed;
                inner.unflushed.insert(
                    write,
                    Unflushed {
                        first_index,
                        committed_before,
                    },
                );
            }
            (delay, write)
        };
        if delay.is_zero() {
            // Memory is this store's durable medium: the entries are "flushed" once inserted.
            callback.io_completed(Ok(()));
            return Ok(());
        }
        // The flush is a task of the node's process: if it crashes first, the flush never comes.
        let store = self.clone();
        drop(C::AsyncRuntime::spawn(async move {
            C::AsyncRuntime::sleep(delay).await;
            {
                // The disk is written in order: this flush covers every write before it.
                let mut inner = store.lock();
                inner.unflushed = inner.unflushed.split_off(&(write + 1));
            }
            callback.io_completed(Ok(()));
        }));
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |id| id.index + 1);
        let mut inner = self.lock();
        inner.log.split_off(&from);
        Self::flush_all(&mut inner);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        let keep = inner.log.split_off(&(log_id.index + 1));
        inner.log = keep;
        inner.last_purged = Some(log_id);
        Self::flush_all(&mut inner);
        Ok(())
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }
}
