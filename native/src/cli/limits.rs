//! [`LimitArgs`]: the flags that bound how big a cluster's state and one request may grow
//! (core's [`Limits`]), shared by both subcommands. Each defaults to [`Limits::default`].

use clap::Args;
use flotilla_core::model::Limits;
use flotilla_core::model::MAX_CONTAINERS;
use flotilla_core::model::MAX_LABEL_CHARS;
use flotilla_core::model::MAX_REPLICAS;

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
