//! A crisis fanned out to 100,000 subscribers through the fake Discord on 127.0.0.1, which
//! enforces a global rate limit the way Discord does (a sliding second; 429 with `retry_after`
//! and `global: true` over it). The limit is scaled up from Discord's 50 requests a second so
//! that the run takes about a minute: 100,000 DM channels opened, then 100,000 direct messages.
//!
//! Phase 1, the DM channels: every member subscribes through Beacon's own
//! `beacon::discord::crisis::subscribe` (opens the DM channel with `POST /users/@me/channels`
//! through serenity, stores the subscription, sends the confirmation), called directly on a `Bot` built on the same
//! SQLite file, at half the outbox's rate (two requests each), with as many calls in flight as the outbox allows.
//! Pushing 100,000 `/subscribe` interactions instead would also push 100,000 gateway events and
//! answer 100,000 interactions, none of which is measured here, and Beacon does not pace
//! `/subscribe`. The calls are paced like the baseline (each at its own moment, start + k/rate),
//! not with Beacon's `Pacer`: a sleep per call on a `Pacer` that never catches up cannot go
//! faster than one call per tick of tokio's 1 ms timer.
//!
//! Phase 2, the fan-out: the moderator runs `/crisis start` through the fake; Beacon posts the
//! progress message, the status and the announcement, writes the outbox and its sender delivers
//! one direct message to each subscriber. Timed from the push to the moment the fake accepted
//! the last direct message, from the fake's own request log; every subscriber's DM channel must
//! then hold exactly one message, and the progress message the final report.
//!
//! The baseline, in the same run with Beacon stopped: a bare loop that posts the same message to
//! the same DM channels through the same limit, paced at exactly the limit by sleeping until
//! each request's moment, with no database, retrying a 429 after its `retry_after`.
//!
//! Beacon's pace (`announcements.dm_rate_per_second`) is 97% of the limit: the other 3% is for
//! the bot's other requests (the progress message is edited every second) and for jitter, as a
//! sliding-second limit refuses a request when the previous second held a burst: at 3,400 a
//! second, 3% is 102 requests, a stall of about 30 ms.
//!
//! Run with `cargo bench --bench outbox` (SQLite in a temporary directory). Set
//! `BENCH_SUBSCRIBERS` (default 100000), `BENCH_LIMIT` (the global limit, requests per second,
//! default 3400) and `BENCH_CHECK_ONE_IN` (default 50, as in `benches/gateway.rs`). Beacon's
//! errors go to stderr (`RUST_LOG`, default `error`).

#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::{HashMap, HashSet};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use beacon::config::{Config, Secret};
use beacon::discord::{Bot, http_client, load_faq, load_replies, thresholds};
use beacon::locale::Locales;
use beacon::store::Store;
use fake_discord::FakeDiscord;
use serde_json::{Value, json};
use tokio::sync::Semaphore;

const WAIT: Duration = Duration::from_secs(60);

/// Beacon's share of the global limit for direct messages (see the module's documentation).
const DM_SHARE: f64 = 0.97;

/// Discord's real global limit, for the extrapolation.
const DISCORD_LIMIT: f64 = 50.0;

/// Calls in flight at once, in phase 1 and the baseline: as many as Beacon's outbox sender
/// allows itself (`IN_FLIGHT` in `src/discord/outbox.rs`).
const IN_FLIGHT: usize = 64;

const TOPIC: &str = "payments";
const TITLE: &str = "Card payments failing";
const STATUS: &str =
    "Card payments fail at checkout since 14:05. We are on it; next update at 15:00.";

/// The server: a moderator, the channels crisis mode uses, and the members who subscribe.
struct World {
    fake: FakeDiscord,
    guild: u64,
    general: u64,
    status: u64,
    announcements: u64,
    moderator: u64,
    members: Vec<u64>,
}

fn env_or<T: FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn world(fake: FakeDiscord, members: usize) -> World {
    let guild = fake.add_guild("Shop");
    let general = fake.add_text_channel(guild, "general");
    let status = fake.add_text_channel(guild, "status");
    let announcements = fake.add_announcement_channel(guild, "announcements");
    let moderator_role = fake.add_role(guild, "Moderators", 1 << 5);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let members = (0..members)
        .map(|n| fake.add_member(guild, &format!("member{n}"), &[]))
        .collect();
    World {
        fake,
        guild,
        general,
        status,
        announcements,
        moderator,
        members,
    }
}

fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or_default()
}

fn snowflake(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}

