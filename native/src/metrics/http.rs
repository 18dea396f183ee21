//! HTTP requests a server answered, by method, route and status, and how long each took: a
//! middleware every server (nodes and the entry point) runs. Routes are the router's patterns
//! (`/services/{service}`), never the raw path, so a client cannot grow the number of series;
//! a path no route matches counts as `unmatched`, a method outside HTTP's standard ones as
//! `other`.

use std::time::Instant;

use axum::extract::MatchedPath;
use axum::extract::Request;
use axum::extract::State;
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::metrics::histogram::exponential_buckets;

use super::ServerRegistry;

/// The labels of one request series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

/// The labels of one latency series.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
}

/// Requests and latencies of one server. Cheap to clone (shared).
#[derive(Clone)]
pub struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    durations: Family<RouteLabels, Histogram>,
}

impl HttpMetrics {
    /// The families, registered in `registry`.
    pub fn new(registry: &ServerRegistry) -> Self {
        let metrics = HttpMetrics {
            requests: Family::default(),
            durations: Family::new_with_constructor(|| {
                // 0.5 ms … ~16 s.
                Histogram::new(exponential_buckets(0.0005, 2.0, 16))
            }),
        };
        registry.register(|registry| {
            registry.register(
                "http_requests",
                "HTTP requests answered, by method, route and status",
                metrics.requests.clone(),
            );
            registry.register(
                "http_request_duration_seconds",
                "Time from a request's arrival to its answer's head, by method and route",
                metrics.durations.clone(),
            );
        });
        metrics
    }

    fn observe(&self, method: &str, route: &str, status: u16, seconds: f64) {
        let (method, route) = (method.to_string(), route.to_string());
        self.requests
            .get_or_create(&RequestLabels {
                method: method.clone(),
                route: route.clone(),
                status,
            })
            .inc();
        self.durations
            .get_or_create(&RouteLabels { method, route })
            .observe(seconds);
    }
}

/// The `method` label: the standard methods by name, any other (clients may send any token) as
/// `other`, so a client cannot grow the number of series.
fn method_label(method: &Method) -> &'static str {
    const KNOWN: [Method; 9] = [
        Method::GET,
        Method::HEAD,
        Method::POST,
        Method::PUT,
        Method::DELETE,
        Method::PATCH,
        Method::OPTIONS,
        Method::CONNECT,
        Method::TRACE,
    ];
    KNOWN
        .iter()
        .find(|known| *known == method)
        .map_or("other", |known| known.as_str())
}

/// The middleware: counts and times every request (`axum::middleware::from_fn_with_state`).
pub async fn record_request(
    State(metrics): State<HttpMetrics>,
    request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let method = method_label(request.method()).to_string();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_string(), |path| path.as_str().to_string());
    let response = next.run(request).await;
    metrics.observe(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed().as_secs_f64(),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn methods_outside_the_standard_ones_share_one_label() {
        assert_eq!(method_label(&Method::DELETE), "DELETE");
        let made_up = Method::from_bytes(b"FROBNICATE").expect("a token");
        assert_eq!(method_label(&made_up), "other");
    }
}
