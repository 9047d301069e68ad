//! `beacon eval`: measures the matcher on a labelled query set.
//!
//! The knowledge base is an intents directory or a `text,intent` CSV such as those in
//! `../shared/eval`; queries are a `text,intent` CSV where an empty intent marks a question the
//! bot should not answer. The figures are the ones the README's targets are stated in.

use std::path::Path;
use std::time::Instant;

use anyhow::{Context, Result};
use serde::Serialize;

use crate::kb::faq::{Context as FaqContext, Faq, Outcome};
use crate::kb::matcher::{Decision, Matcher, Thresholds};

/// One labelled row of a CSV file.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct LabelledText {
    pub text: String,
    #[serde(default)]
    pub intent: String,
}

/// Reads a `text,intent` CSV, naming the file and row of any malformed line.
pub fn read_csv(path: &Path) -> Result<Vec<LabelledText>> {
    if path.is_dir() {
        anyhow::bail!(
            "{} is a folder: give a `text,intent` CSV file (a folder of intents is only for --kb)",
            path.display()
        );
    }
    let mut reader =
        csv::Reader::from_path(path).with_context(|| format!("cannot open {}", path.display()))?;
    let mut rows = Vec::new();
    for (i, row) in reader.deserialize().enumerate() {
        let row: LabelledText =
            row.with_context(|| format!("{}: row {} is not `text,intent`", path.display(), i + 2))?;
        rows.push(row);
    }
    if rows.is_empty() {
        anyhow::bail!(
            "{} holds no rows: a `text,intent` header, then one labelled question a line",
            path.display()
        );
    }
    Ok(rows)
}

/// The report printed by `beacon eval`, one JSON object with exactly these keys.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub queries: usize,
    pub in_scope: usize,
    pub out_of_scope: usize,
    pub top1_accuracy: f64,
    pub answered_precision: f64,
    pub coverage: f64,
    pub oos_abstain: Option<f64>,
    pub threshold: f32,
    pub build_ms: u128,
    pub p50_us: u128,
    pub p99_us: u128,
}

/// Something that ranks and decides: the bare matcher for a CSV knowledge base, or the FAQ
/// (with its rules about crisis-only intents and forbidden phrases) for an intents directory.
pub trait Answerer {
    /// The best intent's id (if any) and the decision, with the answer given as an id.
    fn answer(&self, text: &str, thresholds: &Thresholds) -> (Option<String>, Option<String>);
}

impl Answerer for Matcher {
    fn answer(&self, text: &str, thresholds: &Thresholds) -> (Option<String>, Option<String>) {
        let ranked = self.rank(text);
        let top = ranked.first().map(|c| self.labels()[c.intent].clone());
        let answered = match thresholds.decide(&ranked) {
            Decision::Answer(i) => Some(self.labels()[i].clone()),
            _ => None,
        };
        (top, answered)
    }
}

impl Answerer for Faq {
    fn answer(&self, text: &str, thresholds: &Thresholds) -> (Option<String>, Option<String>) {
        // Evaluation treats every intent as live, crisis-only ones included.
        let reply = self.ask_with(text, FaqContext { crisis: true }, *thresholds);
        let top = reply.top.first().map(|s| s.intent.id.clone());
        let answered = match reply.outcome {
            Outcome::Answer(i) => Some(i.id.clone()),
            _ => None,
        };
        (top, answered)
    }
}

/// Builds a matcher from labelled rows (intents in order of first appearance).
pub fn matcher_from_rows(rows: &[LabelledText]) -> Matcher {
    let mut labels: Vec<String> = Vec::new();
    let mut index = std::collections::HashMap::new();
    let mut examples = Vec::with_capacity(rows.len());
    for r in rows.iter().filter(|r| !r.intent.is_empty()) {
        let id = *index.entry(r.intent.clone()).or_insert_with(|| {
            labels.push(r.intent.clone());
            labels.len() - 1
        });
        examples.push((r.text.as_str(), id));
    }
    Matcher::build(labels, &examples)
}

/// The `p` quantile (0 to 1) of sorted values, nearest rank; 0 for none.
pub fn percentile(sorted: &[u128], p: f64) -> u128 {
    if sorted.is_empty() {
        return 0;
    }
    #[expect(
        clippy::cast_possible_truncation,
        clippy::cast_sign_loss,
        clippy::cast_precision_loss,
        reason = "an index into a short list"
    )]
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i]
}

/// Runs every query and computes the report. `build_ms` is passed in because building is the
/// caller's business (a CSV or an intents directory).
pub fn evaluate(
    answerer: &dyn Answerer,
    queries: &[LabelledText],
    thresholds: &Thresholds,
    build_ms: u128,
) -> Report {
    let mut times = Vec::with_capacity(queries.len());
    let (mut in_scope, mut top1, mut answered, mut answered_right, mut covered, mut oos_abstained) =
        (0usize, 0usize, 0usize, 0usize, 0usize, 0usize);
    for q in queries {
        let start = Instant::now();
        let (top, answer) = answerer.answer(&q.text, thresholds);
        times.push(start.elapsed().as_micros());
        let oos = q.intent.is_empty();
        if oos {
            if answer.is_none() {
                oos_abstained += 1;
            }
        } else {
            in_scope += 1;
            if top.as_deref() == Some(q.intent.as_str()) {
                top1 += 1;
            }
            if answer.is_some() {
                covered += 1;
            }
        }
        if let Some(a) = &answer {
            answered += 1;
            if !oos && *a == q.intent {
                answered_right += 1;
            }
        }
    }
    times.sort_unstable();
    let ratio = |a: usize, b: usize| -> f64 {
        #[expect(clippy::cast_precision_loss, reason = "counts are far below 2^52")]
        let r = if b == 0 { 0.0 } else { a as f64 / b as f64 };
        (r * 10_000.0).round() / 10_000.0
    };
    let out_of_scope = queries.len() - in_scope;
    Report {
        queries: queries.len(),
        in_scope,
        out_of_scope,
        top1_accuracy: ratio(top1, in_scope),
        answered_precision: ratio(answered_right, answered),
        coverage: ratio(covered, in_scope),
        oos_abstain: (out_of_scope > 0).then(|| ratio(oos_abstained, out_of_scope)),
        threshold: thresholds.answer,
        build_ms,
        p50_us: percentile(&times, 0.50),
        p99_us: percentile(&times, 0.99),
    }
}
