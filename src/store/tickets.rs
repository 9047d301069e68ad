//! Tickets in the database: numbers per server from one atomic upsert, state changes as
//! conditional updates, so races are decided by the database.

use sqlx::Row;

use super::{Pool, Store, from_sql_id, opt_id, sql_id};
use crate::desk::StoreError;
use crate::desk::tickets::{Change, NewTicket, Priority, Ticket, TicketLedger, TicketState};

const TICKET_COLUMNS: &str = "id, guild_id, number, customer_id, category, priority, state, \
     thread_id, queue_card_id, agent_id, question_id, opened_at, claimed_at, first_response_at, closed_at, \
     close_reason";

/// Every state change writes one of these, in the same transaction.
const INSERT_EVENT: &str = "INSERT INTO ticket_events (ticket_id, actor_id, kind, detail, at) \
     VALUES ($1, $2, $3, $4, $5)";

fn ticket_from_row<R: Row>(r: &R) -> Result<Ticket, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database>,
{
    let priority: String = r.try_get("priority")?;
    let state: String = r.try_get("state")?;
    Ok(Ticket {
        id: r.try_get("id")?,
        guild_id: r.try_get::<i64, _>("guild_id")? as u64,
        number: r.try_get("number")?,
        customer_id: r.try_get::<i64, _>("customer_id")? as u64,
        category: r.try_get("category")?,
        priority: Priority::from_name(&priority)
            .ok_or_else(|| StoreError(format!("unknown priority {priority:?}")))?,
        state: TicketState::from_name(&state)
            .ok_or_else(|| StoreError(format!("unknown ticket state {state:?}")))?,
        thread_id: from_sql_id(r.try_get("thread_id")?),
        queue_card_id: from_sql_id(r.try_get("queue_card_id")?),
        agent_id: from_sql_id(r.try_get("agent_id")?),
        question_id: r.try_get("question_id")?,
        opened_at_ms: r.try_get("opened_at")?,
        claimed_at_ms: r.try_get("claimed_at")?,
        first_response_at_ms: r.try_get("first_response_at")?,
        closed_at_ms: r.try_get("closed_at")?,
        close_reason: r.try_get("close_reason")?,
    })
}

impl TicketLedger for Store {
    async fn open_ticket(&self, t: &NewTicket) -> Result<Ticket, StoreError> {
        with_pool!(self, p => {
            let mut tx = p.begin().await?;
            let number: i64 = sqlx::query(
                "INSERT INTO ticket_numbers (guild_id, last) VALUES ($1, 1) \
                 ON CONFLICT (guild_id) DO UPDATE SET last = ticket_numbers.last + 1 \
                 RETURNING last",
            )
            .bind(sql_id(t.guild_id))
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let row = sqlx::query(&format!(
                "INSERT INTO tickets (guild_id, number, customer_id, category, priority, state, \
                 question_id, opened_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
                 RETURNING {TICKET_COLUMNS}"
            ))
            .bind(sql_id(t.guild_id))
            .bind(number)
            .bind(sql_id(t.customer_id))
            .bind(&t.category)
            .bind(t.priority.name())
            .bind(TicketState::Open.name())
            .bind(t.question_id)
            .bind(t.opened_at_ms)
            .fetch_one(&mut *tx)
            .await?;
            let ticket = ticket_from_row(&row)?;
            sqlx::query(INSERT_EVENT)
            .bind(ticket.id)
            .bind(sql_id(t.customer_id))
            .bind(TicketState::Open.name())
            .bind(None::<String>)
            .bind(t.opened_at_ms)
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(ticket)
        })
    }

