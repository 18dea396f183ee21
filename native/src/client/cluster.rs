//! `flotilla cluster list|create`: the clusters the demo's entry point runs (`GET /clusters`)
//! and a new one of its own nodes on consecutive ports (`POST /clusters`).

use clap::Args;
use clap::Subcommand;
use reqwest::Method;
use serde_json::json;

use super::answers::ClusterEntry;
use super::answers::ClusterList;
use super::answers::read;
use super::args::ApiArgs;
use super::error::ClientError;
use super::error::EXIT_CODES;
use super::http::Api;
use super::output::Table;
use super::output::out;
use super::output::print_json;

/// `flotilla cluster …`.
#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct ClusterArgs {
    /// List or create.
    #[command(subcommand)]
    pub command: ClusterCommand,
}

/// The cluster commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ClusterCommand {
    /// Every cluster the entry point runs, with its nodes' addresses
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Start another, unconnected cluster of NODES nodes on PORT, PORT+1, … (on the entry
    /// point's machine, within its --spawn-ports)
    #[command(after_help = EXIT_CODES)]
    Create {
        /// Its id: 1 to 32 letters, digits, '-' or '_' (default: the lowest free number)
        #[arg(long)]
        id: Option<String>,
        /// How many nodes it starts with (default 3)
        #[arg(long)]
        nodes: Option<u64>,
        /// The port of its first node; the others take the ports after it
        #[arg(long)]
        port: u16,
        /// Replica capacity of each node (default 100)
        #[arg(long)]
        capacity: Option<u64>,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
}

/// Runs a cluster command.
pub async fn run(args: &ClusterArgs) -> Result<(), ClientError> {
    match &args.command {
        ClusterCommand::List { api: args } => {
            let api = Api::new(args)?;
            let url = api.url(&["clusters"]);
            let request = format!("GET {}", url.path());
            let answer = api.get(url, "asking the entry point").await?;
            if args.json {
                print_json(&answer);
                return Ok(());
            }
            let list: ClusterList = read(&answer, &request)?;
            out(&clusters_table(&list.clusters));
            Ok(())
        }
        ClusterCommand::Create {
            id,
            nodes,
            port,
            capacity,
            api: args,
        } => {
            let api = Api::new(args)?;
            let mut body = json!({ "port": port });
            if let Some(id) = id {
                body["id"] = json!(id);
            }
            if let Some(nodes) = nodes {
                body["nodes"] = json!(nodes);
            }
            if let Some(capacity) = capacity {
                body["capacity"] = json!(capacity);
            }
            let url = api.url(&["clusters"]);
            let request = format!("POST {}", url.path());
            let answer = api
                .call(
                    Method::POST,
                    url,
                    Some(&body),
                    "starting the nodes and waiting for a leader",
                )
                .await?;
            if args.json {
                print_json(&answer);
                return Ok(());
            }
            let created: ClusterEntry = read(&answer, &request)?;
            out(&format!(
                "Created cluster {} of {} nodes\n",
                created.id,
                created.nodes.len()
            ));
            out(&clusters_table(std::slice::from_ref(&created)));
            Ok(())
        }
    }
}

/// Clusters as a table: id, node count, addresses.
pub fn clusters_table(clusters: &[ClusterEntry]) -> String {
    let mut table = Table::new(&["ID", "NODES", "ADDRESSES"]);
    for cluster in clusters {
        table.row([
            cluster.id.clone(),
            cluster.nodes.len().to_string(),
            cluster.nodes.join(","),
        ]);
    }
    table.render()
}
