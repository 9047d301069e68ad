//! The serenity adapter: the only place Discord types appear. Gateway events and interactions
//! become desk calls; desk results become messages and components.

pub mod answering;
pub mod catch_up;
pub mod commands;
pub mod context_menu;
pub mod crisis;
pub mod custom_id;
pub mod doctor;
pub mod gate;
pub mod outbox;
pub mod permissions;
pub mod port;
pub mod render;
mod report;
pub mod setup;
pub mod tickets;

use std::collections::HashMap;
use std::future::Future;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::Duration;

use anyhow::{Context as _, anyhow};
use serenity::all::{
    ComponentInteraction, Context, EditInteractionResponse, EventHandler, GatewayIntents,
    GuildChannel, Interaction, Message, Permissions, Ready, ResumedEvent,
};
use serenity::async_trait;
use serenity::http::{Http, HttpBuilder};
use tracing::{error, info, warn};

use crate::config::{Config, DISCORD_API};
use crate::desk::answers::KbStats;
use crate::desk::cooldown::Cooldown;

use crate::desk::replies::SavedReplies;
use crate::desk::tickets::Actor;

use crate::desk::Desk;
use crate::kb::faq::Faq;
use crate::kb::intents::{self, LoadError};
use crate::kb::matcher::Thresholds;
use crate::store::Store;
use render::{fit, no_pings};

/// The running bot's shared state.
pub struct Bot {
    pub desk: Desk<Store>,
    kb_dir: PathBuf,
    thresholds: Thresholds,
    /// Threads seen, with their parent channel: a forum post is a thread of the support forum.
    threads: Mutex<HashMap<u64, u64>>,
    /// One reload at a time.
    reloading: tokio::sync::Mutex<()>,
    /// Questions being answered at once. serenity starts a task for every event, so a burst of
    /// messages would otherwise open as many REST connections (and database waits) as it has
    /// messages; past this many, messages wait their turn.
    answering: tokio::sync::Semaphore,
    /// Agents' saved replies, kept beside the knowledge base and reloaded with it.
    replies: RwLock<Arc<SavedReplies>>,
    /// The timers start with the first connection, not again on a reconnect, and stop with
    /// the bot.
    timers_started: AtomicBool,
    timers: Mutex<Option<tokio::task::JoinHandle<()>>>,
    /// Wakes the ticket timers when the queue moved, so the places shown are updated.
    pub queue_changed: tokio::sync::Notify,
    /// Wakes the outbox sender when deliveries were just written.
    pub outbox_wake: tokio::sync::Notify,
    /// Direct messages this process has delivered, for its log.
    pub outbox_sent: std::sync::atomic::AtomicU64,
    /// The web pages' links (status page, signed transcript links) and the status pages' kept
    /// data, when they are served.
    pub web: Option<crate::web::Handle>,
    /// How far back questions are read after a new gateway session (see [`catch_up`]).
    pub catch_up: catch_up::Window,
    /// Whether the gateway connection is up now, for `/healthz`.
    pub gateway_up: Arc<AtomicBool>,
}

/// How many help-channel and forum questions are answered at once (see `Bot::answering`).
pub const MAX_ANSWERING: usize = 128;

/// The thresholds a configured answer threshold gives.
pub fn thresholds(answer: f64) -> Thresholds {
    Thresholds::default().with_answer(answer as f32)
}

impl Bot {
    pub fn new(config: &Config, store: Store, faq: Faq, replies: SavedReplies) -> Bot {
        let cooldown = Cooldown::new(
            config.answers.cooldown_questions,
            Duration::from_secs(config.answers.cooldown_seconds),
        );
        Bot {
            desk: Desk::new(store, faq, cooldown, config.tickets.clone()),
            kb_dir: config.knowledge_base.dir.clone(),
            thresholds: thresholds(config.answers.threshold),
            threads: Mutex::new(HashMap::new()),
            reloading: tokio::sync::Mutex::new(()),
            answering: tokio::sync::Semaphore::new(MAX_ANSWERING),
            replies: RwLock::new(Arc::new(replies)),
            timers_started: AtomicBool::new(false),
            timers: Mutex::new(None),
            queue_changed: tokio::sync::Notify::new(),
            outbox_wake: tokio::sync::Notify::new(),
            outbox_sent: std::sync::atomic::AtomicU64::new(0),
            web: None,
            gateway_up: Arc::new(AtomicBool::new(false)),
            catch_up: catch_up::Window {
                age: Duration::from_secs(u64::from(config.answers.catch_up_minutes) * 60),
                messages: config.answers.catch_up_messages,
            },
        }
    }

