//! A burst of tickets end to end: 1,000 customers run `/ticket` at once, through the fake Discord
//! on 127.0.0.1, and Beacon stores each ticket in SQLite, opens its private thread, adds the
//! customer, posts the header and the card in the agents' channel, and answers the customer.
//! Every ticket must get its thread, header and card exactly once; the figures are the time from
//! the first push to the last header and to the last card.
//!
//! The customers are split over two servers (500 each), each set up by its own moderator with
//! its own tickets channel, agents' channel and agent role: Beacon refuses new tickets in a
//! server that holds 950 open ones, to stay under Discord's 1,000 active threads per server.
//!
//! Side by side in the same run, the baseline: a bare serenity bot that makes the same Discord
//! calls for each `/ticket` (defer privately, create the private thread, add the customer, post
//! the header, post a card with one button, edit the reply) with no database and no decisions,
//! against its own fresh fake world of the same shape. Beacon's extra time over it is what
//! Beacon's decisions and storage cost.
//!
//! Times come from the fake's own record of when each request arrived, so they do not depend on
//! how often the benchmark looks. The fake checks one request in 50 against Discord's OpenAPI
//! description here, where the tests check every one (see `benches/gateway.rs`).
//!
//! Run with `cargo bench --bench tickets` (SQLite in a temporary directory). Set
//! `BENCH_TICKETS` (default 1000; 500 customers a server, so more tickets means more servers)
//! and `BENCH_CHECK_ONE_IN` (default 50). Beacon's errors go to stderr (`RUST_LOG`, default
//! `error`).

#[path = "../tests/fake_discord/mod.rs"]
mod fake_discord;

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use beacon::config::{Config, Secret};
use beacon::desk::workflow::TicketsConfig;
use beacon::discord::render::no_pings;
use beacon::eval::percentile;
use beacon::locale::Locales;
use fake_discord::{FakeDiscord, Interaction};
use serde_json::{Value, json};
use serenity::all::{
    ApplicationId, ButtonStyle, ChannelId, ChannelType, CommandInteraction, Context,
    CreateActionRow, CreateButton, CreateInteractionResponse, CreateInteractionResponseMessage,
    CreateMessage, CreateThread, EditInteractionResponse, EventHandler, Nonce, RoleId,
};
use serenity::async_trait;

const WAIT: Duration = Duration::from_secs(60);

/// Customers per server: under Beacon's cap of 950 open tickets a server.
const PER_SERVER: usize = 500;

/// What customers write in `/ticket about:`.
const ABOUT: &[&str] = &[
    "my parcel is late, order",
    "the parcel arrived broken, order",
    "I was charged twice for order",
    "I want to change the address on order",
    "my refund has not arrived yet for order",
    "wrong size in order",
    "cannot log in since yesterday, order",
    "the tracking link does not work for order",
];

/// How a header and a card start (`ticket.header` and `ticket.card` in English).
const TICKET_MARK: &str = "**Ticket #";

/// One server of the world: its channels, its agent role, its moderator and customers.
struct Server {
    guild: u64,
    general: u64,
    tickets: u64,
    agents: u64,
    agent_role: u64,
    moderator: u64,
    customers: Vec<u64>,
}

struct World {
    fake: FakeDiscord,
    servers: Vec<Server>,
}

/// The same shape for Beacon and the baseline: `total` customers over servers of 500.
fn world(fake: FakeDiscord, total: usize) -> World {
    let count = total.div_ceil(PER_SERVER).max(2);
    let servers = (0..count)
        .map(|s| {
            let guild = fake.add_guild(&format!("Shop {s}"));
            let general = fake.add_text_channel(guild, "general");
            let tickets = fake.add_text_channel(guild, "tickets");
            let agents = fake.add_text_channel(guild, "agents");
            let agent_role = fake.add_role(guild, "Agents", 0);
            fake.add_member(guild, &format!("agent{s}"), &[agent_role]);
            let moderator_role = fake.add_role(guild, "Moderators", 1 << 5);
            let moderator = fake.add_member(guild, &format!("mod{s}"), &[moderator_role]);
            // Customers dealt round the servers, so the counts differ by one at most.
            let customers = (s..total)
                .step_by(count)
                .map(|n| fake.add_member(guild, &format!("customer{n}"), &[]))
                .collect();
            Server {
                guild,
                general,
                tickets,
                agents,
                agent_role,
                moderator,
                customers,
            }
        })
        .collect();
    World { fake, servers }
}

