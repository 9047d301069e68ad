//! What agents do with a ticket (journey J3): claim it from its card; in its thread, release,
//! transfer, add a colleague, set priority and tags, leave notes only agents see, send saved
//! replies and ask the customer to confirm closing. Agents and moderators block abusive members.
//!
//! The rules (who may, in which state) are `desk::tickets`; this is what follows from them in
//! the chat, through the [`Port`]: who is added to the thread, what the customer reads there,
//! the line added to the ticket's card.

use super::port::{Button, Port, Post};
use super::replies::{Fill, SavedReplies};
use super::tickets::{
    self as rules, Actor, NotDone, Priority, Target, Ticket, TicketLedger, Update,
};
use super::{Desk, Ledger, now_ms};
use crate::desk::crisis::CrisisLedger;

/// A mention that shows a name; the port's allowed mentions keep it from pinging.
pub fn mention(user: u64) -> String {
    format!("<@{user}>")
}

/// Claim from the card: `card` is the message pressed (a card posted just before a stopped
/// process could store it is adopted by it).
#[derive(Clone, Debug)]
pub struct ClaimTicket {
    pub actor: Actor,
    pub ticket: i64,
    pub card: u64,
}

/// What came of a claim.
#[derive(Clone, Debug, PartialEq)]
pub enum Claimed {
    /// The ticket is the agent's.
    Claimed(Box<Ticket>),
    /// The card is of a ticket that no longer exists.
    Expired,
    /// Someone else has it, it is closed, or the presser is not an agent.
    NotDone(NotDone),
}

/// An agent command, as the adapter parsed it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum AgentCommand {
    Release,
    /// Hand the ticket to another agent; whether they hold the agent role is what Discord
    /// resolved for the chosen member.
    Transfer {
        to: u64,
        to_is_agent: bool,
    },
    /// Add a member (a colleague, a second customer) to the thread.
    Add {
        member: u64,
    },
    Priority(Priority),
    /// Add a tag, or remove it.
    Tag {
        name: String,
        remove: bool,
    },
    /// A note only agents see.
    Note(String),
    /// Send the saved reply of this name.
    Reply {
        name: String,
    },
    /// Ask the customer whether the ticket may close.
    Resolve,
    /// Keep a member from opening tickets, anywhere on the server.
    Block {
        member: u64,
        reason: String,
    },
    Unblock {
        member: u64,
    },
}

/// An agent command run in a channel (a ticket's thread, except for blocking).
#[derive(Clone, Copy, Debug)]
pub struct Work<'a> {
    pub actor: &'a Actor,
    pub channel: u64,
    pub command: &'a AgentCommand,
    /// The saved replies, as loaded now.
    pub replies: &'a SavedReplies,
}

/// What came of an agent command.
#[derive(Clone, Debug, PartialEq)]
pub enum Worked {
    NotDone(NotDone),
    /// Blocking is for agents and moderators.
    StaffOnly,
    Blocked {
        member: u64,
    },
    Unblocked {
        member: u64,
        /// Whether they were blocked at all.
        was_blocked: bool,
    },
    Released(Ticket),
    Transferred(Ticket),
    Added {
        ticket: Ticket,
        member: u64,
    },
    Prioritised(Ticket),
    Tagged(Ticket),
    Noted(Ticket),
    Replied {
        ticket: Ticket,
        name: String,
    },
    NoSuchReply {
        name: String,
    },
    AskedToClose(Ticket),
}

impl Worked {
    /// Whether the waiting queue changed (the customers' places are shown again).
    pub fn moves_queue(&self) -> bool {
        matches!(
            self,
            Worked::Released(_) | Worked::Transferred(_) | Worked::Prioritised(_)
        )
    }
}

