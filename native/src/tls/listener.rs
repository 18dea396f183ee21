//! Serving an axum router over TLS: [`TlsListener`] is an `axum::serve` listener that hands
//! over connections once their TLS handshake is done, so axum's own accept loop and graceful
//! shutdown serve HTTPS exactly as they serve HTTP; [`serve`] picks one or the other.
//!
//! Handshakes run on their own tasks, each within [`HANDSHAKE_WITHIN`], and at most
//! [`MAX_HANDSHAKES`] at once: a client that opens a connection and says nothing (or speaks
//! plain HTTP) delays no one else.

use std::future::Future;
use std::io;
use std::net::SocketAddr;
use std::time::Duration;

use axum::Router;
use axum::serve::Listener;
use tokio::net::TcpListener;
use tokio::net::TcpStream;
use tokio::task::JoinSet;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

use super::Tls;

/// How long a client has to finish its TLS handshake.
pub const HANDSHAKE_WITHIN: Duration = Duration::from_secs(10);
/// Handshakes in progress at once; past it, new connections wait in the kernel's backlog.
pub const MAX_HANDSHAKES: usize = 256;

/// A TCP listener whose connections are TLS sessions.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Option<(TlsStream<TcpStream>, SocketAddr)>>,
}

impl TlsListener {
    /// Accepts connections on `tcp` and completes their handshake with `acceptor`.
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> Self {
        TlsListener {
            tcp,
            acceptor,
            handshakes: JoinSet::new(),
        }
    }
}

impl Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        // Both branches are cancel-safe: a connection accepted stays in `handshakes`.
        loop {
            tokio::select! {
                accepted = self.tcp.accept(), if self.handshakes.len() < MAX_HANDSHAKES => {
                    match accepted {
                        Ok((stream, peer)) => {
                            let acceptor = self.acceptor.clone();
                            self.handshakes.spawn(handshake(acceptor, stream, peer));
                        }
                        Err(err) => accept_failed(err).await,
                    }
                }
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    if let Ok(Some(session)) = done {
                        return session;
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// One connection's TLS handshake; `None` if it failed or took too long (logged at debug: a
/// port scanner or a plain-HTTP client is not the server's problem).
async fn handshake(
    acceptor: TlsAcceptor,
    stream: TcpStream,
    peer: SocketAddr,
) -> Option<(TlsStream<TcpStream>, SocketAddr)> {
    let _ = stream.set_nodelay(true);
    match tokio::time::timeout(HANDSHAKE_WITHIN, acceptor.accept(stream)).await {
        Ok(Ok(session)) => Some((session, peer)),
        Ok(Err(err)) => {
            tracing::debug!(%peer, %err, "TLS handshake failed");
            None
        }
        Err(_) => {
            tracing::debug!(%peer, "TLS handshake timed out");
            None
        }
    }
}

/// After a failed `accept`: a connection that broke before it was accepted is nothing; a
/// resource error (too many open files) is waited out, as axum's own listener does.
async fn accept_failed(err: io::Error) {
    let per_connection = matches!(
        err.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
    );
    if !per_connection {
        tracing::error!(%err, "accept failed; waiting a second");
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

/// Serves `app` on `listener` (over TLS when `tls` is on) until `shutdown` resolves, then
/// lets open requests finish.
pub async fn serve(
    listener: TcpListener,
    tls: &Tls,
    app: Router,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> io::Result<()> {
    match tls.acceptor() {
        None => {
            axum::serve(listener, app)
                .with_graceful_shutdown(shutdown)
                .await
        }
        Some(acceptor) => {
            axum::serve(TlsListener::new(listener, acceptor), app)
                .with_graceful_shutdown(shutdown)
                .await
        }
    }
}
