//! Tickets (journeys J2 and J3): a customer's request for a person, and the rules of who may do
//! what to it. Storage is through [`super::Ledger`]; claiming is decided by the database, so two
//! agents pressing Claim at once cannot both win.
//!
//! The adapter in `discord::tickets` does the talking; what may happen, in what order, and what
//! is due when (escalations, inactivity, the queue) is decided here.

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
    /// What the customer asked or filled in; workflow rules read it.
    pub subject: String,
    pub tags: Vec<String>,
    /// The language the customer is spoken to in.
    pub lang: String,
    pub opened_at_ms: i64,
    /// The first-response target (opening hours counted).
    pub due_at_ms: Option<i64>,
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
    pub subject: String,
    /// Sorted, without duplicates.
    pub tags: Vec<String>,
    pub lang: String,
    pub due_at_ms: Option<i64>,
    /// The escalation message in the agents' channel, once posted.
    pub escalation_id: Option<u64>,
    /// The customer's "your place in the queue" message in the thread, and the place it shows.
    pub status_message_id: Option<u64>,
    pub shown_position: Option<i64>,
    pub customer_seen_at_ms: Option<i64>,
    pub staff_seen_at_ms: Option<i64>,
    pub warned_at_ms: Option<i64>,
    /// How many times it has been closed; each closing's messages carry their own nonce.
    pub closings: i64,
    /// Whether the last closing's wrap-up (notice, card, transcript, archive) is done.
    pub wrapped_up: bool,
    pub rating: Option<u8>,
    pub rating_comment: Option<String>,
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

/// The actor id Beacon records for what its own timers do (escalating, warning, closing an
/// inactive ticket): no Discord user has it.
pub const BEACON: u64 = 0;

impl Actor {
    /// Beacon itself, acting on a server's tickets by its own timers.
    pub fn beacon(guild_id: u64) -> Actor {
        Actor {
            user_id: BEACON,
            guild_id,
            is_agent: true,
            is_moderator: false,
        }
    }

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
    #[error("only the ticket's customer can do that")]
    NotTheCustomer,
    #[error("a moderator has stopped this member from opening tickets")]
    Blocked,
    #[error("too many open tickets already")]
    TooManyOpen,
    #[error("a new ticket can be opened in {minutes} minutes")]
    CoolingDown { minutes: i64 },
    #[error("the server is near Discord's limit of active threads")]
    ThreadCap,
    #[error("tickets are for members, not bots")]
    NotForBots,
    #[error("too late to reopen")]
    TooLate,
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

/// Which ticket an action is about: a button names its id, a command its thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target {
    Id(i64),
    Thread(u64),
    /// The ticket with this number on the actor's server.
    Number(i64),
    /// The actor's own most recently closed ticket on their server (`/reopen` anywhere).
    LastClosed,
}

/// Limits on opening tickets, from the `[tickets]` configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Open tickets a customer may have at once.
    pub max_open: u32,
    /// Time after opening one ticket before the same customer may open another.
    pub cooldown_ms: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_open: 1,
            cooldown_ms: 0,
        }
    }
}

/// Discord lets a server have 1,000 active threads; tickets stop opening a little before, so
/// the server's own threads keep room and the customer gets a clear answer instead of an error.
pub const THREAD_CAP: i64 = 950;

