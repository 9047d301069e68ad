//! Tickets on Discord (journeys J2 and J3). A ticket opens from a panel button, `/ticket`, a
//! "Talk to a person" button or the handoff intent; it becomes a private thread with the customer
//! and a header, and a card with Claim in the agents' channel. The desk decides; this module
//! talks to Discord.
//!
//! - [`open`]: opening, the category form, the thread, header and card.
//! - [`work`]: what agents do in a ticket: claim, release, transfer, priority, tags, notes, saved
//!   replies, blocking.
//! - [`closing`]: closing, the customer's confirmation, reopening, transcripts and the rating.
//! - [`timers`]: what happens with time: escalations, inactivity, the queue positions.
//!
//! Every message posted for a ticket carries an enforced nonce built from the ticket (and, where
//! it repeats, the closing or the moment), and its id is stored once posted, so a restart in the
//! middle finishes the work without posting anything twice.

pub mod closing;
pub mod open;
pub mod timers;
pub mod work;

use serenity::all::{
    ActionRowComponent, ComponentInteraction, CreateInteractionResponse,
    CreateInteractionResponseMessage, EditInteractionResponse, Http, ModalInteraction,
};

use serenity::builder::Builder as _;

use super::render::{MAX_CONTENT, fit, no_pings};
use super::{Bot, retry};
use crate::desk::answers::choose_lang;
use crate::desk::tickets::{NotDone, Refusal, Ticket, TicketState};

pub use super::custom_id::TicketId;
pub use open::{finish_unfinished, open_for};

/// What to tell someone whose ticket action did not happen, in their language.
pub fn refusal_text(l: &crate::locale::Locales, lang: &str, not_done: &NotDone) -> String {
    let key = match not_done {
        NotDone::NoTicket => "ticket.not_a_ticket",
        NotDone::Refused(r) => match r {
            Refusal::OtherServer => "ticket.other_server",
            Refusal::NotAnAgent | Refusal::NotYours => "ticket.agent_only",
            Refusal::NotTheCustomer => "ticket.not_customer",
            Refusal::Blocked => "ticket.blocked",
            Refusal::TooManyOpen => "ticket.too_many",
            Refusal::ThreadCap => "ticket.thread_cap",
            Refusal::NotForBots => "ticket.not_for_bots",
            Refusal::CoolingDown { minutes } => {
                return l.fill(lang, "ticket.cooldown", &[("minutes", minutes)]);
            }
            Refusal::TooLate => "ticket.too_late",
            Refusal::WrongState { number, state } => {
                let key = if *state == TicketState::Closed {
                    "ticket.closed_already"
                } else {
                    "ticket.claimed_already"
                };
                return l.fill(lang, key, &[("number", number)]);
            }
        },
    };
    l.get(lang, key).to_string()
}

/// A link to the ticket's thread, for replies about it (empty before it has one).
fn thread_link(ticket: &Ticket) -> String {
    ticket
        .thread_id
        .map(|t| format!("<#{t}>"))
        .unwrap_or_default()
}

/// Reply privately to an interaction that was deferred.
pub(crate) async fn answer_deferred(
    http: &Http,
    token_holder: &impl Deferred,
    text: &str,
) -> anyhow::Result<()> {
    let edit = EditInteractionResponse::new()
        .content(fit(text, MAX_CONTENT))
        .allowed_mentions(no_pings());
    token_holder.edit(http, edit).await
}

/// Command, component and modal interactions all answer a deferral the same way, through their
/// token:
/// <https://discord.com/developers/docs/interactions/receiving-and-responding#create-interaction-response>
/// and `#edit-original-interaction-response`.
pub(crate) trait Deferred {
    /// What serenity's builders address an interaction's response by.
    fn id_and_token(&self) -> (serenity::all::InteractionId, &str);

    async fn edit(&self, http: &Http, edit: EditInteractionResponse) -> anyhow::Result<()> {
        let (_, token) = self.id_and_token();
        retry(|| edit.clone().execute(http, token)).await?;
        Ok(())
    }

    async fn defer_privately(&self, http: &Http) -> anyhow::Result<()> {
        let (id, token) = self.id_and_token();
        let defer = CreateInteractionResponse::Defer(
            CreateInteractionResponseMessage::new().ephemeral(true),
        );
        retry(|| defer.clone().execute(http, (id, token))).await
    }
}

impl Deferred for ComponentInteraction {
    fn id_and_token(&self) -> (serenity::all::InteractionId, &str) {
        (self.id, &self.token)
    }
}

impl Deferred for serenity::all::CommandInteraction {
    fn id_and_token(&self) -> (serenity::all::InteractionId, &str) {
        (self.id, &self.token)
    }
}

impl Deferred for ModalInteraction {
    fn id_and_token(&self) -> (serenity::all::InteractionId, &str) {
        (self.id, &self.token)
    }
}

