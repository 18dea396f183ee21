//! A node's live report as a stream: its [`NodeReport`] now, then again each time it changes
//! (role, term, vote, leader, indexes, load, links), no more often than [`MIN_INTERVAL`], until
//! the node stops. `GET /events` publishes it as server-sent events; the demo's entry point
//! merges every node's into one stream per cluster for the browser page's live mode.

use std::sync::Arc;
use std::time::Duration;

use flotilla_core::raft::status::NodeReport;
use futures_util::Stream;
use futures_util::stream;
use openraft::RaftMetrics;
use openraft::type_config::alias::WatchReceiverOf;
use openraft_rt::WatchReceiver;
use tokio_util::sync::CancellationToken;

use super::ctx::NodeCtx;
use super::status::node_report;
use crate::types::NativeTypes;

/// The shortest time between two summaries: changes closer together are published as one
/// (a leader's metrics change on every heartbeat answer).
pub const MIN_INTERVAL: Duration = Duration::from_millis(50);

/// The node's summaries as they change; ends when the node is asked to stop, so a server
/// shutting down is not held open by its listeners.
pub fn summaries(ctx: Arc<NodeCtx>) -> impl Stream<Item = NodeReport> + Send + 'static {
    let watcher = Watcher {
        metrics: ctx.raft.metrics(),
        links: ctx.links.watch(),
        stopping: ctx.stopping(),
        last: None,
        ctx,
    };
    stream::unfold(watcher, |mut watcher| async move {
        let summary = watcher.next_change().await?;
        Some((summary, watcher))
    })
}

/// What the stream keeps between two summaries.
struct Watcher {
    ctx: Arc<NodeCtx>,
    metrics: WatchReceiverOf<NativeTypes, RaftMetrics<NativeTypes>>,
    links: tokio::sync::watch::Receiver<u64>,
    stopping: CancellationToken,
    last: Option<NodeReport>,
}

impl Watcher {
    /// Waits for the summary to differ from the last one published (the first call returns it
    /// at once); `None` once the node stops.
    async fn next_change(&mut self) -> Option<NodeReport> {
        loop {
            if self.last.is_some() {
                tokio::select! {
                    changed = self.metrics.changed() => changed.ok()?,
                    changed = self.links.changed() => changed.ok()?,
                    () = self.stopping.cancelled() => return None,
                }
                tokio::time::sleep(MIN_INTERVAL).await;
            }
            if self.stopping.is_cancelled() {
                return None;
            }
            let summary = node_report(&self.ctx);
            if self.last.as_ref() != Some(&summary) {
                self.last = Some(summary.clone());
                return Some(summary);
            }
        }
    }
}
