//! Opening a ticket on Discord: the category panel and its forms, and what the asker reads. The
//! journey itself (category, rules, limits, thread, header, card) is the desk's
//! (`desk::opening`).

use serenity::all::{
    CreateActionRow, CreateButton, CreateInputText, CreateMessage, CreateModal, Http,
    InputTextStyle,
};
use tracing::{error, info};

use super::{TicketId, refusal_text, thread_link};
use crate::desk::opening::{OpenTicket, Opening};
use crate::desk::workflow::{Category, FormStyle};
use crate::discord::Bot;
use crate::discord::port::Discord;
use crate::discord::render::{MAX_CONTENT, fit, no_pings};
use crate::locale::Locales;

/// Open a ticket (or find the one already open) and say where it is, in the customer's
/// language. `None` when the server has no tickets channel: the caller then says how to reach
/// staff.
pub async fn open_for(
    bot: &Bot,
    http: &Http,
    req: OpenTicket<'_>,
) -> anyhow::Result<Option<String>> {
    let lang = req.lang;
    let opening = bot.desk.open_ticket(&Discord::new(bot, http), req).await?;
    Ok(say(bot.desk.locales, lang, &opening))
}

/// What the asker reads about their ticket. `None` when the server has no tickets channel.
pub fn say(l: &Locales, lang: &str, opening: &Opening) -> Option<String> {
    Some(match opening {
        Opening::NoChannel => return None,
        Opening::Refused(refusal) => refusal_text(l, lang, &refusal.clone().into()),
        Opening::Existing(t) => l.fill(
            lang,
            "ticket.existing",
            &[("number", &t.number), ("thread", &thread_link(t))],
        ),
        Opening::Opened {
            ticket,
            thread,
            place,
            back_at,
        } => {
            let mut text = l.fill(
                lang,
                "ticket.opened",
                &[
                    ("number", &ticket.number),
                    ("thread", &format!("<#{thread}>")),
                ],
            );
            if let Some(place) = place {
                text.push('\n');
                text.push_str(&place.text(l, lang));
            }
            // Discord shows the time in the reader's own time zone and language.
            if let Some(at) = back_at {
                text.push('\n');
                text.push_str(&l.fill(lang, "ticket.out_of_hours", &[("at", at)]));
            }
            text
        }
    })
}

/// The category's form as a Discord modal, for a category that asks questions.
pub fn form(bot: &Bot, category: &Category, lang: &str) -> Option<CreateModal> {
    if category.question.is_empty() {
        return None;
    }
    let title = bot
        .desk
        .locales
        .fill(lang, "ticket.form_title", &[("category", &category.label)]);
    let rows = category
        .question
        .iter()
        .enumerate()
        .map(|(i, q)| {
            let style = match q.style {
                FormStyle::Short => InputTextStyle::Short,
                FormStyle::Paragraph => InputTextStyle::Paragraph,
            };
            let mut input = CreateInputText::new(style, fit(&q.label, 45), format!("q{i}"))
                .required(q.required);
            if let Some(p) = &q.placeholder {
                input = input.placeholder(fit(p, 100));
            }
            if let Some(max) = q.max_length {
                input = input.max_length(max);
            }
            CreateActionRow::InputText(input)
        })
        .collect();
    Some(
        CreateModal::new(
            TicketId::Form(category.id.clone()).to_string(),
            fit(&title, 45),
        )
        .components(rows),
    )
}

/// The panel a moderator posts: a button per category (Discord allows 25).
pub fn panel(bot: &Bot, lang: &str) -> CreateMessage {
    let buttons: Vec<CreateButton> = bot
        .desk
        .tickets
        .categories()
        .iter()
        .take(25)
        .map(|c| {
            let mut b = CreateButton::new(TicketId::Open(c.id.clone()).to_string())
                .style(serenity::all::ButtonStyle::Secondary)
                .label(fit(&c.label, 80));
            if let Some(e) = c.emoji.as_deref() {
                b = b.emoji(serenity::all::ReactionType::Unicode(e.to_string()));
            }
            b
        })
        .collect();
    let rows = buttons
        .chunks(5)
        .map(|row| CreateActionRow::Buttons(row.to_vec()))
        .collect();
    let mut text = bot.desk.locales.get(lang, "ticket.panel").to_string();
    for c in bot.desk.tickets.categories().iter().take(25) {
        if let Some(d) = &c.description {
            text.push_str(&format!("\n**{}**: {d}", c.label));
        }
    }
    CreateMessage::new()
        .content(fit(&text, MAX_CONTENT))
        .components(rows)
        .allowed_mentions(no_pings())
}

/// At start: finish every ticket a stopped process left half-opened (stored, but without its
/// thread or its card).
pub async fn finish_unfinished(bot: &Bot, http: &Http) {
    let unfinished = match bot.desk.unfinished_tickets().await {
        Ok(list) => list,
        Err(e) => {
            error!("cannot look for unfinished tickets: {e}");
            return;
        }
    };
    let port = Discord::new(bot, http);
    for ticket in unfinished {
        let number = ticket.number;
        match bot.desk.finish_ticket(&port, ticket, true).await {
            Ok(_) => info!(
                ticket = number,
                "finished a ticket a stopped process had begun"
            ),
            Err(e) => error!(
                ticket = number,
                "cannot finish a ticket: {}",
                crate::discord::doctor::why(&e)
            ),
        }
    }
}
