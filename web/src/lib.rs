//! flotilla-web: the browser binding over flotilla-core's [`Simulation`].
//!
//! A thin layer with no logic of its own: [`Cluster`] wraps one simulated cluster and exposes
//! its verbs (advance time, cut and heal links, crash and restart nodes, submit services…) to
//! JavaScript; what it reads (node snapshots, messages in flight, events, logs, services) crosses
//! as JSON strings of core's own serde types. [`trace`] returns the event lines of the same run
//! `cargo xtask sim --trace` prints, so a test can check the browser and native runs are equal.
//! A few free functions ([`leader_of`], [`split_plan`], [`isolate_plan`], [`heal_plan`]) expose
//! core's rules to the page's live mode, which draws a native cluster without a simulation.
//!
//! Errors cross as plain strings (thrown in JavaScript), which also keeps every method callable
//! from native unit tests. Nothing here reads a clock, logs, or formats openraft's metrics: both
//! panic on `wasm32-unknown-unknown`.

use std::time::Duration;

use flotilla_core::model::Command;
use flotilla_core::model::ServiceSpec;
use flotilla_core::raft::status::NodeReport;
use flotilla_core::scenario;
use flotilla_core::sim::Event;
use flotilla_core::sim::NodeId;
use flotilla_core::sim::Role;
use flotilla_core::sim::SimConfig;
use flotilla_core::sim::Simulation;
use flotilla_core::sim::Workload;
use serde::Deserialize;
use serde::Serialize;
use wasm_bindgen::prelude::wasm_bindgen;

/// What the page may choose besides the seed and the node count (all optional in the JSON).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Settings {
    /// `"fast"` for production-like timing; anything else is the slow, watchable pace.
    pace: Option<String>,
    /// Ask for a pre-vote before a real election.
    pre_vote: bool,
    /// Probability that any one message is lost.
    drop_rate: f64,
    /// Replica capacity of each node (core's default when absent).
    capacity: Option<u32>,
}

/// Everything a frame draws, in one JSON document.
#[derive(Serialize)]
struct Frame<'a> {
    /// Virtual seconds since the start of the run.
    now: f64,
    /// The leader of the highest term, if any.
    leader: Option<NodeId>,
    /// The longest election timeout, in seconds, to scale the countdown arcs.
    election_timeout_max: f64,
    /// Every node, running or not.
    nodes: &'a [NodeReport],
    /// Messages on the wire.
    messages: &'a [flotilla_core::sim::Message],
    /// Cut directed links, as `[from, to]`.
    cut: &'a [(NodeId, NodeId)],
}

/// One event as the page receives it: core's event plus its line in words.
#[derive(Serialize)]
struct EventOut<'a> {
    #[serde(flatten)]
    event: &'a Event,
    /// The same line `cargo xtask sim --trace` prints for it.
    text: String,
}

fn json(value: &impl Serialize) -> String {
    // Core's report and event types serialise to JSON without fail (map keys are strings or
    // integers, no non-finite floats): an error here would be a bug, shown as `null` in the page.
    serde_json::to_string(value).unwrap_or_else(|_| "null".to_string())
}

fn err(error: impl std::fmt::Display) -> String {
    error.to_string()
}

/// One simulated Flotilla cluster, running in the page's tab.
#[wasm_bindgen]
pub struct Cluster {
    sim: Simulation,
}

#[wasm_bindgen]
impl Cluster {
    /// Starts a cluster of `nodes` nodes from `seed`; `settings` is a JSON object with optional
    /// `pace` (`"watchable"` or `"fast"`), `pre_vote`, `drop_rate` and `capacity`.
    #[wasm_bindgen(constructor)]
    pub fn new(seed: u32, nodes: u32, settings: &str) -> Result<Cluster, String> {
        let settings: Settings = if settings.trim().is_empty() {
            Settings::default()
        } else {
            serde_json::from_str(settings).map_err(err)?
        };
        let (seed, nodes) = (u64::from(seed), nodes as usize);
        let mut config = match settings.pace.as_deref() {
            Some("fast") => SimConfig::new(seed, nodes),
            _ => SimConfig::watchable(seed, nodes),
        };
        config.pre_vote = settings.pre_vote;
        config.drop_rate = settings.drop_rate;
        if let Some(capacity) = settings.capacity {
            config.capacity = capacity;
        }
        Ok(Cluster {
            sim: Simulation::new(config).map_err(err)?,
        })
    }

