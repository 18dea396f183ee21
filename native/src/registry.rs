//! [`Registry`]: the clusters the demo's entry point knows, and the nodes it started itself.
//!
//! The entry point is not a second brain: it keeps only addresses (and handles of nodes it
//! spawned, to stop them), and asks the nodes for everything else over their public API.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::net::SocketAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use flotilla_core::model::Limits;
use flotilla_core::raft::Member;
use tokio::net::TcpListener;
use tokio::sync::Mutex;

use crate::api::guard::ApiGuard;
use crate::auth::ClusterSecret;
use crate::node::NodeConfig;
use crate::node::NodeError;
use crate::node::RaftTiming;
use crate::node::StartMode;
use crate::server::NodeServer;
use crate::tls::Tls;

/// Why the registry could not do what was asked. The entry point answers each with its own
/// HTTP status.
#[derive(Debug, thiserror::Error)]
pub enum RegistryError {
    /// No cluster has this id.
    #[error("no cluster {id:?}; clusters are {known:?}")]
    UnknownCluster {
        /// The id asked for.
        id: String,
        /// The ids there are.
        known: Vec<String>,
    },
    /// A cluster with this id exists already.
    #[error("cluster {0:?} already exists")]
    ClusterExists(String),
    /// A node address is not `host:port`.
    #[error("{0:?} is not host:port")]
    BadAddress(String),
    /// A node's port cannot be listened on (in use, or not allowed).
    #[error("cannot listen on {socket} for {addr}: {reason}")]
    CannotListen {
        /// The socket address bound.
        socket: SocketAddr,
        /// The node's advertised address.
        addr: String,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// A port a request asked to spawn a node on is outside the allowed range.
    #[error(
        "port {port} is outside the ports this server may start nodes on, {first}-{last} \
         (--spawn-ports)"
    )]
    PortNotAllowed {
        /// The port asked for.
        port: u32,
        /// The first allowed.
        first: u16,
        /// The last allowed.
        last: u16,
    },
    /// A node did not start.
    #[error("node {id} did not start: {reason}")]
    NodeDidNotStart {
        /// Its Raft id.
        id: u64,
        /// Why.
        reason: NodeError,
    },
}

/// What every node the entry point starts shares.
#[derive(Clone, Debug)]
pub struct SpawnSettings {
    /// The address nodes listen on (their port differs).
    pub bind: IpAddr,
    /// Where node data directories go: `<root>/cluster-<id>/node-<n>`.
    pub data_root: PathBuf,
    /// Raft timing.
    pub timing: RaftTiming,
    /// How long client requests may wait.
    pub request_timeout: Duration,
    /// The secret every spawned node signs its Raft messages with (the cluster name in each
    /// signature keeps clusters apart).
    pub secret: ClusterSecret,
    /// Who may use the spawned nodes' public API (the entry point's own rules).
    pub guard: ApiGuard,
    /// The ports a client's request may have nodes started on (the founding nodes of the
    /// demo's own cluster are the operator's choice and not held to it).
    pub spawn_ports: RangeInclusive<u16>,
    /// How big spawned nodes let the state and one request grow.
    pub limits: Limits,
    /// TLS for the spawned nodes' servers and their calls to peers (the entry point's own).
    pub tls: Tls,
}

/// One cluster as the entry point knows it.
#[derive(Default)]
pub struct ClusterEntry {
    /// Addresses of its nodes, as far as the entry point knows (refreshed from the nodes).
    pub addrs: Vec<String>,
    /// Nodes this process started, by address.
    pub spawned: BTreeMap<String, NodeServer>,
    /// The highest Raft id this process started a node of this cluster with (0: none).
    pub highest_id: u64,
}

/// The clusters, by id.
pub struct Registry {
    /// Settings for spawned nodes.
    pub settings: SpawnSettings,
    clusters: Mutex<BTreeMap<String, ClusterEntry>>,
}

/// One node to spawn.
#[derive(Clone, Debug)]
pub struct SpawnRequest {
    /// Raft id.
    pub id: u64,
    /// Name and address.
    pub member: Member,
    /// How it enters the cluster.
    pub start: StartMode,
}

