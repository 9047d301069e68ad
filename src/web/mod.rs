//! Beacon on the web (issue 6), served by `beacon run` when `[web] listen` is set:
//!
//! - `/status/{server}`: the public status page, the same source of truth as the status message
//!   in Discord, readable on a phone and in right-to-left languages; `/status/{server}/feed.atom`
//!   is its Atom feed. Each server's data is kept a few seconds ([`cache`]).
//! - `/transcripts/{ticket}/{closing}?agent=&expires=&sig=`: a closed ticket's HTML transcript,
//!   through a link Beacon gives one agent at a time, signed and expiring ([`Links`]).
//! - `/healthz`: 200 when the database takes a write and the gateway is connected, 503 with
//!   what is wrong otherwise.
//! - `/metrics`: Prometheus metrics ([`crate::metrics`]), only on the ops listener (`[web]
//!   ops_listen`), so the public port discloses no ticket figures.
//!
//! Both listeners bound their connections ([`serve`]).
//!
//! Pages are rendered by [`pages`] from plain values; this module reads the store and speaks HTTP.

pub mod cache;
pub mod pages;
pub mod serve;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use tracing::{info, warn};

use crate::config::WebConfig;
use crate::desk::now_ms;
use crate::desk::tickets::TicketLedger;
use crate::store::Store;

mod links;

pub use links::{Denied, Links, TranscriptGrant};

#[derive(Clone)]
struct Web {
    store: Store,
    links: Links,
    pages: StatusPages,
    default_lang: String,
    gateway: Gateway,
    health: HealthWrite,
}

/// Whether the process's gateway connection is up, for `/healthz`; `None` in a process without
/// one.
pub type Gateway = Option<Arc<std::sync::atomic::AtomicBool>>;

/// What a server's status page and feed show: its name if known, and its crises (running, then
/// the last ended) with their updates.
#[derive(Clone)]
pub struct StatusData {
    name: Option<String>,
    crises: Vec<(
        crate::desk::crisis::Crisis,
        Vec<crate::desk::crisis::CrisisUpdate>,
    )>,
}

/// The status pages' data, kept `[web] status_cache_seconds` ([`cache`]).
pub type StatusPages = cache::StatusPages<StatusData>;

/// What the bot holds of the running web server.
#[derive(Clone, Debug)]
pub struct Handle {
    /// The links it gives out.
    pub links: Links,
    /// The status pages' kept data, which it forgets when a crisis changes.
    pub pages: StatusPages,
}

/// The web server, started.
pub struct Served {
    pub handle: Handle,
    /// The public listener's address, when there is one.
    pub addr: Option<SocketAddr>,
    /// The ops listener's address, when there is one.
    pub ops_addr: Option<SocketAddr>,
    /// Serves until aborted.
    pub task: tokio::task::JoinHandle<()>,
}

/// Binds `[web] listen` and `ops_listen` (whichever are set) and serves until the returned task
/// is aborted. A port that cannot be bound is an error at start, not a silent missing page.
pub async fn start(config: &WebConfig, store: Store, gateway: Gateway) -> anyhow::Result<Served> {
    bind(config).await?.serve(store, gateway).await
}

/// The web listeners, bound but not serving yet: `beacon run` binds them before it opens the
/// database, so that a port in use stops a start before anything is written.
pub struct Listeners {
    config: WebConfig,
    public: Option<tokio::net::TcpListener>,
    ops: Option<tokio::net::TcpListener>,
}

/// Bind the listeners `config` names.
pub async fn bind(config: &WebConfig) -> anyhow::Result<Listeners> {
    let bind = |what: &'static str, addr: String| async move {
        tokio::net::TcpListener::bind(addr.trim())
            .await
            .map_err(|e| anyhow::anyhow!("cannot serve {what} on {addr}: {e}"))
    };
    let public = match config.listen.trim() {
        "" => None,
        addr => Some(bind("the web pages", addr.to_string()).await?),
    };
    let ops = match config.ops_listen.trim() {
        "" => None,
        addr => Some(bind("/healthz and /metrics", addr.to_string()).await?),
    };
    Ok(Listeners {
        config: config.clone(),
        public,
        ops,
    })
}

