//! Leader election in the simulated cluster: the first leader comes from an election timeout and
//! a round of votes; a crashed leader is replaced in bounded virtual time; aligned timers split
//! the vote without stopping progress; pre-vote keeps an isolated node from inflating terms; and
//! no term ever has two leaders (Raft's election safety), over whole runs and over a provoked
//! split vote.

use std::time::Duration;

use flotilla_core::sim::Event;
use flotilla_core::sim::EventKind;
use flotilla_core::sim::MessageKind;
use flotilla_core::sim::NodeId;
use flotilla_core::sim::Role;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;
use flotilla_tests::*;

#[test]
fn first_leader_comes_from_an_election_timeout_and_a_majority_of_votes() {
    let mut sim = cluster(1, 3);
    let config = sim.config();
    assert_eq!(sim.leader(), None, "nobody leads before any timer ran out");
    for node in sim.nodes() {
        assert_eq!((node.role, node.term), (Role::Follower, 0), "n{}", node.id);
    }

    let leader = elect(&mut sim);
    let events = sim.take_events();
    let elected = events
        .iter()
        .find_map(|e| match e.kind {
            EventKind::RoleChanged {
                node,
                role: Role::Leader,
                term,
            } => Some((e.at, node, term)),
            _ => None,
        })
        .expect("a RoleChanged to Leader event");
    let (elected_at, node, term) = elected;
    assert_eq!(node, leader);
    assert!(term >= 1);
    assert!(
        elected_at >= config.election_timeout.0,
        "elected at {elected_at:?}, before any election timer could run out"
    );

    let timed_out_at = events
        .iter()
        .filter(|e| e.at <= elected_at)
        .find_map(|e| match e.kind {
            EventKind::ElectionTimeout { node } if node == leader => Some(e.at),
            _ => None,
        })
        .unwrap_or_else(|| {
            panic!(
                "no ElectionTimeout of n{leader} before it led:\n{}",
                render(&events)
            )
        });
    let asked: Vec<NodeId> = messages(&events)
        .filter(|m| m.kind == MessageKind::VoteRequest && m.from == leader && m.term == term)
        .filter(|m| m.sent_at >= timed_out_at && m.sent_at <= elected_at)
        .map(|m| m.to)
        .collect();
    assert_eq!(
        asked,
        others(&sim, leader),
        "the candidate asks every other node for its vote"
    );
    let granted = messages(&events)
        .filter(|m| m.kind == MessageKind::VoteResponse && m.to == leader && m.term == term)
        .filter(|m| m.detail == "granted" && m.sent_at <= elected_at)
        .count();
    assert!(granted >= 1, "a leader of 3 needs one vote besides its own");
    assert!(leaders_by_term(&events).values().all(|set| set.len() == 1));

    // Heartbeats keep the leader in place: no timer runs out while it is alive.
    let leader = converge(&mut sim, Duration::from_secs(5));
    let term = sim.node(leader).unwrap().term;
    let events = advance_checked(&mut sim, Duration::from_secs(10));
    let timeouts: Vec<_> = events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::ElectionTimeout { .. }))
        .map(ToString::to_string)
        .collect();
    assert!(timeouts.is_empty(), "spurious timeouts: {timeouts:?}");
    assert!(count_kind(&events, MessageKind::Heartbeat) >= 2 * 10 * 9);
    assert_eq!(sim.leader(), Some(leader));
    for node in sim.nodes() {
        assert_eq!(
            (node.term, node.leader),
            (term, Some(leader)),
            "n{}",
            node.id
        );
    }
}

