//! The replicated state machine: the whole cluster as Raft agrees on it, and `apply`, the
//! only way it changes.
//!
//! `apply` is a pure function of the state and the command (plus the log index, recorded on
//! created services): no clock, no randomness, and only ordered collections, so every member
//! replaying the same log reaches the same state, byte for byte.
//!
//! Replicas never migrate on their own: a running replica moves only when its node goes down
//! or is removed. New capacity (a node added or back up, a service scaled down or deleted)
//! is used for pending replicas, taken in service-id order. A consequence, checked when a
//! snapshot is loaded: after every command, either nothing is pending or no `Up` node has
//! room left.
//!
//! Client writes go through [`ClusterState::apply_write`], which applies a request once: the
//! answers to recent request ids are part of the state ([`RecentWrites`]), so a copy of a
//! request that was already applied — a retry after a lost answer — gets the first answer
//! again, and the same id on a different request is refused.
//!
//! Derived data — each node's load and the set of services with pending replicas — is kept
//! up to date incrementally, left out of snapshots, and rebuilt (and cross-checked) when one
//! is loaded. With it, a command costs O(nodes + placed replicas × log nodes) plus, for a
//! node going down or away, one pass over the services to find the node's replicas.

use std::collections::btree_map::Entry;
use std::collections::{BTreeMap, BTreeSet};

use serde::{Deserialize, Serialize};

use super::command::{Answer, Command, Outcome};
use super::node::{MAX_NODE_CAPACITY, NodeId, NodeInfo, NodeSpec, NodeStatus, NodeView};
use super::placement::{Placer, pick_removals};
use super::recent::{RecentWrites, Seen, reused_id_message};
use super::request::{MAX_REPLICAS, RequestError, check_services};
use super::service::{Service, ServiceId, ServiceSpec, ServiceView};
use super::write::Write;

/// Everything the cluster agrees on: nodes, services and their placements.
///
/// Fields are private so the invariants (see the module doc and [`Service`]) can only be
/// changed through [`ClusterState::apply`]; serialising gives the snapshot Raft ships.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "Snapshot")]
pub struct ClusterState {
    nodes: BTreeMap<NodeId, NodeInfo>,
    services: BTreeMap<ServiceId, Service>,
    /// Id the next created service gets; ids are never reused, so a stale client reference
    /// to a deleted service cannot hit a new one.
    next_service_id: ServiceId,
    /// The answers to recent client requests, so each is applied once.
    recent: RecentWrites,
    /// Replicas on each node; exactly the keys of `nodes`. Derived.
    #[serde(skip)]
    loads: BTreeMap<NodeId, u32>,
    /// Services with `pending > 0`, so placing pending work skips the rest. Derived.
    #[serde(skip)]
    waiting: BTreeSet<ServiceId>,
    /// Replicas requested over all services (the sum of their `replicas`), so a limit check
    /// does not add them up on every write. Derived.
    #[serde(skip)]
    requested: u64,
}

impl Default for ClusterState {
    /// An empty cluster. Service ids start at 1, leaving 0 free to never mean a service.
    fn default() -> Self {
        ClusterState {
            nodes: BTreeMap::new(),
            services: BTreeMap::new(),
            next_service_id: 1,
            recent: RecentWrites::default(),
            loads: BTreeMap::new(),
            waiting: BTreeSet::new(),
            requested: 0,
        }
    }
}

/// The serialised form: the state without its derived data. Loading goes through here so
/// the derived data is rebuilt and a corrupt snapshot is refused instead of trusted.
#[derive(Deserialize)]
struct Snapshot {
    nodes: BTreeMap<NodeId, NodeInfo>,
    services: BTreeMap<ServiceId, Service>,
    next_service_id: ServiceId,
    /// Absent in snapshots written before requests had ids: nothing remembered then.
    #[serde(default)]
    recent: RecentWrites,
}

impl TryFrom<Snapshot> for ClusterState {
    type Error = String;

