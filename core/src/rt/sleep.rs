//! Timers on the virtual clock: `sleep` and `timeout`.

use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Weak;
use std::task::Context;
use std::task::Poll;

use super::executor;
use super::executor::Executor;
use super::executor::Shared;
use super::instant::VirtualInstant;

/// Completes once the virtual clock reaches its deadline.
///
/// Its place among timers sharing a deadline is fixed when it is created; it is registered on
/// first poll and unregistered when dropped early, so a cancelled sleep leaves no trace.
pub struct Sleep {
    deadline: u64,
    seq: u64,
    executor: Weak<Shared>,
}

impl Sleep {
    /// A sleep until `deadline` on the executor installed on this thread.
    #[track_caller]
    pub fn until(deadline: VirtualInstant) -> Self {
        let exec = executor::current();
        Sleep {
            deadline: deadline.0,
            seq: exec.new_timer_seq(),
            executor: exec.downgrade(),
        }
    }

    /// When this sleep completes.
    pub fn deadline(&self) -> VirtualInstant {
        VirtualInstant(self.deadline)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(exec) = Executor::from_weak(&self.executor) else {
            // The executor is gone: no time will ever pass again.
            return Poll::Pending;
        };
        if exec.arm_timer(self.deadline, self.seq, cx.waker()) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let Some(exec) = Executor::from_weak(&self.executor) {
            exec.cancel_timer(self.deadline, self.seq);
        }
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &VirtualInstant(self.deadline))
            .finish()
    }
}

/// The error of a [`Timeout`] whose deadline passed first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeoutElapsed;

impl fmt::Display for TimeoutElapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline elapsed")
    }
}

impl std::error::Error for TimeoutElapsed {}

/// Runs a future against a deadline; the future is polled first, so a value ready exactly at
/// the deadline still wins.
pub struct Timeout<F> {
    future: Pin<Box<F>>,
    sleep: Sleep,
}

impl<F> Timeout<F> {
    pub(crate) fn new(future: F, sleep: Sleep) -> Self {
        Timeout {
            future: Box::pin(future),
            sleep,
        }
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, TimeoutElapsed>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if let Poll::Ready(value) = self.future.as_mut().poll(cx) {
            return Poll::Ready(Ok(value));
        }
        Pin::new(&mut self.sleep)
            .poll(cx)
            .map(|()| Err(TimeoutElapsed))
    }
}

impl<F> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("sleep", &self.sleep)
            .finish()
    }
}
