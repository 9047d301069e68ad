//! The status pages' data, kept a few seconds.
//!
//! During an outage the status page is what everyone refreshes. Each view is several queries
//! (the server's name, its running crises, its recent past ones, each crisis's updates), so a
//! crowd of readers would load the database exactly when the team needs it. [`StatusPages`]
//! keeps what a server's page shows for `[web] status_cache_seconds`: readers within that time
//! share one read, and readers of a page not yet read wait on the same one instead of each
//! starting their own.
//!
//! A page never lags a change this process made: starting, updating or ending a crisis calls
//! [`StatusPages::forget`], and a read that began before it is never served after it. A change
//! made by another process shows within the configured seconds.

use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use moka::future::Cache;

/// Servers whose pages are kept at once: beyond this the least used are dropped first.
const MAX_SERVERS: u64 = 10_000;

/// Each server's data, found by server and generation.
type Kept<T> = Cache<(u64, u64), Option<Arc<T>>>;

/// What a server's status page and feed are rendered from, kept per server for a few seconds.
/// `None` for a server Beacon does not know: a crowd asking for made-up servers is kept off the
/// database too.
#[derive(Clone)]
pub struct StatusPages<T: Clone + Send + Sync + 'static> {
    /// `None` when `status_cache_seconds` is 0: every view reads the database.
    cache: Option<Kept<T>>,
    /// Bumped by [`forget`](Self::forget). It is part of each key, so what was read before a
    /// change, even a read still under way, is never found after it.
    generation: Arc<AtomicU64>,
}

impl<T: Clone + Send + Sync + 'static> StatusPages<T> {
    /// Keeps each server's data for `seconds`; 0 keeps nothing.
    pub fn new(seconds: u32) -> Self {
        let cache = (seconds > 0).then(|| {
            Cache::builder()
                .max_capacity(MAX_SERVERS)
                .time_to_live(Duration::from_secs(u64::from(seconds)))
                .build()
        });
        StatusPages {
            cache,
            generation: Arc::new(AtomicU64::new(0)),
        }
    }

    /// The server's data: kept, or read by `load` (once, however many ask at the same time).
    /// A failed read is not kept: the next view tries again.
    pub async fn get<E, F>(&self, guild: u64, load: F) -> Result<Option<Arc<T>>, Arc<E>>
    where
        E: Send + Sync + 'static,
        F: Future<Output = Result<Option<T>, E>>,
    {
        let read = async { load.await.map(|data| data.map(Arc::new)) };
        match &self.cache {
            None => read.await.map_err(Arc::new),
            Some(cache) => {
                let key = (guild, self.generation.load(Ordering::SeqCst));
                cache.try_get_with(key, read).await
            }
        }
    }

    /// Read every server's data again next time: a crisis started, changed or ended. Crises are
    /// rare, so forgetting them all keeps this simple and synchronous.
    pub fn forget(&self) {
        self.generation.fetch_add(1, Ordering::SeqCst);
        if let Some(cache) = &self.cache {
            // The old generation's entries can never be found again: drop them now.
            cache.invalidate_all();
        }
    }
}

impl<T: Clone + Send + Sync + 'static> std::fmt::Debug for StatusPages<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusPages")
            .field("cached", &self.cache.is_some())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    /// A read that counts itself and gives the count as the page's data.
    async fn counted(reads: &AtomicUsize) -> Result<Option<usize>, String> {
        // Give every other reader the time to arrive while this read is under way.
        tokio::task::yield_now().await;
        Ok(Some(reads.fetch_add(1, Ordering::SeqCst) + 1))
    }

    #[tokio::test]
    async fn a_crowd_of_readers_costs_one_read() {
        let pages = StatusPages::new(60);
        let reads = AtomicUsize::new(0);
        let views = futures_util::future::join_all((0..50).map(|_| pages.get(7, counted(&reads))));
        for view in views.await {
            assert_eq!(*view.unwrap().unwrap(), 1);
        }
        assert_eq!(reads.load(Ordering::SeqCst), 1);
        // Another server is read on its own.
        assert_eq!(*pages.get(8, counted(&reads)).await.unwrap().unwrap(), 2);
        assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), 1);
    }

    #[tokio::test]
    async fn a_change_is_read_again_even_when_a_read_was_under_way() {
        let pages = StatusPages::new(60);
        let reads = AtomicUsize::new(0);
        assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), 1);
        pages.forget();
        assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), 2);

        // A read that began before a change finishes after it: it is not kept for later views.
        pages.forget();
        let release = tokio::sync::Notify::new();
        let slow = pages.get(7, async {
            pages.forget();
            release.notified().await;
            Ok::<_, String>(Some(100))
        });
        let (slow, ()) = tokio::join!(slow, async { release.notify_one() });
        assert_eq!(*slow.unwrap().unwrap(), 100);
        assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), 3);
    }

    #[tokio::test]
    async fn failed_reads_are_not_kept_and_unknown_servers_are() {
        let pages = StatusPages::<usize>::new(60);
        let failed = pages
            .get(7, async { Err::<Option<usize>, _>("locked") })
            .await;
        assert_eq!(*failed.unwrap_err(), "locked");
        let reads = AtomicUsize::new(0);
        assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), 1);

        let unknown = pages.get(9, async { Ok::<_, String>(None) }).await;
        assert!(unknown.unwrap().is_none());
        let again = pages.get(9, counted(&reads)).await.unwrap();
        assert!(again.is_none(), "the unknown server is kept as unknown");
        assert_eq!(reads.load(Ordering::SeqCst), 1);
    }

    #[tokio::test]
    async fn zero_seconds_reads_every_time() {
        let pages = StatusPages::new(0);
        let reads = AtomicUsize::new(0);
        for n in 1..=3 {
            assert_eq!(*pages.get(7, counted(&reads)).await.unwrap().unwrap(), n);
        }
    }
}
