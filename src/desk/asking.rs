//! Ask and answer (journey J1), whole: the question is answered from the FAQ ([`Desk::ask`]),
//! with the crisis-only intents in play while a crisis runs; an answer whose intent hands over
//! to a person opens the asker's ticket at once, one that subscribes (or unsubscribes) does
//! that for every crisis topic; an answer while a crisis runs carries the link
//! to its status message. The same journey serves a message in a help channel, a forum post
//! and `/faq`.

use super::answers::{Asked, Question};
use super::crisis::CrisisLedger;
use super::opening::{OpenTicket, Opening};
use super::port::Port;
use super::subscribers::{Subscribe, Subscribed};
use super::tickets::TicketLedger;
use super::{Desk, Ledger, StoreError};
use crate::kb::intents::Action;

/// What an answered intent's action did besides answering.
#[derive(Clone, Debug, PartialEq)]
pub enum Done {
    /// The handoff intent: the asker's ticket.
    Ticket(Box<Opening>),
    /// The subscribe intent, for every crisis topic.
    Subscribed(Subscribed),
    /// The unsubscribe intent; whether they were subscribed at all.
    Unsubscribed(bool),
}

/// What answering a question came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Answered {
    pub asked: Asked,
    /// What the answered intent's action did; `None` when it has none, or when it failed (the
    /// failure is logged; for a handoff the asker is told how to reach staff instead).
    pub done: Option<Done>,
    /// Under an answer, while crises run on the server: the links to their status messages.
    pub status_links: Vec<String>,
}

impl<L: Ledger + TicketLedger + CrisisLedger> Desk<L> {
    /// Answer a question. `question.crisis` is set here, from the crises running on its
    /// server.
    pub async fn answer(
        &self,
        port: &dyn Port,
        mut question: Question,
    ) -> Result<Answered, StoreError> {
        let running = self.running_crises(question.guild_id).await?;
        question.crisis = !running.is_empty();
        let asked = self.ask(&question).await?;
        let mut answered = Answered {
            asked,
            done: None,
            status_links: vec![],
        };
        let Asked::Answer {
            question_id,
            action,
            lang,
            ..
        } = &answered.asked
        else {
            return Ok(answered);
        };
        answered.status_links = running.iter().filter_map(|c| c.status_link()).collect();
        let (guild, user) = (question.guild_id, question.user_id);
        let done = match action {
            None => return Ok(answered),
            Some(Action::Handoff) => {
                let request = OpenTicket {
                    guild,
                    customer: user,
                    question_id: Some(*question_id),
                    text: Some(&question.text),
                    lang,
                    ..OpenTicket::default()
                };
                self.open_ticket(port, request)
                    .await
                    .map(|o| Done::Ticket(Box::new(o)))
            }
            Some(Action::Subscribe) => {
                let request = Subscribe {
                    guild,
                    user,
                    topic: None,
                    lang,
                };
                self.subscribe(port, request).await.map(Done::Subscribed)
            }
            Some(Action::Unsubscribe) => self
                .unsubscribe(guild, user, None)
                .await
                .map(Done::Unsubscribed)
                .map_err(anyhow::Error::from),
        };
        answered.done = match done {
            Ok(done) => Some(done),
            Err(e) => {
                tracing::error!("cannot do what the answer promised: {e:#}");
                None
            }
        };
        Ok(answered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::answers::Source;
    use crate::desk::port::recording::Recording;
    use crate::desk::testing::*;
    use crate::kb::faq::Faq;
    use crate::kb::matcher::Thresholds;
    use crate::store::Store;

    async fn asking_desk() -> Desk<Store> {
        let desk = desk("").await;
        // The knowledge base Beacon ships with.
        let kb = crate::kb::intents::load_dir(std::path::Path::new("intents")).unwrap();
        desk.replace_faq(Faq::new(kb, Thresholds::default()));
        desk
    }

    fn question(id: u64, text: &str) -> Question {
        Question {
            guild_id: GUILD,
            channel_id: 5,
            user_id: CUSTOMER,
            source: Source::Message,
            source_id: id,
            text: text.into(),
            locale: None,
            chosen: None,
            crisis: false,
            again: false,
        }
    }

    #[tokio::test]
    async fn a_plain_answer_opens_nothing_and_links_nothing_without_a_crisis() {
        let desk = asking_desk().await;
        let answered = desk
            .answer(&Recording::new(), question(1, "how do I get a refund"))
            .await
            .unwrap();
        assert!(
            matches!(&answered.asked, Asked::Answer { action: None, .. }),
            "{answered:?}"
        );
        assert_eq!(answered.done, None);
        assert!(answered.status_links.is_empty());
    }

    #[tokio::test]
    async fn an_answer_that_hands_over_opens_the_askers_ticket() {
        let desk = asking_desk().await;
        let port = opens();
        let answered = desk
            .answer(&port, question(2, "can i speak to a real human"))
            .await
            .unwrap();
        let Some(Done::Ticket(opening)) = &answered.done else {
            panic!("no ticket: {answered:?}")
        };
        let Opening::Opened { ticket, .. } = opening.as_ref() else {
            panic!("no ticket: {answered:?}")
        };
        assert_eq!(ticket.customer_id, CUSTOMER);
        let Asked::Answer { question_id, .. } = answered.asked else {
            panic!()
        };
        // The ticket remembers the question it came from.
        assert_eq!(ticket.question_id, Some(question_id));
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn a_ticket_that_cannot_open_still_leaves_the_answer() {
        use crate::desk::port::recording::Answer;
        let desk = asking_desk().await;
        let port = Recording::new().then("open_private_thread", Answer::Fail("50013"));
        let answered = desk
            .answer(&port, question(3, "can i speak to a real human"))
            .await
            .unwrap();
        assert!(matches!(answered.asked, Asked::Answer { .. }));
        assert_eq!(answered.done, None);
    }

    #[tokio::test]
    async fn a_question_nothing_fits_is_not_handed_over() {
        let desk = asking_desk().await;
        let answered = desk
            .answer(&Recording::new(), question(4, "zzzz qqqq"))
            .await
            .unwrap();
        assert!(
            matches!(answered.asked, Asked::Abstain { .. }),
            "{answered:?}"
        );
        assert_eq!(answered.done, None);
    }

    #[tokio::test]
    async fn an_answer_while_a_crisis_runs_links_its_status_message() {
        use crate::desk::port::recording::Answer;
        use crate::desk::publishing::StartCrisis;
        let desk = asking_desk().await;
        let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
        settings.status_channel = Some(15);
        desk.save_settings(settings).await.unwrap();
        // No announcement channel: the progress, the status message, its pin.
        let starts = Recording::new()
            .then("post", Answer::Id(100))
            .then("post", Answer::Id(101))
            .then("pin", Answer::Nothing);
        let start = StartCrisis {
            by: crate::desk::tickets::Actor {
                is_moderator: true,
                ..actor(AGENT, false)
            },
            channel: 5,
            topic: Some("payments".into()),
            title: "Card payments failing".into(),
            status: "We are on it.".into(),
            status_page: None,
        };
        desk.start_crisis(&starts, start).await.unwrap();
        assert!(starts.all_made());
        let answered = desk
            .answer(&Recording::new(), question(5, "how do I get a refund"))
            .await
            .unwrap();
        assert_eq!(
            answered.status_links,
            [crate::desk::message_link(GUILD, 15, 101)]
        );
    }
}
