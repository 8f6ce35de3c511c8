//! The HTTP serve loop: one task per TCP connection, with the limits `axum::serve` lacks.
//!
//! A client that opens a socket and says nothing, or sends a request head or body slowly, or
//! keeps an idle connection alive, holds a file descriptor; a thousand of them used to
//! exhaust the process's limit, so that `accept` failed and `/health` went unanswered. Here
//! every connection holds a permit of a fixed pool (sized below the descriptor limit) for as
//! long as its socket is open, WebSocket upgrades included; hyper closes connections whose
//! request head takes too long or that sit idle between requests; and each REST request gets a
//! deadline for its whole exchange, body included.
use std::{
    convert::Infallible,
    future::Future,
    io,
    pin::Pin,
    sync::Arc,
    task::{Context, Poll},
    time::Duration,
};

use axum::{
    Router,
    extract::{ConnectInfo, Request},
    http::StatusCode,
    middleware::Next,
    response::{IntoResponse, Response},
};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::{
    io::{AsyncRead, AsyncWrite, ReadBuf},
    net::{TcpListener, TcpStream},
    sync::{OwnedSemaphorePermit, Semaphore, watch},
};
use tower::ServiceExt;

/// The HTTP limits, from the configuration.
#[derive(Debug, Clone, Copy)]
pub struct HttpLimits {
    /// For a request head to arrive, and for the next one on an idle kept-alive connection.
    pub header_timeout: Duration,
    /// Sockets open at once.
    pub max_connections: usize,
    /// For connections to finish once shutdown begins.
    pub shutdown_timeout: Duration,
}

/// Descriptors kept back from `max_http_connections = 0` for the database, logs and the
/// listener itself.
const FD_HEADROOM: u64 = 128;

/// The connection bound for `max_http_connections = 0`: the soft descriptor limit minus
/// headroom (at least 16).
pub fn default_max_connections() -> usize {
    let soft = rustix::process::getrlimit(rustix::process::Resource::Nofile)
        .current
        .unwrap_or(1 << 20);
    let usable = soft.saturating_sub(FD_HEADROOM.min(soft / 2)).max(16);
    usize::try_from(usable).unwrap_or(usize::MAX)
}

/// Gives every request at most `limit` to be answered; over it the client gets 408 with an
/// Easemob-shaped JSON error. A WebSocket upgrade is answered at once, so it is not cut.
pub fn request_deadline(router: Router, limit: Duration) -> Router {
    router.layer(axum::middleware::from_fn(
        move |request: Request, next: Next| async move {
            match tokio::time::timeout(limit, next.run(request)).await {
                Ok(response) => response,
                Err(_) => timed_out(limit),
            }
        },
    ))
}

fn timed_out(limit: Duration) -> Response {
    let body = serde_json::json!({
        "error": "request_timeout",
        "error_description": format!("the request took longer than {} s", limit.as_secs()),
        "exception": "RequestTimeoutException",
        "timestamp": roam_domain::now_ms(),
        "duration": 0,
    });
    (StatusCode::REQUEST_TIMEOUT, axum::Json(body)).into_response()
}

/// Serves `router` on `listener` until `shutdown` completes; then stops accepting, asks every
/// connection to finish its request in flight and close, and waits for them, at most
/// `limits.shutdown_timeout`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()>,
) {
    let permits = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closed) = watch::channel(false);
    let mut http = hyper::server::conn::http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .keep_alive(true);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = permits.clone().acquire_owned() => match permit {
                Ok(p) => p,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    accept_failed(e).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let io = TokioIo::new(Counted {
            stream,
            _permit: permit,
        });
        let router = router.clone();
        let service = hyper::service::service_fn(move |mut request: Request<_>| {
            request.extensions_mut().insert(ConnectInfo(remote));
            let router = router.clone();
            async move {
                let response = router.oneshot(request.map(axum::body::Body::new)).await;
                Ok::<_, Infallible>(response.unwrap_or_else(|never| match never {}))
            }
        });
        let connection = http.serve_connection(io, service).with_upgrades();
        let mut closed = closed.clone();
        tokio::spawn(async move {
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                () = async { let _ = closed.wait_for(|c| *c).await; } => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(e) = result {
                tracing::debug!(%remote, error = %e, "http connection ended");
            }
        });
    }
    drop(listener);
    let _ = closing.send(true);
    let all = u32::try_from(limits.max_connections).unwrap_or(u32::MAX);
    let drained = tokio::time::timeout(limits.shutdown_timeout, permits.acquire_many(all)).await;
    if drained.is_err() {
        tracing::warn!(
            open = limits.max_connections - permits.available_permits(),
            "shutdown: connections still open after the shutdown timeout"
        );
    }
}

/// `accept` failed: a connection reset before it was taken is nothing; anything else (out of
/// descriptors, most likely) is logged and retried after a pause instead of spinning.
async fn accept_failed(e: io::Error) {
    if matches!(
        e.kind(),
        io::ErrorKind::ConnectionAborted | io::ErrorKind::ConnectionReset
    ) {
        return;
    }
    tracing::warn!(error = %e, "accept failed");
    tokio::time::sleep(Duration::from_millis(200)).await;
}

/// A socket that holds its connection permit until it is dropped, wherever it goes (hyper
/// hands it to the WebSocket on an upgrade).
struct Counted {
    stream: TcpStream,
    _permit: OwnedSemaphorePermit,
}

impl AsyncRead for Counted {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for Counted {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }
}
