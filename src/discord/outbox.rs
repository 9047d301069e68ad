//! The outbox sender: delivers crisis updates by direct message, paced under Discord's global
//! limit, and keeps the moderator's progress message current.
//!
//! Every delivery is a row before it is a message. The sender claims due rows for a while
//! (a crashed sender's claims run out and another takes them), sends each with its row's nonce,
//! enforced, so a repeat after a crash is deduplicated by Discord, and records the outcome:
//! sent; refused (DMs closed, left the server: not tried again); tried again later after a 5xx
//! or a timeout, with backoff; failed after too many attempts.
//!
//! The messages go out through reqwest directly rather than serenity, because serenity's error
//! keeps no `retry_after` from a 429 (and its own limiter ignores a proxy URL): a global 429
//! pauses the pacer for exactly as long as Discord asks, a route 429 retries that delivery then.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use serenity::all::{CreateMessage, Http};
use tokio::sync::Semaphore;
use tracing::{error, warn};

use super::Bot;
use super::port::{Discord, message};
use crate::desk::crisis::{Crisis, CrisisUpdate, Delivery, Outcome, Pacer, backoff};
use crate::desk::now_ms;

/// How long a sender holds claimed rows before another may take them. A batch is a second of
/// sending, so this is ample; were it to run out mid-send, the row's nonce still keeps Discord
/// to one message. A killed sender's rows wait this long.
const LEASE_MS: i64 = 15_000;
/// Rows claimed at a time: about 50 ms of sending, so claiming the next ones is a pause the
/// pacer's catch-up absorbs, rather than a gap in the pace.
fn claim_size(rate: u32) -> i64 {
    i64::from((rate / 20).max(10))
}

/// Sends in flight at once: enough to keep the pace with Discord's latency.
const IN_FLIGHT: usize = 64;

/// Sends direct messages to Discord's REST API and reads the answer whole.
#[derive(Clone)]
pub struct Sender {
    client: reqwest::Client,
    /// `https://discord.com`, or a proxy, or the fake.
    base: String,
    authorization: String,
}

impl Sender {
    /// A sender to `base`: the REST gate's bulk class, so direct messages take what answers
    /// leave of the global limit.
    pub fn new(config: &crate::config::Config, base: &str) -> anyhow::Result<Sender> {
        use anyhow::Context as _;
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(15))
            .build()
            .context("cannot build the outbox's HTTP client")?;
        let token = config.token().map_err(anyhow::Error::msg)?;
        Ok(Sender {
            client,
            base: base.trim_end_matches('/').to_string(),
            authorization: format!("Bot {}", token.expose()),
        })
    }

    /// POST a message to a channel: the message id, or what Discord said.
    async fn post(&self, channel: u64, message: &CreateMessage) -> Result<u64, Refusal> {
        let body = serde_json::to_vec(message).map_err(|e| Refusal::Other(e.to_string()))?;
        let response = self
            .client
            .post(format!("{}/api/v10/channels/{channel}/messages", self.base))
            .header("Authorization", &self.authorization)
            .header("Content-Type", "application/json")
            .header(
                "User-Agent",
                "DiscordBot (https://github.com/beacon, 0.1) Beacon",
            )
            .body(body)
            .send()
            .await
            .map_err(|e| Refusal::Other(format!("no answer: {e}")))?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await.unwrap_or_default();
        let json: serde_json::Value = serde_json::from_slice(&bytes).unwrap_or_default();
        if (200..300).contains(&status) {
            return json["id"]
                .as_str()
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| Refusal::Other("an answer without a message id".into()));
        }
        let message = json["message"].as_str().unwrap_or_default().to_string();
        Err(Refusal::Status {
            status,
            code: json["code"].as_u64().unwrap_or(0),
            message,
            retry_after: json["retry_after"].as_f64(),
            global: json["global"].as_bool().unwrap_or(false),
        })
    }
}

/// Why Discord did not take a message.
#[derive(Debug)]
enum Refusal {
    Status {
        status: u16,
        code: u64,
        message: String,
        retry_after: Option<f64>,
        global: bool,
    },
    /// No answer (a timeout, a dropped connection) or an unreadable one.
    Other(String),
}

/// Run the sender and the progress reports until the process stops (aborting the returned
/// task stops both).
pub fn spawn(
    bot: Arc<Bot>,
    http: Arc<Http>,
    sender: Sender,
    rate_per_second: u32,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        tokio::select! {
            () = send_forever(&bot, sender, rate_per_second) => {}
            () = report_forever(&bot, &http) => {}
        }
    })
}

