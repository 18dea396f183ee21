//! A deterministic, single-threaded async runtime on a virtual clock.
//!
//! openraft asks the application for its async runtime (the [`AsyncRuntime`] trait): timers,
//! spawning, channels and randomness all go through it. Flotilla's simulation supplies this one:
//!
//! - **Virtual time.** Nothing reads a wall clock. Time only moves when the driver asks
//!   ([`Executor::run_until`], [`Executor::step`]) or when [`Executor::block_on`] is idle, and
//!   then it jumps straight to the next timer, so an hour of cluster life takes seconds.
//! - **One seed.** Every `thread_rng()` draw derives from the executor's seed and a draw counter;
//!   tasks run FIFO in the order they were woken; timers sharing a deadline fire in creation
//!   order. Same seed, same run, on native and in wasm.
//! - **Owners.** Each task belongs to an owner (a simulated node) inherited from whoever spawned
//!   it, so crashing a node is [`Executor::kill_owner`]: its tasks vanish mid-flight, exactly as a
//!   process dies, while what it had written to its (simulated) disk survives.
//!
//! It builds for `wasm32-unknown-unknown`: no threads, no `std::time`, and tokio only for its
//! runtime-free `sync` channels.
//!
//! [`AsyncRuntime`]: openraft_rt::AsyncRuntime

mod executor;
mod instant;
mod join;
mod runtime;
mod sleep;
mod sync;
mod watch;

pub use executor::Executor;
pub use executor::Owner;
pub(crate) use executor::current as executor_here;
pub use instant::VirtualInstant;
pub use join::JoinError;
pub use join::JoinHandle;
pub use runtime::VirtualRuntime;
pub use sleep::Sleep;
pub use sleep::Timeout;
pub use sleep::TimeoutElapsed;
pub use sync::VirtualMpsc;
pub use sync::VirtualMutex;
pub use sync::VirtualOneshot;
pub use watch::VirtualWatch;
