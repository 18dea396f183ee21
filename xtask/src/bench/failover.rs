//! The "failover" section: kill -9 the leader and time until a write is acknowledged again, for
//! 3 `flotilla node` processes on disk and 3 etcd members, both waiting as long without a
//! leader before they elect one. Flotilla runs on its defaults: heartbeats every 25 ms,
//! election timeouts of 50–150 ms, which openraft starts only once the leader's lease (the
//! longest election timeout, 150 ms) has run out, so a follower stands for election after
//! 200–300 ms of silence. etcd gets the same heartbeat and the same shortest silence,
//! `--heartbeat-interval 25 --election-timeout 200`, which it randomises up to twice that
//! (200–400 ms).
//!
//! A trial waits until the cluster is healthy (every member answers, names the same leader and
//! has caught up), kills the leader, and from that instant starts a write to a surviving member
//! every 20 ms, each on its own connection with a 2 s timeout, so a write stuck on the dead
//! leader never hides a newly elected one; the first acknowledgement ends the trial. The killed
//! member is then restarted on its data. Trials alternate between the two systems, both running
//! throughout, so the machine's load weighs on both alike.

use std::path::Path;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use super::etcd::{self, EtcdCluster, EtcdTiming};
use super::flotilla_proc::{NodeCluster, service_body};
use super::http;
use crate::cmd::{Error, Result};

/// Members of each cluster.
const MEMBERS: usize = 3;
/// How Flotilla's default timing reads in words, for the report.
pub const FLOTILLA_TIMING_TEXT: &str = "heartbeat 25 ms, election timeout 50-150 ms after a \
     150 ms leader lease: an election after 200-300 ms without a leader";
/// etcd's timing matching Flotilla's defaults: the same heartbeat, and an election after the
/// same shortest silence (etcd draws its timeout between this and twice this).
pub const ETCD_TIMING: EtcdTiming = EtcdTiming {
    heartbeat_ms: 25,
    election_ms: 200,
};
/// How often a new write is started while waiting for the new leader.
const PROBE_INTERVAL: Duration = Duration::from_millis(20);
/// How long one of those writes may take.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);
/// How long a trial may wait for any acknowledgement before failing.
const TRIAL_LIMIT: Duration = Duration::from_secs(30);
/// How long a cluster may take to heal after a restart.
const HEAL_LIMIT: Duration = Duration::from_secs(60);

/// The section's results: one downtime per trial and system.
#[derive(Debug, Clone)]
pub struct FailoverRun {
    /// Flotilla's time from kill to the next acknowledged write, per trial.
    pub flotilla: Vec<Duration>,
    /// etcd's, per trial.
    pub etcd: Vec<Duration>,
}

/// Where a probe write goes, cloneable into the thread that sends it.
#[derive(Debug, Clone)]
enum Probe {
    /// `POST /service` to a Flotilla node (any node forwards a write to its leader).
    Flotilla(String),
    /// `POST /v3/kv/put` to an etcd member.
    Etcd(String),
}

impl Probe {
    /// Sends one write with a fresh `label`: whether it was acknowledged.
    fn write(&self, label: &str) -> bool {
        match self {
            Probe::Flotilla(addr) => {
                http::post_json(addr, "/service", &service_body(label), PROBE_TIMEOUT)
                    .is_ok_and(|reply| reply.is_success())
            }
            Probe::Etcd(addr) => etcd::put(
                addr,
                &format!("failover/{label}"),
                &service_body(label),
                PROBE_TIMEOUT,
            ),
        }
    }
}

/// What a trial needs of a cluster.
trait Killable {
    /// The index of the member that leads, if one says so.
    fn leader(&self) -> Option<usize>;
    /// Whether every member is up, agrees on the leader and has caught up.
    fn healthy(&self) -> Result<Option<()>>;
    /// Fails if a member ended unasked.
    fn check_running(&mut self) -> Result;
    /// Members.
    fn len(&self) -> usize;
    /// A probe writing through member `index`.
    fn probe(&self, index: usize) -> Probe;
    /// SIGKILLs member `index`.
    fn kill(&mut self, index: usize);
    /// Restarts member `index` on its data and port.
    fn restart(&mut self, index: usize) -> Result;
}

