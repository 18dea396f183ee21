//! The client commands' calls to the API ([`Api`]): URLs built from path segments (so a
//! cluster id or a node address is always one segment), the token on every request, JSON in
//! and out, a spinner while waiting, and every failure sorted into a [`ClientError`].

use std::time::Duration;

use reqwest::Method;
use reqwest::StatusCode;
use reqwest::Url;
use serde_json::Value;

use super::args::ApiArgs;
use super::error::ClientError;
use super::progress::Spinner;
use crate::tls::client_builder_trusting;
use crate::tls::pem::trust_roots;

/// A connection to the API, as the shared flags describe it.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    base: Url,
    cluster: String,
    token: Option<String>,
    timeout: Duration,
    has_ca: bool,
}

impl Api {
    /// The API `args` name. Fails (as a usage error) on a URL that is not http(s) or a
    /// `--tls-ca` that cannot be read.
    pub fn new(args: &ApiArgs) -> Result<Api, ClientError> {
        let base = parse_base(&args.api, args.tls_ca.is_some())?;
        let roots = match &args.tls_ca {
            Some(path) => trust_roots(path).map_err(|err| ClientError::Usage(err.to_string()))?,
            None => Vec::new(),
        };
        let timeout = Duration::from_secs(args.timeout);
        let http = client_builder_trusting(&roots)
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|err| ClientError::Usage(format!("cannot set up the HTTP client: {err}")))?;
        Ok(Api {
            http,
            base,
            cluster: args.cluster.clone(),
            token: args.token.clone().filter(|token| !token.is_empty()),
            timeout,
            has_ca: args.tls_ca.is_some(),
        })
    }

    /// The cluster the commands act on (`--cluster`).
    pub fn cluster(&self) -> &str {
        &self.cluster
    }

    /// The URL of the path made of `segments` under the API's base (each segment escaped).
    pub fn url(&self, segments: &[&str]) -> Url {
        let mut url = self.base.clone();
        if let Ok(mut path) = url.path_segments_mut() {
            path.pop_if_empty().extend(segments);
        }
        url
    }

    /// The URL of `/clusters/<--cluster>/<segments…>`.
    pub fn cluster_url(&self, segments: &[&str]) -> Url {
        let mut all = vec!["clusters", self.cluster.as_str()];
        all.extend_from_slice(segments);
        self.url(&all)
    }

    /// `GET url`, showing `waiting` beside the spinner (none if empty: the caller shows its
    /// own): the JSON answer of a 2xx.
    pub async fn get(&self, url: Url, waiting: &str) -> Result<Value, ClientError> {
        self.call(Method::GET, url, None, waiting).await
    }

    /// Sends `method url` with `body` as JSON (if any), showing `waiting` beside the spinner
    /// (none if empty): the JSON answer of a 2xx.
    pub async fn call(
        &self,
        method: Method,
        url: Url,
        body: Option<&Value>,
        waiting: &str,
    ) -> Result<Value, ClientError> {
        let request = format!("{method} {}", url.path());
        let mut builder = self.http.request(method, url.clone());
        if let Some(token) = &self.token {
            builder = builder.bearer_auth(token);
        }
        if let Some(body) = body {
            builder = builder.json(body);
        }
        let spinner = (!waiting.is_empty()).then(|| Spinner::start(waiting));
        let sent = builder.send().await;
        let response = sent.map_err(|err| self.transport_error(&request, &url, &err))?;
        let status = response.status();
        let text = response
            .text()
            .await
            .map_err(|err| self.transport_error(&request, &url, &err))?;
        drop(spinner);
        self.answer(request, status, &text)
    }

    /// A 2xx's JSON, or the failure the status and body say.
    fn answer(
        &self,
        request: String,
        status: StatusCode,
        text: &str,
    ) -> Result<Value, ClientError> {
        let json: Option<Value> = serde_json::from_str(text).ok();
        if status.is_success() {
            return json.ok_or_else(|| ClientError::Server {
                request,
                message: format!(
                    "the answer ({status}) is not JSON: is {} the API of `flotilla demo`?",
                    self.base
                ),
            });
        }
        let message = json
            .as_ref()
            .and_then(|json| json["error"].as_str())
            .map(str::to_string)
            .unwrap_or_else(|| one_line(text, status));
        let code = status.as_u16();
        Err(match status {
            StatusCode::UNAUTHORIZED => ClientError::Unauthorized {
                request,
                status: code,
                message,
                token_sent: self.token.is_some(),
            },
            _ if status.is_client_error() => ClientError::Refused {
                request,
                status: code,
                message,
            },
            _ => ClientError::Server {
                request,
                message: format!("{code}: {message}"),
            },
        })
    }

    /// What a failure to send or read means: unreachable, timed out, or cut off.
    fn transport_error(&self, request: &str, url: &Url, err: &reqwest::Error) -> ClientError {
        if err.is_timeout() {
            return ClientError::Server {
                request: request.to_string(),
                message: format!("no answer within {} s (--timeout)", self.timeout.as_secs()),
            };
        }
        let mut cause = innermost(err);
        if url.scheme() == "https" && !self.has_ca {
            cause.push_str(" (an https API needs --tls-ca, the CA that signed its certificate)");
        }
        if err.is_connect() || err.is_builder() {
            ClientError::Unreachable {
                url: self.base.to_string(),
                cause,
            }
        } else {
            ClientError::Server {
                request: request.to_string(),
                message: cause,
            }
        }
    }
}