/// Beacon on a fresh SQLite file, each server set up by its moderator.
async fn start_beacon(
    fake: FakeDiscord,
    db_url: String,
    total: usize,
) -> (
    World,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
) {
    let w = world(fake, total);
    let mut config = Config::default();
    config.discord.token = Some(Secret::new(FakeDiscord::TOKEN));
    config.discord.api_url = w.fake.api_url();
    config.database.url = db_url;
    config.knowledge_base.dir = concat!(env!("CARGO_MANIFEST_DIR"), "/intents").into();
    config.tickets.check_every_ms = 1000;
    // The fake sets no global limit here: the REST gate should not pace either.
    config.discord.rest_per_second = 1_000_000;
    let (tx, rx) = tokio::sync::oneshot::channel();
    let task = tokio::spawn(beacon::discord::run(config, async {
        let _ = rx.await;
    }));
    w.fake.wait_ready(WAIT).await;
    w.fake.wait_commands_registered(WAIT).await;
    for s in &w.servers {
        let setup = |options: Value| {
            w.fake.push_slash_command(
                s.guild,
                s.general,
                s.moderator,
                "setup",
                json!([options]),
                "en-US",
            )
        };
        let channels = setup(json!({"name": "channels", "type": 1, "options": [
            {"name": "tickets", "type": 7, "value": s.tickets.to_string()},
            {"name": "agents", "type": 7, "value": s.agents.to_string()},
        ]}));
        let roles = setup(json!({"name": "roles", "type": 1, "options": [
            {"name": "agent", "type": 8, "value": s.agent_role.to_string()},
        ]}));
        w.fake.wait_interaction_reply(&channels, WAIT).await;
        w.fake.wait_interaction_reply(&roles, WAIT).await;
    }
    (w, tx, task)
}

/// Where the baseline opens a server's tickets.
struct Place {
    tickets: u64,
    agents: u64,
    agent_role: u64,
    /// The server's next ticket number.
    next: AtomicI64,
}

/// The baseline: Beacon's Discord calls for a ticket, numbered by a counter instead of a
/// database. Like Beacon, it does not bound how many interactions it handles at once.
struct Baseline {
    places: HashMap<u64, Place>,
    /// Stands in for the ticket's row id, in the nonces.
    next_id: AtomicI64,
    category: String,
}

impl Baseline {
    async fn open(&self, ctx: &Context, cmd: &CommandInteraction) -> serenity::Result<()> {
        let l = Locales::embedded();
        let http = &ctx.http;
        let defer = CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(true),
        );
        cmd.create_response(http, defer).await?;
        let guild = cmd.guild_id.map(|g| g.get()).unwrap_or_default();
        let Some(place) = self.places.get(&guild) else {
            return Ok(());
        };
        let number = place.next.fetch_add(1, Ordering::Relaxed);
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let about = cmd
            .data
            .options
            .iter()
            .find(|o| o.name == "about")
            .and_then(|o| o.value.as_str())
            .unwrap_or_default();
        let customer = format!("<@{}>", cmd.user.id);
        let subject = l.fill("en", "ticket.asked", &[("question", &about)]);

        let create = CreateThread::new(format!("ticket-{number}"))
            .kind(ChannelType::PrivateThread)
            .invitable(false);
        let thread = ChannelId::new(place.tickets)
            .create_thread(http, create)
            .await?
            .id;
        thread.add_thread_member(http, cmd.user.id).await?;
        let header = l.fill(
            "en",
            "ticket.header",
            &[
                ("number", &number),
                ("category", &self.category),
                ("priority", &"normal"),
                ("customer", &customer),
            ],
        );
        let header = CreateMessage::new()
            .content(format!("{header}\n{subject}"))
            .allowed_mentions(no_pings())
            .nonce(Nonce::String(format!("t{id}")))
            .enforce_nonce(true);
        thread.send_message(http, header).await?;