/// Beacon on the SQLite file, connected, with the status and announcement channels set up.
async fn start_beacon(
    w: &World,
    config: Config,
) -> (
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(beacon::discord::run(config, async {
        let _ = rx.await;
    }));
    w.fake.wait_ready(WAIT).await;
    w.fake.wait_commands_registered(WAIT).await;
    let setup = w.fake.push_slash_command(
        w.guild,
        w.general,
        w.moderator,
        "setup",
        json!([{"name": "channels", "type": 1, "options": [
            {"name": "status", "type": 7, "value": w.status.to_string()},
            {"name": "announcements", "type": 7, "value": w.announcements.to_string()},
        ]}]),
        "en-US",
    );
    w.fake.wait_interaction_reply(&setup, WAIT).await;
    (tx, task)
}

/// When a phase's requests were accepted (the fake's clock), and what that makes.
struct Timing {
    /// Sorted.
    at: Vec<Instant>,
}

impl Timing {
    fn of(mut at: Vec<Instant>) -> Option<Timing> {
        at.sort_unstable();
        (!at.is_empty()).then_some(Timing { at })
    }

    fn count(&self) -> usize {
        self.at.len()
    }

    fn first(&self) -> Instant {
        self.at[0]
    }

    fn last(&self) -> Instant {
        self.at[self.at.len() - 1]
    }

    /// From the first accepted request to the last, in seconds.
    fn window(&self) -> f64 {
        (self.last() - self.first()).as_secs_f64().max(1e-9)
    }

    /// Accepted requests per second over the window.
    fn rate(&self) -> f64 {
        self.count() as f64 / self.window()
    }

    /// The rate tenth by tenth of the requests, and the waits over 10 ms between two accepted
    /// requests: how many, their sum, and where the first ones came (after which request).
    fn describe(&self, name: &str) {
        let size = self.at.len().div_ceil(10).max(2);
        let tenths: Vec<String> = self
            .at
            .chunks(size)
            .filter(|c| c.len() > 1)
            .map(|c| {
                let span = (c[c.len() - 1] - c[0]).as_secs_f64().max(1e-9);
                format!("{:.0}", (c.len() - 1) as f64 / span)
            })
            .collect();
        println!("  {name}: req/s by tenths: {}", tenths.join(" "));
        let long: Vec<(usize, Duration)> = self
            .at
            .windows(2)
            .enumerate()
            .map(|(i, p)| (i + 1, p[1] - p[0]))
            .filter(|(_, gap)| *gap > Duration::from_millis(10))
            .collect();
        let total: Duration = long.iter().map(|(_, gap)| *gap).sum();
        let longest = long.iter().map(|(_, gap)| *gap).max().unwrap_or_default();
        let first: Vec<String> = long
            .iter()
            .take(8)
            .map(|(after, gap)| format!("#{after} {:.0}", ms(*gap)))
            .collect();
        println!(
            "    {} waits over 10 ms between two accepted requests, {:.0} ms in all, longest \
             {:.0} ms; the first after request (ms): {}",
            long.len(),
            ms(total),
            ms(longest),
            first.join(", ")
        );
    }
}

/// 100000 as "100,000".
fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// One line of the table.
struct Phase {
    name: &'static str,
    /// From the phase's start (first call, push, first send) to the last accepted request.
    total: Duration,
    timing: Timing,
    /// 429s the global limit answered during the phase.
    limited: u64,
}

