//! [`NodeCluster`]: a cluster of real `flotilla node` processes, each with its data directory on
//! disk, for the tests that kill, restart and partition them (chaos, crash recovery).
//!
//! Nodes listen on ports from [`free_ports`] (below the ephemeral range), so a node restarted
//! after kill -9 gets its port back even while other processes open connections.

use std::path::Path;
use std::path::PathBuf;
use std::time::Duration;

use serde_json::Value;
use serde_json::json;

use crate::process::Proc;
use crate::process::free_ports;
use crate::process::get;
use crate::process::poll;
use crate::process::post;

/// How long a cluster may take to form or to elect a leader, on a loaded machine.
pub const FORM_LIMIT: Duration = Duration::from_secs(60);

/// Real node processes: node `i + 1` is `nodes[i]`; node 1 founded the cluster.
pub struct NodeCluster {
    /// The node processes, by index (node id minus one).
    pub nodes: Vec<Proc>,
    /// Where each node keeps its data.
    pub data_dirs: Vec<PathBuf>,
    /// Where logs and port files go.
    pub log_dir: PathBuf,
}

impl NodeCluster {
    /// Starts `count` nodes under `dir` (`node-ID/` data directories, logs beside them) with
    /// `extra` flags each: node 1 founds the cluster, the others join it one by one. Waits until
    /// every node is a member.
    pub fn start(count: usize, dir: &Path, extra: &[&str]) -> NodeCluster {
        let mut cluster = NodeCluster {
            nodes: Vec::new(),
            data_dirs: Vec::new(),
            log_dir: dir.to_path_buf(),
        };
        let base = free_ports(count as u16);
        for index in 0..count {
            let id = index + 1;
            let data = dir.join(format!("node-{id}"));
            let listen = format!("localhost:{}", base + index as u16);
            let first = cluster.nodes.first().map(|node| node.addr.clone());
            let node = cluster.spawn_node(id, &data, &listen, first.as_deref(), extra);
            cluster.nodes.push(node);
            cluster.data_dirs.push(data);
            if id == 1 {
                cluster.wait_leader(FORM_LIMIT);
            }
        }
        let all = poll(FORM_LIMIT, || {
            let (_, state) = get(&cluster.nodes[0].addr, "/state");
            (state["nodes"].as_array()?.len() == count).then_some(())
        });
        assert!(
            all.is_some(),
            "timed out waiting for {count} members; {:?}\n{}",
            get(&cluster.nodes[0].addr, "/state"),
            cluster.logs()
        );
        cluster
    }

    /// Starts node `id` on `data`, listening on `listen`, joining through `join` (if any).
    pub fn spawn_node(
        &self,
        id: usize,
        data: &Path,
        listen: &str,
        join: Option<&str>,
        extra: &[&str],
    ) -> Proc {
        let id_text = id.to_string();
        let mut args = vec![
            "node",
            "--id",
            &id_text,
            "--listen",
            listen,
            "--data-dir",
            data.to_str().expect("a UTF-8 path"),
        ];
        if let Some(join) = join {
            args.extend(["--join", join]);
        }
        args.extend(extra);
        let (node, _) = Proc::start_on_free_ports(&args, &self.log_dir, &format!("node-{id}"));
        node
    }

    /// The addresses of the nodes, by index.
    pub fn addrs(&self) -> Vec<String> {
        self.nodes.iter().map(|node| node.addr.clone()).collect()
    }

    /// The index of the leader of the highest term among the running nodes, if any says it
    /// leads.
    pub fn leader(&mut self) -> Option<usize> {
        let mut best: Option<(usize, u64)> = None;
        for (index, node) in self.nodes.iter_mut().enumerate() {
            if !node.is_running() {
                continue;
            }
            let (status, stats) = get(&node.addr, "/stats");
            if status == 200 && stats["role"] == "leader" {
                let term = stats["term"].as_u64().unwrap_or(0);
                if best.is_none_or(|(_, best_term)| term > best_term) {
                    best = Some((index, term));
                }
            }
        }
        best.map(|(index, _)| index)
    }

    /// Waits up to `limit` for a leader; panics with the logs if none comes.
    pub fn wait_leader(&mut self, limit: Duration) -> usize {
        match poll(limit, || self.leader()) {
            Some(index) => index,
            None => panic!("no leader within {limit:?}\n{}", self.logs()),
        }
    }

    /// Heals every link of every running node (a restarted node's links are all up anyway).
    pub fn heal_all(&mut self) {
        for node in &mut self.nodes {
            if !node.is_running() {
                continue;
            }
            let (status, links) = get(&node.addr, "/connections");
            let Some(links) = links.as_object().filter(|_| status == 200) else {
                continue;
            };
            let all_up: serde_json::Map<String, Value> =
                links.keys().map(|peer| (peer.clone(), json!(1))).collect();
            if !all_up.is_empty() {
                post(&node.addr, "/connections", &Value::Object(all_up));
            }
        }
    }

    /// Every node's log, one after the other.
    pub fn logs(&self) -> String {
        self.nodes
            .iter()
            .enumerate()
            .map(|(index, node)| format!("---- node {} ----\n{}", index + 1, tail(&node.log())))
            .collect::<Vec<_>>()
            .join("\n")
    }
}

/// The last 60 lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(60)..].join("\n")
}

/// A temporary directory for a test's processes, removed when the test passes and kept (its path
/// printed) when it fails, so the nodes' logs and data can be read afterwards.
pub struct TestDir(Option<tempfile::TempDir>);

impl TestDir {
    /// A new temporary directory.
    pub fn new() -> TestDir {
        TestDir(Some(tempfile::tempdir().expect("temp dir")))
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        self.0.as_ref().expect("present until dropped").path()
    }
}

impl Default for TestDir {
    fn default() -> Self {
        TestDir::new()
    }
}

impl Drop for TestDir {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.0.take()
        {
            eprintln!(
                "the test failed: its logs and data are kept in {}",
                dir.keep().display()
            );
        }
    }
}
