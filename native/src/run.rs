//! What `flotilla demo` and `flotilla node` do: bind, start, wait for Ctrl-C / SIGTERM (or, for
//! a node, for its cluster to remove it), then shut down cleanly; and what `flotilla certs`
//! writes.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flotilla_core::raft::Member;
use tokio::net::TcpListener;

use crate::auth::ApiToken;
use crate::auth::ClusterSecret;
use crate::cli::CertsArgs;
use crate::cli::CertsCommand;
use crate::cli::DemoArgs;
use crate::cli::NodeArgs;
use crate::entry::Entry;
use crate::node::NodeConfig;
use crate::node::StartMode;
use crate::registry::Registry;
use crate::registry::SpawnRequest;
use crate::registry::SpawnSettings;
use crate::server::NodeServer;
use crate::tls;
use crate::tls::Tls;

/// The demo's cluster id, as in the seed's commands (`/clusters/0/…`).
pub const DEMO_CLUSTER: &str = "0";

/// A failure that ends the program, with the message to print.
pub type Fatal = String;

/// Runs the demo until Ctrl-C or SIGTERM.
pub async fn demo(args: DemoArgs) -> Result<(), Fatal> {
    let last_port = u32::from(args.port) + u32::from(args.nodes);
    if args.port != 0 && last_port > 65535 {
        return Err(format!(
            "--port {} leaves no room for {} node ports after it",
            args.port, args.nodes
        ));
    }
    let api_addr = SocketAddr::new(args.bind, args.port);
    let access =
        args.common
            .security
            .access(&api_addr.to_string(), args.bind.is_loopback(), false)?;
    let listener = TcpListener::bind(api_addr).await.map_err(|err| {
        format!("cannot listen on {api_addr}: {err} (is another demo running? try --port)")
    })?;
    let api_port = bound_port(&listener)?;
    let (data_root, temporary) = match &args.data_dir {
        Some(dir) => (dir.clone(), false),
        None => (
            std::env::temp_dir().join(format!("flotilla-demo-{}", std::process::id())),
            true,
        ),
    };
    let advertise = if args.bind.is_loopback() || args.bind.is_unspecified() {
        "localhost".to_string()
    } else {
        args.bind.to_string()
    };
    let settings = SpawnSettings {
        bind: args.bind,
        data_root: data_root.clone(),
        timing: args.common.timing.timing(),
        request_timeout: args.common.timing.request_timeout(),
        // The demo's nodes all live here: a fresh secret per run, unless nodes of other
        // processes are to join (then the operator gives them all the same one).
        secret: access.secret.unwrap_or_else(ClusterSecret::random),
        guard: access
            .guard
            .with_limits(args.common.server_limits.limits(args.max_clusters)),
        spawn_ports: args.spawn_ports.clone(),
        limits: args.common.limits.limits(),
        tls: access.tls.clone(),
    };
    let registry = Registry::new(settings);
    // The nodes' listeners are bound before anything starts, so a port in use is reported
    // first; with `--port 0` the OS picks every port, the nodes' included.
    let mut listeners = Vec::with_capacity(usize::from(args.nodes));
    for n in 1..=args.nodes {
        let port = if args.port == 0 { 0 } else { args.port + n };
        listeners.push(registry.listen(port).await.map_err(|err| err.to_string())?);
    }
    let node_ports = listeners
        .iter()
        .map(bound_port)
        .collect::<Result<Vec<u16>, Fatal>>()?;
    let requests = SpawnRequest::founders(&advertise, &node_ports, args.capacity);
    registry
        .create_cluster_on(DEMO_CLUSTER, &requests, listeners)
        .await
        .map_err(|err| err.to_string())?;

    let web_dir = args.web_dir.clone().unwrap_or_else(default_web_dir);
    if !web_dir.join("index.html").exists() {
        tracing::warn!(dir = %web_dir.display(), "the browser page is not built (run `cargo xtask web`); / will answer 404");
    }
    let entry = Arc::new(Entry::new(registry, web_dir, advertise.clone()));
    let app = crate::entry::router(entry.clone());
    let scheme = access.tls.scheme();
    println!(
        "Flotilla demo: API on {scheme}://{advertise}:{api_port} ; cluster \"0\" of {} nodes on ports {}; data in {}{}",
        args.nodes,
        describe_ports(&node_ports),
        data_root.display(),
        if temporary {
            " (temporary, removed on exit)"
        } else {
            ""
        }
    );
    println!(
        "Page: {scheme}://{advertise}:{port}/ (Raft simulated in the browser) and {scheme}://{advertise}:{port}/?live=0 (this cluster, live)",
        port = api_port
    );
    if let Some(path) = &args.port_file {
        let nodes: serde_json::Map<String, serde_json::Value> = requests
            .iter()
            .map(|node| (node.id.to_string(), node.member.addr.clone().into()))
            .collect();
        let bound = serde_json::json!({"api": format!("{advertise}:{api_port}"), "nodes": nodes});
        if let Err(err) = write_port_file(path, &bound) {
            entry.registry.shutdown().await;
            if temporary {
                let _ = std::fs::remove_dir_all(&data_root);
            }
            return Err(err);
        }
    }
    let closing = entry.clone();
    let served = tls::serve(listener, &access.tls, app, async move {
        shutdown_signal().await;
        closing.close();
    })
    .await;
    entry.registry.shutdown().await;
    if temporary {
        let _ = std::fs::remove_dir_all(&data_root);
    }
    served.map_err(|err| format!("the API server failed: {err}"))
}

