//! A Beacon bot running in-process against the fake Discord, on a test database: a server with
//! a help channel, a support forum, a moderator, an agent role and customers in four languages.

use std::path::PathBuf;
use std::time::Duration;

use beacon::config::{Config, Secret};
use beacon::desk::workflow::TicketsConfig;
use beacon::store::Store;
use serde_json::{Value, json};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

use crate::fake_discord::{FakeDiscord, Interaction};

/// Long enough for a loaded 2-core machine; only a failure waits this long.
pub const WAIT: Duration = Duration::from_secs(30);

/// Bounds a bot's start. It trains the FAQ model first: seconds in the unoptimised test build,
/// many times that when the suite's other bots, Chromium and PostgreSQL share a 2-core machine.
/// Only a failure waits this long.
pub const STARTUP: Duration = Duration::from_secs(120);

/// Discord's MANAGE_GUILD permission bit.
pub const MANAGE_GUILD: u64 = 1 << 5;
/// Discord's MANAGE_THREADS permission bit: what Discord offers the agent commands by.
pub const MANAGE_THREADS: u64 = 1 << 34;

/// The permissions the README's invite link asks for: the bot's role in every test server has
/// exactly these, so the suite proves that a server set up by the README lets Beacon work.
pub fn readme_invite_permissions() -> u64 {
    let readme = include_str!("../../README.md");
    let link = readme
        .split("https://discord.com/oauth2/authorize?")
        .nth(1)
        .expect("README has an invite link");
    link.split(['&', '`', ')', ' '])
        .find_map(|p| p.strip_prefix("permissions="))
        .and_then(|n| n.parse().ok())
        .expect("the invite link names its permissions")
}

pub struct Options {
    pub kb_dir: PathBuf,
    pub cooldown_questions: usize,
    pub tickets: TicketsConfig,
    /// Serve the web pages (status page, transcripts, health, metrics) on a free local port.
    pub web: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            kb_dir: PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("intents"),
            cooldown_questions: 50,
            tickets: TicketsConfig {
                // Timers look often, so tests that move time do not wait long.
                check_every_ms: 100,
                ..TicketsConfig::default()
            },
            web: false,
        }
    }
}

pub struct Bot {
    pub fake: FakeDiscord,
    pub store: Store,
    pub guild: u64,
    pub help: u64,
    pub general: u64,
    pub forum: u64,
    /// Where tickets open (set up only by `Bot::with_tickets`).
    pub tickets: u64,
    /// The agents' channel (set up only by `Bot::with_tickets`).
    pub agents: u64,
    /// Two members with the agent role.
    pub agent_members: [u64; 2],
    pub agent_role: u64,
    pub moderator_role: u64,
    /// Has the moderator role (MANAGE_GUILD).
    pub moderator: u64,
    /// A customer with no roles.
    pub customer: u64,
    /// Pinged with the agents when a ticket passes its first-response target (set up only by
    /// tests that want it).
    pub supervisor_role: u64,
    /// Where transcripts go (set up only by tests that want it).
    pub transcripts: u64,
    /// The crisis status channel and the announcement (news) channel, and the opt-in role
    /// announcements ping (set up only by tests that want them).
    pub status: u64,
    pub announcements: u64,
    pub announce_role: u64,
    config: Config,
    /// Where the web pages are served, when `Options::web` asked for them.
    pub web_url: Option<String>,
    /// Where `/healthz` and `/metrics` are served, with the web pages.
    pub ops_url: Option<String>,
    /// More customers, so per-user limits do not interfere between steps.
    pub others: Vec<u64>,
    /// Set by a test that takes permissions from the bot on purpose (see [`Bot::stop`]).
    pub refusals_expected: std::sync::atomic::AtomicBool,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<anyhow::Result<()>>>,
}

impl Bot {
    pub async fn start(db_url: &str) -> Bot {
        Bot::start_with(db_url, Options::default()).await
    }

