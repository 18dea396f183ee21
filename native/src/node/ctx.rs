//! [`NodeCtx`]: what every part of a running node shares — its identity, its Raft, its stores,
//! its links and its stop signal.

use std::collections::BTreeMap;
use std::time::Duration;

use flotilla_core::model::Limits;
use flotilla_core::raft::Member;
use openraft_rt::WatchReceiver;
use tokio_util::sync::CancellationToken;

use crate::links::Links;
use crate::metrics::NodeTelemetry;
use crate::store::DiskLogStore;
use crate::store::DurableStateMachine;
use crate::transport::PeerClient;
use crate::types::NativeRaft;
use crate::types::NativeTypes;

/// The log store a native node uses: on disk.
pub type LogStore = DiskLogStore<NativeTypes>;
/// The state machine a native node uses: in memory, its latest snapshot on disk.
pub type StateMachine = DurableStateMachine<NativeTypes>;

/// What every handler of a node sees: the node's identity, its Raft, its stores and links.
pub struct NodeCtx {
    /// Raft id.
    pub id: u64,
    /// Human name.
    pub name: String,
    /// Advertised `host:port`.
    pub addr: String,
    /// Replica capacity.
    pub capacity: u32,
    /// Cluster name.
    pub cluster: String,
    /// The Raft handle.
    pub raft: NativeRaft,
    /// The log (read by `/stats`).
    pub log: LogStore,
    /// The orchestrator state.
    pub state_machine: StateMachine,
    /// Which outgoing links are cut.
    pub links: Links,
    /// Client for calling peers (honours `links`).
    pub peers: PeerClient,
    /// How long a client request may wait.
    pub request_timeout: Duration,
    /// How big this node lets the state and one request grow (checked before proposing).
    pub limits: Limits,
    /// Requests waiting for a leader queue here, so they go out in arrival order.
    pub leader_queue: tokio::sync::Mutex<()>,
    /// Joins and leaves this node carries out as leader go one at a time, each deciding on the
    /// membership the previous one left.
    pub membership_changes: tokio::sync::Mutex<()>,
    /// What the node counts and measures, for `/metrics`.
    pub telemetry: NodeTelemetry,
    /// Cancelled when the node is asked to stop.
    pub(super) stop: CancellationToken,
}

impl NodeCtx {
    /// Asks the node to shut down (its server stops accepting, then Raft stops).
    pub fn request_stop(&self) {
        self.stop.cancel();
    }

    /// A token cancelled when the node is asked to stop.
    pub fn stopping(&self) -> CancellationToken {
        self.stop.clone()
    }

    /// The members (voters and learners) of the membership this node currently knows, by id.
    pub fn members(&self) -> BTreeMap<u64, Member> {
        let metrics = self.raft.metrics();
        let metrics = metrics.borrow_watched();
        metrics
            .membership_config
            .membership()
            .nodes()
            .map(|(id, member)| (*id, member.clone()))
            .collect()
    }

    /// The address of member `id`, as the current membership records it.
    pub fn member_addr(&self, id: u64) -> Option<String> {
        self.members().remove(&id).map(|member| member.addr)
    }
}
