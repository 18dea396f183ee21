//! Checks across the files of a data directory, once each opened on its own: the snapshot must
//! cover every log entry that compaction removed, and the log must reach the index it says was
//! committed. A directory that fails them lost data (a file deleted, an old copy put back), and
//! the node refuses it rather than start with less than it acknowledged.

use std::path::Path;

use flotilla_core::raft::FlotillaConfig;

use super::error::StoreError;
use super::log::DB_FILE;
use super::log::DiskLogStore;
use super::snapshot::DurableStateMachine;
use super::snapshot::SNAPSHOT_FILE;

/// Refuses `dir` unless its snapshot covers every purged log entry and its log reaches the
/// committed index.
pub(super) fn check_consistent<C: FlotillaConfig>(
    dir: &Path,
    log: &DiskLogStore<C>,
    state_machine: &DurableStateMachine<C>,
) -> Result<(), StoreError> {
    let db = dir.join(DB_FILE);
    let snapshot = dir.join(SNAPSHOT_FILE);
    if let Some(purged) = log.last_purged() {
        match state_machine.snapshot_on_disk() {
            None => {
                return Err(StoreError::missing(format!(
                    "{} does not exist, but {} was compacted up to log index {}: the entries \
                     up to there exist only in the snapshot",
                    snapshot.display(),
                    db.display(),
                    purged.index
                )));
            }
            Some(covered) if covered < purged.index => {
                return Err(StoreError::corrupt(format!(
                    "{} covers the log up to index {covered}, but {} was compacted up to index \
                     {}: the entries between are in neither (an older snapshot put back?)",
                    snapshot.display(),
                    db.display(),
                    purged.index
                )));
            }
            Some(_) => {}
        }
    }
    if let Some(committed) = log.committed()
        && committed.index > log.last_index()
    {
        return Err(StoreError::corrupt(format!(
            "{} says the log was committed up to index {}, but it ends at index {}",
            db.display(),
            committed.index,
            log.last_index()
        )));
    }
    Ok(())
}
