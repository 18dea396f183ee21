//! A node's durable storage: the Raft log, vote and committed log id in an embedded database
//! ([`DiskLogStore`]), and the latest state-machine snapshot in a file ([`DurableStateMachine`]).
//!
//! Both live in the node's data directory:
//!
//! - `raft.redb` — a [redb](https://docs.rs/redb) database (ACID, copy-on-write B-trees, every
//!   write transaction fsync'd before it returns). Table `log` maps a log index to its entry
//!   (postcard-encoded); table `meta` holds the vote, the committed log id, the last purged log id
//!   and the format version.
//! - `snapshot.bin` — the latest snapshot (its metadata and the serialised `ClusterState`), with a
//!   checksum, replaced atomically (write a temporary file, fsync, rename, fsync the directory).
//!
//! The orchestrator state itself stays in memory (core's `StateMachineStore`): a restarted node
//! restores the snapshot, and openraft re-applies the log from there up to the saved committed
//! log id.

mod blocking;
mod error;
mod log;
mod snapshot;

#[cfg(test)]
mod tests;

use std::path::Path;

pub use error::StoreError;
pub use log::DiskLogStore;
pub use snapshot::DurableStateMachine;

use flotilla_core::raft::FlotillaConfig;

/// Opens (creating if needed) both halves of a node's storage in `dir`: the log store and the
/// state machine restored from the latest snapshot.
pub fn open<C: FlotillaConfig>(
    dir: &Path,
) -> Result<(DiskLogStore<C>, DurableStateMachine<C>), StoreError> {
    let log = DiskLogStore::open(dir)?;
    let state_machine = DurableStateMachine::open(dir)?;
    Ok((log, state_machine))
}
