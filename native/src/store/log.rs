//! [`DiskLogStore`]: the Raft log, vote and committed log id in a redb database.
//!
//! Every write (append, truncate, purge, vote, committed log id) goes, in order, to the store's
//! one writer thread ([`writer`](self::Writer)), which commits whatever is waiting as one redb
//! write transaction: many appends made while the previous transaction was being fsync'd share
//! one fsync (group commit). A transaction holding an append, truncation, purge or vote is
//! committed with [`redb::Durability::Immediate`] — on disk (fsync'd) when it returns — and a
//! crash at any point leaves either the whole transaction or none of it. Only then does openraft
//! hear that the entries are flushed (its [`IOFlushed`] callback), so nothing is acknowledged
//! that is not on disk; truncations, purges and votes return only then too.
//!
//! `append` itself returns at once, so openraft sends the entries to the followers while they
//! are being written here; until their transaction commits, the entries are kept in memory
//! (`pending`) and reads see them from there. A small in-memory copy of the vote and the log
//! bounds makes the observers' reads (`vote`, `last_index`, `purged_index`) free.

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::io;
use std::marker::PhantomData;
use std::ops::Bound;
use std::ops::RangeBounds;
use std::path::Path;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::mpsc;
use std::time::Duration;
use std::time::Instant;

use flotilla_core::raft::FlotillaConfig;
use flotilla_core::raft::LogEntryView;
use openraft::LogState;
use openraft::OptionalSend;
use openraft::RaftLogReader;
use openraft::alias::LogIdOf;
use openraft::alias::VoteOf;
use openraft::entry::RaftEntry;
use openraft::storage::IOFlushed;
use openraft::storage::RaftLogStorage;
use openraft::vote::RaftLeaderId;
use redb::Database;
use redb::Durability;
use redb::ReadableTable;
use redb::TableDefinition;
use redb::WriteTransaction;

use super::error::StoreError;

/// The database file in the data directory.
pub(super) const DB_FILE: &str = "raft.redb";

/// Log index → postcard-encoded entry.
const LOG: TableDefinition<u64, &[u8]> = TableDefinition::new("log");
/// Named values, each postcard-encoded.
const META: TableDefinition<&str, &[u8]> = TableDefinition::new("meta");

const KEY_FORMAT: &str = "format";
const KEY_VOTE: &str = "vote";
const KEY_COMMITTED: &str = "committed";
const KEY_PURGED: &str = "last_purged";

/// Version of the layout above; a database with another version is refused.
const FORMAT: u32 = 1;

/// A node's Raft log store on disk. Clones share the database (the log reader openraft asks for
/// is a clone); `DiskLogStore::open` on a directory already open in this process fails.
pub struct DiskLogStore<C: FlotillaConfig> {
    shared: Arc<Shared<C>>,
}

impl<C: FlotillaConfig> Clone for DiskLogStore<C> {
    fn clone(&self) -> Self {
        DiskLogStore {
            shared: Arc::clone(&self.shared),
        }
    }
}

/// What the store's handles share: the database and its in-memory copy, and the queue to the
/// writer thread. Dropping it (the last handle) lets the writer finish what is queued and waits
/// for it, so the database is closed when the store is gone.
struct Shared<C: FlotillaConfig> {
    inner: Arc<Inner<C>>,
    queue: Mutex<Option<mpsc::Sender<Op<C>>>>,
    writer: Mutex<Option<std::thread::JoinHandle<()>>>,
}

/// The database and its in-memory copy.
struct Inner<C: FlotillaConfig> {
    db: Database,
    cache: Mutex<Cache<C>>,
    /// Told how long each durable (fsync'd) transaction took, if someone asked.
    durable_writes: Mutex<Option<DurableWriteObserver>>,
    _config: PhantomData<fn() -> C>,
}

/// Something told how long each durable write of the log store took (metrics).
pub type DurableWriteObserver = Arc<dyn Fn(Duration) + Send + Sync>;

/// What the database holds (or, for `pending`, is about to), kept in memory for cheap reads.
struct Cache<C: FlotillaConfig> {
    vote: Option<VoteOf<C>>,
    committed: Option<LogIdOf<C>>,
    last_purged: Option<LogIdOf<C>>,
    /// Log id of the last entry present (not counting purged ones), appended entries waiting
    /// for their transaction included.
    last_entry: Option<LogIdOf<C>>,
    /// Entries appended whose transaction has not committed yet, by index, each with the number
    /// of the append that made it (so a commit removes only its own).
    pending: BTreeMap<u64, (u64, C::Entry)>,
    /// Number of the next append.
    next_append: u64,
}