    /// Read the server's crises again next time (one started, changed or ended), and the
    /// status pages with them.
    pub fn forget_crises(&self, guild: u64) {
        self.desk.forget_crises(guild);
        if let Some(web) = &self.web {
            web.pages.forget();
        }
    }

    /// The saved replies in use.
    pub fn replies(&self) -> Arc<SavedReplies> {
        self.replies
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Load the knowledge base again from its folder. A broken version is refused and the one in
    /// use keeps answering.
    pub async fn reload(&self) -> Result<KbStats, LoadError> {
        let _one_at_a_time = self.reloading.lock().await;
        let faq = load_faq(self.kb_dir.clone(), self.thresholds).await?;
        let replies = load_replies(&self.kb_dir).map_err(|problems| LoadError { problems })?;
        *self.replies.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(replies);
        Ok(self.desk.replace_faq(faq))
    }

    pub(crate) fn remember_thread(&self, thread: u64, parent: u64) {
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(thread, parent);
    }

    fn thread_parent(&self, thread: u64) -> Option<u64> {
        self.threads
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&thread)
            .copied()
    }
}

/// An interaction that needs a server came from a direct message. A refusal, not a failure:
/// whoever asked is told the command works in a server only; it never stands for server 0.
#[derive(Debug, thiserror::Error)]
#[error("this works in a server only")]
pub struct NotInServer;

/// The server an interaction came from.
pub(crate) fn server(guild: Option<serenity::all::GuildId>) -> Result<u64, NotInServer> {
    guild.map(|g| g.get()).ok_or(NotInServer)
}

/// Who a member is on a server (agent, moderator), by the server's settings, their roles and
/// whether Discord lets them manage the server. The rule itself is the desk's (`Actor::on`).
pub(crate) async fn actor_of(
    bot: &Bot,
    guild: u64,
    user: u64,
    member: Option<&serenity::all::Member>,
) -> anyhow::Result<Actor> {
    let settings = bot.desk.settings(guild).await?;
    let roles: Vec<u64> = member
        .map(|m| m.roles.iter().map(|r| r.get()).collect())
        .unwrap_or_default();
    let perms = member
        .and_then(|m| m.permissions)
        .unwrap_or_else(Permissions::empty);
    let manages_server =
        perms.contains(Permissions::MANAGE_GUILD) || perms.contains(Permissions::ADMINISTRATOR);
    Ok(Actor::on(&settings, user, &roles, manages_server))
}

/// Saved replies live in `replies/` inside the knowledge-base folder.
pub fn load_replies(kb_dir: &std::path::Path) -> Result<SavedReplies, Vec<intents::Problem>> {
    SavedReplies::load_dir(&kb_dir.join("replies"))
}

/// Load and train the FAQ off the async threads (training takes a moment).
pub async fn load_faq(dir: PathBuf, thresholds: Thresholds) -> Result<Faq, LoadError> {
    tokio::task::spawn_blocking(move || intents::load_dir(&dir).map(|kb| Faq::new(kb, thresholds)))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Gateway intents: message content is privileged and only needed for help channels and forums.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT
}

/// serenity's HTTP client for `base`: the REST gate (see [`gate`]), or for a one-off tool the
/// configured API itself. serenity's own limiter is off: it would send to discord.com whatever
/// the base, and the gate limits everything together.
pub fn http_client(config: &Config, base: &str) -> anyhow::Result<Http> {
    // The token's absence is said as the configuration says it (what to set, where).
    let token = config.token().map_err(anyhow::Error::msg)?;
    let base = base.trim_end_matches('/');
    let builder = HttpBuilder::new(token.expose()).ratelimiter_disabled(true);
    Ok(if base == DISCORD_API {
        builder.build()
    } else {
        builder.proxy(base).build()
    })
}

/// Start the REST gate in front of the configured API.
async fn start_gate(config: &Config) -> anyhow::Result<gate::Gate> {
    gate::Gate::start(
        &config.discord.api_url,
        config.discord.rest_per_second,
        Duration::from_secs(u64::from(config.discord.retry_minutes) * 60),
    )
    .await
    .context("cannot start the REST limiter")
}

