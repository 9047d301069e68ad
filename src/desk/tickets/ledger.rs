//! Where tickets are kept: the one trait the store implements for them.

use super::*;
use crate::desk::StoreError;

/// Where tickets are kept. Each method is one transaction; the state changes are conditional
/// updates, so the database decides races (two claims: one wins, the other gets `None`).
#[trait_variant::make(Send)]
pub trait TicketLedger: Send + Sync + 'static {
    /// Store a new ticket in state `Open` with the server's next number.
    async fn open_ticket(&self, ticket: &NewTicket) -> Result<Ticket, StoreError>;
    async fn ticket(&self, id: i64) -> Result<Option<Ticket>, StoreError>;
    /// The ticket worked in this thread.
    async fn ticket_by_thread(&self, thread_id: u64) -> Result<Option<Ticket>, StoreError>;
    /// The server's ticket with this number.
    async fn ticket_by_number(
        &self,
        guild_id: u64,
        number: i64,
    ) -> Result<Option<Ticket>, StoreError>;
    /// The customer's most recently closed ticket on the server.
    async fn last_closed_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<Ticket>, StoreError>;
    /// A customer's tickets that are not closed, oldest first.
    async fn open_tickets_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Vec<Ticket>, StoreError>;
    /// Tickets a stopped process left half-opened: not closed or claimed, and without their
    /// thread or their card in the agents' channel. Oldest first.
    async fn unfinished_tickets(&self) -> Result<Vec<Ticket>, StoreError>;
    /// How many waiting tickets of the server come before this one in the queue: higher
    /// priority first, then first come, first served.
    async fn waiting_ahead(&self, ticket: &Ticket) -> Result<i64, StoreError>;
    /// Remember the ticket's thread and its card in the agents' channel, once they exist.
    async fn attach(
        &self,
        id: i64,
        thread_id: Option<u64>,
        queue_card_id: Option<u64>,
    ) -> Result<(), StoreError>;
    /// Apply an update (and log it, for those worth logging); `None` when there is no such
    /// ticket.
    async fn update(
        &self,
        id: i64,
        actor_id: u64,
        at_ms: i64,
        update: &Update,
    ) -> Result<Option<Ticket>, StoreError>;
    /// Every waiting ticket, by server and then in queue order (higher priority first, then
    /// first come, first served).
    async fn waiting(&self) -> Result<Vec<Ticket>, StoreError>;
    /// Waiting tickets past their first-response deadline at `now` and not escalated yet.
    async fn overdue(&self, now_ms: i64) -> Result<Vec<Ticket>, StoreError>;
    /// Claimed tickets whose customer has not written since staff last did, before `before_ms`,
    /// and who have not been warned yet.
    async fn quiet_since(&self, before_ms: i64) -> Result<Vec<Ticket>, StoreError>;
    /// Claimed tickets whose customer was warned before `before_ms` and stayed silent.
    async fn warned_before(&self, before_ms: i64) -> Result<Vec<Ticket>, StoreError>;
    /// Closed tickets whose closing was not wrapped up (a stopped process), oldest first.
    async fn unwrapped(&self) -> Result<Vec<Ticket>, StoreError>;
    /// When the server's latest claims happened, newest first, at most `limit`.
    async fn recent_claims(&self, guild_id: u64, limit: i64) -> Result<Vec<i64>, StoreError>;
    /// When the customer last opened a ticket on the server.
    async fn latest_opened(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<i64>, StoreError>;
    /// The server's tickets that are not closed (each holds an active thread).
    async fn open_count(&self, guild_id: u64) -> Result<i64, StoreError>;
    /// Stop a member from opening tickets (again: the reason is replaced).
    async fn block(
        &self,
        guild_id: u64,
        user_id: u64,
        by: u64,
        reason: &str,
        at_ms: i64,
    ) -> Result<(), StoreError>;
    /// Let them again; whether they were blocked.
    async fn unblock(&self, guild_id: u64, user_id: u64) -> Result<bool, StoreError>;
    /// Why the member is blocked, if they are.
    async fn blocked(&self, guild_id: u64, user_id: u64) -> Result<Option<String>, StoreError>;
    /// Keep a closing's transcript (again for the same closing: the first one stays).
    async fn save_transcript(
        &self,
        ticket_id: i64,
        closing: i64,
        markdown: &str,
        html: &str,
        at_ms: i64,
    ) -> Result<(), StoreError>;
    /// A closing's transcript: (Markdown, HTML).
    async fn transcript(
        &self,
        ticket_id: i64,
        closing: i64,
    ) -> Result<Option<(String, String)>, StoreError>;
    /// Move a ticket from one of `from` to `to`, recording who did it; `None` when the ticket
    /// was not in one of `from` (someone else got there first).
    async fn move_ticket(
        &self,
        id: i64,
        from: &[TicketState],
        change: &Change,
    ) -> Result<Option<Ticket>, StoreError>;
}
