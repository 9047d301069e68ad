//! Crisis mode on Discord (journey J4): `/crisis start|update|end` for moderators, the status
//! message posted, pinned and edited in place, the announcement (crossposted from an
//! announcement channel, optionally pinging an opt-in role), the fan-out of direct messages to
//! subscribers through the outbox, and `/subscribe`, `/unsubscribe` and their buttons.
//!
//! Each step of an update is done once: the status message, announcement and progress message
//! carry nonces of their crisis or update and their ids are stored, and the fan-out writes the
//! outbox in one transaction. An update a stopped process left half-done is finished on start.

use std::sync::Arc;

use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, CommandInteraction, CreateActionRow, CreateButton,
    CreateMessage, EditMessage, Http, MessageId, Nonce, ResolvedOption, ResolvedValue, RoleId,
    UserId,
};
use tracing::{error, info, warn};

use super::commands::string_option;
use super::render::{MAX_CONTENT, fit, no_pings};
use super::{Bot, actor_of, retry};
use crate::desk::crisis::{
    Crisis, CrisisLedger, CrisisUpdate, EVERY_TOPIC, Subscription, UpdateKind, UpdateMark,
    check_topic, status_message,
};
use crate::desk::now_ms;

/// The custom id of the "Get updates by DM" button on an announcement.
pub fn subscribe_id(topic: &str) -> String {
    format!("c:sub:{topic}")
}

/// The custom id of the Unsubscribe button on a direct message (DMs carry no server).
pub fn unsubscribe_id(guild: u64, topic: &str) -> String {
    format!("c:unsub:{guild}:{topic}")
}

/// A crisis button: subscribe to a topic, or unsubscribe (server, topic).
pub enum CrisisButton {
    Subscribe(String),
    Unsubscribe(u64, String),
}

impl CrisisButton {
    pub fn parse(custom_id: &str) -> Option<CrisisButton> {
        let rest = custom_id.strip_prefix("c:")?;
        if let Some(topic) = rest.strip_prefix("sub:") {
            return Some(CrisisButton::Subscribe(topic.to_string()));
        }
        let (guild, topic) = rest.strip_prefix("unsub:")?.split_once(':')?;
        Some(CrisisButton::Unsubscribe(
            guild.parse().ok()?,
            topic.to_string(),
        ))
    }
}

/// `/crisis start|update|end`, moderators only. Returns the private reply.
pub async fn command(
    bot: &Bot,
    http: &Http,
    cmd: &CommandInteraction,
    lang: &str,
) -> anyhow::Result<String> {
    let guild = crate::discord::server(cmd.guild_id)?;
    let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
    if !actor.is_moderator {
        return Ok(bot
            .desk
            .locales
            .get(lang, "permission.moderator")
            .to_string());
    }
    let options = cmd.data.options();
    let Some(ResolvedOption {
        name: sub,
        value: ResolvedValue::SubCommand(args),
        ..
    }) = options.first()
    else {
        return Ok(String::new());
    };
    let settings = bot.desk.settings(guild).await?;
    if settings.status_channel.is_none() {
        return Ok("Choose a status channel first: /setup channels status:#status".into());
    }
    let store = bot.desk.ledger();
    let now = now_ms();
    let by = actor.user_id;
    let topic = match string_option(args, "topic")
        .map(|t| check_topic(&t))
        .transpose()
    {
        Ok(t) => t,
        Err(why) => return Ok(why),
    };
    let (crisis, update) = match *sub {
        "start" => {
            let topic = topic.unwrap_or_else(|| "general".into());
            let title = string_option(args, "title").unwrap_or_default();
            let status = string_option(args, "status").unwrap_or_default();
            match store
                .start_crisis(guild, &topic, &title, &status, by, now)
                .await?
            {
                Some(started) => started,
                None => {
                    return Ok(format!(
                        "A crisis on `{topic}` is running already: /crisis update or /crisis end it."
                    ));
                }
            }
        }
        "update" | "end" => {
            let running = store.running_crises(guild).await?;
            let crisis = match &topic {
                Some(t) => running.iter().find(|c| &c.topic == t),
                None if running.len() == 1 => running.first(),
                None => None,
            };
            let Some(crisis) = crisis else {
                let topics: Vec<&str> = running.iter().map(|c| c.topic.as_str()).collect();
                return Ok(if topics.is_empty() {
                    "No crisis is running.".into()
                } else {
                    format!("Name the topic: running now are {}.", topics.join(", "))
                });
            };
            let (kind, text) = if *sub == "end" {
                (
                    UpdateKind::End,
                    string_option(args, "note").unwrap_or_default(),
                )
            } else {
                (
                    UpdateKind::Update,
                    string_option(args, "text").unwrap_or_default(),
                )
            };
            match store.add_update(crisis.id, kind, &text, by, now).await? {
                Some(added) => added,
                None => return Ok("That crisis has ended already.".into()),
            }
        }
        _ => return Ok(String::new()),
    };
    bot.forget_crises(guild);
    let total = publish(bot, http, &crisis, &update, Some(cmd.channel_id.get())).await?;
    let what = match update.kind {
        UpdateKind::Start => "Crisis started",
        UpdateKind::Update => "Update posted",
        UpdateKind::End => "Crisis ended",
    };
    Ok(format!(
        "{what} (`{}`). The status message is up to date; {total} subscriber(s) get it by direct \
         message, and the progress shows in <#{}>.",
        crisis.topic,
        update.progress_channel_id.unwrap_or(cmd.channel_id.get())
    ))
}

