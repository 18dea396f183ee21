//! The flags that bound what Flotilla takes: [`LimitArgs`], how big a cluster's state and one
//! request may grow (core's [`Limits`]), and [`ServerLimitArgs`], what one server takes at once
//! ([`ServerLimits`]); both subcommands have them all. Each defaults to the type's `Default`.

use clap::Args;
use flotilla_core::model::Limits;
use flotilla_core::model::MAX_CONTAINERS;
use flotilla_core::model::MAX_LABEL_CHARS;
use flotilla_core::model::MAX_REPLICAS;

use crate::api::limits::ServerLimits;

/// Limits on the state and on each write; a write past one gets 409 (the state is full) or 422
/// (the request alone is too big), naming the flag.
#[derive(Debug, Clone, Args)]
pub struct LimitArgs {
    /// Most services a cluster holds
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_services)]
    pub max_services: u64,
    /// Most replicas requested across all services of a cluster
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_replicas)]
    pub max_replicas: u64,
    /// Most replicas one service may ask for
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_replicas_per_service,
          value_parser = clap::value_parser!(u32).range(1..=i64::from(MAX_REPLICAS)))]
    pub max_replicas_per_service: u32,
    /// Most services one request may create
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_containers,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_CONTAINERS as u64))]
    pub max_containers: usize,
    /// Longest service label, in characters
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_label_chars,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=MAX_LABEL_CHARS as u64))]
    pub max_label_chars: usize,
    /// Most nodes in a cluster
    #[arg(long, value_name = "N", default_value_t = Limits::default().max_nodes)]
    pub max_nodes: u64,
}

impl LimitArgs {
    /// The limits these flags say.
    pub fn limits(&self) -> Limits {
        Limits {
            max_services: self.max_services,
            max_replicas: self.max_replicas,
            max_replicas_per_service: self.max_replicas_per_service,
            max_containers: self.max_containers,
            max_label_chars: self.max_label_chars,
            max_nodes: self.max_nodes,
        }
    }
}

/// What one server takes at once; past a limit, a JSON error (413, 503 with `Retry-After`,
/// 429 or 409) naming the flag.
#[derive(Debug, Clone, Args)]
pub struct ServerLimitArgs {
    /// Largest public request body, in bytes (413 past it)
    #[arg(long, value_name = "BYTES", default_value_t = ServerLimits::default().max_body_bytes)]
    pub max_body_bytes: usize,
    /// Largest Raft message a node accepts, in bytes (snapshots included)
    #[arg(long, value_name = "BYTES", default_value_t = ServerLimits::default().max_raft_body_bytes)]
    pub max_raft_body_bytes: usize,
    /// Most writes one server works on at once (503 with Retry-After past it)
    #[arg(long, value_name = "N", default_value_t = ServerLimits::default().max_inflight_writes,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_inflight_writes: usize,
    /// Most snapshots a node installs at once
    #[arg(long, value_name = "N", default_value_t = ServerLimits::default().max_snapshot_uploads,
          value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_snapshot_uploads: usize,
    /// Most event streams one node holds open (429 past it); the demo's entry point holds half
    /// as many cluster streams, each of which holds one on every node
    #[arg(long, value_name = "N", default_value_t = ServerLimits::default().max_event_streams)]
    pub max_event_streams: usize,
}

impl ServerLimitArgs {
    /// The limits these flags say, with `max_clusters` (a demo flag) added.
    pub fn limits(&self, max_clusters: usize) -> ServerLimits {
        ServerLimits {
            max_body_bytes: self.max_body_bytes,
            max_raft_body_bytes: self.max_raft_body_bytes,
            max_inflight_writes: self.max_inflight_writes,
            max_snapshot_uploads: self.max_snapshot_uploads,
            max_event_streams: self.max_event_streams,
            max_clusters,
        }
    }
}
