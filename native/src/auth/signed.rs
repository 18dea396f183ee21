//! [`PeerAuth`]: signing and checking the headers that make a Raft message authentic — who sent
//! it, for which cluster, when, and a MAC over all of that and the body, with each message
//! accepted once.

use std::collections::HashSet;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::Duration;
use std::time::SystemTime;
use std::time::UNIX_EPOCH;

use super::random::random_hex;
use super::secret::ClusterSecret;

/// Header naming the cluster the sender belongs to.
pub const CLUSTER_HEADER: &str = "x-flotilla-cluster";
/// Header carrying the sender's node id.
pub const FROM_HEADER: &str = "x-flotilla-from";
/// Header carrying when the message was signed (milliseconds since the Unix epoch).
pub const TIME_HEADER: &str = "x-flotilla-time";
/// Header carrying a random value that makes every message unique.
pub const NONCE_HEADER: &str = "x-flotilla-nonce";
/// Header carrying the HMAC-SHA256 (hex) of the message.
pub const SIGNATURE_HEADER: &str = "x-flotilla-signature";

/// Header in which a reader sends a random challenge, asking a node to sign its answer.
pub const CHALLENGE_HEADER: &str = "x-flotilla-challenge";

/// How far a message's time may be from the receiver's clock by default: clock skew between
/// hosts plus the message's time in flight.
pub const DEFAULT_WINDOW: Duration = Duration::from_secs(30);

/// Most messages remembered to refuse replays; beyond it, the oldest are forgotten early and a
/// message must also be newer than the oldest one remembered.
const MAX_REMEMBERED: usize = 1 << 20;

/// The headers of one signed message, in the order they are sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders {
    /// `(name, value)` pairs.
    pub headers: Vec<(&'static str, String)>,
}

/// Why a message was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PeerAuthError {
    /// The message names another cluster.
    #[error("this node belongs to cluster {ours:?}, the message to cluster {theirs:?}")]
    WrongCluster {
        /// This node's cluster.
        ours: String,
        /// The message's.
        theirs: String,
    },
    /// A header is missing or malformed.
    #[error("missing or malformed header {0}")]
    Header(&'static str),
    /// The signature does not match: the sender does not hold this cluster's secret, or the
    /// message was altered.
    #[error("the message is not signed with this cluster's secret")]
    BadSignature,
    /// The message was signed too long ago (or in the future).
    #[error(
        "the message was signed {skew_ms} ms away from this node's clock (at most {window_ms} ms accepted)"
    )]
    Stale {
        /// How far off.
        skew_ms: u64,
        /// The accepted window.
        window_ms: u64,
    },
    /// This very message was accepted before.
    #[error("this message was already received (a replay)")]
    Replayed,
}

impl PeerAuthError {
    /// Whether the refusal is about who is asking (401) rather than which cluster (403).
    pub fn is_unauthenticated(&self) -> bool {
        !matches!(self, PeerAuthError::WrongCluster { .. })
    }
}

/// One node's view of its cluster's message authentication: its cluster name, the secret (none
/// on an insecure loopback node: then only the cluster name is checked) and the messages seen.
#[derive(Debug)]
pub struct PeerAuth {
    cluster: String,
    secret: Option<ClusterSecret>,
    window: Duration,
    seen: Mutex<Seen>,
}

/// The nonces of the messages accepted within the window, oldest first.
#[derive(Debug, Default)]
struct Seen {
    nonces: HashSet<String>,
    order: VecDeque<(u64, String)>,
}

impl PeerAuth {
    /// Authentication for `cluster`, signing with `secret` when there is one.
    pub fn new(cluster: &str, secret: Option<ClusterSecret>) -> Self {
        PeerAuth {
            cluster: cluster.to_string(),
            secret,
            window: DEFAULT_WINDOW,
            seen: Mutex::new(Seen::default()),
        }
    }

    /// The cluster's name.
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// Whether messages are signed (a secret is set).
    pub fn is_signed(&self) -> bool {
        self.secret.is_some()
    }

    /// The headers for a message from node `from`: `method` `path` with `body`, now.
    pub fn sign(&self, method: &str, path: &str, from: u64, body: &[u8]) -> SignedHeaders {
        self.sign_at(method, path, from, body, unix_ms(SystemTime::now()))
    }

    fn sign_at(
        &self,
        method: &str,
        path: &str,
        from: u64,
        body: &[u8],
        time_ms: u64,
    ) -> SignedHeaders {
        let from = from.to_string();
        let mut headers = vec![
            (CLUSTER_HEADER, self.cluster.clone()),
            (FROM_HEADER, from.clone()),
        ];
        if let Some(secret) = &self.secret {
            let time = time_ms.to_string();
            let nonce = random_hex(16);
            let tag = secret.mac(&[method, path, &self.cluster, &from, &time, &nonce], body);
            headers.push((TIME_HEADER, time));
            headers.push((NONCE_HEADER, nonce));
            headers.push((SIGNATURE_HEADER, hex::encode(tag)));
        }
        SignedHeaders { headers }
    }

