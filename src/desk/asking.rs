//! Ask and answer (journey J1), whole: the question is answered from the FAQ ([`Desk::ask`]),
//! with the crisis-only intents in play while a crisis runs; an answer whose intent hands over
//! to a person opens the asker's ticket at once; an answer while a crisis runs carries the link
//! to its status message. The same journey serves a message in a help channel, a forum post
//! and `/faq`.

use super::answers::{Asked, Question};
use super::crisis::CrisisLedger;
use super::opening::{OpenTicket, Opening};
use super::port::Port;
use super::tickets::TicketLedger;
use super::{Desk, Ledger, StoreError};
use crate::kb::intents::Action;

/// What answering a question came to.
#[derive(Clone, Debug, PartialEq)]
pub struct Answered {
    pub asked: Asked,
    /// For an answer whose intent hands over to a person: the asker's ticket, or `None` when
    /// it could not open (the failure is logged; the asker is told how to reach staff).
    pub handoff: Option<Opening>,
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
            handoff: None,
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
        if *action == Some(Action::Handoff) {
            let request = OpenTicket {
                guild: question.guild_id,
                customer: question.user_id,
                question_id: Some(*question_id),
                text: Some(&question.text),
                lang,
                ..OpenTicket::default()
            };
            answered.handoff = match self.open_ticket(port, request).await {
                Ok(opening) => Some(opening),
                Err(e) => {
                    tracing::error!("cannot open the ticket the answer promised: {e:#}");
                    None
                }
            };
        }
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
        assert_eq!(answered.handoff, None);
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
        let Some(Opening::Opened { ticket, .. }) = &answered.handoff else {
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
        assert_eq!(answered.handoff, None);
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
        assert_eq!(answered.handoff, None);
    }
}
