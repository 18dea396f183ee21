//! The client commands of the `flotilla` binary: `flotilla status`, `service`, `node
//! add|remove|list`, `link` and `cluster` drive a running cluster through the REST API of the
//! demo's entry point, as curl would, and print tables for people or the API's JSON for
//! scripts (`--json`).
//!
//! [`args`] holds the flags every command shares (`--api`, `--cluster`, `--json`, the token,
//! `--tls-ca`); [`http`] makes the calls and [`error`] turns what went wrong into one line and
//! an exit code; [`answers`] reads the API's JSON into types; [`output`] prints tables and JSON
//! and [`progress`] the spinner. Each command
//! group is a module of its own: [`status`], [`service`], [`node`], [`link`], [`cluster`].

pub mod answers;
pub mod args;
pub mod cluster;
pub mod error;
pub mod http;
pub mod link;
pub mod node;
pub mod output;
pub mod progress;
pub mod service;
pub mod status;

use std::process::ExitCode;

pub use args::ApiArgs;
pub use error::ClientError;
pub use error::EXIT_CODES;

/// A client command, parsed: what `flotilla status`, `service`, `node add|remove|list`, `link`
/// and `cluster` ask for.
#[derive(Debug)]
pub enum ClientCommand {
    /// `flotilla status`.
    Status(status::StatusArgs),
    /// `flotilla service …`.
    Service(service::ServiceArgs),
    /// `flotilla node add|remove|list`.
    Node(node::NodeClientCommand),
    /// `flotilla link cut|heal`.
    Link(link::LinkArgs),
    /// `flotilla cluster list|create`.
    Cluster(cluster::ClusterArgs),
}

/// Runs a client command: prints its result on stdout, or one line on stderr saying what
/// failed; the exit code says which kind of failure it was ([`EXIT_CODES`]).
pub async fn run(command: ClientCommand) -> ExitCode {
    let done = match command {
        ClientCommand::Status(args) => status::run(&args).await,
        ClientCommand::Service(args) => service::run(&args).await,
        ClientCommand::Node(command) => node::run(&command).await,
        ClientCommand::Link(args) => link::run(&args).await,
        ClientCommand::Cluster(args) => cluster::run(&args).await,
    };
    match done {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("flotilla: {err}");
            ExitCode::from(err.exit_code())
        }
    }
}
