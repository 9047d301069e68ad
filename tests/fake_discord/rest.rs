//! The REST half of the fake: a hyper server under `/api/v10`. Every request is recorded,
//! checked against Discord's OpenAPI description and a few rules the description cannot express
//! (2,000-character messages, unique `custom_id`s, command naming rules, the 3-second
//! acknowledgement window...), and answered the way Discord would, from the world's state.

use std::collections::{BTreeSet, HashMap, VecDeque};
use std::convert::Infallible;
use std::fmt::Display;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use hyper::service::{make_service_fn, service_fn};
use hyper::{Body, Request, Response, Server};
use serde_json::{Value, json};

use super::gateway::dispatch;
use super::openapi::{self, PathStep, SchemaError};
use super::world::{
    APPLICATION_ID, BOT_USER_ID, Deletion, InteractionRecord, OpenModal, TOKEN, channel_type,
    now_iso, perm, snowflake,
};
use super::{Inner, State};

/// Discord's message flags the fake looks at.
const FLAG_CROSSPOSTED: u64 = 1 << 0;
const FLAG_SUPPRESS_EMBEDS: u64 = 1 << 2;
const FLAG_EPHEMERAL: u64 = 1 << 6;
const FLAG_LOADING: u64 = 1 << 7;
const FLAG_SUPPRESS_NOTIFICATIONS: u64 = 1 << 12;
const FLAG_IS_COMPONENTS_V2: u64 = 1 << 15;

/// How long Discord remembers a nonce for `enforce_nonce`.
const NONCE_WINDOW: Duration = Duration::from_secs(5 * 60);

/// One REST request as the fake saw and answered it.
#[derive(Clone, Debug)]
pub struct Recorded {
    /// Position in the request log (0-based).
    pub index: usize,
    pub method: String,
    /// The path without `/api/v10`, e.g. `/channels/1100000000000000004/messages`.
    pub path: String,
    /// The OpenAPI template it matched, e.g. `/channels/{channel_id}/messages`.
    pub route: Option<String>,
    pub query: Vec<(String, String)>,
    /// The JSON body (for multipart requests: the `payload_json` part).
    pub body: Option<Value>,
    /// Names of uploaded files (multipart requests).
    pub files: Vec<String>,
    /// Their contents, in the same order, so tests can read what was uploaded.
    pub file_contents: Vec<Vec<u8>>,
    /// The status the fake answered.
    pub status: u16,
    /// The JSON the fake answered, if any.
    pub response: Option<Value>,
    /// When the request arrived.
    pub at: Instant,
    /// When the fake handled it (under its lock, after reading the body): the instant the global
    /// rate limit counted it at, in the log's order.
    pub handled_at: Instant,
    /// Answered by `fail_next` rather than by the world.
    pub injected: bool,
    /// Refused with a 429 by the global rate limit (`set_global_rate_limit`), not acted on.
    pub rate_limited: bool,
    /// Something notable the fake did, e.g. `"nonce: returned existing message 11…"`.
    pub note: Option<String>,
}

impl Recorded {
    /// Whether method and path match (see [`path_matches`] for the pattern syntax).
    pub fn is(&self, method: &str, pattern: &str) -> bool {
        method_matches(method, &self.method) && path_matches(pattern, &self.path)
    }
}

/// `"*"` or `""` matches any method; otherwise case-insensitive equality.
pub fn method_matches(pattern: &str, method: &str) -> bool {
    pattern.is_empty() || pattern == "*" || pattern.eq_ignore_ascii_case(method)
}

/// Path patterns: segments compared one by one, where `*` or `{name}` matches any one segment
/// and a final `**` matches the rest; a pattern ending in `/` is a prefix.
/// `/channels/*/messages` matches `/channels/1/messages` but not `/channels/1/messages/2`.
pub fn path_matches(pattern: &str, path: &str) -> bool {
    if pattern.ends_with('/') {
        return path.starts_with(pattern);
    }
    let pat: Vec<&str> = pattern.trim_start_matches('/').split('/').collect();
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    for (i, p) in pat.iter().enumerate() {
        if *p == "**" && i + 1 == pat.len() {
            return true;
        }
        let Some(part) = parts.get(i) else {
            return false;
        };
        let wildcard = *p == "*" || (p.starts_with('{') && p.ends_with('}'));
        if !wildcard && p != part {
            return false;
        }
    }
    pat.len() == parts.len()
}

/// A planned failure from `fail_next`.
pub struct Fault {
    pub method: String,
    pub pattern: String,
    pub status: u16,
    pub remaining: u32,
}

/// The span of Discord's global rate limit.
const GLOBAL_WINDOW: Duration = Duration::from_secs(1);

/// The per-route bucket the `x-ratelimit-*` headers describe: 5 requests per 5 seconds per route
/// and major parameter, like Discord's message sends. Reported, never enforced.
const BUCKET_LIMIT: u32 = 5;
const BUCKET_PERIOD: Duration = Duration::from_secs(5);

/// Discord's global rate limit as a sliding window: a request is accepted when fewer than
/// `per_second` requests were accepted in the second before it. Refused requests do not count,
/// so a client that waits `retry_after` is accepted unless another took the freed place first.
pub struct GlobalLimit {
    pub per_second: u32,
    /// When the requests of the last second were accepted, oldest first.
    accepted: VecDeque<Instant>,
}

impl GlobalLimit {
    pub fn new(per_second: u32) -> GlobalLimit {
        GlobalLimit {
            per_second,
            accepted: VecDeque::new(),
        }
    }

    /// Counts a request handled at `now`, or gives how long until one would be accepted.
    fn admit(&mut self, now: Instant) -> Result<(), Duration> {
        while self
            .accepted
            .front()
            .is_some_and(|&t| now.duration_since(t) >= GLOBAL_WINDOW)
        {
            self.accepted.pop_front();
        }
        let limit = self.per_second as usize;
        if self.accepted.len() < limit {
            self.accepted.push_back(now);
            return Ok(());
        }
        // The place frees when enough of the oldest leave the window to fall below the limit.
        let freeing = self.accepted[self.accepted.len() - limit];
        Err((freeing + GLOBAL_WINDOW).saturating_duration_since(now))
    }
}

/// One bucket's current period, for the `x-ratelimit-*` headers.
pub struct BucketWindow {
    start: Instant,
    used: u32,
}

/// Whether a request counts against the global limit: all do but the interaction endpoints
/// (Rate Limits docs: "Interaction endpoints are not bound to the bot's Global Rate Limit";
/// Receiving and Responding docs, "Endpoints": the callback, the original response and
/// follow-ups). The docs exempt nothing else, so gateway lookups count too.
pub fn counts_against_global_limit(path: &str) -> bool {
    !(path.starts_with("/interactions/")
        || path.starts_with(&format!("/webhooks/{}/", super::world::APPLICATION_ID)))
}

/// REST-side state: the log, planned faults and knobs.
pub struct RestState {
    pub requests: Vec<Recorded>,
    pub faults: Vec<Fault>,
    pub latency: Duration,
    /// How long the bot has to acknowledge an interaction (`None`: no limit).
    pub ack_deadline: Option<Duration>,
    /// 401/403/429 answers, which Discord counts towards a temporary ban.
    pub invalid_requests: u32,
    /// Discord's global rate limit, if a test set one.
    pub global_limit: Option<GlobalLimit>,
    /// 429s answered because of the global limit.
    pub rate_limited: u64,
    /// Per bucket and major parameter, while a global limit is set.
    pub buckets: HashMap<String, BucketWindow>,
    /// Requests a bucket takes per 5 s when the fake enforces buckets (`None`: reported only).
    pub route_limit: Option<u32>,
    /// 429s answered because a bucket was exhausted.
    pub route_limited: u64,
}

impl RestState {
    pub fn new() -> RestState {
        RestState {
            requests: Vec::new(),
            faults: Vec::new(),
            latency: Duration::ZERO,
            ack_deadline: Some(Duration::from_secs(3)),
            invalid_requests: 0,
            global_limit: None,
            rate_limited: 0,
            buckets: HashMap::new(),
            route_limit: None,
            route_limited: 0,
        }
    }
}

/// A file from a multipart request.
pub struct UploadedFile {
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub size: usize,
    pub data: Vec<u8>,
}

/// What the fake answers.
pub struct Answer {
    status: u16,
    body: AnswerBody,
    headers: Vec<(&'static str, String)>,
    note: Option<String>,
    injected: bool,
}

enum AnswerBody {
    Json(Value),
    Html(String),
    Empty,
}

impl Answer {
    fn json(status: u16, body: Value) -> Answer {
        Answer {
            status,
            body: AnswerBody::Json(body),
            headers: Vec::new(),
            note: None,
            injected: false,
        }
    }
    fn ok(body: Value) -> Answer {
        Answer::json(200, body)
    }
    fn no_content() -> Answer {
        Answer {
            status: 204,
            body: AnswerBody::Empty,
            headers: Vec::new(),
            note: None,
            injected: false,
        }
    }
    /// Discord's plain error object.
    fn error(status: u16, code: u64, message: &str) -> Answer {
        Answer::json(status, json!({ "code": code, "message": message }))
    }
    /// 400 "Invalid Form Body" with Discord's nested `errors`.
    fn form(errors: &[SchemaError]) -> Answer {
        Answer::json(
            400,
            json!({
                "code": 50035,
                "message": "Invalid Form Body",
                "errors": openapi::discord_errors_object(errors),
            }),
        )
    }
    /// 400 "Invalid Form Body" for one field.
    fn form_at(path: &[&str], code: &'static str, message: &str) -> Answer {
        let path = path
            .iter()
            .map(|p| match p.parse::<usize>() {
                Ok(i) => PathStep::Index(i),
                Err(_) => PathStep::Key((*p).to_string()),
            })
            .collect();
        Answer::form(&[SchemaError::new(path, code, message.to_string())])
    }
    fn with_note(mut self, note: impl Into<String>) -> Answer {
        self.note = Some(note.into());
        self
    }
    fn json_body(&self) -> Option<Value> {
        match &self.body {
            AnswerBody::Json(v) => Some(v.clone()),
            _ => None,
        }
    }
}

/// Serves REST on an already bound listener until the runtime ends.
pub async fn serve(inner: Arc<Inner>, listener: std::net::TcpListener) {
    let make = make_service_fn(move |_| {
        let inner = inner.clone();
        async move { Ok::<_, Infallible>(service_fn(move |req| handle(inner.clone(), req))) }
    });
    let server = match Server::from_tcp(listener) {
        Ok(builder) => builder.serve(make),
        Err(e) => panic!("fake Discord: cannot serve REST: {e}"),
    };
    if let Err(e) = server.await {
        tracing::warn!("fake Discord REST server stopped: {e}");
    }
}

async fn handle(inner: Arc<Inner>, req: Request<Body>) -> Result<Response<Body>, Infallible> {
    let at = Instant::now();
    let method = req.method().as_str().to_string();
    let full_path = req.uri().path().to_string();
    let query = parse_query(req.uri().query());
    let header = |name: &str| {
        req.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let content_type = header("content-type");
    let authorization = header("authorization");
    let bytes = hyper::body::to_bytes(req.into_body())
        .await
        .unwrap_or_default();

    let mut incoming = Incoming {
        method,
        full_path,
        query,
        content_type,
        authorization,
        bytes: bytes.to_vec(),
        at,
        prevalidated: None,
    };
    incoming.prevalidated = prevalidate(&incoming);
    let gateway_url = inner.gateway_url();
    let (answer, latency) = inner.update(|state| {
        let answer = process(state, &incoming, &gateway_url);
        (answer, state.rest.latency)
    });
    if !latency.is_zero() {
        tokio::time::sleep(latency).await;
    }
    Ok(to_response(answer))
}

fn to_response(answer: Answer) -> Response<Body> {
    let mut builder = Response::builder().status(answer.status);
    for (name, value) in &answer.headers {
        builder = builder.header(*name, value.as_str());
    }
    let response = match answer.body {
        AnswerBody::Json(v) => builder
            .header("content-type", "application/json")
            .body(Body::from(v.to_string())),
        AnswerBody::Html(text) => builder
            .header("content-type", "text/html")
            .body(Body::from(text)),
        AnswerBody::Empty => builder.body(Body::empty()),
    };
    response.unwrap_or_else(|_| Response::new(Body::empty()))
}

fn parse_query(raw: Option<&str>) -> Vec<(String, String)> {
    raw.unwrap_or("")
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) => (k.to_string(), v.to_string()),
            None => (pair.to_string(), String::new()),
        })
        .collect()
}

struct Incoming {
    method: String,
    full_path: String,
    query: Vec<(String, String)>,
    content_type: Option<String>,
    authorization: Option<String>,
    bytes: Vec<u8>,
    at: Instant,
    /// The JSON body checked against the spec before taking the world's lock (checking is pure
    /// and the most expensive step, so requests are checked in parallel). `None` when there was
    /// nothing to check that way.
    prevalidated: Option<Vec<openapi::SchemaError>>,
}

/// Check a JSON body against its operation's schema, outside the lock.
fn prevalidate(incoming: &Incoming) -> Option<Vec<openapi::SchemaError>> {
    if !super::should_check() {
        return Some(Vec::new());
    }
    if !incoming
        .content_type
        .as_deref()
        .is_some_and(|c| c.starts_with("application/json"))
    {
        return None;
    }
    let path = incoming.full_path.strip_prefix("/api/v10")?;
    let body: Value = serde_json::from_slice(&incoming.bytes).ok()?;
    let spec = openapi::spec();
    let matched = spec.match_path(path)?;
    let schema = spec.json_body_schema(&matched.route.template, &incoming.method)?;
    Some(spec.validate(schema, &body))
}

