//! Tickets (journeys J2 and J3): a customer's request for a person, and the rules of who may do
//! what to it. Storage is through [`super::Ledger`]; claiming is decided by the database, so two
//! agents pressing Claim at once cannot both win.
//!
//! This is the first step of issue 4: the lifecycle and its storage. Opening threads, the
//! queue cards, timers and the rest are not wired to Discord yet.

use std::fmt;

/// How urgent a ticket is; it orders the queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Priority {
    Low,
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub const ALL: [Priority; 4] = [
        Priority::Low,
        Priority::Normal,
        Priority::High,
        Priority::Urgent,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Normal => "normal",
            Priority::High => "high",
            Priority::Urgent => "urgent",
        }
    }

    pub fn from_name(name: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// Where a ticket is in its life.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TicketState {
    /// Opened; nobody has been asked for yet (the customer may still be filling in details).
    Open,
    /// In the agents' queue, waiting for someone to claim it.
    Waiting,
    /// An agent has it.
    Claimed,
    /// Done, with a reason.
    Closed,
}

impl TicketState {
    pub const ALL: [TicketState; 4] = [
        TicketState::Open,
        TicketState::Waiting,
        TicketState::Claimed,
        TicketState::Closed,
    ];

    pub fn name(self) -> &'static str {
        match self {
            TicketState::Open => "open",
            TicketState::Waiting => "waiting",
            TicketState::Claimed => "claimed",
            TicketState::Closed => "closed",
        }
    }

    pub fn from_name(name: &str) -> Option<TicketState> {
        TicketState::ALL.into_iter().find(|s| s.name() == name)
    }

    /// Whether an agent may claim a ticket in this state.
    pub fn claimable(self) -> bool {
        matches!(self, TicketState::Open | TicketState::Waiting)
    }
}

impl fmt::Display for TicketState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A new ticket, before it has an id and a number.
#[derive(Clone, Debug, PartialEq)]
pub struct NewTicket {
    pub guild_id: u64,
    pub customer_id: u64,
    pub category: String,
    pub priority: Priority,
    /// The FAQ question that led here, if any.
    pub question_id: Option<i64>,
    pub opened_at_ms: i64,
}

/// A stored ticket.
#[derive(Clone, Debug, PartialEq)]
pub struct Ticket {
    pub id: i64,
    pub guild_id: u64,
    /// Counts up per server: what customers and agents call it ("#42").
    pub number: i64,
    pub customer_id: u64,
    pub category: String,
    pub priority: Priority,
    pub state: TicketState,
    pub thread_id: Option<u64>,
    /// The ticket's card in the agents' channel.
    pub queue_card_id: Option<u64>,
    pub agent_id: Option<u64>,
    pub question_id: Option<i64>,
    pub opened_at_ms: i64,
    pub claimed_at_ms: Option<i64>,
    pub first_response_at_ms: Option<i64>,
    pub closed_at_ms: Option<i64>,
    pub close_reason: Option<String>,
}

/// Who is acting on a ticket, as the adapter established it from the member's roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: u64,
    /// The server the action comes from.
    pub guild_id: u64,
    pub is_agent: bool,
    pub is_moderator: bool,
}

impl Actor {
    /// Who `user_id` is on the server `settings` describe: an agent by the agent role; a
    /// moderator by the moderator role, or when Discord lets them manage the server.
    pub fn on(
        settings: &super::GuildSettings,
        user_id: u64,
        roles: &[u64],
        manages_server: bool,
    ) -> Actor {
        let has = |role: Option<u64>| role.is_some_and(|r| roles.contains(&r));
        Actor {
            user_id,
            guild_id: settings.guild_id,
            is_agent: has(settings.agent_role),
            is_moderator: manages_server || has(settings.moderator_role),
        }
    }
}

/// Why an action on a ticket is refused.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("only agents can do that")]
    NotAnAgent,
    #[error("that ticket belongs to another server")]
    OtherServer,
    #[error("that ticket is not yours")]
    NotYours,
    #[error("ticket #{number} is {state} already")]
    WrongState { number: i64, state: TicketState },
}

/// Whether `actor` may see `ticket`: its customer, or an agent or moderator of its server.
pub fn may_see(actor: &Actor, ticket: &Ticket) -> Result<(), Refusal> {
    if actor.guild_id != ticket.guild_id {
        return Err(Refusal::OtherServer);
    }
    if actor.user_id == ticket.customer_id || actor.is_agent || actor.is_moderator {
        Ok(())
    } else {
        Err(Refusal::NotYours)
    }
}

/// Whether `actor` may claim, release, transfer or close `ticket` as staff.
pub fn may_work(actor: &Actor, ticket: &Ticket) -> Result<(), Refusal> {
    if actor.guild_id != ticket.guild_id {
        return Err(Refusal::OtherServer);
    }
    if actor.is_agent || actor.is_moderator {
        Ok(())
    } else {
        Err(Refusal::NotAnAgent)
    }
}