/// Run the bot until `shutdown` resolves (or the gateway fails for good). SIGHUP reloads the
/// knowledge base.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let gate = start_gate(&config).await?;
    let http =
        http_client(&config, &gate.base(gate::Class::Interactive)).context("the REST client")?;
    info!(api = %config.discord.api_url, "checking the token with Discord");
    let me = http.get_current_user().await.map_err(|e| {
        let refused = matches!(&e, serenity::Error::Http(h) if h.status_code().is_some_and(|s| s.as_u16() == 401));
        if refused {
            anyhow!(
                "Discord refused the token (401 Unauthorized): copy a fresh one from \
                 https://discord.com/developers/applications (your app > Bot > Reset Token) \
                 into DISCORD_TOKEN."
            )
        } else {
            anyhow!(
                "cannot reach Discord at {}: {e}",
                config.discord.api_url.trim_end_matches('/')
            )
        }
    })?;
    info!(bot = %me.name, id = %me.id, "token accepted");

    // What can fail without writing anything is checked before the database is opened: the
    // knowledge base, the saved replies and the web ports.
    let (faq, replies) = load_knowledge(&config).await?;
    let listeners = if config.web.enabled() {
        Some(crate::web::bind(&config.web).await?)
    } else {
        None
    };

    let (store, applied) = open_store(&config).await?;
    info!(backend = ?store.backend(), applied, "database ready");
    let mut bot = Bot::new(&config, store.clone(), faq, replies);
    let web = match listeners {
        Some(listeners) => {
            let gateway = Some(bot.gateway_up.clone());
            let served = listeners.serve(store.clone(), gateway).await?;
            // Links and status pages only where the public pages are served, not for an ops
            // listener alone.
            if served.addr.is_some() {
                bot.web = Some(served.handle);
            }
            Some(served.task)
        }
        None => None,
    };
    let bot = Arc::new(bot);
    // The outbox needs no gateway: it starts at once and delivers what a stopped process left.
    let outbox = spawn_outbox(&bot, &config, &gate)?;
    let mut client = serenity::all::ClientBuilder::new_with_http(http, intents())
        .event_handler(Handler(bot.clone()))
        .await
        .context("cannot start the Discord client")?;
    let shards = client.shard_manager.clone();

    #[cfg(unix)]
    let hangups = {
        let bot = bot.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match bot.reload().await {
                    Ok(s) => info!(
                        intents = s.intents,
                        examples = s.examples,
                        "SIGHUP: knowledge base reloaded"
                    ),
                    Err(e) => error!(
                        "SIGHUP: new knowledge base refused, the old one keeps answering: {e}"
                    ),
                }
            }
        })
    };

    let result = tokio::select! {
        r = client.start() => r.map_err(|e| match e {
            serenity::Error::Gateway(serenity::gateway::GatewayError::InvalidAuthentication) => anyhow!(
                "Discord refused the token at the gateway: copy a fresh one into DISCORD_TOKEN."),
            serenity::Error::Gateway(serenity::gateway::GatewayError::DisallowedGatewayIntents) => anyhow!(
                "Discord refused the Message Content intent: switch it on at \
                 https://discord.com/developers/applications (your app > Bot > Privileged Gateway Intents)."),
            other => anyhow!("Discord connection failed: {other}"),
        }),
        () = shutdown => {
            info!("shutting down");
            shards.shutdown_all().await;
            Ok(())
        }
    };
    #[cfg(unix)]
    hangups.abort();
    if let Some(timers) = bot.timers.lock().unwrap_or_else(|e| e.into_inner()).take() {
        timers.abort();
    }
    if let Some(web) = web {
        web.abort();
    }
    stop(&bot, outbox, store).await;
    info!("stopped");
    result
}

/// The knowledge base and the saved replies, loaded and checked; nothing is written.
async fn load_knowledge(config: &Config) -> anyhow::Result<(Faq, SavedReplies)> {
    let started = std::time::Instant::now();
    let dir = &config.knowledge_base.dir;
    let faq = load_faq(dir.clone(), thresholds(config.answers.threshold))
        .await
        .with_context(|| dir.display().to_string())?;
    let stats = KbStats::of(&faq);
    info!(
        intents = stats.intents,
        examples = stats.examples,
        ms = started.elapsed().as_millis() as u64,
        "knowledge base loaded"
    );
    let replies = load_replies(dir).map_err(|problems| LoadError { problems })?;
    info!(replies = replies.len(), "saved replies loaded");
    Ok((faq, replies))
}

/// The outbox sender: serenity's client for the interactive calls it makes (progress reports),
/// its own sender for the direct messages, both through the gate.
fn spawn_outbox(
    bot: &Arc<Bot>,
    config: &Config,
    gate: &gate::Gate,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http =
        http_client(config, &gate.base(gate::Class::Interactive)).context("the REST client")?;
    let sender = outbox::Sender::new(config, &gate.base(gate::Class::Bulk))?;
    Ok(outbox::spawn(
        bot.clone(),
        Arc::new(http),
        sender,
        config.announcements.dm_rate_per_second,
    ))
}

