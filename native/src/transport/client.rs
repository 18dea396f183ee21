//! [`PeerClient`]: sends binary requests to other nodes over pooled HTTP(S) connections, unless
//! the link to them is cut.

use std::sync::Arc;
use std::time::Duration;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::wire;
use crate::auth::NONCE_HEADER;
use crate::auth::PeerAuth;
use crate::auth::SIGNATURE_HEADER;
use crate::links::Links;
use crate::tls::Tls;

/// Largest answer read from a peer: Raft answers are small (a vote, an append's outcome, a
/// proposal's result); anything bigger is not a member speaking.
pub const MAX_ANSWER_BYTES: usize = 16 * 1024 * 1024;

/// Why a call to a peer got no usable answer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CallError {
    /// The link from this node to the peer is cut: nothing was sent.
    #[error("the link to {0} is cut")]
    LinkCut(String),
    /// The peer did not accept a connection, or the connection broke.
    #[error("{addr} cannot be reached: {reason}")]
    Unreachable {
        /// The peer.
        addr: String,
        /// What the HTTP client said.
        reason: String,
    },
    /// No answer in time.
    #[error("{0} did not answer in time")]
    Timeout(String),
    /// The peer processed the request but its answer was lost (its link back is cut).
    #[error("the answer from {0} was lost (the link from it is cut)")]
    AnswerLost(String),
    /// The peer answered with an error or something undecodable.
    #[error("{addr} refused the request: {reason}")]
    Refused {
        /// The peer.
        addr: String,
        /// What it said.
        reason: String,
    },
}

/// A handle for calling peers: one shared connection pool, this node's identity, the cluster's
/// message authentication and its links.
#[derive(Clone, Debug)]
pub struct PeerClient {
    http: reqwest::Client,
    tls: Tls,
    from: u64,
    auth: Arc<PeerAuth>,
    links: Links,
}

impl PeerClient {
    /// A client speaking for node `from`, signing with `auth`, honouring `links`, over `tls`.
    pub fn new(from: u64, auth: Arc<PeerAuth>, links: Links, tls: &Tls) -> Self {
        let http = tls
            .client_builder()
            .pool_idle_timeout(Duration::from_secs(30))
            .tcp_nodelay(true)
            .build()
            .unwrap_or_else(|err| {
                tracing::error!(%err, "cannot build the peers' HTTP client");
                tls.client()
            });
        PeerClient {
            http,
            tls: tls.clone(),
            from,
            auth,
            links,
        }
    }

    /// How this node's cluster signs and checks its messages.
    pub fn auth(&self) -> &PeerAuth {
        &self.auth
    }

    /// This node's links (the table the client consults).
    pub fn links(&self) -> &Links {
        &self.links
    }

    /// POSTs `request` to `path` on the node at `addr` and decodes its answer.
    pub async fn call<Req, Resp>(
        &self,
        addr: &str,
        path: &str,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, CallError>
    where
        Req: Serialize,
        Resp: DeserializeOwned,
    {
        if !self.links.is_up(addr) {
            return Err(CallError::LinkCut(addr.to_string()));
        }
        let refused = |reason: String| CallError::Refused {
            addr: addr.to_string(),
            reason,
        };
        let body = wire::encode(request).map_err(refused)?;
        let mut post = self.http.post(self.tls.url(addr, path));
        let mut nonce = None;
        for (name, value) in self.auth.sign("POST", path, self.from, &body).headers {
            if name == NONCE_HEADER {
                nonce = Some(value.clone());
            }
            post = post.header(name, value);
        }
        let response = post
            .header(reqwest::header::CONTENT_TYPE, wire::CONTENT_TYPE)
            .timeout(timeout)
            .body(body)
            .send()
            .await
            .map_err(|err| self.transport_error(addr, err))?;
        let status = response.status();
        let signature = response
            .headers()
            .get(SIGNATURE_HEADER)
            .and_then(|value| value.to_str().ok())
            .map(str::to_string);
        let bytes = self.read_capped(addr, response).await?;
        // The words may come wrapped in the servers' JSON error body.
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE
            && String::from_utf8_lossy(&bytes).contains(wire::ANSWER_LOST)
        {
            return Err(CallError::AnswerLost(addr.to_string()));
        }
        if !status.is_success() {
            // What another server says is logged here, never passed on: an error travels up to
            // a client, and a server that is not (yet) a member must not get words to it.
            let said = String::from_utf8_lossy(&bytes);
            let said: String = said.chars().take(500).collect();
            tracing::warn!(addr, path, %status, said, "a peer refused a request");
            return Err(refused(format!("it answered {status}")));
        }
        // With a secret, only an answer signed for this request's nonce is a member's.
        if let Some(nonce) = nonce
            && !signature.is_some_and(|sig| self.auth.verify_reply(&nonce, &bytes, &sig))
        {
            return Err(refused(
                "its answer is not signed with the cluster's secret".to_string(),
            ));
        }
        wire::decode(&bytes).map_err(refused)
    }

    /// The body of `response`, refused once it passes [`MAX_ANSWER_BYTES`].
    async fn read_capped(
        &self,
        addr: &str,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, CallError> {
        let mut bytes = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|err| self.transport_error(addr, err))?
        {
            if bytes.len() + chunk.len() > MAX_ANSWER_BYTES {
                return Err(CallError::Refused {
                    addr: addr.to_string(),
                    reason: format!("its answer is over {MAX_ANSWER_BYTES} bytes"),
                });
            }
            bytes.extend_from_slice(&chunk);
        }
        Ok(bytes)
    }

    fn transport_error(&self, addr: &str, err: reqwest::Error) -> CallError {
        if err.is_timeout() {
            CallError::Timeout(addr.to_string())
        } else {
            CallError::Unreachable {
                addr: addr.to_string(),
                reason: error_chain(&err),
            }
        }
    }
}

/// An error and its causes on one line ("error sending request: connection refused").
fn error_chain(err: &dyn std::error::Error) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
