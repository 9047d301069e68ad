//! Closing a ticket on Discord: `/close`, `/reopen`, the customer's buttons (confirm closing,
//! still need help, reopen), the survey's stars and the comment form. The journey, and the
//! Discord rules it follows (the survey by direct message, a locked thread, closed DMs), are
//! the desk's: see [`crate::desk::closing`]. Here an interaction becomes a desk request, and
//! the outcome the private reply (or the comment form).

use serenity::all::{
    ComponentInteraction, CreateActionRow, CreateInputText, CreateModal, Http, InputTextStyle,
};
use tracing::{error, info, warn};

use super::{TicketId, refusal_text, thread_link};
use crate::desk::closing::{CloseTicket, Outcome, ReopenTicket, WhichTicket};
use crate::desk::tickets::{Actor, NotDone, Target, Ticket};
use crate::discord::commands::Invocation;
use crate::discord::port::Discord;
use crate::discord::render::fit;
use crate::discord::{Bot, actor_of};

pub use crate::desk::closing::Pressed;

/// After a closing: the queue moved (the timers are told, they update the places), and the
/// private reply says the ticket's number, or why not.
fn closed_reply(bot: &Bot, outcome: &Outcome, lang: &str) -> String {
    let l = bot.desk.locales;
    match outcome {
        Outcome::Done(ticket) => {
            bot.queue_changed.notify_one();
            l.fill(lang, "ticket.you_closed", &[("number", &ticket.number)])
        }
        Outcome::NotDone(not_done) => refusal_text(l, lang, not_done),
        Outcome::Expired => l.get(lang, "error.expired").to_string(),
    }
}

/// `/close reason:` in a ticket's thread.
pub async fn close_command(
    bot: &Bot,
    http: &Http,
    inv: Invocation,
    reason: String,
) -> anyhow::Result<String> {
    let lang = inv.lang;
    let request = CloseTicket {
        actor: inv.actor,
        target: Target::Thread(inv.channel),
        reason,
    };
    let outcome = bot
        .desk
        .close_ticket(&Discord::new(bot, http), request)
        .await?;
    Ok(closed_reply(bot, &outcome, lang))
}

