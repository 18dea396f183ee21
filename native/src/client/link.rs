//! `flotilla link cut|heal FROM TO`: cut or heal the directed link from one node to another
//! (FROM's requests to TO and FROM's answers to TO are lost), through the entry point's
//! `POST /clusters/:id/nodes/:from/connections`, which relays it to FROM.

use clap::Args;
use clap::Subcommand;
use reqwest::Method;
use serde_json::Value;
use serde_json::json;
use std::collections::BTreeMap;

use super::answers::read;
use super::args::ApiArgs;
use super::error::ClientError;
use super::error::EXIT_CODES;
use super::http::Api;
use super::output::Table;
use super::output::out;
use super::output::print_json;

/// `flotilla link …`.
#[derive(Debug, Clone, Args)]
#[command(after_help = EXIT_CODES)]
pub struct LinkArgs {
    /// Cut or heal.
    #[command(subcommand)]
    pub command: LinkCommand,
}

/// The link commands.
#[derive(Debug, Clone, Subcommand)]
pub enum LinkCommand {
    /// Cut the link from FROM to TO (one way: TO still reaches FROM)
    #[command(after_help = EXIT_CODES)]
    Cut(LinkEnds),
    /// Heal the link from FROM to TO
    #[command(after_help = EXIT_CODES)]
    Heal(LinkEnds),
}

/// The two ends of a directed link, and the API.
#[derive(Debug, Clone, Args)]
pub struct LinkEnds {
    /// The sending node's HOST:PORT
    pub from: String,
    /// The receiving node's HOST:PORT
    pub to: String,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub api: ApiArgs,
}

/// Runs a link command.
pub async fn run(args: &LinkArgs) -> Result<(), ClientError> {
    let (ends, up) = match &args.command {
        LinkCommand::Cut(ends) => (ends, false),
        LinkCommand::Heal(ends) => (ends, true),
    };
    let api = Api::new(&ends.api)?;
    let url = api.cluster_url(&["nodes", &ends.from, "connections"]);
    let request = format!("POST {}", url.path());
    let mut body = serde_json::Map::new();
    body.insert(ends.to.clone(), json!(u8::from(up)));
    let answer = api
        .call(
            Method::POST,
            url,
            Some(&Value::Object(body)),
            "asking the node",
        )
        .await?;
    if ends.api.json {
        print_json(&answer);
        return Ok(());
    }
    let links: BTreeMap<String, u8> = read(&answer, &request)?;
    let verb = if up { "Healed" } else { "Cut" };
    out(&format!("{verb} the link {} -> {}\n", ends.from, ends.to));
    out("\n");
    out(&links_table(&ends.from, &links));
    Ok(())
}

/// A node's outgoing links: one row per peer, `up` or `cut`.
pub fn links_table(from: &str, links: &BTreeMap<String, u8>) -> String {
    let mut table = Table::new(&["FROM", "TO", "LINK"]);
    for (to, up) in links {
        let state = if *up == 0 { "cut" } else { "up" };
        table.row([from, to.as_str(), state]);
    }
    table.render()
}
