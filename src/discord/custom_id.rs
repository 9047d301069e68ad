//! Every custom id Beacon puts on a component (a button, a list, a form), in one codec: what
//! the component is for, written into its id, and read back when it is pressed. Discord gives
//! a custom id back unchanged, up to 100 characters
//! (<https://discord.com/developers/docs/components/reference#anatomy-of-a-component-custom-id>);
//! anyone can forge one, so every id is checked again by the desk (the question, the ticket,
//! who pressed) before anything happens.
//!
//! - `j1:...`: under an answer ([`AnswerButton`]).
//! - `t:...`: a ticket's buttons and forms ([`TicketId`]).
//! - `c:...`: crisis subscriptions ([`CrisisButton`]).

/// What a pressed component is for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CustomId {
    Answer(AnswerButton),
    Ticket(TicketId),
    Crisis(CrisisButton),
}

impl CustomId {
    pub fn parse(custom_id: &str) -> Option<CustomId> {
        TicketId::parse(custom_id)
            .map(CustomId::Ticket)
            .or_else(|| CrisisButton::parse(custom_id).map(CustomId::Crisis))
            .or_else(|| AnswerButton::parse(custom_id).map(CustomId::Answer))
    }
}

impl std::fmt::Display for CustomId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CustomId::Answer(a) => f.write_str(&a.custom_id()),
            CustomId::Ticket(t) => t.fmt(f),
            CustomId::Crisis(c) => c.fmt(f),
        }
    }
}

/// What a component under an answer means. Encoded in its custom id as `j1:<kind>:<question>`;
/// a pick also carries the asker, so the bot can choose how to acknowledge before any lookup.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AnswerButton {
    Solved(i64),
    Human(i64),
    Pick { question: i64, asker: u64 },
    Ticket(i64),
}

impl AnswerButton {
    pub fn custom_id(self) -> String {
        match self {
            AnswerButton::Solved(q) => format!("j1:solved:{q}"),
            AnswerButton::Human(q) => format!("j1:human:{q}"),
            AnswerButton::Pick { question, asker } => format!("j1:pick:{question}:{asker}"),
            AnswerButton::Ticket(q) => format!("j1:ticket:{q}"),
        }
    }

    pub fn parse(custom_id: &str) -> Option<AnswerButton> {
        let mut parts = custom_id.split(':');
        if parts.next()? != "j1" {
            return None;
        }
        let kind = parts.next()?;
        let question: i64 = parts.next()?.parse().ok()?;
        let action = match kind {
            "solved" => AnswerButton::Solved(question),
            "human" => AnswerButton::Human(question),
            "ticket" => AnswerButton::Ticket(question),
            "pick" => AnswerButton::Pick {
                question,
                asker: parts.next()?.parse().ok()?,
            },
            _ => return None,
        };
        parts.next().is_none().then_some(action)
    }
}

/// What a ticket button or form is for, as its custom id says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TicketId {
    /// Claim, on the agents' card.
    Claim(i64),
    /// A panel button: open a ticket in this category.
    Open(String),
    /// The category form (a modal).
    Form(String),
    /// The customer confirms an agent's close request.
    Close(i64),
    /// The customer still needs help.
    Keep(i64),
    Reopen(i64),
    /// A star rating, 1 to 5, and the comment form it opens.
    Rate(i64, u8),
    Comment(i64, u8),
}

impl TicketId {
    pub fn parse(custom_id: &str) -> Option<TicketId> {
        let rest = custom_id.strip_prefix("t:")?;
        let (kind, arg) = rest.split_once(':')?;
        let id = || arg.parse::<i64>().ok();
        let rated = || {
            let (id, stars) = arg.split_once(':')?;
            let stars: u8 = stars.parse().ok().filter(|s| (1..=5).contains(s))?;
            Some((id.parse().ok()?, stars))
        };
        Some(match kind {
            "claim" => TicketId::Claim(id()?),
            "open" => TicketId::Open(arg.to_string()),
            "form" => TicketId::Form(arg.to_string()),
            "close" => TicketId::Close(id()?),
            "keep" => TicketId::Keep(id()?),
            "reopen" => TicketId::Reopen(id()?),
            "rate" => rated().map(|(id, s)| TicketId::Rate(id, s))?,
            "comment" => rated().map(|(id, s)| TicketId::Comment(id, s))?,
            _ => return None,
        })
    }
}