/// Where `cargo xtask web` puts the page: `web/dist` in the source tree this binary was built from.
fn default_web_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../web/dist")
}

/// Runs one node until Ctrl-C, SIGTERM or its removal from the cluster.
pub async fn node(args: NodeArgs) -> Result<(), Fatal> {
    let (host, _requested_port) = args
        .listen
        .rsplit_once(':')
        .and_then(|(host, port)| Some((host.to_string(), port.parse::<u16>().ok()?)))
        .ok_or_else(|| format!("--listen {:?} is not HOST:PORT", args.listen))?;
    if host.is_empty() || host == "0.0.0.0" {
        return Err(format!(
            "--listen {:?}: give the host name or address peers reach this node at",
            args.listen
        ));
    }
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    let access = args.common.security.access(&args.listen, loopback, true)?;
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    // `--listen HOST:0`: the node is reached at the port the OS picked.
    let port = bound_port(&listener)?;
    let addr = crate::addr::canonical(&format!("{host}:{port}"));
    let name = args.name.clone().unwrap_or_else(|| format!("n{}", args.id));
    let member = Member {
        name: name.clone(),
        addr: addr.clone(),
        capacity: args.capacity,
    };
    let start = if args.join.is_some() || args.await_join {
        StartMode::Join
    } else {
        StartMode::Found(BTreeMap::from([(args.id, member)]))
    };
    let config = NodeConfig {
        id: args.id,
        name: name.clone(),
        addr: addr.clone(),
        capacity: args.capacity,
        cluster: args.cluster.clone(),
        data_dir: args
            .data_dir
            .clone()
            .unwrap_or_else(|| PathBuf::from(format!("flotilla-data/node-{}", args.id))),
        timing: args.common.timing.timing(),
        start,
        request_timeout: args.common.timing.request_timeout(),
        secret: access.secret.clone(),
        limits: args.common.limits.limits(),
        tls: access.tls.clone(),
    };
    let guard = access
        .guard
        .clone()
        .with_limits(args.common.server_limits.limits(0));
    let node = NodeServer::start(config, listener, &guard)
        .await
        .map_err(|err| err.to_string())?;
    println!(
        "Flotilla node {} ({name}) serving on {}",
        args.id,
        access.tls.url(&addr, "")
    );
    if let Some(path) = &args.port_file
        && let Err(err) = write_port_file(path, &serde_json::json!({ "addr": addr }))
    {
        node.shutdown().await;
        return Err(err);
    }
    if let Some(join) = &args.join {
        if node.started_fresh() {
            let joined = tokio::select! {
                joined = join_cluster(join, &name, &host, port, args.capacity, access.guard.token(), &access.tls) => joined,
                () = shutdown_signal() => Err("interrupted while joining".to_string()),
            };
            if let Err(err) = joined {
                node.shutdown().await;
                return Err(err);
            }
            println!("joined the cluster through {join}");
        } else {
            println!("restarted with the membership on disk; --join {join} is not needed");
        }
    } else if args.await_join && node.started_fresh() {
        println!(
            "waiting to be added: POST {{\"host\", \"port\", \"spawn\": false}} to /nodes of \
             any member of cluster {:?}",
            args.cluster
        );
    }
    tokio::select! {
        () = shutdown_signal() => {}
        () = node.stop_requested() => println!("removed from the cluster"),
    }
    node.shutdown().await;
    Ok(())
}

