//! One Flotilla node: a Raft member with its storage, its links and one HTTP server that
//! answers both the public node API and the internal Raft endpoints.
//!
//! [`Node::start`] opens the node's storage, starts openraft on tokio and serves on a listener
//! the caller already bound (so "port in use" is reported before anything starts). The demo
//! runs several nodes in one process; `flotilla node` runs one.

pub mod events;
pub mod propose;
pub mod status;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flotilla_core::raft::Member;
use openraft::SnapshotPolicy;
use openraft_rt::WatchReceiver;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::links::Links;
use crate::transport::PeerClient;
use crate::transport::network::HttpNetwork;
use crate::types::NativeRaft;
use crate::types::NativeTypes;

/// The log store a native node uses: on disk.
pub type LogStore = crate::store::DiskLogStore<NativeTypes>;
/// The state machine a native node uses: in memory, its latest snapshot on disk.
pub type StateMachine = crate::store::DurableStateMachine<NativeTypes>;

/// Raft timing. Defaults are fast, for a cluster on one machine or a LAN: a lost leader is
/// replaced in well under a second.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RaftTiming {
    /// How often the leader sends heartbeats.
    pub heartbeat: Duration,
    /// Shortest election timeout.
    pub election_min: Duration,
    /// Longest election timeout (each timeout is drawn between the two).
    pub election_max: Duration,
    /// As leader, mark a node not heard from for this long down (its replicas move), and up
    /// again once it answers.
    pub node_down_after: Duration,
}

impl Default for RaftTiming {
    fn default() -> Self {
        RaftTiming {
            heartbeat: Duration::from_millis(50),
            election_min: Duration::from_millis(300),
            election_max: Duration::from_millis(600),
            node_down_after: Duration::from_secs(5),
        }
    }
}

/// How a node with empty storage enters its cluster. A node whose storage already holds a log
/// ignores this: it restarts as the member it was.
#[derive(Clone, Debug)]
pub enum StartMode {
    /// Form a new cluster with exactly these members (every founding member is given the same
    /// list, so whichever times out first is elected).
    Found(BTreeMap<u64, Member>),
    /// Wait to be added by the cluster's leader.
    Join,
}

/// Everything needed to start a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Raft id, unique in the cluster.
    pub id: u64,
    /// Human name (the seed API's alphanumeric node id).
    pub name: String,
    /// The `host:port` peers and clients reach this node at.
    pub addr: String,
    /// How many replicas this node can run.
    pub capacity: u32,
    /// The cluster's name; nodes refuse Raft messages from other clusters.
    pub cluster: String,
    /// Where the node keeps its log, vote and snapshots.
    pub data_dir: PathBuf,
    /// Raft timing.
    pub timing: RaftTiming,
    /// How to enter the cluster when storage is empty.
    pub start: StartMode,
    /// How long a client request may wait for a leader and a commit before it fails with 503.
    pub request_timeout: Duration,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The Raft settings are inconsistent (e.g. heartbeat not shorter than the election timeout).
    #[error("invalid Raft timing: {0}")]
    Timing(String),
    /// Storage could not be opened.
    #[error("cannot open storage in {dir}: {reason}")]
    Storage {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
    /// openraft refused to start or to initialise the cluster.
    #[error("raft: {0}")]
    Raft(String),
    /// The listener could not be used.
    #[error("cannot serve on {addr}: {reason}")]
    Serve {
        /// The address.
        addr: String,
        /// What failed.
        reason: String,
    },
}

/// What every handler of a node sees: the node's identity, its Raft, its stores and links.
pub struct NodeCtx {
    /// Raft id.
    pub id: u64,
    /// Human name.
    pub name: String,
    /// Advertised `host:port`.
    pub addr: String,
    /// Replica capacity.
    pub capacity: u32,
    /// Cluster name.
    pub cluster: String,
    /// The Raft handle.
    pub raft: NativeRaft,
    /// The log (read by `/stats`).
    pub log: LogStore,
    /// The orchestrator state.
    pub state_machine: StateMachine,
    /// Which outgoing links are cut.
    pub links: Links,
    /// Client for calling peers (honours `links`).
    pub peers: PeerClient,
    /// How long a client request may wait.
    pub request_timeout: Duration,
    /// Requests waiting for a leader queue here, so they go out in arrival order.
    pub leader_queue: tokio::sync::Mutex<()>,
    /// Joins and leaves this node carries out as leader go one at a time, each deciding on the
    /// membership the previous one left.
    pub membership_changes: tokio::sync::Mutex<()>,
    stop: watch::Sender<bool>,
}

impl NodeCtx {
    /// Asks the node to shut down (its server stops accepting, then Raft stops).
    pub fn request_stop(&self) {
        self.stop.send_replace(true);
    }

    /// A receiver that turns `true` when the node is asked to stop.
    pub fn stopping(&self) -> watch::Receiver<bool> {
        self.stop.subscribe()
    }

