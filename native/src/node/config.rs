//! What starting a node takes ([`NodeConfig`], [`StartMode`]) and why it can fail
//! ([`NodeError`]).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration;

use flotilla_core::model::Limits;
use flotilla_core::raft::Member;

use crate::auth::ClusterSecret;
use crate::tls::Tls;

use super::timing::RaftTiming;

/// Capacity a node gets when nobody says (on the command line or in a request).
pub const DEFAULT_CAPACITY: u32 = 100;

/// How a node with empty storage enters its cluster. A node whose storage already holds a log
/// ignores this: it restarts as the member it was.
#[derive(Clone, Debug)]
pub enum StartMode {
    /// Form a new cluster with exactly these members (every founding member is given the same
    /// list, so whichever times out first is elected).
    Found(BTreeMap<u64, Member>),
    /// Wait to be added by the cluster's leader.
    Join,
}

/// Everything needed to start a node.
#[derive(Clone, Debug)]
pub struct NodeConfig {
    /// Raft id, unique in the cluster.
    pub id: u64,
    /// Human name (the seed API's alphanumeric node id).
    pub name: String,
    /// The `host:port` peers and clients reach this node at.
    pub addr: String,
    /// How many replicas this node can run.
    pub capacity: u32,
    /// The cluster's name; nodes refuse Raft messages from other clusters.
    pub cluster: String,
    /// The secret the cluster's nodes sign their messages with. `None` only on an insecure
    /// loopback node: then any local process that names the cluster is believed.
    pub secret: Option<ClusterSecret>,
    /// Whether the node serves HTTPS and calls its peers over it (trusting which CA).
    pub tls: Tls,
    /// Where the node keeps its log, vote and snapshots.
    pub data_dir: PathBuf,
    /// Raft timing.
    pub timing: RaftTiming,
    /// How to enter the cluster when storage is empty.
    pub start: StartMode,
    /// How long a client request may wait for a leader and a commit before it fails with 503.
    pub request_timeout: Duration,
    /// How big this node lets the cluster's state and one request grow.
    pub limits: Limits,
}

/// Why a node could not start.
#[derive(Debug, thiserror::Error)]
pub enum NodeError {
    /// The Raft settings are inconsistent (e.g. heartbeat not shorter than the election timeout).
    #[error("invalid Raft timing: {0}")]
    Timing(String),
    /// Storage could not be opened.
    #[error("cannot open storage in {dir}: {reason}")]
    Storage {
        /// The data directory.
        dir: PathBuf,
        /// What failed.
        reason: String,
    },
    /// openraft refused to start or to initialise the cluster.
    #[error("raft: {0}")]
    Raft(String),
}
