//! Crisis mode on Discord (journey J4): `/crisis start|update|end` for moderators,
//! `/subscribe`, `/unsubscribe` and their buttons, read into desk requests, and what the desk
//! did said back. The journey itself (which crisis, the status message posted, pinned and
//! edited, the announcement, the fan-out to subscribers, each step once) is the desk's
//! (`desk::publishing`, `desk::subscribers`); the direct messages go out through the outbox (`super::outbox`).

use std::sync::Arc;

use serenity::all::{
    CommandInteraction, ComponentInteraction, Http, ResolvedOption, ResolvedValue,
};
use tracing::{error, info, warn};

use super::Bot;
use super::commands::{Invocation, string_option};
use super::custom_id::CrisisButton;
use super::port::Discord;
use super::tickets::{Deferred as _, answer_deferred};
use crate::desk::crisis::UpdateKind;
use crate::desk::publishing::{ChangeCrisis, CrisisOutcome, Published, StartCrisis};
use crate::desk::subscribers::{Subscribe, Subscribed};
use crate::locale::Locales;

/// A crisis button: "Get updates by DM" under an announcement, or Unsubscribe under a direct
/// message.
pub async fn on_button(
    bot: &Bot,
    http: &Http,
    c: &ComponentInteraction,
    button: CrisisButton,
) -> anyhow::Result<()> {
    c.defer_privately(http).await?;
    let lang = crate::desk::answers::choose_lang("", Some(&c.locale));
    let user = c.user.id.get();
    let text = match button {
        CrisisButton::Subscribe(topic) => {
            let guild = crate::discord::server(c.guild_id)?;
            subscribe(bot, http, guild, user, Some(&topic), lang).await?
        }
        // Pressed in a direct message: the server comes from the button, and the member
        // wants the messages to stop, whichever topics brought them.
        CrisisButton::Unsubscribe(guild, _topic) => {
            unsubscribe(bot, guild, user, None, lang).await?
        }
    };
    answer_deferred(http, c, &text).await
}

/// `/crisis start|update|end`, moderators only. Returns the private reply.
pub async fn command(
    bot: &Bot,
    http: &Http,
    inv: Invocation,
    cmd: &CommandInteraction,
) -> anyhow::Result<String> {
    let Invocation {
        guild,
        channel,
        actor: by,
        lang,
    } = inv;
    let options = cmd.data.options();
    let Some(ResolvedOption {
        name: sub,
        value: ResolvedValue::SubCommand(args),
        ..
    }) = options.first()
    else {
        return Ok(String::new());
    };
    let topic = string_option(args, "topic");
    let status_page = status_page(bot, guild);
    let port = Discord::new(bot, http);
    let change = |text: &str| ChangeCrisis {
        by,
        channel,
        topic: topic.clone(),
        text: string_option(args, text).unwrap_or_default(),
        status_page: status_page.clone(),
    };
    let done = match *sub {
        "start" => {
            let req = StartCrisis {
                by,
                channel,
                topic: topic.clone(),
                title: string_option(args, "title").unwrap_or_default(),
                status: string_option(args, "status").unwrap_or_default(),
                status_page: status_page.clone(),
            };
            bot.desk.start_crisis(&port, req).await
        }
        "update" => bot.desk.update_crisis(&port, change("text")).await,
        "end" => bot.desk.end_crisis(&port, change("note")).await,
        _ => return Ok(String::new()),
    };
    // The status pages read the crises again too (the desk forgets its own), even when the
    // publication failed half-way.
    bot.forget_crises(guild);
    let outcome = done?;
    if let CrisisOutcome::Published { published, .. } = &outcome {
        delivering(bot, published);
    }
    Ok(say(bot, lang, outcome))
}

/// The server's public status page, when the web pages are served.
fn status_page(bot: &Bot, guild: u64) -> Option<String> {
    bot.web.as_ref().map(|w| w.links.status_page(guild))
}

/// After a publication: its warnings logged, and the outbox woken for its deliveries.
fn delivering(bot: &Bot, published: &Published) {
    for warning in &published.warnings {
        warn!("{warning}");
    }
    bot.outbox_wake.notify_one();
}

