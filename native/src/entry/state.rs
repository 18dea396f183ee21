//! [`Entry`]: the entry point's state — the registry of clusters, the client it reaches nodes
//! with, the page's directory and what ends its event streams — and the reads and relays every
//! handler builds on.

use std::path::PathBuf;
use std::time::Duration;

use axum::response::Response;
use tokio_util::sync::CancellationToken;

use super::forward::AddressedStats;
use super::forward::NodeClient;
use super::forward::NodeRequest;
use super::forward::leader_of;
use crate::api::ApiError;
use crate::api::guard::ApiGuard;
use crate::api::streams::StreamLimit;
use crate::node::propose::ProposeError;
use crate::registry::Registry;

/// How much longer than a node's own request timeout a relayed request may take: the node
/// answers 503 by itself when its timeout passes, and that answer should arrive.
const RELAY_GRACE: Duration = Duration::from_secs(5);

/// How often the entry point asks the nodes again while none of them leads.
const LEADER_POLL: Duration = Duration::from_millis(100);

/// The entry point's state, shared by its handlers.
pub struct Entry {
    /// The clusters.
    pub registry: Registry,
    /// Where the browser page's static files are (served at `/`).
    pub web_dir: PathBuf,
    /// Host name nodes are advertised under (`localhost` in the demo).
    pub advertise_host: String,
    /// The client nodes are reached with.
    pub nodes: NodeClient,
    /// Who may use the entry point (and the nodes it spawns): token, hosts, CORS.
    pub guard: ApiGuard,
    /// Cancelled when the demo stops, ending the event streams it serves.
    closing: CancellationToken,
    /// The cluster event streams open now, and how many may be.
    pub event_streams: StreamLimit,
}

impl Entry {
    /// An entry point over `registry`, serving the page from `web_dir`, under the rules the
    /// registry gives its nodes.
    pub fn new(registry: Registry, web_dir: PathBuf, advertise_host: String) -> Self {
        let guard = registry.settings.guard.clone();
        // Each cluster stream holds a stream on every node: half the nodes' ceiling leaves
        // room for the page and other readers of the nodes themselves.
        let event_streams = StreamLimit::new((guard.limits().max_event_streams / 2).max(1));
        let nodes = NodeClient::new(
            guard.token().cloned(),
            Some(registry.settings.secret.clone()),
            &registry.settings.tls,
        );
        Entry {
            registry,
            web_dir,
            advertise_host,
            nodes,
            guard,
            closing: CancellationToken::new(),
            event_streams,
        }
    }

    /// Ends the long-lived responses (event streams), so a graceful shutdown can finish.
    pub fn close(&self) {
        self.closing.cancel();
    }

    /// A token cancelled once [`Entry::close`] is called.
    pub fn closing(&self) -> CancellationToken {
        self.closing.clone()
    }

    /// Every node of `cluster`'s `/stats` (or why it did not answer), in address order.
    pub async fn all_stats(
        &self,
        cluster: &str,
        log_limit: u64,
    ) -> Result<Vec<AddressedStats>, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        Ok(self.nodes.all_stats(cluster, addrs, log_limit).await)
    }

    /// Sends a request to `cluster`'s nodes in turn (the preferred one first) until one
    /// answers, and returns its answer as is.
    pub async fn relay(
        &self,
        cluster: &str,
        preferred: Option<String>,
        call: &NodeRequest<'_>,
    ) -> Result<Response, ApiError> {
        let mut addrs = self.registry.addrs(cluster).await?;
        if let Some(preferred) = preferred {
            addrs.retain(|addr| *addr != preferred);
            addrs.insert(0, preferred);
        }
        let timeout = self.registry.settings.request_timeout + RELAY_GRACE;
        self.nodes.relay(cluster, addrs, call, timeout).await
    }

    /// Relays to `cluster`'s leader. While the nodes that answer know of none (an election is
    /// under way), waits for one up to the request timeout, then answers 503 as a node would: a
    /// node picked instead could wait its whole timeout for a leader it never hears from (one
    /// elected over a link that is cut towards it). If no node answers, relays to whichever
    /// does first.
    pub async fn relay_to_leader(
        &self,
        cluster: &str,
        call: &NodeRequest<'_>,
    ) -> Result<Response, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        let waited = self.registry.settings.request_timeout;
        let deadline = tokio::time::Instant::now() + waited;
        let hint = loop {
            let stats = self.nodes.all_stats(cluster, addrs.clone(), 1).await;
            if let Some(leader) = leader_of(&stats) {
                break Some(leader.addr);
            }
            if stats.iter().all(|(_, answer)| answer.is_err()) {
                break None;
            }
            if tokio::time::Instant::now() + LEADER_POLL > deadline {
                return Err(ProposeError::NoLeader { waited }.into());
            }
            tokio::time::sleep(LEADER_POLL).await;
        };
        self.relay(cluster, hint, call).await
    }
}
