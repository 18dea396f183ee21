//! A [`Write`]: what the Raft log carries for one change — the [`Command`] and the
//! [`RequestId`] of the client request that asked for it.
//!
//! The id is what makes a write idempotent. A request may reach the log more than once: a
//! forwarder that loses the leader's answer tries again, a client whose connection dropped
//! retries. Every copy carries the id it was given when it first entered Flotilla (the client's
//! `Idempotency-Key` header, or one drawn at random by the first Flotilla process that saw the
//! request), so the state machine recognises the copies and answers them with the first one's
//! result instead of applying them again (client sessions, §6.3 of the Raft paper; see
//! `recent`). Writes nobody asked for over the API — the failure detector's marks, the
//! simulation's clients — carry no id and are applied as they come.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::command::Command;

/// Longest request id, in characters (all ASCII, so bytes too): a UUID (36) or a 32-digit hex
/// token fits with room to spare, and the table of recent writes stays small.
pub const MAX_REQUEST_ID_CHARS: usize = 128;

/// The id of one client request, unique per request: a retry reuses it, a new request does not.
///
/// 1 to [`MAX_REQUEST_ID_CHARS`] characters, each an ASCII letter, digit or one of `-_.:` —
/// enough for UUIDs, hex and base64url tokens and namespaced keys (`deploy:42`), and nothing
/// that needs escaping in a header, a log line or JSON. The only way to build one is
/// [`RequestId::parse`], and deserialising checks the same rules, so an id in the log or a
/// snapshot is always well-formed.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct RequestId(String);

impl RequestId {
    /// Checks a client's key; the error says what is wrong with it, for a 400.
    pub fn parse(key: &str) -> Result<RequestId, String> {
        if key.is_empty() {
            return Err("an idempotency key must not be empty".to_string());
        }
        let chars = key.chars().count();
        if chars > MAX_REQUEST_ID_CHARS {
            return Err(format!(
                "an idempotency key has at most {MAX_REQUEST_ID_CHARS} characters, got {chars}"
            ));
        }
        if let Some(bad) = key.chars().find(|&c| !allowed(c)) {
            return Err(format!(
                "an idempotency key may hold only ASCII letters, digits and '-', '_', '.', ':'; \
                 got {bad:?}"
            ));
        }
        Ok(RequestId(key.to_owned()))
    }

    /// An id made of 128 bits the host drew at random, as 32 lowercase hex digits: what a
    /// request gets when its client sent no key. (core draws no random numbers itself.)
    pub fn from_bits(bits: u128) -> RequestId {
        RequestId(format!("{bits:032x}"))
    }

    /// The id as text, e.g. for a header.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn allowed(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':')
}

impl TryFrom<String> for RequestId {
    type Error = String;

    fn try_from(key: String) -> Result<Self, String> {
        RequestId::parse(&key)
    }
}

impl From<RequestId> for String {
    fn from(id: RequestId) -> String {
        id.0
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// One log entry's worth of change: a command and, when a client asked for it, the id of that
/// request.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Write {
    /// The request this write answers; copies with the same id are applied once.
    pub id: Option<RequestId>,
    /// What to change.
    pub command: Command,
}

impl Write {
    /// A write for request `id`.
    pub fn new(id: RequestId, command: Command) -> Self {
        Write {
            id: Some(id),
            command,
        }
    }
}

impl From<Command> for Write {
    /// A write no client request stands behind (the failure detector's, the simulation's): it
    /// is applied every time it is committed.
    fn from(command: Command) -> Self {
        Write { id: None, command }
    }
}

/// The command's line: the id is bookkeeping, not part of what the write does.
impl fmt::Display for Write {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.command.fmt(f)
    }
}
