//! Opening a ticket: the limits, the category and its form, the workflow rules, then the private
//! thread with its header and the card in the agents' channel.

use serenity::all::{
    ChannelId, ChannelType, CreateActionRow, CreateButton, CreateInputText, CreateMessage,
    CreateModal, CreateThread, GuildId, Http, InputTextStyle, Nonce, RoleId, UserId,
};
use tracing::{error, info};

use super::{TicketId, claim_row, refusal_text, thread_link, timers, user};
use crate::desk::crisis;
use crate::desk::settings::{Staffed, staffed};
use crate::desk::tickets::{
    Limits, NewTicket, Opened, Ticket, TicketLedger, TicketState, enqueue, open_or_find,
};
use crate::desk::workflow::{Category, FormStyle};
use crate::desk::{Ledger, now_ms};
use crate::discord::render::{MAX_CONTENT, fit, no_pings};
use crate::discord::{Bot, retry};

/// A customer asking for a ticket, from wherever they asked.
pub struct Request<'a> {
    pub guild: u64,
    pub customer: u64,
    /// The category's id; the first configured one when `None`.
    pub category: Option<&'a str>,
    /// The FAQ question that led here.
    pub question_id: Option<i64>,
    /// What they wrote: the question, `/ticket about:`, or nothing.
    pub text: Option<&'a str>,
    /// The category form's answers: (question label, answer).
    pub form: Vec<(String, String)>,
    pub lang: &'a str,
}

/// The limits the configuration sets.
fn limits(bot: &Bot) -> Limits {
    Limits {
        max_open: bot.tickets.max_open_per_customer,
        cooldown_ms: i64::from(bot.tickets.cooldown_minutes) * 60_000,
    }
}

/// Open a ticket (or find the one already open) and say where it is, in the customer's
/// language. `None` when the server has no tickets channel: the caller then says how to reach
/// staff.
pub async fn open_for(bot: &Bot, http: &Http, req: Request<'_>) -> anyhow::Result<Option<String>> {
    let settings = bot.desk.settings(req.guild).await?;
    let l = bot.locales;
    let lang = req.lang;
    let mut category = req
        .category
        .and_then(|id| bot.tickets.category(id))
        .unwrap_or_else(|| bot.tickets.default_category())
        .clone();
    // Workflow rules read everything the customer wrote.
    let mut everything = req.text.unwrap_or_default().to_string();
    for (_, answer) in &req.form {
        everything.push('\n');
        everything.push_str(answer);
    }
    let routing = bot.tickets.apply(&everything, category.priority);
    if let Some(routed) = routing
        .category
        .as_deref()
        .and_then(|id| bot.tickets.category(id))
    {
        category = routed.clone();
    }
    let mut priority = routing.priority.max(category.priority);
    let mut tags = routing.tags;
    // A ticket about a running crisis is tagged, raised, and goes to a category named like the
    // crisis's topic when there is one.
    for c in crisis::mentioned(&bot.running_crises(req.guild).await?, &everything) {
        tags.push(c.ticket_tag());
        priority = priority.max(crisis::TICKET_PRIORITY);
        if let Some(routed) = bot.tickets.category(&c.topic) {
            category = routed.clone();
        }
    }
    if category.channel.or(settings.tickets_channel).is_none() {
        return Ok(None);
    }
    let opened_at = now_ms();
    let due = bot.tickets.targets.due_ms(&settings, opened_at, priority);
    // The FAQ exchange that led here: what the bot offered, so nobody repeats it.
    let offered = match req.question_id {
        Some(q) => bot
            .desk
            .ledger()
            .question(q)
            .await?
            .and_then(|(record, _)| record.intent)
            .and_then(|intent| {
                // An intent that is itself a way to a person offered nothing to read.
                let faq = bot.desk.faq();
                faq.intent(&intent)
                    .filter(|i| i.action.is_none())
                    .map(|i| crate::desk::answers::label_in(i, lang))
            }),
        None => None,
    };
    let mut subject = subject(bot, lang, req.text, &req.form);
    if let Some(title) = offered {
        subject.push('\n');
        subject.push_str(
            &bot.locales
                .fill(lang, "ticket.offered", &[("title", &title)]),
        );
    }
    let new = NewTicket {
        guild_id: req.guild,
        customer_id: req.customer,
        category: category.id.clone(),
        priority,
        question_id: req.question_id,
        subject,
        tags,
        lang: lang.to_string(),
        opened_at_ms: opened_at,
        due_at_ms: Some(due),
    };
    // Stored first: whatever fails below, the ticket exists, and `finish` completes it (now, or
    // when the bot starts again).
    let ticket = match open_or_find(bot.desk.ledger(), &new, &limits(bot)).await? {
        Err(refusal) => return Ok(Some(refusal_text(bot, lang, &refusal.into()))),
        Ok(Opened::Existing(t)) => {
            let thread = thread_link(&t);
            return Ok(Some(l.fill(
                lang,
                "ticket.existing",
                &[("number", &t.number), ("thread", &thread)],
            )));
        }
        Ok(Opened::New(t)) => t,
    };
    let thread = finish(bot, http, ticket.clone()).await?;
    let mut text = l.fill(
        lang,
        "ticket.opened",
        &[
            ("number", &ticket.number),
            ("thread", &format!("<#{thread}>")),
        ],
    );
    if let Some(t) = bot.desk.ledger().ticket(ticket.id).await?
        && t.state == TicketState::Waiting
    {
        let position = bot.desk.ledger().waiting_ahead(&t).await? + 1;
        text.push('\n');
        text.push_str(&timers::queue_text(bot, &t, position).await?);
    }
    // Outside opening hours the customer is told when people are back (Discord shows the time
    // in the reader's own time zone and language).
    if let Staffed::Closed { back_at: Some(at) } = staffed(&settings, jiff::Timestamp::now()) {
        text.push('\n');
        text.push_str(&l.fill(lang, "ticket.out_of_hours", &[("at", &at)]));
    }
    Ok(Some(text))
}