    /// Virtual seconds since the start of the run.
    pub fn now(&self) -> f64 {
        self.sim.now().as_secs_f64()
    }

    /// Virtual nanoseconds since the start of the run, as a whole number (exact in a JS number
    /// for 104 days): the page records each action at this instant so a replay hits it exactly.
    pub fn now_nanos(&self) -> f64 {
        self.sim.now().as_nanos() as f64
    }

    /// Runs the cluster until `nanos` virtual nanoseconds since the start (nothing if that is
    /// not in the future). Where the page cuts time into frames does not change the run.
    pub fn advance_to_nanos(&mut self, nanos: f64) {
        let target = Duration::from_nanos(nanos.max(0.0) as u64);
        let now = self.sim.now();
        if target > now {
            self.sim.advance(target - now);
        }
    }

    /// Runs the cluster for `seconds` of virtual time (nothing if not positive).
    pub fn advance(&mut self, seconds: f64) {
        if let Ok(duration) = Duration::try_from_secs_f64(seconds) {
            self.sim.advance(duration);
        }
    }

    /// Runs to the next instant at which something observable happens; `false` if nothing is
    /// scheduled within a virtual minute.
    pub fn step(&mut self) -> bool {
        self.sim.step()
    }

    /// JSON: `{now, leader, election_timeout_max, nodes, messages, cut}` (see core's
    /// `NodeReport` and `Message` for the fields; durations are `{secs, nanos}`).
    pub fn frame(&self) -> String {
        // Without each node's `members` and `connections`: the frame's `cut` says which links
        // are down once for the whole cluster, where the per-node maps would be 2 × n² entries
        // a frame (82 kB instead of 17 kB of JSON at 51 nodes, and four times the time to build).
        let nodes = self.sim.nodes_without_links();
        let messages = self.sim.messages_in_flight();
        let cut = self.sim.cut_links();
        json(&Frame {
            now: self.now(),
            leader: self.sim.leader(),
            election_timeout_max: self.sim.config().election_timeout.1.as_secs_f64(),
            nodes: &nodes,
            messages: &messages,
            cut: &cut,
        })
    }

    /// JSON: the events since the last call, oldest first, each with a `text` line in words.
    pub fn take_events(&mut self) -> String {
        let events = self.sim.take_events();
        let out: Vec<EventOut> = events
            .iter()
            .map(|event| EventOut {
                event,
                text: event.to_string().trim_start().to_string(),
            })
            .collect();
        json(&out)
    }

    /// JSON: `[[id, [{index, term, summary}…]]…]`, every node's log as on its disk.
    pub fn logs(&self) -> String {
        let logs: Vec<_> = self
            .sim
            .node_ids()
            .into_iter()
            .map(|id| (id, self.sim.log(id).unwrap_or_default()))
            .collect();
        json(&logs)
    }

    /// JSON: `{from, services, nodes}`, the orchestrator as the node that has applied the most
    /// (the leader on a tie) sees it: core's service and node views.
    pub fn services(&self) -> String {
        #[derive(Serialize)]
        struct Services {
            from: Option<NodeId>,
            services: Vec<flotilla_core::model::ServiceView>,
            nodes: Vec<flotilla_core::model::NodeView>,
        }
        let leader = self.sim.leader();
        let from = self
            .sim
            .nodes_without_links()
            .into_iter()
            .max_by_key(|node| (node.applied_index, Some(node.id) == leader))
            .map(|node| node.id);
        let state = from.and_then(|id| self.sim.cluster_state(id));
        json(&Services {
            from,
            services: state
                .as_ref()
                .map(|s| s.service_views().collect())
                .unwrap_or_default(),
            nodes: state
                .as_ref()
                .map(|s| s.node_views().collect())
                .unwrap_or_default(),
        })
    }

    /// The leader of the highest term, or `undefined`.
    pub fn leader(&self) -> Option<u32> {
        self.sim.leader().map(|id| id as u32)
    }

