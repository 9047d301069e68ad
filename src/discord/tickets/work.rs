//! What agents do with a ticket: claim it from the card; in its thread, release, transfer, add a
//! colleague, change priority and tags, leave notes only agents see, send saved replies and ask
//! the customer to confirm closing. Moderators and agents block abusive members.

use serenity::all::{
    ButtonStyle, ChannelId, CommandInteraction, ComponentInteraction, CreateActionRow,
    CreateButton, CreateMessage, Http, MessageId, Nonce, ResolvedOption, ResolvedValue, UserId,
};

use super::{TicketId, annotate_card, refusal_text, thread_link, user};
use crate::desk::now_ms;
use crate::desk::replies::Fill;
use crate::desk::tickets::{
    self as desk_tickets, NotDone, Priority, Target, Ticket, TicketLedger, Update,
};
use crate::discord::commands::string_option;
use crate::discord::render::{MAX_CONTENT, fit, no_pings};
use crate::discord::{Bot, actor_of, retry};

/// The ticket commands agents use in a ticket's thread.
pub const COMMANDS: [&str; 10] = [
    "release", "transfer", "add", "priority", "tag", "note", "reply", "resolve", "block", "unblock",
];

/// Post a line in a ticket's thread, pinging nobody.
pub(super) async fn say(http: &Http, thread: u64, text: &str) -> anyhow::Result<()> {
    let message = CreateMessage::new()
        .content(fit(text, MAX_CONTENT))
        .allowed_mentions(no_pings());
    retry(|| ChannelId::new(thread).send_message(http, message.clone())).await?;
    Ok(())
}

/// Claim from the card: the ticket goes to exactly one agent; everyone else is told why not.
/// Returns the private reply for whoever pressed.
pub async fn claim(
    bot: &Bot,
    http: &Http,
    c: &ComponentInteraction,
    ticket_id: i64,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let guild = crate::discord::server(c.guild_id)?;
    let actor = actor_of(bot, guild, c.user.id.get(), c.member.as_ref()).await?;
    let target = Target::Id(ticket_id);
    // The pressed message is the ticket's card (Claim exists nowhere else). Remembered first:
    // a card posted just before a stopped process could store it is adopted here, and a stop
    // between this and the claim leaves nothing half-done.
    bot.desk
        .ledger()
        .attach(ticket_id, None, Some(c.message.id.get()))
        .await?;
    let ticket = match desk_tickets::claim(bot.desk.ledger(), &actor, target, now_ms()).await? {
        Ok(t) => t,
        Err(NotDone::NoTicket) => return Ok(l.get(lang, "error.expired").to_string()),
        Err(not_done) => return Ok(refusal_text(bot.desk.locales, lang, &not_done)),
    };
    let agent = user(actor.user_id);
    if let Some(thread) = ticket.thread_id {
        retry(|| ChannelId::new(thread).add_thread_member(http, c.user.id)).await?;
        let notice = l.fill(&ticket.lang, "ticket.claimed_notice", &[("agent", &agent)]);
        show_status(http, &ticket, &notice).await?;
    }
    annotate_card(
        bot,
        http,
        &ticket,
        &l.fill("en", "ticket.claimed_by", &[("agent", &agent)]),
    )
    .await?;
    bot.queue_changed.notify_one();
    let thread = thread_link(&ticket);
    Ok(l.fill(
        lang,
        "ticket.you_claimed",
        &[("number", &ticket.number), ("thread", &thread)],
    ))
}

/// Tell the customer what is happening in the thread's status message (their place in the
/// queue until someone has the ticket), or in a new message when there is none.
pub(super) async fn show_status(http: &Http, ticket: &Ticket, text: &str) -> anyhow::Result<()> {
    let Some(thread) = ticket.thread_id else {
        return Ok(());
    };
    match ticket.status_message_id {
        Some(m) => {
            let edit = serenity::all::EditMessage::new()
                .content(fit(text, MAX_CONTENT))
                .allowed_mentions(no_pings());
            retry(|| ChannelId::new(thread).edit_message(http, MessageId::new(m), edit.clone()))
                .await?;
            Ok(())
        }
        None => say(http, thread, text).await,
    }
}

