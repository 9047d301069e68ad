//! The desk's [`Port`] on Discord: the one place a journey's posts, threads and members become
//! REST calls.
//!
//! Every call goes through the REST gate (see [`super::gate`]) and [`retry`]; every post has
//! its text cut to Discord's 2,000 characters, a nonce enforced (the desk's, or one made for
//! the call), and allowed mentions set so that nothing pings but the role the desk named.
//! <https://discord.com/developers/docs/resources/message#create-message> (`nonce`,
//! `enforce_nonce`, `allowed_mentions`).

use async_trait::async_trait;
use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, CreateActionRow, CreateAttachment, CreateButton,
    CreateMessage, CreateThread, EditMessage, EditThread, GetMessages, GuildId, Http, Message,
    MessageId, Nonce, RoleId, UserId,
};
use tracing::warn;

use super::custom_id::CrisisButton;
use super::render::{MAX_CONTENT, fit, no_pings};
use super::tickets::TicketId;
use super::{Bot, discord_code, retry};
use crate::desk::port::{Button, Dm, Edit, File, Port, Post, ThreadMessage, ThreadState};

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
    match b {
        Button::Claim(ticket) => CreateButton::new(TicketId::Claim(ticket).to_string())
            .style(ButtonStyle::Primary)
            .label("Claim"),
        Button::Rate(ticket, stars) => CreateButton::new(TicketId::Rate(ticket, stars).to_string())
            .style(ButtonStyle::Secondary)
            .label(format!("{stars} ★")),
        Button::Reopen { ticket, label } => CreateButton::new(TicketId::Reopen(ticket).to_string())
            .style(ButtonStyle::Secondary)
            .label(label),
        Button::ConfirmClose { ticket, label } => {
            CreateButton::new(TicketId::Close(ticket).to_string())
                .style(ButtonStyle::Success)
                .label(label)
        }
        Button::KeepOpen { ticket, label } => CreateButton::new(TicketId::Keep(ticket).to_string())
            .style(ButtonStyle::Secondary)
            .label(label),
        Button::Subscribe { topic, label } => {
            CreateButton::new(CrisisButton::Subscribe(topic).to_string())
                .style(ButtonStyle::Secondary)
                .label(label)
        }
        Button::Unsubscribe {
            guild,
            topic,
            label,
        } => CreateButton::new(CrisisButton::Unsubscribe(guild, topic).to_string())
            .style(ButtonStyle::Secondary)
            .label(label),
    }
}

/// Desk buttons as Discord's rows of at most five.
fn rows(buttons: &[Button]) -> Vec<CreateActionRow> {
    buttons
        .chunks(5)
        .map(|row| CreateActionRow::Buttons(row.iter().cloned().map(button).collect()))
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
        // Discord allows five buttons in a row.
        m = m.components(rows(&post.buttons));
    }
    if let Some(nonce) = &post.nonce {
        m = m.nonce(Nonce::String(nonce.clone())).enforce_nonce(true);
    }
    m
}

