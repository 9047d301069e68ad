//! Trying a REST call again: on a 5xx or a 429 the gate gave up on, with backoff, for as long
//! as an interaction's token lives; and Discord's error code read from a failure.

use std::future::Future;
use std::time::Duration;

use tracing::warn;

/// Discord's error code of a failed REST call somewhere in an error's chain (50007, 50013...).
pub(crate) fn discord_code(e: &anyhow::Error) -> Option<isize> {
    e.chain()
        .find_map(|c| match c.downcast_ref::<serenity::Error>()? {
            serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(r)) => {
                Some(r.error.code)
            }
            _ => None,
        })
}

/// How long a failing REST call is tried again: an interaction's token lives 15 minutes, and
/// a reply is worth as long.
pub const RETRY_FOR: Duration = Duration::from_secs(15 * 60);

/// Retry a REST call on 5xx (Discord or the network failing; the gate answers 502 when
/// Discord does not answer) with backoff up to 10 s between tries, for up to [`RETRY_FOR`].
/// 429s are waited out by the REST gate before they get here; one that does get here (the gate
/// gave up) is tried again the same way. Anything else (a 4xx Discord will repeat) is returned
/// at once. Messages that must not repeat carry an enforced nonce, so a try after a 5xx that
/// Discord did act on returns the first message instead of a second one.
pub async fn retry<T, F, Fut>(mut call: F) -> anyhow::Result<T>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = serenity::Result<T>>,
{
    let started = std::time::Instant::now();
    let mut delay = Duration::from_millis(200);
    for attempt in 1.. {
        let e = match call().await {
            Ok(v) => return Ok(v),
            Err(e) => e,
        };
        let status = match &e {
            serenity::Error::Http(h) => h.status_code().map(|s| s.as_u16()),
            _ => None,
        };
        let kind = match (&e, status) {
            (_, Some(status)) => status.to_string(),
            (serenity::Error::Http(_), None) => "network".into(),
            _ => "other".into(),
        };
        crate::metrics::get().rest_error(&kind);
        if started.elapsed() >= RETRY_FOR || !matches!(status, Some(429) | Some(500..)) {
            return Err(e.into());
        }
        warn!(
            ?status,
            attempt,
            wait_ms = delay.as_millis() as u64,
            "Discord failed; retrying"
        );
        tokio::time::sleep(delay).await;
        delay = (delay * 2).min(Duration::from_secs(10));
    }
    unreachable!("the loop returns")
}
