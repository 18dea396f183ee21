//! Deliberate bugs, to prove that the fault campaign ([`crate::sim::campaign`]) catches real
//! ones: each [`Mutation`] breaks one promise (an entry skipped in apply, a vote not persisted,
//! a replica placed over capacity, an acknowledged write dropped), and core's own tests run a
//! campaign with it switched on and expect a violation within a few hundred seeds.
//!
//! Why `#[cfg(test)]` and not a cargo feature: `lib.rs` declares this module only when
//! flotilla-core is compiled as its own unit-test harness (`cargo test -p flotilla-core`), and
//! every hook is a `#[cfg(test)]` block. No dependent crate, no feature flag and no feature
//! unification in a workspace build can ever compile a mutation into a binary: a feature would
//! be switched on for every crate of a `cargo test --workspace` build as soon as one test crate
//! asked for it. Even in the test harness a mutation is dormant until a test switches it on, for
//! its own thread only ([`with_mutation`]), so the other tests running alongside are unaffected.

use std::cell::Cell;

/// One deliberate bug.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mutation {
    /// The state machine skips the command of every entry whose index is a multiple of 13 (the
    /// entry counts as applied, its effect is lost): every node agrees, the committed log does
    /// not.
    SkipApply,
    /// The log store keeps votes in memory but never writes them to its disk: a crashed node
    /// restarts with the vote it had at boot and may vote twice in one term.
    VoteNotPersisted,
    /// Placement believes every node holds one replica more than its capacity.
    OverCapacity,
    /// A leader answers every fifth create as done without proposing it.
    DropAckedWrite,
}

thread_local! {
    static ACTIVE: Cell<Option<Mutation>> = const { Cell::new(None) };
}

/// Whether `mutation` is switched on for this thread.
pub(crate) fn active(mutation: Mutation) -> bool {
    ACTIVE.with(|active| active.get() == Some(mutation))
}

/// Runs `f` with `mutation` switched on for this thread, and off again afterwards (even if `f`
/// panics).
pub(crate) fn with_mutation<R>(mutation: Option<Mutation>, f: impl FnOnce() -> R) -> R {
    struct Restore(Option<Mutation>);
    impl Drop for Restore {
        fn drop(&mut self) {
            ACTIVE.with(|active| active.set(self.0));
        }
    }
    let _restore = Restore(ACTIVE.with(|active| active.replace(mutation)));
    f()
}

thread_local! {
    static CREATES_SEEN: Cell<u64> = const { Cell::new(0) };
}

/// Under [`Mutation::DropAckedWrite`], whether the leader drops this create (every fifth it is
/// asked to write) and answers it as done.
pub(crate) fn drops_this_create() -> bool {
    active(Mutation::DropAckedWrite)
        && CREATES_SEEN.with(|count| count.replace(count.get() + 1)) % 5 == 4
}
