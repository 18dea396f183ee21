//! `flotilla node`: with flags, run a node (`flotilla node --id 1 --listen HOST:PORT …`); with
//! a subcommand, manage a cluster's nodes through the API (`flotilla node add|remove|list`).
//!
//! Parsed by hand around the derived parsers of both: clap's derive cannot make flags that hold
//! flattened groups of their own (`NodeArgs` holds `CommonArgs`) optional beside a subcommand.

use clap::ArgMatches;
use clap::Args;
use clap::FromArgMatches;
use clap::Subcommand;

use super::NodeArgs;
use crate::client::node::NodeClientCommand;

/// What `flotilla node` was asked to do.
#[derive(Debug, Clone)]
pub enum NodeCommand {
    /// Run a node until Ctrl-C, SIGTERM or its removal.
    Run(Box<NodeArgs>),
    /// Add, remove or list nodes through the API.
    Manage(NodeClientCommand),
}

impl FromArgMatches for NodeCommand {
    fn from_arg_matches(matches: &ArgMatches) -> Result<Self, clap::Error> {
        Self::from_arg_matches_mut(&mut matches.clone())
    }

    fn from_arg_matches_mut(matches: &mut ArgMatches) -> Result<Self, clap::Error> {
        if matches.subcommand_name().is_some() {
            NodeClientCommand::from_arg_matches_mut(matches).map(NodeCommand::Manage)
        } else {
            NodeArgs::from_arg_matches_mut(matches).map(|args| NodeCommand::Run(Box::new(args)))
        }
    }

    fn update_from_arg_matches(&mut self, matches: &ArgMatches) -> Result<(), clap::Error> {
        *self = Self::from_arg_matches(matches)?;
        Ok(())
    }
}

impl Args for NodeCommand {
    fn augment_args(command: clap::Command) -> clap::Command {
        // The node's flags, or a subcommand: never both; with a subcommand, --id and --listen
        // are not required.
        NodeClientCommand::augment_subcommands(NodeArgs::augment_args(command))
            .args_conflicts_with_subcommands(true)
            .subcommand_negates_reqs(true)
    }

    fn augment_args_for_update(command: clap::Command) -> clap::Command {
        Self::augment_args(command)
    }
}
