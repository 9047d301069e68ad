//! One REST limiter in front of every call Beacon makes to Discord: answers, tickets, timers,
//! crisis posts and the outbox's direct messages.
//!
//! serenity's own limiter cannot be the one: it sends to discord.com even when the API URL
//! points elsewhere (a proxy, the fake), it does not pace the global 50 requests a second, and
//! its errors drop a 429's `retry_after`, `global` and scope. So serenity's clients talk to this
//! gate, a small HTTP server on 127.0.0.1 inside the process, which forwards each request to
//! the configured API and applies Discord's rules (Rate Limits docs):
//! - **per-route buckets** from `X-RateLimit-Bucket`, `-Limit`, `-Remaining` and
//!   `-Reset-After`, kept by twilight's rate limiter (`twilight-http-ratelimiting`, the one
//!   twilight-http and its proxy use), with requests of one bucket queued in order;
//! - **the global limit**, paced smoothly at `[discord] rest_per_second` (no rolling second
//!   holds more), interaction endpoints exempt as Discord exempts them. Two
//!   classes share it: interactive traffic (everything serenity sends) takes every slot it
//!   wants; the crisis outbox ("bulk") takes the ones left, so a fan-out fills the spare
//!   capacity and never delays an answer;
//! - **a 429** is waited out for exactly `retry_after` (a global one pauses every slot) and the
//!   request sent again, transparently, until `[discord] retry_minutes` have passed (an
//!   interaction token lives 15 minutes); only then does the caller see it;
//! - **the invalid-request budget**: 401, 403 and 429 answers (but shared-scope 429s) are
//!   counted over 10 minutes; Discord bans a bot for a while at 10,000, so past 8,000 the
//!   outbox is held back (503, which it retries later) while answers go on.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::response::Response;
use tokio::sync::{mpsc, oneshot};
use tokio::time::Instant;
use tracing::{debug, warn};
use twilight_http_ratelimiting::{Endpoint, Method, RateLimitHeaders, RateLimiter};

/// Which share of the global limit a request draws on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Class {
    /// Answers, interaction follow-ups, tickets, timers, crisis posts: first.
    Interactive,
    /// The crisis outbox's direct messages: what is left.
    Bulk,
}

impl Class {
    fn prefix(self) -> &'static str {
        match self {
            Class::Interactive => "i",
            Class::Bulk => "b",
        }
    }
}

/// Invalid requests over 10 minutes past which the outbox is held back.
const INVALID_HOLD: usize = 8_000;
const INVALID_WINDOW: Duration = Duration::from_secs(600);
/// The largest request body forwarded (files: Discord takes 10 MiB without boosts, and a
/// message may carry several).
const MAX_BODY: usize = 64 * 1024 * 1024;

/// The running gate: the base URLs serenity and the outbox are given, and its counters.
#[derive(Clone)]
pub struct Gate {
    addr: SocketAddr,
    shared: Arc<Shared>,
}

struct Shared {
    upstream: String,
    client: reqwest::Client,
    buckets: RateLimiter,
    slots: [mpsc::UnboundedSender<oneshot::Sender<()>>; 2],
    paused_until: Arc<Mutex<Instant>>,
    invalid: Mutex<VecDeque<Instant>>,
    hold: Duration,
    counts: Counts,
}

/// What the gate has seen, for metrics and benchmarks.
#[derive(Default)]
pub struct Counts {
    /// 429 answers from Discord (each one Beacon caused).
    pub rate_limited: std::sync::atomic::AtomicU64,
    /// Requests sent again after a 429.
    pub retried: std::sync::atomic::AtomicU64,
}

impl Gate {
    /// Bind on 127.0.0.1 and start forwarding to `upstream` (`https://discord.com`, a proxy or
    /// the fake), at most `per_second` requests a second, retrying 429s for up to `hold`.
    pub async fn start(upstream: &str, per_second: u32, hold: Duration) -> anyhow::Result<Gate> {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let addr = listener.local_addr()?;
        let (interactive_tx, interactive_rx) = mpsc::unbounded_channel();
        let (bulk_tx, bulk_rx) = mpsc::unbounded_channel();
        let paused_until = Arc::new(Mutex::new(Instant::now()));
        let every = Duration::from_secs_f64(1.0 / f64::from(per_second.max(1)));
        tokio::spawn(pace(interactive_rx, bulk_rx, every, paused_until.clone()));
        let client = reqwest::Client::builder()
            // One try; the caller (or this gate, on 429) decides on another.
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        let shared = Arc::new(Shared {
            upstream: upstream.trim_end_matches('/').to_string(),
            client,
            // The global limit is paced here, smoothly and by class; twilight's fixed window
            // is switched off.
            buckets: RateLimiter::new(u16::MAX),
            slots: [interactive_tx, bulk_tx],
            paused_until,
            invalid: Mutex::new(VecDeque::new()),
            hold,
            counts: Counts::default(),
        });
        let app = axum::Router::new()
            .fallback(forward)
            .with_state(shared.clone());
        tokio::spawn(async move {
            if let Err(e) = axum::serve(listener, app).await {
                warn!("the REST gate stopped: {e}");
            }
        });
        Ok(Gate { addr, shared })
    }

