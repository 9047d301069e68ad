//! Beacon's matcher side by side with the naive FAQ matcher many bots use: score every example
//! with fuzzy-matcher's `SkimMatcherV2` and answer with the best one's intent.
//!
//! Run with `cargo bench --bench matcher` (needs `../shared/eval` beside the repository).
//! Both run on the same knowledge base and the same questions in the same process; the naive
//! one is slow enough that it gets a deterministic sample of the questions, and Beacon is
//! measured on that same sample as well as on all of them.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use beacon::eval::{LabelledText, matcher_from_rows, percentile, read_csv};
use beacon::kb::matcher::Thresholds;
use beacon::kb::normalize::normalize;
use fuzzy_matcher::FuzzyMatcher;
use fuzzy_matcher::skim::SkimMatcherV2;

const NAIVE_SAMPLE: usize = 300;

struct Run {
    name: &'static str,
    top1: f64,
    latencies: Vec<Duration>,
}

impl Run {
    /// Latency quantile in microseconds.
    fn pct(&self, p: f64) -> f64 {
        let mut us: Vec<u128> = self.latencies.iter().map(Duration::as_micros).collect();
        us.sort_unstable();
        #[expect(clippy::cast_precision_loss, reason = "microsecond counts are small")]
        let v = percentile(&us, p) as f64;
        v
    }
}

#[expect(clippy::cast_precision_loss, reason = "counts are small")]
fn share(a: usize, b: usize) -> f64 {
    a as f64 / b.max(1) as f64
}

fn peak_rss_mb() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb / 1024.0)
}

fn bench(name: &str, kb: &Path, queries: &Path) {
    let rows = read_csv(kb).expect("knowledge base CSV");
    let queries: Vec<LabelledText> = read_csv(queries)
        .expect("queries CSV")
        .into_iter()
        .filter(|q| !q.intent.is_empty())
        .collect();
    let stride = (queries.len() / NAIVE_SAMPLE).max(1);
    let sample: Vec<&LabelledText> = queries.iter().step_by(stride).take(NAIVE_SAMPLE).collect();

    let start = Instant::now();
    let matcher = matcher_from_rows(&rows);
    let build = start.elapsed();
    let thresholds = Thresholds::default();
    let beacon_on = |qs: &[&LabelledText]| {
        let mut right = 0;
        let mut latencies = Vec::with_capacity(qs.len());
        for q in qs {
            let t = Instant::now();
            let ranked = matcher.rank(&q.text);
            let _ = thresholds.decide(&ranked);
            latencies.push(t.elapsed());
            if ranked
                .first()
                .is_some_and(|c| matcher.labels()[c.intent] == q.intent)
            {
                right += 1;
            }
        }
        Run {
            name: "beacon",
            top1: share(right, qs.len()),
            latencies,
        }
    };
    let all: Vec<&LabelledText> = queries.iter().collect();
    let beacon_all = beacon_on(&all);
    let beacon_sample = beacon_on(&sample);

    // The naive matcher: normalised examples, every one scored in both directions (a question
    // may contain an example, or an example the question), best score wins.
    let fuzzy = SkimMatcherV2::default();
    let examples: Vec<(String, &str)> = rows
        .iter()
        .filter(|r| !r.intent.is_empty())
        .map(|r| (normalize(&r.text), r.intent.as_str()))
        .collect();
    let mut right = 0;
    let mut latencies = Vec::with_capacity(sample.len());
    for q in &sample {
        let t = Instant::now();
        let question = normalize(&q.text);
        let best = examples
            .iter()
            .filter_map(|(e, intent)| {
                let score = fuzzy
                    .fuzzy_match(e, &question)
                    .max(fuzzy.fuzzy_match(&question, e))?;
                Some((score, *intent))
            })
            .max_by_key(|(score, _)| *score);
        latencies.push(t.elapsed());
        if best.is_some_and(|(_, intent)| intent == q.intent) {
            right += 1;
        }
    }
    let naive = Run {
        name: "naive skim",
        top1: share(right, sample.len()),
        latencies,
    };

    println!(
        "\n{name}: {} examples, {} in-scope questions, naive sample {}",
        examples.len(),
        queries.len(),
        sample.len()
    );
    println!("  beacon build: {} ms", build.as_millis());
    println!(
        "  {:<22} {:>8} {:>10} {:>10}",
        "matcher", "top-1", "p50 us", "p99 us"
    );
    for (label, run) in [
        ("beacon (all)", &beacon_all),
        ("beacon (sample)", &beacon_sample),
        ("naive skim (sample)", &naive),
    ] {
        println!(
            "  {:<22} {:>8.4} {:>10.0} {:>10.0}   [{}]",
            label,
            run.top1,
            run.pct(0.5),
            run.pct(0.99),
            run.name
        );
    }
    println!(
        "  on the same sample: beacon is {:.0}x faster at p50 and {:+.1} points more accurate",
        naive.pct(0.5) / beacon_sample.pct(0.5).max(1.0),
        (beacon_sample.top1 - naive.top1) * 100.0
    );
}

fn main() {
    let eval = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared/eval");
    if !eval.is_dir() {
        println!("skipped: {} not found", eval.display());
        return;
    }
    // `cargo bench` passes flags such as --bench; a name filters the data sets.
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    for (name, kb, queries) in [
        ("clinc150", "clinc150/train.csv", "clinc150/test.csv"),
        ("banking77", "banking77/train.csv", "banking77/test.csv"),
        (
            "arbanking77",
            "arbanking77/train.csv",
            "arbanking77/test_msa.csv",
        ),
    ] {
        if filter.as_deref().is_some_and(|f| !name.contains(f)) {
            continue;
        }
        bench(name, &eval.join(kb), &eval.join(queries));
    }
    if let Some(mb) = peak_rss_mb() {
        println!("\npeak resident memory of this process: {mb:.0} MB");
    }
}
