//! Crises, their updates, subscriptions and the outbox in the database. The outbox is claimed
//! with a lease: on PostgreSQL with `FOR UPDATE SKIP LOCKED`, so several senders share it and
//! never take the same row; on SQLite the single writer does the same job.

use sqlx::Row;

use super::{Backend, Pool, Store, from_sql_id, opt_id, sql_id};
use crate::desk::StoreError;
use crate::desk::crisis::{
    Crisis, CrisisLedger, CrisisUpdate, Delivery, DeliveryState, Outcome, Progress, Subscription,
    UpdateKind, UpdateMark,
};

pub(super) const CRISIS_COLUMNS: &str = "id, guild_id, topic, title, status_text, started_by, started_at, \
     ended_at, closing_note, status_channel_id, status_message_id";

const UPDATE_COLUMNS: &str = "id, crisis_id, kind, text, posted_by, at, status_done, \
     announce_message_id, progress_channel_id, progress_message_id, fanned_out, reported";

pub(super) fn crisis_from_row<R: Row>(r: &R) -> Result<Crisis, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database>,
{
    Ok(Crisis {
        id: r.try_get("id")?,
        guild_id: r.try_get::<i64, _>("guild_id")? as u64,
        topic: r.try_get("topic")?,
        title: r.try_get("title")?,
        status_text: r.try_get("status_text")?,
        started_by: r.try_get::<i64, _>("started_by")? as u64,
        started_at_ms: r.try_get("started_at")?,
        ended_at_ms: r.try_get("ended_at")?,
        closing_note: r.try_get("closing_note")?,
        status_channel_id: from_sql_id(r.try_get("status_channel_id")?),
        status_message_id: from_sql_id(r.try_get("status_message_id")?),
    })
}

fn update_from_row<R: Row>(r: &R) -> Result<CrisisUpdate, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database>,
{
    let kind: String = r.try_get("kind")?;
    Ok(CrisisUpdate {
        id: r.try_get("id")?,
        crisis_id: r.try_get("crisis_id")?,
        kind: UpdateKind::from_name(&kind)
            .ok_or_else(|| StoreError::new(format!("unknown update kind {kind:?}")))?,
        text: r.try_get("text")?,
        posted_by: r.try_get::<i64, _>("posted_by")? as u64,
        at_ms: r.try_get("at")?,
        status_done: r.try_get::<i64, _>("status_done")? != 0,
        announce_message_id: from_sql_id(r.try_get("announce_message_id")?),
        progress_channel_id: from_sql_id(r.try_get("progress_channel_id")?),
        progress_message_id: from_sql_id(r.try_get("progress_message_id")?),
        fanned_out: r.try_get::<i64, _>("fanned_out")? != 0,
        reported: r.try_get::<i64, _>("reported")? != 0,
    })
}

impl Store {
    /// How the outbox rows matching `filter` (with `$1` bound to `value`) are going.
    pub(super) async fn outbox_progress(
        &self,
        filter: &str,
        value: i64,
    ) -> Result<Progress, StoreError> {
        let sql = format!(
            "SELECT COUNT(*), \
             COALESCE(SUM(CASE WHEN state = 'sent' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'refused' THEN 1 ELSE 0 END), 0), \
             COALESCE(SUM(CASE WHEN state = 'failed' THEN 1 ELSE 0 END), 0) \
             FROM outbox WHERE {filter}"
        );
        with_pool!(self, p => {
            let row = sqlx::query(&sql).bind(value).fetch_one(p).await?;
            Ok(Progress {
                total: row.try_get(0)?,
                sent: row.try_get(1)?,
                refused: row.try_get(2)?,
                failed: row.try_get(3)?,
            })
        })
    }
}

