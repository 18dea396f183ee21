//! [`StoreError`]: what can go wrong opening or using a node's storage.

use std::fmt;
use std::io;

/// What every refusal to open damaged or incomplete storage ends with: why the node does not
/// start anyway, and where an operator reads what to do.
const REFUSAL: &str = "the node refuses to start rather than run with less than it acknowledged \
                       (README.md, \"Storage and recovery\", says what to do)";

/// An error of the node's storage. Converts into [`io::Error`], which is what openraft's storage
/// traits return.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A file or directory operation failed.
    #[error("storage I/O failed: {0}")]
    Io(#[from] io::Error),
    /// The embedded database (`raft.redb`) failed. Boxed: redb's error is large and this one
    /// travels through every storage call.
    #[error("log database failed: {0}")]
    Database(#[source] Box<redb::Error>),
    /// Data on disk does not decode or is inconsistent: it was written by another format or is
    /// damaged. The node refuses to start on it rather than lose committed state silently.
    #[error("stored data is corrupt: {0}; {REFUSAL}")]
    Corrupt(String),
    /// A file the data directory must hold is gone (the directory was in use, so its log
    /// database or its snapshot existed). Starting without it would start with less.
    #[error("stored data is missing: {0}; {REFUSAL}")]
    Missing(String),
}

impl StoreError {
    /// A [`StoreError::Corrupt`] with a description.
    pub(crate) fn corrupt(what: impl fmt::Display) -> Self {
        StoreError::Corrupt(what.to_string())
    }

    /// A [`StoreError::Missing`] with a description.
    pub(crate) fn missing(what: impl fmt::Display) -> Self {
        StoreError::Missing(what.to_string())
    }
}

impl From<StoreError> for io::Error {
    fn from(err: StoreError) -> Self {
        match err {
            StoreError::Io(err) => err,
            StoreError::Corrupt(_) | StoreError::Missing(_) => {
                io::Error::new(io::ErrorKind::InvalidData, err)
            }
            StoreError::Database(_) => io::Error::other(err),
        }
    }
}

/// redb reports each kind of failure with its own type; all of them convert into `redb::Error`.
macro_rules! from_redb {
    ($($ty:ty),* $(,)?) => {
        $(
            impl From<$ty> for StoreError {
                fn from(err: $ty) -> Self {
                    StoreError::Database(Box::new(err.into()))
                }
            }
        )*
    };
}

from_redb!(
    redb::Error,
    redb::DatabaseError,
    redb::TransactionError,
    redb::TableError,
    redb::StorageError,
    redb::CommitError,
);
