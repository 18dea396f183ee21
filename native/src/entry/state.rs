//! [`Entry`]: the entry point's state — the registry of clusters, the client it reaches nodes
//! with, the page's directory and what ends its event streams — and the reads and relays every
//! handler builds on.

use std::path::PathBuf;
use std::time::Duration;

use axum::http::StatusCode;
use axum::response::Response;
use tokio_util::sync::CancellationToken;

use super::forward::AddressedStats;
use super::forward::NodeClient;
use super::forward::NodeRequest;
use super::forward::Relayed;
use super::forward::leader_of;
use super::leaders::LeaderCache;
use crate::addr::same_addr;
use crate::api::ApiError;
use crate::api::guard::ApiGuard;
use crate::api::streams::StreamLimit;
use crate::metrics::ServerTelemetry;
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
    /// What the entry point counts and measures, for its `/metrics`.
    pub telemetry: ServerTelemetry,
    /// Each cluster's leader as last heard of, where writes go first.
    pub leaders: LeaderCache,
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
            telemetry: ServerTelemetry::new(),
            leaders: LeaderCache::default(),
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

    /// Where writes should go first: the leader of the highest term the nodes name. While the
    /// nodes that answer know of none (an election is under way), asks again every
    /// [`LEADER_POLL`] up to the request timeout, then fails with the 503 a node would answer:
    /// a node picked instead could wait its whole timeout for a leader it never hears from (one
    /// elected over a link cut towards it). `None` if no node answers at all.
    pub async fn leader_hint(&self, cluster: &str) -> Result<Option<String>, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        let waited = self.registry.settings.request_timeout;
        let deadline = tokio::time::Instant::now() + waited;
        loop {
            let stats = self.nodes.all_stats(cluster, addrs.clone(), 1).await;
            if let Some(leader) = leader_of(&stats) {
                return Ok(Some(leader.addr));
            }
            if stats.iter().all(|(_, answer)| answer.is_err()) {
                return Ok(None);
            }
            if tokio::time::Instant::now() + LEADER_POLL > deadline {
                return Err(ProposeError::NoLeader { waited }.into());
            }
            tokio::time::sleep(LEADER_POLL).await;
        }
    }

    /// Sends a request to `cluster`'s nodes in turn (the preferred one first) until one
    /// answers, and returns its answer as is.
    pub async fn relay(
        &self,
        cluster: &str,
        preferred: Option<String>,
        call: &NodeRequest<'_>,
    ) -> Result<Response, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        self.relay_among(cluster, addrs, preferred, call)
            .await
            .map(|relayed| relayed.response)
    }

    async fn relay_among(
        &self,
        cluster: &str,
        mut addrs: Vec<String>,
        preferred: Option<String>,
        call: &NodeRequest<'_>,
    ) -> Result<Relayed, ApiError> {
        if let Some(preferred) = preferred {
            addrs.retain(|addr| *addr != preferred);
            addrs.insert(0, preferred);
        }
        let timeout = self.registry.settings.request_timeout + RELAY_GRACE;
        self.nodes.relay(cluster, addrs, call, timeout).await
    }

    /// Relays to `cluster`'s leader if one is known, else to whichever node answers.
    ///
    /// The leader comes from the cache ([`LeaderCache`]) when it holds one, else from every
    /// node's stats. Each answer's named leader, if it is one of the cluster's nodes, becomes
    /// the next hint; a relay that names none, fails or is answered with a 5xx empties it. A
    /// cached leader that answers 503 (cut off from its majority, say, while the others elected
    /// another) is not trusted further: the request goes once more, the same request with the
    /// same request id, to the leader every node's stats name, if that is another node. A write
    /// the first one did commit is then answered, not applied again.
    pub async fn relay_to_leader(
        &self,
        cluster: &str,
        call: &NodeRequest<'_>,
    ) -> Result<Response, ApiError> {
        let addrs = self.registry.addrs(cluster).await?;
        let cached = self
            .leaders
            .get(cluster)
            .filter(|cached| addrs.contains(cached));
        let from_cache = cached.is_some();
        let hint = match cached {
            Some(cached) => Some(cached),
            None => self.leader_hint(cluster).await?,
        };
        let mut relayed = self
            .relay_among(cluster, addrs.clone(), hint.clone(), call)
            .await;
        let unavailable = relayed
            .as_ref()
            .is_ok_and(|relayed| relayed.response.status() == StatusCode::SERVICE_UNAVAILABLE);
        if from_cache && unavailable {
            self.leaders.forget(cluster);
            let fresh = self.leader_hint(cluster).await.ok().flatten();
            if fresh.is_some() && fresh != hint {
                relayed = self.relay_among(cluster, addrs.clone(), fresh, call).await;
            }
        }
        self.learn_leader(cluster, &addrs, relayed.as_ref().ok());
        relayed.map(|relayed| relayed.response)
    }

    /// Keeps the leader `relayed` named as `cluster`'s, if it is one of `addrs` and the answer
    /// is not a server error; forgets the cluster's leader otherwise.
    fn learn_leader(&self, cluster: &str, addrs: &[String], relayed: Option<&Relayed>) {
        let named = relayed
            // A node that could not serve (no quorum, no leader in time) may name a leader that
            // cannot commit: the next request asks every node.
            .filter(|relayed| !relayed.response.status().is_server_error())
            .and_then(|relayed| relayed.leader.as_ref())
            .and_then(|named| addrs.iter().find(|addr| same_addr(addr, named)));
        match named {
            Some(leader) => self.leaders.set(cluster, leader),
            None => self.leaders.forget(cluster),
        }
    }
}
