//! Group commit for the hot path. Every question is stored before its answer is sent, and every
//! answer's message id after; at thousands of questions a second, one statement per question
//! costs more than everything else the bot does (sqlx hands each SQLite statement to a worker
//! thread and back, about 100 µs). So one task writes for all: it takes every write waiting,
//! stores them with one multi-row statement per kind, and then tells each caller its result.
//! A caller still hears back only once its row is committed, so nothing acknowledged is lost.

use std::collections::{HashMap, HashSet};

use sqlx::{QueryBuilder, Row};
use tokio::sync::{mpsc, oneshot};

use super::{Pool, sql_id};
use crate::desk::{QuestionRecord, StoreError};

/// At most this many writes of one kind go into one statement (13 parameters a question, far
/// below SQLite's and PostgreSQL's limits).
const MAX_BATCH: usize = 256;

enum Job {
    Question(
        QuestionRecord,
        oneshot::Sender<Result<Option<i64>, StoreError>>,
    ),
    Reply(i64, u64, oneshot::Sender<Result<(), StoreError>>),
}

/// The handle callers write through. Cheap to clone.
#[derive(Clone, Debug)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

fn gone() -> StoreError {
    StoreError::new("the database writer has stopped")
}

impl Writer {
    /// Start the writing task on the current tokio runtime.
    pub(super) fn start(pool: Pool) -> Writer {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx));
        Writer { jobs }
    }

    pub(super) async fn question(&self, q: QuestionRecord) -> Result<Option<i64>, StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Question(q, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }

    pub(super) async fn reply(&self, question_id: i64, reply_id: u64) -> Result<(), StoreError> {
        let (tx, rx) = oneshot::channel();
        self.jobs
            .send(Job::Reply(question_id, reply_id, tx))
            .await
            .map_err(|_| gone())?;
        rx.await.map_err(|_| gone())?
    }
}

async fn run(pool: Pool, mut rx: mpsc::Receiver<Job>) {
    while let Some(first) = rx.recv().await {
        let mut questions = Vec::new();
        let mut replies = Vec::new();
        let mut job = Some(first);
        while let Some(j) = job.take() {
            match j {
                Job::Question(q, tx) => questions.push((q, tx)),
                Job::Reply(id, reply, tx) => replies.push((id, reply, tx)),
            }
            if questions.len() < MAX_BATCH && replies.len() < MAX_BATCH {
                job = rx.try_recv().ok();
            }
        }
        if !questions.is_empty() {
            write_questions(&pool, questions).await;
        }
        if !replies.is_empty() {
            write_replies(&pool, replies).await;
        }
    }
}

type QuestionJob = (
    QuestionRecord,
    oneshot::Sender<Result<Option<i64>, StoreError>>,
);

async fn write_questions(pool: &Pool, jobs: Vec<QuestionJob>) {
    // A source seen twice in one batch: the first is stored, the second is a redelivery.
    let mut seen = HashSet::new();
    let fresh: Vec<&QuestionRecord> = jobs
        .iter()
        .map(|(q, _)| q)
        .filter(|q| seen.insert(q.source_id))
        .collect();
    let result = insert_questions(pool, &fresh).await;
    let mut answered = HashSet::new();
    for (q, tx) in jobs {
        let _ = tx.send(match &result {
            Ok(ids) if answered.insert(q.source_id) => Ok(ids.get(&q.source_id).copied()),
            Ok(_) => Ok(None),
            Err(e) => Err(e.clone()),
        });
    }
}

/// Insert the questions; the ids of those stored, by source (a source stored before is absent).
async fn insert_questions(
    pool: &Pool,
    questions: &[&QuestionRecord],
) -> Result<HashMap<u64, i64>, StoreError> {
    let suggestions: Vec<String> = questions
        .iter()
        .map(|q| serde_json::to_string(&q.suggestions).unwrap_or_else(|_| "[]".into()))
        .collect();
    with_pool!(@pool pool, p => {
        let mut sql = QueryBuilder::new(
            "INSERT INTO questions (guild_id, channel_id, user_id, source, source_id, text, \
             lang, outcome, intent, confidence, suggestions, asked_at) ",
        );
        sql.push_values(questions.iter().zip(&suggestions), |mut row, (q, s)| {
            row.push_bind(sql_id(q.guild_id))
                .push_bind(sql_id(q.channel_id))
                .push_bind(sql_id(q.user_id))
                .push_bind(q.source.name())
                .push_bind(sql_id(q.source_id))
                .push_bind(q.text.as_str())
                .push_bind(q.lang.as_str())
                .push_bind(q.outcome.as_str())
                .push_bind(q.intent.as_deref())
                .push_bind(q.confidence)
                .push_bind(s.as_str())
                .push_bind(q.asked_at_ms);
        });
        sql.push(" ON CONFLICT (source_id) DO NOTHING RETURNING id, source_id");
        let rows = sql.build().fetch_all(p).await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(1)? as u64, r.try_get::<i64, _>(0)?)))
            .collect()
    })
}

type ReplyJob = (i64, u64, oneshot::Sender<Result<(), StoreError>>);

async fn write_replies(pool: &Pool, jobs: Vec<ReplyJob>) {
    let result: Result<(), StoreError> = with_pool!(@pool pool, p => {
        let mut sql = QueryBuilder::new("UPDATE questions SET reply_id = CASE id");
        for (id, reply, _) in &jobs {
            sql.push(" WHEN ").push_bind(*id).push(" THEN ").push_bind(sql_id(*reply));
        }
        sql.push(" ELSE reply_id END WHERE id IN (");
        let mut ids = sql.separated(", ");
        for (id, _, _) in &jobs {
            ids.push_bind(*id);
        }
        sql.push(")");
        sql.build().execute(p).await.map(|_| ()).map_err(StoreError::from)
    });
    for (_, _, tx) in jobs {
        let _ = tx.send(result.clone());
    }
}
