//! Grouping questions that say the same thing, so a report can show "what customers asked that
//! the FAQ could not answer" as a short list of needs rather than a long list of spellings.
//!
//! The texts are compared with the matcher's own representation (normalised words and character
//! n-grams, TF-IDF weighted, see [`features`](super::features)), fitted on the texts being
//! grouped, so words every question shares ("how", "my") weigh little. Grouping is greedy: the
//! most asked text starts a group, and each further text joins the first group whose leading
//! text it resembles closely enough, else starts its own. That is deterministic and fast for the
//! few thousand distinct texts a report looks at.

use super::features::{Featurizer, SparseVec};
use super::normalize::normalize;

/// Texts at least this similar (cosine of their vectors) are one need. Tuned by eye on the
/// evaluation sets' unanswered-looking examples: "refund please" and "how do I get a refund"
/// meet, "refund" and "refund status" of a different order do not always, which is acceptable.
pub const MIN_SIMILARITY: f32 = 0.5;

/// A group of similar questions.
#[derive(Clone, Debug, PartialEq)]
pub struct Group {
    /// The most asked text of the group, as a customer wrote it.
    pub text: String,
    /// How often any text of the group was asked.
    pub count: u64,
    /// Every text of the group with its count, most asked first (including `text`).
    pub variants: Vec<(String, u64)>,
}

/// Groups `(text, times asked)` pairs, most asked group first. Texts that normalise to nothing
/// (only punctuation or emoji) are left out.
pub fn group(texts: &[(String, u64)], min_similarity: f32) -> Vec<Group> {
    let mut items: Vec<(String, u64, String)> = texts
        .iter()
        .map(|(t, n)| (t.clone(), *n, normalize(t)))
        .filter(|(_, _, norm)| !norm.is_empty())
        .collect();
    items.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    let docs: Vec<&str> = items.iter().map(|(_, _, n)| n.as_str()).collect();
    let featurizer = Featurizer::fit(&docs);
    let vectors: Vec<SparseVec> = docs.iter().map(|d| featurizer.transform(d)).collect();

    // Each group remembers the vector of its leading text.
    let mut groups: Vec<(Group, usize)> = Vec::new();
    for (i, (text, count, norm)) in items.iter().enumerate() {
        let found = groups.iter_mut().find(|(_, lead)| {
            docs[*lead] == norm.as_str() || cosine(&vectors[*lead], &vectors[i]) >= min_similarity
        });
        match found {
            Some((g, _)) => {
                g.count += count;
                g.variants.push((text.clone(), *count));
            }
            None => groups.push((
                Group {
                    text: text.clone(),
                    count: *count,
                    variants: vec![(text.clone(), *count)],
                },
                i,
            )),
        }
    }
    let mut out: Vec<Group> = groups.into_iter().map(|(g, _)| g).collect();
    out.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.text.cmp(&b.text)));
    out
}

/// Cosine similarity of two sparse vectors with sorted indices.
fn cosine(a: &SparseVec, b: &SparseVec) -> f32 {
    let (mut i, mut j, mut dot) = (0, 0, 0.0f32);
    while i < a.idx.len() && j < b.idx.len() {
        match a.idx[i].cmp(&b.idx[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                dot += a.val[i] * b.val[j];
                i += 1;
                j += 1;
            }
        }
    }
    let norm = |v: &SparseVec| v.val.iter().map(|x| x * x).sum::<f32>().sqrt();
    let (na, nb) = (norm(a), norm(b));
    if na == 0.0 || nb == 0.0 {
        0.0
    } else {
        dot / (na * nb)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pairs(list: &[(&str, u64)]) -> Vec<(String, u64)> {
        list.iter().map(|(t, n)| (t.to_string(), *n)).collect()
    }

    #[test]
    fn spellings_of_one_need_are_one_group_and_counts_add_up() {
        let groups = group(
            &pairs(&[
                ("how do I change my username", 5),
                ("How do I change my user name?", 3),
                ("change username", 2),
                ("where is the dark mode setting", 4),
                ("dark mode settings?", 1),
                ("is the server down", 6),
            ]),
            MIN_SIMILARITY,
        );
        let summary: Vec<(&str, u64)> = groups.iter().map(|g| (g.text.as_str(), g.count)).collect();
        assert_eq!(
            summary,
            vec![
                ("how do I change my username", 10),
                ("is the server down", 6),
                ("where is the dark mode setting", 5),
            ],
            "{groups:#?}"
        );
        assert_eq!(groups[0].variants.len(), 3);
        assert_eq!(
            groups[0].variants[0],
            ("how do I change my username".into(), 5)
        );
    }

    #[test]
    fn texts_that_differ_only_in_case_and_punctuation_always_meet() {
        let groups = group(&pairs(&[("Refund?!", 1), ("refund", 2)]), 0.99);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].text, "refund");
        assert_eq!(groups[0].count, 3);
    }

    #[test]
    fn persian_spellings_group_and_stay_apart_from_other_needs() {
        let groups = group(
            &pairs(&[
                ("پرداخت من انجام نشد", 4),
                ("پرداختم انجام نشد", 2),
                ("رمز عبورم را فراموش کردم", 3),
            ]),
            MIN_SIMILARITY,
        );
        assert_eq!(groups.len(), 2, "{groups:#?}");
        assert_eq!(groups[0].count, 6);
        assert_eq!(groups[1].count, 3);
    }

    #[test]
    fn empty_and_punctuation_only_texts_are_left_out() {
        assert!(group(&[], MIN_SIMILARITY).is_empty());
        assert!(group(&pairs(&[("?!", 4), ("🙂", 1)]), MIN_SIMILARITY).is_empty());
    }
}
