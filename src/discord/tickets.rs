//! Tickets on Discord (issue 4, first steps): "Talk to a person" opens a private thread with the
//! customer and a header card, puts a card with Claim in the agents' channel, and Claim gives the
//! ticket to exactly one agent.

use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, CommandInteraction, ComponentInteraction, Context,
    CreateActionRow, CreateButton, CreateMessage, CreateThread, EditMessage, EditThread, MessageId,
    Nonce, RoleId, UserId,
};
use tracing::{error, info};

use super::render::{MAX_CONTENT, fit, no_pings};
use super::{Bot, actor_of, retry};
use crate::desk::settings::{Staffed, staffed};
use crate::desk::tickets::{
    NewTicket, NotDone, Opened, Priority, Refusal, Ticket, TicketLedger, TicketState,
    claim as desk_claim, close as desk_close, enqueue, open_or_find,
};
use crate::desk::{Ledger, now_ms};

/// The category every ticket has until categories are configurable.
const GENERAL: &str = "general";

/// The custom id of a ticket's Claim button.
pub fn claim_id(ticket: i64) -> String {
    format!("t:claim:{ticket}")
}

/// The ticket a Claim button is for.
pub fn parse_claim(custom_id: &str) -> Option<i64> {
    custom_id.strip_prefix("t:claim:")?.parse().ok()
}

/// Open a ticket for `customer` (or find the one already open) and say where it is, in `lang`.
/// `None` when the server has no tickets channel: the caller then says how to reach staff.
pub async fn open_for(
    bot: &Bot,
    ctx: &Context,
    guild: u64,
    customer: u64,
    question_id: Option<i64>,
    question: Option<&str>,
    lang: &str,
) -> anyhow::Result<Option<String>> {
    let settings = bot.desk.settings(guild).await?;
    if settings.tickets_channel.is_none() {
        return Ok(None);
    }
    let l = bot.locales;
    let new = NewTicket {
        guild_id: guild,
        customer_id: customer,
        category: GENERAL.into(),
        priority: Priority::Normal,
        question_id,
        opened_at_ms: now_ms(),
    };
    // Stored first: whatever fails below, the ticket exists, and `finish` completes it (now, or
    // when the bot starts again).
    let ticket = match open_or_find(bot.desk.ledger(), &new).await? {
        Opened::Existing(t) => {
            let thread = t.thread_id.map(|t| format!("<#{t}>")).unwrap_or_default();
            return Ok(Some(l.fill(
                lang,
                "ticket.existing",
                &[("number", &t.number), ("thread", &thread)],
            )));
        }
        Opened::New(t) => t,
    };
    let thread = finish(bot, ctx, ticket.clone(), question, lang).await?;
    let mut text = l.fill(
        lang,
        "ticket.opened",
        &[
            ("number", &ticket.number),
            ("thread", &format!("<#{thread}>")),
        ],
    );
    // Where they stand in the queue (told once, when the ticket opens).
    if let Some(t) = bot.desk.ledger().ticket(ticket.id).await?
        && t.state == TicketState::Waiting
    {
        let position = bot.desk.ledger().waiting_ahead(&t).await? + 1;
        text.push('\n');
        text.push_str(&l.fill(lang, "ticket.position", &[("position", &position)]));
    }
    // Outside opening hours the customer is told when people are back (Discord shows the time
    // in the reader's own time zone and language).
    let settings = bot.desk.settings(guild).await?;
    if let Staffed::Closed { back_at: Some(at) } = staffed(&settings, jiff::Timestamp::now()) {
        text.push('\n');
        text.push_str(&l.fill(lang, "ticket.out_of_hours", &[("at", &at)]));
    }
    Ok(Some(text))
}

