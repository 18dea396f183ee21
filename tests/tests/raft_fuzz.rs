//! Hostile input on the Raft endpoints, from a holder of the cluster's secret (the strongest
//! attacker short of running Flotilla's own code): every `/raft/*` path, with bodies that are
//! random bytes, truncated or bit-flipped encodings of real messages, and real messages with
//! random terms, indexes, ids and entries. Strangers are refused before decoding (the security
//! tests show it); this shows that what a member sends cannot crash or wedge a node either.
//!
//! Every answer must come, none may be a 5xx, and afterwards the node is still running and
//! answering, and nothing in it panicked. `FLOTILLA_RAFT_FUZZ_CASES`
//! sets the number of messages (default 2,000); `FLOTILLA_FUZZ_SEED` replays a run.

use std::time::Duration;

use flotilla::auth::ClusterSecret;
use flotilla::auth::PeerAuth;
use flotilla::transport::wire;
use flotilla::types::NativeTypes;
use flotilla_core::model::Command;
use flotilla_core::model::RequestId;
use flotilla_core::model::ServiceSpec;
use flotilla_core::model::Write;
use flotilla_core::raft::Vote;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::send;
use flotilla_tests::seeded::number_from_env;
use flotilla_tests::seeded::seed_from_env;
use openraft::LogId;
use openraft::entry::RaftEntry;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::VoteRequest;
use proptest::prelude::*;
use proptest::test_runner::Config;
use proptest::test_runner::RngAlgorithm;
use proptest::test_runner::TestRng;
use proptest::test_runner::TestRunner;
use serde_json::json;

const SECRET: &str = "raft-fuzz-secret-0123456789";

/// The Raft paths a node serves.
const PATHS: [&str; 7] = [
    wire::APPEND,
    wire::VOTE,
    wire::PRE_VOTE,
    wire::SNAPSHOT,
    wire::PROPOSE,
    wire::PING,
    wire::LEAVE,
];

fn log_id(term: u64, index: u64) -> openraft::alias::LogIdOf<NativeTypes> {
    LogId::new(
        openraft::vote::leader_id_std::CommittedLeaderId::new(term),
        index,
    )
}

/// A real message of some kind, with random fields, encoded.
fn message() -> impl Strategy<Value = Vec<u8>> {
    let term = prop_oneof![0..10u64, any::<u64>()];
    let index = prop_oneof![0..100u64, any::<u64>()];
    let id = prop_oneof![0..10u64, any::<u64>()];
    prop_oneof![
        (
            term.clone(),
            id.clone(),
            proptest::option::of((term.clone(), index.clone()))
        )
            .prop_map(|(term, id, last)| {
                let last = last.map(|(t, i)| log_id(t, i));
                wire::encode(&VoteRequest::<NativeTypes>::new(Vote::new(term, id), last))
                    .unwrap()
                    .to_vec()
            }),
        (
            term.clone(),
            id.clone(),
            proptest::option::of((term.clone(), index.clone())),
            proptest::option::of((term.clone(), index.clone())),
            proptest::collection::vec((term, index), 0..4),
        )
            .prop_map(|(term, id, prev, commit, entries)| {
                let request = AppendEntriesRequest::<NativeTypes> {
                    vote: Vote::new_committed(term, id),
                    prev_log_id: prev.map(|(t, i)| log_id(t, i)),
                    entries: entries
                        .into_iter()
                        .map(|(t, i)| {
                            <NativeTypes as openraft::RaftTypeConfig>::Entry::new_blank(log_id(
                                t, i,
                            ))
                        })
                        .collect(),
                    leader_commit: commit.map(|(t, i)| log_id(t, i)),
                };
                wire::encode(&request).unwrap().to_vec()
            }),
        (0..5u32, ".{0,40}").prop_map(|(replicas, label)| {
            let write = Write::new(
                RequestId::parse("fuzz-1").unwrap(),
                Command::CreateServices {
                    services: vec![ServiceSpec {
                        label,
                        replicas,
                        uniq_id: None,
                    }],
                },
            );
            wire::encode(&wire::Proposal::Command(write))
                .unwrap()
                .to_vec()
        }),
        any::<u64>().prop_map(|id| {
            let write = Write::from(Command::MarkNodeDown { id });
            wire::encode(&wire::Proposal::Command(write))
                .unwrap()
                .to_vec()
        }),
    ]
}

