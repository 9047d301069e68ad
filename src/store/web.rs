//! What the web side reads: the status page's crises, a signing key made once and kept, and the
//! two gauges the metrics endpoint counts at each scrape.

use sqlx::Row;

use super::crisis::{CRISIS_COLUMNS, crisis_from_row};
use super::{Pool, Store, sql_id};
use crate::desk::StoreError;
use crate::desk::crisis::{Crisis, CrisisLedger, CrisisUpdate};

/// Ended crises the status page shows, newest first.
pub const PAST_CRISES: i64 = 20;

impl Store {
    /// The secret called `name`, made from the operating system's random source the first time
    /// and kept: every process on the database and every restart signs with the same one.
    pub async fn secret(&self, name: &str) -> Result<Vec<u8>, StoreError> {
        let mut fresh = [0u8; 32];
        getrandom::getrandom(&mut fresh)
            .map_err(|e| StoreError::new(format!("random source: {e}")))?;
        let value: String = with_pool!(self, p => {
            sqlx::query("INSERT INTO secrets (name, value) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING")
                .bind(name)
                .bind(hex::encode(fresh))
                .execute(p)
                .await?;
            sqlx::query("SELECT value FROM secrets WHERE name = $1")
                .bind(name)
                .fetch_one(p)
                .await?
                .try_get("value")?
        });
        hex::decode(&value).map_err(|e| StoreError::new(format!("secret {name:?} is not hex: {e}")))
    }

    /// Whether Beacon knows the server: it was set up, or had a crisis.
    pub async fn guild_known(&self, guild_id: u64) -> Result<bool, StoreError> {
        let n: i64 = with_pool!(self, p => {
            sqlx::query(
                "SELECT (SELECT COUNT(*) FROM guild_settings WHERE guild_id = $1) \
                 + (SELECT COUNT(*) FROM crises WHERE guild_id = $1) AS n",
            )
            .bind(sql_id(guild_id))
            .fetch_one(p)
            .await?
            .try_get("n")?
        });
        Ok(n > 0)
    }

    /// The crises a status page shows, with their updates oldest first: the running ones
    /// (oldest first), then the last [`PAST_CRISES`] ended ones, newest first.
    pub async fn status_crises(
        &self,
        guild_id: u64,
    ) -> Result<Vec<(Crisis, Vec<CrisisUpdate>)>, StoreError> {
        let sql = format!(
            "SELECT {CRISIS_COLUMNS} FROM crises WHERE guild_id = $1 AND ended_at IS NOT NULL \
             ORDER BY ended_at DESC, id DESC LIMIT {PAST_CRISES}"
        );
        let ended: Vec<Crisis> = with_pool!(self, p => {
            sqlx::query(&sql)
                .bind(sql_id(guild_id))
                .fetch_all(p)
                .await?
                .iter()
                .map(crisis_from_row)
                .collect::<Result<_, _>>()?
        });
        let mut out = Vec::new();
        for crisis in self
            .running_crises(guild_id)
            .await?
            .into_iter()
            .chain(ended)
        {
            let updates = self.updates(crisis.id).await?;
            out.push((crisis, updates));
        }
        Ok(out)
    }

    /// Tickets waiting for an agent, all servers together.
    pub async fn queue_length(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM tickets WHERE state = 'waiting'")
            .await
    }

    /// Direct messages in the outbox not sent yet.
    pub async fn outbox_backlog(&self) -> Result<u64, StoreError> {
        self.count("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
            .await
    }
}

impl Store {
    /// Whether the database takes a write (one row, overwritten each time).
    pub async fn ping_write(&self, at_ms: i64) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO health (id, at) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET at = excluded.at",
            )
            .bind(at_ms)
            .execute(p)
            .await?;
        });
        Ok(())
    }
}

impl Store {
    /// Remember the server's name as Discord gives it (on every connection).
    pub async fn remember_guild_name(&self, guild_id: u64, name: &str) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO guild_names (guild_id, name) VALUES ($1, $2) \
                 ON CONFLICT (guild_id) DO UPDATE SET name = excluded.name",
            )
            .bind(sql_id(guild_id))
            .bind(name)
            .execute(p)
            .await?;
        });
        Ok(())
    }

    /// The server's name, if Beacon has seen it.
    pub async fn guild_name(&self, guild_id: u64) -> Result<Option<String>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query("SELECT name FROM guild_names WHERE guild_id = $1")
                .bind(sql_id(guild_id))
                .fetch_optional(p)
                .await?;
            Ok(match row {
                Some(r) => Some(r.try_get("name")?),
                None => None,
            })
        })
    }
}
