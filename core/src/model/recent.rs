//! [`RecentWrites`]: the answers to the last [`REMEMBERED_WRITES`] client requests, by request
//! id, so a copy of a request that was already applied gets the first answer again instead of
//! being applied twice (the client sessions of §6.3 of the Raft paper, keyed by request rather
//! than by client).
//!
//! The table is part of the replicated state: every member fills it at the same log positions,
//! it travels in snapshots (a member that catches up from one still recognises the copies), and
//! it is bounded by a count, the same on every member, so it is a constant and not a flag. Each
//! entry keeps a fingerprint of the command, so the same id on a *different* request is told
//! apart from a retry and refused.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize, Serializer};

use super::command::{Answer, Command};
use super::write::RequestId;

/// How many request ids the state remembers; the oldest (by log index of their answer) is
/// forgotten first. A retry comes within a client's request timeout (seconds), while this many
/// other keyed writes take minutes even at full speed; the table stays under a few megabytes
/// (each entry is an id of at most 128 characters plus one answer).
pub const REMEMBERED_WRITES: usize = 4096;

/// What a client is told when it reuses request id `id`, first answered at `log_index`, for a
/// different request. One wording wherever a reuse is caught (applying a write, a retried join
/// or leave).
pub fn reused_id_message(id: &RequestId, log_index: u64) -> String {
    format!(
        "idempotency key \"{id}\" was already used for a different request (answered at log \
         index {log_index}); use a new key for a new request"
    )
}

/// What the table says about a request id and its command.
#[derive(Debug, PartialEq, Eq)]
pub enum Seen<'a> {
    /// Not among the recent writes: apply it.
    New,
    /// A copy of a write already applied: answer this again.
    Again(&'a Answer),
    /// The id was used for a different command: refuse, change nothing.
    Different,
}

/// One remembered write: what it answered and a fingerprint of its command.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Remembered {
    /// [`fingerprint`] of the command.
    fingerprint: u64,
    /// What applying it answered.
    answer: Answer,
}

/// The answers to recent client requests, by request id. Serialised as the map of ids to
/// answers; the age index is rebuilt on load.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(try_from = "BTreeMap<RequestId, Remembered>")]
pub struct RecentWrites {
    by_id: BTreeMap<RequestId, Remembered>,
    /// The same ids by the log index of their answer, oldest first. Derived.
    by_age: BTreeMap<u64, RequestId>,
}

impl RecentWrites {
    /// Whether `id` was seen, and with this command or another.
    pub fn seen(&self, id: &RequestId, command: &Command) -> Seen<'_> {
        match self.by_id.get(id) {
            None => Seen::New,
            Some(remembered) if remembered.fingerprint == fingerprint(command) => {
                Seen::Again(&remembered.answer)
            }
            Some(_) => Seen::Different,
        }
    }

    /// The answer remembered for `id`, whatever its command was.
    pub fn answer(&self, id: &RequestId) -> Option<&Answer> {
        self.by_id.get(id).map(|remembered| &remembered.answer)
    }

    /// Remembers what `command`, asked for by request `id`, answered; forgets the oldest entry
    /// once there are more than [`REMEMBERED_WRITES`].
    pub fn remember(&mut self, id: RequestId, command: &Command, answer: Answer) {
        let remembered = Remembered {
            fingerprint: fingerprint(command),
            answer,
        };
        self.by_age.insert(remembered.answer.log_index, id.clone());
        if let Some(old) = self.by_id.insert(id, remembered) {
            // Not reached through `apply` (a known id is answered, not remembered again); keep
            // the index exact anyway.
            self.by_age.remove(&old.answer.log_index);
        }
        while self.by_id.len() > REMEMBERED_WRITES {
            let Some((_, oldest)) = self.by_age.pop_first() else {
                break;
            };
            self.by_id.remove(&oldest);
        }
    }

    /// How many ids are remembered.
    pub fn len(&self) -> usize {
        self.by_id.len()
    }

    /// Whether no id is remembered.
    pub fn is_empty(&self) -> bool {
        self.by_id.is_empty()
    }
}

impl Serialize for RecentWrites {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.by_id.serialize(serializer)
    }
}

impl TryFrom<BTreeMap<RequestId, Remembered>> for RecentWrites {
    type Error = String;

    fn try_from(by_id: BTreeMap<RequestId, Remembered>) -> Result<Self, String> {
        if by_id.len() > REMEMBERED_WRITES {
            return Err(format!(
                "snapshot: {} remembered writes, more than {REMEMBERED_WRITES}",
                by_id.len()
            ));
        }
        let mut by_age = BTreeMap::new();
        for (id, remembered) in &by_id {
            if let Some(other) = by_age.insert(remembered.answer.log_index, id.clone()) {
                return Err(format!(
                    "snapshot: requests {other} and {id} both answered at log index {}",
                    remembered.answer.log_index
                ));
            }
        }
        Ok(RecentWrites { by_id, by_age })
    }
}

/// A stable 64-bit fingerprint of a command: FNV-1a over its JSON encoding. Stable across
/// platforms, builds and Rust versions (unlike `std`'s hasher, whose algorithm may change), so
/// every member and every snapshot agree. Two different commands sharing a fingerprint *and* a
/// request id would need a client reusing a key and a 2⁻⁶⁴ coincidence.
fn fingerprint(command: &Command) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    // Encoding these plain enums (no maps with non-string keys, no failing impls) cannot fail.
    let bytes = serde_json::to_vec(command).unwrap_or_default();
    bytes.iter().fold(OFFSET, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(PRIME)
    })
}

#[cfg(test)]
mod tests;
