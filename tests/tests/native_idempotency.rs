//! Writes are applied once however often they arrive: the same `Idempotency-Key` through the
//! demo's entry point or straight to a node gets the first answer again and changes nothing, a
//! write whose answer was lost on the way back is not applied twice when retried, a reused key on
//! a different request is refused, and joins and leaves (Raft membership changes, recorded under
//! their request id) answer a retry as they answered the first time.

use std::time::Duration;

use flotilla_tests::demo::Demo;
use flotilla_tests::process::delete_keyed;
use flotilla_tests::process::free_ports;
use flotilla_tests::process::get;
use flotilla_tests::process::post;
use flotilla_tests::process::post_keyed;
use flotilla_tests::process::wait_for;
use serde_json::Value;
use serde_json::json;

/// A demo of three nodes.
fn start_demo() -> Demo {
    Demo::builder().nodes(3).start()
}

/// Services by label, as the leader has them: how many carry `label`.
fn count(demo: &Demo, label: &str) -> usize {
    demo.state()["services"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|service| service["label"] == label)
        .count()
}

fn web(replicas: u64) -> Value {
    json!({"container": {"label": "web"}, "replicas": replicas})
}

#[test]
fn the_same_key_is_applied_once_through_the_entry_point_and_a_node() {
    let demo = start_demo();
    let (status, first) = post_keyed(&demo.api(), "/clusters/0/service", &web(3), "create-web");
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_keyed(&demo.api(), "/clusters/0/service", &web(3), "create-web");
    assert_eq!(
        (status, &again),
        (201, &first),
        "a retry answers what the first one did"
    );
    // The id lives in the cluster, not in the entry point: a node answers the same.
    for node in demo.nodes() {
        let (status, direct) = post_keyed(node, "/service", &web(3), "create-web");
        assert_eq!((status, &direct), (201, &first), "through {node}");
    }
    assert_eq!(
        count(&demo, "web"),
        1,
        "one service, however often it was asked for"
    );

    // Straight to a node, with a key of its own.
    let node = &demo.nodes()[1];
    let db = json!({"container": {"label": "db"}, "replicas": 1});
    let (status, direct) = post_keyed(node, "/service", &db, "create-db");
    assert_eq!(status, 201, "{direct}");
    assert_eq!(
        post_keyed(node, "/service", &db, "create-db"),
        (201, direct)
    );
    assert_eq!(count(&demo, "db"), 1);

    // The same key on a different request: 422, nothing changes.
    let (status, reused) = post_keyed(&demo.api(), "/clusters/0/service", &web(5), "create-web");
    assert_eq!(status, 422, "{reused}");
    let error = reused["error"].as_str().unwrap();
    assert!(error.contains("idempotency key \"create-web\""), "{error}");
    assert_eq!(count(&demo, "web"), 1);
    let (_, state) = get(&demo.api(), "/clusters/0/state");
    let replicas: Vec<&Value> = state["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|service| &service["replicas"])
        .collect();
    assert_eq!(replicas, vec![&json!(3), &json!(1)], "{state}");

    // Scaling and deleting twice: the second answers like the first (not 404 for the delete).
    let id = first["services"][0]["id"].as_u64().unwrap();
    let scale = format!("/clusters/0/services/{id}/scale");
    let scaled = post_keyed(&demo.api(), &scale, &json!({"replicas": 4}), "scale-web");
    assert_eq!(scaled.0, 200, "{}", scaled.1);
    assert_eq!(
        post_keyed(&demo.api(), &scale, &json!({"replicas": 4}), "scale-web"),
        scaled
    );
    let path = format!("/clusters/0/services/{id}");
    let deleted = delete_keyed(&demo.api(), &path, &Value::Null, "delete-web");
    assert_eq!(deleted.0, 200, "{}", deleted.1);
    assert_eq!(
        delete_keyed(&demo.api(), &path, &Value::Null, "delete-web"),
        deleted
    );
    assert_eq!(count(&demo, "web"), 0);

    // Malformed keys: 400, nothing changes.
    for bad in ["has space", &"k".repeat(129)] {
        let (status, refused) = post_keyed(&demo.api(), "/clusters/0/service", &web(1), bad);
        assert_eq!(status, 400, "{refused}");
        assert!(
            refused["error"]
                .as_str()
                .unwrap()
                .contains("Idempotency-Key")
        );
        let (status, refused) = post_keyed(node, "/service", &web(1), bad);
        assert_eq!(status, 400, "{refused}");
    }
    assert_eq!(count(&demo, "web"), 0);
    // Without a key every request is a new one, as before.
    assert_eq!(post(&demo.api(), "/clusters/0/service", &web(1)).0, 201);
    assert_eq!(post(&demo.api(), "/clusters/0/service", &web(1)).0, 201);
    assert_eq!(count(&demo, "web"), 2);
}

#[test]
fn a_write_whose_answer_was_lost_is_not_applied_twice() {
    let demo = start_demo();
    let leader = demo.leader();
    let follower = demo.nodes().iter().find(|node| **node != leader).unwrap();
    // The leader's answers to the follower are lost: the follower forwards the write, the
    // leader commits it with the third node, and the follower never hears back.
    let (status, links) = post(&leader, "/connections", &json!({ follower.clone(): 0 }));
    assert_eq!(status, 200, "{links}");
    let (status, lost) = post_keyed(follower, "/service", &web(2), "lost-answer");
    assert_eq!(status, 503, "{lost}");
    assert!(
        lost["error"]
            .as_str()
            .unwrap()
            .contains("may have been applied"),
        "{lost}"
    );
    assert_eq!(count(&demo, "web"), 1, "the write was committed");
    let (status, _) = post(&leader, "/connections", &json!({ follower.clone(): 1 }));
    assert_eq!(status, 200);

    // The client retries with the same key, through the same node and the entry point alike.
    let (status, retried) = post_keyed(follower, "/service", &web(2), "lost-answer");
    assert_eq!(status, 201, "{retried}");
    let (status, via_entry) =
        post_keyed(&demo.api(), "/clusters/0/service", &web(2), "lost-answer");
    assert_eq!((status, &via_entry), (201, &retried));
    assert_eq!(count(&demo, "web"), 1, "the retry was not applied again");
}

/// A node spawned and joined, then removed, each twice with the same key (a client retrying after
/// a lost answer): the second attempt gets the first answer — the same log index — instead of
/// "already a node" or "no such node", through the entry point and straight to a node alike; a
/// new key on the removed node is a 404, and the same key on another request is refused.
#[test]
fn a_retried_join_or_leave_gets_the_first_answer() {
    let demo = start_demo();
    let port = free_ports(1);
    let spawn =
        json!({"id": "extra", "host": "localhost", "port": port, "capacity": 10, "spawn": true});
    let (status, first) = post_keyed(&demo.api(), "/clusters/0/nodes", &spawn, "join-extra");
    assert_eq!(status, 201, "{first}");
    let (status, again) = post_keyed(&demo.api(), "/clusters/0/nodes", &spawn, "join-extra");
    assert_eq!(status, 201, "{again}");
    assert_eq!(again["log_index"], first["log_index"], "{first} / {again}");
    // Straight to a node, the same join (as `spawn: false`, what the entry point sends on).
    let join =
        json!({"id": "extra", "host": "localhost", "port": port, "capacity": 10, "spawn": false});
    let (status, direct) = post_keyed(&demo.nodes()[1], "/nodes", &join, "join-extra");
    assert_eq!(status, 201, "{direct}");
    assert_eq!(
        direct["log_index"], first["log_index"],
        "{first} / {direct}"
    );
    let (_, nodes) = get(&demo.api(), "/clusters/0/state");
    let extra = nodes["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|node| {
            node["addr"]
                .as_str()
                .unwrap()
                .ends_with(&format!(":{port}"))
        })
        .count();
    assert_eq!(extra, 1, "{nodes}");

    let leave = json!({"host": "localhost", "port": port});
    let (status, removed) = delete_keyed(&demo.api(), "/clusters/0/nodes", &leave, "leave-extra");
    assert_eq!(status, 200, "{removed}");
    let (status, again) = delete_keyed(&demo.api(), "/clusters/0/nodes", &leave, "leave-extra");
    assert_eq!(status, 200, "{again}");
    assert_eq!(
        again["log_index"], removed["log_index"],
        "{removed} / {again}"
    );
    assert_eq!(again["removed"]["id"], removed["removed"]["id"]);
    let (status, direct) = delete_keyed(&demo.nodes()[2], "/nodes", &leave, "leave-extra");
    assert_eq!(status, 200, "{direct}");
    assert_eq!(direct["log_index"], removed["log_index"]);

    // A new request for a node that is gone: 404. The leave's key on a join: refused.
    let (status, gone) = delete_keyed(&demo.api(), "/clusters/0/nodes", &leave, "leave-again");
    assert_eq!(status, 404, "{gone}");
    assert!(gone["error"].is_string(), "{gone}");
    let other = json!({"id": "other", "host": "localhost", "port": free_ports(1), "capacity": 10, "spawn": true});
    let (status, reused) = post_keyed(&demo.api(), "/clusters/0/nodes", &other, "leave-extra");
    assert!(status == 409 || status == 422, "{status} {reused}");
    assert!(
        reused["error"].as_str().unwrap().contains("leave-extra"),
        "{reused}"
    );
}

