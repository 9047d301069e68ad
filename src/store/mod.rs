//! Storage with sqlx: one SQLite file by default, PostgreSQL when `DATABASE_URL` says
//! `postgres://`. The SQL is written once, in the dialect both accept (`$1` parameters,
//! `ON CONFLICT`, `RETURNING`); the migrations differ only in column types and live in
//! `migrations/sqlite` and `migrations/postgres`.

use std::str::FromStr;
use std::time::Duration;

use sqlx::Connection as _;
use sqlx::Row;
use sqlx::migrate::Migrator;
use sqlx::postgres::{PgConnectOptions, PgConnection, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};

use crate::desk::settings::OpeningHours;
use crate::desk::{
    EventKind, EventRecord, GuildSettings, Ledger, QuestionRecord, Source, StoreError,
};

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("migrations/postgres");

/// How long a first connection to PostgreSQL may take before Beacon says it cannot reach it.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// Which database a URL names: `postgres://` or `postgresql://`, `sqlite:`, or a bare file
/// path ending in `.db`, `.sqlite` or `.sqlite3`. Anything else (`not a url`, `mysql://...`) is
/// an error, not a SQLite file of that name.
pub fn backend_of(url: &str) -> Result<Backend, String> {
    let url = url.trim();
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        return Ok(Backend::Postgres);
    }
    if url.starts_with("sqlite:") {
        return Ok(Backend::Sqlite);
    }
    let file = !url.contains("://")
        && !url.chars().any(char::is_whitespace)
        && [".db", ".sqlite", ".sqlite3"]
            .iter()
            .any(|ext| url.ends_with(ext));
    if file {
        return Ok(Backend::Sqlite);
    }
    Err(format!(
        "the database URL {:?} is not one Beacon can open: use sqlite://beacon.db (a file, \
         created if missing) or postgres://user:password@host/database",
        redact_url(url)
    ))
}

/// A database URL without its password, for messages and logs: the password of
/// `user:password@host` and the values of `password=` and `sslpassword=` in the query (both
/// forms sqlx and libpq accept) become `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match (base.find("://"), base.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let creds = &base[scheme + 3..at];
            match creds.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &base[..scheme + 3], &base[at..]),
                None => base.to_string(),
            }
        }
        _ => base.to_string(),
    };
    if let Some(query) = query {
        let pairs: Vec<String> = query
            .split('&')
            .map(|pair| match pair.split_once('=') {
                Some((key, _)) if key.to_ascii_lowercase().ends_with("password") => {
                    format!("{key}=***")
                }
                _ => pair.to_string(),
            })
            .collect();
        out.push('?');
        out.push_str(&pairs.join("&"));
    }
    out
}

/// What a backup holds, counted in the copy.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Copied {
    pub tickets: u64,
    pub questions: u64,
}

/// Which database a [`Store`] talks to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone, Debug)]
enum Pool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The database, behind a pool. Cheap to clone.
#[derive(Clone, Debug)]
pub struct Store {
    pool: Pool,
    /// Writes on the hot path, committed in groups.
    writer: batch::Writer,
}

/// Runs `$body` with `$p` bound to whichever pool the store (or `@pool` a `&Pool`) has: the same
/// SQL, compiled once per backend.
macro_rules! with_pool {
    (@pool $pool:expr, $p:ident => $body:expr) => {
        match $pool {
            Pool::Sqlite($p) => $body,
            Pool::Postgres($p) => $body,
        }
    };
    ($store:expr, $p:ident => $body:expr) => {
        with_pool!(@pool &$store.pool, $p => $body)
    };
}

mod batch;
mod crisis;
mod ledger;

use ledger::{QUESTION_SELECT, question_from_row};
mod report;
mod ticket_rows;
mod tickets;
mod web;

/// The driver's message says what failed; the driver's error stays underneath as the source.
impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::caused(e.to_string(), e)
    }
}

/// Snowflakes fit in 63 bits, so they are stored as signed 64-bit integers.
fn sql_id(id: u64) -> i64 {
    id as i64
}

fn opt_id(id: Option<u64>) -> Option<i64> {
    id.map(sql_id)
}

fn from_sql_id(id: Option<i64>) -> Option<u64> {
    id.map(|i| i as u64)
}

impl Store {
    /// Connect to `url`: `postgres://...` or `postgresql://...` for PostgreSQL; `sqlite://PATH`,
    /// `sqlite::memory:` or a plain file path for SQLite (the file is created when missing, in
    /// WAL mode with a busy timeout, so readers never wait for the writer).
    pub async fn connect(url: &str) -> Result<Store, StoreError> {
        Store::open(url, true).await
    }

    /// Connect to a database that exists already, for commands that only read (`beacon
    /// report`): a missing SQLite file is an error, not a new empty database.
    pub async fn connect_existing(url: &str) -> Result<Store, StoreError> {
        Store::open(url, false).await
    }

