//! The command line: `flotilla demo`, `flotilla node` and `flotilla certs`, with every flag
//! explained (the security flags the first two share are in [`security`], the certificate
//! maker's in [`certs`]); the client commands that drive a running cluster (`status`,
//! `service`, `node add|remove|list`, `link`, `cluster`), whose flags live with them in
//! `client` (`flotilla node` is either: [`node`]); and `flotilla completions`
//! ([`completions`]).

pub mod certs;
pub mod completions;
pub mod config;
pub mod limits;
pub mod node;
pub mod security;

use std::net::IpAddr;
use std::ops::RangeInclusive;
use std::path::PathBuf;
use std::time::Duration;

use clap::Args;
use clap::Parser;
use clap::Subcommand;

pub use certs::CertsArgs;
pub use certs::CertsCommand;
pub use completions::CompletionsArgs;
pub use limits::LimitArgs;
pub use limits::ServerLimitArgs;
pub use node::NodeCommand;
pub use security::Access;
pub use security::SecurityArgs;

use crate::client::EXIT_CODES;
use crate::client::args::DEFAULT_API;
use crate::client::cluster::ClusterArgs;
use crate::client::link::LinkArgs;
use crate::client::service::ServiceArgs;
use crate::client::status::StatusArgs;
use crate::node::DEFAULT_CAPACITY;
use crate::node::RaftTiming;
use crate::node::timing::DEFAULT_ELECTION_MAX_MS;
use crate::node::timing::DEFAULT_ELECTION_MIN_MS;
use crate::node::timing::DEFAULT_HEARTBEAT_MS;
use crate::node::timing::DEFAULT_NODE_DOWN_AFTER_MS;
use crate::node::timing::DEFAULT_REQUEST_TIMEOUT_MS;

/// Flotilla: a small container orchestrator whose cluster agrees on everything through Raft.
#[derive(Debug, Parser)]
#[command(name = "flotilla", version, about, long_about = None, after_help = client_help())]
pub struct Cli {
    /// What to run.
    #[command(subcommand)]
    pub command: Command,
    /// Read flag values from this TOML file (keys are flag names: `port = 8000`, `heartbeat-ms =
    /// 50`; a `[demo]` or `[node]` table for one command). A flag given on the command line or
    /// by its FLOTILLA_… environment variable wins over the file
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// How log lines are written to stderr: `text` for people, `json` (one object per line) for
    /// log collectors. Levels come from RUST_LOG (e.g. RUST_LOG=debug, RUST_LOG=openraft=info)
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
}

/// How log lines are written (`--log-format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per event, per line.
    Json,
}

/// What `flotilla --help` says after the commands: how the client commands find the API, and
/// their exit codes.
fn client_help() -> String {
    format!(
        "The client commands (status, service, node add|remove|list, link, cluster) call the API \
         of `flotilla demo` at --api (default {DEFAULT_API}) for --cluster (default 0), with \
         the token in FLOTILLA_TOKEN; --json prints the API's JSON instead of tables.\n\n\
         {EXIT_CODES}"
    )
}

/// The subcommands. Their names and flags are a contract: scripts rely on them.
#[derive(Debug, Subcommand)]
#[allow(
    clippy::large_enum_variant,
    reason = "parsed once per process: the flags of a server are many, a client's few"
)]
pub enum Command {
    /// Start a demo: the API on --port and a cluster "0" of --nodes nodes on the ports after it,
    /// each node its own HTTP server speaking Raft to the others
    Demo(DemoArgs),
    /// Run one node as its own process, to build a cluster across processes and hosts; or,
    /// with add|remove|list, manage a cluster's nodes through the API
    Node(NodeCommand),
    /// Make TLS certificates: a CA for a cluster, and node certificates it signs (for
    /// --tls-ca, --tls-cert and --tls-key)
    Certs(CertsArgs),
    /// The cluster at a glance: leader, term, commit index, nodes and services
    Status(StatusArgs),
    /// Create, scale, delete, list and show services
    Service(ServiceArgs),
    /// Cut or heal the directed link between two nodes
    Link(LinkArgs),
    /// List the clusters the demo's entry point runs, or start another
    Cluster(ClusterArgs),
    /// Print a shell completion script for bash, zsh, fish, elvish or powershell
    Completions(CompletionsArgs),
}

