//! The public status page under an outage's crowd of readers, on SQLite.
//!
//! The server has one running crisis with 40 updates and 20 past ones with 5 updates each, so a
//! view reads the name, the crises and 21 crises' updates. 64 readers at once ask for the page
//! 4,000 times in all, over HTTP, from the web server `beacon run` starts.
//!
//! Baseline, side by side in the same run: the same server with `status_cache_seconds = 0`,
//! reading the database at every view (the page before the cache). Measured for both: pages a
//! second, and the median and 99th-percentile time of a view.
//!
//! Run with `cargo bench --bench status`.

use std::time::{Duration, Instant};

use beacon::config::WebConfig;
use beacon::desk::crisis::{CrisisLedger, UpdateKind};
use beacon::store::Store;

const GUILD: u64 = 1_300_000_000_000_000_001;
const REQUESTS: usize = 4_000;
const READERS: usize = 64;
/// 2026-10-01 00:00 UTC.
const START: i64 = 1_790_812_800_000;
const MINUTE: i64 = 60_000;

/// A crisis of `updates` updates (its start included), five minutes apart, ended or not.
/// Returns the time of its last update.
async fn crisis(
    store: &Store,
    topic: &str,
    title: &str,
    updates: usize,
    ends: bool,
    at: i64,
) -> i64 {
    let (crisis, _) = store
        .start_crisis(GUILD, topic, title, "We are on it.", 1, at)
        .await
        .unwrap()
        .unwrap();
    let mut at = at;
    for n in 1..updates {
        at += 5 * MINUTE;
        let (kind, text) = if ends && n == updates - 1 {
            (UpdateKind::End, "Resolved.".to_string())
        } else {
            (
                UpdateKind::Update,
                format!("Update {n}: service is coming back, region by region."),
            )
        };
        store
            .add_update(crisis.id, kind, &text, 1, at)
            .await
            .unwrap();
    }
    at
}

async fn seed(store: &Store) {
    store.remember_guild_name(GUILD, "Acme").await.unwrap();
    let mut at = START;
    for past in 0..20 {
        let title = format!("Incident {past}: payments delayed");
        at = crisis(store, &format!("past{past}"), &title, 5, true, at).await + 60 * MINUTE;
    }
    crisis(store, "outage", "Everything is down", 40, false, at).await;
}

/// The time each of `REQUESTS` views took, asked by `READERS` readers at once.
async fn crowd(client: &reqwest::Client, url: &str) -> (Duration, Vec<Duration>) {
    let started = Instant::now();
    let readers: Vec<_> = (0..READERS)
        .map(|_| {
            let (client, url) = (client.clone(), url.to_string());
            tokio::spawn(async move {
                let mut times = Vec::with_capacity(REQUESTS / READERS);
                for _ in 0..REQUESTS / READERS {
                    let t = Instant::now();
                    let response = client.get(&url).send().await.unwrap();
                    assert_eq!(response.status(), 200);
                    let page = response.text().await.unwrap();
                    assert!(page.contains("Everything is down"), "the running crisis");
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut times = Vec::with_capacity(REQUESTS);
    for reader in readers {
        times.extend(reader.await.unwrap());
    }
    (started.elapsed(), times)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let rank = ((p * sorted.len() as f64).ceil() as usize).clamp(1, sorted.len());
    sorted[rank - 1]
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
    let store = Store::connect(&url).await.unwrap();
    store.migrate().await.unwrap();
    seed(&store).await;
    let client = reqwest::Client::new();

    println!("status page: {REQUESTS} views by {READERS} readers at once, SQLite");
    for (label, seconds) in [
        ("baseline: database read at every view", 0),
        ("Beacon: kept 5 s", 5),
    ] {
        let config = WebConfig {
            listen: "127.0.0.1:0".into(),
            status_cache_seconds: seconds,
            ..WebConfig::default()
        };
        let served = beacon::web::start(&config, store.clone(), None)
            .await
            .unwrap();
        let page = format!("http://{}/status/{GUILD}", served.addr.expect("listening"));
        // Warm-up: connections, statements, and the kept page.
        for _ in 0..20 {
            client.get(&page).send().await.unwrap();
        }
        for run in 1..=3 {
            let (total, mut times) = crowd(&client, &page).await;
            times.sort();
            println!(
                "  {label:<40} run {run}: {:>7.0} views/s, median {:>6.1} ms, p99 {:>6.1} ms",
                REQUESTS as f64 / total.as_secs_f64(),
                percentile(&times, 0.5).as_secs_f64() * 1e3,
                percentile(&times, 0.99).as_secs_f64() * 1e3,
            );
        }
        served.task.abort();
    }
    store.close().await;
}
