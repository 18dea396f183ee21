//! The fault campaign (`flotilla_core::sim::campaign`) seen from outside: seeds keep every
//! promise, a seed replays exactly, and a failing seed would say how to replay it.
//!
//! The proof that the campaign's checkers bite — deliberate bugs (an entry skipped in apply, a
//! vote not persisted, a placement over capacity, an acknowledged write dropped), each caught
//! within a few hundred seeds — lives with the mutations in flotilla-core's own tests
//! (`core/src/sim/campaign/tests.rs`): the mutations are compiled only into core's unit-test
//! harness (`#[cfg(test)]`), so no build of this crate, or any other, can contain them.

use flotilla_core::sim::campaign::FaultKind;
use flotilla_core::sim::campaign::replay_command;
use flotilla_core::sim::campaign::run_campaign;
use flotilla_core::sim::campaign::run_seed;

#[test]
fn a_few_seeds_keep_every_promise_and_inject_faults() {
    let summary = run_campaign(100, 4, 5, 2, |report| {
        assert!(report.violation.is_none(), "{report}");
    });
    assert_eq!(summary.seeds, 4);
    assert!(summary.passed(), "{summary}");
    let kinds = summary.faults.values().filter(|count| **count > 0).count();
    assert!(
        kinds >= 5,
        "a handful of fault kinds were injected: {summary}"
    );
    assert!(summary.operations > 100, "clients were busy: {summary}");
    let line = summary.to_string();
    for kind in FaultKind::ALL {
        assert!(
            line.contains(kind.name()),
            "the summary names {kind:?}: {line}"
        );
    }
    assert!(line.ends_with("0 violations"), "{line}");
}

#[test]
fn three_and_seven_node_clusters_keep_every_promise() {
    for nodes in [3, 7] {
        let report = run_seed(7, nodes);
        assert!(report.violation.is_none(), "{report}");
    }
}

#[test]
fn a_seed_replays_exactly() {
    let first = run_seed(42, 5);
    let again = run_seed(42, 5);
    assert_eq!(
        (
            first.simulated,
            &first.faults,
            first.operations,
            first.committed
        ),
        (
            again.simulated,
            &again.faults,
            again.operations,
            again.committed
        )
    );
}

#[test]
fn a_failing_seed_says_how_to_replay_it() {
    assert_eq!(
        replay_command(1234, 5),
        "cargo xtask sim --seeds 1 --from 1234 --nodes 5"
    );
    assert_eq!(run_seed(3, 5).replay_command(), replay_command(3, 5));
}

/// Seeds the 10,000-seed campaign failed before a restarted leader had to win an election again
/// (openraft's `enable_leader_restore` off): the leader crashed with entries a quorum of
/// followers held but it had not flushed, came back as leader of its old term, and proposed
/// other entries under the same log ids.
#[test]
fn a_leader_that_lost_unflushed_entries_in_a_crash_does_not_reuse_their_log_ids() {
    for seed in [2999, 3370, 5015] {
        let report = run_seed(seed, 5);
        assert!(report.violation.is_none(), "{report}");
    }
}

/// A seed the 10,000-seed campaign failed while the networks ignored openraft's `cancel` for a
/// snapshot: a leader deposed while it sent one kept sending, under its old vote, each newer
/// snapshot it made as a follower, and a node restarted with that old vote accepted one whose
/// entries were beyond that vote's term (openraft refuses such a snapshot by panicking).
#[test]
fn a_deposed_leader_stops_sending_snapshots() {
    let report = run_seed(2274, 5);
    assert!(report.violation.is_none(), "{report}");
}
