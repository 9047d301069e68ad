//! The gateway path end to end: a message arrives on the gateway, Beacon decides, stores the
//! question and posts the answer over REST, all through the fake Discord on 127.0.0.1. Handling
//! time is from the moment the fake pushes the message to the moment the reply request reaches
//! it.
//!
//! Side by side in the same run, the baseline: a bare serenity bot that replies to every message
//! with a message of the same shape as Beacon's answers (an answer-length text and the two
//! buttons), with no matching and no database. Beacon's extra time over it is what Beacon costs.
//!
//! The fake Discord checks one request in 50 against Discord's OpenAPI description here, where
//! the tests check every one: on 2 cores, checking every request costs more than the bot.
//!
//! Run with `cargo bench --bench gateway` (SQLite in a temporary directory). Set
//! `BENCH_RATE` (questions per second, default 2000), `BENCH_SECONDS` (default 10) and
//! `BENCH_CHECK_ONE_IN` (default 50).

#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use beacon::config::{Config, Secret};
use beacon::eval::percentile;
use fake_discord::FakeDiscord;
use serde_json::json;
use serenity::all::{Context, CreateAllowedMentions, CreateMessage, EventHandler, Message};
use serenity::async_trait;

const WAIT: Duration = Duration::from_secs(60);

/// Questions in four languages: answers, close calls and questions nothing matches.
const QUESTIONS: &[&str] = &[
    "how can I get my money back for this order",
    "where is my package, it's been two weeks",
    "money",
    "asdf qwerty zxcv",
    "I want to talk to a human",
    "my card was declined",
    "چطور ایمیلم رو عوض کنم",
    "سفارشم هنوز نرسیده",
    "میخوام با یه آدم حرف بزنم",
    "كيف أسترجع أموالي؟",
    "طلبي تأخر ولم يصل",
    "اريد التحدث مع موظف",
    "Ինչպես փոխել իմ էլ․ փոստը",
    "Ուզում եմ գումարս հետ ստանալ",
    "Ուզում եմ խոսել մարդու հետ",
    "can I change",
];

struct World {
    fake: FakeDiscord,
    help: u64,
    users: Vec<u64>,
}

fn world(fake: FakeDiscord) -> (World, u64) {
    let guild = fake.add_guild("Bench");
    let help = fake.add_text_channel(guild, "help");
    let users = (0..64)
        .map(|n| fake.add_member(guild, &format!("user{n}"), &[]))
        .collect();
    (World { fake, help, users }, guild)
}

/// Beacon on a fresh SQLite file, with the help channel set up by a moderator.
async fn start_beacon(
    fake: FakeDiscord,
    db_url: String,
) -> (World, tokio::sync::oneshot::Sender<()>) {
    let (w, guild) = world(fake);
    let moderator_role = w.fake.add_role(guild, "Moderators", 1 << 5);
    let moderator = w.fake.add_member(guild, "mod", &[moderator_role]);
    let mut config = Config::default();
    config.discord.token = Some(Secret::new(FakeDiscord::TOKEN));
    config.discord.api_url = w.fake.api_url();
    config.database.url = db_url;
    config.knowledge_base.dir = concat!(env!("CARGO_MANIFEST_DIR"), "/intents").into();
    // The flood guard would hold back a benchmark's 64 very busy users.
    config.answers.cooldown_questions = usize::MAX / 2;
    // The fake sets no global limit here: the REST gate should not pace either.
    config.discord.rest_per_second = 1_000_000;
    let (tx, rx) = tokio::sync::oneshot::channel();
    tokio::spawn(beacon::discord::run(config, async {
        let _ = rx.await;
    }));
    w.fake.wait_ready(WAIT).await;
    w.fake.wait_commands_registered(WAIT).await;
    let setup = w.fake.push_slash_command(
        guild,
        w.help,
        moderator,
        "setup",
        json!([{"name": "help-channel", "type": 1, "options": [
            {"name": "channel", "type": 7, "value": w.help.to_string()}]}]),
        "en-US",
    );
    w.fake.wait_interaction_reply(&setup, WAIT).await;
    (w, tx)
}

/// Bounded like Beacon (`beacon::discord::MAX_ANSWERING`), so a burst does not open a
/// connection per message.
struct Echo(tokio::sync::Semaphore);

/// The length of a typical starter-KB answer.
const ECHO_TEXT: &str = "Refunds go back to the way you paid, within 5 to 10 working days after \
    we approve them. Open a ticket with your order number and we will take it from there; if the \
    order has not shipped yet, cancelling it refunds you at once.";

#[async_trait]
impl EventHandler for Echo {
    async fn message(&self, ctx: Context, msg: Message) {
        if msg.author.bot {
            return;
        }
        let Ok(_turn) = self.0.acquire().await else {
            return;
        };
        let buttons = beacon::discord::render::answer_buttons(
            beacon::locale::Locales::embedded(),
            "en",
            msg.id.get() as i64,
        );
        let reply = CreateMessage::new()
            .content(ECHO_TEXT)
            .components(buttons)
            .reference_message(&msg)
            .allowed_mentions(CreateAllowedMentions::new());
        let _ = msg.channel_id.send_message(&ctx.http, reply).await;
    }
}

