//! Opening a ticket (journey J2), from wherever it is asked: a panel button, `/ticket`, "Talk to
//! a person", the handoff intent, or a message or member context menu.
//!
//! The desk decides everything here: the category (the asked one, then the workflow rules, then
//! a running crisis named in the text), the priority and tags, the first-response due time, the
//! subject shown to agents, and what to post where. The ticket is stored before anything is
//! posted; [`Desk::finish_ticket`] then creates what is missing (thread, header, queue place,
//! card), each step only once, so a restart in the middle finishes the work without posting
//! twice: the stored ids say what exists, and every post carries an enforced nonce.

use super::crisis::{self, CrisisLedger};
use super::port::{Button, Port, Post};
use super::settings::{Staffed, staffed};
use super::tickets::{
    Actor, Limits, NewTicket, Opened, Refusal, Ticket, TicketLedger, TicketState, enqueue,
    expected_wait_ms, open_or_find,
};
use super::{Desk, Ledger, StoreError, fit, now_ms};

/// Someone asking for a ticket, from wherever they asked.
#[derive(Clone, Debug, Default)]
pub struct OpenTicket<'a> {
    pub guild: u64,
    /// Whom the ticket is for.
    pub customer: u64,
    /// The category's id; the first configured one when `None`.
    pub category: Option<&'a str>,
    /// The FAQ question that led here.
    pub question_id: Option<i64>,
    /// What they wrote: the question, `/ticket about:`, or nothing.
    pub text: Option<&'a str>,
    /// The category form's answers: (question label, answer).
    pub form: Vec<(String, String)>,
    pub lang: &'a str,
    /// The message the ticket is about (the message context menu).
    pub quote: Option<Quote>,
    /// The agent who opened it for the customer (a context menu), when it was not the customer:
    /// they join the thread, and the customer's cooldown does not stop them.
    pub opened_by: Option<u64>,
}

/// A message quoted in a ticket's header, with a link back to it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Quote {
    pub author: u64,
    pub text: String,
    pub link: String,
}

/// What came of asking for a ticket.
#[derive(Clone, Debug, PartialEq)]
pub enum Opening {
    /// The server has no tickets channel: the asker is told how to reach staff instead.
    NoChannel,
    Refused(Refusal),
    /// The customer has as many open as they may: this one.
    Existing(Ticket),
    /// A new ticket, with its thread, the customer's place in the queue, and when people are
    /// back when it opened outside opening hours (a Unix time in seconds).
    Opened {
        ticket: Ticket,
        thread: u64,
        place: Option<Place>,
        back_at: Option<i64>,
    },
}

/// What finishing a ticket did: its thread, and the ticket as it entered the queue when this
/// finish put it there (not when an earlier one had).
#[derive(Clone, Debug, PartialEq)]
pub struct Finished {
    pub thread: u64,
    pub queued: Option<Ticket>,
}

/// A waiting ticket's place in its server's queue.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Place {
    /// 1 for the next to be claimed.
    pub position: i64,
    /// The expected wait, from the pace of recent claims.
    pub wait_minutes: Option<i64>,
}

impl Place {
    /// The place at `position`, with the wait the pace of `recent_claims` gives it.
    pub fn of(recent_claims: &[i64], position: i64) -> Place {
        let wait_minutes = expected_wait_ms(recent_claims, position).map(|w| (w + 59_999) / 60_000);
        Place {
            position,
            wait_minutes,
        }
    }

    /// What a waiting customer reads about their place: the position and, when recent claims
    /// give a pace, the expected wait.
    pub fn text(&self, l: &crate::locale::Locales, lang: &str) -> String {
        let mut text = l.fill(lang, "ticket.position", &[("position", &self.position)]);
        if let Some(minutes) = self.wait_minutes {
            text.push(' ');
            text.push_str(&l.fill(lang, "ticket.wait", &[("minutes", &minutes)]));
        }
        text
    }
}

/// Whom a ticket about a message is for, and who opened it for them: staff open it for the
/// message's author (unless a bot wrote it), a member for themselves.
pub fn about_message(invoker: &Actor, author: u64, author_is_bot: bool) -> (u64, Option<u64>) {
    let staff = invoker.is_agent || invoker.is_moderator;
    if staff && !author_is_bot && author != invoker.user_id {
        (author, Some(invoker.user_id))
    } else {
        (invoker.user_id, None)
    }
}

