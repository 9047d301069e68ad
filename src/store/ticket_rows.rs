//! A ticket's row: the columns read, how the queue ranks priorities, and the row read back
//! as a `Ticket`.

use sqlx::Row;

use super::from_sql_id;
use crate::desk::StoreError;
use crate::desk::tickets::{Priority, Ticket, TicketState};

pub(super) const TICKET_COLUMNS: &str = "id, guild_id, number, customer_id, category, priority, state, \
     thread_id, queue_card_id, agent_id, question_id, opened_at, claimed_at, first_response_at, closed_at, \
     close_reason, subject, tags, lang, due_at, escalation_id, status_message_id, shown_position, \
     customer_seen_at, staff_seen_at, warned_at, closings, wrapped_up, rating, rating_comment";

/// Priority as a number, so the queue's order is one comparison.
pub(super) const RANK: &str = "CASE priority WHEN 'urgent' THEN 3 WHEN 'high' THEN 2 \
     WHEN 'normal' THEN 1 ELSE 0 END";

/// Every state change writes one of these, in the same transaction.
pub(super) const INSERT_EVENT: &str = "INSERT INTO ticket_events (ticket_id, actor_id, kind, detail, at) \
     VALUES ($1, $2, $3, $4, $5)";

pub(super) fn ticket_from_row<R: Row>(r: &R) -> Result<Ticket, StoreError>
where
    for<'a> &'a str: sqlx::ColumnIndex<R>,
    i64: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    String: for<'a> sqlx::Decode<'a, R::Database> + sqlx::Type<R::Database>,
    Option<i64>: for<'a> sqlx::Decode<'a, R::Database>,
    Option<String>: for<'a> sqlx::Decode<'a, R::Database>,
{
    let priority: String = r.try_get("priority")?;
    let state: String = r.try_get("state")?;
    let tags: String = r.try_get("tags")?;
    Ok(Ticket {
        id: r.try_get("id")?,
        guild_id: r.try_get::<i64, _>("guild_id")? as u64,
        number: r.try_get("number")?,
        customer_id: r.try_get::<i64, _>("customer_id")? as u64,
        category: r.try_get("category")?,
        priority: Priority::from_name(&priority)
            .ok_or_else(|| StoreError::new(format!("unknown priority {priority:?}")))?,
        state: TicketState::from_name(&state)
            .ok_or_else(|| StoreError::new(format!("unknown ticket state {state:?}")))?,
        thread_id: from_sql_id(r.try_get("thread_id")?),
        queue_card_id: from_sql_id(r.try_get("queue_card_id")?),
        agent_id: from_sql_id(r.try_get("agent_id")?),
        question_id: r.try_get("question_id")?,
        opened_at_ms: r.try_get("opened_at")?,
        claimed_at_ms: r.try_get("claimed_at")?,
        first_response_at_ms: r.try_get("first_response_at")?,
        closed_at_ms: r.try_get("closed_at")?,
        close_reason: r.try_get("close_reason")?,
        subject: r.try_get("subject")?,
        tags: split_tags(&tags),
        lang: r.try_get("lang")?,
        due_at_ms: r.try_get("due_at")?,
        escalation_id: from_sql_id(r.try_get("escalation_id")?),
        status_message_id: from_sql_id(r.try_get("status_message_id")?),
        shown_position: r.try_get("shown_position")?,
        customer_seen_at_ms: r.try_get("customer_seen_at")?,
        staff_seen_at_ms: r.try_get("staff_seen_at")?,
        warned_at_ms: r.try_get("warned_at")?,
        closings: r.try_get("closings")?,
        wrapped_up: r.try_get::<i64, _>("wrapped_up")? != 0,
        rating: r
            .try_get::<Option<i64>, _>("rating")?
            .map(|n| n.clamp(1, 5) as u8),
        rating_comment: r.try_get("rating_comment")?,
    })
}

/// Tags are kept as one sorted, comma-separated column.
pub(super) fn split_tags(tags: &str) -> Vec<String> {
    tags.split(',')
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect()
}

pub(super) fn join_tags(tags: &[String]) -> String {
    let mut tags: Vec<&str> = tags
        .iter()
        .map(|t| t.trim())
        .filter(|t| !t.is_empty())
        .collect();
    tags.sort_unstable();
    tags.dedup();
    tags.join(",")
}
