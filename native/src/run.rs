//! What `flotilla demo` and `flotilla node` do: bind, start, wait for Ctrl-C / SIGTERM (or, for
//! a node, for its cluster to remove it), then shut down cleanly.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use flotilla_core::raft::Member;
use tokio::net::TcpListener;

use crate::cli::DemoArgs;
use crate::cli::NodeArgs;
use crate::entry::Entry;
use crate::node::NodeConfig;
use crate::node::StartMode;
use crate::registry::Registry;
use crate::registry::SpawnRequest;
use crate::registry::SpawnSettings;
use crate::server::NodeServer;

/// The demo's cluster id, as in the seed's commands (`/clusters/0/…`).
pub const DEMO_CLUSTER: &str = "0";

/// A failure that ends the program, with the message to print.
pub type Fatal = String;

/// Runs the demo until Ctrl-C or SIGTERM.
pub async fn demo(args: DemoArgs) -> Result<(), Fatal> {
    let last_port = u32::from(args.port) + u32::from(args.nodes);
    if last_port > 65535 {
        return Err(format!(
            "--port {} leaves no room for {} node ports after it",
            args.port, args.nodes
        ));
    }
    let api_addr = SocketAddr::new(args.bind, args.port);
    let listener = TcpListener::bind(api_addr).await.map_err(|err| {
        format!("cannot listen on {api_addr}: {err} (is another demo running? try --port)")
    })?;

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
        timing: args.timing.timing(),
        request_timeout: args.timing.request_timeout(),
    };
    let registry = Registry::new(settings);
    let founders: BTreeMap<u64, Member> = (1..=u64::from(args.nodes))
        .map(|n| {
            let member = Member {
                name: format!("n{n}"),
                addr: format!("{advertise}:{}", u64::from(args.port) + n),
                capacity: args.capacity,
            };
            (n, member)
        })
        .collect();
    let requests: Vec<SpawnRequest> = founders
        .iter()
        .map(|(id, member)| SpawnRequest {
            id: *id,
            member: member.clone(),
            start: StartMode::Found(founders.clone()),
        })
        .collect();
    registry
        .create_cluster(DEMO_CLUSTER, &requests)
        .await
        .map_err(|err| err.to_string())?;

    let web_dir = args.web_dir.clone().unwrap_or_else(default_web_dir);
    if !web_dir.join("index.html").exists() {
        tracing::warn!(dir = %web_dir.display(), "the browser page is not built (run `cargo xtask web`); / will answer 404");
    }
    let entry = Arc::new(Entry::new(registry, web_dir, advertise.clone()));
    let app = crate::entry::router(entry.clone());
    println!(
        "Flotilla demo: API on http://{advertise}:{} ; cluster \"0\" of {} nodes on ports {}-{}; data in {}{}",
        args.port,
        args.nodes,
        u32::from(args.port) + 1,
        last_port,
        data_root.display(),
        if temporary {
            " (temporary, removed on exit)"
        } else {
            ""
        }
    );
    println!(
        "Page: http://{advertise}:{port}/ (Raft simulated in the browser) and http://{advertise}:{port}/?live=0 (this cluster, live)",
        port = args.port
    );
    let closing = entry.clone();
    let served = axum::serve(listener, app)
        .with_graceful_shutdown(async move {
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
    let (host, port) = args
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
    let listener = TcpListener::bind(&args.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", args.listen))?;
    let addr = crate::addr::canonical(&args.listen);
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
        timing: args.timing.timing(),
        start,
        request_timeout: args.timing.request_timeout(),
    };
    let node = NodeServer::start(config, listener)
        .await
        .map_err(|err| err.to_string())?;
    println!(
        "Flotilla node {} ({name}) serving on http://{addr}",
        args.id
    );
    if let Some(join) = &args.join {
        if node.started_fresh() {
            let joined = tokio::select! {
                joined = join_cluster(join, &name, &host, port, args.capacity) => joined,
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

/// Asks the node at `join` to add this one, retrying while the cluster has no leader.
async fn join_cluster(
    join: &str,
    name: &str,
    host: &str,
    port: u16,
    capacity: u32,
) -> Result<(), Fatal> {
    let http = reqwest::Client::new();
    let body = serde_json::json!({
        "id": name, "host": host, "port": port, "capacity": capacity, "spawn": false,
    });
    let mut attempts = 0;
    loop {
        attempts += 1;
        let answer = http
            .post(format!("http://{join}/nodes"))
            .json(&body)
            .timeout(Duration::from_secs(20))
            .send()
            .await;
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