/// Whom a ticket opened with a member is for, and who opened it: staff only, and members only.
pub fn with_member(
    invoker: &Actor,
    member: u64,
    member_is_bot: bool,
) -> Result<(u64, Option<u64>), Refusal> {
    if !(invoker.is_agent || invoker.is_moderator) {
        return Err(Refusal::NotAnAgent);
    }
    if member_is_bot {
        return Err(Refusal::NotForBots);
    }
    Ok((
        member,
        (member != invoker.user_id).then_some(invoker.user_id),
    ))
}

/// Names a ticket's thread: found by it after a restart.
fn thread_name(ticket: &Ticket) -> String {
    format!("ticket-{}", ticket.number)
}

/// At most this many characters of a subject go on an agents' card.
const CARD_SUBJECT: usize = 600;

impl<L: Ledger + TicketLedger + CrisisLedger> Desk<L> {
    /// Open a ticket (or find the one already open), then finish it through `port`.
    pub async fn open_ticket(
        &self,
        port: &dyn Port,
        req: OpenTicket<'_>,
    ) -> anyhow::Result<Opening> {
        let settings = self.settings(req.guild).await?;
        let tickets = &self.tickets;
        let lang = req.lang;
        let mut category = req
            .category
            .and_then(|id| tickets.category(id))
            .unwrap_or_else(|| tickets.default_category());
        // Workflow rules read everything the customer wrote.
        let mut everything = req.text.unwrap_or_default().to_string();
        for answer in req
            .form
            .iter()
            .map(|(_, a)| a)
            .chain(req.quote.as_ref().map(|q| &q.text))
        {
            everything.push('\n');
            everything.push_str(answer);
        }
        let routing = tickets.apply(&everything, category.priority);
        if let Some(routed) = routing
            .category
            .as_deref()
            .and_then(|id| tickets.category(id))
        {
            category = routed;
        }
        let mut priority = routing.priority.max(category.priority);
        let mut tags = routing.tags;
        // A ticket about a running crisis is tagged, raised, and goes to a category named like
        // the crisis's topic when there is one.
        for c in crisis::mentioned(&self.running_crises(req.guild).await?, &everything) {
            tags.push(c.ticket_tag());
            priority = priority.max(crisis::TICKET_PRIORITY);
            if let Some(routed) = tickets.category(&c.topic) {
                category = routed;
            }
        }
        if category.channel.or(settings.tickets_channel).is_none() {
            return Ok(Opening::NoChannel);
        }
        let opened_at = now_ms();
        let due = tickets.targets.due_ms(&settings, opened_at, priority);
        let mut subject = self.subject(&req);
        if let Some(title) = self.offered(req.question_id, lang).await? {
            subject.push('\n');
            subject.push_str(
                &self
                    .locales
                    .fill(lang, "ticket.offered", &[("title", &title)]),
            );
        }
        let new = NewTicket {
            guild_id: req.guild,
            customer_id: req.customer,
            category: category.id.clone(),
            priority,
            question_id: req.question_id,
            subject,
            tags,
            lang: lang.to_string(),
            opened_at_ms: opened_at,
            due_at_ms: Some(due),
        };
        let limits = Limits {
            max_open: tickets.max_open_per_customer,
            // The cooldown keeps a customer from opening ticket after ticket; an agent opening
            // one with them is not held by it.
            cooldown_ms: match req.opened_by {
                Some(_) => 0,
                None => i64::from(tickets.cooldown_minutes) * 60_000,
            },
        };
        // Stored first: whatever fails below, the ticket exists, and `finish_ticket` completes
        // it (now, or when the bot starts again).
        let ticket = match open_or_find(self.ledger(), &new, &limits).await? {
            Err(refusal) => return Ok(Opening::Refused(refusal)),
            Ok(Opened::Existing(t)) => return Ok(Opening::Existing(t)),
            Ok(Opened::New(t)) => t,
        };
        let Finished { thread, queued } = self.finish_ticket(port, ticket.clone(), false).await?;
        if let Some(agent) = req.opened_by {
            port.add_to_thread(thread, agent).await?;
        }
        let place = match queued {
            Some(t) => {
                let position = self.ledger().waiting_ahead(&t).await? + 1;
                Some(self.place(&t, position).await?)
            }
            None => None,
        };
        // Outside opening hours the customer is told when people are back.
        let back_at = match staffed(&settings, jiff::Timestamp::now()) {
            Staffed::Closed { back_at } => back_at,
            Staffed::Open => None,
        };
        Ok(Opening::Opened {
            ticket,
            thread,
            place,
            back_at,
        })
    }

