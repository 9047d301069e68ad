//! Beacon under Discord's real global limit (50 requests a second), through the fake Discord on
//! 127.0.0.1, which enforces it as Discord does (a sliding second; 429 with `retry_after` and
//! `global: true`; interaction endpoints exempt).
//!
//! **Burst.** 500 members each ask one question at once in the help channel. Every question
//! must get exactly one answer; the physical minimum is 500 / 50 = 10 s. Timed from the first
//! push to the moment the fake accepted the last answer. Side by side in the same run, the
//! baseline: a bare serenity bot answering the same burst through the same limit with
//! serenity's client and the retry Beacon had before its REST gate (4 tries, doubling from
//! 200 ms, on 429 and 5xx).
//!
//! **Fan-out and questions.** 10,000 subscribers (seeded in the database) and 20 questions a
//! second from many members, first for a while alone, then while a crisis update fans out to
//! the subscribers. The fan-out's share is measured over the same while: direct messages
//! accepted a second, against the capacity the questions leave (50 less the other requests a
//! second the fake accepted then). The questions' answer times with and without the fan-out
//! are compared.
//!
//! Run with `cargo bench --bench limits` (SQLite in a temporary directory). Set
//! `BENCH_BURST` (default 500), `BENCH_SUBSCRIBERS` (default 10000), `BENCH_QUESTION_RATE`
//! (default 20), `BENCH_SECONDS` (each phase of the second part, default 30) and
//! `BENCH_CHECK_ONE_IN` (default 50, as in `benches/gateway.rs`).

#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use beacon::config::{Config, Secret};
use beacon::desk::crisis::{CrisisLedger, Subscription};
use beacon::eval::percentile;
use fake_discord::FakeDiscord;
use serde_json::json;
use serenity::all::{Context, CreateAllowedMentions, CreateMessage, EventHandler, Message};
use serenity::async_trait;

/// Discord's global limit, requests a second.
const LIMIT: u32 = 50;
const WAIT: Duration = Duration::from_secs(600);

fn env(name: &str, default: usize) -> usize {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

struct World {
    fake: FakeDiscord,
    guild: u64,
    help: u64,
    general: u64,
    status: u64,
    moderator: u64,
    askers: Vec<u64>,
}

fn world(fake: FakeDiscord, askers: usize) -> World {
    let guild = fake.add_guild("Bench");
    let help = fake.add_text_channel(guild, "help");
    let general = fake.add_text_channel(guild, "general");
    let status = fake.add_text_channel(guild, "status");
    let moderator_role = fake.add_role(guild, "Moderators", 1 << 5);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let askers = (0..askers)
        .map(|n| fake.add_member(guild, &format!("asker{n}"), &[]))
        .collect();
    World {
        fake,
        guild,
        help,
        general,
        status,
        moderator,
        askers,
    }
}

/// Beacon, connected, with the help and status channels set up; the limit is switched on once
/// it is set up.
async fn start_beacon(w: &World, db_url: &str) -> tokio::sync::oneshot::Sender<()> {
    let mut config = Config::default();
    config.discord.token = Some(Secret::new(FakeDiscord::TOKEN));
    config.discord.api_url = w.fake.api_url();
    config.database.url = db_url.to_string();
    config.knowledge_base.dir = concat!(env!("CARGO_MANIFEST_DIR"), "/intents").into();
    config.answers.cooldown_questions = usize::MAX / 2;
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(beacon::discord::run(config, async {
        let _ = rx.await;
    }));
    w.fake.wait_ready(WAIT).await;
    w.fake.wait_commands_registered(WAIT).await;
    for options in [
        json!([{"name": "help-channel", "type": 1, "options": [
            {"name": "channel", "type": 7, "value": w.help.to_string()}]}]),
        json!([{"name": "channels", "type": 1, "options": [
            {"name": "status", "type": 7, "value": w.status.to_string()}]}]),
    ] {
        let setup =
            w.fake
                .push_slash_command(w.guild, w.general, w.moderator, "setup", options, "en-US");
        w.fake.wait_interaction_reply(&setup, WAIT).await;
    }
    tx
}

/// The bot Beacon was before its REST gate, stripped to answering: serenity's client, the old
/// retry (4 tries, doubling from 200 ms, on 429 and 5xx).
struct Baseline;

#[async_trait]
impl EventHandler for Baseline {
    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let reply = CreateMessage::new()
            .content("Refunds go back to the way you paid, within 5 to 10 working days.")
            .reference_message(&msg)
            .allowed_mentions(CreateAllowedMentions::new());
        let mut delay = Duration::from_millis(200);
        for attempt in 1..=4 {
            match msg.channel_id.send_message(&ctx.http, reply.clone()).await {
                Ok(_) => return,
                Err(serenity::Error::Http(h))
                    if attempt < 4
                        && h.status_code()
                            .is_some_and(|s| s.as_u16() == 429 || s.is_server_error()) =>
                {
                    tokio::time::sleep(delay).await;
                    delay *= 2;
                }
                Err(_) => return,
            }
        }
    }
}

