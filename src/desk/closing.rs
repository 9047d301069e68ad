//! Closing a ticket (journey J3): by an agent with a reason, by the customer confirming an
//! agent's request, or by the inactivity timer. Every closing is wrapped up the same way, once:
//! the 1-5 rating and Reopen go to the customer by direct message, the thread gets a close
//! notice, the card is updated, a transcript (Markdown and HTML) goes to the transcripts
//! channel, and the thread is archived and locked. A closed ticket can be reopened within the
//! configured window, from the direct message, or with `/reopen` anywhere in the server.
//!
//! Why a direct message: in a locked, archived thread Discord's client lets nobody without
//! Manage Threads press a component or run a command (Threads docs, "Locked Threads";
//! discord-api-docs issues 7900 and 8474), so a survey there could never be answered. When
//! the customer's DMs are closed (50007), the survey goes in the thread instead and the thread
//! is archived without being locked: a member of the thread may reopen an unlocked one, which
//! the client does before sending a press.
//!
//! A wrap-up is safe to repeat, and is marked done only at its end, so a restart repeats
//! exactly what was not finished: the survey, the notice and the transcript's post carry nonces
//! of this closing (Discord answers a repeated nonce with the first message), the card line is
//! not added twice, the first transcript of a closing is the one kept, and archiving twice is
//! harmless.

use super::port::{Button, Dm, File, Port, Post, ThreadMessage, ThreadState};
use super::tickets::{
    self, Actor, BEACON, NotDone, Refusal, Target, Ticket, TicketLedger, TicketState, Update,
};
use super::transcript::{self, Attachment, Header, Line, Role};
use super::work::mention;
use super::{Desk, Ledger, StoreError, fit, now_ms};

/// The most messages a transcript holds (the thread's latest ones, if it has more).
pub const MAX_TRANSCRIPT_MESSAGES: usize = 5_000;

/// Who pressed a ticket's button or sent its form: in the server, a member as their roles make
/// them; in a direct message (the survey), only who they are, on the ticket's server, since
/// DMs carry no server or roles.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pressed {
    pub actor: Actor,
    pub in_dm: bool,
}

impl Pressed {
    pub fn in_server(actor: Actor) -> Pressed {
        Pressed {
            actor,
            in_dm: false,
        }
    }
}

impl std::ops::Deref for Pressed {
    type Target = Actor;
    fn deref(&self) -> &Actor {
        &self.actor
    }
}

/// Staff close a ticket with a reason (`/close reason:`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CloseTicket {
    pub actor: Actor,
    pub target: Target,
    pub reason: String,
}

/// Which ticket to reopen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WhichTicket {
    /// The one a Reopen button names.
    Pressed(i64),
    /// `/reopen [number:]` run in channel `here`: the ticket with that number, else this
    /// thread's ticket, else the member's own most recently closed one.
    Command { number: Option<i64>, here: u64 },
}

/// Someone reopens a closed ticket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReopenTicket {
    pub by: Pressed,
    pub ticket: WhichTicket,
}

/// What came of a step of the closing journey.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// Done: the ticket as the step left it (boxed: it is much bigger than the other answers).
    Done(Box<Ticket>),
    /// Not done, and why.
    NotDone(NotDone),
    /// The button's ticket is not known (any more).
    Expired,
}

/// What a wrap-up did.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WrappedUp {
    /// The survey went by direct message; `false` when the customer's DMs are closed and it
    /// went in the thread.
    pub survey_by_dm: bool,
}

impl<L: Ledger + TicketLedger> Desk<L> {
    /// Who pressed a button of `ticket` in a direct message: the member, on the ticket's
    /// server, with no roles. `None` when the ticket is unknown.
    pub async fn pressed_in_dm(
        &self,
        user: u64,
        ticket: i64,
    ) -> Result<Option<Pressed>, StoreError> {
        Ok(self.ledger().ticket(ticket).await?.map(|t| Pressed {
            actor: Actor {
                user_id: user,
                guild_id: t.guild_id,
                is_agent: false,
                is_moderator: false,
            },
            in_dm: true,
        }))
    }

    /// Staff close a ticket and wrap it up. Customers close their own from the confirmation
    /// buttons ([`Desk::confirm_close`]); the command is staff's.
    pub async fn close_ticket(&self, port: &dyn Port, req: CloseTicket) -> anyhow::Result<Outcome> {
        if !(req.actor.is_agent || req.actor.is_moderator) {
            return Ok(Outcome::NotDone(Refusal::NotAnAgent.into()));
        }
        self.close_and_wrap(port, &req.actor, req.target, &req.reason)
            .await
    }

    /// The customer confirms an agent's request to close: closed, with their words as the
    /// reason. Only the ticket's customer may.
    pub async fn confirm_close(
        &self,
        port: &dyn Port,
        by: Pressed,
        ticket: i64,
    ) -> anyhow::Result<Outcome> {
        let t = match self.customers_ticket(&by, ticket).await? {
            Ok(t) => t,
            Err(outcome) => return Ok(outcome),
        };
        let reason = self.locales.get(&t.lang, "ticket.solved_reason");
        self.close_and_wrap(port, &by.actor, Target::Id(ticket), reason)
            .await
    }

    /// The customer still needs help: the ticket stays open, and its agent hears so in the
    /// thread.
    pub async fn keep_open(
        &self,
        port: &dyn Port,
        by: Pressed,
        ticket: i64,
    ) -> anyhow::Result<Outcome> {
        let t = match self.customers_ticket(&by, ticket).await? {
            Ok(t) => t,
            Err(outcome) => return Ok(outcome),
        };
        self.ledger()
            .update(t.id, by.user_id, now_ms(), &Update::CustomerSeen)
            .await?;
        if let Some(thread) = t.thread_id {
            let agent = t.agent_id.map(mention).unwrap_or_default();
            let text = format!("{agent} {}", self.locales.get(&t.lang, "ticket.still_open"));
            port.post(thread, &Post::text(text)).await?;
        }
        Ok(Outcome::Done(Box::new(t)))
    }