/// The result of asking for a ticket.
#[derive(Clone, Debug, PartialEq)]
pub enum Opened {
    /// A new ticket, stored, to be finished (thread, header, card).
    New(Ticket),
    /// The customer already has as many open as they may: point them to this one.
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

type Done<T> = Result<Result<T, NotDone>, super::StoreError>;

/// Open a ticket for a customer, within the limits: a blocked member is refused; one who has as
/// many open as allowed is pointed to their latest (so pressing twice gives one ticket); one who
/// opened a ticket moments ago waits out the cooldown; a server near Discord's thread cap is
/// told so.
pub async fn open_or_find<L: TicketLedger>(
    ledger: &L,
    new: &NewTicket,
    limits: &Limits,
) -> Result<Result<Opened, Refusal>, super::StoreError> {
    if ledger
        .blocked(new.guild_id, new.customer_id)
        .await?
        .is_some()
    {
        return Ok(Err(Refusal::Blocked));
    }
    let open = ledger
        .open_tickets_of(new.guild_id, new.customer_id)
        .await?;
    if open.len() as u64 >= u64::from(limits.max_open.max(1)) {
        let latest = open.into_iter().next_back();
        return Ok(latest.map(Opened::Existing).ok_or(Refusal::TooManyOpen));
    }
    if let Some(last) = ledger.latest_opened(new.guild_id, new.customer_id).await? {
        let wait = last + limits.cooldown_ms - new.opened_at_ms;
        if wait > 0 {
            let minutes = (wait + 59_999) / 60_000;
            return Ok(Err(Refusal::CoolingDown { minutes }));
        }
    }
    if ledger.open_count(new.guild_id).await? >= THREAD_CAP {
        return Ok(Err(Refusal::ThreadCap));
    }
    let ticket = ledger.open_ticket(new).await?;
    crate::metrics::get().tickets_opened.inc();
    Ok(Ok(Opened::New(ticket)))
}

/// The customer is in their thread: the ticket joins the agents' queue. `None` when it had
/// left the `Open` state already (a second finish after a restart).
pub async fn enqueue<L: TicketLedger>(
    ledger: &L,
    ticket: &Ticket,
    at_ms: i64,
) -> Result<Option<Ticket>, super::StoreError> {
    let change = Change::new("queued", TicketState::Waiting, ticket.customer_id, at_ms);
    ledger
        .move_ticket(ticket.id, &[TicketState::Open], &change)
        .await
}

/// The ticket a [`find`] found, or its refusal returned as the action's result.
macro_rules! found {
    ($lookup:expr) => {
        match $lookup.await? {
            Ok(t) => t,
            Err(e) => return Ok(Err(e)),
        }
    };
}

/// Look a ticket up for an action by `actor`, who must be allowed by `rule`.
async fn find<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    rule: fn(&Actor, &Ticket) -> Result<(), Refusal>,
) -> Done<Ticket> {
    let found = match target {
        Target::Id(id) => ledger.ticket(id).await?,
        Target::Thread(thread) => ledger.ticket_by_thread(thread).await?,
        Target::Number(number) => ledger.ticket_by_number(actor.guild_id, number).await?,
        Target::LastClosed => ledger.last_closed_of(actor.guild_id, actor.user_id).await?,
    };
    let Some(ticket) = found else {
        return Ok(Err(NotDone::NoTicket));
    };
    Ok(rule(actor, &ticket).map(|()| ticket).map_err(NotDone::from))
}

/// Move the ticket, or say why not: of several moves at once the database lets one through,
/// and the others hear the state it is in now.
async fn moved<L: TicketLedger>(
    ledger: &L,
    ticket: &Ticket,
    from: &[TicketState],
    change: &Change,
) -> Done<Ticket> {
    Ok(match ledger.move_ticket(ticket.id, from, change).await? {
        Some(t) => Ok(t),
        None => Err(wrong_state(ledger, ticket).await?),
    })
}

const NOT_CLOSED: [TicketState; 3] = [
    TicketState::Open,
    TicketState::Waiting,
    TicketState::Claimed,
];

/// An agent claims a ticket: refused to anyone who may not work it; of several claims at once,
/// the database lets exactly one through and the others get `WrongState`.
pub async fn claim<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_work));
    let change = Change {
        agent_id: Some(actor.user_id),
        ..Change::new("claimed", TicketState::Claimed, actor.user_id, at_ms)
    };
    moved(
        ledger,
        &ticket,
        &[TicketState::Open, TicketState::Waiting],
        &change,
    )
    .await
}

/// The agent lets go: the ticket goes back to the queue for someone else.
pub async fn release<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_work));
    let change = Change::new("released", TicketState::Waiting, actor.user_id, at_ms);
    moved(ledger, &ticket, &[TicketState::Claimed], &change).await
}

/// Give the ticket to another agent (`to_is_agent` says whether they are one: only agents
/// work tickets).
pub async fn transfer<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    to: u64,
    to_is_agent: bool,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_work));
    if !to_is_agent {
        return Ok(Err(Refusal::NotAnAgent.into()));
    }
    let change = Change {
        agent_id: Some(to),
        ..Change::new("transferred", TicketState::Claimed, actor.user_id, at_ms)
    };
    moved(ledger, &ticket, &NOT_CLOSED, &change).await
}

