//! [`compact_when_due`]: when a node snapshots its state (and so compacts its log). Building a
//! snapshot copies and encodes the whole state, so a fixed "every N entries" makes each write
//! cost more as the state grows: with tens of thousands of services it took a third of a busy
//! node's CPU. Instead a snapshot is due once the entries applied since the last one reach the
//! larger of `min_entries` and the state's size (its services and nodes): the work per write
//! stays the same however big the state is, and the log kept is at most about as long as the
//! state is big.

use std::sync::Arc;

use openraft_rt::WatchReceiver;

use super::ctx::NodeCtx;

/// Whether a snapshot is due: `since` entries applied after the last snapshot, a state of
/// `state_size` services and nodes, at least `min_entries` between snapshots.
pub fn snapshot_due(since: u64, state_size: u64, min_entries: u64) -> bool {
    since >= min_entries.max(state_size)
}

/// Watches the node's applied index and asks openraft for a snapshot whenever one is due
/// ([`snapshot_due`]). Ends when the node's Raft stops.
pub async fn compact_when_due(ctx: Arc<NodeCtx>, min_entries: u64) {
    let mut metrics = ctx.raft.metrics();
    // The applied index at the last request, so a build in progress is not asked for again.
    let mut asked_at: Option<u64> = None;
    loop {
        let (applied, snapshot) = {
            let metrics = metrics.borrow_watched();
            (
                metrics.last_applied.map(|id| id.index),
                metrics.snapshot.map(|id| id.index),
            )
        };
        if let Some(applied) = applied {
            let base = snapshot.max(asked_at).unwrap_or(0);
            let since = applied.saturating_sub(base);
            let size = ctx
                .state_machine
                .core()
                .read(|state| state.services().len() + state.nodes().len());
            if snapshot_due(since, size as u64, min_entries) {
                asked_at = Some(applied);
                if ctx.raft.trigger().snapshot().await.is_err() {
                    return;
                }
            }
        }
        if metrics.changed().await.is_err() {
            return;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_is_due_after_the_larger_of_the_minimum_and_the_state_size() {
        assert!(!snapshot_due(999, 10, 1000));
        assert!(snapshot_due(1000, 10, 1000));
        assert!(!snapshot_due(1000, 40_000, 1000));
        assert!(snapshot_due(40_000, 40_000, 1000));
    }
}
