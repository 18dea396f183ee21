//! Making a cluster's certificates (`flotilla certs`): a CA ([`create_ca`]) and node
//! certificates it signs ([`create_node`]), written as PEM files, private keys readable by their
//! owner only, never over an existing file unless asked.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::Path;
use std::path::PathBuf;

use rcgen::BasicConstraints;
use rcgen::CertificateParams;
use rcgen::DistinguishedName;
use rcgen::DnType;
use rcgen::ExtendedKeyUsagePurpose;
use rcgen::IsCa;
use rcgen::Issuer;
use rcgen::KeyPair;
use rcgen::KeyUsagePurpose;
use time::Duration;
use time::OffsetDateTime;
use tokio_rustls::rustls;
use tokio_rustls::rustls::crypto::ring;
use tokio_rustls::rustls::pki_types::CertificateDer;
use tokio_rustls::rustls::pki_types::PrivateKeyDer;
use tokio_rustls::rustls::pki_types::ServerName;
use tokio_rustls::rustls::pki_types::pem::PemObject;
use tokio_rustls::rustls::sign::CertifiedKey;

/// The CA certificate's file name in its directory.
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA private key's file name in its directory.
pub const CA_KEY_FILE: &str = "ca-key.pem";
/// How long a CA is valid by default, in days (five years).
pub const DEFAULT_CA_DAYS: u32 = 5 * 365;
/// How long a node certificate is valid by default, in days.
pub const DEFAULT_NODE_DAYS: u32 = 365;

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertsError {
    /// A file or directory cannot be read or written.
    #[error("{}: {reason}", path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// What the operating system said.
        reason: std::io::Error,
    },
    /// A file to write exists already.
    #[error("{} exists already; give --force to overwrite it", .0.display())]
    Exists(PathBuf),
    /// A name, host or CA file is not usable.
    #[error("{0}")]
    Invalid(String),
}

/// The files written, to report.
pub type Written = Vec<PathBuf>;

/// Makes a CA valid for `days` from now: `ca.pem` and `ca-key.pem` (mode 0600) in `out`.
pub fn create_ca(out: &Path, days: u32, force: bool) -> Result<Written, CertsError> {
    let cert_path = out.join(CA_CERT_FILE);
    let key_path = out.join(CA_KEY_FILE);
    refuse_existing(&[&cert_path, &key_path], force)?;
    let mut params = CertificateParams::default();
    params.distinguished_name = distinguished_name("Flotilla CA");
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    set_validity(&mut params, days)?;
    let key = KeyPair::generate().map_err(invalid("cannot make a key"))?;
    let cert = params
        .self_signed(&key)
        .map_err(invalid("cannot sign the CA certificate"))?;
    create_dir(out)?;
    write_file(&key_path, &key.serialize_pem(), true, force)?;
    write_file(&cert_path, &cert.pem(), false, force)?;
    Ok(vec![cert_path, key_path])
}

/// Makes a certificate for node `name` valid for `hosts` (DNS names or IP addresses, as peers
/// and clients reach it) and `days`, signed by the CA in `ca_dir`: `NAME.pem` and `NAME-key.pem`
/// (mode 0600) in `out`. Usable as a server's and as a client's certificate.
pub fn create_node(
    ca_dir: &Path,
    name: &str,
    hosts: &[String],
    out: &Path,
    days: u32,
    force: bool,
) -> Result<Written, CertsError> {
    check_name(name)?;
    if hosts.is_empty() {
        return Err(CertsError::Invalid(
            "give at least one --host the node is reached at".to_string(),
        ));
    }
    // Exactly the names a client can check a server against (what rustls accepts to connect).
    if let Some(bad) = hosts
        .iter()
        .find(|host| ServerName::try_from(host.as_str()).is_err())
    {
        return Err(CertsError::Invalid(format!(
            "--host {bad:?} is neither a DNS name nor an IP address"
        )));
    }
    let cert_path = out.join(format!("{name}.pem"));
    let key_path = out.join(format!("{name}-key.pem"));
    refuse_existing(&[&cert_path, &key_path], force)?;
    let issuer = load_ca(ca_dir)?;
    let mut params = CertificateParams::new(hosts.to_vec()).map_err(|err| {
        CertsError::Invalid(format!(
            "--host {hosts:?}: each must be a DNS name or an IP address ({err})"
        ))
    })?;
    params.distinguished_name = distinguished_name(name);
    params.is_ca = IsCa::NoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    set_validity(&mut params, days)?;
    let key = KeyPair::generate().map_err(invalid("cannot make a key"))?;
    let cert = params
        .signed_by(&key, &issuer)
        .map_err(invalid("cannot sign the node certificate"))?;
    create_dir(out)?;
    write_file(&key_path, &key.serialize_pem(), true, force)?;
    write_file(&cert_path, &cert.pem(), false, force)?;
    Ok(vec![cert_path, key_path])
}

