//! Replication of the orchestrator's log: a request sent to a follower is forwarded to the
//! leader, committed and applied everywhere; a crashed node restarts and catches up, from the
//! log or, when the others compacted it away, from a snapshot; and membership changes add a
//! voter with the same log, or remove one (even the leader), which stops while the rest keeps
//! committing and its replicas are re-placed.

use std::time::Duration;

use flotilla_core::model::NodeStatus;
use flotilla_core::model::Outcome;
use flotilla_core::sim::EventKind;
use flotilla_core::sim::MessageKind;
use flotilla_core::sim::NodeId;
use flotilla_core::sim::Role;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::SimError;
use flotilla_core::sim::Simulation;
use flotilla_tests::*;

#[test]
fn request_through_a_follower_is_forwarded_committed_and_applied_everywhere() {
    let mut sim = cluster(2, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let follower = others(&sim, leader)[0];
    sim.take_events();

    let request = submit_create(&mut sim, follower, "web", 7);
    let applied = wait_committed(&mut sim, request);
    let events = sim.take_events();
    let forward = messages(&events)
        .find(|m| m.kind == MessageKind::Forward)
        .expect("a Forward message");
    assert_eq!((forward.from, forward.to), (follower, leader));
    assert!(
        messages(&events).any(|m| m.kind == MessageKind::ForwardResponse
            && (m.from, m.to) == (leader, follower)
            && m.detail == format!("committed at {}", applied.log_index))
    );
    assert_eq!(
        client_replies(&events),
        vec![(request, follower, Ok(applied.log_index))],
        "the follower answers the client"
    );

    let Some(Outcome::ServicesCreated { services }) = &applied.outcome else {
        panic!("expected ServicesCreated, got {:?}", applied.outcome)
    };
    let [service] = &services[..] else {
        panic!("one service, got {services:?}")
    };
    assert_eq!((service.label.as_str(), service.replicas), ("web", 7));
    assert_eq!(service.placement.values().sum::<u32>(), 7);
    assert_eq!((service.running, service.pending), (7, 0));
    assert_eq!(service.created_index, applied.log_index);
    assert_eq!(
        service.placement.keys().copied().collect::<Vec<NodeId>>(),
        vec![1, 2, 3],
        "replicas are spread over every node"
    );

    run_until_or_panic(
        &mut sim,
        Duration::from_secs(2),
        "every node applies it",
        |sim| {
            sim.node_ids().iter().all(|&id| {
                let state = sim.cluster_state(id).unwrap();
                state.service(service.id).map(Into::into).as_ref() == Some(service)
            })
        },
    );
    for node in sim.nodes() {
        assert!(node.commit_index >= applied.log_index, "n{}", node.id);
        let load: u32 = node.placements.iter().map(|(_, n)| n).sum();
        assert_eq!(node.load, load, "n{}", node.id);
    }
    check_invariants(&mut sim);
}

#[test]
fn restarted_follower_catches_up_from_the_log() {
    let mut sim = cluster(4, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let victim = others(&sim, leader)[0];
    commit_create(&mut sim, leader, "before", 3);
    converge(&mut sim, Duration::from_secs(5));
    let before = sim.node(victim).unwrap();
    let state_before = sim.cluster_state(victim).unwrap();

    sim.crash(victim).unwrap();
    assert!(!sim.is_running(victim));
    let down = sim.node(victim).unwrap();
    assert_eq!(down.role, Role::Down);
    assert_eq!(
        sim.crash(victim),
        Err(flotilla_core::sim::SimError::NodeDown(victim))
    );
    for i in 0..6 {
        commit_create(&mut sim, leader, &format!("while-down-{i}"), 2);
    }
    let away = sim.node(victim).unwrap();
    assert_eq!(
        away.last_log_index, before.last_log_index,
        "a down node receives nothing"
    );
    assert_eq!(sim.cluster_state(victim).unwrap(), state_before);

    sim.restart(victim).unwrap();
    let events = sim.take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::Restarted { node: victim })
    );
    converge(&mut sim, Duration::from_secs(5));
    let (back, lead) = (sim.node(victim).unwrap(), sim.node(leader).unwrap());
    assert_eq!(back.role, Role::Follower);
    assert_eq!(back.commit_index, lead.commit_index);
    assert_eq!(back.last_log_index, before.last_log_index + 6);
    assert_eq!(sim.log(victim), sim.log(leader));
    assert_eq!(sim.cluster_state(victim), sim.cluster_state(leader));
    assert_eq!(sim.cluster_state(victim).unwrap().services().len(), 7);
    check_invariants(&mut sim);
}

