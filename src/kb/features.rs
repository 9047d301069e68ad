//! Turning normalised text into sparse TF-IDF vectors.
//!
//! Two views of a message are concatenated, each scaled to unit length:
//! - words: unigrams and bigrams, which carry meaning ("cancel order" vs "cancel subscription");
//! - characters: 1- to 5-grams inside each word padded with spaces, which tolerate typos,
//!   inflection and scripts written without our help (Persian and Arabic prefixes, Armenian
//!   endings) without a stemmer per language.
//!
//! This is the representation the evaluation data favours (see README, "The matcher"):
//! on BANKING77 it beats word features alone by about two points of accuracy.
//!
//! N-grams are identified by a 64-bit hash rather than stored as strings: looking a query up
//! then allocates nothing, and a collision among a few hundred thousand n-grams is vanishingly
//! unlikely (and would only merge two features).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};

/// Character n-grams seen in fewer examples than this are dropped: they are mostly typos of one
/// example and only cost memory.
const CHAR_MIN_DF: u32 = 2;
const CHAR_MAX_N: usize = 5;

/// A sparse vector: feature indices in increasing order, with their weights.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SparseVec {
    pub idx: Vec<u32>,
    pub val: Vec<f32>,
}

impl SparseVec {
    pub fn is_empty(&self) -> bool {
        self.idx.is_empty()
    }
}

/// Which view an n-gram belongs to; part of its hash so that the word "a" and the character
/// "a" are different features.
#[derive(Clone, Copy, Hash)]
enum View {
    Word,
    Char,
}

fn gram_key(view: View, parts: &[&str]) -> u64 {
    let mut h = DefaultHasher::new();
    view.hash(&mut h);
    for p in parts {
        p.hash(&mut h);
    }
    h.finish()
}

/// Calls `f` with the key of every word unigram and bigram of a normalised text.
fn word_grams(text: &str, f: &mut dyn FnMut(u64)) {
    let mut prev: Option<&str> = None;
    for w in text.split(' ').filter(|w| !w.is_empty()) {
        f(gram_key(View::Word, &[w]));
        if let Some(p) = prev {
            f(gram_key(View::Word, &[p, w]));
        }
        prev = Some(w);
    }
}

/// Calls `f` with the key of every character 1..=5-gram of every word padded with spaces
/// (the padding marks the beginning and end of a word, where endings and prefixes live).
fn char_grams(text: &str, f: &mut dyn FnMut(u64)) {
    let mut padded = String::new();
    let mut bounds: Vec<usize> = Vec::new();
    for w in text.split(' ').filter(|w| !w.is_empty()) {
        padded.clear();
        padded.push(' ');
        padded.push_str(w);
        padded.push(' ');
        bounds.clear();
        bounds.extend(padded.char_indices().map(|(i, _)| i));
        bounds.push(padded.len());
        let chars = bounds.len() - 1;
        for n in 1..=CHAR_MAX_N.min(chars) {
            for start in 0..=chars - n {
                let gram = &padded[bounds[start]..bounds[start + n]];
                if n == 1 && gram == " " {
                    continue;
                }
                f(gram_key(View::Char, &[gram]));
            }
        }
    }
}

/// One view's vocabulary: n-gram key to feature index, and each feature's IDF.
#[derive(Debug, Default)]
struct Vocab {
    index: HashMap<u64, u32>,
    idf: Vec<f32>,
}