/// Complete a stored ticket: its private thread with the customer and the header card, the move
/// to the queue, and the card in the agents' channel, each only if it is not there yet (the
/// stored ids say what is). Returns the thread.
pub async fn finish(
    bot: &Bot,
    ctx: &Context,
    mut ticket: Ticket,
    question: Option<&str>,
    lang: &str,
) -> anyhow::Result<ChannelId> {
    let l = bot.locales;
    let store = bot.desk.ledger();
    let settings = bot.desk.settings(ticket.guild_id).await?;
    let customer = ticket.customer_id;
    let customer_mention = format!("<@{customer}>");
    let priority = ticket.priority.name();
    let thread = match ticket.thread_id {
        Some(t) => ChannelId::new(t),
        None => {
            let channel = settings
                .tickets_channel
                .ok_or_else(|| anyhow::anyhow!("no tickets channel set up"))?;
            let create = CreateThread::new(format!("ticket-{}", ticket.number))
                .kind(ChannelType::PrivateThread)
                .invitable(false);
            let thread =
                retry(|| ChannelId::new(channel).create_thread(&ctx.http, create.clone())).await?;
            store.attach(ticket.id, Some(thread.id.get()), None).await?;
            thread.id
        }
    };
    // Until the ticket is in the queue, the customer's place in the thread may be unfinished:
    // adding a member is idempotent and the header's enforced nonce keeps it to one message, so
    // both are simply done again after a restart.
    if ticket.state == TicketState::Open {
        retry(|| thread.add_thread_member(&ctx.http, UserId::new(customer))).await?;
        let mut header = l.fill(
            lang,
            "ticket.header",
            &[
                ("number", &ticket.number),
                ("category", &ticket.category),
                ("priority", &priority),
                ("customer", &customer_mention),
            ],
        );
        if let Some(text) = question {
            header.push('\n');
            header.push_str(&l.fill(lang, "ticket.asked", &[("question", &text)]));
        }
        let message = CreateMessage::new()
            .content(fit(&header, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .nonce(Nonce::String(format!("t{}", ticket.id)))
            .enforce_nonce(true);
        retry(|| thread.send_message(&ctx.http, message.clone())).await?;
        if let Some(t) = enqueue(store, &ticket, now_ms()).await? {
            ticket = t;
        }
    }
    if let (None, Some(agents), TicketState::Waiting) =
        (ticket.queue_card_id, settings.agents_channel, ticket.state)
    {
        // Staff words in English until servers can choose their staff language.
        let card = l.fill(
            "en",
            "ticket.card",
            &[
                ("number", &ticket.number),
                ("category", &ticket.category),
                ("priority", &priority),
                ("customer", &customer_mention),
                ("thread", &format!("<#{thread}>")),
            ],
        );
        // Inside opening hours the agent role is pinged, once: the card is posted once. The
        // ping is the bot's own decision, so it is the only mention allowed, by id.
        let ping = settings
            .agent_role
            .filter(|_| staffed(&settings, jiff::Timestamp::now()) == Staffed::Open);
        let (card, mentions) = match ping {
            Some(role) => (
                format!("<@&{role}> {card}"),
                no_pings().roles(vec![RoleId::new(role)]),
            ),
            None => (card, no_pings()),
        };
        let message = CreateMessage::new()
            .content(fit(&card, MAX_CONTENT))
            .components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new(claim_id(ticket.id))
                    .style(ButtonStyle::Primary)
                    .label(l.get("en", "ticket.claim")),
            ])])
            .allowed_mentions(mentions)
            .nonce(Nonce::String(format!("c{}", ticket.id)))
            .enforce_nonce(true);
        let sent =
            retry(|| ChannelId::new(agents).send_message(&ctx.http, message.clone())).await?;
        store.attach(ticket.id, None, Some(sent.id.get())).await?;
    }
    Ok(thread)
}

/// At start: finish every ticket a stopped process left half-opened (stored, but without its
/// thread or its card).
pub async fn finish_unfinished(bot: &Bot, ctx: &Context) {
    let unfinished = match bot.desk.ledger().unfinished_tickets().await {
        Ok(list) => list,
        Err(e) => {
            error!("cannot look for unfinished tickets: {e}");
            return;
        }
    };
    for ticket in unfinished {
        let question = match ticket.question_id {
            Some(q) => bot.desk.ledger().question(q).await.ok().flatten(),
            None => None,
        };
        let lang = question
            .as_ref()
            .map_or("en", |(q, _)| q.lang.as_str())
            .to_string();
        let text = question.as_ref().map(|(q, _)| q.text.clone());
        let number = ticket.number;
        match finish(bot, ctx, ticket, text.as_deref(), &lang).await {
            Ok(_) => info!(
                ticket = number,
                "finished a ticket a stopped process had begun"
            ),
            Err(e) => error!(ticket = number, "cannot finish a ticket: {e:#}"),
        }
    }
}

