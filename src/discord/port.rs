//! The desk's [`Port`] on Discord: the one place a journey's posts, threads and members become
//! REST calls.
//!
//! Every call goes through the REST gate (see [`super::gate`]) and [`retry`]; every post has
//! its text cut to Discord's 2,000 characters, its nonce enforced, and allowed mentions set so
//! that nothing pings but the role the desk named.
//! <https://discord.com/developers/docs/resources/message#create-message> (`nonce`,
//! `enforce_nonce`, `allowed_mentions`).

use async_trait::async_trait;
use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, CreateActionRow, CreateButton, CreateMessage,
    CreateThread, EditMessage, GuildId, Http, MessageId, Nonce, RoleId, UserId,
};

use super::crisis::{subscribe_id, unsubscribe_id};
use super::render::{MAX_CONTENT, fit, no_pings};
use super::tickets::TicketId;
use super::{Bot, discord_code, retry};
use crate::desk::port::{Button, Dm, Port, Post};
use crate::locale::Locales;

/// The desk's way out, for one bot and its REST client.
pub struct Discord<'a> {
    pub bot: &'a Bot,
    pub http: &'a Http,
}

impl<'a> Discord<'a> {
    pub fn new(bot: &'a Bot, http: &'a Http) -> Self {
        Discord { bot, http }
    }
}

/// A desk button as a Discord button.
pub(crate) fn button(b: Button) -> CreateButton {
    let l = Locales::embedded();
    match b {
        Button::Claim(ticket) => CreateButton::new(TicketId::Claim(ticket).to_string())
            .style(ButtonStyle::Primary)
            .label("Claim"),
        Button::Subscribe { topic, lang } => CreateButton::new(subscribe_id(&topic))
            .style(ButtonStyle::Secondary)
            .label(l.get(&lang, "crisis.subscribe")),
        Button::Unsubscribe { guild, topic, lang } => {
            CreateButton::new(unsubscribe_id(guild, &topic))
                .style(ButtonStyle::Secondary)
                .label(l.get(&lang, "crisis.unsubscribe"))
        }
    }
}

/// A desk post as a Discord message.
pub fn message(post: &Post) -> CreateMessage {
    let mentions = match post.ping_role {
        Some(role) => no_pings().roles(vec![RoleId::new(role)]),
        None => no_pings(),
    };
    let mut m = CreateMessage::new()
        .content(fit(&post.text, MAX_CONTENT))
        .allowed_mentions(mentions);
    if !post.buttons.is_empty() {
        // Discord allows five buttons in a row.
        let rows = post
            .buttons
            .chunks(5)
            .map(|row| CreateActionRow::Buttons(row.iter().cloned().map(button).collect()))
            .collect();
        m = m.components(rows);
    }
    if let Some(nonce) = &post.nonce {
        m = m.nonce(Nonce::String(nonce.clone())).enforce_nonce(true);
    }
    m
}

#[async_trait]
impl Port for Discord<'_> {
    async fn open_private_thread(&self, channel: u64, name: &str) -> anyhow::Result<u64> {
        // https://discord.com/developers/docs/resources/channel#start-thread-without-message:
        // a private thread, that members cannot invite others into.
        let create = CreateThread::new(name)
            .kind(ChannelType::PrivateThread)
            .invitable(false);
        let thread = retry(|| ChannelId::new(channel).create_thread(self.http, create.clone()))
            .await?
            .id
            .get();
        self.bot.remember_thread(thread, channel);
        Ok(thread)
    }

    async fn find_thread(
        &self,
        guild: u64,
        parent: u64,
        name: &str,
    ) -> anyhow::Result<Option<u64>> {
        let active = retry(|| GuildId::new(guild).get_active_threads(self.http)).await?;
        let found = active
            .threads
            .into_iter()
            .find(|t| t.name == name && t.parent_id == Some(ChannelId::new(parent)))
            .map(|t| t.id.get());
        if let Some(thread) = found {
            self.bot.remember_thread(thread, parent);
        }
        Ok(found)
    }

    async fn add_to_thread(&self, thread: u64, user: u64) -> anyhow::Result<()> {
        retry(|| ChannelId::new(thread).add_thread_member(self.http, UserId::new(user))).await
    }

    async fn post(&self, channel: u64, post: &Post) -> anyhow::Result<u64> {
        let message = message(post);
        let sent =
            retry(|| ChannelId::new(channel).send_message(self.http, message.clone())).await?;
        Ok(sent.id.get())
    }

    async fn edit_message(&self, channel: u64, message: u64, text: &str) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/message#edit-message: only the fields
        // sent change, so the buttons stay; allowed mentions apply to the new content.
        let edit = EditMessage::new()
            .content(fit(text, MAX_CONTENT))
            .allowed_mentions(no_pings());
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.edit_message(self.http, message, edit.clone())).await?;
        Ok(())
    }

    async fn pin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/message#pin-message: needs
        // PIN_MESSAGES (a 403 / 50013 otherwise).
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.pin(self.http, message)).await
    }

    async fn unpin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/message#unpin-message
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.unpin(self.http, message)).await
    }

    async fn is_announcement_channel(&self, channel: u64) -> anyhow::Result<bool> {
        // https://discord.com/developers/docs/resources/channel#get-channel; an announcement
        // channel is type GUILD_ANNOUNCEMENT (5), serenity's `News`.
        let channel = retry(|| ChannelId::new(channel).to_channel(self.http)).await?;
        Ok(matches!(
            channel,
            serenity::all::Channel::Guild(c) if c.kind == ChannelType::News
        ))
    }

    async fn crosspost(&self, channel: u64, message: u64) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/message#crosspost-message: a message
        // of an announcement channel, published to the channels following it.
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.crosspost(self.http, message)).await?;
        Ok(())
    }

    async fn open_dm(&self, user: u64) -> anyhow::Result<u64> {
        // https://discord.com/developers/docs/resources/user#create-dm
        Ok(retry(|| UserId::new(user).create_dm_channel(self.http))
            .await?
            .id
            .get())
    }

    async fn post_dm(&self, channel: u64, post: &Post) -> anyhow::Result<Dm> {
        // https://discord.com/developers/docs/topics/opcodes-and-status-codes#json: 50007,
        // "Cannot send messages to this user" (DMs closed, or no server shared).
        match self.post(channel, post).await {
            Ok(id) => Ok(Dm::Sent(id)),
            Err(e) if discord_code(&e) == Some(50007) => Ok(Dm::Refused),
            Err(e) => Err(e),
        }
    }
}