/// Stop the outbox sender, say what it sent, and close the database.
async fn stop(bot: &Bot, outbox: tokio::task::JoinHandle<()>, store: Store) {
    outbox.abort();
    let sent = bot.outbox_sent.load(Ordering::Relaxed);
    info!(sent, "outbox sender stopped");
    store.close().await;
}

/// The database, connected and migrated, with how many migrations were applied now.
async fn open_store(config: &Config) -> anyhow::Result<(Store, usize)> {
    let store = Store::connect(&config.database.url).await?;
    let applied = store.migrate().await?;
    Ok((store, applied))
}

/// Deliver the outbox only, until `shutdown` resolves: no gateway, no commands. Several of
/// these share one PostgreSQL outbox.
pub async fn send_only(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let gate = start_gate(&config).await?;
    let (faq, replies) = load_knowledge(&config).await?;
    let (store, _) = open_store(&config).await?;
    let bot = Arc::new(Bot::new(&config, store.clone(), faq, replies));
    let outbox = spawn_outbox(&bot, &config, &gate)?;
    info!("delivering the outbox (no gateway)");
    shutdown.await;
    stop(&bot, outbox, store).await;
    Ok(())
}

/// serenity's event handler, holding the bot.
pub struct Handler(pub Arc<Bot>);

#[async_trait]
impl EventHandler for Handler {
    async fn ready(&self, ctx: Context, ready: Ready) {
        ctx.http.set_application_id(ready.application.id);
        info!(guilds = ready.guilds.len(), "connected to the gateway");
        if let Err(e) = commands::register(&ctx.http, &self.0.desk.tickets).await {
            error!("cannot register slash commands: {e}");
        }
        tickets::finish_unfinished(&self.0, &ctx.http).await;
        tickets::closing::wrap_unwrapped(&self.0, &ctx.http).await;
        crisis::resume(&self.0, &ctx.http, 0).await;
        // A new session (not a resume): Discord replays nothing missed, so Beacon reads what
        // was asked while it was away.
        let guilds: Vec<u64> = ready.guilds.iter().map(|g| g.id.get()).collect();
        let (bot, http, me) = (self.0.clone(), ctx.http.clone(), ready.user.id.get());
        tokio::spawn(async move { catch_up::run(&bot, &http, me, &guilds).await });
        if !self.0.timers_started.swap(true, Ordering::SeqCst) {
            let every = Duration::from_millis(self.0.desk.tickets.check_every_ms.max(50));
            let handle = tickets::timers::spawn(self.0.clone(), ctx.http.clone(), every);
            *self.0.timers.lock().unwrap_or_else(|e| e.into_inner()) = Some(handle);
        }
    }

    async fn resume(&self, _ctx: Context, _: ResumedEvent) {
        info!("gateway session resumed");
    }

    /// serenity moves a shard to `Connected` on READY and on RESUMED, and away from it when the
    /// connection drops: the one place `/healthz` learns whether the gateway is up.
    async fn shard_stage_update(
        &self,
        _ctx: Context,
        event: serenity::gateway::ShardStageUpdateEvent,
    ) {
        // serenity dispatches each update on its own task, so only the moves into and out of
        // `Connected` write: a late "handshake to identifying" cannot undo a READY.
        use serenity::gateway::ConnectionStage::Connected;
        if event.new == Connected {
            self.0.gateway_up.store(true, Ordering::SeqCst);
        } else if event.old == Connected {
            self.0.gateway_up.store(false, Ordering::SeqCst);
        }
    }

    async fn guild_create(
        &self,
        _ctx: Context,
        guild: serenity::all::Guild,
        _is_new: Option<bool>,
    ) {
        // The public status page is titled with it.
        if let Err(e) = self.0.desk.server_named(guild.id.get(), &guild.name).await {
            warn!(guild = %guild.id, "server name not stored: {e}");
        }
        for thread in &guild.threads {
            if let Some(parent) = thread.parent_id {
                self.0.remember_thread(thread.id.get(), parent.get());
            }
        }
    }

    async fn thread_create(&self, _ctx: Context, thread: GuildChannel) {
        if let Some(parent) = thread.parent_id {
            self.0.remember_thread(thread.id.get(), parent.get());
        }
    }

    async fn message(&self, ctx: Context, msg: Message) {
        let Ok(_turn) = self.0.answering.acquire().await else {
            return;
        };
        if let Err(e) = answering::on_message(&self.0, &ctx.http, &msg, false).await {
            error!(channel = %msg.channel_id, message = %msg.id, "question not answered: {e:#}");
        }
    }

