//! The memory section: the resident set size (RSS, `VmRSS` in /proc) of each member of a
//! three-node Flotilla cluster (`flotilla node` processes on disk) and of a three-member etcd,
//! started side by side in the same run: idle once each has a leader, then after the same number
//! of writes through one member of each, one at a time. The goal is an idle Flotilla node at most
//! half an etcd member's.

use std::path::Path;
use std::time::Duration;

use super::etcd::{self, EtcdCluster};
use super::flotilla_proc::{NodeCluster, service_body};
use super::http;
use crate::cmd::{Error, Result};

/// How long both clusters sit idle after electing a leader before they are measured.
const SETTLE: Duration = Duration::from_secs(3);
/// How long one write may take.
const WRITE_TIMEOUT: Duration = Duration::from_secs(5);

/// RSS in bytes, per member, of both systems, idle and after the writes.
#[derive(Debug, Clone)]
pub struct MemoryRun {
    /// Writes sent through one member of each system between the two readings.
    pub writes: usize,
    /// Flotilla nodes, idle.
    pub flotilla_idle: Vec<u64>,
    /// etcd members, idle.
    pub etcd_idle: Vec<u64>,
    /// Flotilla nodes after the writes.
    pub flotilla_loaded: Vec<u64>,
    /// etcd members after the writes.
    pub etcd_loaded: Vec<u64>,
}

/// Starts both clusters, reads their members' RSS idle, sends `writes` writes through each
/// (Flotilla: a service of 3 replicas per write; etcd: a put of the same JSON), reads again.
pub fn run(bin: &Path, writes: usize) -> Result<MemoryRun> {
    eprintln!("bench: memory: starting 3 flotilla nodes and 3 etcd members");
    let flotilla = NodeCluster::start(bin, 3)?;
    let etcd = EtcdCluster::start(3, None)?;
    std::thread::sleep(SETTLE);
    let flotilla_idle = rss_of(&flotilla.pids())?;
    let etcd_idle = rss_of(&etcd.pids())?;
    eprintln!("bench: memory: {writes} writes through one member of each");
    for n in 0..writes {
        let label = format!("mem{n}");
        let acknowledged = http::post_json(
            flotilla.addr(0),
            "/service",
            &service_body(&label),
            WRITE_TIMEOUT,
        )
        .is_ok_and(|reply| reply.is_success());
        if !acknowledged {
            return Err(Error::new(format!(
                "flotilla write {n} was not acknowledged"
            )));
        }
        if !etcd::put(
            etcd.client(0),
            &format!("memory/{label}"),
            &service_body(&label),
            WRITE_TIMEOUT,
        ) {
            return Err(Error::new(format!("etcd write {n} was not acknowledged")));
        }
    }
    std::thread::sleep(SETTLE);
    Ok(MemoryRun {
        writes,
        flotilla_loaded: rss_of(&flotilla.pids())?,
        etcd_loaded: rss_of(&etcd.pids())?,
        flotilla_idle,
        etcd_idle,
    })
}

/// The RSS of each process in `pids`, in bytes.
fn rss_of(pids: &[u32]) -> Result<Vec<u64>> {
    pids.iter().map(|pid| rss(*pid)).collect()
}

/// The RSS of process `pid` in bytes, from the `VmRSS` line of /proc/PID/status.
fn rss(pid: u32) -> Result<u64> {
    let path = format!("/proc/{pid}/status");
    let status = std::fs::read_to_string(&path)
        .map_err(|e| Error::new(format!("cannot read {path}: {e}")))?;
    parse_vm_rss(&status).ok_or_else(|| Error::new(format!("no VmRSS line in {path}")))
}

/// The `VmRSS:   12345 kB` line of a /proc status, in bytes.
fn parse_vm_rss(status: &str) -> Option<u64> {
    let line = status.lines().find(|line| line.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

/// The mean of `values`, in MiB.
pub fn mean_mib(values: &[u64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.iter().sum::<u64>() as f64 / values.len() as f64 / (1024.0 * 1024.0)
}

/// The section's lines, for the terminal and BENCHMARKS.md.
pub fn lines(run: &MemoryRun) -> Vec<String> {
    let idle = (mean_mib(&run.flotilla_idle), mean_mib(&run.etcd_idle));
    let loaded = (mean_mib(&run.flotilla_loaded), mean_mib(&run.etcd_loaded));
    let ratio = |(ours, theirs): (f64, f64)| if theirs > 0.0 { ours / theirs } else { 0.0 };
    let verdict = if ratio(idle) <= 0.5 { "met" } else { "NOT met" };
    vec![
        format!(
            "memory: idle RSS per member: flotilla node {:.1} MiB, etcd member {:.1} MiB = {:.2}x etcd",
            idle.0,
            idle.1,
            ratio(idle)
        ),
        format!(
            "memory: after {} writes through one member: flotilla node {:.1} MiB, etcd member {:.1} MiB = {:.2}x etcd",
            run.writes,
            loaded.0,
            loaded.1,
            ratio(loaded)
        ),
        format!("memory: goal idle flotilla node <= 0.5x an etcd member: {verdict}"),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vm_rss_is_read_in_bytes() {
        let status = "Name:\tflotilla\nVmPeak:\t  99 kB\nVmRSS:\t   2048 kB\nThreads:\t5\n";
        assert_eq!(parse_vm_rss(status), Some(2 * 1024 * 1024));
        assert_eq!(parse_vm_rss("Name:\tx\n"), None);
    }

    #[test]
    fn lines_compare_the_means_with_etcd() {
        let mib = 1024 * 1024;
        let run = MemoryRun {
            writes: 10,
            flotilla_idle: vec![10 * mib, 12 * mib],
            etcd_idle: vec![44 * mib],
            flotilla_loaded: vec![20 * mib],
            etcd_loaded: vec![40 * mib],
        };
        let lines = lines(&run);
        assert!(
            lines[0].contains("flotilla node 11.0 MiB, etcd member 44.0 MiB = 0.25x"),
            "{lines:?}"
        );
        assert!(lines[1].contains("= 0.50x"), "{lines:?}");
        assert!(lines[2].ends_with(": met"), "{lines:?}");
    }
}
