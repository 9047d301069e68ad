//! What reports read: the questions counted by the database (a million of them are counted from
//! indexes, not read into memory), the period's tickets as narrow rows, and the crises.

use sqlx::Row;

use super::crisis::{CRISIS_COLUMNS, crisis_from_row};
use super::{Pool, Store, from_sql_id, sql_id};
use crate::desk::StoreError;
use crate::desk::crisis::Crisis;
use crate::desk::crisis::Progress;
use crate::desk::report::{EventCounts, Period, ReportLedger, TicketRow};

fn count(n: i64) -> u64 {
    n.max(0) as u64
}

/// A query bound to the guild and the period, in the order the SQL numbers them ($1 to $3).
macro_rules! period_query {
    ($sql:expr, $guild:expr, $period:expr) => {
        sqlx::query($sql)
            .bind(sql_id($guild))
            .bind($period.from_ms)
            .bind($period.to_ms)
    };
}

const TICKET_ROW: &str = "SELECT agent_id, category, tags, opened_at, first_response_at, \
     CASE WHEN state = 'closed' THEN closed_at END AS closed_at, rating FROM tickets";

impl ReportLedger for Store {
    async fn ticket_rows(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<Vec<TicketRow>, StoreError> {
        // Two index ranges rather than one OR, which would read the whole table.
        let sql = format!(
            "{TICKET_ROW} WHERE guild_id = $1 AND opened_at >= $2 AND opened_at < $3 \
             UNION ALL \
             {TICKET_ROW} WHERE guild_id = $1 AND state = 'closed' AND closed_at >= $2 \
               AND closed_at < $3 AND NOT (opened_at >= $2 AND opened_at < $3)"
        );
        with_pool!(self, p => {
            period_query!(&sql, guild_id, period)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| {
                    Ok(TicketRow {
                        agent_id: from_sql_id(r.try_get("agent_id")?),
                        category: r.try_get("category")?,
                        tags: r.try_get("tags")?,
                        opened_at_ms: r.try_get("opened_at")?,
                        first_response_at_ms: r.try_get("first_response_at")?,
                        closed_at_ms: r.try_get("closed_at")?,
                        rating: r.try_get("rating")?,
                    })
                })
                .collect()
        })
    }

    async fn question_totals(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        // The (guild, outcome, time) index hands the rows over grouped already: no sort.
        let sql = "SELECT outcome, COUNT(*) AS n FROM questions \
             WHERE guild_id = $1 AND asked_at >= $2 AND asked_at < $3 GROUP BY outcome";
        with_pool!(self, p => {
            period_query!(sql, guild_id, period)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("outcome")?, count(r.try_get("n")?))))
                .collect()
        })
    }

    async fn question_buckets(
        &self,
        guild_id: u64,
        bounds: &[i64],
    ) -> Result<Vec<(i64, u64)>, StoreError> {
        // One index range count per bucket: grouping a million rows by a computed bucket
        // would sort them all. The bounds are numbers Beacon computed, not user input.
        if bounds.len() < 2 {
            return Ok(Vec::new());
        }
        let values: Vec<String> = bounds
            .windows(2)
            .enumerate()
            .map(|(i, w)| {
                format!(
                    "(CAST({i} AS BIGINT), CAST({} AS BIGINT), CAST({} AS BIGINT))",
                    w[0], w[1]
                )
            })
            .collect();
        let sql = format!(
            "WITH b(i, lo, hi) AS (VALUES {}) \
             SELECT i AS b, (SELECT COUNT(*) FROM questions \
               WHERE guild_id = $1 AND asked_at >= b.lo AND asked_at < b.hi \
                 AND outcome <> 'cooldown') AS n \
             FROM b",
            values.join(", ")
        );
        with_pool!(self, p => {
            sqlx::query(&sql)
                .bind(sql_id(guild_id))
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("b")?, count(r.try_get("n")?))))
                .collect()
        })
    }

    async fn question_events(
        &self,
        guild_id: u64,
        period: Period,
    ) -> Result<EventCounts, StoreError> {
        let sql = "SELECT \
               COUNT(DISTINCT CASE WHEN e.kind = 'solved' THEN e.question_id END) AS solved, \
               COUNT(DISTINCT CASE WHEN e.kind = 'human' THEN e.question_id END) AS handoffs, \
               COUNT(DISTINCT CASE WHEN e.kind = 'solved' AND NOT EXISTS \
                 (SELECT 1 FROM tickets t WHERE t.question_id = e.question_id) \
                 THEN e.question_id END) AS deflected, \
               COUNT(DISTINCT CASE WHEN e.kind = 'none_fit' AND q.outcome <> 'abstain' \
                 THEN e.question_id END) AS none_fit \
             FROM question_events e JOIN questions q ON q.id = e.question_id \
             WHERE e.kind IN ('solved', 'human', 'none_fit') \
               AND q.guild_id = $1 AND q.asked_at >= $2 AND q.asked_at < $3";
        with_pool!(self, p => {
            let r = period_query!(sql, guild_id, period).fetch_one(p).await?;
            Ok(EventCounts {
                solved: count(r.try_get("solved")?),
                handoffs: count(r.try_get("handoffs")?),
                deflected: count(r.try_get("deflected")?),
                none_fit: count(r.try_get("none_fit")?),
            })
        })
    }

    async fn unanswered(
        &self,
        guild_id: u64,
        period: Period,
        limit: usize,
    ) -> Result<Vec<(String, u64)>, StoreError> {
        // Abstentions, and suggestions the customer said did not fit (each question once).
        let sql = format!(
            "SELECT text, COUNT(*) AS n FROM ( \
               SELECT text FROM questions \
                 WHERE guild_id = $1 AND outcome = 'abstain' AND asked_at >= $2 AND asked_at < $3 \
               UNION ALL \
               SELECT text FROM questions \
                 WHERE id IN (SELECT question_id FROM question_events WHERE kind = 'none_fit') \
                   AND guild_id = $1 AND outcome <> 'abstain' AND asked_at >= $2 AND asked_at < $3 \
             ) u GROUP BY text ORDER BY n DESC, text LIMIT {limit}"
        );
        with_pool!(self, p => {
            period_query!(&sql, guild_id, period)
                .fetch_all(p)
                .await?
                .iter()
                .map(|r| Ok((r.try_get("text")?, count(r.try_get("n")?))))
                .collect()
        })
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
            period_query!(&sql, guild_id, period)
                .fetch_all(p)
                .await?
                .iter()
                .map(crisis_from_row)
                .collect()
        })
    }

    async fn crisis_deliveries(&self, crisis_id: i64) -> Result<(u64, Progress), StoreError> {
        let updates: i64 = with_pool!(self, p => {
            sqlx::query("SELECT COUNT(*) AS n FROM crisis_updates WHERE crisis_id = $1")
                .bind(crisis_id)
                .fetch_one(p)
                .await?
                .try_get("n")?
        });
        let progress = self
            .outbox_progress(
                "update_id IN (SELECT id FROM crisis_updates WHERE crisis_id = $1)",
                crisis_id,
            )
            .await?;
        Ok((count(updates), progress))
    }
}