    /// A waiting ticket's place, with the wait the pace of recent claims gives it.
    pub async fn place(&self, ticket: &Ticket, position: i64) -> Result<Place, StoreError> {
        Ok(Place::of(
            &self.recent_claims(ticket.guild_id).await?,
            position,
        ))
    }

    /// The server's recent claims, which give the pace of the queue.
    pub async fn recent_claims(&self, guild_id: u64) -> Result<Vec<i64>, StoreError> {
        self.ledger().recent_claims(guild_id, 10).await
    }

    /// The FAQ exchange that led here: the title of what the bot offered, so nobody repeats it.
    /// An intent that is itself a way to a person offered nothing to read.
    async fn offered(
        &self,
        question: Option<i64>,
        lang: &str,
    ) -> Result<Option<String>, StoreError> {
        let Some(q) = question else { return Ok(None) };
        let intent = self
            .ledger()
            .question(q)
            .await?
            .and_then(|(record, _)| record.intent);
        let faq = self.faq();
        Ok(intent.and_then(|intent| {
            faq.intent(&intent)
                .filter(|i| i.action.is_none())
                .map(|i| super::answers::label_in(i, lang))
        }))
    }

    /// What the header shows under its first line: who opened it for the customer, what they
    /// asked or the form's answers, and the message it is about.
    fn subject(&self, req: &OpenTicket<'_>) -> String {
        let l = self.locales;
        let lang = req.lang;
        let mut lines = Vec::new();
        if let Some(agent) = req.opened_by {
            lines.push(l.fill(
                lang,
                "ticket.opened_with",
                &[
                    ("agent", &format!("<@{agent}>")),
                    ("customer", &format!("<@{}>", req.customer)),
                ],
            ));
        }
        if let Some(text) = req.text.filter(|t| !t.trim().is_empty()) {
            lines.push(l.fill(lang, "ticket.asked", &[("question", &text.trim())]));
        }
        lines.extend(
            req.form
                .iter()
                .filter(|(_, answer)| !answer.trim().is_empty())
                .map(|(label, answer)| format!("**{label}**: {}", answer.trim())),
        );
        if let Some(q) = &req.quote {
            // Each line quoted, so the message reads as the author's and not as Beacon's.
            let quoted: Vec<String> = fit(q.text.trim(), 1000)
                .lines()
                .map(|line| format!("> {line}"))
                .collect();
            lines.push(l.fill(
                lang,
                "ticket.quoted",
                &[
                    ("author", &format!("<@{}>", q.author)),
                    ("link", &q.link),
                    ("text", &quoted.join("\n")),
                ],
            ));
        }
        lines.join("\n")
    }

