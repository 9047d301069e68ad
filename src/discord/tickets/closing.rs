//! Closing a ticket: by an agent with a reason, by the customer confirming an agent's request,
//! or by the inactivity timer. Every closing is wrapped up the same way, once: the 1-5 rating
//! and Reopen go to the customer by direct message, the thread gets a close notice, the card is
//! updated, a transcript (Markdown and HTML) goes to the transcripts channel, and the thread is
//! archived and locked. A closed ticket can be reopened within the configured window, from the
//! direct message, or with `/reopen` anywhere in the server.
//!
//! Why a direct message: in a locked, archived thread Discord's client lets nobody without
//! Manage Threads press a component or run a command (Threads docs, "Locked Threads";
//! discord-api-docs issues 7900 and 8474), so a survey there could never be answered. When
//! the customer's DMs are closed (50007), the survey goes in the thread instead and the thread
//! is archived without being locked: a member of the thread may reopen an unlocked one, which
//! the client does before sending a press.

use serenity::all::{
    ButtonStyle, ChannelId, CommandInteraction, ComponentInteraction, CreateActionRow,
    CreateAttachment, CreateButton, CreateInputText, CreateMessage, CreateModal, EditThread,
    GetMessages, Http, InputTextStyle, Message, MessageId, Nonce, UserId,
};
use tracing::{error, info, warn};

use super::{TicketId, annotate_card, refusal_text, say, show_status, thread_link, user};
use crate::desk::now_ms;
use crate::desk::tickets::{
    self as desk_tickets, Actor, NotDone, Target, Ticket, TicketLedger, Update,
};
use crate::desk::transcript::{self, Attachment, Header, Line, Role};
use crate::discord::render::{MAX_CONTENT, fit, no_pings};
use crate::discord::{Bot, actor_of, retry};

/// The most messages a transcript holds (the thread's latest ones, if it has more).
const MAX_TRANSCRIPT_MESSAGES: usize = 5_000;

/// Close a ticket and wrap it up. Returns the private reply for whoever closed it.
pub async fn close(
    bot: &Bot,
    http: &Http,
    actor: &Actor,
    target: Target,
    reason: &str,
    lang: &str,
) -> anyhow::Result<String> {
    let ticket =
        match desk_tickets::close(bot.desk.ledger(), actor, target, reason, now_ms()).await? {
            Ok(t) => t,
            Err(not_done) => return Ok(refusal_text(bot.desk.locales, lang, &not_done)),
        };
    wrap_up(bot, http, &ticket, &user(actor.user_id)).await?;
    bot.queue_changed.notify_one();
    Ok(bot
        .desk
        .locales
        .fill(lang, "ticket.you_closed", &[("number", &ticket.number)]))
}

/// `/close reason:` in a ticket's thread.
pub async fn close_command(
    bot: &Bot,
    http: &Http,
    cmd: &CommandInteraction,
    reason: &str,
    lang: &str,
) -> anyhow::Result<String> {
    let guild = crate::discord::server(cmd.guild_id)?;
    let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
    // Customers close their own tickets from the confirmation buttons; the command is staff's.
    if !(actor.is_agent || actor.is_moderator) {
        return Ok(bot.desk.locales.get(lang, "ticket.agent_only").to_string());
    }
    close(
        bot,
        http,
        &actor,
        Target::Thread(cmd.channel_id.get()),
        reason,
        lang,
    )
    .await
}

