//! The campaign's clients: a random workload of creates, scales and deletes sent to random
//! running nodes, each recorded in the [`History`] with when it was sent and what came back.

use std::time::Duration;

use rand::RngExt;
use rand::rngs::Xoshiro256PlusPlus;
use rand::seq::IndexedRandom;

use super::history::History;
use super::history::Request;
use crate::model::Command;
use crate::model::ServiceSpec;
use crate::sim::NodeId;
use crate::sim::Simulation;

/// Most operations on one service (the linearizability search is exponential in the worst
/// case; a dozen keeps it instant).
const MAX_OPERATIONS_PER_SERVICE: usize = 12;

/// Per step, the chance that a client sends a request (about four a second at 50 ms steps).
const REQUEST_CHANCE: f64 = 0.2;

/// The clients of one seed.
#[derive(Default)]
pub struct Clients {
    /// Everything they sent and heard.
    pub history: History,
    created: u64,
}

impl Clients {
    /// Maybe sends one request, at virtual time `now`.
    pub fn step(&mut self, sim: &mut Simulation, rng: &mut Xoshiro256PlusPlus, now: Duration) {
        if !rng.random_bool(REQUEST_CHANCE) {
            return;
        }
        let running: Vec<NodeId> = sim
            .node_ids()
            .into_iter()
            .filter(|id| sim.is_running(*id))
            .collect();
        let Some(&node) = running.choose(rng) else {
            return;
        };
        let known: Vec<(String, u64)> = self
            .history
            .acknowledged()
            .filter(|(label, _)| self.history.operations_on(label) < MAX_OPERATIONS_PER_SERVICE)
            .map(|(label, id)| (label.to_string(), id))
            .collect();
        let roll = rng.random_range(0..100);
        let (label, request, command) = match known.choose(rng) {
            Some((label, id)) if roll < 45 => {
                let replicas = rng.random_range(0..=8);
                let command = Command::ScaleService { id: *id, replicas };
                (label.clone(), Request::Scale(replicas), command)
            }
            Some((label, id)) if roll < 55 => (
                label.clone(),
                Request::Delete,
                Command::DeleteService { id: *id },
            ),
            _ => {
                let label = format!("s{}", self.created);
                self.created += 1;
                // A create asks for at least one replica (zero is refused as a bad request).
                let replicas = rng.random_range(1..=6);
                let command = Command::CreateServices {
                    services: vec![ServiceSpec {
                        label: label.clone(),
                        replicas,
                        uniq_id: None,
                    }],
                };
                (label, Request::Create(replicas), command)
            }
        };
        if let Ok(id) = sim.submit(node, command) {
            self.history.called(id, &label, request, now);
        }
    }

    /// Records the answers that came back, at virtual time `now`.
    pub fn collect(&mut self, sim: &Simulation, now: Duration) {
        let answered: Vec<_> = self
            .history
            .waiting()
            .filter_map(|id| sim.reply(id).map(|reply| (id, reply)))
            .collect();
        for (id, reply) in answered {
            self.history.answered(id, &reply, now);
        }
    }
}