/// Claim: the ticket goes to exactly one agent; everyone else is told why not. Returns the
/// private reply for whoever pressed.
pub async fn claim(
    bot: &Bot,
    ctx: &Context,
    c: &ComponentInteraction,
    ticket_id: i64,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.locales;
    let guild = c.guild_id.map(|g| g.get()).unwrap_or_default();
    let actor = actor_of(bot, guild, c.user.id.get(), c.member.as_ref()).await?;
    let ticket = match desk_claim(bot.desk.ledger(), &actor, ticket_id, now_ms()).await? {
        Ok(t) => t,
        Err(NotDone::NoTicket) => return Ok(l.get(lang, "error.expired").to_string()),
        Err(not_done) => return Ok(refusal_text(bot, lang, &not_done)),
    };
    let agent = format!("<@{}>", actor.user_id);
    let thread = ticket.thread_id.map(ChannelId::new);
    if let Some(thread) = thread {
        retry(|| thread.add_thread_member(&ctx.http, c.user.id)).await?;
        let notice = CreateMessage::new()
            .content(l.fill(lang, "ticket.claimed_notice", &[("agent", &agent)]))
            .allowed_mentions(no_pings());
        retry(|| thread.send_message(&ctx.http, notice.clone())).await?;
    }
    // The card shows who has it, and loses its button.
    if let Some(card) = ticket.queue_card_id {
        let line = l.fill("en", "ticket.claimed_by", &[("agent", &agent)]);
        annotate_card(
            ctx,
            c.channel_id,
            MessageId::new(card),
            &c.message.content,
            &line,
        )
        .await?;
    }
    let thread_mention = thread.map(|t| format!("<#{t}>")).unwrap_or_default();
    Ok(l.fill(
        lang,
        "ticket.you_claimed",
        &[("number", &ticket.number), ("thread", &thread_mention)],
    ))
}

/// `/close reason:...` in a ticket's thread: an agent closes the ticket; the thread is archived
/// and locked and the card says so. Returns the private reply.
pub async fn close(
    bot: &Bot,
    ctx: &Context,
    cmd: &CommandInteraction,
    reason: &str,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.locales;
    let guild = cmd.guild_id.map(|g| g.get()).unwrap_or_default();
    let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
    let thread = cmd.channel_id.get();
    let ticket = match desk_close(bot.desk.ledger(), &actor, thread, reason, now_ms()).await? {
        Ok(t) => t,
        Err(not_done) => return Ok(refusal_text(bot, lang, &not_done)),
    };
    let agent = format!("<@{}>", actor.user_id);
    let notice = CreateMessage::new()
        .content(fit(
            &l.fill(
                lang,
                "ticket.closed_notice",
                &[("agent", &agent), ("reason", &reason)],
            ),
            MAX_CONTENT,
        ))
        .allowed_mentions(no_pings());
    retry(|| cmd.channel_id.send_message(&ctx.http, notice.clone())).await?;
    let settings = bot.desk.settings(guild).await?;
    if let (Some(card), Some(agents)) = (ticket.queue_card_id, settings.agents_channel) {
        let (agents, card) = (ChannelId::new(agents), MessageId::new(card));
        let current = retry(|| agents.message(&ctx.http, card)).await?;
        let reason_line = l.fill(
            "en",
            "ticket.closed_by",
            &[("agent", &agent), ("reason", &reason)],
        );
        annotate_card(ctx, agents, card, &current.content, &reason_line).await?;
    }
    // Archived and locked: the customer keeps the history, Discord's active-thread cap does not
    // count it, and nobody writes in it by mistake.
    let archive = EditThread::new().archived(true).locked(true);
    retry(|| cmd.channel_id.edit_thread(&ctx.http, archive.clone())).await?;
    Ok(l.fill(lang, "ticket.you_closed", &[("number", &ticket.number)]))
}

/// Add a line to a ticket's card in the agents' channel (claimed, closed) and take its buttons
/// away.
async fn annotate_card(
    ctx: &Context,
    channel: ChannelId,
    card: MessageId,
    current: &str,
    line: &str,
) -> anyhow::Result<()> {
    let edit = EditMessage::new()
        .content(fit(&format!("{current}\n{line}"), MAX_CONTENT))
        .components(vec![])
        .allowed_mentions(no_pings());
    retry(|| channel.edit_message(&ctx.http, card, edit.clone())).await?;
    Ok(())
}

/// What to tell someone whose ticket action did not happen.
fn refusal_text(bot: &Bot, lang: &str, not_done: &NotDone) -> String {
    let l = bot.locales;
    match not_done {
        NotDone::NoTicket => l.get(lang, "ticket.not_a_ticket").to_string(),
        NotDone::Refused(Refusal::OtherServer) => l.get(lang, "ticket.other_server").to_string(),
        NotDone::Refused(Refusal::NotAnAgent | Refusal::NotYours) => {
            l.get(lang, "ticket.agent_only").to_string()
        }
        NotDone::Refused(Refusal::WrongState { number, state }) => {
            let key = if *state == TicketState::Closed {
                "ticket.closed_already"
            } else {
                "ticket.claimed_already"
            };
            l.fill(lang, key, &[("number", number)])
        }
    }
}
