//! etcd as the comparison bench runs it: a 3-member cluster of `/usr/bin/etcd` processes on
//! loopback (the flags of the project's notes on what Flotilla is measured against), each on
//! free ports with its data in a temporary directory, fsyncing its WAL as etcd always does.
//! Writes go through each member's HTTP/JSON gateway (`POST /v3/kv/put`), the HTTP equivalent
//! of Flotilla's API.

use std::path::Path;
use std::time::Duration;

use serde_json::Value;

use super::child::{ChildGuard, TempDir, free_ports, wait_for};
use super::flotilla_proc::path_arg;
use super::http;
use crate::cmd::{Error, Result};

/// The etcd binary Debian's `etcd-server` installs.
pub const ETCD: &str = "/usr/bin/etcd";
/// How long a cluster may take to start and elect a leader on a loaded machine.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Timeout of one control request (probe, status).
const CONTROL_TIMEOUT: Duration = Duration::from_secs(2);

/// Raft timing given to etcd, in milliseconds; `None` keeps etcd's defaults (heartbeat 100 ms,
/// election timeout 1000 ms).
#[derive(Debug, Clone, Copy)]
pub struct EtcdTiming {
    /// `--heartbeat-interval`.
    pub heartbeat_ms: u64,
    /// `--election-timeout`: etcd waits a random time between it and twice it.
    pub election_ms: u64,
}

/// One etcd process.
#[derive(Debug)]
struct Member {
    client: String,
    process: ChildGuard,
}

/// A 3-member (or N-member) etcd cluster, killed and its data removed when dropped.
#[derive(Debug)]
pub struct EtcdCluster {
    members: Vec<Member>,
    /// The command line of member 1, for the record (the others differ in names and ports).
    pub command: String,
    _dir: TempDir,
}

impl EtcdCluster {
    /// The process ids of the running members.
    pub fn pids(&self) -> Vec<u32> {
        self.members
            .iter()
            .filter_map(|member| member.process.pid())
            .collect()
    }

    /// Starts `count` members and waits until a put through member 1 is acknowledged and every
    /// member names the same leader.
    pub fn start(count: usize, timing: Option<EtcdTiming>) -> Result<Self> {
        if !Path::new(ETCD).is_file() {
            return Err(Error::new(format!(
                "{ETCD} is missing: install it with `sudo apt-get install etcd-server wrk`"
            )));
        }
        let dir = TempDir::new("etcd")?;
        let ports = free_ports(2 * count)?;
        let (client_ports, peer_ports) = ports.split_at(count);
        let initial_cluster = peer_ports
            .iter()
            .enumerate()
            .map(|(index, port)| format!("e{}=http://127.0.0.1:{port}", index + 1))
            .collect::<Vec<_>>()
            .join(",");
        let mut members = Vec::new();
        let mut command = String::new();
        for (index, (client_port, peer_port)) in client_ports.iter().zip(peer_ports).enumerate() {
            let name = format!("e{}", index + 1);
            let client = format!("http://127.0.0.1:{client_port}");
            let peer = format!("http://127.0.0.1:{peer_port}");
            let mut args: Vec<String> = vec![
                "--name".into(),
                name.clone(),
                "--data-dir".into(),
                path_arg(&dir.path().join(&name))?,
                "--listen-client-urls".into(),
                client.clone(),
                "--advertise-client-urls".into(),
                client,
                "--listen-peer-urls".into(),
                peer.clone(),
                "--initial-advertise-peer-urls".into(),
                peer,
                "--initial-cluster".into(),
                initial_cluster.clone(),
                "--initial-cluster-state".into(),
                "new".into(),
                "--log-level".into(),
                "error".into(),
            ];
            if let Some(timing) = timing {
                args.extend([
                    "--heartbeat-interval".into(),
                    timing.heartbeat_ms.to_string(),
                    "--election-timeout".into(),
                    timing.election_ms.to_string(),
                ]);
            }
            if index == 0 {
                // The temporary directory differs per run: the record says DIR.
                command = format!("etcd {}", args.join(" ")).replace(&path_arg(dir.path())?, "DIR");
            }
            let process = ChildGuard::spawn(
                &format!("etcd member {name}"),
                Path::new(ETCD),
                args,
                Vec::new(),
                &dir.path().join(format!("{name}.log")),
            )?;
            members.push(Member {
                client: format!("127.0.0.1:{client_port}"),
                process,
            });
        }
        let mut cluster = Self {
            members,
            command,
            _dir: dir,
        };
        wait_for("a first put through etcd member e1", START_LIMIT, || {
            cluster.check_running()?;
            Ok(put(
                &cluster.members[0].client,
                "bench-ready",
                "{}",
                CONTROL_TIMEOUT,
            )
            .then_some(()))
        })?;
        wait_for(
            &format!("{count} etcd members agreeing on a leader"),
            START_LIMIT,
            || {
                cluster.check_running()?;
                Ok(cluster.healthy())
            },
        )?;
        Ok(cluster)
    }