/// One write for the writer thread: what to do in the transaction, whether it must reach the
/// disk before it counts as done, what to update in memory once committed, and whom to tell.
struct Op<C: FlotillaConfig> {
    work: Work<C>,
    durable: bool,
    done: Done<C>,
}

/// What a write does in its transaction; it returns what to change in memory once committed.
type Work<C> = Box<dyn FnOnce(&WriteTransaction) -> Result<Update<C>, StoreError> + Send>;
/// A change of the in-memory copy, made once the transaction committed.
type Update<C> = Box<dyn FnOnce(&mut Cache<C>) + Send>;

/// Whom to tell that a write is done.
enum Done<C: FlotillaConfig> {
    /// openraft's callback for appended entries.
    Flushed(IOFlushed<C>),
    /// A caller waiting for the result.
    Reply(tokio::sync::oneshot::Sender<Result<(), io::Error>>),
    /// Nobody: a failure is logged.
    Nobody,
}

impl<C: FlotillaConfig> Done<C> {
    fn tell(self, result: Result<(), io::Error>) {
        match self {
            Done::Flushed(callback) => callback.io_completed(result),
            Done::Reply(reply) => {
                let _ = reply.send(result);
            }
            Done::Nobody => {
                if let Err(err) = result {
                    tracing::error!(%err, "a log store write failed");
                }
            }
        }
    }
}

/// Most writes the writer commits in one transaction.
const MAX_BATCH: usize = 4096;

