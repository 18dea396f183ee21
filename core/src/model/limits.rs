//! [`Limits`]: how big a cluster's state may grow — services, replicas, nodes — and how big one
//! request may be, checked before a write is proposed (by the node that takes the request, and
//! again by the leader that proposes it), so no client can make the state, the log or placement
//! work grow without bound.
//!
//! These are admission rules, not part of the state machine: each process has its own (the
//! operator's flags), and `apply` keeps only the hard ceilings of [`super::request`], so nodes
//! with different settings never disagree about what a committed entry does. A burst of
//! concurrent writes may pass the same check together and overshoot a state limit by at most
//! the writes in flight.

use std::fmt;

use super::command::Command;
use super::request::MAX_CONTAINERS;
use super::request::MAX_LABEL_CHARS;
use super::request::MAX_REPLICAS;
use super::state::ClusterState;

/// The limits one process admits writes under. `Default` is what a fresh install gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Most services the cluster holds.
    pub max_services: u64,
    /// Most replicas requested across all services.
    pub max_replicas: u64,
    /// Most replicas one service may ask for (at most [`MAX_REPLICAS`]).
    pub max_replicas_per_service: u32,
    /// Most services one request may create (at most [`MAX_CONTAINERS`]).
    pub max_containers: usize,
    /// Longest label, in characters (at most [`MAX_LABEL_CHARS`]).
    pub max_label_chars: usize,
    /// Most nodes in the cluster.
    pub max_nodes: u64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_services: 10_000,
            max_replicas: 1_000_000,
            max_replicas_per_service: 100_000,
            max_containers: MAX_CONTAINERS,
            max_label_chars: MAX_LABEL_CHARS,
            max_nodes: 1_000,
        }
    }
}

/// Which limit a write ran into.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Limit {
    /// [`Limits::max_services`].
    Services,
    /// [`Limits::max_replicas`].
    Replicas,
    /// [`Limits::max_replicas_per_service`].
    ReplicasPerService,
    /// [`Limits::max_containers`].
    Containers,
    /// [`Limits::max_label_chars`].
    LabelChars,
    /// [`Limits::max_nodes`].
    Nodes,
}

impl Limit {
    /// The limit's name as its command-line flag spells it, without dashes (`max-services`).
    pub fn name(self) -> &'static str {
        match self {
            Limit::Services => "max-services",
            Limit::Replicas => "max-replicas",
            Limit::ReplicasPerService => "max-replicas-per-service",
            Limit::Containers => "max-containers",
            Limit::LabelChars => "max-label-chars",
            Limit::Nodes => "max-nodes",
        }
    }

    /// Whether the request alone is too big (whatever the state), rather than the state full.
    pub fn is_per_request(self) -> bool {
        matches!(
            self,
            Limit::ReplicasPerService | Limit::Containers | Limit::LabelChars
        )
    }
}

/// A write refused by a limit: which one, its value, and what the write would have made.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LimitError {
    /// The limit.
    pub limit: Limit,
    /// Its value.
    pub allowed: u64,
    /// What the request asks for (or would bring the cluster to).
    pub asked: u64,
}

impl fmt::Display for LimitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let LimitError {
            limit,
            allowed,
            asked,
        } = self;
        let what = match limit {
            Limit::Services => "the cluster would hold {asked} services",
            Limit::Replicas => "the cluster would request {asked} replicas in all",
            Limit::ReplicasPerService => "a service asks for {asked} replicas",
            Limit::Containers => "the request creates {asked} services",
            Limit::LabelChars => "a label is {asked} characters long",
            Limit::Nodes => "the cluster would have {asked} nodes",
        };
        write!(
            f,
            "{}; at most {allowed} allowed (--{})",
            what.replace("{asked}", &asked.to_string()),
            limit.name()
        )
    }
}

impl std::error::Error for LimitError {}

