//! The flags every client command takes ([`ApiArgs`]): which API, which cluster, JSON or
//! tables, the token writes need, the CA an HTTPS API is checked against, how long to wait.

use std::path::PathBuf;

use clap::Args;

/// Where the demo's entry point listens by default (`flotilla demo` with no flags).
pub const DEFAULT_API: &str = "http://localhost:8000";

/// How to reach the API and how to answer: shared by every client command.
#[derive(Debug, Clone, Args)]
pub struct ApiArgs {
    /// URL of the API: the entry point of `flotilla demo` (without a scheme: http://, or
    /// https:// with --tls-ca)
    #[arg(long, value_name = "URL", env = "FLOTILLA_API", default_value = DEFAULT_API)]
    pub api: String,
    /// The cluster to act on (the demo's is 0)
    #[arg(long, value_name = "ID", default_value = "0")]
    pub cluster: String,
    /// Print the API's JSON answer instead of tables, for scripts
    #[arg(long)]
    pub json: bool,
    /// The token the server was started with, sent as `Authorization: Bearer <TOKEN>` (writes
    /// need it when the server has one). Prefer the environment variable: a flag shows in `ps`
    #[arg(long, env = "FLOTILLA_TOKEN", hide_env_values = true)]
    pub token: Option<String>,
    /// PEM bundle of the CA certificates to trust when the API speaks HTTPS (as the servers'
    /// --tls-ca); exactly these, no built-in roots
    #[arg(
        long,
        value_name = "PATH",
        env = "FLOTILLA_TLS_CA",
        hide_env_values = true
    )]
    pub tls_ca: Option<PathBuf>,
    /// Give up on an answer after this many seconds (writes wait for a leader and a commit)
    #[arg(long, value_name = "SECONDS", default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,
}
