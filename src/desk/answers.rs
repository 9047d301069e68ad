//! Journey J1: a customer asks, the FAQ decides, the desk stores what happened.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use super::cooldown::{Cooldown, Verdict};
use super::workflow::TicketsConfig;
use super::{EventKind, EventRecord, GuildSettings, Ledger, QuestionRecord, StoreError, now_ms};
use crate::kb::faq::{Context, Faq, Outcome};
use crate::kb::intents::{Action, Intent};
use crate::kb::lang;
use crate::locale::Locales;

/// Where a question came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    /// A message in a help channel.
    Message,
    /// The first post of a support-forum thread.
    Forum,
    /// The `/faq` command.
    Slash,
}

impl Source {
    pub fn name(self) -> &'static str {
        match self {
            Source::Message => "message",
            Source::Forum => "forum",
            Source::Slash => "slash",
        }
    }

    pub fn from_name(name: &str) -> Option<Source> {
        match name {
            "message" => Some(Source::Message),
            "forum" => Some(Source::Forum),
            "slash" => Some(Source::Slash),
            _ => None,
        }
    }
}

/// A question as the adapter hands it over.
#[derive(Clone, Debug)]
pub struct Question {
    pub guild_id: u64,
    pub channel_id: u64,
    pub user_id: u64,
    pub source: Source,
    pub source_id: u64,
    pub text: String,
    /// The Discord client's locale (`en-US`, `fr`, ...) when the question came as an interaction.
    pub locale: Option<String>,
    /// An intent the customer chose from `/faq` autocomplete: answered as chosen.
    pub chosen: Option<String>,
    /// A crisis is running on the server: its crisis-only intents may answer.
    pub crisis: bool,
    /// Read again after a restart (the catch-up): when it was stored before but its reply was
    /// never recorded (the process stopped in between), it is answered now instead of skipped.
    /// The caller has checked the channel holds no reply to it.
    pub again: bool,
}

/// An intent as offered to a customer: its id and a label in the customer's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Offer {
    pub intent: String,
    pub label: String,
}

/// What to tell the customer.
#[derive(Clone, Debug, PartialEq)]
pub enum Asked {
    /// A confident answer.
    Answer {
        question_id: i64,
        intent: String,
        text: String,
        lang: String,
        /// What the intent asks the bot to do besides answering (hand over to a person, ...).
        action: Option<Action>,
    },
    /// A close call: "did you mean" one of these.
    Suggest {
        question_id: i64,
        offers: Vec<Offer>,
        lang: String,
    },
    /// Nothing fits: offer a person instead.
    Abstain { question_id: i64, lang: String },
    /// Too many questions too fast. `notify` is false when the user was told already.
    Cooldown {
        wait: Duration,
        notify: bool,
        lang: String,
    },
    /// This message or interaction was handled before (a redelivered event): say nothing.
    Duplicate,
}

/// The result of a press on a button or a pick in a list under an answer.
#[derive(Clone, Debug, PartialEq)]
pub struct Pressed {
    pub question: QuestionRecord,
    /// For a picked suggestion: the answer in the question's language.
    pub answer: Option<(String, String)>,
}

/// Statistics of a loaded knowledge base, for the moderator who reloaded it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KbStats {
    pub intents: usize,
    pub examples: usize,
}

impl KbStats {
    pub fn of(faq: &Faq) -> Self {
        let kb = faq.knowledge_base();
        KbStats {
            intents: kb.intents.len(),
            examples: kb.intents.iter().map(|i| i.examples.len()).sum(),
        }
    }
}

/// The help desk: the FAQ in use, the flood guard, and the ledger.
pub struct Desk<L> {
    ledger: L,
    faq: RwLock<Arc<Faq>>,
    cooldown: Cooldown,
    settings: Mutex<HashMap<u64, Arc<GuildSettings>>>,
    /// Held from reading settings to saving them, so two changes at once cannot lose one.
    settings_writes: tokio::sync::Mutex<()>,
    /// Ticket categories, limits, targets and workflow rules, from the configuration.
    pub tickets: TicketsConfig,
    /// What Beacon says, in each language it speaks.
    pub locales: &'static Locales,
    /// Each server's running crises, read once and forgotten when one starts, changes or ends
    /// (see `desk::crisis`).
    pub(super) crises: Mutex<HashMap<u64, Arc<Vec<super::crisis::Crisis>>>>,
    pub(super) crises_generation: std::sync::atomic::AtomicU64,
}

