//! What the comparison sections print and record: one line per write point, percentiles of
//! failover times, where each goal stands (met / not met; the bench never fails on them), and
//! the entry added to BENCHMARKS.md with the date, commit, machine and exact command.

use std::fmt::Write as _;
use std::time::Duration;

use super::failover::{FailoverRun, millis};
use super::writes::{WritePoint, WritesRun};
use crate::cmd::{Error, Result, workspace_root};

/// The p50, p99 and max of a set of durations, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median.
    pub p50: f64,
    /// 99th percentile (nearest rank: with fewer than 100 samples, the largest but one or the
    /// largest).
    pub p99: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `samples`; `None` if there are none.
    pub fn of(samples: &[Duration]) -> Option<Self> {
        let mut sorted: Vec<f64> = samples.iter().copied().map(millis).collect();
        sorted.sort_by(f64::total_cmp);
        let max = *sorted.last()?;
        Some(Self {
            p50: nearest_rank(&sorted, 50.0),
            p99: nearest_rank(&sorted, 99.0),
            max,
        })
    }
}

/// The nearest-rank percentile `p` of non-empty, sorted `sorted`.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// One goal and where it stands.
#[derive(Debug, Clone)]
pub struct Goal {
    /// The goal, as stated.
    pub goal: String,
    /// What this run measured for it.
    pub measured: String,
    /// Met, not met, or not measured (`None`) in this run.
    pub met: Option<bool>,
}

impl Goal {
    fn verdict(&self) -> &'static str {
        match self.met {
            Some(true) => "met",
            Some(false) => "not met",
            None => "not measured",
        }
    }
}

/// The printed line of one write point.
pub fn write_line(point: &WritePoint) -> String {
    format!(
        "writes: {:>3} conns: flotilla {:>7.0} req/s p50 {:>6.1} ms p99 {:>6.1} ms{} | etcd {:>7.0} req/s p50 {:>6.1} ms p99 {:>6.1} ms{} | flotilla/etcd {:.2}x, p99 {:.2}x",
        point.connections,
        point.flotilla.ok_per_s,
        point.flotilla.p50_ms,
        point.flotilla.p99_ms,
        errors_note(point.flotilla.errors),
        point.etcd.ok_per_s,
        point.etcd.p50_ms,
        point.etcd.p99_ms,
        errors_note(point.etcd.errors),
        point.throughput_ratio(),
        point.p99_ratio(),
    )
}

fn errors_note(errors: u64) -> String {
    if errors == 0 {
        String::new()
    } else {
        format!(" ({errors} errors)")
    }
}

/// The writes goals: at least 2x etcd at 64 connections with p99 no worse, never below etcd at
/// 1, 16 and 256.
pub fn write_goals(run: &WritesRun) -> Vec<Goal> {
    let at = |conns: u32| run.points.iter().find(|p| p.connections == conns);
    let mut goals = vec![
        match at(64) {
            Some(point) => Goal {
                goal: "writes >= 2x etcd at 64 connections".into(),
                measured: format!("{:.2}x", point.throughput_ratio()),
                met: Some(point.throughput_ratio() >= 2.0),
            },
            None => unmeasured("writes >= 2x etcd at 64 connections"),
        },
        match at(64) {
            Some(point) => Goal {
                goal: "p99 no worse than etcd's at 64 connections".into(),
                measured: format!(
                    "{:.1} ms vs {:.1} ms, {:.2}x",
                    point.flotilla.p99_ms,
                    point.etcd.p99_ms,
                    point.p99_ratio()
                ),
                met: Some(point.flotilla.p99_ms <= point.etcd.p99_ms),
            },
            None => unmeasured("p99 no worse than etcd's at 64 connections"),
        },
    ];
    for conns in [1, 16, 256] {
        let goal = format!("writes never below etcd at {conns} connections");
        goals.push(match at(conns) {
            Some(point) => Goal {
                goal,
                measured: format!("{:.2}x", point.throughput_ratio()),
                met: Some(point.throughput_ratio() >= 1.0),
            },
            None => unmeasured(&goal),
        });
    }
    goals
}