/// `--api` as a base URL: without a scheme, `https://` if a CA is given (`tls`), else
/// `http://`; only http and https.
fn parse_base(api: &str, tls: bool) -> Result<Url, ClientError> {
    let text = match (api.contains("://"), tls) {
        (true, _) => api.to_string(),
        (false, true) => format!("https://{api}"),
        (false, false) => format!("http://{api}"),
    };
    let refuse = |why: &str| ClientError::Usage(format!("--api {api:?} {why}"));
    let url = Url::parse(&text).map_err(|err| refuse(&format!("is not a URL: {err}")))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(refuse("must be an http:// or https:// URL"));
    }
    if url.cannot_be_a_base() || url.host_str().is_none() {
        return Err(refuse("names no host"));
    }
    Ok(url)
}

/// The deepest cause of `err` (e.g. "Connection refused (os error 111)"), whose outer layers
/// only repeat the URL.
fn innermost(err: &reqwest::Error) -> String {
    let mut cause: &dyn std::error::Error = err;
    while let Some(source) = cause.source() {
        cause = source;
    }
    cause.to_string()
}

/// A body that is not the API's JSON error, shortened to one line.
fn one_line(text: &str, status: StatusCode) -> String {
    let line = text
        .lines()
        .find(|line| !line.trim().is_empty())
        .unwrap_or("");
    let short: String = line.chars().take(200).collect();
    if short.is_empty() {
        status
            .canonical_reason()
            .unwrap_or("no message")
            .to_string()
    } else {
        short
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(api: &str) -> ApiArgs {
        ApiArgs {
            api: api.to_string(),
            cluster: "a b".to_string(),
            json: false,
            token: None,
            tls_ca: None,
            timeout: 5,
        }
    }

    #[test]
    fn urls_take_the_scheme_given_or_http_and_escape_segments() {
        let api = Api::new(&args("localhost:8000")).unwrap();
        assert_eq!(
            api.cluster_url(&["nodes", "localhost:8002", "connections"])
                .as_str(),
            "http://localhost:8000/clusters/a%20b/nodes/localhost:8002/connections"
        );
        let api = Api::new(&args("https://example.test/flotilla/")).unwrap();
        assert_eq!(
            api.url(&["clusters"]).as_str(),
            "https://example.test/flotilla/clusters"
        );
        assert_eq!(parse_base("h:1", true).unwrap().as_str(), "https://h:1/");
        assert_eq!(parse_base("h:1", false).unwrap().as_str(), "http://h:1/");
        assert_eq!(
            parse_base("http://h:1", true).unwrap().as_str(),
            "http://h:1/"
        );
        for bad in ["ftp://host", "http://", "::"] {
            let err = Api::new(&args(bad)).unwrap_err();
            assert!(matches!(err, ClientError::Usage(_)), "{bad}: {err:?}");
        }
    }

    #[test]
    fn answers_are_sorted_by_status_with_the_servers_message() {
        let api = Api::new(&args("localhost:8000")).unwrap();
        let refused = api
            .answer(
                "POST /x".into(),
                StatusCode::NOT_FOUND,
                r#"{"error": "no service with id 9"}"#,
            )
            .unwrap_err();
        assert_eq!(
            refused.to_string(),
            "POST /x refused (404): no service with id 9"
        );
        let unauthorized = api
            .answer("POST /x".into(), StatusCode::UNAUTHORIZED, "{}")
            .unwrap_err();
        let forbidden = api
            .answer("POST /x".into(), StatusCode::FORBIDDEN, "{}")
            .unwrap_err();
        assert_eq!(forbidden.exit_code(), super::super::error::EXIT_REFUSED);
        assert!(matches!(
            unauthorized,
            ClientError::Unauthorized {
                token_sent: false,
                ..
            }
        ));
        let failed = api
            .answer(
                "POST /x".into(),
                StatusCode::SERVICE_UNAVAILABLE,
                r#"{"error": "no leader"}"#,
            )
            .unwrap_err();
        assert_eq!(failed.to_string(), "POST /x failed: 503: no leader");
        assert!(matches!(
            api.answer("GET /".into(), StatusCode::OK, "<html>"),
            Err(ClientError::Server { .. })
        ));
        assert_eq!(
            api.answer("GET /".into(), StatusCode::OK, r#"{"a": 1}"#),
            Ok(serde_json::json!({"a": 1}))
        );
    }
}
