//! What the campaign's clients did and heard, and the sequential specification it must match:
//! each service (named by a label no other create uses) is an object that is created once,
//! scaled, deleted, and read at the end of the run from the converged state.
//!
//! Services are independent, so each is checked alone ([`History::violations`]).

use std::collections::BTreeMap;
use std::time::Duration;

use super::linearizability::Model;
use super::linearizability::Operation;
use super::linearizability::is_linearizable;
use crate::model::ClusterState;
use crate::model::Outcome;
use crate::model::ServiceId;
use crate::raft::Applied;
use crate::sim::RequestId;

/// What a client asked of one service.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Request {
    /// Create it with this many replicas.
    Create(u32),
    /// Scale it to this many replicas.
    Scale(u32),
    /// Delete it.
    Delete,
    /// Read it (the end of the run, from the converged state).
    Read,
}

/// What a client heard back about one service.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Response {
    /// Created, with this many replicas (the id it got is kept by the history).
    Created(u32),
    /// Scaled to this many replicas.
    Scaled(u32),
    /// Deleted.
    Deleted,
    /// Refused (an unknown service).
    Rejected,
    /// The service as read: `None` absent; `Some(replicas)` of each service carrying its label
    /// (more than one means a create was applied twice).
    Read(Vec<u32>),
    /// Something no request of this kind should answer.
    Unexpected(String),
}

/// One service's state, as its clients may see it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ServiceState {
    /// Not created (yet).
    Absent,
    /// Created, with this many replicas requested.
    Live(u32),
    /// Deleted.
    Deleted,
}

/// The sequential specification of a service.
pub struct ServiceModel;

impl Model for ServiceModel {
    type State = ServiceState;
    type Input = Request;
    type Output = Response;

    fn init(&self) -> ServiceState {
        ServiceState::Absent
    }

    fn step(
        &self,
        state: &ServiceState,
        input: &Request,
        output: Option<&Response>,
    ) -> Option<ServiceState> {
        use ServiceState::*;
        let (next, expected) = match (*input, *state) {
            (Request::Create(replicas), Absent) => (Live(replicas), Response::Created(replicas)),
            // One create per label: a second one is a create applied twice.
            (Request::Create(_), _) => return None,
            (Request::Scale(replicas), Live(_)) => (Live(replicas), Response::Scaled(replicas)),
            (Request::Scale(_), other) => (other, Response::Rejected),
            (Request::Delete, Live(_)) => (Deleted, Response::Deleted),
            (Request::Delete, other) => (other, Response::Rejected),
            (Request::Read, Live(replicas)) => (*state, Response::Read(vec![replicas])),
            (Request::Read, _) => (*state, Response::Read(Vec::new())),
        };
        output.is_none_or(|out| *out == expected).then_some(next)
    }
}

/// The operations of a whole run, by service label.
#[derive(Default)]
pub struct History {
    by_label: BTreeMap<String, Vec<Operation<Request, Response>>>,
    /// Requests not answered yet: their label and position.
    waiting: BTreeMap<RequestId, (String, usize)>,
    /// The id each acknowledged create got.
    ids: BTreeMap<String, ServiceId>,
}

impl History {
    /// Records that a client sent `request` about service `label` at `call`.
    pub fn called(&mut self, id: RequestId, label: &str, request: Request, call: Duration) {
        let operations = self.by_label.entry(label.to_string()).or_default();
        operations.push(Operation {
            call,
            ret: None,
            input: request,
            output: None,
        });
        self.waiting
            .insert(id, (label.to_string(), operations.len() - 1));
    }

