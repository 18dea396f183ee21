//! What a campaign reports: per seed ([`SeedReport`]) and in total ([`CampaignSummary`], whose
//! `Display` is the campaign's last line).

use std::fmt;
use std::time::Duration;

use super::schedule::FaultCounts;
use super::schedule::FaultKind;

/// What went wrong in one seed.
#[derive(Debug, Clone)]
pub struct Violation {
    /// Which promise broke, and how.
    pub what: String,
    /// When (virtual time since the start of the seed's run).
    pub at: Duration,
    /// The events that led to it, oldest first, one line each.
    pub recent_events: Vec<String>,
}

/// The outcome of one seed.
#[derive(Debug, Clone)]
pub struct SeedReport {
    /// The seed.
    pub seed: u64,
    /// Nodes the cluster started with.
    pub nodes: usize,
    /// Virtual time simulated.
    pub simulated: Duration,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Client operations sent.
    pub operations: usize,
    /// Log entries committed.
    pub committed: usize,
    /// Log entries crashed nodes lost because their disk had not flushed them.
    pub unflushed_lost: u64,
    /// The first violation, if any.
    pub violation: Option<Violation>,
}

impl SeedReport {
    /// The one command that replays this seed.
    pub fn replay_command(&self) -> String {
        replay_command(self.seed, self.nodes)
    }
}

/// The command that replays seed `seed` with `nodes` nodes.
pub fn replay_command(seed: u64, nodes: usize) -> String {
    format!("cargo xtask sim --seeds 1 --from {seed} --nodes {nodes}")
}

impl fmt::Display for SeedReport {
    /// A failing seed: the violation, the events before it and the replay command.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let Some(violation) = &self.violation else {
            return write!(
                f,
                "seed {}: ok, {:.0} virtual s, {} operations, {} entries committed",
                self.seed,
                self.simulated.as_secs_f64(),
                self.operations,
                self.committed
            );
        };
        writeln!(
            f,
            "seed {}: VIOLATION at {:.6}s: {}",
            self.seed,
            violation.at.as_secs_f64(),
            violation.what
        )?;
        writeln!(
            f,
            "  the last {} events before it:",
            violation.recent_events.len()
        )?;
        for line in &violation.recent_events {
            writeln!(f, "  {line}")?;
        }
        write!(f, "  replay: {}", self.replay_command())
    }
}

/// A whole campaign in figures.
#[derive(Debug, Clone, Default)]
pub struct CampaignSummary {
    /// Seeds run.
    pub seeds: u64,
    /// Virtual time simulated over all seeds.
    pub simulated: Duration,
    /// Faults injected, by kind.
    pub faults: FaultCounts,
    /// Client operations over all seeds.
    pub operations: u64,
    /// Log entries lost by crashed nodes' disks before they were flushed.
    pub unflushed_lost: u64,
    /// Seeds that broke a promise, in seed order.
    pub failed: Vec<u64>,
}

impl CampaignSummary {
    /// Adds one seed's figures.
    pub fn add(&mut self, report: &SeedReport) {
        self.seeds += 1;
        self.simulated += report.simulated;
        for (kind, count) in &report.faults {
            *self.faults.entry(*kind).or_default() += count;
        }
        self.operations += report.operations as u64;
        self.unflushed_lost += report.unflushed_lost;
        if report.violation.is_some() {
            self.failed.push(report.seed);
            self.failed.sort_unstable();
        }
    }

    /// Whether every seed kept every promise.
    pub fn passed(&self) -> bool {
        self.failed.is_empty()
    }
}

impl fmt::Display for CampaignSummary {
    /// One line: seeds run, simulated hours, faults injected by kind, violations.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let faults: Vec<String> = FaultKind::ALL
            .iter()
            .map(|kind| {
                format!(
                    "{} {}",
                    kind.name(),
                    self.faults.get(kind).copied().unwrap_or(0)
                )
            })
            .collect();
        write!(
            f,
            "campaign: {} seeds, {:.2} simulated hours, {} client operations, faults: {} ({} unflushed entries lost in crashes); {} violations",
            self.seeds,
            self.simulated.as_secs_f64() / 3600.0,
            self.operations,
            faults.join(", "),
            self.unflushed_lost,
            self.failed.len()
        )?;
        if !self.failed.is_empty() {
            let seeds: Vec<String> = self.failed.iter().map(u64::to_string).collect();
            write!(f, " (seeds {})", seeds.join(", "))?;
        }
        Ok(())
    }
}
