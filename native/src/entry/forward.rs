//! [`NodeClient`]: how the entry point talks to nodes — JSON requests to their public API,
//! relayed to whichever node answers, and every node's `/stats` asked at once to find the
//! leader. It holds no state of its own beyond a connection pool.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use tokio::task::JoinSet;

use flotilla_core::raft::status;

use crate::api::ApiError;
use crate::auth::ApiToken;
use crate::auth::CHALLENGE_HEADER;
use crate::auth::ClusterSecret;
use crate::auth::PeerAuth;
use crate::auth::SIGNATURE_HEADER;
use crate::auth::random_hex;
use crate::node::status::NodeStats;

/// How long the entry point waits for a node to answer a read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(3);

/// One node's `/stats` by its address, or why it did not answer (a body that is not a node's
/// stats counts as not answering).
pub type AddressedStats = (String, Result<NodeStats, String>);

/// The node that claims leadership in the highest term.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClaimedLeader {
    /// Its address.
    pub addr: String,
    /// The term it claims to lead.
    pub term: u64,
    /// Its Raft id.
    pub id: u64,
}

/// A client of nodes' public API over one connection pool, presenting the token nodes want
/// for writes and believing only stats signed with the cluster secret. Cloning shares the pool.
#[derive(Clone, Debug, Default)]
pub struct NodeClient {
    http: reqwest::Client,
    token: Option<ApiToken>,
    secret: Option<ClusterSecret>,
}

impl NodeClient {
    /// A client with a fresh connection pool that sends `token` with its writes and, given a
    /// `secret`, takes a node's stats only when they are signed with it.
    pub fn new(token: Option<ApiToken>, secret: Option<ClusterSecret>) -> Self {
        NodeClient {
            http: reqwest::Client::default(),
            token,
            secret,
        }
    }

    /// Sends a JSON request to a node's public API; `Err` if the node did not answer at all.
    pub async fn call(
        &self,
        addr: &str,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<(StatusCode, Value), String> {
        let mut request = self
            .http
            .request(method.clone(), format!("http://{addr}{path}"))
            .timeout(timeout);
        if let Some(body) = body {
            request = request.json(body);
        }
        if let Some(token) = &self.token
            && method_changes_state(&method)
        {
            request = request.header(reqwest::header::AUTHORIZATION, token.bearer());
        }
        let response = request.send().await.map_err(|err| err.to_string())?;
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let value = response
            .json::<Value>()
            .await
            .map_err(|err| format!("{addr} answered with something that is not JSON: {err}"))?;
        Ok((status, value))
    }

    /// Sends a request to the nodes at `addrs` (of cluster `cluster`) in turn until one
    /// answers, and returns its answer as is.
    pub async fn relay(
        &self,
        cluster: &str,
        addrs: Vec<String>,
        method: Method,
        path: &str,
        body: Option<&Value>,
        timeout: Duration,
    ) -> Result<Response, ApiError> {
        let mut problems = Vec::new();
        for addr in addrs {
            match self.call(&addr, method.clone(), path, body, timeout).await {
                Ok((status, value)) => return Ok((status, Json(value)).into_response()),
                Err(problem) => problems.push(format!("{addr}: {problem}")),
            }
        }
        Err(ApiError::unavailable(format!(
            "no node of cluster {cluster:?} answered: {}",
            problems.join("; ")
        )))
    }

    /// The `/stats` of every node of `cluster` at `addrs` (or why it did not answer), in address
    /// order. With a secret, an answer not signed with it (for a fresh challenge) counts as no
    /// answer: who leads, and where members are, is learnt only from the cluster's own nodes.
    pub async fn all_stats(
        &self,
        cluster: &str,
        addrs: Vec<String>,
        log_limit: u64,
    ) -> Vec<AddressedStats> {
        let auth = Arc::new(PeerAuth::new(cluster, self.secret.clone()));
        let mut asks = JoinSet::new();
        for addr in addrs {
            let http = self.http.clone();
            let auth = auth.clone();
            asks.spawn(async move {
                let answer = read_stats(&http, &auth, &addr, log_limit).await;
                (addr, answer)
            });
        }
        let mut stats: Vec<AddressedStats> = asks.join_all().await;
        stats.sort_by(|a, b| a.0.cmp(&b.0));
        stats
    }
}

/// Largest `/stats` answer read from a node (its log page is bounded by the limit asked).
const MAX_STATS_BYTES: usize = 8 * 1024 * 1024;

/// One node's `/stats`, checked against `auth`'s secret when it has one.
async fn read_stats(
    http: &reqwest::Client,
    auth: &PeerAuth,
    addr: &str,
    log_limit: u64,
) -> Result<NodeStats, String> {
    let challenge = random_hex(16);
    let mut response = http
        .get(format!("http://{addr}/stats?limit={log_limit}"))
        .header(CHALLENGE_HEADER, &challenge)
        .timeout(READ_TIMEOUT)
        .send()
        .await
        .map_err(|err| format!("unreachable: {err}"))?;
    let signature = response
        .headers()
        .get(SIGNATURE_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string);
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| format!("bad answer: {err}"))?
    {
        if body.len() + chunk.len() > MAX_STATS_BYTES {
            return Err(format!("bad answer: more than {MAX_STATS_BYTES} bytes"));
        }
        body.extend_from_slice(&chunk);
    }
    if auth.is_signed()
        && !signature.is_some_and(|signature| auth.verify_reply(&challenge, &body, &signature))
    {
        return Err("its answer is not signed with the cluster's secret".to_string());
    }
    serde_json::from_slice(&body).map_err(|err| format!("bad answer: {err}"))
}

/// Whether a request with `method` changes something (and so needs the token).
fn method_changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// The node that claims leadership in the highest term, among those that answered (core's
/// [`status::leader_of`], the rule the simulation and the page use too).
pub fn leader_of(stats: &[AddressedStats]) -> Option<ClaimedLeader> {
    let answered: Vec<(&String, &NodeStats)> = stats
        .iter()
        .filter_map(|(addr, stats)| stats.as_ref().ok().map(|stats| (addr, stats)))
        .collect();
    let id = status::leader_of(answered.iter().map(|(_, stats)| &stats.report))?;
    answered
        .into_iter()
        .find(|(_, stats)| stats.report.id == id)
        .map(|(addr, stats)| ClaimedLeader {
            addr: addr.clone(),
            term: stats.report.term,
            id,
        })
}
