//! What happens with time, from the database (so it survives restarts): a ticket past its
//! first-response target escalates, a quiet customer is warned and then the ticket closes, and
//! every waiting customer's place in the queue is kept current in their thread.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use serenity::all::{
    ChannelId, CreateMessage, EditMessage, Http, MessageId, Nonce, RoleId, UserId,
};
use tracing::{error, warn};

use super::closing;
use super::user;
use crate::desk::now_ms;
use crate::desk::tickets::{self as desk_tickets, Ticket, TicketLedger, Update};
use crate::discord::doctor::why;
use crate::discord::render::{MAX_CONTENT, fit, no_pings};
use crate::discord::{Bot, retry};

/// The most queue messages edited in one pass; the rest follow on the next.
const MAX_EDITS_PER_PASS: usize = 50;

/// Run the timers every `every` until the process stops.
pub fn spawn(bot: Arc<Bot>, http: Arc<Http>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // On time, or at once when the queue moved (a claim, a release, a close): the
            // places are updated here, not in the agent's interaction.
            tokio::select! {
                _ = tick.tick() => {}
                () = bot.queue_changed.notified() => {}
            }
            pass(&bot, &http).await;
        }
    })
}

/// One pass over everything that may be due.
pub async fn pass(bot: &Bot, http: &Http) {
    let now = now_ms();
    if let Err(e) = escalate(bot, http, now).await {
        error!("escalations: {}", why(&e));
    }
    if let Err(e) = inactivity(bot, http, now).await {
        error!("inactivity: {}", why(&e));
    }
    refresh_queue(bot, http).await;
}

/// Waiting tickets past their target: a message under the card pings the agents and the
/// supervisors, once (its id is stored; its nonce covers a crash before that).
async fn escalate(bot: &Bot, http: &Http, now: i64) -> anyhow::Result<()> {
    for ticket in bot.desk.ledger().overdue(now).await? {
        let settings = bot.desk.settings(ticket.guild_id).await?;
        let Some(agents) = settings.agents_channel else {
            continue;
        };
        let roles: Vec<u64> = [settings.agent_role, settings.supervisor_role]
            .into_iter()
            .flatten()
            .collect();
        let pings: String = roles.iter().map(|r| format!("<@&{r}> ")).collect();
        let waited = (now - ticket.opened_at_ms) / 60_000;
        let text = format!(
            "{pings}⏰ Ticket #{} ({} priority) has waited {waited} minutes, past its \
             first-response target. <#{}>",
            ticket.number,
            ticket.priority.name(),
            ticket.thread_id.unwrap_or_default(),
        );
        let mut message = CreateMessage::new()
            .content(fit(&text, MAX_CONTENT))
            .allowed_mentions(
                no_pings().roles(roles.iter().map(|r| RoleId::new(*r)).collect::<Vec<_>>()),
            )
            .nonce(Nonce::String(format!(
                "e{}-{}",
                ticket.id,
                ticket.due_at_ms.unwrap_or(0) % 1_000_000_000
            )))
            .enforce_nonce(true);
        if let Some(card) = ticket.queue_card_id {
            message = message.reference_message((ChannelId::new(agents), MessageId::new(card)));
        }
        let sent = retry(|| ChannelId::new(agents).send_message(http, message.clone())).await?;
        let update = Update::Escalated {
            message_id: sent.id.get(),
        };
        bot.desk
            .ledger()
            .update(ticket.id, desk_tickets::BEACON, now, &update)
            .await?;
    }
    Ok(())
}