/// Raft timing flags, shared by both subcommands.
#[derive(Debug, Clone, Args)]
pub struct TimingArgs {
    /// Leader heartbeat interval, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_HEARTBEAT_MS)]
    pub heartbeat_ms: u64,
    /// Shortest election timeout, in milliseconds (each timeout is random between min and max)
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_ELECTION_MIN_MS)]
    pub election_min_ms: u64,
    /// Longest election timeout, in milliseconds
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_ELECTION_MAX_MS)]
    pub election_max_ms: u64,
    /// The leader marks a node it has not heard from for this long down, moving its replicas to
    /// the other nodes, and up again once it answers; in milliseconds
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_NODE_DOWN_AFTER_MS)]
    pub node_down_after_ms: u64,
    /// How long a client request may wait for a leader and a commit before failing with 503,
    /// in milliseconds
    #[arg(long, value_name = "MS", default_value_t = DEFAULT_REQUEST_TIMEOUT_MS)]
    pub request_timeout_ms: u64,
}

impl TimingArgs {
    /// The Raft timing these flags describe.
    pub fn timing(&self) -> RaftTiming {
        RaftTiming {
            heartbeat: Duration::from_millis(self.heartbeat_ms),
            election_min: Duration::from_millis(self.election_min_ms),
            election_max: Duration::from_millis(self.election_max_ms),
            node_down_after: Duration::from_millis(self.node_down_after_ms),
        }
    }

    /// The client request timeout.
    pub fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// The flags both `flotilla demo` and `flotilla node` take: Raft timing, security and limits.
#[derive(Debug, Clone, Args)]
pub struct CommonArgs {
    #[command(flatten)]
    #[allow(missing_docs)]
    pub timing: TimingArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub security: SecurityArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub limits: LimitArgs,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub server_limits: ServerLimitArgs,
}

/// Flags of `flotilla demo`.
#[derive(Debug, Clone, Args)]
pub struct DemoArgs {
    /// How many nodes cluster "0" starts with
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(1..=51))]
    pub nodes: u16,
    /// Port of the API (the nodes take the ports right after it: 8001, 8002, …). With 0, the
    /// API and every node get a free port the OS picks (see --port-file)
    #[arg(long, default_value_t = 8000)]
    pub port: u16,
    /// Replica capacity of each node
    #[arg(long, default_value_t = DEFAULT_CAPACITY)]
    pub capacity: u32,
    /// Where nodes keep their logs, votes and snapshots (one directory per node). Default: a
    /// fresh temporary directory, removed when the demo exits. Given a directory that holds an
    /// earlier run, the nodes restart with what they had
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address to listen on (API and nodes)
    #[arg(long, default_value = "127.0.0.1")]
    pub bind: IpAddr,
    /// Directory of the browser page served at / (built by `cargo xtask web`)
    #[arg(long, value_name = "DIR")]
    pub web_dir: Option<PathBuf>,
    /// Once every listener is bound, write their addresses to this file as JSON,
    /// {"api": "localhost:8000", "nodes": {"1": "localhost:8001", …}}, whole (written beside it,
    /// then renamed)
    #[arg(long, value_name = "PATH")]
    pub port_file: Option<PathBuf>,
    /// Most clusters the entry point runs (POST /clusters answers 409 past it)
    #[arg(long, value_name = "N", default_value_t = crate::api::limits::ServerLimits::default().max_clusters)]
    pub max_clusters: usize,
    /// The ports clients may have nodes started on (POST /clusters, POST /clusters/ID/nodes
    /// with "spawn": true), as FIRST-LAST
    #[arg(long, value_name = "FIRST-LAST", default_value = "8001-8999", value_parser = parse_port_range)]
    pub spawn_ports: RangeInclusive<u16>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Flags of `flotilla node`.
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// This node's Raft id: a positive integer, unique in the cluster
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..))]
    pub id: u64,
    /// HOST:PORT to listen on; also the address peers and clients use to reach this node. With
    /// port 0, the OS picks a free port (see --port-file)
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: String,
    /// HOST:PORT of any node of an existing cluster to join. Without it, a node with empty
    /// storage founds a new one-node cluster that others can join
    #[arg(long, value_name = "HOST:PORT")]
    pub join: Option<String>,
    /// Start with empty storage and wait to be added by the cluster: POST /nodes with
    /// "spawn": false to any member (or to the demo's /clusters/ID/nodes). Without it or
    /// --join, a node with empty storage founds a cluster of its own
    #[arg(long, conflicts_with = "join")]
    pub await_join: bool,
    /// Replica capacity of this node
    #[arg(long, default_value_t = DEFAULT_CAPACITY)]
    pub capacity: u32,
    /// Name shown in stats (default: n<ID>)
    #[arg(long)]
    pub name: Option<String>,
    /// Cluster name; nodes refuse Raft messages from other clusters
    #[arg(long, default_value = "0")]
    pub cluster: String,
    /// Where this node keeps its log, vote and snapshots. Default: ./flotilla-data/node-<ID>.
    /// Restarting with the same directory restarts the same member
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Once listening, write the address this node serves on to this file as JSON,
    /// {"addr": "localhost:7001"}, whole (written beside it, then renamed)
    #[arg(long, value_name = "PATH")]
    pub port_file: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub common: CommonArgs,
}