/// Whether `actor` may close `ticket`: staff, or its own customer (who had their answer).
pub fn may_close(actor: &Actor, ticket: &Ticket) -> Result<(), Refusal> {
    if actor.guild_id == ticket.guild_id && actor.user_id == ticket.customer_id {
        return Ok(());
    }
    may_work(actor, ticket)
}

/// Close the ticket, with a reason.
pub async fn close<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    reason: &str,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_close));
    let change = Change {
        reason: Some(reason.to_string()),
        ..Change::new("closed", TicketState::Closed, actor.user_id, at_ms)
    };
    let closed = moved(ledger, &ticket, &NOT_CLOSED, &change).await;
    if matches!(closed, Ok(Ok(_))) {
        crate::metrics::get().tickets_closed.inc();
    }
    closed
}

/// The ticket an agent asks a transcript link for (staff of its server only), with the closing
/// whose transcript is kept; `None` for the closing while it has none (it was never closed).
pub async fn transcript_of<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
) -> Done<(Ticket, Option<i64>)> {
    let ticket = found!(find(ledger, actor, target, may_work));
    let kept = ticket.closings > 0
        && ledger
            .transcript(ticket.id, ticket.closings)
            .await?
            .is_some();
    let closing = kept.then_some(ticket.closings);
    Ok(Ok((ticket, closing)))
}

/// Open a closed ticket again, within `window_ms` of its closing: back to the queue.
pub async fn reopen<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    window_ms: i64,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_close));
    if ticket
        .closed_at_ms
        .is_some_and(|closed| at_ms - closed > window_ms)
    {
        return Ok(Err(Refusal::TooLate.into()));
    }
    let change = Change::new("reopened", TicketState::Waiting, actor.user_id, at_ms);
    moved(ledger, &ticket, &[TicketState::Closed], &change).await
}

/// Staff change a ticket: priority (with its new deadline), tags, a note, a colleague added.
pub async fn update<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    update: &Update,
    at_ms: i64,
) -> Done<Ticket> {
    let ticket = found!(find(ledger, actor, target, may_work));
    Ok(
        match ledger
            .update(ticket.id, actor.user_id, at_ms, update)
            .await?
        {
            Some(t) => Ok(t),
            None => Err(NotDone::NoTicket),
        },
    )
}

/// The customer rates a closed ticket, 1 to 5 (again, to change their mind).
pub async fn rate<L: TicketLedger>(
    ledger: &L,
    actor: &Actor,
    target: Target,
    stars: u8,
    comment: Option<String>,
    at_ms: i64,
) -> Done<Ticket> {
    let only_customer = |a: &Actor, t: &Ticket| {
        if a.user_id == t.customer_id && a.guild_id == t.guild_id {
            Ok(())
        } else {
            Err(Refusal::NotTheCustomer)
        }
    };
    let ticket = found!(find(ledger, actor, target, only_customer));
    if ticket.state != TicketState::Closed {
        return Ok(Err(Refusal::WrongState {
            number: ticket.number,
            state: ticket.state,
        }
        .into()));
    }
    let update = Update::Rating {
        stars: stars.clamp(1, 5),
        comment,
    };
    Ok(
        match ledger
            .update(ticket.id, actor.user_id, at_ms, &update)
            .await?
        {
            Some(t) => Ok(t),
            None => Err(NotDone::NoTicket),
        },
    )
}

/// A message in a ticket's thread: the customer's keeps the ticket alive (and cancels an
/// inactivity warning); staff's counts as a response (the first one ends the target's clock).
pub async fn seen<L: TicketLedger>(
    ledger: &L,
    ticket: &Ticket,
    author: u64,
    at_ms: i64,
) -> Result<(), super::StoreError> {
    let update = if author == ticket.customer_id {
        Update::CustomerSeen
    } else {
        Update::StaffSeen
    };
    ledger.update(ticket.id, author, at_ms, &update).await?;
    if update == Update::StaffSeen && ticket.first_response_at_ms.is_none() {
        let seconds = (at_ms - ticket.opened_at_ms).max(0) as f64 / 1000.0;
        crate::metrics::get()
            .first_response_seconds
            .observe(seconds);
    }
    Ok(())
}

