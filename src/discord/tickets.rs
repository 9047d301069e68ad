//! Tickets on Discord (issue 4, first steps): "Talk to a person" opens a private thread with the
//! customer and a header card, puts a card with Claim in the agents' channel, and Claim gives the
//! ticket to exactly one agent.

use serenity::all::{
    ButtonStyle, ChannelId, ChannelType, ComponentInteraction, Context, CreateActionRow,
    CreateButton, CreateMessage, CreateThread, EditMessage, MessageId, Permissions, UserId,
};

use super::render::{MAX_CONTENT, fit, no_pings};
use super::{Bot, retry};
use crate::desk::now_ms;
use crate::desk::tickets::{
    Actor, Change, NewTicket, Priority, Refusal, TicketLedger, TicketState, may_work,
};

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
    question: Option<(i64, &str)>,
    lang: &str,
) -> anyhow::Result<Option<String>> {
    let settings = bot.desk.settings(guild).await?;
    let Some(channel) = settings.tickets_channel else {
        return Ok(None);
    };
    let l = bot.locales;
    let store = bot.desk.ledger();
    if let Some(t) = store.open_tickets_of(guild, customer).await?.first() {
        let thread = t.thread_id.map(|t| format!("<#{t}>")).unwrap_or_default();
        return Ok(Some(l.fill(
            lang,
            "ticket.existing",
            &[("number", &t.number), ("thread", &thread)],
        )));
    }
    // Stored first: whatever fails below, the ticket exists and staff can find it.
    let ticket = store
        .open_ticket(&NewTicket {
            guild_id: guild,
            customer_id: customer,
            category: GENERAL.into(),
            priority: Priority::Normal,
            question_id: question.map(|(id, _)| id),
            opened_at_ms: now_ms(),
        })
        .await?;
    let name = format!("ticket-{}", ticket.number);
    let create = CreateThread::new(name)
        .kind(ChannelType::PrivateThread)
        .invitable(false);
    let thread = retry(|| ChannelId::new(channel).create_thread(&ctx.http, create.clone())).await?;
    retry(|| {
        thread
            .id
            .add_thread_member(&ctx.http, UserId::new(customer))
    })
    .await?;
    let customer_mention = format!("<@{customer}>");
    let priority = ticket.priority.name();
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
    if let Some((_, text)) = question {
        header.push('\n');
        header.push_str(&l.fill(lang, "ticket.asked", &[("question", &text)]));
    }
    let card_message = CreateMessage::new()
        .content(fit(&header, MAX_CONTENT))
        .allowed_mentions(no_pings());
    retry(|| thread.id.send_message(&ctx.http, card_message.clone())).await?;
    store.attach(ticket.id, Some(thread.id.get()), None).await?;
    store
        .move_ticket(
            ticket.id,
            &[TicketState::Open],
            &Change {
                to: TicketState::Waiting,
                actor_id: customer,
                at_ms: now_ms(),
                agent_id: None,
                reason: None,
            },
        )
        .await?;
    let thread_mention = format!("<#{}>", thread.id);
    if let Some(agents) = settings.agents_channel {
        // Staff words in English until servers can choose their staff language.
        let card = l.fill(
            "en",
            "ticket.card",
            &[
                ("number", &ticket.number),
                ("category", &ticket.category),
                ("priority", &priority),
                ("customer", &customer_mention),
                ("thread", &thread_mention),
            ],
        );
        let message = CreateMessage::new()
            .content(fit(&card, MAX_CONTENT))
            .components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new(claim_id(ticket.id))
                    .style(ButtonStyle::Primary)
                    .label(l.get("en", "ticket.claim")),
            ])])
            .allowed_mentions(no_pings());
        let sent =
            retry(|| ChannelId::new(agents).send_message(&ctx.http, message.clone())).await?;
        store.attach(ticket.id, None, Some(sent.id.get())).await?;
    }
    Ok(Some(l.fill(
        lang,
        "ticket.opened",
        &[("number", &ticket.number), ("thread", &thread_mention)],
    )))
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
    let store = bot.desk.ledger();
    let Some(ticket) = store.ticket(ticket_id).await? else {
        return Ok(l.get(lang, "error.expired").to_string());
    };
    let guild = c.guild_id.map(|g| g.get()).unwrap_or_default();
    let settings = bot.desk.settings(guild).await?;
    let member = c.member.as_ref();
    let perms = member
        .and_then(|m| m.permissions)
        .unwrap_or_else(Permissions::empty);
    let has_role = |role: Option<u64>| {
        role.is_some_and(|r| member.is_some_and(|m| m.roles.iter().any(|x| x.get() == r)))
    };
    let actor = Actor {
        user_id: c.user.id.get(),
        guild_id: guild,
        is_agent: has_role(settings.agent_role),
        is_moderator: perms.contains(Permissions::MANAGE_GUILD)
            || perms.contains(Permissions::ADMINISTRATOR)
            || has_role(settings.moderator_role),
    };
    match may_work(&actor, &ticket) {
        Err(Refusal::OtherServer) => return Ok(l.get(lang, "ticket.other_server").to_string()),
        Err(_) => return Ok(l.get(lang, "ticket.agent_only").to_string()),
        Ok(()) => {}
    }
    let change = Change {
        to: TicketState::Claimed,
        actor_id: actor.user_id,
        at_ms: now_ms(),
        agent_id: Some(actor.user_id),
        reason: None,
    };
    let Some(ticket) = store
        .move_ticket(
            ticket.id,
            &[TicketState::Open, TicketState::Waiting],
            &change,
        )
        .await?
    else {
        return Ok(l.fill(
            lang,
            "ticket.claimed_already",
            &[("number", &ticket.number)],
        ));
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
        let text = format!(
            "{}\n{}",
            c.message.content,
            l.fill("en", "ticket.claimed_by", &[("agent", &agent)])
        );
        let edit = EditMessage::new()
            .content(fit(&text, MAX_CONTENT))
            .components(vec![])
            .allowed_mentions(no_pings());
        retry(|| {
            c.channel_id
                .edit_message(&ctx.http, MessageId::new(card), edit.clone())
        })
        .await?;
    }
    let thread_mention = thread.map(|t| format!("<#{t}>")).unwrap_or_default();
    Ok(l.fill(
        lang,
        "ticket.you_claimed",
        &[("number", &ticket.number), ("thread", &thread_mention)],
    ))
}
