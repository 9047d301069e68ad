//! What the desk's tests share: a desk on a fresh in-memory SQLite database with a server set
//! up, the people in it, and a ticket opened through the recording port.

use super::Desk;
use super::GuildSettings;
use super::cooldown::Cooldown;
use super::opening::{OpenTicket, Opening};
use super::port::recording::{Answer, Recording};
use super::tickets::{Actor, BEACON, Priority, Ticket, TicketLedger, TicketState, Update};
use super::workflow::TicketsConfig;
use crate::kb::faq::Faq;
use crate::kb::intents::KnowledgeBase;
use crate::kb::matcher::Thresholds;
use crate::store::Store;

pub const GUILD: u64 = 1;
pub const TICKETS: u64 = 10;
pub const AGENTS: u64 = 20;
pub const AGENT_ROLE: u64 = 30;
pub const CUSTOMER: u64 = 40;
pub const AGENT: u64 = 41;
pub const THREAD: u64 = 500;
pub const CARD: u64 = 600;
/// The customer's status message in the thread (their place in the queue).
pub const STATUS: u64 = 700;

/// A desk on a fresh in-memory SQLite database, with nothing set up; `tickets` is the
/// `[tickets]` configuration, in TOML.
pub async fn empty_desk(tickets: &str) -> Desk<Store> {
    let store = Store::connect("sqlite::memory:").await.unwrap();
    store.migrate().await.unwrap();
    let faq = Faq::new(KnowledgeBase { intents: vec![] }, Thresholds::default());
    let tickets: TicketsConfig = toml::from_str(tickets).unwrap();
    Desk::new(
        store,
        faq,
        Cooldown::new(100, std::time::Duration::from_secs(30)),
        tickets,
    )
}

/// The server's settings changed by `change`.
pub async fn set_up(desk: &Desk<Store>, change: impl FnOnce(&mut GuildSettings)) {
    let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
    change(&mut settings);
    desk.save_settings(settings).await.unwrap();
}

/// A desk with the tickets and agents channels and the agent role set up.
pub async fn desk(tickets: &str) -> Desk<Store> {
    let desk = empty_desk(tickets).await;
    set_up(&desk, |s| {
        s.tickets_channel = Some(TICKETS);
        s.agents_channel = Some(AGENTS);
        s.agent_role = Some(AGENT_ROLE);
    })
    .await;
    desk
}

/// The customer asks for a ticket, in English.
pub fn ask(text: &str) -> OpenTicket<'_> {
    OpenTicket {
        guild: GUILD,
        customer: CUSTOMER,
        text: Some(text),
        lang: "en",
        ..OpenTicket::default()
    }
}

/// The calls a ticket's opening makes, each answering as Discord would.
pub fn opens() -> Recording {
    Recording::new()
        .then("open_private_thread", Answer::Id(THREAD))
        .then("add_to_thread", Answer::Nothing)
        .then("post", Answer::Id(STATUS + 1))
        .then("post", Answer::Id(CARD))
}

pub fn actor(user_id: u64, is_agent: bool) -> Actor {
    Actor {
        user_id,
        guild_id: GUILD,
        is_agent,
        is_moderator: false,
    }
}

/// A waiting ticket the customer opened: its thread, its card, and its status message
/// showing first place.
pub async fn open(desk: &Desk<Store>, text: &str) -> Ticket {
    let Opening::Opened { ticket, .. } = desk.open_ticket(&opens(), ask(text)).await.unwrap()
    else {
        panic!("not opened")
    };
    let shown = Update::StatusMessage {
        message_id: STATUS,
        position: 1,
    };
    desk.ledger()
        .update(ticket.id, BEACON, ticket.opened_at_ms, &shown)
        .await
        .unwrap()
        .unwrap()
}

/// A ticket as stored, waiting, with nothing happened to it yet (for tests of pure rules).
pub fn ticket() -> Ticket {
    Ticket {
        id: 1,
        guild_id: GUILD,
        number: 1,
        customer_id: CUSTOMER,
        category: "general".into(),
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