    /// The base URL a client of this class is given in place of `https://discord.com`.
    pub fn base(&self, class: Class) -> String {
        format!("http://{}/{}", self.addr, class.prefix())
    }

    pub fn counts(&self) -> &Counts {
        &self.shared.counts
    }

    /// Invalid requests (401, 403 and counted 429s) in the last 10 minutes.
    pub fn invalid_requests(&self) -> usize {
        self.shared.invalid_recent()
    }
}

impl Shared {
    fn invalid_recent(&self) -> usize {
        let mut seen = self.invalid.lock().unwrap_or_else(|e| e.into_inner());
        let now = Instant::now();
        while seen
            .front()
            .is_some_and(|t| now.duration_since(*t) > INVALID_WINDOW)
        {
            seen.pop_front();
        }
        seen.len()
    }

    fn count_invalid(&self) {
        let mut seen = self.invalid.lock().unwrap_or_else(|e| e.into_inner());
        seen.push_back(Instant::now());
    }

    fn pause(&self, until: Instant) {
        let mut paused = self.paused_until.lock().unwrap_or_else(|e| e.into_inner());
        if until > *paused {
            *paused = until;
        }
    }

    /// Wait for a slot of the global limit.
    async fn slot(&self, class: Class) {
        let (tx, rx) = oneshot::channel();
        let queue = &self.slots[class as usize];
        if queue.send(tx).is_ok() {
            let _ = rx.await;
        }
    }
}

/// The granularity of tokio's timer.
const TIMER_TICK: Duration = Duration::from_millis(1);

/// Hand out the global limit's slots, one every `every`, an interactive waiter before any bulk
/// one. A slot nobody waited for is not saved up beyond one (timers wake late by up to a
/// millisecond, and the lost time is caught up), and no rolling second ever holds more grants
/// than the rate: the grants of the last second are kept and the next waits for the oldest to
/// leave it.
async fn pace(
    mut interactive: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    mut bulk: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    every: Duration,
    paused_until: Arc<Mutex<Instant>>,
) {
    let per_second = (Duration::from_secs(1).as_secs_f64() / every.as_secs_f64()).round() as usize;
    let mut granted: VecDeque<Instant> = VecDeque::with_capacity(per_second + 1);
    let mut next = Instant::now();
    loop {
        let paused = *paused_until.lock().unwrap_or_else(|e| e.into_inner());
        let mut at = next.max(paused);
        if granted.len() >= per_second.max(1)
            && let Some(oldest) = granted.front()
        {
            at = at.max(*oldest + Duration::from_secs(1));
        }
        // tokio's timer ticks in milliseconds and a sleep rounds up to the next tick, so a sleep
        // per slot would cap the pace near 1,000 a second: a slot due within the tick is granted
        // now (the rolling second above still bounds the total).
        if at > Instant::now() + TIMER_TICK {
            tokio::time::sleep_until(at).await;
        }
        let waiter = match interactive.try_recv() {
            Ok(w) => w,
            Err(_) => match bulk.try_recv() {
                Ok(w) => w,
                Err(_) => {
                    let w = tokio::select! {
                        biased;
                        w = interactive.recv() => w,
                        w = bulk.recv() => w,
                    };
                    match w {
                        Some(w) => w,
                        None => return,
                    }
                }
            },
        };
        if waiter.send(()).is_err() {
            // Cancelled while waiting: the slot goes to the next one.
            continue;
        }
        let now = Instant::now();
        granted.push_back(now);
        while granted.len() > per_second.max(1) {
            granted.pop_front();
        }
        next = at.max(now.checked_sub(every).unwrap_or(now)) + every;
    }
}