    /// The signature (hex) of an answer `body` to a reader's `challenge`, proving a holder of
    /// the cluster's secret wrote it just now; `None` without a secret.
    pub fn sign_reply(&self, challenge: &str, body: &[u8]) -> Option<String> {
        let secret = self.secret.as_ref()?;
        Some(hex::encode(
            secret.mac(&["reply", &self.cluster, challenge], body),
        ))
    }

    /// Whether `signature` (hex) signs `body` as the answer to `challenge` in this cluster.
    pub fn verify_reply(&self, challenge: &str, body: &[u8], signature: &str) -> bool {
        let (Some(secret), Ok(tag)) = (&self.secret, hex::decode(signature)) else {
            return false;
        };
        secret.verify(&["reply", &self.cluster, challenge], body, &tag)
    }

    /// Checks a received message (`header` looks a header up by name) and returns its sender's
    /// id. A message is accepted once: a replay of it is refused.
    pub fn verify<'h>(
        &self,
        method: &str,
        path: &str,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
    ) -> Result<u64, PeerAuthError> {
        self.verify_at(method, path, header, body, unix_ms(SystemTime::now()))
    }

    fn verify_at<'h>(
        &self,
        method: &str,
        path: &str,
        header: impl Fn(&str) -> Option<&'h str>,
        body: &[u8],
        now_ms: u64,
    ) -> Result<u64, PeerAuthError> {
        let cluster = header(CLUSTER_HEADER).unwrap_or_default();
        if cluster != self.cluster {
            return Err(PeerAuthError::WrongCluster {
                ours: self.cluster.clone(),
                theirs: cluster.to_string(),
            });
        }
        let from_text = header(FROM_HEADER).ok_or(PeerAuthError::Header(FROM_HEADER))?;
        let from = from_text
            .parse::<u64>()
            .map_err(|_| PeerAuthError::Header(FROM_HEADER))?;
        let Some(secret) = &self.secret else {
            return Ok(from);
        };
        let time = header(TIME_HEADER).ok_or(PeerAuthError::Header(TIME_HEADER))?;
        let time_ms = time
            .parse::<u64>()
            .map_err(|_| PeerAuthError::Header(TIME_HEADER))?;
        let nonce = header(NONCE_HEADER)
            .filter(|nonce| nonce.len() == 32 && nonce.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or(PeerAuthError::Header(NONCE_HEADER))?;
        let tag = header(SIGNATURE_HEADER)
            .and_then(|tag| hex::decode(tag).ok())
            .ok_or(PeerAuthError::Header(SIGNATURE_HEADER))?;
        if !secret.verify(
            &[method, path, &self.cluster, from_text, time, nonce],
            body,
            &tag,
        ) {
            return Err(PeerAuthError::BadSignature);
        }
        let window_ms = u64::try_from(self.window.as_millis()).unwrap_or(u64::MAX);
        let skew_ms = now_ms.abs_diff(time_ms);
        if skew_ms > window_ms {
            return Err(PeerAuthError::Stale { skew_ms, window_ms });
        }
        self.remember_once(nonce, time_ms, now_ms.saturating_sub(window_ms))?;
        Ok(from)
    }

    /// Records `nonce` as seen; `Err` if it was. Forgets nonces older than `forget_before`
    /// (their messages are refused as stale anyway).
    fn remember_once(
        &self,
        nonce: &str,
        time_ms: u64,
        forget_before: u64,
    ) -> Result<(), PeerAuthError> {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        let Seen { nonces, order } = &mut *seen;
        while let Some((time, _)) = order.front() {
            if *time >= forget_before && order.len() < MAX_REMEMBERED {
                break;
            }
            if let Some((_, old)) = order.pop_front() {
                nonces.remove(&old);
            }
        }
        // When the memory is full, a message older than everything remembered cannot be told
        // from a replay: refuse it (the sender retries with a fresh one).
        if order.len() >= MAX_REMEMBERED.saturating_sub(1)
            && order.front().is_some_and(|(oldest, _)| time_ms < *oldest)
        {
            return Err(PeerAuthError::Replayed);
        }
        if !nonces.insert(nonce.to_string()) {
            return Err(PeerAuthError::Replayed);
        }
        // Kept in arrival order; times are close to it (within the window).
        order.push_back((
            time_ms.max(order.back().map_or(0, |(t, _)| *t)),
            nonce.to_string(),
        ));
        Ok(())
    }
}

