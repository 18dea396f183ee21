//! `flotilla node add|remove|list`: a cluster's nodes, through `/clusters/:id/nodes` (the
//! entry point spawns a node on this machine, or joins one already running) and
//! `GET /clusters/:id` (each node's own report).

use clap::Subcommand;
use flotilla_core::model::NodeView;
use reqwest::Method;
use serde_json::json;

use super::answers::NodeStatsList;
use super::answers::read;
use super::args::ApiArgs;
use super::error::ClientError;
use super::error::EXIT_CODES;
use super::http::Api;
use super::output::Table;
use super::output::or_dash;
use super::output::out;
use super::output::print_json;
use super::output::word;
use crate::node::DEFAULT_CAPACITY;

/// `flotilla node add|remove|list` (a bare `flotilla node --id … --listen …` runs a node).
#[derive(Debug, Clone, Subcommand)]
pub enum NodeClientCommand {
    /// Add a node to the cluster: spawn it on this machine (--spawn), or join a `flotilla
    /// node --await-join` already listening at HOST:PORT
    #[command(after_help = EXIT_CODES)]
    Add {
        /// Its name (the seed's node id, e.g. custom0); a number is also its Raft id
        #[arg(long)]
        id: Option<String>,
        /// Host it listens on (a spawned node: this machine)
        #[arg(long, default_value = "localhost")]
        host: String,
        /// Port it listens on
        #[arg(long)]
        port: u16,
        /// Its replica capacity
        #[arg(long, default_value_t = DEFAULT_CAPACITY)]
        capacity: u32,
        /// Have the entry point start the node (on one of its --spawn-ports) before joining it
        #[arg(long)]
        spawn: bool,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Remove a node: it leaves the cluster and shuts down, and its replicas move elsewhere
    #[command(after_help = EXIT_CODES)]
    Remove {
        /// The node's HOST:PORT (or give --host and --port)
        #[arg(value_name = "ADDR", conflicts_with_all = ["host", "port"], required_unless_present_all = ["host", "port"])]
        addr: Option<String>,
        /// The node's host
        #[arg(long, requires = "port")]
        host: Option<String>,
        /// The node's port
        #[arg(long, requires = "host")]
        port: Option<u16>,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Every node as it reports itself: role, term, commit and applied index, load, cut links
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
}

/// Runs a node command.
pub async fn run(command: &NodeClientCommand) -> Result<(), ClientError> {
    match command {
        NodeClientCommand::Add {
            id,
            host,
            port,
            capacity,
            spawn,
            api,
        } => {
            let mut body = json!({
                "host": host, "port": port, "capacity": capacity, "spawn": spawn,
            });
            if let Some(id) = id {
                body["id"] = json!(id);
            }
            add(api, &body).await
        }
        NodeClientCommand::Remove {
            addr,
            host,
            port,
            api,
        } => {
            let (host, port) = match (addr, host, port) {
                (Some(addr), _, _) => split_addr(addr)?,
                (None, Some(host), Some(port)) => (host.clone(), *port),
                _ => {
                    return Err(ClientError::Usage(
                        "name the node: HOST:PORT, or --host and --port".to_string(),
                    ));
                }
            };
            remove(api, &host, port).await
        }
        NodeClientCommand::List { api } => list(api).await,
    }
}

async fn add(args: &ApiArgs, body: &serde_json::Value) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["nodes"]);
    let request = format!("POST {}", url.path());
    let waiting = if body["spawn"] == json!(true) {
        "starting the node, then waiting for the leader to add it"
    } else {
        "waiting for the leader to add the node"
    };
    let answer = api.call(Method::POST, url, Some(body), waiting).await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let Some(node) = read::<Option<NodeView>>(&answer["node"], &request)? else {
        out(&format!(
            "Added the node to cluster {} (log index {})\n",
            api.cluster(),
            answer["log_index"]
        ));
        return Ok(());
    };
    out(&format!(
        "Added node {} ({}) to cluster {} (log index {})\n",
        node.id,
        node.addr,
        api.cluster(),
        answer["log_index"]
    ));
    let mut table = Table::new(&["ID", "NAME", "ADDRESS", "STATUS", "LOAD", "CAPACITY"]);
    table.row([
        node.id.to_string(),
        node.name.clone(),
        node.addr.clone(),
        word(&node.status),
        node.load.to_string(),
        node.capacity.to_string(),
    ]);
    out(&table.render());
    Ok(())
}

async fn remove(args: &ApiArgs, host: &str, port: u16) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["nodes"]);
    let body = json!({ "host": host, "port": port });
    let answer = api
        .call(
            Method::DELETE,
            url,
            Some(&body),
            "waiting for the leader to remove the node",
        )
        .await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let removed = &answer["removed"];
    out(&format!(
        "Removed node {} ({}) from cluster {} (log index {}); it shuts down and its replicas \
         are placed elsewhere\n",
        removed["id"],
        removed["addr"].as_str().unwrap_or("?"),
        api.cluster(),
        answer["log_index"]
    ));
    Ok(())
}

async fn list(args: &ApiArgs) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let mut url = api.cluster_url(&[]);
    url.set_query(Some("limit=1"));
    let request = format!("GET {}", url.path());
    let answer = api.get(url, "asking every node").await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let mut list: NodeStatsList = read(&answer, &request)?;
    // By id, the nodes that did not answer (no id) last.
    list.nodes
        .sort_by_key(|node| (node.id.is_none(), node.id, node.addr.clone()));
    let mut table = Table::new(&[
        "ID", "NAME", "ADDRESS", "ROLE", "TERM", "COMMIT", "APPLIED", "LOAD", "CAPACITY", "CUT",
    ]);
    for node in &list.nodes {
        let cut: Vec<&str> = node
            .connections
            .iter()
            .filter(|(_, up)| **up == 0)
            .map(|(peer, _)| peer.as_str())
            .collect();
        let answered = node.error.is_none();
        let number = |value: u64| {
            if answered {
                value.to_string()
            } else {
                "-".into()
            }
        };
        table.row([
            or_dash(node.id),
            or_dash(Some(&node.name).filter(|name| !name.is_empty())),
            node.addr.clone(),
            node.role.clone(),
            number(node.term),
            number(node.commit_index),
            number(node.applied_index),
            number(u64::from(node.load)),
            number(u64::from(node.capacity)),
            if cut.is_empty() {
                "-".to_string()
            } else {
                cut.join(",")
            },
        ]);
    }
    out(&table.render());
    Ok(())
}

/// `HOST:PORT` (the port after the last colon, so `[::1]:8001` works).
fn split_addr(addr: &str) -> Result<(String, u16), ClientError> {
    let refuse = || ClientError::Usage(format!("{addr:?} is not HOST:PORT, e.g. localhost:8003"));
    let (host, port) = addr.rsplit_once(':').ok_or_else(refuse)?;
    let port: u16 = port.parse().map_err(|_| refuse())?;
    if host.is_empty() {
        return Err(refuse());
    }
    Ok((host.to_string(), port))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_at_the_last_colon() {
        assert_eq!(
            split_addr("localhost:8003"),
            Ok(("localhost".to_string(), 8003))
        );
        assert_eq!(split_addr("[::1]:7001"), Ok(("[::1]".to_string(), 7001)));
        for bad in ["localhost", ":80", "h:x", "h:70000"] {
            assert!(split_addr(bad).is_err(), "{bad}");
        }
    }
}
