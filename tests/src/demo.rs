//! A real `flotilla demo` for the process tests: started on ports nobody else can take, with its
//! data in a temporary directory, and returned once its cluster `0` has a leader that lists every
//! node. [`Demo::builder`] sets the node count and any extra flags.
//!
//! Every demo may spawn nodes and create clusters on the ports [`free_ports`] hands out
//! ([`SPAWN_PORTS`]), so a test names such a port with `free_ports` and passes it to the API.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use crate::process::Proc;
use crate::process::free_ports;
use crate::process::get;
use crate::process::wait_for;

/// The ports [`free_ports`] hands out, given to every demo as `--spawn-ports`.
pub const SPAWN_PORTS: &str = "20000-32767";

/// How long a demo may take to elect a leader that lists every node: a bound on waiting, not a
/// speed claim; generous, because parallel process tests load the machine.
const LEADER_WAIT: Duration = Duration::from_secs(60);

/// A running demo: its process, its nodes' addresses (node 1 first) and its temporary directory
/// (its data, port file and log).
pub struct Demo {
    /// The `flotilla demo` process (its `addr` is the API's).
    pub proc: Proc,
    nodes: Vec<String>,
    dir: tempfile::TempDir,
}

/// How to start a [`Demo`]: made by [`Demo::builder`], run by [`DemoBuilder::start`].
pub struct DemoBuilder {
    nodes: usize,
    extra: Vec<String>,
    restartable: bool,
}

impl DemoBuilder {
    /// The number of nodes of cluster `0` (5 unless set).
    pub fn nodes(mut self, nodes: usize) -> DemoBuilder {
        self.nodes = nodes;
        self
    }

    /// More flags for `flotilla demo` (`--token T`, `--cluster-secret S`, …).
    pub fn args(mut self, extra: &[&str]) -> DemoBuilder {
        self.extra.extend(extra.iter().map(|arg| arg.to_string()));
        self
    }

    /// Names the ports up front (API on a free port, nodes on the ones after it) instead of
    /// letting the OS pick them, so that [`Proc::restart`] brings the demo back on the same
    /// ports, where its stored membership says its nodes are.
    pub fn restartable(mut self) -> DemoBuilder {
        self.restartable = true;
        self
    }

    /// Starts the demo and waits until a leader lists all its nodes.
    pub fn start(self) -> Demo {
        let dir = tempfile::tempdir().expect("temp dir");
        let data_dir = dir.path().join("data");
        let nodes = self.nodes.to_string();
        let mut args = vec![
            "demo",
            "--nodes",
            &nodes,
            "--data-dir",
            data_dir.to_str().expect("a UTF-8 path"),
            "--spawn-ports",
            SPAWN_PORTS,
        ];
        args.extend(self.extra.iter().map(String::as_str));
        let (proc, addrs) = if self.restartable {
            let api = free_ports(u16::try_from(self.nodes + 1).expect("a few nodes"));
            let port = api.to_string();
            args.extend(["--port", &port]);
            let proc = Proc::start(&args, &format!("localhost:{api}"), dir.path(), "demo");
            let addrs = (1..=self.nodes)
                .map(|n| format!("localhost:{}", usize::from(api) + n))
                .collect();
            (proc, addrs)
        } else {
            args.extend(["--port", "0"]);
            let (proc, bound) = Proc::start_on_free_ports(&args, dir.path(), "demo");
            let addrs = (1..=self.nodes)
                .map(|n| {
                    bound["nodes"][n.to_string()]
                        .as_str()
                        .unwrap_or_else(|| panic!("node {n} in the port file: {bound}"))
                        .to_string()
                })
                .collect();
            (proc, addrs)
        };
        let demo = Demo {
            proc,
            nodes: addrs,
            dir,
        };
        demo.wait_for_leader();
        demo
    }
}

impl Demo {
    /// A builder for a demo of 5 nodes with no extra flags.
    pub fn builder() -> DemoBuilder {
        DemoBuilder {
            nodes: 5,
            extra: Vec::new(),
            restartable: false,
        }
    }

    /// A demo of 5 nodes with no extra flags.
    pub fn start() -> Demo {
        Demo::builder().start()
    }

    /// The API's address (`localhost:PORT`).
    pub fn api(&self) -> String {
        self.proc.addr.clone()
    }

    /// The address of node `n` (1-based) of cluster `0`.
    pub fn node(&self, n: usize) -> String {
        self.nodes[n - 1].clone()
    }

    /// Every node's address, node 1 first.
    pub fn nodes(&self) -> &[String] {
        &self.nodes
    }

    /// The demo's temporary directory (its data, port file and log).
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `GET /clusters/0/state`, which must answer 200.
    pub fn state(&self) -> Value {
        let (status, state) = get(&self.api(), "/clusters/0/state");
        assert_eq!(status, 200, "state: {state}\n{}", self.proc.log());
        state
    }

    /// Waits until cluster `0` has a leader whose stats list every node; returns the stats.
    pub fn wait_for_leader(&self) -> Value {
        wait_for(LEADER_WAIT, "a leader that lists every node", || {
            let (status, stats) = get(&self.api(), "/clusters/0/stats");
            let listed = stats["nodes"].as_array().map_or(0, Vec::len);
            (status == 200 && stats["leader"].is_object() && listed >= self.nodes.len())
                .then_some(stats)
        })
    }

    /// The leader's address, once there is one.
    pub fn leader(&self) -> String {
        let stats = self.wait_for_leader();
        stats["leader"]["addr"]
            .as_str()
            .unwrap_or_else(|| panic!("no leader address in {stats}"))
            .to_string()
    }
}
