//! Tickets (journeys J2 and J3): a customer's request for a person, and the rules of who may do
//! what to it. Storage is through [`super::Ledger`]; claiming is decided by the database, so two
//! agents pressing Claim at once cannot both win.
//!
//! What may happen, in what order, is decided here ([`rules`]); the journeys built on the rules
//! are `desk::opening`, `desk::work`, `desk::closing` and `desk::timers`, and the adapter in
//! `discord::tickets` only translates.

use std::fmt;

mod changes;
mod ledger;
pub mod rules;

pub use changes::{Change, Update};
pub use ledger::TicketLedger;
pub use rules::*;

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

#[cfg(test)]
mod tests {
    use super::*;

    fn ticket() -> Ticket {
        Ticket {
            guild_id: 10,
            number: 7,
            customer_id: 100,
            category: "billing".into(),
            ..crate::desk::testing::ticket()
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
