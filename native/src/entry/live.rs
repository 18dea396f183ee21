//! `GET /clusters/{id}/events`: one server-sent event stream for a whole cluster, what the
//! browser page's live mode draws. The entry point subscribes to every node's `GET /events` and
//! passes their `node` events on as they arrive; it adds a `members` event whenever the
//! cluster's node list changes (first thing on connecting) and an `unreachable` event when a
//! node's stream cannot be opened or breaks, then tries that node again every second. The
//! stream ends when the cluster is gone or the demo stops.

use std::collections::BTreeMap;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::Path;
use axum::extract::State;
use axum::response::IntoResponse;
use axum::response::Response;
use axum::response::sse::Event;
use axum::response::sse::KeepAlive;
use axum::response::sse::Sse;
use eventsource_stream::Eventsource;
use futures_util::StreamExt;
use futures_util::stream;
use serde_json::json;
use tokio::sync::mpsc;
use tokio::task::AbortHandle;
use tokio::task::JoinSet;

use super::state::Entry;
use crate::api::ApiError;
use crate::api::streams::KEEP_ALIVE;

/// How often the entry point looks for nodes joining or leaving the cluster.
const MEMBERS_POLL: Duration = Duration::from_secs(1);
/// How long after losing a node's stream it tries again.
const RECONNECT_AFTER: Duration = Duration::from_secs(1);
/// Events waiting for a slow browser before the nodes' streams are read no further.
const BACKLOG: usize = 256;
/// A node that does not accept the connection within this is unreachable for now.
const CONNECT_WITHIN: Duration = Duration::from_secs(3);
/// A node stream silent (not even a keep-alive) for this long is taken as broken.
const SILENT_FOR: Duration = Duration::from_secs(30);

/// `GET /clusters/:id/events`: the cluster's merged event stream (404 for an unknown cluster,
/// 429 past `--max-event-streams` open).
#[utoipa::path(
    get,
    path = "/clusters/{id}/events",
    tag = "clusters",
    summary = "Every node's event stream, merged",
    description = "Server-sent events: each node's `node` events, the node list as it changes \
        and the nodes that cannot be reached; what the page's live mode follows. 404 for an \
        unknown cluster, 429 past `--max-event-streams` open streams.",
    params(("id" = String, Path, description = "The cluster's id")),
    responses((status = 200, description = "The event stream", content_type = "text/event-stream", body = String)),
)]
pub async fn cluster_events(
    State(entry): State<Arc<Entry>>,
    Path(cluster): Path<String>,
) -> Result<Response, ApiError> {
    entry.registry.addrs(&cluster).await?;
    let slot = entry.event_streams.open()?;
    let (events, receiver) = mpsc::channel(BACKLOG);
    tokio::spawn(watch_cluster(entry, cluster, events));
    // The slot is held for as long as the browser reads.
    let stream = stream::unfold((receiver, slot), |(mut receiver, slot)| async move {
        let event = receiver.recv().await?;
        Some((Ok::<Event, Infallible>(event), (receiver, slot)))
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(KEEP_ALIVE))
        .into_response())
}

/// Follows every node of `cluster`, starting and stopping followers as its node list changes,
/// until the browser goes away, the cluster is deleted or the demo stops. Returning drops the
/// followers (and with them every sender, which ends the browser's stream).
async fn watch_cluster(entry: Arc<Entry>, cluster: String, events: mpsc::Sender<Event>) {
    let tls = entry.registry.settings.tls.clone();
    let client = match tls
        .client_builder()
        .connect_timeout(CONNECT_WITHIN)
        .read_timeout(SILENT_FOR)
        .build()
    {
        Ok(client) => client,
        Err(err) => {
            tracing::error!(%err, "cannot build the HTTP client for node event streams");
            return;
        }
    };
    let closing = entry.closing();
    let mut followers = JoinSet::new();
    let mut following: BTreeMap<String, AbortHandle> = BTreeMap::new();
    loop {
        let Ok(addrs) = entry.registry.addrs(&cluster).await else {
            return;
        };
        if !addrs.iter().eq(following.keys()) {
            // The node list goes out before any event of a node new to it.
            let members = Event::default()
                .event("members")
                .data(json!({ "cluster": cluster, "nodes": addrs }).to_string());
            if events.send(members).await.is_err() {
                return;
            }
            following.retain(|addr, follower| {
                let keep = addrs.contains(addr);
                if !keep {
                    follower.abort();
                }
                keep
            });
            for addr in &addrs {
                if !following.contains_key(addr) {
                    let follower = followers.spawn(follow_node(
                        client.clone(),
                        tls.url(addr, "/events"),
                        addr.clone(),
                        events.clone(),
                    ));
                    following.insert(addr.clone(), follower);
                }
            }
        }
        tokio::select! {
            () = tokio::time::sleep(MEMBERS_POLL) => {}
            () = events.closed() => return,
            () = closing.cancelled() => return,
        }
    }
}

/// Passes node `addr`'s `node` events (from `url`) on, reconnecting after a failure (and saying
/// so with an `unreachable` event), until the browser's stream is gone.
async fn follow_node(
    client: reqwest::Client,
    url: String,
    addr: String,
    events: mpsc::Sender<Event>,
) {
    loop {
        let problem = match client.get(&url).send().await {
            Err(err) => format!("cannot reach it: {err}"),
            Ok(response) if !response.status().is_success() => {
                format!("its /events answered {}", response.status())
            }
            Ok(response) => {
                let mut stream = response.bytes_stream().eventsource();
                loop {
                    match stream.next().await {
                        Some(Ok(event)) if event.event == "node" => {
                            let event = Event::default().event("node").data(event.data);
                            if events.send(event).await.is_err() {
                                return;
                            }
                        }
                        Some(Ok(_)) => {}
                        Some(Err(err)) => break format!("its event stream broke: {err}"),
                        None => break "it closed its event stream".to_string(),
                    }
                }
            }
        };
        let unreachable = Event::default()
            .event("unreachable")
            .data(json!({ "addr": addr, "error": problem }).to_string());
        if events.send(unreachable).await.is_err() {
            return;
        }
        tokio::time::sleep(RECONNECT_AFTER).await;
    }
}