    /// The ticket a customer's button names, or what to answer instead: expired when it is
    /// unknown, refused to anyone but its customer.
    async fn customers_ticket(
        &self,
        by: &Pressed,
        ticket: i64,
    ) -> Result<Result<Ticket, Outcome>, StoreError> {
        let Some(t) = self.ledger().ticket(ticket).await? else {
            return Ok(Err(Outcome::Expired));
        };
        if t.customer_id != by.user_id {
            return Ok(Err(Outcome::NotDone(Refusal::NotTheCustomer.into())));
        }
        Ok(Ok(t))
    }

    /// Close, and wrap up the closing in the name of whoever closed it.
    async fn close_and_wrap(
        &self,
        port: &dyn Port,
        actor: &Actor,
        target: Target,
        reason: &str,
    ) -> anyhow::Result<Outcome> {
        let ticket = match tickets::close(self.ledger(), actor, target, reason, now_ms()).await? {
            Ok(t) => t,
            Err(not_done) => return Ok(Outcome::NotDone(not_done)),
        };
        self.wrap_up(port, &ticket, &mention(actor.user_id)).await?;
        Ok(Outcome::Done(Box::new(ticket)))
    }

    /// Reopen a closed ticket within the configured window: back to the queue with a fresh
    /// first-response target from now (the customer is waiting again), the thread unarchived
    /// and unlocked, the thread and the card told.
    pub async fn reopen_ticket(
        &self,
        port: &dyn Port,
        req: ReopenTicket,
    ) -> anyhow::Result<Outcome> {
        let by = req.by;
        let target = match req.ticket {
            WhichTicket::Pressed(id) => Target::Id(id),
            WhichTicket::Command {
                number: Some(n), ..
            } => Target::Number(n),
            WhichTicket::Command { number: None, here } => {
                if self.ledger().ticket_by_thread(here).await?.is_some() {
                    Target::Thread(here)
                } else {
                    Target::LastClosed
                }
            }
        };
        let window = i64::from(self.tickets.reopen_hours) * 3_600_000;
        let now = now_ms();
        let ticket = match tickets::reopen(self.ledger(), &by, target, window, now).await? {
            Ok(t) => t,
            Err(not_done) => return Ok(Outcome::NotDone(not_done)),
        };
        let settings = self.settings(ticket.guild_id).await?;
        let due = self.tickets.targets.due_ms(&settings, now, ticket.priority);
        let ticket = self
            .ledger()
            .update(ticket.id, by.user_id, now, &Update::Due(Some(due)))
            .await?
            .unwrap_or(ticket);
        let who = mention(by.user_id);
        if let Some(thread) = ticket.thread_id {
            let open = ThreadState {
                archived: false,
                locked: Some(false),
            };
            port.set_thread(thread, open).await?;
            let text = self
                .locales
                .fill(&ticket.lang, "ticket.reopened", &[("who", &who)]);
            port.post(thread, &Post::text(text)).await?;
        }
        self.annotate_card(port, &ticket, &format!("Reopened by {who}; waiting again."))
            .await?;
        Ok(Outcome::Done(Box::new(ticket)))
    }

    /// The customer rates a closed ticket, 1 to 5: at once with a star, then again with the
    /// comment the form offers (an empty comment is none). Only the ticket's customer may.
    pub async fn rate(
        &self,
        by: &Pressed,
        ticket: i64,
        stars: u8,
        comment: Option<String>,
    ) -> Result<Outcome, StoreError> {
        let comment = comment.filter(|t| !t.trim().is_empty());
        let rated = tickets::rate(
            self.ledger(),
            by,
            Target::Id(ticket),
            stars,
            comment,
            now_ms(),
        )
        .await?;
        Ok(match rated {
            Ok(t) => Outcome::Done(Box::new(t)),
            Err(not_done) => Outcome::NotDone(not_done),
        })
    }

    /// After the customer answered the survey in the ticket's own thread (their DMs were
    /// closed), archive the thread again: pressing there had reopened it. Nothing to do
    /// anywhere else (a DM). Whether it archived.
    pub async fn archive_again(
        &self,
        port: &dyn Port,
        ticket: i64,
        channel: u64,
    ) -> anyhow::Result<bool> {
        let Some(t) = self.ledger().ticket(ticket).await? else {
            return Ok(false);
        };
        if t.thread_id != Some(channel) || t.state != TicketState::Closed {
            return Ok(false);
        }
        let archive = ThreadState {
            archived: true,
            locked: None,
        };
        port.set_thread(channel, archive).await?;
        Ok(true)
    }