    pub async fn start_with(db_url: &str, options: Options) -> Bot {
        let fake = FakeDiscord::start().await;
        let guild = fake.add_guild("Acme Community");
        fake.set_role_permissions(fake.bot_role(guild), readme_invite_permissions());
        let help = fake.add_text_channel(guild, "help");
        let general = fake.add_text_channel(guild, "general");
        let forum = fake.add_forum_channel(guild, "support");
        let tickets = fake.add_text_channel(guild, "tickets");
        let agents = fake.add_text_channel(guild, "agents");
        let transcripts = fake.add_text_channel(guild, "transcripts");
        let status = fake.add_text_channel(guild, "status");
        let announcements = fake.add_announcement_channel(guild, "announcements");
        // As the README says: agents hold Manage Threads, which Discord offers their commands by.
        let agent_role = fake.add_role(guild, "Agents", MANAGE_THREADS);
        let agent_members = [
            fake.add_member(guild, "agent-ana", &[agent_role]),
            fake.add_member(guild, "agent-bo", &[agent_role]),
        ];
        // Moderators hold Manage Server (their commands) and Manage Threads (agents' ones).
        let moderator_role = fake.add_role(guild, "Moderators", MANAGE_GUILD | MANAGE_THREADS);
        let moderator = fake.add_member(guild, "mod", &[moderator_role]);
        let supervisor_role = fake.add_role(guild, "Supervisors", 0);
        let announce_role = fake.add_role(guild, "Outage news", 0);
        let customer = fake.add_member(guild, "alex", &[]);
        let others = ["sara", "omar", "ani", "noor", "arman", "lena"]
            .iter()
            .map(|n| fake.add_member(guild, n, &[]))
            .collect();

        let mut config = Config::default();
        config.discord.token = Some(Secret::new(FakeDiscord::TOKEN));
        config.discord.api_url = fake.api_url();
        config.database.url = db_url.to_string();
        config.knowledge_base.dir = options.kb_dir;
        config.answers.cooldown_questions = options.cooldown_questions;
        config.tickets = options.tickets;
        // Ports free now; the bot binds them a moment later.
        let free_port = || {
            std::net::TcpListener::bind("127.0.0.1:0")
                .and_then(|l| l.local_addr())
                .expect("a free port")
                .port()
        };
        let (web_url, ops_url) = match options.web {
            true => {
                let (public, ops) = (free_port(), free_port());
                config.web.listen = format!("127.0.0.1:{public}");
                config.web.ops_listen = format!("127.0.0.1:{ops}");
                (
                    Some(format!("http://127.0.0.1:{public}")),
                    Some(format!("http://127.0.0.1:{ops}")),
                )
            }
            false => (None, None),
        };

        let (tx, task) = launch(&config);
        fake.wait_ready(STARTUP).await;
        fake.wait_commands_registered(STARTUP).await;
        let store = Store::connect(db_url).await.expect("a second connection");
        Bot {
            fake,
            store,
            guild,
            help,
            general,
            forum,
            tickets,
            agents,
            agent_members,
            agent_role,
            moderator_role,
            moderator,
            customer,
            supervisor_role,
            transcripts,
            status,
            announcements,
            announce_role,
            config,
            web_url,
            ops_url,
            others,
            refusals_expected: std::sync::atomic::AtomicBool::new(false),
            shutdown: Some(tx),
            task: Some(task),
        }
    }

    /// The server set up as a moderator would: a help channel, the forum, the agent role.
    pub async fn configured(db_url: &str) -> Bot {
        Bot::configured_with(db_url, Options::default()).await
    }

    /// [`Bot::configured`], started with `options`.
    pub async fn configured_with(db_url: &str, options: Options) -> Bot {
        let bot = Bot::start_with(db_url, options).await;
        bot.setup(
            "help-channel",
            json!([{"name": "channel", "type": 7, "value": bot.help.to_string()}]),
        )
        .await;
        bot.setup(
            "channels",
            json!([{"name": "forum", "type": 7, "value": bot.forum.to_string()}]),
        )
        .await;
        bot.setup(
            "roles",
            json!([{"name": "agent", "type": 8, "value": bot.agent_role.to_string()}]),
        )
        .await;
        bot
    }

    /// [`Bot::configured`], with tickets opening in `#tickets` and cards in `#agents`.
    pub async fn with_tickets(db_url: &str) -> Bot {
        Bot::with_tickets_with(db_url, Options::default()).await
    }

