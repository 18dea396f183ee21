//! Tests of idempotent writes: a request applied once however often it is committed, across
//! snapshots; a reused id refused; the table bounded; ids checked.

use super::*;
use crate::model::node::NodeSpec;
use crate::model::service::ServiceSpec;
use crate::model::write::{MAX_REQUEST_ID_CHARS, Write};
use crate::model::{ClusterState, Outcome};

fn id(key: &str) -> RequestId {
    RequestId::parse(key).expect("a valid key")
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

fn cluster() -> ClusterState {
    let mut state = ClusterState::default();
    let node = NodeSpec {
        id: 1,
        name: "n1".into(),
        addr: "host:8001".into(),
        capacity: 10,
    };
    state.apply(1, &Command::AddNode { node });
    state
}

#[test]
fn a_write_committed_twice_is_applied_once_and_answers_alike() {
    let mut state = cluster();
    let write = Write::new(id("create-web"), create("web", 3));
    let first = state.apply_write(2, &write);
    let after_first = state.clone();
    let second = state.apply_write(3, &write);
    assert_eq!(first, second, "a copy answers what the first one did");
    assert_eq!(first.log_index, 2);
    assert!(matches!(first.outcome, Outcome::ServicesCreated { .. }));
    assert_eq!(state.services().len(), 1, "one service, not two");
    assert_eq!(state, after_first, "the copy changed nothing");
}

#[test]
fn a_snapshot_remembers_the_answers() {
    let mut state = cluster();
    let write = Write::new(id("create-web"), create("web", 3));
    let first = state.apply_write(2, &write);
    let json = serde_json::to_string(&state).expect("serialises");
    let mut restored: ClusterState = serde_json::from_str(&json).expect("loads");
    assert_eq!(restored, state);
    let again = restored.apply_write(7, &write);
    assert_eq!(again, first);
    assert_eq!(restored.services().len(), 1);
}

#[test]
fn the_same_id_on_another_request_is_refused_and_changes_nothing() {
    let mut state = cluster();
    state.apply_write(2, &Write::new(id("k"), create("web", 3)));
    let before = state.clone();
    let answer = state.apply_write(3, &Write::new(id("k"), create("db", 1)));
    let Outcome::RequestIdReused { reason } = &answer.outcome else {
        panic!("expected a refusal, got {answer:?}");
    };
    assert!(
        reason.contains("\"k\"") && reason.contains("log index 2"),
        "{reason}"
    );
    assert_eq!(answer.log_index, 3);
    assert_eq!(state, before);
}

#[test]
fn rejections_are_remembered_too() {
    let mut state = cluster();
    let delete = Write::new(id("del-1"), Command::DeleteService { id: 1 });
    let refused = state.apply_write(2, &delete);
    assert!(matches!(refused.outcome, Outcome::Rejected { .. }));
    // Service 1 exists now, but the retry of the refused request still gets its refusal.
    state.apply_write(3, &Write::from(create("web", 1)));
    assert_eq!(state.apply_write(4, &delete), refused);
    assert!(state.service(1).is_some());
}

#[test]
fn writes_without_an_id_are_applied_every_time() {
    let mut state = cluster();
    let write = Write::from(create("web", 1));
    state.apply_write(2, &write);
    state.apply_write(3, &write);
    assert_eq!(state.services().len(), 2);
    assert!(state.recent_writes().is_empty());
}

#[test]
fn the_table_forgets_the_oldest_beyond_its_bound() {
    let mut recent = RecentWrites::default();
    let command = create("web", 1);
    let answer = |log_index| Answer {
        log_index,
        outcome: Outcome::ServiceDeleted { id: 1 },
    };
    let total = REMEMBERED_WRITES as u64 + 2;
    for n in 1..=total {
        recent.remember(id(&format!("k{n}")), &command, answer(n));
    }
    assert_eq!(recent.len(), REMEMBERED_WRITES);
    assert_eq!(recent.seen(&id("k1"), &command), Seen::New);
    assert_eq!(recent.seen(&id("k2"), &command), Seen::New);
    assert_eq!(recent.seen(&id("k3"), &command), Seen::Again(&answer(3)));
    let json = serde_json::to_string(&recent).expect("serialises");
    let restored: RecentWrites = serde_json::from_str(&json).expect("loads");
    assert_eq!(restored, recent, "the age index is rebuilt on load");
}

#[test]
fn request_ids_are_checked() {
    for good in [
        "a",
        "550e8400-e29b-41d4-a716-446655440000",
        "deploy:42",
        "A_b.c-d",
    ] {
        assert_eq!(id(good).as_str(), good);
    }
    let long = "x".repeat(MAX_REQUEST_ID_CHARS + 1);
    for bad in ["", "with space", "é", "a/b", "a\"b", long.as_str()] {
        assert!(RequestId::parse(bad).is_err(), "{bad:?} accepted");
    }
    assert!(RequestId::parse(&"x".repeat(MAX_REQUEST_ID_CHARS)).is_ok());
    let random = RequestId::from_bits(u128::MAX - 1);
    assert_eq!(RequestId::parse(random.as_str()), Ok(random));
    // Deserialising checks the same rules: a bad id in a log entry or snapshot is refused.
    assert!(serde_json::from_str::<RequestId>("\"a b\"").is_err());
}