    /// Complete a stored ticket: its private thread with the customer and the header, the move
    /// to the queue, and the card in the agents' channel, each only if it is not there yet.
    /// `resumed` when a stopped process had begun it: a thread it created but had no time to
    /// remember is found by its name instead of being created twice.
    pub async fn finish_ticket(
        &self,
        port: &dyn Port,
        mut ticket: Ticket,
        resumed: bool,
    ) -> anyhow::Result<Finished> {
        let mut queued = None;
        let l = self.locales;
        let ledger = self.ledger();
        let settings = self.settings(ticket.guild_id).await?;
        let category = self
            .tickets
            .category(&ticket.category)
            .unwrap_or_else(|| self.tickets.default_category());
        let customer = format!("<@{}>", ticket.customer_id);
        let priority = ticket.priority.name();
        let lang = ticket.lang.clone();
        let thread = match ticket.thread_id {
            Some(t) => t,
            None => {
                let channel = category
                    .channel
                    .or(settings.tickets_channel)
                    .ok_or_else(|| anyhow::anyhow!("no tickets channel set up"))?;
                let name = thread_name(&ticket);
                let found = if resumed {
                    port.find_thread(ticket.guild_id, channel, &name).await?
                } else {
                    None
                };
                let thread = match found {
                    Some(t) => t,
                    None => port.open_private_thread(channel, &name).await?,
                };
                ledger.attach(ticket.id, Some(thread), None).await?;
                thread
            }
        };
        // Until the ticket is in the queue, the customer's place in the thread may be
        // unfinished: adding a member is idempotent and the header's enforced nonce keeps it to
        // one message, so both are simply done again after a restart.
        if ticket.state == TicketState::Open {
            port.add_to_thread(thread, ticket.customer_id).await?;
            let mut header = l.fill(
                &lang,
                "ticket.header",
                &[
                    ("number", &ticket.number),
                    ("category", &category.label),
                    ("priority", &priority),
                    ("customer", &customer),
                ],
            );
            if !ticket.subject.is_empty() {
                header.push('\n');
                header.push_str(&ticket.subject);
            }
            // While a crisis runs, the customer sees where the latest is.
            for link in self
                .running_crises(ticket.guild_id)
                .await?
                .iter()
                .filter_map(|c| c.status_link())
            {
                header.push('\n');
                header.push_str(&l.fill(&lang, "crisis.status_line", &[("link", &link)]));
            }
            let post = Post {
                text: header,
                nonce: Some(format!("t{}", ticket.id)),
                ..Post::default()
            };
            port.post(thread, &post).await?;
            if let Some(t) = enqueue(ledger, &ticket, now_ms()).await? {
                queued = Some(t.clone());
                ticket = t;
            }
        }
        if let (None, Some(agents), TicketState::Waiting) =
            (ticket.queue_card_id, settings.agents_channel, ticket.state)
        {
            let mut card = l.fill(
                "en",
                "ticket.card",
                &[
                    ("number", &ticket.number),
                    ("category", &category.label),
                    ("priority", &priority),
                    ("customer", &customer),
                    ("thread", &format!("<#{thread}>")),
                ],
            );
            if !ticket.tags.is_empty() {
                card.push_str(&format!("\nTags: {}", ticket.tags.join(", ")));
            }
            if let Some(due) = ticket.due_at_ms {
                card.push_str(&format!("\nFirst response due <t:{}:R>.", due / 1000));
            }
            if !ticket.subject.is_empty() {
                card.push('\n');
                card.push_str(&fit(&ticket.subject, CARD_SUBJECT));
            }
            // Inside opening hours the agent role is pinged, once: the card is posted once. The
            // ping is the bot's own decision, so it is the only mention allowed, by id.
            let ping_role = settings
                .agent_role
                .filter(|_| staffed(&settings, jiff::Timestamp::now()) == Staffed::Open);
            if let Some(role) = ping_role {
                card = format!("<@&{role}> {card}");
            }
            let post = Post {
                text: card,
                nonce: Some(format!("c{}", ticket.id)),
                ping_roles: ping_role.into_iter().collect(),
                buttons: vec![Button::Claim(ticket.id)],
                ..Post::default()
            };
            let sent = port.post(agents, &post).await?;
            ledger.attach(ticket.id, None, Some(sent)).await?;
        }
        Ok(Finished { thread, queued })
    }

    /// The tickets a stopped process left half-opened (stored, but without their thread or
    /// their card), to finish with [`Desk::finish_ticket`] and `resumed`.
    pub async fn unfinished_tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        self.ledger().unfinished_tickets().await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::GuildSettings;
    use crate::desk::port::recording::{Answer, Call, Recording};
    use crate::desk::testing::*;
    use crate::store::Store;

    fn opened(opening: Opening) -> (Ticket, u64, Option<Place>) {
        match opening {
            Opening::Opened {
                ticket,
                thread,
                place,
                ..
            } => (ticket, thread, place),
            other => panic!("not opened: {other:?}"),
        }
    }

    #[test]
    fn staff_open_a_ticket_about_a_message_for_its_author() {
        assert_eq!(
            about_message(&actor(AGENT, true), CUSTOMER, false),
            (CUSTOMER, Some(AGENT))
        );
    }

    #[test]
    fn a_member_opens_a_ticket_about_any_message_for_themselves() {
        assert_eq!(
            about_message(&actor(CUSTOMER, false), 77, false),
            (CUSTOMER, None)
        );
    }