impl<C: FlotillaConfig> DiskLogStore<C> {
    /// Opens the log store in `dir` (creating the directory and the database if needed) and
    /// reads back what a previous run left: vote, committed log id and the log's bounds.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        Self::open_in(dir, None)
    }

    /// [`DiskLogStore::open`], where `in_use` (if any) says why `dir` is known to have held a
    /// log database (its marker file, its snapshot). Then a database that is missing, empty or
    /// holds no Flotilla log is refused instead of created: its vote and entries were lost, and
    /// a node that starts without them may vote twice in a term or forget acknowledged writes.
    /// Nothing is written before that check, so a refused directory stays as it was.
    pub(super) fn open_in(dir: &Path, in_use: Option<&str>) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        let path = dir.join(DB_FILE);
        let size = match std::fs::metadata(&path) {
            Ok(metadata) => Some(metadata.len()),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return Err(err.into()),
        };
        if let Some(evidence) = in_use {
            let lost = "the node's Raft log, vote and committed index are lost";
            match size {
                None => {
                    return Err(StoreError::missing(format!(
                        "{} does not exist, but {evidence}: {lost}",
                        path.display()
                    )));
                }
                Some(0) => {
                    return Err(StoreError::corrupt(format!(
                        "{} is empty (0 bytes), but {evidence}: {lost}",
                        path.display()
                    )));
                }
                Some(_) => {}
            }
        }
        let created = size.is_none();
        let db = open_database(&path)?;
        if created {
            // Make the new file's directory entry durable too.
            std::fs::File::open(dir)?.sync_all()?;
        }
        let txn = begin_write(&db)?;
        {
            txn.open_table(LOG)?;
            let mut meta = txn.open_table(META)?;
            let format = meta
                .get(KEY_FORMAT)?
                .map(|v| decode::<u32>(v.value(), KEY_FORMAT));
            match format {
                None => {
                    if let Some(evidence) = in_use {
                        // Dropping the transaction uncommitted leaves the file untouched.
                        return Err(StoreError::corrupt(format!(
                            "{} holds no Flotilla log (it is a new, empty database), but \
                             {evidence}: the node's Raft log, vote and committed index are lost",
                            path.display()
                        )));
                    }
                    meta.insert(KEY_FORMAT, encode(&FORMAT)?.as_slice())?;
                }
                Some(Ok(FORMAT)) => {}
                Some(Ok(other)) => {
                    return Err(StoreError::corrupt(format!(
                        "{} has format {other}, this build reads format {FORMAT}",
                        path.display()
                    )));
                }
                Some(Err(err)) => return Err(in_file(&path, err)),
            }
        }
        txn.commit()?;

        let txn = db.begin_read()?;
        let meta = txn.open_table(META)?;
        let log = txn.open_table(LOG)?;
        let read_back = || -> Result<Cache<C>, StoreError> {
            Ok(Cache {
                vote: read_meta(&meta, KEY_VOTE)?,
                committed: read_meta(&meta, KEY_COMMITTED)?,
                last_purged: read_meta(&meta, KEY_PURGED)?,
                last_entry: last_entry_id::<C>(&log)?,
                pending: BTreeMap::new(),
                next_append: 0,
            })
        };
        let cache = read_back().map_err(|err| in_file(&path, err))?;
        drop((meta, log, txn));
        let inner = Arc::new(Inner {
            db,
            cache: Mutex::new(cache),
            durable_writes: Mutex::new(None),
            _config: PhantomData,
        });
        let (queue, ops) = mpsc::channel();
        let writer = {
            let inner = Arc::clone(&inner);
            std::thread::Builder::new()
                .name("flotilla-log-writer".to_string())
                .spawn(move || write_loop(&inner, &ops))?
        };
        Ok(DiskLogStore {
            shared: Arc::new(Shared {
                inner,
                queue: Mutex::new(Some(queue)),
                writer: Mutex::new(Some(writer)),
            }),
        })
    }

    fn cache(&self) -> MutexGuard<'_, Cache<C>> {
        self.shared.inner.cache()
    }

    /// From now on, tells `observe` how long each durable write (one transaction, fsync
    /// included) took.
    pub fn on_durable_write(&self, observe: DurableWriteObserver) {
        *self
            .shared
            .inner
            .durable_writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(observe);
    }

    /// The entries still in the log with index in `range` (purged ones are gone), as observers
    /// see them. Reads the disk: callers page with bounded ranges.
    pub fn entries(&self, range: impl RangeBounds<u64>) -> Result<Vec<LogEntryView>, StoreError> {
        Ok(self
            .read_entries(range)?
            .iter()
            .map(LogEntryView::of)
            .collect())
    }

    /// The entries with index in `range`: those on disk, and in their place or after them those
    /// appended but not committed yet.
    fn read_entries(&self, range: impl RangeBounds<u64>) -> Result<Vec<C::Entry>, StoreError> {
        let bounds: (Bound<u64>, Bound<u64>) =
            (range.start_bound().cloned(), range.end_bound().cloned());
        // The waiting entries before the disk: one whose transaction commits in between is then
        // in both (the same entry), never in neither.
        let pending: Vec<(u64, C::Entry)> = self
            .cache()
            .pending
            .range(bounds)
            .map(|(index, (_, entry))| (*index, entry.clone()))
            .collect();
        let txn = self.shared.inner.db.begin_read()?;
        let log = txn.open_table(LOG)?;
        let mut entries = BTreeMap::new();
        for item in log.range::<u64>(bounds)? {
            let (index, bytes) = item?;
            entries.insert(
                index.value(),
                decode_entry::<C>(index.value(), bytes.value())?,
            );
        }
        entries.extend(pending);
        Ok(entries.into_values().collect())
    }

    /// Index of the last entry, counting purged ones (0 for an empty log).
    pub fn last_index(&self) -> u64 {
        let cache = self.cache();
        cache
            .last_entry
            .or(cache.last_purged)
            .map_or(0, |id| id.index)
    }

    /// Index of the last entry removed by log compaction (0 if none).
    pub fn purged_index(&self) -> u64 {
        self.cache().last_purged.map_or(0, |id| id.index)
    }

    /// Log id of the last entry removed by log compaction, if any was.
    pub fn last_purged(&self) -> Option<LogIdOf<C>> {
        self.cache().last_purged
    }

    /// The saved vote, if this node ever voted or was told of a leader.
    pub fn vote(&self) -> Option<VoteOf<C>> {
        self.cache().vote
    }

    /// The current term as far as this node knows (0 before any vote).
    pub fn term(&self) -> u64 {
        self.cache().vote.map_or(0, |vote| vote.leader_id.term())
    }

    /// The node this node voted for (or follows) in the current term, if any.
    pub fn voted_for(&self) -> Option<u64> {
        self.cache().vote.map(|vote| *vote.leader_id.node_id())
    }

    /// The last committed log id saved by openraft (`None` if it never saved one).
    pub fn committed(&self) -> Option<LogIdOf<C>> {
        self.cache().committed
    }

    /// Queues one write for the writer thread.
    fn submit(&self, op: Op<C>) -> Result<(), io::Error> {
        let queue = self
            .shared
            .queue
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        match queue.as_ref().map(|queue| queue.send(op)) {
            Some(Ok(())) => Ok(()),
            Some(Err(mpsc::SendError(op))) => {
                let stopped = || io::Error::other("the log store's writer has stopped");
                op.done.tell(Err(stopped()));
                Err(stopped())
            }
            None => Err(io::Error::other("the log store is closed")),
        }
    }

    /// Runs `work` in a durable transaction of the writer thread (after every write queued
    /// before it) and returns once it is on disk and `update` has changed the in-memory copy.
    async fn write<W>(&self, work: W) -> Result<(), io::Error>
    where
        W: FnOnce(&WriteTransaction) -> Result<Update<C>, StoreError> + Send + 'static,
    {
        let (reply, result) = tokio::sync::oneshot::channel();
        self.submit(Op {
            work: Box::new(work),
            durable: true,
            done: Done::Reply(reply),
        })?;
        result
            .await
            .unwrap_or_else(|_| Err(io::Error::other("the log store's writer has stopped")))
    }
}

