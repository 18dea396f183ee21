//! The security flags both subcommands share ([`SecurityArgs`]) and the rules they become
//! ([`Access`]): who may change the cluster (the clients' token), how nodes know each other (the
//! cluster secret), which browsers and `Host` names are served — and the refusal to listen
//! beyond this machine unprotected — and whether traffic is encrypted (TLS).

use std::path::PathBuf;

use axum::http::HeaderValue;
use clap::Args;

use crate::api::guard::ApiGuard;
use crate::auth::ApiToken;
use crate::auth::ClusterSecret;
use crate::tls::Tls;

/// Who may do what, on both subcommands.
#[derive(Debug, Clone, Args)]
pub struct SecurityArgs {
    /// Token every request that changes the cluster must carry as `Authorization: Bearer
    /// <TOKEN>` (reads stay open). At least 16 characters, e.g. `openssl rand -hex 32`
    #[arg(
        long,
        env = "FLOTILLA_TOKEN",
        hide_env_values = true,
        conflicts_with = "token_file"
    )]
    pub token: Option<String>,
    /// Read the token from the first line of this file instead
    #[arg(long, value_name = "PATH")]
    pub token_file: Option<PathBuf>,
    /// Secret the cluster's nodes sign every Raft message with (HMAC-SHA256); every node of a
    /// cluster needs the same one. At least 16 characters. The demo makes a random one per run
    /// unless given one (needed for nodes of other processes to join it)
    #[arg(
        long,
        env = "FLOTILLA_CLUSTER_SECRET",
        hide_env_values = true,
        conflicts_with = "cluster_secret_file"
    )]
    pub cluster_secret: Option<String>,
    /// Read the cluster secret from the first line of this file instead
    #[arg(long, value_name = "PATH")]
    pub cluster_secret_file: Option<PathBuf>,
    /// Let a page served from this origin (e.g. https://flotilla.example) call the API from the
    /// browser (live mode with ?api=). Repeatable. Without it, only same-origin pages can
    #[arg(long, value_name = "ORIGIN")]
    pub cors_origin: Vec<String>,
    /// On a loopback address, also answer requests whose Host is this name (requests naming
    /// any other non-loopback host get 403, against DNS rebinding). Repeatable
    #[arg(long, value_name = "NAME")]
    pub allowed_host: Vec<String>,
    /// Listen on a non-loopback address without a token or cluster secret anyway: anyone who
    /// can reach the ports can then change or stop the cluster
    #[arg(long)]
    pub insecure: bool,
    /// Serve HTTPS only (the API and every node's listener) with this PEM certificate (chain,
    /// the server's own first; `flotilla certs node` makes one). Needs --tls-key and --tls-ca
    #[arg(
        long,
        value_name = "PATH",
        env = "FLOTILLA_TLS_CERT",
        hide_env_values = true
    )]
    pub tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(
        long,
        value_name = "PATH",
        env = "FLOTILLA_TLS_KEY",
        hide_env_values = true
    )]
    pub tls_key: Option<PathBuf>,
    /// PEM bundle of the CA certificates this process trusts when it calls other nodes (over
    /// https, verifying their certificate and host name); exactly these, no built-in roots.
    /// `flotilla certs ca` makes one
    #[arg(
        long,
        value_name = "PATH",
        env = "FLOTILLA_TLS_CA",
        hide_env_values = true
    )]
    pub tls_ca: Option<PathBuf>,
}

/// The rules a server runs under, from [`SecurityArgs`].
#[derive(Debug, Clone)]
pub struct Access {
    /// The public API's rules.
    pub guard: ApiGuard,
    /// The cluster secret, if one was given.
    pub secret: Option<ClusterSecret>,
    /// Whether servers and clients speak TLS, and with which certificates.
    pub tls: Tls,
}

