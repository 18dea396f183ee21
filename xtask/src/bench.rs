//! `cargo xtask bench`: flotilla-core's benchmarks (placement, simulation speed), the browser
//! page's (frame time in headless Chromium, after building the page, whose build prints the
//! download size), and Flotilla against etcd on this machine: writes under load and failover
//! after kill -9 of the leader (the modules below). Every benchmark prints its results next to
//! a peer measured in the same run, and the resident memory of a node against an etcd member's;
//! none asserts a speed, and goals are reported as met or not met, never failed on. `--only`
//! picks sections.

mod child;
mod etcd;
mod failover;
mod flotilla_proc;
mod http;
mod load;
mod memory;
mod report;
mod writes;

use std::path::Path;

use crate::cmd::{Cmd, Error, Result};
use crate::{BenchArgs, BenchSection};

/// Seconds of load per system and write point, unless `--seconds` or `--quick` say otherwise.
const DEFAULT_SECONDS: u64 = 10;
/// The same with `--quick`.
const QUICK_SECONDS: u64 = 3;
/// Failover trials per system, unless `--trials` or `--quick` say otherwise.
const DEFAULT_TRIALS: u32 = 20;
/// The same with `--quick`.
const QUICK_TRIALS: u32 = 5;
/// Writes the memory section sends through each system between its two readings.
const MEMORY_WRITES: usize = 2000;

/// Runs the sections `args.only` names (all without it): `cargo bench -p flotilla-core` (with
/// `args.args` passed through after it), the page benchmark after building the page, then
/// writes and failover against etcd, recorded in BENCHMARKS.md unless `--no-record`.
pub fn run(args: BenchArgs) -> Result {
    let wants = |section| args.only.is_empty() || args.only.contains(&section);
    if wants(BenchSection::Core) {
        Cmd::cargo()
            .args(["bench", "--package", "flotilla-core"])
            .args(&args.args)
            .run()?;
    }
    if wants(BenchSection::Page) {
        crate::web::run()?;
        Cmd::cargo()
            .args(["bench", "--package", "flotilla-tests", "--bench", "page"])
            .run()?;
    }
    let (run_writes, run_failover) = (wants(BenchSection::Writes), wants(BenchSection::Failover));
    let run_memory = wants(BenchSection::Memory);
    if !run_writes && !run_failover && !run_memory {
        return Ok(());
    }
    // Check the tools before the long release build.
    let wrk = if run_writes {
        Some(load::wrk_program()?)
    } else {
        None
    };
    if !Path::new(etcd::ETCD).is_file() {
        return Err(Error::new(format!(
            "{} is missing: install it with `sudo apt-get install etcd-server wrk`",
            etcd::ETCD
        )));
    }
    let context = report::Context::gather(typed_command(), args.quick);
    let bin = flotilla_proc::build_release()?;
    let seconds = args.seconds.unwrap_or(if args.quick {
        QUICK_SECONDS
    } else {
        DEFAULT_SECONDS
    });
    let trials = args.trials.unwrap_or(if args.quick {
        QUICK_TRIALS
    } else {
        DEFAULT_TRIALS
    });
    let writes = match &wrk {
        Some(wrk) => Some(writes::run(&bin, wrk, &args.connections, seconds)?),
        None => None,
    };
    let failover = if run_failover {
        Some(failover::run(&bin, trials)?)
    } else {
        None
    };
    let memory = if run_memory {
        Some(memory::run(&bin, MEMORY_WRITES)?)
    } else {
        None
    };
    if run_writes || run_failover {
        report::print_summary(writes.as_ref(), failover.as_ref());
    }
    let memory_lines = memory.as_ref().map(memory::lines).unwrap_or_default();
    for line in &memory_lines {
        eprintln!("{line}");
    }
    if args.no_record {
        return Ok(());
    }
    if run_writes || run_failover {
        report::record(&report::markdown(
            &context,
            writes.as_ref(),
            failover.as_ref(),
        ))?;
    }
    if run_memory {
        report::record(&report::memory_markdown(&context, &memory_lines))?;
    }
    Ok(())
}

/// This run's command line as the user typed it (`cargo xtask bench …`).
fn typed_command() -> String {
    Cmd::new("cargo")
        .arg("xtask")
        .args(std::env::args_os().skip(1))
        .to_string()
}