/// Per-request context for the handlers.
struct Ctx<'a> {
    method: &'a str,
    template: String,
    params: Vec<(String, String)>,
    body: Option<Value>,
    files: Vec<UploadedFile>,
    query: &'a [(String, String)],
    gateway_url: &'a str,
}

impl Ctx<'_> {
    /// Records a violation named after the route: `POST /channels/{channel_id}/messages: ...`.
    fn violation(&self, state: &mut State, message: impl Display) {
        state
            .violations
            .push(format!("{} {}: {message}", self.method, self.template));
    }

    /// Records a violation and returns the answer to give.
    fn reject(&self, state: &mut State, message: impl Display, answer: Answer) -> Answer {
        self.violation(state, message);
        answer
    }

    fn param(&self, name: &str) -> &str {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// A snowflake path parameter (0 if it is not one; the spec check has already complained).
    fn id(&self, name: &str) -> u64 {
        self.param(name).parse().unwrap_or(0)
    }

    fn body(&self) -> &Value {
        self.body.as_ref().unwrap_or(&Value::Null)
    }

    fn query(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

fn process(state: &mut State, incoming: &Incoming, gateway_url: &str) -> Answer {
    let handled_at = Instant::now();
    let method = incoming.method.as_str();
    let path = incoming.full_path.strip_prefix("/api/v10").unwrap_or("");
    let mut record = Recorded {
        index: state.rest.requests.len(),
        method: method.to_string(),
        path: if path.is_empty() {
            incoming.full_path.clone()
        } else {
            path.to_string()
        },
        route: None,
        query: incoming.query.clone(),
        body: None,
        files: Vec::new(),
        file_contents: Vec::new(),
        status: 0,
        response: None,
        at: incoming.at,
        handled_at,
        injected: false,
        rate_limited: false,
        note: None,
    };
    let limited = global_limit(state, &record).or_else(|| {
        let refused = route_limit(state, &record);
        if refused.is_some() {
            state.rest.route_limited += 1;
        }
        refused
    });
    let mut answer = match limited {
        Some(refusal) => {
            if refusal
                .note
                .as_deref()
                .is_some_and(|n| n.starts_with("global"))
            {
                state.rest.rate_limited += 1;
            }
            record.rate_limited = true;
            // Recorded for the test to read, but neither checked nor acted on.
            record.route = openapi::spec()
                .match_path(path)
                .map(|m| m.route.template.clone());
            record.body = incoming
                .content_type
                .as_deref()
                .is_some_and(|c| c.starts_with("application/json"))
                .then(|| serde_json::from_slice(&incoming.bytes).ok())
                .flatten();
            refusal
        }
        None => route(state, incoming, path, gateway_url, &mut record),
    };
    if (state.rest.global_limit.is_some() || state.rest.route_limit.is_some())
        && (200..300).contains(&answer.status)
    {
        add_bucket_headers(state, &record, &mut answer);
    }
    record.status = answer.status;
    record.response = answer.json_body();
    record.injected = answer.injected;
    record.note = answer.note.clone();
    if matches!(answer.status, 401 | 403 | 429) {
        state.rest.invalid_requests += 1;
    }
    if super::log_enabled() {
        eprintln!(
            "[fake-discord] REST #{} {} {} -> {}{}",
            record.index,
            record.method,
            record.path,
            record.status,
            record
                .note
                .as_deref()
                .map(|n| format!(" ({n})"))
                .unwrap_or_default()
        );
    }
    state.rest.requests.push(record);
    answer
}

fn route(
    state: &mut State,
    incoming: &Incoming,
    path: &str,
    gateway_url: &str,
    record: &mut Recorded,
) -> Answer {
    let method = incoming.method.as_str();
    if path.is_empty() {
        state.violations.push(format!(
            "{method} {}: request outside /api/v10 (serenity's proxy setting must be the bare base URL)",
            incoming.full_path
        ));
        return Answer::error(404, 0, "404: Not Found");
    }

    // The body: JSON, or multipart with a `payload_json` part.
    let content_type = incoming.content_type.as_deref().unwrap_or("");
    let (body, files) = if incoming.bytes.is_empty() {
        (None, Vec::new())
    } else if content_type.starts_with("application/json") {
        match serde_json::from_slice::<Value>(&incoming.bytes) {
            Ok(v) => (Some(v), Vec::new()),
            Err(e) => {
                state
                    .violations
                    .push(format!("{method} {path}: body is not JSON: {e}"));
                return Answer::error(400, 50109, "The request body contains invalid JSON.");
            }
        }
    } else if content_type.starts_with("multipart/form-data") {
        match parse_multipart(content_type, &incoming.bytes) {
            Ok(parts) => parts,
            Err(e) => {
                state
                    .violations
                    .push(format!("{method} {path}: bad multipart body: {e}"));
                return Answer::error(400, 50035, "Invalid Form Body");
            }
        }
    } else {
        state.violations.push(format!(
            "{method} {path}: unexpected content type {content_type:?} with a body"
        ));
        return Answer::error(400, 50035, "Invalid Form Body");
    };
    record.body = body.clone();
    record.files = files.iter().map(|f| f.filename.clone()).collect();
    record.file_contents = files.iter().map(|f| f.data.clone()).collect();

    let spec = openapi::spec();
    let Some(matched) = spec.match_path(path) else {
        state
            .violations
            .push(format!("{method} {path}: no such route in Discord's API"));
        return Answer::error(404, 0, "404: Not Found");
    };
    let template = matched.route.template.clone();
    record.route = Some(template.clone());
    let ctx = Ctx {
        method,
        template: template.clone(),
        params: matched.params.clone(),
        body,
        files,
        query: &incoming.query,
        gateway_url,
    };

    if !spec.methods(&template).iter().any(|m| m == method) {
        return ctx.reject(
            state,
            format!("method not allowed on {path}"),
            Answer::error(405, 0, "405: Method Not Allowed"),
        );
    }
    let token_route = template.starts_with("/interactions/")
        || template.starts_with("/webhooks/{webhook_id}/{webhook_token}");
    let expected_auth = format!("Bot {TOKEN}");
    if !token_route && incoming.authorization.as_deref() != Some(expected_auth.as_str()) {
        return ctx.reject(
            state,
            format!(
                "missing or wrong Authorization header ({:?})",
                incoming.authorization.as_deref().map(|_| "<redacted>")
            ),
            Answer::error(401, 0, "401: Unauthorized"),
        );
    }
    if let Some(problem) = spec
        .validate_path_params(&matched, method)
        .into_iter()
        .next()
    {
        return ctx.reject(
            state,
            format!("{path}: {problem}"),
            Answer::error(404, 0, "404: Not Found"),
        );
    }
    if let Some(problem) = spec
        .validate_query(&template, method, &incoming.query)
        .into_iter()
        .next()
    {
        return ctx.reject(
            state,
            problem,
            Answer::error(400, 50035, "Invalid Form Body"),
        );
    }
    if let (Some(schema), Some(body)) =
        (spec.json_body_schema(&template, method), ctx.body.as_ref())
    {
        let errors = incoming
            .prevalidated
            .clone()
            .unwrap_or_else(|| spec.validate(schema, body));
        if !errors.is_empty() {
            for e in &errors {
                ctx.violation(state, e);
            }
            return Answer::form(&errors);
        }
    }
    let body_required = spec
        .operation(&template, method)
        .and_then(|op| op.get("requestBody"))
        .is_some_and(|rb| rb["required"] == true);
    if body_required && ctx.body.is_none() {
        return ctx.reject(
            state,
            "request body required",
            Answer::error(400, 50035, "Invalid Form Body"),
        );
    }

    if let Some(answer) = injected_fault(state, method, path) {
        return answer;
    }
    handle_route(state, &ctx)
}

/// Discord's answer to a request over the global limit, or `None` if the request may proceed
/// (then it has been counted).
fn global_limit(state: &mut State, record: &Recorded) -> Option<Answer> {
    let limit = state.rest.global_limit.as_mut()?;
    if !counts_against_global_limit(&record.path) {
        return None;
    }
    let wait = limit.admit(record.handled_at).err()?;
    // Whole milliseconds, rounded up: waiting exactly `retry_after` is enough.
    let millis = u64::try_from(wait.as_nanos().div_ceil(1_000_000))
        .unwrap_or(u64::MAX)
        .max(1);
    let retry_after = Duration::from_millis(millis).as_secs_f64();
    let mut answer = Answer::json(
        429,
        json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": true, "code": 0 }),
    );
    answer.headers = vec![
        ("retry-after", millis.div_ceil(1000).to_string()),
        ("x-ratelimit-global", "true".to_string()),
        ("x-ratelimit-scope", "global".to_string()),
    ];
    Some(answer.with_note(format!("global rate limit, retry after {retry_after} s")))
}

/// A request's bucket (Rate Limits docs: per route, "non-inclusive of top-level resources in
/// the path", which split it): its `X-RateLimit-Bucket` id and its key with the top-level
/// resources.
fn bucket_of(record: &Recorded) -> Option<(String, String)> {
    let template = openapi::spec()
        .match_path(&record.path)?
        .route
        .template
        .clone();
    // Discord's bucket ids are opaque hashes per route; the major parameter splits them.
    let route = format!("{} {template}", record.method);
    let major: Vec<&str> = template
        .split('/')
        .zip(record.path.split('/'))
        .filter(|(t, _)| {
            matches!(
                *t,
                "{channel_id}"
                    | "{guild_id}"
                    | "{webhook_id}"
                    | "{webhook_token}"
                    | "{interaction_id}"
            )
        })
        .map(|(_, p)| p)
        .collect();
    let key = format!("{route} {}", major.join("/"));
    Some((route, key))
}

/// With buckets enforced, a 429 for a request whose bucket is used up in its period, as
/// Discord answers it (scope `user`, `retry_after` until the reset); the request is not acted on.
fn route_limit(state: &mut State, record: &Recorded) -> Option<Answer> {
    let limit = state.rest.route_limit?;
    if !counts_against_global_limit(&record.path) {
        return None;
    }
    let (route, key) = bucket_of(record)?;
    let now = record.handled_at;
    let bucket = state.rest.buckets.get(&key)?;
    if now.duration_since(bucket.start) >= BUCKET_PERIOD || bucket.used < limit {
        return None;
    }
    let wait = (bucket.start + BUCKET_PERIOD).saturating_duration_since(now);
    let retry_after = (wait.as_secs_f64() * 1000.0).ceil() / 1000.0;
    let mut answer = Answer::json(
        429,
        json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false, "code": 0 }),
    );
    answer.headers = vec![
        ("retry-after", (retry_after.ceil() as u64).to_string()),
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", "0".to_string()),
        ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
        ("x-ratelimit-bucket", format!("{:016x}", fnv1a(&route))),
        ("x-ratelimit-scope", "user".to_string()),
    ];
    Some(answer.with_note(format!("bucket exhausted, retry after {retry_after} s")))
}

/// Adds Discord's `x-ratelimit-*` headers for the request's bucket. Unless buckets are enforced
/// they are plausible values that never ask a client to wait (`remaining` is at least 1).
fn add_bucket_headers(state: &mut State, record: &Recorded, answer: &mut Answer) {
    let Some((route, key)) = bucket_of(record) else {
        return;
    };
    let enforced = state.rest.route_limit;
    let limit = enforced.unwrap_or(BUCKET_LIMIT);
    let now = record.handled_at;
    let buckets = &mut state.rest.buckets;
    if buckets.len() > 10_000 {
        buckets.retain(|_, b| now.duration_since(b.start) < BUCKET_PERIOD);
    }
    let bucket = buckets.entry(key).or_insert(BucketWindow {
        start: now,
        used: 0,
    });
    if now.duration_since(bucket.start) >= BUCKET_PERIOD {
        bucket.start = now;
        bucket.used = 0;
    }
    bucket.used += 1;
    let remaining = match enforced {
        Some(_) => limit.saturating_sub(bucket.used),
        None => limit.saturating_sub(bucket.used).max(1),
    };
    let reset_after = (bucket.start + BUCKET_PERIOD).saturating_duration_since(now);
    let reset = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        + reset_after;
    answer.headers.extend([
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.to_string()),
        ("x-ratelimit-reset", format!("{:.3}", reset.as_secs_f64())),
        (
            "x-ratelimit-reset-after",
            format!("{:.3}", reset_after.as_secs_f64()),
        ),
        ("x-ratelimit-bucket", format!("{:016x}", fnv1a(&route))),
    ]);
}

