//! Network faults: an isolated leader keeps believing it leads but cannot commit, and the
//! majority carries on without it; after healing, its uncommitted entry is overwritten; a cut
//! link is cut in one direction only; and random message loss slows the cluster down without
//! stopping it or breaking its invariants. Splitting five nodes in two leaves the three with
//! the higher ids a majority that still elects a leader; each node reports its links.

use std::time::Duration;

use flotilla_core::sim::DropReason;
use flotilla_core::sim::EventKind;
use flotilla_core::sim::MessageKind;
use flotilla_core::sim::NodeId;
use flotilla_core::sim::Role;
use flotilla_tests::*;

#[test]
fn isolated_leader_cannot_commit_and_is_overwritten_after_healing() {
    let mut sim = cluster(21, 5);
    let old = converge(&mut sim, ELECTION_LIMIT);
    commit_create(&mut sim, old, "before", 5);
    converge(&mut sim, Duration::from_secs(5));
    let old_term = sim.node(old).unwrap().term;
    let old_commit = sim.node(old).unwrap().commit_index;

    sim.isolate(old).unwrap();
    let submitted_at = sim.now();
    let stale = submit_create(&mut sim, old, "stale", 3);
    sim.advance(Duration::from_millis(10));
    let stale_index = sim.node(old).unwrap().last_log_index;
    assert_eq!(
        stale_index,
        old_commit + 1,
        "the old leader appended the request"
    );
    assert!(
        sim.log(old)
            .unwrap()
            .iter()
            .any(|e| e.index == stale_index && e.summary.contains("stale"))
    );

    run_until_or_panic(
        &mut sim,
        ELECTION_LIMIT,
        "a leader on the majority side",
        |sim| sim.leader().is_some_and(|id| id != old),
    );
    let new = sim.leader().unwrap();
    let new_term = sim.node(new).unwrap().term;
    let stuck = sim.node(old).unwrap();
    assert_eq!(
        (stuck.role, stuck.term),
        (Role::Leader, old_term),
        "the cut-off leader still believes it leads, in its old term"
    );
    assert!(new_term > old_term);
    assert_eq!(sim.leader(), Some(new), "leader() answers the highest term");

    let fresh = commit_create(&mut sim, new, "fresh", 4);
    let stale_reply = wait_reply(&mut sim, stale);
    assert!(
        stale_reply.is_err(),
        "the stale request got {stale_reply:?}"
    );
    let replied_at = sim
        .take_events()
        .iter()
        .find(|e| matches!(e.kind, EventKind::ClientReply { request, .. } if request == stale))
        .map(|e| e.at)
        .unwrap();
    assert!(
        replied_at - submitted_at >= sim.config().client_timeout,
        "the old leader gave up only at the client timeout"
    );
    let stuck = sim.node(old).unwrap();
    assert_eq!(
        stuck.commit_index, old_commit,
        "the cut-off leader committed nothing"
    );
    assert_eq!(stuck.last_log_index, stale_index);
    assert!(fresh.log_index > stale_index);

    sim.heal_all();
    sim.take_events();
    let leader = converge(&mut sim, ELECTION_LIMIT);
    assert_ne!(leader, old, "the old leader's log is behind: it cannot win");
    let healing = sim.take_events();
    let events = advance_checked(&mut sim, Duration::from_secs(2));
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::RoleChanged { .. })),
        "no more elections once converged"
    );
    assert!(
        healing.iter().any(|e| matches!(
            e.kind,
            EventKind::RoleChanged { node, role: Role::Follower, term } if node == old && term >= new_term
        )),
        "the old leader stepped down on hearing the higher term"
    );
    let reference = sim.log(leader).unwrap();
    for node in sim.nodes() {
        assert_eq!(node.commit_index, fresh.log_index, "n{}", node.id);
        assert_eq!(sim.log(node.id).unwrap(), reference, "n{}'s log", node.id);
        let state = sim.cluster_state(node.id).unwrap();
        assert!(service_totals(&state, "stale").is_none(), "n{}", node.id);
        assert_eq!(
            service_totals(&state, "fresh"),
            Some((4, 0, 4)),
            "n{}",
            node.id
        );
    }
    assert!(!reference.iter().any(|e| e.summary.contains("stale")));
    let replaced = reference.iter().find(|e| e.index == stale_index).unwrap();
    assert!(
        replaced.term > old_term,
        "index {stale_index} now holds {replaced:?}"
    );
    check_invariants(&mut sim);
}

