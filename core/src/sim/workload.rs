//! [`Workload`]: a light, deterministic stream of client requests to keep a simulated cluster
//! busy (what `cargo xtask sim` and the benchmarks run).

use std::time::Duration;

use super::Event;
use super::Simulation;
use crate::model::Command;
use crate::model::ServiceSpec;

/// Every `every` of virtual time, a client creates one small service through the next running
/// node in turn (so most requests go through a follower and are forwarded to the leader).
#[derive(Debug, Clone)]
pub struct Workload {
    every: Duration,
    next_at: Duration,
    sent: u64,
}

impl Workload {
    /// One request per virtual second, the first after one second.
    pub fn light() -> Self {
        Workload::every(Duration::from_secs(1))
    }

    /// One request every `every` (at least a millisecond).
    pub fn every(every: Duration) -> Self {
        let every = every.max(Duration::from_millis(1));
        Workload {
            every,
            next_at: every,
            sent: 0,
        }
    }

    /// How many requests were sent so far.
    pub fn sent(&self) -> u64 {
        self.sent
    }

    /// Runs `sim` until virtual time `until` (since the start of the run), sending requests on
    /// schedule.
    pub fn drive(&mut self, sim: &mut Simulation, until: Duration) {
        while self.next_at <= until {
            sim.advance(self.next_at.saturating_sub(sim.now()));
            let running: Vec<u64> = sim
                .node_ids()
                .into_iter()
                .filter(|id| sim.is_running(*id))
                .collect();
            if !running.is_empty() {
                let node = running[(self.sent % running.len() as u64) as usize];
                let spec = ServiceSpec {
                    label: format!("web-{}", self.sent),
                    replicas: 1 + (self.sent % 5) as u32,
                    uniq_id: Some(self.sent),
                };
                // A running node always accepts a request; the answer comes later as an event.
                let _ = sim.submit(
                    node,
                    Command::CreateServices {
                        services: vec![spec],
                    },
                );
                self.sent += 1;
            }
            self.next_at += self.every;
        }
        sim.advance(until.saturating_sub(sim.now()));
    }

    /// The run `cargo xtask sim` makes, which the browser page's `trace` reproduces: drives `sim`
    /// to `until` in slices of one virtual second, handing every event to `each`, oldest first.
    /// Both hosts calling this one function is what makes their traces comparable line by line.
    pub fn drive_observed(
        &mut self,
        sim: &mut Simulation,
        until: Duration,
        mut each: impl FnMut(Event),
    ) {
        let slice = Duration::from_secs(1);
        let mut at = sim.now();
        while at < until {
            at = (at + slice).min(until);
            self.drive(sim, at);
            sim.take_events().into_iter().for_each(&mut each);
        }
    }
}