    fn try_from(s: Snapshot) -> Result<Self, String> {
        let mut loads: BTreeMap<NodeId, u32> = BTreeMap::new();
        for (&id, node) in &s.nodes {
            if node.id != id {
                return Err(format!("snapshot: node {} stored under id {id}", node.id));
            }
            loads.insert(id, 0);
        }
        let mut waiting = BTreeSet::new();
        for (&id, service) in &s.services {
            if service.id != id {
                return Err(format!(
                    "snapshot: service {} stored under id {id}",
                    service.id
                ));
            }
            if id >= s.next_service_id {
                return Err(format!("snapshot: service {id} is not below the next id"));
            }
            let mut accounted = u64::from(service.pending);
            for (node, &n) in &service.placement {
                let fits = s
                    .nodes
                    .get(node)
                    .is_some_and(|info| info.status.keeps_replicas());
                let load = loads.get_mut(node).filter(|_| fits && n > 0);
                let load = load.ok_or_else(|| {
                    format!("snapshot: service {id} has {n} replicas on node {node}")
                })?;
                *load = load.saturating_add(n);
                accounted += u64::from(n);
            }
            if accounted != u64::from(service.replicas) {
                return Err(format!(
                    "snapshot: service {id} accounts for {accounted} replicas of {}",
                    service.replicas
                ));
            }
            if service.pending > 0 {
                waiting.insert(id);
            }
        }
        for (node, &load) in s.nodes.values().zip(loads.values()) {
            if load > node.capacity {
                return Err(format!("snapshot: node {} over capacity", node.id));
            }
            if !waiting.is_empty() && node.status.accepts_replicas() && load < node.capacity {
                return Err(format!(
                    "snapshot: node {} has room while replicas are pending",
                    node.id
                ));
            }
        }
        let requested = s.services.values().map(|s| u64::from(s.replicas)).sum();
        Ok(ClusterState {
            nodes: s.nodes,
            services: s.services,
            next_service_id: s.next_service_id,
            recent: s.recent,
            loads,
            waiting,
            requested,
        })
    }
}

impl ClusterState {
    /// Applies one committed log entry. Pure and deterministic: the same state and command
    /// always give the same new state and outcome. A command that does not fit the state
    /// returns [`Outcome::Rejected`] and changes nothing (each handler checks everything
    /// before its first write).
    pub fn apply(&mut self, log_index: u64, cmd: &Command) -> Outcome {
        let result = match cmd {
            Command::CreateServices { services } => self.create(log_index, services),
            Command::ScaleService { id, replicas } => self.scale(*id, *replicas),
            Command::DeleteService { id } => self.delete(*id),
            Command::AddNode { node } => self.add_node(node),
            Command::RemoveNode { id } => self.remove_node(*id),
            Command::MarkNodeDown { id } => self.set_status(*id, NodeStatus::Down),
            Command::MarkNodeUp { id } => self.set_status(*id, NodeStatus::Up),
            Command::RecordMembershipAnswer { outcome } => Ok(outcome.clone()),
        };
        result.unwrap_or_else(|reason| Outcome::Rejected { reason })
    }

    /// Applies one client write: its command, unless the write's request id was seen before.
    /// A copy of an applied request (same id, same command) answers what the first one did —
    /// the same log index and outcome — and changes nothing; the same id with a different
    /// command answers [`Outcome::RequestIdReused`] and changes nothing. Rejections are
    /// remembered too: a retry gets the same refusal even if the state has changed since.
    pub fn apply_write(&mut self, log_index: u64, write: &Write) -> Answer {
        let Some(id) = &write.id else {
            let outcome = self.apply(log_index, &write.command);
            return Answer { log_index, outcome };
        };
        match self.recent.seen(id, &write.command) {
            Seen::Again(answer) => answer.clone(),
            Seen::Different => Answer {
                log_index,
                outcome: Outcome::RequestIdReused {
                    reason: reused_id_message(
                        id,
                        self.recent.answer(id).map_or(0, |answer| answer.log_index),
                    ),
                },
            },
            Seen::New => {
                let outcome = self.apply(log_index, &write.command);
                let answer = Answer { log_index, outcome };
                self.recent
                    .remember(id.clone(), &write.command, answer.clone());
                answer
            }
        }
    }

    /// The answers to recent client requests, by request id.
    pub fn recent_writes(&self) -> &RecentWrites {
        &self.recent
    }

    /// All nodes, by id, including `Down` ones.
    pub fn nodes(&self) -> &BTreeMap<NodeId, NodeInfo> {
        &self.nodes
    }

    /// One node, if it is part of the cluster.
    pub fn node(&self, id: NodeId) -> Option<&NodeInfo> {
        self.nodes.get(&id)
    }

    /// Replicas placed on a node; `None` for an unknown node.
    pub fn node_load(&self, id: NodeId) -> Option<u32> {
        self.loads.get(&id).copied()
    }

    /// A node with its load, for stats.
    pub fn node_view(&self, id: NodeId) -> Option<NodeView> {
        Some(NodeView::new(self.nodes.get(&id)?, self.node_load(id)?))
    }

