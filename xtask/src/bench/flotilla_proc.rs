//! Flotilla as the comparison bench runs it: the release binary (built first), a demo of 3
//! nodes in one process for the write load ([`Demo`], through the entry point a user calls), and
//! 3 `flotilla node` processes for failover ([`NodeCluster`], since killing the leader must kill
//! only the leader). Every node keeps its data on disk, fsync'd; everything lives in a
//! temporary directory removed afterwards.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;

use super::child::{ChildGuard, TempDir, free_ports, wait_for};
use super::http;
use crate::cmd::{Cmd, Error, Result, workspace_root};

/// How long a cluster may take to start and elect a leader on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Timeout of one control request (probe, stats).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);

/// Flags that size the cluster for the load instead of for the demo: room for every replica the
/// bench creates (so each write places its 3 replicas instead of queueing them as pending) and
/// for more services than the default limit of 10,000.
pub const LOAD_FLAGS: [&str; 6] = [
    "--capacity",
    "1000000",
    "--max-services",
    "100000000",
    "--max-replicas",
    "300000000",
];

/// Builds `flotilla` in release mode and returns the binary's path.
pub fn build_release() -> Result<PathBuf> {
    Cmd::cargo()
        .args(["build", "--release", "--package", "flotilla"])
        .run()?;
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|dir| {
            if dir.is_absolute() {
                dir
            } else {
                workspace_root().join(dir)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"));
    let bin = target.join("release").join("flotilla");
    if bin.is_file() {
        Ok(bin)
    } else {
        Err(Error::new(format!(
            "`cargo build --release -p flotilla` left no binary at {}",
            bin.display()
        )))
    }
}

/// The body of a write creating one service of 3 replicas labelled `label`, in the shape the
/// README shows.
pub fn service_body(label: &str) -> String {
    format!(r#"{{"container": {{"label": "{label}"}}, "replicas": 3}}"#)
}

/// `flotilla demo --nodes N --data-dir DIR --port 0 --port-file F` plus [`LOAD_FLAGS`]: the API
/// and its nodes in one process, killed and its data removed when dropped.
#[derive(Debug)]
pub struct Demo {
    /// The API's address, `127.0.0.1:PORT`.
    pub api: String,
    /// The exact command line, for the record.
    pub command: String,
    process: ChildGuard,
    _dir: TempDir,
}

impl Demo {
    /// Starts the demo and waits until a write through its API is acknowledged.
    pub fn start(bin: &Path, nodes: u16) -> Result<Self> {
        let dir = TempDir::new("flotilla-demo")?;
        let port_file = dir.path().join("ports.json");
        let mut args: Vec<String> = vec![
            "demo".into(),
            "--nodes".into(),
            nodes.to_string(),
            "--data-dir".into(),
            path_arg(&dir.path().join("data"))?,
            "--port".into(),
            "0".into(),
            "--port-file".into(),
            path_arg(&port_file)?,
        ];
        args.extend(LOAD_FLAGS.iter().map(|flag| flag.to_string()));
        // The temporary directory differs per run: the record says DIR.
        let command = format!("flotilla {}", args.join(" ")).replace(&path_arg(dir.path())?, "DIR");
        let mut process = ChildGuard::spawn(
            "flotilla demo",
            bin,
            args,
            Vec::new(),
            &dir.path().join("demo.log"),
        )?;
        let bound = read_port_file(&mut process, &port_file)?;
        let api = bound["api"]
            .as_str()
            .map(loopback)
            .ok_or_else(|| Error::new(format!("no \"api\" in the demo's port file: {bound}")))?;
        wait_for("a first write through the demo's API", START_LIMIT, || {
            process.check_running()?;
            let reply = http::post_json(
                &api,
                "/clusters/0/service",
                &service_body("bench-ready"),
                CONTROL_TIMEOUT,
            );
            Ok(reply.ok().filter(http::Reply::is_success).map(|_| ()))
        })?;
        Ok(Self {
            api,
            command,
            process,
            _dir: dir,
        })
    }

    /// Fails if the demo has ended.
    pub fn check_running(&mut self) -> Result {
        self.process.check_running()
    }
}

/// One `flotilla node` process of a [`NodeCluster`].
#[derive(Debug)]
struct Node {
    addr: String,
    process: ChildGuard,
}

/// Three (or more) `flotilla node` processes on disk, each on a port of its own: node 1 founds
/// the cluster and the others join it. Killed and their data removed when dropped.
#[derive(Debug)]
pub struct NodeCluster {
    nodes: Vec<Node>,
    _dir: TempDir,
}

impl NodeCluster {
    /// The process ids of the running nodes.
    pub fn pids(&self) -> Vec<u32> {
        self.nodes
            .iter()
            .filter_map(|node| node.process.pid())
            .collect()
    }

    /// Starts `count` nodes with Flotilla's default Raft timing and waits until every one is a
    /// member and a leader is elected.
    pub fn start(bin: &Path, count: usize) -> Result<Self> {
        let dir = TempDir::new("flotilla-nodes")?;
        let ports = free_ports(count)?;
        let mut cluster = Self {
            nodes: Vec::new(),
            _dir: dir,
        };
        for (index, port) in ports.into_iter().enumerate() {
            let id = index + 1;
            let addr = format!("127.0.0.1:{port}");
            let data = cluster._dir.path().join(format!("node-{id}"));
            let port_file = cluster._dir.path().join(format!("node-{id}.ports"));
            let mut args: Vec<String> = vec![
                "node".into(),
                "--id".into(),
                id.to_string(),
                "--listen".into(),
                addr.clone(),
                "--data-dir".into(),
                path_arg(&data)?,
                "--port-file".into(),
                path_arg(&port_file)?,
            ];
            if let Some(first) = cluster.nodes.first() {
                args.extend(["--join".to_string(), first.addr.clone()]);
            }
            let mut process = ChildGuard::spawn(
                &format!("flotilla node {id}"),
                bin,
                args,
                Vec::new(),
                &cluster._dir.path().join(format!("node-{id}.log")),
            )?;
            read_port_file(&mut process, &port_file)?;
            cluster.nodes.push(Node { addr, process });
            // Joins go through node 1, which must lead its one-node cluster first.
            if id == 1 {
                wait_for("node 1 leading its cluster", START_LIMIT, || {
                    cluster.check_running()?;
                    Ok(cluster.leader())
                })?;
            }
        }
        wait_for(
            &format!("{count} flotilla nodes agreeing on a leader"),
            START_LIMIT,
            || {
                cluster.check_running()?;
                cluster.healthy()
            },
        )?;
        Ok(cluster)
    }

    /// How many nodes the cluster has.
    pub fn len(&self) -> usize {
        self.nodes.len()
    }

    /// The address of node `index` (node id minus one).
    pub fn addr(&self, index: usize) -> &str {
        &self.nodes[index].addr
    }

    /// The index of the node that says it leads in the highest term, if any does.
    pub fn leader(&self) -> Option<usize> {
        let mut best: Option<(usize, u64)> = None;
        for (index, node) in self.nodes.iter().enumerate() {
            let Some(stats) = stats(&node.addr) else {
                continue;
            };
            if stats["role"] == "leader" {
                let term = stats["term"].as_u64().unwrap_or(0);
                if best.is_none_or(|(_, best_term)| term > best_term) {
                    best = Some((index, term));
                }
            }
        }
        best.map(|(index, _)| index)
    }

    /// Whether every node answers, all name the same leader, every node knows every member, and
    /// each has applied what the leader had committed when asked (so a restarted node has
    /// caught up before the next kill).
    pub fn healthy(&self) -> Result<Option<()>> {
        let Some(leader) = self.leader() else {
            return Ok(None);
        };
        let Some(leader_stats) = stats(&self.nodes[leader].addr) else {
            return Ok(None);
        };
        let committed = leader_stats["commit_index"].as_u64().unwrap_or(u64::MAX);
        for node in &self.nodes {
            let Some(stats) = stats(&node.addr) else {
                return Ok(None);
            };
            let members = stats["members"].as_object().map_or(0, |m| m.len());
            let applied = stats["applied_index"].as_u64().unwrap_or(0);
            if stats["leader"] != leader_stats["leader"]
                || members != self.nodes.len()
                || applied < committed
            {
                return Ok(None);
            }
        }
        Ok(Some(()))
    }

    /// Kills node `index` with SIGKILL.
    pub fn kill(&mut self, index: usize) {
        self.nodes[index].process.kill();
    }

    /// Starts node `index` again on its data directory and port.
    pub fn restart(&mut self, index: usize) -> Result {
        self.nodes[index].process.restart()
    }

    /// Fails, with the log of the node that ended, if any node has ended unasked.
    pub fn check_running(&mut self) -> Result {
        self.nodes
            .iter_mut()
            .try_for_each(|node| node.process.check_running())
    }
}

/// A node's `/stats`, if it answers.
fn stats(addr: &str) -> Option<Value> {
    let reply = http::get(addr, "/stats?limit=0", CONTROL_TIMEOUT).ok()?;
    reply.is_success().then(|| reply.json())
}

/// Waits for the port file a process writes once its listeners are bound; fails with the
/// process's log if it ends first.
fn read_port_file(process: &mut ChildGuard, port_file: &Path) -> Result<Value> {
    let what = format!("{} writing {}", process.name(), port_file.display());
    wait_for(&what, START_LIMIT, || {
        process.check_running()?;
        // Written whole (beside it, then renamed): once it exists, it parses.
        match std::fs::read_to_string(port_file) {
            Ok(text) => serde_json::from_str(&text).map(Some).map_err(|e| {
                Error::new(format!("{} is not JSON ({e}): {text}", port_file.display()))
            }),
            Err(_) => Ok(None),
        }
    })
}

/// `localhost:PORT` as `127.0.0.1:PORT`: the servers listen on IPv4 loopback, and a client that
/// tries `::1` first would count refused connections.
fn loopback(addr: &str) -> String {
    match addr.strip_prefix("localhost:") {
        Some(port) => format!("127.0.0.1:{port}"),
        None => addr.to_string(),
    }
}

/// A path as a command-line argument (the servers need UTF-8 paths).
pub fn path_arg(path: &Path) -> Result<String> {
    path.to_str()
        .map(str::to_string)
        .ok_or_else(|| Error::new(format!("{} is not a UTF-8 path", path.display())))
}