/// Parses `FIRST-LAST` (two ports, the first not above the last).
fn parse_port_range(text: &str) -> Result<RangeInclusive<u16>, String> {
    let refuse = || format!("{text:?} is not FIRST-LAST, two ports such as 8001-8999");
    let (first, last) = text.split_once('-').ok_or_else(refuse)?;
    let first: u16 = first.trim().parse().map_err(|_| refuse())?;
    let last: u16 = last.trim().parse().map_err(|_| refuse())?;
    if first == 0 || first > last {
        return Err(refuse());
    }
    Ok(first..=last)
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    use super::*;
    use crate::client::node::NodeClientCommand;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn demo_defaults_match_the_seed() {
        let cli = Cli::parse_from(["flotilla", "demo"]);
        let Command::Demo(demo) = cli.command else {
            panic!("expected demo");
        };
        assert_eq!((demo.nodes, demo.port, demo.capacity), (5, 8000, 100));
        assert_eq!(
            demo.common.timing.timing(),
            crate::node::timing::NODE_TIMING
        );
        assert_eq!(
            demo.common.timing.request_timeout(),
            Duration::from_secs(10)
        );
        assert_eq!(demo.spawn_ports, 8001..=8999);
        assert_eq!(
            demo.common.limits.limits(),
            flotilla_core::model::Limits::default()
        );
    }

    #[test]
    fn node_runs_a_node_with_its_flags_or_manages_nodes_with_a_subcommand() {
        let cli = Cli::parse_from([
            "flotilla",
            "node",
            "--id",
            "3",
            "--listen",
            "localhost:0",
            "--cluster",
            "c",
            "--cluster-secret",
            "0123456789abcdef",
            "--heartbeat-ms",
            "70",
        ]);
        let Command::Node(NodeCommand::Run(node)) = cli.command else {
            panic!("expected a node to run");
        };
        assert_eq!((node.id, node.cluster.as_str()), (3, "c"));
        assert_eq!(node.common.timing.heartbeat_ms, 70);
        assert!(node.common.security.cluster_secret.is_some());
        let cli = Cli::parse_from(["flotilla", "node", "list", "--cluster", "7"]);
        let Command::Node(NodeCommand::Manage(NodeClientCommand::List { api })) = cli.command
        else {
            panic!("expected node list");
        };
        assert_eq!(api.cluster, "7");
        for wrong in [
            &["flotilla", "node"][..],
            &["flotilla", "node", "--id", "1"],
            &["flotilla", "node", "--id", "1", "--listen", "h:1", "list"],
        ] {
            assert!(Cli::try_parse_from(wrong).is_err(), "{wrong:?}");
        }
    }

    #[test]
    fn certs_node_takes_repeated_hosts() {
        let cli = Cli::parse_from([
            "flotilla",
            "certs",
            "node",
            "--ca",
            "ca",
            "--name",
            "n1",
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--out",
            "out",
        ]);
        let Command::Certs(CertsArgs {
            command: CertsCommand::Node(node),
        }) = cli.command
        else {
            panic!("expected certs node");
        };
        assert_eq!(node.hosts, ["localhost", "127.0.0.1"]);
        assert!(!node.force);
        assert!(
            Cli::try_parse_from([
                "flotilla", "certs", "node", "--ca", "c", "--name", "n", "--out", "o"
            ])
            .is_err(),
            "--host is required"
        );
    }

    #[test]
    fn port_ranges_are_two_ordered_ports() {
        assert_eq!(parse_port_range("20000-32767"), Ok(20000..=32767));
        for bad in ["8001", "9-8", "0-10", "a-b", "1-70000"] {
            assert!(parse_port_range(bad).is_err(), "{bad}");
        }
    }
}
