//! TLS for client and peer traffic ([`Tls`]): the certificate and key a process serves HTTPS
//! with, the CA it trusts when it calls other nodes, and the one place a node's URL is built
//! (`http://` or `https://`, from configuration; node addresses stay `host:port`).
//!
//! [`pem`] loads and checks the files, [`listener`] serves an axum router over TLS, and
//! [`issue`] makes a CA and node certificates (`flotilla certs`). SECURITY.md says what TLS
//! covers.

pub mod issue;
pub mod listener;
pub mod pem;

use std::path::Path;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;

pub use listener::TlsListener;
pub use listener::serve;
pub use pem::TlsError;

/// Whether a process speaks TLS, and with what. Cheap to clone; the default is plain HTTP.
#[derive(Clone, Debug, Default)]
pub struct Tls {
    material: Option<Arc<Material>>,
}

/// What a TLS-speaking process holds: its server side and the roots its clients trust.
#[derive(Debug)]
struct Material {
    server: Arc<ServerConfig>,
    roots: Vec<reqwest::Certificate>,
}

impl Tls {
    /// Plain HTTP: no TLS on either side.
    pub fn off() -> Self {
        Tls::default()
    }

    /// TLS from PEM files: serve HTTPS with the certificate chain at `cert` and its private key
    /// at `key`; as a client, trust exactly the CA certificates at `ca`. Every failure names
    /// the file (and the flag it came from).
    pub fn load(cert: &Path, key: &Path, ca: &Path) -> Result<Self, TlsError> {
        let server = pem::server_config(cert, key)?;
        let roots = pem::trust_roots(ca)?;
        Ok(Tls {
            material: Some(Arc::new(Material {
                server: Arc::new(server),
                roots,
            })),
        })
    }

    /// Whether this process speaks HTTPS (as a server and to other nodes).
    pub fn is_on(&self) -> bool {
        self.material.is_some()
    }

    /// `https` with TLS, `http` without.
    pub fn scheme(&self) -> &'static str {
        if self.is_on() { "https" } else { "http" }
    }

    /// The URL of `path` (starting with `/`) on the node or server at `addr` (`host:port`).
    pub fn url(&self, addr: &str, path: &str) -> String {
        format!("{}://{addr}{path}", self.scheme())
    }

    /// An HTTP client builder for calling other nodes: with TLS, HTTPS only and trusting
    /// exactly the configured CA (no built-in roots: a public CA must be given as a file too).
    pub fn client_builder(&self) -> reqwest::ClientBuilder {
        match &self.material {
            None => client_builder_trusting(&[]),
            Some(material) => client_builder_trusting(&material.roots).https_only(true),
        }
    }

    /// An HTTP client for calling other nodes ([`Tls::client_builder`] with its defaults).
    /// Building fails only if the TLS backend cannot start, which the roots were checked
    /// against when they were loaded; the fallback is then a client that cannot speak HTTPS
    /// (and so fails every call to a TLS node, loudly) rather than a silent plain one.
    pub fn client(&self) -> reqwest::Client {
        self.client_builder().build().unwrap_or_else(|err| {
            tracing::error!(%err, "cannot build the HTTPS client");
            reqwest::Client::builder()
                .https_only(self.is_on())
                .build()
                .unwrap_or_default()
        })
    }

    /// What accepts TLS connections with this process's certificate, when TLS is on.
    pub fn acceptor(&self) -> Option<TlsAcceptor> {
        self.material
            .as_ref()
            .map(|material| TlsAcceptor::from(material.server.clone()))
    }
}

/// An HTTP client builder (rustls) that trusts exactly `roots` when it speaks HTTPS: no
/// built-in roots, so with none it can only speak plain HTTP. Node clients get theirs from
/// [`Tls::client_builder`]; the client commands from their own `--tls-ca`.
pub fn client_builder_trusting(roots: &[reqwest::Certificate]) -> reqwest::ClientBuilder {
    let builder = reqwest::Client::builder()
        .use_rustls_tls()
        .tls_built_in_root_certs(false);
    roots.iter().fold(builder, |builder, root| {
        builder.add_root_certificate(root.clone())
    })
}

#[cfg(test)]
mod tests;