    /// [`Bot::with_tickets`], started with `options`.
    pub async fn with_tickets_with(db_url: &str, options: Options) -> Bot {
        let bot = Bot::configured_with(db_url, options).await;
        bot.setup(
            "channels",
            json!([
                {"name": "tickets", "type": 7, "value": bot.tickets.to_string()},
                {"name": "agents", "type": 7, "value": bot.agents.to_string()},
            ]),
        )
        .await;
        bot
    }

    /// An admin lets everyone use `command` (Server Settings > Integrations > Beacon), so a
    /// member Discord would not offer it to can reach it, and Beacon's own refusal shows.
    pub fn allow_everyone(&self, command: &str) {
        self.fake
            .set_command_permissions(self.guild, Some(command), &[(self.guild, 1, true)]);
    }

    /// Run `/setup <sub> ...` as the moderator; returns the reply text.
    pub async fn setup(&self, sub: &str, options: Value) -> String {
        self.setup_as(self.moderator, sub, options).await
    }

    pub async fn setup_as(&self, user: u64, sub: &str, options: Value) -> String {
        let options = json!([{"name": sub, "type": 1, "options": options}]);
        let i =
            self.fake
                .push_slash_command(self.guild, self.general, user, "setup", options, "en-US");
        self.final_text(&i).await
    }

    /// Press a button on a bot message (as `user`, in English) and return the answer's text.
    pub async fn press(&self, message: &Value, custom_id: &str, user: u64) -> String {
        let i = self
            .fake
            .press_button(id_of(message), custom_id, user, "en-US");
        self.final_text(&i).await
    }

    /// The text of the bot's final answer to a deferred interaction.
    pub async fn final_text(&self, i: &Interaction) -> String {
        let reply = self.final_reply(i).await;
        reply["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    }

    /// The bot's answer to an interaction that carries something to show (after a deferral,
    /// the edit of the original response).
    pub async fn final_reply(&self, i: &Interaction) -> Value {
        self.fake.wait_interaction_reply(i, WAIT).await
    }

    /// The bot's first response to an interaction (a modal, autocomplete choices, a deferral).
    pub async fn first_response(&self, i: &Interaction) -> Value {
        self.fake
            .wait_until("the interaction's response", WAIT, |f| {
                f.interaction_responses(i.id).first().cloned()
            })
            .await
    }

    /// Post `text` in `channel` as `user` and wait for the bot's reply to it.
    pub async fn ask(&self, channel: u64, user: u64, text: &str) -> Value {
        let message = self.fake.push_message(channel, user, text);
        self.reply_to(channel, message).await
    }

    /// The bot's message replying to `message` in `channel`, once it exists.
    pub async fn reply_to(&self, channel: u64, message: u64) -> Value {
        self.fake
            .wait_until("the bot's reply", WAIT, |f| reply_in(f, channel, message))
            .await
    }

    /// Stop the bot as SIGTERM would and start it again, on the same fake Discord and database.
    /// (A killed process is the binary's tests' business: in-process, serenity's own tasks
    /// would outlive a dropped client.)
    pub async fn restart(&mut self) {
        self.pause().await;
        self.resume().await;
    }

    /// Stop the bot as SIGTERM would, keeping the fake Discord (see [`Bot::resume`]).
    pub async fn pause(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(WAIT, task)
                .await
                .expect("stops in time");
            result.expect("no panic").expect("stops cleanly");
        }
    }

    /// Start the paused bot again, and wait until it is connected.
    pub async fn resume(&mut self) {
        let identified = self.fake.identifies();
        let (tx, task) = launch(&self.config);
        self.shutdown = Some(tx);
        self.task = Some(task);
        self.fake
            .wait_until("the bot to identify again", STARTUP, |f| {
                (f.identifies() > identified && f.is_connected()).then_some(())
            })
            .await;
    }

    /// Stop the bot as SIGTERM would, and check everything the fake saw.
    pub async fn stop(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let result = tokio::time::timeout(WAIT, task)
                .await
                .expect("the bot stops within the wait")
                .expect("the bot task does not panic");
            result.expect("the bot stops cleanly");
        }
        self.fake.assert_clean();
        // A server set up by the README lets Beacon do everything: no permission refusals,
        // unless the test took a permission away on purpose.
        if !self
            .refusals_expected
            .load(std::sync::atomic::Ordering::Relaxed)
        {
            let refused: Vec<String> = self
                .fake
                .requests()
                .iter()
                .filter(|r| {
                    r.status == 403
                        && !r.injected
                        && r.response
                            .as_ref()
                            .is_some_and(|b| matches!(b["code"].as_u64(), Some(50013 | 50001)))
                })
                .map(|r| format!("{} {}", r.method, r.path))
                .collect();
            assert!(
                refused.is_empty(),
                "Discord refused Beacon a permission: {refused:?}"
            );
        }
        assert_nobody_pinged(
            &self.fake,
            Some(Staff {
                agents: self.agents,
                roles: [self.agent_role, self.supervisor_role],
                tickets: self.tickets,
                announcements: (self.announcements, self.announce_role),
            }),
        );
        self.store.close().await;
    }
}