impl Listeners {
    /// Serve on the bound listeners until the returned task is aborted.
    pub async fn serve(self, store: Store, gateway: Gateway) -> anyhow::Result<Served> {
        let Listeners {
            config,
            public,
            ops,
        } = self;
        let addr = public.as_ref().map(|l| l.local_addr()).transpose()?;
        let ops_addr = ops.as_ref().map(|l| l.local_addr()).transpose()?;
        let base = match (config.public_url.trim(), addr) {
            ("", Some(addr)) => format!("http://{addr}"),
            _ => config.base_url(),
        };
        let key = store.secret("transcript-links").await?;
        let links = Links::new(&base, key, config.transcript_link_minutes);
        let pages = StatusPages::new(config.status_cache_seconds);
        let web = Web {
            store,
            links: links.clone(),
            pages: pages.clone(),
            default_lang: config.lang.clone(),
            gateway,
            health: HealthWrite::default(),
        };
        let header_timeout =
            std::time::Duration::from_secs(u64::from(config.header_timeout_seconds));
        let open_files = rlimit::getrlimit(rlimit::Resource::NOFILE)
            .ok()
            .map(|(soft, _)| soft);
        let public_cap = serve::public_cap(config.max_connections, open_files);
        if public_cap < config.max_connections {
            warn!(
                configured = config.max_connections,
                used = public_cap,
                open_files = ?open_files,
                "web.max_connections lowered to half the open-file limit, so that the gateway, the \
                 database and the ops listener keep descriptors"
            );
        }
        let limits = serve::Limits {
            max_connections: public_cap,
            header_timeout,
        };
        // Monitoring needs few connections; its own small cap keeps it answering when the public
        // port is crowded.
        let ops_limits = serve::Limits {
            max_connections: serve::OPS_CONNECTIONS.min(public_cap),
            header_timeout,
        };
        let public = public.map(|listener| {
            info!(addr = ?addr, base = %base, "web pages served");
            serve::serve(listener, router(web.clone()), limits)
        });
        let ops = ops.map(|listener| {
            info!(addr = ?ops_addr, "/healthz and /metrics served");
            serve::serve(listener, ops_router(web), ops_limits)
        });
        // One task serves both; aborting it stops both accept loops.
        let task = tokio::spawn(async move {
            tokio::join!(serve::maybe(public), serve::maybe(ops));
        });
        Ok(Served {
            handle: Handle { links, pages },
            addr,
            ops_addr,
            task,
        })
    }
}

/// The ops listener: health and metrics, nothing public.
fn ops_router(web: Web) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/metrics", get(metrics))
        .with_state(web)
}

fn router(web: Web) -> Router {
    Router::new()
        .route("/healthz", get(health))
        .route("/status/{guild}", get(status_page))
        .route("/status/{guild}/feed.atom", get(status_feed))
        .route("/transcripts/{ticket}/{closing}", get(transcript))
        .fallback(not_found)
        .with_state(web)
}

/// The page language: `?lang=` if Beacon speaks it, else the first of the browser's
/// `Accept-Language` it speaks, else the configured one.
fn page_lang(query: Option<&str>, headers: &HeaderMap, default: &str) -> String {
    // "fa-IR;q=0.8": the tag before any weight.
    let speaks = |l: &str| pages::speaks(l.split(';').next().unwrap_or_default());
    if let Some(l) = query.and_then(speaks) {
        return l.to_string();
    }
    let accepted = headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    accepted
        .split(',')
        .find_map(speaks)
        .or_else(|| speaks(default))
        .unwrap_or(crate::locale::FALLBACK)
        .to_string()
}

fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        body,
    )
        .into_response()
}

fn unavailable(e: impl std::fmt::Display) -> Response {
    warn!(error = %e, "web page: storage failed");
    (
        StatusCode::SERVICE_UNAVAILABLE,
        "storage unavailable, try again shortly\n",
    )
        .into_response()
}

