//! [`NodeClient`]: how the entry point talks to nodes — JSON requests to their public API,
//! relayed to whichever node answers, and every node's `/stats` asked at once to find the
//! leader. It holds no state of its own beyond a connection pool.
//!
//! A write ([`NodeRequest::write`]) carries its request id in the `Idempotency-Key` header to
//! every node it is tried on: when a node took the request but its answer was lost, the next
//! node gets the same id, and the cluster answers with the first result instead of applying
//! the write again.

use std::sync::Arc;
use std::time::Duration;

use axum::Json;
use axum::http::Method;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::response::Response;
use serde_json::Value;
use tokio::task::JoinSet;

use flotilla_core::model::RequestId;
use flotilla_core::raft::status;

use crate::api::ApiError;
use crate::api::idempotency::IDEMPOTENCY_KEY;
use crate::api::node::LEADER_HEADER;
use crate::auth::ApiToken;
use crate::auth::CHALLENGE_HEADER;
use crate::auth::ClusterSecret;
use crate::auth::PeerAuth;
use crate::auth::SIGNATURE_HEADER;
use crate::auth::random_hex;
use crate::node::status::NodeStats;
use crate::tls::Tls;

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

/// What a node answered: its status, its JSON body and the leader it named, if any.
struct NodeAnswer {
    status: StatusCode,
    value: Value,
    leader: Option<String>,
}

/// The answer a relay got, as the entry point passes it on, and the leader (`host:port`) the
/// answering node named in it ([`LEADER_HEADER`]), if it knew one.
#[derive(Debug)]
pub struct Relayed {
    /// The node's answer.
    pub response: Response,
    /// The leader it named.
    pub leader: Option<String>,
}

/// One request to a node's public API, as the entry point sends (and re-sends) it.
#[derive(Clone, Debug)]
pub struct NodeRequest<'a> {
    /// The HTTP method.
    pub method: Method,
    /// The node's path, e.g. `/services`.
    pub path: &'a str,
    /// The JSON body, if any.
    pub body: Option<&'a Value>,
    /// For a write, its request id: sent as `Idempotency-Key` on every attempt.
    pub key: Option<&'a RequestId>,
}

impl<'a> NodeRequest<'a> {
    /// A `GET` of `path`.
    pub fn read(path: &'a str) -> Self {
        NodeRequest {
            method: Method::GET,
            path,
            body: None,
            key: None,
        }
    }

    /// A write with request id `key`.
    pub fn write(
        method: Method,
        path: &'a str,
        body: Option<&'a Value>,
        key: &'a RequestId,
    ) -> Self {
        NodeRequest {
            method,
            path,
            body,
            key: Some(key),
        }
    }
}

/// A client of nodes' public API over one connection pool, presenting the token nodes want
/// for writes and believing only stats signed with the cluster secret. Cloning shares the pool.
#[derive(Clone, Debug, Default)]
pub struct NodeClient {
    http: reqwest::Client,
    tls: Tls,
    token: Option<ApiToken>,
    secret: Option<ClusterSecret>,
}

impl NodeClient {
    /// A client with a fresh connection pool that sends `token` with its writes and, given a
    /// `secret`, takes a node's stats only when they are signed with it; over `tls`.
    pub fn new(token: Option<ApiToken>, secret: Option<ClusterSecret>, tls: &Tls) -> Self {
        NodeClient {
            http: tls.client(),
            tls: tls.clone(),
            token,
            secret,
        }
    }

    /// Sends a JSON request to a node's public API; `Err` if the node did not answer at all.
    pub async fn call(
        &self,
        addr: &str,
        call: &NodeRequest<'_>,
        timeout: Duration,
    ) -> Result<(StatusCode, Value), String> {
        self.ask(addr, call, timeout)
            .await
            .map(|answer| (answer.status, answer.value))
    }

