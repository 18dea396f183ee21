//! One Flotilla node: a Raft member with its storage, its links and its leader's failure
//! detector. Serving it over HTTP is the `server` module's job; this one knows nothing of HTTP
//! servers.
//!
//! [`Node::start`] opens the node's storage and starts openraft on tokio; [`propose`] gets a
//! change committed by the leader; [`status`] and [`events`] say what the node knows;
//! `compaction` asks for a snapshot when one is due.

mod compaction;
mod config;
mod ctx;
pub mod events;
pub mod propose;
pub mod status;
pub mod telemetry;
pub mod timing;

pub use config::DEFAULT_CAPACITY;
pub use config::NodeConfig;
pub use config::NodeError;
pub use config::StartMode;
pub use ctx::LogStore;
pub use ctx::NodeCtx;
pub use ctx::StateMachine;
pub use timing::RaftTiming;

/// A snapshot is built (and the log compacted) every this many applied entries at least, and
/// every as many as the state has services and nodes once that is more ([`compaction`]).
const SNAPSHOT_EVERY: u64 = 1000;
/// Entries a snapshot covers that stay in the log, so a follower slightly behind catches up
/// from the log rather than from a whole snapshot.
const LOGS_KEPT_AFTER_SNAPSHOT: u64 = 100;

use std::sync::Arc;

use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::auth::PeerAuth;
use crate::links::Links;
use crate::metrics::NodeTelemetry;
use crate::transport::PeerClient;
use crate::transport::network::HttpNetwork;
use crate::types::NativeRaft;
use crate::types::NativeTypes;
use flotilla_core::raft::timing::RaftOptions;

/// A running node. Dropping it does not stop it: call [`Node::shutdown`].
pub struct Node {
    ctx: Arc<NodeCtx>,
    /// The leader's failure detector (idle while this node follows).
    liveness: JoinHandle<()>,
    /// What asks for snapshots when they are due.
    compaction: JoinHandle<()>,
    fresh: bool,
}

impl Node {
    /// Opens storage and starts Raft (and, as a founder with empty storage, the cluster).
    pub async fn start(config: NodeConfig) -> Result<Node, NodeError> {
        let mut raft_config = config
            .timing
            .raft_config(RaftOptions {
                cluster_name: config.cluster.clone(),
                openraft_elections: true,
                pre_vote: true,
                snapshot_every: SNAPSHOT_EVERY,
                logs_kept_after_snapshot: LOGS_KEPT_AFTER_SNAPSHOT,
            })
            .map_err(|err| NodeError::Timing(err.to_string()))?;
        // The log store's `append` returns once the entries are queued for the disk: send them
        // to the followers then, so their fsyncs run alongside this node's own.
        raft_config.broadcast_submitted_on_append = Some(true);
        // Snapshots are asked for when due (`compaction`), not every fixed number of entries.
        raft_config.snapshot_policy = openraft::SnapshotPolicy::Never;

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
        let auth = Arc::new(PeerAuth::new(&config.cluster, config.secret.clone()));
        let peers = PeerClient::new(config.id, auth, links.clone(), &config.tls);
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

        let telemetry = NodeTelemetry::new();
        let ctx = Arc::new(NodeCtx {
            id: config.id,
            name: config.name,
            addr: config.addr,
            capacity: config.capacity,
            cluster: config.cluster,
            raft,
            log,
            state_machine,
            links,
            peers,
            request_timeout: config.request_timeout,
            limits: config.limits,
            leader_queue: tokio::sync::Mutex::new(()),
            membership_changes: tokio::sync::Mutex::new(()),
            telemetry: telemetry.clone(),
            stop: CancellationToken::new(),
        });
        let fsyncs = telemetry.node.clone();
        ctx.log
            .on_durable_write(std::sync::Arc::new(move |took: std::time::Duration| {
                fsyncs.observe_fsync(took.as_secs_f64())
            }));
        tokio::spawn(telemetry::watch_raft(ctx.raft.clone(), telemetry.node));
        let liveness = tokio::spawn(flotilla_core::raft::watch_liveness(
            ctx.raft.clone(),
            ctx.state_machine.core().clone(),
            config.timing.liveness(),
        ));
        let compaction = tokio::spawn(compaction::compact_when_due(ctx.clone(), SNAPSHOT_EVERY));
        Ok(Node {
            ctx,
            liveness,
            compaction,
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
        self.ctx.stop.cancelled().await;
    }

    /// Stops Raft. Whoever serves the node stops serving first.
    pub async fn shutdown(self) {
        self.ctx.request_stop();
        self.liveness.abort();
        self.compaction.abort();
        if let Err(err) = self.ctx.raft.shutdown().await {
            tracing::warn!(%err, id = self.ctx.id, "raft did not stop cleanly");
        }
        tracing::info!(id = self.ctx.id, "node stopped");
    }
}
