//! The desk's `Ledger` on SQLite and PostgreSQL: a server's settings, the questions asked and
//! what people did with the answers.

use super::*;

pub(super) const QUESTION_SELECT: &str = "SELECT id, guild_id, channel_id, user_id, source, source_id, text, \
     lang, outcome, intent, confidence, suggestions, asked_at, reply_id FROM questions";

pub(super) fn question_from_row<R: Row>(r: &R) -> Result<QuestionRecord, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    f64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database>,
{
    let source: String = r.try_get("source")?;
    let suggestions: String = r.try_get("suggestions")?;
    Ok(QuestionRecord {
        guild_id: r.try_get::<i64, _>("guild_id")? as u64,
        channel_id: r.try_get::<i64, _>("channel_id")? as u64,
        user_id: r.try_get::<i64, _>("user_id")? as u64,
        source: Source::from_name(&source)
            .ok_or_else(|| StoreError::new(format!("unknown question source {source:?}")))?,
        source_id: r.try_get::<i64, _>("source_id")? as u64,
        text: r.try_get("text")?,
        lang: r.try_get("lang")?,
        outcome: r.try_get("outcome")?,
        intent: r.try_get("intent")?,
        confidence: r.try_get("confidence")?,
        suggestions: serde_json::from_str(&suggestions)
            .map_err(|e| StoreError::new(format!("suggestions column: {e}")))?,
        asked_at_ms: r.try_get("asked_at")?,
    })
}

fn event_kind(name: &str) -> Result<EventKind, StoreError> {
    [
        EventKind::Solved,
        EventKind::Human,
        EventKind::Picked,
        EventKind::NoneFit,
        EventKind::TicketOffer,
    ]
    .into_iter()
    .find(|k| k.name() == name)
    .ok_or_else(|| StoreError::new(format!("unknown event kind {name:?}")))
}

impl Ledger for Store {
    async fn settings(&self, guild_id: u64) -> Result<GuildSettings, StoreError> {
        with_pool!(self, p => {
            let mut s = GuildSettings::new(guild_id);
            let row = sqlx::query(
                "SELECT forum_channel, agents_channel, tickets_channel, announce_channel, \
                 status_channel, agent_role, moderator_role, opening_hours, time_zone, threshold, updated_by, \
                 updated_at, supervisor_role, transcripts_channel, announce_role FROM guild_settings WHERE guild_id = $1",
            )
            .bind(sql_id(guild_id))
            .fetch_optional(p)
            .await?;
            if let Some(r) = row {
                s.forum_channel = from_sql_id(r.try_get("forum_channel")?);
                s.agents_channel = from_sql_id(r.try_get("agents_channel")?);
                s.tickets_channel = from_sql_id(r.try_get("tickets_channel")?);
                s.announce_channel = from_sql_id(r.try_get("announce_channel")?);
                s.status_channel = from_sql_id(r.try_get("status_channel")?);
                s.agent_role = from_sql_id(r.try_get("agent_role")?);
                s.moderator_role = from_sql_id(r.try_get("moderator_role")?);
                s.supervisor_role = from_sql_id(r.try_get("supervisor_role")?);
                s.transcripts_channel = from_sql_id(r.try_get("transcripts_channel")?);
                s.announce_role = from_sql_id(r.try_get("announce_role")?);
                let hours: Option<String> = r.try_get("opening_hours")?;
                s.opening_hours = match hours {
                    Some(h) => Some(OpeningHours::parse(&h).map_err(|e| StoreError::new(e.to_string()))?),
                    None => None,
                };
                s.time_zone = r.try_get("time_zone")?;
                s.threshold = r.try_get("threshold")?;
                s.updated_by = from_sql_id(r.try_get("updated_by")?);
                s.updated_at_ms = r.try_get("updated_at")?;
            }
            let channels = sqlx::query("SELECT channel_id FROM help_channels WHERE guild_id = $1")
                .bind(sql_id(guild_id))
                .fetch_all(p)
                .await?;
            for c in channels {
                s.help_channels.insert(c.try_get::<i64, _>(0)? as u64);
            }
            Ok(s)
        })
    }

