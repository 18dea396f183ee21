//! [`VirtualRuntime`]: the [`AsyncRuntime`] openraft runs on inside the simulation.

use std::future::Future;
use std::io;
use std::time::Duration;

use openraft_rt::AsyncRuntime;
use openraft_rt::OptionalSend;
use rand::rngs::Xoshiro256PlusPlus;

use super::executor;
use super::executor::Executor;
use super::executor::ExecutorOwner;
use super::instant::VirtualInstant;
use super::join::JoinError;
use super::join::JoinHandle;
use super::sleep::Sleep;
use super::sleep::Timeout;
use super::sleep::TimeoutElapsed;
use super::sync::VirtualMpsc;
use super::sync::VirtualMutex;
use super::sync::VirtualOneshot;
use super::watch::VirtualWatch;

/// openraft's view of an [`Executor`]: every static function of [`AsyncRuntime`] acts on the
/// executor installed on the calling thread.
///
/// A `VirtualRuntime` value owns an executor (for `block_on` and openraft's conformance suite);
/// the simulation drives its executor directly instead.
pub struct VirtualRuntime {
    owner: ExecutorOwner,
}

impl VirtualRuntime {
    /// A runtime on a fresh executor seeded with `seed`.
    pub fn with_seed(seed: u64) -> Self {
        VirtualRuntime {
            owner: ExecutorOwner(Executor::new(seed)),
        }
    }

    /// The executor behind this runtime.
    pub fn executor(&self) -> &Executor {
        &self.owner.0
    }
}

impl std::fmt::Debug for VirtualRuntime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("VirtualRuntime")
            .field(self.executor())
            .finish()
    }
}

impl AsyncRuntime for VirtualRuntime {
    type JoinError = JoinError;
    type JoinHandle<T: OptionalSend + 'static> = JoinHandle<T>;
    type Sleep = Sleep;
    type Instant = VirtualInstant;
    type TimeoutError = TimeoutElapsed;
    type Timeout<R, T: Future<Output = R> + OptionalSend> = Timeout<T>;
    // Named, not `SmallRng`: that is another generator on 32-bit targets such as wasm32, and a
    // seed must replay the same run in the browser as natively.
    type ThreadLocalRng = Xoshiro256PlusPlus;
    type Mpsc = VirtualMpsc;
    type Watch = VirtualWatch;
    type Oneshot = VirtualOneshot;
    type Mutex<T: OptionalSend + 'static> = VirtualMutex<T>;

    #[track_caller]
    fn spawn<T>(future: T) -> JoinHandle<T::Output>
    where
        T: Future + OptionalSend + 'static,
        T::Output: OptionalSend + 'static,
    {
        executor::current().spawn(future)
    }

    #[track_caller]
    fn sleep(duration: Duration) -> Sleep {
        Sleep::until(executor::current().now() + duration)
    }

    #[track_caller]
    fn sleep_until(deadline: VirtualInstant) -> Sleep {
        Sleep::until(deadline)
    }

    #[track_caller]
    fn timeout<R, F: Future<Output = R> + OptionalSend>(
        duration: Duration,
        future: F,
    ) -> Timeout<F> {
        Timeout::new(future, Self::sleep(duration))
    }

    #[track_caller]
    fn timeout_at<R, F: Future<Output = R> + OptionalSend>(
        deadline: VirtualInstant,
        future: F,
    ) -> Timeout<F> {
        Timeout::new(future, Sleep::until(deadline))
    }

    /// Panics are not caught (a panic in the simulation is a bug to surface, and wasm aborts on
    /// panic anyway), so a join error is never a panic.
    fn is_panic(_join_error: &JoinError) -> bool {
        false
    }

    #[track_caller]
    fn thread_rng() -> Xoshiro256PlusPlus {
        executor::current().rng()
    }

    /// `threads` is ignored: the executor runs on the calling thread. The seed is 0; use
    /// [`VirtualRuntime::with_seed`] to choose one.
    fn new(_threads: usize) -> Self {
        Self::with_seed(0)
    }

    fn block_on<F, T>(&mut self, future: F) -> T
    where
        F: Future<Output = T>,
    {
        self.executor().block_on(future)
    }

    /// Refuses: blocking work on another thread would finish at a wall-clock moment, which a
    /// deterministic run cannot have (and wasm has no threads).
    fn spawn_blocking<F, T>(_f: F) -> impl Future<Output = Result<T, io::Error>> + Send
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        std::future::ready(Err(io::Error::new(
            io::ErrorKind::Unsupported,
            "the virtual runtime cannot run blocking work",
        )))
    }
}

#[cfg(test)]
mod tests {
    use openraft_rt::Instant as _;

    use super::*;

    #[test]
    fn passes_openraft_runtime_conformance_suite() {
        openraft_rt::testing::Suite::<VirtualRuntime>::test_all();
    }

    #[test]
    fn sleeping_jumps_the_clock_without_waiting() {
        let mut rt = VirtualRuntime::with_seed(1);
        let elapsed = rt.block_on(async {
            let start = VirtualInstant::now();
            VirtualRuntime::sleep(Duration::from_secs(3600)).await;
            VirtualInstant::now() - start
        });
        assert_eq!(elapsed, Duration::from_secs(3600));
    }

    #[test]
    fn timers_with_equal_deadlines_fire_in_creation_order() {
        let mut rt = VirtualRuntime::with_seed(1);
        let order = rt.block_on(async {
            let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
            for i in 0..5 {
                let tx = tx.clone();
                let sleep = VirtualRuntime::sleep(Duration::from_millis(10));
                VirtualRuntime::spawn(async move {
                    sleep.await;
                    tx.send(i).ok();
                });
            }
            drop(tx);
            let mut order = Vec::new();
            while let Some(i) = rx.recv().await {
                order.push(i);
            }
            order
        });
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn same_seed_same_randomness_other_seed_other() {
        use rand::RngExt;
        let draw = |seed| {
            VirtualRuntime::with_seed(seed)
                .block_on(async { VirtualRuntime::thread_rng().random::<u64>() })
        };
        assert_eq!(draw(7), draw(7));
        assert_ne!(draw(7), draw(8));
    }

    #[test]
    fn run_until_stops_at_the_deadline_and_kill_owner_drops_tasks() {
        let rt = VirtualRuntime::with_seed(1);
        let exec = rt.executor().clone();
        let ticks = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
        let counter = ticks.clone();
        exec.enter_as(Some(3), || {
            VirtualRuntime::spawn(async move {
                loop {
                    VirtualRuntime::sleep(Duration::from_millis(100)).await;
                    counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
            })
        });
        exec.run_until(VirtualInstant::from_start(Duration::from_millis(1050)));
        assert_eq!(ticks.load(std::sync::atomic::Ordering::SeqCst), 10);
        assert_eq!(exec.now().since_start(), Duration::from_millis(1050));
        assert_eq!(exec.kill_owner(3), 1);
        assert_eq!(
            exec.next_deadline(),
            None,
            "the killed task's timer is cancelled"
        );
        exec.run_until(VirtualInstant::from_start(Duration::from_secs(5)));
        assert_eq!(ticks.load(std::sync::atomic::Ordering::SeqCst), 10);
    }
}
