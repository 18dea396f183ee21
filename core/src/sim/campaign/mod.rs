//! Seeded fault campaigns: many simulated runs, each with faults and a workload drawn from its
//! seed, checked all along for the promises Flotilla makes.
//!
//! One seed ([`run_seed`]) is a cluster of a few nodes with small capacities, a random client
//! workload (creates, scales, deletes) and, for 30–75 virtual seconds, faults that come and go
//! ([`FaultKind`]): partitions and directed cuts, message loss, duplication, reordering and
//! latency spikes, slow nodes, crashes (the disk loses what it had not flushed) and outages long
//! enough to need a snapshot, nodes added and removed through membership changes. After every
//! 50 ms step the [`Checker`] checks Raft's safety properties and the orchestrator's
//! invariants. Then every fault is undone, and the cluster must elect a leader within
//! [`LEADER_WITHIN`], converge (every member on the same log and state, every node marked up,
//! every placeable replica placed) within [`CONVERGED_WITHIN`], and the clients' history must be
//! linearizable, service by service ([`linearizability`]), against the converged state.
//!
//! Everything is drawn from the seed, so a failing seed replays exactly:
//! [`SeedReport::replay_command`] says how. [`run_campaign`] runs many seeds on several threads.

mod checker;
mod clients;
pub mod history;
pub mod linearizability;
mod report;
mod runner;
mod schedule;
#[cfg(test)]
mod tests;

use std::collections::VecDeque;
use std::time::Duration;

use openraft_rt::WatchReceiver;
use rand::Rng;
use rand::RngExt;
use rand::SeedableRng;
use rand::rngs::Xoshiro256PlusPlus;

pub use checker::Checker;
pub use checker::describe_state;
pub use checker::orchestrator_violations;
pub use report::CampaignSummary;
pub use report::SeedReport;
pub use report::Violation;
pub use report::replay_command;
pub use runner::run_campaign;
pub use schedule::FaultCounts;
pub use schedule::FaultKind;

use self::clients::Clients;
use self::schedule::Schedule;
use super::Event;
use super::NodeId;
use super::Role;
use super::SimConfig;
use super::Simulation;
use crate::model::NodeStatus;

/// Virtual time between two checks.
pub const STEP: Duration = Duration::from_millis(50);

/// After the faults stop, a leader must be elected within this much virtual time.
pub const LEADER_WITHIN: Duration = Duration::from_secs(30);

/// After the faults stop, the cluster must have converged within this much virtual time.
pub const CONVERGED_WITHIN: Duration = Duration::from_secs(90);

/// How many events a violation shows.
const RECENT_EVENTS: usize = 300;

/// What a seed's run has gathered so far, kept outside the run so that a panic still reports it.
#[derive(Default)]
struct Progress {
    recent: VecDeque<Event>,
    schedule_counts: schedule::FaultCounts,
    operations: usize,
    committed: usize,
    unflushed_lost: u64,
    simulated: Duration,
}

impl Progress {
    fn record(&mut self, events: &[Event]) {
        for event in events {
            if self.recent.len() == RECENT_EVENTS {
                self.recent.pop_front();
            }
            self.recent.push_back(event.clone());
        }
    }

    fn violation(&self, what: String, at: Duration) -> Violation {
        Violation {
            what,
            at,
            recent_events: self.recent.iter().map(ToString::to_string).collect(),
        }
    }
}

/// Runs seed `seed` with a cluster of `nodes` nodes, and reports what it did and the first
/// promise it saw broken. A panic inside the run is reported as a violation too.
pub fn run_seed(seed: u64, nodes: usize) -> SeedReport {
    let mut progress = Progress::default();
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        run(seed, nodes, &mut progress)
    }));
    let violation = match outcome {
        Ok(Ok(())) => None,
        Ok(Err((what, at))) => Some(progress.violation(what, at)),
        Err(panic) => {
            let message = panic
                .downcast_ref::<String>()
                .cloned()
                .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                .unwrap_or_else(|| "a panic".to_string());
            let at = progress.simulated;
            Some(progress.violation(format!("panicked: {message}"), at))
        }
    };
    SeedReport {
        seed,
        nodes,
        simulated: progress.simulated,
        faults: progress.schedule_counts,
        operations: progress.operations,
        committed: progress.committed,
        unflushed_lost: progress.unflushed_lost,
        violation,
    }
}

/// The settings of seed `seed`: small capacities so that nodes fill up and replicas pend,
/// frequent snapshots, a disk that usually takes a little while to flush.
fn config(seed: u64, nodes: usize, rng: &mut impl Rng) -> SimConfig {
    SimConfig {
        capacity: rng.random_range(2..=10),
        snapshot_every: rng.random_range(15..=60),
        // Enough that an entry is still in some log one step after it commits (the checker
        // reads the committed log from the nodes' logs), few enough that a node down for long
        // catches up from a snapshot.
        logs_kept_after_snapshot: 16,
        disk_flush_delay: if rng.random_bool(0.7) {
            Duration::from_micros(rng.random_range(500..20_000))
        } else {
            Duration::ZERO
        },
        ..SimConfig::new(seed, nodes)
    }
}

