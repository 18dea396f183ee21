//! [`ServerLimits`]: what one server accepts at once — body sizes, writes in flight, snapshot
//! uploads, event streams, clusters — and [`InflightWrites`], the back-pressure on writes.
//! Every limit has a flag (`flotilla demo --help`); past one, the answer is a JSON error.

use std::sync::Arc;

use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use tokio::sync::Semaphore;

use super::error::ApiError;

/// One server's limits. `Default` is what the flags default to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ServerLimits {
    /// Largest public request body (413 past it).
    pub max_body_bytes: usize,
    /// Largest Raft message (snapshots of big clusters included).
    pub max_raft_body_bytes: usize,
    /// Most writes one server works on at once; past it, 503 with `Retry-After`.
    pub max_inflight_writes: usize,
    /// Most snapshots a node installs at once; past it, 503 (the leader sends it again).
    pub max_snapshot_uploads: usize,
    /// Most event streams one server holds open; past it, 429.
    pub max_event_streams: usize,
    /// Most clusters the demo's entry point runs (409 past it).
    pub max_clusters: usize,
}

impl Default for ServerLimits {
    fn default() -> Self {
        ServerLimits {
            max_body_bytes: 1024 * 1024,
            max_raft_body_bytes: 256 * 1024 * 1024,
            max_inflight_writes: 1024,
            max_snapshot_uploads: 2,
            max_event_streams: 64,
            max_clusters: 16,
        }
    }
}

/// The body limit of the server a request reached, as a request extension (what the JSON
/// extractor checks an announced length against).
#[derive(Clone, Copy, Debug)]
pub struct BodyLimit(pub usize);

/// A ceiling on the writes one server works on at once. Cloning shares it.
#[derive(Clone, Debug)]
pub struct InflightWrites {
    slots: Arc<Semaphore>,
    most: usize,
}

impl InflightWrites {
    /// At most `most` writes at once.
    pub fn new(most: usize) -> Self {
        InflightWrites {
            slots: Arc::new(Semaphore::new(most)),
            most,
        }
    }
}

/// Middleware: a write (anything but `GET`/`HEAD`/`OPTIONS`) waits for nothing — it takes a slot
/// or is refused at once with 503 and `Retry-After: 1`, so a flood of writes costs the server
/// a refusal each rather than a growing queue.
pub async fn limit_writes(
    State(writes): State<InflightWrites>,
    request: Request,
    next: Next,
) -> Response {
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let Ok(_slot) = writes.slots.clone().try_acquire_owned() else {
        let mut refused = ApiError::unavailable(format!(
            "{} writes are in progress, the most this server takes at once \
             (--max-inflight-writes); retry in a moment",
            writes.most
        ))
        .into_response();
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return refused;
    };
    next.run(request).await
}

/// The 503 a node answers a snapshot past [`ServerLimits::max_snapshot_uploads`].
pub fn too_many_uploads(most: usize) -> (StatusCode, String) {
    (
        StatusCode::SERVICE_UNAVAILABLE,
        format!("{most} snapshots are being installed, the most at once (--max-snapshot-uploads)"),
    )
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use axum::Router;
    use axum::routing::post;
    use tokio::sync::Notify;

    use super::*;

    #[tokio::test]
    async fn a_write_past_the_in_flight_limit_is_refused_at_once_with_retry_after() {
        let release = Arc::new(Notify::new());
        let held = release.clone();
        let app = Router::new()
            .route(
                "/write",
                post(move || {
                    let held = held.clone();
                    async move { held.notified().await }
                })
                .get(|| async { "read" }),
            )
            .layer(axum::middleware::from_fn_with_state(
                InflightWrites::new(1),
                limit_writes,
            ));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await });
        let http = reqwest::Client::new();
        let url = format!("http://{addr}/write");
        let first = tokio::spawn({
            let (http, url) = (http.clone(), url.clone());
            async move { http.post(url).send().await.unwrap().status() }
        });
        // Wait until the first write holds the only slot.
        let mut refused = None;
        for _ in 0..100 {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let answer = http.post(&url).send().await.unwrap();
            if answer.status() == StatusCode::SERVICE_UNAVAILABLE {
                refused = Some(answer);
                break;
            }
        }
        let refused = refused.expect("a second write refused while the first is held");
        assert_eq!(refused.headers()[header::RETRY_AFTER], "1");
        let body: serde_json::Value = refused.json().await.unwrap();
        assert!(
            body["error"]
                .as_str()
                .unwrap()
                .contains("--max-inflight-writes")
        );
        // Reads are not counted.
        assert_eq!(
            http.get(&url).send().await.unwrap().status(),
            StatusCode::OK
        );
        release.notify_waiters();
        assert_eq!(first.await.unwrap(), StatusCode::OK);
    }
}
