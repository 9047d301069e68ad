//! The web listeners' accept loop, so that a few idle sockets cannot take the process down:
//! 1,200 connections that each sent half a request header and stayed silent used to be held
//! forever, until the process ran out of file descriptors and the gateway, the timers and the
//! database could not open one either. Here:
//! - a connection that has not sent a whole request header `header_timeout` after opening, or
//!   after its last answer (an idle keep-alive), is closed (hyper's header-read timeout, which
//!   it starts at every request head);
//! - at most `max_connections` are held at once; past that, new ones wait in the kernel's
//!   backlog until one closes, instead of taking a descriptor each;
//! - an accept that fails (out of descriptors) waits a moment instead of spinning.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tracing::{debug, warn};

/// How a listener bounds its connections.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    pub max_connections: usize,
    pub header_timeout: Duration,
}

/// The connections the ops listener (health and metrics) holds at once.
pub const OPS_CONNECTIONS: usize = 64;

/// The public listener's cap: the configured one, but at most half the process's open-file
/// limit (`None`: unknown), so that a crowd of sockets can never take the descriptors the
/// gateway, the database, the timers and the ops listener need.
pub fn public_cap(configured: usize, open_files: Option<u64>) -> usize {
    let half = open_files.map_or(usize::MAX, |n| usize::try_from(n / 2).unwrap_or(usize::MAX));
    configured.min(half).max(1)
}

/// Serve `app` on `listener` until the task is aborted.
pub async fn serve(listener: TcpListener, app: Router, limits: Limits) {
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return;
        };
        let (stream, peer) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) => {
                warn!("the web server cannot accept a connection: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let app = app.clone();
        tokio::spawn(async move {
            let mut http = hyper1::server::conn::http1::Builder::new();
            http.timer(TokioTimer::new())
                .header_read_timeout(limits.header_timeout)
                .keep_alive(true);
            let served = http
                .serve_connection(TokioIo::new(stream), TowerToHyperService::new(app))
                .await;
            if let Err(e) = served {
                debug!(%peer, "web connection ended: {e}");
            }
            drop(permit);
        });
    }
}

/// Run `serving` when there is one.
pub async fn maybe(serving: Option<impl Future<Output = ()>>) {
    if let Some(serving) = serving {
        serving.await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    use tokio::net::TcpStream;

    async fn served(limits: Limits) -> std::net::SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app = Router::new().route("/", get(|| async { "ok" }));
        tokio::spawn(serve(listener, app, limits));
        addr
    }

    const LIMITS: Limits = Limits {
        max_connections: 2,
        header_timeout: Duration::from_millis(300),
    };

    /// Reads until the server closes the connection, or gives up after a minute (far past any
    /// timeout here, so only a server that holds the socket fails).
    async fn read_to_close(s: &mut TcpStream) -> Option<String> {
        let mut all = Vec::new();
        let read = tokio::time::timeout(Duration::from_secs(60), s.read_to_end(&mut all)).await;
        read.ok()?.ok()?;
        Some(String::from_utf8_lossy(&all).into_owned())
    }

    #[test]
    fn the_public_cap_leaves_half_the_descriptors_to_the_rest_of_the_process() {
        assert_eq!(public_cap(1024, Some(400)), 200);
        assert_eq!(public_cap(1024, Some(1_048_576)), 1024);
        assert_eq!(public_cap(1024, None), 1024);
        assert_eq!(public_cap(1024, Some(1)), 1);
    }

    #[tokio::test]
    async fn a_connection_that_sends_half_a_header_is_closed() {
        let addr = served(LIMITS).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\nX-Half: ")
            .await
            .unwrap();
        let answer = read_to_close(&mut s).await.expect("the server closed it");
        assert!(!answer.contains("200 OK"), "{answer}");
    }

    #[tokio::test]
    async fn an_idle_keep_alive_connection_is_closed_after_its_answer() {
        let addr = served(LIMITS).await;
        let mut s = TcpStream::connect(addr).await.unwrap();
        s.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let answer = read_to_close(&mut s).await.expect("the server closed it");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }

    #[tokio::test]
    async fn past_the_cap_a_connection_waits_until_one_closes() {
        let addr = served(Limits {
            max_connections: 1,
            header_timeout: Duration::from_secs(3600),
        })
        .await;
        let mut first = TcpStream::connect(addr).await.unwrap();
        first
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
            .await
            .unwrap();
        let mut buf = [0u8; 15];
        first.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"HTTP/1.1 200 OK");
        // The first is held open (keep-alive), so the second is not served yet...
        let mut second = TcpStream::connect(addr).await.unwrap();
        second
            .write_all(b"GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            .await
            .unwrap();
        let mut one = [0u8; 1];
        let early = tokio::time::timeout(Duration::from_millis(300), second.read(&mut one)).await;
        assert!(early.is_err(), "served past the cap");
        // ...until the first closes.
        drop(first);
        let answer = read_to_close(&mut second)
            .await
            .expect("served once a place was free");
        assert!(answer.starts_with("HTTP/1.1 200 OK"), "{answer}");
    }
}