impl Killable for NodeCluster {
    fn leader(&self) -> Option<usize> {
        NodeCluster::leader(self)
    }
    fn healthy(&self) -> Result<Option<()>> {
        NodeCluster::healthy(self)
    }
    fn check_running(&mut self) -> Result {
        NodeCluster::check_running(self)
    }
    fn len(&self) -> usize {
        NodeCluster::len(self)
    }
    fn probe(&self, index: usize) -> Probe {
        Probe::Flotilla(self.addr(index).to_string())
    }
    fn kill(&mut self, index: usize) {
        NodeCluster::kill(self, index);
    }
    fn restart(&mut self, index: usize) -> Result {
        NodeCluster::restart(self, index)
    }
}

impl Killable for EtcdCluster {
    fn leader(&self) -> Option<usize> {
        EtcdCluster::leader(self)
    }
    fn healthy(&self) -> Result<Option<()>> {
        Ok(EtcdCluster::healthy(self))
    }
    fn check_running(&mut self) -> Result {
        EtcdCluster::check_running(self)
    }
    fn len(&self) -> usize {
        EtcdCluster::len(self)
    }
    fn probe(&self, index: usize) -> Probe {
        Probe::Etcd(self.client(index).to_string())
    }
    fn kill(&mut self, index: usize) {
        EtcdCluster::kill(self, index);
    }
    fn restart(&mut self, index: usize) -> Result {
        EtcdCluster::restart(self, index)
    }
}

/// Runs `trials` trials on each system, printing each as it completes.
pub fn run(bin: &Path, trials: u32) -> Result<FailoverRun> {
    eprintln!(
        "failover: {trials} trials per system; flotilla: {FLOTILLA_TIMING_TEXT}; etcd: \
         --heartbeat-interval {} --election-timeout {}",
        ETCD_TIMING.heartbeat_ms, ETCD_TIMING.election_ms
    );
    let mut flotilla = NodeCluster::start(bin, MEMBERS)?;
    let mut etcd = EtcdCluster::start(MEMBERS, Some(ETCD_TIMING))?;
    let mut run = FailoverRun {
        flotilla: Vec::new(),
        etcd: Vec::new(),
    };
    for trial in 1..=trials {
        let flotilla_time = trial_once(&mut flotilla, &format!("f{trial}"))?;
        let etcd_time = trial_once(&mut etcd, &format!("e{trial}"))?;
        println!(
            "failover: trial {trial:>2}/{trials}: flotilla {:>6.0} ms, etcd {:>6.0} ms",
            millis(flotilla_time),
            millis(etcd_time)
        );
        run.flotilla.push(flotilla_time);
        run.etcd.push(etcd_time);
    }
    Ok(run)
}

/// One trial: waits for health, kills the leader, times the next acknowledged write, restarts
/// the killed member.
fn trial_once(cluster: &mut impl Killable, tag: &str) -> Result<Duration> {
    let leader = super::child::wait_for("a healthy cluster before the kill", HEAL_LIMIT, || {
        cluster.check_running()?;
        Ok(match cluster.healthy()? {
            Some(()) => cluster.leader(),
            None => None,
        })
    })?;
    let survivor = (leader + 1) % cluster.len();
    let probe = cluster.probe(survivor);
    let killed_at = Instant::now();
    cluster.kill(leader);
    let downtime = time_to_ack(&probe, killed_at, tag);
    // Restart before returning any error, so the next trial (or the guard) finds all members.
    cluster.restart(leader)?;
    downtime
}

/// Starts a write every [`PROBE_INTERVAL`] until one is acknowledged: the time from `since` to
/// that acknowledgement.
fn time_to_ack(probe: &Probe, since: Instant, tag: &str) -> Result<Duration> {
    let (acked, acks) = mpsc::channel();
    for attempt in 0u64.. {
        let probe = probe.clone();
        let acked = acked.clone();
        let label = format!("failover-{tag}-{attempt}");
        // Detached: a write stuck on the dead leader ends by its own timeout.
        std::thread::spawn(move || {
            if probe.write(&label) {
                let _ = acked.send(Instant::now());
            }
        });
        if let Ok(at) = acks.recv_timeout(PROBE_INTERVAL) {
            return Ok(at.duration_since(since));
        }
        if since.elapsed() > TRIAL_LIMIT {
            break;
        }
    }
    Err(Error::new(format!(
        "no write was acknowledged within {TRIAL_LIMIT:?} of killing the leader ({probe:?})"
    )))
}

/// A duration in milliseconds.
pub fn millis(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