/// openraft's leader lease: a follower refuses to vote for election_timeout_max after it last
/// heard from the leader, so a crash costs at most one lease plus one election timeout.
#[test]
fn crashed_leader_is_replaced_within_the_lease_plus_an_election_timeout() {
    let mut sim = cluster(3, 5);
    let config = sim.config();
    let old = converge(&mut sim, ELECTION_LIMIT);
    let old_term = sim.node(old).unwrap().term;
    commit_create(&mut sim, old, "web", 10);
    sim.advance(Duration::from_millis(430));

    sim.crash(old).unwrap();
    let crashed_at = sim.now();
    assert_eq!(sim.node(old).unwrap().role, Role::Down);
    run_until_or_panic(&mut sim, ELECTION_LIMIT, "electing a successor", |sim| {
        sim.leader().is_some()
    });
    let took = sim.now() - crashed_at;
    let new = sim.leader().unwrap();
    assert_ne!(new, old);
    assert!(sim.node(new).unwrap().term > old_term);
    let (min, max) = config.election_timeout;
    let earliest = min - config.heartbeat_interval;
    let latest = 2 * max + Duration::from_secs(1);
    assert!(
        took >= earliest && took <= latest,
        "a new leader {took:?} after the crash, expected between {earliest:?} and {latest:?}"
    );

    // The survivors still commit, and every replica is still accounted for.
    let new = converge(&mut sim, Duration::from_secs(10));
    commit_create(&mut sim, new, "api", 4);
    converge(&mut sim, Duration::from_secs(10));
    for id in sim.node_ids() {
        let state = sim.cluster_state(id).unwrap();
        assert_eq!(
            service_totals(&state, "web").map(|(p, q, _)| p + q),
            Some(10),
            "n{id}"
        );
        if sim.is_running(id) {
            assert_eq!(
                service_totals(&state, "api").map(|(p, q, _)| p + q),
                Some(4),
                "n{id}"
            );
        }
    }
    check_invariants(&mut sim);
}

/// A 5-node cluster whose leader crashed and two of whose followers' election timers then ran
/// out at the same instant, once every follower's lease on the old leader had expired.
struct Aligned {
    sim: Simulation,
    /// Every event since the start.
    history: Vec<Event>,
    /// When the leader crashed.
    crashed_at: Duration,
    /// The two followers whose timers were aligned, lower id first.
    pair: [NodeId; 2],
}

fn aligned_candidates(seed: u64) -> Aligned {
    let mut sim = cluster(seed, 5);
    let leader = converge(&mut sim, ELECTION_LIMIT);
    let mut history = sim.take_events();
    sim.crash(leader).unwrap();
    let crashed_at = sim.now();
    // Let the last heartbeats land (each one resets a timer), then set the timers.
    history.extend(advance_checked(&mut sim, Duration::from_millis(50)));
    let rest = others(&sim, leader);
    for &id in &rest {
        sim.set_election_timer(id, Duration::from_secs(6)).unwrap();
    }
    let pair = [rest[0], rest[1]];
    for id in pair {
        sim.set_election_timer(id, Duration::from_secs(3)).unwrap();
    }
    history.extend(advance_checked(&mut sim, Duration::from_millis(3100)));
    Aligned {
        sim,
        history,
        crashed_at,
        pair,
    }
}

#[test]
fn aligned_timers_split_the_vote_and_a_leader_still_emerges() {
    let Aligned {
        mut sim,
        mut history,
        crashed_at,
        pair,
    } = aligned_candidates(7);
    let timeouts: Vec<_> = history
        .iter()
        .filter(|e| e.at > crashed_at)
        .filter_map(|e| match e.kind {
            EventKind::ElectionTimeout { node } => Some((e.at, node)),
            _ => None,
        })
        .collect();
    let [(at_a, a), (at_b, b), ..] = timeouts[..] else {
        panic!("expected two election timeouts, got {timeouts:?}");
    };
    assert_eq!((a, b), (pair[0], pair[1]));
    assert_eq!(at_a, at_b, "the timers were aligned");
    let candidacy = |id| {
        history
            .iter()
            .filter(|e| e.at > crashed_at)
            .find_map(|e| match e.kind {
                EventKind::RoleChanged {
                    node,
                    role: Role::Candidate,
                    term,
                } if node == id => Some(term),
                _ => None,
            })
    };
    let term = candidacy(a).expect("the first node campaigns");
    assert_eq!(candidacy(b), Some(term), "both campaign in the same term");

    let leader = converge(&mut sim, ELECTION_LIMIT);
    assert!(sim.node(leader).unwrap().term >= term);
    history.extend(sim.take_events());
    commit_create(&mut sim, leader, "after-split", 3);
    check_invariants(&mut sim);
}

