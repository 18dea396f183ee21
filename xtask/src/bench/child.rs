//! The processes and files a comparison bench leaves behind, and the guards that clean them up:
//! [`ChildGuard`] kills its process (SIGKILL) when dropped, on an early return or a panic alike,
//! and on Linux the kernel kills it too if xtask itself dies first; [`TempDir`] removes its
//! directory when dropped. Also [`free_ports`] for the servers that must be told their port.

use std::fs::File;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use crate::cmd::{Error, Result};

/// A child process that is killed when this guard is dropped, and can be killed and started
/// again with the same command line (same data directory, same ports).
#[derive(Debug)]
pub struct ChildGuard {
    name: String,
    program: PathBuf,
    args: Vec<String>,
    envs: Vec<(String, String)>,
    log: PathBuf,
    child: Option<Child>,
}

impl ChildGuard {
    /// Starts `program args` with `envs` set, its output appended to `log`. `name` is how
    /// messages refer to it (e.g. `etcd member e2`).
    pub fn spawn(
        name: &str,
        program: &Path,
        args: Vec<String>,
        envs: Vec<(String, String)>,
        log: &Path,
    ) -> Result<Self> {
        let mut guard = Self {
            name: name.to_string(),
            program: program.to_path_buf(),
            args,
            envs,
            log: log.to_path_buf(),
            child: None,
        };
        guard.start()?;
        Ok(guard)
    }

    /// How messages refer to this process.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// Kills the process with SIGKILL (no chance to clean up) and reaps it; nothing if it is
    /// not running.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the process again with the same command line; kills it first if it still runs.
    pub fn restart(&mut self) -> Result {
        self.kill();
        self.start()
    }

    /// How the process ended, if it has; `None` while it runs or after [`Self::kill`].
    pub fn exited(&mut self) -> Option<ExitStatus> {
        let status = self.child.as_mut()?.try_wait().ok().flatten();
        if status.is_some() {
            self.child = None;
        }
        status
    }

    /// The last lines the process wrote, for error messages.
    pub fn log_tail(&self) -> String {
        let text = std::fs::read_to_string(&self.log).unwrap_or_default();
        let lines: Vec<&str> = text.lines().collect();
        lines[lines.len().saturating_sub(20)..].join("\n")
    }

    /// Fails, naming the process and showing its log, if it has ended.
    pub fn check_running(&mut self) -> Result {
        match self.exited() {
            Some(status) => Err(Error::new(format!(
                "{} ({} {}) {}; the end of its log ({}):\n{}",
                self.name,
                self.program.display(),
                self.args.join(" "),
                crate::cmd::describe_status(status),
                self.log.display(),
                self.log_tail()
            ))),
            None => Ok(()),
        }
    }

    fn start(&mut self) -> Result {
        let log = File::options()
            .create(true)
            .append(true)
            .open(&self.log)
            .map_err(|e| Error::new(format!("could not open {}: {e}", self.log.display())))?;
        let log_err = log
            .try_clone()
            .map_err(|e| Error::new(format!("could not open {}: {e}", self.log.display())))?;
        let mut command = Command::new(&self.program);
        command
            .args(&self.args)
            .envs(self.envs.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(log_err);
        die_with_parent(&mut command);
        let child = command.spawn().map_err(|e| {
            Error::new(format!(
                "could not start {} ({}): {e}",
                self.name,
                self.program.display()
            ))
        })?;
        self.child = Some(child);
        Ok(())
    }
}

impl Drop for ChildGuard {
    fn drop(&mut self) {
        self.kill();
    }
}

/// Asks the kernel to SIGKILL the child when the thread that started it ends, so that not even
/// a SIGKILL of xtask leaves servers running. Guards are only created on the main thread.
#[cfg(target_os = "linux")]
fn die_with_parent(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: runs in the child between fork and exec and only calls prctl(2), which is
    // async-signal-safe and touches no memory of the parent.
    unsafe {
        command.pre_exec(|| {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            Ok(())
        });
    }
}

/// Elsewhere the guards' `Drop` is the only cleanup.
#[cfg(not(target_os = "linux"))]
fn die_with_parent(_command: &mut Command) {}

/// A fresh directory under the system's temporary directory, removed (with everything in it)
/// when dropped.
#[derive(Debug)]
pub struct TempDir {
    path: PathBuf,
}

impl TempDir {
    /// Creates `flotilla-bench-<what>-<pid>-<n>` under the temporary directory.
    pub fn new(what: &str) -> Result<Self> {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let n = NEXT.fetch_add(1, Ordering::SeqCst);
        if n == 0 {
            sweep_stale();
        }
        let path =
            std::env::temp_dir().join(format!("flotilla-bench-{what}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&path);
        std::fs::create_dir_all(&path)
            .map_err(|e| Error::new(format!("could not create {}: {e}", path.display())))?;
        Ok(Self { path })
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

/// Removes the directories of earlier benches that were killed before their guards could run
/// (Ctrl-C, SIGKILL): `flotilla-bench-<what>-<pid>-<n>` whose process no longer exists.
#[cfg(target_os = "linux")]
fn sweep_stale() {
    let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(rest) = name
            .to_str()
            .and_then(|n| n.strip_prefix("flotilla-bench-"))
        else {
            continue;
        };
        let pid = rest
            .rsplit('-')
            .nth(1)
            .and_then(|pid| pid.parse::<u32>().ok());
        if let Some(pid) = pid
            && pid != std::process::id()
            && !Path::new(&format!("/proc/{pid}")).exists()
        {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Without /proc, stale directories are left for the system to clean.
#[cfg(not(target_os = "linux"))]
fn sweep_stale() {}

/// The first port [`free_ports`] hands out.
const FIRST_FREE_PORT: u32 = 20_000;
/// How many ports after it [`free_ports`] uses: up to 32,700, below Linux's ephemeral range
/// (32768–60999), so no outgoing connection takes one between the check and the server's bind,
/// and a member restarted after kill -9 gets its port back.
const FREE_PORT_SPAN: u32 = 12_700;

/// `count` ports, each free right now, for servers that must be told their ports up front
/// (etcd's members name each other in `--initial-cluster`; a restarted member must come back on
/// the address the others know).
pub fn free_ports(count: usize) -> Result<Vec<u16>> {
    static NEXT: AtomicU32 = AtomicU32::new(0);
    // Spread by process id, so two benches (or a test run) rarely probe the same ports.
    let spread = std::process::id() % FREE_PORT_SPAN;
    let mut ports = Vec::with_capacity(count);
    for _ in 0..FREE_PORT_SPAN {
        if ports.len() == count {
            return Ok(ports);
        }
        let offset = NEXT.fetch_add(1, Ordering::SeqCst);
        let port = FIRST_FREE_PORT + (spread + offset) % FREE_PORT_SPAN;
        let port = u16::try_from(port).map_err(|_| Error::new("port out of range"))?;
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            ports.push(port);
        }
    }
    Err(Error::new(format!(
        "found no {count} free ports between {FIRST_FREE_PORT} and {}",
        FIRST_FREE_PORT + FREE_PORT_SPAN
    )))
}

/// Calls `probe` every 50 ms until it gives a value or `limit` passes; then fails saying that
/// `what` did not happen. `probe` may fail early (e.g. when a process it waits for has ended).
pub fn wait_for<T>(
    what: &str,
    limit: Duration,
    mut probe: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(value) = probe()? {
            return Ok(value);
        }
        if Instant::now() >= deadline {
            return Err(Error::new(format!(
                "{what} did not happen within {limit:?}"
            )));
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}
