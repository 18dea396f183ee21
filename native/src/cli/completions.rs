//! `flotilla completions SHELL`: a completion script for bash, zsh, fish, elvish or
//! PowerShell, generated from the command line's own definition (clap_complete), so it always
//! knows every subcommand and flag.

use std::io::Write;

use clap::Args;
use clap::CommandFactory;
use clap_complete::Shell;

use super::Cli;

/// Flags of `flotilla completions`.
#[derive(Debug, Clone, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for
    pub shell: Shell,
}

/// Writes the completion script for `shell` to `out` (generated whole first, so a write error
/// is reported rather than a panic inside the generator; a reader that went away is no error).
pub fn write(shell: Shell, out: &mut dyn Write) -> std::io::Result<()> {
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "flotilla", &mut script);
    match out.write_all(&script).and_then(|()| out.flush()) {
        Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripts_know_the_client_commands() {
        for shell in [Shell::Bash, Shell::Zsh, Shell::Fish] {
            let mut script = Vec::new();
            write(shell, &mut script).expect("written to memory");
            let script = String::from_utf8(script).expect("UTF-8");
            for word in ["status", "service", "completions", "tls-ca", "api"] {
                assert!(script.contains(word), "{shell}: {word}");
            }
        }
    }
}