/// Claimed tickets whose customer went quiet after staff answered: a warning that pings the
/// customer, then, if they stay quiet, the ticket closes.
async fn inactivity(bot: &Bot, http: &Http, now: i64) -> anyhow::Result<()> {
    let cfg = &bot.desk.tickets;
    if cfg.inactivity_warn_hours == 0 {
        return Ok(());
    }
    let warn_ms = i64::from(cfg.inactivity_warn_hours) * 3_600_000;
    let close_ms = i64::from(cfg.inactivity_close_hours) * 3_600_000;
    let l = bot.desk.locales;
    let ledger = bot.desk.ledger();
    for ticket in ledger.quiet_since(now - warn_ms).await? {
        let Some(thread) = ticket.thread_id else {
            continue;
        };
        let at = (now + close_ms) / 1000;
        let text = l.fill(
            &ticket.lang,
            "ticket.warn_inactive",
            &[("customer", &user(ticket.customer_id)), ("at", &at)],
        );
        // The warning is the bot's own decision to reach the customer: only they are pinged.
        let seen = ticket.staff_seen_at_ms.unwrap_or(0) % 1_000_000_000;
        let message = CreateMessage::new()
            .content(fit(&text, MAX_CONTENT))
            .allowed_mentions(no_pings().users(vec![UserId::new(ticket.customer_id)]))
            .nonce(Nonce::String(format!("w{}-{seen}", ticket.id)))
            .enforce_nonce(true);
        retry(|| ChannelId::new(thread).send_message(http, message.clone())).await?;
        ledger
            .update(ticket.id, desk_tickets::BEACON, now, &Update::Warned)
            .await?;
    }
    for ticket in ledger.warned_before(now - close_ms).await? {
        let reason = l.get(&ticket.lang, "ticket.inactive_reason").to_string();
        let beacon = desk_tickets::Actor::beacon(ticket.guild_id);
        let target = desk_tickets::Target::Id(ticket.id);
        match desk_tickets::close(ledger, &beacon, target, &reason, now).await? {
            Ok(closed) => closing::wrap_up(bot, http, &closed, "Beacon").await?,
            Err(e) => warn!(ticket = ticket.number, "inactive ticket not closed: {e}"),
        }
    }
    Ok(())
}

/// What a waiting customer is told about their place: the position and, when recent claims
/// give a pace, the expected wait.
pub async fn queue_text(bot: &Bot, ticket: &Ticket, position: i64) -> anyhow::Result<String> {
    let place = bot.desk.place(ticket, position).await?;
    Ok(super::open::place_text(
        bot.desk.locales,
        &ticket.lang,
        &place,
    ))
}

/// Keep every waiting customer's place current: post the queue message in their thread the
/// first time, then edit it when their place changes.
pub async fn refresh_queue(bot: &Bot, http: &Http) {
    if let Err(e) = refresh(bot, http).await {
        error!("queue positions: {}", why(&e));
    }
}

async fn refresh(bot: &Bot, http: &Http) -> anyhow::Result<()> {
    let ledger = bot.desk.ledger();
    let waiting = ledger.waiting().await?;
    let mut texts: HashMap<(u64, i64), String> = HashMap::new();
    let mut edits = 0;
    for (ticket, position) in desk_tickets::positions(waiting) {
        if ticket.shown_position == Some(position) && ticket.status_message_id.is_some() {
            continue;
        }
        let Some(thread) = ticket.thread_id.map(ChannelId::new) else {
            continue;
        };
        if edits >= MAX_EDITS_PER_PASS {
            break;
        }
        edits += 1;
        let text = match texts.get(&(ticket.guild_id, position)) {
            Some(t) if ticket.lang == "en" => t.clone(),
            _ => {
                let t = queue_text(bot, &ticket, position).await?;
                if ticket.lang == "en" {
                    texts.insert((ticket.guild_id, position), t.clone());
                }
                t
            }
        };
        let text = format!("#{} · {text}", ticket.number);
        let message_id = match ticket.status_message_id {
            Some(m) => {
                let edit = EditMessage::new()
                    .content(fit(&text, MAX_CONTENT))
                    .allowed_mentions(no_pings());
                retry(|| thread.edit_message(http, MessageId::new(m), edit.clone())).await?;
                m
            }
            None => {
                let message = CreateMessage::new()
                    .content(fit(&text, MAX_CONTENT))
                    .allowed_mentions(no_pings())
                    .nonce(Nonce::String(format!("p{}", ticket.id)))
                    .enforce_nonce(true);
                retry(|| thread.send_message(http, message.clone()))
                    .await?
                    .id
                    .get()
            }
        };
        let update = Update::StatusMessage {
            message_id,
            position,
        };
        ledger
            .update(ticket.id, desk_tickets::BEACON, now_ms(), &update)
            .await?;
    }
    Ok(())
}