/// Raft's election safety ("at most one leader per term") over a split vote.
#[test]
fn split_vote_never_gives_one_term_two_leaders() {
    for seed in [133, 264] {
        let history = aligned_candidates(seed).history;
        for (term, leaders) in leaders_by_term(&history) {
            assert!(
                leaders.len() == 1,
                "seed {seed}: term {term} had leaders {leaders:?}"
            );
        }
    }
}

#[test]
fn isolated_follower_inflates_its_term_unless_pre_vote_is_on() {
    for pre_vote in [false, true] {
        let mut sim = Simulation::new(SimConfig {
            pre_vote,
            ..SimConfig::new(11, 3)
        })
        .unwrap();
        let leader = converge(&mut sim, ELECTION_LIMIT);
        let term = sim.node(leader).unwrap().term;
        let follower = others(&sim, leader)[0];
        sim.take_events();
        sim.isolate(follower).unwrap();
        let events = advance_checked(&mut sim, Duration::from_secs(10));
        let alone = sim.node(follower).unwrap();
        let campaigns = events
            .iter()
            .filter(|e| matches!(e.kind, EventKind::ElectionTimeout { node } if node == follower))
            .count();
        assert!(
            campaigns >= 4,
            "pre_vote={pre_vote}: {campaigns} timeouts in 10 s"
        );
        assert_eq!(sim.leader(), Some(leader), "pre_vote={pre_vote}");

        sim.heal_all();
        let after = converge(&mut sim, ELECTION_LIMIT);
        let after_term = sim.node(after).unwrap().term;
        if pre_vote {
            assert!(count_kind(&events, MessageKind::PreVoteRequest) > 0);
            assert_eq!(count_kind(&events, MessageKind::VoteRequest), 0);
            assert_eq!(alone.term, term, "pre-vote keeps the isolated node's term");
            assert_eq!(
                (after, after_term),
                (leader, term),
                "the leader is not disturbed"
            );
        } else {
            assert!(
                alone.term >= term + 3,
                "each timeout starts a new term: {} -> {}",
                term,
                alone.term
            );
            assert!(
                after_term > alone.term,
                "the higher term deposes the leader"
            );
        }
        commit_create(&mut sim, after, "healed", 2);
        check_invariants(&mut sim);
    }
}

#[test]
fn no_term_has_two_leaders_across_seeds_with_crashes_and_a_workload() {
    for seed in 1..=4 {
        let mut sim = cluster(seed, 5);
        let mut history = sim.take_events();
        let mut down: Option<NodeId> = None;
        for second in 1..=24u64 {
            if let Some(node) = (1..=5)
                .map(|i| (second + i) % 5 + 1)
                .find(|id| sim.is_running(*id))
            {
                let _ = sim.submit(
                    node,
                    create(&format!("s{seed}-{second}"), 1 + second as u32 % 4),
                );
            }
            if second % 8 == 4 {
                if let Some(id) = down.take() {
                    sim.restart(id).unwrap();
                } else if let Some(leader) = sim.leader() {
                    sim.crash(leader).unwrap();
                    down = Some(leader);
                }
            }
            history.extend(advance_checked(&mut sim, Duration::from_secs(1)));
        }
        check_history(&history);
        let terms = leaders_by_term(&history);
        assert!(
            terms.len() >= 3,
            "seed {seed}: the crashes forced elections: {terms:?}"
        );
        let ok = client_replies(&history)
            .iter()
            .filter(|r| r.2.is_ok())
            .count();
        assert!(ok >= 12, "seed {seed}: only {ok} of 24 requests committed");
    }
}