/// Forward one request: its bucket, a global slot (unless it is an interaction endpoint), the
/// call, and 429s waited out and sent again.
async fn forward(State(gate): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let path = parts.uri.path();
    let (class, rest) = match path.split_once('/').map(|(_, p)| p.split_once('/')) {
        Some(Some(("b", rest))) => (Class::Bulk, rest),
        Some(Some((_, rest))) => (Class::Interactive, rest),
        _ => (Class::Interactive, path.trim_start_matches('/')),
    };
    let rest = format!("/{rest}");
    let query = parts
        .uri
        .query()
        .map(|q| format!("?{q}"))
        .unwrap_or_default();
    let url = format!("{}{rest}{query}", gate.upstream);
    let endpoint = Endpoint {
        method: method(&parts.method),
        path: rest
            .trim_start_matches("/api/v10/")
            .trim_start_matches('/')
            .to_string(),
    };
    // Interaction callbacks and their webhooks (follow-ups, the original response) are the
    // only requests the Rate Limits docs exempt from the global limit.
    let exempt =
        endpoint.path.starts_with("interactions/") || endpoint.path.starts_with("webhooks/");
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(e) => return answer(400, &format!("unreadable request body: {e}")),
    };
    if class == Class::Bulk && gate.invalid_recent() >= INVALID_HOLD {
        warn!("near Discord's invalid-request limit: the outbox waits");
        return answer(503, "held back: too many invalid requests in 10 minutes");
    }
    let deadline = Instant::now() + gate.hold;
    loop {
        let permit = gate.buckets.acquire(endpoint.clone()).await;
        if !exempt {
            gate.slot(class).await;
        }
        let mut outgoing = gate.client.request(parts.method.clone(), &url);
        for (name, value) in &parts.headers {
            if !matches!(
                name.as_str(),
                "host" | "content-length" | "connection" | "transfer-encoding"
            ) {
                outgoing = outgoing.header(name, value);
            }
        }
        let response = match outgoing.body(body.clone()).send().await {
            Ok(r) => r,
            Err(e) => {
                permit.complete(None);
                // The whole chain (reqwest's own message says only "error sending request for
                // url (...)"), which names the URL tried.
                return answer(502, &format!("{:#}", anyhow::Error::new(e)));
            }
        };
        let status = response.status();
        let headers = response.headers().clone();
        permit.complete(bucket_headers(&headers));
        let bytes = response.bytes().await.unwrap_or_default();
        let scope = headers
            .get("x-ratelimit-scope")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if matches!(status.as_u16(), 401 | 403) || (status == 429 && scope != "shared") {
            gate.count_invalid();
        }
        if status == 429 {
            gate.counts
                .rate_limited
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
            let wait = json["retry_after"]
                .as_f64()
                .or_else(|| {
                    headers
                        .get("retry-after")
                        .and_then(|v| v.to_str().ok()?.parse().ok())
                })
                .unwrap_or(1.0)
                .clamp(0.0, 3600.0);
            let until = Instant::now() + Duration::from_secs_f64(wait);
            if json["global"] == true || scope == "global" {
                gate.pause(until);
            }
            if until < deadline {
                debug!(path = %endpoint.path, wait, "Discord asked to wait; sending again then");
                gate.counts
                    .retried
                    .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tokio::time::sleep_until(until).await;
                continue;
            }
        }
        let mut out = Response::builder().status(status.as_u16());
        for (name, value) in &headers {
            if !matches!(
                name.as_str(),
                "content-length" | "transfer-encoding" | "connection"
            ) {
                out = out.header(name, value);
            }
        }
        return out
            .body(Body::from(bytes))
            .unwrap_or_else(|_| answer(502, "unreadable answer"));
    }
}

fn method(m: &axum::http::Method) -> Method {
    match *m {
        axum::http::Method::POST => Method::Post,
        axum::http::Method::PATCH => Method::Patch,
        axum::http::Method::PUT => Method::Put,
        axum::http::Method::DELETE => Method::Delete,
        _ => Method::Get,
    }
}

/// A bucket's state from Discord's headers, when the answer carries all of them.
fn bucket_headers(h: &reqwest::header::HeaderMap) -> Option<RateLimitHeaders> {
    let text = |name: &str| h.get(name)?.to_str().ok();
    let reset_after: f64 = text(RateLimitHeaders::RESET_AFTER)?.parse().ok()?;
    Some(RateLimitHeaders {
        bucket: text(RateLimitHeaders::BUCKET)?.as_bytes().to_vec(),
        limit: text(RateLimitHeaders::LIMIT)?.parse().ok()?,
        remaining: text(RateLimitHeaders::REMAINING)?.parse().ok()?,
        reset_at: std::time::Instant::now() + Duration::from_secs_f64(reset_after.max(0.0)),
    })
}

/// An answer of the gate's own, shaped like Discord's errors so serenity reads it.
fn answer(status: u16, message: &str) -> Response {
    let body = serde_json::json!({ "message": message, "code": 0 }).to_string();
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a static response")
}