/// Reopen a closed ticket: `/reopen`, or the Reopen button (in the survey's DM, or in the
/// thread when DMs were closed).
pub async fn reopen(
    bot: &Bot,
    http: &Http,
    actor: &Pressed,
    target: Target,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let window = i64::from(bot.desk.tickets.reopen_hours) * 3_600_000;
    let now = now_ms();
    let ticket = match desk_tickets::reopen(bot.desk.ledger(), actor, target, window, now).await? {
        Ok(t) => t,
        Err(not_done) => return Ok(refusal_text(bot.desk.locales, lang, &not_done)),
    };
    // A fresh first-response target from now: the customer is waiting again.
    let settings = bot.desk.settings(ticket.guild_id).await?;
    let due = bot
        .desk
        .tickets
        .targets
        .due_ms(&settings, now, ticket.priority);
    let update = Update::Due(Some(due));
    let ticket = bot
        .desk
        .ledger()
        .update(ticket.id, actor.user_id, now, &update)
        .await?
        .unwrap_or(ticket);
    let who = user(actor.user_id);
    if let Some(thread) = ticket.thread_id {
        let open = EditThread::new().archived(false).locked(false);
        retry(|| ChannelId::new(thread).edit_thread(http, open.clone())).await?;
        say(
            http,
            thread,
            &l.fill(&ticket.lang, "ticket.reopened", &[("who", &who)]),
        )
        .await?;
    }
    annotate_card(
        bot,
        http,
        &ticket,
        &format!("Reopened by {who}; waiting again."),
    )
    .await?;
    bot.queue_changed.notify_one();
    // A channel mention shows as a link in the server; a direct message needs the full link.
    let thread = match (ticket.thread_id, actor.in_dm) {
        (Some(t), true) => format!("https://discord.com/channels/{}/{t}", ticket.guild_id),
        _ => thread_link(&ticket),
    };
    Ok(l.fill(
        if actor.in_dm { &ticket.lang } else { lang },
        "ticket.you_reopened",
        &[("number", &ticket.number), ("thread", &thread)],
    ))
}

/// `/reopen [number:]`: the ticket with that number, else this thread's ticket, else the
/// member's own most recently closed one. Works anywhere in the server, so a customer whose
/// thread is locked can reopen it too.
pub async fn reopen_command(
    bot: &Bot,
    http: &Http,
    cmd: &CommandInteraction,
    lang: &str,
) -> anyhow::Result<String> {
    let guild = crate::discord::server(cmd.guild_id)?;
    let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
    let number = crate::discord::commands::int_option(&cmd.data.options(), "number");
    let here = cmd.channel_id.get();
    let target = match number {
        Some(n) => Target::Number(n),
        None if bot.desk.ledger().ticket_by_thread(here).await?.is_some() => Target::Thread(here),
        None => Target::LastClosed,
    };
    reopen(bot, http, &Pressed::in_server(actor), target, lang).await
}

/// Who pressed a ticket's button or sent its form: in the server, a member as their roles make
/// them; in a direct message (the survey), only who they are, on the ticket's server, since
/// DMs carry no server or roles.
#[derive(Clone, Copy, Debug)]
pub struct Pressed {
    pub actor: Actor,
    pub in_dm: bool,
}

impl Pressed {
    pub fn in_server(actor: Actor) -> Pressed {
        Pressed {
            actor,
            in_dm: false,
        }
    }

    /// The actor behind an interaction about `ticket`, wherever it was pressed. `None` when the
    /// ticket is unknown.
    pub async fn of(
        bot: &Bot,
        guild: Option<u64>,
        user: u64,
        member: Option<&serenity::all::Member>,
        ticket: i64,
    ) -> anyhow::Result<Option<Pressed>> {
        if let Some(guild) = guild {
            return Ok(Some(Pressed::in_server(
                actor_of(bot, guild, user, member).await?,
            )));
        }
        Ok(bot.desk.ledger().ticket(ticket).await?.map(|t| Pressed {
            actor: Actor {
                user_id: user,
                guild_id: t.guild_id,
                is_agent: false,
                is_moderator: false,
            },
            in_dm: true,
        }))
    }
}

