//! [`DurableStateMachine`]: core's in-memory state machine whose snapshots survive a crash.
//!
//! Applying stays in memory (core's `StateMachineStore`); every snapshot the node builds or
//! installs from a leader is written to `snapshot.bin` before openraft hears about it — and so
//! before openraft purges the log it covers. The file is replaced atomically: the new snapshot
//! goes to `snapshot.bin.tmp`, is fsync'd, renamed over the old one, and the directory is fsync'd.
//! A crash leaves the old snapshot or the new one, never a mix. On open the snapshot is restored,
//! so a restarted node replays only the log after it.
//!
//! File layout: the magic `FLOTSNAP`, the format version (u32 LE), the body's length (u64 LE), its
//! CRC-32 (u32 LE), then the body: postcard of the snapshot's metadata and data.

use std::fs::File;
use std::io;
use std::io::Cursor;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::Mutex;

use flotilla_core::raft::FlotillaConfig;
use flotilla_core::raft::StateMachineStore;
use futures_util::Stream;
use openraft::OptionalSend;
use openraft::RaftSnapshotBuilder;
use openraft::alias::LogIdOf;
use openraft::alias::SnapshotMetaOf;
use openraft::alias::SnapshotOf;
use openraft::alias::StoredMembershipOf;
use openraft::storage::EntryResponder;
use openraft::storage::RaftStateMachine;

use super::blocking::blocking;
use super::error::StoreError;

/// The snapshot file in the data directory.
pub(super) const SNAPSHOT_FILE: &str = "snapshot.bin";
/// Where a new snapshot is written before it replaces the old one.
const SNAPSHOT_TMP: &str = "snapshot.bin.tmp";

const MAGIC: &[u8; 8] = b"FLOTSNAP";
const FORMAT: u32 = 1;
/// Magic, format, length, checksum.
const HEADER_LEN: usize = 8 + 4 + 8 + 4;

/// Core's state machine with durable snapshots. Clones share the state and the snapshot file.
pub struct DurableStateMachine<C: FlotillaConfig> {
    core: StateMachineStore<C>,
    files: Arc<SnapshotFiles>,
}

impl<C: FlotillaConfig> Clone for DurableStateMachine<C> {
    fn clone(&self) -> Self {
        DurableStateMachine {
            core: self.core.clone(),
            files: Arc::clone(&self.files),
        }
    }
}

/// The snapshot file's place, and the index of the snapshot last written there. The lock also
/// serialises writers, so an older snapshot never replaces a newer one.
struct SnapshotFiles {
    dir: PathBuf,
    written: Mutex<Option<u64>>,
}

#[derive(serde::Serialize)]
struct SnapshotFileRef<'a, M> {
    meta: &'a M,
    data: &'a [u8],
}

#[derive(serde::Deserialize)]
struct SnapshotFileOwned<M> {
    meta: M,
    data: Vec<u8>,
}

impl<C: FlotillaConfig> DurableStateMachine<C> {
    /// Opens the state machine of the node whose data directory is `dir` (created if needed):
    /// restored from the snapshot there if there is one, empty otherwise. A leftover temporary
    /// file from an interrupted write is removed. A snapshot that does not decode is an error
    /// ([`StoreError::Corrupt`]): starting empty could lose state whose log is already purged.
    pub fn open(dir: &Path) -> Result<Self, StoreError> {
        std::fs::create_dir_all(dir)?;
        match std::fs::remove_file(dir.join(SNAPSHOT_TMP)) {
            Ok(()) => {}
            Err(err) if err.kind() == io::ErrorKind::NotFound => {}
            Err(err) => return Err(err.into()),
        }
        let path = dir.join(SNAPSHOT_FILE);
        let (core, written) = match read_snapshot::<C>(&path)? {
            Some((meta, data)) => {
                let index = meta.last_log_id.map(|id| id.index);
                let core = StateMachineStore::from_snapshot(meta, data).map_err(|err| {
                    StoreError::corrupt(format!("{} does not restore: {err}", path.display()))
                })?;
                (core, index)
            }
            None => (StateMachineStore::default(), None),
        };
        Ok(DurableStateMachine {
            core,
            files: Arc::new(SnapshotFiles {
                dir: dir.to_path_buf(),
                written: Mutex::new(written),
            }),
        })
    }

    /// Core's state machine, to read the orchestrator state (`core().read(|state| …)`) and the
    /// applied and snapshot indexes.
    pub fn core(&self) -> &StateMachineStore<C> {
        &self.core
    }

