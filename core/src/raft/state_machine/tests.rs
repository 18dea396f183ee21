//! Tests of the state machine as openraft drives it: keyed writes applied once across a
//! snapshot and its restore, and learners kept out of the orchestrator's nodes.

use std::collections::BTreeMap;
use std::collections::BTreeSet;
use std::pin::pin;
use std::task::Context;
use std::task::Poll;
use std::task::Waker;

use openraft::Membership;
use openraft::entry::RaftEntry;
use openraft::testing::log_id;

use super::*;
use crate::model::RequestId;
use crate::model::ServiceSpec;
use crate::model::Write;
use crate::sim::SimTypes;

type Store = StateMachineStore<SimTypes>;
type Entry = crate::raft::LogEntry;

/// Runs a future that never waits on anything (the store's methods only take its lock).
fn now<T>(future: impl Future<Output = T>) -> T {
    let mut future = pin!(future);
    match future
        .as_mut()
        .poll(&mut Context::from_waker(Waker::noop()))
    {
        Poll::Ready(value) => value,
        Poll::Pending => panic!("the state machine waited"),
    }
}

fn member(id: u64) -> Member {
    Member {
        name: format!("n{id}"),
        addr: format!("host:{}", 8000 + id),
        capacity: 10,
    }
}

/// A membership of `voters` plus `learners`.
fn membership(index: u64, voters: &[u64], learners: &[u64]) -> Entry {
    let nodes: BTreeMap<u64, Member> = voters
        .iter()
        .chain(learners)
        .map(|&id| (id, member(id)))
        .collect();
    let config = vec![voters.iter().copied().collect::<BTreeSet<u64>>()];
    let membership = Membership::new(config, nodes).expect("a valid membership");
    Entry::new_membership(log_id::<SimTypes>(1, 1, index), membership)
}

fn write(index: u64, write: Write) -> Entry {
    Entry::new_normal(log_id::<SimTypes>(1, 1, index), write)
}

fn create(label: &str, replicas: u32) -> Command {
    Command::CreateServices {
        services: vec![ServiceSpec {
            label: label.into(),
            replicas,
            uniq_id: None,
        }],
    }
}

/// Applies `entries` as openraft would (without responders: no client waits here).
fn apply(store: &mut Store, entries: Vec<Entry>) {
    let items: Vec<Result<EntryResponder<SimTypes>, io::Error>> =
        entries.into_iter().map(|entry| Ok((entry, None))).collect();
    now(store.apply(futures_util::stream::iter(items))).expect("applies");
}

#[test]
fn a_keyed_write_is_applied_once_even_across_a_snapshot() {
    let mut store = Store::default();
    let key = RequestId::parse("create-web").expect("valid");
    let keyed = || Write::new(key.clone(), create("web", 4));
    apply(
        &mut store,
        vec![
            membership(1, &[1, 2], &[]),
            write(2, keyed()),
            write(3, keyed()),
        ],
    );
    assert_eq!(store.read(|state| state.services().len()), 1);
    let first = store.read(|state| state.recent_writes().answer(&key).cloned());
    assert_eq!(first.as_ref().map(|answer| answer.log_index), Some(2));

    // A member that catches up by snapshot still recognises the copy.
    let snapshot = now(store.build_snapshot()).expect("builds");
    let mut restored =
        Store::from_snapshot(snapshot.meta, snapshot.snapshot.into_inner()).expect("restores");
    apply(&mut restored, vec![write(4, keyed())]);
    assert_eq!(restored.read(|state| state.services().len()), 1);
    let again = restored.read(|state| state.recent_writes().answer(&key).cloned());
    assert_eq!(again, first);
}

#[test]
fn a_learner_is_no_placement_target_until_it_votes() {
    let mut store = Store::default();
    apply(
        &mut store,
        vec![membership(1, &[1], &[2]), write(2, create("web", 6).into())],
    );
    let (nodes, on_learner) = store.read(|state| {
        (
            state.nodes().keys().copied().collect::<Vec<_>>(),
            state.node_load(2),
        )
    });
    assert_eq!(nodes, vec![1], "a learner is not an orchestrator node");
    assert_eq!(on_learner, None, "so no replica lands on it");

    // Promoted, it takes work; removed as a learner, it never had any.
    apply(&mut store, vec![membership(3, &[1, 2], &[])]);
    assert_eq!(store.read(|state| state.nodes().len()), 2);
    apply(&mut store, vec![membership(4, &[1], &[])]);
    assert_eq!(store.read(|state| state.nodes().len()), 1);
}
