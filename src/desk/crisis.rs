//! Crisis mode (journey J4): one source of truth when something goes wrong for everyone, told to
//! the members who asked, without spamming anyone or losing a message.
//!
//! A moderator starts a crisis on a topic with a title and a status text, posts updates, and ends
//! it with a closing note. Each of those is a [`CrisisUpdate`]: shown in the status message,
//! announced once, and delivered by direct message to every subscriber of its topic through the
//! outbox. The outbox is rows before it is messages: a delivery is stored, then claimed by a
//! sender, sent with its own enforced nonce, and its outcome recorded, so a crash at any moment
//! loses nothing and sends nothing twice.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use super::StoreError;

/// A crisis on one topic of one server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Crisis {
    pub id: i64,
    pub guild_id: u64,
    /// A short word members subscribe to (`payments`, `shipping`...).
    pub topic: String,
    pub title: String,
    /// What is known now, as the moderator last put it.
    pub status_text: String,
    pub started_by: u64,
    pub started_at_ms: i64,
    pub ended_at_ms: Option<i64>,
    pub closing_note: Option<String>,
    /// The source-of-truth message, once posted.
    pub status_channel_id: Option<u64>,
    pub status_message_id: Option<u64>,
}

impl Crisis {
    /// The tag of the tickets about this crisis.
    pub fn ticket_tag(&self) -> String {
        format!("crisis-{}", self.topic)
    }

    /// A link to the status message, for answers, tickets and announcements.
    pub fn status_link(&self) -> Option<String> {
        Some(super::message_link(
            self.guild_id,
            self.status_channel_id?,
            self.status_message_id?,
        ))
    }
}

/// Tickets about a running crisis are at least this urgent.
pub const TICKET_PRIORITY: crate::desk::tickets::Priority = crate::desk::tickets::Priority::High;

/// The running crises a ticket's text is about: those whose topic it names, as a whole word in
/// any script.
pub fn mentioned<'a>(crises: &'a [Crisis], text: &str) -> Vec<&'a Crisis> {
    crises
        .iter()
        .filter(|c| {
            let topic = crate::desk::workflow::Rule {
                words: vec![c.topic.clone()],
                tag: None,
                priority: None,
                category: None,
            };
            topic.matches(text)
        })
        .collect()
}

/// What an update is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateKind {
    Start,
    Update,
    End,
}

impl UpdateKind {
    pub fn name(self) -> &'static str {
        match self {
            UpdateKind::Start => "start",
            UpdateKind::Update => "update",
            UpdateKind::End => "end",
        }
    }

    pub fn from_name(name: &str) -> Option<UpdateKind> {
        [UpdateKind::Start, UpdateKind::Update, UpdateKind::End]
            .into_iter()
            .find(|k| k.name() == name)
    }
}

/// One update of a crisis: shown, announced and delivered, each once.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CrisisUpdate {
    pub id: i64,
    pub crisis_id: i64,
    pub kind: UpdateKind,
    pub text: String,
    pub posted_by: u64,
    pub at_ms: i64,
    /// The status message shows it and the announcement is posted.
    pub status_done: bool,
    pub announce_message_id: Option<u64>,
    /// Where the moderator watches the delivery.
    pub progress_channel_id: Option<u64>,
    pub progress_message_id: Option<u64>,
    /// Every delivery is in the outbox.
    pub fanned_out: bool,
    /// The final delivery report is shown.
    pub reported: bool,
}

/// A member who asked to hear about a topic (`*`: every topic) by direct message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub guild_id: u64,
    pub user_id: u64,
    pub topic: String,
    pub dm_channel_id: u64,
    /// The language their direct messages are framed in.
    pub lang: String,
    pub since_ms: i64,
    /// When Discord last refused them a direct message: fan-outs skip them until a new
    /// subscription's confirmation gets through.
    pub dm_refused_at_ms: Option<i64>,
}

/// The topic that means "every topic".
pub const EVERY_TOPIC: &str = "*";

