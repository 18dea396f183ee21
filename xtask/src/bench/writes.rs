//! The "writes vs etcd" section: at each connection count, a fresh 3-node Flotilla demo on disk
//! and a fresh 3-member etcd cluster each take `wrk`'s load for the same time, one after the
//! other (their order alternating from point to point, so a drift in the machine's load does
//! not always favour the same one). Fresh clusters per point keep one point's backlog, log and
//! compaction out of the next.
//!
//! Flotilla is written to through its demo's API (the entry point, which forwards to the
//! leader); etcd through its leader's own gateway, the best case for etcd (a follower would
//! forward to the leader first).

use std::path::Path;

use super::child::TempDir;
use super::etcd::EtcdCluster;
use super::flotilla_proc::Demo;
use super::load::{self, LoadResult, Target};
use crate::cmd::{Error, Result};

/// Nodes of each cluster.
const NODES: u16 = 3;

/// Both systems' results at one connection count.
#[derive(Debug, Clone, Copy)]
pub struct WritePoint {
    /// Open connections (closed loop: each waits for its answer before sending again).
    pub connections: u32,
    /// Flotilla's result.
    pub flotilla: LoadResult,
    /// etcd's result.
    pub etcd: LoadResult,
}

impl WritePoint {
    /// Flotilla's acknowledged writes per second over etcd's.
    pub fn throughput_ratio(&self) -> f64 {
        self.flotilla.ok_per_s / self.etcd.ok_per_s
    }

    /// Flotilla's p99 latency over etcd's (below 1 is better).
    pub fn p99_ratio(&self) -> f64 {
        self.flotilla.p99_ms / self.etcd.p99_ms
    }
}

/// The section's results and how they were produced.
#[derive(Debug, Clone)]
pub struct WritesRun {
    /// One point per connection count, in the order run.
    pub points: Vec<WritePoint>,
    /// Seconds of load per system and point.
    pub seconds: u64,
    /// The Flotilla command line.
    pub flotilla_command: String,
    /// The command line of etcd's first member.
    pub etcd_command: String,
}

/// Runs the section at every count of `connections`, `seconds` each, printing each point as it
/// completes.
pub fn run(bin: &Path, wrk: &Path, connections: &[u32], seconds: u64) -> Result<WritesRun> {
    let scratch = TempDir::new("wrk")?;
    let mut run = WritesRun {
        points: Vec::new(),
        seconds,
        flotilla_command: String::new(),
        etcd_command: String::new(),
    };
    eprintln!(
        "writes: {} points x 2 systems x {seconds} s, each on fresh 3-node clusters",
        connections.len()
    );
    for (index, &conns) in connections.iter().enumerate() {
        let flotilla_first = index % 2 == 0;
        let mut flotilla = None;
        let mut etcd = None;
        for turn in 0..2 {
            if (turn == 0) == flotilla_first {
                eprintln!("writes: {conns} connections: flotilla, {seconds} s …");
                flotilla = Some(measure_flotilla(
                    bin,
                    wrk,
                    conns,
                    seconds,
                    scratch.path(),
                    &mut run,
                )?);
            } else {
                eprintln!("writes: {conns} connections: etcd, {seconds} s …");
                etcd = Some(measure_etcd(wrk, conns, seconds, scratch.path(), &mut run)?);
            }
        }
        let (Some(flotilla), Some(etcd)) = (flotilla, etcd) else {
            return Err(Error::new("a write point measured only one system"));
        };
        let point = WritePoint {
            connections: conns,
            flotilla,
            etcd,
        };
        println!("{}", super::report::write_line(&point));
        run.points.push(point);
    }
    Ok(run)
}

fn measure_flotilla(
    bin: &Path,
    wrk: &Path,
    connections: u32,
    seconds: u64,
    scratch: &Path,
    run: &mut WritesRun,
) -> Result<LoadResult> {
    let mut demo = Demo::start(bin, NODES)?;
    run.flotilla_command = demo.command.clone();
    let result = load::run(
        wrk,
        Target::Flotilla,
        &demo.api,
        connections,
        seconds,
        scratch,
    )?;
    demo.check_running()?;
    Ok(result)
}

fn measure_etcd(
    wrk: &Path,
    connections: u32,
    seconds: u64,
    scratch: &Path,
    run: &mut WritesRun,
) -> Result<LoadResult> {
    let mut cluster = EtcdCluster::start(usize::from(NODES), None)?;
    run.etcd_command = cluster.command.clone();
    let leader = cluster
        .leader()
        .ok_or_else(|| Error::new("the etcd cluster lost its leader before the load"))?;
    let client = cluster.client(leader).to_string();
    let result = load::run(wrk, Target::Etcd, &client, connections, seconds, scratch)?;
    cluster.check_running()?;
    Ok(result)
}