/// The baseline: serenity replying with an answer-shaped message, nothing else.
async fn start_echo(fake: FakeDiscord) -> World {
    let (w, _) = world(fake);
    let http = serenity::http::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(w.fake.api_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = serenity::all::ClientBuilder::new_with_http(http, beacon::discord::intents())
        .event_handler(Echo(tokio::sync::Semaphore::new(
            beacon::discord::MAX_ANSWERING,
        )))
        .await
        .expect("echo client");
    tokio::spawn(async move { client.start().await });
    w.fake.wait_ready(WAIT).await;
    w
}

struct Figures {
    handled: usize,
    seconds: f64,
    latencies_us: Vec<u128>,
}

impl Figures {
    fn rate(&self) -> f64 {
        self.handled as f64 / self.seconds
    }

    fn ms(&self, p: f64) -> f64 {
        percentile(&self.latencies_us, p) as f64 / 1000.0
    }
}

/// Push `total` questions at `rate` per second (or all at once when `rate` is 0) and wait for
/// every reply.
async fn drive(w: &World, rate: f64, total: usize) -> Figures {
    let start_index = w.fake.request_count();
    let mut pushed: HashMap<String, Instant> = HashMap::with_capacity(total);
    let started = Instant::now();
    for n in 0..total {
        if rate > 0.0 {
            let due = started + Duration::from_secs_f64(n as f64 / rate);
            if let Some(wait) = due.checked_duration_since(Instant::now()) {
                tokio::time::sleep(wait).await;
            }
        }
        let user = w.users[n % w.users.len()];
        let text = QUESTIONS[n % QUESTIONS.len()];
        let id = w.fake.push_message(w.help, user, text);
        pushed.insert(id.to_string(), Instant::now());
    }
    // Each question gets exactly one REST request (the reply). Polling a counter keeps the
    // measuring cheap: re-reading every request on every change would cost more than the bot.
    let deadline = Instant::now() + WAIT * 5;
    while w.fake.request_count() < start_index + total {
        assert!(Instant::now() < deadline, "not every question was answered");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let help_path = format!("/channels/{}/messages", w.help);
    let replies: Vec<_> = w
        .fake
        .requests_since(start_index)
        .into_iter()
        .filter(|r| r.method == "POST" && r.status == 200 && r.path == help_path)
        .collect();
    assert_eq!(replies.len(), total, "one reply per question, all accepted");
    let last = replies.iter().map(|r| r.at).max().unwrap_or(started);
    let mut latencies_us: Vec<u128> = replies
        .iter()
        .filter_map(|r| {
            let source = r.body.as_ref()?["message_reference"]["message_id"].as_str()?;
            Some(
                r.at.saturating_duration_since(*pushed.get(source)?)
                    .as_micros(),
            )
        })
        .collect();
    latencies_us.sort_unstable();
    Figures {
        handled: replies.len(),
        seconds: last.duration_since(started).as_secs_f64(),
        latencies_us,
    }
}

fn row(name: &str, f: &Figures) {
    println!(
        "  {name:<16} {:>7} {:>9.0} {:>8.2} {:>8.2} {:>8.2} {:>8.2}",
        f.handled,
        f.rate(),
        f.ms(0.50),
        f.ms(0.90),
        f.ms(0.99),
        f.ms(1.0)
    );
}

fn main() {
    let rate: f64 = std::env::var("BENCH_RATE")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000.0);
    let seconds: f64 = std::env::var("BENCH_SECONDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(10.0);
    let total = (rate * seconds) as usize;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    // The fake checks one request in 50 against Discord's spec here (the tests check all):
    // checking every one costs more CPU than the bot being measured.
    FakeDiscord::check_one_in(
        std::env::var("BENCH_CHECK_ONE_IN")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());
        let (beacon, stop) = start_beacon(FakeDiscord::start().await, db_url.clone()).await;
        let echo = start_echo(FakeDiscord::start().await).await;
        // Warm both up (connections, caches, the allocator).
        drive(&beacon, 0.0, 500).await;
        drive(&echo, 0.0, 500).await;

        println!(
            "gateway path through the fake Discord on 127.0.0.1, 2 cores shared with the fake; \
             handling time = message pushed on the gateway -> reply request at the REST API"
        );
        println!("\noffered load: {rate:.0} questions/s for {seconds:.0} s ({total} questions)");
        println!(
            "  {:<16} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "", "handled", "q/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        let b = drive(&beacon, rate, total).await;
        row("beacon (SQLite)", &b);
        let e = drive(&echo, rate, total).await;
        row("serenity echo", &e);

        println!("\nsaturation: {total} questions pushed at once");
        println!(
            "  {:<16} {:>7} {:>9} {:>8} {:>8} {:>8} {:>8}",
            "", "handled", "q/s", "p50 ms", "p90 ms", "p99 ms", "max ms"
        );
        let bs = drive(&beacon, 0.0, total).await;
        row("beacon (SQLite)", &bs);
        let es = drive(&echo, 0.0, total).await;
        row("serenity echo", &es);

        let store = beacon::store::Store::connect(&db_url).await.expect("db");
        let guild_rows = store.question_count().await.expect("count");
        println!(
            "\nrows stored: {guild_rows} questions for {} pushed (warm-up included)",
            500 + total * 2
        );
        let _ = stop.send(());
        beacon.fake.assert_clean();
        echo.fake.assert_clean();
    });
}
