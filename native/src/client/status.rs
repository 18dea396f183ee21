//! `flotilla status`: who leads, the term and commit index, every node (address, role, up or
//! down, load and capacity) and how many services run; with `--wait`, first waits for a leader.

use std::time::Duration;
use std::time::Instant;

use clap::Args;
use flotilla_core::model::NodeStatus;
use serde_json::Value;

use super::answers::ClusterReport;
use super::answers::read;
use super::args::ApiArgs;
use super::error::ClientError;
use super::error::EXIT_CODES;
use super::http::Api;
use super::output::Table;
use super::output::fields;
use super::output::out;
use super::output::print_json;
use super::output::word;
use super::progress::Spinner;

/// Flags of `flotilla status`.
#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct StatusArgs {
    /// Wait (up to --timeout) until the API answers and the cluster has a leader
    #[arg(long)]
    pub wait: bool,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub api: ApiArgs,
}

/// How often `--wait` asks again.
const POLL: Duration = Duration::from_millis(200);

/// Prints the cluster's status.
pub async fn run(args: &StatusArgs) -> Result<(), ClientError> {
    let api = Api::new(&args.api)?;
    let url = api.cluster_url(&["stats"]);
    let request = format!("GET {}", url.path());
    let value = if args.wait {
        wait_for_leader(&api, &args.api).await?
    } else {
        api.get(url, "asking the cluster").await?
    };
    if args.api.json {
        print_json(&value);
        return Ok(());
    }
    let report: ClusterReport = read(&value, &request)?;
    out(&render(api.cluster(), &report));
    Ok(())
}

/// Asks until the cluster names a leader that lists the cluster's nodes, while the API is down or
/// answers 5xx (a cluster still electing); a refusal (4xx) ends it at once.
async fn wait_for_leader(api: &Api, args: &ApiArgs) -> Result<Value, ClientError> {
    let deadline = Instant::now() + Duration::from_secs(args.timeout);
    let spinner = Spinner::start("waiting for a leader");
    loop {
        let asked = api.get(api.cluster_url(&["stats"]), "").await;
        let last = match asked {
            // A leader, and one that has applied the cluster's membership (a new cluster's
            // leader is elected before its first entry, the node list, is applied).
            Ok(value) if !value["leader"].is_null() && has_nodes(&value) => return Ok(value),
            Ok(_) => ClientError::Server {
                request: format!("GET {}", api.cluster_url(&["stats"]).path()),
                message: "no leader yet".to_string(),
            },
            Err(err @ (ClientError::Unreachable { .. } | ClientError::Server { .. })) => err,
            Err(err) => return Err(err),
        };
        if Instant::now() >= deadline {
            drop(spinner);
            return Err(match last {
                ClientError::Server { request, message } => ClientError::Server {
                    request,
                    message: format!("{message} after {} s (--timeout)", args.timeout),
                },
                other => other,
            });
        }
        spinner.say(&format!("waiting for a leader ({})", short(&last)));
        tokio::time::sleep(POLL).await;
    }
}

/// Whether a cluster report lists any node.
fn has_nodes(report: &Value) -> bool {
    report["nodes"]
        .as_array()
        .is_some_and(|nodes| !nodes.is_empty())
}

/// The gist of a failure, for the spinner.
fn short(err: &ClientError) -> String {
    match err {
        ClientError::Unreachable { cause, .. } => cause.clone(),
        ClientError::Server { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The status as people read it: a few lines about the cluster, then a table of its nodes.
pub fn render(cluster: &str, report: &ClusterReport) -> String {
    let leader = match &report.leader {
        Some(leader) => {
            let name = report
                .node(leader.id)
                .map(|node| node.name.clone())
                .unwrap_or_default();
            format!("{} ({}, id {})", name, leader.addr, leader.id)
        }
        None => "none (an election is under way, or too few nodes answer)".to_string(),
    };
    let term = report.leader.as_ref().map_or(report.term, |l| l.term);
    let placed: u64 = report
        .services
        .iter()
        .map(|service| u64::from(service.running))
        .sum();
    let down = report
        .nodes
        .iter()
        .filter(|reported| reported.node.status != NodeStatus::Up)
        .count();
    let mut text = fields(&[
        ("Cluster", cluster.to_string()),
        ("Leader", leader),
        ("Term", term.to_string()),
        ("Commit index", report.commit_index.to_string()),
        (
            "Nodes",
            format!(
                "{} ({} up, {down} down)",
                report.nodes.len(),
                report.nodes.len() - down
            ),
        ),
        (
            "Services",
            format!(
                "{} ({placed} replicas placed, {} pending)",
                report.services.len(),
                report.pending
            ),
        ),
    ]);
    text.push('\n');
    let mut table = Table::new(&[
        "ID", "NAME", "ADDRESS", "ROLE", "STATUS", "LOAD", "CAPACITY",
    ]);
    for reported in &report.nodes {
        let node = &reported.node;
        table.row([
            node.id.to_string(),
            node.name.clone(),
            node.addr.clone(),
            reported.role.clone().unwrap_or_else(|| "-".to_string()),
            word(&node.status),
            node.load.to_string(),
            node.capacity.to_string(),
        ]);
    }
    text.push_str(&table.render());
    text
}