async fn start_baseline(w: &World) {
    let http = serenity::http::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(w.fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::all::ClientBuilder::new_with_http(http, beacon::discord::intents())
        .event_handler(Baseline)
        .await
        .expect("baseline client");
    tokio::spawn(async move { client.start().await });
    w.fake.wait_ready(WAIT).await;
}

/// What a burst came to.
struct Burst {
    answered_once: usize,
    unanswered: usize,
    twice: usize,
    seconds: f64,
    rate_limited: u64,
    after_first_second: usize,
}

/// Every asker asks once, at once; wait until each is answered or nothing has moved for 10 s.
async fn burst(w: &World) -> Burst {
    let from = w.fake.request_count();
    let limited = w.fake.rate_limited_count();
    let started = Instant::now();
    let asked: Vec<u64> = w
        .askers
        .iter()
        .map(|&u| {
            w.fake
                .push_message(w.help, u, "how do I get my money back for my order")
        })
        .collect();
    let mut last_change = Instant::now();
    let mut seen = 0;
    loop {
        let answers = w.fake.bot_message_count(w.help);
        if answers >= asked.len() {
            break;
        }
        if answers != seen {
            seen = answers;
            last_change = Instant::now();
        }
        if last_change.elapsed() > Duration::from_secs(10) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let requests = w.fake.requests_since(from);
    let path = format!("/channels/{}/messages", w.help);
    let mut per_question: HashMap<String, usize> = HashMap::new();
    let mut last = started;
    for r in &requests {
        if r.method == "POST" && r.path == path && r.status == 200 {
            if let Some(q) = r
                .body
                .as_ref()
                .and_then(|b| b["message_reference"]["message_id"].as_str())
            {
                *per_question.entry(q.to_string()).or_default() += 1;
                last = last.max(r.handled_at);
            }
        }
    }
    let first = requests.first().map_or(started, |r| r.handled_at);
    let after_first_second = requests
        .iter()
        .filter(|r| r.rate_limited && r.handled_at.duration_since(first) > Duration::from_secs(1))
        .count();
    Burst {
        answered_once: per_question.values().filter(|&&n| n == 1).count(),
        unanswered: asked.len() - per_question.len(),
        twice: per_question.values().filter(|&&n| n > 1).count(),
        seconds: last.duration_since(started).as_secs_f64(),
        rate_limited: w.fake.rate_limited_count() - limited,
        after_first_second,
    }
}

fn burst_row(name: &str, b: &Burst, total: usize) {
    let minimum = total as f64 / f64::from(LIMIT);
    println!(
        "  {name:<28} {:>9} {:>10} {:>7} {:>9.2} {:>8.2}x {:>6} {:>10}",
        b.answered_once,
        b.unanswered,
        b.twice,
        b.seconds,
        b.seconds / minimum,
        b.rate_limited,
        b.after_first_second
    );
}

/// `n` members subscribed to every topic, with their DM channels open, seeded straight into the
/// fake and the database.
async fn seed_subscribers(w: &World, db_url: &str, n: usize) {
    let store = beacon::store::Store::connect(db_url).await.expect("db");
    store.migrate().await.expect("migrate");
    for i in 0..n {
        let user = w.fake.add_member(w.guild, &format!("sub{i}"), &[]);
        let sub = Subscription {
            guild_id: w.guild,
            user_id: user,
            topic: "*".into(),
            dm_channel_id: w.fake.open_dm(user),
            lang: "en".into(),
            since_ms: 1,
            dm_refused_at_ms: None,
        };
        store.subscribe(&sub).await.expect("subscribe");
    }
    store.close().await;
}

/// What a while of steady questions came to.
struct Steady {
    p50_ms: f64,
    p99_ms: f64,
    questions_per_second: f64,
    other_per_second: f64,
    dms_per_second: f64,
}

/// `rate` questions a second for `seconds`, every one answered; the fake's accepted requests
/// over the while, by kind.
async fn steady(w: &World, rate: f64, seconds: f64) -> Steady {
    let from = w.fake.request_count();
    let started = Instant::now();
    let total = (rate * seconds) as usize;
    let mut pushed: HashMap<String, Instant> = HashMap::with_capacity(total);
    for n in 0..total {
        let due = started + Duration::from_secs_f64(n as f64 / rate);
        if let Some(wait) = due.checked_duration_since(Instant::now()) {
            tokio::time::sleep(wait).await;
        }
        let user = w.askers[n % w.askers.len()];
        let id = w.fake.push_message(w.help, user, "where is my parcel");
        pushed.insert(id.to_string(), Instant::now());
    }
    let ended = Instant::now();
    let deadline = Instant::now() + Duration::from_secs(60);
    let path = format!("/channels/{}/messages", w.help);
    loop {
        let answered = w
            .fake
            .requests_since(from)
            .iter()
            .filter(|r| r.method == "POST" && r.path == path && r.status == 200)
            .count();
        if answered >= total || Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let requests = w.fake.requests_since(from);
    let mut latencies: Vec<u128> = requests
        .iter()
        .filter(|r| r.method == "POST" && r.path == path && r.status == 200)
        .filter_map(|r| {
            let q = r.body.as_ref()?["message_reference"]["message_id"].as_str()?;
            Some(
                r.handled_at
                    .saturating_duration_since(*pushed.get(q)?)
                    .as_micros(),
            )
        })
        .collect();
    latencies.sort_unstable();
    let window: Vec<_> = requests
        .iter()
        .filter(|r| !r.rate_limited && r.handled_at <= ended)
        .filter(|r| fake_discord::counts_against_global_limit(&r.path))
        .collect();
    let span = ended.duration_since(started).as_secs_f64();
    let is_dm = |r: &fake_discord::Recorded| {
        r.method == "POST"
            && w.fake
                .channel(
                    r.path
                        .split('/')
                        .nth(2)
                        .and_then(|c| c.parse().ok())
                        .unwrap_or(0),
                )
                .is_some_and(|c| c["type"] == 1)
    };
    let dms = window.iter().filter(|r| is_dm(r)).count();
    let questions = window
        .iter()
        .filter(|r| r.path == path && r.method == "POST")
        .count();
    Steady {
        p50_ms: percentile(&latencies, 0.5) as f64 / 1000.0,
        p99_ms: percentile(&latencies, 0.99) as f64 / 1000.0,
        questions_per_second: questions as f64 / span,
        other_per_second: (window.len() - dms - questions) as f64 / span,
        dms_per_second: dms as f64 / span,
    }
}

fn main() {
    let burst_size = env("BENCH_BURST", 500);
    let subscribers = env("BENCH_SUBSCRIBERS", 10_000);
    let question_rate = env("BENCH_QUESTION_RATE", 20) as f64;
    let seconds = env("BENCH_SECONDS", 30) as f64;
    FakeDiscord::check_one_in(env("BENCH_CHECK_ONE_IN", 50) as u64);
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async {
        println!(
            "Beacon under Discord's global limit of {LIMIT} requests/s, through the fake Discord \
             on 127.0.0.1 (SQLite; 2 cores shared with the fake)\n"
        );
        println!(
            "burst: {burst_size} members ask at once (physical minimum {:.1} s)",
            burst_size as f64 / f64::from(LIMIT)
        );
        println!(
            "  {:<28} {:>9} {:>10} {:>7} {:>9} {:>9} {:>6} {:>10}",
            "", "answered", "unanswered", "twice", "seconds", "of min", "429s", "after 1 s"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let beacon = world(FakeDiscord::start().await, burst_size);
        let stop = start_beacon(&beacon, &db_url).await;
        beacon.fake.set_global_rate_limit(Some(LIMIT));
        let b = burst(&beacon).await;
        burst_row("beacon (REST gate)", &b, burst_size);
        let base = world(FakeDiscord::start().await, burst_size);
        start_baseline(&base).await;
        base.fake.set_global_rate_limit(Some(LIMIT));
        let e = burst(&base).await;
        burst_row("baseline (serenity, 4 tries)", &e, burst_size);
        let _ = stop.send(());
        tokio::time::sleep(Duration::from_millis(500)).await;

        println!(
            "\nfan-out to {subscribers} subscribers while {question_rate:.0} questions/s arrive, \
             {seconds:.0} s each way"
        );
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let w = world(FakeDiscord::start().await, 200);
        seed_subscribers(&w, &db_url, subscribers).await;
        let stop = start_beacon(&w, &db_url).await;
        w.fake.set_global_rate_limit(Some(LIMIT));
        let alone = steady(&w, question_rate, seconds).await;
        let crisis = w.fake.push_slash_command(
            w.guild,
            w.general,
            w.moderator,
            "crisis",
            json!([{"name": "start", "type": 1, "options": [
                {"name": "topic", "type": 3, "value": "payments"},
                {"name": "title", "type": 3, "value": "Card payments failing"},
                {"name": "status", "type": 3, "value": "We are on it."}]}]),
            "en-US",
        );
        w.fake.wait_interaction_reply(&crisis, WAIT).await;
        let with = steady(&w, question_rate, seconds).await;
        println!(
            "  {:<26} {:>8} {:>8} {:>11} {:>11} {:>8}",
            "", "p50 ms", "p99 ms", "answers/s", "other/s", "DMs/s"
        );
        for (name, s) in [
            ("questions alone", &alone),
            ("questions and the fan-out", &with),
        ] {
            println!(
                "  {name:<26} {:>8.0} {:>8.0} {:>11.1} {:>11.1} {:>8.1}",
                s.p50_ms, s.p99_ms, s.questions_per_second, s.other_per_second, s.dms_per_second
            );
        }
        let left = f64::from(LIMIT) - with.questions_per_second - with.other_per_second;
        println!(
            "  the fan-out took {:.1} DMs/s of the {left:.1} the questions left ({:.0}%); the \
             questions' p99 moved {:+.0} ms",
            with.dms_per_second,
            100.0 * with.dms_per_second / left,
            with.p99_ms - alone.p99_ms
        );
        println!(
            "  429s from the fake over both: {}",
            w.fake.rate_limited_count()
        );
        let _ = stop.send(());
    });
}
