//! The faults of one campaign seed: drawn from the seed as the run goes (so a seed replays
//! exactly), each lasting a while and then undone, all of them undone when the fault phase ends.

use std::collections::BTreeMap;
use std::time::Duration;

use rand::Rng;
use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;

use crate::sim::NodeId;
use crate::sim::Simulation;

/// The kinds of fault a campaign injects, in the order the summary lists them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    /// The cluster split in two groups, links between them cut both ways.
    Partition,
    /// One directed link cut.
    Cut,
    /// Messages lost at random.
    Drop,
    /// Raft messages delivered twice.
    Duplicate,
    /// Latencies spread widely, so later messages overtake earlier ones.
    Reorder,
    /// Every message slow for a while.
    LatencySpike,
    /// One node's messages slow.
    SlowNode,
    /// A node crashed, restarted soon after.
    Crash,
    /// A node crashed for long enough to need a snapshot to catch up.
    LongOutage,
    /// A node added through a membership change.
    AddNode,
    /// A node removed through a membership change.
    RemoveNode,
}

impl FaultKind {
    /// Every kind, in summary order.
    pub const ALL: [FaultKind; 11] = [
        FaultKind::Partition,
        FaultKind::Cut,
        FaultKind::Drop,
        FaultKind::Duplicate,
        FaultKind::Reorder,
        FaultKind::LatencySpike,
        FaultKind::SlowNode,
        FaultKind::Crash,
        FaultKind::LongOutage,
        FaultKind::AddNode,
        FaultKind::RemoveNode,
    ];

    /// Its name in the summary.
    pub fn name(self) -> &'static str {
        match self {
            FaultKind::Partition => "partition",
            FaultKind::Cut => "cut",
            FaultKind::Drop => "drop",
            FaultKind::Duplicate => "duplicate",
            FaultKind::Reorder => "reorder",
            FaultKind::LatencySpike => "latency-spike",
            FaultKind::SlowNode => "slow-node",
            FaultKind::Crash => "crash",
            FaultKind::LongOutage => "long-outage",
            FaultKind::AddNode => "add-node",
            FaultKind::RemoveNode => "remove-node",
        }
    }
}

/// How many faults of each kind were injected.
pub type FaultCounts = BTreeMap<FaultKind, u64>;

/// What undoes a fault when its time is up.
enum Undo {
    Heal(Vec<(NodeId, NodeId)>),
    DropRate,
    DuplicateRate,
    Latency,
    Slow(NodeId),
    Restart(NodeId),
}

/// The faults of one seed: draws new ones, undoes expired ones.
pub struct Schedule {
    /// The latency range of a healthy wire.
    normal_latency: (Duration, Duration),
    /// Most nodes the cluster may grow to.
    max_nodes: usize,
    /// Active faults and when they end.
    active: Vec<(Duration, Undo)>,
    /// Faults injected so far.
    pub counts: FaultCounts,
}

/// Per step, the chance of a new fault starting (a fault phase of 60 s has 1,200 steps of 50 ms:
/// about a dozen faults, several at once).
const FAULT_CHANCE: f64 = 0.012;

impl Schedule {
    /// A schedule for a cluster with `sim`'s current wire, that may grow to `max_nodes`.
    pub fn new(sim: &Simulation, max_nodes: usize) -> Self {
        Schedule {
            normal_latency: sim.config().latency,
            max_nodes,
            active: Vec::new(),
            counts: FaultCounts::new(),
        }
    }

    /// One step of the fault phase at virtual time `now`: undoes faults whose time is up and
    /// maybe starts a new one.
    pub fn step(&mut self, sim: &mut Simulation, rng: &mut Xoshiro256PlusPlus, now: Duration) {
        let (due, active): (Vec<_>, Vec<_>) = std::mem::take(&mut self.active)
            .into_iter()
            .partition(|(end, _)| *end <= now);
        self.active = active;
        for (_, undo) in due {
            self.undo(sim, undo);
        }
        if rng.random_bool(FAULT_CHANCE) {
            let kind = *FaultKind::ALL.choose(rng).unwrap_or(&FaultKind::Cut);
            if let Some((lasts, undo)) = self.inject(sim, rng, kind) {
                *self.counts.entry(kind).or_default() += 1;
                if let Some(undo) = undo {
                    self.active.push((now + lasts, undo));
                }
            }
        }
    }

    /// Undoes every active fault and restarts every crashed node: the healing that starts the
    /// recovery phase.
    pub fn end(&mut self, sim: &mut Simulation) {
        for (_, undo) in std::mem::take(&mut self.active) {
            self.undo(sim, undo);
        }
        sim.heal_all();
        let _ = sim.set_drop_rate(0.0);
        let _ = sim.set_duplicate_rate(0.0);
        let (min, max) = self.normal_latency;
        let _ = sim.set_latency(min, max);
        for id in sim.node_ids() {
            let _ = sim.set_slow(id, Duration::ZERO);
            if !sim.removed.contains(&id) && !sim.is_running(id) {
                let _ = sim.restart(id);
            }
        }
    }