#[test]
fn the_entry_point_follows_a_new_leader_and_applies_each_write_once() {
    let demo = start_demo();
    // A first write teaches the entry point who leads.
    let (status, first) = post_keyed(&demo.api(), "/clusters/0/service", &web(1), "before");
    assert_eq!(status, 201, "{first}");
    let old = demo.leader();
    let others: Vec<String> = demo
        .nodes()
        .iter()
        .filter(|node| **node != old)
        .cloned()
        .collect();
    let (_, stats) = get(&old, "/stats");
    let old_term = stats["term"].as_u64().unwrap();

    // Cut the leader off both ways: the other two elect a new one, while the old one, still
    // up, still believes it leads and cannot commit anything.
    let cut: Value = others
        .iter()
        .map(|other| (other.clone(), json!(0)))
        .collect();
    assert_eq!(post(&old, "/connections", &cut).0, 200);
    for other in &others {
        assert_eq!(
            post(other, "/connections", &json!({ old.clone(): 0 })).0,
            200
        );
    }
    wait_for(Duration::from_secs(20), "a new leader", || {
        others.iter().find_map(|other| {
            let (_, stats) = get(other, "/stats");
            (stats["role"] == "leader" && stats["term"].as_u64()? > old_term).then_some(())
        })
    });

    // The entry point's next write reaches the new leader, however stale its hint was; its
    // retry, after the old leader rejoined, is answered the same and applied once.
    let (status, after) = post_keyed(&demo.api(), "/clusters/0/service", &web(2), "after");
    assert_eq!(status, 201, "{after}\n{}", demo.proc.log());
    let heal: Value = others
        .iter()
        .map(|other| (other.clone(), json!(1)))
        .collect();
    assert_eq!(post(&old, "/connections", &heal).0, 200);
    for other in &others {
        assert_eq!(
            post(other, "/connections", &json!({ old.clone(): 1 })).0,
            200
        );
    }
    let (status, again) = post_keyed(&demo.api(), "/clusters/0/service", &web(2), "after");
    assert_eq!((status, &again), (201, &after));
    // And writes keep going to whoever leads now, each applied once.
    let (status, _) = post_keyed(&demo.api(), "/clusters/0/service", &web(3), "later");
    assert_eq!(status, 201);
    let (status, state) = get(&demo.api(), "/clusters/0/state");
    assert_eq!(status, 200, "{state}");
    let replicas: Vec<u64> = state["services"]
        .as_array()
        .unwrap()
        .iter()
        .map(|service| service["replicas"].as_u64().unwrap())
        .collect();
    assert_eq!(replicas, vec![1, 2, 3], "{state}");
}