/// `post`, with a nonce of its own when the desk gave it none: unique to this call, so that
/// [`retry`] after a 5xx Discord did act on gets the first message back instead of posting a
/// second. A nonce is at most 25 characters (Create Message, `nonce`); the process id keeps
/// two shards from making the same one.
fn with_nonce(post: &Post) -> std::borrow::Cow<'_, Post> {
    use std::sync::atomic::{AtomicU64, Ordering};
    static CALLS: AtomicU64 = AtomicU64::new(0);
    if post.nonce.is_some() {
        return std::borrow::Cow::Borrowed(post);
    }
    let n = CALLS.fetch_add(1, Ordering::Relaxed) % 0x100_0000;
    let ms = crate::desk::now_ms() as u64 % 0x1_0000_0000;
    let nonce = format!("q{:x}.{ms:x}.{n:x}", std::process::id() % 0x100_0000);
    std::borrow::Cow::Owned(Post {
        nonce: Some(nonce),
        ..post.clone()
    })
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
        let message = replying(message(&with_nonce(post)), channel, post.reply_to);
        let sent =
            retry(|| ChannelId::new(channel).send_message(self.http, message.clone())).await?;
        Ok(sent.id.get())
    }

    async fn send_dm(&self, user: u64, post: &Post) -> anyhow::Result<Dm> {
        // Opening the channel succeeds whatever the member's settings; the message is what
        // Discord refuses (see `post_dm`).
        let dm = self.open_dm(user).await?;
        self.post_dm(dm, post).await
    }

    async fn message_text(&self, channel: u64, message: u64) -> anyhow::Result<String> {
        // https://discord.com/developers/docs/resources/message#get-channel-message
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        Ok(retry(|| channel.message(self.http, message)).await?.content)
    }

    async fn edit_message(&self, channel: u64, message: u64, edit: &Edit) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/message#edit-message: `components`
        // left out keeps the message's buttons; an empty list removes them.
        let mut change = EditMessage::new()
            .content(fit(&edit.text, MAX_CONTENT))
            .allowed_mentions(no_pings());
        if let Some(buttons) = &edit.buttons {
            change = change.components(rows(buttons));
        }
        let (channel, message) = (ChannelId::new(channel), MessageId::new(message));
        retry(|| channel.edit_message(self.http, message, change.clone())).await?;
        Ok(())
    }

    async fn set_thread(&self, thread: u64, state: ThreadState) -> anyhow::Result<()> {
        // https://discord.com/developers/docs/resources/channel#modify-channel-json-params-thread
        // (`archived`, `locked`; locking needs Manage Threads).
        let mut change = EditThread::new().archived(state.archived);
        if let Some(locked) = state.locked {
            change = change.locked(locked);
        }
        retry(|| ChannelId::new(thread).edit_thread(self.http, change.clone())).await?;
        Ok(())
    }

    async fn post_files(&self, channel: u64, post: &Post, files: &[File]) -> anyhow::Result<u64> {
        // https://discord.com/developers/docs/reference#uploading-files (Attach Files needed).
        let mut message = message(&with_nonce(post));
        for f in files {
            message = message.add_file(CreateAttachment::bytes(f.bytes.clone(), f.name.clone()));
        }
        let sent =
            retry(|| ChannelId::new(channel).send_message(self.http, message.clone())).await?;
        Ok(sent.id.get())
    }

    async fn thread_messages(&self, thread: u64, max: usize) -> anyhow::Result<Vec<ThreadMessage>> {
        // https://discord.com/developers/docs/resources/message#get-channel-messages: at most
        // 100 a page, newest first, `before` pages back.
        let thread = ChannelId::new(thread);
        let mut all: Vec<Message> = Vec::new();
        let mut before: Option<MessageId> = None;
        loop {
            let mut page = GetMessages::new().limit(100);
            if let Some(b) = before {
                page = page.before(b);
            }
            let batch = retry(|| thread.messages(self.http, page)).await?;
            let done = batch.len() < 100;
            before = batch.iter().map(|m| m.id).min();
            all.extend(batch);
            if done || all.len() >= max {
                break;
            }
        }
        if all.len() >= max {
            warn!(%thread, "thread read cut to its latest {} messages", all.len());
        }
        all.sort_by_key(|m| m.id);
        Ok(all
            .into_iter()
            .map(|m| ThreadMessage {
                id: m.id.get(),
                author_id: m.author.id.get(),
                author_name: m
                    .author
                    .global_name
                    .clone()
                    .unwrap_or(m.author.name.clone()),
                author_is_bot: m.author.bot,
                text: m.content,
                attachments: m
                    .attachments
                    .into_iter()
                    .map(|a| (a.filename, a.url))
                    .collect(),
                at_ms: m.timestamp.unix_timestamp() * 1000,
            })
            .collect())
    }

    async fn user_name(&self, user: u64) -> anyhow::Result<String> {
        // https://discord.com/developers/docs/resources/user#get-user
        let u = retry(|| UserId::new(user).to_user(self.http)).await?;
        Ok(u.global_name.unwrap_or(u.name))
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
            Err(e) if discord_code(&e) == Some(50007) => Ok(Dm::Closed),
            Err(e) => Err(e),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_post_without_a_nonce_gets_one_of_its_own_within_discords_25_characters() {
        let a = with_nonce(&Post::text("hi")).nonce.clone().unwrap();
        let b = with_nonce(&Post::text("hi")).nonce.clone().unwrap();
        assert_ne!(a, b, "each call its own");
        assert!(a.len() <= 25 && b.len() <= 25, "{a} {b}");
        let given = Post {
            nonce: Some("t7".into()),
            ..Post::text("hi")
        };
        assert_eq!(with_nonce(&given).nonce.as_deref(), Some("t7"));
    }
}
