//! [`SimError`]: why the simulation refused an action.

use std::fmt;

use super::event::NodeId;

/// Why a simulation action was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SimError {
    /// No node has this id.
    UnknownNode(NodeId),
    /// The action needs the node running, and it is down.
    NodeDown(NodeId),
    /// The action needs the node down, and it is running.
    NodeRunning(NodeId),
    /// The action needs a leader and there is none right now.
    NoLeader,
    /// The settings are not usable.
    InvalidConfig(String),
    /// The node was removed from the cluster: it cannot be started again.
    Removed(NodeId),
}

impl fmt::Display for SimError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SimError::UnknownNode(id) => write!(f, "there is no node n{id}"),
            SimError::NodeDown(id) => write!(f, "n{id} is down"),
            SimError::NodeRunning(id) => write!(f, "n{id} is running"),
            SimError::NoLeader => f.write_str("there is no leader right now"),
            SimError::InvalidConfig(why) => write!(f, "invalid settings: {why}"),
            SimError::Removed(id) => write!(f, "n{id} was removed from the cluster"),
        }
    }
}

impl std::error::Error for SimError {}
