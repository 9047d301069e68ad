//! A report over a big server: one million stored questions and 100,000 tickets, on SQLite, in
//! under 2 s (issue 6).
//!
//! The data is generated inside SQLite (recursive CTEs, deterministic arithmetic, so every run
//! has the same rows): 1,000,000 questions over 30 days (60% answered, 15% suggestions, 20%
//! abstained, 5% cooldown notices; a third of the answers marked solved, some handoffs and
//! "none fit"), with texts drawn from the BANKING77 and CLINC150 test splits; 100,000 tickets
//! (20 agents, 5 categories, tags, first responses from 1 to 240 min, 80% closed, 70% of those
//! rated); two crises with updates and 20,000 deliveries.
//!
//! Measured: `report::build` for the whole 30 days, the same call Beacon's `/report` and
//! `beacon report` make (every figure, per agent, tag, category and crisis, the timeline and the
//! unanswered questions grouped by similarity), run 5 times after one warm-up.
//!
//! Baseline, side by side in the same run: the obvious way without aggregates, reading the
//! period's questions and tickets into memory and computing the headline figures there. Its
//! figures must equal the report's, which checks the SQL on a million rows as well.
//!
//! Run with `cargo bench --bench report`. `BENCH_QUESTIONS` and `BENCH_TICKETS` change the size.

use std::collections::{BTreeMap, HashSet};
use std::time::Instant;

use beacon::desk::report::{self, Durations, Period, TicketFigures};
use beacon::store::Store;
use sqlx::Row;

const GUILD: i64 = 1_300_000_000_000_000_001;
const DAY: i64 = 86_400_000;
/// 2026-10-01 00:00 UTC.
const START: i64 = 1_790_812_800_000;
const DAYS: i64 = 30;

fn env_or(name: &str, default: i64) -> i64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// Questions' texts: real customer phrasings from the evaluation sets' test splits.
fn phrases() -> Vec<String> {
    let mut out = Vec::new();
    for set in ["banking77", "clinc150"] {
        let path = format!(
            "{}/../shared/eval/{set}/test.csv",
            env!("CARGO_MANIFEST_DIR")
        );
        let Ok(mut reader) = csv::Reader::from_path(&path) else {
            continue;
        };
        for r in reader.records().flatten().take(1500) {
            out.push(r[0].to_string());
        }
    }
    if out.is_empty() {
        out = (0..500)
            .map(|i| format!("how do I do thing number {i}"))
            .collect();
    }
    out
}

