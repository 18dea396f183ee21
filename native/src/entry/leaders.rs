//! [`LeaderCache`]: the leader the entry point last heard of, per cluster, so a write goes
//! straight to it instead of asking every node's `/stats` first.
//!
//! The cache is only a hint: a write sent to a node that no longer leads is forwarded by that
//! node (any node is an entry point), and its answer names the leader it knows
//! ([`LEADER_HEADER`](crate::api::node::LEADER_HEADER)), which replaces the hint. A node that
//! cannot be reached, or that knows no leader, empties the cluster's entry, and the next request
//! asks every node again.

use std::collections::BTreeMap;
use std::sync::Mutex;

/// The last leader address heard of, by cluster id.
#[derive(Debug, Default)]
pub struct LeaderCache {
    leaders: Mutex<BTreeMap<String, String>>,
}

impl LeaderCache {
    /// The leader of `cluster` last heard of, if any.
    pub fn get(&self, cluster: &str) -> Option<String> {
        self.lock().get(cluster).cloned()
    }

    /// Remembers `addr` as `cluster`'s leader.
    pub fn set(&self, cluster: &str, addr: &str) {
        let mut leaders = self.lock();
        if leaders.get(cluster).map(String::as_str) != Some(addr) {
            leaders.insert(cluster.to_string(), addr.to_string());
        }
    }

    /// Forgets `cluster`'s leader: the next request asks its nodes again.
    pub fn forget(&self, cluster: &str) {
        self.lock().remove(cluster);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, BTreeMap<String, String>> {
        self.leaders.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_replaces_and_forgets_per_cluster() {
        let cache = LeaderCache::default();
        assert_eq!(cache.get("0"), None);
        cache.set("0", "127.0.0.1:8001");
        cache.set("1", "127.0.0.1:9001");
        cache.set("0", "127.0.0.1:8002");
        assert_eq!(cache.get("0").as_deref(), Some("127.0.0.1:8002"));
        cache.forget("0");
        assert_eq!(cache.get("0"), None);
        assert_eq!(cache.get("1").as_deref(), Some("127.0.0.1:9001"));
    }
}
