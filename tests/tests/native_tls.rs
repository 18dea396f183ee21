//! TLS, end to end against real processes: certificates made with `flotilla certs`, a cluster
//! of three `flotilla node` processes speaking HTTPS to clients and to each other (elections,
//! joins, writes, and a new leader after kill -9 of the old one), and a demo serving HTTPS.
//! Plain HTTP to a TLS port gets nothing, and neither does a client that does not trust the
//! cluster's CA.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flotilla_tests::node_cluster::TestDir;
use flotilla_tests::process::Proc;
use flotilla_tests::process::get;
use flotilla_tests::process::poll;
use flotilla_tests::process::run_to_exit;
use flotilla_tests::process::wait_for;
use serde_json::Value;
use serde_json::json;
use ureq::tls::Certificate;
use ureq::tls::RootCerts;
use ureq::tls::TlsConfig;

const TOKEN: &str = "tls-test-token-0123456789";
const SECRET: &str = "tls-test-secret-0123456789";
const FORM_LIMIT: Duration = Duration::from_secs(60);

/// An HTTPS client of the test: trusting exactly the CA at `ca`, or (`None`) only the
/// well-known public roots, as a client that was never given the cluster's CA.
struct Https {
    agent: ureq::Agent,
}

impl Https {
    fn trusting(ca: Option<&Path>) -> Https {
        let roots = match ca {
            Some(ca) => {
                let pem = std::fs::read(ca).expect("read the CA");
                let cert = Certificate::from_pem(&pem).expect("a PEM certificate");
                RootCerts::Specific(Arc::new(vec![cert]))
            }
            None => RootCerts::WebPki,
        };
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(Duration::from_secs(30)))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build()
            .into();
        Https { agent }
    }

    /// `GET https://{addr}{path}`: status (0 if no answer, the error as the body) and JSON.
    fn get(&self, addr: &str, path: &str) -> (u16, Value) {
        answer(self.agent.get(format!("https://{addr}{path}")).call())
    }

    /// `POST` JSON with the token.
    fn post(&self, addr: &str, path: &str, body: &Value) -> (u16, Value) {
        answer(
            self.agent
                .post(format!("https://{addr}{path}"))
                .header("Content-Type", "application/json")
                .header("Authorization", format!("Bearer {TOKEN}"))
                .send(body.to_string()),
        )
    }
}