impl<L: Ledger> Desk<L> {
    pub fn new(ledger: L, faq: Faq, cooldown: Cooldown, tickets: TicketsConfig) -> Self {
        Desk {
            ledger,
            faq: RwLock::new(Arc::new(faq)),
            cooldown,
            settings: Mutex::new(HashMap::new()),
            settings_writes: tokio::sync::Mutex::new(()),
            tickets,
            locales: Locales::embedded(),
            crises: Mutex::new(HashMap::new()),
            crises_generation: std::sync::atomic::AtomicU64::new(0),
        }
    }

    pub fn ledger(&self) -> &L {
        &self.ledger
    }

    /// The FAQ answering now.
    pub fn faq(&self) -> Arc<Faq> {
        self.faq.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// Start answering from another FAQ; questions already being answered finish on the old one.
    pub fn replace_faq(&self, faq: Faq) -> KbStats {
        let stats = KbStats::of(&faq);
        *self.faq.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(faq);
        stats
    }

    /// A server's settings, cached: only `/setup` changes them, and it goes through
    /// [`Desk::save_settings`].
    pub async fn settings(&self, guild_id: u64) -> Result<Arc<GuildSettings>, StoreError> {
        if let Some(s) = self.cache().get(&guild_id) {
            return Ok(s.clone());
        }
        let loaded = Arc::new(self.ledger.settings(guild_id).await?);
        // A save that finished while this was reading is newer: it stays.
        Ok(self.cache().entry(guild_id).or_insert(loaded).clone())
    }

    /// Hold this while reading, changing and saving settings: two moderators running /setup at
    /// once then both keep their change (this process; see the README on several processes).
    pub async fn editing_settings(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.settings_writes.lock().await
    }

    pub async fn save_settings(&self, mut settings: GuildSettings) -> Result<(), StoreError> {
        settings.updated_at_ms = now_ms();
        self.ledger.save_settings(&settings).await?;
        self.cache().insert(settings.guild_id, Arc::new(settings));
        Ok(())
    }

    fn cache(&self) -> std::sync::MutexGuard<'_, HashMap<u64, Arc<GuildSettings>>> {
        self.settings.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Answer a question: decide, store the question and the decision, and say what to reply.
    /// The row is stored before anything is sent, so a reply a customer saw always has its row.
    pub async fn ask(&self, q: &Question) -> Result<Asked, StoreError> {
        let settings = self.settings(q.guild_id).await?;
        let faq = self.faq();
        let reply_lang = choose_lang(&q.text, q.locale.as_deref());
        let mut record = QuestionRecord {
            guild_id: q.guild_id,
            channel_id: q.channel_id,
            user_id: q.user_id,
            source: q.source,
            source_id: q.source_id,
            text: q.text.clone(),
            lang: reply_lang.to_string(),
            outcome: String::new(),
            intent: None,
            confidence: 0.0,
            suggestions: Vec::new(),
            asked_at_ms: now_ms(),
        };
        // The flood guard counts questions as they arrive; a catch-up reads at once what came
        // over minutes, so it is not held against the member (the window bounds it).
        if !q.again
            && let Verdict::Wait { wait, first } =
                self.cooldown.check(q.guild_id, q.user_id, Instant::now())
        {
            record.outcome = "cooldown".into();
            if self.ledger.record_question(&record).await?.is_none() {
                return Ok(Asked::Duplicate);
            }
            crate::metrics::get().question(&record.outcome);
            return Ok(Asked::Cooldown {
                wait,
                notify: first,
                lang: reply_lang.to_string(),
            });
        }
        let thresholds = match settings.threshold {
            Some(t) => faq.thresholds().with_answer(t as f32),
            None => faq.thresholds(),
        };
        let ctx = Context { crisis: q.crisis };
        let mut reply = faq.ask_with(&q.text, ctx, thresholds);
        if let Some(best) = reply.top.first() {
            record.confidence = f64::from(best.confidence);
        }
        // A choice from autocomplete is answered as chosen, unless it may not answer now.
        if let Some(intent) = q.chosen.as_deref().and_then(|id| faq.intent(id))
            && (ctx.crisis || !intent.crisis_only)
        {
            reply.outcome = Outcome::Answer(intent);
            record.confidence = 1.0;
        }
        match &reply.outcome {
            Outcome::Answer(intent) => {
                record.outcome = "answer".into();
                record.intent = Some(intent.id.clone());
            }
            Outcome::Suggest(list) => {
                record.outcome = "suggest".into();
                record.suggestions = list.iter().map(|i| i.id.clone()).collect();
            }
            Outcome::Abstain => record.outcome = "abstain".into(),
        }
        let question_id = match self.ledger.record_question(&record).await? {
            Some(id) => {
                crate::metrics::get().question(&record.outcome);
                id
            }
            None if q.again => match self.ledger.unreplied(q.source_id).await? {
                Some(id) => id,
                None => return Ok(Asked::Duplicate),
            },
            None => return Ok(Asked::Duplicate),
        };
        let lang = reply_lang.to_string();
        Ok(match &reply.outcome {
            Outcome::Answer(intent) => Asked::Answer {
                question_id,
                intent: intent.id.clone(),
                text: intent.answer_in(Some(reply_lang)).1.to_string(),
                lang,
                action: intent.action,
            },
            Outcome::Suggest(list) => Asked::Suggest {
                question_id,
                offers: list.iter().map(|i| offer(i, reply_lang)).collect(),
                lang,
            },
            Outcome::Abstain => Asked::Abstain { question_id, lang },
        })
    }

    /// A server the bot is in, with its name (its public status page is titled with it).
    pub async fn server_named(&self, guild_id: u64, name: &str) -> Result<(), StoreError> {
        self.ledger.remember_server_name(guild_id, name).await
    }

    /// Remember the message that carried the reply to a question.
    pub async fn replied(&self, question_id: i64, reply_id: u64) -> Result<(), StoreError> {
        self.ledger.set_reply(question_id, reply_id).await
    }

    /// Someone pressed a button or picked from a list under the reply to question `question_id`.
    /// `None` when there is no such question (a forged or stale custom id).
    pub async fn press(
        &self,
        question_id: i64,
        user_id: u64,
        kind: EventKind,
        picked: Option<&str>,
    ) -> Result<Option<Pressed>, StoreError> {
        let Some((question, _)) = self.ledger.question(question_id).await? else {
            return Ok(None);
        };
        let faq = self.faq();
        let answer = match (kind, picked) {
            (EventKind::Picked, Some(id)) => match faq.intent(id) {
                // Only what was offered may be picked: a custom id is the client's to forge.
                Some(intent) if question.suggestions.iter().any(|s| s == id) => {
                    let (_, text) = intent.answer_in(Some(&question.lang));
                    Some((intent.id.clone(), text.to_string()))
                }
                _ => return Ok(None),
            },
            (EventKind::Picked, None) => return Ok(None),
            _ => None,
        };
        self.ledger
            .record_event(&EventRecord {
                question_id,
                user_id,
                kind,
                intent: answer.as_ref().map(|(id, _)| id.clone()),
                at_ms: now_ms(),
            })
            .await?;
        crate::metrics::get().answer_event(kind.name());
        Ok(Some(Pressed { question, answer }))
    }
}

/// The language to answer in: the question's own script when it is not Latin (Discord has no
/// Persian, Arabic or Armenian client locale), else the client's locale when Beacon speaks it,
/// else English.
pub fn choose_lang(text: &str, locale: Option<&str>) -> &'static str {
    let detected = lang::detect(text);
    if let Some(l) = detected.filter(|l| *l != "en") {
        return l;
    }
    let from_locale = locale
        .and_then(|l| l.split('-').next())
        .and_then(|l| lang::SUPPORTED.iter().find(|s| **s == l).copied());
    from_locale.or(detected).unwrap_or("en")
}