/// Where a delivery is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum DeliveryState {
    /// Waiting to be sent (again).
    Pending,
    Sent,
    /// Discord will not deliver it (DMs closed, left the server): not tried again.
    Refused,
    /// Tried too often.
    Failed,
}

impl DeliveryState {
    pub fn name(self) -> &'static str {
        match self {
            DeliveryState::Pending => "pending",
            DeliveryState::Sent => "sent",
            DeliveryState::Refused => "refused",
            DeliveryState::Failed => "failed",
        }
    }

    pub fn from_name(name: &str) -> Option<DeliveryState> {
        [
            DeliveryState::Pending,
            DeliveryState::Sent,
            DeliveryState::Refused,
            DeliveryState::Failed,
        ]
        .into_iter()
        .find(|s| s.name() == name)
    }
}

/// One direct message to deliver.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub id: i64,
    pub update_id: i64,
    pub user_id: u64,
    pub channel_id: u64,
    pub lang: String,
    pub state: DeliveryState,
    pub attempts: i64,
}

impl Delivery {
    /// The message nonce: the same on every attempt, so Discord keeps one message.
    pub fn nonce(&self) -> String {
        format!("o{}", self.id)
    }
}

/// What became of an attempt.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Sent {
        message_id: u64,
    },
    Refused {
        why: String,
    },
    /// Try again at this time (a 5xx, a timeout, a rate limit).
    Retry {
        at_ms: i64,
        why: String,
    },
    Failed {
        why: String,
    },
}

/// How a delivery's update is going.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    pub total: i64,
    pub sent: i64,
    pub refused: i64,
    pub failed: i64,
}

impl Progress {
    pub fn done(&self) -> i64 {
        self.sent + self.refused + self.failed
    }

    pub fn finished(&self) -> bool {
        self.done() >= self.total
    }
}

/// How many attempts a delivery gets before it is given up.
pub const MAX_ATTEMPTS: i64 = 6;

/// The wait before attempt `attempts + 1` after a failure that may pass (a 5xx, a timeout):
/// 1, 2, 4, 8, 16 seconds; `None` when the delivery has had its attempts.
pub fn backoff(attempts: i64) -> Option<Duration> {
    (attempts < MAX_ATTEMPTS).then(|| Duration::from_secs(1 << attempts.clamp(0, 4)))
}

/// Whether a topic names a crisis members may subscribe to: a short lowercase word.
pub fn check_topic(topic: &str) -> Result<String, String> {
    let t = topic.trim().to_lowercase();
    let ok = !t.is_empty()
        && t.chars().count() <= 32
        && t.chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_');
    if ok && t != EVERY_TOPIC {
        Ok(t)
    } else {
        Err(format!(
            "`{topic}` is not a topic: use one short word, like payments or shipping"
        ))
    }
}

/// A pacer that lets at most `rate` sends a second through, evenly: the sender stays under
/// Discord's global limit instead of finding it with 429s.
///
/// While it is busy it keeps to its schedule even when the sender runs a little late (timers
/// wake on whole milliseconds, and at thousands a second several slots fall in one), catching
/// up at most [`Pacer::CATCH_UP`]; after an idle spell it starts afresh, so no burst is saved.
#[derive(Debug)]
pub struct Pacer {
    every: Duration,
    next: Option<std::time::Instant>,
}

impl Pacer {
    /// How far behind its schedule the pacer still catches up: sends over any second stay
    /// within the rate plus this much.
    pub const CATCH_UP: Duration = Duration::from_millis(20);

    pub fn new(rate_per_second: u32) -> Pacer {
        Pacer {
            every: Duration::from_secs_f64(1.0 / f64::from(rate_per_second.max(1))),
            next: None,
        }
    }

    /// The moment the next send may go, given `now` (it may be past: go at once); the pacer
    /// counts it as taken.
    pub fn slot(&mut self, now: std::time::Instant) -> std::time::Instant {
        let at = match self.next {
            Some(next) if next + Self::CATCH_UP >= now => next,
            _ => now,
        };
        self.next = Some(at + self.every);
        at
    }