fn answer(result: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> (u16, Value) {
    match result {
        Ok(mut response) => {
            let status = response.status().as_u16();
            let text = response.body_mut().read_to_string().unwrap_or_default();
            (
                status,
                serde_json::from_str(&text).unwrap_or(Value::String(text)),
            )
        }
        Err(err) => (0, Value::String(err.to_string())),
    }
}

/// Runs `flotilla certs ARGS`, which must succeed.
fn certs(args: &[&str]) -> String {
    let mut all = vec!["certs"];
    all.extend(args);
    let done = run_to_exit(&all, Duration::from_secs(30));
    assert_eq!(done.code, Some(0), "flotilla {all:?}: {done:?}");
    done.stdout
}

/// A CA in `dir/ca` and, for each name, a certificate for localhost in `dir/NAME`.
fn make_certs(dir: &Path, names: &[&str]) -> PathBuf {
    let ca_dir = dir.join("ca");
    let ca = ca_dir.to_str().expect("UTF-8");
    let wrote = certs(&["ca", "--out", ca]);
    assert!(
        wrote.contains("ca.pem") && wrote.contains("ca-key.pem"),
        "{wrote}"
    );
    for name in names {
        let out = dir.join(name);
        certs(&[
            "node",
            "--ca",
            ca,
            "--name",
            name,
            "--host",
            "localhost",
            "--host",
            "127.0.0.1",
            "--out",
            out.to_str().expect("UTF-8"),
        ]);
    }
    ca_dir.join("ca.pem")
}

/// The TLS and security flags of a process serving with `dir/NAME`'s certificate.
fn tls_flags(dir: &Path, name: &str) -> Vec<String> {
    let file = |file: String| dir.join(name).join(file).to_string_lossy().into_owned();
    vec![
        "--tls-cert".into(),
        file(format!("{name}.pem")),
        "--tls-key".into(),
        file(format!("{name}-key.pem")),
        "--tls-ca".into(),
        dir.join("ca/ca.pem").to_string_lossy().into_owned(),
        "--token".into(),
        TOKEN.into(),
        "--cluster-secret".into(),
        SECRET.into(),
    ]
}

/// Starts node `id` with its own certificate, joining through `join` if given.
fn start_node(dir: &Path, id: u64, join: Option<&str>) -> Proc {
    let name = format!("n{id}");
    let data = dir.join(format!("data-{id}"));
    let id_text = id.to_string();
    let mut args: Vec<String> = ["node", "--id", &id_text, "--listen", "localhost:0"]
        .iter()
        .map(|arg| arg.to_string())
        .collect();
    args.extend(["--data-dir".into(), data.to_string_lossy().into_owned()]);
    if let Some(join) = join {
        args.extend(["--join".into(), join.to_string()]);
    }
    args.extend(tls_flags(dir, &name));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    Proc::start_on_free_ports(&args, dir, &name).0
}

/// The index of the running node that leads in the highest term, asked over HTTPS.
fn leader(https: &Https, nodes: &mut [Proc]) -> Option<usize> {
    let mut best: Option<(usize, u64)> = None;
    for (index, node) in nodes.iter_mut().enumerate() {
        if !node.is_running() {
            continue;
        }
        let (status, stats) = https.get(&node.addr, "/stats");
        if status == 200 && stats["role"] == "leader" {
            let term = stats["term"].as_u64().unwrap_or(0);
            if best.is_none_or(|(_, best_term)| term > best_term) {
                best = Some((index, term));
            }
        }
    }
    best.map(|(index, _)| index)
}

fn logs(nodes: &[Proc]) -> String {
    nodes
        .iter()
        .map(|node| node.log())
        .collect::<Vec<_>>()
        .join("\n-----\n")
}

fn service(label: &str) -> Value {
    json!({"container": {"uniq_id": 0, "label": label}, "replicas": 2})
}

#[test]
fn a_cluster_of_node_processes_speaks_only_https_and_survives_its_leader() {
    let dir = TestDir::new();
    let ca = make_certs(dir.path(), &["n1", "n2", "n3"]);
    let https = Https::trusting(Some(&ca));

    let mut nodes = vec![start_node(dir.path(), 1, None)];
    let founder = nodes[0].addr.clone();
    let led = poll(FORM_LIMIT, || leader(&https, &mut nodes));
    assert!(led.is_some(), "no leader over TLS\n{}", logs(&nodes));
    for id in 2..=3 {
        nodes.push(start_node(dir.path(), id, Some(&founder)));
    }
    let all = poll(FORM_LIMIT, || {
        let (_, state) = https.get(&founder, "/state");
        (state["nodes"].as_array()?.len() == 3).then_some(())
    });
    assert!(
        all.is_some(),
        "the joins over TLS did not complete\n{}",
        logs(&nodes)
    );

    // A write with the token over HTTPS, to any node (a follower forwards it to the leader
    // over HTTPS too).
    let (status, created) = https.post(&nodes[2].addr, "/service", &service("web"));
    assert!(
        (200..300).contains(&status),
        "create over HTTPS: {status} {created}\n{}",
        logs(&nodes)
    );

    // Plain HTTP to a TLS port gets no answer at all.
    let (status, body) = get(&founder, "/stats");
    assert_eq!(status, 0, "plain HTTP to a TLS port answered: {body}");
    // A client that does not trust the cluster's CA refuses the node's certificate.
    let (status, body) = Https::trusting(None).get(&founder, "/stats");
    assert_eq!(status, 0, "an untrusting client was answered: {body}");
    assert!(
        body.to_string().to_lowercase().contains("certificate"),
        "the error names the certificate: {body}"
    );

    // kill -9 the leader: the other two elect a new one over TLS and take writes.
    let old = leader(&https, &mut nodes).expect("a leader");
    nodes[old].kill9();
    let new = poll(FORM_LIMIT, || {
        leader(&https, &mut nodes).filter(|index| *index != old)
    });
    let Some(new) = new else {
        panic!(
            "no new leader after kill -9 of node {}\n{}",
            old + 1,
            logs(&nodes)
        );
    };
    let (status, created) = https.post(&nodes[new].addr, "/service", &service("after"));
    assert!(
        (200..300).contains(&status),
        "create after the new election: {status} {created}\n{}",
        logs(&nodes)
    );
}

#[test]
fn the_demo_serves_https_with_the_ca() {
    let dir = TestDir::new();
    let ca = make_certs(dir.path(), &["demo"]);
    let https = Https::trusting(Some(&ca));
    let mut args: Vec<String> = ["demo", "--port", "0", "--nodes", "3"]
        .iter()
        .map(|arg| arg.to_string())
        .collect();
    args.extend(tls_flags(dir.path(), "demo"));
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let (demo, bound) = Proc::start_on_free_ports(&args, dir.path(), "demo");
    let api = demo.addr.clone();
    wait_for(
        FORM_LIMIT,
        "a leader, seen by the entry point over HTTPS",
        || {
            let (_, stats) = https.get(&api, "/clusters/0/stats");
            stats["leader"].is_object().then_some(())
        },
    );
    // The seed's create, over HTTPS with the token.
    let (status, created) = https.post(&api, "/clusters/0/service", &service("description"));
    assert!(
        (200..300).contains(&status),
        "{status} {created}\n{}",
        demo.log()
    );
    let (_, services) = https.get(&api, "/clusters/0/services");
    assert_eq!(
        services["services"].as_array().map(Vec::len),
        Some(1),
        "{services}"
    );
    // Its nodes speak HTTPS only too.
    let node = bound["nodes"]["1"].as_str().expect("node 1");
    assert_eq!(https.get(node, "/stats").0, 200);
    assert_eq!(
        get(node, "/stats").0,
        0,
        "plain HTTP to a demo node answered"
    );
    assert_eq!(
        get(&api, "/clusters").0,
        0,
        "plain HTTP to the API answered"
    );
}

#[test]
fn certs_refuse_to_overwrite_and_half_given_tls_is_refused_naming_the_flags() {
    let dir = TestDir::new();
    make_certs(dir.path(), &["n1"]);
    let ca = dir.path().join("ca");
    let again = run_to_exit(
        &["certs", "ca", "--out", ca.to_str().expect("UTF-8")],
        Duration::from_secs(30),
    );
    assert_eq!(again.code, Some(1), "{again:?}");
    assert!(again.stderr.contains("--force"), "{again:?}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("n1/n1-key.pem"))
            .expect("key")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    let cert = dir.path().join("n1/n1.pem");
    let half = run_to_exit(
        &[
            "node",
            "--id",
            "1",
            "--listen",
            "localhost:0",
            "--tls-cert",
            cert.to_str().expect("UTF-8"),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(half.code, Some(1), "{half:?}");
    assert!(
        half.stderr
            .contains("--tls-cert without --tls-key and --tls-ca"),
        "{half:?}"
    );
    // The CA's key as the node's: named as not the certificate's key.
    let wrong_key = run_to_exit(
        &[
            "node",
            "--id",
            "1",
            "--listen",
            "localhost:0",
            "--tls-cert",
            cert.to_str().expect("UTF-8"),
            "--tls-key",
            ca.join("ca-key.pem").to_str().expect("UTF-8"),
            "--tls-ca",
            ca.join("ca.pem").to_str().expect("UTF-8"),
        ],
        Duration::from_secs(30),
    );
    assert_eq!(wrong_key.code, Some(1), "{wrong_key:?}");
    assert!(
        wrong_key
            .stderr
            .contains("is not the private key of the certificate"),
        "{wrong_key:?}"
    );
}
