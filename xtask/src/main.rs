//! `cargo xtask`: Flotilla's developer tooling.
//!
//! `cargo xtask run` builds everything and starts the demo, `cargo xtask test` runs every check
//! CI runs, `cargo xtask sim` runs one simulation (or, with `--seeds`, a fault campaign), and `cargo xtask bench` runs the benchmarks.
//! This file holds the command line and dispatches each verb to its module.

mod bench;
mod cmd;
mod deps;
mod layers;
mod run;
mod sim;
mod test;
mod toolchain;
mod web;

use std::process::ExitCode;

use clap::{Args, Parser, Subcommand};

/// Flotilla's developer tooling.
#[derive(Debug, Parser)]
#[command(name = "cargo xtask", bin_name = "cargo xtask", version)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

/// The verbs. Their names and flags are a contract: users' scripts rely on them.
#[derive(Debug, Subcommand)]
enum Command {
    /// Build everything, then start the demo (`flotilla demo`)
    Run(RunArgs),
    /// Run every check, as CI does: fmt, clippy, module layers, tests, the wasm32 build, core's dependencies
    Test(TestArgs),
    /// Run one deterministic simulation of a cluster in virtual time, or with --seeds a fault campaign of many
    Sim(SimArgs),
    /// Run the benchmarks: flotilla-core's, the page's, and Flotilla against etcd (writes, failover)
    Bench(BenchArgs),
    /// Build the browser page into web/dist/ (wasm, JS glue, HTML, CSS), ready for any static server
    Web,
    /// Check that every crate's modules import only downwards (ARCHITECTURE.md's "Layers"), as `test` does
    Layers,
}

/// Arguments of `cargo xtask run`.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Arguments for `flotilla demo`, after `--` (e.g. `cargo xtask run -- --nodes 3`)
    #[arg(last = true, value_name = "DEMO_ARGS")]
    pub args: Vec<String>,
}

/// Arguments of `cargo xtask test`.
#[derive(Debug, Args)]
pub struct TestArgs {
    /// Arguments for the `cargo test --workspace` step, after `--` (e.g. `cargo xtask test -- sim`
    /// runs only tests whose names contain `sim`)
    #[arg(last = true, value_name = "TEST_ARGS")]
    pub args: Vec<String>,
}

/// Arguments of `cargo xtask bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    /// Run only these sections, comma-separated (default: all of them)
    #[arg(long, value_enum, value_delimiter = ',', value_name = "SECTION")]
    pub only: Vec<BenchSection>,
    /// Shorter comparison against etcd: 3 s per write point and 5 failover trials, unless
    /// --seconds or --trials say otherwise
    #[arg(long)]
    pub quick: bool,
    /// Seconds of load per system at each write point [default: 10; 3 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: Option<u64>,
    /// Failover trials per system [default: 20; 5 with --quick]
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub trials: Option<u32>,
    /// Connection counts of the write points, comma-separated
    #[arg(long, value_name = "N,...", value_delimiter = ',', default_values_t = [1, 16, 64, 256],
          value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub connections: Vec<u32>,
    /// Print the comparison against etcd without adding it to BENCHMARKS.md
    #[arg(long)]
    pub no_record: bool,
    /// Arguments for `cargo bench -p flotilla-core`, after `--`
    #[arg(last = true, value_name = "BENCH_ARGS")]
    pub args: Vec<String>,
}

/// A section of `cargo xtask bench`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum BenchSection {
    /// flotilla-core's benchmarks: placement and simulation speed
    Core,
    /// The browser page: wasm size and frame rate
    Page,
    /// Writes per second and latency against etcd, at 1 to 256 connections
    Writes,
    /// Time from kill -9 of the leader to the next acknowledged write, against etcd
    Failover,
    /// Resident memory of a node, idle and after writes, against an etcd member
    Memory,
}

/// Arguments of `cargo xtask sim`.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Seed of the simulation's randomness: the same seed replays the same run
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Number of nodes in the simulated cluster (at least 1)
    #[arg(long, default_value_t = 5, value_parser = parse_nodes)]
    pub nodes: usize,
    /// Virtual seconds to simulate (a positive number; fractions allowed)
    // Checked by `parse_seconds`: finite and small enough for `Duration::from_secs_f64`.
    #[arg(long, default_value_t = 10.0, value_parser = parse_seconds)]
    pub seconds: f64,
    /// Print a trace of the simulated events
    #[arg(long)]
    pub trace: bool,
    /// Run a fault campaign of this many seeds instead (optimised, on every core; see TESTING.md)
    #[arg(long, value_name = "N", conflicts_with_all = ["seed", "seconds", "trace"])]
    pub seeds: Option<u64>,
    /// The campaign's first seed
    #[arg(long, value_name = "S", default_value_t = 0, requires = "seeds")]
    pub from: u64,
}

/// Parses `--nodes`: a whole number of at least 1.
fn parse_nodes(value: &str) -> Result<usize, String> {
    match value.parse::<usize>() {
        Ok(0) => Err("a cluster needs at least 1 node".to_string()),
        Ok(nodes) => Ok(nodes),
        Err(e) => Err(format!("not a whole number: {e}")),
    }
}