    /// How many members the cluster has.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// The client address (`127.0.0.1:PORT`) of member `index`.
    pub fn client(&self, index: usize) -> &str {
        &self.members[index].client
    }

    /// The index of the member that says it leads, if one does.
    pub fn leader(&self) -> Option<usize> {
        self.members.iter().position(|member| {
            status(&member.client).is_some_and(|status| {
                let me = &status["header"]["member_id"];
                !me.is_null() && *me == status["leader"]
            })
        })
    }

    /// Whether every member answers, all name the same leader, and each has applied what the
    /// leader had in its log when asked (so a restarted member has caught up before the next
    /// kill).
    pub fn healthy(&self) -> Option<()> {
        let leader = self.leader()?;
        let leader_status = status(&self.members[leader].client)?;
        let leader_index = number(&leader_status["raftIndex"])?;
        for member in &self.members {
            let status = status(&member.client)?;
            if status["leader"] != leader_status["leader"]
                || number(&status["raftAppliedIndex"])? < leader_index
            {
                return None;
            }
        }
        Some(())
    }

    /// Kills member `index` with SIGKILL.
    pub fn kill(&mut self, index: usize) {
        self.members[index].process.kill();
    }

    /// Starts member `index` again on its data directory and ports (etcd ignores
    /// `--initial-cluster-state new` once its data directory holds a member).
    pub fn restart(&mut self, index: usize) -> Result {
        self.members[index].process.restart()
    }

    /// Fails, with the log of the member that ended, if any member has ended unasked.
    pub fn check_running(&mut self) -> Result {
        self.members
            .iter_mut()
            .try_for_each(|member| member.process.check_running())
    }
}

/// `POST /v3/kv/put` of `key` = `value` through the member at `client`: whether etcd
/// acknowledged it within `timeout`.
pub fn put(client: &str, key: &str, value: &str, timeout: Duration) -> bool {
    let body = format!(
        r#"{{"key": "{}", "value": "{}"}}"#,
        base64(key.as_bytes()),
        base64(value.as_bytes())
    );
    http::post_json(client, "/v3/kv/put", &body, timeout).is_ok_and(|reply| reply.is_success())
}

/// A member's `POST /v3/maintenance/status`, if it answers.
fn status(client: &str) -> Option<Value> {
    let reply = http::post_json(client, "/v3/maintenance/status", "{}", CONTROL_TIMEOUT).ok()?;
    reply.is_success().then(|| reply.json())
}

/// A 64-bit field of etcd's JSON, which its gateway writes as a string.
fn number(value: &Value) -> Option<u64> {
    value
        .as_str()
        .and_then(|text| text.parse().ok())
        .or_else(|| value.as_u64())
}

/// Standard base64 with padding, as etcd's JSON gateway expects for keys and values.
pub fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            chunk.get(1).copied().unwrap_or(0),
            chunk.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_standard() {
        assert_eq!(base64(b""), "");
        assert_eq!(base64(b"f"), "Zg==");
        assert_eq!(base64(b"fo"), "Zm8=");
        assert_eq!(base64(b"foo"), "Zm9v");
        assert_eq!(base64(b"foobar"), "Zm9vYmFy");
    }

    #[test]
    fn etcd_numbers_come_as_strings_or_numbers() {
        assert_eq!(number(&Value::from("42")), Some(42));
        assert_eq!(number(&Value::from(7)), Some(7));
        assert_eq!(number(&Value::Null), None);
    }
}