async fn generate(pool: &sqlx::SqlitePool, questions: i64, tickets: i64) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::query("CREATE TEMP TABLE phrases (k INTEGER PRIMARY KEY, text TEXT NOT NULL)")
        .execute(&mut *tx)
        .await
        .unwrap();
    let phrases = phrases();
    for (k, p) in phrases.iter().enumerate() {
        sqlx::query("INSERT INTO phrases (k, text) VALUES ($1, $2)")
            .bind(k as i64)
            .bind(p)
            .execute(&mut *tx)
            .await
            .unwrap();
    }
    let n = phrases.len() as i64;
    // i spreads evenly over the 30 days; (i * prime) % m gives a fixed pseudo-random pick.
    sqlx::query(&format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {questions}) \
         INSERT INTO questions (guild_id, channel_id, user_id, source, source_id, text, lang, \
           outcome, intent, confidence, suggestions, asked_at) \
         SELECT {GUILD}, 7, 100000 + (i * 7919) % 50000, 'message', i, \
           (SELECT text FROM phrases WHERE k = (i * 104729) % {n}), 'en', \
           CASE WHEN i % 20 < 12 THEN 'answer' WHEN i % 20 < 15 THEN 'suggest' \
                WHEN i % 20 < 19 THEN 'abstain' ELSE 'cooldown' END, \
           NULL, 0.5, '[]', {START} + i * {span} / {questions} FROM s",
        span = DAYS * DAY
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    for (kind, filter) in [
        ("solved", "outcome = 'answer' AND id % 3 = 0"),
        ("human", "outcome = 'answer' AND id % 50 = 1"),
        ("picked", "outcome = 'suggest' AND id % 2 = 0"),
        ("solved", "outcome = 'suggest' AND id % 4 = 0"),
        ("none_fit", "outcome = 'suggest' AND id % 4 = 1"),
    ] {
        sqlx::query(&format!(
            "INSERT INTO question_events (question_id, user_id, kind, intent, at) \
             SELECT id, user_id, '{kind}', NULL, asked_at + 1000 FROM questions WHERE {filter}"
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    let tags = "CASE i % 8 WHEN 0 THEN 'refund' WHEN 1 THEN 'refund,vip' WHEN 2 THEN 'outage' \
                WHEN 3 THEN 'crisis-payments,outage' WHEN 4 THEN 'bug' WHEN 5 THEN 'vip' \
                ELSE '' END";
    sqlx::query(&format!(
        "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < {tickets}) \
         INSERT INTO tickets (guild_id, number, customer_id, category, priority, state, agent_id, \
           question_id, opened_at, first_response_at, closed_at, tags, rating) \
         SELECT {GUILD}, i, 100000 + i % 50000, \
           CASE i % 5 WHEN 0 THEN 'billing' WHEN 1 THEN 'technical' WHEN 2 THEN 'account' \
             WHEN 3 THEN 'shipping' ELSE 'general' END, 'normal', \
           CASE WHEN i % 10 < 8 THEN 'closed' WHEN i % 10 = 8 THEN 'claimed' ELSE 'waiting' END, \
           CASE WHEN i % 10 = 9 THEN NULL ELSE 200 + (i * 31) % 20 END, \
           CASE WHEN i % 7 = 0 THEN i * 9 ELSE NULL END, \
           {START} + i * {span} / {tickets}, \
           CASE WHEN i % 10 = 9 THEN NULL ELSE {START} + i * {span} / {tickets} + 60000 * (1 + (i * 37) % 240) END, \
           CASE WHEN i % 10 < 8 THEN {START} + i * {span} / {tickets} + 60000 * (60 + (i * 53) % 2880) ELSE NULL END, \
           {tags}, \
           CASE WHEN i % 10 < 8 AND i % 10 <> 3 AND i % 10 <> 6 THEN 1 + (i * 13) % 5 ELSE NULL END \
         FROM s",
        span = DAYS * DAY
    ))
    .execute(&mut *tx)
    .await
    .unwrap();
    for (id, topic, from, to) in [(1, "payments", 10, 12), (2, "login", 20, 21)] {
        sqlx::query(&format!(
            "INSERT INTO crises (id, guild_id, topic, title, status_text, started_by, started_at, ended_at) \
             VALUES ({id}, {GUILD}, '{topic}', 'Trouble with {topic}', 'on it', 3, {}, {})",
            START + from * DAY,
            START + to * DAY
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(&format!(
            "INSERT INTO crisis_updates (id, crisis_id, kind, text, posted_by, at) \
             VALUES ({id}, {id}, 'start', 'on it', 3, {})",
            START + from * DAY
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
        sqlx::query(&format!(
            "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < 10000) \
             INSERT INTO outbox (update_id, user_id, channel_id, state, next_at) \
             SELECT {id}, i, i, CASE WHEN i % 50 = 0 THEN 'refused' ELSE 'sent' END, 0 FROM s"
        ))
        .execute(&mut *tx)
        .await
        .unwrap();
    }
    tx.commit().await.unwrap();
    sqlx::query("ANALYZE").execute(pool).await.unwrap();
}

/// The baseline: the period's rows read into memory, the headline figures computed there.
struct Baseline {
    overall: TicketFigures,
    by_agent: Vec<(String, TicketFigures)>,
    asked: u64,
    deflected: u64,
}

async fn baseline(pool: &sqlx::SqlitePool, period: Period) -> Baseline {
    let rows = sqlx::query(
        "SELECT id, outcome FROM questions WHERE guild_id = $1 AND asked_at >= $2 AND asked_at < $3",
    )
    .bind(GUILD)
    .bind(period.from_ms)
    .bind(period.to_ms)
    .fetch_all(pool)
    .await
    .unwrap();
    let mut asked = 0;
    for r in &rows {
        if r.get::<String, _>("outcome") != "cooldown" {
            asked += 1;
        }
    }
    let solved: HashSet<i64> =
        sqlx::query("SELECT question_id FROM question_events WHERE kind = 'solved'")
            .fetch_all(pool)
            .await
            .unwrap()
            .iter()
            .map(|r| r.get(0))
            .collect();
    let tickets = sqlx::query(
        "SELECT agent_id, question_id, state, opened_at, first_response_at, closed_at, rating \
         FROM tickets WHERE guild_id = $1",
    )
    .bind(GUILD)
    .fetch_all(pool)
    .await
    .unwrap();
    let from_tickets: HashSet<i64> = tickets
        .iter()
        .filter_map(|r| r.get::<Option<i64>, _>("question_id"))
        .collect();
    let in_period = |ms: i64| ms >= period.from_ms && ms < period.to_ms;
    let deflected = rows
        .iter()
        .map(|r| r.get::<i64, _>("id"))
        .filter(|id| solved.contains(id) && !from_tickets.contains(id))
        .count() as u64;

    #[derive(Default)]
    struct Acc {
        opened: u64,
        first: Vec<i64>,
        resolution: Vec<i64>,
        ratings: [u64; 5],
    }
    let mut groups: BTreeMap<String, Acc> = BTreeMap::new();
    let mut all = Acc::default();
    for r in &tickets {
        let agent = r
            .get::<Option<i64>, _>("agent_id")
            .map_or(String::new(), |a| a.to_string());
        let opened: i64 = r.get("opened_at");
        let closed: Option<i64> = r.get("closed_at");
        let state: String = r.get("state");
        for acc in [&mut all, groups.entry(agent).or_default()] {
            if in_period(opened) {
                acc.opened += 1;
                if let Some(f) = r.get::<Option<i64>, _>("first_response_at") {
                    acc.first.push(f - opened);
                }
            }
            if let Some(c) = closed.filter(|c| state == "closed" && in_period(*c)) {
                acc.resolution.push(c - opened);
                if let Some(stars) = r.get::<Option<i64>, _>("rating") {
                    acc.ratings[(stars - 1) as usize] += 1;
                }
            }
        }
    }
    let figures = |a: &Acc| TicketFigures {
        opened: a.opened,
        first_response: Durations::of(&a.first),
        resolution: Durations::of(&a.resolution),
        ratings: a.ratings,
    };
    Baseline {
        overall: figures(&all),
        by_agent: groups
            .iter()
            .map(|(k, a)| (k.clone(), figures(a)))
            .collect(),
        asked,
        deflected,
    }
}

/// Where a report's time goes, one ledger call at a time (in the report they run at once).
async fn breakdown(store: &Store, guild: u64, period: Period) {
    use beacon::desk::report::ReportLedger;
    let mut parts: Vec<(String, f64)> = Vec::new();
    macro_rules! timed {
        ($name:expr, $call:expr) => {{
            let t = Instant::now();
            let out = $call.await.unwrap();
            parts.push(($name.to_string(), t.elapsed().as_secs_f64() * 1000.0));
            out
        }};
    }
    let rows = timed!("ticket rows", store.ticket_rows(guild, period));
    let t = Instant::now();
    let by_tag = report::figures_by(&rows, period, |r| {
        r.tags
            .split(',')
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect::<Vec<_>>()
    });
    let _ = report::figures_by(&rows, period, |r| vec![r.category.clone()]);
    let _ = report::figures_by(&rows, period, |r| vec![r.agent_id]);
    parts.push((
        format!(
            "{} tickets grouped three ways ({} tags)",
            rows.len(),
            by_tag.len()
        ),
        t.elapsed().as_secs_f64() * 1000.0,
    ));
    timed!(
        "questions per outcome",
        store.question_totals(guild, period)
    );
    let bounds = period.bounds(&jiff::tz::TimeZone::UTC);
    timed!("questions per day", store.question_buckets(guild, &bounds));
    timed!("question events", store.question_events(guild, period));
    let texts = timed!(
        "unanswered texts",
        store.unanswered(guild, period, report::UNANSWERED_TEXTS)
    );
    let t = Instant::now();
    let groups = beacon::kb::similar::group(&texts, beacon::kb::similar::MIN_SIMILARITY);
    parts.push((
        format!("grouping {} texts into {} needs", texts.len(), groups.len()),
        t.elapsed().as_secs_f64() * 1000.0,
    ));
    timed!("crises", store.crises_during(guild, period));
    println!("where the time goes (one run, each part alone):");
    for (name, ms) in parts {
        println!("  {name:<44} {ms:>7.0} ms");
    }
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[tokio::main]
async fn main() {
    let questions = env_or("BENCH_QUESTIONS", 1_000_000);
    let tickets = env_or("BENCH_TICKETS", 100_000);
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    let pool = sqlx::SqlitePool::connect(&url).await.unwrap();
    let started = Instant::now();
    generate(&pool, questions, tickets).await;
    let size = std::fs::metadata(dir.path().join("beacon.db")).map_or(0, |m| m.len());
    println!(
        "generated {questions} questions and {tickets} tickets in {:.1} s ({} MB on disk)",
        started.elapsed().as_secs_f64(),
        size / 1_000_000
    );

    let period = Period {
        from_ms: START,
        to_ms: START + DAYS * DAY,
    };
    let guild = GUILD as u64;
    let _warm = report::build(&store, guild, period, jiff::tz::TimeZone::UTC)
        .await
        .unwrap();
    breakdown(&store, guild, period).await;
    let mut beacon_times = Vec::new();
    let mut baseline_times = Vec::new();
    let mut last = None;
    let mut base = None;
    for _ in 0..5 {
        let t = Instant::now();
        last = Some(
            report::build(&store, guild, period, jiff::tz::TimeZone::UTC)
                .await
                .unwrap(),
        );
        beacon_times.push(t.elapsed().as_secs_f64());
        let t = Instant::now();
        base = Some(baseline(&pool, period).await);
        baseline_times.push(t.elapsed().as_secs_f64());
    }
    let (r, base) = (last.unwrap(), base.unwrap());

    // The same figures both ways.
    let mut ok = true;
    let mut check = |what: &str, same: bool| {
        println!(
            "  check {what}: {}",
            if same { "same" } else { "DIFFERENT" }
        );
        ok &= same;
    };
    check("overall ticket figures", r.overall == base.overall);
    check("per-agent ticket figures", r.by_agent == base.by_agent);
    check("questions asked", r.questions.asked == base.asked);
    check(
        "questions deflected",
        r.questions.deflected == base.deflected,
    );

    println!(
        "report over {} questions, {} tickets: {} agents, {} tags, {} categories, {} crises, \
         {} unanswered ({} groups shown), {} timeline buckets",
        r.questions.asked,
        r.overall.opened,
        r.by_agent.len(),
        r.by_tag.len(),
        r.by_category.len(),
        r.crises.len(),
        r.unanswered_total,
        r.unanswered.len(),
        r.timeline.len()
    );
    let fmt = |v: &[f64]| {
        let mut s = v.to_vec();
        s.sort_by(f64::total_cmp);
        format!(
            "min {:.0} ms, median {:.0} ms, max {:.0} ms",
            s[0] * 1000.0,
            median(v.to_vec()) * 1000.0,
            s[s.len() - 1] * 1000.0
        )
    };
    println!(
        "Beacon report (every figure):          {}",
        fmt(&beacon_times)
    );
    println!(
        "baseline, rows into memory (headline): {}",
        fmt(&baseline_times)
    );
    let target = median(beacon_times.clone()) < 2.0;
    println!(
        "target (median under 2 s): {}",
        if target { "met" } else { "NOT MET" }
    );
    if !ok {
        std::process::exit(1);
    }
}