impl CrisisLedger for Store {
    async fn start_crisis(
        &self,
        guild_id: u64,
        topic: &str,
        title: &str,
        status: &str,
        by: u64,
        at_ms: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            // One running crisis per topic: the partial unique index decides a race.
            let row = sqlx::query(&format!(
                "INSERT INTO crises (guild_id, topic, title, status_text, started_by, started_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) \
                 ON CONFLICT (guild_id, topic) WHERE ended_at IS NULL DO NOTHING \
                 RETURNING {CRISIS_COLUMNS}"
            ))
            .bind(sql_id(guild_id))
            .bind(topic)
            .bind(title)
            .bind(status)
            .bind(sql_id(by))
            .bind(at_ms)
            .fetch_optional(&mut *tx)
            .await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let crisis = crisis_from_row(&row)?;
            let row = sqlx::query(&format!(
                "INSERT INTO crisis_updates (crisis_id, kind, text, posted_by, at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {UPDATE_COLUMNS}"
            ))
            .bind(crisis.id)
            .bind(UpdateKind::Start.name())
            .bind(status)
            .bind(sql_id(by))
            .bind(at_ms)
            .fetch_one(&mut *tx)
            .await?;
            let update = update_from_row(&row)?;
            tx.commit().await?;
            Ok(Some((crisis, update)))
        })
    }

    async fn add_update(
        &self,
        crisis_id: i64,
        kind: UpdateKind,
        text: &str,
        by: u64,
        at_ms: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError> {
        // The end closes the crisis with the update's text as its note; other updates replace
        // the status text.
        let (change, ends) = match kind {
            UpdateKind::End => ("ended_at = $2, closing_note = $3", true),
            UpdateKind::Start | UpdateKind::Update => ("status_text = $2", false),
        };
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let sql = format!(
                "UPDATE crises SET {change} WHERE id = $1 AND ended_at IS NULL \
                 RETURNING {CRISIS_COLUMNS}"
            );
            let query = sqlx::query(&sql).bind(crisis_id);
            let query = if ends { query.bind(at_ms).bind(text) } else { query.bind(text) };
            let row = query.fetch_optional(&mut *tx).await?;
            let Some(row) = row else {
                return Ok(None);
            };
            let crisis = crisis_from_row(&row)?;
            let row = sqlx::query(&format!(
                "INSERT INTO crisis_updates (crisis_id, kind, text, posted_by, at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING {UPDATE_COLUMNS}"
            ))
            .bind(crisis_id)
            .bind(kind.name())
            .bind(text)
            .bind(sql_id(by))
            .bind(at_ms)
            .fetch_one(&mut *tx)
            .await?;
            let update = update_from_row(&row)?;
            tx.commit().await?;
            Ok(Some((crisis, update)))
        })
    }

    async fn crisis(&self, id: i64) -> Result<Option<Crisis>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!("SELECT {CRISIS_COLUMNS} FROM crises WHERE id = $1"))
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(crisis_from_row).transpose()
        })
    }

    async fn crisis_update(
        &self,
        update_id: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError> {
        let update = with_pool!(self, p => {
            let row = sqlx::query(&format!(
                "SELECT {UPDATE_COLUMNS} FROM crisis_updates WHERE id = $1"
            ))
            .bind(update_id)
            .fetch_optional(p)
            .await?;
            row.as_ref().map(update_from_row).transpose()
        })?;
        let Some(update) = update else {
            return Ok(None);
        };
        Ok(self.crisis(update.crisis_id).await?.map(|c| (c, update)))
    }

    async fn running_crises(&self, guild_id: u64) -> Result<Vec<Crisis>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {CRISIS_COLUMNS} FROM crises WHERE guild_id = $1 AND ended_at IS NULL \
                 ORDER BY id"
            ))
            .bind(sql_id(guild_id))
            .fetch_all(p)
            .await?;
            rows.iter().map(crisis_from_row).collect()
        })
    }

    async fn updates(&self, crisis_id: i64) -> Result<Vec<CrisisUpdate>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {UPDATE_COLUMNS} FROM crisis_updates WHERE crisis_id = $1 ORDER BY id"
            ))
            .bind(crisis_id)
            .fetch_all(p)
            .await?;
            rows.iter().map(update_from_row).collect()
        })
    }

    async fn set_status_message(
        &self,
        crisis_id: i64,
        channel_id: u64,
        message_id: u64,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "UPDATE crises SET status_channel_id = $1, status_message_id = $2 WHERE id = $3",
            )
            .bind(sql_id(channel_id))
            .bind(sql_id(message_id))
            .bind(crisis_id)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn mark_update(&self, update_id: i64, mark: UpdateMark) -> Result<(), StoreError> {
        with_pool!(self, p => {
            let query = match mark {
                UpdateMark::Shown { announce_message_id } => sqlx::query(
                    "UPDATE crisis_updates SET status_done = 1, announce_message_id = $1 \
                     WHERE id = $2",
                )
                .bind(opt_id(announce_message_id)),
                UpdateMark::Progress { channel_id, message_id } => sqlx::query(
                    "UPDATE crisis_updates SET progress_channel_id = $1, \
                     progress_message_id = $2 WHERE id = $3",
                )
                .bind(sql_id(channel_id))
                .bind(sql_id(message_id)),
                UpdateMark::Reported => {
                    sqlx::query("UPDATE crisis_updates SET reported = 1 WHERE id = $1")
                }
            };
            query.bind(update_id).execute(p).await?;
            Ok(())
        })
    }

    async fn unfinished_updates(&self) -> Result<Vec<(Crisis, CrisisUpdate)>, StoreError> {
        let updates: Vec<CrisisUpdate> = with_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {UPDATE_COLUMNS} FROM crisis_updates \
                 WHERE status_done = 0 OR fanned_out = 0 OR reported = 0 ORDER BY id"
            ))
            .fetch_all(p)
            .await?;
            rows.iter().map(update_from_row).collect::<Result<Vec<_>, StoreError>>()
        })?;
        let mut out = Vec::with_capacity(updates.len());
        for u in updates {
            if let Some(c) = self.crisis(u.crisis_id).await? {
                out.push((c, u));
            }
        }
        Ok(out)
    }

    async fn subscribe(&self, s: &Subscription) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO subscriptions \
                 (guild_id, user_id, topic, dm_channel_id, lang, since, dm_refused_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (guild_id, user_id, topic) \
                 DO UPDATE SET dm_channel_id = excluded.dm_channel_id, lang = excluded.lang, \
                 dm_refused_at = excluded.dm_refused_at",
            )
            .bind(sql_id(s.guild_id))
            .bind(sql_id(s.user_id))
            .bind(&s.topic)
            .bind(sql_id(s.dm_channel_id))
            .bind(&s.lang)
            .bind(s.since_ms)
            .bind(s.dm_refused_at_ms)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn set_dm_refused(
        &self,
        guild_id: u64,
        user_id: u64,
        at_ms: Option<i64>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "UPDATE subscriptions SET dm_refused_at = $1 WHERE guild_id = $2 AND user_id = $3",
            )
            .bind(at_ms)
            .bind(sql_id(guild_id))
            .bind(sql_id(user_id))
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn unsubscribe(
        &self,
        guild_id: u64,
        user_id: u64,
        topic: Option<&str>,
    ) -> Result<u64, StoreError> {
        with_pool!(self, p => {
            let done = sqlx::query(
                "DELETE FROM subscriptions WHERE guild_id = $1 AND user_id = $2 \
                 AND ($3 IS NULL OR topic = $3)",
            )
            .bind(sql_id(guild_id))
            .bind(sql_id(user_id))
            .bind(topic)
            .execute(p)
            .await?;
            Ok(done.rows_affected())
        })
    }

    async fn subscriptions_of(
        &self,
        guild_id: u64,
        user_id: u64,
    ) -> Result<Vec<Subscription>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT topic, dm_channel_id, since, lang, dm_refused_at FROM subscriptions \
                 WHERE guild_id = $1 AND user_id = $2 ORDER BY topic",
            )
            .bind(sql_id(guild_id))
            .bind(sql_id(user_id))
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    Ok(Subscription {
                        guild_id,
                        user_id,
                        topic: r.try_get(0)?,
                        dm_channel_id: r.try_get::<i64, _>(1)? as u64,
                        since_ms: r.try_get(2)?,
                        lang: r.try_get(3)?,
                        dm_refused_at_ms: r.try_get(4)?,
                    })
                })
                .collect()
        })
    }

    async fn fan_out(
        &self,
        update_id: i64,
        guild_id: u64,
        topic: &str,
        at_ms: i64,
    ) -> Result<i64, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            // One delivery per member, however many of their topics match.
            sqlx::query(
                "INSERT INTO outbox (update_id, user_id, channel_id, lang, state, next_at) \
                 SELECT $1, user_id, MIN(dm_channel_id), MIN(lang), 'pending', $2 FROM subscriptions \
                 WHERE guild_id = $3 AND topic IN ($4, '*') AND dm_refused_at IS NULL \
                 GROUP BY user_id \
                 ON CONFLICT (update_id, user_id) DO NOTHING",
            )
            .bind(update_id)
            .bind(at_ms)
            .bind(sql_id(guild_id))
            .bind(topic)
            .execute(&mut *tx)
            .await?;
            sqlx::query("UPDATE crisis_updates SET fanned_out = 1 WHERE id = $1")
                .bind(update_id)
                .execute(&mut *tx)
                .await?;
            let total: i64 = sqlx::query("SELECT COUNT(*) FROM outbox WHERE update_id = $1")
                .bind(update_id)
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            tx.commit().await?;
            Ok(total)
        })
    }

    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        // PostgreSQL: rows another sender holds are skipped, not waited for.
        let lock = match self.backend() {
            Backend::Postgres => "FOR UPDATE SKIP LOCKED",
            Backend::Sqlite => "",
        };
        let sql = format!(
            "UPDATE outbox SET claimed_until = $1 + $2, attempts = attempts + 1 \
             WHERE id IN (SELECT id FROM outbox WHERE state = 'pending' AND next_at <= $1 \
             AND (claimed_until IS NULL OR claimed_until < $1) ORDER BY id LIMIT $3 {lock}) \
             RETURNING id, update_id, user_id, channel_id, lang, state, attempts"
        );
        with_pool!(self, p => {
            let rows = sqlx::query(&sql)
                .bind(now_ms)
                .bind(lease_ms)
                .bind(limit)
                .fetch_all(p)
                .await?;
            let mut out = rows
                .iter()
                .map(|r| {
                    let state: String = r.try_get("state")?;
                    Ok(Delivery {
                        id: r.try_get("id")?,
                        update_id: r.try_get("update_id")?,
                        user_id: r.try_get::<i64, _>("user_id")? as u64,
                        channel_id: r.try_get::<i64, _>("channel_id")? as u64,
                        lang: r.try_get("lang")?,
                        state: DeliveryState::from_name(&state)
                            .ok_or_else(|| StoreError::new(format!("unknown delivery state {state:?}")))?,
                        attempts: r.try_get("attempts")?,
                    })
                })
                .collect::<Result<Vec<_>, StoreError>>()?;
            out.sort_by_key(|d| d.id);
            Ok(out)
        })
    }

    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &Outcome,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        let (state, message_id, error, next_at) = match outcome {
            Outcome::Sent { message_id } => {
                (DeliveryState::Sent, Some(sql_id(*message_id)), None, None)
            }
            Outcome::Refused { why } => (DeliveryState::Refused, None, Some(why.clone()), None),
            Outcome::Failed { why } => (DeliveryState::Failed, None, Some(why.clone()), None),
            Outcome::Retry { at_ms, why } => (
                DeliveryState::Pending,
                None,
                Some(why.clone()),
                Some(*at_ms),
            ),
        };
        let done_at = (state != DeliveryState::Pending).then_some(at_ms);
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "UPDATE outbox SET state = $1, message_id = COALESCE($2, message_id), error = $3, \
                 next_at = COALESCE($4, next_at), done_at = $5, claimed_until = NULL WHERE id = $6",
            )
            .bind(state.name())
            .bind(message_id)
            .bind(error)
            .bind(next_at)
            .bind(done_at)
            .bind(id)
            .execute(&mut *tx)
            .await?;
            // A refused delivery means Discord will refuse the next ones too: the member is
            // skipped by later fan-outs until they subscribe again.
            if state == DeliveryState::Refused {
                sqlx::query(
                    "UPDATE subscriptions SET dm_refused_at = $1 \
                     WHERE user_id = (SELECT user_id FROM outbox WHERE id = $2) \
                     AND guild_id = (SELECT c.guild_id FROM outbox o \
                     JOIN crisis_updates u ON u.id = o.update_id \
                     JOIN crises c ON c.id = u.crisis_id WHERE o.id = $2)",
                )
                .bind(at_ms)
                .bind(id)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn progress(&self, update_id: i64) -> Result<Progress, StoreError> {
        self.outbox_progress("update_id = $1", update_id).await
    }
}