impl<L: Ledger + TicketLedger + CrisisLedger> Desk<L> {
    /// Claim a ticket from its card: it goes to exactly one agent, who joins its thread; the
    /// customer is told, and the card says who has it.
    pub async fn claim_ticket(
        &self,
        port: &dyn Port,
        req: &ClaimTicket,
    ) -> anyhow::Result<Claimed> {
        let ledger = self.ledger();
        // Remembered first: a stop between this and the claim leaves nothing half-done.
        ledger.attach(req.ticket, None, Some(req.card)).await?;
        let target = Target::Id(req.ticket);
        let ticket = match rules::claim(ledger, &req.actor, target, now_ms()).await? {
            Ok(t) => t,
            Err(NotDone::NoTicket) => return Ok(Claimed::Expired),
            Err(not_done) => return Ok(Claimed::NotDone(not_done)),
        };
        let agent = mention(req.actor.user_id);
        if let Some(thread) = ticket.thread_id {
            port.add_to_thread(thread, req.actor.user_id).await?;
            let notice =
                self.locales
                    .fill(&ticket.lang, "ticket.claimed_notice", &[("agent", &agent)]);
            self.show_status(port, &ticket, &notice).await?;
        }
        let line = self
            .locales
            .fill("en", "ticket.claimed_by", &[("agent", &agent)]);
        self.annotate_card(port, &ticket, &line).await?;
        Ok(Claimed::Claimed(Box::new(ticket)))
    }

    /// Run an agent command.
    pub async fn work(&self, port: &dyn Port, req: Work<'_>) -> anyhow::Result<Worked> {
        let (ledger, actor, now) = (self.ledger(), req.actor, now_ms());
        match req.command {
            AgentCommand::Block { member, reason } => {
                if !(actor.is_agent || actor.is_moderator) {
                    return Ok(Worked::StaffOnly);
                }
                ledger
                    .block(actor.guild_id, *member, actor.user_id, reason, now)
                    .await?;
                return Ok(Worked::Blocked { member: *member });
            }
            AgentCommand::Unblock { member } => {
                if !(actor.is_agent || actor.is_moderator) {
                    return Ok(Worked::StaffOnly);
                }
                let was_blocked = ledger.unblock(actor.guild_id, *member).await?;
                return Ok(Worked::Unblocked {
                    member: *member,
                    was_blocked,
                });
            }
            _ => {}
        }
        let here = Target::Thread(req.channel);
        let done = match req.command {
            AgentCommand::Release => rules::release(ledger, actor, here, now).await?,
            AgentCommand::Transfer { to, to_is_agent } => {
                rules::transfer(ledger, actor, here, *to, *to_is_agent, now).await?
            }
            AgentCommand::Add { member } => {
                rules::update(ledger, actor, here, &Update::Added(*member), now).await?
            }
            AgentCommand::Priority(priority) => {
                // The deadline is counted again from the opening, with the new target.
                let settings = self.settings(actor.guild_id).await?;
                let due = ledger.ticket_by_thread(req.channel).await?.map(|t| {
                    self.tickets
                        .targets
                        .due_ms(&settings, t.opened_at_ms, *priority)
                });
                let update = Update::Priority {
                    priority: *priority,
                    due_at_ms: due,
                };
                rules::update(ledger, actor, here, &update, now).await?
            }
            AgentCommand::Tag { name, remove } => {
                let Some(t) = ledger.ticket_by_thread(req.channel).await? else {
                    return Ok(Worked::NotDone(NotDone::NoTicket));
                };
                let tags = rules::retag(&t.tags, name, *remove);
                rules::update(ledger, actor, here, &Update::Tags(tags), now).await?
            }
            AgentCommand::Note(text) => {
                rules::update(ledger, actor, here, &Update::Note(text.clone()), now).await?
            }
            AgentCommand::Reply { .. } | AgentCommand::Resolve => {
                rules::update(ledger, actor, here, &Update::StaffSeen, now).await?
            }
            AgentCommand::Block { .. } | AgentCommand::Unblock { .. } => unreachable!(),
        };
        let ticket = match done {
            Ok(t) => t,
            Err(not_done) => return Ok(Worked::NotDone(not_done)),
        };
        self.follow_up(port, req, ticket, now).await
    }

