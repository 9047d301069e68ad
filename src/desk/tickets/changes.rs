//! What a journey changes on a ticket: a move to another state ([`Change`]) or an update of
//! what it holds ([`Update`]), each one ledger write.

use super::*;

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
