//! A node's data directory after crashes and damage: the node recovers with every acknowledged
//! write, or refuses to start — exit code non-zero, an error on stderr naming the file and what
//! is wrong — and never starts silently with less.
//!
//! - kill -9 in the middle of bursts of writes, several times on one directory;
//! - a directory with a snapshot and a compacted log (over 1,000 writes), damaged one way per
//!   case: a byte flipped in the snapshot (header or body), the snapshot truncated or deleted,
//!   the log database truncated, emptied or deleted, a torn temporary snapshot, the marker file
//!   deleted;
//! - in a three-node cluster, a node that refuses its directory is removed, wiped and joined
//!   again, as README's "Storage and recovery" tells an operator to do, and catches up.
//!
//! `FLOTILLA_CRASH_SEED` replays the kill timings' choices (the seed is printed).

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::sync::atomic::Ordering;
use std::time::Duration;

use flotilla_tests::ledger::Ledger;
use flotilla_tests::ledger::accounting_violations;
use flotilla_tests::node_cluster::NodeCluster;
use flotilla_tests::node_cluster::TestDir;
use flotilla_tests::process::Finished;
use flotilla_tests::process::Proc;
use flotilla_tests::process::delete;
use flotilla_tests::process::get;
use flotilla_tests::process::poll;
use flotilla_tests::process::post;
use flotilla_tests::process::run_to_exit;
use flotilla_tests::process::wait_for;
use flotilla_tests::seeded::Seeded;
use flotilla_tests::seeded::seed_from_env;
use serde_json::Value;
use serde_json::json;

/// How long a node may take to start, or to refuse to.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The node's files, as `flotilla node` lays them out in its data directory.
const LOG_DB: &str = "raft.redb";
const SNAPSHOT: &str = "snapshot.bin";
const MARKER: &str = "flotilla.dir";

/// Arguments of a single-node cluster on `data`, on a port the OS picks.
fn single_node_args(data: &Path) -> Vec<String> {
    ["node", "--id", "1", "--listen", "localhost:0", "--data-dir"]
        .iter()
        .map(|arg| arg.to_string())
        .chain([data.to_str().expect("a UTF-8 path").to_string()])
        .collect()
}

