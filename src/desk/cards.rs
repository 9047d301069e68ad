//! A ticket's two running messages: its card in the agents' channel, which gathers a line per
//! event (claimed, released, closed...), and the customer's status line in the thread. Every
//! journey that moves a ticket tells both.

use super::port::{Button, Edit, MAX_TEXT, Port, Post};
use super::tickets::{Ticket, TicketLedger, TicketState};
use super::{Desk, Ledger, fit};

impl<L: Ledger + TicketLedger> Desk<L> {
    /// Add a line to a ticket's card in the agents' channel (claimed, released, closed...) and
    /// set its buttons: Claim while the ticket waits, none otherwise. A line already there is
    /// not added again (a restart repeating the step).
    pub async fn annotate_card(
        &self,
        port: &dyn Port,
        ticket: &Ticket,
        line: &str,
    ) -> anyhow::Result<()> {
        let settings = self.settings(ticket.guild_id).await?;
        let (Some(card), Some(agents)) = (ticket.queue_card_id, settings.agents_channel) else {
            return Ok(());
        };
        let current = port.message_text(agents, card).await?;
        let text = if current.ends_with(line) {
            current
        } else {
            // Cut here, so the text read back next time is the one this step wrote.
            fit(&format!("{current}\n{line}"), MAX_TEXT)
        };
        let buttons = if ticket.state == TicketState::Waiting {
            vec![Button::Claim(ticket.id)]
        } else {
            vec![]
        };
        let edit = Edit {
            text,
            buttons: Some(buttons),
        };
        port.edit_message(agents, card, &edit).await
    }

    /// Tell the customer what is happening in the thread's status message (their place in the
    /// queue until someone has the ticket), or in a new message when there is none.
    pub async fn show_status(
        &self,
        port: &dyn Port,
        ticket: &Ticket,
        text: &str,
    ) -> anyhow::Result<()> {
        let Some(thread) = ticket.thread_id else {
            return Ok(());
        };
        match ticket.status_message_id {
            Some(m) => port.edit_message(thread, m, &Edit::text(text)).await,
            None => port.post(thread, &Post::text(text)).await.map(|_| ()),
        }
    }
}