/// `cut(a, b)` loses what `a` sends to `b` and nothing else. Here the follower's answers to the
/// leader are lost while the leader's heartbeats still reach it, so the follower stays quiet
/// (it hears a leader) but the leader never learns it caught up.
#[test]
fn cut_link_is_directed() {
    let mut sim = cluster(5, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let term = sim.node(leader).unwrap().term;
    let [follower, third] = others(&sim, leader)[..] else {
        panic!("two followers")
    };
    sim.take_events();

    sim.cut(follower, leader).unwrap();
    assert_eq!(sim.cut_links(), vec![(follower, leader)]);
    let request = submit_create(&mut sim, third, "through-the-cut", 3);
    let mut events = advance_checked(&mut sim, Duration::from_secs(4));
    assert!(
        wait_reply(&mut sim, request).is_ok(),
        "the leader and a third node commit"
    );
    events.extend(sim.take_events());

    let on = |from: NodeId, to: NodeId| {
        let mut delivered = 0;
        let mut cut = 0;
        let mut other = Vec::new();
        for event in &events {
            match event.kind {
                EventKind::Delivered { from: f, to: t, .. } if (f, t) == (from, to) => {
                    delivered += 1
                }
                EventKind::Dropped {
                    from: f,
                    to: t,
                    reason,
                    ..
                } if (f, t) == (from, to) => {
                    if reason == DropReason::LinkCut {
                        cut += 1
                    } else {
                        other.push(reason)
                    }
                }
                _ => {}
            }
        }
        assert!(
            other.is_empty(),
            "n{from}->n{to}: unexpected drops {other:?}"
        );
        (delivered, cut)
    };
    let (delivered, cut) = on(follower, leader);
    assert_eq!(delivered, 0, "nothing crosses the cut direction");
    assert!(cut >= 30, "the follower's answers are lost ({cut} dropped)");
    let (delivered, cut) = on(leader, follower);
    assert_eq!(cut, 0, "the other direction is not cut");
    assert!(delivered >= 30, "heartbeats still arrive ({delivered})");
    assert!(
        messages(&events).any(|m| m.from == leader
            && m.to == follower
            && m.kind == MessageKind::Append
            && m.detail.contains("entries=1")),
        "the leader keeps sending the entry it never hears was stored"
    );

    // Hearing heartbeats, the follower never campaigns; it even has the new entry.
    assert!(
        !events
            .iter()
            .any(|e| matches!(e.kind, EventKind::ElectionTimeout { node } if node == follower))
    );
    let f = sim.node(follower).unwrap();
    assert_eq!(
        (f.role, f.term, f.leader),
        (Role::Follower, term, Some(leader))
    );
    let l = sim.node(leader).unwrap();
    assert!(f.last_log_index == l.last_log_index);
    let seen = l
        .peers
        .iter()
        .find(|p| p.id == follower)
        .unwrap()
        .match_index;
    assert!(
        seen < l.commit_index,
        "the leader never hears the follower's progress"
    );

    sim.heal(follower, leader).unwrap();
    assert!(sim.cut_links().is_empty());
    let matched = |sim: &flotilla_core::sim::Simulation| {
        let l = sim.node(leader).unwrap();
        l.peers
            .iter()
            .find(|p| p.id == follower)
            .unwrap()
            .match_index
            == l.last_log_index
    };
    run_until_or_panic(
        &mut sim,
        Duration::from_secs(2),
        "the leader hears the follower again",
        matched,
    );
    assert_eq!(settled(&sim), Some(leader));
    check_invariants(&mut sim);
}

/// With a fifth of all messages lost, elections and commits still happen, and every invariant
/// holds all along.
#[test]
fn cluster_makes_progress_with_twenty_percent_message_loss() {
    let mut sim = cluster(8, 5);
    sim.set_drop_rate(0.2).unwrap();
    let mut events = Vec::new();
    let mut requests = Vec::new();
    let mut down: Option<NodeId> = None;
    for second in 0..40u64 {
        let node = (second..second + 5)
            .map(|n| n % 5 + 1)
            .find(|id| sim.is_running(*id))
            .unwrap();
        let label = format!("lossy-{second}");
        requests.push((label.clone(), sim.submit(node, create(&label, 3)).unwrap()));
        events.extend(advance_checked(&mut sim, Duration::from_secs(1)));
        // An election under loss, too. (A leader restarted before anyone replaced it resumes
        // leading in its term, as openraft restores a committed vote of its own.)
        if second == 15 {
            down = Some(sim.leader().expect("a leader under loss"));
            sim.crash(down.unwrap()).unwrap();
        }
        if second == 25 {
            sim.restart(down.unwrap()).unwrap();
        }
    }
    check_history(&events);
    let sent = messages(&events).count();
    let lost = events
        .iter()
        .filter(|e| {
            matches!(
                e.kind,
                EventKind::Dropped {
                    reason: DropReason::Lost,
                    ..
                }
            )
        })
        .count();
    let rate = lost as f64 / sent as f64;
    assert!(
        (0.15..0.25).contains(&rate),
        "lost {lost} of {sent} messages"
    );
    assert!(
        leaders_by_term(&events).len() >= 2,
        "an election happened under loss"
    );

    let committed: Vec<(String, u64)> = requests
        .iter()
        .filter_map(|(label, request)| match sim.reply(*request) {
            Some(Ok(applied)) => Some((label.clone(), applied.log_index)),
            _ => None,
        })
        .collect();
    assert!(
        committed.len() >= requests.len() / 2,
        "only {} of {} requests committed",
        committed.len(),
        requests.len()
    );

    // Once the network is clean again every node agrees, and every request a client was told
    // is committed is there, at the index it was told.
    sim.set_drop_rate(0.0).unwrap();
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let state = sim.cluster_state(leader).unwrap();
    for (label, index) in &committed {
        let service = state.services().values().find(|s| &s.label == label);
        assert_eq!(service.map(|s| s.created_index), Some(*index), "{label}");
    }
    for id in sim.node_ids() {
        assert_eq!(sim.cluster_state(id).unwrap(), state, "n{id}");
    }
    check_invariants(&mut sim);
}

/// The simulated network promises that a lost message looks to its sender like silence until
/// the RPC's deadline. For a client request forwarded over a cut link, that deadline is the
/// client timeout.
#[test]
fn request_forwarded_over_a_cut_link_fails_only_at_the_client_timeout() {
    let mut sim = cluster(5, 3);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let follower = others(&sim, leader)[0];
    sim.cut(follower, leader).unwrap();
    let submitted = sim.now();
    let request = submit_create(&mut sim, follower, "lost", 1);
    let reply = wait_reply(&mut sim, request);
    let waited = sim.now() - submitted;
    assert!(reply.is_err());
    assert!(
        waited >= sim.config().client_timeout,
        "the client gave up after {waited:?}: {reply:?}"
    );
}

#[test]
fn splitting_five_nodes_leaves_the_upper_three_a_leader_and_nodes_report_their_links() {
    let mut sim = cluster(22, 5);
    converge(&mut sim, ELECTION_LIMIT);
    sim.split_in_two().unwrap();
    let cut = sim.cut_links();
    assert_eq!(
        cut.len(),
        2 * 2 * 3,
        "every link between {{1, 2}} and {{3, 4, 5}}, both ways"
    );
    assert!(cut.iter().all(|&(a, b)| (a <= 2) != (b <= 2)));

    let n1 = sim.node(1).unwrap();
    assert_eq!(n1.addr, "sim:1");
    assert_eq!(n1.members.len(), 5);
    let up: Vec<(&str, u8)> = n1
        .connections
        .iter()
        .map(|(addr, up)| (addr.as_str(), *up))
        .collect();
    assert_eq!(up, [("sim:2", 1), ("sim:3", 0), ("sim:4", 0), ("sim:5", 0)]);
    assert!(
        sim.nodes_without_links()
            .iter()
            .all(|n| n.connections.is_empty())
    );

    sim.run_until(Duration::from_secs(30), |sim| {
        sim.leader().is_some_and(|leader| leader > 2)
    });
    let leader = sim.leader().expect("the majority side elects a leader");
    assert!(leader > 2, "n{leader} leads from the minority side");
    sim.heal_all();
    assert!(sim.cut_links().is_empty());
    converge(&mut sim, Duration::from_secs(30));
    check_invariants(&mut sim);
}