    /// Everything a closing does after the state change, each step safe to repeat (see the
    /// module's header); marked done at the end. `closer` names who closed it.
    pub async fn wrap_up(
        &self,
        port: &dyn Port,
        ticket: &Ticket,
        closer: &str,
    ) -> anyhow::Result<WrappedUp> {
        let l = self.locales;
        let lang = ticket.lang.as_str();
        let reason = ticket.close_reason.clone().unwrap_or_default();
        let nonce = |kind: char| Some(format!("{kind}{}.{}", ticket.id, ticket.closings));
        // The survey first, where the customer can answer it: by direct message.
        let by_dm = self.send_survey(port, ticket, &reason).await?;
        if let Some(thread) = ticket.thread_id {
            let mut text = l.fill(
                lang,
                "ticket.closed_notice",
                &[("agent", &closer), ("reason", &reason)],
            );
            text.push('\n');
            let buttons = if by_dm {
                text.push_str(l.get(lang, "ticket.survey_sent"));
                vec![]
            } else {
                text.push_str(l.get(lang, "ticket.rate_ask"));
                self.survey_buttons(ticket)
            };
            let notice = Post {
                text,
                nonce: nonce('n'),
                buttons,
                ..Post::default()
            };
            port.post(thread, &notice).await?;
            self.show_status(port, ticket, &format!("#{} · {reason}", ticket.number))
                .await?;
        }
        let line = l.fill(
            "en",
            "ticket.closed_by",
            &[("agent", &closer), ("reason", &reason)],
        );
        self.annotate_card(port, ticket, &line).await?;
        // The transcript is kept (the first version of this closing stays, so a restart that
        // reads the thread again, with the close notice in it, changes nothing) and posted.
        let ledger = self.ledger();
        let kept = match ledger.transcript(ticket.id, ticket.closings).await? {
            Some(kept) => Some(kept),
            None => match ticket.thread_id {
                Some(thread) => {
                    let messages = port
                        .thread_messages(thread, MAX_TRANSCRIPT_MESSAGES)
                        .await?;
                    let (header, lines) = transcript_of(ticket, &messages);
                    let md = transcript::markdown(&header, &lines);
                    let html = transcript::html(&header, &lines);
                    ledger
                        .save_transcript(ticket.id, ticket.closings, &md, &html, now_ms())
                        .await?;
                    Some((md, html))
                }
                None => None,
            },
        };
        let settings = self.settings(ticket.guild_id).await?;
        if let (Some(channel), Some((md, html))) = (settings.transcripts_channel, kept) {
            let (md_name, html_name) = transcript::file_names(ticket.number);
            let post = Post {
                text: format!(
                    "Transcript of ticket #{} ({}) · closed by {closer}: {reason}",
                    ticket.number, ticket.category,
                ),
                nonce: nonce('x'),
                ..Post::default()
            };
            let files = [
                File {
                    name: md_name,
                    bytes: md.into_bytes(),
                },
                File {
                    name: html_name,
                    bytes: html.into_bytes(),
                },
            ];
            port.post_files(channel, &post, &files).await?;
        }
        // Archived, so Discord's active-thread cap does not count it, and locked, so nobody
        // writes in it by mistake, unless the survey had to stay in the thread: then unlocked,
        // so the customer can still press it (pressing reopens an unlocked thread for its
        // members).
        if let Some(thread) = ticket.thread_id {
            let archive = ThreadState {
                archived: true,
                locked: Some(by_dm),
            };
            port.set_thread(thread, archive).await?;
        }
        ledger
            .update(ticket.id, BEACON, now_ms(), &Update::WrappedUp)
            .await?;
        Ok(WrappedUp {
            survey_by_dm: by_dm,
        })
    }

    /// At start: wrap up the closings a stopped process left unfinished, each in the name of
    /// the ticket's agent (or Beacon's). What each came to, in order.
    pub async fn wrap_unwrapped(
        &self,
        port: &dyn Port,
    ) -> Result<Vec<(Ticket, anyhow::Result<WrappedUp>)>, StoreError> {
        let mut done = Vec::new();
        for ticket in self.ledger().unwrapped().await? {
            let closer = ticket
                .agent_id
                .map(mention)
                .unwrap_or_else(|| "Beacon".into());
            let wrapped = self.wrap_up(port, &ticket, &closer).await;
            done.push((ticket, wrapped));
        }
        Ok(done)
    }

    /// The 1-5 stars and Reopen, under a survey.
    fn survey_buttons(&self, ticket: &Ticket) -> Vec<Button> {
        let mut buttons: Vec<Button> = (1..=5u8).map(|s| Button::Rate(ticket.id, s)).collect();
        buttons.push(Button::Reopen {
            ticket: ticket.id,
            label: self.locales.get(&ticket.lang, "ticket.reopen"),
        });
        buttons
    }

    /// Send the customer the closing survey by direct message: what the ticket was, who helped,
    /// the stars and Reopen. `false` when Discord refuses it (their DMs are closed to this
    /// server's members, or they left it); other failures are errors, retried with the
    /// wrap-up.
    async fn send_survey(
        &self,
        port: &dyn Port,
        ticket: &Ticket,
        reason: &str,
    ) -> anyhow::Result<bool> {
        let l = self.locales;
        let lang = ticket.lang.as_str();
        let server = self
            .ledger()
            .server_name(ticket.guild_id)
            .await?
            .unwrap_or_else(|| ticket.guild_id.to_string());
        // A mention in a DM shows a name only if the client happens to know the member: the
        // name itself is sure to show.
        let helper = match ticket.agent_id {
            Some(agent) => match port.user_name(agent).await {
                Ok(name) => name,
                Err(_) => mention(agent),
            },
            None => l.get(lang, "ticket.team").to_string(),
        };
        let subject = if ticket.subject.trim().is_empty() {
            ticket.category.clone()
        } else {
            ticket.subject.clone()
        };
        let mut text = l.fill(
            lang,
            "ticket.survey",
            &[
                ("number", &ticket.number),
                ("server", &server),
                ("reason", &reason),
                ("subject", &fit(&subject, 300)),
                ("agent", &helper),
            ],
        );
        text.push('\n');
        text.push_str(l.get(lang, "ticket.rate_ask"));
        let survey = Post {
            text,
            nonce: Some(format!("v{}.{}", ticket.id, ticket.closings)),
            buttons: self.survey_buttons(ticket),
            ..Post::default()
        };
        Ok(match port.send_dm(ticket.customer_id, &survey).await? {
            Dm::Sent(_) => true,
            Dm::Closed => false,
        })
    }
}

