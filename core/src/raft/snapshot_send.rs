//! Sending a full snapshot the way openraft expects of a network: stop once the replication that
//! asked for it is closed.
//!
//! openraft sends a snapshot from a task of its own that retries at once after a timeout and
//! re-reads the *current* snapshot each time, always under the vote the leader had when the task
//! started. It stops that task through the `cancel` future it hands to `full_snapshot`, resolved
//! when the replication ends (the leader stepped down, the follower left). A network that ignores
//! `cancel` keeps a deposed leader sending newer snapshots under its old vote, and a follower that
//! restarted with that old vote accepts such a snapshot and fails openraft's check that no
//! snapshot holds entries beyond its leader's term. Both hosts' networks send through
//! [`send_unless_closed`].

use std::future::Future;
use std::pin::pin;

use futures_util::future::Either;
use futures_util::future::select;
use openraft::RaftTypeConfig;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;

/// Runs `send` unless `cancel` resolves first, and does not start it if `cancel` has already
/// resolved (it is polled first): the replication it was sent for is closed, so its answer would
/// mean nothing and the snapshot, read after the sender's vote was taken, may not belong to it.
pub async fn send_unless_closed<C, T, Send, Cancel>(
    send: Send,
    cancel: Cancel,
) -> Result<T, StreamingError<C>>
where
    C: RaftTypeConfig,
    Send: Future<Output = Result<T, StreamingError<C>>>,
    Cancel: Future<Output = ReplicationClosed>,
{
    match select(pin!(cancel), pin!(send)).await {
        Either::Left((closed, _)) => Err(StreamingError::Closed(closed)),
        Either::Right((answer, _)) => answer,
    }
}

#[cfg(test)]
mod tests {
    use std::future::pending;
    use std::future::ready;
    use std::sync::atomic::AtomicBool;
    use std::sync::atomic::Ordering;

    use futures_util::FutureExt;

    use super::*;
    use crate::sim::SimTypes;

    #[test]
    fn a_closed_replication_sends_nothing() {
        let started = AtomicBool::new(false);
        let send = async {
            started.store(true, Ordering::SeqCst);
            Ok::<_, StreamingError<SimTypes>>(())
        };
        let answer = send_unless_closed(send, ready(ReplicationClosed::new("stepped down")))
            .now_or_never()
            .expect("a closed replication answers at once");
        assert!(matches!(answer, Err(StreamingError::Closed(_))));
        assert!(!started.load(Ordering::SeqCst), "the snapshot was sent");
    }

    #[test]
    fn an_open_replication_gets_the_answer() {
        let send = ready(Ok::<_, StreamingError<SimTypes>>(7));
        let answer = send_unless_closed(send, pending())
            .now_or_never()
            .expect("a sent snapshot answers");
        assert_eq!(answer.ok(), Some(7));
    }
}