    /// [`NodeClient::call`], with the leader the node named in its answer.
    async fn ask(
        &self,
        addr: &str,
        call: &NodeRequest<'_>,
        timeout: Duration,
    ) -> Result<NodeAnswer, String> {
        let mut request = self
            .http
            .request(call.method.clone(), self.tls.url(addr, call.path))
            .timeout(timeout);
        if let Some(body) = call.body {
            request = request.json(body);
        }
        if let Some(token) = &self.token
            && method_changes_state(&call.method)
        {
            request = request.header(reqwest::header::AUTHORIZATION, token.bearer());
        }
        if let Some(key) = call.key {
            request = request.header(IDEMPOTENCY_KEY, key.as_str());
        }
        let response = request.send().await.map_err(|err| err.to_string())?;
        let status =
            StatusCode::from_u16(response.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
        let leader = response
            .headers()
            .get(LEADER_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let value = response
            .json::<Value>()
            .await
            .map_err(|err| format!("{addr} answered with something that is not JSON: {err}"))?;
        Ok(NodeAnswer {
            status,
            value,
            leader,
        })
    }

    /// Sends a request to the nodes at `addrs` (of cluster `cluster`) in turn until one
    /// answers, and returns its answer as is, with the leader that node named. Every attempt is
    /// the same request, request id included, so a write a silent node did apply is not applied
    /// again by the next.
    pub async fn relay(
        &self,
        cluster: &str,
        addrs: Vec<String>,
        call: &NodeRequest<'_>,
        timeout: Duration,
    ) -> Result<Relayed, ApiError> {
        let mut problems = Vec::new();
        for addr in addrs {
            match self.ask(&addr, call, timeout).await {
                Ok(answer) => {
                    return Ok(Relayed {
                        response: (answer.status, Json(answer.value)).into_response(),
                        leader: answer.leader,
                    });
                }
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
            let url = self.tls.url(&addr, &format!("/stats?limit={log_limit}"));
            let auth = auth.clone();
            asks.spawn(async move {
                let answer = read_stats(&http, &auth, &url).await;
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

/// One node's `/stats` (at `url`), checked against `auth`'s secret when it has one.
async fn read_stats(
    http: &reqwest::Client,
    auth: &PeerAuth,
    url: &str,
) -> Result<NodeStats, String> {
    let challenge = random_hex(16);
    let mut response = http
        .get(url)
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

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::sync::Arc;
    use std::sync::Mutex;

    use axum::http::HeaderMap;
    use axum::routing::post;
    use serde_json::json;

    use super::*;

    /// A node that reads a request, notes its `Idempotency-Key` and hangs up without answering:
    /// to the entry point, its answer was lost.
    fn hangs_up(seen: Arc<Mutex<Vec<String>>>) -> String {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        std::thread::spawn(move || {
            if let Ok((mut stream, _)) = listener.accept() {
                let mut head = [0u8; 4096];
                let n = stream.read(&mut head).unwrap_or(0);
                let text = String::from_utf8_lossy(&head[..n]).to_lowercase();
                let key = text
                    .lines()
                    .find_map(|line| line.strip_prefix("idempotency-key: "))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                seen.lock().unwrap().push(key);
            }
        });
        addr
    }

    /// A node that answers with the `Idempotency-Key` it got.
    async fn answers() -> String {
        let app = axum::Router::new().route(
            "/service",
            post(|headers: HeaderMap| async move {
                let key = headers.get(IDEMPOTENCY_KEY).and_then(|v| v.to_str().ok());
                Json(json!({ "key": key }))
            }),
        );
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr").to_string();
        tokio::spawn(async move { axum::serve(listener, app).await });
        addr
    }

    #[tokio::test]
    async fn a_relayed_write_keeps_its_key_on_every_node_it_tries() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let lost = hangs_up(seen.clone());
        let live = answers().await;
        let key = RequestId::parse("retry-me").expect("valid");
        let body = json!({"container": {"label": "web"}});
        let call = NodeRequest::write(Method::POST, "/service", Some(&body), &key);
        let response = NodeClient::new(None, None, &Tls::off())
            .relay("0", vec![lost, live], &call, Duration::from_secs(5))
            .await
            .expect("the second node answers")
            .response;
        let bytes = axum::body::to_bytes(response.into_body(), 1024)
            .await
            .expect("body");
        let answer: Value = serde_json::from_slice(&bytes).expect("JSON");
        assert_eq!(answer, json!({"key": "retry-me"}));
        assert_eq!(*seen.lock().unwrap(), vec!["retry-me".to_string()]);
    }
}
