//! The executor a thread is running: openraft's runtime trait is made of static functions
//! (`spawn`, `sleep`, `Instant::now`), so code running inside reaches its executor through this
//! thread-local, which [`Executor::enter`] and every driver install for the duration of a call.

use std::cell::RefCell;

use super::Executor;
use super::Owner;
use crate::rt::instant::VirtualInstant;

thread_local! {
    /// The executor installed on this thread by `enter` and the drivers.
    static CURRENT: RefCell<Option<Executor>> = const { RefCell::new(None) };
}

/// The executor installed on this thread. Panics outside one.
#[track_caller]
pub(crate) fn current() -> Executor {
    try_current().expect(
        "flotilla runtime: no executor on this thread (call this inside Executor::enter, \
         block_on or a driven task)",
    )
}

/// The executor installed on this thread, if any.
pub(crate) fn try_current() -> Option<Executor> {
    CURRENT
        .try_with(|current| current.borrow().clone())
        .ok()
        .flatten()
}

/// Installs an executor (and an ambient owner) and restores the previous ones when dropped, so
/// nested calls and panics leave the thread as they found it.
pub(super) struct Installed {
    previous: Option<Executor>,
    previous_owner: Option<Option<Owner>>,
    exec: Executor,
}

impl Installed {
    pub(super) fn new(exec: &Executor, owner: Option<Option<Owner>>) -> Self {
        let previous = CURRENT.with(|current| current.borrow_mut().replace(exec.clone()));
        let previous_owner =
            owner.map(|owner| std::mem::replace(&mut exec.lock().current_owner, owner));
        Installed {
            previous,
            previous_owner,
            exec: exec.clone(),
        }
    }
}

impl Drop for Installed {
    fn drop(&mut self) {
        if let Some(owner) = self.previous_owner {
            self.exec.lock().current_owner = owner;
        }
        let previous = self.previous.take();
        let _ = CURRENT.try_with(|current| *current.borrow_mut() = previous);
    }
}

impl VirtualInstant {
    /// The current virtual time, or `None` outside an executor (for formatters and logs that may
    /// run anywhere).
    pub fn try_now() -> Option<Self> {
        try_current().map(|exec| exec.now())
    }
}

/// openraft reads time through this: the clock of the executor running the calling code.
impl openraft_rt::Instant for VirtualInstant {
    #[track_caller]
    fn now() -> Self {
        current().now()
    }
}
