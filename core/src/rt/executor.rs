//! The single-threaded executor: tasks, the run queue, timers, the virtual clock and the seed.
//!
//! The [`AsyncRuntime`](openraft_rt::AsyncRuntime) trait is made of static functions (`spawn`,
//! `sleep`, `Instant::now`), so code running inside reaches its executor through a thread-local
//! that [`Executor::enter`] (and everything that drives tasks) installs for the duration of a call.
//!
//! Scheduling is FIFO: a task is polled in the order it became runnable. When nothing is runnable
//! the clock jumps to the earliest timer; timers sharing a deadline fire in creation order, keyed
//! by `(deadline, sequence)`. Together with a seeded RNG that is the whole determinism argument.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::pin::pin;
use std::sync::Arc;
use std::sync::Mutex;
use std::sync::MutexGuard;
use std::sync::Weak;
use std::task::Context;
use std::task::Poll;
use std::task::Wake;
use std::task::Waker;

use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

use super::instant::EPOCH_NANOS;
use super::instant::VirtualInstant;
use super::join::JoinHandle;
use super::join::completion;

mod ambient;

use ambient::Installed;
pub(crate) use ambient::current;

/// Who a task belongs to: in the simulation, the id of the node whose process it is part of.
/// Tasks spawned inside a task inherit its owner; tasks of no one (the network) have `None`.
pub type Owner = u64;

/// Identifies a task within one executor. The future given to `block_on` is [`MAIN_TASK`].
type TaskId = u64;

const MAIN_TASK: TaskId = 0;

/// Polls allowed while virtual time stands still before the executor reports a busy loop: a task
/// that keeps waking itself would otherwise hang the simulation (or a browser tab) forever.
const MAX_POLLS_PER_INSTANT: u64 = 2_000_000;

type BoxTask = Pin<Box<dyn Future<Output = ()> + Send>>;

struct Task {
    /// `None` while the task is out of the map being polled.
    future: Option<BoxTask>,
    owner: Option<Owner>,
}

struct State {
    /// Virtual time in nanoseconds since an arbitrary origin ([`EPOCH_NANOS`] is the start).
    now: u64,
    seed: u64,
    rng_draws: u64,
    next_task: TaskId,
    next_timer_seq: u64,
    run_queue: VecDeque<TaskId>,
    /// Mirrors `run_queue` so that a wake of an already queued task is O(log n).
    queued: BTreeSet<TaskId>,
    tasks: BTreeMap<TaskId, Task>,
    timers: BTreeMap<(u64, u64), Waker>,
    /// The owner of the task being polled, or the owner given to [`Executor::enter_as`].
    current_owner: Option<Owner>,
    polls_at_instant: u64,
}

impl State {
    fn enqueue(&mut self, id: TaskId) {
        if self.queued.insert(id) {
            self.run_queue.push_back(id);
        }
    }

    fn pop(&mut self) -> Option<TaskId> {
        let id = self.run_queue.pop_front()?;
        self.queued.remove(&id);
        Some(id)
    }

    fn count_poll(&mut self) {
        self.polls_at_instant += 1;
        if self.polls_at_instant > MAX_POLLS_PER_INSTANT {
            panic!(
                "flotilla runtime: {MAX_POLLS_PER_INSTANT} polls at virtual time {:?} without the clock \
                 moving: a task is busy-looping",
                VirtualInstant(self.now).since_start()
            );
        }
    }
}

/// Everything one executor owns, shared with its wakers, timers and handles.
pub(crate) struct Shared {
    state: Mutex<State>,
}

impl Shared {
    /// Locks the state. No task code ever runs under this lock, so poisoning can only follow a
    /// panic inside the executor itself; the state is then still good enough to drop.
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A handle to one executor. Cloning it is cheap and yields the same executor.
#[derive(Clone)]
pub struct Executor {
    shared: Arc<Shared>,
}

struct TaskWaker {
    id: TaskId,
    shared: Weak<Shared>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(shared) = self.shared.upgrade() {
            let mut state = shared.lock();
            // A waker may outlive its task (a channel closed while the task was being dropped).
            if self.id == MAIN_TASK || state.tasks.contains_key(&self.id) {
                state.enqueue(self.id);
            }
        }
    }
}

impl Executor {
    /// A new executor at virtual time zero whose randomness derives entirely from `seed`.
    pub fn new(seed: u64) -> Self {
        let state = State {
            now: EPOCH_NANOS,
            seed,
            rng_draws: 0,
            next_task: MAIN_TASK + 1,
            next_timer_seq: 0,
            run_queue: VecDeque::new(),
            queued: BTreeSet::new(),
            tasks: BTreeMap::new(),
            timers: BTreeMap::new(),
            current_owner: None,
            polls_at_instant: 0,
        };
        Executor {
            shared: Arc::new(Shared {
                state: Mutex::new(state),
            }),
        }
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.shared.lock()
    }

    pub(crate) fn downgrade(&self) -> Weak<Shared> {
        Arc::downgrade(&self.shared)
    }