    /// Push every later slot back, after Discord said to wait (a global 429).
    pub fn pause_until(&mut self, until: std::time::Instant) {
        if self.next.is_none_or(|n| n < until) {
            self.next = Some(until);
        }
    }
}

/// The status message: the crisis's title and status, the public status page when there is
/// one, and its updates, newest first, cut to fit `max` characters (older updates go first).
pub fn status_message(
    crisis: &Crisis,
    updates: &[CrisisUpdate],
    public_page: Option<&str>,
    max: usize,
) -> String {
    let head = match (&crisis.ended_at_ms, &crisis.closing_note) {
        (Some(_), note) => format!(
            "✅ **Resolved: {}**\n{}",
            crisis.title,
            note.as_deref().unwrap_or_default()
        ),
        (None, _) => format!("🔴 **{}**\n{}", crisis.title, crisis.status_text),
    };
    let web = public_page.map_or(String::new(), |link| format!("\n🌐 {link}"));
    let mut text = format!("{head}{web}\n\n**Updates** ({})", crisis.topic);
    for u in updates.iter().rev() {
        let line = format!("\n<t:{}:f>: {}", u.at_ms / 1000, u.text);
        if text.chars().count() + line.chars().count() > max {
            break;
        }
        text.push_str(&line);
    }
    text.chars().take(max).collect()
}