/// Reopen a closed ticket: `/reopen`, or the Reopen button (in the survey's DM, or in the
/// thread when DMs were closed).
async fn reopen(
    bot: &Bot,
    http: &Http,
    request: ReopenTicket,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let ticket = match bot
        .desk
        .reopen_ticket(&Discord::new(bot, http), request)
        .await?
    {
        Outcome::Done(t) => t,
        Outcome::NotDone(not_done) => return Ok(refusal_text(l, lang, &not_done)),
        Outcome::Expired => return Ok(l.get(lang, "error.expired").to_string()),
    };
    bot.queue_changed.notify_one();
    let in_dm = request.by.in_dm;
    // A channel mention shows as a link in the server; a direct message needs the full link.
    let thread = match (ticket.thread_id, in_dm) {
        (Some(t), true) => format!("https://discord.com/channels/{}/{t}", ticket.guild_id),
        _ => thread_link(&ticket),
    };
    Ok(l.fill(
        if in_dm { &ticket.lang } else { lang },
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
    inv: Invocation,
    number: Option<i64>,
) -> anyhow::Result<String> {
    let request = ReopenTicket {
        by: Pressed::in_server(inv.actor),
        ticket: WhichTicket::Command {
            number,
            here: inv.channel,
        },
    };
    reopen(bot, http, request, inv.lang).await
}

/// The actor behind an interaction about `ticket`, wherever it was pressed: in a server, the
/// member as their roles make them; in a direct message, who they are on the ticket's server.
/// `None` when the ticket is unknown.
pub async fn pressed(
    bot: &Bot,
    guild: Option<u64>,
    user: u64,
    member: Option<&serenity::all::Member>,
    ticket: i64,
) -> anyhow::Result<Option<Pressed>> {
    if let Some(guild) = guild {
        let actor: Actor = actor_of(bot, guild, user, member).await?;
        return Ok(Some(Pressed::in_server(actor)));
    }
    Ok(bot.desk.pressed_in_dm(user, ticket).await?)
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
    let ticket = match *id {
        TicketId::Close(t) | TicketId::Keep(t) | TicketId::Reopen(t) => t,
        _ => return Ok(String::new()),
    };
    let guild = c.guild_id.map(|g| g.get());
    let Some(by) = pressed(bot, guild, c.user.id.get(), c.member.as_ref(), ticket).await? else {
        return Ok(l.get(lang, "error.expired").to_string());
    };
    let port = Discord::new(bot, http);
    match *id {
        TicketId::Close(_) => {
            let outcome = bot.desk.confirm_close(&port, by, ticket).await?;
            Ok(closed_reply(bot, &outcome, lang))
        }
        TicketId::Keep(_) => Ok(match bot.desk.keep_open(&port, by, ticket).await? {
            Outcome::Done(_) => l.get(lang, "ticket.still_open").to_string(),
            Outcome::NotDone(not_done) => refusal_text(l, lang, &not_done),
            Outcome::Expired => l.get(lang, "error.expired").to_string(),
        }),
        TicketId::Reopen(_) => {
            let request = ReopenTicket {
                by,
                ticket: WhichTicket::Pressed(ticket),
            };
            reopen(bot, http, request, lang).await
        }
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
    let Some(by) = pressed(bot, guild, c.user.id.get(), c.member.as_ref(), ticket).await? else {
        return Ok(Err(l.get(lang, "error.expired").to_string()));
    };
    Ok(match bot.desk.rate(&by, ticket, stars, None).await? {
        Outcome::Done(t) => Ok(comment_form(bot, &t, stars)),
        Outcome::NotDone(NotDone::NoTicket) | Outcome::Expired => {
            Err(l.get(lang, "error.expired").to_string())
        }
        Outcome::NotDone(not_done) => Err(refusal_text(l, lang, &not_done)),
    })
}

/// The form a star opens, in the ticket's language, for an optional comment.
fn comment_form(bot: &Bot, ticket: &Ticket, stars: u8) -> CreateModal {
    let l = bot.desk.locales;
    let comment = CreateInputText::new(
        InputTextStyle::Paragraph,
        fit(l.get(&ticket.lang, "ticket.rate_comment"), 45),
        "comment",
    )
    .required(false)
    .max_length(1000);
    CreateModal::new(
        TicketId::Comment(ticket.id, stars).to_string(),
        fit(l.get(&ticket.lang, "ticket.rate_title"), 45),
    )
    .components(vec![CreateActionRow::InputText(comment)])
}

/// After the customer answered the survey in the ticket's own thread (their DMs were closed),
/// archive the thread again: pressing there had reopened it. Nothing to do in a DM.
pub async fn archive_again(bot: &Bot, http: &Http, ticket: i64, channel: u64) {
    let port = Discord::new(bot, http);
    if let Err(e) = bot.desk.archive_again(&port, ticket, channel).await {
        warn!(
            ticket,
            "cannot archive the thread again after the rating: {e:#}"
        );
    }
}

/// The rating form sent back, with its comment.
pub async fn comment(
    bot: &Bot,
    by: &Pressed,
    ticket: i64,
    stars: u8,
    text: Option<String>,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    Ok(match bot.desk.rate(by, ticket, stars, text).await? {
        // In a DM the client's locale is all Discord says; the ticket knows their language.
        Outcome::Done(t) => l.fill(
            if by.in_dm { &t.lang } else { lang },
            "ticket.rated",
            &[("number", &t.number), ("stars", &stars)],
        ),
        Outcome::NotDone(not_done) => refusal_text(l, lang, &not_done),
        Outcome::Expired => l.get(lang, "error.expired").to_string(),
    })
}

/// At start: wrap up closings a stopped process left unfinished.
pub async fn wrap_unwrapped(bot: &Bot, http: &Http) {
    let done = match bot.desk.wrap_unwrapped(&Discord::new(bot, http)).await {
        Ok(done) => done,
        Err(e) => {
            error!("cannot look for unfinished closings: {e}");
            return;
        }
    };
    for (ticket, wrapped) in done {
        match wrapped {
            Ok(_) => info!(
                ticket = ticket.number,
                "finished a closing a stopped process had begun"
            ),
            Err(e) => error!(ticket = ticket.number, "cannot finish a closing: {e:#}"),
        }
    }
}
