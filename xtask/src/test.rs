//! `cargo xtask test`: every check, in order, as CI runs it.
//!
//! Each step is echoed, the run stops at the first failure, and a summary with each step's
//! wall time is printed at the end, whether the run passed or not.

use std::time::{Duration, Instant};

use crate::cmd::{Cmd, Error, Result};
use crate::{TestArgs, deps, layers, toolchain};

/// How many seeds the `campaign` step runs: about a minute on two cores, after a few minutes
/// of optimised build on a cold machine.
pub const CAMPAIGN_SEEDS: u64 = 500;

/// One step of `cargo xtask test`: a short name for the summary and what it does.
pub struct Step {
    /// The name shown in the progress lines and the summary, e.g. `clippy`.
    pub name: &'static str,
    action: Box<dyn Fn() -> Result>,
}

impl Step {
    /// A step that calls `action`.
    pub fn new(name: &'static str, action: impl Fn() -> Result + 'static) -> Self {
        Self {
            name,
            action: Box::new(action),
        }
    }

    /// A step that runs one command and fails if it fails.
    pub fn command(name: &'static str, command: Cmd) -> Self {
        Self::new(name, move || command.run())
    }
}

/// The steps of `cargo xtask test`, in order; `test_args` go to `cargo test`.
pub fn steps(test_args: &[String]) -> Vec<Step> {
    vec![
        Step::new("toolchain", toolchain::ensure_all),
        Step::command("fmt", Cmd::cargo().args(["fmt", "--all", "--", "--check"])),
        Step::command(
            "clippy",
            Cmd::cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]),
        ),
        // Each crate's modules import only downwards, as ARCHITECTURE.md's "## Layers" says.
        Step::new("layers", layers::check),
        // The browser tests in `test` open web/dist/ in headless Chromium: build it first. This
        // also proves flotilla-core and flotilla-web build for wasm32 (in the page's profile).
        Step::new("web", crate::web::run),
        Step::command(
            "test",
            Cmd::cargo().args(["test", "--workspace"]).args(test_args),
        ),
        Step::new("core-deps", deps::check_core),
        // Seeded fault campaigns over the simulation, optimised (TESTING.md): 500 seeds, each
        // a run with partitions, loss, duplication, crashes and membership changes, checked
        // for Raft's safety properties, the orchestrator's invariants and linearizability.
        Step::command(
            "campaign",
            crate::sim::campaign_command(CAMPAIGN_SEEDS, 0, 5),
        ),
        // ---- Later steps plug in here, in the order they should run. ----
        // Browser tests (flotilla-tests' tests/browser.rs: the page in headless Chromium, from
        // /usr/bin/chromium and /usr/bin/chromedriver, which .ci/run's install_browser()
        // installs) run inside `test`, on the web/dist/ that the `web` step built.
    ]
}

/// How one step ended, for the summary.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    Passed,
    Failed,
    NotRun,
}

/// Runs every step, stopping at the first failure, then prints the summary.
pub fn run(args: TestArgs) -> Result {
    let steps = steps(&args.args);
    let total = steps.len();
    let started = Instant::now();
    let mut results: Vec<(&'static str, Outcome, Duration)> = Vec::new();
    let mut failure: Option<(&'static str, Error)> = None;

    for (index, step) in steps.iter().enumerate() {
        if failure.is_some() {
            results.push((step.name, Outcome::NotRun, Duration::ZERO));
            continue;
        }
        eprintln!("\n==> [{}/{total}] {}", index + 1, step.name);
        let step_started = Instant::now();
        let outcome = (step.action)();
        let elapsed = step_started.elapsed();
        match outcome {
            Ok(()) => results.push((step.name, Outcome::Passed, elapsed)),
            Err(error) => {
                results.push((step.name, Outcome::Failed, elapsed));
                failure = Some((step.name, error));
            }
        }
    }

    eprintln!("\n==> summary");
    for (name, outcome, elapsed) in &results {
        let (label, time) = match outcome {
            Outcome::Passed => ("ok", format_duration(*elapsed)),
            Outcome::Failed => ("FAILED", format_duration(*elapsed)),
            Outcome::NotRun => ("not run", String::new()),
        };
        eprintln!("  {label:<8} {name:<14} {time:>9}");
    }
    let wall = format_duration(started.elapsed());
    match failure {
        None => {
            eprintln!("xtask test: all {total} steps ok in {wall}");
            Ok(())
        }
        Some((name, error)) => {
            eprintln!("xtask test: step `{name}` failed after {wall}");
            Err(Error::with_code(
                format!("step `{name}` failed: {}", error.message),
                error.code,
            ))
        }
    }
}

/// Formats a duration for the summary: `8.4s`, or `2m05.1s` from a minute up.
fn format_duration(duration: Duration) -> String {
    let tenths = duration.as_millis().div_ceil(100);
    let (minutes, tenths) = (tenths / 600, tenths % 600);
    if minutes == 0 {
        format!("{}.{}s", tenths / 10, tenths % 10)
    } else {
        format!("{minutes}m{:02}.{}s", tenths / 10, tenths % 10)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_well() {
        assert_eq!(format_duration(Duration::ZERO), "0.0s");
        assert_eq!(format_duration(Duration::from_millis(8_400)), "8.4s");
        assert_eq!(format_duration(Duration::from_millis(125_100)), "2m05.1s");
        assert_eq!(format_duration(Duration::from_secs(3_600)), "60m00.0s");
    }

    #[test]
    fn the_steps_are_the_contract() {
        let names: Vec<_> = steps(&[]).iter().map(|s| s.name).collect();
        assert_eq!(
            names,
            [
                "toolchain",
                "fmt",
                "clippy",
                "layers",
                "web",
                "test",
                "core-deps",
                "campaign"
            ]
        );
    }
}