/// What the moderator reads about their crisis command.
fn say(bot: &Bot, lang: &str, outcome: CrisisOutcome) -> String {
    match outcome {
        CrisisOutcome::NotAModerator => bot
            .desk
            .locales
            .get(lang, "permission.moderator")
            .to_string(),
        CrisisOutcome::NoStatusChannel => {
            "Choose a status channel first: /setup channels status:#status".into()
        }
        CrisisOutcome::NotATopic(why) => why,
        CrisisOutcome::AlreadyRunning { topic } => {
            format!("A crisis on `{topic}` is running already: /crisis update or /crisis end it.")
        }
        CrisisOutcome::NoneRunning => "No crisis is running.".into(),
        CrisisOutcome::NameTheTopic { running } => {
            format!("Name the topic: running now are {}.", running.join(", "))
        }
        CrisisOutcome::AlreadyEnded => "That crisis has ended already.".into(),
        CrisisOutcome::Published {
            kind,
            topic,
            progress_channel,
            published,
        } => {
            let what = match kind {
                UpdateKind::Start => "Crisis started",
                UpdateKind::Update => "Update posted",
                UpdateKind::End => "Crisis ended",
            };
            format!(
                "{what} (`{topic}`). The status message is up to date; {} subscriber(s) get it \
                 by direct message, and the progress shows in <#{progress_channel}>.",
                published.deliveries
            )
        }
    }
}

/// Subscribe a member to a topic (`None`: every topic); the desk confirms it by direct
/// message. Returns what to tell them.
pub async fn subscribe(
    bot: &Bot,
    http: &Http,
    guild: u64,
    user: u64,
    topic: Option<&str>,
    lang: &str,
) -> anyhow::Result<String> {
    let req = Subscribe {
        guild,
        user,
        topic,
        lang,
    };
    let subscribed = bot.desk.subscribe(&Discord::new(bot, http), req).await?;
    Ok(say_subscribed(bot.desk.locales, lang, guild, &subscribed))
}

/// What a member reads about their subscription (logged too).
pub fn say_subscribed(l: &Locales, lang: &str, guild: u64, subscribed: &Subscribed) -> String {
    let closed = |news: &Option<u64>| {
        let mut text = l.get(lang, "crisis.dms_closed").to_string();
        if let Some(news) = news {
            text.push(' ');
            text.push_str(&l.fill(
                lang,
                "crisis.dms_closed_news",
                &[("channel", &format!("<#{news}>"))],
            ));
        }
        text
    };
    match subscribed {
        Subscribed::NotATopic(why) => why.clone(),
        Subscribed::NoDmChannel { news, why } => {
            warn!("cannot open a DM channel: {why}");
            closed(news)
        }
        Subscribed::DmsClosed { news } => {
            info!(guild, "member subscribed, but Discord refuses them DMs");
            closed(news)
        }
        Subscribed::Subscribed { topic } => {
            let every = crate::desk::crisis::EVERY_TOPIC;
            info!(
                guild,
                topic = topic.as_deref().unwrap_or(every),
                "member subscribed"
            );
            match topic {
                Some(t) => l.fill(lang, "crisis.subscribed", &[("topic", t)]),
                None => l.get(lang, "crisis.subscribed_all").to_string(),
            }
        }
    }
}

/// Unsubscribe from a topic, or from everything.
pub async fn unsubscribe(
    bot: &Bot,
    guild: u64,
    user: u64,
    topic: Option<&str>,
    lang: &str,
) -> anyhow::Result<String> {
    let was = bot.desk.unsubscribe(guild, user, topic).await?;
    Ok(say_unsubscribed(bot.desk.locales, lang, was))
}

/// What a member reads once unsubscribed (`was`: whether they were subscribed at all).
pub fn say_unsubscribed(l: &Locales, lang: &str, was: bool) -> String {
    let key = if was {
        "crisis.unsubscribed"
    } else {
        "crisis.not_subscribed"
    };
    l.get(lang, key).to_string()
}

/// Finish the updates a stopped process (or a failed step) left half-done: at start all of
/// them, later only those older than `min_age_ms` (see `Desk::resume_publishing`).
pub async fn resume(bot: &Arc<Bot>, http: &Http, min_age_ms: i64) {
    let port = Discord::new(bot, http);
    let page = |guild| status_page(bot, guild);
    let resumed = match bot.desk.resume_publishing(&port, min_age_ms, &page).await {
        Ok(r) => r,
        Err(e) => {
            error!("cannot look for unfinished crisis updates: {e}");
            return;
        }
    };
    for r in resumed {
        match r.result {
            Ok(published) => {
                delivering(bot, &published);
                info!(
                    crisis = r.crisis,
                    update = r.update,
                    total = published.deliveries,
                    "finished a crisis update a stopped process had begun"
                );
            }
            Err(e) => error!(crisis = r.crisis, "cannot finish a crisis update: {e:#}"),
        }
    }
}
