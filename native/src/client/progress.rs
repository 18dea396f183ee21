//! The spinner a client command shows on stderr while it waits for the API (a write waits for
//! a leader and a commit): only when both stdout and stderr are terminals, so scripts, pipes
//! and logs see nothing of it.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::ProgressBar;
use indicatif::ProgressDrawTarget;
use indicatif::ProgressStyle;

/// A spinner with a message, cleared when dropped (or a no-op off a terminal).
pub struct Spinner {
    bar: Option<ProgressBar>,
}

impl Spinner {
    /// Starts spinning with `message` (e.g. "waiting for the cluster to commit"), if stdout
    /// and stderr are both terminals.
    pub fn start(message: &str) -> Spinner {
        let attended = std::io::stdout().is_terminal() && std::io::stderr().is_terminal();
        if !attended {
            return Spinner { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style);
        }
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(100));
        Spinner { bar: Some(bar) }
    }

    /// Changes the message (what it waits for now).
    pub fn say(&self, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(message.to_string());
        }
    }
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
