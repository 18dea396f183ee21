//! [`ApiGuard`]: the rules a server runs under — who may use its public API (the bearer token
//! that every request that changes something must carry, the `Host` names a loopback server
//! answers against DNS rebinding, the browser origins allowed to call it from another site) and
//! how much it takes at once ([`ServerLimits`]).
//!
//! Reads (`GET`, `HEAD`) need no token: cluster state holds no secrets, and the page, `curl` and
//! monitoring read it freely. Anything else needs the token when one is set. SECURITY.md
//! explains the choice.

use std::sync::Arc;

use axum::Router;
use axum::extract::Request;
use axum::extract::State;
use axum::http::HeaderValue;
use axum::http::Method;
use axum::http::StatusCode;
use axum::http::header;
use axum::middleware::Next;
use axum::response::IntoResponse;
use axum::response::Response;
use tower_http::cors::AllowOrigin;
use tower_http::cors::CorsLayer;

use super::error::ApiError;
use super::limits::InflightWrites;
use super::limits::ServerLimits;
use super::limits::limit_writes;
use crate::auth::ApiToken;

/// The access rules of one server (the entry point, or a node). Cloning shares them.
#[derive(Clone, Debug, Default)]
pub struct ApiGuard {
    rules: Arc<Rules>,
}

#[derive(Clone, Debug, Default)]
struct Rules {
    token: Option<ApiToken>,
    hosts: Option<Vec<String>>,
    cors_origins: Vec<HeaderValue>,
    limits: ServerLimits,
}

impl ApiGuard {
    /// Rules: writes need `token` when there is one; when `loopback_only`, requests must name a
    /// loopback host or one of `extra_hosts`; browsers on `cors_origins` may call the API.
    pub fn new(
        token: Option<ApiToken>,
        loopback_only: bool,
        extra_hosts: &[String],
        cors_origins: Vec<HeaderValue>,
    ) -> Self {
        let hosts = loopback_only.then(|| {
            extra_hosts
                .iter()
                .map(|host| host.to_ascii_lowercase())
                .collect()
        });
        ApiGuard {
            rules: Arc::new(Rules {
                token,
                hosts,
                cors_origins,
                limits: ServerLimits::default(),
            }),
        }
    }

    /// The same rules with these limits.
    pub fn with_limits(self, limits: ServerLimits) -> Self {
        let Rules {
            token,
            hosts,
            cors_origins,
            ..
        } = Arc::unwrap_or_clone(self.rules);
        ApiGuard {
            rules: Arc::new(Rules {
                token,
                hosts,
                cors_origins,
                limits,
            }),
        }
    }

    /// How much the server takes at once.
    pub fn limits(&self) -> &ServerLimits {
        &self.rules.limits
    }

    /// The token writes need, if any.
    pub fn token(&self) -> Option<&ApiToken> {
        self.rules.token.as_ref()
    }

    /// `router` with its writes behind the token and the in-flight limit (a server of its
    /// own: each call counts its writes apart).
    pub fn guard_writes(&self, router: Router) -> Router {
        let writes = InflightWrites::new(self.rules.limits.max_inflight_writes);
        router
            .layer(axum::middleware::from_fn_with_state(writes, limit_writes))
            .layer(axum::middleware::from_fn_with_state(
                self.clone(),
                check_token,
            ))
    }

    /// `router` behind the `Host` check and with the CORS rules (outermost, so a preflight is
    /// answered before anything else runs).
    pub fn around(&self, router: Router) -> Router {
        let router = router.layer(axum::middleware::from_fn_with_state(
            self.clone(),
            check_host,
        ));
        if self.rules.cors_origins.is_empty() {
            return router;
        }
        router.layer(
            CorsLayer::new()
                .allow_origin(AllowOrigin::list(self.rules.cors_origins.clone()))
                .allow_methods([Method::GET, Method::POST, Method::DELETE])
                .allow_headers([
                    header::CONTENT_TYPE,
                    header::AUTHORIZATION,
                    header::HeaderName::from_static("idempotency-key"),
                ]),
        )
    }

    /// Whether `host` (a `Host` header: name or address, maybe with a port) may be served.
    fn allows_host(&self, host: &str) -> bool {
        let Some(extra) = &self.rules.hosts else {
            return true;
        };
        let name = host_name(host).to_ascii_lowercase();
        is_loopback_name(&name) || extra.contains(&name)
    }
}

/// The name part of a `Host` header: `[::1]:8000` → `::1`, `localhost:8000` → `localhost`.
fn host_name(host: &str) -> &str {
    if let Some(rest) = host.strip_prefix('[') {
        return rest.split(']').next().unwrap_or_default();
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Names that always mean this machine: `localhost` (and `*.localhost`, RFC 6761), 127.0.0.0/8
/// and `::1`. DNS cannot make a site's own name resolve to them in the browser's eyes.
fn is_loopback_name(name: &str) -> bool {
    name == "localhost"
        || name.ends_with(".localhost")
        || name
            .parse::<std::net::IpAddr>()
            .is_ok_and(|addr| addr.is_loopback())
}

async fn check_host(State(guard): State<ApiGuard>, request: Request, next: Next) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|value| value.to_str().ok())
        .map(str::to_string)
        .or_else(|| request.uri().host().map(str::to_string));
    match host {
        Some(host) if !guard.allows_host(&host) => ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this server listens on loopback and answers only requests to a loopback name, \
                 not {host:?} (a web page may be trying to reach it through DNS rebinding); \
                 start it with --allowed-host {} to allow that name",
                host_name(&host)
            ),
        )
        .into_response(),
        _ => next.run(request).await,
    }
}

async fn check_token(State(guard): State<ApiGuard>, request: Request, next: Next) -> Response {
    let Some(token) = guard.token() else {
        return next.run(request).await;
    };
    if matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    ) {
        return next.run(request).await;
    }
    let presented = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "));
    match presented {
        Some(presented) if token.matches(presented.trim()) => next.run(request).await,
        Some(_) => unauthorized("the bearer token is not this server's"),
        None => unauthorized(
            "this request changes the cluster and needs `Authorization: Bearer <token>` (the \
             server's --token)",
        ),
    }
}

fn unauthorized(message: &str) -> Response {
    let mut response = ApiError::new(StatusCode::UNAUTHORIZED, message).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"flotilla\""),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_names_are_read_without_their_port() {
        assert_eq!(host_name("localhost:8000"), "localhost");
        assert_eq!(host_name("[::1]:8000"), "::1");
        assert_eq!(host_name("[::1]"), "::1");
        assert_eq!(host_name("127.0.0.1"), "127.0.0.1");
        assert_eq!(host_name("example.com:80"), "example.com");
    }

    #[test]
    fn a_loopback_server_answers_loopback_names_and_the_ones_it_was_given() {
        let guard = ApiGuard::new(None, true, &["Flotilla.Lan".to_string()], Vec::new());
        for host in [
            "localhost:8000",
            "LOCALHOST",
            "app.localhost:1",
            "127.0.0.1:8001",
            "127.1.2.3",
            "[::1]:9",
        ] {
            assert!(guard.allows_host(host), "{host}");
        }
        assert!(guard.allows_host("flotilla.lan:8000"));
        for host in [
            "evil.example:8000",
            "localhost.evil.example",
            "10.0.0.1:8000",
            "0.0.0.0",
        ] {
            assert!(!guard.allows_host(host), "{host}");
        }
        let open = ApiGuard::new(None, false, &[], Vec::new());
        assert!(open.allows_host("evil.example:8000"));
    }
}
