//! Rules shared by every server-sent event stream the binary serves: [`StreamLimit`], how many
//! long-lived responses one server holds open at once, and [`KEEP_ALIVE`].
//!
//! Each stream costs a task, and on the demo's entry point a connection to every node, so past
//! the limit a new one is refused with 429 and a JSON error instead of piling up.

use std::sync::Arc;
use std::time::Duration;

use axum::http::StatusCode;
use tokio::sync::OwnedSemaphorePermit;
use tokio::sync::Semaphore;

use super::error::ApiError;

/// How often an idle stream carries a comment, so proxies and readers know it is alive.
pub const KEEP_ALIVE: Duration = Duration::from_secs(10);

/// A counter of open streams with a ceiling. Cloning shares it.
#[derive(Clone, Debug)]
pub struct StreamLimit {
    open: Arc<Semaphore>,
    most: usize,
}

impl StreamLimit {
    /// A limit of `most` streams open at once.
    pub fn new(most: usize) -> Self {
        StreamLimit {
            open: Arc::new(Semaphore::new(most)),
            most,
        }
    }

    /// A slot for one more stream, held until the permit is dropped (with the stream), or 429
    /// when `most` are open.
    pub fn open(&self) -> Result<OwnedSemaphorePermit, ApiError> {
        self.open.clone().try_acquire_owned().map_err(|_| {
            ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                format!(
                    "{} event streams are open, the most this server serves at once; close one and retry",
                    self.most
                ),
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_past_the_limit_is_refused_until_one_closes() {
        let limit = StreamLimit::new(2);
        let first = limit.open().unwrap();
        let _second = limit.open().unwrap();
        let refused = limit.open().unwrap_err();
        assert_eq!(refused.status, StatusCode::TOO_MANY_REQUESTS);
        drop(first);
        assert!(limit.open().is_ok());
    }
}