    pub(crate) fn from_weak(shared: &Weak<Shared>) -> Option<Executor> {
        shared.upgrade().map(|shared| Executor { shared })
    }

    /// Runs `f` with this executor installed, so it may create timers, spawn tasks and read the
    /// clock (creating an openraft `Raft` does all three). Spawned tasks keep the ambient owner.
    pub fn enter<R>(&self, f: impl FnOnce() -> R) -> R {
        let _installed = Installed::new(self, None);
        f()
    }

    /// Like [`enter`](Self::enter), but tasks spawned by `f` belong to `owner`.
    pub fn enter_as<R>(&self, owner: Option<Owner>, f: impl FnOnce() -> R) -> R {
        let _installed = Installed::new(self, Some(owner));
        f()
    }

    /// The current virtual time.
    pub fn now(&self) -> VirtualInstant {
        VirtualInstant(self.lock().now)
    }

    /// The deadline of the earliest pending timer, if any.
    pub fn next_deadline(&self) -> Option<VirtualInstant> {
        self.lock()
            .timers
            .keys()
            .next()
            .map(|&(deadline, _)| VirtualInstant(deadline))
    }

    /// Whether some task is waiting to be polled.
    pub fn has_runnable(&self) -> bool {
        !self.lock().run_queue.is_empty()
    }

    /// How many tasks are alive (for diagnostics and leak tests).
    pub fn task_count(&self) -> usize {
        self.lock().tasks.len()
    }

    /// A fresh seed for one RNG, derived from the executor's seed and how many were drawn before.
    pub fn next_rng_seed(&self) -> u64 {
        let mut state = self.lock();
        let draw = state.rng_draws;
        state.rng_draws += 1;
        splitmix64(state.seed ^ splitmix64(draw))
    }

    /// A fresh RNG for one use: see [`next_rng_seed`](Self::next_rng_seed).
    pub fn rng(&self) -> Xoshiro256PlusPlus {
        Xoshiro256PlusPlus::seed_from_u64(self.next_rng_seed())
    }