/// Phase 1: every member subscribes through Beacon's `subscribe`, at the outbox's rate.
/// Returns the phase, each member's DM channel, and how many subscriptions did not succeed.
async fn open_dm_channels(w: &World, config: &Config) -> (Phase, HashMap<u64, u64>, u64) {
    let fake = &w.fake;
    let store = Store::connect(&config.database.url)
        .await
        .expect("phase 1: open the database");
    let faq = load_faq(
        config.knowledge_base.dir.clone(),
        thresholds(config.answers.threshold),
    )
    .await
    .expect("phase 1: load the knowledge base");
    let replies = load_replies(&config.knowledge_base.dir)
        .unwrap_or_else(|p| panic!("phase 1: saved replies: {p:?}"));
    let bot = Arc::new(Bot::new(config, store.clone(), faq, replies));
    let http = Arc::new(
        http_client(config, &config.discord.api_url).expect("phase 1: serenity's HTTP client"),
    );
    let subscribed = Locales::embedded().get("en", "crisis.subscribed_all");
    let failed = Arc::new(AtomicU64::new(0));

    let from = fake.request_count();
    let limited = fake.rate_limited_count();
    // Two requests a subscription (the DM channel, then the confirmation), so half the pace.
    let every = Duration::from_secs_f64(2.0 / f64::from(config.announcements.dm_rate_per_second));
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    for (k, &user) in w.members.iter().enumerate() {
        // As the outbox does: the moment first, then a place among the calls in flight.
        tokio::time::sleep_until((started + every * k as u32).into()).await;
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore open");
        let (bot, http, failed) = (bot.clone(), http.clone(), failed.clone());
        let guild = w.guild;
        tokio::spawn(async move {
            let answer =
                beacon::discord::crisis::subscribe(&bot, &http, guild, user, None, "en").await;
            match answer {
                Ok(text) if text == subscribed => {}
                other => {
                    if failed.fetch_add(1, Ordering::Relaxed) < 5 {
                        eprintln!("phase 1: member {user} not subscribed: {other:?}");
                    }
                }
            }
            drop(permit);
        });
    }
    let _all_done = in_flight
        .acquire_many(IN_FLIGHT as u32)
        .await
        .expect("semaphore open");
    store.close().await;

    let opened: Vec<fake_discord::Recorded> = fake
        .requests_matching("POST", "/users/@me/channels")
        .into_iter()
        .filter(|r| r.index >= from && !r.rate_limited && r.status == 200)
        .collect();
    let dms: HashMap<u64, u64> = opened
        .iter()
        .filter_map(|r| {
            let user = snowflake(&r.body.as_ref()?["recipient_id"])?;
            let dm = snowflake(&r.response.as_ref()?["id"])?;
            Some((user, dm))
        })
        .collect();
    let timing = Timing::of(opened.iter().map(|r| r.handled_at).collect())
        .expect("phase 1: no DM channel opened");
    let phase = Phase {
        name: "1 DM channels (subscribe)",
        total: timing.last() - started,
        timing,
        limited: fake.rate_limited_count() - limited,
    };
    (phase, dms, failed.load(Ordering::Relaxed))
}

/// What phase 2 found besides its timing.
struct FanOut {
    phase: Phase,
    /// DM requests accepted: one per subscriber unless some were sent again.
    accepted: usize,
    /// Repeats Discord (the fake) answered with the first message, by nonce.
    deduplicated: usize,
    /// Every accepted request in the fan-out window, DMs and the rest, per second.
    all_rate: f64,
    /// The body of one of Beacon's direct messages, for the baseline.
    template: Value,
    checks: Vec<(String, bool)>,
}