async fn report_forever(bot: &Arc<Bot>, http: &Http) {
    let mut ticks = 0u64;
    loop {
        if let Err(e) = report_progress(bot, http).await {
            error!("delivery progress: {e:#}");
        }
        // An update whose posting failed half-way (Discord down for a moment) is finished here
        // rather than only at the next start.
        ticks += 1;
        if ticks % 10 == 0 {
            super::crisis::resume(bot, http, 30_000).await;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    }
}

async fn send_forever(bot: &Arc<Bot>, sender: Sender, rate: u32) {
    let pacer = Arc::new(Mutex::new(Pacer::new(rate)));
    let in_flight = Arc::new(Semaphore::new(IN_FLIGHT));
    let mut texts: HashMap<i64, Arc<(Crisis, CrisisUpdate)>> = HashMap::new();
    // Sends run on while the next rows are claimed: claimed rows are leased, so nobody else
    // takes them meanwhile, and the pace never waits for a batch's slowest answer.
    let mut sends = tokio::task::JoinSet::new();
    loop {
        while sends.try_join_next().is_some() {}
        let batch = match bot.desk.claim_deliveries(LEASE_MS, claim_size(rate)).await {
            Ok(b) => b,
            Err(e) => {
                error!("cannot claim deliveries: {e}");
                tokio::time::sleep(Duration::from_secs(1)).await;
                continue;
            }
        };
        if batch.is_empty() {
            tokio::select! {
                () = bot.outbox_wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(200)) => {}
            }
            continue;
        }
        for delivery in batch {
            let what = match texts.get(&delivery.update_id) {
                Some(w) => w.clone(),
                None => match update_of(bot, delivery.update_id).await {
                    Some(w) => {
                        let w = Arc::new(w);
                        texts.insert(delivery.update_id, w.clone());
                        w
                    }
                    None => continue,
                },
            };
            let slot = pacer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .slot(Instant::now());
            // A slot already past goes at once: sleeping would round up to the next tick.
            if slot > Instant::now() {
                tokio::time::sleep_until(slot.into()).await;
            }
            let Ok(permit) = in_flight.clone().acquire_owned().await else {
                return;
            };
            let (bot, sender, pacer) = (bot.clone(), sender.clone(), pacer.clone());
            sends.spawn(async move {
                let outcome = send(&bot, &sender, &pacer, &delivery, &what).await;
                if matches!(outcome, Outcome::Sent { .. }) {
                    bot.outbox_sent
                        .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                }
                if let Err(e) = bot.desk.finish_delivery(delivery.id, &outcome).await {
                    // The claim runs out and the row is sent again, with the same nonce.
                    error!(delivery = delivery.id, "cannot record a delivery: {e}");
                }
                drop(permit);
            });
        }
    }
}

/// The crisis and update a delivery is for.
async fn update_of(bot: &Bot, update_id: i64) -> Option<(Crisis, CrisisUpdate)> {
    match bot.desk.delivery_update(update_id).await {
        Ok(found) => found,
        Err(e) => {
            warn!(update = update_id, "cannot read a delivery's update: {e}");
            None
        }
    }
}

/// One attempt, and what became of it.
async fn send(
    bot: &Bot,
    sender: &Sender,
    pacer: &Mutex<Pacer>,
    d: &Delivery,
    what: &(Crisis, CrisisUpdate),
) -> Outcome {
    let (crisis, update) = what;
    let message = message(&bot.desk.direct_message(d, crisis, update));
    match sender.post(d.channel_id, &message).await {
        Ok(message_id) => Outcome::Sent { message_id },
        Err(refusal) => {
            let kind = match &refusal {
                Refusal::Status { status, .. } => status.to_string(),
                Refusal::Other(_) => "network".to_string(),
            };
            crate::metrics::get().rest_error(&kind);
            classify(refusal, d.attempts, pacer)
        }
    }
}

/// What a refusal means for a delivery.
fn classify(refusal: Refusal, attempts: i64, pacer: &Mutex<Pacer>) -> Outcome {
    let retry_later = |why: String| match backoff(attempts) {
        Some(wait) => Outcome::Retry {
            at_ms: now_ms() + wait.as_millis() as i64,
            why,
        },
        None => Outcome::Failed { why },
    };
    let (status, code, message, retry_after, global) = match refusal {
        Refusal::Other(why) => return retry_later(why),
        Refusal::Status {
            status,
            code,
            message,
            retry_after,
            global,
        } => (status, code, message, retry_after, global),
    };
    let why = format!("{status} {code}: {message}");
    // 50007: cannot send messages to this user; 10003/10013: the channel or user is gone;
    // 50001/50013: no access. None of these gets better by trying again.
    if matches!(code, 50007 | 10003 | 10013 | 50001 | 50013) || matches!(status, 403 | 404) {
        return Outcome::Refused { why };
    }
    if status == 429 {
        let wait = Duration::from_secs_f64(retry_after.unwrap_or(1.0).clamp(0.0, 60.0));
        if global {
            // Everything waits: no other send goes before Discord said.
            pacer
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .pause_until(Instant::now() + wait);
        }
        return Outcome::Retry {
            at_ms: now_ms() + wait.as_millis() as i64,
            why,
        };
    }
    if (400..500).contains(&status) {
        return Outcome::Failed { why };
    }
    retry_later(why)
}

/// Keep each update's progress message current while it is delivered, then show the report
/// (see `Desk::report_progress`).
async fn report_progress(bot: &Bot, http: &Http) -> anyhow::Result<()> {
    for refused in bot.desk.report_progress(&Discord::new(bot, http)).await? {
        warn!("cannot show delivery progress: {refused:?}");
    }
    Ok(())
}
