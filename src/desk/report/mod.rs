//! Reports (journey J5): how support is doing over a period, overall and per agent, tag,
//! category and crisis, and what customers asked that the FAQ could not answer.
//!
//! The questions, which run to millions, are counted by the database ([`ReportLedger`]); a
//! report over a million of them reads indexes, not rows. Tickets are a hundred times fewer:
//! their narrow rows are read once and every grouping is computed here in one pass. This module
//! defines what each figure means, puts the pieces together and turns a report into text and
//! CSV.
//!
//! Definitions (the README repeats them for support leads):
//! - **opened**: tickets opened in the period. **closed**: tickets whose last closing falls in
//!   the period (a reopened ticket that is open again is not closed).
//! - **first response**: from opening to the first message by staff in the ticket's thread, over
//!   the tickets opened in the period that have one.
//! - **resolution**: from opening to closing, over the tickets closed in the period.
//! - **median and 90th percentile** are nearest-rank: the value at rank ⌈p·n⌉ of the n values
//!   in order ([`nearest_rank`]). No interpolation, so each is a time some ticket really took.
//! - **satisfaction**: the 1 to 5 star ratings of the tickets closed in the period.
//! - **questions** are those asked in the period (cooldown notices left out). **deflected**:
//!   answered, marked solved by the customer, and no ticket opened from it.
//! - **unanswered**: questions the FAQ abstained on, or whose suggestions the customer said did
//!   not fit, grouped by similarity ([`crate::kb::similar`]).
//! - Per agent means the agent holding the ticket when it was counted; per tag counts a ticket
//!   under each of its tags. Per crisis gives the same figures for the crisis's own window.

use std::collections::BTreeMap;

use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};

use super::StoreError;
use super::crisis::{Crisis, Progress};
use crate::kb::similar;

/// How many distinct unanswered texts the grouping looks at: the most asked ones. Rarer texts
/// are counted in the total but not grouped.
pub const UNANSWERED_TEXTS: usize = 1_000;
/// How many groups of unanswered questions a report shows.
pub const UNANSWERED_GROUPS: usize = 20;

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;

/// A half-open span of time, `[from, to)`, in Unix milliseconds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub from_ms: i64,
    pub to_ms: i64,
}

impl Period {
    pub fn contains(&self, ms: i64) -> bool {
        ms >= self.from_ms && ms < self.to_ms
    }

    /// The `days` days before `now`.
    pub fn last_days(now_ms: i64, days: u32) -> Period {
        Period {
            from_ms: now_ms - i64::from(days) * DAY_MS,
            to_ms: now_ms,
        }
    }

    /// Whether the timeline counts hours (two days or less) rather than days.
    pub fn hourly(&self) -> bool {
        self.to_ms - self.from_ms <= 2 * DAY_MS
    }

    /// The timeline's bounds: the period's start, each start of a local hour or day (see
    /// [`Period::hourly`]) in `zone` inside the period, and the period's end. A day is the
    /// server's own, so a day with a daylight-saving change has 23 or 25 hours.
    pub fn bounds(&self, zone: &TimeZone) -> Vec<i64> {
        let mut bounds = vec![self.from_ms];
        let step = if self.hourly() { 1.hour() } else { 1.day() };
        let first = Timestamp::from_millisecond(self.from_ms).and_then(|t| {
            let local = t.to_zoned(zone.clone());
            if self.hourly() {
                local
                    .with()
                    .minute(0)
                    .second(0)
                    .subsec_nanosecond(0)
                    .build()
            } else {
                local.start_of_day()
            }
        });
        let Ok(mut next) = first else {
            bounds.push(self.to_ms);
            return bounds;
        };
        while let Ok(later) = next.checked_add(step) {
            next = later;
            let ms = next.timestamp().as_millisecond();
            if ms >= self.to_ms {
                break;
            }
            bounds.push(ms);
        }
        bounds.push(self.to_ms.max(self.from_ms));
        bounds
    }
}

/// The rank (1-based) of the `p`-quantile among `n` ordered values, nearest-rank: ⌈p·n⌉, at
/// least 1, with `p` given in tenths.
pub fn nearest_rank(n: u64, tenths: u64) -> u64 {
    ((tenths * n).div_ceil(10)).max(1)
}

/// A distribution of durations: how many, and the median and 90th percentile.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Durations {
    pub count: u64,
    pub median_ms: Option<i64>,
    pub p90_ms: Option<i64>,
}

