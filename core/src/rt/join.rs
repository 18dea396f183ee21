//! Join handles: awaiting a spawned task's output.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::Context;
use std::task::Poll;

use tokio::sync::oneshot;

/// Why a task's output is not available.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum JoinError {
    /// The task was dropped before finishing: its owner was killed or the executor went away.
    Cancelled,
}

impl fmt::Display for JoinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JoinError::Cancelled => f.write_str("task was cancelled before it finished"),
        }
    }
}

impl std::error::Error for JoinError {}

/// Resolves to the output of a spawned task. Dropping it detaches the task (it keeps running).
pub struct JoinHandle<T> {
    output: oneshot::Receiver<T>,
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.output)
            .poll(cx)
            .map(|result| result.map_err(|_| JoinError::Cancelled))
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("JoinHandle")
    }
}

/// Wraps `future` into a task that hands its output to the returned [`JoinHandle`].
pub(crate) fn completion<F>(
    future: F,
) -> (
    impl Future<Output = ()> + Send + 'static,
    JoinHandle<F::Output>,
)
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let (sender, receiver) = oneshot::channel();
    let task = async move {
        let output = future.await;
        // The handle may have been dropped: the task was detached, its output is not wanted.
        let _ = sender.send(output);
    };
    (task, JoinHandle { output: receiver })
}
