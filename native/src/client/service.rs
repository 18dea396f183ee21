//! `flotilla service create|scale|delete|list|show`: the services of a cluster, through
//! `/clusters/:id/service` and `/clusters/:id/services…`.

use clap::Args;
use clap::Subcommand;
use flotilla_core::model::ServiceView;
use reqwest::Method;
use serde_json::json;

use super::answers::ClusterReport;
use super::answers::read;
use super::args::ApiArgs;
use super::error::ClientError;
use super::error::EXIT_CODES;
use super::http::Api;
use super::output::Table;
use super::output::fields;
use super::output::or_dash;
use super::output::out;
use super::output::print_json;

/// `flotilla service …`.
#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct ServiceArgs {
    /// What to do with services.
    #[command(subcommand)]
    pub command: ServiceCommand,
}

/// The service commands.
#[derive(Debug, Clone, Subcommand)]
pub enum ServiceCommand {
    /// Create a service of REPLICAS replicas, placed on the least loaded nodes; answers once
    /// the cluster has committed it
    #[command(after_help = EXIT_CODES)]
    Create {
        /// Its label (the seed's container label)
        #[arg(long)]
        label: String,
        /// How many replicas to run
        #[arg(long)]
        replicas: u64,
        /// The seed's container uniq_id, kept with the service
        #[arg(long, value_name = "N")]
        uniq_id: Option<u64>,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Change how many replicas a service runs (0 keeps it, placed nowhere)
    #[command(after_help = EXIT_CODES)]
    Scale {
        /// The service's id (`flotilla service list`)
        id: u64,
        /// The new replica count
        #[arg(long)]
        replicas: u64,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Delete a service; its replicas leave their nodes
    #[command(after_help = EXIT_CODES)]
    Delete {
        /// The service's id
        id: u64,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// Every service with its replicas placed and pending
    #[command(after_help = EXIT_CODES)]
    List {
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
    /// One service and where its replicas are
    #[command(after_help = EXIT_CODES)]
    Show {
        /// The service's id
        id: u64,
        #[command(flatten)]
        #[allow(missing_docs)]
        api: ApiArgs,
    },
}

/// Runs a service command.
pub async fn run(args: &ServiceArgs) -> Result<(), ClientError> {
    match &args.command {
        ServiceCommand::Create {
            label,
            replicas,
            uniq_id,
            api,
        } => create(api, label, *replicas, *uniq_id).await,
        ServiceCommand::Scale { id, replicas, api } => scale(api, *id, *replicas).await,
        ServiceCommand::Delete { id, api } => delete(api, *id).await,
        ServiceCommand::List { api } => list(api).await,
        ServiceCommand::Show { id, api } => show(api, *id).await,
    }
}

async fn create(
    args: &ApiArgs,
    label: &str,
    replicas: u64,
    uniq_id: Option<u64>,
) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let mut container = json!({ "label": label });
    if let Some(uniq_id) = uniq_id {
        container["uniq_id"] = json!(uniq_id);
    }
    let url = api.cluster_url(&["service"]);
    let request = format!("POST {}", url.path());
    let body = json!({ "container": container, "replicas": replicas });
    let answer = api
        .call(
            Method::POST,
            url,
            Some(&body),
            "waiting for a leader to commit and place it",
        )
        .await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let services: Vec<ServiceView> = read(&answer["services"], &request)?;
    let ids: Vec<String> = services.iter().map(|s| s.id.to_string()).collect();
    out(&format!(
        "Created service {} (log index {})\n",
        ids.join(", "),
        answer["log_index"]
    ));
    out(&services_table(&services));
    Ok(())
}

async fn scale(args: &ApiArgs, id: u64, replicas: u64) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["services", &id.to_string(), "scale"]);
    let request = format!("POST {}", url.path());
    let answer = api
        .call(
            Method::POST,
            url,
            Some(&json!({ "replicas": replicas })),
            "waiting for a leader to commit and place it",
        )
        .await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let service: ServiceView = read(&answer["service"], &request)?;
    out(&format!(
        "Scaled service {id} to {replicas} replicas (log index {})\n",
        answer["log_index"]
    ));
    out(&services_table(std::slice::from_ref(&service)));
    Ok(())
}

async fn delete(args: &ApiArgs, id: u64) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["services", &id.to_string()]);
    let answer = api
        .call(
            Method::DELETE,
            url,
            None,
            "waiting for a leader to commit it",
        )
        .await?;
    if args.json {
        print_json(&answer);
    } else {
        out(&format!(
            "Deleted service {id} (log index {})\n",
            answer["log_index"]
        ));
    }
    Ok(())
}

async fn list(args: &ApiArgs) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["services"]);
    let request = format!("GET {}", url.path());
    let answer = api.get(url, "asking the leader").await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let services: Vec<ServiceView> = read(&answer["services"], &request)?;
    if services.is_empty() {
        out(&format!("No services in cluster {}\n", api.cluster()));
    } else {
        out(&services_table(&services));
    }
    Ok(())
}

async fn show(args: &ApiArgs, id: u64) -> Result<(), ClientError> {
    let api = Api::new(args)?;
    let url = api.cluster_url(&["services", &id.to_string()]);
    let request = format!("GET {}", url.path());
    let answer = api.get(url, "asking the leader").await?;
    if args.json {
        print_json(&answer);
        return Ok(());
    }
    let service: ServiceView = read(&answer, &request)?;
    // The node names and addresses behind the placement's ids.
    let stats_url = api.cluster_url(&["stats"]);
    let stats_request = format!("GET {}", stats_url.path());
    let report: ClusterReport = read(
        &api.get(stats_url, "asking the leader").await?,
        &stats_request,
    )?;
    out(&render_service(&service, &report));
    Ok(())
}

/// Services as a table: id, label, replicas asked, placed, pending, and on how many nodes.
pub fn services_table(services: &[ServiceView]) -> String {
    let mut table = Table::new(&["ID", "LABEL", "REPLICAS", "PLACED", "PENDING", "NODES"]);
    for service in services {
        table.row([
            service.id.to_string(),
            service.label.clone(),
            service.replicas.to_string(),
            service.running.to_string(),
            service.pending.to_string(),
            service.placement.len().to_string(),
        ]);
    }
    table.render()
}

/// One service as people read it: its numbers, then a table of the nodes its replicas are on.
pub fn render_service(service: &ServiceView, report: &ClusterReport) -> String {
    let mut text = fields(&[
        ("Service", service.id.to_string()),
        ("Label", service.label.clone()),
        ("Uniq id", or_dash(service.uniq_id)),
        (
            "Replicas",
            format!(
                "{} ({} placed, {} pending)",
                service.replicas, service.running, service.pending
            ),
        ),
        ("Created at", format!("log index {}", service.created_index)),
    ]);
    text.push('\n');
    if service.placement.is_empty() {
        text.push_str("Placed on no node\n");
        return text;
    }
    let mut table = Table::new(&["NODE", "NAME", "ADDRESS", "REPLICAS"]);
    for (node_id, count) in &service.placement {
        let node = report.node(*node_id);
        table.row([
            node_id.to_string(),
            or_dash(node.map(|node| node.name.clone())),
            or_dash(node.map(|node| node.addr.clone())),
            count.to_string(),
        ]);
    }
    text.push_str(&table.render());
    text
}