    // ----- links ---------------------------------------------------------------------------

    /// Cuts the directed link `from → to`.
    pub fn cut(&mut self, from: u32, to: u32) -> Result<(), String> {
        self.sim.cut(from.into(), to.into()).map_err(err)
    }

    /// Heals the directed link `from → to`.
    pub fn heal(&mut self, from: u32, to: u32) -> Result<(), String> {
        self.sim.heal(from.into(), to.into()).map_err(err)
    }

    /// Cuts every link to and from node `id`.
    pub fn isolate(&mut self, id: u32) -> Result<(), String> {
        self.sim.isolate(id.into()).map_err(err)
    }

    /// Cuts every link to and from the current leader.
    pub fn isolate_leader(&mut self) -> Result<u32, String> {
        self.sim
            .isolate_leader()
            .map(|leader| leader as u32)
            .map_err(err)
    }

    /// Splits the cluster in two as core's plan says (see [`split_plan`]): the lower half of
    /// the node ids, rounded down, against the rest.
    pub fn split_in_two(&mut self) -> Result<(), String> {
        self.sim.split_in_two().map_err(err)
    }

    /// Heals every cut link.
    pub fn heal_all(&mut self) {
        self.sim.heal_all()
    }

    /// Sets the probability that any one message is lost (0 to 1).
    pub fn set_drop_rate(&mut self, rate: f64) -> Result<(), String> {
        self.sim.set_drop_rate(rate).map_err(err)
    }

    /// Loses message `id` when it would arrive; `false` if it is no longer on the wire.
    pub fn drop_message(&mut self, id: u32) -> bool {
        self.sim.drop_message(id.into())
    }

    // ----- nodes ---------------------------------------------------------------------------

    /// Kills node `id`'s process (its disk survives).
    pub fn crash(&mut self, id: u32) -> Result<(), String> {
        self.sim.crash(id.into()).map_err(err)
    }

    /// Starts crashed node `id` again from its disk.
    pub fn restart(&mut self, id: u32) -> Result<(), String> {
        self.sim.restart(id.into()).map_err(err)
    }

    /// Crashes the leader and starts it again at once: it comes back a follower, and the
    /// others elect a leader when their timers run out.
    pub fn restart_leader(&mut self) -> Result<u32, String> {
        let leader = self.sim.leader().ok_or("there is no leader right now")?;
        self.sim.crash(leader).map_err(err)?;
        self.sim.restart(leader).map_err(err)?;
        Ok(leader as u32)
    }

    /// Makes node `id`'s election timer run out now.
    pub fn time_out(&mut self, id: u32) -> Result<(), String> {
        self.sim.time_out(id.into()).map_err(err)
    }

    /// Spreads the election timers of the running followers and candidates evenly over the
    /// timeout range, in id order: one node clearly times out first and wins.
    pub fn spread_timers(&mut self) {
        let (min, max) = self.sim.config().election_timeout;
        let ids = self.timed_nodes();
        let count = ids.len() as u32;
        for (k, id) in ids.into_iter().enumerate() {
            let after = min + (max - min) * (k as u32) / count.max(1);
            // Only running nodes are listed, so this cannot fail.
            let _ = self.sim.set_election_timer(id, after);
        }
    }

    /// Sets every running follower's and candidate's election timer to run out at the same
    /// instant: they all campaign at once and split the vote.
    pub fn align_timers(&mut self) {
        let (min, _) = self.sim.config().election_timeout;
        for id in self.timed_nodes() {
            // Only running nodes are listed, so this cannot fail.
            let _ = self.sim.set_election_timer(id, min / 4);
        }
    }

    // ----- clients and membership ----------------------------------------------------------

    /// A client asks node `node` to create a service `label` with `replicas` replicas; returns
    /// the request's id (its answer shows up as an event).
    pub fn submit_service(&mut self, node: u32, label: &str, replicas: u32) -> Result<u32, String> {
        let command = Command::CreateServices {
            services: vec![ServiceSpec {
                label: label.to_string(),
                replicas,
                uniq_id: None,
            }],
        };
        self.submit(node, command)
    }