impl<L: super::Ledger + TicketLedger> super::Desk<L> {
    /// The ticket an agent asks a transcript of, with its latest closing (`None` before it
    /// first closed).
    pub async fn transcript_of(
        &self,
        actor: &Actor,
        target: Target,
    ) -> Done<(Ticket, Option<i64>)> {
        transcript_of(self.ledger(), actor, target).await
    }

    /// A message in a thread: when the thread is a ticket's that is not closed, [`seen`] by its
    /// author. Whether it was.
    pub async fn message_in_thread(
        &self,
        thread: u64,
        author: u64,
        at_ms: i64,
    ) -> Result<bool, super::StoreError> {
        match self.ledger().ticket_by_thread(thread).await? {
            Some(ticket) if ticket.state != TicketState::Closed => {
                seen(self.ledger(), &ticket, author, at_ms).await?;
                Ok(true)
            }
            _ => Ok(false),
        }
    }
}

/// A ticket's tags after an agent adds or removes one: tags are lowercase words joined by
/// `-` (a comma would split the stored list), kept once each.
pub fn retag(tags: &[String], typed: &str, remove: bool) -> Vec<String> {
    let tag = typed
        .trim()
        .to_lowercase()
        .replace(',', " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("-");
    let mut tags = tags.to_vec();
    if remove {
        tags.retain(|t| *t != tag);
    } else if !tag.is_empty() && !tags.contains(&tag) {
        tags.push(tag);
    }
    tags
}

/// Where each waiting ticket stands: `waiting` as [`TicketLedger::waiting`] orders it (server,
/// then queue order), with the place of each in its server's queue, from 1.
pub fn positions(waiting: Vec<Ticket>) -> Vec<(Ticket, i64)> {
    let mut place = 0;
    let mut guild = None;
    waiting
        .into_iter()
        .map(|t| {
            if guild != Some(t.guild_id) {
                guild = Some(t.guild_id);
                place = 0;
            }
            place += 1;
            (t, place)
        })
        .collect()
}

/// The expected wait at `position`, from when recent claims happened (newest first): the
/// median time between claims, times the place in the queue. `None` until there are a few
/// claims to go by, rather than a made-up figure.
pub fn expected_wait_ms(recent_claims: &[i64], position: i64) -> Option<i64> {
    if recent_claims.len() < 3 {
        return None;
    }
    let mut gaps: Vec<i64> = recent_claims
        .windows(2)
        .map(|w| (w[0] - w[1]).abs())
        .collect();
    gaps.sort_unstable();
    Some(gaps[gaps.len() / 2] * position.max(1))
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
            subject: String::new(),
            tags: vec![],
            lang: "en".into(),
            due_at_ms: None,
            escalation_id: None,
            status_message_id: None,
            shown_position: None,
            customer_seen_at_ms: None,
            staff_seen_at_ms: None,
            warned_at_ms: None,
            closings: 0,
            wrapped_up: false,
            rating: None,
            rating_comment: None,
        }
    }

    #[test]
    fn tags_are_lowercase_words_kept_once() {
        let tags = retag(&[], " Late Parcel, again ", false);
        assert_eq!(tags, ["late-parcel-again"]);
        assert_eq!(
            retag(&tags, "late parcel again", false),
            tags,
            "no second copy"
        );
        assert_eq!(
            retag(&tags, "LATE-PARCEL-AGAIN", true),
            Vec::<String>::new()
        );
        assert_eq!(
            retag(&tags, "   ", false),
            tags,
            "nothing typed, nothing added"
        );
    }

    #[test]
    fn queue_places_count_per_server() {
        let t = |id, guild_id| Ticket {
            id,
            guild_id,
            ..ticket()
        };
        let places: Vec<(i64, i64)> =
            positions(vec![t(1, 10), t(2, 10), t(3, 11), t(4, 12), t(5, 12)])
                .into_iter()
                .map(|(t, p)| (t.id, p))
                .collect();
        assert_eq!(places, [(1, 1), (2, 2), (3, 1), (4, 1), (5, 2)]);
    }

    #[test]
    fn the_expected_wait_follows_the_pace_of_recent_claims() {
        // Too few claims to say anything honest.
        assert_eq!(expected_wait_ms(&[10_000, 5_000], 1), None);
        // Claims 2, 3 and 10 minutes apart: the median gap is 3 minutes per place.
        let claims = [900_000, 780_000, 600_000, 0];
        assert_eq!(expected_wait_ms(&claims, 1), Some(180_000));
        assert_eq!(expected_wait_ms(&claims, 4), Some(720_000));
    }

    #[test]
    fn customers_close_their_own_tickets_but_not_others() {
        let t = ticket();
        assert_eq!(may_close(&actor(100, 10, false), &t), Ok(()));
        assert_eq!(
            may_close(&actor(101, 10, false), &t),
            Err(Refusal::NotAnAgent)
        );
        assert_eq!(
            may_close(&actor(100, 11, false), &t),
            Err(Refusal::OtherServer)
        );
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
#[trait_variant::make(Send)]
pub trait TicketLedger: Send + Sync + 'static {
    /// Store a new ticket in state `Open` with the server's next number.
    async fn open_ticket(&self, ticket: &NewTicket) -> Result<Ticket, super::StoreError>;
    async fn ticket(&self, id: i64) -> Result<Option<Ticket>, super::StoreError>;
    /// The ticket worked in this thread.
    async fn ticket_by_thread(&self, thread_id: u64) -> Result<Option<Ticket>, super::StoreError>;
    /// The server's ticket with this number.
    async fn ticket_by_number(
        &self,
        guild_id: u64,
        number: i64,
    ) -> Result<Option<Ticket>, super::StoreError>;
    /// The customer's most recently closed ticket on the server.
    async fn last_closed_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<Ticket>, super::StoreError>;
    /// A customer's tickets that are not closed, oldest first.
    async fn open_tickets_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Vec<Ticket>, super::StoreError>;
    /// Tickets a stopped process left half-opened: not closed or claimed, and without their
    /// thread or their card in the agents' channel. Oldest first.
    async fn unfinished_tickets(&self) -> Result<Vec<Ticket>, super::StoreError>;
    /// How many waiting tickets of the server come before this one in the queue: higher
    /// priority first, then first come, first served.
    async fn waiting_ahead(&self, ticket: &Ticket) -> Result<i64, super::StoreError>;
    /// Remember the ticket's thread and its card in the agents' channel, once they exist.
    async fn attach(
        &self,
        id: i64,
        thread_id: Option<u64>,
        queue_card_id: Option<u64>,
    ) -> Result<(), super::StoreError>;
    /// Apply an update (and log it, for those worth logging); `None` when there is no such
    /// ticket.
    async fn update(
        &self,
        id: i64,
        actor_id: u64,
        at_ms: i64,
        update: &Update,
    ) -> Result<Option<Ticket>, super::StoreError>;
    /// Every waiting ticket, by server and then in queue order (higher priority first, then
    /// first come, first served).
    async fn waiting(&self) -> Result<Vec<Ticket>, super::StoreError>;
    /// Waiting tickets past their first-response deadline at `now` and not escalated yet.
    async fn overdue(&self, now_ms: i64) -> Result<Vec<Ticket>, super::StoreError>;
    /// Claimed tickets whose customer has not written since staff last did, before `before_ms`,
    /// and who have not been warned yet.
    async fn quiet_since(&self, before_ms: i64) -> Result<Vec<Ticket>, super::StoreError>;
    /// Claimed tickets whose customer was warned before `before_ms` and stayed silent.
    async fn warned_before(&self, before_ms: i64) -> Result<Vec<Ticket>, super::StoreError>;
    /// Closed tickets whose closing was not wrapped up (a stopped process), oldest first.
    async fn unwrapped(&self) -> Result<Vec<Ticket>, super::StoreError>;
    /// When the server's latest claims happened, newest first, at most `limit`.
    async fn recent_claims(&self, guild_id: u64, limit: i64)
    -> Result<Vec<i64>, super::StoreError>;
    /// When the customer last opened a ticket on the server.
    async fn latest_opened(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<i64>, super::StoreError>;
    /// The server's tickets that are not closed (each holds an active thread).
    async fn open_count(&self, guild_id: u64) -> Result<i64, super::StoreError>;
    /// Stop a member from opening tickets (again: the reason is replaced).
    async fn block(
        &self,
        guild_id: u64,
        user_id: u64,
        by: u64,
        reason: &str,
        at_ms: i64,
    ) -> Result<(), super::StoreError>;
    /// Let them again; whether they were blocked.
    async fn unblock(&self, guild_id: u64, user_id: u64) -> Result<bool, super::StoreError>;
    /// Why the member is blocked, if they are.
    async fn blocked(
        &self,
        guild_id: u64,
        user_id: u64,
    ) -> Result<Option<String>, super::StoreError>;
    /// Keep a closing's transcript (again for the same closing: the first one stays).
    async fn save_transcript(
        &self,
        ticket_id: i64,
        closing: i64,
        markdown: &str,
        html: &str,
        at_ms: i64,
    ) -> Result<(), super::StoreError>;
    /// A closing's transcript: (Markdown, HTML).
    async fn transcript(
        &self,
        ticket_id: i64,
        closing: i64,
    ) -> Result<Option<(String, String)>, super::StoreError>;
    /// Move a ticket from one of `from` to `to`, recording who did it; `None` when the ticket
    /// was not in one of `from` (someone else got there first).
    async fn move_ticket(
        &self,
        id: i64,
        from: &[TicketState],
        change: &Change,
    ) -> Result<Option<Ticket>, super::StoreError>;
}

/// A state change, with what it sets besides the state.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// What the event log calls it: `claimed`, `released`, `transferred`, `closed`...
    pub kind: &'static str,
    pub to: TicketState,
    pub actor_id: u64,
    pub at_ms: i64,
    /// For `Claimed`: the agent. `None` clears it (a release).
    pub agent_id: Option<u64>,
    /// For `Closed`: why.
    pub reason: Option<String>,
}

