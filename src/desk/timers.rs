//! What happens with time, read from the ledger (so it survives restarts): a ticket past its
//! first-response target escalates, a quiet customer is warned and then their ticket closes,
//! and every waiting customer's place in the queue is kept current in their thread.
//!
//! Each message carries an enforced nonce made from the ticket and the moment it is about (the
//! deadline, the last staff reply), and is stored once sent: a pass repeated after a crash
//! posts nothing twice.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use super::crisis::CrisisLedger;
use super::opening::Place;
use super::port::{Edit, Port, Post};
use super::tickets::{self as rules, Actor, BEACON, Target, Ticket, TicketLedger, Update};
use super::work::mention;
use super::{Desk, Ledger};

/// The most queue messages edited in one pass; the rest follow on the next.
pub const MAX_EDITS_PER_PASS: usize = 50;

impl<L: Ledger + TicketLedger + CrisisLedger> Desk<L> {
    /// Waiting tickets past their target at `now`: a reply to the card pings the agents and the
    /// supervisors, once. Returns the tickets escalated.
    pub async fn escalate(&self, port: &dyn Port, now: i64) -> anyhow::Result<Vec<Ticket>> {
        let mut escalated = vec![];
        for ticket in self.ledger().overdue(now).await? {
            let settings = self.settings(ticket.guild_id).await?;
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
            // The ping is the bot's own decision: only these roles, by id.
            let post = Post {
                nonce: Some(format!(
                    "e{}-{}",
                    ticket.id,
                    ticket.due_at_ms.unwrap_or(0) % 1_000_000_000
                )),
                ping_roles: roles,
                reply_to: ticket.queue_card_id,
                ..Post::text(text)
            };
            let sent = port.post(agents, &post).await?;
            let update = Update::Escalated { message_id: sent };
            if let Some(t) = self
                .ledger()
                .update(ticket.id, BEACON, now, &update)
                .await?
            {
                escalated.push(t);
            }
        }
        Ok(escalated)
    }

    /// Claimed tickets whose customer has been quiet since staff answered, for the configured
    /// hours: a warning in the thread that pings the customer, once. Returns the tickets warned.
    pub async fn warn_quiet(&self, port: &dyn Port, now: i64) -> anyhow::Result<Vec<Ticket>> {
        let Some((warn_ms, close_ms)) = self.inactivity() else {
            return Ok(vec![]);
        };
        let mut warned = vec![];
        for ticket in self.ledger().quiet_since(now - warn_ms).await? {
            let Some(thread) = ticket.thread_id else {
                continue;
            };
            let at = (now + close_ms) / 1000;
            let text = self.locales.fill(
                &ticket.lang,
                "ticket.warn_inactive",
                &[("customer", &mention(ticket.customer_id)), ("at", &at)],
            );
            // The warning is the bot's own decision to reach the customer: only they are pinged.
            let seen = ticket.staff_seen_at_ms.unwrap_or(0) % 1_000_000_000;
            let post = Post {
                nonce: Some(format!("w{}-{seen}", ticket.id)),
                ping_user: Some(ticket.customer_id),
                ..Post::text(text)
            };
            port.post(thread, &post).await?;
            if let Some(t) = self
                .ledger()
                .update(ticket.id, BEACON, now, &Update::Warned)
                .await?
            {
                warned.push(t);
            }
        }
        Ok(warned)
    }

    /// Warned tickets whose customer stayed quiet: closed by Beacon, with the reason in the
    /// ticket's language, and wrapped up like every closing. Returns the tickets closed. A
    /// wrap-up that fails is logged, and finished at the next start (`wrap_unwrapped`).
    pub async fn close_inactive(&self, port: &dyn Port, now: i64) -> anyhow::Result<Vec<Ticket>> {
        let Some((_, close_ms)) = self.inactivity() else {
            return Ok(vec![]);
        };
        let mut closed = vec![];
        for ticket in self.ledger().warned_before(now - close_ms).await? {
            let reason = self.locales.get(&ticket.lang, "ticket.inactive_reason");
            let beacon = Actor::beacon(ticket.guild_id);
            let target = Target::Id(ticket.id);
            match rules::close(self.ledger(), &beacon, target, reason, now).await? {
                Ok(t) => {
                    if let Err(e) = self.wrap_up(port, &t, "Beacon").await {
                        tracing::error!(ticket = t.number, "inactive ticket not wrapped up: {e:#}");
                    }
                    closed.push(t);
                }
                Err(e) => tracing::warn!(ticket = ticket.number, "inactive ticket not closed: {e}"),
            }
        }
        Ok(closed)
    }