/// The leader of the run keeps its log while a follower is down (openraft does not purge
/// entries a replication stream still needs), so the catch-up from a snapshot happens under a
/// new leader whose log was compacted while the node was away.
#[test]
fn node_away_for_more_than_snapshot_every_entries_catches_up_through_a_snapshot() {
    let mut sim = Simulation::new(SimConfig {
        snapshot_every: 20,
        ..SimConfig::new(3, 5)
    })
    .unwrap();
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let victim = others(&sim, leader)[0];
    sim.crash(victim).unwrap();
    for i in 0..50 {
        commit_create(&mut sim, leader, &format!("s{i}"), 2);
    }
    converge(&mut sim, Duration::from_secs(5));
    for id in others(&sim, leader) {
        assert!(
            sim.snapshots_built(id).unwrap() >= 2,
            "n{id} compacted its log"
        );
        assert!(sim.node(id).unwrap().snapshot_index >= 20, "n{id}");
    }
    sim.crash(leader).unwrap();
    let successor = converge(&mut sim, ELECTION_LIMIT);
    let compacted = sim.node(successor).unwrap().snapshot_index;
    assert!(
        sim.log(successor)
            .unwrap()
            .iter()
            .all(|e| e.index > compacted),
        "the new leader's log starts after its snapshot"
    );
    sim.take_events();

    sim.restart(victim).unwrap();
    let successor = converge(&mut sim, Duration::from_secs(10));
    let events = sim.take_events();
    let snapshot = messages(&events)
        .find(|m| m.kind == MessageKind::Snapshot)
        .unwrap_or_else(|| panic!("no Snapshot message:\n{}", render(&events)));
    assert_eq!((snapshot.from, snapshot.to), (successor, victim));
    assert!(
        snapshot
            .detail
            .contains(&format!("up to index {compacted}"))
    );
    assert!(events.iter().any(|e| matches!(
        e.kind,
        EventKind::Delivered { message, .. } if message == snapshot.id
    )));

    let (back, lead) = (sim.node(victim).unwrap(), sim.node(successor).unwrap());
    assert_eq!(
        back.snapshot_index, compacted,
        "it installed the leader's snapshot"
    );
    assert_eq!(
        sim.snapshots_built(victim),
        Some(0),
        "it did not build it itself"
    );
    assert_eq!(back.commit_index, lead.commit_index);
    let log = sim.log(victim).unwrap();
    assert!(
        log.len() < 20 && log.iter().all(|e| e.index > compacted),
        "only the entries after the snapshot: {log:?}"
    );
    assert_eq!(sim.cluster_state(victim), sim.cluster_state(successor));
    assert_eq!(sim.cluster_state(victim).unwrap().services().len(), 50);

    sim.restart(leader).unwrap();
    converge(&mut sim, Duration::from_secs(10));
    check_invariants(&mut sim);
}

