//! [`NodeServer`]: a node with its HTTP server — the one place a node's server is built (its
//! public API and the incoming Raft endpoints on one listener) and started next to the node.
//!
//! The caller binds the listener first, so "port in use" is reported before anything starts.
//! The demo runs several of these in one process; `flotilla node` runs one.

use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::api;
use crate::api::guard::ApiGuard;
use crate::node::Node;
use crate::node::NodeConfig;
use crate::node::NodeCtx;
use crate::node::NodeError;
use crate::tls;

/// A node's whole HTTP application: its public API (writes behind `guard`'s token) and its Raft
/// endpoints (signed with the cluster secret instead), with the middleware every server gets.
pub fn app(ctx: Arc<NodeCtx>, guard: &ApiGuard) -> Router {
    let limits = guard.limits();
    let public = guard.guard_writes(api::node::router(ctx.clone(), limits));
    let http = ctx.telemetry.http.clone();
    guard.around(api::layers::with_common_layers(
        public.merge(api::raft::router(ctx, limits)),
        limits,
        &http,
    ))
}

/// A running node and its server. Dropping it does not stop them: call
/// [`NodeServer::shutdown`].
pub struct NodeServer {
    node: Node,
    server: JoinHandle<()>,
}

impl NodeServer {
    /// Starts the node (storage, Raft) and serves its HTTP API on `listener` (HTTPS when the
    /// config's TLS is on), under `guard`'s rules, until it is asked to stop.
    pub async fn start(
        config: NodeConfig,
        listener: TcpListener,
        guard: &ApiGuard,
    ) -> Result<Self, NodeError> {
        let tls = config.tls.clone();
        let node = Node::start(config).await?;
        let ctx = node.ctx().clone();
        let until_stop = ctx.stopping().cancelled_owned();
        let app = app(ctx.clone(), guard);
        let server = tokio::spawn(async move {
            if let Err(err) = tls::serve(listener, &tls, app, until_stop).await {
                tracing::error!(%err, "node server failed");
            }
        });
        tracing::info!(id = ctx.id, addr = %ctx.addr, "node started");
        Ok(NodeServer { node, server })
    }

    /// The node's shared context.
    pub fn ctx(&self) -> &Arc<NodeCtx> {
        self.node.ctx()
    }

    /// Whether the node started with empty storage (rather than restarting as the member it was).
    pub fn started_fresh(&self) -> bool {
        self.node.started_fresh()
    }

    /// Resolves once the node has been asked to stop (by a signal, or by its cluster removing it).
    pub async fn stop_requested(&self) {
        self.node.stop_requested().await;
    }

    /// Stops serving (open requests finish first), then stops the node.
    pub async fn shutdown(self) {
        self.ctx().request_stop();
        let _ = self.server.await;
        self.node.shutdown().await;
    }
}
