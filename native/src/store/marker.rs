//! The data directory's marker file, `flotilla.dir`: written once the node's storage has been
//! created, so a later start tells a directory that was never used (start empty) from one whose
//! log database has been lost (refuse: starting empty would forget the vote and every entry the
//! node acknowledged).

use std::fs::File;
use std::io;
use std::io::Write;
use std::path::Path;

use super::error::StoreError;

/// The marker file in the data directory.
pub(super) const MARKER_FILE: &str = "flotilla.dir";
/// Where the marker is written before it is renamed into place.
const MARKER_TMP: &str = "flotilla.dir.tmp";

/// What the marker says, for whoever finds it in the directory.
const CONTENTS: &str = "A Flotilla node's data directory (format 1). It holds raft.redb (the \
                        Raft log, vote and committed index) and snapshot.bin. Keep this file: \
                        it tells a restarted node that raft.redb must be here.\n";

/// Whether the marker is in `dir`.
pub(super) fn present(dir: &Path) -> Result<bool, StoreError> {
    match std::fs::metadata(dir.join(MARKER_FILE)) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(false),
        Err(err) => Err(err.into()),
    }
}

/// Writes the marker unless it is there: a temporary file, fsync'd, renamed into place, then the
/// directory fsync'd, so a crash leaves no marker or a whole one.
pub(super) fn write_if_missing(dir: &Path) -> Result<(), StoreError> {
    if present(dir)? {
        return Ok(());
    }
    let tmp = dir.join(MARKER_TMP);
    let mut file = File::create(&tmp)?;
    file.write_all(CONTENTS.as_bytes())?;
    file.sync_all()?;
    drop(file);
    std::fs::rename(&tmp, dir.join(MARKER_FILE))?;
    File::open(dir)?.sync_all()?;
    Ok(())
}
