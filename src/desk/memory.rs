//! A [`Ledger`] in memory, for fast unit tests of the desk. The real one is `store::Store`.

use std::collections::HashMap;
use std::sync::Mutex;

use super::{EventRecord, GuildSettings, Ledger, QuestionRecord, StoreError};

#[derive(Default)]
pub struct MemoryLedger {
    inner: Mutex<Inner>,
}

#[derive(Default)]
struct Inner {
    settings: HashMap<u64, GuildSettings>,
    names: HashMap<u64, String>,
    questions: Vec<(QuestionRecord, Option<u64>)>,
    events: Vec<EventRecord>,
}

impl MemoryLedger {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Every stored question, oldest first.
    pub fn questions(&self) -> Vec<QuestionRecord> {
        self.lock()
            .questions
            .iter()
            .map(|(q, _)| q.clone())
            .collect()
    }
}

impl Ledger for MemoryLedger {
    async fn settings(&self, guild_id: u64) -> Result<GuildSettings, StoreError> {
        Ok(self
            .lock()
            .settings
            .get(&guild_id)
            .cloned()
            .unwrap_or_else(|| GuildSettings::new(guild_id)))
    }

    async fn save_settings(&self, settings: &GuildSettings) -> Result<(), StoreError> {
        self.lock()
            .settings
            .insert(settings.guild_id, settings.clone());
        Ok(())
    }

    async fn record_question(&self, q: &QuestionRecord) -> Result<Option<i64>, StoreError> {
        let mut inner = self.lock();
        if inner
            .questions
            .iter()
            .any(|(x, _)| x.source_id == q.source_id)
        {
            return Ok(None);
        }
        inner.questions.push((q.clone(), None));
        Ok(Some(inner.questions.len() as i64))
    }

    async fn unreplied(&self, source_id: u64) -> Result<Option<i64>, StoreError> {
        Ok(self
            .lock()
            .questions
            .iter()
            .position(|(q, reply)| {
                q.source_id == source_id && reply.is_none() && q.outcome != "cooldown"
            })
            .map(|i| i as i64 + 1))
    }

    async fn set_reply(&self, question_id: i64, reply_id: u64) -> Result<(), StoreError> {
        let mut inner = self.lock();
        let row = usize::try_from(question_id - 1)
            .ok()
            .and_then(|i| inner.questions.get_mut(i))
            .ok_or_else(|| StoreError::new(format!("no question {question_id}")))?;
        row.1 = Some(reply_id);
        Ok(())
    }

    async fn question(
        &self,
        question_id: i64,
    ) -> Result<Option<(QuestionRecord, Option<u64>)>, StoreError> {
        let inner = self.lock();
        Ok(usize::try_from(question_id - 1)
            .ok()
            .and_then(|i| inner.questions.get(i))
            .cloned())
    }

    async fn record_event(&self, event: &EventRecord) -> Result<i64, StoreError> {
        let mut inner = self.lock();
        inner.events.push(event.clone());
        Ok(inner.events.len() as i64)
    }

    async fn events(&self, question_id: i64) -> Result<Vec<EventRecord>, StoreError> {
        Ok(self
            .lock()
            .events
            .iter()
            .filter(|e| e.question_id == question_id)
            .cloned()
            .collect())
    }

    async fn remember_server_name(&self, guild_id: u64, name: &str) -> Result<(), StoreError> {
        self.lock().names.insert(guild_id, name.to_string());
        Ok(())
    }

    async fn server_name(&self, guild_id: u64) -> Result<Option<String>, StoreError> {
        Ok(self.lock().names.get(&guild_id).cloned())
    }
}
