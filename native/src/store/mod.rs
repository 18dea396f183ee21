//! A node's durable storage: the Raft log, vote and committed log id in an embedded database
//! ([`DiskLogStore`]), and the latest state-machine snapshot in a file ([`DurableStateMachine`]).
//!
//! Both live in the node's data directory:
//!
//! - `raft.redb` — a [redb](https://docs.rs/redb) database (ACID, copy-on-write B-trees; entries,
//!   votes, truncations and purges fsync'd before they count, queued writes sharing one
//!   transaction and one fsync). Table `log` maps a log index to its entry
//!   (postcard-encoded); table `meta` holds the vote, the committed log id, the last purged log id
//!   and the format version.
//! - `snapshot.bin` — the latest snapshot (its metadata and the serialised `ClusterState`), with a
//!   checksum, replaced atomically (write a temporary file, fsync, rename, fsync the directory).
//! - `flotilla.dir` — a marker written once both exist, so that a lost `raft.redb` is noticed.
//!
//! Opening refuses, with a [`StoreError`] naming the file and what is wrong, a directory that
//! lost data: a damaged or truncated file, a missing log database (the marker or a snapshot says
//! there was one), a missing snapshot (the log was compacted) or one older than the compaction.
//! A node never starts silently with less than it acknowledged.
//!
//! The orchestrator state itself stays in memory (core's `StateMachineStore`): a restarted node
//! restores the snapshot, and openraft re-applies the log from there up to the saved committed
//! log id.

mod blocking;
mod check;
mod error;
mod log;
mod marker;
mod snapshot;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::StoreError;
pub use log::DiskLogStore;
pub use snapshot::DurableStateMachine;

use flotilla_core::raft::FlotillaConfig;

/// Opens (creating if needed) both halves of a node's storage in `dir`: the log store and the
/// state machine restored from the latest snapshot. Refuses a directory that lost data (see the
/// module's documentation); marks a directory in use once both halves are there.
pub fn open<C: FlotillaConfig>(
    dir: &Path,
) -> Result<(DiskLogStore<C>, DurableStateMachine<C>), StoreError> {
    std::fs::create_dir_all(dir)?;
    let in_use = if marker::present(dir)? {
        Some(format!(
            "{} says this directory was in use",
            dir.join(marker::MARKER_FILE).display()
        ))
    } else if dir.join(snapshot::SNAPSHOT_FILE).exists() {
        Some(format!(
            "{} exists, so this directory was in use",
            dir.join(snapshot::SNAPSHOT_FILE).display()
        ))
    } else {
        None
    };
    // The snapshot first: it is only read, so a refusal for a damaged snapshot leaves the log
    // database as it was (opening that after a crash repairs and rewrites it).
    let state_machine = DurableStateMachine::open(dir)?;
    let log = DiskLogStore::open_in(dir, in_use.as_deref())?;
    check::check_consistent(dir, &log, &state_machine)?;
    marker::write_if_missing(dir)?;
    Ok((log, state_machine))
}