/// Phase 2: `/crisis start`, then every DM accepted and the final report shown.
async fn fan_out(w: &World, dms: &HashMap<u64, u64>, rate: u32) -> FanOut {
    let fake = &w.fake;
    let n = w.members.len();
    let from = fake.request_count();
    // Each DM channel holds the subscription's confirmation already: count only what the
    // fan-out adds.
    let before = fake.bot_message_counts();
    let limited = fake.rate_limited_count();
    let pushed = Instant::now();
    let start = fake.push_slash_command(
        w.guild,
        w.general,
        w.moderator,
        "crisis",
        json!([{"name": "start", "type": 1, "options": [
            {"name": "topic", "type": 3, "value": TOPIC},
            {"name": "title", "type": 3, "value": TITLE},
            {"name": "status", "type": 3, "value": STATUS},
        ]}]),
        "en-US",
    );
    let reply = fake.wait_interaction_reply(&start, WAIT).await;
    let reply = content(&reply["message"]).to_string();
    // Few messages exist yet (the DMs are just starting), so this scan is short.
    let progress = fake
        .bot_messages(w.general)
        .iter()
        .find(|m| content(m).contains(&format!("“{TITLE}”")))
        .and_then(|m| snowflake(&m["id"]));
    let done = format!("Delivered “{TITLE}”:");
    let deadline =
        Instant::now() + Duration::from_secs_f64(n as f64 / f64::from(rate.min(500)) * 2.0) + WAIT;
    // A look at one message five times a second: the timing comes from the request log.
    let report = loop {
        let text = progress
            .and_then(|id| fake.message(id))
            .map(|m| content(&m).to_string())
            .unwrap_or_default();
        if text.starts_with(&done) || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let limited = fake.rate_limited_count() - limited;

    let dm_paths: HashSet<String> = dms
        .values()
        .map(|dm| format!("/channels/{dm}/messages"))
        .collect();
    let log = fake.accepted_since(from);
    let dm_times: Vec<Instant> = log
        .iter()
        .filter(|(_, method, path)| method == "POST" && dm_paths.contains(path))
        .map(|(at, _, _)| *at)
        .collect();
    let timing = Timing::of(dm_times).expect("phase 2: no direct message accepted");
    let in_window = log
        .iter()
        .filter(|(at, _, _)| *at >= timing.first() && *at <= timing.last())
        .count();
    let all_rate = in_window as f64 / timing.window();
    let accepted = timing.count();

    // What was sent: the crisis update, one nonce per delivery.
    let mut template = Value::Null;
    let (mut wrong, mut deduplicated) = (0, 0);
    let mut nonces = HashSet::new();
    for r in fake.requests_since(from) {
        if r.rate_limited || r.method != "POST" || !dm_paths.contains(&r.path) {
            continue;
        }
        let body = r.body.unwrap_or_default();
        if !content(&body).starts_with(&format!("🔴 **{TITLE}**")) {
            wrong += 1;
        }
        if r.note
            .is_some_and(|n| n.contains("returned existing message"))
        {
            deduplicated += 1;
        }
        nonces.insert(body["nonce"].to_string());
        if template.is_null() {
            template = body;
        }
    }

    let counts = fake.bot_message_counts();
    let added =
        |dm: &u64| counts.get(dm).copied().unwrap_or(0) - before.get(dm).copied().unwrap_or(0);
    let (mut once, mut missing, mut more) = (0, 0, 0);
    for user in &w.members {
        match dms.get(user).map_or(0, added) {
            0 => missing += 1,
            1 => once += 1,
            _ => more += 1,
        }
    }
    // A count may be written 100000 or 100,000.
    let says = |text: &str, pattern: &dyn Fn(&str) -> String| {
        text.contains(&pattern(&n.to_string())) || text.contains(&pattern(&thousands(n)))
    };
    let checks = vec![
        (
            format!("/crisis start counts {n} subscribers (reply: {reply:?})"),
            says(&reply, &|n| format!("{n} subscriber(s)")),
        ),
        (
            format!(
                "{once} of {n} subscribers' DM channels hold exactly one message from Beacon \
                 ({missing} none, {more} more than one)"
            ),
            once == n,
        ),
        (
            format!(
                "every direct message is the crisis update ({wrong} are not), {} distinct nonces",
                nonces.len()
            ),
            wrong == 0 && nonces.len() == n,
        ),
        (
            format!("the progress message shows the final report: {report:?}"),
            report.starts_with(&done)
                && says(&report, &|n| format!(": {n} delivered, 0 refused "))
                && says(&report, &|n| format!(" 0 failed, of {n}.")),
        ),
    ];
    FanOut {
        phase: Phase {
            name: "2 fan-out (/crisis start)",
            total: timing.last() - pushed,
            timing,
            limited,
        },
        accepted,
        deduplicated,
        all_rate,
        template,
        checks,
    }
}

/// Posts one message, waiting out every 429 as Discord asks; the number of 429s, or what went
/// wrong.
async fn post_until_accepted(
    client: &reqwest::Client,
    url: &str,
    body: Vec<u8>,
) -> Result<u32, String> {
    for refused in 0.. {
        let response = client
            .post(url)
            .header("Authorization", format!("Bot {}", FakeDiscord::TOKEN))
            .header("Content-Type", "application/json")
            .body(body.clone())
            .send()
            .await
            .map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        if (200..300).contains(&status) {
            return Ok(refused);
        }
        let json: Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if status != 429 {
            return Err(format!("{status}: {json}"));
        }
        let wait = json["retry_after"].as_f64().unwrap_or(1.0).clamp(0.0, 60.0);
        tokio::time::sleep(Duration::from_secs_f64(wait)).await;
    }
    unreachable!("the loop returns")
}

/// The baseline: the same message to the same DM channels, paced at exactly the limit by
/// sleeping until each send's moment, no database.
async fn bare_loop(
    w: &World,
    dms: &HashMap<u64, u64>,
    limit: u32,
    template: &Value,
) -> (Phase, Vec<(String, bool)>) {
    let fake = &w.fake;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(15))
        .build()
        .expect("baseline: reqwest client");
    let base = format!("{}/api/v10", fake.api_url());
    let from = fake.request_count();
    // Each subscriber's DM channel already holds Beacon's messages (the update, and since
    // subscriptions are confirmed, the confirmation): count only what the baseline adds.
    let before = fake.bot_message_counts();
    let limited = fake.rate_limited_count();
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let failed = Arc::new(AtomicU64::new(0));
    let every = Duration::from_secs_f64(1.0 / f64::from(limit));
    let channels: Vec<u64> = w
        .members
        .iter()
        .filter_map(|u| dms.get(u))
        .copied()
        .collect();
    let started = Instant::now();
    for (n, dm) in channels.iter().enumerate() {
        tokio::time::sleep_until((started + every * n as u32).into()).await;
        let permit = in_flight
            .clone()
            .acquire_owned()
            .await
            .expect("semaphore open");
        let mut body = template.clone();
        body["nonce"] = format!("b{n}").into();
        let body = serde_json::to_vec(&body).expect("a JSON body");
        let (client, failed) = (client.clone(), failed.clone());
        let url = format!("{base}/channels/{dm}/messages");
        tokio::spawn(async move {
            if let Err(e) = post_until_accepted(&client, &url, body).await
                && failed.fetch_add(1, Ordering::Relaxed) < 5
            {
                eprintln!("baseline: {url}: {e}");
            }
            drop(permit);
        });
    }
    let _all_done = in_flight
        .acquire_many(IN_FLIGHT as u32)
        .await
        .expect("semaphore open");
    let limited = fake.rate_limited_count() - limited;

    let paths: HashSet<String> = channels
        .iter()
        .map(|dm| format!("/channels/{dm}/messages"))
        .collect();
    let times: Vec<Instant> = fake
        .accepted_since(from)
        .into_iter()
        .filter(|(_, method, path)| method == "POST" && paths.contains(path))
        .map(|(at, _, _)| at)
        .collect();
    let timing = Timing::of(times).expect("baseline: nothing accepted");
    let counts = fake.bot_message_counts();
    let two = channels
        .iter()
        .filter(|dm| {
            counts.get(dm).copied().unwrap_or(0) == before.get(dm).copied().unwrap_or(0) + 1
        })
        .count();
    let failed = failed.load(Ordering::Relaxed);
    let checks = vec![(
        format!(
            "baseline: {two} of {} DM channels hold its message beside Beacon's \
             ({failed} sends failed)",
            channels.len()
        ),
        two == channels.len() && failed == 0,
    )];
    let phase = Phase {
        name: "baseline: bare paced loop",
        total: timing.last() - started,
        timing,
        limited,
    };
    (phase, checks)
}