impl Change {
    pub fn new(kind: &'static str, to: TicketState, actor_id: u64, at_ms: i64) -> Change {
        Change {
            kind,
            to,
            actor_id,
            at_ms,
            agent_id: None,
            reason: None,
        }
    }
}

/// A change to a ticket that is not a move between states. Those staff make are kept in the
/// ticket's event log; the bookkeeping ones (`seen`, messages posted) are not.
#[derive(Clone, Debug, PartialEq)]
pub enum Update {
    /// A new priority, and the first-response deadline it gives.
    Priority {
        priority: Priority,
        due_at_ms: Option<i64>,
    },
    /// A new first-response deadline (a reopened ticket waits again).
    Due(Option<i64>),
    /// The whole set of tags after adding or removing one.
    Tags(Vec<String>),
    /// A note for agents only.
    Note(String),
    /// A colleague added to the thread.
    Added(u64),
    /// A message from the customer: clears an inactivity warning.
    CustomerSeen,
    /// A message from staff: the first one is the first response.
    StaffSeen,
    /// The inactivity warning was posted.
    Warned,
    /// The escalation message was posted.
    Escalated {
        message_id: u64,
    },
    /// The customer's queue message shows this place.
    StatusMessage {
        message_id: u64,
        position: i64,
    },
    /// The closing's notice, card, transcript and archive are done.
    WrappedUp,
    Rating {
        stars: u8,
        comment: Option<String>,
    },
}

impl Update {
    /// The event-log kind, for the updates worth remembering.
    pub fn event(&self) -> Option<&'static str> {
        Some(match self {
            Update::Priority { .. } => "priority",
            Update::Tags(_) => "tags",
            Update::Note(_) => "note",
            Update::Added(_) => "added",
            Update::Warned => "warned",
            Update::Escalated { .. } => "escalated",
            Update::Rating { .. } => "rated",
            Update::Due(_)
            | Update::CustomerSeen
            | Update::StaffSeen
            | Update::StatusMessage { .. }
            | Update::WrappedUp => return None,
        })
    }
}