    /// Spawns a task owned by the ambient owner (that of the task or `enter_as` call spawning it).
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let owner = self.lock().current_owner;
        self.spawn_owned(owner, future)
    }

    /// Spawns a task that belongs to `owner` whoever spawns it: a message on the wire belongs to
    /// no node (`None`), so crashing its sender does not pull it back.
    pub fn spawn_owned<F>(&self, owner: Option<Owner>, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let (task, handle) = completion(future);
        let mut state = self.lock();
        let id = state.next_task;
        state.next_task += 1;
        state.tasks.insert(
            id,
            Task {
                future: Some(Box::pin(task)),
                owner,
            },
        );
        state.enqueue(id);
        handle
    }

    /// Drops every task of `owner` on the spot, as if its process died: their timers are
    /// cancelled, their channels close, their join handles report cancellation. Returns how many
    /// tasks were dropped. Must not be called from inside a task of this executor.
    pub fn kill_owner(&self, owner: Owner) -> usize {
        let _installed = Installed::new(self, None);
        let mut killed = 0;
        // Dropping a task can spawn or wake others of the same owner; repeat until none remain.
        loop {
            let victims: Vec<Task> = {
                let mut state = self.lock();
                let ids: Vec<TaskId> = state
                    .tasks
                    .iter()
                    .filter(|(_, task)| task.owner == Some(owner))
                    .map(|(&id, _)| id)
                    .collect();
                state.run_queue.retain(|id| !ids.contains(id));
                for id in &ids {
                    state.queued.remove(id);
                }
                ids.iter().filter_map(|id| state.tasks.remove(id)).collect()
            };
            if victims.is_empty() {
                return killed;
            }
            killed += victims.len();
            // Dropped outside the lock: dropping a timer or a channel locks the executor again.
            drop(victims);
        }
    }

    /// Polls runnable tasks until none is left, without moving the clock.
    pub fn run_ready(&self) {
        let _installed = Installed::new(self, None);
        loop {
            // Popped in its own statement: the guard must not live through the poll.
            let next = self.lock().pop();
            match next {
                Some(MAIN_TASK) => {}
                Some(id) => self.poll_task(id),
                None => return,
            }
        }
    }

    /// Runs every task and timer up to and including `deadline`, then sets the clock to
    /// `deadline` (never backwards).
    pub fn run_until(&self, deadline: VirtualInstant) {
        loop {
            self.run_ready();
            if !self.fire_next_timers(Some(deadline.0)) {
                let mut state = self.lock();
                if deadline.0 > state.now {
                    state.now = deadline.0;
                    state.polls_at_instant = 0;
                }
                return;
            }
        }
    }

    /// Runs what is runnable, then jumps to the next timer deadline, fires every timer due then
    /// and runs what they woke. Returns `false` (and does nothing more) if no timer is pending.
    pub fn step(&self) -> bool {
        self.run_ready();
        let fired = self.fire_next_timers(None);
        self.run_ready();
        fired
    }

    /// Runs `future` to completion, driving every other task and jumping the clock whenever
    /// nothing is runnable. Panics on a deadlock (nothing runnable, no timer, future pending).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        let _installed = Installed::new(self, None);
        let mut future = pin!(future);
        let waker = Waker::from(Arc::new(TaskWaker {
            id: MAIN_TASK,
            shared: self.downgrade(),
        }));
        let mut cx = Context::from_waker(&waker);
        self.lock().enqueue(MAIN_TASK);
        loop {
            let next = self.lock().pop();
            match next {
                Some(MAIN_TASK) => {
                    self.lock().count_poll();
                    if let Poll::Ready(output) = future.as_mut().poll(&mut cx) {
                        return output;
                    }
                }
                Some(id) => self.poll_task(id),
                None => {
                    if !self.fire_next_timers(None) {
                        panic!(
                            "flotilla runtime: deadlock at {:?}: the future is pending, no task is \
                             runnable and no timer is pending",
                            self.now()
                        );
                    }
                }
            }
        }
    }

    fn poll_task(&self, id: TaskId) {
        let (mut future, owner) = {
            let mut state = self.lock();
            let Some(task) = state.tasks.get_mut(&id) else {
                return;
            };
            let Some(future) = task.future.take() else {
                return;
            };
            let owner = task.owner;
            state.count_poll();
            (future, std::mem::replace(&mut state.current_owner, owner))
        };
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            shared: self.downgrade(),
        }));
        let polled = future.as_mut().poll(&mut Context::from_waker(&waker));
        let finished = {
            let mut state = self.lock();
            state.current_owner = owner;
            match polled {
                Poll::Ready(()) => state.tasks.remove(&id).map(|_| future),
                Poll::Pending => {
                    if let Some(task) = state.tasks.get_mut(&id) {
                        task.future = Some(future);
                    }
                    None
                }
            }
        };
        // Dropped outside the lock: the task may own timers whose drop locks the executor.
        drop(finished);
    }

    /// Moves the clock to the earliest timer (if it is due by `limit`) and wakes every timer due
    /// at that instant. Returns `false` if there was none.
    fn fire_next_timers(&self, limit: Option<u64>) -> bool {
        let wakers = {
            let mut state = self.lock();
            let Some(&(deadline, _)) = state.timers.keys().next() else {
                return false;
            };
            if limit.is_some_and(|limit| deadline > limit) {
                return false;
            }
            if deadline > state.now {
                state.now = deadline;
                state.polls_at_instant = 0;
            }
            let now = state.now;
            let mut wakers = Vec::new();
            while let Some(entry) = state.timers.first_entry() {
                if entry.key().0 > now {
                    break;
                }
                wakers.push(entry.remove());
            }
            wakers
        };
        for waker in wakers {
            waker.wake();
        }
        true
    }

    /// Returns the sequence number of a new timer: timers sharing a deadline fire in this order.
    pub(crate) fn new_timer_seq(&self) -> u64 {
        let mut state = self.lock();
        let seq = state.next_timer_seq;
        state.next_timer_seq += 1;
        seq
    }

    /// Registers (or refreshes the waker of) the timer `(deadline, seq)`. Returns `true` if the
    /// deadline has already passed, in which case nothing is registered.
    pub(crate) fn arm_timer(&self, deadline: u64, seq: u64, waker: &Waker) -> bool {
        let mut state = self.lock();
        if state.now >= deadline {
            return true;
        }
        state.timers.insert((deadline, seq), waker.clone());
        false
    }

    /// Removes a timer that has not fired.
    pub(crate) fn cancel_timer(&self, deadline: u64, seq: u64) {
        self.lock().timers.remove(&(deadline, seq));
    }

    /// Forgets every task, with this executor installed so their drop code still works.
    fn drop_all_tasks(&self) {
        let _installed = Installed::new(self, None);
        loop {
            let tasks: Vec<Task> = {
                let mut state = self.lock();
                state.run_queue.clear();
                state.queued.clear();
                std::mem::take(&mut state.tasks).into_values().collect()
            };
            if tasks.is_empty() {
                return;
            }
            drop(tasks);
        }
    }
}

impl std::fmt::Debug for Executor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("Executor")
            .field("now", &VirtualInstant(state.now))
            .field("tasks", &state.tasks.len())
            .field("timers", &state.timers.len())
            .finish()
    }
}

/// Owns an executor and drops its tasks when it goes away (tasks hold clones of channels that
/// would otherwise keep each other alive in a cycle).
pub(crate) struct ExecutorOwner(pub(crate) Executor);

impl Drop for ExecutorOwner {
    fn drop(&mut self) {
        self.0.drop_all_tasks();
    }
}

/// SplitMix64: a tiny, well-studied mixer that turns (seed, counter) into independent seeds.
fn splitmix64(seed: u64) -> u64 {
    let z = seed.wrapping_add(0x9e37_79b9_7f4a_7c15);
    let z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    let z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}