impl Durations {
    /// From the values, in any order.
    pub fn of(values: &[i64]) -> Durations {
        let mut v = values.to_vec();
        v.sort_unstable();
        let n = v.len() as u64;
        let at = |tenths| (n > 0).then(|| v[(nearest_rank(n, tenths) - 1) as usize]);
        Durations {
            count: n,
            median_ms: at(5),
            p90_ms: at(9),
        }
    }
}

/// The ticket figures of one group (or of everything).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketFigures {
    pub opened: u64,
    pub first_response: Durations,
    /// Over the tickets closed in the period: its count is how many closed.
    pub resolution: Durations,
    /// How many closed tickets got 1, 2, 3, 4 and 5 stars.
    pub ratings: [u64; 5],
}

impl TicketFigures {
    /// Tickets closed in the period.
    pub fn closed(&self) -> u64 {
        self.resolution.count
    }

    pub fn rated(&self) -> u64 {
        self.ratings.iter().sum()
    }

    /// The average rating, if any.
    pub fn satisfaction(&self) -> Option<f64> {
        let n = self.rated();
        (n > 0).then(|| {
            let sum: u64 = self
                .ratings
                .iter()
                .enumerate()
                .map(|(i, c)| (i as u64 + 1) * c)
                .sum();
            sum as f64 / n as f64
        })
    }
}

/// What happened to the questions of a period.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct QuestionFigures {
    /// Every question, cooldown notices left out.
    pub asked: u64,
    pub answered: u64,
    pub suggested: u64,
    pub abstained: u64,
    /// Marked solved by the customer.
    pub solved: u64,
    /// Answered, solved, and no ticket opened from it.
    pub deflected: u64,
    /// The customer asked for a person from the answer.
    pub handoffs: u64,
}

impl QuestionFigures {
    /// The share of questions deflected, if there were any.
    pub fn deflection(&self) -> Option<f64> {
        (self.asked > 0).then(|| self.deflected as f64 / self.asked as f64)
    }
}

/// One ticket as the report reads it: opened in the period, or closed in it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TicketRow {
    pub agent_id: Option<u64>,
    pub category: String,
    /// Comma-separated, as stored.
    pub tags: String,
    pub opened_at_ms: i64,
    pub first_response_at_ms: Option<i64>,
    /// Set only while the ticket is closed (a reopened ticket has none).
    pub closed_at_ms: Option<i64>,
    pub rating: Option<i64>,
}

/// One time bucket of the timeline.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Bucket {
    pub start_ms: i64,
    pub questions: u64,
    pub tickets: u64,
    pub first_response_median_ms: Option<i64>,
}

/// A crisis and how it went.
#[derive(Clone, Debug, PartialEq)]
pub struct CrisisReport {
    pub crisis: Crisis,
    /// The crisis's window: its start to its end (or the report's end while it runs).
    pub window: Period,
    /// Every ticket of the window.
    pub tickets: TicketFigures,
    /// The tickets tagged for this crisis.
    pub tagged: TicketFigures,
    pub questions: QuestionFigures,
    pub updates: u64,
    /// Its direct messages, all updates together.
    pub deliveries: Progress,
}

/// What the events on a period's questions add up to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub solved: u64,
    pub handoffs: u64,
    pub deflected: u64,
    /// Questions whose suggestions the customer said did not fit (and that did not abstain).
    pub none_fit: u64,
}