    /// What a done command shows in the thread and on the card.
    async fn follow_up(
        &self,
        port: &dyn Port,
        req: Work<'_>,
        ticket: Ticket,
        now: i64,
    ) -> anyhow::Result<Worked> {
        let l = self.locales;
        let agent = mention(req.actor.user_id);
        let thread = ticket.thread_id.unwrap_or(req.channel);
        let tl = ticket.lang.as_str();
        Ok(match req.command {
            AgentCommand::Release => {
                let text = l.fill(tl, "ticket.released", &[("agent", &agent)]);
                port.post(thread, &Post::text(text)).await?;
                let line = format!("Released by {agent}; waiting again.");
                self.annotate_card(port, &ticket, &line).await?;
                Worked::Released(ticket)
            }
            AgentCommand::Transfer { .. } => {
                let to = ticket.agent_id.unwrap_or_default();
                port.add_to_thread(thread, to).await?;
                let text = l.fill(
                    tl,
                    "ticket.transferred",
                    &[("agent", &agent), ("to", &mention(to))],
                );
                self.show_status(port, &ticket, &text).await?;
                let line = format!("Transferred to {} by {agent}.", mention(to));
                self.annotate_card(port, &ticket, &line).await?;
                Worked::Transferred(ticket)
            }
            AgentCommand::Add { member } => {
                port.add_to_thread(thread, *member).await?;
                let text = l.fill(
                    tl,
                    "ticket.added",
                    &[("agent", &agent), ("member", &mention(*member))],
                );
                port.post(thread, &Post::text(text)).await?;
                Worked::Added {
                    ticket,
                    member: *member,
                }
            }
            AgentCommand::Priority(_) => {
                let line = format!("Priority set to {} by {agent}.", ticket.priority.name());
                self.annotate_card(port, &ticket, &line).await?;
                Worked::Prioritised(ticket)
            }
            AgentCommand::Tag { .. } => Worked::Tagged(ticket),
            AgentCommand::Note(text) => {
                self.post_note(port, &ticket, &agent, text).await?;
                Worked::Noted(ticket)
            }
            AgentCommand::Reply { name } => {
                let fill = Fill {
                    customer: &mention(ticket.customer_id),
                    agent: &agent,
                    ticket: ticket.number,
                    status: "",
                };
                let Some(text) = req.replies.render(name, &ticket.lang, &fill) else {
                    return Ok(Worked::NoSuchReply { name: name.clone() });
                };
                // Sent again on purpose is a new message; a retry of this one is not.
                let post = Post {
                    nonce: Some(format!("s{}-{}", ticket.id, now % 1_000_000_000)),
                    ..Post::text(text)
                };
                port.post(thread, &post).await?;
                Worked::Replied {
                    ticket,
                    name: name.clone(),
                }
            }
            AgentCommand::Resolve => {
                let ask = l.fill(
                    tl,
                    "ticket.resolve_ask",
                    &[
                        ("customer", &mention(ticket.customer_id)),
                        ("agent", &agent),
                    ],
                );
                // The customer is pinged: they are asked something, by the bot's own decision.
                let post = Post {
                    ping_user: Some(ticket.customer_id),
                    buttons: vec![
                        Button::ConfirmClose {
                            ticket: ticket.id,
                            label: l.get(tl, "ticket.resolve_yes"),
                        },
                        Button::KeepOpen {
                            ticket: ticket.id,
                            label: l.get(tl, "ticket.resolve_no"),
                        },
                    ],
                    ..Post::text(ask)
                };
                port.post(thread, &post).await?;
                Worked::AskedToClose(ticket)
            }
            AgentCommand::Block { .. } | AgentCommand::Unblock { .. } => unreachable!(),
        })
    }