/// The failover goals: p50 <= 300 ms, p99 <= 600 ms, and never slower than etcd (p50, p99 and
/// max each no larger than etcd's).
pub fn failover_goals(run: &FailoverRun) -> Vec<Goal> {
    let (Some(flotilla), Some(etcd)) = (Spread::of(&run.flotilla), Spread::of(&run.etcd)) else {
        return vec![unmeasured("failover")];
    };
    vec![
        Goal {
            goal: "failover p50 <= 300 ms".into(),
            measured: format!("{:.0} ms", flotilla.p50),
            met: Some(flotilla.p50 <= 300.0),
        },
        Goal {
            goal: "failover p99 <= 600 ms".into(),
            measured: format!("{:.0} ms", flotilla.p99),
            met: Some(flotilla.p99 <= 600.0),
        },
        Goal {
            goal: "failover never slower than etcd (p50, p99, max)".into(),
            measured: format!(
                "{:.0}/{:.0}/{:.0} ms vs {:.0}/{:.0}/{:.0} ms",
                flotilla.p50, flotilla.p99, flotilla.max, etcd.p50, etcd.p99, etcd.max
            ),
            met: Some(
                flotilla.p50 <= etcd.p50 && flotilla.p99 <= etcd.p99 && flotilla.max <= etcd.max,
            ),
        },
    ]
}

fn unmeasured(goal: &str) -> Goal {
    Goal {
        goal: goal.into(),
        measured: "-".into(),
        met: None,
    }
}

/// Prints the failover summary and every goal.
pub fn print_summary(writes: Option<&WritesRun>, failover: Option<&FailoverRun>) {
    if let Some(run) = failover
        && let (Some(f), Some(e)) = (Spread::of(&run.flotilla), Spread::of(&run.etcd))
    {
        println!(
            "failover: {} trials: flotilla p50 {:.0} ms p99 {:.0} ms max {:.0} ms | etcd p50 {:.0} ms p99 {:.0} ms max {:.0} ms | flotilla/etcd p50 {:.2}x",
            run.flotilla.len(),
            f.p50,
            f.p99,
            f.max,
            e.p50,
            e.p99,
            e.max,
            f.p50 / e.p50
        );
    }
    let goals = writes
        .map(write_goals)
        .into_iter()
        .chain(failover.map(failover_goals))
        .flatten();
    for goal in goals {
        println!(
            "goal: {}: {} ({})",
            goal.goal,
            goal.verdict(),
            goal.measured
        );
    }
}

/// Where and how a run happened, for its BENCHMARKS.md entry.
#[derive(Debug, Clone)]
pub struct Context {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// Short commit id, `-dirty` if the work tree had changes.
    pub commit: String,
    /// Cores and CPU model.
    pub machine: String,
    /// The 1-minute load average when the run started.
    pub load_average: String,
    /// The command as typed.
    pub command: String,
    /// `--quick` was given.
    pub quick: bool,
    /// etcd's version line.
    pub etcd_version: String,
}

