//! The matcher: from a message to the intents it most likely asks, with a confidence, and a
//! decision to answer, to suggest, or to abstain.
//!
//! Confidence combines two signals that fail differently:
//! - the classifier's probability (`p`), which is high when one intent wins clearly over the
//!   others, but can be high for a question unlike anything in the knowledge base when its few
//!   known words all point one way;
//! - the cosine similarity to the closest example of that intent (`s`), which is high only
//!   when a customer wrote something close to a phrasing the knowledge base knows, but cannot
//!   tell two similar intents apart.
//!
//! The confidence is their geometric mean `sqrt(p * s)`. The similarity term does not depend on
//! how many intents a knowledge base has, which is what lets one default threshold serve a
//! 20-intent starter set and a 150-intent one (README, "Choosing the threshold").

use super::features::{Featurizer, SparseVec};
use super::model::{Softmax, TrainConfig};
use super::normalize::normalize;

/// How many intents are scored in full for every message; the classifier's top few always
/// contain the right one when any does.
const SHORTLIST: usize = 5;

thread_local! {
    /// A dense copy of the current question's vector, zeroed again after each use.
    static SCRATCH: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Confidence above which the bot answers. Chosen on the CLINC150 validation split, the only
/// tuning data with out-of-scope questions: the lowest threshold at which answers would be right
/// 95% of the time if one question in five were out of scope (README, "Choosing the threshold").
pub const DEFAULT_ANSWER_THRESHOLD: f32 = 0.57;
/// Below the answer threshold, intents at least this confident are offered as "did you mean".
pub const DEFAULT_SUGGEST_THRESHOLD: f32 = 0.30;
/// At most this many suggestions: a short list is read, a long one is not.
pub const MAX_SUGGESTIONS: usize = 3;

/// One intent considered for a message.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Candidate {
    /// Index of the intent in the labels the matcher was built with.
    pub intent: usize,
    pub probability: f32,
    pub similarity: f32,
    pub confidence: f32,
}

/// What to do with a message.
#[derive(Debug, Clone, PartialEq)]
pub enum Decision {
    /// Confident: answer with this intent.
    Answer(usize),
    /// A close call: offer these intents, best first.
    Suggest(Vec<usize>),
    /// Nothing fits well enough: do not answer (offer a ticket instead).
    Abstain,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Thresholds {
    pub answer: f32,
    pub suggest: f32,
}

impl Default for Thresholds {
    fn default() -> Self {
        Thresholds {
            answer: DEFAULT_ANSWER_THRESHOLD,
            suggest: DEFAULT_SUGGEST_THRESHOLD,
        }
    }
}

impl Thresholds {
    /// These thresholds with another answer threshold. A "did you mean" list never needs more
    /// confidence than an answer, so the suggest threshold comes down with it.
    pub fn with_answer(self, answer: f32) -> Thresholds {
        Thresholds {
            answer,
            suggest: self.suggest.min(answer),
        }
    }

    /// Decides from candidates sorted best first (as [`Matcher::rank`] returns them), after
    /// the caller has removed the intents that may not answer now.
    pub fn decide(&self, candidates: &[Candidate]) -> Decision {
        match candidates.first() {
            Some(best) if best.confidence >= self.answer => Decision::Answer(best.intent),
            _ => {
                let close: Vec<usize> = candidates
                    .iter()
                    .filter(|c| c.confidence >= self.suggest)
                    .take(MAX_SUGGESTIONS)
                    .map(|c| c.intent)
                    .collect();
                if close.is_empty() {
                    Decision::Abstain
                } else {
                    Decision::Suggest(close)
                }
            }
        }
    }
}

/// A trained matcher over labelled examples.
#[derive(Debug)]
pub struct Matcher {
    featurizer: Featurizer,
    model: Softmax,
    labels: Vec<String>,
    examples: Vec<SparseVec>,
    /// Length of each example's vector, for cosine similarity.
    norms: Vec<f32>,
    by_intent: Vec<Vec<u32>>,
}

impl Matcher {
    /// Builds a matcher from `(text, intent index)` examples; `labels[i]` names intent `i`.
    /// Texts are raw: they are normalised here exactly as questions will be.
    pub fn build<S: AsRef<str>>(labels: Vec<String>, examples: &[(S, usize)]) -> Self {
        Self::build_with(labels, examples, TrainConfig::default())
    }

