//! Client requests inside the simulation: any node accepts a command and, if it is not the
//! leader, forwards it over the wire to the leader it knows (as the native server does).
//! [`Simulation::submit`] is how a driver sends one; `serve` is the request's life inside.

use std::time::Duration;

use openraft::errors::ClientWriteError;
use openraft::errors::RaftError;
use openraft_rt::AsyncRuntime;
use openraft_rt::WatchReceiver;

use super::SimError;
use super::Simulation;
use super::event::EventKind;
use super::event::MessageKind;
use super::event::NodeId;
use super::event::RequestId;
use super::network::Label;
use super::network::call;
use super::network::term_of;
use super::types::SimRaft;
use super::world::WorldHandle;
use crate::model::Command;
use crate::raft::Applied;
use crate::rt::VirtualInstant;
use crate::rt::VirtualRuntime;
use crate::rt::executor_here;

impl Simulation {
    /// A client sends `command` to node `id`, which commits it if it leads or forwards it to the
    /// leader it knows. The answer shows up as a [`EventKind::ClientReply`] and in
    /// [`Simulation::reply`].
    pub fn submit(&mut self, id: NodeId, command: Command) -> Result<RequestId, SimError> {
        self.check_node(id)?;
        if !self.is_running(id) {
            return Err(SimError::NodeDown(id));
        }
        let now = self.exec().now();
        let (request, timeout) = {
            let mut world = self.world.lock();
            let request = world.next_request;
            world.next_request += 1;
            world.record(
                now,
                EventKind::ClientRequest {
                    request,
                    node: id,
                    command: command.to_string(),
                },
            );
            (request, world.config.client_timeout)
        };
        let world = self.world.clone();
        self.exec().enter_as(Some(id), || {
            self.exec()
                .spawn(serve(world, id, request, command, timeout))
        });
        self.exec().run_ready();
        self.observe();
        Ok(request)
    }
}

/// How long a node without a known leader waits before looking again.
const LEADER_POLL: Duration = Duration::from_millis(50);

/// What one attempt at the leader gave.
enum Attempt {
    Done(Result<Applied, String>),
    /// Not (or no longer) the leader: try again at the one it names, or once one is known.
    Retry,
}

/// Writes `command` at `raft`, which believes it leads.
async fn write_at_leader(raft: SimRaft, command: Command) -> Attempt {
    #[cfg(test)]
    if let Some(fake) = fake_acknowledgement(&command) {
        return Attempt::Done(Ok(fake));
    }
    match raft.client_write(command.into()).await {
        Ok(response) => Attempt::Done(Ok(response.data)),
        Err(RaftError::APIError(ClientWriteError::ForwardToLeader(_))) => Attempt::Retry,
        Err(err) => Attempt::Done(Err(err.to_string())),
    }
}

/// Under the test-only [`Mutation::DropAckedWrite`](crate::mutation::Mutation::DropAckedWrite),
/// the answer a leader gives to a create it drops: "created", every replica pending.
#[cfg(test)]
fn fake_acknowledgement(command: &Command) -> Option<Applied> {
    use crate::model::Outcome;
    use crate::model::ServiceView;
    let Command::CreateServices { services } = command else {
        return None;
    };
    if !crate::mutation::drops_this_create() {
        return None;
    }
    let services = services
        .iter()
        .map(|spec| ServiceView {
            id: 0,
            label: spec.label.clone(),
            uniq_id: spec.uniq_id,
            replicas: spec.replicas,
            running: 0,
            pending: spec.replicas,
            placement: Default::default(),
            created_index: 0,
        })
        .collect();
    Some(Applied {
        log_index: 0,
        outcome: Some(Outcome::ServicesCreated { services }),
    })
}

fn answer_forward(raft: &SimRaft, attempt: &Attempt) -> (Label, bool) {
    let detail = match attempt {
        Attempt::Done(Ok(applied)) => format!("committed at {}", applied.log_index),
        Attempt::Done(Err(why)) => format!("failed: {why}"),
        Attempt::Retry => "not the leader".to_string(),
    };
    (
        Label {
            kind: MessageKind::ForwardResponse,
            term: term_of(raft),
            detail,
        },
        false,
    )
}

/// Serves one client request at `node` until it is answered or `timeout` passes. Runs as a task
/// of `node`: if the node crashes, the request dies with it and the client never hears back.
pub(crate) async fn serve(
    world: WorldHandle,
    node: NodeId,
    request: RequestId,
    command: Command,
    timeout: Duration,
) {
    let deadline = executor_here().now() + timeout;
    let result = loop {
        let now = executor_here().now();
        if now >= deadline {
            break Err(
                "no answer in time: no leader, or the leader has lost its quorum".to_string(),
            );
        }
        let Some(raft) = world.lock().rafts.get(&node).cloned() else {
            return;
        };
        let leader = raft.metrics().borrow_watched().current_leader;
        let attempt = match leader {
            Some(leader) if leader == node => {
                VirtualRuntime::timeout_at(deadline, write_at_leader(raft, command.clone()))
                    .await
                    .unwrap_or(Attempt::Retry)
            }
            Some(leader) => {
                let label = Label {
                    kind: MessageKind::Forward,
                    term: term_of(&raft),
                    detail: format!("request #{request}"),
                };
                let forwarded = call(
                    &world,
                    (node, leader),
                    label,
                    command.clone(),
                    |leader, command| async move { Some(write_at_leader(leader, command).await) },
                    answer_forward,
                    deadline - now,
                )
                .await;
                forwarded.unwrap_or_else(|| {
                    Attempt::Done(Err(format!("no answer from the leader n{leader} in time: the request may or may not have been committed")))
                })
            }
            None => Attempt::Retry,
        };
        match attempt {
            Attempt::Done(result) => break result,
            Attempt::Retry => VirtualRuntime::sleep(LEADER_POLL).await,
        }
    };
    let now: VirtualInstant = executor_here().now();
    let mut world = world.lock();
    let summary = result
        .as_ref()
        .map(|applied| applied.log_index)
        .map_err(Clone::clone);
    world.record(
        now,
        EventKind::ClientReply {
            request,
            node,
            result: summary,
        },
    );
    world.replies.insert(request, result);
}
