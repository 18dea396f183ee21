//! [`MemLogStore`]: the Raft log and vote kept in memory.
//!
//! In the simulation this is a node's "disk": it survives a crash of the node (the simulation
//! keeps the store and hands it to the restarted node), and appends are durable at once. The
//! native server has its own store on disk.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::fmt::Debug;
use std::io;
use std::ops::RangeBounds;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;

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
        self.lock().vote = Some(*vote);
        Ok(())
    }

    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry>,
    {
        {
            let mut inner = self.lock();
            for entry in entries {
                inner.log.insert(entry.index(), entry);
            }
        }
        // Memory is this store's durable medium: the entries are "flushed" once inserted.
        callback.io_completed(Ok(()));
        Ok(())
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |id| id.index + 1);
        self.lock().log.split_off(&from);
        Ok(())
    }

    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        let mut inner = self.lock();
        let keep = inner.log.split_off(&(log_id.index + 1));
        inner.log = keep;
        inner.last_purged = Some(log_id);
        Ok(())
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }
}