    pub fn build_with<S: AsRef<str>>(
        labels: Vec<String>,
        examples: &[(S, usize)],
        cfg: TrainConfig,
    ) -> Self {
        let normalised: Vec<String> = examples
            .iter()
            .map(|(t, _)| normalize(t.as_ref()))
            .collect();
        let docs: Vec<&str> = normalised.iter().map(String::as_str).collect();
        let featurizer = Featurizer::fit(&docs);
        let vectors: Vec<SparseVec> = docs.iter().map(|d| featurizer.transform(d)).collect();
        let mut by_intent = vec![Vec::new(); labels.len()];
        let mut train_ids = Vec::with_capacity(examples.len());
        for (i, (v, (_, label))) in vectors.iter().zip(examples).enumerate() {
            // A wordless example ("!!!") says nothing; the knowledge-base loader reports it.
            if v.is_empty() || *label >= labels.len() {
                continue;
            }
            #[expect(
                clippy::cast_possible_truncation,
                reason = "example counts stay below 2^32"
            )]
            by_intent[*label].push(i as u32);
            train_ids.push((i, *label));
        }
        let model = Softmax::train(featurizer.dim(), labels.len(), &vectors, &train_ids, cfg);
        Matcher {
            featurizer,
            model,
            labels,
            norms: vectors
                .iter()
                .map(|v| {
                    v.val
                        .iter()
                        .map(|x| x * x)
                        .sum::<f32>()
                        .sqrt()
                        .max(f32::MIN_POSITIVE)
                })
                .collect(),
            examples: vectors,
            by_intent,
        }
    }

    pub fn labels(&self) -> &[String] {
        &self.labels
    }

    /// The best intents for a raw message, most confident first (at most [`SHORTLIST`]).
    /// An empty or wordless message gets no candidates.
    pub fn rank(&self, text: &str) -> Vec<Candidate> {
        self.rank_normalized(&normalize(text))
    }

    /// [`Matcher::rank`] for text already passed through [`normalize`].
    pub fn rank_normalized(&self, normalized: &str) -> Vec<Candidate> {
        let x = self.featurizer.transform(normalized);
        if x.is_empty() || self.labels.is_empty() {
            return Vec::new();
        }
        let probs = self.model.predict(&x);
        let mut order: Vec<usize> = (0..probs.len()).collect();
        let k = SHORTLIST.min(order.len());
        order.select_nth_unstable_by(k - 1, |a, b| probs[*b].total_cmp(&probs[*a]));
        order.truncate(k);
        let mut out: Vec<Candidate> = SCRATCH.with_borrow_mut(|dense| {
            // Scatter the query once, then each example's dot product is a gather over its own
            // features: several times faster than merging two sorted lists per example.
            dense.resize(self.featurizer.dim(), 0.0);
            for (&i, &v) in x.idx.iter().zip(&x.val) {
                dense[i as usize] = v;
            }
            let norm_x = x.val.iter().map(|v| v * v).sum::<f32>().sqrt();
            let candidates = order
                .into_iter()
                .map(|intent| {
                    let similarity = self.by_intent[intent]
                        .iter()
                        .map(|&e| {
                            let ex = &self.examples[e as usize];
                            let dot: f32 = ex
                                .idx
                                .iter()
                                .zip(&ex.val)
                                .map(|(&i, &v)| dense[i as usize] * v)
                                .sum();
                            dot / (norm_x * self.norms[e as usize])
                        })
                        .fold(0.0f32, f32::max)
                        .clamp(0.0, 1.0);
                    let probability = probs[intent];
                    Candidate {
                        intent,
                        probability,
                        similarity,
                        confidence: (probability * similarity).sqrt(),
                    }
                })
                .collect();
            for &i in &x.idx {
                dense[i as usize] = 0.0;
            }
            candidates
        });
        out.sort_by(|a, b| b.confidence.total_cmp(&a.confidence));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_new_answer_threshold_brings_the_suggest_threshold_down_never_up() {
        let t = Thresholds {
            answer: 0.6,
            suggest: 0.3,
        };
        assert_eq!(
            t.with_answer(0.2),
            Thresholds {
                answer: 0.2,
                suggest: 0.2
            }
        );
        assert_eq!(
            t.with_answer(0.9),
            Thresholds {
                answer: 0.9,
                suggest: 0.3
            }
        );
    }
}