    /// The members (voters and learners) of the membership this node currently knows, by id.
    pub fn members(&self) -> BTreeMap<u64, Member> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow_watched();
        metrics
            .membership_config
            .membership()
            .nodes()
            .map(|(id, member)| (*id, member.clone()))
            .collect()
    }

    /// The address of member `id`, as the current membership records it.
    pub fn member_addr(&self, id: u64) -> Option<String> {
        self.members().remove(&id).map(|member| member.addr)
    }
}

/// A running node. Dropping it does not stop it: call [`Node::shutdown`].
pub struct Node {
    ctx: Arc<NodeCtx>,
    server: JoinHandle<()>,
    /// The leader's failure detector (idle while this node follows).
    liveness: JoinHandle<()>,
    stopped: watch::Receiver<bool>,
    fresh: bool,
}

impl Node {
    /// Opens storage, starts Raft and serves the node's HTTP API on `listener`.
    pub async fn start(config: NodeConfig, listener: TcpListener) -> Result<Node, NodeError> {
        let raft_config = openraft::Config {
            cluster_name: config.cluster.clone(),
            heartbeat_interval: millis(config.timing.heartbeat),
            election_timeout_min: millis(config.timing.election_min),
            election_timeout_max: millis(config.timing.election_max),
            snapshot_policy: SnapshotPolicy::LogsSinceLast(1000),
            max_in_snapshot_log_to_keep: 100,
            ..openraft::Config::default()
        }
        .validate()
        .map_err(|err| NodeError::Timing(err.to_string()))?;
        if config.timing.node_down_after <= config.timing.heartbeat {
            return Err(NodeError::Timing(format!(
                "the node-down threshold ({} ms) must be above the heartbeat interval ({} ms)",
                millis(config.timing.node_down_after),
                millis(config.timing.heartbeat)
            )));
        }

        let (log, state_machine) =
            crate::store::open::<NativeTypes>(&config.data_dir).map_err(|err| {
                NodeError::Storage {
                    dir: config.data_dir.clone(),
                    reason: err.to_string(),
                }
            })?;
        // Empty storage: no vote, no log. A node that ever took part has at least one of them.
        let fresh = log.vote().is_none() && log.last_index() == 0;

        let links = Links::default();
        let peers = PeerClient::new(config.id, &config.cluster, links.clone());
        let network = HttpNetwork::new(config.id, peers.clone());
        let raft = NativeRaft::new(
            config.id,
            Arc::new(raft_config),
            network,
            log.clone(),
            state_machine.clone(),
        )
        .await
        .map_err(|err| NodeError::Raft(err.to_string()))?;

        if fresh && let StartMode::Found(members) = &config.start {
            raft.initialize(members.clone())
                .await
                .map_err(|err| NodeError::Raft(err.to_string()))?;
        }

        let (stop, stopped) = watch::channel(false);
        let ctx = Arc::new(NodeCtx {
            id: config.id,
            name: config.name,
            addr: config.addr.clone(),
            capacity: config.capacity,
            cluster: config.cluster,
            raft,
            log,
            state_machine,
            links,
            peers,
            request_timeout: config.request_timeout,
            leader_queue: tokio::sync::Mutex::new(()),
            membership_changes: tokio::sync::Mutex::new(()),
            stop,
        });
        let liveness = tokio::spawn(flotilla_core::raft::watch_liveness(
            ctx.raft.clone(),
            ctx.state_machine.core().clone(),
            flotilla_core::raft::LivenessPolicy {
                down_after: config.timing.node_down_after,
            },
        ));
        let app = crate::api::node_app(ctx.clone());
        let mut until_stop = stopped.clone();
        let server = tokio::spawn(async move {
            let shutdown = async move {
                let _ = until_stop.wait_for(|stop| *stop).await;
            };
            if let Err(err) = axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
            {
                tracing::error!(%err, "node server failed");
            }
        });
        tracing::info!(id = ctx.id, addr = %ctx.addr, "node started");
        Ok(Node {
            ctx,
            server,
            liveness,
            stopped,
            fresh,
        })
    }

    /// The node's shared context.
    pub fn ctx(&self) -> &Arc<NodeCtx> {
        &self.ctx
    }

    /// Whether the node started with empty storage (rather than restarting as the member it was).
    pub fn started_fresh(&self) -> bool {
        self.fresh
    }

    /// Resolves once the node has been asked to stop (by a signal, or by its cluster removing it).
    pub async fn stop_requested(&self) {
        let mut stopped = self.stopped.clone();
        let _ = stopped.wait_for(|stop| *stop).await;
    }

    /// Stops serving, then stops Raft.
    pub async fn shutdown(self) {
        self.ctx.request_stop();
        let _ = self.server.await;
        self.liveness.abort();
        if let Err(err) = self.ctx.raft.shutdown().await {
            tracing::warn!(%err, id = self.ctx.id, "raft did not stop cleanly");
        }
        tracing::info!(id = self.ctx.id, "node stopped");
    }
}

fn millis(duration: Duration) -> u64 {
    u64::try_from(duration.as_millis()).unwrap_or(u64::MAX)
}