/// Milliseconds since the Unix epoch (0 for a clock set before it).
fn unix_ms(time: SystemTime) -> u64 {
    time.duration_since(UNIX_EPOCH)
        .map(|since| u64::try_from(since.as_millis()).unwrap_or(u64::MAX))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn secret(text: &str) -> Option<ClusterSecret> {
        Some(ClusterSecret::new(text, "test").unwrap())
    }

    fn lookup(headers: &SignedHeaders) -> BTreeMap<&'static str, String> {
        headers.headers.iter().cloned().collect()
    }

    const NOW: u64 = 1_800_000_000_000;

    #[test]
    fn a_signed_message_is_accepted_once_with_its_sender() {
        let auth = PeerAuth::new("0", secret("0123456789abcdef"));
        let signed = auth.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        let map = lookup(&signed);
        let get = |name: &str| map.get(name).map(String::as_str);
        assert_eq!(
            auth.verify_at("POST", "/raft/vote", get, b"body", NOW + 5),
            Ok(3)
        );
        assert_eq!(
            auth.verify_at("POST", "/raft/vote", get, b"body", NOW + 6),
            Err(PeerAuthError::Replayed)
        );
    }

    #[test]
    fn strangers_altered_messages_other_clusters_and_old_messages_are_refused() {
        let ours = PeerAuth::new("0", secret("0123456789abcdef"));
        let stranger = PeerAuth::new("0", secret("fedcba9876543210"));
        let other_cluster = PeerAuth::new("1", secret("0123456789abcdef"));
        let check = |signed: SignedHeaders, path: &str, body: &[u8], now: u64| {
            let map = lookup(&signed);
            ours.verify_at(
                "POST",
                path,
                |name| map.get(name).map(String::as_str),
                body,
                now,
            )
        };
        let from_stranger = stranger.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        assert_eq!(
            check(from_stranger, "/raft/vote", b"body", NOW),
            Err(PeerAuthError::BadSignature)
        );
        let altered = ours.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        assert_eq!(
            check(altered.clone(), "/raft/vote", b"BODY", NOW),
            Err(PeerAuthError::BadSignature)
        );
        assert_eq!(
            check(altered, "/raft/append", b"body", NOW),
            Err(PeerAuthError::BadSignature)
        );
        let foreign = other_cluster.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        assert!(matches!(
            check(foreign, "/raft/vote", b"body", NOW),
            Err(PeerAuthError::WrongCluster { .. })
        ));
        let old = ours.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        assert!(matches!(
            check(old, "/raft/vote", b"body", NOW + 31_000),
            Err(PeerAuthError::Stale { .. })
        ));
        let mut forged_sender = ours.sign_at("POST", "/raft/vote", 3, b"body", NOW);
        forged_sender.headers[1].1 = "4".to_string();
        assert_eq!(
            check(forged_sender, "/raft/vote", b"body", NOW),
            Err(PeerAuthError::BadSignature)
        );
        let unsigned = PeerAuth::new("0", None).sign_at("POST", "/raft/vote", 3, b"body", NOW);
        assert_eq!(
            check(unsigned, "/raft/vote", b"body", NOW),
            Err(PeerAuthError::Header(TIME_HEADER))
        );
    }

    #[test]
    fn without_a_secret_only_the_cluster_and_sender_are_checked() {
        let auth = PeerAuth::new("0", None);
        let signed = auth.sign_at("POST", "/raft/vote", 7, b"", NOW);
        assert_eq!(signed.headers.len(), 2);
        let map = lookup(&signed);
        let get = |name: &str| map.get(name).map(String::as_str);
        assert_eq!(auth.verify_at("POST", "/raft/vote", get, b"", NOW), Ok(7));
        assert_eq!(auth.verify_at("POST", "/raft/vote", get, b"", NOW), Ok(7));
    }

    #[test]
    fn a_signed_reply_verifies_only_for_its_challenge_cluster_and_body() {
        let auth = PeerAuth::new("0", secret("0123456789abcdef"));
        let tag = auth.sign_reply("c1", b"stats").unwrap();
        assert!(auth.verify_reply("c1", b"stats", &tag));
        assert!(!auth.verify_reply("c2", b"stats", &tag));
        assert!(!auth.verify_reply("c1", b"stat5", &tag));
        assert!(!PeerAuth::new("1", secret("0123456789abcdef")).verify_reply("c1", b"stats", &tag));
        assert!(!auth.verify_reply("c1", b"stats", "not hex"));
        assert_eq!(PeerAuth::new("0", None).sign_reply("c1", b"stats"), None);
    }

    #[test]
    fn nonces_older_than_the_window_are_forgotten() {
        let auth = PeerAuth::new("0", secret("0123456789abcdef"));
        for step in 0..100u64 {
            let now = NOW + step * 1_000;
            let signed = auth.sign_at("POST", "/raft/append", 1, b"", now);
            let map = lookup(&signed);
            let get = |name: &str| map.get(name).map(String::as_str);
            assert_eq!(auth.verify_at("POST", "/raft/append", get, b"", now), Ok(1));
        }
        let remembered = auth.seen.lock().unwrap().order.len();
        assert!(remembered <= 32, "{remembered} nonces kept");
    }
}