/// Show, announce and fan out one update, each step once. Returns how many deliveries it has.
pub async fn publish(
    bot: &Bot,
    http: &Http,
    crisis: &Crisis,
    update: &CrisisUpdate,
    progress_channel: Option<u64>,
) -> anyhow::Result<i64> {
    let store = bot.desk.ledger();
    let settings = bot.desk.settings(crisis.guild_id).await?;
    let mut crisis = crisis.clone();
    let mut update = update.clone();
    // Where the moderator watches: posted first, so a restart knows where to report.
    if update.progress_message_id.is_none()
        && let Some(channel) = progress_channel
            .or(settings.agents_channel)
            .or(settings.status_channel)
    {
        let message = CreateMessage::new()
            .content(format!("Delivering “{}” to subscribers…", crisis.title))
            .allowed_mentions(no_pings())
            .nonce(Nonce::String(format!("g{}", update.id)))
            .enforce_nonce(true);
        let sent = retry(|| ChannelId::new(channel).send_message(http, message.clone())).await?;
        let mark = UpdateMark::Progress {
            channel_id: channel,
            message_id: sent.id.get(),
        };
        store.mark_update(update.id, mark).await?;
        update.progress_channel_id = Some(channel);
        update.progress_message_id = Some(sent.id.get());
    }
    if !update.status_done {
        show_status(bot, http, &mut crisis).await?;
        let announced = announce(bot, http, &crisis, &update).await?;
        let mark = UpdateMark::Shown {
            announce_message_id: announced,
        };
        store.mark_update(update.id, mark).await?;
    }
    let total = if update.fanned_out {
        store.progress(update.id).await?.total
    } else {
        store
            .fan_out(update.id, crisis.guild_id, &crisis.topic, now_ms())
            .await?
    };
    bot.outbox_wake.notify_one();
    Ok(total)
}

