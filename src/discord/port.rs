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

use super::render::{MAX_CONTENT, fit, no_pings};
use super::tickets::TicketId;
use super::{Bot, retry};
use crate::desk::port::{Button, Edit, Port, Post};

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
pub(crate) fn button(b: &Button) -> CreateButton {
    match b {
        Button::Claim(ticket) => CreateButton::new(TicketId::Claim(*ticket).to_string())
            .style(ButtonStyle::Primary)
            .label("Claim"),
        Button::ConfirmClose { ticket, label } => {
            CreateButton::new(TicketId::Close(*ticket).to_string())
                .style(ButtonStyle::Success)
                .label(label)
        }
        Button::KeepOpen { ticket, label } => {
            CreateButton::new(TicketId::Keep(*ticket).to_string())
                .style(ButtonStyle::Secondary)
                .label(label)
        }
    }
}

/// Desk buttons as Discord's rows: five buttons in a row at most
/// (<https://discord.com/developers/docs/components/reference#action-row>).
fn rows(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(5)
        .map(|row| CreateActionRow::Buttons(row.iter().map(button).collect()))
        .collect()
}

/// A desk post as a Discord message.
pub fn message(post: &Post) -> CreateMessage {
    let mut mentions = no_pings();
    if !post.ping_roles.is_empty() {
        mentions = mentions.roles(
            post.ping_roles
                .iter()
                .map(|r| RoleId::new(*r))
                .collect::<Vec<_>>(),
        );
    }
    if let Some(user) = post.ping_user {
        mentions = mentions.users(vec![UserId::new(user)]);
    }
    let mut m = CreateMessage::new()
        .content(fit(&post.text, MAX_CONTENT))
        .allowed_mentions(mentions);
    if !post.buttons.is_empty() {
        m = m.components(rows(&post.buttons));
    }
    if let Some(nonce) = &post.nonce {
        m = m.nonce(Nonce::String(nonce.clone())).enforce_nonce(true);
    }
    m
}

/// Where a reply points: a message in the channel it is posted in.
fn replying(m: CreateMessage, channel: u64, reply_to: Option<u64>) -> CreateMessage {
    match reply_to {
        Some(to) => m.reference_message((ChannelId::new(channel), MessageId::new(to))),
        None => m,
    }
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
        let message = replying(message(post), channel, post.reply_to);
        let sent =
            retry(|| ChannelId::new(channel).send_message(self.http, message.clone())).await?;
        Ok(sent.id.get())
    }

    /// <https://discord.com/developers/docs/resources/message#edit-message>: fields left out
    /// stay as they are, so buttons are only sent when the desk names them.
    async fn edit(&self, channel: u64, message: u64, edit: &Edit) -> anyhow::Result<()> {
        let mut e = EditMessage::new()
            .content(fit(&edit.text, MAX_CONTENT))
            .allowed_mentions(no_pings());
        if let Some(buttons) = &edit.buttons {
            e = e.components(rows(buttons));
        }
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.edit_message(self.http, message, e.clone())).await?;
        Ok(())
    }

    /// <https://discord.com/developers/docs/resources/message#get-channel-message>.
    async fn text_of(&self, channel: u64, message: u64) -> anyhow::Result<String> {
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        Ok(retry(|| channel.message(self.http, message)).await?.content)
    }
}
