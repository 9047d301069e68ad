//! Reports (issue 6): every figure computed from a known fixture of tickets, questions and a
//! crisis, on SQLite and on PostgreSQL, and `beacon report` printing it and writing CSV files.
//!
//! The fixture is written with plain SQL so each row's times are exactly what the expected
//! figures below are worked out from, by hand, in the comments.

use beacon::desk::crisis::Progress;
use beacon::desk::report::{self, Durations, Period, TicketFigures};
use beacon::store::Store;
use jiff::tz::TimeZone;

use crate::on_both_backends;

on_both_backends!(every_report_figure_matches_the_fixture);

pub const GUILD: u64 = 1_200_000_000_000_000_001;
const OTHER_GUILD: u64 = 1_200_000_000_000_000_002;
const AGENT_A: u64 = 1_200_000_000_000_000_100;
const AGENT_B: u64 = 1_200_000_000_000_000_200;
/// The period's start: 2026-11-01 00:00 UTC.
pub const T0: i64 = 1_793_491_200_000;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;
const DAY: i64 = 24 * HOUR;

pub fn period() -> Period {
    Period {
        from_ms: T0,
        to_ms: T0 + 7 * DAY,
    }
}

/// Runs statements on the database at `url`, whichever backend it is.
async fn exec(url: &str, statements: &[String]) {
    if url.starts_with("postgres") {
        let pool = sqlx::PgPool::connect(url).await.unwrap();
        for s in statements {
            // Ids are generated always on PostgreSQL; the fixture gives its own.
            let s = &s.replacen(") VALUES", ") OVERRIDING SYSTEM VALUE VALUES", 1);
            sqlx::query(s)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    } else {
        let pool = sqlx::SqlitePool::connect(url).await.unwrap();
        for s in statements {
            sqlx::query(s)
                .execute(&pool)
                .await
                .unwrap_or_else(|e| panic!("{s}: {e}"));
        }
        pool.close().await;
    }
}

struct T {
    id: i64,
    guild: u64,
    opened: i64,
    first_response: Option<i64>,
    closed: Option<i64>,
    agent: Option<u64>,
    category: &'static str,
    tags: &'static str,
    rating: Option<i64>,
    question: Option<i64>,
}

fn opt<V: ToString>(v: Option<V>) -> String {
    v.map_or("NULL".into(), |v| v.to_string())
}

fn ticket(t: &T) -> String {
    let state = match (t.closed, t.agent) {
        (Some(_), _) => "closed",
        (None, Some(_)) => "claimed",
        (None, None) => "waiting",
    };
    format!(
        "INSERT INTO tickets (id, guild_id, number, customer_id, category, priority, state, agent_id, \
         question_id, opened_at, first_response_at, closed_at, tags, rating) VALUES \
         ({id}, {guild}, {id}, 5, '{category}', 'normal', '{state}', {agent}, {question}, {opened}, \
         {fr}, {closed}, '{tags}', {rating})",
        id = t.id,
        guild = t.guild as i64,
        category = t.category,
        agent = opt(t.agent.map(|a| a as i64)),
        question = opt(t.question),
        opened = t.opened,
        fr = opt(t.first_response.map(|d| t.opened + d)),
        closed = opt(t.closed.map(|d| t.opened + d)),
        tags = t.tags,
        rating = opt(t.rating),
    )
}

fn question(id: i64, guild: u64, at: i64, outcome: &str, text: &str) -> String {
    format!(
        "INSERT INTO questions (id, guild_id, channel_id, user_id, source, source_id, text, lang, \
         outcome, intent, confidence, suggestions, asked_at) VALUES ({id}, {guild}, 7, 8, \
         'message', {source}, '{text}', 'en', '{outcome}', NULL, 0.5, '[]', {at})",
        guild = guild as i64,
        source = 9_000 + id,
    )
}

fn event(question: i64, kind: &str, at: i64) -> String {
    format!(
        "INSERT INTO question_events (question_id, user_id, kind, intent, at) \
         VALUES ({question}, 8, '{kind}', NULL, {at})"
    )
}

/// The fixture: what each row is for is said beside it.
pub fn fixture() -> Vec<String> {
    let t = |id, opened, first_response, closed, agent, category, tags, rating| T {
        id,
        guild: GUILD,
        opened,
        first_response,
        closed,
        agent,
        category,
        tags,
        rating,
        question: None,
    };
    let mut s = vec![
        // Questions in the period. q1..q4 answered; q5, q6 suggestions; q7..q10 abstained.
        question(1, GUILD, T0 + HOUR, "answer", "how do I reset my password"),
        question(2, GUILD, T0 + HOUR, "answer", "refund"),
        question(3, GUILD, T0 + 2 * HOUR, "answer", "opening hours"),
        question(4, GUILD, T0 + 3 * HOUR, "answer", "cancel my order"),
        question(5, GUILD, T0 + DAY, "suggest", "card declined"),
        question(6, GUILD, T0 + DAY, "suggest", "dark mode settings?"),
        question(
            7,
            GUILD,
            T0 + 3 * DAY,
            "abstain",
            "how do I change my username",
        ),
        question(
            8,
            GUILD,
            T0 + 3 * DAY,
            "abstain",
            "How do I change my user name?",
        ),
        // In the crisis window.
        question(9, GUILD, T0 + 30 * HOUR, "abstain", "is the server down"),
        question(
            10,
            GUILD,
            T0 + 4 * DAY,
            "abstain",
            "how do I change my username",
        ),
        // Not counted: a cooldown notice, a question before the period, another server's.
        question(11, GUILD, T0 + HOUR, "cooldown", "spam"),
        question(12, GUILD, T0 - HOUR, "abstain", "before the period"),
        question(13, OTHER_GUILD, T0 + HOUR, "abstain", "another server"),
        // q1 solved, no ticket: deflected. q2 solved, but ticket 1 came from it: not deflected.
        event(1, "solved", T0 + HOUR),
        event(2, "solved", T0 + HOUR),
        event(2, "solved", T0 + HOUR + MIN),
        // q4: the customer asked for a person.
        event(4, "human", T0 + 3 * HOUR),
        // q5: a suggestion picked and solved, no ticket: deflected. q6: none fit: unanswered.
        event(5, "picked", T0 + DAY),
        event(5, "solved", T0 + DAY),
        event(6, "none_fit", T0 + DAY),
        // The crisis: from T0+23h to T0+47h, two updates, five deliveries.
        format!(
            "INSERT INTO crises (id, guild_id, topic, title, status_text, started_by, started_at, \
             ended_at, closing_note) VALUES (1, {}, 'payments', 'Payments down', 'fixed', 3, {}, {}, 'done')",
            GUILD as i64,
            T0 + 23 * HOUR,
            T0 + 47 * HOUR
        ),
        format!(
            "INSERT INTO crisis_updates (id, crisis_id, kind, text, posted_by, at) VALUES \
             (1, 1, 'start', 'Payments fail', 3, {}), (2, 1, 'end', 'fixed', 3, {})",
            T0 + 23 * HOUR,
            T0 + 47 * HOUR
        ),
    ];
    for (user, state) in [
        (1, "sent"),
        (2, "sent"),
        (3, "sent"),
        (4, "refused"),
        (5, "failed"),
    ] {
        s.push(format!(
            "INSERT INTO outbox (update_id, user_id, channel_id, state, next_at) \
             VALUES (1, {user}, {user}, '{state}', 0)"
        ));
    }
    s.push(
        "INSERT INTO outbox (update_id, user_id, channel_id, state, next_at) VALUES (2, 1, 1, 'pending', 0)"
            .into(),
    );
    let mut tickets = vec![
        // Day 0: two billing tickets, agent A, closed and rated 5 and 4. Ticket 1 came from q2.
        T {
            question: Some(2),
            ..t(
                1,
                T0 + HOUR,
                Some(5 * MIN),
                Some(HOUR),
                Some(AGENT_A),
                "billing",
                "refund",
                Some(5),
            )
        },
        t(
            2,
            T0 + 2 * HOUR,
            Some(10 * MIN),
            Some(2 * HOUR),
            Some(AGENT_A),
            "billing",
            "refund,vip",
            Some(4),
        ),
        // Day 1, in the crisis: agent B, one closed after a day and rated 1, one still claimed.
        t(
            3,
            T0 + DAY,
            Some(30 * MIN),
            Some(DAY),
            Some(AGENT_B),
            "technical",
            "crisis-payments,outage",
            Some(1),
        ),
        t(
            4,
            T0 + DAY + HOUR,
            Some(HOUR),
            None,
            Some(AGENT_B),
            "technical",
            "crisis-payments",
            None,
        ),
        // Day 2: waiting, nobody answered yet.
        t(5, T0 + 2 * DAY, None, None, None, "general", "", None),
        // Opened the day before the period, closed in it after 25 h, rated 3: closed, not opened.
        t(
            6,
            T0 - DAY,
            Some(20 * MIN),
            Some(25 * HOUR),
            Some(AGENT_A),
            "billing",
            "",
            Some(3),
        ),
        // After the period, and on another server: not counted.
        t(
            7,
            T0 + 8 * DAY,
            Some(MIN),
            Some(HOUR),
            Some(AGENT_A),
            "billing",
            "refund",
            Some(1),
        ),
    ];
    tickets.push(T {
        guild: OTHER_GUILD,
        ..t(
            8,
            T0 + HOUR,
            Some(MIN),
            Some(HOUR),
            Some(AGENT_A),
            "billing",
            "refund",
            Some(1),
        )
    });
    s.extend(tickets.iter().map(ticket));
    s
}

fn figures(
    opened: u64,
    closed: u64,
    first_response: (u64, Option<i64>, Option<i64>),
    resolution: (Option<i64>, Option<i64>),
    ratings: [u64; 5],
) -> TicketFigures {
    TicketFigures {
        opened,
        first_response: Durations {
            count: first_response.0,
            median_ms: first_response.1,
            p90_ms: first_response.2,
        },
        resolution: Durations {
            count: closed,
            median_ms: resolution.0,
            p90_ms: resolution.1,
        },
        ratings,
    }
}

/// Each bucket's questions, tickets and median first response.
fn timeline(r: &report::Report) -> Vec<(u64, u64, Option<i64>)> {
    r.timeline
        .iter()
        .map(|b| (b.questions, b.tickets, b.first_response_median_ms))
        .collect()
}

pub async fn seeded_store(url: &str) -> Store {
    let store = Store::connect(url).await.unwrap();
    store.migrate().await.unwrap();
    exec(url, &fixture()).await;
    store
}

async fn every_report_figure_matches_the_fixture(url: String) {
    let store = seeded_store(&url).await;
    let r = report::build(&store, GUILD, period(), TimeZone::UTC)
        .await
        .unwrap();

    // Opened: tickets 1-5. First responses 5, 10, 30, 60 min: the median is the 2nd (⌈0.5·4⌉),
    // the 90th percentile the 4th (⌈0.9·4⌉). Closed: 1, 2, 3 and 6, taking 1 h, 2 h, 24 h and
    // 25 h: median the 2nd, p90 the 4th. Ratings 5, 4, 1, 3.
    assert_eq!(
        r.overall,
        figures(
            5,
            4,
            (4, Some(10 * MIN), Some(HOUR)),
            (Some(2 * HOUR), Some(25 * HOUR)),
            [1, 0, 1, 1, 1]
        )
    );
    assert_eq!(r.overall.satisfaction(), Some(3.25));

    let a = AGENT_A.to_string();
    let b = AGENT_B.to_string();
    let mut agents = vec![
        // Nobody holds ticket 5.
        (
            String::new(),
            figures(1, 0, (0, None, None), (None, None), [0; 5]),
        ),
        // A: opened 1, 2 (5 and 10 min); closed 1, 2, 6 (1 h, 2 h, 25 h), rated 5, 4, 3.
        (
            a,
            figures(
                2,
                3,
                (2, Some(5 * MIN), Some(10 * MIN)),
                (Some(2 * HOUR), Some(25 * HOUR)),
                [0, 0, 1, 1, 1],
            ),
        ),
        // B: opened 3, 4 (30, 60 min); closed 3 after a day, rated 1.
        (
            b,
            figures(
                2,
                1,
                (2, Some(30 * MIN), Some(HOUR)),
                (Some(DAY), Some(DAY)),
                [1, 0, 0, 0, 0],
            ),
        ),
    ];
    agents.sort_by(|x, y| x.0.cmp(&y.0));
    assert_eq!(r.by_agent, agents);

    assert_eq!(
        r.by_category,
        vec![
            (
                "billing".to_string(),
                figures(
                    2,
                    3,
                    (2, Some(5 * MIN), Some(10 * MIN)),
                    (Some(2 * HOUR), Some(25 * HOUR)),
                    [0, 0, 1, 1, 1]
                )
            ),
            (
                "general".to_string(),
                figures(1, 0, (0, None, None), (None, None), [0; 5])
            ),
            (
                "technical".to_string(),
                figures(
                    2,
                    1,
                    (2, Some(30 * MIN), Some(HOUR)),
                    (Some(DAY), Some(DAY)),
                    [1, 0, 0, 0, 0]
                )
            ),
        ]
    );

    // A ticket counts under each of its tags; ticket 7 (after the period) is not counted.
    assert_eq!(
        r.by_tag,
        vec![
            (
                "crisis-payments".to_string(),
                figures(
                    2,
                    1,
                    (2, Some(30 * MIN), Some(HOUR)),
                    (Some(DAY), Some(DAY)),
                    [1, 0, 0, 0, 0]
                )
            ),
            (
                "outage".to_string(),
                figures(
                    1,
                    1,
                    (1, Some(30 * MIN), Some(30 * MIN)),
                    (Some(DAY), Some(DAY)),
                    [1, 0, 0, 0, 0]
                )
            ),
            (
                "refund".to_string(),
                figures(
                    2,
                    2,
                    (2, Some(5 * MIN), Some(10 * MIN)),
                    (Some(HOUR), Some(2 * HOUR)),
                    [0, 0, 0, 1, 1]
                )
            ),
            (
                "vip".to_string(),
                figures(
                    1,
                    1,
                    (1, Some(10 * MIN), Some(10 * MIN)),
                    (Some(2 * HOUR), Some(2 * HOUR)),
                    [0, 0, 0, 1, 0]
                )
            ),
        ]
    );

    // q1-q10; solved q1, q2, q5; deflected q1 and q5 (q2 led to ticket 1); q4 asked for a person.
    let q = &r.questions;
    assert_eq!(
        (
            q.asked,
            q.answered,
            q.suggested,
            q.abstained,
            q.solved,
            q.deflected,
            q.handoffs
        ),
        (10, 4, 2, 4, 3, 2, 1)
    );
    assert_eq!(q.deflection(), Some(0.2));

    // Unanswered: q7-q10 abstained and q6's suggestions did not fit. The username questions are
    // one need asked three times.
    assert_eq!(r.unanswered_total, 5);
    let groups: Vec<(&str, u64, usize)> = r
        .unanswered
        .iter()
        .map(|g| (g.text.as_str(), g.count, g.variants.len()))
        .collect();
    assert_eq!(
        groups,
        vec![
            ("how do I change my username", 3, 2),
            ("dark mode settings?", 1, 1),
            ("is the server down", 1, 1),
        ]
    );

    // The crisis window, T0+23h to T0+47h: tickets 3 and 4 opened, both tagged for it; ticket
    // 3 closed at T0+48h, after the window. Questions q5, q6 (T0+24h) and q9, which abstained.
    assert_eq!(r.crises.len(), 1);
    let c = &r.crises[0];
    assert_eq!(c.crisis.topic, "payments");
    assert_eq!(
        c.window,
        Period {
            from_ms: T0 + 23 * HOUR,
            to_ms: T0 + 47 * HOUR
        }
    );
    let crisis_tickets = figures(2, 0, (2, Some(30 * MIN), Some(HOUR)), (None, None), [0; 5]);
    assert_eq!(c.tickets, crisis_tickets);
    assert_eq!(c.tagged, crisis_tickets);
    assert_eq!((c.questions.asked, c.questions.abstained), (3, 1));
    assert_eq!(c.updates, 2);
    assert_eq!(
        c.deliveries,
        Progress {
            total: 6,
            sent: 3,
            refused: 1,
            failed: 1,
        }
    );

    // Daily buckets: day 0 has q1-q4 and tickets 1, 2 (median of 5 and 10 min: 5); day 1 has
    // q5, q6, q9 and tickets 3, 4 (median of 30 and 60: 30); day 2 ticket 5, unanswered; q7, q8
    // on day 3, q10 on day 4.
    assert_eq!(
        timeline(&r),
        vec![
            (4, 2, Some(5 * MIN)),
            (3, 2, Some(30 * MIN)),
            (0, 1, None),
            (2, 0, None),
            (1, 0, None),
            (0, 0, None),
            (0, 0, None),
        ]
    );
    assert_eq!(r.timeline[1].start_ms, T0 + DAY);

    // In Tehran (3 h 30 min ahead of UTC) the days start at 20:30 UTC: the period's first
    // local day is 20.5 h long and an eighth, partial day ends it. Same rows, other buckets.
    let tehran = TimeZone::get("Asia/Tehran").unwrap();
    let local = report::build(&store, GUILD, period(), tehran)
        .await
        .unwrap();
    let starts: Vec<i64> = local.timeline.iter().map(|b| b.start_ms - T0).collect();
    let half = HOUR / 2;
    assert_eq!(
        starts,
        [
            0,
            20 * HOUR + half,
            44 * HOUR + half,
            68 * HOUR + half,
            92 * HOUR + half,
            116 * HOUR + half,
            140 * HOUR + half,
            164 * HOUR + half
        ]
    );
    assert_eq!(
        timeline(&local),
        vec![
            (4, 2, Some(5 * MIN)),
            (3, 2, Some(30 * MIN)),
            (0, 1, None),
            (2, 0, None),
            (1, 0, None),
            (0, 0, None),
            (0, 0, None),
            (0, 0, None),
        ]
    );
    assert_eq!(
        local.overall, r.overall,
        "only the timeline depends on the zone"
    );

    // The CSV export carries the same figures.
    let files = r.to_csv().unwrap();
    let tickets = &files.iter().find(|(n, _)| *n == "tickets.csv").unwrap().1;
    assert!(
        tickets.contains("overall,,5,4,4,600.0,3600.0,4,7200.0,90000.0,4,3.250,1,0,1,1,1\n"),
        "{tickets}"
    );
    assert!(
        tickets.contains("crisis_tagged,payments#1,2,0,"),
        "{tickets}"
    );
    let unanswered = &files
        .iter()
        .find(|(n, _)| *n == "unanswered.csv")
        .unwrap()
        .1;
    assert!(
        unanswered.contains("1,3,how do I change my username,How do I change my user name?\n"),
        "{unanswered}"
    );
    store.close().await;
}

/// `beacon report` on the fixture: the figures printed, the CSV files and the chart written.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn beacon_report_prints_the_figures_and_writes_csv_and_a_chart() {
    let db = crate::db::TestDb::sqlite();
    seeded_store(&db.url).await.close().await;
    let out = tempfile::tempdir().unwrap();
    let csv = out.path().join("csv");
    let chart = out.path().join("chart.png");
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["report", "--guild", &GUILD.to_string()])
        .args(["--from", "2026-11-01", "--to", "2026-11-08"])
        .arg("--csv")
        .arg(&csv)
        .arg("--chart")
        .arg(&chart)
        .env("DATABASE_URL", &db.url)
        .env_remove("BEACON_CONFIG")
        .current_dir(out.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    for line in [
        "Report for server 1200000000000000001 from 2026-11-01 00:00 UTC to 2026-11-08 00:00 UTC",
        "Questions: 10 asked, 4 answered, 2 with suggestions, 4 unanswered; 3 solved; 2 deflected (20.0%); 1 asked for a person",
        "Crisis \"Payments down\" (payments)",
        "  1.      3 × how do I change my username (+1 similar)",
        "5 CSV files written to",
    ] {
        assert!(stdout.contains(line), "{line:?} not in:\n{stdout}");
    }
    // The overall line: 5 opened, 4 closed, first response 10 min / 1.0 h, resolution 2.0 h /
    // 1.0 d, satisfaction 3.25.
    let overall = stdout
        .lines()
        .find(|l| l.trim_start().starts_with("all "))
        .unwrap();
    let words: Vec<&str> = overall.split_whitespace().collect();
    assert_eq!(
        words,
        [
            "all", "5", "4", "10", "min", "1.0", "h", "2.0", "h", "1.0", "d", "3.25", "(4",
            "rated)"
        ]
    );
    for file in [
        "tickets.csv",
        "questions.csv",
        "unanswered.csv",
        "timeline.csv",
        "crises.csv",
    ] {
        let text = std::fs::read_to_string(csv.join(file)).unwrap();
        assert!(text.lines().count() >= 2, "{file}: {text}");
    }
    let crises = std::fs::read_to_string(csv.join("crises.csv")).unwrap();
    assert!(crises.contains("1,payments,Payments down,"), "{crises}");
    let png = std::fs::read(&chart).unwrap();
    assert!(png.starts_with(b"\x89PNG\r\n\x1a\n"));

    // A period that ends before it starts is refused, politely.
    let backwards = std::process::Command::new(env!("CARGO_BIN_EXE_beacon"))
        .args(["report", "--guild", &GUILD.to_string()])
        .args(["--from", "2026-11-08", "--to", "2026-11-01"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(!backwards.status.success());
    assert_eq!(
        String::from_utf8_lossy(&backwards.stderr),
        "error: the period ends before it starts\n"
    );
}