    /// Every failure to open names the database (without its password), so callers need not.
    async fn open(url: &str, create: bool) -> Result<Store, StoreError> {
        Store::open_named(url, create)
            .await
            .map_err(|e| e.context(format!("cannot open the database {}", redact_url(url))))
    }

    async fn open_named(url: &str, create: bool) -> Result<Store, StoreError> {
        let backend = backend_of(url).map_err(StoreError::new)?;
        if backend == Backend::Postgres {
            let options = PgConnectOptions::from_str(url)?;
            let place = format!(
                "PostgreSQL at {}:{} (database {:?})",
                options.get_host(),
                options.get_port(),
                options.get_database().unwrap_or(options.get_username())
            );
            // One connection first, so that an unreachable server is named with the real cause
            // (a pool only says it timed out), and soon.
            match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect_with(&options)).await
            {
                Ok(Ok(probe)) => drop(probe.close().await),
                Ok(Err(e)) => {
                    return Err(StoreError::caused(
                        format!("cannot connect to {place}: {e}"),
                        e,
                    ));
                }
                Err(_) => {
                    return Err(StoreError::new(format!(
                        "no answer from {place} within {} s",
                        CONNECT_TIMEOUT.as_secs()
                    )));
                }
            }
            let pool = PgPoolOptions::new()
                .max_connections(16)
                .acquire_timeout(Duration::from_secs(10))
                .connect_with(options)
                .await?;
            return Ok(Store::new(Pool::Postgres(pool)));
        }
        let url = if url.starts_with("sqlite:") {
            url.to_string()
        } else {
            format!("sqlite://{url}")
        };
        let options = SqliteConnectOptions::from_str(&url)?.create_if_missing(create);
        // WAL is recorded in the file: set it on the databases Beacon creates and writes, not
        // on one a read-only command opens (which it would change).
        let options = if create {
            options.journal_mode(SqliteJournalMode::Wal)
        } else {
            options
        };
        let options = options
            // In WAL mode, NORMAL loses nothing when the process dies; only a power cut can
            // lose the last transactions.
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(Duration::from_secs(10))
            .foreign_keys(true);
        let memory = url.contains(":memory:");
        if !create && !memory && !options.get_filename().exists() {
            return Err(StoreError::new(format!(
                "there is no database file at {}",
                options.get_filename().display()
            )));
        }
        if create && !memory {
            // One connection first makes the file (and switches it to WAL) alone: the pool's
            // connections switching a new file at once can meet SQLITE_BUSY while the WAL is
            // set up, which SQLite returns without waiting out the busy timeout.
            SqliteConnection::connect_with(&options)
                .await?
                .close()
                .await?;
        }
        let pool = SqlitePoolOptions::new()
            // An in-memory database lives in one connection.
            .max_connections(if memory { 1 } else { 4 })
            .min_connections(1)
            .idle_timeout(None)
            .max_lifetime(None)
            .connect_with(options)
            .await?;
        Ok(Store::new(Pool::Sqlite(pool)))
    }

    /// Whether the database is new: it holds no migration yet.
    pub async fn is_empty(&self) -> bool {
        self.applied_migrations().await.unwrap_or(0) == 0
    }

    fn new(pool: Pool) -> Store {
        Store {
            writer: batch::Writer::start(pool.clone()),
            pool,
        }
    }

    pub fn backend(&self) -> Backend {
        match self.pool {
            Pool::Sqlite(_) => Backend::Sqlite,
            Pool::Postgres(_) => Backend::Postgres,
        }
    }

    /// Apply the migrations not applied yet; returns how many were applied.
    pub async fn migrate(&self) -> Result<usize, StoreError> {
        let before = self.applied_migrations().await.unwrap_or(0);
        let result = match &self.pool {
            Pool::Sqlite(p) => SQLITE_MIGRATIONS.run(p).await,
            Pool::Postgres(p) => POSTGRES_MIGRATIONS.run(p).await,
        };
        result.map_err(|e| StoreError::caused(format!("migration failed: {e}"), e))?;
        Ok(self.applied_migrations().await?.saturating_sub(before))
    }

    /// How many migrations `migrate` would apply now.
    pub async fn pending_migrations(&self) -> usize {
        let total = match &self.pool {
            Pool::Sqlite(_) => SQLITE_MIGRATIONS.migrations.len(),
            Pool::Postgres(_) => POSTGRES_MIGRATIONS.migrations.len(),
        };
        total.saturating_sub(self.applied_migrations().await.unwrap_or(0))
    }

    async fn applied_migrations(&self) -> Result<usize, StoreError> {
        let n: i64 = with_pool!(self, p => {
            sqlx::query("SELECT COUNT(*) FROM _sqlx_migrations WHERE success")
                .fetch_one(p)
                .await?
                .try_get(0)?
        });
        Ok(n as usize)
    }

    /// Copy a SQLite database to `file`, online and consistent (`VACUUM INTO`: one read
    /// transaction, so the bot keeps running and the copy is of one moment), then check the copy
    /// opens and passes `PRAGMA integrity_check`. `file` must not exist yet. On PostgreSQL the
    /// tool for this is `pg_dump`, and this says so.
    pub async fn backup_to(&self, file: &std::path::Path) -> Result<Copied, StoreError> {
        let Pool::Sqlite(pool) = &self.pool else {
            return Err(StoreError::new(
                "beacon backup is for SQLite; back a PostgreSQL database up with \
                 pg_dump --format=custom --file=beacon.dump \"$DATABASE_URL\" (see the README)",
            ));
        };
        if file.exists() {
            return Err(StoreError::new(format!(
                "{} exists already: give a new file name (a backup never overwrites one)",
                file.display()
            )));
        }
        let name = file
            .to_str()
            .ok_or_else(|| StoreError::new(format!("{} is not a UTF-8 path", file.display())))?;
        sqlx::query("VACUUM INTO ?1")
            .bind(name)
            .execute(pool)
            .await
            .map_err(|e| StoreError::new(format!("cannot write {}: {e}", file.display())))?;
        let copy = SqliteConnectOptions::new()
            .filename(file)
            .read_only(true)
            .create_if_missing(false);
        let mut conn = sqlx::SqliteConnection::connect_with(&copy).await?;
        let verdict: String = sqlx::query_scalar("PRAGMA integrity_check")
            .fetch_one(&mut conn)
            .await?;
        if verdict != "ok" {
            return Err(StoreError::new(format!(
                "the copy at {} fails its integrity check: {verdict}",
                file.display()
            )));
        }
        // What the copy holds, read from the copy: the live database may have moved on.
        let (tickets, questions): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM tickets), (SELECT COUNT(*) FROM questions)",
        )
        .fetch_one(&mut conn)
        .await?;
        conn.close().await?;
        Ok(Copied {
            tickets: tickets.max(0) as u64,
            questions: questions.max(0) as u64,
        })
    }

    /// Close the pool, waiting for queries in flight.
    pub async fn close(&self) {
        with_pool!(self, p => p.close().await)
    }

    /// How many tickets are stored, all servers together.
    pub async fn ticket_count(&self) -> Result<usize, StoreError> {
        Ok(self.count("SELECT COUNT(*) FROM tickets").await? as usize)
    }

    /// How many questions are stored, all servers together.
    pub async fn question_count(&self) -> Result<usize, StoreError> {
        Ok(self.count("SELECT COUNT(*) FROM questions").await? as usize)
    }

    /// The number a `SELECT COUNT(*) ...` query gives.
    async fn count(&self, sql: &str) -> Result<u64, StoreError> {
        let n: i64 = with_pool!(self, p => {
            sqlx::query(sql).fetch_one(p).await?.try_get(0)?
        });
        Ok(n.max(0) as u64)
    }

    /// The servers Beacon has a record of (set up, asked in, or a ticket opened in), with their
    /// names where known, by id: what `beacon report` offers when asked about another.
    pub async fn known_guilds(&self) -> Result<Vec<(u64, Option<String>)>, StoreError> {
        let sql = "SELECT k.guild_id, n.name FROM (\
                       SELECT guild_id FROM guild_settings \
                       UNION SELECT guild_id FROM questions \
                       UNION SELECT guild_id FROM tickets) k \
                   LEFT JOIN guild_names n ON n.guild_id = k.guild_id ORDER BY k.guild_id";
        with_pool!(self, p => {
            let rows = sqlx::query(sql).fetch_all(p).await?;
            rows.iter()
                .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?)))
                .collect()
        })
    }

    /// Every question of a server, oldest first (for reports and tests).
    pub async fn questions(
        &self,
        guild_id: u64,
    ) -> Result<Vec<(i64, QuestionRecord, Option<u64>)>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(&format!("{QUESTION_SELECT} WHERE guild_id = $1 ORDER BY id"))
                .bind(sql_id(guild_id))
                .fetch_all(p)
                .await?;
            rows.iter()
                .map(|r| Ok((r.try_get("id")?, question_from_row(r)?, from_sql_id(r.try_get("reply_id")?))))
                .collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_failed_query_keeps_the_drivers_error_as_its_source() {
        // Not migrated: the settings table is missing.
        let store = Store::connect("sqlite::memory:").await.unwrap();
        let e = Ledger::settings(&store, 1).await.unwrap_err();
        let source = std::error::Error::source(&e).expect("a source");
        assert!(source.downcast_ref::<sqlx::Error>().is_some(), "{source:?}");
        assert!(e.to_string().contains("no such table"), "{e}");
    }
}