fn row(p: &Phase, limit: u32) {
    println!(
        "  {:<28} {:>8} {:>9.2} {:>9.2} {:>8.0} {:>10.1}% {:>6}",
        p.name,
        p.timing.count(),
        p.total.as_secs_f64(),
        p.timing.window(),
        p.timing.rate(),
        p.timing.rate() / f64::from(limit) * 100.0,
        p.limited
    );
}

fn minutes(seconds: f64) -> String {
    format!("{seconds:.0} s ({:.1} min)", seconds / 60.0)
}

fn main() {
    let n: usize = env_or("BENCH_SUBSCRIBERS", 100_000);
    let limit: u32 = env_or("BENCH_LIMIT", 3400);
    let rate = ((f64::from(limit) * DM_SHARE).floor() as u32).max(1);
    let filter = std::env::var("RUST_LOG").unwrap_or_else(|_| "error".into());
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // As in the gateway benchmark: checking every request would cost more than the bot.
    FakeDiscord::check_one_in(env_or("BENCH_CHECK_ONE_IN", 50));
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let fake = FakeDiscord::start().await;
        fake.set_global_rate_limit(Some(limit));

        let t = Instant::now();
        let w = world(fake, n);
        let adding = t.elapsed();
        let mut config = Config::default();
        config.discord.token = Some(Secret::new(FakeDiscord::TOKEN));
        config.discord.api_url = w.fake.api_url();
        config.database.url = db_url;
        config.knowledge_base.dir = concat!(env!("CARGO_MANIFEST_DIR"), "/intents").into();
        config.announcements.dm_rate_per_second = rate;
        // The REST gate paces everything together a little under the fake's limit.
        config.discord.rest_per_second = rate;
        let t = Instant::now();
        let (stop, task) = start_beacon(&w, config.clone()).await;
        println!(
            "crisis fan-out to {n} subscribers through the fake Discord on 127.0.0.1, global limit \
             {limit} requests/s, Beacon's dm_rate_per_second {rate} ({:.0}% of it); 2 cores \
             shared with the fake",
            DM_SHARE * 100.0
        );
        println!(
            "  {n} members added to the fake in {:.2} s; Beacon connected and set up in {:.2} s \
             (READY and GUILD_CREATE carry every member)",
            adding.as_secs_f64(),
            t.elapsed().as_secs_f64()
        );

        let (p1, dms, not_subscribed) = open_dm_channels(&w, &config).await;
        p1.timing.describe("phase 1");
        let f = fan_out(&w, &dms, rate).await;
        f.phase.timing.describe("phase 2");
        let _ = stop.send(());
        let stopped = tokio::time::timeout(WAIT, task).await;
        let (b, baseline_checks) = bare_loop(&w, &dms, limit, &f.template).await;
        b.timing.describe("baseline");

        println!(
            "\ntimes from the fake's request log; total = from the phase's start (first call, \
             the push, first send) to the last accepted request; window = first to last accepted"
        );
        println!(
            "  {:<28} {:>8} {:>9} {:>9} {:>8} {:>11} {:>6}",
            "phase", "requests", "total s", "window s", "req/s", "% of limit", "429s"
        );
        row(&p1, limit);
        row(&f.phase, limit);
        row(&b, limit);
        println!(
            "  phase 2: {} DM requests accepted for {n} subscribers ({} answered with the first \
             message by nonce); every accepted request in its window, DMs and the rest: {:.0}/s",
            f.accepted, f.deduplicated, f.all_rate
        );
        let share = f.phase.timing.rate() / f64::from(limit);
        println!(
            "  target (>= 95% of the allowed rate, a handful of 429s at most): {:.1}% and \
             {} 429s: {}",
            share * 100.0,
            f.phase.limited,
            if share >= 0.95 && f.phase.limited <= 5 {
                "met"
            } else {
                "NOT met"
            }
        );

        println!(
            "  Beacon's pace is {rate}/s: phase 1 reached {:.1}% of it, the fan-out {:.1}%",
            p1.timing.rate() / f64::from(rate) * 100.0,
            f.phase.timing.rate() / f64::from(rate) * 100.0
        );

        let e1 = p1.timing.rate() / f64::from(limit);
        let messages = n as f64 / (DISCORD_LIMIT * share);
        let opening = n as f64 / (DISCORD_LIMIT * e1);
        println!(
            "\n{n} subscribers at Discord's real limit of {DISCORD_LIMIT:.0} requests/s \
             (computed from the measured share of the limit, not measured):"
        );
        println!(
            "  messages only (DM channels open already), at {:.1}%: {}",
            share * 100.0,
            minutes(messages)
        );
        println!(
            "  DM channels ({:.1}%) + messages ({:.1}%): {}",
            e1 * 100.0,
            share * 100.0,
            minutes(opening + messages)
        );
        if e1 + 0.02 < share {
            println!(
                "  DM channels at the fan-out's share too: {} (phase 1 is below it: see its \
                 tenths)",
                minutes(2.0 * messages)
            );
        }
        // For comparison: what a sender that holds its pace takes there.
        let pace = (DISCORD_LIMIT * DM_SHARE).floor();
        println!(
            "  a sender holding dm_rate_per_second = {pace:.0} ({:.0}% of {DISCORD_LIMIT:.0}): \
             messages {}, DM channels + messages {}",
            DM_SHARE * 100.0,
            minutes(n as f64 / pace),
            minutes(2.0 * n as f64 / pace)
        );

        let subscribed = format!(
            "{} of {n} members subscribed, each with a DM channel ({not_subscribed} not)",
            dms.len()
        );
        let mut checks = vec![(subscribed, not_subscribed == 0 && dms.len() == n)];
        checks.extend(f.checks);
        checks.extend(baseline_checks);
        let stopped_ok = matches!(stopped, Ok(Ok(Ok(()))));
        checks.push((format!("Beacon stopped cleanly ({stopped:?})"), stopped_ok));
        let violations = w.fake.violations();
        checks.push((
            format!(
                "the fake saw no violations ({}; first: {:?})",
                violations.len(),
                violations.first()
            ),
            violations.is_empty(),
        ));
        println!("\nchecks:");
        for (name, ok) in &checks {
            println!("  [{}] {name}", if *ok { "ok" } else { "FAILED" });
        }
        let failed: Vec<&str> = checks
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name.as_str())
            .collect();
        if failed.is_empty() {
            println!("\nall checks passed: every subscriber got the update exactly once");
        } else {
            panic!(
                "{} check(s) failed:\n  {}",
                failed.len(),
                failed.join("\n  ")
            );
        }
    });
}