/// The port `listener` is bound to (the one the OS picked, for port 0).
fn bound_port(listener: &TcpListener) -> Result<u16, Fatal> {
    listener
        .local_addr()
        .map(|addr| addr.port())
        .map_err(|err| format!("cannot read the bound address: {err}"))
}

/// `8001-8005` for consecutive ports (as the demo's default numbering gives), else a list.
fn describe_ports(ports: &[u16]) -> String {
    let consecutive = ports
        .windows(2)
        .all(|pair| pair[1] == pair[0].wrapping_add(1));
    match (ports.first(), ports.last()) {
        (Some(first), Some(last)) if consecutive => format!("{first}-{last}"),
        _ => ports
            .iter()
            .map(u16::to_string)
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// Writes `bound` (the addresses the listeners got) to `path` as JSON, whole: into a file beside
/// it, then renamed over it, so a reader never sees half of it.
fn write_port_file(path: &Path, bound: &serde_json::Value) -> Result<(), Fatal> {
    let mut partial = path.as_os_str().to_owned();
    partial.push(format!(".{}.partial", std::process::id()));
    let partial = PathBuf::from(partial);
    std::fs::write(&partial, format!("{bound}\n"))
        .and_then(|()| std::fs::rename(&partial, path))
        .map_err(|err| format!("cannot write the port file {}: {err}", path.display()))
}

/// Asks the node at `join` to add this one, retrying while the cluster has no leader.
async fn join_cluster(
    join: &str,
    name: &str,
    host: &str,
    port: u16,
    capacity: u32,
    token: Option<&ApiToken>,
    tls: &Tls,
) -> Result<(), Fatal> {
    let http = tls.client();
    let body = serde_json::json!({
        "id": name, "host": host, "port": port, "capacity": capacity, "spawn": false,
    });
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut request = http.post(tls.url(join, "/nodes")).json(&body);
        if let Some(token) = token {
            request = request.header(reqwest::header::AUTHORIZATION, token.bearer());
        }
        let answer = request.timeout(Duration::from_secs(20)).send().await;
        let problem = match answer {
            Ok(response) if response.status().is_success() => return Ok(()),
            Ok(response) => {
                let status = response.status();
                let text = response.text().await.unwrap_or_default();
                if status.is_client_error() {
                    return Err(format!("{join} refused to add this node: {status} {text}"));
                }
                format!("{status} {text}")
            }
            Err(err) => err.to_string(),
        };
        if attempts >= 10 {
            return Err(format!("could not join through {join}: {problem}"));
        }
        tracing::warn!(%problem, "joining failed; retrying");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Makes a CA or a node certificate, and says which files it wrote.
pub fn certs(args: &CertsArgs) -> Result<(), Fatal> {
    let written = match &args.command {
        CertsCommand::Ca(ca) => tls::issue::create_ca(&ca.out, ca.days, ca.force),
        CertsCommand::Node(node) => tls::issue::create_node(
            &node.ca,
            &node.name,
            &node.hosts,
            &node.out,
            node.days,
            node.force,
        ),
    }
    .map_err(|err| err.to_string())?;
    for path in written {
        println!("wrote {}", path.display());
    }
    Ok(())
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {}
        () = terminate => {}
    }
}