/// The result of asking for a ticket.
#[derive(Clone, Debug, PartialEq)]
pub enum Opened {
    /// A new ticket, stored, to be finished (thread, header, card).
    New(Ticket),
    /// The customer already has this one open: point them to it.
    Existing(Ticket),
}

/// Why a ticket action did not happen.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum NotDone {
    #[error(transparent)]
    Refused(#[from] Refusal),
    #[error("no such ticket")]
    NoTicket,
}

/// Open a ticket for a customer, unless they have one open already (one at a time, so a
/// customer pressing twice gets one ticket).
pub async fn open_or_find<L: TicketLedger>(
    ledger: &L,
    new: &NewTicket,
) -> Result<Opened, super::StoreError> {
    if let Some(t) = ledger
        .open_tickets_of(new.guild_id, new.customer_id)
        .await?
        .into_iter()
        .next()
    {
        return Ok(Opened::Existing(t));
    }
    Ok(Opened::New(ledger.open_ticket(new).await?))
}

/// The customer is in their thread: the ticket joins the agents' queue. `None` when it had
/// left the `Open` state already (a second finish after a restart).
pub async fn enqueue<L: TicketLedger>(
    ledger: &L,
    ticket: &Ticket,
    at_ms: i64,
) -> Result<Option<Ticket>, super::StoreError> {
    let change = Change {
        to: TicketState::Waiting,
        actor_id: ticket.customer_id,
        at_ms,
        agent_id: None,
        reason: None,
    };
    ledger
        .move_ticket(ticket.id, &[TicketState::Open], &change)
        .await
}

/// An agent claims a ticket: refused to anyone who may not work it; of several claims at once,
/// the database lets exactly one through and the others get `WrongState`.
pub async fn claim<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    ticket_id: i64,
    at_ms: i64,
) -> Result<Result<Ticket, NotDone>, super::StoreError> {
    let Some(ticket) = ledger.ticket(ticket_id).await? else {
        return Ok(Err(NotDone::NoTicket));
    };
    if let Err(r) = may_work(actor, &ticket) {
        return Ok(Err(r.into()));
    }
    let change = Change {
        to: TicketState::Claimed,
        actor_id: actor.user_id,
        at_ms,
        agent_id: Some(actor.user_id),
        reason: None,
    };
    let claimable = [TicketState::Open, TicketState::Waiting];
    Ok(
        match ledger.move_ticket(ticket.id, &claimable, &change).await? {
            Some(t) => Ok(t),
            None => Err(wrong_state(ledger, &ticket).await?),
        },
    )
}

/// Staff close the ticket worked in `thread_id`, with a reason.
pub async fn close<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    thread_id: u64,
    reason: &str,
    at_ms: i64,
) -> Result<Result<Ticket, NotDone>, super::StoreError> {
    let Some(ticket) = ledger.ticket_by_thread(thread_id).await? else {
        return Ok(Err(NotDone::NoTicket));
    };
    if let Err(r) = may_work(actor, &ticket) {
        return Ok(Err(r.into()));
    }
    let change = Change {
        to: TicketState::Closed,
        actor_id: actor.user_id,
        at_ms,
        agent_id: None,
        reason: Some(reason.to_string()),
    };
    let open = [
        TicketState::Open,
        TicketState::Waiting,
        TicketState::Claimed,
    ];
    Ok(match ledger.move_ticket(ticket.id, &open, &change).await? {
        Some(t) => Ok(t),
        None => Err(wrong_state(ledger, &ticket).await?),
    })
}

