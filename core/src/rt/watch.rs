//! A deterministic watch channel: one value, many observers, only the newest value kept.
//!
//! tokio's watch channel picks which waiter list to notify with a random number, so waiters wake
//! in an order that differs from run to run. This one keeps waiting receivers in a `BTreeMap`
//! keyed by their creation order and wakes them in that order.

use std::collections::BTreeMap;
use std::future::poll_fn;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::RwLock;
use std::sync::RwLockReadGuard;
use std::task::Poll;
use std::task::Waker;

use openraft_rt::OptionalSend;
use openraft_rt::OptionalSync;
use openraft_rt::RecvError;
use openraft_rt::Watch;
use openraft_rt::WatchReceiver;
use openraft_rt::WatchSender;
use openraft_rt::watch::SendError;

/// Watch channels whose receivers wake in a fixed order.
#[derive(Debug)]
pub struct VirtualWatch;

struct Inner<T> {
    value: RwLock<T>,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    /// Bumped on every notifying change; a receiver has seen the value if its `seen` equals it.
    version: u64,
    senders: usize,
    receivers: usize,
    next_receiver: u64,
    waiting: BTreeMap<u64, Waker>,
}

impl<T> Inner<T> {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn read(&self) -> RwLockReadGuard<'_, T> {
        self.value
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn notify(&self) {
        let waiting = {
            let mut state = self.state();
            state.version += 1;
            std::mem::take(&mut state.waiting)
        };
        waiting.into_values().for_each(Waker::wake);
    }

    fn new_receiver(self: &Arc<Self>, seen: u64) -> WatchRx<T> {
        let id = {
            let mut state = self.state();
            state.receivers += 1;
            state.next_receiver += 1;
            state.next_receiver
        };
        WatchRx {
            inner: self.clone(),
            id,
            seen,
        }
    }
}

/// The sending half of a [`VirtualWatch`] channel.
pub struct WatchTx<T> {
    inner: Arc<Inner<T>>,
}

/// The receiving half of a [`VirtualWatch`] channel.
pub struct WatchRx<T> {
    inner: Arc<Inner<T>>,
    id: u64,
    seen: u64,
}

impl Watch for VirtualWatch {
    type Sender<T: OptionalSend + OptionalSync> = WatchTx<T>;
    type Receiver<T: OptionalSend + OptionalSync> = WatchRx<T>;
    type Ref<'a, T: OptionalSend + 'a> = RwLockReadGuard<'a, T>;

    fn channel<T: OptionalSend + OptionalSync>(init: T) -> (WatchTx<T>, WatchRx<T>) {
        let inner = Arc::new(Inner {
            value: RwLock::new(init),
            state: Mutex::new(State {
                senders: 1,
                ..State::default()
            }),
        });
        let rx = inner.new_receiver(0);
        (WatchTx { inner }, rx)
    }
}

impl<T> Clone for WatchTx<T> {
    fn clone(&self) -> Self {
        self.inner.state().senders += 1;
        WatchTx {
            inner: self.inner.clone(),
        }
    }
}

impl<T> Drop for WatchTx<T> {
    fn drop(&mut self) {
        let waiting = {
            let mut state = self.inner.state();
            state.senders -= 1;
            if state.senders > 0 {
                return;
            }
            std::mem::take(&mut state.waiting)
        };
        // The last sender is gone: waiters learn that no value will ever come.
        waiting.into_values().for_each(Waker::wake);
    }
}

impl<T: OptionalSend + OptionalSync> WatchSender<VirtualWatch, T> for WatchTx<T> {
    fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.inner.state().receivers == 0 {
            return Err(SendError(value));
        }
        *self
            .inner
            .value
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = value;
        self.inner.notify();
        Ok(())
    }

    fn send_if_modified<F>(&self, modify: F) -> bool
    where
        F: FnOnce(&mut T) -> bool,
    {
        let modified = modify(
            &mut self
                .inner
                .value
                .write()
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
        );
        if modified {
            self.inner.notify();
        }
        modified
    }

    fn borrow_watched(&self) -> RwLockReadGuard<'_, T> {
        self.inner.read()
    }

    fn subscribe(&self) -> WatchRx<T> {
        let version = self.inner.state().version;
        self.inner.new_receiver(version)
    }
}

impl<T> Clone for WatchRx<T> {
    fn clone(&self) -> Self {
        self.inner.new_receiver(self.seen)
    }
}

impl<T> Drop for WatchRx<T> {
    fn drop(&mut self) {
        let mut state = self.inner.state();
        state.receivers -= 1;
        state.waiting.remove(&self.id);
    }
}

impl<T: OptionalSend + OptionalSync> WatchReceiver<VirtualWatch, T> for WatchRx<T> {
    async fn changed(&mut self) -> Result<(), RecvError> {
        poll_fn(|cx| {
            let mut state = self.inner.state();
            if state.version != self.seen {
                self.seen = state.version;
                Poll::Ready(Ok(()))
            } else if state.senders == 0 {
                Poll::Ready(Err(RecvError(())))
            } else {
                state.waiting.insert(self.id, cx.waker().clone());
                Poll::Pending
            }
        })
        .await
    }

    fn borrow_watched(&self) -> RwLockReadGuard<'_, T> {
        self.inner.read()
    }

    fn borrow_and_update(&mut self) -> RwLockReadGuard<'_, T> {
        self.seen = self.inner.state().version;
        self.inner.read()
    }
}
