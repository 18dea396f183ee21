//! `flotilla certs`: the flags for making a cluster's CA and its nodes' certificates.

use std::path::PathBuf;

use clap::Args;
use clap::Subcommand;

use crate::tls::issue::DEFAULT_CA_DAYS;
use crate::tls::issue::DEFAULT_NODE_DAYS;

/// Flags of `flotilla certs`.
#[derive(Debug, Clone, Args)]
pub struct CertsArgs {
    /// What to make.
    #[command(subcommand)]
    pub command: CertsCommand,
}

/// What `flotilla certs` makes.
#[derive(Debug, Clone, Subcommand)]
pub enum CertsCommand {
    /// Make a certificate authority for a cluster: DIR/ca.pem (give it to every process as
    /// --tls-ca) and DIR/ca-key.pem (keep it where the node certificates are made, and nowhere
    /// else)
    Ca(CaArgs),
    /// Make a node's certificate and key, signed by the CA: DIR/NAME.pem and DIR/NAME-key.pem,
    /// for --tls-cert and --tls-key. Valid for the --host names and addresses peers and clients
    /// reach the node at
    Node(NodeCertArgs),
}

/// Flags of `flotilla certs ca`.
#[derive(Debug, Clone, Args)]
pub struct CaArgs {
    /// Directory to write ca.pem and ca-key.pem into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many days the CA is valid
    #[arg(long, default_value_t = DEFAULT_CA_DAYS)]
    pub days: u32,
    /// Overwrite ca.pem and ca-key.pem if they exist (certificates the old CA signed stop
    /// being trusted)
    #[arg(long)]
    pub force: bool,
}

/// Flags of `flotilla certs node`.
#[derive(Debug, Clone, Args)]
pub struct NodeCertArgs {
    /// Directory holding the CA's ca.pem and ca-key.pem (from `flotilla certs ca`)
    #[arg(long, value_name = "DIR")]
    pub ca: PathBuf,
    /// The node's name: the certificate's common name and the files' names
    #[arg(long)]
    pub name: String,
    /// A DNS name or IP address the node is reached at (the host of its --listen, of the demo's
    /// --bind, or of the address clients use). Repeatable; at least one
    #[arg(long = "host", value_name = "HOST", required = true)]
    pub hosts: Vec<String>,
    /// Directory to write NAME.pem and NAME-key.pem into (created if missing)
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// How many days the certificate is valid
    #[arg(long, default_value_t = DEFAULT_NODE_DAYS)]
    pub days: u32,
    /// Overwrite NAME.pem and NAME-key.pem if they exist
    #[arg(long)]
    pub force: bool,
}