async fn not_found(headers: HeaderMap, State(web): State<Web>) -> Response {
    let lang = page_lang(None, &headers, &web.default_lang);
    html(StatusCode::NOT_FOUND, pages::not_found_page(&lang))
}

/// 200 when the database takes a write and, in a process with one, the gateway is connected;
/// 503 naming what is not.
async fn health(State(web): State<Web>) -> Response {
    let database = if web.health.writable(&web.store).await {
        "ok"
    } else {
        "unwritable"
    };
    let gateway = match &web.gateway {
        None => "none",
        Some(up) if up.load(std::sync::atomic::Ordering::Relaxed) => "connected",
        Some(_) => "disconnected",
    };
    let healthy = database == "ok" && gateway != "disconnected";
    let (status, word) = if healthy {
        (StatusCode::OK, "ok")
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
    };
    #[derive(serde::Serialize)]
    struct Health<'a> {
        status: &'a str,
        database: &'a str,
        gateway: &'a str,
    }
    let body = serde_json::to_string(&Health {
        status: word,
        database,
        gateway,
    })
    .expect("plain strings serialize");
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        format!("{body}\n"),
    )
        .into_response()
}

/// Whether the database takes a write, tried at most once a second: `/healthz` is public, and a
/// crowd of probes must not become a crowd of writes on SQLite's one writer. Probes arriving
/// together wait for one write and share its verdict.
#[derive(Clone, Default)]
struct HealthWrite(Arc<tokio::sync::Mutex<Option<(std::time::Instant, bool)>>>);

impl HealthWrite {
    const FRESH: std::time::Duration = std::time::Duration::from_secs(1);

    async fn writable(&self, store: &Store) -> bool {
        let mut last = self.0.lock().await;
        if let Some((at, verdict)) = *last
            && at.elapsed() < Self::FRESH
        {
            return verdict;
        }
        let verdict = match store.ping_write(now_ms()).await {
            Ok(()) => true,
            Err(e) => {
                warn!(error = %e, "health check: the database does not take a write");
                false
            }
        };
        *last = Some((std::time::Instant::now(), verdict));
        verdict
    }
}

async fn metrics(State(web): State<Web>) -> Response {
    let (queue, backlog) = match (
        web.store.queue_length().await,
        web.store.outbox_backlog().await,
    ) {
        (Ok(q), Ok(b)) => (q, b),
        (Err(e), _) | (_, Err(e)) => return unavailable(e),
    };
    let text = crate::metrics::get().encode(&[
        ("queue_length", "Tickets waiting for an agent", queue),
        (
            "outbox_backlog",
            "Direct messages in the outbox not sent yet",
            backlog,
        ),
    ]);
    (
        StatusCode::OK,
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        text,
    )
        .into_response()
}

#[derive(Deserialize)]
struct LangQuery {
    lang: Option<String>,
}

/// The server's data for its page (kept a few seconds), or the response to give instead.
async fn status_view(
    web: &Web,
    guild: &str,
    lang: &str,
) -> Result<(u64, Arc<StatusData>), Response> {
    let not_found = || html(StatusCode::NOT_FOUND, pages::not_found_page(lang));
    let guild_id: u64 = guild.parse().map_err(|_| not_found())?;
    let read = async {
        if !web.store.guild_known(guild_id).await? {
            return Ok(None);
        }
        let crises = web.store.status_crises(guild_id).await?;
        let name = web.store.guild_name(guild_id).await?;
        Ok::<_, crate::desk::StoreError>(Some(StatusData { name, crises }))
    };
    match web.pages.get(guild_id, read).await {
        Ok(Some(data)) => Ok((guild_id, data)),
        Ok(None) => Err(not_found()),
        Err(e) => Err(unavailable(e)),
    }
}

/// A server's status page or feed, rendered by `render` in `lang`.
async fn render_status(
    web: &Web,
    guild: &str,
    lang: &str,
    render: fn(&pages::StatusView) -> String,
) -> Result<String, Response> {
    let (guild_id, data) = status_view(web, guild, lang).await?;
    let base = web.links.status_page(guild_id);
    Ok(render(&pages::StatusView {
        guild_id,
        server: data.name.as_deref(),
        lang,
        crises: &data.crises,
        base_url: &base,
        now_ms: now_ms(),
    }))
}

