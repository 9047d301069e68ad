//! The serenity adapter: the only place Discord types appear, and only translation. Gateway
//! events and interactions become desk calls; desk results become messages and components.

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
mod retry;
pub mod setup;
mod start;
pub mod tickets;

pub(crate) use retry::discord_code;
pub use retry::{RETRY_FOR, retry};
pub use start::{http_client, intents, load_faq, load_replies, run, send_only};

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