impl<C: FlotillaConfig> Inner<C> {
    fn observe_durable_write(&self, took: Duration) {
        let observer = self
            .durable_writes
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone();
        if let Some(observe) = observer {
            observe(took);
        }
    }

    fn cache(&self) -> MutexGuard<'_, Cache<C>> {
        self.cache
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<C: FlotillaConfig> Drop for Shared<C> {
    fn drop(&mut self) {
        // Closing the queue ends the writer once it has committed what was queued.
        drop(
            self.queue
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner())
                .take(),
        );
        let writer = self
            .writer
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .take();
        if let Some(writer) = writer
            && writer.thread().id() != std::thread::current().id()
        {
            let _ = writer.join();
        }
    }
}

/// The writer thread: takes every write queued (up to [`MAX_BATCH`]), commits them as one
/// transaction — fsync'd if any of them must be durable — then updates the in-memory copy and
/// tells each writer, in order. Ends when the queue closes.
fn write_loop<C: FlotillaConfig>(inner: &Inner<C>, ops: &mpsc::Receiver<Op<C>>) {
    while let Ok(first) = ops.recv() {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match ops.try_recv() {
                Ok(op) => batch.push(op),
                Err(_) => break,
            }
        }
        let durable = batch.iter().any(|op| op.durable);
        let mut done = Vec::with_capacity(batch.len());
        let mut works = Vec::with_capacity(batch.len());
        for op in batch {
            done.push(op.done);
            works.push(op.work);
        }
        let started = Instant::now();
        let committed = (|| -> Result<Vec<Update<C>>, StoreError> {
            let mut txn = inner.db.begin_write()?;
            txn.set_durability(if durable {
                Durability::Immediate
            } else {
                Durability::None
            });
            let updates = works
                .into_iter()
                .map(|work| work(&txn))
                .collect::<Result<Vec<_>, _>>()?;
            txn.commit()?;
            Ok(updates)
        })();
        if durable && committed.is_ok() {
            inner.observe_durable_write(started.elapsed());
        }
        match committed {
            Ok(updates) => {
                {
                    let mut cache = inner.cache();
                    for update in updates {
                        update(&mut cache);
                    }
                }
                for done in done {
                    done.tell(Ok(()));
                }
            }
            Err(err) => {
                // Nothing of the transaction was committed: every write in it failed.
                let err = io::Error::from(err);
                for done in done {
                    done.tell(Err(io::Error::new(err.kind(), err.to_string())));
                }
            }
        }
    }
}

/// Opens (or creates) the database at `path`. A damaged file is a [`StoreError::Corrupt`]
/// naming it, whether redb reports the damage or stops on one of its internal assertions (it
/// does on a truncated file: the header promises more pages than the file has).
fn open_database(path: &Path) -> Result<Database, StoreError> {
    let damaged = |why: String| {
        StoreError::corrupt(format!(
            "{} does not open ({why}): the file is truncated or damaged",
            path.display()
        ))
    };
    match std::panic::catch_unwind(|| Database::create(path)) {
        Ok(Ok(db)) => Ok(db),
        // Another process (or this one) has it open, or the disk failed: not damage.
        Ok(Err(err @ redb::DatabaseError::DatabaseAlreadyOpen)) => Err(err.into()),
        Ok(Err(redb::DatabaseError::Storage(redb::StorageError::Io(err))))
            if err.kind() != io::ErrorKind::InvalidData =>
        {
            Err(err.into())
        }
        Ok(Err(err)) => Err(damaged(err.to_string())),
        Err(panic) => {
            let why = panic
                .downcast_ref::<&str>()
                .map(|text| text.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "redb stopped on an internal check".to_string());
            Err(damaged(why))
        }
    }
}