impl std::ops::Deref for Pressed {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

/// The customer's buttons in the thread: confirm closing, still need help, reopen. Returns the
/// private reply.
pub async fn customer_button(
    bot: &Bot,
    http: &Http,
    c: &ComponentInteraction,
    id: &TicketId,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let ticket_id = match *id {
        TicketId::Close(t) | TicketId::Keep(t) | TicketId::Reopen(t) => t,
        _ => return Ok(String::new()),
    };
    let guild = c.guild_id.map(|g| g.get());
    let Some(pressed) =
        Pressed::of(bot, guild, c.user.id.get(), c.member.as_ref(), ticket_id).await?
    else {
        return Ok(l.get(lang, "error.expired").to_string());
    };
    let actor = pressed.actor;
    match *id {
        TicketId::Close(ticket) => {
            let Some(t) = bot.desk.ledger().ticket(ticket).await? else {
                return Ok(l.get(lang, "error.expired").to_string());
            };
            if t.customer_id != actor.user_id {
                return Ok(l.get(lang, "ticket.not_customer").to_string());
            }
            let reason = l.get(&t.lang, "ticket.solved_reason").to_string();
            close(bot, http, &actor, Target::Id(ticket), &reason, lang).await
        }
        TicketId::Keep(ticket) => {
            let Some(t) = bot.desk.ledger().ticket(ticket).await? else {
                return Ok(l.get(lang, "error.expired").to_string());
            };
            if t.customer_id != actor.user_id {
                return Ok(l.get(lang, "ticket.not_customer").to_string());
            }
            bot.desk
                .ledger()
                .update(t.id, actor.user_id, now_ms(), &Update::CustomerSeen)
                .await?;
            if let Some(thread) = t.thread_id {
                let agent = t.agent_id.map(user).unwrap_or_default();
                say(
                    http,
                    thread,
                    &format!("{agent} {}", l.get(&t.lang, "ticket.still_open")),
                )
                .await?;
            }
            Ok(l.get(lang, "ticket.still_open").to_string())
        }
        TicketId::Reopen(ticket) => reopen(bot, http, &pressed, Target::Id(ticket), lang).await,
        _ => Ok(String::new()),
    }
}

/// A star button: the rating is kept at once, and a form offers room for a comment. Only the
/// ticket's customer may rate.
pub async fn rate_button(
    bot: &Bot,
    c: &ComponentInteraction,
    ticket: i64,
    stars: u8,
    lang: &str,
) -> anyhow::Result<Result<CreateModal, String>> {
    let l = bot.desk.locales;
    let guild = c.guild_id.map(|g| g.get());
    let Some(actor) = Pressed::of(bot, guild, c.user.id.get(), c.member.as_ref(), ticket).await?
    else {
        return Ok(Err(l.get(lang, "error.expired").to_string()));
    };
    match desk_tickets::rate(
        bot.desk.ledger(),
        &actor,
        Target::Id(ticket),
        stars,
        None,
        now_ms(),
    )
    .await?
    {
        Ok(t) => {
            let comment = CreateInputText::new(
                InputTextStyle::Paragraph,
                fit(l.get(&t.lang, "ticket.rate_comment"), 45),
                "comment",
            )
            .required(false)
            .max_length(1000);
            Ok(Ok(CreateModal::new(
                TicketId::Comment(ticket, stars).to_string(),
                fit(l.get(&t.lang, "ticket.rate_title"), 45),
            )
            .components(vec![CreateActionRow::InputText(comment)])))
        }
        Err(NotDone::NoTicket) => Ok(Err(l.get(lang, "error.expired").to_string())),
        Err(not_done) => Ok(Err(refusal_text(bot.desk.locales, lang, &not_done))),
    }
}

/// After the customer answered the survey in the ticket's own thread (their DMs were closed),
/// archive the thread again: pressing there had reopened it. Nothing to do in a DM.
pub async fn archive_again(bot: &Bot, http: &Http, ticket: i64, channel: u64) {
    let Ok(Some(t)) = bot.desk.ledger().ticket(ticket).await else {
        return;
    };
    if t.thread_id != Some(channel) || t.state != desk_tickets::TicketState::Closed {
        return;
    }
    let archive = EditThread::new().archived(true);
    if let Err(e) = retry(|| ChannelId::new(channel).edit_thread(http, archive.clone())).await {
        warn!(
            ticket = t.number,
            "cannot archive the thread again after the rating: {e:#}"
        );
    }
}

/// The rating form sent back, with its comment.
pub async fn comment(
    bot: &Bot,
    actor: &Pressed,
    ticket: i64,
    stars: u8,
    text: Option<String>,
    lang: &str,
) -> anyhow::Result<String> {
    let text = text.filter(|t| !t.trim().is_empty());
    match desk_tickets::rate(
        bot.desk.ledger(),
        actor,
        Target::Id(ticket),
        stars,
        text,
        now_ms(),
    )
    .await?
    {
        // In a DM the client's locale is all Discord says; the ticket knows their language.
        Ok(t) => Ok(bot.desk.locales.fill(
            if actor.in_dm { &t.lang } else { lang },
            "ticket.rated",
            &[("number", &t.number), ("stars", &stars)],
        )),
        Err(not_done) => Ok(refusal_text(bot.desk.locales, lang, &not_done)),
    }
}

/// Everything a closing does after the state change, each step safe to repeat: the survey and
/// the notice carry nonces of this closing, the card line is not added twice, archiving twice
/// is harmless. Marked done at the end, so a restart repeats exactly what was not finished.
pub async fn wrap_up(bot: &Bot, http: &Http, ticket: &Ticket, closer: &str) -> anyhow::Result<()> {
    let l = bot.desk.locales;
    let lang = ticket.lang.as_str();
    let reason = ticket.close_reason.clone().unwrap_or_default();
    let nonce = |kind: char| Nonce::String(format!("{kind}{}.{}", ticket.id, ticket.closings));
    // The survey first, where the customer can answer it: by direct message.
    let by_dm = send_survey(bot, http, ticket, &reason).await?;
    if let Some(thread) = ticket.thread_id {
        let thread = ChannelId::new(thread);
        let mut text = l.fill(
            lang,
            "ticket.closed_notice",
            &[("agent", &closer), ("reason", &reason)],
        );
        text.push('\n');
        let rows = if by_dm {
            text.push_str(l.get(lang, "ticket.survey_sent"));
            vec![]
        } else {
            text.push_str(l.get(lang, "ticket.rate_ask"));
            survey_rows(bot, ticket)
        };
        let message = CreateMessage::new()
            .content(fit(&text, MAX_CONTENT))
            .components(rows)
            .allowed_mentions(no_pings())
            .nonce(nonce('n'))
            .enforce_nonce(true);
        retry(|| thread.send_message(http, message.clone())).await?;
        show_status(http, ticket, &format!("#{} · {reason}", ticket.number)).await?;
    }
    let line = l.fill(
        "en",
        "ticket.closed_by",
        &[("agent", &closer), ("reason", &reason)],
    );
    annotate_card(bot, http, ticket, &line).await?;
    // The transcript is kept (the first version of this closing stays, so a restart that
    // reads the thread again, with the close notice in it, changes nothing) and posted.
    let ledger = bot.desk.ledger();
    let kept = match ledger.transcript(ticket.id, ticket.closings).await? {
        Some(kept) => Some(kept),
        None => match ticket.thread_id {
            Some(thread) => {
                let messages = thread_messages(http, ChannelId::new(thread)).await?;
                let (header, lines) = transcript_of(ticket, &messages);
                let md = transcript::markdown(&header, &lines);
                let html = transcript::html(&header, &lines);
                ledger
                    .save_transcript(ticket.id, ticket.closings, &md, &html, now_ms())
                    .await?;
                Some((md, html))
            }
            None => None,
        },
    };
    let settings = bot.desk.settings(ticket.guild_id).await?;
    if let (Some(channel), Some((md, html))) = (settings.transcripts_channel, kept) {
        let (md_name, html_name) = transcript::file_names(ticket.number);
        let message = CreateMessage::new()
            .content(fit(
                &format!(
                    "Transcript of ticket #{} ({}) · closed by {closer}: {reason}",
                    ticket.number, ticket.category,
                ),
                MAX_CONTENT,
            ))
            .add_file(CreateAttachment::bytes(md.into_bytes(), md_name))
            .add_file(CreateAttachment::bytes(html.into_bytes(), html_name))
            .allowed_mentions(no_pings())
            .nonce(nonce('x'))
            .enforce_nonce(true);
        retry(|| ChannelId::new(channel).send_message(http, message.clone())).await?;
    }
    // Archived, so Discord's active-thread cap does not count it, and locked, so nobody writes
    // in it by mistake, unless the survey had to stay in the thread: then unlocked, so the
    // customer can still press it (pressing reopens an unlocked thread for its members).
    if let Some(thread) = ticket.thread_id {
        let archive = EditThread::new().archived(true).locked(by_dm);
        retry(|| ChannelId::new(thread).edit_thread(http, archive.clone())).await?;
    }
    bot.desk
        .ledger()
        .update(
            ticket.id,
            desk_tickets::BEACON,
            now_ms(),
            &Update::WrappedUp,
        )
        .await?;
    Ok(())
}

/// The 1-5 stars and Reopen, under a survey.
fn survey_rows(bot: &Bot, ticket: &Ticket) -> Vec<CreateActionRow> {
    let stars = (1..=5u8)
        .map(|s| {
            CreateButton::new(TicketId::Rate(ticket.id, s).to_string())
                .style(ButtonStyle::Secondary)
                .label(format!("{s} ★"))
        })
        .collect();
    vec![
        CreateActionRow::Buttons(stars),
        CreateActionRow::Buttons(vec![
            CreateButton::new(TicketId::Reopen(ticket.id).to_string())
                .style(ButtonStyle::Secondary)
                .label(bot.desk.locales.get(&ticket.lang, "ticket.reopen")),
        ]),
    ]
}

/// Send the customer the closing survey by direct message: what the ticket was, who helped,
/// the stars and Reopen. `false` when Discord refuses it (50007: their DMs are closed to this
/// server's members, or they left it); other failures are errors, retried with the wrap-up.
async fn send_survey(
    bot: &Bot,
    http: &Http,
    ticket: &Ticket,
    reason: &str,
) -> anyhow::Result<bool> {
    let l = bot.desk.locales;
    let lang = ticket.lang.as_str();
    let server = bot
        .desk
        .ledger()
        .guild_name(ticket.guild_id)
        .await?
        .unwrap_or_else(|| ticket.guild_id.to_string());
    // A mention in a DM shows a name only if the client happens to know the member: the name
    // itself is sure to show.
    let helper = match ticket.agent_id {
        Some(agent) => match retry(|| UserId::new(agent).to_user(http)).await {
            Ok(u) => u.global_name.unwrap_or(u.name),
            Err(_) => user(agent),
        },
        None => l.get(lang, "ticket.team").to_string(),
    };
    let subject = if ticket.subject.trim().is_empty() {
        ticket.category.clone()
    } else {
        ticket.subject.clone()
    };
    let mut text = l.fill(
        lang,
        "ticket.survey",
        &[
            ("number", &ticket.number),
            ("server", &server),
            ("reason", &reason),
            ("subject", &fit(&subject, 300)),
            ("agent", &helper),
        ],
    );
    text.push('\n');
    text.push_str(l.get(lang, "ticket.rate_ask"));
    let message = CreateMessage::new()
        .content(fit(&text, MAX_CONTENT))
        .components(survey_rows(bot, ticket))
        .allowed_mentions(no_pings())
        .nonce(Nonce::String(format!("v{}.{}", ticket.id, ticket.closings)))
        .enforce_nonce(true);
    let sent = async {
        let dm = retry(|| UserId::new(ticket.customer_id).create_dm_channel(http)).await?;
        retry(|| dm.id.send_message(http, message.clone())).await
    }
    .await;
    match sent {
        Ok(_) => Ok(true),
        Err(e) if crate::discord::discord_code(&e) == Some(50007) => {
            info!(
                ticket = ticket.number,
                "survey DM refused; it goes in the thread"
            );
            Ok(false)
        }
        Err(e) => Err(e),
    }
}

/// At start: wrap up closings a stopped process left unfinished.
pub async fn wrap_unwrapped(bot: &Bot, http: &Http) {
    let tickets = match bot.desk.ledger().unwrapped().await {
        Ok(t) => t,
        Err(e) => {
            error!("cannot look for unfinished closings: {e}");
            return;
        }
    };
    for ticket in tickets {
        let closer = ticket.agent_id.map(user).unwrap_or_else(|| "Beacon".into());
        match wrap_up(bot, http, &ticket, &closer).await {
            Ok(()) => info!(
                ticket = ticket.number,
                "finished a closing a stopped process had begun"
            ),
            Err(e) => error!(ticket = ticket.number, "cannot finish a closing: {e:#}"),
        }
    }
}

/// The thread's messages, oldest first (at most [`MAX_TRANSCRIPT_MESSAGES`], the latest).
async fn thread_messages(http: &Http, thread: ChannelId) -> anyhow::Result<Vec<Message>> {
    let mut all: Vec<Message> = Vec::new();
    let mut before: Option<MessageId> = None;
    loop {
        let mut page = GetMessages::new().limit(100);
        if let Some(b) = before {
            page = page.before(b);
        }
        let batch = retry(|| thread.messages(http, page)).await?;
        let done = batch.len() < 100;
        before = batch.iter().map(|m| m.id).min();
        all.extend(batch);
        if done || all.len() >= MAX_TRANSCRIPT_MESSAGES {
            break;
        }
    }
    if all.len() >= MAX_TRANSCRIPT_MESSAGES {
        warn!(%thread, "transcript cut to the latest {MAX_TRANSCRIPT_MESSAGES} messages");
    }
    all.sort_by_key(|m| m.id);
    Ok(all)
}

/// A transcript's header and lines from the ticket and its thread's messages.
fn transcript_of(ticket: &Ticket, messages: &[Message]) -> (Header, Vec<Line>) {
    let name_of = |id: u64| {
        messages
            .iter()
            .find(|m| m.author.id.get() == id)
            .map(|m| {
                m.author
                    .global_name
                    .clone()
                    .unwrap_or_else(|| m.author.name.clone())
            })
            .unwrap_or_else(|| format!("member {id}"))
    };
    let header = Header {
        number: ticket.number,
        server: format!("server {}", ticket.guild_id),
        category: ticket.category.clone(),
        priority: ticket.priority.name().to_string(),
        tags: ticket.tags.clone(),
        customer: name_of(ticket.customer_id),
        agent: ticket.agent_id.map(name_of),
        opened_at_ms: ticket.opened_at_ms,
        closed_at_ms: ticket.closed_at_ms,
        close_reason: ticket.close_reason.clone(),
        rating: ticket.rating,
    };
    let lines = messages
        .iter()
        .map(|m| Line {
            author: m
                .author
                .global_name
                .clone()
                .unwrap_or_else(|| m.author.name.clone()),
            role: if m.author.bot {
                Role::Bot
            } else if m.author.id.get() == ticket.customer_id {
                Role::Customer
            } else {
                Role::Staff
            },
            at_ms: m.timestamp.unix_timestamp() * 1000,
            text: m.content.clone(),
            attachments: m
                .attachments
                .iter()
                .map(|a| Attachment {
                    name: a.filename.clone(),
                    url: a.url.clone(),
                })
                .collect(),
        })
        .collect();
    (header, lines)
}