fn start_single(data: &Path, log_dir: &Path, name: &str) -> Proc {
    let args = single_node_args(data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::start_on_free_ports(&args, log_dir, name).0
}

/// The services a node has, once it answers and leads its one-node cluster.
fn services_when_leading(addr: &str) -> Option<Vec<Value>> {
    let (status, stats) = get(addr, "/stats");
    if status != 200 || stats["role"] != "leader" {
        return None;
    }
    let (status, state) = get(addr, "/state");
    (status == 200).then(|| state["services"].as_array().cloned())?
}

/// Writers hammering `addr` with creates from `threads` threads until `stop`; their ledger.
fn burst(
    addr: &str,
    threads: usize,
    prefix: &str,
    stop: &Arc<AtomicBool>,
) -> Vec<std::thread::JoinHandle<Ledger>> {
    (0..threads)
        .map(|thread| {
            let (addr, stop) = (addr.to_string(), Arc::clone(stop));
            let prefix = format!("{prefix}-t{thread}");
            std::thread::spawn(move || {
                let mut ledger = Ledger::default();
                let mut n = 0;
                while !stop.load(Ordering::SeqCst) {
                    n += 1;
                    let label = format!("{prefix}-{n}");
                    let (status, answer) = post(
                        &addr,
                        "/service",
                        &json!({"container": {"label": label}, "replicas": 1}),
                    );
                    let id = (status == 201)
                        .then(|| answer["services"][0]["id"].as_u64())
                        .flatten();
                    ledger.created(&label, 1, id);
                    if status == 0 {
                        break;
                    }
                }
                ledger
            })
        })
        .collect()
}

#[test]
fn kill_9_in_the_middle_of_write_bursts_loses_no_acknowledged_write() {
    let seed = seed_from_env("FLOTILLA_CRASH_SEED");
    let mut rng = Seeded::new(seed);
    let dir = TestDir::new();
    let data = dir.path().join("node-1");
    let mut node = start_single(&data, dir.path(), "node-1");
    let mut ledger = Ledger::default();
    for round in 0..4 {
        let addr = node.addr.clone();
        wait_for(START_LIMIT, "the node to lead", || {
            services_when_leading(&addr)
        });
        let stop = Arc::new(AtomicBool::new(false));
        let writers = burst(&addr, 3, &format!("r{round}"), &stop);
        std::thread::sleep(Duration::from_millis(rng.range(300, 1500)));
        // SIGKILL while writes are in flight; the writers see the connection fail and stop.
        node.kill9();
        stop.store(true, Ordering::SeqCst);
        for writer in writers {
            ledger.merge(writer.join().expect("a writer panicked"));
        }
        node.restart();
        let services = wait_for(START_LIMIT, "the node back after kill -9", || {
            services_when_leading(&addr)
        });
        let violations = ledger.violations(&services);
        let (acknowledged, unknown) = ledger.counts();
        println!(
            "round {round}: {acknowledged} creates acknowledged so far, {unknown} cut off by the \
             kill, {} services after the restart",
            services.len()
        );
        assert!(
            violations.is_empty(),
            "seed {seed}, after kill -9 number {}:\n  {}",
            round + 1,
            violations.join("\n  ")
        );
    }
}

/// A single node's data directory with a snapshot and a compacted log, killed with SIGKILL, and
/// the services it acknowledged.
fn seasoned_data_dir(dir: &Path) -> (std::path::PathBuf, Vec<Value>) {
    let data = dir.join("seasoned");
    let mut node = start_single(&data, dir, "seasoned");
    let addr = node.addr.clone();
    wait_for(START_LIMIT, "the node to lead", || {
        services_when_leading(&addr)
    });
    for n in 0..4 {
        let (status, answer) = post(
            &addr,
            "/service",
            &json!({"container": {"label": format!("kept-{n}")}, "replicas": 2}),
        );
        assert_eq!(status, 201, "{answer}");
    }
    // Over 1,000 entries: the node snapshots (every 1,000) and compacts its log.
    let threads: Vec<_> = (0..4)
        .map(|thread| {
            let addr = addr.clone();
            std::thread::spawn(move || {
                for n in 0..290u64 {
                    let (status, answer) = post(
                        &addr,
                        &format!("/services/{}/scale", 1 + thread),
                        &json!({ "replicas": 1 + (n + thread) % 4 }),
                    );
                    assert_eq!(status, 200, "{answer}");
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().expect("a writer panicked");
    }
    wait_for(START_LIMIT, "a snapshot and a compacted log", || {
        let (_, stats) = get(&addr, "/stats?limit=1");
        let compacted = stats["log"]["first_index"].as_u64()? > 1;
        (compacted && data.join(SNAPSHOT).exists()).then_some(())
    });
    let services = services_when_leading(&addr).expect("the node answers");
    node.kill9();
    (data, services)
}

/// How a damaged copy of the data directory must be met.
enum Expect {
    /// The node starts with exactly the acknowledged services.
    Recovers,
    /// The node exits non-zero, its stderr naming this file and containing these words.
    Refuses {
        file: &'static str,
        words: &'static [&'static str],
    },
}

/// Flips every bit of the byte at `offset` in `path` (`offset` from the end if negative).
fn flip_byte(path: &Path, offset: i64) {
    let mut bytes = std::fs::read(path).expect("read the file");
    let at = if offset < 0 {
        bytes.len() - offset.unsigned_abs() as usize
    } else {
        offset as usize
    };
    bytes[at] ^= 0xFF;
    std::fs::write(path, bytes).expect("write the file");
}

fn truncate(path: &Path, keep: impl FnOnce(u64) -> u64) {
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(path)
        .expect("open the file");
    let length = file.metadata().expect("its length").len();
    file.set_len(keep(length)).expect("truncate");
}

/// The files of a directory with their contents, to see that a refusal left it as it was. The
/// log database only by name: a node that opened it before refusing (to check the snapshot
/// against the log's compaction) let redb repair it after the crash, which rewrites the file
/// but not what it holds.
fn listing(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    std::fs::read_dir(dir)
        .expect("list the data directory")
        .map(|entry| {
            let entry = entry.expect("a directory entry");
            let name = entry.file_name().to_string_lossy().into_owned();
            let contents = if name == LOG_DB {
                Vec::new()
            } else {
                std::fs::read(entry.path()).unwrap_or_default()
            };
            (name, contents)
        })
        .collect()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create the copy");
    for entry in std::fs::read_dir(from).expect("list the data directory") {
        let entry = entry.expect("a directory entry");
        std::fs::copy(entry.path(), to.join(entry.file_name())).expect("copy a file");
    }
}

#[test]
fn a_damaged_data_dir_is_refused_naming_the_file_or_recovered_in_full() {
    let dir = TestDir::new();
    let (seasoned, acknowledged) = seasoned_data_dir(dir.path());
    type Damage = fn(&Path);
    let cases: Vec<(&str, Damage, Expect)> = vec![
        ("nothing damaged (kill -9 only)", |_| {}, Expect::Recovers),
        (
            "a torn temporary snapshot left beside the snapshot",
            |data| std::fs::write(data.join("snapshot.bin.tmp"), b"FLOTSNAP\x01\x00").unwrap(),
            Expect::Recovers,
        ),
        (
            "the marker file deleted",
            |data| std::fs::remove_file(data.join(MARKER)).unwrap(),
            Expect::Recovers,
        ),
        (
            "a byte flipped in the snapshot's body",
            |data| flip_byte(&data.join(SNAPSHOT), -10),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["checksum", "damaged"],
            },
        ),
        (
            "a byte flipped in the snapshot's magic",
            |data| flip_byte(&data.join(SNAPSHOT), 0),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["not a snapshot file"],
            },
        ),
        (
            "a byte flipped in the snapshot's length",
            |data| flip_byte(&data.join(SNAPSHOT), 13),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["truncated or damaged"],
            },
        ),
        (
            "a byte flipped in the snapshot's checksum",
            |data| flip_byte(&data.join(SNAPSHOT), 21),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["checksum"],
            },
        ),
        (
            "the snapshot truncated",
            |data| truncate(&data.join(SNAPSHOT), |length| length / 2),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["truncated or damaged"],
            },
        ),
        (
            "the snapshot deleted",
            |data| std::fs::remove_file(data.join(SNAPSHOT)).unwrap(),
            Expect::Refuses {
                file: SNAPSHOT,
                words: &["does not exist", "compacted"],
            },
        ),
        (
            "a byte flipped in the log database's header",
            |data| flip_byte(&data.join(LOG_DB), 0),
            Expect::Refuses {
                file: LOG_DB,
                words: &["does not open", "damaged"],
            },
        ),
        (
            "the log database truncated to half",
            |data| truncate(&data.join(LOG_DB), |length| length / 2),
            Expect::Refuses {
                file: LOG_DB,
                words: &["truncated or damaged"],
            },
        ),
        (
            "the log database's last page cut off",
            |data| truncate(&data.join(LOG_DB), |length| length - 4096),
            Expect::Refuses {
                file: LOG_DB,
                words: &["truncated or damaged"],
            },
        ),
        (
            "the log database emptied",
            |data| truncate(&data.join(LOG_DB), |_| 0),
            Expect::Refuses {
                file: LOG_DB,
                words: &["empty", MARKER],
            },
        ),
        (
            "the log database deleted",
            |data| std::fs::remove_file(data.join(LOG_DB)).unwrap(),
            Expect::Refuses {
                file: LOG_DB,
                words: &["does not exist", MARKER],
            },
        ),
        (
            "the log database deleted, and the marker",
            |data| {
                std::fs::remove_file(data.join(LOG_DB)).unwrap();
                std::fs::remove_file(data.join(MARKER)).unwrap();
            },
            Expect::Refuses {
                file: LOG_DB,
                words: &["does not exist", SNAPSHOT],
            },
        ),
        (
            "the log database and the snapshot deleted",
            |data| {
                std::fs::remove_file(data.join(LOG_DB)).unwrap();
                std::fs::remove_file(data.join(SNAPSHOT)).unwrap();
            },
            Expect::Refuses {
                file: LOG_DB,
                words: &["does not exist", MARKER],
            },
        ),
    ];

    let mut failures = Vec::new();
    for (number, (what, damage, expect)) in cases.into_iter().enumerate() {
        let data = dir.path().join(format!("case-{number}"));
        copy_dir(&seasoned, &data);
        damage(&data);
        let outcome = match expect {
            Expect::Recovers => recovers(&data, dir.path(), number, &acknowledged),
            Expect::Refuses { file, words } => refuses(&data, file, words),
        };
        println!(
            "{what}: {}",
            match &outcome {
                Ok(how) => how.as_str(),
                Err(_) => "FAILED",
            }
        );
        if let Err(why) = outcome {
            failures.push(format!("{what}: {why}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} cases failed:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

/// Starts a node on `data` and checks it serves exactly the `acknowledged` services.
fn recovers(
    data: &Path,
    log_dir: &Path,
    number: usize,
    acknowledged: &[Value],
) -> Result<String, String> {
    let node = start_single(data, log_dir, &format!("case-{number}"));
    let addr = node.addr.clone();
    let services = poll(START_LIMIT, || services_when_leading(&addr));
    match services {
        Some(services) if services == acknowledged => {
            Ok(format!("recovered all {} services", services.len()))
        }
        Some(services) => Err(format!(
            "started with other services than it acknowledged:\n{services:?}\nexpected\n{acknowledged:?}"
        )),
        None => Err(format!("did not come back:\n{}", node.log())),
    }
}

/// Starts a node on `data` twice and checks it refuses both times, naming `file` and `words` on
/// stderr, and leaves the directory as it was.
fn refuses(data: &Path, file: &str, words: &[&str]) -> Result<String, String> {
    let before = listing(data);
    let args = single_node_args(data);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    for attempt in 1..=2 {
        let Finished {
            code,
            stdout,
            stderr,
        } = run_to_exit(&args, START_LIMIT);
        let last_line = stderr.lines().last().unwrap_or_default().to_string();
        if code.is_none_or(|code| code == 0) {
            return Err(format!(
                "start {attempt} did not refuse (exit {code:?})\nstdout:\n{stdout}\nstderr:\n{stderr}"
            ));
        }
        let named = last_line.starts_with("flotilla: ")
            && last_line.contains(&data.join(file).display().to_string())
            && words.iter().all(|word| last_line.contains(word));
        if !named {
            return Err(format!(
                "start {attempt} refused, but its last line on stderr does not name {file} with \
                 {words:?}:\n{stderr}"
            ));
        }
        if stdout.contains("serving") {
            return Err(format!("start {attempt} served before refusing:\n{stdout}"));
        }
    }
    if listing(data) != before {
        return Err("refusing changed the data directory".to_string());
    }
    let reason = stderr_reason(data, &args);
    Ok(format!("refused: {reason}"))
}

/// The refusal's last stderr line without the path prefix, for the printed summary.
fn stderr_reason(data: &Path, args: &[&str]) -> String {
    let finished = run_to_exit(args, START_LIMIT);
    let line = finished
        .stderr
        .lines()
        .last()
        .unwrap_or_default()
        .to_string();
    let line = line.replace(&data.display().to_string(), "DIR");
    line.split("; the node refuses")
        .next()
        .unwrap_or_default()
        .to_string()
}

#[test]
fn a_node_that_refuses_its_data_dir_is_removed_wiped_and_joined_again() {
    let dir = TestDir::new();
    let mut cluster = NodeCluster::start(3, dir.path(), &["--node-down-after-ms", "1500"]);
    let mut acknowledged = BTreeMap::new();
    for n in 0..20 {
        let addr = cluster.nodes[n % 3].addr.clone();
        let (status, answer) = post(
            &addr,
            "/service",
            &json!({"container": {"label": format!("s{n}")}, "replicas": 1 + n % 3}),
        );
        assert_eq!(status, 201, "{answer}");
        acknowledged.insert(
            answer["services"][0]["id"].as_u64().unwrap(),
            1 + n as u64 % 3,
        );
    }

    // Node 3 crashes and its log database is lost: it refuses to start, naming the file.
    cluster.nodes[2].kill9();
    let data = cluster.data_dirs[2].clone();
    std::fs::remove_file(data.join(LOG_DB)).expect("delete raft.redb");
    let node3 = cluster.nodes[2].addr.clone();
    let node1 = cluster.nodes[0].addr.clone();
    let args = [
        "node",
        "--id",
        "3",
        "--listen",
        &node3,
        "--data-dir",
        data.to_str().unwrap(),
        "--join",
        &node1,
    ];
    let refused = run_to_exit(&args, START_LIMIT);
    assert!(
        refused.code.is_some_and(|code| code != 0)
            && refused
                .stderr
                .contains(&data.join(LOG_DB).display().to_string()),
        "node 3 should refuse its directory: {refused:?}"
    );

    // The other two go on.
    let (status, answer) = post(
        &node1,
        "/service",
        &json!({"container": {"label": "while-node-3-is-out"}, "replicas": 1}),
    );
    assert_eq!(status, 201, "{answer}");
    acknowledged.insert(answer["services"][0]["id"].as_u64().unwrap(), 1);

    // The operator removes node 3 from the cluster, empties its directory and joins it again.
    let (host, port) = node3.rsplit_once(':').unwrap();
    let (status, answer) = delete(&node1, "/nodes", &json!({"host": host, "port": port}));
    assert_eq!(status, 200, "removing node 3: {answer}");
    std::fs::remove_dir_all(&data).expect("wipe node 3's data directory");
    cluster.nodes[2] = cluster.spawn_node(3, &data, &node3, Some(&node1), &[]);

    let services = |addr: &str| -> Option<BTreeMap<u64, u64>> {
        let (status, state) = get(addr, "/state");
        if status != 200 {
            return None;
        }
        state["services"]
            .as_array()?
            .iter()
            .map(|service| Some((service["id"].as_u64()?, service["replicas"].as_u64()?)))
            .collect()
    };
    let rejoined = poll(Duration::from_secs(60), || {
        let (_, state) = get(&node1, "/state");
        let members = state["nodes"].as_array()?.len();
        (members == 3 && services(&node3)? == acknowledged).then_some(())
    });
    assert!(
        rejoined.is_some(),
        "node 3 did not rejoin and catch up: {:?}\n{}",
        services(&node3),
        cluster.logs()
    );
    for node in &cluster.nodes {
        let (_, state) = get(&node.addr, "/state");
        let violations = accounting_violations(&state);
        assert!(violations.is_empty(), "{violations:?}");
    }
}