/// FNV-1a: a hash that stays the same across runs and Rust versions (unlike `DefaultHasher`).
fn fnv1a(text: &str) -> u64 {
    text.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// The answer planned by `fail_next` for this request, if any.
fn injected_fault(state: &mut State, method: &str, path: &str) -> Option<Answer> {
    let fault = state.rest.faults.iter_mut().find(|f| {
        f.remaining > 0 && method_matches(&f.method, method) && path_matches(&f.pattern, path)
    })?;
    fault.remaining -= 1;
    let status = fault.status;
    state.rest.faults.retain(|f| f.remaining > 0);
    let mut answer = match status {
        429 => {
            let retry_after = 0.05;
            let reset = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_secs_f64() + retry_after;
            let mut a = Answer::json(
                429,
                json!({ "message": "You are being rate limited.", "retry_after": retry_after, "global": false, "code": 0 }),
            );
            a.headers = vec![
                ("retry-after", "1".to_string()),
                ("x-ratelimit-limit", "5".to_string()),
                ("x-ratelimit-remaining", "0".to_string()),
                ("x-ratelimit-reset", format!("{reset:.3}")),
                ("x-ratelimit-reset-after", format!("{retry_after:.3}")),
                ("x-ratelimit-bucket", "f4k3b0ck3t".to_string()),
                ("x-ratelimit-scope", "user".to_string()),
            ];
            a
        }
        502 => Answer {
            status,
            body: AnswerBody::Html("<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>cloudflare</center></body></html>".into()),
            headers: Vec::new(),
            note: None,
            injected: true,
        },
        400 => Answer::error(400, 50035, "Invalid Form Body"),
        401 => Answer::error(401, 0, "401: Unauthorized"),
        403 => Answer::error(403, 50013, "Missing Permissions"),
        404 => Answer::error(404, 0, "404: Not Found"),
        s if s >= 500 => Answer::error(s, 0, &format!("{s}: Internal Server Error")),
        s => Answer::error(s, 0, "injected failure"),
    };
    answer.injected = true;
    Some(answer.with_note(format!("injected {status}")))
}

fn handle_route(state: &mut State, ctx: &Ctx) -> Answer {
    let template = ctx.template.as_str();
    match (ctx.method, template) {
        ("GET", "/gateway") => Answer::ok(json!({ "url": ctx.gateway_url })),
        ("GET", "/gateway/bot") => Answer::ok(json!({
            "url": ctx.gateway_url,
            "shards": 1,
            "session_start_limit": { "total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1 },
        })),
        ("GET", "/users/@me") => Answer::ok(state.world.current_user_json()),
        ("GET", "/users/{user_id}") => match state.world.users.contains_key(&ctx.id("user_id")) {
            true => Answer::ok(state.world.user_json(ctx.id("user_id"))),
            false => ctx.reject(state, format!("unknown user {}", ctx.param("user_id")), Answer::error(404, 10013, "Unknown User")),
        },
        ("GET", "/oauth2/applications/@me" | "/applications/@me") => Answer::ok(state.world.application_json()),
        ("GET", "/users/@me/guilds") => {
            let guilds: Vec<Value> = state
                .world
                .guilds
                .values()
                .filter(|g| g.members.contains_key(&BOT_USER_ID))
                .map(|g| {
                    json!({
                        "id": g.id.to_string(),
                        "name": g.name,
                        "icon": null,
                        "banner": null,
                        "owner": false,
                        "permissions": state.world.permissions(g.id, BOT_USER_ID).to_string(),
                        "features": [],
                    })
                })
                .collect();
            Answer::ok(guilds.into())
        }

        ("GET" | "PUT" | "POST", "/applications/{application_id}/commands")
        | ("GET" | "PUT" | "POST", "/applications/{application_id}/guilds/{guild_id}/commands")
        | (
            "GET" | "PATCH" | "DELETE",
            "/applications/{application_id}/commands/{command_id}"
            | "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}",
        ) => commands(state, ctx),

        ("GET", "/applications/{application_id}/guilds/{guild_id}/commands/permissions") => {
            command_permissions(state, ctx, None)
        }
        ("GET" | "PUT", "/applications/{application_id}/guilds/{guild_id}/commands/{command_id}/permissions") => {
            if ctx.method == "PUT" {
                // Application Commands docs, "Permissions": "Command permissions can only be
                // updated using a Bearer token. Authenticating with a bot token will result in
                // an error."
                return ctx.reject(
                    state,
                    "command permissions cannot be edited with a bot token (Application Commands docs, Permissions)",
                    Answer::error(401, 0, "401: Unauthorized"),
                );
            }
            command_permissions(state, ctx, Some(ctx.id("command_id")))
        }
        ("GET" | "POST", "/channels/{channel_id}/messages") => channel_messages(state, ctx),
        ("GET" | "PATCH" | "DELETE", "/channels/{channel_id}/messages/{message_id}") => one_message(state, ctx),
        ("POST", "/channels/{channel_id}/messages/{message_id}/crosspost") => crosspost(state, ctx),
        ("PUT" | "DELETE", "/channels/{channel_id}/pins/{message_id}" | "/channels/{channel_id}/messages/pins/{message_id}") => {
            pin(state, ctx)
        }
        ("GET", "/channels/{channel_id}/pins") => pins(state, ctx),
        ("PUT" | "DELETE", "/channels/{channel_id}/messages/{message_id}/reactions/{emoji_name}/@me") => react(state, ctx),
        ("POST", "/channels/{channel_id}/typing") => match live_channel(state, ctx, ctx.id("channel_id")) {
            Ok(_) => Answer::no_content(),
            Err(a) => a,
        },
        ("GET" | "PATCH" | "DELETE", "/channels/{channel_id}") => channel(state, ctx),
        ("POST", "/channels/{channel_id}/threads") => create_thread(state, ctx, None),
        ("POST", "/channels/{channel_id}/messages/{message_id}/threads") => {
            create_thread(state, ctx, Some(ctx.id("message_id")))
        }
        ("GET", "/channels/{channel_id}/threads/archived/public" | "/channels/{channel_id}/threads/archived/private") => {
            archived_threads(state, ctx)
        }
        ("GET", "/channels/{channel_id}/thread-members") => thread_members_list(state, ctx),
        (
            "GET" | "PUT" | "DELETE",
            "/channels/{channel_id}/thread-members/{user_id}" | "/channels/{channel_id}/thread-members/@me",
        ) => thread_member(state, ctx),
        ("POST", "/users/@me/channels") => create_dm(state, ctx),

        ("POST", "/interactions/{interaction_id}/{interaction_token}/callback") => interaction_callback(state, ctx),
        (
            _,
            "/webhooks/{webhook_id}/{webhook_token}"
            | "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
            | "/webhooks/{webhook_id}/{webhook_token}/messages/{message_id}",
        ) => interaction_webhook(state, ctx),

        ("GET", "/guilds/{guild_id}") => with_guild(state, ctx, |s, g| Answer::ok(s.world.partial_guild_json(g))),
        ("GET" | "POST", "/guilds/{guild_id}/channels") => guild_channels(state, ctx),
        ("GET", "/guilds/{guild_id}/roles") => with_guild(state, ctx, |s, g| {
            let roles: Vec<Value> = s.world.roles.values().filter(|r| r.guild_id == g.id).map(|r| s.world.role_json(r)).collect();
            Answer::ok(roles.into())
        }),
        ("GET", "/guilds/{guild_id}/members") => with_guild(state, ctx, |s, g| {
            let limit = ctx.query("limit").and_then(|l| l.parse().ok()).unwrap_or(1usize);
            let members: Vec<Value> =
                g.members.keys().take(limit).map(|&u| s.world.member_json(g.id, u, true, false)).collect();
            Answer::ok(members.into())
        }),
        ("GET", "/guilds/{guild_id}/members/{user_id}") => {
            let user = ctx.id("user_id");
            match state.world.guilds.get(&ctx.id("guild_id")).map(|g| g.members.contains_key(&user)) {
                Some(true) => Answer::ok(state.world.member_json(ctx.id("guild_id"), user, true, false)),
                Some(false) => Answer::error(404, 10007, "Unknown Member").with_note("not a member"),
                None => ctx.reject(state, format!("unknown guild {}", ctx.param("guild_id")), Answer::error(404, 10004, "Unknown Guild")),
            }
        }
        ("PUT" | "DELETE", "/guilds/{guild_id}/members/{user_id}/roles/{role_id}") => member_role(state, ctx),
        ("GET", "/guilds/{guild_id}/threads/active") => with_guild(state, ctx, |s, g| {
            let threads: Vec<Value> = s
                .world
                .channels
                .values()
                .filter(|c| c.guild_id == Some(g.id) && !c.deleted && c.thread.as_ref().is_some_and(|t| !t.archived))
                .map(|c| s.world.channel_json(c))
                .collect();
            Answer::ok(json!({ "threads": threads, "members": [] }))
        }),

        _ => ctx.reject(
            state,
            "the fake Discord does not implement this route yet (extend tests/fake_discord/rest.rs)",
            Answer::error(501, 0, "not implemented by the fake"),
        ),
    }
}

// ----- helpers for world lookups -----

/// The channel if it is live; a 404 otherwise (a violation unless a test deleted it).
fn live_channel(state: &mut State, ctx: &Ctx, id: u64) -> Result<u64, Answer> {
    match state.world.channels.get(&id) {
        Some(c) if !c.deleted => Ok(id),
        Some(c) if c.deleted_by_world => {
            Err(Answer::error(404, 10003, "Unknown Channel")
                .with_note("channel deleted by the test"))
        }
        Some(_) => Err(ctx.reject(
            state,
            format!("channel {id} was deleted by the bot"),
            Answer::error(404, 10003, "Unknown Channel"),
        )),
        None => Err(ctx.reject(
            state,
            format!("unknown channel {id}"),
            Answer::error(404, 10003, "Unknown Channel"),
        )),
    }
}

/// The message if it is live and in `channel_id`; a 404 otherwise.
fn live_message(state: &mut State, ctx: &Ctx, channel_id: u64, id: u64) -> Result<u64, Answer> {
    let unknown = Answer::error(404, 10008, "Unknown Message");
    match state.world.messages.get(&id) {
        Some(m) if m.channel_id != channel_id => Err(ctx.reject(
            state,
            format!("message {id} is not in channel {channel_id}"),
            unknown,
        )),
        Some(m) if m.deleted == Some(Deletion::ByWorld) => {
            Err(unknown.with_note("message deleted by the test"))
        }
        Some(m) if m.deleted == Some(Deletion::ByBot) => Err(ctx.reject(
            state,
            format!("message {id} was deleted by the bot"),
            unknown,
        )),
        Some(_) => Ok(id),
        None => Err(ctx.reject(state, format!("unknown message {id}"), unknown)),
    }
}

fn with_guild(
    state: &mut State,
    ctx: &Ctx,
    f: impl FnOnce(&State, &super::world::Guild) -> Answer,
) -> Answer {
    let id = ctx.id("guild_id");
    match state.world.guilds.get(&id) {
        Some(g) => f(state, g),
        None => ctx.reject(
            state,
            format!("unknown guild {id}"),
            Answer::error(404, 10004, "Unknown Guild"),
        ),
    }
}

/// Discord's answer to a request the bot lacks a permission for (403, code 50013).
fn missing_permissions(bits: u64) -> Answer {
    Answer::error(403, 50013, "Missing Permissions")
        .with_note(format!("bot lacks {}", super::world::World::names(bits)))
}

/// Discord's answer to a request about a channel the bot cannot see (403, code 50001).
fn missing_access() -> Answer {
    Answer::error(403, 50001, "Missing Access").with_note("bot lacks VIEW_CHANNEL")
}

// ----- application commands -----

fn commands(state: &mut State, ctx: &Ctx) -> Answer {
    let app = ctx.id("application_id");
    if app != APPLICATION_ID {
        return ctx.reject(
            state,
            format!("application id {app} is not the bot's ({APPLICATION_ID})"),
            Answer::error(404, 10002, "Unknown Application"),
        );
    }
    let guild = (!ctx.param("guild_id").is_empty()).then(|| ctx.id("guild_id"));
    if let Some(g) = guild {
        if !state.world.guilds.contains_key(&g) {
            return ctx.reject(
                state,
                format!("unknown guild {g}"),
                Answer::error(404, 10004, "Unknown Guild"),
            );
        }
    }
    let list = match guild {
        Some(g) => state
            .world
            .guild_commands
            .get(&g)
            .cloned()
            .unwrap_or_default(),
        None => state.world.global_commands.clone(),
    };
    let command_id = ctx.param("command_id").to_string();
    let find = |list: &[Value]| list.iter().position(|c| c["id"] == command_id.as_str());

    let new_list = match ctx.method {
        "GET" if command_id.is_empty() => return Answer::ok(list.into()),
        "GET" => {
            return match find(&list) {
                Some(i) => Answer::ok(list[i].clone()),
                None => ctx.reject(
                    state,
                    format!("unknown command {command_id}"),
                    Answer::error(404, 10063, "Unknown application command"),
                ),
            };
        }
        "PUT" => {
            let defs = ctx.body().as_array().cloned().unwrap_or_default();
            if let Err(a) = check_command_set(state, ctx, &defs) {
                return a;
            }
            defs.iter()
                .map(|d| command_json(state, d, guild, &list))
                .collect::<Vec<_>>()
        }
        "POST" => {
            let def = ctx.body().clone();
            let mut new_list = list.clone();
            let kind = def["type"].as_u64().unwrap_or(1);
            new_list
                .retain(|c| !(c["name"] == def["name"] && c["type"].as_u64().unwrap_or(1) == kind));
            new_list.push(def);
            if let Err(a) = check_command_set(state, ctx, &new_list) {
                return a;
            }
            let last = new_list.pop().unwrap_or_default();
            let cmd = command_json(state, &last, guild, &list);
            new_list.push(cmd.clone());
            store_commands(state, guild, new_list);
            return Answer::json(201, cmd);
        }
        "PATCH" => {
            let Some(i) = find(&list) else {
                return ctx.reject(
                    state,
                    format!("unknown command {command_id}"),
                    Answer::error(404, 10063, "Unknown application command"),
                );
            };
            let mut merged = list.clone();
            if let (Value::Object(target), Value::Object(patch)) = (&mut merged[i], ctx.body()) {
                for (k, v) in patch {
                    target.insert(k.clone(), v.clone());
                }
            }
            if let Err(a) = check_command_set(state, ctx, &merged) {
                return a;
            }
            merged[i]["version"] = state.world.next_id().to_string().into();
            let cmd = merged[i].clone();
            store_commands(state, guild, merged);
            return Answer::ok(cmd);
        }
        "DELETE" => {
            let Some(i) = find(&list) else {
                return ctx.reject(
                    state,
                    format!("unknown command {command_id}"),
                    Answer::error(404, 10063, "Unknown application command"),
                );
            };
            let mut new_list = list;
            new_list.remove(i);
            store_commands(state, guild, new_list);
            return Answer::no_content();
        }
        _ => return Answer::error(405, 0, "405: Method Not Allowed"),
    };
    store_commands(state, guild, new_list.clone());
    Answer::ok(new_list.into())
}

fn store_commands(state: &mut State, guild: Option<u64>, list: Vec<Value>) {
    match guild {
        Some(g) => {
            state.world.guild_commands.insert(g, list);
        }
        None => state.world.global_commands = list,
    }
    state.world.commands_registered = true;
}

/// The command permissions an admin set in a guild (Application Commands docs, "Get Guild
/// Application Command Permissions"): one object per command (or the application, for
/// app-level entries) that has any; for one command, 404 10066 when it has none.
fn command_permissions(state: &mut State, ctx: &Ctx, command: Option<u64>) -> Answer {
    with_guild(state, ctx, |s, g| {
        let object = |target: u64, list: &[super::world::CommandPermission]| {
            json!({
                "id": target.to_string(),
                "application_id": APPLICATION_ID.to_string(),
                "guild_id": g.id.to_string(),
                "permissions": list.iter().map(|e| json!({ "id": e.id.to_string(), "type": e.kind, "permission": e.allowed })).collect::<Vec<_>>(),
            })
        };
        let all = &s.world.command_permissions;
        match command {
            Some(id) => match all.get(&(g.id, id)) {
                Some(list) => Answer::ok(object(id, list)),
                None => Answer::error(404, 10066, "Unknown application command permissions")
                    .with_note("none set"),
            },
            None => Answer::ok(
                all.iter()
                    .filter(|((guild, _), _)| *guild == g.id)
                    .map(|((_, target), list)| object(*target, list))
                    .collect::<Vec<_>>()
                    .into(),
            ),
        }
    })
}

/// A command as Discord stores and returns it; keeps the id of an existing command of the same
/// name and type, as Discord's bulk overwrite does.
fn command_json(state: &mut State, def: &Value, guild: Option<u64>, existing: &[Value]) -> Value {
    let kind = def["type"].as_u64().unwrap_or(1);
    let id = existing
        .iter()
        .find(|c| c["name"] == def["name"] && c["type"].as_u64().unwrap_or(1) == kind)
        .and_then(|c| c["id"].as_str().map(str::to_string))
        .unwrap_or_else(|| state.world.next_id().to_string());
    let mut cmd = json!({
        "id": id,
        "application_id": APPLICATION_ID.to_string(),
        "version": state.world.next_id().to_string(),
        "type": kind,
        "name": def["name"],
        "name_localizations": def.get("name_localizations").cloned().unwrap_or(Value::Null),
        "description": def.get("description").cloned().unwrap_or_else(|| "".into()),
        "description_localizations": def.get("description_localizations").cloned().unwrap_or(Value::Null),
        "default_member_permissions": match &def["default_member_permissions"] {
            Value::Null => Value::Null,
            Value::String(s) => Value::String(s.clone()),
            other => Value::String(other.to_string()),
        },
        "dm_permission": def.get("dm_permission").cloned().unwrap_or(Value::Bool(true)),
        "nsfw": def.get("nsfw").cloned().unwrap_or(Value::Bool(false)),
        "integration_types": def.get("integration_types").cloned().filter(|v| !v.is_null()).unwrap_or_else(|| json!([0])),
        "contexts": def.get("contexts").cloned().unwrap_or(Value::Null),
    });
    if let Some(options) = def.get("options").filter(|o| o.is_array()) {
        cmd["options"] = options.clone();
    }
    if let Some(g) = guild {
        cmd["guild_id"] = g.to_string().into();
    }
    cmd
}

/// Discord's rules for command names: lower case letters, digits, `-`, `_` and `'`.
fn bad_command_name(name: &str) -> Option<String> {
    if name.chars().any(|c| c.is_uppercase()) {
        return Some(format!("{name:?} has upper-case letters"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_alphanumeric() || matches!(c, '-' | '_' | '\'')))
    {
        return Some(format!("{name:?} contains {c:?}"));
    }
    None
}

/// Checks a full command set with Discord's rules beyond the schema; a violation + 400 if not.
fn check_command_set(state: &mut State, ctx: &Ctx, defs: &[Value]) -> Result<(), Answer> {
    let mut problems: Vec<(Vec<String>, String)> = Vec::new();
    let mut seen = BTreeSet::new();
    let locales = valid_locales();
    for (i, def) in defs.iter().enumerate() {
        let at = vec![i.to_string()];
        let kind = def["type"].as_u64().unwrap_or(1);
        let name = def["name"].as_str().unwrap_or("");
        if !seen.insert((kind, name.to_string())) {
            problems.push((at.clone(), format!("duplicate command name {name:?}")));
        }
        if kind == 1 {
            if let Some(p) = bad_command_name(name) {
                problems.push((with(&at, "name"), p));
            }
            if def["description"].as_str().unwrap_or("").is_empty() {
                problems.push((
                    with(&at, "description"),
                    "chat commands need a description".into(),
                ));
            }
            check_options(&def["options"], &with(&at, "options"), 0, &mut problems);
        } else if def["description"].as_str().is_some_and(|d| !d.is_empty()) {
            problems.push((
                with(&at, "description"),
                "context-menu commands must not have a description".into(),
            ));
        }
        check_localizations(def, &at, kind == 1, &locales, &mut problems);
    }
    if problems.is_empty() {
        return Ok(());
    }
    let errors: Vec<SchemaError> = problems
        .into_iter()
        .map(|(path, message)| {
            let path = path
                .iter()
                .map(|p| {
                    p.parse::<usize>()
                        .map_or_else(|_| PathStep::Key(p.clone()), PathStep::Index)
                })
                .collect();
            SchemaError::new(path, "APPLICATION_COMMAND_INVALID", message)
        })
        .collect();
    for e in &errors {
        ctx.violation(state, e);
    }
    Err(Answer::form(&errors))
}

fn with(path: &[String], step: &str) -> Vec<String> {
    let mut p = path.to_vec();
    p.push(step.to_string());
    p
}

fn check_options(
    options: &Value,
    at: &[String],
    depth: usize,
    problems: &mut Vec<(Vec<String>, String)>,
) {
    let Some(options) = options.as_array() else {
        return;
    };
    let mut optional_seen = false;
    let mut names = BTreeSet::new();
    for (i, o) in options.iter().enumerate() {
        let here = with(at, &i.to_string());
        let name = o["name"].as_str().unwrap_or("");
        let kind = o["type"].as_u64().unwrap_or(0);
        if !names.insert(name.to_string()) {
            problems.push((
                with(&here, "name"),
                format!("duplicate option name {name:?}"),
            ));
        }
        if let Some(p) = bad_command_name(name) {
            problems.push((with(&here, "name"), p));
        }
        if kind == 1 || kind == 2 {
            let allowed_here = if kind == 2 { depth == 0 } else { depth <= 1 };
            if !allowed_here {
                problems.push((here.clone(), "sub-command nested too deep".into()));
            }
            check_options(&o["options"], &with(&here, "options"), depth + 1, problems);
            continue;
        }
        let required = o["required"] == true;
        if required && optional_seen {
            problems.push((
                here.clone(),
                "required options must come before optional ones".into(),
            ));
        }
        optional_seen |= !required;
        let has_choices = o["choices"].as_array().is_some_and(|c| !c.is_empty());
        if has_choices && o["autocomplete"] == true {
            problems.push((
                here.clone(),
                "an option cannot have both choices and autocomplete".into(),
            ));
        }
    }
}

fn check_localizations(
    def: &Value,
    at: &[String],
    chat: bool,
    locales: &[String],
    problems: &mut Vec<(Vec<String>, String)>,
) {
    for field in ["name_localizations", "description_localizations"] {
        let Some(map) = def[field].as_object() else {
            continue;
        };
        for (locale, text) in map {
            if !locales.iter().any(|l| l == locale) {
                problems.push((
                    with(at, field),
                    format!("{locale:?} is not a Discord locale"),
                ));
            }
            if chat && field == "name_localizations" {
                if let Some(p) = text.as_str().and_then(bad_command_name) {
                    problems.push((with(&with(at, field), locale), p));
                }
            }
        }
    }
    if let Some(options) = def["options"].as_array() {
        for (i, o) in options.iter().enumerate() {
            check_localizations(
                o,
                &with(&with(at, "options"), &i.to_string()),
                chat,
                locales,
                problems,
            );
        }
    }
}

/// The locales Discord knows, from the spec's `AvailableLocalesEnum`.
pub fn valid_locales() -> Vec<String> {
    openapi::spec().locales()
}

// ----- messages -----

/// How a new message comes about.
#[derive(Default)]
struct Authoring {
    /// Sent through an interaction (response or follow-up).
    interaction: Option<u64>,
    /// Discord's message type (0 default, 19 reply, 20 chat command response).
    kind: u64,
    extra_flags: u64,
    /// Deferred responses start empty.
    allow_empty: bool,
    /// Use this id (forum starter messages share the thread's id).
    id: Option<u64>,
}

fn channel_messages(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    if ctx.method == "GET" {
        // Get Channel Messages (Message docs): VIEW_CHANNEL is needed; without
        // READ_MESSAGE_HISTORY "no messages will be returned".
        if !state.world.bot_can(channel_id, perm::VIEW_CHANNEL) {
            return missing_access();
        }
        if !state.world.bot_can(channel_id, perm::READ_MESSAGE_HISTORY) {
            return Answer::ok(json!([])).with_note("bot lacks READ_MESSAGE_HISTORY: no messages");
        }
        let limit = ctx
            .query("limit")
            .and_then(|l| l.parse().ok())
            .unwrap_or(50usize);
        let before = ctx
            .query("before")
            .and_then(|b| b.parse::<u64>().ok())
            .unwrap_or(u64::MAX);
        let after = ctx
            .query("after")
            .and_then(|a| a.parse::<u64>().ok())
            .unwrap_or(0);
        let list: Vec<Value> = state
            .world
            .messages
            .iter()
            .rev()
            .filter(|(id, m)| {
                m.channel_id == channel_id && m.deleted.is_none() && **id < before && **id > after
            })
            .filter(|(_, m)| m.value["flags"].as_u64().unwrap_or(0) & FLAG_EPHEMERAL == 0)
            .take(limit)
            .map(|(_, m)| m.value.clone())
            .collect();
        return Answer::ok(list.into());
    }

    let body = ctx.body().clone();
    // Discord's `enforce_nonce`: a repeat within minutes returns the first message.
    let nonce = match &body["nonce"] {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    };
    if let (Some(nonce), true) = (&nonce, body["enforce_nonce"] == true) {
        if let Some((existing, when)) = state.world.nonces.get(&(channel_id, nonce.clone())) {
            if when.elapsed() < NONCE_WINDOW {
                let existing = *existing;
                if let Some(m) = state.world.messages.get(&existing) {
                    return Answer::ok(m.value.clone()).with_note(format!(
                        "nonce {nonce:?}: returned existing message {existing}"
                    ));
                }
            }
        }
    }

    let channel = state.world.channel(channel_id).map(|c| {
        (
            c.kind,
            c.recipient,
            c.thread.as_ref().map(|t| (t.archived, t.locked)),
        )
    });
    let Some((kind, recipient, thread)) = channel else {
        return Answer::error(404, 10003, "Unknown Channel");
    };
    if kind == channel_type::GUILD_FORUM || kind == channel_type::GUILD_CATEGORY {
        return ctx.reject(
            state,
            format!("cannot send messages to a channel of type {kind} (forums take posts via POST /channels/{{id}}/threads)"),
            Answer::error(400, 50008, "Cannot send messages in a non-text channel"),
        );
    }
    if let Some(user) = recipient {
        // A DM reaches only a user who shares a server with the bot and allows DMs from its
        // members; the DM channel itself opens regardless (Channel docs, DM channels; Discord
        // answers 50007 "Cannot send messages to this user").
        let shares_a_server = state
            .world
            .guilds
            .values()
            .any(|g| g.members.contains_key(&user) && g.members.contains_key(&BOT_USER_ID));
        if !shares_a_server {
            return Answer::error(403, 50007, "Cannot send messages to this user")
                .with_note("user shares no server with the bot");
        }
        if state.world.users.get(&user).is_some_and(|u| u.dms_closed) {
            return Answer::error(403, 50007, "Cannot send messages to this user")
                .with_note("user has DMs closed");
        }
    }
    let needed = if thread.is_some() {
        perm::SEND_MESSAGES_IN_THREADS
    } else {
        perm::SEND_MESSAGES
    };
    if recipient.is_none() && !state.world.bot_can(channel_id, perm::VIEW_CHANNEL) {
        return missing_access();
    }
    if !state.world.bot_can(channel_id, needed) {
        return missing_permissions(needed);
    }
    // Create Message (Message docs): a reply needs READ_MESSAGE_HISTORY; files need
    // ATTACH_FILES (Permissions docs: "Allows for uploading images and files").
    if body["message_reference"].is_object()
        && !state.world.bot_can(channel_id, perm::READ_MESSAGE_HISTORY)
    {
        return missing_permissions(perm::READ_MESSAGE_HISTORY);
    }
    if !ctx.files.is_empty() && !state.world.bot_can(channel_id, perm::ATTACH_FILES) {
        return missing_permissions(perm::ATTACH_FILES);
    }
    if let Some((archived, locked)) = thread {
        if locked && !state.world.bot_can(channel_id, perm::MANAGE_THREADS) {
            return Answer::error(403, 50083, "Thread is archived").with_note("thread locked");
        }
        if archived {
            unarchive(state, channel_id);
        }
    }
    let flags = body["flags"].as_u64().unwrap_or(0);
    if flags & FLAG_EPHEMERAL != 0 {
        return ctx.reject(
            state,
            "ephemeral flag is only valid on interaction responses",
            Answer::form_at(&["flags"], "MESSAGE_FLAGS_INVALID", "Invalid flags"),
        );
    }
    let reply = body["message_reference"].is_object();
    let authoring = Authoring {
        kind: if reply { 19 } else { 0 },
        ..Authoring::default()
    };
    match create_message(state, ctx, channel_id, &body, authoring) {
        Ok(id) => {
            if let (Some(nonce), true) = (nonce, body["enforce_nonce"] == true) {
                state
                    .world
                    .nonces
                    .insert((channel_id, nonce), (id, Instant::now()));
            }
            Answer::ok(state.world.messages[&id].value.clone())
        }
        Err(a) => a,
    }
}

/// Sends a thread back to active (sending in an archived thread does this on Discord).
pub(crate) fn unarchive(state: &mut State, thread_id: u64) {
    if let Some(t) = state
        .world
        .channels
        .get_mut(&thread_id)
        .and_then(|c| c.thread.as_mut())
    {
        t.archived = false;
        t.archive_timestamp = now_iso();
    }
    if let Some(c) = state.world.channels.get(&thread_id) {
        let v = state.world.channel_json(c);
        dispatch(state, "THREAD_UPDATE", v);
    }
}

/// Number of characters Discord counts towards the 6,000 embed limit.
fn embed_chars(embed: &Value) -> usize {
    let len = |v: &Value| v.as_str().map_or(0, |s| s.chars().count());
    let mut n = len(&embed["title"])
        + len(&embed["description"])
        + len(&embed["footer"]["text"])
        + len(&embed["author"]["name"]);
    if let Some(fields) = embed["fields"].as_array() {
        n += fields
            .iter()
            .map(|f| len(&f["name"]) + len(&f["value"]))
            .sum::<usize>();
    }
    n
}

/// Every `custom_id` in a component tree.
pub fn collect_custom_ids(components: &Value, out: &mut Vec<String>) {
    match components {
        Value::Array(items) => items.iter().for_each(|c| collect_custom_ids(c, out)),
        Value::Object(map) => {
            if let Some(id) = map.get("custom_id").and_then(Value::as_str) {
                out.push(id.to_string());
            }
            for key in ["components", "accessory", "component"] {
                if let Some(child) = map.get(key) {
                    collect_custom_ids(child, out);
                }
            }
        }
        _ => {}
    }
}

/// What is wrong with a message's components outside components v2, which the schema (made
/// for v2's 40 components) does not say (Components reference, "Action Row" and "Legacy
/// Message Component Behavior"): at most 5 top-level action rows; each holds up to 5 buttons
/// or a single select.
pub fn legacy_layout_problem(components: &Value) -> Option<String> {
    let rows = components.as_array()?;
    if rows.len() > 5 {
        return Some(format!(
            "{} action rows; a message without IS_COMPONENTS_V2 takes 5",
            rows.len()
        ));
    }
    for (i, row) in rows.iter().enumerate() {
        if row["type"] != 1 {
            return Some(format!(
                "top-level component {i} is type {}, not an action row",
                row["type"]
            ));
        }
        let children = row["components"]
            .as_array()
            .map(Vec::as_slice)
            .unwrap_or_default();
        let selects = children
            .iter()
            .filter(|c| matches!(c["type"].as_u64(), Some(3 | 5..=8)))
            .count();
        if selects > 0 && children.len() > 1 {
            return Some(format!(
                "action row {i} holds a select beside other components; a select fills its row"
            ));
        }
        if children.len() > 5 {
            return Some(format!(
                "action row {i} holds {} buttons; a row takes 5",
                children.len()
            ));
        }
    }
    None
}

/// Discord's message rules the schema cannot express. `merged` is the message after the change.
fn check_message_rules(
    state: &mut State,
    ctx: &Ctx,
    body: &Value,
    merged: &Value,
    allow_empty: bool,
) -> Result<(), Answer> {
    if let Some(content) = body["content"].as_str() {
        let n = content.chars().count();
        if n > 2000 {
            return Err(ctx.reject(
                state,
                format!("body.content: string longer than 2000 (got {n} chars)"),
                Answer::form_at(
                    &["content"],
                    "BASE_TYPE_MAX_LENGTH",
                    "Must be 2000 or fewer in length.",
                ),
            ));
        }
    }
    if let Some(embeds) = body["embeds"].as_array() {
        let total: usize = embeds.iter().map(embed_chars).sum();
        if total > 6000 {
            return Err(ctx.reject(
                state,
                format!("body.embeds: {total} characters in all, Discord allows 6000"),
                Answer::form_at(
                    &["embeds"],
                    "MAX_EMBED_SIZE_EXCEEDED",
                    "Embed size exceeds maximum size of 6000",
                ),
            ));
        }
    }
    let mut ids = Vec::new();
    collect_custom_ids(&body["components"], &mut ids);
    let mut seen = BTreeSet::new();
    if let Some(dup) = ids.iter().find(|id| !seen.insert(id.as_str())) {
        return Err(ctx.reject(
            state,
            format!("body.components: custom_id {dup:?} used twice in one message"),
            Answer::form_at(
                &["components"],
                "COMPONENT_CUSTOM_ID_DUPLICATED",
                "Component custom id cannot be duplicated",
            ),
        ));
    }
    let flags = merged["flags"].as_u64().unwrap_or(0);
    if flags & FLAG_IS_COMPONENTS_V2 == 0 {
        if let Some(why) = legacy_layout_problem(&body["components"]) {
            return Err(ctx.reject(
                state,
                format!("body.components: {why}"),
                Answer::form_at(&["components"], "COMPONENT_LAYOUT_WIDTH_EXCEEDED", &why),
            ));
        }
    }
    if flags & FLAG_IS_COMPONENTS_V2 != 0
        && (merged["content"].as_str().is_some_and(|c| !c.is_empty())
            || merged["embeds"].as_array().is_some_and(|e| !e.is_empty()))
    {
        return Err(ctx.reject(
            state,
            "IS_COMPONENTS_V2 messages cannot have content or embeds",
            Answer::form_at(
                &["content"],
                "MESSAGE_CANNOT_USE_LEGACY_FIELDS_WITH_COMPONENTS_V2",
                "The 'content' field cannot be used when using MessageFlags.IS_COMPONENTS_V2",
            ),
        ));
    }
    let non_empty = |key: &str| match &merged[key] {
        Value::String(s) => !s.is_empty(),
        Value::Array(a) => !a.is_empty(),
        Value::Null => false,
        _ => true,
    };
    let empty = ![
        "content",
        "embeds",
        "components",
        "attachments",
        "sticker_ids",
        "sticker_items",
        "poll",
    ]
    .iter()
    .any(|k| non_empty(k));
    if empty && !allow_empty {
        return Err(ctx.reject(
            state,
            "empty message (no content, embeds, components or files)",
            Answer::error(400, 50006, "Cannot send an empty message"),
        ));
    }
    Ok(())
}

/// The users a message may ping under `allowed_mentions` (None: Discord's default, all).
fn mention_filter(body: &Value) -> (Option<Vec<u64>>, Option<Vec<u64>>, bool, bool) {
    let am = &body["allowed_mentions"];
    if !am.is_object() {
        return (None, None, true, true);
    }
    let parse: Vec<&str> = am["parse"]
        .as_array()
        .map(|p| p.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    let ids = |key: &str, kind: &str| -> Option<Vec<u64>> {
        if parse.contains(&kind) {
            None
        } else {
            Some(
                am[key]
                    .as_array()
                    .map(|l| l.iter().filter_map(snowflake).collect())
                    .unwrap_or_default(),
            )
        }
    };
    (
        ids("users", "users"),
        ids("roles", "roles"),
        parse.contains(&"everyone"),
        am["replied_user"] == true,
    )
}

/// Fills mentions, embeds, components, flags and attachments of a message from a create/edit
/// body.
fn apply_message_body(state: &mut State, ctx: &Ctx, channel_id: u64, v: &mut Value, body: &Value) {
    let (users, roles, everyone_allowed, _) = mention_filter(body);
    if let Some(content) = body.get("content") {
        let content = content.as_str().unwrap_or("");
        v["content"] = content.into();
        let (m_users, m_roles, m_everyone) = super::world::parse_mentions(content);
        let mentions: Vec<Value> = m_users
            .into_iter()
            .filter(|u| users.as_ref().is_none_or(|allowed| allowed.contains(u)))
            .filter(|u| state.world.users.contains_key(u))
            .map(|u| state.world.user_json(u))
            .collect();
        v["mentions"] = mentions.into();
        // Allowed Mentions (Message docs): "To mention roles and notify their members, the
        // role's mentionable field must be set to true, or the bot must have the
        // MENTION_EVERYONE permission". Otherwise the message goes out and pings nobody.
        let may_ping_any_role = state.world.bot_can(channel_id, perm::MENTION_EVERYONE);
        v["mention_roles"] = m_roles
            .into_iter()
            .filter(|r| roles.as_ref().is_none_or(|allowed| allowed.contains(r)))
            .filter(|r| {
                may_ping_any_role
                    || state
                        .world
                        .roles
                        .get(r)
                        .is_some_and(|role| role.mentionable)
            })
            .map(|r| Value::String(r.to_string()))
            .collect::<Vec<_>>()
            .into();
        v["mention_everyone"] = (m_everyone
            && everyone_allowed
            && state.world.bot_can(channel_id, perm::MENTION_EVERYONE))
        .into();
    }
    if let Some(embeds) = body.get("embeds") {
        let embeds: Vec<Value> = embeds
            .as_array()
            .map(|list| {
                list.iter()
                    .map(|e| {
                        let mut e = e.clone();
                        if e.get("type").is_none() {
                            e["type"] = "rich".into();
                        }
                        e
                    })
                    .collect()
            })
            .unwrap_or_default();
        v["embeds"] = embeds.into();
    }
    if let Some(components) = body.get("components") {
        v["components"] = if components.is_null() {
            json!([])
        } else {
            components.clone()
        };
    }
    if let Some(flags) = body["flags"].as_u64() {
        let kept = v["flags"].as_u64().unwrap_or(0) & (FLAG_EPHEMERAL | FLAG_CROSSPOSTED);
        v["flags"] = (kept
            | (flags
                & (FLAG_SUPPRESS_EMBEDS
                    | FLAG_EPHEMERAL
                    | FLAG_SUPPRESS_NOTIFICATIONS
                    | FLAG_IS_COMPONENTS_V2)))
            .into();
    }
    if !ctx.files.is_empty() || body.get("attachments").is_some() {
        let mut attachments: Vec<Value> = Vec::new();
        for f in &ctx.files {
            let id = state.world.next_id();
            attachments.push(json!({
                "id": id.to_string(),
                "filename": f.filename,
                "size": f.size,
                "url": format!("https://cdn.discordapp.com/attachments/{channel_id}/{id}/{}", f.filename),
                "proxy_url": format!("https://media.discordapp.net/attachments/{channel_id}/{id}/{}", f.filename),
                "content_type": f.content_type,
            }));
        }
        // Attachments kept from before (an edit lists the ids to keep).
        if let Some(keep) = body["attachments"].as_array() {
            let before = v["attachments"].as_array().cloned().unwrap_or_default();
            for a in keep {
                if let Some(old) = before.iter().find(|b| b["id"] == a["id"]) {
                    attachments.push(old.clone());
                }
            }
        }
        v["attachments"] = attachments.into();
    }
}

/// Creates a message from the bot (directly, or through an interaction) and announces it on the
/// gateway unless it is ephemeral.
fn create_message(
    state: &mut State,
    ctx: &Ctx,
    channel_id: u64,
    body: &Value,
    how: Authoring,
) -> Result<u64, Answer> {
    let id = how.id.unwrap_or_else(|| state.world.next_id());
    let mut v = state
        .world
        .new_message_json(id, channel_id, BOT_USER_ID, "");
    v["flags"] = how.extra_flags.into();
    v["type"] = how.kind.into();
    apply_message_body(state, ctx, channel_id, &mut v, body);
    if let Some(flags) = body["flags"].as_u64() {
        v["flags"] = ((flags
            & (FLAG_SUPPRESS_EMBEDS
                | FLAG_EPHEMERAL
                | FLAG_SUPPRESS_NOTIFICATIONS
                | FLAG_IS_COMPONENTS_V2))
            | how.extra_flags)
            .into();
    }
    let mut merged = v.clone();
    if let Some(stickers) = body.get("sticker_ids") {
        merged["sticker_ids"] = stickers.clone();
    }
    if let Some(poll) = body.get("poll") {
        merged["poll"] = poll.clone();
    }
    check_message_rules(state, ctx, body, &merged, how.allow_empty)?;
    if body["tts"] == true {
        v["tts"] = true.into();
    }
    if !body["nonce"].is_null() {
        v["nonce"] = body["nonce"].clone();
    }
    if let Some(reference) = body["message_reference"].as_object() {
        let target = reference.get("message_id").and_then(snowflake).unwrap_or(0);
        let in_channel = reference
            .get("channel_id")
            .and_then(snowflake)
            .unwrap_or(channel_id);
        let found = state
            .world
            .messages
            .get(&target)
            .filter(|m| m.deleted.is_none() && m.channel_id == in_channel);
        match found {
            Some(m) => {
                let author = m.author_id;
                v["referenced_message"] = m.value.clone();
                v["message_reference"] = json!({
                    "type": 0,
                    "message_id": target.to_string(),
                    "channel_id": in_channel.to_string(),
                    "guild_id": state.world.guild_of(in_channel).map(|g| g.to_string()),
                });
                let (_, _, _, replied_user) = mention_filter(body);
                let default_ping = !body["allowed_mentions"].is_object();
                if (replied_user || default_ping) && author != BOT_USER_ID {
                    let author_json = state.world.user_json(author);
                    if let Some(list) = v["mentions"].as_array_mut() {
                        if !list.iter().any(|u| u["id"] == author_json["id"]) {
                            list.push(author_json);
                        }
                    }
                }
            }
            None if reference.get("fail_if_not_exists") != Some(&Value::Bool(false)) => {
                return Err(ctx.reject(
                    state,
                    format!("reply to unknown message {target}"),
                    Answer::form_at(
                        &["message_reference"],
                        "MESSAGE_REFERENCE_UNKNOWN_MESSAGE",
                        "Unknown message",
                    ),
                ));
            }
            None => v["type"] = 0.into(),
        }
    }
    if let Some(interaction) = how.interaction {
        v["webhook_id"] = APPLICATION_ID.to_string().into();
        v["application_id"] = APPLICATION_ID.to_string().into();
        if let Some(meta) = interaction_metadata(state, interaction) {
            v["interaction_metadata"] = meta;
        }
    }
    let ephemeral = v["flags"].as_u64().unwrap_or(0) & FLAG_EPHEMERAL != 0;
    let id = state
        .world
        .store_message(v, channel_id, BOT_USER_ID, how.interaction);
    if !ephemeral {
        if let Some(gw) = state.world.gateway_message_json(id) {
            dispatch(state, "MESSAGE_CREATE", gw);
        }
    }
    Ok(id)
}

/// Edits a bot message with a PATCH-style body; announces MESSAGE_UPDATE unless ephemeral.
fn edit_message(state: &mut State, ctx: &Ctx, id: u64, body: &Value) -> Result<Value, Answer> {
    let Some(stored) = state.world.messages.get(&id) else {
        return Err(ctx.reject(
            state,
            format!("unknown message {id}"),
            Answer::error(404, 10008, "Unknown Message"),
        ));
    };
    if !stored.by_bot {
        return Err(ctx.reject(
            state,
            format!("message {id} was written by someone else; bots can only edit their own"),
            Answer::error(403, 50005, "Cannot edit a message authored by another user"),
        ));
    }
    let channel_id = stored.channel_id;
    let mut v = stored.value.clone();
    apply_message_body(state, ctx, channel_id, &mut v, body);
    let flags = v["flags"].as_u64().unwrap_or(0) & !FLAG_LOADING;
    v["flags"] = flags.into();
    check_message_rules(state, ctx, body, &v, false)?;
    v["edited_timestamp"] = now_iso().into();
    if let Some(stored) = state.world.messages.get_mut(&id) {
        stored.value = v.clone();
    }
    if flags & FLAG_EPHEMERAL == 0 {
        if let Some(gw) = state.world.gateway_message_json(id) {
            dispatch(state, "MESSAGE_UPDATE", gw);
        }
    }
    Ok(v)
}

fn delete_message(state: &mut State, id: u64) {
    let Some(stored) = state.world.messages.get_mut(&id) else {
        return;
    };
    stored.deleted = Some(Deletion::ByBot);
    let channel_id = stored.channel_id;
    let ephemeral = stored.value["flags"].as_u64().unwrap_or(0) & FLAG_EPHEMERAL != 0;
    if !ephemeral {
        let guild = state.world.guild_of(channel_id).map(|g| g.to_string());
        dispatch(
            state,
            "MESSAGE_DELETE",
            json!({ "id": id.to_string(), "channel_id": channel_id.to_string(), "guild_id": guild }),
        );
    }
}

fn one_message(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let id = match live_message(state, ctx, channel_id, ctx.id("message_id")) {
        Ok(m) => m,
        Err(a) => return a,
    };
    // Get Channel Message (Message docs): VIEW_CHANNEL and READ_MESSAGE_HISTORY. Ephemeral
    // interaction responses are not in the channel at all (checked below).
    if !state.world.bot_can(channel_id, perm::VIEW_CHANNEL) {
        return missing_access();
    }
    if ctx.method == "GET" && !state.world.bot_can(channel_id, perm::READ_MESSAGE_HISTORY) {
        return missing_permissions(perm::READ_MESSAGE_HISTORY);
    }
    match ctx.method {
        "GET" => {
            if state.world.messages[&id].value["flags"]
                .as_u64()
                .unwrap_or(0)
                & FLAG_EPHEMERAL
                != 0
            {
                return ctx.reject(
                    state,
                    format!("message {id} is ephemeral and cannot be fetched"),
                    Answer::error(404, 10008, "Unknown Message"),
                );
            }
            Answer::ok(state.world.messages[&id].value.clone())
        }
        "PATCH" => match edit_message(state, ctx, id, ctx.body()) {
            Ok(v) => Answer::ok(v),
            Err(a) => a,
        },
        _ => {
            let by_bot = state.world.messages[&id].by_bot;
            if !by_bot && !state.world.bot_can(channel_id, perm::MANAGE_MESSAGES) {
                return missing_permissions(perm::MANAGE_MESSAGES);
            }
            delete_message(state, id);
            Answer::no_content()
        }
    }
}

fn crosspost(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let id = match live_message(state, ctx, channel_id, ctx.id("message_id")) {
        Ok(m) => m,
        Err(a) => return a,
    };
    if state.world.channels[&channel_id].kind != channel_type::GUILD_ANNOUNCEMENT {
        return ctx.reject(
            state,
            format!("channel {channel_id} is not an announcement channel"),
            Answer::error(400, 40033, "This message has already been crossposted."),
        );
    }
    // Crosspost Message (Message docs): SEND_MESSAGES for the bot's own message, and
    // MANAGE_MESSAGES for anyone else's.
    let by_bot = state.world.messages.get(&id).is_some_and(|m| m.by_bot);
    let needed = if by_bot {
        perm::SEND_MESSAGES
    } else {
        perm::SEND_MESSAGES | perm::MANAGE_MESSAGES
    };
    if !state.world.bot_can(channel_id, needed) {
        return missing_permissions(needed);
    }
    let Some(m) = state.world.messages.get_mut(&id) else {
        return Answer::error(404, 10008, "Unknown Message");
    };
    if m.value["flags"].as_u64().unwrap_or(0) & FLAG_CROSSPOSTED != 0 {
        return ctx.reject(
            state,
            format!("message {id} already crossposted"),
            Answer::error(400, 40033, "This message has already been crossposted."),
        );
    }
    let flags = m.value["flags"].as_u64().unwrap_or(0) | FLAG_CROSSPOSTED;
    m.value["flags"] = flags.into();
    Answer::ok(m.value.clone())
}

fn pin(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let id = match live_message(state, ctx, channel_id, ctx.id("message_id")) {
        Ok(m) => m,
        Err(a) => return a,
    };
    // Pin Message (Message docs): "Requires the PIN_MESSAGES permission"; MANAGE_MESSAGES
    // alone stopped being enough on February 23, 2026 (change log).
    if !state.world.bot_can(channel_id, perm::PIN_MESSAGES) {
        return missing_permissions(perm::PIN_MESSAGES);
    }
    let pinned = ctx.method == "PUT";
    if pinned {
        let count = state
            .world
            .messages
            .values()
            .filter(|m| m.channel_id == channel_id && m.value["pinned"] == true)
            .count();
        if count >= 250 {
            return Answer::error(400, 30003, "Maximum number of pins reached (250)")
                .with_note("pin limit");
        }
    }
    if let Some(m) = state.world.messages.get_mut(&id) {
        m.value["pinned"] = pinned.into();
    }
    Answer::no_content()
}

fn pins(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let list: Vec<Value> = state
        .world
        .messages
        .values()
        .rev()
        .filter(|m| m.channel_id == channel_id && m.deleted.is_none() && m.value["pinned"] == true)
        .map(|m| m.value.clone())
        .collect();
    Answer::ok(list.into())
}

fn react(state: &mut State, ctx: &Ctx) -> Answer {
    let channel_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let id = match live_message(state, ctx, channel_id, ctx.id("message_id")) {
        Ok(m) => m,
        Err(a) => return a,
    };
    let emoji = ctx.param("emoji_name").to_string();
    let adding = ctx.method == "PUT";
    if let Some(m) = state.world.messages.get_mut(&id) {
        let mut reactions = m.value["reactions"].as_array().cloned().unwrap_or_default();
        reactions.retain(|r| r["emoji"]["name"] != emoji.as_str());
        if adding {
            reactions.push(json!({
                "count": 1,
                "count_details": { "burst": 0, "normal": 1 },
                "me": true,
                "me_burst": false,
                "burst_colors": [],
                "emoji": { "id": null, "name": emoji },
            }));
        }
        m.value["reactions"] = reactions.into();
    }
    Answer::no_content()
}

// ----- channels and threads -----

fn channel(state: &mut State, ctx: &Ctx) -> Answer {
    let id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    match ctx.method {
        "GET" => Answer::ok(state.world.channel_json(&state.world.channels[&id])),
        "PATCH" => edit_channel(state, ctx, id),
        _ => {
            if !state.world.bot_can(id, perm::MANAGE_CHANNELS)
                && state.world.channels[&id].owner_id != Some(BOT_USER_ID)
            {
                return missing_permissions(perm::MANAGE_CHANNELS);
            }
            let Some(c) = state.world.channels.get_mut(&id) else {
                return Answer::error(404, 10003, "Unknown Channel");
            };
            c.deleted = true;
            let is_thread = c.thread.is_some();
            let v = state.world.channel_json(&state.world.channels[&id]);
            if is_thread {
                let event = json!({ "id": v["id"], "guild_id": v["guild_id"], "parent_id": v["parent_id"], "type": v["type"] });
                dispatch(state, "THREAD_DELETE", event);
            } else {
                dispatch(state, "CHANNEL_DELETE", v.clone());
            }
            Answer::ok(v)
        }
    }
}

fn edit_channel(state: &mut State, ctx: &Ctx, id: u64) -> Answer {
    let body = ctx.body().clone();
    let Some(c) = state.world.channels.get(&id) else {
        return Answer::error(404, 10003, "Unknown Channel");
    };
    let is_thread = c.thread.is_some();
    let bot_owns = c.owner_id == Some(BOT_USER_ID);
    if let Some(t) = &c.thread {
        let changes_other = body.as_object().is_some_and(|m| {
            m.keys()
                .any(|k| !matches!(k.as_str(), "archived" | "locked" | "auto_archive_duration"))
        });
        if t.archived && body["archived"] != false && changes_other {
            return ctx.reject(
                state,
                format!("thread {id} is archived: only archived, locked and auto_archive_duration can change (unarchive it in the same request)"),
                Answer::error(400, 50083, "Thread is archived"),
            );
        }
        let locking = body["locked"] == true && !t.locked;
        if (locking || !bot_owns) && !state.world.bot_can(id, perm::MANAGE_THREADS) {
            return missing_permissions(perm::MANAGE_THREADS);
        }
    } else if !state.world.bot_can(id, perm::MANAGE_CHANNELS) {
        return missing_permissions(perm::MANAGE_CHANNELS);
    }
    let Some(c) = state.world.channels.get_mut(&id) else {
        return Answer::error(404, 10003, "Unknown Channel");
    };
    if let Some(name) = body["name"].as_str() {
        c.name = name.to_string();
    }
    if let Some(topic) = body.get("topic") {
        c.topic = topic.as_str().map(str::to_string);
    }
    if let Some(parent) = body.get("parent_id") {
        c.parent_id = snowflake(parent);
    }
    if let Some(tags) = body["applied_tags"].as_array() {
        c.applied_tags = tags
            .iter()
            .filter_map(|t| snowflake(t).map(|n| n.to_string()))
            .collect();
    }
    if let Some(t) = c.thread.as_mut() {
        if let Some(archived) = body["archived"].as_bool() {
            if archived != t.archived {
                t.archive_timestamp = now_iso();
            }
            t.archived = archived;
        }
        if let Some(locked) = body["locked"].as_bool() {
            t.locked = locked;
        }
        if let Some(d) = body["auto_archive_duration"].as_u64() {
            t.auto_archive_duration = d as u32;
        }
        if let Some(invitable) = body["invitable"].as_bool() {
            t.invitable = invitable;
        }
    }
    let v = state.world.channel_json(&state.world.channels[&id]);
    dispatch(
        state,
        if is_thread {
            "THREAD_UPDATE"
        } else {
            "CHANNEL_UPDATE"
        },
        v.clone(),
    );
    Answer::ok(v)
}

fn create_thread(state: &mut State, ctx: &Ctx, from_message: Option<u64>) -> Answer {
    let parent_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let body = ctx.body().clone();
    let parent = &state.world.channels[&parent_id];
    let (parent_kind, guild_id) = (parent.kind, parent.guild_id);
    let Some(guild_id) = guild_id else {
        return ctx.reject(
            state,
            format!("channel {parent_id} is a DM; threads live in servers"),
            Answer::error(400, 50024, "Cannot execute action on this channel type"),
        );
    };
    if !matches!(
        parent_kind,
        channel_type::GUILD_TEXT | channel_type::GUILD_ANNOUNCEMENT | channel_type::GUILD_FORUM
    ) {
        return ctx.reject(
            state,
            format!("channel {parent_id} (type {parent_kind}) cannot have threads"),
            Answer::error(400, 50024, "Cannot execute action on this channel type"),
        );
    }
    if let Some(message_id) = from_message {
        if let Err(a) = live_message(state, ctx, parent_id, message_id) {
            return a;
        }
        if state.world.channels.contains_key(&message_id) {
            return ctx.reject(
                state,
                format!("message {message_id} already has a thread"),
                Answer::error(
                    400,
                    160004,
                    "A thread has already been created for this message",
                ),
            );
        }
    }
    let forum = parent_kind == channel_type::GUILD_FORUM;
    if forum && !body["message"].is_object() {
        return ctx.reject(
            state,
            "a forum post needs a starter `message`",
            Answer::form_at(&["message"], "BASE_TYPE_REQUIRED", "This field is required"),
        );
    }
    let kind = if from_message.is_some() || forum {
        if parent_kind == channel_type::GUILD_ANNOUNCEMENT {
            channel_type::ANNOUNCEMENT_THREAD
        } else {
            channel_type::PUBLIC_THREAD
        }
    } else {
        // Discord's default for threads without a message is a private thread.
        body["type"]
            .as_u64()
            .map_or(channel_type::PRIVATE_THREAD, |t| t as u8)
    };
    if !channel_type::is_thread(kind) {
        return ctx.reject(
            state,
            format!("type {kind} is not a thread type"),
            Answer::form_at(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be one of {10, 11, 12}.",
            ),
        );
    }
    let needed = if kind == channel_type::PRIVATE_THREAD {
        perm::CREATE_PRIVATE_THREADS
    } else {
        perm::CREATE_PUBLIC_THREADS
    };
    if !state.world.bot_can(parent_id, perm::VIEW_CHANNEL) {
        return missing_access();
    }
    if !state.world.bot_can(parent_id, needed) {
        return missing_permissions(needed);
    }
    let name = body["name"].as_str().unwrap_or("thread").to_string();
    let thread_id = from_message.unwrap_or_else(|| state.world.next_id());
    let now = now_iso();
    state.world.channels.insert(
        thread_id,
        super::world::Channel {
            id: thread_id,
            kind,
            guild_id: Some(guild_id),
            name,
            parent_id: Some(parent_id),
            position: 0,
            topic: None,
            owner_id: Some(BOT_USER_ID),
            thread: Some(super::world::ThreadState {
                archived: false,
                locked: false,
                invitable: body["invitable"].as_bool().unwrap_or(true),
                auto_archive_duration: body["auto_archive_duration"].as_u64().unwrap_or(4320)
                    as u32,
                archive_timestamp: now.clone(),
                create_timestamp: now,
                members: [BOT_USER_ID].into_iter().collect(),
            }),
            recipient: None,
            last_message_id: None,
            message_count: 0,
            applied_tags: body["applied_tags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(|x| snowflake(x).map(|n| n.to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            overwrites: Vec::new(),
            deleted_by_world: false,
            deleted: false,
        },
    );
    let mut thread_json = state.world.channel_json(&state.world.channels[&thread_id]);
    let mut created = thread_json.clone();
    created["newly_created"] = true.into();
    dispatch(state, "THREAD_CREATE", created);
    if let Some(message_id) = from_message {
        if let Some(m) = state.world.messages.get_mut(&message_id) {
            m.value["thread"] = thread_json.clone();
        }
    }
    if forum {
        let starter = body["message"].clone();
        let how = Authoring {
            id: Some(thread_id),
            ..Authoring::default()
        };
        match create_message(state, ctx, thread_id, &starter, how) {
            Ok(id) => thread_json["message"] = state.world.messages[&id].value.clone(),
            Err(a) => {
                state.world.channels.remove(&thread_id);
                return a;
            }
        }
        thread_json = {
            let mut v = state.world.channel_json(&state.world.channels[&thread_id]);
            v["message"] = thread_json["message"].take();
            v
        };
    }
    thread_json["member"] = json!({
        "id": thread_id.to_string(),
        "user_id": BOT_USER_ID.to_string(),
        "join_timestamp": now_iso(),
        "flags": 0,
    });
    Answer::json(201, thread_json)
}

fn archived_threads(state: &mut State, ctx: &Ctx) -> Answer {
    let parent_id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let private = ctx.template.ends_with("private");
    let threads: Vec<Value> = state
        .world
        .channels
        .values()
        .filter(|c| c.parent_id == Some(parent_id) && !c.deleted)
        .filter(|c| c.thread.as_ref().is_some_and(|t| t.archived))
        .filter(|c| (c.kind == channel_type::PRIVATE_THREAD) == private)
        .map(|c| state.world.channel_json(c))
        .collect();
    Answer::ok(json!({ "threads": threads, "members": [], "has_more": false }))
}

fn thread_member_json(thread_id: u64, user_id: u64) -> Value {
    json!({ "id": thread_id.to_string(), "user_id": user_id.to_string(), "join_timestamp": now_iso(), "flags": 0 })
}

fn thread_members_list(state: &mut State, ctx: &Ctx) -> Answer {
    let id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let members: Vec<Value> = state.world.channels[&id]
        .thread
        .as_ref()
        .map(|t| {
            t.members
                .iter()
                .map(|&u| thread_member_json(id, u))
                .collect()
        })
        .unwrap_or_default();
    Answer::ok(members.into())
}

fn thread_member(state: &mut State, ctx: &Ctx) -> Answer {
    let id = match live_channel(state, ctx, ctx.id("channel_id")) {
        Ok(c) => c,
        Err(a) => return a,
    };
    let user = if ctx.template.ends_with("@me") {
        BOT_USER_ID
    } else {
        ctx.id("user_id")
    };
    let guild = state.world.guild_of(id);
    let Some(thread) = state.world.channels[&id].thread.as_ref() else {
        return ctx.reject(
            state,
            format!("channel {id} is not a thread"),
            Answer::error(400, 50024, "Cannot execute action on this channel type"),
        );
    };
    let (archived, is_member) = (thread.archived, thread.members.contains(&user));
    if ctx.method == "GET" {
        return match is_member {
            true => Answer::ok(thread_member_json(id, user)),
            false => Answer::error(404, 10007, "Unknown Member").with_note("not in thread"),
        };
    }
    if !guild
        .and_then(|g| state.world.guilds.get(&g))
        .is_some_and(|g| g.members.contains_key(&user))
    {
        return ctx.reject(
            state,
            format!("user {user} is not a member of the server"),
            Answer::error(404, 10007, "Unknown Member"),
        );
    }
    if archived {
        return ctx.reject(
            state,
            format!("thread {id} is archived"),
            Answer::error(400, 50083, "Thread is archived"),
        );
    }
    let adding = ctx.method == "PUT";
    // Add Thread Member (Channel docs): "Requires the ability to send messages in the thread".
    if adding && user != BOT_USER_ID && !state.world.bot_can(id, perm::SEND_MESSAGES_IN_THREADS) {
        return missing_permissions(perm::SEND_MESSAGES_IN_THREADS);
    }
    if let Some(t) = state
        .world
        .channels
        .get_mut(&id)
        .and_then(|c| c.thread.as_mut())
    {
        if adding {
            t.members.insert(user);
        } else {
            t.members.remove(&user);
        }
    }
    if adding != is_member {
        let count = state.world.channels[&id]
            .thread
            .as_ref()
            .map_or(0, |t| t.members.len());
        let mut event = json!({
            "id": id.to_string(),
            "guild_id": guild.map(|g| g.to_string()),
            "member_count": count,
        });
        if adding {
            let mut m = thread_member_json(id, user);
            if let Some(g) = guild {
                m["member"] = state.world.member_json(g, user, true, false);
            }
            event["added_members"] = json!([m]);
        } else {
            event["removed_member_ids"] = json!([user.to_string()]);
        }
        dispatch(state, "THREAD_MEMBERS_UPDATE", event);
    }
    Answer::no_content()
}

fn create_dm(state: &mut State, ctx: &Ctx) -> Answer {
    let Some(user) = snowflake(&ctx.body()["recipient_id"]) else {
        return ctx.reject(
            state,
            "recipient_id missing",
            Answer::form_at(
                &["recipient_id"],
                "BASE_TYPE_REQUIRED",
                "This field is required",
            ),
        );
    };
    if user == BOT_USER_ID || !state.world.users.contains_key(&user) {
        return ctx.reject(
            state,
            format!("unknown recipient {user}"),
            Answer::form_at(&["recipient_id"], "USER_UNKNOWN", "Unknown user"),
        );
    }
    let id = state.world.dm_channel(user);
    Answer::ok(state.world.channel_json(&state.world.channels[&id]))
}

fn guild_channels(state: &mut State, ctx: &Ctx) -> Answer {
    let guild = ctx.id("guild_id");
    if !state.world.guilds.contains_key(&guild) {
        return ctx.reject(
            state,
            format!("unknown guild {guild}"),
            Answer::error(404, 10004, "Unknown Guild"),
        );
    }
    if ctx.method == "GET" {
        let list: Vec<Value> = state
            .world
            .channels
            .values()
            .filter(|c| c.guild_id == Some(guild) && c.thread.is_none() && !c.deleted)
            .map(|c| state.world.channel_json(c))
            .collect();
        return Answer::ok(list.into());
    }
    if state.world.permissions(guild, BOT_USER_ID) & perm::MANAGE_CHANNELS == 0 {
        return missing_permissions(perm::MANAGE_CHANNELS);
    }
    let body = ctx.body();
    let kind = body["type"].as_u64().unwrap_or(0) as u8;
    if channel_type::is_thread(kind) || kind == channel_type::DM {
        return ctx.reject(
            state,
            format!("type {kind} cannot be created here"),
            Answer::form_at(
                &["type"],
                "BASE_TYPE_CHOICES",
                "Value must be a guild channel type.",
            ),
        );
    }
    let parent = snowflake(&body["parent_id"]);
    if let Some(p) = parent {
        if state
            .world
            .channel(p)
            .is_none_or(|c| c.kind != channel_type::GUILD_CATEGORY)
        {
            return ctx.reject(
                state,
                format!("parent {p} is not a category"),
                Answer::form_at(&["parent_id"], "CHANNEL_PARENT_INVALID", "Not a category"),
            );
        }
    }
    let name = body["name"].as_str().unwrap_or("").to_string();
    let topic = body["topic"].as_str().map(str::to_string);
    let id = state.world.add_channel(Some(guild), kind, &name, parent);
    if let Some(c) = state.world.channels.get_mut(&id) {
        c.topic = topic;
    }
    let v = state.world.channel_json(&state.world.channels[&id]);
    dispatch(state, "CHANNEL_CREATE", v.clone());
    Answer::json(201, v)
}

fn member_role(state: &mut State, ctx: &Ctx) -> Answer {
    let (guild, user, role) = (ctx.id("guild_id"), ctx.id("user_id"), ctx.id("role_id"));
    if !state.world.guilds.contains_key(&guild) {
        return ctx.reject(
            state,
            format!("unknown guild {guild}"),
            Answer::error(404, 10004, "Unknown Guild"),
        );
    }
    if state
        .world
        .roles
        .get(&role)
        .is_none_or(|r| r.guild_id != guild)
    {
        return ctx.reject(
            state,
            format!("unknown role {role}"),
            Answer::error(404, 10011, "Unknown Role"),
        );
    }
    if state.world.permissions(guild, BOT_USER_ID) & perm::MANAGE_ROLES == 0 {
        return missing_permissions(perm::MANAGE_ROLES);
    }
    let Some(member) = state
        .world
        .guilds
        .get_mut(&guild)
        .and_then(|g| g.members.get_mut(&user))
    else {
        return ctx.reject(
            state,
            format!("user {user} is not a member"),
            Answer::error(404, 10007, "Unknown Member"),
        );
    };
    member.roles.retain(|r| *r != role);
    if ctx.method == "PUT" {
        member.roles.push(role);
    }
    let mut event = state.world.member_json(guild, user, true, false);
    event["guild_id"] = guild.to_string().into();
    dispatch(state, "GUILD_MEMBER_UPDATE", event);
    Answer::no_content()
}

// ----- interactions -----

fn interaction_kind_name(kind: u8) -> &'static str {
    match kind {
        2 => "slash command",
        3 => "component",
        4 => "autocomplete",
        5 => "modal submit",
        _ => "unknown",
    }
}

/// `interaction_metadata` for messages created through an interaction.
fn interaction_metadata(state: &State, id: u64) -> Option<Value> {
    let rec = state.world.interactions.get(&id)?;
    let owners = match rec.guild_id {
        Some(g) => json!({ "0": g.to_string() }),
        None => json!({ "1": rec.user_id.to_string() }),
    };
    let mut meta = json!({
        "id": id.to_string(),
        "type": rec.kind,
        "user": state.world.user_json(rec.user_id),
        "authorizing_integration_owners": owners,
    });
    match rec.kind {
        3 => meta["interacted_message_id"] = rec.source_message.map(|m| m.to_string()).into(),
        5 => {
            meta["triggering_interaction_metadata"] = json!({
                "id": id.to_string(),
                "type": 2,
                "user": meta["user"],
                "authorizing_integration_owners": meta["authorizing_integration_owners"],
            })
        }
        _ => {}
    }
    Some(meta)
}

fn interaction_callback(state: &mut State, ctx: &Ctx) -> Answer {
    let id = ctx.id("interaction_id");
    let token = ctx.param("interaction_token").to_string();
    let unknown = || Answer::error(404, 10062, "Unknown interaction");
    let Some(rec) = state.world.interactions.get(&id) else {
        return ctx.reject(state, format!("unknown interaction {id}"), unknown());
    };
    if rec.token != token {
        return ctx.reject(
            state,
            format!("wrong token for interaction {id}"),
            unknown(),
        );
    }
    if let Some(previous) = rec.callback {
        return ctx.reject(
            state,
            format!("interaction {id} answered twice (first with type {previous}); use the webhook routes after the first answer"),
            Answer::error(400, 40060, "Interaction has already been acknowledged."),
        );
    }
    let elapsed = rec.created.elapsed();
    if let Some(deadline) = state.rest.ack_deadline {
        if elapsed > deadline {
            return ctx.reject(
                state,
                format!(
                    "interaction {id} acknowledged after {} ms; Discord allows {} ms",
                    elapsed.as_millis(),
                    deadline.as_millis()
                ),
                unknown(),
            );
        }
    }
    let (kind, channel_id, source) = (rec.kind, rec.channel_id, rec.source_message);
    let body = ctx.body().clone();
    let callback = body["type"].as_u64().unwrap_or(0) as u8;
    let allowed: &[u8] = match kind {
        2 => &[4, 5, 9],
        3 => &[4, 5, 6, 7, 9],
        4 => &[8],
        5 if source.is_some() => &[4, 5, 6, 7],
        5 => &[4, 5],
        _ => &[],
    };
    if !allowed.contains(&callback) {
        return ctx.reject(
            state,
            format!(
                "callback type {callback} is not valid for a {} interaction (allowed: {allowed:?})",
                interaction_kind_name(kind)
            ),
            Answer::form_at(
                &["type"],
                "INTERACTION_RESPONSE_TYPE_INVALID",
                "Invalid interaction response type",
            ),
        );
    }
    let data = body["data"].clone();
    let mut original = None;
    let message_kind = if kind == 2 { 20 } else { 0 };
    match callback {
        4 => {
            let how = Authoring {
                interaction: Some(id),
                kind: message_kind,
                ..Authoring::default()
            };
            match create_message(state, ctx, channel_id, &data, how) {
                Ok(m) => original = Some(m),
                Err(a) => return a,
            }
        }
        5 => {
            let ephemeral = data["flags"].as_u64().unwrap_or(0) & FLAG_EPHEMERAL;
            let how = Authoring {
                interaction: Some(id),
                kind: message_kind,
                extra_flags: FLAG_LOADING | ephemeral,
                allow_empty: true,
                ..Authoring::default()
            };
            match create_message(state, ctx, channel_id, &json!({}), how) {
                Ok(m) => original = Some(m),
                Err(a) => return a,
            }
        }
        6 => original = source,
        7 => {
            let Some(message) = source else {
                return Answer::error(400, 50035, "Invalid Form Body");
            };
            if let Err(a) = edit_message(state, ctx, message, &data) {
                return a;
            }
            original = source;
        }
        8 => {}
        9 => {
            // Receiving and Responding docs, modal data: "Between 1 and 5 (inclusive) components".
            let inputs = data["components"].as_array().map_or(0, Vec::len);
            if !(1..=5).contains(&inputs) {
                return ctx.reject(
                    state,
                    format!("a modal with {inputs} components; Discord takes 1 to 5"),
                    Answer::form_at(
                        &["data", "components"],
                        "BASE_TYPE_BAD_LENGTH",
                        "Must be between 1 and 5 in length.",
                    ),
                );
            }
            let rec = &state.world.interactions[&id];
            let modal = OpenModal {
                custom_id: data["custom_id"].as_str().unwrap_or("").to_string(),
                opened_by: id,
                user_id: rec.user_id,
                data: data.clone(),
            };
            state.world.open_modals.push(modal);
        }
        _ => {}
    }
    let message = match callback {
        4 | 7 | 9 | 8 => data.clone(),
        _ => Value::Null,
    };
    if let Some(rec) = state.world.interactions.get_mut(&id) {
        rec.callback = Some(callback);
        rec.original_message = original;
        rec.responses.push(
            json!({ "kind": "callback", "type": callback, "body": body, "message": message }),
        );
    }
    if ctx.query("with_response") == Some("true") {
        let resource = original
            .and_then(|m| state.world.messages.get(&m))
            .map(|m| json!({ "type": callback, "message": m.value }))
            .unwrap_or_else(|| json!({ "type": callback }));
        return Answer::ok(json!({
            "interaction": { "id": id.to_string(), "type": kind, "response_message_id": original.map(|m| m.to_string()), "response_message_loading": callback == 5, "response_message_ephemeral": false },
            "resource": resource,
        }));
    }
    Answer::no_content()
}

/// `/webhooks/{application_id}/{token}...`: follow-ups and edits of interaction responses.
/// How long an interaction's token works for follow-ups and edits.
pub const TOKEN_LIFETIME: Duration = Duration::from_secs(15 * 60);

fn interaction_webhook(state: &mut State, ctx: &Ctx) -> Answer {
    let unknown_webhook = || Answer::error(404, 10015, "Unknown Webhook");
    let webhook_id = ctx.id("webhook_id");
    if webhook_id != APPLICATION_ID {
        return ctx.reject(state, format!("webhook {webhook_id} is not the application's; the fake only knows interaction webhooks"), unknown_webhook());
    }
    let token = ctx.param("webhook_token").to_string();
    let Some(&id) = state.world.interaction_tokens.get(&token) else {
        return ctx.reject(state, "unknown interaction token", unknown_webhook());
    };
    let Some(rec) = state.world.interactions.get(&id) else {
        return unknown_webhook();
    };
    // Receiving and Responding docs: "Interaction tokens are valid for 15 minutes". After
    // that the webhook routes answer 401 Invalid Webhook Token (50027), which a bot cannot
    // retry its way out of.
    let age = rec.created.elapsed() + rec.aged;
    if age > TOKEN_LIFETIME {
        return Answer::error(401, 50027, "Invalid Webhook Token")
            .with_note(format!("interaction token {} s old", age.as_secs()));
    }
    let Some(callback) = rec.callback else {
        return ctx.reject(
            state,
            format!("interaction {id} used through its webhook before being acknowledged"),
            unknown_webhook(),
        );
    };
    let (channel_id, original, followups) =
        (rec.channel_id, rec.original_message, rec.followups.clone());
    let body = ctx.body().clone();
    let target = if ctx.template.ends_with("@original") {
        match original {
            Some(m) => Some(m),
            None => {
                return ctx.reject(
                    state,
                    format!("interaction {id} has no original message (it was answered with type {callback})"),
                    Answer::error(404, 10008, "Unknown Message"),
                );
            }
        }
    } else if ctx.template.ends_with("{message_id}") {
        let m = ctx.id("message_id");
        if Some(m) != original && !followups.contains(&m) {
            return ctx.reject(
                state,
                format!("message {m} does not belong to interaction {id}"),
                Answer::error(404, 10008, "Unknown Message"),
            );
        }
        Some(m)
    } else {
        None
    };
    let push_response = |state: &mut State, kind: &str, message: Value| {
        if let Some(rec) = state.world.interactions.get_mut(&id) {
            rec.responses
                .push(json!({ "kind": kind, "type": null, "body": body, "message": message }));
        }
    };
    match (ctx.method, target) {
        ("POST", None) => {
            // The first follow-up after a deferred response replaces the "thinking" message.
            let loading = original
                .and_then(|m| state.world.messages.get(&m))
                .is_some_and(|m| m.value["flags"].as_u64().unwrap_or(0) & FLAG_LOADING != 0);
            let result = if loading {
                let m = original.unwrap_or_default();
                edit_message(state, ctx, m, &body).map(|_| m)
            } else {
                let how = Authoring {
                    interaction: Some(id),
                    ..Authoring::default()
                };
                create_message(state, ctx, channel_id, &body, how)
            };
            match result {
                Ok(m) => {
                    if let Some(rec) = state.world.interactions.get_mut(&id) {
                        if !rec.followups.contains(&m) && Some(m) != rec.original_message {
                            rec.followups.push(m);
                        }
                    }
                    push_response(state, "followup", body.clone());
                    Answer::ok(state.world.messages[&m].value.clone())
                }
                Err(a) => a,
            }
        }
        ("GET", Some(m)) => match state.world.messages.get(&m) {
            Some(stored) if stored.deleted.is_none() => Answer::ok(stored.value.clone()),
            _ => ctx.reject(
                state,
                format!("message {m} was deleted"),
                Answer::error(404, 10008, "Unknown Message"),
            ),
        },
        ("PATCH", Some(m)) => {
            if state
                .world
                .messages
                .get(&m)
                .is_none_or(|s| s.deleted.is_some())
            {
                return ctx.reject(
                    state,
                    format!("message {m} was deleted"),
                    Answer::error(404, 10008, "Unknown Message"),
                );
            }
            match edit_message(state, ctx, m, &body) {
                Ok(v) => {
                    let kind = if Some(m) == original {
                        "edit_original"
                    } else {
                        "edit_followup"
                    };
                    push_response(state, kind, body.clone());
                    Answer::ok(v)
                }
                Err(a) => a,
            }
        }
        ("DELETE", Some(m)) => {
            if state
                .world
                .messages
                .get(&m)
                .is_none_or(|s| s.deleted.is_some())
            {
                return ctx.reject(
                    state,
                    format!("message {m} was already deleted"),
                    Answer::error(404, 10008, "Unknown Message"),
                );
            }
            delete_message(state, m);
            let kind = if Some(m) == original {
                "delete_original"
            } else {
                "delete_followup"
            };
            push_response(state, kind, Value::Null);
            Answer::no_content()
        }
        _ => ctx.reject(
            state,
            "the fake Discord implements only interaction follow-ups on webhook routes",
            Answer::error(501, 0, "not implemented by the fake"),
        ),
    }
}

// ----- multipart -----

/// Splits a `multipart/form-data` body into its `payload_json` and files.
fn parse_multipart(
    content_type: &str,
    bytes: &[u8],
) -> Result<(Option<Value>, Vec<UploadedFile>), String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"').to_string())
        .ok_or("no boundary")?;
    let delimiter = format!("--{boundary}").into_bytes();
    let mut payload = None;
    let mut files = Vec::new();
    for part in split_bytes(bytes, &delimiter).into_iter().skip(1) {
        if part.starts_with(b"--") {
            break;
        }
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = find(part, b"\r\n\r\n") else {
            continue;
        };
        let headers = String::from_utf8_lossy(&part[..split]).to_string();
        let mut data = &part[split + 4..];
        data = data.strip_suffix(b"\r\n").unwrap_or(data);
        let disposition = headers
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition"))
            .unwrap_or("");
        let attr = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{name}="))
                    .map(|v| v.trim_matches('"').to_string())
            })
        };
        let field = attr("name").unwrap_or_default();
        if field == "payload_json" {
            payload = Some(
                serde_json::from_slice(data)
                    .map_err(|e| format!("payload_json is not JSON: {e}"))?,
            );
        } else {
            let content_type = headers
                .lines()
                .find(|l| l.to_ascii_lowercase().starts_with("content-type"))
                .and_then(|l| l.split_once(':'))
                .map(|(_, v)| v.trim().to_string());
            files.push(UploadedFile {
                filename: attr("filename").unwrap_or_else(|| field.clone()),
                field,
                content_type,
                size: data.len(),
                data: data.to_vec(),
            });
        }
    }
    Ok((payload, files))
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn split_bytes<'a>(mut bytes: &'a [u8], delimiter: &[u8]) -> Vec<&'a [u8]> {
    let mut parts = Vec::new();
    while let Some(i) = find(bytes, delimiter) {
        parts.push(&bytes[..i]);
        bytes = &bytes[i + delimiter.len()..];
    }
    parts.push(bytes);
    parts
}

/// Lets `mod.rs` create interaction records without reaching into this module's internals.
pub fn new_interaction_record(
    id: u64,
    token: String,
    kind: u8,
    guild_id: Option<u64>,
    channel_id: u64,
    user_id: u64,
    source_message: Option<u64>,
) -> InteractionRecord {
    InteractionRecord {
        id,
        token,
        kind,
        guild_id,
        channel_id,
        user_id,
        created: Instant::now(),
        aged: Duration::ZERO,
        callback: None,
        original_message: None,
        followups: Vec::new(),
        responses: Vec::new(),
        source_message,
    }
}