/// Parses `--seconds`: a positive, finite number of seconds that fits a `Duration`.
fn parse_seconds(value: &str) -> Result<f64, String> {
    let seconds: f64 = value.parse().map_err(|e| format!("not a number: {e}"))?;
    if seconds > 0.0 && std::time::Duration::try_from_secs_f64(seconds).is_ok() {
        Ok(seconds)
    } else {
        Err("must be a positive, finite number of seconds".to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let outcome = match cli.command {
        Command::Run(args) => run::run(args),
        Command::Test(args) => test::run(args),
        Command::Layers => layers::check(),
        Command::Sim(args) => match args.seeds {
            Some(seeds) => sim::campaign(seeds, args.from, args.nodes),
            None => sim::run(args).map_err(cmd::Error::from),
        },
        Command::Bench(args) => bench::run(args),
        Command::Web => web::run(),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(error.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    fn parse(args: &[&str]) -> Result<Cli, clap::Error> {
        Cli::try_parse_from(std::iter::once("cargo xtask").chain(args.iter().copied()))
    }

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn sim_has_its_defaults() {
        let Ok(Cli {
            command: Command::Sim(sim),
        }) = parse(&["sim"])
        else {
            panic!("`sim` parses to the sim verb");
        };
        assert_eq!(
            (sim.seed, sim.nodes, sim.seconds, sim.trace),
            (1, 5, 10.0, false)
        );
    }

    #[test]
    fn sim_takes_its_flags() {
        let args = [
            "sim",
            "--seed",
            "42",
            "--nodes",
            "3",
            "--seconds",
            "2.5",
            "--trace",
        ];
        let Ok(Cli {
            command: Command::Sim(sim),
        }) = parse(&args)
        else {
            panic!("the flags parse");
        };
        assert_eq!(
            (sim.seed, sim.nodes, sim.seconds, sim.trace),
            (42, 3, 2.5, true)
        );
    }

    #[test]
    fn sim_takes_a_campaign() {
        let Ok(Cli {
            command: Command::Sim(sim),
        }) = parse(&["sim", "--seeds", "500", "--from", "1234", "--nodes", "3"])
        else {
            panic!("the campaign flags parse");
        };
        assert_eq!((sim.seeds, sim.from, sim.nodes), (Some(500), 1234, 3));
        let Ok(Cli {
            command: Command::Sim(sim),
        }) = parse(&["sim", "--seeds", "10"])
        else {
            panic!("--from and --nodes have defaults");
        };
        assert_eq!((sim.seeds, sim.from, sim.nodes), (Some(10), 0, 5));
        assert!(
            parse(&["sim", "--from", "3"]).is_err(),
            "--from needs --seeds"
        );
        assert!(
            parse(&["sim", "--seeds", "3", "--trace"]).is_err(),
            "a campaign has no single trace"
        );
    }

    #[test]
    fn sim_rejects_nonsense() {
        for bad in [
            &["sim", "--nodes", "0"][..],
            &["sim", "--seconds", "-1"],
            &["sim", "--seconds", "NaN"],
            &["sim", "--seconds", "inf"],
            &["sim", "--seconds", "1e300"],
            &["sim", "--seed", "-1"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn bench_takes_sections_and_settings() {
        let Ok(Cli {
            command: Command::Bench(bench),
        }) = parse(&["bench"])
        else {
            panic!("`bench` parses");
        };
        assert!(bench.only.is_empty() && !bench.quick && !bench.no_record);
        assert_eq!((bench.seconds, bench.trials), (None, None));
        assert_eq!(bench.connections, [1, 16, 64, 256]);
        let Ok(Cli {
            command: Command::Bench(bench),
        }) = parse(&[
            "bench",
            "--only",
            "writes,failover",
            "--quick",
            "--seconds",
            "2",
            "--connections",
            "1,64",
            "--no-record",
        ])
        else {
            panic!("the flags parse");
        };
        assert_eq!(bench.only, [BenchSection::Writes, BenchSection::Failover]);
        assert_eq!(
            (bench.quick, bench.seconds, bench.no_record),
            (true, Some(2), true)
        );
        assert_eq!(bench.connections, [1, 64]);
        for bad in [
            &["bench", "--only", "nothing"][..],
            &["bench", "--seconds", "0"],
            &["bench", "--connections", "0"],
        ] {
            assert!(parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn extra_arguments_pass_through_after_double_dash() {
        let Ok(Cli {
            command: Command::Test(test),
        }) = parse(&["test", "--", "sim", "--nocapture"])
        else {
            panic!("test takes arguments after --");
        };
        assert_eq!(test.args, ["sim", "--nocapture"]);

        let Ok(Cli {
            command: Command::Run(run),
        }) = parse(&["run", "--", "--nodes", "3"])
        else {
            panic!("run takes arguments after --");
        };
        assert_eq!(run.args, ["--nodes", "3"]);

        assert!(
            parse(&["test", "sim"]).is_err(),
            "extra arguments need `--`"
        );
    }
}
