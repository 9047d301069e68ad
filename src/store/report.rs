//! Report figures, computed by the database with aggregates and window functions: a report over
//! a million questions reads indexes, not rows into memory. Medians and 90th percentiles are
//! nearest-rank, the rank computed in integers exactly as [`nearest_rank`] does.
//!
//! [`nearest_rank`]: crate::desk::report::nearest_rank

use std::collections::BTreeMap;

use sqlx::Row;

use super::crisis::{CRISIS_COLUMNS, crisis_from_row};
use super::{Backend, Pool, Store, sql_id};
use crate::desk::StoreError;
use crate::desk::crisis::Crisis;
use crate::desk::report::{
    Deliveries, Durations, Grouping, Period, QuestionFigures, ReportLedger, TicketFigures,
};

/// The SQL pieces of a grouping: a CTE to put first (or ""), a join, and the group expression.
fn grouping_sql(grouping: &Grouping, backend: Backend) -> (String, &'static str, String) {
    match grouping {
        Grouping::Overall => (String::new(), "", "''".into()),
        Grouping::Agent => (
            String::new(),
            "",
            "COALESCE(CAST(t.agent_id AS TEXT), '')".into(),
        ),
        Grouping::Category => (String::new(), "", "t.category".into()),
        Grouping::Bucket(width) => (
            String::new(),
            "",
            // The width is a number Beacon chose, not user input.
            format!("CAST((t.opened_at - $2) / {width} AS TEXT)"),
        ),
        Grouping::Tags(tags) => {
            let values: Vec<String> = (0..tags.len()).map(|i| format!("(${})", i + 4)).collect();
            // Tags are stored comma-separated and sorted; a ticket counts under each.
            let join = match backend {
                Backend::Sqlite => {
                    "JOIN tg ON instr(',' || t.tags || ',', ',' || tg.tag || ',') > 0"
                }
                Backend::Postgres => {
                    "JOIN tg ON strpos(',' || t.tags || ',', ',' || tg.tag || ',') > 0"
                }
            };
            (
                format!("tg(tag) AS (VALUES {}), ", values.join(", ")),
                join,
                "tg.tag".into(),
            )
        }
    }
}

fn tag_binds(grouping: &Grouping) -> &[String] {
    match grouping {
        Grouping::Tags(tags) => tags,
        _ => &[],
    }
}

/// Opened tickets per group, with their first responses' median and 90th percentile.
fn opened_sql(grouping: &Grouping, backend: Backend) -> String {
    let (cte, join, g) = grouping_sql(grouping, backend);
    format!(
        "WITH {cte}o AS (SELECT {g} AS g, t.first_response_at - t.opened_at AS v \
           FROM tickets t {join} \
           WHERE t.guild_id = $1 AND t.opened_at >= $2 AND t.opened_at < $3), \
         r AS (SELECT g, v, \
           CASE WHEN v IS NULL THEN NULL \
             ELSE ROW_NUMBER() OVER (PARTITION BY g, v IS NULL ORDER BY v) END AS rn, \
           COUNT(v) OVER (PARTITION BY g) AS n FROM o) \
         SELECT g, COUNT(*) AS total, COUNT(v) AS measured, \
           MAX(CASE WHEN rn = (5 * n + 9) / 10 THEN v END) AS median, \
           MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN v END) AS p90 \
         FROM r GROUP BY g"
    )
}

/// Closed tickets per group: resolution median and 90th percentile, and the ratings.
fn closed_sql(grouping: &Grouping, backend: Backend) -> String {
    let (cte, join, g) = grouping_sql(grouping, backend);
    format!(
        "WITH {cte}c AS (SELECT {g} AS g, t.closed_at - t.opened_at AS v, t.rating AS rating \
           FROM tickets t {join} \
           WHERE t.guild_id = $1 AND t.state = 'closed' AND t.closed_at >= $2 AND t.closed_at < $3), \
         r AS (SELECT g, v, rating, ROW_NUMBER() OVER (PARTITION BY g ORDER BY v) AS rn, \
           COUNT(*) OVER (PARTITION BY g) AS n FROM c) \
         SELECT g, COUNT(*) AS total, \
           MAX(CASE WHEN rn = (5 * n + 9) / 10 THEN v END) AS median, \
           MAX(CASE WHEN rn = (9 * n + 9) / 10 THEN v END) AS p90, \
           SUM(CASE WHEN rating = 1 THEN 1 ELSE 0 END) AS s1, \
           SUM(CASE WHEN rating = 2 THEN 1 ELSE 0 END) AS s2, \
           SUM(CASE WHEN rating = 3 THEN 1 ELSE 0 END) AS s3, \
           SUM(CASE WHEN rating = 4 THEN 1 ELSE 0 END) AS s4, \
           SUM(CASE WHEN rating = 5 THEN 1 ELSE 0 END) AS s5 \
         FROM r GROUP BY g"
    )
}

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// Binds the guild, the period and any tags, in the order the SQL numbers them.
macro_rules! bind_period {
    ($query:expr, $guild:expr, $period:expr, $tags:expr) => {{
        let mut q = sqlx::query($query)
            .bind(sql_id($guild))
            .bind($period.from_ms)
            .bind($period.to_ms);
        for tag in $tags {
            q = q.bind(tag.clone());
        }
        q
    }};
}