/// Run Beacon in-process with `config` until the returned sender says stop.
fn launch(config: &Config) -> (oneshot::Sender<()>, JoinHandle<anyhow::Result<()>>) {
    // BEACON_TEST_LOG=beacon=debug shows what the bot logs, for a failing test.
    if let Ok(filter) = std::env::var("BEACON_TEST_LOG") {
        let _ = tracing_subscriber::fmt()
            .with_env_filter(tracing_subscriber::EnvFilter::new(filter))
            .with_test_writer()
            .try_init();
    }
    let (tx, rx) = oneshot::channel();
    let task = tokio::spawn(beacon::discord::run(config.clone(), async {
        let _ = rx.await;
    }));
    (tx, task)
}

/// The pings Beacon decides on itself: the agent and supervisor roles, by id, in the agents'
/// channel; a ticket's customer, by id, in their ticket's thread; the opt-in role on crisis
/// announcements.
pub struct Staff {
    pub agents: u64,
    pub roles: [u64; 2],
    pub tickets: u64,
    /// The announcement channel and the opt-in role its posts may ping.
    pub announcements: (u64, u64),
}

/// The bot's reply to `message` in `channel`, if there is one yet.
pub fn reply_in(fake: &FakeDiscord, channel: u64, message: u64) -> Option<Value> {
    fake.bot_messages(channel)
        .into_iter()
        .find(|m| m["message_reference"]["message_id"].as_str() == Some(&message.to_string()))
}

/// Every message the bot sent or edited set allowed mentions that ping nobody, except the pings
/// the bot decides on itself (`staff`): roles by id on cards and escalations in the agents'
/// channel, and a ticket's customer by id, addressed by name, in a thread of the tickets channel.
pub fn assert_nobody_pinged(fake: &FakeDiscord, staff: Option<Staff>) {
    for r in fake.requests() {
        let sends_message = (r.method == "POST" && r.path.ends_with("/messages"))
            || (r.method == "PATCH" && r.path.starts_with("/webhooks/"))
            || (r.method == "POST" && r.path.starts_with("/webhooks/"));
        let Some(body) = &r.body else { continue };
        if !sends_message || body.get("content").is_none() {
            continue;
        }
        let allowed = &body["allowed_mentions"];
        let content = body["content"].as_str().unwrap_or_default();
        let ids = |key: &str| -> Vec<u64> {
            allowed[key]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|v| v.as_str()?.parse().ok())
                .collect()
        };
        let (roles, users) = (ids("roles"), ids("users"));
        let roles_ok = roles.is_empty()
            || staff.as_ref().is_some_and(|s| {
                let (announce, opt_in) = s.announcements;
                (r.method == "POST"
                    && r.path == format!("/channels/{}/messages", s.agents)
                    && roles.iter().all(|role| s.roles.contains(role)))
                    || (r.method == "POST"
                        && r.path == format!("/channels/{announce}/messages")
                        && roles == [opt_in])
            });
        let users_ok = users.is_empty()
            || staff.as_ref().is_some_and(|s| {
                let channel = r
                    .path
                    .strip_prefix("/channels/")
                    .and_then(|p| p.split('/').next())
                    .and_then(|c| c.parse::<u64>().ok());
                let in_ticket = channel
                    .and_then(|c| fake.channel(c))
                    .is_some_and(|c| c["parent_id"].as_str() == Some(&s.tickets.to_string()));
                r.method == "POST"
                    && in_ticket
                    && users.len() == 1
                    && content.contains(&format!("<@{}>", users[0]))
            });
        assert_eq!(
            allowed["parse"],
            json!([]),
            "{} {}: allowed_mentions {allowed}",
            r.method,
            r.path
        );
        assert!(
            roles_ok && users_ok && allowed["replied_user"] != json!(true),
            "{} {}: allowed_mentions {allowed}",
            r.method,
            r.path
        );
    }
}

