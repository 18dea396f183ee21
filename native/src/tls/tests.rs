//! Tests of the TLS module: certificates made by `issue` load, bad files are refused naming
//! them, and a server and a client that trust one CA talk over HTTPS (and only so).

use std::path::Path;
use std::path::PathBuf;

use super::Tls;
use super::TlsError;
use super::issue;
use super::issue::CertsError;

/// A CA and one node certificate for localhost, in a fresh directory.
struct Made {
    dir: tempfile::TempDir,
}

impl Made {
    fn new() -> Self {
        let dir = tempfile::tempdir().expect("tempdir");
        issue::create_ca(&dir.path().join("ca"), 30, false).expect("CA");
        issue::create_node(
            &dir.path().join("ca"),
            "n1",
            &["localhost".to_string(), "127.0.0.1".to_string()],
            &dir.path().join("n1"),
            30,
            false,
        )
        .expect("node certificate");
        Made { dir }
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn load(&self) -> Result<Tls, TlsError> {
        Tls::load(
            &self.path("n1/n1.pem"),
            &self.path("n1/n1-key.pem"),
            &self.path("ca/ca.pem"),
        )
    }
}

fn write(path: &Path, text: &str) -> PathBuf {
    std::fs::write(path, text).expect("write");
    path.to_path_buf()
}

#[test]
fn made_certificates_load_and_make_https_urls() {
    let made = Made::new();
    let tls = made.load().expect("loads");
    assert!(tls.is_on());
    assert_eq!(
        tls.url("localhost:7001", "/stats"),
        "https://localhost:7001/stats"
    );
    assert_eq!(
        Tls::off().url("localhost:7001", "/stats"),
        "http://localhost:7001/stats"
    );
}

#[test]
fn unreadable_and_invalid_files_are_named_with_their_flag() {
    let made = Made::new();
    let missing = made.path("nowhere.pem");
    let err = Tls::load(
        &missing,
        &made.path("n1/n1-key.pem"),
        &made.path("ca/ca.pem"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("--tls-cert ") && err.contains("nowhere.pem"),
        "{err}"
    );
    assert!(err.contains("cannot read it"), "{err}");

    let garbage = write(&made.path("garbage.pem"), "not a certificate\n");
    let err = Tls::load(
        &garbage,
        &made.path("n1/n1-key.pem"),
        &made.path("ca/ca.pem"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.contains("--tls-cert") && err.contains("garbage.pem"),
        "{err}"
    );
    assert!(err.contains("no PEM certificate"), "{err}");

    // A certificate given as the key: no key in it.
    let err = Tls::load(
        &made.path("n1/n1.pem"),
        &made.path("n1/n1.pem"),
        &made.path("ca/ca.pem"),
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("--tls-key ") && err.contains("no PEM private key"),
        "{err}"
    );

    let broken = write(
        &made.path("broken.pem"),
        "-----BEGIN CERTIFICATE-----\n!!!!\n-----END CERTIFICATE-----\n",
    );
    let err = Tls::load(
        &made.path("n1/n1.pem"),
        &made.path("n1/n1-key.pem"),
        &broken,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("--tls-ca ") && err.contains("broken.pem"),
        "{err}"
    );

    let err = Tls::load(
        &made.path("n1/n1.pem"),
        &made.path("n1/n1-key.pem"),
        &garbage,
    )
    .unwrap_err()
    .to_string();
    assert!(
        err.starts_with("--tls-ca ") && err.contains("no PEM certificate"),
        "{err}"
    );
}

#[test]
fn a_key_that_is_not_the_certificates_is_refused() {
    let made = Made::new();
    let err = Tls::load(
        &made.path("n1/n1.pem"),
        &made.path("ca/ca-key.pem"),
        &made.path("ca/ca.pem"),
    )
    .unwrap_err();
    assert!(matches!(err, TlsError::KeyMismatch { .. }), "{err}");
    let text = err.to_string();
    assert!(
        text.contains("ca-key.pem") && text.contains("n1.pem"),
        "{text}"
    );
}

#[test]
fn certs_refuse_to_overwrite_without_force_and_keep_keys_private() {
    let made = Made::new();
    let again = issue::create_ca(&made.path("ca"), 30, false).unwrap_err();
    assert!(matches!(again, CertsError::Exists(_)), "{again}");
    assert!(again.to_string().contains("--force"), "{again}");
    let before = std::fs::read(made.path("n1/n1.pem")).expect("cert");
    let node_again = issue::create_node(
        &made.path("ca"),
        "n1",
        &["localhost".to_string()],
        &made.path("n1"),
        30,
        false,
    );
    assert!(matches!(node_again, Err(CertsError::Exists(_))));
    assert_eq!(std::fs::read(made.path("n1/n1.pem")).expect("cert"), before);
    issue::create_node(
        &made.path("ca"),
        "n1",
        &["localhost".to_string()],
        &made.path("n1"),
        30,
        true,
    )
    .expect("--force overwrites");
    assert_ne!(std::fs::read(made.path("n1/n1.pem")).expect("cert"), before);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        for key in ["ca/ca-key.pem", "n1/n1-key.pem"] {
            let mode = std::fs::metadata(made.path(key))
                .expect("key")
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600, "{key}");
        }
    }
}

#[test]
fn certs_refuse_bad_names_hosts_and_a_missing_ca() {
    let made = Made::new();
    let node = |name: &str, hosts: &[&str], ca: &str| {
        let hosts: Vec<String> = hosts.iter().map(|h| h.to_string()).collect();
        issue::create_node(&made.path(ca), name, &hosts, &made.path("out"), 30, false)
    };
    for name in ["", "../n1", ".hidden", "ca", "a b"] {
        let err = node(name, &["localhost"], "ca").unwrap_err().to_string();
        assert!(err.contains("--name"), "{name:?}: {err}");
    }
    assert!(
        node("n2", &[], "ca")
            .unwrap_err()
            .to_string()
            .contains("--host")
    );
    let err = node("n2", &["bad host"], "ca").unwrap_err().to_string();
    assert!(err.contains("--host"), "{err}");
    let err = node("n2", &["localhost"], "nowhere")
        .unwrap_err()
        .to_string();
    assert!(err.contains("ca.pem"), "{err}");
    assert!(issue::create_ca(&made.path("ca2"), 0, false).is_err());
}

#[tokio::test]
async fn a_client_trusting_the_ca_talks_https_and_plain_http_gets_nothing() {
    let made = Made::new();
    let tls = made.load().expect("loads");
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let app = axum::Router::new().route("/hello", axum::routing::get(|| async { "hello" }));
    let stop = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn({
        let tls = tls.clone();
        let stop = stop.clone();
        async move { super::serve(listener, &tls, app, stop.cancelled_owned()).await }
    });
    let addr = format!("localhost:{port}");
    let answer = tls
        .client()
        .get(tls.url(&addr, "/hello"))
        .send()
        .await
        .expect("HTTPS answers");
    assert_eq!(answer.text().await.expect("body"), "hello");
    let plain = Tls::off()
        .client()
        .get(Tls::off().url(&addr, "/hello"))
        .send()
        .await;
    assert!(plain.is_err(), "plain HTTP to a TLS port must fail");
    // A client trusting nothing (no CA) refuses the server's certificate.
    let untrusting = Tls::off()
        .client()
        .get(tls.url(&addr, "/hello"))
        .send()
        .await;
    assert!(
        untrusting.is_err(),
        "a client that does not trust the CA must fail"
    );
    stop.cancel();
    server.await.expect("joins").expect("stops cleanly");
}