impl SpawnRequest {
    /// The founding nodes of a new cluster: `n1`, `n2`, … reached at `host` on `ports` (one
    /// node per port, in order), each of `capacity`, each given the whole founding membership.
    pub fn founders(host: &str, ports: &[u16], capacity: u32) -> Vec<SpawnRequest> {
        let members: BTreeMap<u64, Member> = (1..)
            .zip(ports)
            .map(|(n, port)| {
                let member = Member {
                    name: format!("n{n}"),
                    addr: format!("{host}:{port}"),
                    capacity,
                };
                (n, member)
            })
            .collect();
        members
            .iter()
            .map(|(id, member)| SpawnRequest {
                id: *id,
                member: member.clone(),
                start: StartMode::Found(members.clone()),
            })
            .collect()
    }
}

impl Registry {
    /// An empty registry.
    pub fn new(settings: SpawnSettings) -> Self {
        Registry {
            settings,
            clusters: Mutex::new(BTreeMap::new()),
        }
    }

    /// `Ok` if a request may start `count` nodes on the consecutive ports from `first`.
    pub fn check_spawn_ports(&self, first: u16, count: u16) -> Result<(), RegistryError> {
        let allowed = &self.settings.spawn_ports;
        let last = u32::from(first) + u32::from(count.max(1)) - 1;
        for port in [u32::from(first), last] {
            if !u16::try_from(port).is_ok_and(|port| allowed.contains(&port)) {
                return Err(RegistryError::PortNotAllowed {
                    port,
                    first: *allowed.start(),
                    last: *allowed.end(),
                });
            }
        }
        Ok(())
    }

    /// The cluster ids and their known node addresses.
    pub async fn list(&self) -> Vec<(String, Vec<String>)> {
        let clusters = self.clusters.lock().await;
        clusters
            .iter()
            .map(|(id, entry)| (id.clone(), entry.addrs.clone()))
            .collect()
    }

    /// The known node addresses of cluster `id`.
    pub async fn addrs(&self, id: &str) -> Result<Vec<String>, RegistryError> {
        let clusters = self.clusters.lock().await;
        clusters
            .get(id)
            .map(|entry| entry.addrs.clone())
            .ok_or_else(|| unknown_cluster(id, &clusters))
    }

    /// Replaces the known addresses of cluster `id` (after asking its nodes).
    pub async fn set_addrs(&self, id: &str, addrs: Vec<String>) {
        if addrs.is_empty() {
            return;
        }
        if let Some(entry) = self.clusters.lock().await.get_mut(id) {
            entry.addrs = addrs;
        }
    }

    /// Whether a cluster with this id exists.
    pub async fn contains(&self, id: &str) -> bool {
        self.clusters.lock().await.contains_key(id)
    }

    /// Starts a new cluster `id` of the given founding nodes. All listeners are bound before
    /// any node starts, so a port in use fails the whole request and starts nothing.
    pub async fn create_cluster(
        &self,
        id: &str,
        nodes: &[SpawnRequest],
    ) -> Result<(), RegistryError> {
        if self.contains(id).await {
            return Err(RegistryError::ClusterExists(id.to_string()));
        }
        let mut listeners = Vec::with_capacity(nodes.len());
        for node in nodes {
            listeners.push(self.bind(&node.member.addr).await?);
        }
        self.create_cluster_on(id, nodes, listeners).await
    }

    /// Binds a listener for a node on `port` of the registry's bind address (0: a port the OS
    /// picks, which the listener's `local_addr` tells), for [`Registry::create_cluster_on`].
    pub async fn listen(&self, port: u16) -> Result<TcpListener, RegistryError> {
        self.bind(&format!("{}:{port}", self.settings.bind)).await
    }

    /// Starts a new cluster `id` of the given founding nodes on listeners already bound, one per
    /// node in the same order (so the founders' addresses can name ports the OS picked).
    pub async fn create_cluster_on(
        &self,
        id: &str,
        nodes: &[SpawnRequest],
        listeners: Vec<TcpListener>,
    ) -> Result<(), RegistryError> {
        let mut clusters = self.clusters.lock().await;
        if clusters.contains_key(id) {
            return Err(RegistryError::ClusterExists(id.to_string()));
        }
        let mut entry = ClusterEntry::default();
        for (node, listener) in nodes.iter().zip(listeners) {
            let started = self.start(id, node, listener).await;
            match started {
                Ok(started) => {
                    entry.addrs.push(node.member.addr.clone());
                    entry.spawned.insert(node.member.addr.clone(), started);
                    entry.highest_id = entry.highest_id.max(node.id);
                }
                Err(err) => {
                    for (_, node) in std::mem::take(&mut entry.spawned) {
                        node.shutdown().await;
                    }
                    return Err(err);
                }
            }
        }
        clusters.insert(id.to_string(), entry);
        Ok(())
    }

