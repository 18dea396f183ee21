//! A learner left behind by a join that stopped after openraft's `add_learner` (driven here
//! directly, as a join cut short between its two steps leaves it): it gets no replicas, and
//! removing the node removes it from the membership though it never was a voter.

use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_core::model::Command;
use flotilla_core::model::RequestId;
use flotilla_core::model::ServiceSpec;
use flotilla_core::model::Write;
use flotilla_core::raft::Member;

use super::membership::change_membership;
use super::*;
use crate::node::NodeConfig;
use crate::node::RaftTiming;
use crate::node::StartMode;
use crate::server::NodeServer;

fn member(id: u64, addr: String) -> Member {
    Member {
        name: format!("n{id}"),
        addr,
        capacity: 10,
    }
}

fn key(text: &str) -> RequestId {
    RequestId::parse(text).expect("valid")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_half_joined_learner_gets_no_replicas_and_leaves_when_removed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let config = NodeConfig {
        id: 1,
        name: "n1".into(),
        addr: addr.clone(),
        capacity: 10,
        cluster: "test".into(),
        data_dir: dir.path().to_path_buf(),
        timing: RaftTiming::DEFAULT,
        start: StartMode::Found(BTreeMap::from([(1, member(1, addr.clone()))])),
        request_timeout: Duration::from_secs(5),
        secret: None,
        limits: flotilla_core::model::Limits::default(),
        tls: crate::tls::Tls::off(),
    };
    let guard = crate::api::guard::ApiGuard::new(None, true, &[], Vec::new());
    let server = NodeServer::start(config, listener, &guard)
        .await
        .expect("starts");
    let ctx = server.ctx().clone();
    ctx.raft
        .wait(Some(Duration::from_secs(10)))
        .state(openraft::ServerState::Leader, "lead")
        .await
        .expect("leads its own cluster");

    // The first half of a join: node 9 (which does not exist) becomes a learner.
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let gone = nowhere.local_addr().expect("addr").to_string();
    drop(nowhere);
    // (Through `change_membership`, which waits while the founding membership still commits.)
    let learner =
        change_membership(|| ctx.raft.add_learner(9, member(9, gone.clone()), false)).await;
    assert!(learner.is_ok(), "{learner:?}");
    // The metrics (what `members` reads) follow the membership change a moment later.
    let mut waited = Duration::ZERO;
    while !ctx.members().contains_key(&9) && waited < Duration::from_secs(5) {
        tokio::time::sleep(Duration::from_millis(10)).await;
        waited += Duration::from_millis(10);
    }
    assert!(ctx.members().contains_key(&9), "{:?}", ctx.members());

    // More replicas than node 1 holds: the rest wait rather than land on the learner.
    let services = vec![ServiceSpec {
        label: "web".into(),
        replicas: 15,
        uniq_id: None,
    }];
    let create = Write::new(key("create"), Command::CreateServices { services });
    submit(&ctx, Proposal::Command(create))
        .await
        .expect("created");
    let (nodes, pending) = ctx.state_machine.core().read(|state| {
        let nodes: Vec<u64> = state.nodes().keys().copied().collect();
        (nodes, state.total_pending())
    });
    assert_eq!(nodes, vec![1], "the learner is no placement target");
    assert_eq!(pending, 5);

    // Removing it works though it is no voter.
    let removed = submit(
        &ctx,
        Proposal::Leave {
            id: 9,
            request: key("remove"),
        },
    )
    .await;
    assert!(removed.is_ok(), "{removed:?}");
    assert!(!ctx.members().contains_key(&9), "{:?}", ctx.members());
    server.shutdown().await;
}