/// The CA in `dir` (`ca.pem` and `ca-key.pem`), its key checked to be the certificate's.
fn load_ca(dir: &Path) -> Result<Issuer<'static, KeyPair>, CertsError> {
    let cert_path = dir.join(CA_CERT_FILE);
    let key_path = dir.join(CA_KEY_FILE);
    let cert_pem = read_text(&cert_path)?;
    let key_pem = read_text(&key_path)?;
    let bad = |path: &Path, what: &str| {
        CertsError::Invalid(format!(
            "{}: {what} (made by `flotilla certs ca`?)",
            path.display()
        ))
    };
    let cert_der = CertificateDer::from_pem_slice(cert_pem.as_bytes())
        .map_err(|_| bad(&cert_path, "holds no PEM certificate"))?;
    let key_der = PrivateKeyDer::from_pem_slice(key_pem.as_bytes())
        .map_err(|_| bad(&key_path, "holds no PEM private key"))?;
    match CertifiedKey::from_der(vec![cert_der], key_der, &ring::default_provider()) {
        Ok(_) => {}
        Err(rustls::Error::InconsistentKeys(rustls::InconsistentKeys::KeyMismatch)) => {
            return Err(CertsError::Invalid(format!(
                "{} is not the private key of {}",
                key_path.display(),
                cert_path.display()
            )));
        }
        Err(err) => return Err(bad(&key_path, &format!("unusable key: {err}"))),
    }
    let key = KeyPair::from_pem(&key_pem).map_err(|err| bad(&key_path, &err.to_string()))?;
    Issuer::from_ca_cert_pem(&cert_pem, key).map_err(|err| bad(&cert_path, &err.to_string()))
}

/// A subject naming `common_name` of organisation Flotilla.
fn distinguished_name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::OrganizationName, "Flotilla");
    name.push(DnType::CommonName, common_name);
    name
}

/// Valid from an hour ago (clocks of other hosts may lag) for `days` days.
fn set_validity(params: &mut CertificateParams, days: u32) -> Result<(), CertsError> {
    if days == 0 {
        return Err(CertsError::Invalid("--days must be at least 1".to_string()));
    }
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::hours(1);
    params.not_after = now + Duration::days(i64::from(days));
    Ok(())
}

/// A node name is a file name: letters, digits, `.`, `_`, `-`, not starting with `.`, not `ca`.
fn check_name(name: &str) -> Result<(), CertsError> {
    let fits = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if !fits || name == "ca" {
        return Err(CertsError::Invalid(format!(
            "--name {name:?}: give up to 64 letters, digits, '.', '_' or '-' (not starting with \
             '.', and not \"ca\"); it names the files NAME.pem and NAME-key.pem"
        )));
    }
    Ok(())
}

fn refuse_existing(paths: &[&Path], force: bool) -> Result<(), CertsError> {
    match paths.iter().find(|path| path.exists()) {
        Some(path) if !force => Err(CertsError::Exists(path.to_path_buf())),
        _ => Ok(()),
    }
}

fn create_dir(dir: &Path) -> Result<(), CertsError> {
    std::fs::create_dir_all(dir).map_err(|reason| CertsError::Io {
        path: dir.to_path_buf(),
        reason,
    })
}

fn read_text(path: &Path) -> Result<String, CertsError> {
    std::fs::read_to_string(path).map_err(|reason| CertsError::Io {
        path: path.to_path_buf(),
        reason,
    })
}

/// Writes `text` to `path`: a new file unless `force`; a `secret` one readable and writable by
/// its owner only (also when it existed before with wider permissions).
fn write_file(path: &Path, text: &str, secret: bool, force: bool) -> Result<(), CertsError> {
    let io = |reason| CertsError::Io {
        path: path.to_path_buf(),
        reason,
    };
    let mut options = OpenOptions::new();
    options.write(true);
    if force {
        options.create(true).truncate(true);
    } else {
        options.create_new(true);
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if secret { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(|err| {
        if err.kind() == std::io::ErrorKind::AlreadyExists {
            CertsError::Exists(path.to_path_buf())
        } else {
            io(err)
        }
    })?;
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))
            .map_err(io)?;
    }
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(io)
}

fn invalid(what: &'static str) -> impl Fn(rcgen::Error) -> CertsError {
    move |err| CertsError::Invalid(format!("{what}: {err}"))
}