/// A transcript's header and lines from the ticket and its thread's messages (oldest first).
pub fn transcript_of(ticket: &Ticket, messages: &[ThreadMessage]) -> (Header, Vec<Line>) {
    let name_of = |id: u64| {
        messages
            .iter()
            .find(|m| m.author_id == id)
            .map(|m| m.author_name.clone())
            .unwrap_or_else(|| format!("member {id}"))
    };
    let header = Header {
        number: ticket.number,
        server: format!("server {}", ticket.guild_id),
        category: ticket.category.clone(),
        priority: ticket.priority.name().to_string(),
        tags: ticket.tags.clone(),
        customer: name_of(ticket.customer_id),
        agent: ticket.agent_id.map(name_of),
        opened_at_ms: ticket.opened_at_ms,
        closed_at_ms: ticket.closed_at_ms,
        close_reason: ticket.close_reason.clone(),
        rating: ticket.rating,
    };
    let lines = messages
        .iter()
        .map(|m| Line {
            author: m.author_name.clone(),
            role: if m.author_is_bot {
                Role::Bot
            } else if m.author_id == ticket.customer_id {
                Role::Customer
            } else {
                Role::Staff
            },
            at_ms: m.at_ms,
            text: m.text.clone(),
            attachments: m
                .attachments
                .iter()
                .map(|(name, url)| Attachment {
                    name: name.clone(),
                    url: url.clone(),
                })
                .collect(),
        })
        .collect();
    (header, lines)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::opening::{OpenTicket, Opening};
    use crate::desk::port::Edit;
    use crate::desk::port::recording::{Answer, Call, Recording};
    use crate::desk::testing::{self, AGENT, AGENTS, CARD, CUSTOMER, GUILD, THREAD, set_up};
    use crate::store::Store;

    const TRANSCRIPTS: u64 = 25;
    const CARD_TEXT: &str = "**Ticket #1** the card";

    /// A desk on a fresh in-memory SQLite database, with the tickets, agents and transcripts
    /// channels and the agent role set up, on a server Beacon knows as "Acme".
    async fn desk() -> Desk<Store> {
        let desk = testing::desk("").await;
        desk.ledger()
            .remember_guild_name(GUILD, "Acme")
            .await
            .unwrap();
        set_up(&desk, |s| s.transcripts_channel = Some(TRANSCRIPTS)).await;
        desk
    }

    fn agent() -> Actor {
        Actor {
            user_id: AGENT,
            guild_id: GUILD,
            is_agent: true,
            is_moderator: false,
        }
    }

    fn customer() -> Pressed {
        Pressed::in_server(Actor {
            user_id: CUSTOMER,
            guild_id: GUILD,
            is_agent: false,
            is_moderator: false,
        })
    }

    /// A ticket in the queue, with its thread and card.
    async fn waiting(desk: &Desk<Store>) -> Ticket {
        let port = Recording::new()
            .then("open_private_thread", Answer::Id(THREAD))
            .then("add_to_thread", Answer::Nothing)
            .then("post", Answer::Id(700))
            .then("post", Answer::Id(CARD));
        let ask = OpenTicket {
            guild: GUILD,
            customer: CUSTOMER,
            text: Some("the app crashes"),
            lang: "en",
            ..OpenTicket::default()
        };
        let id = match desk.open_ticket(&port, ask).await.unwrap() {
            Opening::Opened { ticket, .. } => ticket.id,
            other => panic!("not opened: {other:?}"),
        };
        // As stored, with its card.
        desk.ledger().ticket(id).await.unwrap().unwrap()
    }

    /// A ticket the agent has claimed.
    async fn claimed(desk: &Desk<Store>) -> Ticket {
        let ticket = waiting(desk).await;
        tickets::claim(desk.ledger(), &agent(), Target::Id(ticket.id), now_ms())
            .await
            .unwrap()
            .unwrap()
    }

    /// The conversation in the thread, as Discord gives it back.
    fn conversation() -> Vec<ThreadMessage> {
        vec![
            ThreadMessage {
                id: 1,
                author_id: CUSTOMER,
                author_name: "Cleo".into(),
                text: "it still crashes".into(),
                at_ms: 1_000,
                ..ThreadMessage::default()
            },
            ThreadMessage {
                id: 2,
                author_id: AGENT,
                author_name: "Ana".into(),
                text: "please reinstall version 2.1".into(),
                attachments: vec![("steps.png".into(), "https://cdn/steps.png".into())],
                at_ms: 2_000,
                ..ThreadMessage::default()
            },
            ThreadMessage {
                id: 3,
                author_id: 99,
                author_name: "Beacon".into(),
                author_is_bot: true,
                text: "Ana has your ticket".into(),
                at_ms: 3_000,
                ..ThreadMessage::default()
            },
        ]
    }

    /// A whole wrap-up of a claimed ticket, the survey's DM answering `dm`.
    fn wraps(dm: Answer) -> Recording {
        Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", dm)
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(conversation()))
            .then("post_files", Answer::Id(903))
            .then("set_thread", Answer::Nothing)
    }

    fn closing(reason: &str) -> CloseTicket {
        CloseTicket {
            actor: agent(),
            target: Target::Thread(THREAD),
            reason: reason.into(),
        }
    }

    /// A claimed ticket the agent closed, wrapped up.
    async fn closed(desk: &Desk<Store>) -> Ticket {
        let ticket = claimed(desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        desk.ledger().ticket(ticket.id).await.unwrap().unwrap()
    }

    fn done(outcome: Outcome) -> Ticket {
        match outcome {
            Outcome::Done(t) => *t,
            other => panic!("not done: {other:?}"),
        }
    }

    fn dms(port: &Recording) -> Vec<(u64, Post)> {
        port.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::SendDm { user, post } => Some((user, post)),
                _ => None,
            })
            .collect()
    }

    fn thread_states(port: &Recording) -> Vec<(u64, ThreadState)> {
        port.calls()
            .into_iter()
            .filter_map(|c| match c {
                Call::SetThread { thread, state } => Some((thread, state)),
                _ => None,
            })
            .collect()
    }

    fn survey_buttons(ticket: i64) -> Vec<Button> {
        let mut buttons: Vec<Button> = (1..=5).map(|s| Button::Rate(ticket, s)).collect();
        buttons.push(Button::Reopen {
            ticket,
            label: "Reopen",
        });
        buttons
    }

    #[tokio::test]
    async fn an_agent_closes_a_ticket_with_a_reason() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        let t = done(desk.close_ticket(&port, closing("fixed")).await.unwrap());
        assert_eq!(t.id, ticket.id);
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert_eq!(stored.state, TicketState::Closed);
        assert_eq!(stored.close_reason.as_deref(), Some("fixed"));
        assert!(stored.wrapped_up);
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn a_customer_cannot_close_with_the_command() {
        let desk = desk().await;
        claimed(&desk).await;
        let req = CloseTicket {
            actor: customer().actor,
            ..closing("bye")
        };
        // Any call to Discord would panic: none is planned.
        let outcome = desk.close_ticket(&Recording::new(), req).await.unwrap();
        assert_eq!(outcome, Outcome::NotDone(Refusal::NotAnAgent.into()));
    }

    #[tokio::test]
    async fn closing_a_closed_ticket_says_it_is_closed_already() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let outcome = desk
            .close_ticket(&Recording::new(), closing("again"))
            .await
            .unwrap();
        let state = TicketState::Closed;
        let refusal = Refusal::WrongState {
            number: ticket.number,
            state,
        };
        assert_eq!(outcome, Outcome::NotDone(refusal.into()));
    }

    #[tokio::test]
    async fn closing_sends_the_survey_by_direct_message() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        let dms = dms(&port);
        assert_eq!(dms.len(), 1);
        let (to, survey) = &dms[0];
        assert_eq!(*to, CUSTOMER);
        for part in [
            "**Ticket #1** on Acme is closed: fixed",
            "the app crashes",
            "Helped by: Ana",
            "Rate this ticket from 1 (bad) to 5 (great)",
        ] {
            assert!(survey.text.contains(part), "{part}: {}", survey.text);
        }
        assert_eq!(survey.buttons, survey_buttons(ticket.id));
        assert_eq!(survey.nonce, Some(format!("v{}.1", ticket.id)));
        assert!(survey.ping_roles.is_empty());
    }

    #[tokio::test]
    async fn with_the_survey_sent_the_close_notice_points_to_it_and_has_no_buttons() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        let (channel, notice) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert_eq!(
            notice.text,
            format!(
                "<@{AGENT}> closed this ticket: fixed\n{}",
                desk.locales.get("en", "ticket.survey_sent")
            )
        );
        assert!(notice.buttons.is_empty());
        assert_eq!(notice.nonce, Some(format!("n{}.1", ticket.id)));
    }

    #[tokio::test]
    async fn a_closing_archives_and_locks_the_thread() {
        let desk = desk().await;
        claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        assert_eq!(
            thread_states(&port),
            [(
                THREAD,
                ThreadState {
                    archived: true,
                    locked: Some(true)
                }
            )]
        );
        // Archiving is the last step.
        assert!(matches!(port.calls().last(), Some(Call::SetThread { .. })));
    }

    #[tokio::test]
    async fn closed_direct_messages_put_the_survey_in_the_thread_and_leave_it_unlocked() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::DmsClosed);
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        let (channel, notice) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert!(
            notice
                .text
                .ends_with(desk.locales.get("en", "ticket.rate_ask")),
            "{}",
            notice.text
        );
        assert_eq!(notice.buttons, survey_buttons(ticket.id));
        assert_eq!(
            thread_states(&port),
            [(
                THREAD,
                ThreadState {
                    archived: true,
                    locked: Some(false)
                }
            )]
        );
    }

    #[tokio::test]
    async fn the_customer_sees_the_closing_where_their_status_shows() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        // No status message yet: a new line in the thread.
        let (channel, status) = &port.posts()[1];
        assert_eq!(*channel, THREAD);
        assert_eq!(status.text, format!("#{} · fixed", ticket.number));
        assert_eq!(status.nonce, None);
    }

    #[tokio::test]
    async fn a_status_message_is_edited_in_place() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let update = Update::StatusMessage {
            message_id: 777,
            position: 1,
        };
        let ticket = desk
            .ledger()
            .update(ticket.id, BEACON, now_ms(), &update)
            .await
            .unwrap()
            .unwrap();
        let port = Recording::new().then("edit_message", Answer::Nothing);
        desk.show_status(&port, &ticket, "#1 · fixed")
            .await
            .unwrap();
        assert_eq!(
            port.edits(),
            [(
                THREAD,
                777,
                Edit {
                    text: "#1 · fixed".into(),
                    buttons: None
                }
            )]
        );
    }

    #[tokio::test]
    async fn the_card_gets_the_closing_line_and_loses_its_buttons() {
        let desk = desk().await;
        claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        let (channel, card, edit) = &port.edits()[0];
        assert_eq!((*channel, *card), (AGENTS, CARD));
        assert_eq!(
            edit.text,
            format!("{CARD_TEXT}\nClosed by <@{AGENT}>: fixed")
        );
        assert_eq!(edit.buttons, Some(vec![]));
    }

    #[tokio::test]
    async fn a_card_line_already_there_is_not_added_again() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let text = format!("{CARD_TEXT}\nClaimed by Ana.");
        let port = Recording::new()
            .then("message_text", Answer::Text(text.clone()))
            .then("edit_message", Answer::Nothing);
        desk.annotate_card(&port, &ticket, "Claimed by Ana.")
            .await
            .unwrap();
        assert_eq!(port.edits()[0].2.text, text);
    }

    #[tokio::test]
    async fn a_waiting_tickets_card_keeps_claim() {
        let desk = desk().await;
        let ticket = waiting(&desk).await;
        let port = Recording::new()
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing);
        desk.annotate_card(&port, &ticket, "Released.")
            .await
            .unwrap();
        assert_eq!(
            port.edits()[0].2.buttons,
            Some(vec![Button::Claim(ticket.id)])
        );
    }

    #[tokio::test]
    async fn the_transcript_goes_to_the_transcripts_channel_as_markdown_and_html() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        assert!(port.calls().contains(&Call::ThreadMessages {
            thread: THREAD,
            max: MAX_TRANSCRIPT_MESSAGES
        }));
        let Some(Call::PostFiles {
            channel,
            post,
            files,
        }) = port
            .calls()
            .into_iter()
            .find(|c| matches!(c, Call::PostFiles { .. }))
        else {
            panic!("no transcript posted")
        };
        assert_eq!(channel, TRANSCRIPTS);
        assert_eq!(
            post.text,
            format!("Transcript of ticket #1 (general) · closed by <@{AGENT}>: fixed")
        );
        assert_eq!(post.nonce, Some(format!("x{}.1", ticket.id)));
        let names: Vec<&str> = files.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["ticket-1.md", "ticket-1.html"]);
        let (md, html) = desk
            .ledger()
            .transcript(ticket.id, 1)
            .await
            .unwrap()
            .expect("kept");
        assert_eq!(files[0].bytes, md.as_bytes());
        assert_eq!(files[1].bytes, html.as_bytes());
        assert!(md.contains("please reinstall version 2.1"), "{md}");
    }

    #[tokio::test]
    async fn without_a_transcripts_channel_the_transcript_is_kept_and_not_posted() {
        let desk = desk().await;
        let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
        settings.transcripts_channel = None;
        desk.save_settings(settings).await.unwrap();
        let ticket = claimed(&desk).await;
        let port = Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", Answer::Id(900))
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(conversation()))
            .then("set_thread", Answer::Nothing);
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        assert!(port.all_made());
        let kept = desk.ledger().transcript(ticket.id, 1).await.unwrap();
        assert!(kept.is_some());
    }

    #[tokio::test]
    async fn a_wrap_up_stopped_midway_finishes_without_posting_twice() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let failing = Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", Answer::Id(900))
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(conversation()))
            .then("post_files", Answer::Fail("503"));
        assert!(desk.close_ticket(&failing, closing("fixed")).await.is_err());
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert!(!stored.wrapped_up);
        // The card has its line; the transcript is kept, so the thread is not read again.
        let card = failing.edits()[0].2.text.clone();
        let again = Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", Answer::Id(900))
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(card.clone()))
            .then("edit_message", Answer::Nothing)
            .then("post_files", Answer::Id(903))
            .then("set_thread", Answer::Nothing);
        let done = desk.wrap_unwrapped(&again).await.unwrap();
        assert_eq!(done.len(), 1);
        assert!(done[0].1.is_ok());
        assert!(again.all_made());
        // The same nonces: Discord answers each with the message it already has.
        let nonces = |port: &Recording| -> Vec<Option<String>> {
            let mut n: Vec<_> = dms(port).into_iter().map(|(_, p)| p.nonce).collect();
            n.extend(port.posts().into_iter().map(|(_, p)| p.nonce));
            n
        };
        assert_eq!(nonces(&again), nonces(&failing));
        assert_eq!(again.edits()[0].2.text, card, "the line is not added twice");
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert!(stored.wrapped_up);
        assert!(desk.ledger().unwrapped().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn an_unfinished_closing_is_finished_in_the_agents_name() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        // Closed by the timer, and stopped before any wrap-up.
        tickets::close(
            desk.ledger(),
            &Actor::beacon(GUILD),
            Target::Id(ticket.id),
            "inactive",
            now_ms(),
        )
        .await
        .unwrap()
        .unwrap();
        let port = wraps(Answer::Id(900));
        desk.wrap_unwrapped(&port).await.unwrap();
        let (_, notice) = &port.posts()[0];
        assert!(
            notice
                .text
                .starts_with(&format!("<@{AGENT}> closed this ticket: inactive")),
            "{}",
            notice.text
        );
    }

    #[tokio::test]
    async fn a_survey_for_a_ticket_nobody_claimed_thanks_the_team() {
        let desk = desk().await;
        waiting(&desk).await;
        // Nobody had it: no name to read.
        let port = Recording::new()
            .then("send_dm", Answer::Id(900))
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(vec![]))
            .then("post_files", Answer::Id(903))
            .then("set_thread", Answer::Nothing);
        desk.close_ticket(&port, closing("duplicate"))
            .await
            .unwrap();
        let (_, survey) = &dms(&port)[0];
        assert!(
            survey.text.contains("Helped by: the team"),
            "{}",
            survey.text
        );
    }

    #[tokio::test]
    async fn a_helper_whose_name_cannot_be_read_is_named_by_mention() {
        let desk = desk().await;
        claimed(&desk).await;
        let port = Recording::new()
            .then("user_name", Answer::Fail("404"))
            .then("send_dm", Answer::Id(900))
            .then("post", Answer::Id(901))
            .then("post", Answer::Id(902))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
            .then("thread_messages", Answer::Messages(vec![]))
            .then("post_files", Answer::Id(903))
            .then("set_thread", Answer::Nothing);
        desk.close_ticket(&port, closing("fixed")).await.unwrap();
        let (_, survey) = &dms(&port)[0];
        assert!(
            survey.text.contains(&format!("Helped by: <@{AGENT}>")),
            "{}",
            survey.text
        );
    }

    #[tokio::test]
    async fn a_direct_message_that_fails_otherwise_stops_the_wrap_up() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = Recording::new()
            .then("user_name", Answer::Text("Ana".into()))
            .then("send_dm", Answer::Fail("500"));
        assert!(desk.close_ticket(&port, closing("fixed")).await.is_err());
        // Closed, and left for the next start to wrap up.
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert_eq!(stored.state, TicketState::Closed);
        assert!(!stored.wrapped_up);
    }

    #[tokio::test]
    async fn the_customer_confirming_closes_the_ticket_with_the_solved_reason() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = wraps(Answer::Id(900));
        let t = done(
            desk.confirm_close(&port, customer(), ticket.id)
                .await
                .unwrap(),
        );
        assert_eq!(t.state, TicketState::Closed);
        let solved = desk.locales.get("en", "ticket.solved_reason");
        assert_eq!(t.close_reason.as_deref(), Some(solved));
        let (_, notice) = &port.posts()[0];
        assert!(
            notice
                .text
                .starts_with(&format!("<@{CUSTOMER}> closed this ticket: {solved}")),
            "{}",
            notice.text
        );
    }

    #[tokio::test]
    async fn only_the_customer_confirms_closing() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let outcome = desk
            .confirm_close(&Recording::new(), Pressed::in_server(agent()), ticket.id)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::NotDone(Refusal::NotTheCustomer.into()));
    }

    #[tokio::test]
    async fn a_confirmation_for_an_unknown_ticket_has_expired() {
        let desk = desk().await;
        let outcome = desk
            .confirm_close(&Recording::new(), customer(), 404)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::Expired);
    }

    #[tokio::test]
    async fn still_needing_help_tells_the_agent_in_the_thread() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let port = Recording::new().then("post", Answer::Id(901));
        done(desk.keep_open(&port, customer(), ticket.id).await.unwrap());
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert_eq!(
            post.text,
            format!("<@{AGENT}> {}", desk.locales.get("en", "ticket.still_open"))
        );
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert_eq!(stored.state, TicketState::Claimed);
        assert!(stored.customer_seen_at_ms.is_some());
    }

    #[tokio::test]
    async fn only_the_customer_says_they_still_need_help() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let outcome = desk
            .keep_open(&Recording::new(), Pressed::in_server(agent()), ticket.id)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::NotDone(Refusal::NotTheCustomer.into()));
    }

    /// What a reopening does in Discord.
    fn reopens() -> Recording {
        Recording::new()
            .then("set_thread", Answer::Nothing)
            .then("post", Answer::Id(910))
            .then("message_text", Answer::Text(CARD_TEXT.into()))
            .then("edit_message", Answer::Nothing)
    }

    #[tokio::test]
    async fn a_reopened_ticket_waits_again_in_an_unlocked_thread() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let port = reopens();
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Pressed(ticket.id),
        };
        let t = done(desk.reopen_ticket(&port, req).await.unwrap());
        assert_eq!(t.state, TicketState::Waiting);
        assert_eq!(
            thread_states(&port),
            [(
                THREAD,
                ThreadState {
                    archived: false,
                    locked: Some(false)
                }
            )]
        );
        let (channel, said) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert_eq!(
            said.text,
            format!("<@{CUSTOMER}> reopened this ticket; it is back in the queue.")
        );
        let (_, _, card) = &port.edits()[0];
        assert_eq!(
            card.text,
            format!("{CARD_TEXT}\nReopened by <@{CUSTOMER}>; waiting again.")
        );
        assert_eq!(card.buttons, Some(vec![Button::Claim(ticket.id)]));
    }

    #[tokio::test]
    async fn a_reopened_ticket_gets_a_first_response_target_from_now() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        desk.ledger()
            .update(ticket.id, BEACON, now_ms(), &Update::Due(Some(1)))
            .await
            .unwrap();
        let before = now_ms();
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Pressed(ticket.id),
        };
        let t = done(desk.reopen_ticket(&reopens(), req).await.unwrap());
        let settings = desk.settings(GUILD).await.unwrap();
        let earliest = desk.tickets.targets.due_ms(&settings, before, t.priority);
        assert!(t.due_at_ms.is_some_and(|due| due >= earliest), "{t:?}");
    }

    #[tokio::test]
    async fn a_ticket_reopens_only_within_the_window() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let long_ago = now_ms() - 49 * 3_600_000;
        tickets::close(
            desk.ledger(),
            &agent(),
            Target::Id(ticket.id),
            "fixed",
            long_ago,
        )
        .await
        .unwrap()
        .unwrap();
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Pressed(ticket.id),
        };
        let outcome = desk.reopen_ticket(&Recording::new(), req).await.unwrap();
        assert_eq!(outcome, Outcome::NotDone(Refusal::TooLate.into()));
    }

    #[tokio::test]
    async fn an_open_ticket_cannot_be_reopened() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Pressed(ticket.id),
        };
        let outcome = desk.reopen_ticket(&Recording::new(), req).await.unwrap();
        let refusal = Refusal::WrongState {
            number: ticket.number,
            state: TicketState::Claimed,
        };
        assert_eq!(outcome, Outcome::NotDone(refusal.into()));
    }

    #[tokio::test]
    async fn the_reopen_command_in_a_tickets_thread_reopens_that_ticket() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let req = ReopenTicket {
            by: Pressed::in_server(agent()),
            ticket: WhichTicket::Command {
                number: None,
                here: THREAD,
            },
        };
        let t = done(desk.reopen_ticket(&reopens(), req).await.unwrap());
        assert_eq!(t.id, ticket.id);
    }

    #[tokio::test]
    async fn the_reopen_command_elsewhere_reopens_the_members_last_closed_ticket() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Command {
                number: None,
                here: 12_345,
            },
        };
        let t = done(desk.reopen_ticket(&reopens(), req).await.unwrap());
        assert_eq!(t.id, ticket.id);
    }

    #[tokio::test]
    async fn the_reopen_command_with_a_number_reopens_that_ticket() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let req = ReopenTicket {
            by: Pressed::in_server(agent()),
            ticket: WhichTicket::Command {
                number: Some(ticket.number),
                here: 12_345,
            },
        };
        let t = done(desk.reopen_ticket(&reopens(), req).await.unwrap());
        assert_eq!(t.id, ticket.id);
    }

    #[tokio::test]
    async fn a_star_keeps_the_rating_at_once() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let t = done(desk.rate(&customer(), ticket.id, 4, None).await.unwrap());
        assert_eq!((t.rating, t.rating_comment), (Some(4), None));
    }

    #[tokio::test]
    async fn the_comment_is_kept_with_its_rating() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        desk.rate(&customer(), ticket.id, 4, None).await.unwrap();
        let comment = Some("quick and kind".to_string());
        let t = done(desk.rate(&customer(), ticket.id, 5, comment).await.unwrap());
        assert_eq!(t.rating, Some(5));
        assert_eq!(t.rating_comment.as_deref(), Some("quick and kind"));
    }

    #[tokio::test]
    async fn an_empty_comment_is_no_comment() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let blank = Some("   ".to_string());
        let t = done(desk.rate(&customer(), ticket.id, 3, blank).await.unwrap());
        assert_eq!(t.rating_comment, None);
    }

    #[tokio::test]
    async fn only_the_customer_rates() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let outcome = desk
            .rate(&Pressed::in_server(agent()), ticket.id, 5, None)
            .await
            .unwrap();
        assert_eq!(outcome, Outcome::NotDone(Refusal::NotTheCustomer.into()));
    }

    #[tokio::test]
    async fn a_ticket_still_open_cannot_be_rated() {
        let desk = desk().await;
        let ticket = claimed(&desk).await;
        let outcome = desk.rate(&customer(), ticket.id, 5, None).await.unwrap();
        let refusal = Refusal::WrongState {
            number: ticket.number,
            state: TicketState::Claimed,
        };
        assert_eq!(outcome, Outcome::NotDone(refusal.into()));
    }

    #[tokio::test]
    async fn a_rating_for_an_unknown_ticket_finds_none() {
        let desk = desk().await;
        let outcome = desk.rate(&customer(), 404, 5, None).await.unwrap();
        assert_eq!(outcome, Outcome::NotDone(NotDone::NoTicket));
    }

    #[tokio::test]
    async fn a_press_in_a_direct_message_acts_on_the_tickets_server_without_roles() {
        let desk = desk().await;
        let ticket = waiting(&desk).await;
        let pressed = desk.pressed_in_dm(CUSTOMER, ticket.id).await.unwrap();
        let expected = Pressed {
            actor: Actor {
                user_id: CUSTOMER,
                guild_id: GUILD,
                is_agent: false,
                is_moderator: false,
            },
            in_dm: true,
        };
        assert_eq!(pressed, Some(expected));
        assert_eq!(desk.pressed_in_dm(CUSTOMER, 404).await.unwrap(), None);
    }

    #[tokio::test]
    async fn a_rating_in_the_thread_archives_it_again() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let port = Recording::new().then("set_thread", Answer::Nothing);
        assert!(desk.archive_again(&port, ticket.id, THREAD).await.unwrap());
        assert_eq!(
            thread_states(&port),
            [(
                THREAD,
                ThreadState {
                    archived: true,
                    locked: None
                }
            )]
        );
    }

    #[tokio::test]
    async fn a_rating_in_a_direct_message_archives_nothing() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let dm_channel = 8_000;
        assert!(
            !desk
                .archive_again(&Recording::new(), ticket.id, dm_channel)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_reopened_thread_is_not_archived_after_a_late_rating() {
        let desk = desk().await;
        let ticket = closed(&desk).await;
        let req = ReopenTicket {
            by: customer(),
            ticket: WhichTicket::Pressed(ticket.id),
        };
        desk.reopen_ticket(&reopens(), req).await.unwrap();
        assert!(
            !desk
                .archive_again(&Recording::new(), ticket.id, THREAD)
                .await
                .unwrap()
        );
    }

    /// A closed ticket, with its thread.
    fn bare_ticket() -> Ticket {
        Ticket {
            state: TicketState::Closed,
            thread_id: Some(THREAD),
            closings: 1,
            ..testing::ticket()
        }
    }

    #[test]
    fn the_transcript_names_people_and_tells_customer_staff_and_bot_apart() {
        let ticket = Ticket {
            agent_id: Some(AGENT),
            ..bare_ticket()
        };
        let (header, lines) = transcript_of(&ticket, &conversation());
        assert_eq!(header.customer, "Cleo");
        assert_eq!(header.agent.as_deref(), Some("Ana"));
        let roles: Vec<Role> = lines.iter().map(|l| l.role).collect();
        assert_eq!(roles, [Role::Customer, Role::Staff, Role::Bot]);
        assert_eq!(lines[1].attachments[0].name, "steps.png");
        assert_eq!(lines[1].at_ms, 2_000);
    }

    #[test]
    fn a_transcript_of_someone_who_never_wrote_names_them_by_id() {
        let ticket = bare_ticket();
        let (header, _) = transcript_of(&ticket, &[]);
        assert_eq!(header.customer, format!("member {}", ticket.customer_id));
    }
}