/// A body: random bytes, a real message, or a real message cut short or with a bit flipped.
fn body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..200),
        message(),
        (message(), any::<prop::sample::Index>()).prop_map(|(mut bytes, at)| {
            let keep = at.index(bytes.len() + 1);
            bytes.truncate(keep);
            bytes
        }),
        (message(), any::<prop::sample::Index>(), 0..8u8).prop_map(|(mut bytes, at, bit)| {
            if !bytes.is_empty() {
                let i = at.index(bytes.len());
                bytes[i] ^= 1 << bit;
            }
            bytes
        }),
    ]
}

#[test]
fn a_member_cannot_crash_or_wedge_a_node_with_any_raft_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = flotilla_tests::process::lone_node(dir.path(), &["--cluster-secret", SECRET]);
    let addr = node.addr.clone();
    let auth = PeerAuth::new("0", Some(ClusterSecret::new(SECRET, "test").unwrap()));
    let seed = seed_from_env("FLOTILLA_FUZZ_SEED");
    let cases = number_from_env("FLOTILLA_RAFT_FUZZ_CASES", 2000) as u32;
    println!("raft fuzz: seed {seed}, {cases} messages (FLOTILLA_FUZZ_SEED={seed} replays)");
    let mut runner = TestRunner::new_with_rng(
        Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        },
        TestRng::from_seed(RngAlgorithm::ChaCha, &seed_bytes(seed)),
    );
    let strategy = (0..PATHS.len(), 0..5u64, body());
    let wrong = std::cell::RefCell::new(Vec::new());
    let statuses = std::cell::RefCell::new(std::collections::BTreeMap::<u16, u32>::new());
    let result = runner.run(&strategy, |(path, from, body)| {
        let path = PATHS[path];
        // The leader a node follows may tell it to leave, and it does: a member that lies
        // can remove a node (Raft trusts its members). Leaves come from a sender no fuzzed
        // vote names, so they test the refusal, not the removal.
        let from = if path == wire::LEAVE {
            u64::MAX - 1
        } else {
            2 + from
        };
        let signed = auth.sign("POST", path, from, &body);
        let mut headers: Vec<(&str, &str)> = signed
            .headers
            .iter()
            .map(|(n, v)| (*n, v.as_str()))
            .collect();
        headers.push(("content-type", wire::CONTENT_TYPE));
        let reply = send("POST", &addr, path, &headers, Some(body.clone()));
        *statuses.borrow_mut().entry(reply.status).or_default() += 1;
        if reply.status == 0 || reply.status >= 500 {
            wrong
                .borrow_mut()
                .push(format!("{path} {body:?}: {} {}", reply.status, reply.text));
        }
        Ok(())
    });
    assert!(result.is_ok(), "{result:?}");
    let wrong = wrong.into_inner();
    println!("raft fuzz: answers by status {:?}", statuses.into_inner());
    assert!(
        wrong.is_empty(),
        "{} wrong answers (seed {seed}):\n{}",
        wrong.len(),
        wrong.join("\n")
    );

    // Still running, answering, and nothing panicked (openraft's core runs in a task of its
    // own: a panic there would leave the process up with its Raft dead). Raft does not defend
    // against a member that lies (it is not Byzantine-tolerant): such a member may depose the
    // leader or hold the node to a fake one, so committing again is not required here.
    std::thread::sleep(Duration::from_millis(500));
    assert!(node.is_running(), "the node stopped:\n{}", node.log());
    let (status, stats) = get(&addr, "/stats");
    assert_eq!(status, 200, "{stats}");
    let term = stats["term"].as_u64().unwrap();
    assert!(term <= u64::MAX / 2, "term {term}");
    let log = node.log();
    assert!(!log.contains("panicked"), "a panic in the node:\n{log}");
    let committed = flotilla_tests::process::poll(Duration::from_secs(5), || {
        let (status, _) = post(
            &addr,
            "/service",
            &json!({"container": {"label": "after"}, "replicas": 1}),
        );
        (status == 201).then_some(())
    });
    println!(
        "raft fuzz: the node {} a write afterwards",
        if committed.is_some() {
            "committed"
        } else {
            "did not commit (a lying member holds it)"
        }
    );
}

fn seed_bytes(seed: u64) -> [u8; 32] {
    let mut bytes = [0u8; 32];
    bytes[..8].copy_from_slice(&seed.to_le_bytes());
    bytes
}