async fn status_page(
    Path(guild): Path<String>,
    Query(q): Query<LangQuery>,
    headers: HeaderMap,
    State(web): State<Web>,
) -> Response {
    let lang = page_lang(q.lang.as_deref(), &headers, &web.default_lang);
    match render_status(&web, &guild, &lang, pages::status_page).await {
        Ok(page) => html(StatusCode::OK, page),
        Err(r) => r,
    }
}

async fn status_feed(
    Path(guild): Path<String>,
    headers: HeaderMap,
    State(web): State<Web>,
) -> Response {
    let lang = page_lang(None, &headers, &web.default_lang);
    match render_status(&web, &guild, &lang, pages::atom_feed).await {
        Ok(feed) => (
            StatusCode::OK,
            [
                (header::CONTENT_TYPE, "application/atom+xml; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            feed,
        )
            .into_response(),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
struct GrantQuery {
    agent: Option<u64>,
    expires: Option<i64>,
    sig: Option<String>,
}

async fn transcript(
    Path((ticket_id, closing)): Path<(i64, i64)>,
    Query(q): Query<GrantQuery>,
    headers: HeaderMap,
    State(web): State<Web>,
) -> Response {
    let lang = page_lang(None, &headers, &web.default_lang);
    let (Some(agent), Some(expires), Some(sig)) = (q.agent, q.expires, q.sig) else {
        return forbidden(
            "This transcript link is incomplete. Ask Beacon for a new one with /transcript.",
        );
    };
    let grant = TranscriptGrant {
        ticket_id,
        closing,
        agent,
        expires,
    };
    match web.links.verify(&grant, &sig, now_ms()) {
        Err(Denied::BadSignature) => {
            warn!(
                ticket_id,
                closing, agent, "transcript link with a bad signature refused"
            );
            return forbidden(
                "This transcript link is not valid. Ask Beacon for a new one with /transcript.",
            );
        }
        Err(Denied::Expired) => {
            return forbidden(
                "This transcript link has expired. Ask Beacon for a new one with /transcript.",
            );
        }
        Ok(()) => {}
    }
    match web.store.transcript(ticket_id, closing).await {
        Ok(Some((_, page))) => {
            info!(
                ticket_id,
                closing, agent, "transcript opened through a signed link"
            );
            let mut response = html(StatusCode::OK, page);
            let h = response.headers_mut();
            // The stored page has no scripts; nothing may load or run from it, it is not kept
            // by caches, and the signed link is not sent on to other sites.
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static(
                    "default-src 'none'; style-src 'unsafe-inline'; img-src https: data:",
                ),
            );
            h.insert(
                header::CACHE_CONTROL,
                HeaderValue::from_static("private, no-store"),
            );
            h.insert(
                header::REFERRER_POLICY,
                HeaderValue::from_static("no-referrer"),
            );
            h.insert("x-robots-tag", HeaderValue::from_static("noindex"));
            response
        }
        Ok(None) => html(StatusCode::NOT_FOUND, pages::not_found_page(&lang)),
        Err(e) => unavailable(e),
    }
}

fn forbidden(text: &'static str) -> Response {
    (
        StatusCode::FORBIDDEN,
        [
            (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        format!("{text}\n"),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn health_of(ops: SocketAddr) -> (u16, String) {
        let r = reqwest::get(format!("http://{ops}/healthz")).await.unwrap();
        (r.status().as_u16(), r.text().await.unwrap())
    }

    #[tokio::test]
    async fn health_is_503_while_the_gateway_is_down_or_the_database_takes_no_write() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("h.db").display());
        let store = Store::connect(&url).await.unwrap();
        store.migrate().await.unwrap();
        let up = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let config = WebConfig {
            ops_listen: "127.0.0.1:0".into(),
            ..WebConfig::default()
        };
        let served = start(&config, store.clone(), Some(up.clone()))
            .await
            .unwrap();
        let ops = served.ops_addr.unwrap();

        let (status, body) = health_of(ops).await;
        assert_eq!(status, 503);
        assert!(body.contains("\"gateway\":\"disconnected\""), "{body}");
        up.store(true, std::sync::atomic::Ordering::Relaxed);
        assert_eq!(health_of(ops).await.0, 200);

        // A closed pool takes no write; the verdict is tried again once the last one is stale.
        store.close().await;
        tokio::time::sleep(HealthWrite::FRESH).await;
        let (status, body) = health_of(ops).await;
        assert_eq!(status, 503);
        assert!(body.contains("\"database\":\"unwritable\""), "{body}");
        served.task.abort();
    }

    fn links() -> Links {
        Links::new("https://status.example.com/", b"k".repeat(32), 60)
    }

    fn parse(link: &str) -> (TranscriptGrant, String) {
        let (path, query) = link.split_once('?').unwrap();
        let mut parts = path.rsplit('/');
        let closing = parts.next().unwrap().parse().unwrap();
        let ticket_id = parts.next().unwrap().parse().unwrap();
        let value = |k: &str| {
            query
                .split('&')
                .find_map(|kv| kv.strip_prefix(&format!("{k}=")))
                .unwrap()
                .to_string()
        };
        (
            TranscriptGrant {
                ticket_id,
                closing,
                agent: value("agent").parse().unwrap(),
                expires: value("expires").parse().unwrap(),
            },
            value("sig"),
        )
    }

    #[test]
    fn a_transcript_link_works_for_its_grant_until_it_expires() {
        let links = links();
        let now = 1_800_000_000_000;
        let (link, expires) = links.transcript(7, 2, 42, now);
        assert!(
            link.starts_with("https://status.example.com/transcripts/7/2?agent=42&"),
            "{link}"
        );
        assert_eq!(expires, now / 1000 + 3600);
        let (grant, sig) = parse(&link);
        assert_eq!(links.verify(&grant, &sig, now), Ok(()));
        assert_eq!(links.verify(&grant, &sig, now + 3_599_000), Ok(()));
        assert_eq!(
            links.verify(&grant, &sig, now + 3_600_000),
            Err(Denied::Expired)
        );
    }

    #[test]
    fn changing_anything_in_a_link_breaks_its_signature() {
        let links = links();
        let now = 1_800_000_000_000;
        let (link, _) = links.transcript(7, 2, 42, now);
        let (grant, sig) = parse(&link);
        for other in [
            TranscriptGrant {
                ticket_id: 8,
                ..grant
            },
            TranscriptGrant {
                closing: 1,
                ..grant
            },
            TranscriptGrant { agent: 43, ..grant },
            TranscriptGrant {
                expires: grant.expires + 86_400,
                ..grant
            },
        ] {
            assert_eq!(
                links.verify(&other, &sig, now),
                Err(Denied::BadSignature),
                "{other:?}"
            );
        }
        assert_eq!(links.verify(&grant, "zz", now), Err(Denied::BadSignature));
        assert_eq!(links.verify(&grant, "", now), Err(Denied::BadSignature));
        // Another key (another deployment) does not accept it either.
        let other_key = Links::new("https://status.example.com", b"j".repeat(32), 60);
        assert_eq!(
            other_key.verify(&grant, &sig, now),
            Err(Denied::BadSignature)
        );
    }

    #[test]
    fn the_page_language_is_asked_for_then_the_browsers_then_the_default() {
        let mut headers = HeaderMap::new();
        assert_eq!(page_lang(None, &headers, "hy"), "hy");
        headers.insert(
            header::ACCEPT_LANGUAGE,
            HeaderValue::from_static("de-DE, fa-IR;q=0.8, en;q=0.5"),
        );
        assert_eq!(page_lang(None, &headers, "en"), "fa");
        assert_eq!(page_lang(Some("ar"), &headers, "en"), "ar");
        assert_eq!(page_lang(Some("xx"), &headers, "en"), "fa");
    }
}
