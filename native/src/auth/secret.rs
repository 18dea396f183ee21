//! [`ClusterSecret`]: the key a cluster's nodes share to sign their messages to each other.

use std::fmt;
use std::path::Path;

use hmac::Hmac;
use hmac::Mac;
use sha2::Sha256;

use super::random::random_hex;
use super::token::TokenError;
use super::token::check_secret_text;
use super::token::read_secret_file;

/// Shortest cluster secret accepted.
pub const MIN_SECRET_LEN: usize = 16;

type HmacSha256 = Hmac<Sha256>;

/// The secret every node of a cluster holds: the key of the HMAC-SHA256 that signs each Raft
/// message. Knowing it is what makes a process a member; its `Debug` form hides it.
#[derive(Clone)]
pub struct ClusterSecret(String);

impl ClusterSecret {
    /// A secret from its text (`what` names where it came from, for the error).
    pub fn new(text: &str, what: &str) -> Result<Self, TokenError> {
        check_secret_text(text, what, MIN_SECRET_LEN).map(|text| ClusterSecret(text.to_string()))
    }

    /// A secret from the first line of a file.
    pub fn from_file(path: &Path, what: &str) -> Result<Self, TokenError> {
        ClusterSecret::new(&read_secret_file(path, what)?, what)
    }

    /// A fresh random secret (256 bits), for a cluster whose nodes all live in this process.
    pub fn random() -> Self {
        ClusterSecret(random_hex(32))
    }

    /// The HMAC of `parts` (each followed by a newline) and then `body`.
    pub fn mac(&self, parts: &[&str], body: &[u8]) -> Vec<u8> {
        self.hmac(parts, body).finalize().into_bytes().to_vec()
    }

    /// Whether `tag` is the HMAC of `parts` and `body` (compared in constant time).
    pub fn verify(&self, parts: &[&str], body: &[u8], tag: &[u8]) -> bool {
        self.hmac(parts, body).verify_slice(tag).is_ok()
    }

    fn hmac(&self, parts: &[&str], body: &[u8]) -> HmacSha256 {
        let mut mac =
            HmacSha256::new_from_slice(self.0.as_bytes()).expect("HMAC accepts keys of any length");
        for part in parts {
            mac.update(part.as_bytes());
            mac.update(b"\n");
        }
        mac.update(body);
        mac
    }
}

impl fmt::Debug for ClusterSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ClusterSecret(…)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mac_verifies_only_with_the_same_secret_parts_and_body() {
        let secret =
            ClusterSecret::new("a secret of the cluster".replace(' ', "-").as_str(), "s").unwrap();
        let tag = secret.mac(&["POST", "/raft/vote"], b"body");
        assert!(secret.verify(&["POST", "/raft/vote"], b"body", &tag));
        assert!(!secret.verify(&["POST", "/raft/append"], b"body", &tag));
        assert!(!secret.verify(&["POST", "/raft/vote"], b"bodY", &tag));
        // Parts are delimited: moving a character across a boundary changes the MAC.
        assert!(!secret.verify(&["POST/", "raft/vote"], b"body", &tag));
        let other = ClusterSecret::random();
        assert!(!other.verify(&["POST", "/raft/vote"], b"body", &tag));
        assert!(!format!("{other:?}").contains(&other.0));
    }
}