    /// A client asks node `node` to scale service `service` to `replicas`.
    pub fn scale_service(&mut self, node: u32, service: u32, replicas: u32) -> Result<u32, String> {
        self.submit(
            node,
            Command::ScaleService {
                id: service.into(),
                replicas,
            },
        )
    }

    /// A client asks node `node` to delete service `service`.
    pub fn delete_service(&mut self, node: u32, service: u32) -> Result<u32, String> {
        self.submit(node, Command::DeleteService { id: service.into() })
    }

    /// Starts a new node with `capacity` and asks the leader to add it; returns its id.
    pub fn add_node(&mut self, capacity: u32) -> Result<u32, String> {
        self.sim.add_node(capacity).map(|id| id as u32).map_err(err)
    }

    /// Asks the leader to remove node `id` from the membership.
    pub fn remove_node(&mut self, id: u32) -> Result<(), String> {
        self.sim.remove_node(id.into()).map_err(err)
    }
}

impl Cluster {
    fn submit(&mut self, node: u32, command: Command) -> Result<u32, String> {
        self.sim
            .submit(node.into(), command)
            .map(|request| request as u32)
            .map_err(err)
    }

    /// Running nodes that have an election timer (followers and candidates), by id.
    fn timed_nodes(&self) -> Vec<NodeId> {
        self.sim
            .nodes_without_links()
            .into_iter()
            .filter(|node| matches!(node.role, Role::Follower | Role::Candidate) && node.voter)
            .map(|node| node.id)
            .collect()
    }
}

/// The event lines of `cargo xtask sim --seed <seed> --nodes <nodes> --seconds <seconds>
/// --trace`, one per line, each ending in a newline: the same run through the same core code.
#[wasm_bindgen]
pub fn trace(seed: u32, nodes: u32, seconds: f64) -> Result<String, String> {
    let until = Duration::try_from_secs_f64(seconds).map_err(err)?;
    let mut sim = Simulation::new(SimConfig::new(seed.into(), nodes as usize)).map_err(err)?;
    let mut out = String::new();
    Workload::light().drive_observed(&mut sim, until, |event| {
        out.push_str(&event.to_string());
        out.push('\n');
    });
    Ok(out)
}

/// JSON in, JSON out: the leader of a list of node reports (`[{id, role, term, …}…]`, every
/// field but those three optional), the one that says it leads in the highest term; `null` if
/// none does.
#[wasm_bindgen]
pub fn leader_of(nodes_json: &str) -> Result<String, String> {
    let nodes: Vec<NodeReport> = serde_json::from_str(nodes_json).map_err(err)?;
    Ok(json(&flotilla_core::raft::status::leader_of(&nodes)))
}

/// JSON in, JSON out: how to split nodes `[id…]` in two, `{groups: [[lower…], [upper…]], cut:
/// [[from, to]…]}` (the lower half of the ids, rounded down, against the rest; `cut` is every
/// link between the sides, both ways).
#[wasm_bindgen]
pub fn split_plan(ids_json: &str) -> Result<String, String> {
    let ids: Vec<NodeId> = serde_json::from_str(ids_json).map_err(err)?;
    Ok(json(&scenario::split_in_two(&ids)))
}

/// JSON in, JSON out: the links `[[from, to]…]` that cut node `node` off from the others of
/// `[id…]` (both ways). Isolating the leader is this with the leader's id.
#[wasm_bindgen]
pub fn isolate_plan(ids_json: &str, node: u32) -> Result<String, String> {
    let ids: Vec<NodeId> = serde_json::from_str(ids_json).map_err(err)?;
    Ok(json(&scenario::isolate(&ids, node.into())))
}