    /// The warning and closing delays, in milliseconds; `None` when inactivity is off.
    fn inactivity(&self) -> Option<(i64, i64)> {
        let cfg = &self.tickets;
        (cfg.inactivity_warn_hours != 0).then(|| {
            (
                i64::from(cfg.inactivity_warn_hours) * 3_600_000,
                i64::from(cfg.inactivity_close_hours) * 3_600_000,
            )
        })
    }

    /// Keep every waiting customer's place current: the place message is posted in their
    /// thread the first time, then edited when their place changes. At most
    /// [`MAX_EDITS_PER_PASS`] messages a pass. Returns how many were posted or edited.
    pub async fn refresh_places(&self, port: &dyn Port, now: i64) -> anyhow::Result<usize> {
        let waiting = self.ledger().waiting().await?;
        // The pace of the queue is the server's: its recent claims are read once a pass.
        let mut claims: HashMap<u64, Vec<i64>> = HashMap::new();
        let mut edits = 0;
        for (ticket, position) in rules::positions(waiting) {
            if ticket.shown_position == Some(position) && ticket.status_message_id.is_some() {
                continue;
            }
            let Some(thread) = ticket.thread_id else {
                continue;
            };
            if edits >= MAX_EDITS_PER_PASS {
                break;
            }
            edits += 1;
            let claims = match claims.entry(ticket.guild_id) {
                Entry::Occupied(e) => e.into_mut(),
                Entry::Vacant(e) => e.insert(self.recent_claims(ticket.guild_id).await?),
            };
            let place = Place::of(claims, position);
            let text = place.text(self.locales, &ticket.lang);
            let text = format!("#{} · {text}", ticket.number);
            let message_id = match ticket.status_message_id {
                Some(m) => {
                    port.edit_message(thread, m, &Edit::text(text)).await?;
                    m
                }
                None => {
                    let post = Post {
                        nonce: Some(format!("p{}", ticket.id)),
                        ..Post::text(text)
                    };
                    port.post(thread, &post).await?
                }
            };
            let update = Update::StatusMessage {
                message_id,
                position,
            };
            self.ledger()
                .update(ticket.id, BEACON, now, &update)
                .await?;
        }
        Ok(edits)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::now_ms;
    use crate::desk::opening::Opening;
    use crate::desk::port::recording::{Answer, Recording};
    use crate::desk::testing::*;
    use crate::desk::tickets::TicketState;
    use crate::desk::work::{ClaimTicket, Claimed};
    use crate::store::Store;

    const HOUR: i64 = 3_600_000;
    const INACTIVE: &str = "inactivity_warn_hours = 24\ninactivity_close_hours = 48";

    async fn claim(desk: &Desk<Store>, ticket: &Ticket) -> Ticket {
        let port = Recording::new()
            .then("add_to_thread", Answer::Nothing)
            .then("edit_message", Answer::Nothing)
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing);
        let req = ClaimTicket {
            actor: actor(AGENT, true),
            ticket: ticket.id,
            card: CARD,
        };
        let Claimed::Claimed(t) = desk.claim_ticket(&port, &req).await.unwrap() else {
            panic!("not claimed")
        };
        *t
    }