/// What the header shows under its first line: the form's answers, or what they asked.
fn subject(bot: &Bot, lang: &str, text: Option<&str>, form: &[(String, String)]) -> String {
    let mut lines: Vec<String> = form
        .iter()
        .filter(|(_, answer)| !answer.trim().is_empty())
        .map(|(label, answer)| format!("**{label}**: {}", answer.trim()))
        .collect();
    if let Some(text) = text.filter(|t| !t.trim().is_empty()) {
        lines.insert(
            0,
            bot.locales
                .fill(lang, "ticket.asked", &[("question", &text.trim())]),
        );
    }
    lines.join("\n")
}

/// The category's form as a Discord modal, for a category that asks questions.
pub fn form(bot: &Bot, category: &Category, lang: &str) -> Option<CreateModal> {
    if category.question.is_empty() {
        return None;
    }
    let title = bot
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
    let mut text = bot.locales.get(lang, "ticket.panel").to_string();
    for c in bot.tickets.categories().iter().take(25) {
        if let Some(d) = &c.description {
            text.push_str(&format!("\n**{}**: {d}", c.label));
        }
    }
    CreateMessage::new()
        .content(fit(&text, MAX_CONTENT))
        .components(rows)
        .allowed_mentions(no_pings())
}

/// Complete a stored ticket: its private thread with the customer and the header, the move to
/// the queue, and the card in the agents' channel, each only if it is not there yet (the stored
/// ids say what is). Returns the thread.
pub async fn finish(bot: &Bot, http: &Http, ticket: Ticket) -> anyhow::Result<ChannelId> {
    finish_ticket(bot, http, ticket, false).await
}