/// A ticket button: Claim on a card, a category on the panel, the customer's answers in the
/// thread, and the rating stars.
pub async fn on_button(
    bot: &Bot,
    http: &Http,
    c: &ComponentInteraction,
    id: TicketId,
) -> anyhow::Result<()> {
    let lang = choose_lang("", Some(&c.locale));
    match &id {
        // A form, or a refusal, must be the first answer: no deferring.
        TicketId::Rate(ticket, stars) => {
            let response = match closing::rate_button(bot, c, *ticket, *stars, lang).await? {
                Ok(modal) => CreateInteractionResponse::Modal(modal),
                Err(text) => private_message(&text),
            };
            retry(|| c.create_response(http, response.clone())).await?;
            return Ok(());
        }
        TicketId::Open(category) => {
            if let Some(modal) = bot
                .desk
                .tickets
                .category(category)
                .and_then(|cat| open::form(bot, cat, lang))
            {
                let response = CreateInteractionResponse::Modal(modal);
                retry(|| c.create_response(http, response.clone())).await?;
                return Ok(());
            }
        }
        _ => {}
    }
    c.defer_privately(http).await?;
    let text = match id {
        TicketId::Claim(ticket) => work::claim(bot, http, c, ticket, lang).await?,
        TicketId::Open(category) => {
            let guild = crate::discord::server(c.guild_id)?;
            let request = crate::desk::opening::OpenTicket {
                guild,
                customer: c.user.id.get(),
                category: Some(&category),
                question_id: None,
                text: None,
                form: vec![],
                lang,
                ..Default::default()
            };
            opened_or_notice(bot, http, request).await?
        }
        TicketId::Close(_) | TicketId::Keep(_) | TicketId::Reopen(_) => {
            closing::customer_button(bot, http, c, &id, lang).await?
        }
        TicketId::Rate(..) | TicketId::Form(_) | TicketId::Comment(..) => return Ok(()),
    };
    answer_deferred(http, c, &text).await
}

/// A submitted form: a category's questions (opening a ticket) or a rating's comment.
pub async fn on_modal(bot: &Bot, http: &Http, m: &ModalInteraction) -> anyhow::Result<()> {
    let Some(id) = TicketId::parse(&m.data.custom_id) else {
        return Ok(());
    };
    m.defer_privately(http).await?;
    let inputs: Vec<(String, String)> = m
        .data
        .components
        .iter()
        .flat_map(|row| row.components.iter())
        .filter_map(|c| match c {
            ActionRowComponent::InputText(t) => {
                Some((t.custom_id.clone(), t.value.clone().unwrap_or_default()))
            }
            _ => None,
        })
        .collect();
    let text = match id {
        TicketId::Form(category) => {
            let guild = crate::discord::server(m.guild_id)?;
            let Some(cat) = bot.desk.tickets.category(&category) else {
                return answer_deferred(http, m, bot.desk.locales.get("en", "error.expired")).await;
            };
            // The answers, labelled by the questions they answer.
            let form: Vec<(String, String)> = cat
                .question
                .iter()
                .enumerate()
                .filter_map(|(i, q)| {
                    let key = format!("q{i}");
                    let answer = inputs.iter().find(|(k, _)| *k == key)?.1.clone();
                    Some((q.label.clone(), answer))
                })
                .collect();
            let written: String = form
                .iter()
                .map(|(_, a)| a.as_str())
                .collect::<Vec<_>>()
                .join(" ");
            let lang = choose_lang(&written, Some(&m.locale));
            let request = crate::desk::opening::OpenTicket {
                guild,
                customer: m.user.id.get(),
                category: Some(&category),
                question_id: None,
                text: None,
                form,
                lang,
                ..Default::default()
            };
            opened_or_notice(bot, http, request).await?
        }
        TicketId::Comment(ticket, stars) => {
            let lang = choose_lang("", Some(&m.locale));
            let pressed = closing::pressed(
                bot,
                m.guild_id.map(|g| g.get()),
                m.user.id.get(),
                m.member.as_ref(),
                ticket,
            )
            .await?;
            let Some(pressed) = pressed else {
                return answer_deferred(http, m, bot.desk.locales.get(lang, "error.expired")).await;
            };
            let comment = inputs.into_iter().next().map(|(_, v)| v);
            let text = closing::comment(bot, &pressed, ticket, stars, comment, lang).await?;
            answer_deferred(http, m, &text).await?;
            // Rated in the thread (the survey stayed there): archived again, so it does not
            // count against the server's active threads.
            closing::archive_again(bot, http, ticket, m.channel_id.get()).await;
            return Ok(());
        }
        _ => return Ok(()),
    };
    answer_deferred(http, m, &text).await
}

/// Open the ticket, or say how to reach staff when the server has no tickets channel.
pub async fn opened_or_notice(
    bot: &Bot,
    http: &Http,
    request: crate::desk::opening::OpenTicket<'_>,
) -> anyhow::Result<String> {
    let (guild, lang) = (request.guild, request.lang);
    Ok(match open_for(bot, http, request).await? {
        Some(text) => text,
        None => {
            let settings = bot.desk.settings(guild).await?;
            super::answering::human_notice(bot.desk.locales, lang, settings.agent_role)
        }
    })
}

fn private_message(text: &str) -> CreateInteractionResponse {
    CreateInteractionResponse::Message(
        CreateInteractionResponseMessage::new()
            .content(fit(text, MAX_CONTENT))
            .ephemeral(true)
            .allowed_mentions(no_pings()),
    )
}