/// One seed's run; the error is the violation and when it was seen.
fn run(seed: u64, nodes: usize, progress: &mut Progress) -> Result<(), (String, Duration)> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed ^ 0xca4a_16a0_f1ee_7000);
    let config = config(seed, nodes, &mut rng);
    let fault_phase = Duration::from_secs_f64(rng.random_range(30.0..75.0));
    let client_timeout = config.client_timeout;
    let mut sim = Simulation::new(config).map_err(|err| (err.to_string(), Duration::ZERO))?;
    let mut schedule = Schedule::new(&sim, nodes + 2);
    let mut clients = Clients::default();
    let mut checker = Checker::default();

    let result = (|| {
        while sim.now() < fault_phase {
            let now = sim.now();
            schedule.step(&mut sim, &mut rng, now);
            clients.step(&mut sim, &mut rng, now);
            step(&mut sim, &mut checker, &mut clients, progress)?;
        }
        schedule.end(&mut sim);
        let healed = sim.now();
        while sim.leader().is_none() {
            if sim.now() - healed > LEADER_WITHIN {
                return Err(format!(
                    "liveness: no leader {}s after the faults stopped",
                    LEADER_WITHIN.as_secs()
                ));
            }
            step(&mut sim, &mut checker, &mut clients, progress)?;
        }
        // Requests still out get their answer (or give up) within the client timeout.
        let answers_by = healed + client_timeout + Duration::from_secs(1);
        loop {
            let unsettled = unconverged(&sim);
            if unsettled.is_none() && sim.now() >= answers_by {
                break;
            }
            if sim.now() - healed > CONVERGED_WITHIN {
                return Err(format!(
                    "liveness: not converged {}s after the faults stopped: {}",
                    CONVERGED_WITHIN.as_secs(),
                    unsettled.unwrap_or_default()
                ));
            }
            step(&mut sim, &mut checker, &mut clients, progress)?;
        }
        let leader = sim.leader().ok_or("the leader vanished")?;
        let state = sim.nodes[&leader].state_machine.read(Clone::clone);
        let broken = clients.history.violations(&state, sim.now());
        if let Some(first) = broken.first() {
            return Err(format!("linearizability: {first}"));
        }
        Ok(())
    })();
    progress.schedule_counts = schedule.counts.clone();
    progress.operations = clients.history.len();
    progress.committed = checker.committed_entries();
    progress.unflushed_lost = sim.entries_lost_in_crashes();
    progress.simulated = sim.now();
    result.map_err(|what| (what, sim.now()))
}

/// Advances one [`STEP`], collects the clients' answers and checks every property.
fn step(
    sim: &mut Simulation,
    checker: &mut Checker,
    clients: &mut Clients,
    progress: &mut Progress,
) -> Result<(), String> {
    sim.advance(STEP);
    let events = sim.take_events();
    progress.record(&events);
    progress.simulated = sim.now();
    clients.collect(sim, sim.now());
    checker.check(sim, &events)
}

/// Why the cluster has not converged yet, or `None` if it has: one leader that every member
/// follows in its term, every member running with the leader's whole log applied and the same
/// state, the orchestrator's nodes exactly the voters, every one marked up, and every replica
/// that fits somewhere placed.
fn unconverged(sim: &Simulation) -> Option<String> {
    let Some(leader) = sim.leader() else {
        return Some("no leader".into());
    };
    let (members, voters, term, last) = {
        let world = sim.world.lock();
        let metrics = world.rafts.get(&leader)?.metrics().borrow_watched().clone();
        let membership = metrics.membership_config.membership();
        let members: Vec<NodeId> = membership.nodes().map(|(id, _)| *id).collect();
        let voters: std::collections::BTreeSet<NodeId> = membership.voter_ids().collect();
        (
            members,
            voters,
            metrics.current_term,
            metrics.last_log_index.unwrap_or(0),
        )
    };
    let state = sim.nodes[&leader].state_machine.read(Clone::clone);
    for &id in &members {
        let Some(report) = sim.node(id) else {
            return Some(format!("member n{id} is unknown"));
        };
        if report.role == Role::Down {
            return Some(format!("member n{id} is not running"));
        }
        if id != leader && (report.term != term || report.leader != Some(leader)) {
            return Some(format!("n{id} does not follow n{leader} in term {term}"));
        }
        if report.applied_index != last {
            return Some(format!(
                "n{id} applied {} of the leader's {last}",
                report.applied_index
            ));
        }
        if sim.nodes[&id].state_machine.read(|s| *s != state) {
            return Some(format!("n{id}'s state differs from the leader's"));
        }
    }
    if let Some(node) = state
        .nodes()
        .values()
        .find(|node| node.status != NodeStatus::Up)
    {
        return Some(format!("node {} is still marked down", node.id));
    }
    // A learner (a node whose addition stopped half-way, left for the operator to retry or
    // remove) is a Raft member but no orchestrator node: it takes no replicas until it votes.
    if !state.nodes().keys().copied().eq(voters.iter().copied()) {
        return Some(format!(
            "the orchestrator's nodes {:?} are not the voters {voters:?}",
            state.nodes().keys().collect::<Vec<_>>()
        ));
    }
    let pending = state.total_pending();
    let room = state.node_views().any(|node| node.load < node.capacity);
    if pending > 0 && room {
        return Some(format!("{pending} replicas pend while a node has room"));
    }
    None
}
