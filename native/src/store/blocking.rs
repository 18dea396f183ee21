//! [`blocking`]: storage work (file and database I/O, fsync) run off the async workers.

use super::error::StoreError;

/// Runs blocking storage work (file and database I/O, fsync) off the async workers, on tokio's
/// blocking pool.
pub(super) async fn blocking<R, F>(work: F) -> Result<R, std::io::Error>
where
    R: Send + 'static,
    F: FnOnce() -> Result<R, StoreError> + Send + 'static,
{
    match tokio::task::spawn_blocking(work).await {
        Ok(result) => result.map_err(std::io::Error::from),
        Err(err) => Err(std::io::Error::other(format!("storage task failed: {err}"))),
    }
}