    async fn interaction_create(&self, ctx: Context, interaction: Interaction) {
        let result = match &interaction {
            Interaction::Command(cmd) => commands::on_command(&self.0, &ctx, cmd).await,
            Interaction::Autocomplete(cmd) => answering::on_autocomplete(&self.0, &ctx, cmd).await,
            Interaction::Component(c) => on_component(&self.0, &ctx, c).await,
            Interaction::Modal(m) => tickets::on_modal(&self.0, &ctx.http, m).await,
            _ => Ok(()),
        };
        if let Err(e) = result {
            let not_in_server = e.downcast_ref::<NotInServer>().is_some();
            if not_in_server {
                info!(interaction = %interaction.id(), "refused outside a server");
            } else {
                error!(interaction = %interaction.id(), "interaction failed: {e:#}");
            }
            // Whoever asked is not left with "thinking..." forever: a deferred answer is
            // replaced with an apology (this fails harmlessly when nothing was deferred).
            let (locale, token) = match &interaction {
                Interaction::Command(c) => (c.locale.as_str(), Some(c.token.as_str())),
                Interaction::Component(c) => (c.locale.as_str(), Some(c.token.as_str())),
                Interaction::Modal(m) => (m.locale.as_str(), Some(m.token.as_str())),
                _ => ("", None),
            };
            if let Some(token) = token {
                let lang = crate::desk::answers::choose_lang("", Some(locale));
                // Discord refusing Beacon a permission is the server's setting, not a bug:
                // whoever triggered it is told which permission to give where.
                let l = self.0.desk.locales;
                let text = if not_in_server {
                    l.get(lang, "error.guild_only").to_string()
                } else {
                    match doctor::explain_refusal(&ctx.http, &e).await {
                        Some(advice) => {
                            warn!("{advice}");
                            l.fill(lang, "error.refused", &[("advice", &advice)])
                        }
                        None => l.get(lang, "error.generic").to_string(),
                    }
                };
                let sorry = EditInteractionResponse::new()
                    .content(fit(&text, render::MAX_CONTENT))
                    .allowed_mentions(no_pings());
                let _ = ctx
                    .http
                    .edit_original_interaction_response(token, &sorry, vec![])
                    .await;
            }
        }
    }
}

/// Discord's error code of a failed REST call somewhere in an error's chain (50007, 50013...).
pub(crate) fn discord_code(e: &anyhow::Error) -> Option<isize> {
    e.chain()
        .find_map(|c| match c.downcast_ref::<serenity::Error>()? {
            serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
                Some(r.error.code)
            }
            _ => None,
        })
}

/// How long a failing REST call is tried again: an interaction's token lives 15 minutes, and
/// a reply is worth as long.
pub const RETRY_FOR: Duration = Duration::from_secs(15 * 60);

/// Retry a REST call on 5xx (Discord or the network failing; the gate answers 502 when
/// Discord does not answer) with backoff up to 10 s between tries, for up to [`RETRY_FOR`].
/// 429s are waited out by the REST gate before they get here; one that does get here (the gate
/// gave up) is tried again the same way. Anything else (a 4xx Discord will repeat) is returned
/// at once. Messages that must not repeat carry an enforced nonce, so a try after a 5xx that
/// Discord did act on returns the first message instead of a second one.
pub async fn retry<T, F, Fut>(mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = serenity::Result<T>>,
{
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        let e = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let status = match &e {
            serenity::Error::Http(h) => h.status_code().map(|s| s.as_u16()),
            _ => None,
        };
        let kind = match (&e, status) {
            (_, Some(status)) => status.to_string(),
            (serenity::Error::Http(_), None) => "network".into(),
            _ => "other".into(),
        };
        crate::metrics::get().rest_error(&kind);
        if started.elapsed() >= RETRY_FOR || !matches!(status, Some(429) | Some(500..)) {
            return Err(e.into());
        }
        warn!(
            ?status,
            attempt,
            wait_ms = delay.as_millis() as u64,
            "Discord failed; retrying"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    unreachable!("the loop returns")
}

/// A button or a list choice: a ticket's, a crisis's, or one under an answer.
async fn on_component(bot: &Bot, ctx: &Context, c: &ComponentInteraction) -> anyhow::Result<()> {
    match custom_id::CustomId::parse(&c.data.custom_id) {
        Some(custom_id::CustomId::Ticket(id)) => tickets::on_button(bot, &ctx.http, c, id).await,
        Some(custom_id::CustomId::Crisis(b)) => crisis::on_button(bot, &ctx.http, c, b).await,
        Some(custom_id::CustomId::Answer(b)) => answering::on_button(bot, ctx, c, b).await,
        // A component of an older version, or forged: nothing to do.
        None => Ok(()),
    }
}