impl SecurityArgs {
    /// The rules for a server listening on `listen` (for messages) that is `loopback` or not.
    /// Refuses a non-loopback server without a token, or (when `needs_secret`) a cluster
    /// secret, unless `--insecure`.
    pub fn access(
        &self,
        listen: &str,
        loopback: bool,
        needs_secret: bool,
    ) -> Result<Access, String> {
        let token = match (&self.token, &self.token_file) {
            (Some(text), _) => Some(ApiToken::new(text, "--token").map_err(|e| e.to_string())?),
            (None, Some(path)) => {
                Some(ApiToken::from_file(path, "--token-file").map_err(|e| e.to_string())?)
            }
            (None, None) => None,
        };
        let secret = match (&self.cluster_secret, &self.cluster_secret_file) {
            (Some(text), _) => {
                Some(ClusterSecret::new(text, "--cluster-secret").map_err(|e| e.to_string())?)
            }
            (None, Some(path)) => Some(
                ClusterSecret::from_file(path, "--cluster-secret-file")
                    .map_err(|e| e.to_string())?,
            ),
            (None, None) => None,
        };
        let tls = self.tls()?;
        let mut missing = Vec::new();
        if token.is_none() {
            missing.push("--token");
        }
        if needs_secret && secret.is_none() {
            missing.push("--cluster-secret");
        }
        if !loopback && !missing.is_empty() {
            if !self.insecure {
                return Err(format!(
                    "refusing to listen on {listen} without {}: anyone who can reach it could \
                     change or stop the cluster. Give {} (see SECURITY.md), or --insecure to \
                     run unprotected anyway",
                    missing.join(" and "),
                    missing.join(" and ")
                ));
            }
            tracing::warn!(listen, missing = ?missing, "--insecure: listening beyond this machine unprotected");
        } else if !missing.is_empty() {
            tracing::warn!(
                listen,
                "no {}: any process on this machine can change the cluster (fine for a local \
                 demo; see SECURITY.md before going further)",
                missing.join(" or ")
            );
        }
        let cors_origins = self
            .cors_origin
            .iter()
            .map(|origin| parse_origin(origin))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Access {
            guard: ApiGuard::new(token, loopback, &self.allowed_host, cors_origins),
            secret,
            tls,
        })
    }

    /// TLS from --tls-cert, --tls-key and --tls-ca: all three (HTTPS) or none (plain HTTP).
    pub fn tls(&self) -> Result<Tls, String> {
        match (&self.tls_cert, &self.tls_key, &self.tls_ca) {
            (None, None, None) => Ok(Tls::off()),
            (Some(cert), Some(key), Some(ca)) => {
                Tls::load(cert, key, ca).map_err(|err| err.to_string())
            }
            (cert, key, ca) => {
                let given: Vec<&str> = [(cert, "--tls-cert"), (key, "--tls-key"), (ca, "--tls-ca")]
                    .iter()
                    .filter_map(|(path, flag)| path.as_ref().map(|_| *flag))
                    .collect();
                let missing: Vec<&str> =
                    [(cert, "--tls-cert"), (key, "--tls-key"), (ca, "--tls-ca")]
                        .iter()
                        .filter_map(|(path, flag)| path.is_none().then_some(*flag))
                        .collect();
                Err(format!(
                    "{} without {}: TLS needs all three, the server's certificate and key and \
                     the CA that signed the nodes' certificates (see SECURITY.md; `flotilla \
                     certs` makes them)",
                    given.join(" and "),
                    missing.join(" and ")
                ))
            }
        }
    }
}

/// A `--cors-origin`: `scheme://host[:port]`, nothing after it (browsers send exactly that).
fn parse_origin(origin: &str) -> Result<HeaderValue, String> {
    let refuse = || {
        format!(
            "--cors-origin {origin:?} is not an origin: give scheme://host[:port], e.g. \
             https://flotilla.example or http://localhost:5173"
        )
    };
    let rest = origin
        .strip_prefix("http://")
        .or_else(|| origin.strip_prefix("https://"))
        .ok_or_else(refuse)?;
    if rest.is_empty() || rest.contains('/') || rest.contains(char::is_whitespace) {
        return Err(refuse());
    }
    HeaderValue::from_str(origin).map_err(|_| refuse())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> SecurityArgs {
        SecurityArgs {
            token: None,
            token_file: None,
            cluster_secret: None,
            cluster_secret_file: None,
            cors_origin: Vec::new(),
            allowed_host: Vec::new(),
            insecure: false,
            tls_cert: None,
            tls_key: None,
            tls_ca: None,
        }
    }

    #[test]
    fn tls_needs_certificate_key_and_ca_together() {
        let cert_only = SecurityArgs {
            tls_cert: Some("node.pem".into()),
            ..args()
        };
        let err = cert_only.tls().unwrap_err();
        assert!(
            err.starts_with("--tls-cert without --tls-key and --tls-ca"),
            "{err}"
        );
        let no_ca = SecurityArgs {
            tls_cert: Some("node.pem".into()),
            tls_key: Some("node-key.pem".into()),
            ..args()
        };
        let err = no_ca.access("127.0.0.1:8000", true, true).unwrap_err();
        assert!(
            err.starts_with("--tls-cert and --tls-key without --tls-ca"),
            "{err}"
        );
        assert!(!args().tls().expect("plain HTTP").is_on());
    }

    #[test]
    fn loopback_without_a_token_is_allowed_beyond_it_is_refused_unless_insecure() {
        assert!(args().access("127.0.0.1:8000", true, true).is_ok());
        let refused = args().access("0.0.0.0:8000", false, true).unwrap_err();
        assert!(
            refused.contains("--token and --cluster-secret"),
            "{refused}"
        );
        assert!(refused.contains("--insecure"), "{refused}");
        let insecure = SecurityArgs {
            insecure: true,
            ..args()
        };
        assert!(insecure.access("0.0.0.0:8000", false, true).is_ok());
        let token_only = SecurityArgs {
            token: Some("0123456789abcdef".into()),
            ..args()
        };
        let refused = token_only.access("10.0.0.5:7001", false, true).unwrap_err();
        assert!(refused.contains("without --cluster-secret"), "{refused}");
        assert!(token_only.access("10.0.0.5:8000", false, false).is_ok());
    }

    #[test]
    fn weak_tokens_and_bad_origins_are_refused_with_the_flag_named() {
        let weak = SecurityArgs {
            token: Some("secret".into()),
            ..args()
        };
        assert!(
            weak.access("127.0.0.1:8000", true, true)
                .unwrap_err()
                .contains("--token")
        );
        for origin in [
            "localhost:3000",
            "http://",
            "https://a.example/page",
            "ftp://a",
        ] {
            let bad = SecurityArgs {
                cors_origin: vec![origin.into()],
                ..args()
            };
            let err = bad.access("127.0.0.1:8000", true, true).unwrap_err();
            assert!(err.contains("--cors-origin"), "{origin}: {err}");
        }
        let good = SecurityArgs {
            cors_origin: vec!["http://localhost:5173".into()],
            ..args()
        };
        assert!(good.access("127.0.0.1:8000", true, true).is_ok());
    }
}