impl Limits {
    /// `Ok` if applying `command` to `state` stays within these limits. Shrinking (scale down,
    /// delete, remove a node) is always admitted.
    pub fn admit(&self, state: &ClusterState, command: &Command) -> Result<(), LimitError> {
        match command {
            Command::CreateServices { services } => {
                check(
                    Limit::Containers,
                    self.max_containers as u64,
                    services.len() as u64,
                )?;
                for spec in services {
                    let chars = spec.label.chars().count() as u64;
                    check(Limit::LabelChars, self.max_label_chars as u64, chars)?;
                    let per_service = u64::from(self.max_replicas_per_service.min(MAX_REPLICAS));
                    check(
                        Limit::ReplicasPerService,
                        per_service,
                        u64::from(spec.replicas),
                    )?;
                }
                let services_after = state.services().len() as u64 + services.len() as u64;
                check(Limit::Services, self.max_services, services_after)?;
                let added: u64 = services.iter().map(|s| u64::from(s.replicas)).sum();
                check(Limit::Replicas, self.max_replicas, requested(state) + added)
            }
            Command::ScaleService { id, replicas } => {
                let per_service = u64::from(self.max_replicas_per_service.min(MAX_REPLICAS));
                check(Limit::ReplicasPerService, per_service, u64::from(*replicas))?;
                let before = state.service(*id).map_or(0, |s| u64::from(s.replicas));
                if u64::from(*replicas) <= before {
                    return Ok(());
                }
                let after = requested(state) - before + u64::from(*replicas);
                check(Limit::Replicas, self.max_replicas, after)
            }
            Command::AddNode { node } if state.node(node.id).is_none() => {
                check(Limit::Nodes, self.max_nodes, state.nodes().len() as u64 + 1)
            }
            _ => Ok(()),
        }
    }
}

/// Replicas requested across all services of `state`.
fn requested(state: &ClusterState) -> u64 {
    state.requested_replicas()
}

fn check(limit: Limit, allowed: u64, asked: u64) -> Result<(), LimitError> {
    if asked > allowed {
        return Err(LimitError {
            limit,
            allowed,
            asked,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ServiceSpec;

    fn create(label: &str, replicas: u32) -> Command {
        Command::CreateServices {
            services: vec![ServiceSpec {
                label: label.to_string(),
                replicas,
                uniq_id: None,
            }],
        }
    }

    #[test]
    fn each_limit_refuses_what_passes_it_and_names_its_flag() {
        let limits = Limits {
            max_services: 2,
            max_replicas: 10,
            max_replicas_per_service: 6,
            max_containers: 2,
            max_label_chars: 5,
            max_nodes: 3,
        };
        let mut state = ClusterState::default();
        assert_eq!(limits.admit(&state, &create("web", 6)), Ok(()));
        state.apply(1, &create("web", 6));
        let err = limits.admit(&state, &create("api", 5)).unwrap_err();
        assert_eq!((err.limit, err.asked), (Limit::Replicas, 11));
        assert!(err.to_string().contains("--max-replicas"), "{err}");
        let err = limits.admit(&state, &create("toolong", 1)).unwrap_err();
        assert_eq!(err.limit, Limit::LabelChars);
        assert!(err.limit.is_per_request());
        assert_eq!(
            limits.admit(&state, &create("x", 7)).unwrap_err().limit,
            Limit::ReplicasPerService
        );
        state.apply(2, &create("api", 4));
        assert_eq!(
            limits.admit(&state, &create("db", 0)).unwrap_err().limit,
            Limit::Services
        );
        // Scaling up past the total is refused, down always admitted.
        let id = *state.services().keys().next().unwrap();
        let up = Command::ScaleService { id, replicas: 7 };
        assert_eq!(
            limits.admit(&state, &up).unwrap_err().limit,
            Limit::ReplicasPerService
        );
        let down = Command::ScaleService { id, replicas: 0 };
        assert_eq!(limits.admit(&state, &down), Ok(()));
        let two = Command::CreateServices {
            services: vec![
                ServiceSpec {
                    label: "a".into(),
                    replicas: 1,
                    uniq_id: None
                };
                3
            ],
        };
        assert_eq!(
            limits.admit(&state, &two).unwrap_err().limit,
            Limit::Containers
        );
    }

    #[test]
    fn defaults_stay_within_the_state_machine_ceilings() {
        let limits = Limits::default();
        assert!(limits.max_replicas_per_service <= MAX_REPLICAS);
        assert!(limits.max_containers <= MAX_CONTAINERS);
        assert!(limits.max_label_chars <= MAX_LABEL_CHARS);
    }
}
