//! What was asked while Beacon was away. Discord replays missed events only on a RESUME, never
//! to a new session (Gateway docs, "Resuming"), so after a start, or a reconnect Discord could
//! not resume, every question posted in a help channel or a new support-forum post in the
//! meantime would go unanswered. On each new session Beacon reads each help channel's latest
//! messages and the forum's active posts, within a bounded window (`[answers]
//! catch_up_minutes`, `catch_up_messages`), and answers each question that has no answer yet:
//! - a message with a reply of Beacon's under it in the channel was answered: skipped;
//! - one never stored is asked as if it had just arrived;
//! - one stored but whose reply was never recorded (the process stopped in between) is
//!   answered now (`Question::again`);
//! - the reply's nonce is the message's, enforced, so a live event for the same message at the
//!   same moment still makes one reply.
//!
//! Interactions that came while Beacon was away are gone: their tokens were never answered and
//! Discord told the member the interaction failed.

use std::collections::HashSet;
use std::time::Duration;

use serenity::all::{ChannelId, GetMessages, GuildId, Http, Message};
use tracing::{info, warn};

use super::answering::on_message;
use super::{Bot, retry};

/// How far back to read.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub age: Duration,
    /// Messages per channel, read 100 (Discord's page) at a time.
    pub messages: u16,
}

/// Read and answer what was asked in every server's help channels and forum while away.
pub async fn run(bot: &Bot, http: &Http, me: u64, guilds: &[u64]) {
    let mut answered = 0;
    for &guild in guilds {
        match catch_up_guild(bot, http, me, guild).await {
            Ok(n) => answered += n,
            Err(e) => warn!(guild, "cannot read what was asked while away: {e:#}"),
        }
    }
    if answered > 0 {
        info!(answered, "answered questions asked while Beacon was away");
    }
}

async fn catch_up_guild(bot: &Bot, http: &Http, me: u64, guild: u64) -> anyhow::Result<usize> {
    let settings = bot.desk.settings(guild).await?;
    let mut answered = 0;
    for &channel in &settings.help_channels {
        let messages = latest(bot, http, ChannelId::new(channel)).await?;
        answered += answer_unanswered(bot, http, me, guild, messages, |_| true).await;
    }
    if let Some(forum) = settings.forum_channel {
        let active = retry(|| GuildId::new(guild).get_active_threads(http)).await?;
        for thread in active
            .threads
            .iter()
            .filter(|t| t.parent_id.map(|p| p.get()) == Some(forum))
            .filter(|t| {
                t.thread_metadata
                    .and_then(|m| m.create_timestamp)
                    .is_none_or(|at| recent(bot, at.unix_timestamp()))
            })
        {
            bot.remember_thread(thread.id.get(), forum);
            let messages = latest(bot, http, thread.id).await?;
            // A forum post's question is its starter message, whose id is the thread's.
            let starter = thread.id.get();
            answered +=
                answer_unanswered(bot, http, me, guild, messages, |m| m.id.get() == starter).await;
        }
    }
    Ok(answered)
}

/// A channel's latest messages within the window, newest first, a page of 100 at a time until
/// the window's age or count is reached.
async fn latest(bot: &Bot, http: &Http, channel: ChannelId) -> anyhow::Result<Vec<Message>> {
    let wanted = usize::from(bot.catch_up.messages);
    let mut all: Vec<Message> = Vec::new();
    loop {
        let size = (wanted - all.len()).min(100) as u8;
        let mut page = GetMessages::new().limit(size);
        if let Some(oldest) = all.last() {
            page = page.before(oldest.id);
        }
        let got = retry(|| channel.messages(http, page)).await?;
        let done = got.len() < usize::from(size)
            || got
                .last()
                .is_none_or(|m| !recent(bot, m.timestamp.unix_timestamp()));
        all.extend(got);
        if done || all.len() >= wanted {
            return Ok(all);
        }
    }
}

/// Whether a moment (Unix seconds) is within the window.
fn recent(bot: &Bot, unix_seconds: i64) -> bool {
    crate::desk::now_ms() / 1000 - unix_seconds <= bot.catch_up.age.as_secs() as i64
}

/// Answer, oldest first, the messages of one channel that are recent, by a member, a question
/// (`is_question`) and not yet replied to by Beacon. Returns how many were handled.
async fn answer_unanswered(
    bot: &Bot,
    http: &Http,
    me: u64,
    guild: u64,
    mut messages: Vec<Message>,
    is_question: impl Fn(&Message) -> bool,
) -> usize {
    let replied: HashSet<u64> = messages
        .iter()
        .filter(|m| m.author.id.get() == me)
        .filter_map(|m| m.message_reference.as_ref()?.message_id)
        .map(|id| id.get())
        .collect();
    messages.sort_by_key(|m| m.id);
    let mut handled = 0;
    for mut m in messages {
        if m.author.bot
            || replied.contains(&m.id.get())
            || !is_question(&m)
            || !recent(bot, m.timestamp.unix_timestamp())
        {
            continue;
        }
        // Messages read over REST carry no server; the gateway's do.
        m.guild_id = Some(GuildId::new(guild));
        match on_message(bot, http, &m, true).await {
            Ok(()) => handled += 1,
            Err(e) => warn!(message = %m.id, "a question asked while away was not answered: {e:#}"),
        }
    }
    handled
}