/// The refusal for a ticket that someone else moved first, with the state it is in now.
async fn wrong_state<L: TicketLedger>(
    ledger: &L,
    ticket: &Ticket,
) -> Result<NotDone, super::StoreError> {
    let now = ledger.ticket(ticket.id).await?;
    Ok(NotDone::Refused(Refusal::WrongState {
        number: ticket.number,
        state: now.map_or(ticket.state, |t| t.state),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            id: 1,
            guild_id: 10,
            number: 7,
            customer_id: 100,
            category: "billing".into(),
            priority: Priority::Normal,
            state: TicketState::Waiting,
            thread_id: None,
            queue_card_id: None,
            agent_id: None,
            question_id: None,
            opened_at_ms: 0,
            claimed_at_ms: None,
            first_response_at_ms: None,
            closed_at_ms: None,
            close_reason: None,
        }
    }

    fn actor(user_id: u64, guild_id: u64, is_agent: bool) -> Actor {
        Actor {
            user_id,
            guild_id,
            is_agent,
            is_moderator: false,
        }
    }

    #[test]
    fn names_round_trip() {
        for p in Priority::ALL {
            assert_eq!(Priority::from_name(p.name()), Some(p));
        }
        for s in TicketState::ALL {
            assert_eq!(TicketState::from_name(s.name()), Some(s));
        }
        assert_eq!(Priority::from_name("URGENT"), None);
        assert!(Priority::Urgent > Priority::High && Priority::Normal > Priority::Low);
    }

    #[test]
    fn a_customer_sees_only_their_own_and_only_staff_work_tickets() {
        let t = ticket();
        assert_eq!(may_see(&actor(100, 10, false), &t), Ok(()));
        assert_eq!(may_see(&actor(101, 10, false), &t), Err(Refusal::NotYours));
        assert_eq!(may_see(&actor(200, 10, true), &t), Ok(()));
        assert_eq!(
            may_work(&actor(100, 10, false), &t),
            Err(Refusal::NotAnAgent)
        );
        assert_eq!(may_work(&actor(200, 10, true), &t), Ok(()));
        // An agent of another server is nobody here.
        assert_eq!(
            may_work(&actor(200, 11, true), &t),
            Err(Refusal::OtherServer)
        );
        assert_eq!(
            may_see(&actor(100, 11, false), &t),
            Err(Refusal::OtherServer)
        );
        let moderator = Actor {
            is_moderator: true,
            ..actor(300, 10, false)
        };
        assert_eq!(may_work(&moderator, &t), Ok(()));
    }

    #[test]
    fn roles_and_the_manage_server_permission_make_agents_and_moderators() {
        let mut settings = crate::desk::GuildSettings::new(10);
        settings.agent_role = Some(1);
        settings.moderator_role = Some(2);
        let a = Actor::on(&settings, 5, &[1, 9], false);
        assert_eq!((a.guild_id, a.is_agent, a.is_moderator), (10, true, false));
        assert!(Actor::on(&settings, 5, &[2], false).is_moderator);
        assert!(Actor::on(&settings, 5, &[], true).is_moderator);
        let nobody = Actor::on(&settings, 5, &[9], false);
        assert!(!nobody.is_agent && !nobody.is_moderator);
        // Roles not set up make nobody an agent.
        let bare = crate::desk::GuildSettings::new(10);
        assert!(!Actor::on(&bare, 5, &[1, 2], false).is_agent);
    }

    #[test]
    fn only_open_and_waiting_tickets_can_be_claimed() {
        let claimable: Vec<TicketState> = TicketState::ALL
            .into_iter()
            .filter(|s| s.claimable())
            .collect();
        assert_eq!(claimable, [TicketState::Open, TicketState::Waiting]);
    }
}

/// Where tickets are kept. Each method is one transaction; the state changes are conditional
/// updates, so the database decides races (two claims: one wins, the other gets `None`).
pub trait TicketLedger: Send + Sync + 'static {
    /// Store a new ticket in state `Open` with the server's next number.
    fn open_ticket(
        &self,
        ticket: &NewTicket,
    ) -> impl std::future::Future<Output = Result<Ticket, super::StoreError>> + Send;
    fn ticket(
        &self,
        id: i64,
    ) -> impl std::future::Future<Output = Result<Option<Ticket>, super::StoreError>> + Send;
    /// The ticket worked in this thread.
    fn ticket_by_thread(
        &self,
        thread_id: u64,
    ) -> impl std::future::Future<Output = Result<Option<Ticket>, super::StoreError>> + Send;
    /// A customer's tickets that are not closed, oldest first.
    fn open_tickets_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> impl std::future::Future<Output = Result<Vec<Ticket>, super::StoreError>> + Send;
    /// Tickets a stopped process left half-opened: not closed or claimed, and without their
    /// thread or their card in the agents' channel. Oldest first.
    fn unfinished_tickets(
        &self,
    ) -> impl std::future::Future<Output = Result<Vec<Ticket>, super::StoreError>> + Send;
    /// How many waiting tickets of the server come before this one in the queue: higher
    /// priority first, then first come, first served.
    fn waiting_ahead(
        &self,
        ticket: &Ticket,
    ) -> impl std::future::Future<Output = Result<i64, super::StoreError>> + Send;
    /// Remember the ticket's thread and its card in the agents' channel, once they exist.
    fn attach(
        &self,
        id: i64,
        thread_id: Option<u64>,
        queue_card_id: Option<u64>,
    ) -> impl std::future::Future<Output = Result<(), super::StoreError>> + Send;
    /// Move a ticket from one of `from` to `to`, recording who did it; `None` when the ticket
    /// was not in one of `from` (someone else got there first).
    fn move_ticket(
        &self,
        id: i64,
        from: &[TicketState],
        change: &Change,
    ) -> impl std::future::Future<Output = Result<Option<Ticket>, super::StoreError>> + Send;
}

/// A state change, with what it sets besides the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub to: TicketState,
    pub actor_id: u64,
    pub at_ms: i64,
    /// For `Claimed`: the agent. `None` clears it (a release).
    pub agent_id: Option<u64>,
    /// For `Closed`: why.
    pub reason: Option<String>,
}