/// Where the figures come from. The questions, which run to millions, are counted by the
/// database; tickets, a hundred times fewer, are read as narrow rows and grouped here, which
/// is one pass over them instead of a sort per grouping.
#[trait_variant::make(Send)]
pub trait ReportLedger: Send + Sync {
    /// Tickets opened in the period, and tickets closed in it.
    async fn ticket_rows(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<Vec<TicketRow>, StoreError>;
    /// The period's questions per outcome (cooldown notices included).
    async fn question_totals(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<Vec<(String, u64)>, StoreError>;
    /// Questions (cooldown notices left out) between each two consecutive `bounds`:
    /// `(bucket number, count)`.
    async fn question_buckets(
        &self,
        guild_id: u64,
        bounds: &[i64],
    ) -> Result<Vec<(i64, u64)>, StoreError>;
    async fn question_events(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<EventCounts, StoreError>;
    /// The most asked unanswered texts (abstained, or none of the suggestions fit), with how
    /// often each was asked.
    async fn unanswered(
        &self,
        guild_id: u64,
        period: Period,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, StoreError>;
    /// Crises that ran during the period, oldest first.
    async fn crises_during(&self, guild_id: u64, period: Period)
    -> Result<Vec<Crisis>, StoreError>;
    /// A crisis's number of updates and its deliveries.
    async fn crisis_deliveries(&self, crisis_id: i64) -> Result<(u64, Progress), StoreError>;
}

/// A whole report.
#[derive(Clone, Debug, PartialEq)]
pub struct Report {
    pub guild_id: u64,
    pub period: Period,
    /// The server's time zone: the timeline's days and every time printed are in it.
    pub time_zone: TimeZone,
    pub overall: TicketFigures,
    pub questions: QuestionFigures,
    /// Sorted by key. Agents are keyed by their user id, "" for tickets nobody holds.
    pub by_agent: Vec<(String, TicketFigures)>,
    pub by_tag: Vec<(String, TicketFigures)>,
    pub by_category: Vec<(String, TicketFigures)>,
    pub crises: Vec<CrisisReport>,
    /// All unanswered questions of the period, and the most asked needs among them.
    pub unanswered_total: u64,
    pub unanswered: Vec<similar::Group>,
    pub timeline: Vec<Bucket>,
}

/// Accumulates the durations and ratings of one group of tickets.
#[derive(Default)]
struct Acc {
    opened: u64,
    first: Vec<i64>,
    resolution: Vec<i64>,
    ratings: [u64; 5],
}

impl Acc {
    fn add(&mut self, t: &TicketRow, period: Period) {
        if period.contains(t.opened_at_ms) {
            self.opened += 1;
            if let Some(f) = t.first_response_at_ms {
                self.first.push(f - t.opened_at_ms);
            }
        }
        if let Some(c) = t.closed_at_ms.filter(|c| period.contains(*c)) {
            self.resolution.push(c - t.opened_at_ms);
            if let Some(stars @ 1..=5) = t.rating {
                self.ratings[(stars - 1) as usize] += 1;
            }
        }
    }

    fn figures(&self) -> TicketFigures {
        TicketFigures {
            opened: self.opened,
            first_response: Durations::of(&self.first),
            resolution: Durations::of(&self.resolution),
            ratings: self.ratings,
        }
    }
}

/// Ticket figures per key; a ticket counts under each key `keys` gives it. Groups that
/// neither opened nor closed a ticket in the period are left out.
pub fn figures_by<K: Ord>(
    rows: &[TicketRow],
    period: Period,
    keys: impl Fn(&TicketRow) -> Vec<K>,
) -> Vec<(K, TicketFigures)> {
    let mut groups: BTreeMap<K, Acc> = BTreeMap::new();
    for t in rows {
        for k in keys(t) {
            groups.entry(k).or_default().add(t, period);
        }
    }
    groups
        .into_iter()
        .map(|(k, a)| (k, a.figures()))
        .filter(|(_, f)| f.opened > 0 || f.closed() > 0)
        .collect()
}

/// The figures of all the rows together.
pub fn figures(rows: &[TicketRow], period: Period) -> TicketFigures {
    let mut acc = Acc::default();
    for t in rows {
        acc.add(t, period);
    }
    acc.figures()
}

fn tags_of(t: &TicketRow) -> Vec<String> {
    t.tags
        .split(',')
        .filter(|tag| !tag.is_empty())
        .map(str::to_string)
        .collect()
}

fn question_figures(totals: &[(String, u64)], events: EventCounts) -> QuestionFigures {
    let mut q = QuestionFigures::default();
    for (outcome, n) in totals {
        match outcome.as_str() {
            "cooldown" => continue,
            "answer" => q.answered += n,
            "suggest" => q.suggested += n,
            "abstain" => q.abstained += n,
            _ => {}
        }
        q.asked += n;
    }
    q.solved = events.solved;
    q.handoffs = events.handoffs;
    q.deflected = events.deflected;
    q
}

/// Builds the report of a server for a period, its timeline in the server's time zone. The
/// independent reads run at once (the database serves them on several connections), and the
/// grouping of unanswered questions runs on a blocking thread meanwhile.
impl<L: super::Ledger + ReportLedger> super::Desk<L> {
    /// The support report of a server for `days` days up to `now_ms`, counted in the server's
    /// time zone.
    pub async fn report(
        &self,
        guild_id: u64,
        now_ms: i64,
        days: u32,
    ) -> Result<Report, StoreError> {
        let settings = self.settings(guild_id).await?;
        let zone = super::settings::zone(&settings);
        build(
            self.ledger(),
            guild_id,
            Period::last_days(now_ms, days),
            zone,
        )
        .await
    }
}

pub async fn build<L: ReportLedger>(
    ledger: &L,
    guild_id: u64,
    period: Period,
    time_zone: TimeZone,
) -> Result<Report, StoreError> {
    let bounds = period.bounds(&time_zone);
    let unanswered = async {
        let texts = ledger
            .unanswered(guild_id, period, UNANSWERED_TEXTS)
            .await?;
        tokio::task::spawn_blocking(move || {
            let mut groups = similar::group(&texts, similar::MIN_SIMILARITY);
            groups.truncate(UNANSWERED_GROUPS);
            groups
        })
        .await
        .map_err(|e| StoreError::new(format!("grouping unanswered questions: {e}")))
    };
    let crises = async {
        let mut out = Vec::new();
        for crisis in ledger.crises_during(guild_id, period).await? {
            out.push(crisis_report(ledger, crisis, period).await?);
        }
        Ok::<_, StoreError>(out)
    };
    let (rows, totals, buckets, events, unanswered, crises) = tokio::join!(
        ledger.ticket_rows(guild_id, period),
        ledger.question_totals(guild_id, period),
        ledger.question_buckets(guild_id, &bounds),
        ledger.question_events(guild_id, period),
        unanswered,
        crises,
    );
    let (rows, totals, buckets, events, unanswered, crises) =
        (rows?, totals?, buckets?, events?, unanswered?, crises?);

    let questions = question_figures(&totals, events);
    let unanswered_total = questions.abstained + events.none_fit;
    let by_agent = figures_by(&rows, period, |t| {
        vec![t.agent_id.map_or(String::new(), |a| a.to_string())]
    });
    let by_category = figures_by(&rows, period, |t| vec![t.category.clone()]);
    let by_tag = figures_by(&rows, period, tags_of);

    // The timeline: questions and tickets opened per bucket, with the median first response.
    let mut timeline: Vec<Bucket> = bounds
        .windows(2)
        .map(|w| Bucket {
            start_ms: w[0],
            ..Bucket::default()
        })
        .collect();
    for (i, n) in buckets {
        if let Some(b) = timeline.get_mut(i as usize) {
            b.questions = n;
        }
    }
    let opened = |t: &TicketRow| {
        if period.contains(t.opened_at_ms) {
            vec![bounds.partition_point(|b| *b <= t.opened_at_ms) - 1]
        } else {
            vec![]
        }
    };
    for (i, f) in figures_by(&rows, period, opened) {
        if let Some(b) = timeline.get_mut(i) {
            b.tickets = f.opened;
            b.first_response_median_ms = f.first_response.median_ms;
        }
    }

    Ok(Report {
        guild_id,
        period,
        time_zone,
        overall: figures(&rows, period),
        questions,
        by_agent,
        by_tag,
        by_category,
        crises,
        unanswered_total,
        unanswered,
        timeline,
    })
}

async fn crisis_report<L: ReportLedger>(
    ledger: &L,
    crisis: Crisis,
    period: Period,
) -> Result<CrisisReport, StoreError> {
    let window = Period {
        from_ms: crisis.started_at_ms,
        to_ms: crisis
            .ended_at_ms
            .unwrap_or(period.to_ms)
            .max(crisis.started_at_ms),
    };
    let (rows, totals, events, delivered) = tokio::join!(
        ledger.ticket_rows(crisis.guild_id, window),
        ledger.question_totals(crisis.guild_id, window),
        ledger.question_events(crisis.guild_id, window),
        ledger.crisis_deliveries(crisis.id),
    );
    let rows = rows?;
    let (updates, deliveries) = delivered?;
    let tag = crisis.ticket_tag();
    let tagged: Vec<TicketRow> = rows
        .iter()
        .filter(|t| t.tags.split(',').any(|x| x == tag))
        .cloned()
        .collect();
    Ok(CrisisReport {
        tickets: figures(&rows, window),
        tagged: figures(&tagged, window),
        questions: question_figures(&totals?, events?),
        crisis,
        window,
        updates,
        deliveries,
    })
}

mod text;

pub use text::{human_duration, local_time, percent};

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_servers_report_counts_its_tickets_in_its_own_time_zone() {
        use crate::desk::testing::*;
        let desk = desk("").await;
        let mut settings = (*desk.settings(GUILD).await.unwrap()).clone();
        settings.time_zone = Some("Asia/Tehran".into());
        desk.save_settings(settings).await.unwrap();
        open(&desk, "my card was charged twice").await;
        let report = desk.report(GUILD, crate::desk::now_ms(), 7).await.unwrap();
        assert_eq!(report.overall.opened, 1);
        assert_eq!(
            report.time_zone,
            jiff::tz::TimeZone::get("Asia/Tehran").unwrap()
        );
        // Another server's report sees none of it.
        assert_eq!(
            desk.report(GUILD + 1, crate::desk::now_ms(), 7)
                .await
                .unwrap()
                .overall
                .opened,
            0
        );
    }

    #[test]
    fn nearest_rank_is_the_ceiling_of_p_times_n() {
        assert_eq!(nearest_rank(1, 5), 1);
        assert_eq!(nearest_rank(2, 5), 1);
        assert_eq!(nearest_rank(3, 5), 2);
        assert_eq!(nearest_rank(10, 9), 9);
        assert_eq!(nearest_rank(11, 9), 10);
        assert_eq!(nearest_rank(1, 9), 1);
        assert_eq!(nearest_rank(0, 9), 1);
    }

    #[test]
    fn durations_of_values_are_nearest_rank() {
        let d = Durations::of(&[50, 10, 40, 20, 30]);
        assert_eq!(d.count, 5);
        assert_eq!(d.median_ms, Some(30));
        assert_eq!(d.p90_ms, Some(50));
        assert_eq!(Durations::of(&[]), Durations::default());
        let d = Durations::of(&(1..=10).collect::<Vec<_>>());
        assert_eq!((d.median_ms, d.p90_ms), (Some(5), Some(9)));
    }

    #[test]
    fn satisfaction_is_the_average_of_the_stars() {
        let f = TicketFigures {
            ratings: [1, 0, 0, 1, 2],
            ..TicketFigures::default()
        };
        assert_eq!(f.rated(), 4);
        assert_eq!(f.satisfaction(), Some((1.0 + 4.0 + 10.0) / 4.0));
        assert_eq!(TicketFigures::default().satisfaction(), None);
    }

    #[test]
    fn buckets_are_local_hours_for_two_days_and_local_days_beyond() {
        // 2026-11-01 00:00 UTC.
        let t0 = 1_793_491_200_000;
        let utc = TimeZone::UTC;
        let two_days = Period {
            from_ms: t0,
            to_ms: t0 + 2 * DAY_MS,
        };
        assert!(two_days.hourly());
        assert_eq!(two_days.bounds(&utc).len(), 49);
        let week = Period {
            from_ms: t0 + HOUR_MS,
            to_ms: t0 + 7 * DAY_MS,
        };
        let bounds = week.bounds(&utc);
        assert_eq!(
            bounds.len(),
            8,
            "a first partial day, six whole ones, the end"
        );
        assert_eq!(&bounds[..3], &[t0 + HOUR_MS, t0 + DAY_MS, t0 + 2 * DAY_MS]);
        // Tehran is 3 h 30 min ahead: its days start at 20:30 UTC.
        let tehran = TimeZone::get("Asia/Tehran").unwrap();
        let bounds = Period {
            from_ms: t0,
            to_ms: t0 + 7 * DAY_MS,
        }
        .bounds(&tehran);
        assert_eq!(
            &bounds[..3],
            &[
                t0,
                t0 + 20 * HOUR_MS + HOUR_MS / 2,
                t0 + 44 * HOUR_MS + HOUR_MS / 2
            ]
        );
        assert_eq!(*bounds.last().unwrap(), t0 + 7 * DAY_MS);
        // Berlin leaves summer time on 2026-10-25: that day has 25 hours.
        let berlin = TimeZone::get("Europe/Berlin").unwrap();
        let october = Period {
            from_ms: t0 - 10 * DAY_MS,
            to_ms: t0,
        };
        let bounds = october.bounds(&berlin);
        let lengths: Vec<i64> = bounds.windows(2).map(|w| w[1] - w[0]).collect();
        assert!(lengths.contains(&(25 * HOUR_MS)), "{lengths:?}");
    }

    #[test]
    fn durations_read_as_people_say_them() {
        assert_eq!(human_duration(None), "–");
        assert_eq!(human_duration(Some(45_000)), "45 s");
        assert_eq!(human_duration(Some(12 * 60_000)), "12 min");
        assert_eq!(human_duration(Some(3 * HOUR_MS + HOUR_MS / 2)), "3.5 h");
        assert_eq!(human_duration(Some(2 * DAY_MS)), "2.0 d");
    }
}