/// Post the status message the first time (and pin it), else edit it in place; unpinned when
/// the crisis ends.
async fn show_status(bot: &Bot, http: &Http, crisis: &mut Crisis) -> anyhow::Result<()> {
    let store = bot.desk.ledger();
    let updates = store.updates(crisis.id).await?;
    let page = bot
        .web
        .as_ref()
        .map(|w| w.links.status_page(crisis.guild_id));
    let text = status_message(crisis, &updates, page.as_deref(), MAX_CONTENT);
    match (crisis.status_channel_id, crisis.status_message_id) {
        (Some(channel), Some(message)) => {
            let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
            let edit = EditMessage::new()
                .content(text)
                .allowed_mentions(no_pings());
            retry(|| channel.edit_message(http, message, edit.clone())).await?;
            if crisis.ended_at_ms.is_some() {
                // Retired: the pin is freed for the next crisis. Unpinned twice is harmless.
                if let Err(e) = retry(|| channel.unpin(http, message)).await {
                    warn!("cannot unpin a resolved crisis's status message: {e:#}");
                }
            }
        }
        _ => {
            let settings = bot.desk.settings(crisis.guild_id).await?;
            let channel = ChannelId::new(
                settings
                    .status_channel
                    .ok_or_else(|| anyhow::anyhow!("no status channel"))?,
            );
            let message = CreateMessage::new()
                .content(text)
                .allowed_mentions(no_pings())
                .nonce(Nonce::String(format!("s{}", crisis.id)))
                .enforce_nonce(true);
            let sent = retry(|| channel.send_message(http, message.clone())).await?;
            retry(|| channel.pin(http, sent.id)).await?;
            store
                .set_status_message(crisis.id, channel.get(), sent.id.get())
                .await?;
            crisis.status_channel_id = Some(channel.get());
            crisis.status_message_id = Some(sent.id.get());
        }
    }
    Ok(())
}

/// Post the update to the announcement channel (crossposted from an announcement channel),
/// pinging the opt-in role when there is one: one message reaches any number of members.
async fn announce(
    bot: &Bot,
    http: &Http,
    crisis: &Crisis,
    update: &CrisisUpdate,
) -> anyhow::Result<Option<u64>> {
    if let Some(id) = update.announce_message_id {
        return Ok(Some(id));
    }
    let settings = bot.desk.settings(crisis.guild_id).await?;
    let Some(channel) = settings.announce_channel.map(ChannelId::new) else {
        return Ok(None);
    };
    let l = bot.desk.locales;
    let mut text = announcement_text(crisis, update);
    let mut mentions = no_pings();
    if let Some(role) = settings.announce_role {
        text = format!("<@&{role}> {text}");
        mentions = mentions.roles(vec![RoleId::new(role)]);
    }
    let button = CreateButton::new(subscribe_id(&crisis.topic))
        .style(ButtonStyle::Secondary)
        .label(l.get("en", "crisis.subscribe"));
    let message = CreateMessage::new()
        .content(fit(&text, MAX_CONTENT))
        .components(vec![CreateActionRow::Buttons(vec![button])])
        .allowed_mentions(mentions)
        .nonce(Nonce::String(format!("a{}", update.id)))
        .enforce_nonce(true);
    let sent = retry(|| channel.send_message(http, message.clone())).await?;
    let is_news = matches!(
        retry(|| channel.to_channel(http)).await?,
        serenity::all::Channel::Guild(c) if c.kind == ChannelType::News
    );
    if is_news && let Err(e) = retry(|| channel.crosspost(http, sent.id)).await {
        // Crossposted already (a repeat after a restart) or not allowed: the post stands.
        warn!("cannot crosspost the announcement: {e:#}");
    }
    Ok(Some(sent.id.get()))
}

/// An update as announced and delivered: the crisis title, the update, the status link.
pub fn announcement_text(crisis: &Crisis, update: &CrisisUpdate) -> String {
    let head = match update.kind {
        UpdateKind::Start => format!("🔴 **{}**", crisis.title),
        UpdateKind::Update => format!("🟠 **{}**", crisis.title),
        UpdateKind::End => format!("✅ **Resolved: {}**", crisis.title),
    };
    let mut text = format!("{head}\n{}", update.text);
    if let Some(link) = crisis.status_link() {
        text.push_str(&format!("\n{link}"));
    }
    text
}

