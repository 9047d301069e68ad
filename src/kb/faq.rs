//! The FAQ: a knowledge base with its trained matcher, answering questions under the rules the
//! intent files set (crisis-only intents, never-phrases) in the customer's language.

use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

use super::intents::{Intent, KnowledgeBase};
use super::lang;
use super::matcher::{Candidate, Decision, Matcher, Thresholds};
use super::normalize::normalize;

/// What the server is going through when a question arrives.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Context {
    /// A crisis is running: crisis-only intents may answer.
    pub crisis: bool,
}

/// One intent considered for a question.
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub intent: &'a Intent,
    pub confidence: f32,
}

/// The FAQ's reply to a question, before any Discord formatting.
#[derive(Debug, Clone)]
pub enum Outcome<'a> {
    Answer(&'a Intent),
    Suggest(Vec<&'a Intent>),
    Abstain,
}

#[derive(Debug, Clone)]
pub struct Reply<'a> {
    pub outcome: Outcome<'a>,
    /// The best intents, most confident first, including ones not allowed to answer now.
    pub top: Vec<Scored<'a>>,
    /// The language the question seems to be written in.
    pub lang: Option<&'static str>,
}

impl Reply<'_> {
    /// The answer text in the question's language (falling back to the default answer), and
    /// the language it is in.
    pub fn answer_text(&self) -> Option<(&str, &str)> {
        match &self.outcome {
            Outcome::Answer(i) => Some(i.answer_in(self.lang)),
            _ => None,
        }
    }
}

/// A knowledge base ready to answer.
#[derive(Debug)]
pub struct Faq {
    kb: KnowledgeBase,
    matcher: Matcher,
    /// Each intent's never-phrases, normalised and padded with spaces for whole-word search.
    never: Vec<Vec<String>>,
    /// Each intent's title and examples, normalised once for autocomplete.
    searchable: Vec<Vec<String>>,
    thresholds: Thresholds,
}

impl Faq {
    /// Trains the matcher on every example of every intent (crisis-only ones included, so
    /// that a crisis question is recognised as such even when it may not be answered).
    pub fn new(kb: KnowledgeBase, thresholds: Thresholds) -> Self {
        let labels = kb.intents.iter().map(|i| i.id.clone()).collect();
        let examples: Vec<(&str, usize)> = kb
            .intents
            .iter()
            .enumerate()
            .flat_map(|(n, i)| i.examples.iter().map(move |e| (e.text.as_str(), n)))
            .collect();
        let matcher = Matcher::build(labels, &examples);
        let never = kb
            .intents
            .iter()
            .map(|i| {
                i.never
                    .iter()
                    .map(|p| format!(" {} ", normalize(p)))
                    .collect()
            })
            .collect();
        let searchable = kb
            .intents
            .iter()
            .map(|i| {
                std::iter::once(i.title.as_str())
                    .chain(i.examples.iter().map(|e| e.text.as_str()))
                    .map(normalize)
                    .collect()
            })
            .collect();
        Faq {
            kb,
            matcher,
            never,
            searchable,
            thresholds,
        }
    }

    pub fn knowledge_base(&self) -> &KnowledgeBase {
        &self.kb
    }

    pub fn thresholds(&self) -> Thresholds {
        self.thresholds
    }

    /// Whether intent `n` may answer this question now.
    fn allowed(&self, n: usize, padded_question: &str, ctx: Context) -> bool {
        let intent = &self.kb.intents[n];
        (ctx.crisis || !intent.crisis_only)
            && !self.never[n].iter().any(|p| padded_question.contains(p))
    }

    /// Answers a question: never panics, whatever the text.
    pub fn ask(&self, question: &str, ctx: Context) -> Reply<'_> {
        self.ask_with(question, ctx, self.thresholds)
    }

    /// [`Faq::ask`] with other thresholds, for evaluation and for servers that set their own.
    pub fn ask_with(&self, question: &str, ctx: Context, thresholds: Thresholds) -> Reply<'_> {
        let normalized = normalize(question);
        let ranked = self.matcher.rank_normalized(&normalized);
        let padded = format!(" {normalized} ");
        let allowed: Vec<Candidate> = ranked
            .iter()
            .copied()
            .filter(|c| self.allowed(c.intent, &padded, ctx))
            .collect();
        // A question whose best match may not answer now (a crisis question outside a crisis)
        // is not answered by the runner-up either: that would be answering the wrong thing.
        let best_is_allowed = ranked.first().map(|c| c.intent) == allowed.first().map(|c| c.intent);
        let decision = if best_is_allowed {
            thresholds.decide(&allowed)
        } else {
            match thresholds.decide(&allowed) {
                Decision::Answer(i) => Decision::Suggest(vec![i]),
                other => other,
            }
        };
        let intent = |i: usize| &self.kb.intents[i];
        let outcome = match decision {
            Decision::Answer(i) => Outcome::Answer(intent(i)),
            Decision::Suggest(list) => Outcome::Suggest(list.into_iter().map(intent).collect()),
            Decision::Abstain => Outcome::Abstain,
        };
        Reply {
            outcome,
            top: ranked
                .iter()
                .map(|c| Scored {
                    intent: intent(c.intent),
                    confidence: c.confidence,
                })
                .collect(),
            lang: lang::detect(question),
        }
    }

    /// Choices for `/faq` autocomplete as the customer types: intents whose title or examples
    /// fuzzily contain what was typed (fuzzy-matcher's skim algorithm, made for exactly this),
    /// then the matcher's best guesses for a longer sentence. At most `limit`, best first.
    pub fn autocomplete(&self, typed: &str, ctx: Context, limit: usize) -> Vec<&Intent> {
        let typed_norm = normalize(typed);
        let padded = format!(" {typed_norm} ");
        let visible: Vec<usize> = (0..self.kb.intents.len())
            .filter(|&n| self.allowed(n, &padded, ctx))
            .collect();
        if typed_norm.is_empty() {
            return visible
                .into_iter()
                .take(limit)
                .map(|n| &self.kb.intents[n])
                .collect();
        }
        let fuzzy = SkimMatcherV2::default();
        let mut scored: Vec<(i64, usize)> = visible
            .iter()
            .filter_map(|&n| {
                self.searchable[n]
                    .iter()
                    .filter_map(|t| fuzzy.fuzzy_match(t, &typed_norm))
                    .max()
                    .map(|s| (s, n))
            })
            .collect();
        scored.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
        let mut out: Vec<usize> = Vec::new();
        for c in self.matcher.rank_normalized(&typed_norm) {
            if c.confidence >= self.thresholds.suggest && visible.contains(&c.intent) {
                out.push(c.intent);
            }
        }
        for (_, n) in scored {
            if !out.contains(&n) {
                out.push(n);
            }
        }
        out.into_iter()
            .take(limit)
            .map(|n| &self.kb.intents[n])
            .collect()
    }

    /// The intent a customer picked from a list, by id.
    pub fn intent(&self, id: &str) -> Option<&Intent> {
        self.kb.get(id)
    }
}
