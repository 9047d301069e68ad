//! The ticket timers on Discord: every pass runs the desk's timed journeys (`desk::timers`:
//! escalations, inactivity, the queue places) through the port, and wraps up what inactivity
//! closed.

use std::sync::Arc;
use std::time::Duration;

use serenity::all::Http;
use tracing::error;

use crate::desk::now_ms;
use crate::discord::Bot;
use crate::discord::doctor::why;
use crate::discord::port::Discord;

/// Run the timers every `every` until the process stops.
pub fn spawn(bot: Arc<Bot>, http: Arc<Http>, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            // On time, or at once when the queue moved (a claim, a release, a close): the
            // places are updated here, not in the agent's interaction.
            tokio::select! {
                _ = tick.tick() => {}
                () = bot.queue_changed.notified() => {}
            }
            pass(&bot, &http).await;
        }
    })
}

/// One pass over everything that may be due. A failure is logged and the next pass tries
/// again: every step is stored once done.
pub async fn pass(bot: &Bot, http: &Http) {
    let port = Discord::new(bot, http);
    let now = now_ms();
    if let Err(e) = bot.desk.escalate(&port, now).await {
        error!("escalations: {}", why(&e));
    }
    if let Err(e) = bot.desk.warn_quiet(&port, now).await {
        error!("inactivity: {}", why(&e));
    }
    if let Err(e) = bot.desk.close_inactive(&port, now).await {
        error!("inactivity: {}", why(&e));
    }
    if let Err(e) = bot.desk.refresh_places(&port, now_ms()).await {
        error!("queue positions: {}", why(&e));
    }
}