impl Vocab {
    fn fit(docs: &[&str], grams: fn(&str, &mut dyn FnMut(u64)), min_df: u32, offset: u32) -> Self {
        let mut df: HashMap<u64, u32> = HashMap::new();
        let mut seen: Vec<u64> = Vec::new();
        for doc in docs {
            seen.clear();
            grams(doc, &mut |k| seen.push(k));
            seen.sort_unstable();
            seen.dedup();
            for k in &seen {
                *df.entry(*k).or_default() += 1;
            }
        }
        // Sorting the kept keys makes feature indices, and so training, reproducible.
        let mut kept: Vec<(u64, u32)> = df.into_iter().filter(|&(_, n)| n >= min_df).collect();
        kept.sort_unstable();
        #[expect(
            clippy::cast_precision_loss,
            reason = "document counts are far below 2^24"
        )]
        let n_docs = docs.len() as f32;
        let mut index = HashMap::with_capacity(kept.len());
        let mut idf = Vec::with_capacity(kept.len());
        for (i, (k, n)) in kept.into_iter().enumerate() {
            #[expect(
                clippy::cast_possible_truncation,
                reason = "vocabularies stay far below 2^32"
            )]
            index.insert(k, offset + i as u32);
            #[expect(
                clippy::cast_precision_loss,
                reason = "document counts are far below 2^24"
            )]
            idf.push(((1.0 + n_docs) / (1.0 + n as f32)).ln() + 1.0);
        }
        Vocab { index, idf }
    }

    fn len(&self) -> u32 {
        #[expect(
            clippy::cast_possible_truncation,
            reason = "vocabularies stay far below 2^32"
        )]
        let n = self.idf.len() as u32;
        n
    }

    /// Appends this view's unit-length TF-IDF vector for `text` to `out` (indices ascending).
    fn transform(
        &self,
        text: &str,
        grams: fn(&str, &mut dyn FnMut(u64)),
        offset: u32,
        out: &mut SparseVec,
    ) {
        let mut counts: Vec<u32> = Vec::new();
        grams(text, &mut |k| {
            if let Some(&i) = self.index.get(&k) {
                counts.push(i);
            }
        });
        counts.sort_unstable();
        let start = out.idx.len();
        let mut k = 0;
        while k < counts.len() {
            let i = counts[k];
            let run = counts[k..].iter().take_while(|&&j| j == i).count();
            #[expect(clippy::cast_precision_loss, reason = "term counts are small")]
            let tf = 1.0 + (run as f32).ln();
            out.idx.push(i);
            out.val.push(tf * self.idf[(i - offset) as usize]);
            k += run;
        }
        let norm = out.val[start..].iter().map(|v| v * v).sum::<f32>().sqrt();
        if norm > 0.0 {
            for v in &mut out.val[start..] {
                *v /= norm;
            }
        }
    }
}

/// The fitted vectoriser: both vocabularies, learnt from a knowledge base's examples.
#[derive(Debug, Default)]
pub struct Featurizer {
    words: Vocab,
    chars: Vocab,
}

impl Featurizer {
    /// Learns the vocabularies from normalised example texts.
    pub fn fit(docs: &[&str]) -> Self {
        let words = Vocab::fit(docs, word_grams, 1, 0);
        let chars = Vocab::fit(docs, char_grams, CHAR_MIN_DF, words.len());
        Featurizer { words, chars }
    }

    /// Number of features, the width of every vector.
    pub fn dim(&self) -> usize {
        (self.words.len() + self.chars.len()) as usize
    }

    /// The vector of a normalised text. Each view has unit length, so the whole has length
    /// sqrt(2) unless a view is empty; cosine similarity accounts for that.
    pub fn transform(&self, text: &str) -> SparseVec {
        let mut out = SparseVec::default();
        self.words.transform(text, word_grams, 0, &mut out);
        self.chars
            .transform(text, char_grams, self.words.len(), &mut out);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cosine(a: &SparseVec, b: &SparseVec) -> f32 {
        let value: std::collections::HashMap<u32, f32> =
            b.idx.iter().copied().zip(b.val.iter().copied()).collect();
        let dot: f32 = a
            .idx
            .iter()
            .zip(&a.val)
            .map(|(i, v)| v * value.get(i).unwrap_or(&0.0))
            .sum();
        let norm = |v: &SparseVec| v.val.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm(a) == 0.0 || norm(b) == 0.0 {
            return 0.0;
        }
        dot / (norm(a) * norm(b))
    }

    #[test]
    fn identical_texts_have_cosine_one_and_unrelated_texts_zero() {
        let f = Featurizer::fit(&["where is my order", "where is my refund", "xyz qqq"]);
        let a = f.transform("where is my order");
        assert!((cosine(&a, &a) - 1.0).abs() < 1e-5);
        let b = f.transform("zzzz");
        assert_eq!(cosine(&a, &b), 0.0);
    }

    #[test]
    fn a_typo_stays_close_to_the_word_it_misspells() {
        let f = Featurizer::fit(&["refund my order", "refund my order", "track my parcel"]);
        let typo = f.transform("refnud my ordr");
        let right = f.transform("refund my order");
        let other = f.transform("track my parcel");
        assert!(cosine(&typo, &right) > cosine(&typo, &other));
        assert!(cosine(&typo, &right) > 0.3);
    }

    #[test]
    fn vectors_are_sorted_and_unit_length_per_view() {
        let f = Featurizer::fit(&["سلام دوست من", "سلام دوست من", "բարեւ ձեզ"]);
        let v = f.transform("سلام دوست");
        assert!(v.idx.windows(2).all(|w| w[0] < w[1]));
        let norm2: f32 = v.val.iter().map(|x| x * x).sum();
        assert!((norm2 - 2.0).abs() < 1e-4, "two unit views, got {norm2}");
    }

    #[test]
    fn empty_text_gives_an_empty_vector() {
        let f = Featurizer::fit(&["hello there"]);
        assert!(f.transform("").is_empty());
    }
}