/// [`finish`]; `resumed` when a stopped process had begun it: a thread it created but had no
/// time to remember is found by its name instead of being created twice.
async fn finish_ticket(
    bot: &Bot,
    http: &Http,
    mut ticket: Ticket,
    resumed: bool,
) -> anyhow::Result<ChannelId> {
    let l = bot.locales;
    let store = bot.desk.ledger();
    let settings = bot.desk.settings(ticket.guild_id).await?;
    let category = bot
        .tickets
        .category(&ticket.category)
        .unwrap_or_else(|| bot.tickets.default_category())
        .clone();
    let customer = user(ticket.customer_id);
    let priority = ticket.priority.name();
    let lang = ticket.lang.clone();
    let thread = match ticket.thread_id {
        Some(t) => ChannelId::new(t),
        None => {
            let channel = category
                .channel
                .or(settings.tickets_channel)
                .ok_or_else(|| anyhow::anyhow!("no tickets channel set up"))?;
            let name = format!("ticket-{}", ticket.number);
            let found = if resumed {
                let active =
                    retry(|| GuildId::new(ticket.guild_id).get_active_threads(http)).await?;
                active
                    .threads
                    .into_iter()
                    .find(|t| t.name == name && t.parent_id == Some(ChannelId::new(channel)))
                    .map(|t| t.id)
            } else {
                None
            };
            let thread = match found {
                Some(t) => t,
                None => {
                    let create = CreateThread::new(name)
                        .kind(ChannelType::PrivateThread)
                        .invitable(false);
                    retry(|| ChannelId::new(channel).create_thread(http, create.clone()))
                        .await?
                        .id
                }
            };
            store.attach(ticket.id, Some(thread.get()), None).await?;
            bot.remember_thread(thread.get(), channel);
            thread
        }
    };
    // Until the ticket is in the queue, the customer's place in the thread may be unfinished:
    // adding a member is idempotent and the header's enforced nonce keeps it to one message, so
    // both are simply done again after a restart.
    if ticket.state == TicketState::Open {
        retry(|| thread.add_thread_member(http, UserId::new(ticket.customer_id))).await?;
        let mut header = l.fill(
            &lang,
            "ticket.header",
            &[
                ("number", &ticket.number),
                ("category", &category.label),
                ("priority", &priority),
                ("customer", &customer),
            ],
        );
        if !ticket.subject.is_empty() {
            header.push('\n');
            header.push_str(&ticket.subject);
        }
        // While a crisis runs, the customer sees where the latest is.
        for link in bot
            .running_crises(ticket.guild_id)
            .await?
            .iter()
            .filter_map(|c| c.status_link())
        {
            header.push('\n');
            header.push_str(&l.fill(&lang, "crisis.status_line", &[("link", &link)]));
        }
        let message = CreateMessage::new()
            .content(fit(&header, MAX_CONTENT))
            .allowed_mentions(no_pings())
            .nonce(Nonce::String(format!("t{}", ticket.id)))
            .enforce_nonce(true);
        retry(|| thread.send_message(http, message.clone())).await?;
        if let Some(t) = enqueue(store, &ticket, now_ms()).await? {
            ticket = t;
        }
    }
    if let (None, Some(agents), TicketState::Waiting) =
        (ticket.queue_card_id, settings.agents_channel, ticket.state)
    {
        let mut card = l.fill(
            "en",
            "ticket.card",
            &[
                ("number", &ticket.number),
                ("category", &category.label),
                ("priority", &priority),
                ("customer", &customer),
                ("thread", &format!("<#{thread}>")),
            ],
        );
        if !ticket.tags.is_empty() {
            card.push_str(&format!("\nTags: {}", ticket.tags.join(", ")));
        }
        if let Some(due) = ticket.due_at_ms {
            card.push_str(&format!("\nFirst response due <t:{}:R>.", due / 1000));
        }
        if !ticket.subject.is_empty() {
            card.push('\n');
            card.push_str(&fit(&ticket.subject, 600));
        }
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
            .components(claim_row(ticket.id))
            .allowed_mentions(mentions)
            .nonce(Nonce::String(format!("c{}", ticket.id)))
            .enforce_nonce(true);
        let sent = retry(|| ChannelId::new(agents).send_message(http, message.clone())).await?;
        store.attach(ticket.id, None, Some(sent.id.get())).await?;
    }
    Ok(thread)
}

/// At start: finish every ticket a stopped process left half-opened (stored, but without its
/// thread or its card).
pub async fn finish_unfinished(bot: &Bot, http: &Http) {
    let unfinished = match bot.desk.ledger().unfinished_tickets().await {
        Ok(list) => list,
        Err(e) => {
            error!("cannot look for unfinished tickets: {e}");
            return;
        }
    };
    for ticket in unfinished {
        let number = ticket.number;
        match finish_ticket(bot, http, ticket, true).await {
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
