//! `cargo xtask run`: builds what the demo needs (the `flotilla` binary, and the browser page it
//! serves at `/`), then starts the demo (`flotilla demo`).
//!
//! Ctrl-C is for the demo: on Unix the terminal sends SIGINT to the whole foreground process
//! group, the demo included, so xtask ignores it while it waits and then ends with the demo's
//! own exit status.

use crate::RunArgs;
use crate::cmd::{Cmd, Error, Result, describe_status};

/// Builds the `flotilla` binary in release mode and the page into `web/dist/`, then runs
/// `flotilla demo` with `args.args` after it.
pub fn run(args: RunArgs) -> Result {
    Cmd::cargo()
        .args(["build", "--release", "--package", "flotilla"])
        .run()?;
    // The demo serves web/dist/ at `/` (its default --web-dir in this source tree).
    crate::web::run()?;

    let demo = Cmd::cargo()
        .args(["run", "--release", "--package", "flotilla", "--", "demo"])
        .args(&args.args);
    let mut child = demo.spawn()?;
    // Only now, after the child has started: an ignored signal is inherited across exec.
    ignore_interrupts();
    let status = child
        .wait()
        .map_err(|e| Error::new(format!("could not wait for `{demo}`: {e}")))?;
    if status.success() {
        return Ok(());
    }
    let code = status
        .code()
        .map_or_else(|| signal_exit_code(status), clamp_code);
    Err(Error::with_code(
        format!("command `{demo}` {}", describe_status(status)),
        code,
    ))
}

/// Keeps this process alive on Ctrl-C so it can wait for the demo and report how it ended.
#[cfg(unix)]
fn ignore_interrupts() {
    // SAFETY: setting SIGINT's disposition to SIG_IGN has no preconditions, and xtask installs
    // no signal handler of its own that this could displace.
    unsafe {
        libc::signal(libc::SIGINT, libc::SIG_IGN);
    }
}

/// On other platforms Ctrl-C keeps its default meaning.
#[cfg(not(unix))]
fn ignore_interrupts() {}

/// The shell's convention for a child killed by a signal: 128 + the signal number.
fn signal_exit_code(status: std::process::ExitStatus) -> u8 {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return clamp_code(128 + signal);
        }
    }
    let _ = status;
    1
}

/// An exit code that fits a process exit status; anything outside 1..=255 becomes 1.
fn clamp_code(code: i32) -> u8 {
    u8::try_from(code).ok().filter(|&c| c != 0).unwrap_or(1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_are_passed_on_and_never_zero() {
        assert_eq!(clamp_code(101), 101);
        assert_eq!(clamp_code(0), 1);
        assert_eq!(clamp_code(-1), 1);
        assert_eq!(clamp_code(300), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_child_killed_by_sigint_gives_130() {
        use std::os::unix::process::CommandExt;
        let mut command = std::process::Command::new("sh");
        command.args(["-c", "kill -INT $$"]);
        // A shell started with SIGINT ignored (as a background job's children are) could not
        // be interrupted at all: the child starts with the default disposition.
        // SAFETY: runs in the child between fork and exec, and only calls signal(), which is
        // async-signal-safe.
        unsafe {
            command.pre_exec(|| {
                libc::signal(libc::SIGINT, libc::SIG_DFL);
                Ok(())
            });
        }
        let status = command.status().expect("sh runs");
        assert_eq!(signal_exit_code(status), 130);
    }
}