/// JSON in, JSON out: the links `[[from, to]…]` to heal, given the cut ones `[[from, to]…]`:
/// each once, in order.
#[wasm_bindgen]
pub fn heal_plan(cut_json: &str) -> Result<String, String> {
    let cut: Vec<(NodeId, NodeId)> = serde_json::from_str(cut_json).map_err(err)?;
    Ok(json(&scenario::heal_all(&cut)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_watchable_cluster_elects_a_leader_and_reports_it() {
        let mut cluster = Cluster::new(1, 5, "{}").unwrap();
        cluster.advance(20.0);
        assert!(cluster.leader().is_some());
        let frame: serde_json::Value = serde_json::from_str(&cluster.frame()).unwrap();
        assert_eq!(frame["nodes"].as_array().unwrap().len(), 5);
        let events: serde_json::Value = serde_json::from_str(&cluster.take_events()).unwrap();
        let texts: Vec<&str> = events
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|event| event["text"].as_str())
            .collect();
        assert!(texts.iter().any(|text| text.contains("became leader")));
    }

    #[test]
    fn services_are_placed_and_read_back() {
        let mut cluster = Cluster::new(2, 3, r#"{"pace":"fast"}"#).unwrap();
        cluster.advance(5.0);
        let leader = cluster.leader().unwrap();
        cluster.submit_service(leader, "web", 4).unwrap();
        cluster.advance(2.0);
        let services: serde_json::Value = serde_json::from_str(&cluster.services()).unwrap();
        assert_eq!(services["services"][0]["label"], "web");
        assert_eq!(services["services"][0]["running"], 4);
    }

    #[test]
    fn the_trace_is_the_native_run() {
        let mut sim = Simulation::new(SimConfig::new(3, 5)).unwrap();
        let mut expected = String::new();
        Workload::light().drive_observed(&mut sim, Duration::from_secs(3), |event| {
            expected.push_str(&format!("{event}\n"));
        });
        assert_eq!(trace(3, 5, 3.0).unwrap(), expected);
        assert!(expected.contains("became leader"));
    }

    #[test]
    fn frames_do_not_change_the_run() {
        let lines = |cluster: &mut Cluster| -> Vec<String> {
            let events: serde_json::Value = serde_json::from_str(&cluster.take_events()).unwrap();
            events
                .as_array()
                .unwrap()
                .iter()
                .map(|event| event["text"].as_str().unwrap().to_string())
                .collect()
        };
        let mut whole = Cluster::new(9, 5, "{}").unwrap();
        whole.advance_to_nanos(12e9);
        whole.cut(1, 2).unwrap();
        whole.advance_to_nanos(30e9);
        let mut framed = Cluster::new(9, 5, "{}").unwrap();
        let mut t: f64 = 0.0;
        while t < 30e9 {
            // Uneven frames, as a browser's animation clock gives them.
            t += 16_666_667.0 + (t % 7e6);
            if framed.now_nanos() < 12e9 && t >= 12e9 {
                framed.advance_to_nanos(12e9);
                framed.cut(1, 2).unwrap();
            }
            framed.advance_to_nanos(t.min(30e9));
        }
        assert_eq!(lines(&mut whole), lines(&mut framed));
    }

    #[test]
    fn the_page_gets_cores_rules_as_json() {
        let mut cluster = Cluster::new(4, 5, r#"{"pace":"fast"}"#).unwrap();
        cluster.advance(5.0);
        let frame: serde_json::Value = serde_json::from_str(&cluster.frame()).unwrap();
        let nodes = frame["nodes"].to_string();
        assert_eq!(leader_of(&nodes).unwrap(), frame["leader"].to_string());
        assert_eq!(
            leader_of(r#"[{"id":1,"role":"leader","term":2},{"id":2,"role":"leader","term":3}]"#),
            Ok("2".to_string())
        );
        assert_eq!(leader_of("[]"), Ok("null".to_string()));
        let split: serde_json::Value =
            serde_json::from_str(&split_plan("[1,2,3,4,5]").unwrap()).unwrap();
        assert_eq!(split["groups"], serde_json::json!([[1, 2], [3, 4, 5]]));
        assert_eq!(split["cut"].as_array().unwrap().len(), 12);
        assert_eq!(
            isolate_plan("[1,2,3]", 1),
            Ok("[[1,2],[2,1],[1,3],[3,1]]".to_string())
        );
        assert_eq!(heal_plan("[[2,1],[1,2]]"), Ok("[[1,2],[2,1]]".to_string()));
        assert!(split_plan("nope").is_err());
    }

    #[test]
    fn bad_settings_are_refused() {
        assert!(Cluster::new(1, 0, "{}").is_err());
        assert!(Cluster::new(1, 3, "{nope").is_err());
    }
}