/// An intent offered in a "did you mean" list.
fn offer(intent: &Intent, lang: &str) -> Offer {
    Offer {
        intent: intent.id.clone(),
        label: label_in(intent, lang),
    }
}

/// How to name an intent to a customer: its first example in the customer's language (titles are
/// written in English), or its title when it has none.
pub fn label_in(intent: &Intent, lang: &str) -> String {
    let label = if lang == "en" {
        None
    } else {
        intent
            .examples
            .iter()
            .find(|e| lang::detect(&e.text) == Some(lang))
            .map(|e| e.text.clone())
    };
    label.unwrap_or_else(|| intent.title.clone())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::memory::MemoryLedger;
    use crate::kb::intents::{KnowledgeBase, parse_file};
    use crate::kb::matcher::Thresholds;

    const KB: &str = r#"
[[intent]]
id = "refund"
title = "Asking for a refund"
examples = ["i want a refund", "refund please", "give me my money back", "how do i get a refund",
  "can i get my money back", "return my money", "پولم را پس بدهید", "میخواهم پولم را پس بگیرم",
  "بازپرداخت می‌خواهم", "چطور پولم را پس بگیرم", "پول من را برگردانید"]
answer = "Refunds take 5 days."
answers.fa = "بازپرداخت ۵ روز طول می‌کشد."

[[intent]]
id = "shipping"
title = "My order is late"
examples = ["where is my order", "my package is late", "order not arrived", "shipping is slow",
  "parcel still not here", "when will my order arrive"]
answer = "Orders arrive within 10 days."

[[intent]]
id = "outage"
title = "The outage"
crisis_only = true
examples = ["is the site down", "outage", "service is down", "site not loading", "servers down",
  "cannot reach the website"]
answer = "We are on it."
"#;

    fn desk() -> Desk<MemoryLedger> {
        let mut problems = Vec::new();
        let intents = parse_file(std::path::Path::new("test.toml"), KB, &mut problems);
        assert!(problems.is_empty(), "{problems:?}");
        let faq = Faq::new(KnowledgeBase { intents }, Thresholds::default());
        Desk::new(
            MemoryLedger::default(),
            faq,
            Cooldown::new(100, Duration::from_secs(30)),
            TicketsConfig::default(),
        )
    }

    fn question(source_id: u64, text: &str) -> Question {
        Question {
            guild_id: 1,
            channel_id: 2,
            user_id: 3,
            source: Source::Message,
            source_id,
            text: text.into(),
            locale: None,
            chosen: None,
            crisis: false,
            again: false,
        }
    }

    fn block_on<F: std::future::Future>(f: F) -> F::Output {
        tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap()
            .block_on(f)
    }

    #[test]
    fn answers_are_stored_before_they_are_returned_and_never_twice() {
        block_on(async {
            let desk = desk();
            let asked = desk
                .ask(&question(10, "i want a refund please"))
                .await
                .unwrap();
            let Asked::Answer {
                question_id,
                intent,
                text,
                lang,
                ..
            } = asked
            else {
                panic!("expected an answer, got {asked:?}");
            };
            assert_eq!(
                (intent.as_str(), text.as_str(), lang.as_str()),
                ("refund", "Refunds take 5 days.", "en")
            );
            let stored = desk.ledger().questions();
            assert_eq!(stored.len(), 1);
            assert_eq!(stored[0].outcome, "answer");
            assert_eq!(question_id, 1);
            // The same message again (a redelivered event) is not answered again.
            assert_eq!(
                desk.ask(&question(10, "i want a refund please"))
                    .await
                    .unwrap(),
                Asked::Duplicate
            );
            assert_eq!(desk.ledger().questions().len(), 1);
        });
    }

    #[test]
    fn a_question_read_again_is_answered_only_when_its_reply_was_never_recorded() {
        block_on(async {
            let desk = desk();
            let first = desk
                .ask(&question(10, "how do I get my money back"))
                .await
                .unwrap();
            let again = Question {
                again: true,
                ..question(10, "how do I get my money back")
            };
            // Stored, not replied: answered again, under the same question.
            let redo = desk.ask(&again).await.unwrap();
            assert_eq!(redo, first);
            // Replied: nothing to do.
            let id = match first {
                Asked::Answer { question_id, .. } => question_id,
                other => panic!("{other:?}"),
            };
            desk.replied(id, 99).await.unwrap();
            assert_eq!(desk.ask(&again).await.unwrap(), Asked::Duplicate);
            assert_eq!(desk.ledger().questions().len(), 1, "still one row");
        });
    }

    #[test]
    fn a_server_threshold_and_a_chosen_intent_change_the_decision() {
        block_on(async {
            let desk = desk();
            let mut strict = GuildSettings::new(1);
            strict.threshold = Some(0.999);
            desk.save_settings(strict).await.unwrap();
            let asked = desk
                .ask(&question(11, "i want a refund please"))
                .await
                .unwrap();
            assert!(
                matches!(asked, Asked::Suggest { .. } | Asked::Abstain { .. }),
                "{asked:?}"
            );
            // A choice from autocomplete answers as chosen, but never a crisis-only intent.
            let mut chosen = question(12, "Asking for a refund");
            chosen.chosen = Some("refund".into());
            assert!(matches!(
                desk.ask(&chosen).await.unwrap(),
                Asked::Answer { .. }
            ));
            let mut crisis = question(13, "The outage");
            crisis.chosen = Some("outage".into());
            assert!(
                !matches!(desk.ask(&crisis).await.unwrap(), Asked::Answer { ref intent, .. } if intent == "outage")
            );
            // While a crisis runs on the server, it answers.
            let mut during = question(14, "The outage");
            during.chosen = Some("outage".into());
            during.crisis = true;
            assert!(
                matches!(desk.ask(&during).await.unwrap(), Asked::Answer { ref intent, .. } if intent == "outage")
            );
        });
    }

    #[test]
    fn only_offered_intents_may_be_picked_and_answers_follow_the_question_language() {
        block_on(async {
            let desk = desk();
            // A close call in Persian that offered the refund intent.
            let record = QuestionRecord {
                guild_id: 1,
                channel_id: 2,
                user_id: 7,
                source: Source::Message,
                source_id: 20,
                text: "پول".into(),
                lang: "fa".into(),
                outcome: "suggest".into(),
                intent: None,
                confidence: 0.4,
                suggestions: vec!["refund".into()],
                asked_at_ms: 0,
            };
            let id = desk
                .ledger()
                .record_question(&record)
                .await
                .unwrap()
                .unwrap();
            let p = desk
                .press(id, 7, EventKind::Picked, Some("refund"))
                .await
                .unwrap()
                .unwrap();
            assert_eq!(p.question.user_id, 7, "the asker's own question");
            assert_eq!(
                p.answer.unwrap(),
                (
                    "refund".to_string(),
                    "بازپرداخت ۵ روز طول می‌کشد.".to_string()
                )
            );
            // Never offered, or unknown: refused, and nothing is recorded.
            assert!(
                desk.press(id, 7, EventKind::Picked, Some("shipping"))
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                desk.press(id, 7, EventKind::Picked, Some("nope"))
                    .await
                    .unwrap()
                    .is_none()
            );
            assert!(
                desk.press(99, 7, EventKind::Solved, None)
                    .await
                    .unwrap()
                    .is_none()
            );
            let solved = desk
                .press(id, 8, EventKind::Solved, None)
                .await
                .unwrap()
                .unwrap();
            assert_eq!(
                solved.question.user_id, 7,
                "a bystander presses the asker's question"
            );
            let events: Vec<(EventKind, u64)> = desk
                .ledger()
                .events(id)
                .await
                .unwrap()
                .iter()
                .map(|e| (e.kind, e.user_id))
                .collect();
            assert_eq!(events, [(EventKind::Picked, 7), (EventKind::Solved, 8)]);
        });
    }

    #[test]
    fn language_follows_the_script_then_the_client_locale() {
        assert_eq!(choose_lang("پولم را پس بدهید", Some("en-US")), "fa");
        assert_eq!(choose_lang("أريد استرداد أموالي", None), "ar");
        assert_eq!(choose_lang("Ինչպես վերադարձնել գումարը", Some("fr")), "hy");
        assert_eq!(choose_lang("refund please", Some("en-GB")), "en");
        assert_eq!(choose_lang("refund please", Some("fr")), "en");
        assert_eq!(choose_lang("🙂", None), "en");
    }
}