/// [`NodeReport::term`](flotilla_core::raft::status::NodeReport::term) is documented as
/// "current term (from its disk while it is down)".
#[test]
fn crashed_node_reports_its_term_from_disk() {
    let mut sim = cluster(4, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let victim = others(&sim, leader)[0];
    let before = sim.node(victim).unwrap();
    assert!(before.term >= 1);
    assert_eq!(before.voted_for, Some(leader));
    sim.crash(victim).unwrap();
    let down = sim.node(victim).unwrap();
    assert_eq!(down.role, Role::Down);
    assert_eq!((down.term, down.voted_for), (before.term, before.voted_for));
    sim.restart(victim).unwrap();
    let back = sim.node(victim).unwrap();
    assert_eq!(
        back.term, before.term,
        "it restarts in the term its disk holds"
    );
}

#[test]
fn added_node_becomes_a_voter_with_the_same_committed_log() {
    let mut sim = cluster(5, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, leader, "early", 9);
    sim.take_events();

    let added = sim.add_node(50).unwrap();
    assert_eq!(added, 4);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(10),
        "n4 becomes a voter",
        |sim| {
            sim.node(added).unwrap().voter
                && sim
                    .log(leader)
                    .unwrap()
                    .last()
                    .is_some_and(|e| e.summary == "membership: voters n1,n2,n3,n4")
        },
    );
    let leader = converge(&mut sim, Duration::from_secs(5));
    let events = sim.take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::NodeAdded { node: added })
    );
    let roles: Vec<Role> = events
        .iter()
        .filter_map(|e| match e.kind {
            EventKind::RoleChanged { node, role, .. } if node == added => Some(role),
            _ => None,
        })
        .collect();
    assert_eq!(
        roles.first(),
        Some(&Role::Learner),
        "it joins as a learner: {roles:?}"
    );
    assert_eq!(
        roles.last(),
        Some(&Role::Follower),
        "and ends a voter: {roles:?}"
    );

    let new = sim.node(added).unwrap();
    assert_eq!(new.commit_index, sim.node(leader).unwrap().commit_index);
    assert_eq!(
        sim.log(added),
        sim.log(leader),
        "the whole log was replicated"
    );
    let state = sim.cluster_state(added).unwrap();
    assert_eq!(state, sim.cluster_state(leader).unwrap());
    assert_eq!(state.node(added).map(|n| n.capacity), Some(50));
    assert_eq!(service_totals(&state, "early"), Some((9, 0, 9)));

    // The new node counts: it takes replicas, and with 4 voters its vote is needed once one
    // old follower is down (were it not a voter, 2 of 3 would be a quorum).
    let applied = commit_create(&mut sim, leader, "late", 8);
    let Some(Outcome::ServicesCreated { services }) = applied.outcome else {
        panic!("{applied:?}")
    };
    assert!(services[0].placement.get(&added).is_some_and(|&n| n > 0));
    let old_follower = others(&sim, leader)[0];
    assert_ne!(old_follower, added);
    sim.crash(old_follower).unwrap();
    sim.isolate(added).unwrap();
    let request = submit_create(&mut sim, leader, "needs-n4", 1);
    let reply = wait_reply(&mut sim, request);
    assert!(reply.is_err(), "2 of 4 voters are not a quorum: {reply:?}");
    // Healed, n4 comes back from a higher term (no pre-vote) and forces an election.
    sim.heal_all();
    let leader = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, leader, "with-n4", 1);
    check_invariants(&mut sim);
}

#[test]
fn removed_node_leaves_the_voters_and_the_rest_still_commits() {
    let mut sim = cluster(6, 4);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let [gone, other, ..] = others(&sim, leader)[..] else {
        panic!()
    };
    sim.remove_node(gone).unwrap();
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(10),
        "the removal commits",
        |sim| {
            let log = sim.log(leader).unwrap();
            let last = log.last().unwrap();
            last.summary.starts_with("membership")
                && !last.summary.contains(&format!("n{gone}"))
                && sim.node(leader).unwrap().commit_index == last.index
                && !sim.node(gone).unwrap().voter
        },
    );
    let events = sim.take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::NodeRemoved { node: gone })
    );

    // 3 voters left: with the removed node cut off and one more down, 2 of 3 still commit.
    // (Were the removed node still a voter, 2 of 4 would not.)
    sim.isolate(gone).unwrap();
    sim.crash(other).unwrap();
    let applied = commit_create(&mut sim, leader, "after-removal", 6);
    let Some(Outcome::ServicesCreated { services }) = applied.outcome else {
        panic!("{applied:?}")
    };
    assert_eq!(services[0].running + services[0].pending, 6);
    check_invariants(&mut sim);
}

#[test]
fn removed_node_stops_and_its_replicas_are_re_placed() {
    let mut sim = cluster(5, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, leader, "spread", 9);
    converge(&mut sim, Duration::from_secs(5));
    let gone = others(&sim, leader)[0];
    assert_eq!(sim.node(gone).unwrap().load, 3);
    sim.remove_node(gone).unwrap();
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(10),
        "the removal commits",
        |sim| sim.cluster_state(leader).unwrap().node(gone).is_none(),
    );
    converge(&mut sim, Duration::from_secs(5));
    assert!(!sim.is_running(gone), "the removed node stops");
    assert_eq!(sim.node(gone).unwrap().role, Role::Down);
    assert_eq!(sim.restart(gone), Err(SimError::Removed(gone)));
    for id in others(&sim, gone) {
        let state = sim.cluster_state(id).unwrap();
        let service = state.services().values().next().unwrap();
        assert!(!service.placement.contains_key(&gone), "n{id}: {service:?}");
        assert_eq!(
            service.placement.values().sum::<u32>() + service.pending,
            9,
            "n{id}"
        );
        assert_eq!(service.pending, 0, "n{id}: the others have room");
    }
    let applied = commit_create(&mut sim, leader, "after", 4);
    let Some(Outcome::ServicesCreated { services }) = applied.outcome else {
        panic!("{applied:?}")
    };
    assert!(!services[0].placement.contains_key(&gone));
    check_invariants(&mut sim);
}

