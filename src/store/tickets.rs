//! Tickets in the database: numbers per server from one atomic upsert, state changes as
//! conditional updates, so races are decided by the database.

use sqlx::Row;

use super::{Pool, Store, opt_id, sql_id};
use crate::desk::StoreError;
use crate::desk::tickets::{
    Change, NewTicket, Priority, Ticket, TicketLedger, TicketState, Update,
};

use super::ticket_rows::{INSERT_EVENT, RANK, TICKET_COLUMNS, join_tags, ticket_from_row};

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
                 question_id, opened_at, subject, tags, lang, due_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
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
            .bind(&t.subject)
            .bind(join_tags(&t.tags))
            .bind(&t.lang)
            .bind(t.due_at_ms)
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

    async fn ticket_by_number(
        &self,
        guild_id: u64,
        number: i64,
    ) -> Result<Option<Ticket>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE guild_id = $1 AND number = $2"
            ))
            .bind(sql_id(guild_id))
            .bind(number)
            .fetch_optional(p)
            .await?;
            row.as_ref().map(ticket_from_row).transpose()
        })
    }

    async fn last_closed_of(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<Ticket>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(&format!(
                "SELECT {TICKET_COLUMNS} FROM tickets WHERE guild_id = $1 AND customer_id = $2 \
                 AND state = $3 ORDER BY closed_at DESC, id DESC LIMIT 1"
            ))
            .bind(sql_id(guild_id))
            .bind(sql_id(customer_id))
            .bind(TicketState::Closed.name())
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

    async fn update(
        &self,
        id: i64,
        actor_id: u64,
        at_ms: i64,
        update: &Update,
    ) -> Result<Option<Ticket>, StoreError> {
        let event = update.event();
        with_pool!(self, p => {
            let mut sql = sqlx::QueryBuilder::new("UPDATE tickets SET ");
            let mut detail = None;
            match update {
                Update::Priority { priority, due_at_ms } => {
                    sql.push("priority = ").push_bind(priority.name());
                    sql.push(", due_at = ").push_bind(*due_at_ms);
                    detail = Some(priority.name().to_string());
                }
                Update::Due(due_at_ms) => {
                    sql.push("due_at = ").push_bind(*due_at_ms);
                }
                Update::Tags(tags) => {
                    let joined = join_tags(tags);
                    sql.push("tags = ").push_bind(joined.clone());
                    detail = Some(joined);
                }
                Update::Note(text) => {
                    sql.push("tags = tags");
                    detail = Some(text.clone());
                }
                Update::Added(user) => {
                    sql.push("tags = tags");
                    detail = Some(user.to_string());
                }
                Update::CustomerSeen => {
                    sql.push("customer_seen_at = ").push_bind(at_ms);
                    sql.push(", warned_at = NULL");
                }
                Update::StaffSeen => {
                    sql.push("staff_seen_at = ").push_bind(at_ms);
                    sql.push(", first_response_at = COALESCE(first_response_at, ")
                        .push_bind(at_ms)
                        .push(")");
                }
                Update::Warned => {
                    sql.push("warned_at = ").push_bind(at_ms);
                }
                Update::Escalated { message_id } => {
                    sql.push("escalation_id = ").push_bind(sql_id(*message_id));
                }
                Update::StatusMessage { message_id, position } => {
                    sql.push("status_message_id = ").push_bind(sql_id(*message_id));
                    sql.push(", shown_position = ").push_bind(*position);
                }
                Update::WrappedUp => {
                    sql.push("wrapped_up = 1");
                }
                Update::Rating { stars, comment } => {
                    sql.push("rating = ").push_bind(i64::from(*stars));
                    sql.push(", rating_comment = COALESCE(")
                        .push_bind(comment.clone())
                        .push(", rating_comment)");
                    detail = Some(stars.to_string());
                }
            }
            sql.push(" WHERE id = ").push_bind(id);
            sql.push(format!(" RETURNING {TICKET_COLUMNS}"));
            let mut tx = p.begin().await?;
            let Some(row) = sql.build().fetch_optional(&mut *tx).await? else {
                return Ok(None);
            };
            let ticket = ticket_from_row(&row)?;
            if let Some(kind) = event {
                sqlx::query(INSERT_EVENT)
                    .bind(id)
                    .bind(sql_id(actor_id))
                    .bind(kind)
                    .bind(detail)
                    .bind(at_ms)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
            Ok(Some(ticket))
        })
    }

    async fn waiting(&self) -> Result<Vec<Ticket>, StoreError> {
        self.tickets_where(
            &format!("state = 'waiting' ORDER BY guild_id, {RANK} DESC, id"),
            &[],
        )
        .await
    }

    async fn overdue(&self, now_ms: i64) -> Result<Vec<Ticket>, StoreError> {
        self.tickets_where(
            "state = 'waiting' AND due_at <= $1 AND escalation_id IS NULL ORDER BY id",
            &[now_ms],
        )
        .await
    }

    async fn quiet_since(&self, before_ms: i64) -> Result<Vec<Ticket>, StoreError> {
        self.tickets_where(
            "state = 'claimed' AND warned_at IS NULL AND staff_seen_at <= $1 \
             AND staff_seen_at >= COALESCE(customer_seen_at, 0) ORDER BY id",
            &[before_ms],
        )
        .await
    }

    async fn warned_before(&self, before_ms: i64) -> Result<Vec<Ticket>, StoreError> {
        self.tickets_where(
            "state = 'claimed' AND warned_at <= $1 ORDER BY id",
            &[before_ms],
        )
        .await
    }

    async fn unwrapped(&self) -> Result<Vec<Ticket>, StoreError> {
        self.tickets_where("state = 'closed' AND wrapped_up = 0 ORDER BY id", &[])
            .await
    }

    async fn recent_claims(&self, guild_id: u64, limit: i64) -> Result<Vec<i64>, StoreError> {
        with_pool!(self, p => {
            let rows = sqlx::query(
                "SELECT claimed_at FROM tickets WHERE guild_id = $1 AND claimed_at IS NOT NULL \
                 ORDER BY claimed_at DESC LIMIT $2",
            )
            .bind(sql_id(guild_id))
            .bind(limit)
            .fetch_all(p)
            .await?;
            rows.iter()
                .map(|r| r.try_get::<i64, _>(0).map_err(StoreError::from))
                .collect()
        })
    }

    async fn latest_opened(
        &self,
        guild_id: u64,
        customer_id: u64,
    ) -> Result<Option<i64>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "SELECT MAX(opened_at) FROM tickets WHERE guild_id = $1 AND customer_id = $2",
            )
            .bind(sql_id(guild_id))
            .bind(sql_id(customer_id))
            .fetch_one(p)
            .await?;
            Ok(row.try_get::<Option<i64>, _>(0)?)
        })
    }

    async fn open_count(&self, guild_id: u64) -> Result<i64, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "SELECT COUNT(*) FROM tickets WHERE guild_id = $1 AND state <> 'closed'",
            )
            .bind(sql_id(guild_id))
            .fetch_one(p)
            .await?;
            Ok(row.try_get::<i64, _>(0)?)
        })
    }

    async fn block(
        &self,
        guild_id: u64,
        user_id: u64,
        by: u64,
        reason: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO blocked_users (guild_id, user_id, blocked_by, reason, at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id, user_id) DO UPDATE \
                 SET blocked_by = excluded.blocked_by, reason = excluded.reason, at = excluded.at",
            )
            .bind(sql_id(guild_id))
            .bind(sql_id(user_id))
            .bind(sql_id(by))
            .bind(reason)
            .bind(at_ms)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn unblock(&self, guild_id: u64, user_id: u64) -> Result<bool, StoreError> {
        with_pool!(self, p => {
            let done = sqlx::query("DELETE FROM blocked_users WHERE guild_id = $1 AND user_id = $2")
                .bind(sql_id(guild_id))
                .bind(sql_id(user_id))
                .execute(p)
                .await?;
            Ok(done.rows_affected() > 0)
        })
    }

    async fn blocked(&self, guild_id: u64, user_id: u64) -> Result<Option<String>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "SELECT reason FROM blocked_users WHERE guild_id = $1 AND user_id = $2",
            )
            .bind(sql_id(guild_id))
            .bind(sql_id(user_id))
            .fetch_optional(p)
            .await?;
            row.map(|r| r.try_get::<String, _>(0).map_err(StoreError::from))
                .transpose()
        })
    }

    async fn save_transcript(
        &self,
        ticket_id: i64,
        closing: i64,
        markdown: &str,
        html: &str,
        at_ms: i64,
    ) -> Result<(), StoreError> {
        with_pool!(self, p => {
            sqlx::query(
                "INSERT INTO ticket_transcripts (ticket_id, closing, markdown, html, at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (ticket_id, closing) DO NOTHING",
            )
            .bind(ticket_id)
            .bind(closing)
            .bind(markdown)
            .bind(html)
            .bind(at_ms)
            .execute(p)
            .await?;
            Ok(())
        })
    }

    async fn transcript(
        &self,
        ticket_id: i64,
        closing: i64,
    ) -> Result<Option<(String, String)>, StoreError> {
        with_pool!(self, p => {
            let row = sqlx::query(
                "SELECT markdown, html FROM ticket_transcripts WHERE ticket_id = $1 AND closing = $2",
            )
            .bind(ticket_id)
            .bind(closing)
            .fetch_optional(p)
            .await?;
            match row {
                Some(r) => Ok(Some((r.try_get(0)?, r.try_get(1)?))),
                None => Ok(None),
            }
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

impl Store {
    /// The tickets matching a condition over the ticket columns, with `$n` bound to `args`.
    async fn tickets_where(
        &self,
        condition: &str,
        args: &[i64],
    ) -> Result<Vec<Ticket>, StoreError> {
        let sql = format!("SELECT {TICKET_COLUMNS} FROM tickets WHERE {condition}");
        with_pool!(self, p => {
            let mut query = sqlx::query(&sql);
            for a in args {
                query = query.bind(*a);
            }
            let rows = query.fetch_all(p).await?;
            rows.iter().map(ticket_from_row).collect()
        })
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
            // The first claim is the one reports measure; a transfer keeps it.
            TicketState::Claimed => {
                sql.push(", agent_id = ").push_bind(opt_id(c.agent_id));
                sql.push(", claimed_at = COALESCE(claimed_at, ").push_bind(c.at_ms).push(")");
            }
            // Each closing has its own wrap-up (and its own message nonces).
            TicketState::Closed => {
                sql.push(", closed_at = ").push_bind(c.at_ms);
                sql.push(", close_reason = ").push_bind(c.reason.clone());
                sql.push(", closings = closings + 1, wrapped_up = 0, warned_at = NULL");
            }
            // Back in the queue (released or reopened): a new escalation may be due, and the
            // customer's place is shown afresh.
            TicketState::Open | TicketState::Waiting => {
                sql.push(
                    ", agent_id = NULL, closed_at = NULL, close_reason = NULL, \
                     escalation_id = NULL, shown_position = NULL, \
                     warned_at = NULL",
                );
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
        let detail = match (c.to, c.agent_id) {
            (TicketState::Claimed, Some(agent)) => Some(agent.to_string()),
            _ => c.reason.clone(),
        };
        sqlx::query(INSERT_EVENT)
        .bind(id)
        .bind(sql_id(c.actor_id))
        .bind(c.kind)
        .bind(detail)
        .bind(c.at_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(Some(ticket))
    })
}