    /// Requests still waiting for an answer.
    pub fn waiting(&self) -> impl Iterator<Item = RequestId> + '_ {
        self.waiting.keys().copied()
    }

    /// Records the answer to request `id`, heard at `at`. An error (no answer in time, the
    /// leader lost) leaves the operation open: it may or may not have happened.
    pub fn answered(&mut self, id: RequestId, answer: &Result<Applied, String>, at: Duration) {
        let Some((label, index)) = self.waiting.remove(&id) else {
            return;
        };
        let Ok(applied) = answer else { return };
        let Some(operation) = self
            .by_label
            .get_mut(&label)
            .and_then(|operations| operations.get_mut(index))
        else {
            return;
        };
        let response = match &applied.outcome {
            Some(Outcome::ServicesCreated { services }) => match services.as_slice() {
                [one] if one.label == label => {
                    self.ids.insert(label.clone(), one.id);
                    Response::Created(one.replicas)
                }
                _ => Response::Unexpected(format!("{:?}", applied.outcome)),
            },
            Some(Outcome::ServiceScaled { service }) => Response::Scaled(service.replicas),
            Some(Outcome::ServiceDeleted { .. }) => Response::Deleted,
            Some(Outcome::Rejected { .. }) => Response::Rejected,
            other => Response::Unexpected(format!("{other:?}")),
        };
        operation.ret = Some(at);
        operation.output = Some(response);
    }

    /// The id the create of `label` was acknowledged with, if it was.
    pub fn id_of(&self, label: &str) -> Option<ServiceId> {
        self.ids.get(label).copied()
    }

    /// Labels whose create was acknowledged, in label order.
    pub fn acknowledged(&self) -> impl Iterator<Item = (&str, ServiceId)> + '_ {
        self.ids.iter().map(|(label, id)| (label.as_str(), *id))
    }

    /// How many operations were recorded.
    pub fn len(&self) -> usize {
        self.by_label.values().map(Vec::len).sum()
    }

    /// Whether no operation was recorded.
    pub fn is_empty(&self) -> bool {
        self.by_label.is_empty()
    }

    /// How many operations of `label` were recorded.
    pub fn operations_on(&self, label: &str) -> usize {
        self.by_label.get(label).map_or(0, Vec::len)
    }

    /// Ends every service's history with a read of `state` (the converged state) at `at`, and
    /// returns the services whose history is not linearizable, each with its operations.
    pub fn violations(&mut self, state: &ClusterState, at: Duration) -> Vec<String> {
        let mut read: BTreeMap<&str, Vec<u32>> = BTreeMap::new();
        for service in state.services().values() {
            read.entry(service.label.as_str())
                .or_default()
                .push(service.replicas);
        }
        let mut found = Vec::new();
        for (label, operations) in &mut self.by_label {
            operations.push(Operation {
                call: at,
                ret: Some(at),
                input: Request::Read,
                output: Some(Response::Read(
                    read.remove(label.as_str()).unwrap_or_default(),
                )),
            });
            match is_linearizable(&ServiceModel, operations) {
                Ok(true) => {}
                Ok(false) => found.push(format!(
                    "service {label:?}: history not linearizable:\n{}",
                    describe(operations)
                )),
                Err(why) => found.push(format!("service {label:?}: cannot check: {why}")),
            }
        }
        for (label, replicas) in read {
            found.push(format!(
                "service {label:?} exists ({replicas:?} replicas) but no client created it"
            ));
        }
        found
    }
}

/// One line per operation: call and return times, request and answer.
fn describe(operations: &[Operation<Request, Response>]) -> String {
    operations
        .iter()
        .map(|op| {
            let ret = op.ret.map_or("never".to_string(), |at| {
                format!("{:.3}s", at.as_secs_f64())
            });
            let output = op.output.as_ref().map_or(
                "no answer (may or may not have happened)".to_string(),
                |out| format!("{out:?}"),
            );
            format!(
                "    called {:.3}s, returned {ret}: {:?} -> {output}",
                op.call.as_secs_f64(),
                op.input
            )
        })
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(ms: u64) -> Duration {
        Duration::from_millis(ms)
    }

    fn op(
        call: u64,
        ret: Option<u64>,
        input: Request,
        output: Option<Response>,
    ) -> Operation<Request, Response> {
        Operation {
            call: at(call),
            ret: ret.map(at),
            input,
            output,
        }
    }

    #[test]
    fn an_acknowledged_create_that_is_gone_is_caught() {
        let history = [
            op(0, Some(10), Request::Create(3), Some(Response::Created(3))),
            op(100, Some(100), Request::Read, Some(Response::Read(vec![]))),
        ];
        assert_eq!(is_linearizable(&ServiceModel, &history), Ok(false));
    }

    #[test]
    fn a_create_applied_twice_is_caught() {
        let history = [
            op(0, None, Request::Create(3), None),
            op(
                100,
                Some(100),
                Request::Read,
                Some(Response::Read(vec![3, 3])),
            ),
        ];
        assert_eq!(is_linearizable(&ServiceModel, &history), Ok(false));
    }

    #[test]
    fn a_timed_out_scale_may_have_happened() {
        let history = [
            op(0, Some(10), Request::Create(3), Some(Response::Created(3))),
            op(20, None, Request::Scale(5), None),
            op(100, Some(100), Request::Read, Some(Response::Read(vec![5]))),
        ];
        assert_eq!(is_linearizable(&ServiceModel, &history), Ok(true));
    }
}
