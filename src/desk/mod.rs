//! The support domain: what Beacon decides and remembers, with no Discord types.
//!
//! The adapter in `discord` turns gateway events into calls here and the results into messages.
//! Storage is reached through the [`Ledger`] trait, implemented by `store::Store` (sqlx) and, for
//! fast unit tests, by [`memory::MemoryLedger`].

pub mod answers;
pub mod asking;
pub mod cards;
pub mod closing;
pub mod cooldown;
pub mod crisis;
pub mod memory;
pub mod opening;
pub mod port;
pub mod publishing;
pub mod replies;
pub mod report;
pub mod settings;
pub mod subscribers;
#[cfg(test)]
pub mod testing;
pub mod tickets;
pub mod timers;
pub mod transcript;
pub mod work;
pub mod workflow;

use std::sync::Arc;

pub use answers::{Asked, Desk, Question, Source};
pub use settings::{GuildSettings, OpeningHours, SettingsError};

/// A storage failure, kept opaque to the domain: it is logged and the user gets a polite notice.
/// A database failure keeps the driver's error (`sqlx::Error`) as its source, so a log of the
/// cause chain (anyhow's `{:#}`) reaches it and a caller can downcast to it.
#[derive(Clone, Debug)]
pub struct StoreError {
    what: String,
    source: Option<Arc<dyn std::error::Error + Send + Sync>>,
}

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "storage: {}", self.what)
    }
}

/// Written out rather than derived: the source is the driver's error itself (through the
/// `Arc` that keeps `StoreError` cloneable), so it can be downcast to `sqlx::Error`.
impl std::error::Error for StoreError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_deref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl StoreError {
    /// A failure the store found itself (a value it cannot read, a file it will not write).
    pub fn new(what: impl Into<String>) -> Self {
        StoreError {
            what: what.into(),
            source: None,
        }
    }

    /// A failure of `what`, caused by `source`.
    pub fn caused(
        what: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        StoreError {
            what: what.into(),
            source: Some(Arc::new(source)),
        }
    }

    /// The same failure, said as part of `what` (which database, which step).
    pub fn context(self, what: impl std::fmt::Display) -> Self {
        StoreError {
            what: format!("{what}: {}", self.what),
            source: self.source,
        }
    }
}

/// A question as it is stored, with what the bot decided.
#[derive(Clone, Debug, PartialEq)]
pub struct QuestionRecord {
    pub guild_id: u64,
    pub channel_id: u64,
    pub user_id: u64,
    pub source: Source,
    /// The Discord message or interaction the question came in: a redelivered event is
    /// recognised by it and not answered twice.
    pub source_id: u64,
    pub text: String,
    pub lang: String,
    /// `answer`, `suggest`, `abstain` or `cooldown`.
    pub outcome: String,
    pub intent: Option<String>,
    pub confidence: f64,
    /// The suggested intents, in order, for a "did you mean" list.
    pub suggestions: Vec<String>,
    pub asked_at_ms: i64,
}

/// Something a person did with an answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventKind {
    /// "Solved": the answer helped.
    Solved,
    /// "Talk to a person".
    Human,
    /// Picked a suggestion from the "did you mean" list.
    Picked,
    /// Said none of the suggestions fit.
    NoneFit,
    /// Asked for a ticket after no answer was found.
    TicketOffer,
}

impl EventKind {
    pub fn name(self) -> &'static str {
        match self {
            EventKind::Solved => "solved",
            EventKind::Human => "human",
            EventKind::Picked => "picked",
            EventKind::NoneFit => "none_fit",
            EventKind::TicketOffer => "ticket_offer",
        }
    }
}

/// A stored event on a question.
#[derive(Clone, Debug, PartialEq)]
pub struct EventRecord {
    pub question_id: i64,
    pub user_id: u64,
    pub kind: EventKind,
    pub intent: Option<String>,
    pub at_ms: i64,
}

/// Where the desk keeps what it must not forget. Every method is one transaction: when it
/// returns `Ok`, the row survives a crash of the process.
#[trait_variant::make(Send)]
pub trait Ledger: Send + Sync + 'static {
    /// A server's settings; the defaults when a moderator has not run setup yet.
    async fn settings(&self, guild_id: u64) -> Result<GuildSettings, StoreError>;
    /// Replace a server's settings, help channels included.
    async fn save_settings(&self, settings: &GuildSettings) -> Result<(), StoreError>;
    /// Store a question. `None` when a question from the same source was stored before.
    async fn record_question(&self, question: &QuestionRecord) -> Result<Option<i64>, StoreError>;
    /// The stored question from this source whose reply was never recorded (a cooldown notice
    /// has none and is not counted).
    async fn unreplied(&self, source_id: u64) -> Result<Option<i64>, StoreError>;
    /// Remember the message that carried the bot's reply.
    async fn set_reply(&self, question_id: i64, reply_id: u64) -> Result<(), StoreError>;
    /// A stored question by id.
    async fn question(
        &self,
        question_id: i64,
    ) -> Result<Option<(QuestionRecord, Option<u64>)>, StoreError>;
    /// Store an event on a question.
    async fn record_event(&self, event: &EventRecord) -> Result<i64, StoreError>;
    /// The events stored on a question, oldest first.
    async fn events(&self, question_id: i64) -> Result<Vec<EventRecord>, StoreError>;
    /// Remember what a server is called (its public status page is titled with it).
    async fn remember_server_name(&self, guild_id: u64, name: &str) -> Result<(), StoreError>;
    /// A server's name, if Beacon has seen it (a direct message says which server it is about).
    async fn server_name(&self, guild_id: u64) -> Result<Option<String>, StoreError>;
}

/// `text` cut to at most `max` characters (not bytes), with an ellipsis when cut.
pub fn fit(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// A link that opens a message in Discord, for whoever may see its channel.
pub fn message_link(guild: u64, channel: u64, message: u64) -> String {
    format!("https://discord.com/channels/{guild}/{channel}/{message}")
}

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}