    async fn ticket(&self, id: i64) -> Result<Option<Ticket>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE id = $1"))
                .bind(id)
                .fetch_optional(p)
                .await?;
            row.as_ref().map(ticket_from_row).transpose()
        })
    }

    async fn ticket_by_thread(&self, thread_id: u64) -> Result<Option<Ticket>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE thread_id = $1"
            ))
            .bind(sql_id(thread_id))
            .fetch_optional(p)
            .await?;
            row.as_ref().map(ticket_from_row).transpose()
        })
    }

    async fn open_tickets_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Vec<Ticket>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE guild_id = $1 AND customer_id = $2 \
                 AND state <> $3 ORDER BY id"
            ))
            .bind(sql_id(guild_id))
            .bind(sql_id(customer_id))
            .bind(TicketState::Closed.name())
            .fetch_all(p)
            .await?;
            rows.iter().map(ticket_from_row).collect()
        })
    }

    async fn unfinished_tickets(&self) -> Result<Vec<Ticket>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE state IN ($1, $2) \
                 AND (thread_id IS NULL OR queue_card_id IS NULL) ORDER BY id"
            ))
            .bind(TicketState::Open.name())
            .bind(TicketState::Waiting.name())
            .fetch_all(p)
            .await?;
            rows.iter().map(ticket_from_row).collect()
        })
    }

    async fn waiting_ahead(&self, t: &Ticket) -> Result<i64, StoreError> {
        // Priority as a number, so the queue's order is one comparison.
        const RANK: &str = "CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 \
             WHEN 'normal' THEN 1 ELSE 0 END";
        let rank = Priority::ALL
            .iter()
            .position(|p| *p == t.priority)
            .unwrap_or(0) as i64;
        with_pool!(self, p => {
            let n: i64 = sqlx::query(&format!(
                "SELECT COUNT(*) FROM tickets WHERE guild_id = $1 AND state = $2 AND id <> $3 \
                 AND ({RANK} > $4 OR ({RANK} = $4 AND id < $3))"
            ))
            .bind(sql_id(t.guild_id))
            .bind(TicketState::Waiting.name())
            .bind(t.id)
            .bind(rank)
            .fetch_one(p)
            .await?
            .try_get(0)?;
            Ok(n)
        })
    }

    async fn attach(
        &self,
        id: i64,
        thread_id: Option<u64>,
        queue_card_id: Option<u64>,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "UPDATE tickets SET thread_id = COALESCE($1, thread_id), \
                 queue_card_id = COALESCE($2, queue_card_id) WHERE id = $3",
            )
            .bind(opt_id(thread_id))
            .bind(opt_id(queue_card_id))
            .bind(id)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn move_ticket(
        &self,
        id: i64,
        from: &[TicketState],
        change: &Change,
    ) -> Result<Option<Ticket>, StoreError> {
        move_ticket(&self.pool, id, from, change).await
    }
}

async fn move_ticket(
    pool: &Pool,
    id: i64,
    from: &[TicketState],
    c: &Change,
) -> Result<Option<Ticket>, StoreError> {
    with_pool!(@pool pool, p => {
        let mut tx = p.begin().await?;
        let mut sql = sqlx::QueryBuilder::new("UPDATE tickets SET state = ");
        sql.push_bind(c.to.name());
        match c.to {
            TicketState::Claimed => {
                sql.push(", agent_id = ").push_bind(opt_id(c.agent_id));
                sql.push(", claimed_at = ").push_bind(c.at_ms);
            }
            TicketState::Closed => {
                sql.push(", closed_at = ").push_bind(c.at_ms);
                sql.push(", close_reason = ").push_bind(c.reason.clone());
            }
            TicketState::Open | TicketState::Waiting => {
                sql.push(", agent_id = NULL, claimed_at = NULL, closed_at = NULL");
            }
        }
        sql.push(" WHERE id = ").push_bind(id).push(" AND state IN (");
        let mut states = sql.separated(", ");
        for s in from {
            states.push_bind(s.name());
        }
        sql.push(format!(") RETURNING {TICKET_COLUMNS}"));
        let Some(row) = sql.build().fetch_optional(&mut *tx).await? else {
            return Ok(None);
        };
        let ticket = ticket_from_row(&row)?;
        sqlx::query(INSERT_EVENT)
        .bind(id)
        .bind(sql_id(c.actor_id))
        .bind(c.to.name())
        .bind(c.reason.clone())
        .bind(c.at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(ticket))
    })
}