fn boolean(options: &[ResolvedOption<'_>], name: &str) -> bool {
    options
        .iter()
        .any(|o| o.name == name && matches!(o.value, ResolvedValue::Boolean(true)))
}

/// A user option, with whether they hold the agent role (from the member Discord resolved).
fn member(
    options: &[ResolvedOption<'_>],
    name: &str,
    agent_role: Option<u64>,
) -> Option<(u64, bool)> {
    options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| match &o.value {
            ResolvedValue::User(u, m) => {
                let is_agent = agent_role
                    .is_some_and(|role| m.is_some_and(|m| m.roles.iter().any(|r| r.get() == role)));
                Some((u.id.get(), is_agent))
            }
            _ => None,
        })
}

/// An agent command in a ticket's thread. Returns the private reply.
pub async fn command(
    bot: &Bot,
    http: &Http,
    cmd: &CommandInteraction,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let guild = crate::discord::server(cmd.guild_id)?;
    let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
    let settings = bot.desk.settings(guild).await?;
    let options = cmd.data.options();
    let ledger = bot.desk.ledger();
    let now = now_ms();
    let agent = user(actor.user_id);
    let name = cmd.data.name.as_str();
    // Blocking is about a member, not a ticket: it works anywhere on the server.
    if name == "block" || name == "unblock" {
        if !(actor.is_agent || actor.is_moderator) {
            return Ok(l.get(lang, "ticket.agent_only").to_string());
        }
        let Some((who, _)) = member(&options, "member", None) else {
            return Ok(l.get(lang, "error.generic").to_string());
        };
        return Ok(if name == "block" {
            let reason = string_option(&options, "reason").unwrap_or_default();
            ledger
                .block(guild, who, actor.user_id, &reason, now)
                .await?;
            format!("{} cannot open tickets any more.", user(who))
        } else if ledger.unblock(guild, who).await? {
            format!("{} can open tickets again.", user(who))
        } else {
            format!("{} was not blocked.", user(who))
        });
    }
    let here = Target::Thread(cmd.channel_id.get());
    let done = match name {
        "release" => desk_tickets::release(ledger, &actor, here, now).await?,
        "transfer" => {
            let Some((to, is_agent)) = member(&options, "agent", settings.agent_role) else {
                return Ok(l.get(lang, "error.generic").to_string());
            };
            desk_tickets::transfer(ledger, &actor, here, to, is_agent, now).await?
        }
        "add" => {
            let Some((who, _)) = member(&options, "member", None) else {
                return Ok(l.get(lang, "error.generic").to_string());
            };
            desk_tickets::update(ledger, &actor, here, &Update::Added(who), now).await?
        }
        "priority" => {
            let priority = string_option(&options, "level")
                .and_then(|p| Priority::from_name(&p))
                .unwrap_or(Priority::Normal);
            // The deadline is counted again from the opening, with the new target.
            let due = ledger
                .ticket_by_thread(cmd.channel_id.get())
                .await?
                .map(|t| {
                    bot.desk
                        .tickets
                        .targets
                        .due_ms(&settings, t.opened_at_ms, priority)
                });
            let update = Update::Priority {
                priority,
                due_at_ms: due,
            };
            desk_tickets::update(ledger, &actor, here, &update, now).await?
        }
        "tag" => {
            let typed = string_option(&options, "name").unwrap_or_default();
            let Some(t) = ledger.ticket_by_thread(cmd.channel_id.get()).await? else {
                return Ok(l.get(lang, "ticket.not_a_ticket").to_string());
            };
            let tags = desk_tickets::retag(&t.tags, &typed, boolean(&options, "remove"));
            desk_tickets::update(ledger, &actor, here, &Update::Tags(tags), now).await?
        }
        "note" => {
            let text = string_option(&options, "text").unwrap_or_default();
            desk_tickets::update(ledger, &actor, here, &Update::Note(text), now).await?
        }
        "reply" | "resolve" => {
            desk_tickets::update(ledger, &actor, here, &Update::StaffSeen, now).await?
        }
        _ => return Ok(String::new()),
    };
    let ticket = match done {
        Ok(t) => t,
        Err(not_done) => return Ok(refusal_text(bot.desk.locales, lang, &not_done)),
    };
    let thread = ticket.thread_id.unwrap_or(cmd.channel_id.get());
    let tl = ticket.lang.as_str();
    Ok(match name {
        "release" => {
            say(
                http,
                thread,
                &l.fill(tl, "ticket.released", &[("agent", &agent)]),
            )
            .await?;
            annotate_card(
                bot,
                http,
                &ticket,
                &format!("Released by {agent}; waiting again."),
            )
            .await?;
            bot.queue_changed.notify_one();
            format!("Ticket #{} is back in the queue.", ticket.number)
        }
        "transfer" => {
            let to = ticket.agent_id.unwrap_or_default();
            retry(|| ChannelId::new(thread).add_thread_member(http, UserId::new(to))).await?;
            let text = l.fill(
                tl,
                "ticket.transferred",
                &[("agent", &agent), ("to", &user(to))],
            );
            show_status(http, &ticket, &text).await?;
            annotate_card(
                bot,
                http,
                &ticket,
                &format!("Transferred to {} by {agent}.", user(to)),
            )
            .await?;
            bot.queue_changed.notify_one();
            format!("Ticket #{} is now {}'s.", ticket.number, user(to))
        }
        "add" => {
            let (who, _) = member(&options, "member", None).unwrap_or_default();
            retry(|| ChannelId::new(thread).add_thread_member(http, UserId::new(who))).await?;
            let text = l.fill(
                tl,
                "ticket.added",
                &[("agent", &agent), ("member", &user(who))],
            );
            say(http, thread, &text).await?;
            format!("{} is in ticket #{} now.", user(who), ticket.number)
        }
        "priority" => {
            let line = format!("Priority set to {} by {agent}.", ticket.priority.name());
            annotate_card(bot, http, &ticket, &line).await?;
            bot.queue_changed.notify_one();
            format!(
                "Ticket #{} is {} priority now.",
                ticket.number,
                ticket.priority.name()
            )
        }
        "tag" => {
            if ticket.tags.is_empty() {
                format!("Ticket #{} has no tags.", ticket.number)
            } else {
                format!("Ticket #{} tags: {}", ticket.number, ticket.tags.join(", "))
            }
        }
        "note" => {
            let text = string_option(&options, "text").unwrap_or_default();
            post_note(bot, http, &ticket, &agent, &text).await?;
            format!("Note added to ticket #{} (agents only).", ticket.number)
        }
        "reply" => saved_reply(bot, http, &ticket, actor.user_id, &options, now).await?,
        "resolve" => {
            let ask = l.fill(
                tl,
                "ticket.resolve_ask",
                &[("customer", &user(ticket.customer_id)), ("agent", &agent)],
            );
            let buttons = vec![CreateActionRow::Buttons(vec![
                CreateButton::new(TicketId::Close(ticket.id).to_string())
                    .style(ButtonStyle::Success)
                    .label(l.get(tl, "ticket.resolve_yes")),
                CreateButton::new(TicketId::Keep(ticket.id).to_string())
                    .style(ButtonStyle::Secondary)
                    .label(l.get(tl, "ticket.resolve_no")),
            ])];
            // The customer is pinged: they are asked something, by the bot's own decision.
            let message = CreateMessage::new()
                .content(fit(&ask, MAX_CONTENT))
                .components(buttons)
                .allowed_mentions(no_pings().users(vec![UserId::new(ticket.customer_id)]));
            retry(|| ChannelId::new(thread).send_message(http, message.clone())).await?;
            format!(
                "Asked the customer to confirm closing ticket #{}.",
                ticket.number
            )
        }
        _ => String::new(),
    })
}

/// A note only agents see: kept in the ticket's log and posted under its card in the agents'
/// channel.
async fn post_note(
    bot: &Bot,
    http: &Http,
    ticket: &Ticket,
    agent: &str,
    text: &str,
) -> anyhow::Result<()> {
    let settings = bot.desk.settings(ticket.guild_id).await?;
    let Some(agents) = settings.agents_channel else {
        return Ok(());
    };
    let mut message = CreateMessage::new()
        .content(fit(
            &format!("📝 Note on ticket #{} by {agent}: {text}", ticket.number),
            MAX_CONTENT,
        ))
        .allowed_mentions(no_pings());
    if let Some(card) = ticket.queue_card_id {
        message = message.reference_message((ChannelId::new(agents), MessageId::new(card)));
    }
    retry(|| ChannelId::new(agents).send_message(http, message.clone())).await?;
    Ok(())
}

/// `/reply name:` posts a saved reply in the ticket's language, placeholders filled.
async fn saved_reply(
    bot: &Bot,
    http: &Http,
    ticket: &Ticket,
    agent: u64,
    options: &[ResolvedOption<'_>],
    now: i64,
) -> anyhow::Result<String> {
    let name = string_option(options, "name").unwrap_or_default();
    let replies = bot.replies();
    let status = String::new();
    let fill = Fill {
        customer: &user(ticket.customer_id),
        agent: &user(agent),
        ticket: ticket.number,
        status: &status,
    };
    let Some(text) = replies.render(&name, &ticket.lang, &fill) else {
        return Ok(format!("There is no saved reply called `{name}`."));
    };
    let Some(thread) = ticket.thread_id else {
        return Ok(bot
            .desk
            .locales
            .get("en", "ticket.not_a_ticket")
            .to_string());
    };
    let message = CreateMessage::new()
        .content(fit(&text, MAX_CONTENT))
        .allowed_mentions(no_pings())
        .nonce(Nonce::String(format!(
            "s{}-{}",
            ticket.id,
            now % 1_000_000_000
        )))
        .enforce_nonce(true);
    retry(|| ChannelId::new(thread).send_message(http, message.clone())).await?;
    Ok(format!("Sent `{name}` in ticket #{}.", ticket.number))
}