/// The leader can remove itself: it commits the change without its own vote, stops, and the
/// others elect a leader among themselves and go on committing.
#[test]
fn removed_leader_stops_and_the_others_elect_a_successor() {
    let mut sim = cluster(7, 4);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, leader, "spread", 8);
    converge(&mut sim, Duration::from_secs(5));
    sim.take_events();
    sim.remove_node(leader).unwrap();
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(10),
        "the removed leader stops",
        |sim| !sim.is_running(leader),
    );
    let successor = converge(&mut sim, ELECTION_LIMIT);
    assert_ne!(successor, leader);
    let events = sim.take_events();
    assert!(
        events
            .iter()
            .any(|e| e.kind == EventKind::NodeRemoved { node: leader })
    );
    check_history(&events);
    for id in others(&sim, leader) {
        let node = sim.node(id).unwrap();
        assert!(node.voter, "n{id}");
        let state = sim.cluster_state(id).unwrap();
        assert!(state.node(leader).is_none(), "n{id} still lists n{leader}");
        assert_eq!(service_totals(&state, "spread"), Some((8, 0, 8)), "n{id}");
    }
    let applied = commit_create(&mut sim, successor, "after", 3);
    let Some(Outcome::ServicesCreated { services }) = applied.outcome else {
        panic!("{applied:?}")
    };
    assert!(!services[0].placement.contains_key(&leader));
    check_invariants(&mut sim);
}

/// A crashed node is marked down by the leader once it has been silent for `node_down_after`;
/// its replicas move to the others. Restarted, it is marked up and takes new work again.
#[test]
fn crashed_node_is_marked_down_its_replicas_move_and_it_comes_back_up() {
    let mut sim = cluster(6, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, leader, "spread", 9);
    converge(&mut sim, Duration::from_secs(5));
    let victim = others(&sim, leader)[0];
    assert_eq!(sim.node(victim).unwrap().load, 3);
    sim.crash(victim).unwrap();
    let crashed_at = sim.now();
    let status = |sim: &Simulation| {
        let leader = sim.leader()?;
        Some(sim.cluster_state(leader)?.node(victim)?.status)
    };
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(15),
        "the leader marks the crashed node down",
        |sim| status(sim) == Some(NodeStatus::Down),
    );
    let waited = sim.now() - crashed_at;
    let down_after = sim.config().node_down_after;
    assert!(
        waited >= down_after && waited <= down_after * 2,
        "marked down after {waited:?}, threshold {down_after:?}"
    );
    let state = sim.cluster_state(leader).unwrap();
    let service = state.services().values().next().unwrap();
    assert!(!service.placement.contains_key(&victim), "{service:?}");
    assert_eq!(
        (service.placement.values().sum::<u32>(), service.pending),
        (9, 0)
    );

    sim.restart(victim).unwrap();
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(15),
        "the restarted node is marked up",
        |sim| status(sim) == Some(NodeStatus::Up),
    );
    converge(&mut sim, Duration::from_secs(5));
    let applied = commit_create(&mut sim, leader, "after", 30);
    let Some(Outcome::ServicesCreated { services }) = applied.outcome else {
        panic!("{applied:?}")
    };
    assert!(services[0].placement.contains_key(&victim), "{services:?}");
    check_invariants(&mut sim);
}

/// A leader that hears no follower — every link into it cut, while its heartbeats still go out
/// so nobody campaigns — is in no position to say who is down, and when the links heal no
/// healthy node has been marked down. (Two guards stand behind this: the failure detector
/// proposes nothing while its leader hears no quorum, and openraft refuses writes from such a
/// leader; the detector's own guard is unit-tested in `core/src/raft/liveness.rs`.)
#[test]
fn a_leader_that_hears_nobody_marks_nobody_down() {
    let mut sim = cluster(6, 5);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    for other in others(&sim, leader) {
        sim.cut(other, leader).unwrap();
    }
    let outage = sim.config().node_down_after * 3;
    sim.advance(outage);
    assert_eq!(
        sim.leader(),
        Some(leader),
        "heartbeats still reach everyone"
    );
    sim.heal_all();
    let leader = converge(&mut sim, Duration::from_secs(10));
    sim.advance(sim.config().node_down_after);
    let marked_down: Vec<String> = sim
        .log(leader)
        .unwrap()
        .into_iter()
        .map(|entry| entry.summary)
        .filter(|summary| summary.starts_with("mark node") && summary.ends_with("down"))
        .collect();
    assert!(marked_down.is_empty(), "{marked_down:?}");
    let state = sim.cluster_state(leader).unwrap();
    assert!(
        state
            .nodes()
            .values()
            .all(|node| node.status == NodeStatus::Up),
        "{state:?}"
    );
    check_invariants(&mut sim);
}