    /// The last log index the snapshot on disk covers; `None` if there is no snapshot file.
    pub fn snapshot_on_disk(&self) -> Option<u64> {
        *self
            .files
            .written
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Writes a snapshot to disk, durably and atomically, unless a newer one is already there.
    pub(super) async fn persist(
        &self,
        meta: &SnapshotMetaOf<C>,
        data: &[u8],
    ) -> Result<(), io::Error> {
        let index = meta.last_log_id.map(|id| id.index);
        let bytes = encode_snapshot::<C>(meta, data)?;
        let files = Arc::clone(&self.files);
        blocking(move || {
            let mut written = files
                .written
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            if index < *written {
                return Ok(());
            }
            write_atomically(&files.dir, &bytes)?;
            *written = index;
            Ok(())
        })
        .await
    }
}

fn encode_snapshot<C: FlotillaConfig>(
    meta: &SnapshotMetaOf<C>,
    data: &[u8],
) -> Result<Vec<u8>, StoreError> {
    let body = postcard::to_allocvec(&SnapshotFileRef { meta, data })
        .map_err(|err| StoreError::Io(io::Error::other(err)))?;
    let mut bytes = Vec::with_capacity(HEADER_LEN + body.len());
    bytes.extend_from_slice(MAGIC);
    bytes.extend_from_slice(&FORMAT.to_le_bytes());
    bytes.extend_from_slice(&(body.len() as u64).to_le_bytes());
    bytes.extend_from_slice(&crc32(&body).to_le_bytes());
    bytes.extend_from_slice(&body);
    Ok(bytes)
}

/// Decodes the snapshot file read from `path` (named in every error).
fn decode_snapshot<C: FlotillaConfig>(
    path: &Path,
    bytes: &[u8],
) -> Result<StoredSnapshot<C>, StoreError> {
    let corrupt = |what: &str| StoreError::corrupt(format!("{}: {what}", path.display()));
    if bytes.len() < HEADER_LEN || &bytes[..8] != MAGIC {
        return Err(corrupt(
            "not a snapshot file (no whole header starting with FLOTSNAP): it is truncated or \
             damaged",
        ));
    }
    let field = |range: std::ops::Range<usize>| &bytes[range];
    let format = u32::from_le_bytes(field(8..12).try_into().map_err(|_| corrupt("header"))?);
    if format != FORMAT {
        return Err(corrupt(&format!(
            "format {format}, this build reads format {FORMAT}"
        )));
    }
    let len = u64::from_le_bytes(field(12..20).try_into().map_err(|_| corrupt("header"))?);
    let crc = u32::from_le_bytes(field(20..24).try_into().map_err(|_| corrupt("header"))?);
    let body = &bytes[HEADER_LEN..];
    if body.len() as u64 != len {
        return Err(corrupt(&format!(
            "the body is {} bytes, the header says {len}: the file is truncated or damaged",
            body.len()
        )));
    }
    if crc32(body) != crc {
        return Err(corrupt(&format!(
            "checksum mismatch (the header says CRC-32 {crc:08x}, the body's is {:08x}): the \
             file is damaged",
            crc32(body)
        )));
    }
    let (file, rest): (SnapshotFileOwned<SnapshotMetaOf<C>>, _) =
        postcard::take_from_bytes(body).map_err(|err| corrupt(&err.to_string()))?;
    if !rest.is_empty() {
        return Err(corrupt("bytes left over after the snapshot"));
    }
    Ok((file.meta, file.data))
}

/// A snapshot as read back from disk: its metadata and the state machine bytes.
type StoredSnapshot<C> = (SnapshotMetaOf<C>, Vec<u8>);

/// Reads the snapshot file at `path`, if there is one.
fn read_snapshot<C: FlotillaConfig>(path: &Path) -> Result<Option<StoredSnapshot<C>>, StoreError> {
    match std::fs::read(path) {
        Ok(bytes) => decode_snapshot::<C>(path, &bytes).map(Some),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(err) => Err(err.into()),
    }
}

/// Replaces the snapshot file in `dir` with `bytes`: temporary file, fsync, rename, fsync of the
/// directory (so the rename itself is durable).
fn write_atomically(dir: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    let tmp = dir.join(SNAPSHOT_TMP);
    let mut file = File::create(&tmp)?;
    file.write_all(bytes)?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(SNAPSHOT_FILE))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}

/// CRC-32 (IEEE 802.3, as zlib and gzip use), to detect a damaged snapshot file.
fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

impl<C: FlotillaConfig> RaftSnapshotBuilder<C> for DurableStateMachine<C> {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn build_snapshot(&mut self) -> Result<SnapshotOf<C, Cursor<Vec<u8>>>, io::Error> {
        let snapshot = RaftSnapshotBuilder::build_snapshot(&mut self.core).await?;
        self.persist(&snapshot.meta, snapshot.snapshot.get_ref())
            .await?;
        Ok(snapshot)
    }
}

impl<C: FlotillaConfig> RaftStateMachine<C> for DurableStateMachine<C> {
    type SnapshotData = Cursor<Vec<u8>>;
    type SnapshotBuilder = Self;

    async fn applied_state(
        &mut self,
    ) -> Result<(Option<LogIdOf<C>>, StoredMembershipOf<C>), io::Error> {
        self.core.applied_state().await
    }

    async fn apply<Strm>(&mut self, entries: Strm) -> Result<(), io::Error>
    where
        Strm: Stream<Item = Result<EntryResponder<C>, io::Error>> + Unpin + OptionalSend,
    {
        self.core.apply(entries).await
    }

    async fn get_snapshot_builder(&mut self) -> Self::SnapshotBuilder {
        self.clone()
    }

    async fn install_snapshot(
        &mut self,
        meta: &SnapshotMetaOf<C>,
        snapshot: Cursor<Vec<u8>>,
    ) -> Result<(), io::Error> {
        let data = snapshot.into_inner();
        // Install first: it checks that the data decodes, so a bad snapshot never reaches disk.
        self.core
            .install_snapshot(meta, Cursor::new(data.clone()))
            .await?;
        self.persist(meta, &data).await
    }

    async fn get_current_snapshot(
        &mut self,
    ) -> Result<Option<SnapshotOf<C, Cursor<Vec<u8>>>>, io::Error> {
        self.core.get_current_snapshot().await
    }
}

#[cfg(test)]
mod tests {
    use super::crc32;

    /// The checksum snapshot files have always carried: CRC-32/IEEE, whose check value this is.
    #[test]
    fn crc32_matches_the_standard_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }
}