/// The custom ids of a message's components, in order.
pub fn custom_ids(message: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for row in message["components"].as_array().into_iter().flatten() {
        for c in row["components"].as_array().into_iter().flatten() {
            if let Some(id) = c["custom_id"].as_str() {
                out.push(id.to_string());
            }
        }
    }
    out
}

/// The labels of a message's buttons, or the options of its select menu, in order.
pub fn labels(message: &Value) -> Vec<String> {
    let mut out = Vec::new();
    for row in message["components"].as_array().into_iter().flatten() {
        for c in row["components"].as_array().into_iter().flatten() {
            if let Some(l) = c["label"].as_str() {
                out.push(l.to_string());
            }
            for o in c["options"].as_array().into_iter().flatten() {
                out.push(o["label"].as_str().unwrap_or_default().to_string());
            }
        }
    }
    out
}

pub fn id_of(message: &Value) -> u64 {
    message["id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .expect("a message id")
}

/// The server's stored questions once the one that came in `source_id` is among them.
pub async fn wait_stored(
    bot: &Bot,
    source_id: u64,
) -> Vec<(i64, beacon::desk::QuestionRecord, Option<u64>)> {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stored = bot.store.questions(bot.guild).await.expect("questions");
        if stored.iter().any(|(_, q, _)| q.source_id == source_id) {
            return stored;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "question {source_id} was never stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// The stored question that came in `source_id`, once its reply has been remembered too.
pub async fn wait_replied(bot: &Bot, source_id: u64) -> (i64, beacon::desk::QuestionRecord, u64) {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let stored = bot.store.questions(bot.guild).await.expect("questions");
        if let Some((id, q, Some(reply))) = stored
            .into_iter()
            .find(|(_, q, _)| q.source_id == source_id)
        {
            return (id, q, reply);
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "question {source_id} never got its reply stored"
        );
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

/// Whether the bot's acknowledgement of an interaction was private (ephemeral).
pub fn acked_privately(fake: &FakeDiscord, i: &Interaction) -> bool {
    let responses = fake.interaction_responses(i.id);
    let flags = responses
        .first()
        .map(|r| r["body"]["data"]["flags"].as_u64().unwrap_or(0));
    flags.is_some_and(|f| f & 64 == 64)
}

/// A knowledge-base file with one new intent, for reload tests.
pub const PARTY: &str = r#"
[[intent]]
id = "launch-party"
title = "When is the launch party?"
examples = [
  "when is the launch party",
  "what time does the launch party start",
  "launch party date",
  "is there a launch party",
  "where is the launch party held",
  "launch party tickets",
]
answer = "The launch party is on Friday at 18:00 in the main hall."
"#;

/// A copy of the starter knowledge base in `to`, for tests that change it.
pub fn copy_starter_kb(to: &std::path::Path) {
    let from = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("intents");
    std::fs::create_dir_all(to).unwrap();
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        if entry.file_type().unwrap().is_file() {
            std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
        }
    }
}

impl Bot {
    /// `/faq question:<text>` as `user` from an English client.
    pub fn push_faq(&self, user: u64, text: &str) -> Interaction {
        self.fake.push_slash_command(
            self.guild,
            self.general,
            user,
            "faq",
            json!([{"name": "question", "type": 3, "value": text}]),
            "en-US",
        )
    }
}

impl Bot {
    /// The server's ticket with this number, as stored.
    pub async fn desk_ticket(&self, number: i64) -> beacon::desk::tickets::Ticket {
        use beacon::desk::tickets::TicketLedger as _;
        // Ids count up, though PostgreSQL may skip one.
        for id in 1..=300 {
            match self.store.ticket(id).await.expect("ticket") {
                Some(t) if t.guild_id == self.guild && t.number == number => return t,
                _ => continue,
            }
        }
        panic!("no ticket #{number}")
    }
}
