//! `cargo xtask sim`: runs one deterministic simulation of a cluster in virtual time, with a
//! light client workload, and prints what happened; or, with `--seeds`, a fault campaign.
//!
//! With `--trace`, one line per event; two runs of the same seed print byte-identical output.
//! Without it, a summary of the run.
//!
//! A campaign runs optimised: xtask itself is a debug build, and the simulation in a debug
//! build is about fifteen times slower. Rather than build xtask (and the page's wasm tooling it
//! carries) optimised, it runs `flotilla-campaign`, a small binary of flotilla-core, with
//! `cargo run --release`: one extra optimised build of core and its dependencies (openraft,
//! serde, rand), a few minutes on a cold machine, then seconds.

use std::io::Write;
use std::time::Duration;

use flotilla_core::sim::EventKind;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;
use flotilla_core::sim::Workload;

use crate::SimArgs;
use crate::cmd::Cmd;
use crate::cmd::Error;

/// Runs the simulation described by `args` (seed, nodes, virtual seconds, trace).
pub fn run(args: SimArgs) -> Result<(), String> {
    let SimArgs {
        seed,
        nodes,
        seconds,
        trace,
        ..
    } = args;
    let mut sim = Simulation::new(SimConfig::new(seed, nodes)).map_err(|err| err.to_string())?;
    let mut workload = Workload::light();
    let until = Duration::from_secs_f64(seconds);
    let out = std::io::stdout();
    let mut out = std::io::BufWriter::new(out.lock());
    let (mut events, mut messages, mut dropped, mut elections, mut replies) =
        (0u64, 0u64, 0u64, 0u64, 0u64);
    // The shared driver runs in one-second slices, so a long traced run streams instead of
    // piling up in memory; the browser page's `trace` runs the very same function.
    let mut write_error = None;
    workload.drive_observed(&mut sim, until, |event| {
        events += 1;
        match event.kind {
            EventKind::Sent { .. } => messages += 1,
            EventKind::Dropped { .. } => dropped += 1,
            EventKind::ElectionTimeout { .. } => elections += 1,
            EventKind::ClientReply { result: Ok(_), .. } => replies += 1,
            _ => {}
        }
        if trace && write_error.is_none() {
            write_error = writeln!(out, "{event}").err();
        }
    });
    if let Some(err) = write_error {
        return Err(format!("cannot write the trace: {err}"));
    }
    let leader = sim
        .leader()
        .map_or("none".to_string(), |id| format!("n{id}"));
    let term = sim.nodes().iter().map(|node| node.term).max().unwrap_or(0);
    let commit = sim
        .nodes()
        .iter()
        .map(|node| node.commit_index)
        .max()
        .unwrap_or(0);
    let summary = format!(
        "sim: seed {seed}, {nodes} nodes, {seconds} virtual s: {events} events, {messages} messages ({dropped} lost), \
         {elections} election timeouts, leader {leader} in term {term}, commit index {commit}, \
         {replies}/{} client requests committed",
        workload.sent()
    );
    // The summary goes to stderr when tracing, so the trace on stdout stays one line per event.
    if trace {
        out.flush()
            .map_err(|err| format!("cannot write the trace: {err}"))?;
        eprintln!("{summary}");
    } else {
        writeln!(out, "{summary}").map_err(|err| format!("cannot write: {err}"))?;
    }
    Ok(())
}

/// Runs a fault campaign of `seeds` seeds from `from` with `nodes` nodes: builds and runs
/// flotilla-core's `flotilla-campaign` optimised, on every core. Fails if any seed broke a
/// promise (the output names each, with the command that replays it).
pub fn campaign(seeds: u64, from: u64, nodes: usize) -> Result<(), Error> {
    let command = campaign_command(seeds, from, nodes);
    let status = command.status()?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::with_code(
            format!(
                "the campaign failed: `{command}` {}",
                crate::cmd::describe_status(status)
            ),
            1,
        ))
    }
}

/// The command that runs a campaign (also the `campaign` step of `cargo xtask test`).
pub fn campaign_command(seeds: u64, from: u64, nodes: usize) -> Cmd {
    Cmd::cargo().args([
        "run".to_string(),
        "--release".into(),
        "--quiet".into(),
        "--package".into(),
        "flotilla-core".into(),
        "--bin".into(),
        "flotilla-campaign".into(),
        "--".into(),
        "--seeds".into(),
        seeds.to_string(),
        "--from".into(),
        from.to_string(),
        "--nodes".into(),
        nodes.to_string(),
    ])
}
