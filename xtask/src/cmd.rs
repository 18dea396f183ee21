//! A tiny helper for running commands from the workspace root.
//!
//! Every command is echoed before it runs, as `$ cargo test --workspace`, and a failure names
//! the command that failed and how it ended. This module also holds xtask's error type.

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};

/// Why a verb failed: a message for the user and the exit code xtask ends with.
#[derive(Debug)]
pub struct Error {
    /// What went wrong, in a sentence that names the command or check involved.
    pub message: String,
    /// The exit code xtask ends with: 1 unless a child's own status is passed on.
    pub code: u8,
}

impl Error {
    /// A failure that makes xtask exit with code 1.
    pub fn new(message: impl Into<String>) -> Self {
        Self::with_code(message, 1)
    }

    /// A failure that makes xtask exit with `code` (used to pass on a child's exit status).
    pub fn with_code(message: impl Into<String>, code: u8) -> Self {
        Self {
            message: message.into(),
            code,
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl From<String> for Error {
    fn from(message: String) -> Self {
        Self::new(message)
    }
}

impl From<&str> for Error {
    fn from(message: &str) -> Self {
        Self::new(message)
    }
}

/// The result of an xtask verb or step.
pub type Result<T = ()> = std::result::Result<T, Error>;

/// The workspace root: the parent of xtask's own manifest directory.
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir.parent().unwrap_or(manifest_dir).to_path_buf()
}

/// A command to run from the workspace root, shown to the user as it will be typed.
#[derive(Debug, Clone)]
pub struct Cmd {
    program: OsString,
    shown: String,
    args: Vec<OsString>,
}

impl Cmd {
    /// A command running `program`, looked up on `PATH`.
    pub fn new(program: &str) -> Self {
        Self {
            program: program.into(),
            shown: program.to_string(),
            args: Vec::new(),
        }
    }

    /// A `cargo` command, using the same cargo that runs xtask (`$CARGO`) when it is known,
    /// so that a toolchain chosen with `cargo +nightly xtask` is kept.
    pub fn cargo() -> Self {
        let program = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        Self {
            program,
            shown: "cargo".to_string(),
            args: Vec::new(),
        }
    }

    /// Adds one argument.
    pub fn arg(mut self, arg: impl AsRef<OsStr>) -> Self {
        self.args.push(arg.as_ref().to_os_string());
        self
    }

    /// Adds several arguments.
    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.args
            .extend(args.into_iter().map(|a| a.as_ref().to_os_string()));
        self
    }

    /// Runs the command with inherited stdio and fails unless it exits successfully.
    pub fn run(&self) -> Result {
        let status = self.status()?;
        self.check(status)
    }

    /// Runs the command with inherited stdio and returns how it ended; fails only if it could
    /// not be started.
    pub fn status(&self) -> Result<ExitStatus> {
        self.echo();
        self.command().status().map_err(|e| self.start_error(&e))
    }

    /// Starts the command with inherited stdio and returns the running child.
    pub fn spawn(&self) -> Result<Child> {
        self.echo();
        self.command().spawn().map_err(|e| self.start_error(&e))
    }

    /// Runs the command, returning its standard output (its standard error is shown as it
    /// comes); fails unless it exits successfully or if its output is not UTF-8.
    pub fn read(&self) -> Result<String> {
        self.echo();
        let output = self
            .command()
            .stdin(Stdio::null())
            .stderr(Stdio::inherit())
            .output()
            .map_err(|e| self.start_error(&e))?;
        self.check(output.status)?;
        String::from_utf8(output.stdout)
            .map_err(|_| Error::new(format!("`{self}` printed output that is not UTF-8")))
    }

    /// Runs the command silently and tells whether it started and exited successfully.
    /// For probes such as `cargo fmt --version`; nothing is echoed.
    pub fn succeeds_quietly(&self) -> bool {
        self.command()
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    }

    /// Turns an exit status into an error naming this command unless it is a success.
    pub fn check(&self, status: ExitStatus) -> Result {
        if status.success() {
            Ok(())
        } else {
            Err(Error::new(format!(
                "command `{self}` {}",
                describe_status(status)
            )))
        }
    }

    fn echo(&self) {
        eprintln!("$ {self}");
    }

    fn command(&self) -> Command {
        let mut command = Command::new(&self.program);
        command.args(&self.args).current_dir(workspace_root());
        command
    }

    fn start_error(&self, error: &io::Error) -> Error {
        if error.kind() == io::ErrorKind::NotFound {
            Error::new(format!(
                "could not start `{self}`: `{}` was not found on PATH",
                self.shown
            ))
        } else {
            Error::new(format!("could not start `{self}`: {error}"))
        }
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.shown)?;
        for arg in &self.args {
            let arg = arg.to_string_lossy();
            let plain = |c: char| c.is_ascii_alphanumeric() || "-_./=:,+@%".contains(c);
            if arg.is_empty() || !arg.chars().all(plain) {
                write!(f, " '{}'", arg.replace('\'', r"'\''"))?;
            } else {
                write!(f, " {arg}")?;
            }
        }
        Ok(())
    }
}

/// Describes how a process ended, e.g. `exited with status 101` or
/// `was killed by signal 9 (SIGKILL)`.
pub fn describe_status(status: ExitStatus) -> String {
    if let Some(code) = status.code() {
        return format!("exited with status {code}");
    }
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                libc::SIGINT => " (SIGINT)",
                libc::SIGTERM => " (SIGTERM)",
                libc::SIGKILL => " (SIGKILL)",
                libc::SIGSEGV => " (SIGSEGV)",
                libc::SIGABRT => " (SIGABRT)",
                _ => "",
            };
            return format!("was killed by signal {signal}{name}");
        }
    }
    format!("ended with {status}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_are_shown_as_typed() {
        let cmd = Cmd::cargo().args(["clippy", "--workspace", "--", "-D", "warnings"]);
        assert_eq!(cmd.to_string(), "cargo clippy --workspace -- -D warnings");
    }

    #[test]
    fn arguments_a_shell_would_mangle_are_quoted() {
        let cmd = Cmd::new("echo").args(["a b", "", "it's", "{p}|{f}", "-p=x.y"]);
        assert_eq!(cmd.to_string(), r"echo 'a b' '' 'it'\''s' '{p}|{f}' -p=x.y");
    }

    #[test]
    fn a_missing_program_is_named() {
        let err = Cmd::new("xtask-no-such-program-here")
            .arg("--version")
            .run();
        let message = err.expect_err("a missing program cannot succeed").message;
        assert!(message.contains("`xtask-no-such-program-here` was not found on PATH"));
    }

    #[cfg(unix)]
    #[test]
    fn a_failing_command_is_named_with_its_status() {
        let err = Cmd::new("sh").args(["-c", "exit 3"]).run();
        let message = err.expect_err("exit 3 is a failure").message;
        assert_eq!(message, "command `sh -c 'exit 3'` exited with status 3");
    }

    #[test]
    fn the_workspace_root_holds_the_workspace_manifest() {
        assert!(workspace_root().join("Cargo.toml").is_file());
        assert!(workspace_root().join("xtask").is_dir());
    }
}