        let card = l.fill(
            "en",
            "ticket.card",
            &[
                ("number", &number),
                ("category", &self.category),
                ("priority", &"normal"),
                ("customer", &customer),
                ("thread", &format!("<#{thread}>")),
            ],
        );
        let claim = CreateButton::new(format!("t:claim:{id}"))
            .style(ButtonStyle::Primary)
            .label("Claim");
        let card = CreateMessage::new()
            .content(format!("<@&{}> {card}\n{subject}", place.agent_role))
            .components(vec![CreateActionRow::Buttons(vec![claim])])
            .allowed_mentions(no_pings().roles(vec![RoleId::new(place.agent_role)]))
            .nonce(Nonce::String(format!("c{id}")))
            .enforce_nonce(true);
        ChannelId::new(place.agents)
            .send_message(http, card)
            .await?;

        let opened = l.fill(
            "en",
            "ticket.opened",
            &[("number", &number), ("thread", &format!("<#{thread}>"))],
        );
        let place_text = l.fill("en", "ticket.position", &[("position", &number)]);
        let edit = EditInteractionResponse::new()
            .content(format!("{opened}\n{place_text}"))
            .allowed_mentions(no_pings());
        cmd.edit_response(http, edit).await?;
        Ok(())
    }
}

#[async_trait]
impl EventHandler for Baseline {
    async fn interaction_create(&self, ctx: Context, interaction: serenity::all::Interaction) {
        let serenity::all::Interaction::Command(cmd) = interaction else {
            return;
        };
        if cmd.data.name != "ticket" {
            return;
        }
        if let Err(e) = self.open(&ctx, &cmd).await {
            eprintln!("baseline: ticket for {} not opened: {e}", cmd.user.id);
        }
    }
}

/// The baseline on its own fake world, with Beacon's commands registered.
async fn start_baseline(fake: FakeDiscord, total: usize) -> World {
    let w = world(fake, total);
    let http = serenity::http::HttpBuilder::new(FakeDiscord::TOKEN)
        .proxy(w.fake.api_url())
        .ratelimiter_disabled(true)
        .application_id(ApplicationId::new(w.fake.application_id()))
        .build();
    let tickets = TicketsConfig::default();
    beacon::discord::commands::register(&http, &tickets)
        .await
        .expect("baseline: register the commands");
    let places = w
        .servers
        .iter()
        .map(|s| {
            let place = Place {
                tickets: s.tickets,
                agents: s.agents,
                agent_role: s.agent_role,
                next: AtomicI64::new(1),
            };
            (s.guild, place)
        })
        .collect();
    let handler = Baseline {
        places,
        next_id: AtomicI64::new(1),
        category: tickets.default_category().label.clone(),
    };
    let mut client = serenity::all::ClientBuilder::new_with_http(http, beacon::discord::intents())
        .event_handler(handler)
        .await
        .expect("baseline client");
    tokio::spawn(async move { client.start().await });
    w.fake.wait_ready(WAIT).await;
    w.fake.wait_commands_registered(WAIT).await;
    w
}

/// A customer's `/ticket` and when it was pushed.
struct Pushed {
    server: usize,
    customer: u64,
    interaction: Interaction,
    at: Instant,
}

/// The first user mentioned (`<@id>`, not a role's `<@&id>`).
fn first_user_mention(text: &str) -> Option<u64> {
    text.match_indices("<@").find_map(|(at, _)| {
        let rest = &text[at + 2..];
        let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
        (!digits.is_empty() && rest[digits.len()..].starts_with('>'))
            .then(|| digits.parse().ok())
            .flatten()
    })
}

/// The ticket number of a header or card (`**Ticket #12**`).
fn ticket_number(text: &str) -> Option<i64> {
    let rest = &text[text.find(TICKET_MARK)? + TICKET_MARK.len()..];
    let digits: String = rest.chars().take_while(char::is_ascii_digit).collect();
    digits.parse().ok()
}

fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or_default()
}