/// Names the database file in a corruption found while reading it back.
fn in_file(path: &Path, err: StoreError) -> StoreError {
    match err {
        StoreError::Corrupt(what) => StoreError::corrupt(format!("{}: {what}", path.display())),
        StoreError::Database(err) => StoreError::corrupt(format!("{}: {err}", path.display())),
        other => other,
    }
}

/// A write transaction that is fsync'd on commit.
fn begin_write(db: &Database) -> Result<WriteTransaction, StoreError> {
    let mut txn = db.begin_write()?;
    txn.set_durability(Durability::Immediate);
    Ok(txn)
}

fn encode<T: serde::Serialize>(value: &T) -> Result<Vec<u8>, StoreError> {
    postcard::to_allocvec(value).map_err(|err| StoreError::Io(io::Error::other(err)))
}

/// Decodes a whole value: bytes left over mean the value is not of type `T`.
fn decode<T: serde::de::DeserializeOwned>(bytes: &[u8], what: &str) -> Result<T, StoreError> {
    match postcard::take_from_bytes(bytes) {
        Ok((value, [])) => Ok(value),
        Ok((_, rest)) => Err(StoreError::corrupt(format!(
            "{what}: {} bytes left over",
            rest.len()
        ))),
        Err(err) => Err(StoreError::corrupt(format!("{what}: {err}"))),
    }
}

/// Decodes the entry stored at `index` and checks that it is the entry for that index.
fn decode_entry<C: FlotillaConfig>(index: u64, bytes: &[u8]) -> Result<C::Entry, StoreError> {
    let entry: C::Entry = decode(bytes, "log entry")?;
    if entry.index() != index {
        return Err(StoreError::corrupt(format!(
            "log entry stored at index {index} says index {}",
            entry.index()
        )));
    }
    Ok(entry)
}

fn read_meta<T, M>(meta: &M, key: &str) -> Result<Option<T>, StoreError>
where
    T: serde::de::DeserializeOwned,
    M: ReadableTable<&'static str, &'static [u8]>,
{
    match meta.get(key)? {
        Some(bytes) => decode(bytes.value(), key).map(Some),
        None => Ok(None),
    }
}

fn write_meta<T: serde::Serialize>(
    txn: &WriteTransaction,
    key: &str,
    value: &T,
) -> Result<(), StoreError> {
    let bytes = encode(value)?;
    txn.open_table(META)?.insert(key, bytes.as_slice())?;
    Ok(())
}

/// Log id of the last entry in the table, if any.
fn last_entry_id<C: FlotillaConfig>(
    log: &impl ReadableTable<u64, &'static [u8]>,
) -> Result<Option<LogIdOf<C>>, StoreError> {
    match log.last()? {
        Some((index, bytes)) => {
            let entry: C::Entry = decode_entry::<C>(index.value(), bytes.value())?;
            Ok(Some(entry.log_id()))
        }
        None => Ok(None),
    }
}

/// Removes the entries with index in `range`; answers the log id of the last entry left.
fn remove_entries<C: FlotillaConfig>(
    txn: &WriteTransaction,
    range: impl RangeBounds<u64>,
) -> Result<Option<LogIdOf<C>>, StoreError> {
    let mut log = txn.open_table(LOG)?;
    log.retain_in::<u64, _>(range, |_, _| false)?;
    last_entry_id::<C>(&log)
}

impl<C: FlotillaConfig> RaftLogReader<C> for DiskLogStore<C> {
    async fn try_get_log_entries<RB: RangeBounds<u64> + Clone + Debug + OptionalSend>(
        &mut self,
        range: RB,
    ) -> Result<Vec<C::Entry>, io::Error> {
        Ok(self.read_entries(range)?)
    }

    async fn read_vote(&mut self) -> Result<Option<VoteOf<C>>, io::Error> {
        Ok(self.cache().vote)
    }
}

impl<C: FlotillaConfig> RaftLogStorage<C> for DiskLogStore<C> {
    type LogReader = Self;

