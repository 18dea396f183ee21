//! The `flotilla` binary: parses the command line, sets up logging and runs the demo or a node,
//! or makes certificates.

use std::process::ExitCode;

use clap::Parser;
use flotilla::cli::Cli;
use flotilla::cli::Command;
use tracing_subscriber::EnvFilter;

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_env("FLOTILLA_LOG")
                .unwrap_or_else(|_| EnvFilter::new("info,openraft=warn,tower_http=warn")),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
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
    let result = runtime.block_on(async {
        match cli.command {
            Command::Demo(args) => flotilla::run::demo(args).await,
            Command::Node(args) => flotilla::run::node(args).await,
            Command::Certs(args) => flotilla::run::certs(&args),
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("flotilla: {message}");
            ExitCode::FAILURE
        }
    }
}
