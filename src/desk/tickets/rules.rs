//! The ticket rules as ledger operations: open or find, queue, claim, release, transfer,
//! close, reopen, update, rate; each checks who may, and in which state, and the database
//! decides races.

use super::*;
use crate::desk::StoreError;

type Done<T> = Result<Result<T, NotDone>, StoreError>;

/// Open a ticket for a customer, within the limits: a blocked member is refused; one who has as
/// many open as allowed is pointed to their latest (so pressing twice gives one ticket); one who
/// opened a ticket moments ago waits out the cooldown; a server near Discord's thread cap is
/// told so.
pub async fn open_or_find<L: TicketLedger>(
    ledger: &L,
    new: &NewTicket,
    limits: &Limits,
) -> Result<Result<Opened, Refusal>, StoreError> {
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
) -> Result<Option<Ticket>, StoreError> {
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
) -> Result<(), StoreError> {
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

impl<L: crate::desk::Ledger + TicketLedger> crate::desk::Desk<L> {
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
    ) -> Result<bool, StoreError> {
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
async fn wrong_state<L: TicketLedger>(ledger: &L, ticket: &Ticket) -> Result<NotDone, StoreError> {
    let now = ledger.ticket(ticket.id).await?;
    Ok(NotDone::Refused(Refusal::WrongState {
        number: ticket.number,
        state: now.map_or(ticket.state, |t| t.state),
    }))
}
