//! The REST gate against the fake Discord's limits: the global limit paced without a 429,
//! exhausted buckets waited out, 429s sent again, and the outbox's share taken only after the
//! interactive traffic's.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use beacon::discord::gate::{Class, Gate};
use serenity::all::{ChannelId, CreateMessage, HttpBuilder};
use serenity::http::Http;

use crate::fake_discord::FakeDiscord;
use crate::harness::WAIT;

async fn gate(fake: &FakeDiscord, per_second: u32) -> Gate {
    Gate::start(&fake.api_url(), per_second, Duration::from_secs(60))
        .await
        .expect("the gate starts")
}

fn client(gate: &Gate, class: Class) -> Arc<Http> {
    Arc::new(
        HttpBuilder::new(FakeDiscord::TOKEN)
            .proxy(gate.base(class))
            .ratelimiter_disabled(true)
            .build(),
    )
}

/// Send `n` messages at once to `channel`; how many Discord took.
async fn burst(http: &Arc<Http>, channel: u64, n: usize, tag: &str) -> usize {
    let sends = (0..n).map(|i| {
        let http = http.clone();
        let text = format!("{tag} {i}");
        tokio::spawn(async move {
            ChannelId::new(channel)
                .send_message(&http, CreateMessage::new().content(text))
                .await
        })
    });
    let mut ok = 0;
    for send in sends {
        if matches!(send.await, Ok(Ok(_))) {
            ok += 1;
        }
    }
    ok
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_under_the_global_limit_gets_through_without_a_429() {
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let help = fake.add_text_channel(guild, "help");
    fake.set_global_rate_limit(Some(20));
    let gate = gate(&fake, 19).await;
    let http = client(&gate, Class::Interactive);
    let sent = tokio::time::timeout(WAIT, burst(&http, help, 60, "answer"))
        .await
        .expect("in time");
    assert_eq!(sent, 60);
    assert_eq!(fake.rate_limited_count(), 0, "paced, never refused");
    assert_eq!(gate.counts().rate_limited.load(Ordering::Relaxed), 0);
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exhausted_bucket_is_waited_out_and_a_429_sent_again() {
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let help = fake.add_text_channel(guild, "help");
    fake.set_route_limit(Some(5));
    let gate = gate(&fake, 1000).await;
    let http = client(&gate, Class::Interactive);
    // Learn the bucket with one request, then a burst waits on its headers.
    assert_eq!(burst(&http, help, 1, "first").await, 1);
    let sent = tokio::time::timeout(WAIT, burst(&http, help, 9, "answer"))
        .await
        .expect("in time");
    assert_eq!(sent, 9, "every message taken, none lost");
    assert_eq!(
        fake.route_limited_count(),
        0,
        "the bucket's reset was waited for"
    );

    // A 429 the gate could not foresee is waited out and sent again; the caller sees success.
    fake.set_route_limit(None);
    fake.fail_next("POST", &format!("/channels/{help}/messages"), 429, 3);
    assert_eq!(burst(&http, help, 1, "after three 429s").await, 1);
    assert_eq!(gate.counts().retried.load(Ordering::Relaxed), 3);
    assert_eq!(
        gate.invalid_requests(),
        3,
        "429s count towards Discord's ban"
    );
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_outbox_takes_only_the_slots_answers_leave() {
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let help = fake.add_text_channel(guild, "help");
    let news = fake.add_text_channel(guild, "news");
    let gate = gate(&fake, 8).await;
    let (answers, outbox) = (
        client(&gate, Class::Interactive),
        client(&gate, Class::Bulk),
    );
    let from = fake.request_count();
    // The outbox queues 16 first; 8 answers arrive a moment later.
    let bulk = tokio::spawn({
        let outbox = outbox.clone();
        async move { burst(&outbox, news, 16, "dm").await }
    });
    tokio::time::sleep(Duration::from_millis(20)).await;
    let answered = burst(&answers, help, 8, "answer").await;
    assert_eq!(answered, 8);
    assert_eq!(bulk.await.unwrap(), 16);
    // In the order Discord saw them, every answer comes before all but the bulk requests that
    // already had a slot when the answers arrived.
    let order: Vec<bool> = fake
        .requests_since(from)
        .iter()
        .map(|r| r.path == format!("/channels/{help}/messages"))
        .collect();
    let last_answer = order.iter().rposition(|&a| a).unwrap();
    let bulk_before = order[..last_answer].iter().filter(|&&a| !a).count();
    assert!(
        bulk_before <= 2,
        "answers waited behind the outbox: {order:?}"
    );
    fake.assert_clean();
}

/// Beacon itself under Discord's global limit: a burst of questions from many members, every one
/// answered exactly once, and no request refused after the first second (Discord's window may
/// hold a few of the bot's requests from just before).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_of_questions_under_the_global_limit_is_answered_once_each_without_a_429() {
    let db = crate::db::TestDb::sqlite();
    let bot = crate::harness::Bot::configured(&db.url).await;
    bot.fake.set_global_rate_limit(Some(50));
    let members: Vec<u64> = (0..120)
        .map(|n| bot.fake.add_member(bot.guild, &format!("asker{n}"), &[]))
        .collect();
    let from = bot.fake.request_count();
    let asked: Vec<u64> = members
        .iter()
        .map(|&m| {
            bot.fake
                .push_message(bot.help, m, "how do I get my money back")
        })
        .collect();
    for &question in &asked {
        bot.reply_to(bot.help, question).await;
    }
    let replies = bot.fake.bot_message_count(bot.help);
    assert_eq!(replies, asked.len(), "one answer each");
    let all = bot.fake.requests_since(from);
    let start = all.first().map(|r| r.handled_at).unwrap();
    let late: Vec<f64> = all
        .iter()
        .filter(|r| r.rate_limited)
        .map(|r| r.handled_at.duration_since(start).as_secs_f64())
        .collect();
    assert!(
        late.iter().all(|t| *t < 1.0),
        "429s after the first second: {late:?}"
    );
    bot.stop().await;
}
