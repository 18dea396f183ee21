//! `cargo xtask sim`: runs one deterministic simulation of a cluster in virtual time.

use crate::SimArgs;

/// Runs the simulation described by `args` (seed, nodes, virtual seconds, trace).
pub fn run(args: SimArgs) -> Result<(), String> {
    let SimArgs {
        seed,
        nodes,
        seconds,
        trace,
    } = args;
    eprintln!("sim: seed {seed}, {nodes} nodes, {seconds} virtual seconds, trace {trace}");
    Err("the simulation CLI is wired in with flotilla-core's Simulation API".into())
}