    fn undo(&mut self, sim: &mut Simulation, undo: Undo) {
        match undo {
            Undo::Heal(links) => {
                for (from, to) in links {
                    let _ = sim.heal(from, to);
                }
            }
            Undo::DropRate => {
                let _ = sim.set_drop_rate(0.0);
            }
            Undo::DuplicateRate => {
                let _ = sim.set_duplicate_rate(0.0);
            }
            Undo::Latency => {
                let (min, max) = self.normal_latency;
                let _ = sim.set_latency(min, max);
            }
            Undo::Slow(id) => {
                let _ = sim.set_slow(id, Duration::ZERO);
            }
            Undo::Restart(id) => {
                // A node removed meanwhile stays stopped.
                let _ = sim.restart(id);
            }
        }
    }

    /// Starts one fault of `kind`; returns how long it lasts and what undoes it, or `None` if
    /// it does not apply now (no node to crash, no leader to change the membership…).
    fn inject(
        &mut self,
        sim: &mut Simulation,
        rng: &mut Xoshiro256PlusPlus,
        kind: FaultKind,
    ) -> Option<(Duration, Option<Undo>)> {
        let members: Vec<NodeId> = sim
            .node_ids()
            .into_iter()
            .filter(|id| !sim.removed.contains(id))
            .collect();
        let running: Vec<NodeId> = members
            .iter()
            .copied()
            .filter(|id| sim.is_running(*id))
            .collect();
        let lasts = secs(rng, 1.0, 12.0);
        match kind {
            FaultKind::Partition => {
                let mut shuffled = members.clone();
                shuffle(&mut shuffled, rng);
                let cut_at = rng.random_range(1..shuffled.len().max(2));
                let (a, b) = shuffled.split_at(cut_at.min(shuffled.len()));
                let mut links = Vec::new();
                for &x in a {
                    for &y in b {
                        for link in [(x, y), (y, x)] {
                            if !sim.cut_links().contains(&link) && sim.cut(link.0, link.1).is_ok() {
                                links.push(link);
                            }
                        }
                    }
                }
                Some((lasts, Some(Undo::Heal(links))))
            }
            FaultKind::Cut => {
                let from = *members.choose(rng)?;
                let to = *members
                    .iter()
                    .filter(|id| **id != from)
                    .collect::<Vec<_>>()
                    .choose(rng)?;
                if sim.cut_links().contains(&(from, *to)) {
                    return None;
                }
                sim.cut(from, *to).ok()?;
                Some((lasts, Some(Undo::Heal(vec![(from, *to)]))))
            }
            FaultKind::Drop => {
                sim.set_drop_rate(rng.random_range(0.02..0.3)).ok()?;
                Some((lasts, Some(Undo::DropRate)))
            }
            FaultKind::Duplicate => {
                sim.set_duplicate_rate(rng.random_range(0.05..0.5)).ok()?;
                Some((lasts, Some(Undo::DuplicateRate)))
            }
            FaultKind::Reorder => {
                sim.set_latency(
                    Duration::from_millis(1),
                    Duration::from_millis(rng.random_range(20..150)),
                )
                .ok()?;
                Some((lasts, Some(Undo::Latency)))
            }
            FaultKind::LatencySpike => {
                let low = rng.random_range(50..400);
                sim.set_latency(
                    Duration::from_millis(low),
                    Duration::from_millis(low + rng.random_range(1..800)),
                )
                .ok()?;
                Some((secs(rng, 0.5, 5.0), Some(Undo::Latency)))
            }
            FaultKind::SlowNode => {
                let id = *members.choose(rng)?;
                sim.set_slow(id, Duration::from_millis(rng.random_range(20..600)))
                    .ok()?;
                Some((lasts, Some(Undo::Slow(id))))
            }
            FaultKind::Crash => {
                let id = *running.choose(rng)?;
                crash_mid_step(sim, rng, id)?;
                Some((secs(rng, 0.0, 8.0), Some(Undo::Restart(id))))
            }
            FaultKind::LongOutage => {
                let id = *running.choose(rng)?;
                crash_mid_step(sim, rng, id)?;
                Some((secs(rng, 20.0, 40.0), Some(Undo::Restart(id))))
            }
            FaultKind::AddNode => {
                if sim.node_ids().len() >= self.max_nodes {
                    return None;
                }
                let capacity = sim.config().capacity;
                sim.add_node(capacity).ok()?;
                Some((Duration::ZERO, None))
            }
            FaultKind::RemoveNode => {
                if members.len() <= 3 {
                    return None;
                }
                let id = *members.choose(rng)?;
                sim.remove_node(id).ok()?;
                Some((Duration::ZERO, None))
            }
        }
    }
}

/// Crashes node `id` a random few milliseconds into the step, rather than on its boundary, so
/// that crashes also land while writes are in flight and not yet flushed.
fn crash_mid_step(sim: &mut Simulation, rng: &mut impl Rng, id: NodeId) -> Option<()> {
    sim.advance(Duration::from_micros(rng.random_range(0..20_000)));
    sim.crash(id).ok()
}

/// A duration drawn uniformly between `min` and `max` seconds.
fn secs(rng: &mut impl Rng, min: f64, max: f64) -> Duration {
    Duration::from_secs_f64(rng.random_range(min..max))
}

/// Fisher–Yates, drawing from `rng`.
fn shuffle<T>(items: &mut [T], rng: &mut impl Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.random_range(0..=i);
        items.swap(i, j);
    }
}
