//! Loading the PEM files of `--tls-cert`, `--tls-key` and `--tls-ca` ([`server_config`],
//! [`trust_roots`]), with errors that name the file and say what is wrong with it.

use std::path::Path;
use std::path::PathBuf;
use std::sync::Arc;

use tokio_rustls::rustls;
use tokio_rustls::rustls::RootCertStore;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use tokio_rustls::rustls::pki_types::pem::PemObject;

/// Why the TLS files cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The file cannot be read.
    #[error("{flag} {}: cannot read it: {reason}", path.display())]
    Unreadable {
        /// The flag that named it.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// The file is not PEM of the kind expected.
    #[error("{flag} {}: {reason}", path.display())]
    Invalid {
        /// The flag that named it.
        flag: &'static str,
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// The private key is not the key of the certificate.
    #[error(
        "--tls-key {} is not the private key of the certificate in --tls-cert {}",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
}

/// The server side of TLS: the certificate chain in `cert` (the node's own first) and the
/// private key in `key`, which must belong to it. Speaks HTTP/1.1 only, as the servers do.
pub fn server_config(cert: &Path, key: &Path) -> Result<ServerConfig, TlsError> {
    let chain = certificates(cert, "--tls-cert")?;
    let private_key = private_key(key)?;
    let provider = Arc::new(ring::default_provider());
    let builder = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| TlsError::Invalid {
            flag: "--tls-cert",
            path: cert.to_path_buf(),
            reason: err.to_string(),
        })?
        .with_no_client_auth();
    let mut config = builder
        .with_single_cert(chain, private_key)
        .map_err(|err| match err {
            rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch) => {
                TlsError::KeyMismatch {
                    cert: cert.to_path_buf(),
                    key: key.to_path_buf(),
                }
            }
            other => TlsError::Invalid {
                flag: "--tls-key",
                path: key.to_path_buf(),
                reason: format!(
                    "cannot serve with it and --tls-cert {}: {other}",
                    cert.display()
                ),
            },
        })?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The CA certificates in `ca`, each checked to be one rustls can trust.
pub fn trust_roots(ca: &Path) -> Result<Vec<reqwest::Certificate>, TlsError> {
    let invalid = |reason: String| TlsError::Invalid {
        flag: "--tls-ca",
        path: ca.to_path_buf(),
        reason,
    };
    let certs = certificates(ca, "--tls-ca")?;
    let mut store = RootCertStore::empty();
    certs
        .iter()
        .map(|cert| {
            store
                .add(cert.clone())
                .map_err(|err| invalid(format!("not a usable CA certificate: {err}")))?;
            reqwest::Certificate::from_der(cert)
                .map_err(|err| invalid(format!("not a usable CA certificate: {err}")))
        })
        .collect()
}

/// Every certificate in the PEM file `path` (at least one).
fn certificates(path: &Path, flag: &'static str) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let bytes = read(path, flag)?;
    let certs = CertificateDer::pem_slice_iter(&bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|err| TlsError::Invalid {
            flag,
            path: path.to_path_buf(),
            reason: format!("not valid PEM: {err}"),
        })?;
    if certs.is_empty() {
        return Err(TlsError::Invalid {
            flag,
            path: path.to_path_buf(),
            reason: "holds no PEM certificate (-----BEGIN CERTIFICATE-----)".to_string(),
        });
    }
    Ok(certs)
}

/// The private key in the PEM file `path` (PKCS#8, PKCS#1 or SEC1).
fn private_key(path: &Path) -> Result<PrivateKeyDer<'static>, TlsError> {
    let bytes = read(path, "--tls-key")?;
    PrivateKeyDer::from_pem_slice(&bytes).map_err(|err| TlsError::Invalid {
        flag: "--tls-key",
        path: path.to_path_buf(),
        reason: match err {
            rustls::pki_types::pem::Error::NoItemsFound => {
                "holds no PEM private key (-----BEGIN PRIVATE KEY-----)".to_string()
            }
            other => format!("not a valid PEM private key: {other}"),
        },
    })
}

fn read(path: &Path, flag: &'static str) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|reason| TlsError::Unreadable {
        flag,
        path: path.to_path_buf(),
        reason,
    })
}