impl ReportLedger for Store {
    async fn ticket_figures(
        &self,
        guild_id: u64,
        period: Period,
        grouping: &Grouping,
    ) -> Result<Vec<(String, TicketFigures)>, StoreError> {
        let backend = self.backend();
        let tags = tag_binds(grouping);
        let opened = opened_sql(grouping, backend);
        let closed = closed_sql(grouping, backend);
        let mut groups: BTreeMap<String, TicketFigures> = BTreeMap::new();
        with_pool!(self, p => {
            for r in bind_period!(&opened, guild_id, period, tags).fetch_all(p).await? {
                let f = groups.entry(r.try_get("g")?).or_default();
                f.opened = count(r.try_get("total")?);
                f.first_response = Durations {
                    count: count(r.try_get("measured")?),
                    median_ms: r.try_get("median")?,
                    p90_ms: r.try_get("p90")?,
                };
            }
            if !matches!(grouping, Grouping::Bucket(_)) {
                for r in bind_period!(&closed, guild_id, period, tags).fetch_all(p).await? {
                    let f = groups.entry(r.try_get("g")?).or_default();
                    f.closed = count(r.try_get("total")?);
                    f.resolution = Durations {
                        count: f.closed,
                        median_ms: r.try_get("median")?,
                        p90_ms: r.try_get("p90")?,
                    };
                    for (i, col) in ["s1", "s2", "s3", "s4", "s5"].iter().enumerate() {
                        f.ratings[i] = count(r.try_get::<Option<i64>, _>(*col)?.unwrap_or(0));
                    }
                }
            }
        });
        Ok(groups.into_iter().collect())
    }

