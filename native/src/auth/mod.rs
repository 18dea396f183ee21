//! Who may do what: the clients' bearer token ([`ApiToken`]) and the cluster secret that signs
//! every Raft message between nodes ([`ClusterSecret`], [`PeerAuth`]). Pure: no HTTP, no I/O
//! beyond the operating system's random numbers; the servers (`api`, `entry`) and the transport
//! call it. SECURITY.md says what each protects.

mod random;
mod secret;
mod signed;
mod token;

pub use random::random_hex;
pub use secret::ClusterSecret;
pub use signed::CHALLENGE_HEADER;
pub use signed::NONCE_HEADER;
pub use signed::PeerAuth;
pub use signed::PeerAuthError;
pub use signed::SIGNATURE_HEADER;
pub use signed::SignedHeaders;
pub use token::ApiToken;
pub use token::TokenError;