    /// Staff answered the ticket at `at`.
    async fn staff_answered(desk: &Desk<Store>, ticket: &Ticket, at: i64) {
        desk.ledger()
            .update(ticket.id, AGENT, at, &Update::StaffSeen)
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn an_overdue_ticket_escalates_once_under_its_card_pinging_only_the_agents() {
        let desk = desk("").await;
        let ticket = open(&desk, "help").await;
        let late = ticket.due_at_ms.unwrap() + 1;
        let port = Recording::new().then("post", Answer::Id(900));
        let escalated = desk.escalate(&port, late).await.unwrap();
        assert_eq!(escalated.len(), 1);
        assert_eq!(escalated[0].escalation_id, Some(900));
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, AGENTS);
        assert_eq!(post.reply_to, Some(CARD));
        assert_eq!(post.ping_roles, vec![AGENT_ROLE]);
        assert_eq!(post.ping_user, None);
        assert!(post.nonce.as_deref().unwrap().starts_with('e'));
        // Escalated once: the next pass has nothing to post.
        assert!(
            desk.escalate(&Recording::new(), late + HOUR)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_ticket_within_its_target_does_not_escalate() {
        let desk = desk("").await;
        let ticket = open(&desk, "help").await;
        let early = ticket.due_at_ms.unwrap() - 1;
        assert!(
            desk.escalate(&Recording::new(), early)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_quiet_customer_is_warned_once_with_only_them_pinged() {
        let desk = desk(INACTIVE).await;
        let ticket = open(&desk, "help").await;
        claim(&desk, &ticket).await;
        let answered = now_ms();
        staff_answered(&desk, &ticket, answered).await;
        let later = answered + 25 * HOUR;
        let port = Recording::new().then("post", Answer::Id(1));
        let warned = desk.warn_quiet(&port, later).await.unwrap();
        assert_eq!(warned.len(), 1);
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert_eq!(post.ping_user, Some(CUSTOMER));
        assert!(post.ping_roles.is_empty());
        assert!(
            desk.warn_quiet(&Recording::new(), later + 1)
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_warned_customer_who_stays_quiet_has_the_ticket_closed_by_beacon() {
        let desk = desk(INACTIVE).await;
        let ticket = open(&desk, "help").await;
        claim(&desk, &ticket).await;
        let answered = now_ms();
        staff_answered(&desk, &ticket, answered).await;
        let warned_at = answered + 25 * HOUR;
        let port = Recording::new().then("post", Answer::Id(1));
        desk.warn_quiet(&port, warned_at).await.unwrap();
        assert!(
            desk.close_inactive(&Recording::new(), warned_at + HOUR)
                .await
                .unwrap()
                .is_empty()
        );
        // Wrapped up like any closing: survey by DM, notice, status, card, archived and locked.
        let wraps = Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", Answer::Id(2))
            .then("post", Answer::Id(3))
            .then("edit_message", Answer::Nothing)
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(vec![]))
            .then("set_thread", Answer::Nothing);
        let closed = desk
            .close_inactive(&wraps, warned_at + 49 * HOUR)
            .await
            .unwrap();
        assert!(wraps.all_made());
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].state, TicketState::Closed);
        assert_eq!(
            closed[0].close_reason.as_deref(),
            Some(desk.locales.get("en", "ticket.inactive_reason"))
        );
    }

    #[tokio::test]
    async fn with_inactivity_off_nobody_is_warned() {
        let desk = desk("inactivity_warn_hours = 0").await;
        let ticket = open(&desk, "help").await;
        claim(&desk, &ticket).await;
        staff_answered(&desk, &ticket, 0).await;
        assert!(
            desk.warn_quiet(&Recording::new(), now_ms())
                .await
                .unwrap()
                .is_empty()
        );
    }

    #[tokio::test]
    async fn a_place_is_posted_the_first_time_then_only_edited_when_it_changes() {
        let desk = desk("").await;
        let Opening::Opened { ticket, .. } = desk.open_ticket(&opens(), ask("help")).await.unwrap()
        else {
            panic!("not opened")
        };
        let port = Recording::new().then("post", Answer::Id(STATUS));
        assert_eq!(desk.refresh_places(&port, now_ms()).await.unwrap(), 1);
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert!(
            post.text.starts_with(&format!("#{} · ", ticket.number)),
            "{}",
            post.text
        );
        assert_eq!(post.nonce, Some(format!("p{}", ticket.id)));
        // The same place again: nothing to do.
        assert_eq!(
            desk.refresh_places(&Recording::new(), now_ms())
                .await
                .unwrap(),
            0
        );
    }

    #[tokio::test]
    async fn a_place_that_changed_is_edited_in_the_message_already_there() {
        let desk = desk("").await;
        let first = open(&desk, "help").await;
        // The second customer's ticket shows 2nd place; once the first is claimed, it is 1st.
        let second = {
            let req = crate::desk::opening::OpenTicket {
                customer: CUSTOMER + 1,
                ..ask("me too")
            };
            let Opening::Opened { ticket, .. } = desk.open_ticket(&opens(), req).await.unwrap()
            else {
                panic!("not opened")
            };
            let shown = Update::StatusMessage {
                message_id: STATUS + 5,
                position: 2,
            };
            desk.ledger()
                .update(ticket.id, BEACON, now_ms(), &shown)
                .await
                .unwrap()
                .unwrap()
        };
        claim(&desk, &first).await;
        let port = Recording::new().then("edit_message", Answer::Nothing);
        assert_eq!(desk.refresh_places(&port, now_ms()).await.unwrap(), 1);
        let (channel, message, edit) = &port.edits()[0];
        assert_eq!((*channel, *message), (THREAD, STATUS + 5));
        assert!(edit.text.starts_with(&format!("#{} · ", second.number)));
    }
}
