//! [`Ledger`]: what writers asked a real cluster to do and what it answered, and the checks of a
//! cluster's final state against it: every acknowledged service present exactly once, with the
//! replicas of its last acknowledged write (or of a later write whose outcome was unknown), and
//! no service nobody asked for. Also [`accounting_violations`]: placements that add up, nodes
//! within capacity.
//!
//! A write answered 2xx is acknowledged. Any other answer, or none, leaves its outcome unknown:
//! it may have been applied (a 503 after the leader stored it, an answer lost on a cut link), so
//! it may show up once — but never twice, and never after a later acknowledged write.

use std::collections::BTreeMap;

use serde_json::Value;

/// One write to one service: its create (the first) or a scale.
#[derive(Clone, Debug)]
pub struct Write {
    /// The replicas it asked for.
    pub replicas: u64,
    /// Whether the cluster acknowledged it (2xx).
    pub acknowledged: bool,
}

/// What was asked of one service, in order.
#[derive(Clone, Debug, Default)]
pub struct ServiceRecord {
    /// The id its acknowledged create answered.
    pub id: Option<u64>,
    /// Its create, then its scales, in the order they were sent (one at a time).
    pub writes: Vec<Write>,
}

/// Every write of a run, by service label (labels are unique per run).
#[derive(Clone, Debug, Default)]
pub struct Ledger {
    /// Service label → what was asked of it.
    pub services: BTreeMap<String, ServiceRecord>,
}

impl Ledger {
    /// Records a create of `label` with `replicas`, acknowledged with `id` or not (`None`).
    pub fn created(&mut self, label: &str, replicas: u64, id: Option<u64>) {
        let record = self.services.entry(label.to_string()).or_default();
        record.id = id;
        record.writes.push(Write {
            replicas,
            acknowledged: id.is_some(),
        });
    }

    /// Records a scale of `label` to `replicas`.
    pub fn scaled(&mut self, label: &str, replicas: u64, acknowledged: bool) {
        let record = self.services.entry(label.to_string()).or_default();
        record.writes.push(Write {
            replicas,
            acknowledged,
        });
    }

    /// Adds another ledger's records (a writer thread's) to this one.
    pub fn merge(&mut self, other: Ledger) {
        self.services.extend(other.services);
    }

    /// Labels of this ledger's acknowledged services with their ids.
    pub fn acknowledged_ids(&self) -> Vec<(String, u64)> {
        self.services
            .iter()
            .filter_map(|(label, record)| Some((label.clone(), record.id?)))
            .collect()
    }

    /// How many writes were acknowledged, and how many had an unknown outcome.
    pub fn counts(&self) -> (usize, usize) {
        let writes = self.services.values().flat_map(|record| &record.writes);
        let (acknowledged, unknown): (Vec<&Write>, Vec<&Write>) =
            writes.partition(|write| write.acknowledged);
        (acknowledged.len(), unknown.len())
    }

    /// What `services` (a node's `/state` or `/services` list) gets wrong against this ledger.
    pub fn violations(&self, services: &[Value]) -> Vec<String> {
        let mut violations = Vec::new();
        let mut by_label: BTreeMap<&str, Vec<&Value>> = BTreeMap::new();
        for service in services {
            let label = service["label"].as_str().unwrap_or("<no label>");
            by_label.entry(label).or_default().push(service);
        }
        for (label, found) in &by_label {
            if !self.services.contains_key(*label) {
                let ids: Vec<&Value> = found.iter().map(|service| &service["id"]).collect();
                violations.push(format!(
                    "service {label:?} (ids {ids:?}) was never requested"
                ));
            }
        }
        for (label, record) in &self.services {
            let found = by_label.get(label.as_str()).map_or(&[][..], Vec::as_slice);
            let created = record
                .writes
                .first()
                .is_some_and(|write| write.acknowledged);
            match found {
                [] if created => violations.push(format!(
                    "acknowledged service {label:?} (id {:?}) is missing",
                    record.id
                )),
                [] => {}
                [service] => {
                    if let Some(id) = record.id
                        && service["id"].as_u64() != Some(id)
                    {
                        violations.push(format!(
                            "service {label:?} was acknowledged with id {id} but has id {}",
                            service["id"]
                        ));
                    }
                    let allowed = record.allowed_replicas();
                    let replicas = service["replicas"].as_u64().unwrap_or(u64::MAX);
                    if !allowed.contains(&replicas) {
                        violations.push(format!(
                            "service {label:?} has {replicas} replicas; its writes allow only \
                             {allowed:?} (writes in order: {:?})",
                            record.writes
                        ));
                    }
                }
                several => {
                    let ids: Vec<&Value> = several.iter().map(|service| &service["id"]).collect();
                    violations.push(format!(
                        "service {label:?} is present {} times (ids {ids:?}): a create was applied \
                         more than once (acknowledged id {:?}; writes in order: {:?})",
                        several.len(),
                        record.id,
                        record.writes
                    ));
                }
            }
        }
        violations
    }
}

impl ServiceRecord {
    /// The replica counts the service may have now: its last acknowledged write's, or any later
    /// write's whose outcome is unknown (with none acknowledged, any write's).
    pub fn allowed_replicas(&self) -> Vec<u64> {
        let from = self
            .writes
            .iter()
            .rposition(|write| write.acknowledged)
            .unwrap_or(0);
        self.writes[from..]
            .iter()
            .map(|write| write.replicas)
            .collect()
    }
}

/// What a node's `/state` gets wrong in its own accounting: a service whose placed and pending
/// replicas do not add up to its replicas, a replica on a node that is not a member, a node
/// whose load is not the sum of its placements or is over its capacity.
pub fn accounting_violations(state: &Value) -> Vec<String> {
    let mut violations = Vec::new();
    let mut loads: BTreeMap<String, u64> = BTreeMap::new();
    let empty = Vec::new();
    let nodes = state["nodes"].as_array().unwrap_or(&empty);
    for service in state["services"].as_array().unwrap_or(&empty) {
        let placement = service["placement"].as_object();
        let placed: u64 = placement
            .map(|placement| placement.values().filter_map(Value::as_u64).sum())
            .unwrap_or(0);
        let pending = service["pending"].as_u64().unwrap_or(0);
        let replicas = service["replicas"].as_u64().unwrap_or(0);
        if placed + pending != replicas {
            violations.push(format!(
                "service {} places {placed} and has {pending} pending, of {replicas} replicas",
                service["id"]
            ));
        }
        for (node, count) in placement.into_iter().flatten() {
            *loads.entry(node.clone()).or_default() += count.as_u64().unwrap_or(0);
        }
    }
    for (node, load) in &loads {
        if !nodes
            .iter()
            .any(|info| info["id"].to_string().as_str() == node.as_str())
        {
            violations.push(format!(
                "{load} replicas on node {node}, which is not a member"
            ));
        }
    }
    for info in nodes {
        let id = info["id"].to_string();
        let load = loads.get(&id).copied().unwrap_or(0);
        let capacity = info["capacity"].as_u64().unwrap_or(0);
        if load > capacity {
            violations.push(format!(
                "node {id} holds {load} replicas, over its capacity {capacity}"
            ));
        }
        if info["load"].as_u64() != Some(load) {
            violations.push(format!(
                "node {id} reports load {} but its placements add up to {load}",
                info["load"]
            ));
        }
    }
    violations
}