    async fn get_log_state(&mut self) -> Result<LogState<C>, io::Error> {
        let cache = self.cache();
        Ok(LogState {
            last_purged_log_id: cache.last_purged,
            last_log_id: cache.last_entry.or(cache.last_purged),
        })
    }

    async fn get_log_reader(&mut self) -> Self::LogReader {
        self.clone()
    }

    async fn save_vote(&mut self, vote: &VoteOf<C>) -> Result<(), io::Error> {
        let vote = *vote;
        self.write(move |txn| {
            write_meta(txn, KEY_VOTE, &vote)?;
            Ok(Box::new(move |cache: &mut Cache<C>| {
                cache.vote = Some(vote)
            }))
        })
        .await
    }

    /// Queued without waiting, and committed without an fsync of its own: the next durable
    /// write (an append, a vote) carries it to disk. Losing it in a crash loses nothing
    /// acknowledged: it only says how far a restarted node may apply its log before it hears
    /// from the leader, and an older value (never beyond the entries on disk, which are queued
    /// first) is still true. Reads of it see the new value at once.
    async fn save_committed(&mut self, committed: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        self.cache().committed = committed;
        self.submit(Op {
            work: Box::new(move |txn| {
                match &committed {
                    Some(log_id) => write_meta(txn, KEY_COMMITTED, log_id)?,
                    None => {
                        txn.open_table(META)?.remove(KEY_COMMITTED)?;
                    }
                }
                Ok(Box::new(|_: &mut Cache<C>| {}))
            }),
            durable: false,
            done: Done::Nobody,
        })
    }

    async fn read_committed(&mut self) -> Result<Option<LogIdOf<C>>, io::Error> {
        Ok(self.cache().committed)
    }

    /// Returns once the entries are queued (and readable); `callback` hears when they are on
    /// disk.
    async fn append<I>(&mut self, entries: I, callback: IOFlushed<C>) -> Result<(), io::Error>
    where
        I: IntoIterator<Item = C::Entry> + OptionalSend,
        I::IntoIter: OptionalSend,
    {
        let entries: Vec<C::Entry> = entries.into_iter().collect();
        let mut encoded = Vec::with_capacity(entries.len());
        for entry in &entries {
            encoded.push((entry.index(), encode(entry)?));
        }
        let number = {
            let mut cache = self.cache();
            let number = cache.next_append;
            cache.next_append += 1;
            if let Some(last) = entries.last() {
                cache.last_entry = Some(last.log_id());
            }
            for entry in entries {
                cache.pending.insert(entry.index(), (number, entry));
            }
            number
        };
        self.submit(Op {
            work: Box::new(move |txn| {
                let mut log = txn.open_table(LOG)?;
                for (index, bytes) in &encoded {
                    log.insert(*index, bytes.as_slice())?;
                }
                Ok(Box::new(move |cache: &mut Cache<C>| {
                    for (index, _) in &encoded {
                        if cache.pending.get(index).is_some_and(|(n, _)| *n == number) {
                            cache.pending.remove(index);
                        }
                    }
                }))
            }),
            durable: true,
            done: Done::Flushed(callback),
        })
    }

    async fn truncate_after(&mut self, last_log_id: Option<LogIdOf<C>>) -> Result<(), io::Error> {
        let from = last_log_id.map_or(0, |id| id.index + 1);
        // Entries waiting for their transaction go now: reads must not see them any more. Those
        // already queued are written first, then removed by this write.
        {
            let mut cache = self.cache();
            cache.pending.retain(|index, _| *index < from);
            cache.last_entry = match cache.pending.last_key_value() {
                Some((_, (_, entry))) => Some(entry.log_id()),
                None => cache.last_entry.filter(|id| id.index < from),
            };
        }
        self.write(move |txn| {
            let last = remove_entries::<C>(txn, from..)?;
            Ok(Box::new(move |cache: &mut Cache<C>| {
                if cache.pending.is_empty() {
                    cache.last_entry = last;
                }
            }))
        })
        .await
    }

    async fn purge(&mut self, log_id: LogIdOf<C>) -> Result<(), io::Error> {
        self.write(move |txn| {
            write_meta(txn, KEY_PURGED, &log_id)?;
            let last = remove_entries::<C>(txn, ..=log_id.index)?;
            Ok(Box::new(move |cache: &mut Cache<C>| {
                cache.last_purged = Some(log_id);
                cache.pending.retain(|index, _| *index > log_id.index);
                if cache.pending.is_empty() {
                    cache.last_entry = last;
                }
            }))
        })
        .await
    }
}