fn id_of(v: &Value) -> u64 {
    v["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0)
}

/// Whether the bot has answered an interaction with something to show (a deferral does not
/// count).
fn answered(fake: &FakeDiscord, i: &Interaction) -> bool {
    fake.interaction_responses(i.id)
        .iter()
        .any(|r| !r["message"].is_null())
}

/// Push every customer's `/ticket` at once, servers interleaved.
fn burst(w: &World) -> Vec<Pushed> {
    let most = w
        .servers
        .iter()
        .map(|s| s.customers.len())
        .max()
        .unwrap_or(0);
    let mut pushed = Vec::new();
    for n in 0..most {
        for (server, s) in w.servers.iter().enumerate() {
            let Some(&customer) = s.customers.get(n) else {
                continue;
            };
            let about = format!(
                "{} {}",
                ABOUT[pushed.len() % ABOUT.len()],
                1000 + pushed.len()
            );
            let interaction = w.fake.push_slash_command(
                s.guild,
                s.general,
                customer,
                "ticket",
                json!([{"name": "about", "type": 3, "value": about}]),
                "en-US",
            );
            pushed.push(Pushed {
                server,
                customer,
                interaction,
                at: Instant::now(),
            });
        }
    }
    pushed
}

/// Waits until every card is posted and every customer answered, or the deadline passes (the
/// checks then say what is missing).
async fn wait_done(w: &World, pushed: &[Pushed]) -> bool {
    let deadline = Instant::now() + WAIT * 5;
    let cards = |w: &World| -> usize {
        w.servers
            .iter()
            .map(|s| w.fake.bot_message_count(s.agents))
            .sum()
    };
    while cards(w) < pushed.len() {
        if Instant::now() > deadline {
            return false;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let mut left: Vec<&Pushed> = pushed.iter().collect();
    while !left.is_empty() {
        if Instant::now() > deadline {
            return false;
        }
        left.retain(|p| !answered(&w.fake, &p.interaction));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    true
}

struct Figures {
    tickets: usize,
    /// From the first push to the last ticket's header, its card, its final reply.
    last_header: Duration,
    last_card: Duration,
    last_reply: Duration,
    /// Each ticket's time from its push to its card, in microseconds, sorted.
    card_us: Vec<u128>,
    checks: Vec<(String, bool)>,
}

impl Figures {
    fn failed(&self) -> Vec<&str> {
        self.checks
            .iter()
            .filter(|(_, ok)| !ok)
            .map(|(name, _)| name.as_str())
            .collect()
    }
}

/// When each customer's header and card first arrived, and when the last final reply did, from
/// the fake's request log.
fn timings(
    w: &World,
    from: usize,
) -> (
    HashMap<u64, Instant>,
    HashMap<u64, Instant>,
    Option<Instant>,
) {
    let agents: HashSet<String> = w
        .servers
        .iter()
        .map(|s| format!("/channels/{}/messages", s.agents))
        .collect();
    let (mut headers, mut cards) = (HashMap::new(), HashMap::new());
    let mut last_reply = None;
    for r in w.fake.requests_since(from) {
        if r.status != 200 {
            continue;
        }
        if r.is("PATCH", "/webhooks/*/*/messages/@original") {
            last_reply = last_reply.max(Some(r.at));
            continue;
        }
        if !r.is("POST", "/channels/*/messages") {
            continue;
        }
        let Some(text) = r.body.as_ref().map(content) else {
            continue;
        };
        let Some(customer) = first_user_mention(text) else {
            continue;
        };
        if agents.contains(&r.path) {
            cards.entry(customer).or_insert(r.at);
        } else if text.starts_with(TICKET_MARK) {
            headers.entry(customer).or_insert(r.at);
        }
    }
    (headers, cards, last_reply)
}

/// Exactly once, server by server: threads, headers, cards, ticket numbers, final replies.
fn verify(w: &World, pushed: &[Pushed]) -> Vec<(String, bool)> {
    let fake = &w.fake;
    let mut checks = Vec::new();
    let mut check = |name: String, ok: bool| {
        if !ok {
            eprintln!("check failed: {name}");
        }
        checks.push((name, ok));
    };
    // The thread each customer is in, for the final replies.
    let mut thread_of: HashMap<u64, Vec<u64>> = HashMap::new();
    for (n, s) in w.servers.iter().enumerate() {
        let customers: HashSet<u64> = s.customers.iter().copied().collect();
        let expected = customers.len();

        let threads = fake.threads_in(s.tickets);
        check(
            format!(
                "server {n}: {} threads for {expected} customers",
                threads.len()
            ),
            threads.len() == expected,
        );
        let mut bad_headers = Vec::new();
        let mut headed: HashMap<u64, usize> = HashMap::new();
        for t in &threads {
            let thread = id_of(t);
            let headers: Vec<Value> = fake
                .bot_messages(thread)
                .into_iter()
                .filter(|m| content(m).starts_with(TICKET_MARK))
                .collect();
            if headers.len() != 1 {
                bad_headers.push((thread, headers.len()));
            }
            for h in &headers {
                if let Some(c) = first_user_mention(content(h)) {
                    *headed.entry(c).or_default() += 1;
                }
            }
            let members = fake.channel(thread).map(|c| c["member_ids"].clone());
            for m in members
                .as_ref()
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                if let Some(c) = m.as_str().and_then(|m| m.parse().ok())
                    && customers.contains(&c)
                {
                    thread_of.entry(c).or_default().push(thread);
                }
            }
        }
        check(
            format!(
                "server {n}: every thread has one header ({} do not: {:?})",
                bad_headers.len(),
                &bad_headers[..bad_headers.len().min(5)]
            ),
            bad_headers.is_empty(),
        );
        let headed_once = customers
            .iter()
            .filter(|c| headed.get(c) == Some(&1))
            .count();
        check(
            format!(
                "server {n}: {headed_once} of {expected} customers named in exactly one header"
            ),
            headed_once == expected,
        );
        let in_one_thread = customers
            .iter()
            .filter(|c| thread_of.get(c).is_some_and(|t| t.len() == 1))
            .count();
        check(
            format!("server {n}: {in_one_thread} of {expected} customers in exactly one thread"),
            in_one_thread == expected,
        );

        let cards = fake.bot_messages(s.agents);
        check(
            format!("server {n}: {} cards for {expected} customers", cards.len()),
            cards.len() == expected,
        );
        let mut numbers: HashMap<i64, usize> = HashMap::new();
        let mut carded: HashMap<u64, usize> = HashMap::new();
        for c in &cards {
            if let Some(number) = ticket_number(content(c)) {
                *numbers.entry(number).or_default() += 1;
            }
            if let Some(customer) = first_user_mention(content(c)) {
                *carded.entry(customer).or_default() += 1;
            }
        }
        let twice: Vec<i64> = numbers
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(number, _)| *number)
            .collect();
        check(
            format!(
                "server {n}: no ticket number on two cards ({} are: {:?})",
                twice.len(),
                &twice[..twice.len().min(5)]
            ),
            twice.is_empty() && numbers.values().sum::<usize>() == cards.len(),
        );
        let carded_once = customers
            .iter()
            .filter(|c| carded.get(c) == Some(&1))
            .count();
        check(
            format!("server {n}: {carded_once} of {expected} customers on exactly one card"),
            carded_once == expected,
        );
    }

    // Every customer told where their ticket is.
    let mut unanswered = 0;
    let mut elsewhere = Vec::new();
    for p in pushed {
        let reply = fake
            .interaction_responses(p.interaction.id)
            .into_iter()
            .rev()
            .find(|r| !r["message"].is_null());
        let Some(reply) = reply else {
            unanswered += 1;
            continue;
        };
        let text = content(&reply["message"]).to_string();
        let points_to_thread = thread_of
            .get(&p.customer)
            .and_then(|t| t.first())
            .is_some_and(|t| text.contains(&format!("<#{t}>")));
        if !points_to_thread {
            elsewhere.push((p.server, p.customer, text));
        }
    }
    check(
        format!(
            "{} of {} interactions got a final reply",
            pushed.len() - unanswered,
            pushed.len()
        ),
        unanswered == 0,
    );
    check(
        format!(
            "every final reply points to the customer's thread ({} do not; first: {:?})",
            elsewhere.len(),
            elsewhere.first()
        ),
        elsewhere.is_empty(),
    );
    let violations = fake.violations();
    check(
        format!(
            "the fake saw no violations ({}; first: {:?})",
            violations.len(),
            violations.first()
        ),
        violations.is_empty(),
    );
    checks
}

/// One burst of `/ticket` from every customer of the world; waits, times and checks.
async fn run(w: &World) -> Figures {
    let from = w.fake.request_count();
    let started = Instant::now();
    let pushed = burst(w);
    let pushing = started.elapsed();
    let finished = wait_done(w, &pushed).await;
    // Long enough for a late duplicate to show (a retry, the timers' next round).
    tokio::time::sleep(Duration::from_secs(2)).await;
    let (headers, cards, last_reply) = timings(w, from);
    let since = |at: Option<Instant>| at.map_or(Duration::ZERO, |at| at - started);
    let at = pushed
        .iter()
        .map(|p| (p.customer, p.at))
        .collect::<HashMap<_, _>>();
    let mut card_us: Vec<u128> = cards
        .iter()
        .filter_map(|(c, card)| Some(card.saturating_duration_since(*at.get(c)?).as_micros()))
        .collect();
    card_us.sort_unstable();
    println!("  {} pushed in {:.0} ms", pushed.len(), ms(pushing));
    let mut checks = vec![(format!("all done within {:?}", WAIT * 5), finished)];
    checks.extend(verify(w, &pushed));
    Figures {
        tickets: pushed.len(),
        last_header: since(headers.values().max().copied()),
        last_card: since(cards.values().max().copied()),
        last_reply: since(last_reply),
        card_us,
        checks,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn row(name: &str, f: &Figures) {
    let p = |q: f64| percentile(&f.card_us, q) as f64 / 1000.0;
    let passed = f.checks.len() - f.failed().len();
    println!(
        "  {name:<17} {:>7} {:>12.0} {:>12.0} {:>12.0} {:>9.0} {:>8.0} {:>8.0} {:>4}/{}",
        f.tickets,
        ms(f.last_header),
        ms(f.last_card),
        ms(f.last_reply),
        f.tickets as f64 / f.last_card.as_secs_f64().max(1e-9),
        p(0.50),
        p(0.99),
        passed,
        f.checks.len()
    );
}

fn main() {
    let total: usize = std::env::var("BENCH_TICKETS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(1000);
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
    FakeDiscord::check_one_in(
        std::env::var("BENCH_CHECK_ONE_IN")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(50),
    );
    runtime.block_on(async {
        let dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}", dir.path().join("bench.db").display());

        let (beacon, stop, task) = start_beacon(FakeDiscord::start().await, db_url, total).await;
        println!(
            "{total} tickets in one burst through the fake Discord on 127.0.0.1 \
             ({} servers), 2 cores shared with the fake",
            beacon.servers.len()
        );
        println!("beacon (SQLite):");
        let b = run(&beacon).await;
        let _ = stop.send(());
        let stopped = tokio::time::timeout(WAIT, task).await;

        println!("serenity baseline:");
        let baseline = start_baseline(FakeDiscord::start().await, total).await;
        let e = run(&baseline).await;

        println!("\ntimes from the first push (fake's request log); card latency = push -> card");
        println!(
            "  {:<17} {:>7} {:>12} {:>12} {:>12} {:>9} {:>8} {:>8} {:>6}",
            "",
            "tickets",
            "last header",
            "last card",
            "last reply",
            "tickets/s",
            "p50 ms",
            "p99 ms",
            "checks"
        );
        println!(
            "  {:<17} {:>7} {:>12} {:>12} {:>12} {:>9} {:>8} {:>8}",
            "", "", "ms", "ms", "ms", "(to card)", "card", "card"
        );
        row("beacon (SQLite)", &b);
        row("serenity baseline", &e);

        let mut failed = Vec::new();
        for (name, f) in [("beacon", &b), ("baseline", &e)] {
            for c in f.failed() {
                failed.push(format!("{name}: {c}"));
            }
        }
        match stopped {
            Ok(Ok(Ok(()))) => {}
            other => failed.push(format!("beacon: did not stop cleanly: {other:?}")),
        }
        if failed.is_empty() {
            println!(
                "\nall checks passed: every ticket has its thread, header and card exactly once"
            );
        } else {
            panic!(
                "{} check(s) failed:\n  {}",
                failed.len(),
                failed.join("\n  ")
            );
        }
    });
}