    async fn save_settings(&self, s: &GuildSettings) -> Result<(), StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            sqlx::query(
                "INSERT INTO guild_settings (guild_id, forum_channel, agents_channel, \
                 announce_channel, status_channel, agent_role, moderator_role, opening_hours, \
                 time_zone, threshold, updated_by, updated_at, tickets_channel, supervisor_role, \
                 transcripts_channel, announce_role) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16) \
                 ON CONFLICT (guild_id) DO UPDATE SET forum_channel = excluded.forum_channel, \
                 agents_channel = excluded.agents_channel, announce_channel = excluded.announce_channel, \
                 status_channel = excluded.status_channel, agent_role = excluded.agent_role, \
                 moderator_role = excluded.moderator_role, opening_hours = excluded.opening_hours, \
                 time_zone = excluded.time_zone, threshold = excluded.threshold, \
                 updated_by = excluded.updated_by, updated_at = excluded.updated_at, \
                 tickets_channel = excluded.tickets_channel, \
                 supervisor_role = excluded.supervisor_role, \
                 transcripts_channel = excluded.transcripts_channel, \
                 announce_role = excluded.announce_role",
            )
            .bind(sql_id(s.guild_id))
            .bind(opt_id(s.forum_channel))
            .bind(opt_id(s.agents_channel))
            .bind(opt_id(s.announce_channel))
            .bind(opt_id(s.status_channel))
            .bind(opt_id(s.agent_role))
            .bind(opt_id(s.moderator_role))
            .bind(s.opening_hours.as_ref().map(|h| h.to_string()))
            .bind(s.time_zone.clone())
            .bind(s.threshold)
            .bind(opt_id(s.updated_by))
            .bind(s.updated_at_ms)
            .bind(opt_id(s.tickets_channel))
            .bind(opt_id(s.supervisor_role))
            .bind(opt_id(s.transcripts_channel))
            .bind(opt_id(s.announce_role))
            .execute(&mut *tx)
            .await?;
            sqlx::query("DELETE FROM help_channels WHERE guild_id = $1")
                .bind(sql_id(s.guild_id))
                .execute(&mut *tx)
                .await?;
            for c in &s.help_channels {
                sqlx::query("INSERT INTO help_channels (guild_id, channel_id) VALUES ($1, $2)")
                    .bind(sql_id(s.guild_id))
                    .bind(sql_id(*c))
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(())
        })
    }

    async fn record_question(&self, q: &QuestionRecord) -> Result<Option<i64>, StoreError> {
        self.writer.question(q.clone()).await
    }

    async fn set_reply(&self, question_id: i64, reply_id: u64) -> Result<(), StoreError> {
        self.writer.reply(question_id, reply_id).await
    }

    async fn unreplied(&self, source_id: u64) -> Result<Option<i64>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "SELECT id FROM questions WHERE source_id = $1 AND reply_id IS NULL \
                 AND outcome <> 'cooldown'",
            )
            .bind(sql_id(source_id))
            .fetch_optional(p)
            .await?;
            Ok(row.map(|r| r.try_get::<i64, _>(0)).transpose()?)
        })
    }

    async fn question(
        &self,
        question_id: i64,
    ) -> Result<Option<(QuestionRecord, Option<u64>)>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!("{QUESTION_SELECT} WHERE id = $1"))
                .bind(question_id)
                .fetch_optional(p)
                .await?;
            match row {
                Some(r) => Ok(Some((question_from_row(&r)?, from_sql_id(r.try_get("reply_id")?)))),
                None => Ok(None),
            }
        })
    }

    async fn record_event(&self, e: &EventRecord) -> Result<i64, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "INSERT INTO question_events (question_id, user_id, kind, intent, at) \
                 VALUES ($1, $2, $3, $4, $5) RETURNING id",
            )
            .bind(e.question_id)
            .bind(sql_id(e.user_id))
            .bind(e.kind.name())
            .bind(e.intent.clone())
            .bind(e.at_ms)
            .fetch_one(p)
            .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    async fn events(&self, question_id: i64) -> Result<Vec<EventRecord>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT question_id, user_id, kind, intent, at FROM question_events \
                 WHERE question_id = $1 ORDER BY id",
            )
            .bind(question_id)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| {
                    let kind: String = r.try_get("kind")?;
                    Ok(EventRecord {
                        question_id: r.try_get("question_id")?,
                        user_id: r.try_get::<i64, _>("user_id")? as u64,
                        kind: event_kind(&kind)?,
                        intent: r.try_get("intent")?,
                        at_ms: r.try_get("at")?,
                    })
                })
                .collect()
        })
    }

    async fn remember_server_name(&self, guild_id: u64, name: &str) -> Result<(), StoreError> {
        self.remember_guild_name(guild_id, name).await
    }

    async fn server_name(&self, guild_id: u64) -> Result<Option<String>, StoreError> {
        self.guild_name(guild_id).await
    }
}