    /// Every node with its load, by id, for stats.
    pub fn node_views(&self) -> impl Iterator<Item = NodeView> + '_ {
        self.nodes
            .values()
            .zip(self.loads.values())
            .map(|(node, &load)| NodeView::new(node, load))
    }

    /// All services, by id.
    pub fn services(&self) -> &BTreeMap<ServiceId, Service> {
        &self.services
    }

    /// One service, if it exists.
    pub fn service(&self, id: ServiceId) -> Option<&Service> {
        self.services.get(&id)
    }

    /// Every service as clients see it, by id, for stats.
    pub fn service_views(&self) -> impl Iterator<Item = ServiceView> + '_ {
        self.services.values().map(ServiceView::from)
    }

    /// Replicas requested over all services (placed or pending).
    pub fn requested_replicas(&self) -> u64 {
        self.requested
    }

    /// Replicas waiting for capacity, over all services: non-zero means the cluster is full.
    pub fn total_pending(&self) -> u64 {
        self.waiting
            .iter()
            .filter_map(|id| self.services.get(id))
            .map(|s| u64::from(s.pending))
            .sum()
    }

    fn create(&mut self, log_index: u64, specs: &[ServiceSpec]) -> Result<Outcome, String> {
        check_services(specs).map_err(|e| e.to_string())?;
        let first = self.next_service_id;
        let end = u64::try_from(specs.len())
            .ok()
            .and_then(|n| first.checked_add(n))
            .ok_or("service ids exhausted")?;
        for (id, spec) in (first..end).zip(specs) {
            self.services.insert(
                id,
                Service {
                    id,
                    label: spec.label.trim().to_owned(),
                    uniq_id: spec.uniq_id,
                    replicas: spec.replicas,
                    placement: BTreeMap::new(),
                    pending: spec.replicas,
                    created_index: log_index,
                },
            );
            self.waiting.insert(id);
            self.requested += u64::from(spec.replicas);
        }
        self.next_service_id = end;
        self.place_pending();
        let services = (first..end).map(|id| self.view(id)).collect();
        Ok(Outcome::ServicesCreated { services })
    }

    fn scale(&mut self, id: ServiceId, replicas: u32) -> Result<Outcome, String> {
        if replicas > MAX_REPLICAS {
            let error = RequestError::Replicas {
                field: "replicas".into(),
                min: 0,
                got: replicas.to_string(),
            };
            return Err(error.to_string());
        }
        let service = self
            .services
            .get_mut(&id)
            .ok_or_else(|| unknown_service(id))?;
        if replicas >= service.replicas {
            service.pending += replicas - service.replicas;
        } else {
            // Pending replicas are dropped first: stopping something that runs while
            // something else still waits would be backwards.
            let excess = service.replicas - replicas;
            let from_pending = excess.min(service.pending);
            service.pending -= from_pending;
            let held = service.placement.iter().filter_map(|(&node, &mine)| {
                let capacity = self.nodes.get(&node)?.capacity;
                Some((node, mine, *self.loads.get(&node)?, capacity))
            });
            for (node, n) in pick_removals(held, excess - from_pending) {
                take(&mut service.placement, node, n);
                if let Some(load) = self.loads.get_mut(&node) {
                    *load -= n;
                }
            }
        }
        self.requested = self.requested - u64::from(service.replicas) + u64::from(replicas);
        service.replicas = replicas;
        if service.pending > 0 {
            self.waiting.insert(id);
        } else {
            self.waiting.remove(&id);
        }
        self.place_pending();
        Ok(Outcome::ServiceScaled {
            service: self.view(id),
        })
    }

    fn delete(&mut self, id: ServiceId) -> Result<Outcome, String> {
        let service = self
            .services
            .remove(&id)
            .ok_or_else(|| unknown_service(id))?;
        for (node, n) in &service.placement {
            if let Some(load) = self.loads.get_mut(node) {
                *load -= n;
            }
        }
        self.waiting.remove(&id);
        self.requested -= u64::from(service.replicas);
        self.place_pending();
        Ok(Outcome::ServiceDeleted { id })
    }

    fn add_node(&mut self, spec: &NodeSpec) -> Result<Outcome, String> {
        if spec.capacity > MAX_NODE_CAPACITY {
            return Err(format!(
                "capacity must be at most {MAX_NODE_CAPACITY}, got {}",
                spec.capacity
            ));
        }
        if self.nodes.contains_key(&spec.id) {
            return Err(format!("node {} already exists", spec.id));
        }
        // Name and address identify nodes in the seed's API, so they must be unique too.
        if let Some(other) = self.nodes.values().find(|n| n.name == spec.name) {
            return Err(format!(
                "name {:?} is already used by node {}",
                spec.name, other.id
            ));
        }
        if let Some(other) = self.nodes.values().find(|n| n.addr == spec.addr) {
            return Err(format!(
                "address {:?} is already used by node {}",
                spec.addr, other.id
            ));
        }
        self.nodes.insert(spec.id, NodeInfo::up(spec));
        self.loads.insert(spec.id, 0);
        self.place_pending();
        let node = NodeView::new(&self.nodes[&spec.id], self.loads[&spec.id]);
        Ok(Outcome::NodeAdded {
            node,
            pending: self.total_pending(),
        })
    }

    fn remove_node(&mut self, id: NodeId) -> Result<Outcome, String> {
        if !self.nodes.contains_key(&id) {
            return Err(unknown_node(id));
        }
        self.evict(id);
        self.nodes.remove(&id);
        self.loads.remove(&id);
        // Before this command either nothing was pending or the cluster was full (and still
        // is without this node), so whatever gets placed now is this node's former replicas.
        let replaced = self.place_pending();
        Ok(Outcome::NodeRemoved {
            id,
            replaced,
            pending: self.total_pending(),
        })
    }

    fn set_status(&mut self, id: NodeId, status: NodeStatus) -> Result<Outcome, String> {
        let node = self.nodes.get_mut(&id).ok_or_else(|| unknown_node(id))?;
        // The failure detector may propose the same mark twice (e.g. across a leader
        // change); repeating it must be harmless, so it is a successful no-op.
        let changed = node.status != status;
        node.status = status;
        if changed && !status.keeps_replicas() {
            self.evict(id);
        }
        // Same reasoning as in `remove_node`: what gets placed is what this mark freed or
        // displaced.
        let moved = if changed { self.place_pending() } else { 0 };
        Ok(Outcome::NodeMarked {
            id,
            status,
            moved,
            pending: self.total_pending(),
        })
    }

    /// Takes every replica off a node, making it pending in its service (to be re-placed by
    /// the next `place_pending`). Scans all services: a node does not index its residents,
    /// which keeps the derived data to two small structures; this runs only when a node goes
    /// down or away.
    fn evict(&mut self, node: NodeId) {
        for service in self.services.values_mut() {
            if let Some(n) = service.placement.remove(&node) {
                service.pending += n;
                self.waiting.insert(service.id);
            }
        }
        if let Some(load) = self.loads.get_mut(&node) {
            *load = 0;
        }
    }

    /// Places as many pending replicas as fit, services in id order; returns how many.
    fn place_pending(&mut self) -> u64 {
        if self.waiting.is_empty() {
            return 0;
        }
        // `nodes` and `loads` have the same keys, so zipping pairs each node with its load.
        let eligible = self
            .nodes
            .values()
            .zip(self.loads.values())
            .filter(|(node, _)| node.status.accepts_replicas())
            .map(|(node, &load)| (node.id, load, node.capacity));
        let mut placer = Placer::new(eligible);
        let services = &mut self.services;
        let mut placed = 0;
        self.waiting.retain(|id| {
            let Some(service) = services.get_mut(id) else {
                return false;
            };
            if placer.is_full() {
                return true;
            }
            let batch = placer.place(service.pending);
            for &(_, n) in &batch {
                service.pending -= n;
                placed += u64::from(n);
            }
            if service.placement.is_empty() {
                // A new service: build its map in one go from the id-ordered batch.
                service.placement = batch.into_iter().collect();
            } else {
                for (node, n) in batch {
                    *service.placement.entry(node).or_insert(0) += n;
                }
            }
            service.pending > 0
        });
        for (node, load) in placer.changed_loads() {
            self.loads.insert(node, load);
        }
        placed
    }

    /// The client view of a service this command just created or changed (so it exists).
    fn view(&self, id: ServiceId) -> ServiceView {
        ServiceView::from(&self.services[&id])
    }
}

/// Removes `n` replicas from a node's entry in a placement, dropping the entry at zero so
/// placements never list empty nodes.
fn take(placement: &mut BTreeMap<NodeId, u32>, node: NodeId, n: u32) {
    if let Entry::Occupied(mut entry) = placement.entry(node) {
        *entry.get_mut() -= n;
        if *entry.get() == 0 {
            entry.remove();
        }
    }
}

fn unknown_service(id: ServiceId) -> String {
    format!("unknown service {id}")
}

fn unknown_node(id: NodeId) -> String {
    format!("unknown node {id}")
}

#[cfg(test)]
mod tests;
