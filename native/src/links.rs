//! [`Links`]: which of this node's outgoing links are cut.
//!
//! Links are directed: cutting A→B on A loses everything A would send to B — A's Raft requests,
//! A's answers to B's requests and client requests A forwards to B — while B→A keeps working.
//! The transport consults this table before every send and before answering a peer, and the
//! node's event stream watches it to publish cuts as they happen.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::RwLock;

use tokio::sync::watch;

use crate::addr::canonical;

/// The set of peer addresses (`host:port`, in [`canonical`] spelling) this node's links to are
/// cut. Shared by handle.
#[derive(Clone, Debug)]
pub struct Links {
    cut: Arc<RwLock<BTreeSet<String>>>,
    /// Bumped on every change, for whoever watches the links.
    changes: Arc<watch::Sender<u64>>,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            cut: Arc::default(),
            changes: Arc::new(watch::channel(0).0),
        }
    }
}

impl Links {
    /// Whether what this node sends to `addr` arrives.
    pub fn is_up(&self, addr: &str) -> bool {
        let cut = self
            .cut
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        !cut.contains(&canonical(addr))
    }

    /// Cuts (`up == false`) or heals the link from this node to `addr`.
    pub fn set(&self, addr: &str, up: bool) {
        let mut cut = self
            .cut
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let changed = if up {
            cut.remove(&canonical(addr))
        } else {
            cut.insert(canonical(addr))
        };
        drop(cut);
        if changed {
            self.changes.send_modify(|version| *version += 1);
        }
    }

    /// A receiver that sees a change each time a link is cut or healed.
    pub fn watch(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_are_up_until_cut_and_loopback_spellings_agree() {
        let links = Links::default();
        assert!(links.is_up("localhost:8002"));
        links.set("127.0.0.1:8002", false);
        assert!(!links.is_up("localhost:8002"));
        assert!(links.is_up("localhost:8003"));
        links.set("localhost:8002", true);
        assert!(links.is_up("127.0.0.1:8002"));
    }

    #[test]
    fn watchers_see_cuts_and_heals_but_not_repeats() {
        let links = Links::default();
        let mut watcher = links.watch();
        links.set("localhost:8002", false);
        assert!(watcher.has_changed().unwrap());
        watcher.mark_unchanged();
        links.set("localhost:8002", false);
        assert!(
            !watcher.has_changed().unwrap(),
            "cutting a cut link is no change"
        );
        links.set("localhost:8002", true);
        assert!(watcher.has_changed().unwrap());
    }
}