    #[test]
    fn a_ticket_about_a_bots_message_is_for_whoever_asked() {
        assert_eq!(about_message(&actor(AGENT, true), 99, true), (AGENT, None));
    }

    #[test]
    fn only_staff_open_a_ticket_with_a_member_and_never_with_a_bot() {
        assert_eq!(
            with_member(&actor(AGENT, true), CUSTOMER, false),
            Ok((CUSTOMER, Some(AGENT)))
        );
        assert_eq!(
            with_member(&actor(CUSTOMER, false), 77, false),
            Err(Refusal::NotAnAgent)
        );
        assert_eq!(
            with_member(&actor(AGENT, true), 99, true),
            Err(Refusal::NotForBots)
        );
    }

    #[tokio::test]
    async fn a_ticket_opens_as_a_private_thread_with_the_customer_and_a_header() {
        let desk = desk("").await;
        let port = opens();
        let (ticket, thread, _) = opened(
            desk.open_ticket(&port, ask("my card was charged twice"))
                .await
                .unwrap(),
        );
        assert_eq!(thread, THREAD);
        let calls = port.calls();
        assert_eq!(
            calls[0],
            Call::OpenPrivateThread {
                channel: TICKETS,
                name: format!("ticket-{}", ticket.number)
            }
        );
        assert_eq!(
            calls[1],
            Call::AddToThread {
                thread: THREAD,
                user: CUSTOMER
            }
        );
        let (channel, header) = &port.posts()[0];
        assert_eq!(*channel, THREAD);
        assert!(
            header
                .text
                .starts_with(&format!("**Ticket #{}**", ticket.number)),
            "{}",
            header.text
        );
        assert!(
            header
                .text
                .contains("They asked: my card was charged twice"),
            "{}",
            header.text
        );
        assert_eq!(header.nonce, Some(format!("t{}", ticket.id)));
        assert!(header.ping_roles.is_empty());
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn the_agents_card_pings_their_role_once_and_carries_claim() {
        let desk = desk("").await;
        let port = opens();
        let (ticket, _, place) = opened(desk.open_ticket(&port, ask("help")).await.unwrap());
        let (channel, card) = &port.posts()[1];
        assert_eq!(*channel, AGENTS);
        assert!(
            card.text.starts_with(&format!("<@&{AGENT_ROLE}> ")),
            "{}",
            card.text
        );
        assert_eq!(card.ping_roles, vec![AGENT_ROLE]);
        assert_eq!(card.buttons, vec![Button::Claim(ticket.id)]);
        assert_eq!(card.nonce, Some(format!("c{}", ticket.id)));
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert_eq!(
            (stored.thread_id, stored.queue_card_id),
            (Some(THREAD), Some(CARD))
        );
        assert_eq!(stored.state, TicketState::Waiting);
        assert_eq!(place.map(|p| p.position), Some(1));
    }

    #[tokio::test]
    async fn outside_opening_hours_agents_are_not_pinged_and_the_customer_learns_when_they_are_back()
     {
        let desk = desk("").await;
        let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
        // Open one minute a week, a day from now: closed now whatever the day.
        let tomorrow = jiff::Timestamp::now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .weekday()
            .to_monday_zero_offset() as usize;
        let mut days = [None; 7];
        days[(tomorrow + 1) % 7] = Some((0, 1));
        settings.opening_hours = Some(crate::desk::OpeningHours { days });
        desk.save_settings(settings).await.unwrap();
        let port = opens();
        let opening = desk.open_ticket(&port, ask("help")).await.unwrap();
        let Opening::Opened { back_at, .. } = opening else {
            panic!("{opening:?}")
        };
        assert!(back_at.is_some_and(|at| at > jiff::Timestamp::now().as_second()));
        let (_, card) = &port.posts()[1];
        assert!(card.ping_roles.is_empty());
        assert!(!card.text.contains("<@&"), "{}", card.text);
    }

    #[tokio::test]
    async fn an_agents_message_in_the_thread_is_the_first_response_and_the_customers_is_not() {
        let desk = desk("").await;
        let (ticket, thread, _) = opened(desk.open_ticket(&opens(), ask("help")).await.unwrap());
        assert!(
            desk.message_in_thread(thread, CUSTOMER, now_ms())
                .await
                .unwrap()
        );
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert_eq!(stored.first_response_at_ms, None);
        assert!(
            desk.message_in_thread(thread, AGENT, now_ms())
                .await
                .unwrap()
        );
        let stored = desk.ledger().ticket(ticket.id).await.unwrap().unwrap();
        assert!(stored.first_response_at_ms.is_some());
        // Any other thread is nobody's ticket.
        assert!(
            !desk
                .message_in_thread(thread + 1, AGENT, now_ms())
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn a_server_without_a_tickets_channel_opens_nothing() {
        let desk = desk("").await;
        let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
        settings.tickets_channel = None;
        desk.save_settings(settings).await.unwrap();
        // Any call to Discord would panic: none is planned.
        let opening = desk
            .open_ticket(&Recording::new(), ask("help"))
            .await
            .unwrap();
        assert_eq!(opening, Opening::NoChannel);
    }

    #[tokio::test]
    async fn a_customer_with_a_ticket_open_is_pointed_to_it() {
        let desk = desk("").await;
        let (first, _, _) = opened(desk.open_ticket(&opens(), ask("help")).await.unwrap());
        let again = desk
            .open_ticket(&Recording::new(), ask("help again"))
            .await
            .unwrap();
        let Opening::Existing(existing) = again else {
            panic!("{again:?}")
        };
        assert_eq!(existing.id, first.id);
    }

    #[tokio::test]
    async fn a_blocked_member_is_refused() {
        let desk = desk("").await;
        desk.ledger()
            .block(GUILD, CUSTOMER, AGENT, "spam", now_ms())
            .await
            .unwrap();
        let opening = desk
            .open_ticket(&Recording::new(), ask("help"))
            .await
            .unwrap();
        assert_eq!(opening, Opening::Refused(Refusal::Blocked));
    }

    /// A ticket closed moments ago, so the customer has none open.
    async fn one_just_closed(desk: &Desk<Store>) {
        let (ticket, _, _) = opened(desk.open_ticket(&opens(), ask("help")).await.unwrap());
        let customer =
            crate::desk::tickets::Actor::on(&GuildSettings::new(GUILD), CUSTOMER, &[], false);
        let target = crate::desk::tickets::Target::Id(ticket.id);
        crate::desk::tickets::close(desk.ledger(), &customer, target, "solved", now_ms())
            .await
            .unwrap()
            .unwrap();
    }

    #[tokio::test]
    async fn a_customer_who_just_opened_one_waits_out_the_cooldown() {
        let desk = desk("cooldown_minutes = 10").await;
        one_just_closed(&desk).await;
        let opening = desk
            .open_ticket(&Recording::new(), ask("again"))
            .await
            .unwrap();
        assert_eq!(
            opening,
            Opening::Refused(Refusal::CoolingDown { minutes: 10 })
        );
    }

    #[tokio::test]
    async fn an_agent_opening_a_ticket_with_a_member_joins_the_thread_past_the_cooldown() {
        let desk = desk("cooldown_minutes = 10").await;
        one_just_closed(&desk).await;
        let port = opens().then("add_to_thread", Answer::Nothing);
        let req = OpenTicket {
            opened_by: Some(AGENT),
            ..ask("")
        };
        opened(desk.open_ticket(&port, req).await.unwrap());
        assert_eq!(
            port.calls().last(),
            Some(&Call::AddToThread {
                thread: THREAD,
                user: AGENT
            })
        );
        let (_, header) = &port.posts()[0];
        assert!(
            header.text.contains(&format!(
                "<@{AGENT}> from the team opened it for <@{CUSTOMER}>"
            )),
            "{}",
            header.text
        );
    }

    #[tokio::test]
    async fn a_quoted_message_is_in_the_header_line_by_line_with_its_link() {
        let desk = desk("").await;
        let port = opens();
        let quote = Quote {
            author: 77,
            text: "the app crashes\nevery time".into(),
            link: "https://discord.com/channels/1/2/3".into(),
        };
        let req = OpenTicket {
            quote: Some(quote),
            ..ask("")
        };
        opened(desk.open_ticket(&port, req).await.unwrap());
        let (_, header) = &port.posts()[0];
        assert!(header.text.contains("<@77>"), "{}", header.text);
        assert!(
            header.text.contains("https://discord.com/channels/1/2/3"),
            "{}",
            header.text
        );
        assert!(
            header.text.contains("> the app crashes\n> every time"),
            "{}",
            header.text
        );
    }

    #[tokio::test]
    async fn workflow_rules_route_tag_and_raise_a_ticket_by_its_words() {
        let desk = desk(
            r#"
            [[category]]
            id = "general"
            label = "General"
            [[category]]
            id = "outages"
            label = "Outages"
            channel = 11
            [[rule]]
            words = ["down"]
            tag = "outage"
            priority = "urgent"
            category = "outages"
            "#,
        )
        .await;
        let port = opens();
        let (ticket, _, _) = opened(
            desk.open_ticket(&port, ask("the site is down"))
                .await
                .unwrap(),
        );
        assert_eq!(ticket.category, "outages");
        assert_eq!(ticket.tags, vec!["outage".to_string()]);
        assert_eq!(ticket.priority, crate::desk::tickets::Priority::Urgent);
        assert!(matches!(
            &port.calls()[0],
            Call::OpenPrivateThread { channel: 11, .. }
        ));
    }

    #[tokio::test]
    async fn a_ticket_naming_a_running_crisis_is_tagged_and_raised() {
        let desk = desk("").await;
        desk.ledger()
            .start_crisis(GUILD, "payments", "Payments down", "looking", 9, now_ms())
            .await
            .unwrap()
            .unwrap();
        let (ticket, _, _) = opened(
            desk.open_ticket(&opens(), ask("my payments fail"))
                .await
                .unwrap(),
        );
        assert_eq!(ticket.tags, vec!["crisis-payments".to_string()]);
        assert_eq!(ticket.priority, crisis::TICKET_PRIORITY);
    }

    #[tokio::test]
    async fn the_first_response_is_due_by_the_priority_target() {
        let desk = desk("[targets]\nnormal = 45").await;
        let before = now_ms();
        let (ticket, _, _) = opened(desk.open_ticket(&opens(), ask("help")).await.unwrap());
        let due = ticket.due_at_ms.unwrap() - before;
        assert!((45 * 60_000..46 * 60_000).contains(&due), "{due}");
    }

    #[tokio::test]
    async fn a_card_that_failed_is_posted_after_a_restart_and_nothing_else_again() {
        let desk = desk("").await;
        let failing = Recording::new()
            .then("open_private_thread", Answer::Id(THREAD))
            .then("add_to_thread", Answer::Nothing)
            .then("post", Answer::Id(700))
            .then("post", Answer::Fail("503"));
        assert!(desk.open_ticket(&failing, ask("help")).await.is_err());
        let unfinished = desk.unfinished_tickets().await.unwrap();
        assert_eq!(unfinished.len(), 1);
        let port = Recording::new().then("post", Answer::Id(CARD));
        desk.finish_ticket(&port, unfinished[0].clone(), true)
            .await
            .unwrap();
        assert_eq!(port.posts()[0].0, AGENTS);
        assert!(desk.unfinished_tickets().await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_thread_made_before_a_crash_is_found_by_name_not_made_twice() {
        let desk = desk("").await;
        let failing = Recording::new().then("open_private_thread", Answer::Fail("connection lost"));
        assert!(desk.open_ticket(&failing, ask("help")).await.is_err());
        let ticket = desk.unfinished_tickets().await.unwrap().remove(0);
        let port = Recording::new()
            .then("find_thread", Answer::Id(THREAD))
            .then("add_to_thread", Answer::Nothing)
            .then("post", Answer::Id(700))
            .then("post", Answer::Id(CARD));
        assert_eq!(
            desk.finish_ticket(&port, ticket.clone(), true)
                .await
                .unwrap()
                .thread,
            THREAD
        );
        assert_eq!(
            port.calls()[0],
            Call::FindThread {
                guild: GUILD,
                parent: TICKETS,
                name: format!("ticket-{}", ticket.number)
            }
        );
        // The header's nonce is the one the first try would have used: Discord answers a
        // repeated one with the first message.
        assert_eq!(port.posts()[0].1.nonce, Some(format!("t{}", ticket.id)));
    }
}