impl Context {
    /// Gathers the context of a run of `command` now.
    pub fn gather(command: String, quick: bool) -> Self {
        let date = quiet_output("date", &["+%F"]).unwrap_or_else(|| "unknown date".into());
        let commit = quiet_output("git", &["rev-parse", "--short", "HEAD"])
            .map(|commit| {
                let dirty = quiet_output("git", &["status", "--porcelain"])
                    .is_some_and(|status| !status.is_empty());
                if dirty {
                    format!("{commit}-dirty")
                } else {
                    commit
                }
            })
            .unwrap_or_else(|| "unknown commit".into());
        let cores = std::thread::available_parallelism().map_or(0, |n| n.get());
        let model = std::fs::read_to_string("/proc/cpuinfo")
            .ok()
            .and_then(|info| {
                info.lines()
                    .find(|line| line.starts_with("model name"))
                    .and_then(|line| line.split_once(':'))
                    .map(|(_, model)| model.trim().to_string())
            })
            .unwrap_or_else(|| "unknown CPU".into());
        let load_average = std::fs::read_to_string("/proc/loadavg")
            .ok()
            .and_then(|text| text.split_whitespace().next().map(str::to_string))
            .unwrap_or_else(|| "unknown".into());
        let etcd_version = quiet_output(super::etcd::ETCD, &["--version"])
            .and_then(|text| {
                let first = text.lines().next()?;
                Some(format!(
                    "etcd {}",
                    first.trim_start_matches("etcd Version:").trim()
                ))
            })
            .unwrap_or_else(|| "etcd (version unknown)".into());
        Self {
            date,
            commit,
            machine: format!("{cores} cores ({model})"),
            load_average,
            command,
            quick,
            etcd_version,
        }
    }
}

/// The trimmed standard output of a command that succeeded, run from the workspace root.
fn quiet_output(program: &str, args: &[&str]) -> Option<String> {
    let output = std::process::Command::new(program)
        .args(args)
        .current_dir(workspace_root())
        .stderr(std::process::Stdio::null())
        .output()
        .ok()?;
    output
        .status
        .success()
        .then(|| String::from_utf8_lossy(&output.stdout).trim().to_string())
}

/// The BENCHMARKS.md entry of a run.
pub fn markdown(
    context: &Context,
    writes: Option<&WritesRun>,
    failover: Option<&FailoverRun>,
) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## {} · Flotilla against etcd: writes and failover (commit {})\n",
        context.date, context.commit
    );
    let _ = writeln!(
        md,
        "Machine: {} (`nproc`, /proc/cpuinfo); 1-minute load average at the start: {}.",
        context.machine, context.load_average
    );
    let _ = writeln!(md, "Command: `{}`", context.command);
    if context.quick {
        let _ = writeln!(
            md,
            "A quick run (`--quick`: fewer seconds and trials than the defaults) on a shared, \
             loaded machine: the numbers are noisy, only the ratios of one run compare."
        );
    }
    let _ = writeln!(
        md,
        "Both systems on loopback, 3 members each, every write fsync'd; {}; load from wrk.\n",
        context.etcd_version
    );
    if let Some(run) = writes {
        let _ = writeln!(
            md,
            "### Writes vs etcd ({} s per system and point)\n",
            run.seconds
        );
        let _ = writeln!(
            md,
            "Flotilla: `{}` (release build), `POST /clusters/0/service` of 3 replicas, a fresh label per request, through the demo's API.",
            run.flotilla_command
        );
        let _ = writeln!(
            md,
            "etcd: `{}` (and e2, e3 alike), `POST /v3/kv/put` of a fresh key with the same JSON as value, to the leader's gateway.\n",
            run.etcd_command
        );
        let _ = writeln!(
            md,
            "| connections | flotilla req/s | p50 ms | p99 ms | etcd req/s | p50 ms | p99 ms | req/s flotilla/etcd | p99 flotilla/etcd |"
        );
        let _ = writeln!(md, "|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
        for p in &run.points {
            let _ = writeln!(
                md,
                "| {} | {:.0}{} | {:.1} | {:.1} | {:.0}{} | {:.1} | {:.1} | {:.2}x | {:.2}x |",
                p.connections,
                p.flotilla.ok_per_s,
                errors_note(p.flotilla.errors),
                p.flotilla.p50_ms,
                p.flotilla.p99_ms,
                p.etcd.ok_per_s,
                errors_note(p.etcd.errors),
                p.etcd.p50_ms,
                p.etcd.p99_ms,
                p.throughput_ratio(),
                p.p99_ratio()
            );
        }
        md.push('\n');
        goals_markdown(&mut md, &write_goals(run));
    }
    if let Some(run) = failover {
        let _ = writeln!(
            md,
            "### Failover ({} trials: kill -9 the leader, time until a write through a survivor is acknowledged)\n",
            run.flotilla.len()
        );
        let _ = writeln!(
            md,
            "3 `flotilla node` processes on disk (default timing: {}) and 3 etcd members with `--heartbeat-interval {} --election-timeout {}` ({}-{} ms); a write every 20 ms from the kill on.\n",
            super::failover::FLOTILLA_TIMING_TEXT,
            super::failover::ETCD_TIMING.heartbeat_ms,
            super::failover::ETCD_TIMING.election_ms,
            super::failover::ETCD_TIMING.election_ms,
            2 * super::failover::ETCD_TIMING.election_ms,
        );
        let _ = writeln!(md, "| | p50 ms | p99 ms | max ms |");
        let _ = writeln!(md, "|---|---:|---:|---:|");
        if let (Some(f), Some(e)) = (Spread::of(&run.flotilla), Spread::of(&run.etcd)) {
            let _ = writeln!(
                md,
                "| flotilla | {:.0} | {:.0} | {:.0} |",
                f.p50, f.p99, f.max
            );
            let _ = writeln!(md, "| etcd | {:.0} | {:.0} | {:.0} |", e.p50, e.p99, e.max);
            let _ = writeln!(
                md,
                "| flotilla/etcd | {:.2}x | {:.2}x | {:.2}x |",
                f.p50 / e.p50,
                f.p99 / e.p99,
                f.max / e.max
            );
        }
        md.push('\n');
        goals_markdown(&mut md, &failover_goals(run));
    }
    md
}

