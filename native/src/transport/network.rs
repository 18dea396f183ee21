//! openraft's network traits over [`PeerClient`]: each Raft RPC is one HTTP POST.

use std::future::Future;
use std::io::Cursor;
use std::time::Duration;

use flotilla_core::raft::Member;
use flotilla_core::raft::send_unless_closed;
use openraft::OptionalSend;
use openraft::RaftNetworkFactory;
use openraft::alias::SnapshotOf;
use openraft::alias::VoteOf;
use openraft::errors::RPCError;
use openraft::errors::ReplicationClosed;
use openraft::errors::StreamingError;
use openraft::errors::Timeout;
use openraft::errors::Unreachable;
use openraft::network::RPCOption;
use openraft::network::RPCTypes;
use openraft::network::v2::RaftNetworkV2;
use openraft::raft::AppendEntriesRequest;
use openraft::raft::AppendEntriesResponse;
use openraft::raft::SnapshotResponse;
use openraft::raft::VoteRequest;
use openraft::raft::VoteResponse;

use super::client::CallError;
use super::client::PeerClient;
use super::wire;
use crate::types::NativeTypes;

/// The least time a snapshot transfer gets, whatever openraft's per-RPC deadline says.
const SNAPSHOT_TIMEOUT: Duration = Duration::from_secs(30);

/// Hands openraft one [`PeerConnection`] per peer; all share the node's connection pool.
pub struct HttpNetwork {
    client: PeerClient,
    from: u64,
}

impl HttpNetwork {
    /// The network of node `from`, sending through `client`.
    pub fn new(from: u64, client: PeerClient) -> Self {
        HttpNetwork { client, from }
    }
}

impl RaftNetworkFactory<NativeTypes> for HttpNetwork {
    type Network = PeerConnection;

    async fn new_client(&mut self, target: u64, node: &Member) -> PeerConnection {
        PeerConnection {
            client: self.client.clone(),
            from: self.from,
            target,
            addr: node.addr.clone(),
        }
    }
}

/// One node's Raft connection to one peer.
pub struct PeerConnection {
    client: PeerClient,
    from: u64,
    target: u64,
    addr: String,
}

/// A remote Raft handler's result: its answer or its error in words.
type Remote<T> = Result<T, String>;

impl PeerConnection {
    async fn rpc<Req, Resp>(
        &self,
        path: &str,
        action: RPCTypes,
        request: &Req,
        timeout: Duration,
    ) -> Result<Resp, RPCError<NativeTypes>>
    where
        Req: serde::Serialize,
        Resp: serde::de::DeserializeOwned,
    {
        match self
            .client
            .call::<Req, Remote<Resp>>(&self.addr, path, request, timeout)
            .await
        {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(remote)) => Err(RPCError::Unreachable(Unreachable::from_string(format!(
                "{} answered with an error: {remote}",
                self.addr
            )))),
            Err(CallError::Timeout(_)) => Err(RPCError::Timeout(Timeout {
                action,
                id: self.from,
                target: self.target,
                timeout,
            })),
            // A cut link, a lost answer, a refused connection: back off before retrying.
            Err(err) => Err(RPCError::Unreachable(Unreachable::from_string(
                err.to_string(),
            ))),
        }
    }
}

impl RaftNetworkV2<NativeTypes> for PeerConnection {
    type SnapshotData = Cursor<Vec<u8>>;

    async fn append_entries(
        &mut self,
        request: AppendEntriesRequest<NativeTypes>,
        option: RPCOption,
    ) -> Result<AppendEntriesResponse<NativeTypes>, RPCError<NativeTypes>> {
        self.rpc(
            wire::APPEND,
            RPCTypes::AppendEntries,
            &request,
            option.hard_ttl(),
        )
        .await
    }

    async fn vote(
        &mut self,
        request: VoteRequest<NativeTypes>,
        option: RPCOption,
    ) -> Result<VoteResponse<NativeTypes>, RPCError<NativeTypes>> {
        self.rpc(wire::VOTE, RPCTypes::Vote, &request, option.hard_ttl())
            .await
    }

    /// Forwarded to the peer's own pre-vote handling: openraft's default would grant blindly.
    async fn pre_vote(
        &mut self,
        request: VoteRequest<NativeTypes>,
        option: RPCOption,
    ) -> Result<VoteResponse<NativeTypes>, RPCError<NativeTypes>> {
        self.rpc(wire::PRE_VOTE, RPCTypes::Vote, &request, option.hard_ttl())
            .await
    }

    async fn full_snapshot(
        &mut self,
        vote: VoteOf<NativeTypes>,
        snapshot: SnapshotOf<NativeTypes, Cursor<Vec<u8>>>,
        cancel: impl Future<Output = ReplicationClosed> + OptionalSend + 'static,
        option: RPCOption,
    ) -> Result<SnapshotResponse<NativeTypes>, StreamingError<NativeTypes>> {
        let timeout = option.hard_ttl().max(SNAPSHOT_TIMEOUT);
        let request = (vote, snapshot.meta, snapshot.snapshot.into_inner());
        let send = async {
            self.rpc(wire::SNAPSHOT, RPCTypes::InstallSnapshot, &request, timeout)
                .await
                .map_err(|err| match err {
                    RPCError::Timeout(timeout) => StreamingError::Timeout(timeout),
                    RPCError::Network(err) => StreamingError::Network(err),
                    other => {
                        StreamingError::Unreachable(Unreachable::from_string(other.to_string()))
                    }
                })
        };
        send_unless_closed(send, cancel).await
    }
}
