//! The campaign's own tests: it passes on the real code, and each test-only mutation
//! ([`crate::mutation`]) is caught within a few hundred seeds.

use super::*;
use crate::mutation::Mutation;
use crate::mutation::with_mutation;

/// Runs seeds from 0 with `mutation` on until one fails; returns it, or `None` after `limit`.
fn first_caught(mutation: Mutation, limit: u64) -> Option<SeedReport> {
    (0..limit)
        .map(|seed| with_mutation(Some(mutation), || run_seed(seed, 5)))
        .find(|report| report.violation.is_some())
}

fn assert_caught(mutation: Mutation, expected: &str) {
    let report = first_caught(mutation, 300)
        .unwrap_or_else(|| panic!("{mutation:?} was not caught in 300 seeds"));
    let what = &report.violation.as_ref().expect("a violation").what;
    eprintln!("{mutation:?} caught at seed {}: {what}", report.seed);
    assert!(
        what.contains(expected),
        "{mutation:?} was caught at seed {} but not as expected ({expected}): {what}",
        report.seed
    );
}

#[test]
fn an_entry_skipped_in_apply_is_caught() {
    assert_caught(Mutation::SkipApply, "rebuilt from the committed log");
}

#[test]
fn a_vote_not_persisted_is_caught() {
    assert_caught(Mutation::VoteNotPersisted, "term went back");
}

#[test]
fn a_placement_over_capacity_is_caught() {
    assert_caught(Mutation::OverCapacity, "over its capacity");
}

#[test]
fn an_acknowledged_write_dropped_is_caught() {
    assert_caught(Mutation::DropAckedWrite, "linearizability");
}

#[test]
fn the_real_code_passes_a_few_seeds() {
    for seed in 0..3 {
        let report = run_seed(seed, 5);
        assert!(report.violation.is_none(), "{report}");
    }
}