    async fn question_figures(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<QuestionFigures, StoreError> {
        let mut q = QuestionFigures::default();
        with_pool!(self, p => {
            let rows = bind_period!(
                "SELECT outcome, COUNT(*) AS n FROM questions \
                 WHERE guild_id = $1 AND asked_at >= $2 AND asked_at < $3 GROUP BY outcome",
                guild_id, period, &[] as &[String]
            )
            .fetch_all(p)
            .await?;
            for r in rows {
                let n = count(r.try_get("n")?);
                match r.try_get::<String, _>("outcome")?.as_str() {
                    "cooldown" => continue,
                    "answer" => q.answered = n,
                    "suggest" => q.suggested = n,
                    "abstain" => q.abstained = n,
                    _ => {}
                }
                q.asked += n;
            }
            let r = bind_period!(
                "SELECT \
                   COUNT(DISTINCT CASE WHEN e.kind = 'solved' THEN e.question_id END) AS solved, \
                   COUNT(DISTINCT CASE WHEN e.kind = 'human' THEN e.question_id END) AS handoffs, \
                   COUNT(DISTINCT CASE WHEN e.kind = 'solved' AND NOT EXISTS \
                     (SELECT 1 FROM tickets t WHERE t.question_id = e.question_id) \
                     THEN e.question_id END) AS deflected \
                 FROM question_events e JOIN questions q ON q.id = e.question_id \
                 WHERE e.kind IN ('solved', 'human') \
                   AND q.guild_id = $1 AND q.asked_at >= $2 AND q.asked_at < $3",
                guild_id, period, &[] as &[String]
            )
            .fetch_one(p)
            .await?;
            q.solved = count(r.try_get("solved")?);
            q.handoffs = count(r.try_get("handoffs")?);
            q.deflected = count(r.try_get("deflected")?);
        });
        Ok(q)
    }

    async fn question_buckets(
        &self,
        guild_id: u64,
        period: Period,
        bucket_ms: i64,
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        let sql = format!(
            "SELECT (asked_at - $2) / {bucket_ms} AS b, COUNT(*) AS n FROM questions \
             WHERE guild_id = $1 AND asked_at >= $2 AND asked_at < $3 AND outcome <> 'cooldown' \
             GROUP BY (asked_at - $2) / {bucket_ms}"
        );
        with_pool!(self, p => {
            bind_period!(&sql, guild_id, period, &[] as &[String])
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("b")?, count(r.try_get("n")?))))
                .collect()
        })
    }

    async fn unanswered(
        &self,
        guild_id: u64,
        period: Period,
        limit: usize,
    ) -> Result<(Vec<(String, u64)>, u64), StoreError> {
        // Abstentions, and suggestions the customer said did not fit.
        let unanswered = "SELECT text FROM questions \
              WHERE guild_id = $1 AND outcome = 'abstain' AND asked_at >= $2 AND asked_at < $3 \
            UNION ALL \
            SELECT q.text FROM question_events e JOIN questions q ON q.id = e.question_id \
              WHERE e.kind = 'none_fit' AND q.outcome <> 'abstain' \
                AND q.guild_id = $1 AND q.asked_at >= $2 AND q.asked_at < $3";
        let top = format!(
            "SELECT text, COUNT(*) AS n FROM ({unanswered}) u \
             GROUP BY text ORDER BY n DESC, text LIMIT {limit}"
        );
        let total = format!("SELECT COUNT(*) AS n FROM ({unanswered}) u");
        with_pool!(self, p => {
            let texts = bind_period!(&top, guild_id, period, &[] as &[String])
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("text")?, count(r.try_get("n")?))))
                .collect::<Result<Vec<_>, StoreError>>()?;
            let total = bind_period!(&total, guild_id, period, &[] as &[String])
                .fetch_one(p)
                .await?
                .try_get("n")?;
            Ok((texts, count(total)))
        })
    }

    async fn tags(&self, guild_id: u64, period: Period) -> Result<Vec<String>, StoreError> {
        let combos: Vec<String> = with_pool!(self, p => {
            bind_period!(
                "SELECT DISTINCT tags FROM tickets WHERE guild_id = $1 AND tags <> '' AND \
                 ((opened_at >= $2 AND opened_at < $3) OR (closed_at >= $2 AND closed_at < $3))",
                guild_id, period, &[] as &[String]
            )
            .fetch_all(p)
            .await?
            .iter()
            .map(|r| r.try_get("tags"))
            .collect::<Result<_, _>>()?
        });
        let mut tags: Vec<String> = combos
            .iter()
            .flat_map(|c| c.split(','))
            .filter(|t| !t.is_empty())
            .map(str::to_string)
            .collect();
        tags.sort();
        tags.dedup();
        Ok(tags)
    }

    async fn crises_during(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<Vec<Crisis>, StoreError> {
        let sql = format!(
            "SELECT {CRISIS_COLUMNS} FROM crises WHERE guild_id = $1 AND started_at < $3 \
             AND (ended_at IS NULL OR ended_at >= $2) ORDER BY started_at, id"
        );
        with_pool!(self, p => {
            bind_period!(&sql, guild_id, period, &[] as &[String])
                .fetch_all(p)
                .await?
                .iter()
                .map(crisis_from_row)
                .collect()
        })
    }

    async fn crisis_deliveries(&self, crisis_id: i64) -> Result<(u64, Deliveries), StoreError> {
        with_pool!(self, p => {
            let updates: i64 =
                sqlx::query("SELECT COUNT(*) AS n FROM crisis_updates WHERE crisis_id = $1")
                    .bind(crisis_id)
                    .fetch_one(p)
                    .await?
                    .try_get("n")?;
            let rows = sqlx::query(
                "SELECT o.state AS state, COUNT(*) AS n FROM outbox o \
                 JOIN crisis_updates u ON u.id = o.update_id \
                 WHERE u.crisis_id = $1 GROUP BY o.state",
            )
            .bind(crisis_id)
            .fetch_all(p)
            .await?;
            let mut d = Deliveries::default();
            for r in rows {
                let n = count(r.try_get("n")?);
                match r.try_get::<String, _>("state")?.as_str() {
                    "sent" => d.delivered = n,
                    "refused" => d.refused = n,
                    "failed" => d.failed = n,
                    _ => d.pending += n,
                }
            }
            Ok((count(updates), d))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    // The formula below is the SQL's, written as the SQL writes it.
    #[allow(clippy::manual_div_ceil)]
    fn the_rank_the_sql_computes_is_nearest_rank() {
        // The SQL's `(5 * n + 9) / 10` and `(9 * n + 9) / 10` in integers.
        for n in 1..500u64 {
            assert_eq!((5 * n + 9) / 10, crate::desk::report::nearest_rank(n, 5));
            assert_eq!((9 * n + 9) / 10, crate::desk::report::nearest_rank(n, 9));
        }
    }

    #[test]
    fn tag_groupings_number_their_parameters_after_the_period() {
        let tags = Grouping::Tags(vec!["a".into(), "b".into()]);
        let sql = opened_sql(&tags, Backend::Postgres);
        assert!(
            sql.starts_with("WITH tg(tag) AS (VALUES ($4), ($5)), o AS"),
            "{sql}"
        );
        assert!(sql.contains("strpos("));
        assert!(opened_sql(&tags, Backend::Sqlite).contains("instr("));
    }
}