/// Where crises, their updates, subscriptions and the outbox are kept.
#[trait_variant::make(Send)]
pub trait CrisisLedger: Send + Sync + 'static {
    /// Start a crisis with its first update; `None` when one runs on that topic already.
    async fn start_crisis(
        &self,
        guild_id: u64,
        topic: &str,
        title: &str,
        status: &str,
        by: u64,
        at_ms: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError>;
    /// A new update (status text replaced, for `Update`); for `End`, the crisis ends with the
    /// update's text as its closing note. `None` when the crisis had ended already.
    async fn add_update(
        &self,
        crisis_id: i64,
        kind: UpdateKind,
        text: &str,
        by: u64,
        at_ms: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError>;
    async fn crisis(&self, id: i64) -> Result<Option<Crisis>, StoreError>;
    /// An update, with its crisis.
    async fn crisis_update(
        &self,
        update_id: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError>;
    /// The server's running crises, oldest first.
    async fn running_crises(&self, guild_id: u64) -> Result<Vec<Crisis>, StoreError>;
    /// A crisis's updates, oldest first.
    async fn updates(&self, crisis_id: i64) -> Result<Vec<CrisisUpdate>, StoreError>;
    async fn set_status_message(
        &self,
        crisis_id: i64,
        channel_id: u64,
        message_id: u64,
    ) -> Result<(), StoreError>;
    /// Record a step of an update as done.
    async fn mark_update(&self, update_id: i64, mark: UpdateMark) -> Result<(), StoreError>;
    /// Updates a stopped process left unfinished (not shown, not fanned out, or not reported),
    /// oldest first, with their crisis.
    async fn unfinished_updates(&self) -> Result<Vec<(Crisis, CrisisUpdate)>, StoreError>;
    /// Subscribe (again: the DM channel, language and reachability are refreshed).
    async fn subscribe(&self, sub: &Subscription) -> Result<(), StoreError>;
    /// Record whether Discord takes direct messages to a member (`Some`: refused then), for all
    /// their subscriptions on the server: a refused one makes fan-outs skip them.
    async fn set_dm_refused(
        &self,
        guild_id: u64,
        user_id: u64,
        at_ms: Option<i64>,
    ) -> Result<(), StoreError>;
    /// Unsubscribe from a topic, or from everything with `None`; how many were removed.
    async fn unsubscribe(
        &self,
        guild_id: u64,
        user_id: u64,
        topic: Option<&str>,
    ) -> Result<u64, StoreError>;
    async fn subscriptions_of(
        &self,
        guild_id: u64,
        user_id: u64,
    ) -> Result<Vec<Subscription>, StoreError>;
    /// Write a delivery for every subscriber of the update's topic (or of every topic) into the
    /// outbox, once per member, and mark the update fanned out, in one transaction. Returns how
    /// many deliveries the update has.
    async fn fan_out(
        &self,
        update_id: i64,
        guild_id: u64,
        topic: &str,
        at_ms: i64,
    ) -> Result<i64, StoreError>;
    /// Claim up to `limit` due deliveries for `lease_ms` (several senders never claim the same
    /// row; an expired claim is a crashed sender's and may be claimed again).
    async fn claim_deliveries(
        &self,
        now_ms: i64,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError>;
    /// Record what became of an attempt.
    async fn finish_delivery(
        &self,
        id: i64,
        outcome: &Outcome,
        at_ms: i64,
    ) -> Result<(), StoreError>;
    async fn progress(&self, update_id: i64) -> Result<Progress, StoreError>;
}

/// A step of an update done.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UpdateMark {
    /// The status message shows it; the announcement (if any) has this id.
    Shown {
        announce_message_id: Option<u64>,
    },
    Progress {
        channel_id: u64,
        message_id: u64,
    },
    Reported,
}

impl<L: super::Ledger + CrisisLedger> super::Desk<L> {
    /// The server's running crises.
    pub async fn running_crises(&self, guild: u64) -> Result<Arc<Vec<Crisis>>, StoreError> {
        if let Some(c) = self.crises_cache().get(&guild) {
            return Ok(c.clone());
        }
        let generation = self.crises_generation.load(Ordering::SeqCst);
        let loaded = Arc::new(self.ledger().running_crises(guild).await?);
        // A crisis that changed while this was reading makes what was read stale: not kept.
        let mut cache = self.crises_cache();
        if self.crises_generation.load(Ordering::SeqCst) == generation {
            cache.insert(guild, loaded.clone());
        }
        Ok(loaded)
    }

    /// Read the server's crises again next time (one started, changed or ended).
    pub fn forget_crises(&self, guild: u64) {
        let mut cache = self.crises_cache();
        self.crises_generation.fetch_add(1, Ordering::SeqCst);
        cache.remove(&guild);
    }

    fn crises_cache(
        &self,
    ) -> std::sync::MutexGuard<'_, std::collections::HashMap<u64, Arc<Vec<Crisis>>>> {
        self.crises.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn crisis() -> Crisis {
        Crisis {
            id: 1,
            guild_id: 10,
            topic: "payments".into(),
            title: "Card payments failing".into(),
            status_text: "We are on it.".into(),
            started_by: 5,
            started_at_ms: 1_000_000,
            ended_at_ms: None,
            closing_note: None,
            status_channel_id: Some(20),
            status_message_id: Some(30),
        }
    }

    fn update(id: i64, text: &str) -> CrisisUpdate {
        CrisisUpdate {
            id,
            crisis_id: 1,
            kind: UpdateKind::Update,
            text: text.into(),
            posted_by: 5,
            at_ms: 1_000_000 + id * 60_000,
            status_done: false,
            announce_message_id: None,
            progress_channel_id: None,
            progress_message_id: None,
            fanned_out: false,
            reported: false,
        }
    }

    #[test]
    fn the_status_message_shows_the_newest_updates_first_and_fits() {
        let c = crisis();
        let updates: Vec<CrisisUpdate> = (1..=50)
            .map(|i| update(i, &format!("update number {i} with some words")))
            .collect();
        let text = status_message(&c, &updates, None, 600);
        assert!(text.starts_with("🔴 **Card payments failing**\nWe are on it."));
        assert!(text.chars().count() <= 600);
        let newest = text.find("update number 50").unwrap();
        let older = text.find("update number 49").unwrap();
        assert!(newest < older, "newest first");
        assert!(!text.contains("update number 1 "), "the oldest made room");
        let ended = Crisis {
            ended_at_ms: Some(2_000_000),
            closing_note: Some("All payments work again.".into()),
            ..c.clone()
        };
        assert!(
            status_message(&ended, &updates, None, 2000)
                .starts_with("✅ **Resolved: Card payments failing**\nAll payments work again.")
        );
        let with_page = status_message(
            &c,
            &updates,
            Some("https://status.example.com/status/10"),
            600,
        );
        assert!(
            with_page.starts_with(
                "🔴 **Card payments failing**\nWe are on it.\n🌐 https://status.example.com/status/10\n\n**Updates**"
            ),
            "{with_page}"
        );
        assert!(with_page.chars().count() <= 600);
        assert_eq!(
            crisis().status_link().as_deref(),
            Some("https://discord.com/channels/10/20/30")
        );
    }

    #[test]
    fn a_ticket_is_about_the_crises_whose_topic_it_names() {
        let payments = crisis();
        let shipping = Crisis {
            id: 2,
            topic: "shipping".into(),
            ..crisis()
        };
        let both = [payments, shipping];
        let about = |text| -> Vec<String> {
            mentioned(&both, text)
                .iter()
                .map(|c| c.ticket_tag())
                .collect()
        };
        assert_eq!(about("my PAYMENTS keep failing"), ["crisis-payments"]);
        assert_eq!(
            about("payments and shipping both broke"),
            ["crisis-payments", "crisis-shipping"]
        );
        assert!(about("prepayments are fine").is_empty(), "whole words only");
    }

    #[test]
    fn backoff_doubles_then_gives_up() {
        let waits: Vec<u64> = (0..MAX_ATTEMPTS)
            .map(|a| backoff(a).unwrap().as_secs())
            .collect();
        assert_eq!(waits, [1, 2, 4, 8, 16, 16]);
        assert_eq!(backoff(MAX_ATTEMPTS), None);
    }

    #[test]
    fn the_pacer_keeps_its_schedule_catches_up_a_little_and_saves_no_burst() {
        let start = std::time::Instant::now();
        let ms = Duration::from_millis;
        let mut p = Pacer::new(50);
        let slots: Vec<Duration> = (0..5).map(|_| p.slot(start) - start).collect();
        assert_eq!(slots, (0..5).map(|i| ms(20 * i)).collect::<Vec<_>>());
        // Running 15 ms late (a timer that woke late): the schedule holds, the slot is past.
        let late = start + ms(100 + 15);
        assert_eq!(p.slot(late), start + ms(100));
        assert_eq!(p.slot(late), start + ms(120));
        // Far behind: no catching up with a burst, the schedule restarts from now.
        let later = start + Duration::from_secs(10);
        assert_eq!(p.slot(later), later);
        assert_eq!(p.slot(later), later + ms(20));
        // Told to wait by Discord: nothing goes before then.
        p.pause_until(later + Duration::from_secs(1));
        assert_eq!(p.slot(later), later + Duration::from_secs(1));
    }

    #[test]
    fn at_thousands_a_second_every_slot_of_a_late_millisecond_goes_at_once() {
        let start = std::time::Instant::now();
        let mut p = Pacer::new(3_000);
        let first = p.slot(start);
        // A timer woke 1 ms late: the three slots due by then are all in the past.
        let woke = start + Duration::from_millis(1);
        let due = (0..3).filter(|_| p.slot(woke) <= woke).count();
        assert_eq!((first, due), (start, 3));
    }

    #[test]
    fn topics_are_short_words() {
        assert_eq!(check_topic(" Payments ").unwrap(), "payments");
        assert_eq!(check_topic("قطعی").unwrap(), "قطعی");
        for bad in ["", "*", "two words", "a/b", &"x".repeat(33)] {
            assert!(check_topic(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            UpdateKind::from_name(UpdateKind::End.name()),
            Some(UpdateKind::End)
        );
        assert_eq!(
            DeliveryState::from_name("refused"),
            Some(DeliveryState::Refused)
        );
    }
}
