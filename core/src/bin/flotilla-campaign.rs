//! `flotilla-campaign`: runs a seeded fault campaign over the simulation on every core and
//! prints failing seeds (with the command that replays each) and a last line of figures. Exits
//! with 1 if any seed broke a promise, 2 on bad arguments.
//!
//! `cargo xtask sim --seeds N [--from S] [--nodes K]` builds it optimised and runs it; it lives
//! in flotilla-core (not in xtask) so that the optimised build is only core and its dependencies.
//!
//! Usage: `flotilla-campaign --seeds N [--from S] [--nodes K] [--threads T]`.

use std::process::ExitCode;

use flotilla_core::sim::campaign::run_campaign;

/// The parsed command line.
struct Args {
    seeds: u64,
    from: u64,
    nodes: usize,
    threads: usize,
}

fn parse(mut args: impl Iterator<Item = String>) -> Result<Args, String> {
    let mut parsed = Args {
        seeds: 0,
        from: 0,
        nodes: 5,
        threads: std::thread::available_parallelism().map_or(1, |n| n.get()),
    };
    let mut seeds = None;
    while let Some(flag) = args.next() {
        let value = args.next().ok_or_else(|| format!("{flag} needs a value"))?;
        let number = |what: &str| {
            value
                .parse::<u64>()
                .map_err(|err| format!("{what} {value:?}: {err}"))
        };
        match flag.as_str() {
            "--seeds" => seeds = Some(number("--seeds")?),
            "--from" => parsed.from = number("--from")?,
            "--nodes" => parsed.nodes = number("--nodes")? as usize,
            "--threads" => parsed.threads = number("--threads")?.max(1) as usize,
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    parsed.seeds = seeds.ok_or("--seeds N is required")?;
    if parsed.nodes == 0 {
        return Err("a cluster needs at least 1 node".into());
    }
    Ok(parsed)
}

fn main() -> ExitCode {
    let args = match parse(std::env::args().skip(1)) {
        Ok(args) => args,
        Err(why) => {
            eprintln!("flotilla-campaign: {why}");
            eprintln!("usage: flotilla-campaign --seeds N [--from S] [--nodes K] [--threads T]");
            return ExitCode::from(2);
        }
    };
    println!(
        "campaign: seeds {}..{} with {} nodes on {} threads",
        args.from,
        args.from.saturating_add(args.seeds),
        args.nodes,
        args.threads
    );
    let mut done = 0u64;
    let tenth = (args.seeds / 10).max(1);
    let summary = run_campaign(args.from, args.seeds, args.nodes, args.threads, |report| {
        done += 1;
        if report.violation.is_some() {
            println!("{report}");
        }
        if done.is_multiple_of(tenth) && done < args.seeds {
            eprintln!("campaign: {done}/{} seeds run", args.seeds);
        }
    });
    println!("{summary}");
    if summary.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