fn goals_markdown(md: &mut String, goals: &[Goal]) {
    let _ = writeln!(md, "Goals:");
    for goal in goals {
        let _ = writeln!(
            md,
            "- {}: **{}** ({})",
            goal.goal,
            goal.verdict(),
            goal.measured
        );
    }
    md.push('\n');
}

/// The BENCHMARKS.md entry of a memory run: its context and the section's `lines`.
pub fn memory_markdown(context: &Context, lines: &[String]) -> String {
    let mut md = String::new();
    let _ = writeln!(
        md,
        "## {} · Flotilla against etcd: memory (commit {})\n",
        context.date, context.commit
    );
    let _ = writeln!(
        md,
        "Machine: {}; 1-minute load average at the start: {}; {}.",
        context.machine, context.load_average, context.etcd_version
    );
    let _ = writeln!(md, "Command: `{}`\n", context.command);
    for line in lines {
        let _ = writeln!(md, "    {line}");
    }
    md
}

/// Adds `entry` to BENCHMARKS.md above the newest entry (the file lists runs newest first).
pub fn record(entry: &str) -> Result {
    let path = workspace_root().join("BENCHMARKS.md");
    let text = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("could not read {}: {e}", path.display())))?;
    let at = text.find("\n## ").map_or(text.len(), |at| at + 1);
    let mut updated = String::with_capacity(text.len() + entry.len() + 1);
    updated.push_str(&text[..at]);
    if !updated.ends_with("\n\n") {
        updated.push('\n');
    }
    updated.push_str(entry.trim_end());
    updated.push_str("\n\n");
    updated.push_str(&text[at..]);
    std::fs::write(&path, updated)
        .map_err(|e| Error::new(format!("could not write {}: {e}", path.display())))?;
    eprintln!("bench: recorded in {}", path.display());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_take_the_nearest_rank() {
        let samples: Vec<Duration> = (1..=20).map(|ms| Duration::from_millis(ms * 10)).collect();
        let spread = Spread::of(&samples).expect("samples");
        assert_eq!((spread.p50, spread.p99, spread.max), (100.0, 200.0, 200.0));
        assert!(Spread::of(&[]).is_none());
    }
}
