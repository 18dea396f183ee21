//! The `flotilla` binary: parses the command line, sets up logging and runs the demo or a node,
//! makes certificates or completion scripts, or runs a client command against a running API.

use std::process::ExitCode;

use flotilla::cli::Cli;
use flotilla::cli::Command;
use flotilla::cli::LogFormat;
use flotilla::cli::NodeCommand;
use flotilla::client::ClientCommand;
use tracing_subscriber::EnvFilter;

/// What is logged when neither RUST_LOG nor FLOTILLA_LOG says otherwise.
const DEFAULT_LOG_LEVELS: &str = "info,openraft=warn,tower_http=warn";

fn main() -> ExitCode {
    let cli: Cli = flotilla::cli::config::parse();
    start_logging(cli.log_format);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("flotilla: cannot start the async runtime: {err}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        let result = match cli.command {
            Command::Demo(args) => flotilla::run::demo(args).await,
            Command::Node(NodeCommand::Manage(manage)) => {
                return flotilla::client::run(ClientCommand::Node(manage)).await;
            }
            Command::Node(NodeCommand::Run(args)) => flotilla::run::node(*args).await,
            Command::Certs(args) => flotilla::run::certs(&args),
            Command::Completions(args) => {
                flotilla::cli::completions::write(args.shell, &mut std::io::stdout())
                    .map_err(|err| format!("cannot write the completion script: {err}"))
            }
            Command::Status(args) => {
                return flotilla::client::run(ClientCommand::Status(args)).await;
            }
            Command::Service(args) => {
                return flotilla::client::run(ClientCommand::Service(args)).await;
            }
            Command::Link(args) => return flotilla::client::run(ClientCommand::Link(args)).await,
            Command::Cluster(args) => {
                return flotilla::client::run(ClientCommand::Cluster(args)).await;
            }
        };
        match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(message) => {
                eprintln!("flotilla: {message}");
                ExitCode::FAILURE
            }
        }
    })
}

/// Logs to stderr in `format`, at the levels RUST_LOG names (FLOTILLA_LOG, its older name, is
/// still read when RUST_LOG is not set).
fn start_logging(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_from_env("FLOTILLA_LOG"))
        .unwrap_or_else(|_| EnvFilter::new(DEFAULT_LOG_LEVELS));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => logs
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => logs.json().init(),
    }
}