impl std::fmt::Display for TicketId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TicketId::Claim(id) => write!(f, "t:claim:{id}"),
            TicketId::Open(c) => write!(f, "t:open:{c}"),
            TicketId::Form(c) => write!(f, "t:form:{c}"),
            TicketId::Close(id) => write!(f, "t:close:{id}"),
            TicketId::Keep(id) => write!(f, "t:keep:{id}"),
            TicketId::Reopen(id) => write!(f, "t:reopen:{id}"),
            TicketId::Rate(id, s) => write!(f, "t:rate:{id}:{s}"),
            TicketId::Comment(id, s) => write!(f, "t:comment:{id}:{s}"),
        }
    }
}

/// The custom id of the "Get updates by DM" button on an announcement.
fn subscribe_id(topic: &str) -> String {
    format!("c:sub:{topic}")
}

/// The custom id of the Unsubscribe button on a direct message (DMs carry no server).
fn unsubscribe_id(guild: u64, topic: &str) -> String {
    format!("c:unsub:{guild}:{topic}")
}

/// A crisis button: subscribe to a topic, or unsubscribe (server, topic).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrisisButton {
    Subscribe(String),
    Unsubscribe(u64, String),
}

impl CrisisButton {
    pub fn parse(custom_id: &str) -> Option<CrisisButton> {
        let rest = custom_id.strip_prefix("c:")?;
        if let Some(topic) = rest.strip_prefix("sub:") {
            return Some(CrisisButton::Subscribe(topic.to_string()));
        }
        let (guild, topic) = rest.strip_prefix("unsub:")?.split_once(':')?;
        Some(CrisisButton::Unsubscribe(
            guild.parse().ok()?,
            topic.to_string(),
        ))
    }
}

impl std::fmt::Display for CrisisButton {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CrisisButton::Subscribe(topic) => f.write_str(&subscribe_id(topic)),
            CrisisButton::Unsubscribe(guild, topic) => f.write_str(&unsubscribe_id(*guild, topic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discord::render::MAX_CUSTOM_ID;

    #[test]
    fn answer_ids_round_trip_and_fit_discord() {
        for a in [
            AnswerButton::Solved(1),
            AnswerButton::Human(i64::MAX),
            AnswerButton::Ticket(42),
            AnswerButton::Pick {
                question: i64::MAX,
                asker: u64::MAX,
            },
        ] {
            let id = CustomId::Answer(a).to_string();
            assert!(id.len() <= MAX_CUSTOM_ID, "{id}");
            assert_eq!(AnswerButton::parse(&id), Some(a));
        }
        for bad in [
            "",
            "j1",
            "j1:solved",
            "j1:solved:x",
            "j1:pick:1",
            "x:solved:1",
            "j1:solved:1:2",
        ] {
            assert_eq!(AnswerButton::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn ticket_ids_round_trip_and_fit_discord() {
        let all = [
            TicketId::Claim(7),
            TicketId::Open("billing".into()),
            TicketId::Form("billing".into()),
            TicketId::Close(i64::MAX),
            TicketId::Keep(1),
            TicketId::Reopen(2),
            TicketId::Rate(3, 5),
            TicketId::Comment(3, 1),
        ];
        for id in all {
            let text = id.to_string();
            assert!(text.len() <= MAX_CUSTOM_ID);
            assert_eq!(TicketId::parse(&text), Some(id));
        }
        for bad in [
            "t:rate:3:0",
            "t:rate:3:6",
            "t:claim:x",
            "j1:solved:1",
            "t:nope:1",
        ] {
            assert_eq!(TicketId::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn crisis_ids_round_trip_and_each_id_reads_as_what_wrote_it() {
        let all = [
            CustomId::Crisis(CrisisButton::Subscribe("payments".into())),
            CustomId::Crisis(CrisisButton::Unsubscribe(u64::MAX, "*".into())),
            CustomId::Ticket(TicketId::Claim(3)),
            CustomId::Answer(AnswerButton::Solved(3)),
        ];
        for id in all {
            let text = id.to_string();
            assert!(text.len() <= MAX_CUSTOM_ID, "{text}");
            assert_eq!(CustomId::parse(&text), Some(id));
        }
        assert_eq!(CustomId::parse("c:unsub:x:general"), None);
        assert_eq!(CustomId::parse("nope"), None);
    }
}