/// Subscribe a member to a topic (`*`: every topic), and confirm it by direct message with an
/// Unsubscribe button, so they see at once whether DMs reach them. Discord opens a DM channel
/// even when the member's DMs are closed and refuses only the message (50007): then they are
/// told how to open them, and recorded as unreachable so fan-outs skip them. Returns what to
/// tell them.
pub async fn subscribe(
    bot: &Bot,
    http: &Http,
    guild: u64,
    user: u64,
    topic: Option<&str>,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let topic = match topic.map(check_topic).transpose() {
        Ok(t) => t,
        Err(why) => return Ok(why),
    };
    let settings = bot.desk.settings(guild).await?;
    let closed = || {
        let mut text = l.get(lang, "crisis.dms_closed").to_string();
        if let Some(news) = settings.announce_channel {
            text.push(' ');
            text.push_str(&l.fill(
                lang,
                "crisis.dms_closed_news",
                &[("channel", &format!("<#{news}>"))],
            ));
        }
        text
    };
    let dm = match retry(|| UserId::new(user).create_dm_channel(http)).await {
        Ok(c) => c.id,
        Err(e) => {
            warn!("cannot open a DM channel: {e:#}");
            return Ok(closed());
        }
    };
    let now = now_ms();
    let sub = Subscription {
        guild_id: guild,
        user_id: user,
        topic: topic.clone().unwrap_or_else(|| EVERY_TOPIC.into()),
        dm_channel_id: dm.get(),
        lang: lang.to_string(),
        since_ms: now,
        dm_refused_at_ms: None,
    };
    let store = bot.desk.ledger();
    store.subscribe(&sub).await?;
    let server = store
        .guild_name(guild)
        .await?
        .unwrap_or_else(|| l.get(lang, "crisis.this_server").to_string());
    let confirm = match &topic {
        Some(t) => l.fill(
            lang,
            "crisis.confirm_topic",
            &[("topic", t), ("server", &server)],
        ),
        None => l.fill(lang, "crisis.confirm_all", &[("server", &server)]),
    };
    let button = CreateButton::new(unsubscribe_id(guild, &sub.topic))
        .style(ButtonStyle::Secondary)
        .label(l.get(lang, "crisis.unsubscribe"));
    let message = CreateMessage::new()
        .content(fit(&confirm, MAX_CONTENT))
        .components(vec![CreateActionRow::Buttons(vec![button])])
        .allowed_mentions(no_pings())
        .nonce(Nonce::String(format!("u{now}")))
        .enforce_nonce(true);
    // The confirmation says, for every topic they follow, whether DMs reach them now.
    match retry(|| dm.send_message(http, message.clone())).await {
        Ok(_) => store.set_dm_refused(guild, user, None).await?,
        Err(e) if super::discord_code(&e) == Some(50007) => {
            store.set_dm_refused(guild, user, Some(now)).await?;
            info!(guild, "member subscribed, but Discord refuses them DMs");
            return Ok(closed());
        }
        Err(e) => return Err(e),
    }
    info!(guild, topic = %sub.topic, "member subscribed");
    Ok(match topic {
        Some(t) => l.fill(lang, "crisis.subscribed", &[("topic", &t)]),
        None => l.get(lang, "crisis.subscribed_all").to_string(),
    })
}

/// Unsubscribe from a topic, or from everything.
pub async fn unsubscribe(
    bot: &Bot,
    guild: u64,
    user: u64,
    topic: Option<&str>,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let removed = bot
        .desk
        .ledger()
        .unsubscribe(guild, user, topic.filter(|t| *t != EVERY_TOPIC))
        .await?;
    Ok(if removed > 0 {
        l.get(lang, "crisis.unsubscribed").to_string()
    } else {
        l.get(lang, "crisis.not_subscribed").to_string()
    })
}

/// Finish the updates a stopped process (or a failed step) left half-done: at start all of
/// them, later only those older than `min_age_ms`, so a moderator's command still publishing its
/// own update is not joined half-way.
pub async fn resume(bot: &Arc<Bot>, http: &Http, min_age_ms: i64) {
    let unfinished = match bot.desk.ledger().unfinished_updates().await {
        Ok(u) => u,
        Err(e) => {
            error!("cannot look for unfinished crisis updates: {e}");
            return;
        }
    };
    for (crisis, update) in unfinished {
        if (update.status_done && update.fanned_out) || now_ms() - update.at_ms < min_age_ms {
            continue;
        }
        match publish(bot, http, &crisis, &update, None).await {
            Ok(total) => info!(
                crisis = crisis.id,
                update = update.id,
                total,
                "finished a crisis update a stopped process had begun"
            ),
            Err(e) => error!(crisis = crisis.id, "cannot finish a crisis update: {e:#}"),
        }
    }
}