    /// Starts one node for cluster `id` (it waits to be joined); returns once it serves.
    pub async fn spawn_node(&self, id: &str, node: &SpawnRequest) -> Result<(), RegistryError> {
        let mut clusters = self.clusters.lock().await;
        if !clusters.contains_key(id) {
            return Err(unknown_cluster(id, &clusters));
        }
        let listener = self.bind(&node.member.addr).await?;
        let started = self.start(id, node, listener).await?;
        if let Some(entry) = clusters.get_mut(id) {
            entry.spawned.insert(node.member.addr.clone(), started);
            entry.highest_id = entry.highest_id.max(node.id);
        }
        Ok(())
    }

    /// A Raft id for a new node of cluster `id`, at least `at_least`: above every id this process
    /// started a node of the cluster with, and not one whose data directory exists (a node that
    /// left, maybe before a restart on the same `--data-dir`). Raft ids are never reused: a
    /// departed node's id could still be in messages in flight, and its directory holds its log.
    pub async fn fresh_id(&self, id: &str, at_least: u64) -> u64 {
        let highest = self
            .clusters
            .lock()
            .await
            .get(id)
            .map_or(0, |entry| entry.highest_id);
        let mut candidate = at_least.max(highest + 1);
        while self.node_dir(id, candidate).exists() {
            candidate += 1;
        }
        candidate
    }

    /// Where node `node` of cluster `cluster` keeps its log, vote and snapshots.
    fn node_dir(&self, cluster: &str, node: u64) -> PathBuf {
        self.settings
            .data_root
            .join(format!("cluster-{cluster}"))
            .join(format!("node-{node}"))
    }

    /// Records that `addr` is now a member of cluster `id`.
    pub async fn add_addr(&self, id: &str, addr: &str) {
        if let Some(entry) = self.clusters.lock().await.get_mut(id)
            && !entry.addrs.iter().any(|known| known == addr)
        {
            entry.addrs.push(addr.to_string());
        }
    }

    /// Forgets `addr` in cluster `id`; if this process started that node, stops it.
    pub async fn forget_node(&self, id: &str, addr: &str) {
        let spawned = {
            let mut clusters = self.clusters.lock().await;
            let Some(entry) = clusters.get_mut(id) else {
                return;
            };
            entry.addrs.retain(|known| known != addr);
            entry.spawned.remove(addr)
        };
        if let Some(node) = spawned {
            node.shutdown().await;
        }
    }

    /// Stops every node this process started.
    pub async fn shutdown(&self) {
        let clusters = std::mem::take(&mut *self.clusters.lock().await);
        for (_, entry) in clusters {
            for (_, node) in entry.spawned {
                node.shutdown().await;
            }
        }
    }

    async fn bind(&self, addr: &str) -> Result<TcpListener, RegistryError> {
        let port = addr
            .rsplit_once(':')
            .and_then(|(_, port)| port.parse::<u16>().ok())
            .ok_or_else(|| RegistryError::BadAddress(addr.to_string()))?;
        let socket = SocketAddr::new(self.settings.bind, port);
        TcpListener::bind(socket)
            .await
            .map_err(|reason| RegistryError::CannotListen {
                socket,
                addr: addr.to_string(),
                reason,
            })
    }

    async fn start(
        &self,
        cluster: &str,
        node: &SpawnRequest,
        listener: TcpListener,
    ) -> Result<NodeServer, RegistryError> {
        let data_dir = self.node_dir(cluster, node.id);
        let config = NodeConfig {
            id: node.id,
            name: node.member.name.clone(),
            addr: node.member.addr.clone(),
            capacity: node.member.capacity,
            cluster: cluster.to_string(),
            data_dir,
            timing: self.settings.timing,
            start: node.start.clone(),
            request_timeout: self.settings.request_timeout,
            secret: Some(self.settings.secret.clone()),
            limits: self.settings.limits,
            tls: self.settings.tls.clone(),
        };
        NodeServer::start(config, listener, &self.settings.guard)
            .await
            .map_err(|reason| RegistryError::NodeDidNotStart {
                id: node.id,
                reason,
            })
    }
}

fn unknown_cluster(id: &str, clusters: &BTreeMap<String, ClusterEntry>) -> RegistryError {
    RegistryError::UnknownCluster {
        id: id.to_string(),
        known: clusters.keys().cloned().collect(),
    }
}