    /// A note only agents see: kept in the ticket's log, and posted as a reply to its card in
    /// the agents' channel.
    async fn post_note(
        &self,
        port: &dyn Port,
        ticket: &Ticket,
        agent: &str,
        text: &str,
    ) -> anyhow::Result<()> {
        let settings = self.settings(ticket.guild_id).await?;
        let Some(agents) = settings.agents_channel else {
            return Ok(());
        };
        let post = Post {
            reply_to: ticket.queue_card_id,
            ..Post::text(format!(
                "📝 Note on ticket #{} by {agent}: {text}",
                ticket.number
            ))
        };
        port.post(agents, &post).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::port::recording::{Answer, Call, Recording};
    use crate::desk::testing::*;
    use crate::desk::tickets::{Refusal, TicketState};

    fn work<'a>(
        actor: &'a Actor,
        command: &'a AgentCommand,
        replies: &'a SavedReplies,
    ) -> Work<'a> {
        Work {
            actor,
            channel: THREAD,
            command,
            replies,
        }
    }

    /// A desk with one ticket opened by the customer, waiting, with its thread and card.
    async fn with_ticket() -> (Desk<crate::store::Store>, Ticket) {
        let desk = desk("").await;
        let ticket = open(&desk, "my card was charged twice").await;
        (desk, ticket)
    }

    /// The calls a claim makes: the agent joins, the customer is told, the card is read and
    /// edited.
    fn claims() -> Recording {
        Recording::new()
            .then("add_to_thread", Answer::Nothing)
            .then("edit_message", Answer::Nothing)
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing)
    }

    async fn claimed(desk: &Desk<crate::store::Store>, ticket: &Ticket) -> Ticket {
        let req = ClaimTicket {
            actor: actor(AGENT, true),
            ticket: ticket.id,
            card: CARD,
        };
        match desk.claim_ticket(&claims(), &req).await.unwrap() {
            Claimed::Claimed(t) => *t,
            other => panic!("not claimed: {other:?}"),
        }
    }

    #[tokio::test]
    async fn a_claim_adds_the_agent_tells_the_customer_and_takes_claim_off_the_card() {
        let (desk, ticket) = with_ticket().await;
        let port = claims();
        let req = ClaimTicket {
            actor: actor(AGENT, true),
            ticket: ticket.id,
            card: CARD,
        };
        let claimed = desk.claim_ticket(&port, &req).await.unwrap();
        let Claimed::Claimed(t) = claimed else {
            panic!("not claimed: {claimed:?}")
        };
        assert_eq!(t.agent_id, Some(AGENT));
        let calls = port.calls();
        assert_eq!(
            calls[0],
            Call::AddToThread {
                thread: THREAD,
                user: AGENT
            }
        );
        let edits = port.edits();
        // The customer's status message says who has the ticket.
        assert_eq!((edits[0].0, edits[0].1), (THREAD, STATUS));
        assert!(edits[0].2.text.contains(&mention(AGENT)), "{:?}", edits[0]);
        assert_eq!(edits[0].2.buttons, None);
        // The card gets a line and loses Claim.
        assert_eq!((edits[1].0, edits[1].1), (AGENTS, CARD));
        assert!(edits[1].2.text.starts_with("card\n"));
        assert!(edits[1].2.text.contains(&mention(AGENT)));
        assert_eq!(edits[1].2.buttons, Some(vec![]));
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn a_claimed_ticket_cannot_be_claimed_by_another_agent() {
        let (desk, ticket) = with_ticket().await;
        claimed(&desk, &ticket).await;
        let req = ClaimTicket {
            actor: actor(AGENT + 1, true),
            ticket: ticket.id,
            card: CARD,
        };
        let again = desk.claim_ticket(&Recording::new(), &req).await.unwrap();
        assert!(
            matches!(
                again,
                Claimed::NotDone(NotDone::Refused(Refusal::WrongState { .. }))
            ),
            "{again:?}"
        );
    }

    #[tokio::test]
    async fn a_member_without_the_agent_role_cannot_claim() {
        let (desk, ticket) = with_ticket().await;
        let req = ClaimTicket {
            actor: actor(CUSTOMER + 5, false),
            ticket: ticket.id,
            card: CARD,
        };
        let refused = desk.claim_ticket(&Recording::new(), &req).await.unwrap();
        assert_eq!(
            refused,
            Claimed::NotDone(NotDone::Refused(Refusal::NotAnAgent))
        );
    }

    #[tokio::test]
    async fn the_card_of_a_ticket_that_is_gone_has_expired() {
        let desk = desk("").await;
        let req = ClaimTicket {
            actor: actor(AGENT, true),
            ticket: 999,
            card: CARD,
        };
        let expired = desk.claim_ticket(&Recording::new(), &req).await.unwrap();
        assert_eq!(expired, Claimed::Expired);
    }

    #[tokio::test]
    async fn a_line_already_on_the_card_is_not_added_twice() {
        let (desk, ticket) = with_ticket().await;
        let port = Recording::new()
            .then("message_text", Answer::Text("card\nClosed.".into()))
            .then("edit_message", Answer::Nothing);
        desk.annotate_card(&port, &ticket, "Closed.").await.unwrap();
        assert_eq!(port.edits()[0].2.text, "card\nClosed.");
        // A waiting ticket keeps its Claim button.
        assert_eq!(
            port.edits()[0].2.buttons,
            Some(vec![Button::Claim(ticket.id)])
        );
    }

    #[tokio::test]
    async fn a_release_puts_the_ticket_back_with_claim_on_its_card() {
        let (desk, ticket) = with_ticket().await;
        claimed(&desk, &ticket).await;
        let port = Recording::new()
            .then("post", Answer::Id(1))
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing);
        let agent = actor(AGENT, true);
        let worked = desk
            .work(
                &port,
                work(&agent, &AgentCommand::Release, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert!(worked.moves_queue());
        let Worked::Released(t) = worked else {
            panic!("{worked:?}")
        };
        assert_eq!((t.state, t.agent_id), (TicketState::Waiting, None));
        assert_eq!(port.posts()[0].0, THREAD);
        assert_eq!(
            port.edits()[0].2.buttons,
            Some(vec![Button::Claim(ticket.id)])
        );
    }

    #[tokio::test]
    async fn a_ticket_nobody_has_claimed_cannot_be_released() {
        let (desk, _) = with_ticket().await;
        let agent = actor(AGENT, true);
        let worked = desk
            .work(
                &Recording::new(),
                work(&agent, &AgentCommand::Release, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert!(
            matches!(
                worked,
                Worked::NotDone(NotDone::Refused(Refusal::WrongState { .. }))
            ),
            "{worked:?}"
        );
    }

    #[tokio::test]
    async fn a_transfer_adds_the_new_agent_and_tells_the_customer() {
        let (desk, ticket) = with_ticket().await;
        claimed(&desk, &ticket).await;
        let port = Recording::new()
            .then("add_to_thread", Answer::Nothing)
            .then("edit_message", Answer::Nothing)
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing);
        let agent = actor(AGENT, true);
        let to = AgentCommand::Transfer {
            to: AGENT + 1,
            to_is_agent: true,
        };
        let worked = desk
            .work(&port, work(&agent, &to, &SavedReplies::empty()))
            .await
            .unwrap();
        let Worked::Transferred(t) = worked else {
            panic!("{worked:?}")
        };
        assert_eq!(t.agent_id, Some(AGENT + 1));
        assert_eq!(
            port.calls()[0],
            Call::AddToThread {
                thread: THREAD,
                user: AGENT + 1
            }
        );
        assert!(port.edits()[0].2.text.contains(&mention(AGENT + 1)));
    }

    #[tokio::test]
    async fn a_ticket_is_not_transferred_to_a_member_who_is_not_an_agent() {
        let (desk, ticket) = with_ticket().await;
        claimed(&desk, &ticket).await;
        let agent = actor(AGENT, true);
        let to = AgentCommand::Transfer {
            to: CUSTOMER + 5,
            to_is_agent: false,
        };
        let worked = desk
            .work(&Recording::new(), work(&agent, &to, &SavedReplies::empty()))
            .await
            .unwrap();
        assert!(matches!(worked, Worked::NotDone(_)), "{worked:?}");
    }

    #[tokio::test]
    async fn an_added_member_joins_the_thread_and_is_announced_there() {
        let (desk, _) = with_ticket().await;
        let port = Recording::new()
            .then("add_to_thread", Answer::Nothing)
            .then("post", Answer::Id(1));
        let agent = actor(AGENT, true);
        let add = AgentCommand::Add { member: 77 };
        let worked = desk
            .work(&port, work(&agent, &add, &SavedReplies::empty()))
            .await
            .unwrap();
        assert!(matches!(worked, Worked::Added { member: 77, .. }));
        assert!(port.posts()[0].1.text.contains("<@77>"));
        // Announcing a member shows their name and pings nobody.
        assert_eq!(port.posts()[0].1.ping_user, None);
    }

    #[tokio::test]
    async fn a_new_priority_counts_the_deadline_again_from_the_opening() {
        let (desk, ticket) = with_ticket().await;
        let port = Recording::new()
            .then("message_text", Answer::Text("card".into()))
            .then("edit_message", Answer::Nothing);
        let agent = actor(AGENT, true);
        let urgent = AgentCommand::Priority(Priority::Urgent);
        let worked = desk
            .work(&port, work(&agent, &urgent, &SavedReplies::empty()))
            .await
            .unwrap();
        let Worked::Prioritised(t) = worked else {
            panic!("{worked:?}")
        };
        assert_eq!(t.priority, Priority::Urgent);
        let settings = desk.settings(GUILD).await.unwrap();
        let due = desk
            .tickets
            .targets
            .due_ms(&settings, ticket.opened_at_ms, Priority::Urgent);
        assert_eq!(t.due_at_ms, Some(due));
        assert!(
            port.edits()[0]
                .2
                .text
                .ends_with("Priority set to urgent by <@41>.")
        );
    }

    #[tokio::test]
    async fn tags_are_added_and_removed_without_a_message() {
        let (desk, _) = with_ticket().await;
        let agent = actor(AGENT, true);
        let add = AgentCommand::Tag {
            name: "Refund".into(),
            remove: false,
        };
        let worked = desk
            .work(
                &Recording::new(),
                work(&agent, &add, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        let Worked::Tagged(t) = worked else {
            panic!("{worked:?}")
        };
        assert!(t.tags.contains(&"refund".to_string()), "{:?}", t.tags);
        let remove = AgentCommand::Tag {
            name: "refund".into(),
            remove: true,
        };
        let worked = desk
            .work(
                &Recording::new(),
                work(&agent, &remove, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        let Worked::Tagged(t) = worked else {
            panic!("{worked:?}")
        };
        assert!(!t.tags.contains(&"refund".to_string()));
    }

    #[tokio::test]
    async fn a_tag_outside_a_ticket_thread_is_not_a_ticket() {
        let desk = desk("").await;
        let agent = actor(AGENT, true);
        let tag = AgentCommand::Tag {
            name: "x".into(),
            remove: false,
        };
        let worked = desk
            .work(
                &Recording::new(),
                work(&agent, &tag, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert_eq!(worked, Worked::NotDone(NotDone::NoTicket));
    }

    #[tokio::test]
    async fn a_note_goes_under_the_card_in_the_agents_channel_only() {
        let (desk, _) = with_ticket().await;
        let port = Recording::new().then("post", Answer::Id(1));
        let agent = actor(AGENT, true);
        let note = AgentCommand::Note("refund approved".into());
        desk.work(&port, work(&agent, &note, &SavedReplies::empty()))
            .await
            .unwrap();
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, AGENTS);
        assert_eq!(post.reply_to, Some(CARD));
        assert!(
            post.text.ends_with("by <@41>: refund approved"),
            "{}",
            post.text
        );
    }

    #[tokio::test]
    async fn a_saved_reply_is_sent_filled_in_with_a_nonce() {
        let (desk, ticket) = with_ticket().await;
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("refund.md"),
            "Hi {customer}, ticket #{ticket}.",
        )
        .unwrap();
        let replies = SavedReplies::load_dir(dir.path()).unwrap();
        let port = Recording::new().then("post", Answer::Id(1));
        let agent = actor(AGENT, true);
        let reply = AgentCommand::Reply {
            name: "refund".into(),
        };
        let worked = desk
            .work(&port, work(&agent, &reply, &replies))
            .await
            .unwrap();
        assert!(matches!(worked, Worked::Replied { .. }), "{worked:?}");
        let (channel, post) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert_eq!(
            post.text,
            format!("Hi <@{CUSTOMER}>, ticket #{}.", ticket.number)
        );
        assert!(
            post.nonce
                .as_deref()
                .unwrap()
                .starts_with(&format!("s{}-", ticket.id))
        );
    }

    #[tokio::test]
    async fn an_unknown_saved_reply_sends_nothing() {
        let (desk, _) = with_ticket().await;
        let agent = actor(AGENT, true);
        let reply = AgentCommand::Reply {
            name: "nope".into(),
        };
        let worked = desk
            .work(
                &Recording::new(),
                work(&agent, &reply, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert_eq!(
            worked,
            Worked::NoSuchReply {
                name: "nope".into()
            }
        );
    }

    #[tokio::test]
    async fn resolving_asks_the_customer_with_two_buttons_and_pings_only_them() {
        let (desk, ticket) = with_ticket().await;
        let port = Recording::new().then("post", Answer::Id(1));
        let agent = actor(AGENT, true);
        desk.work(
            &port,
            work(&agent, &AgentCommand::Resolve, &SavedReplies::empty()),
        )
        .await
        .unwrap();
        let (_, post) = &port.posts()[0];
        assert_eq!(post.ping_user, Some(CUSTOMER));
        assert!(post.ping_roles.is_empty());
        assert!(matches!(
            post.buttons.as_slice(),
            [Button::ConfirmClose { ticket: a, .. }, Button::KeepOpen { ticket: b, .. }]
                if *a == ticket.id && *b == ticket.id
        ));
    }

    #[tokio::test]
    async fn a_customer_cannot_run_agent_commands_in_their_ticket() {
        let (desk, _) = with_ticket().await;
        let customer = actor(CUSTOMER, false);
        let worked = desk
            .work(
                &Recording::new(),
                work(&customer, &AgentCommand::Resolve, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert_eq!(
            worked,
            Worked::NotDone(NotDone::Refused(Refusal::NotAnAgent))
        );
    }

    #[tokio::test]
    async fn a_blocked_member_cannot_open_tickets_until_unblocked() {
        let desk = desk("").await;
        let agent = actor(AGENT, true);
        let block = AgentCommand::Block {
            member: CUSTOMER,
            reason: "spam".into(),
        };
        let none = SavedReplies::empty();
        let worked = desk
            .work(&Recording::new(), work(&agent, &block, &none))
            .await
            .unwrap();
        assert_eq!(worked, Worked::Blocked { member: CUSTOMER });
        let refused = desk
            .open_ticket(&Recording::new(), ask("help"))
            .await
            .unwrap();
        assert!(
            matches!(
                refused,
                crate::desk::opening::Opening::Refused(Refusal::Blocked)
            ),
            "{refused:?}"
        );
        let unblock = AgentCommand::Unblock { member: CUSTOMER };
        let worked = desk
            .work(&Recording::new(), work(&agent, &unblock, &none))
            .await
            .unwrap();
        assert_eq!(
            worked,
            Worked::Unblocked {
                member: CUSTOMER,
                was_blocked: true
            }
        );
    }

    #[tokio::test]
    async fn only_staff_block_members() {
        let desk = desk("").await;
        let member = actor(CUSTOMER + 5, false);
        let block = AgentCommand::Block {
            member: CUSTOMER,
            reason: String::new(),
        };
        let worked = desk
            .work(
                &Recording::new(),
                work(&member, &block, &SavedReplies::empty()),
            )
            .await
            .unwrap();
        assert_eq!(worked, Worked::StaffOnly);
    }
}
