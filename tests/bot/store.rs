//! The storage suite: the same tests on SQLite and on PostgreSQL.

use beacon::desk::settings::OpeningHours;
use beacon::desk::tickets::{Change, NewTicket, Priority, TicketLedger, TicketState};
use beacon::desk::{EventKind, EventRecord, GuildSettings, Ledger, QuestionRecord, Source};
use beacon::store::Store;

use crate::on_both_backends;

on_both_backends!(
    migrations_apply_once,
    settings_round_trip_and_help_channels_are_replaced,
    a_question_is_stored_once_per_source,
    events_keep_their_order,
    snowflakes_at_the_top_of_the_range_round_trip,
    concurrent_writers_lose_nothing,
    rows_survive_a_reconnect,
    tickets_are_numbered_per_server_even_when_opened_at_once,
    exactly_one_of_many_racing_claims_wins,
    closed_tickets_leave_the_customers_open_list,
    the_queue_puts_higher_priority_first_then_first_come,
);

async fn store(url: &str) -> Store {
    let store = Store::connect(url).await.expect("connect");
    store.migrate().await.expect("migrate");
    store
}

fn question(source_id: u64, text: &str) -> QuestionRecord {
    QuestionRecord {
        guild_id: 1_100_000_000_000_000_001,
        channel_id: 1_100_000_000_000_000_002,
        user_id: 1_100_000_000_000_000_003,
        source: Source::Message,
        source_id,
        text: text.to_string(),
        lang: "fa".into(),
        outcome: "suggest".into(),
        intent: None,
        confidence: 0.42,
        suggestions: vec!["refund-request".into(), "refund-status".into()],
        asked_at_ms: 1_790_000_000_000,
    }
}

/// What the racing tasks that succeeded returned.
async fn successes<T>(tasks: Vec<tokio::task::JoinHandle<Option<T>>>) -> Vec<T> {
    let mut out = Vec::new();
    for t in tasks {
        out.extend(t.await.unwrap());
    }
    out
}

async fn migrations_apply_once(url: String) {
    let store = Store::connect(&url).await.unwrap();
    assert!(
        store.migrate().await.unwrap() >= 1,
        "first run applies the schema"
    );
    assert_eq!(
        store.migrate().await.unwrap(),
        0,
        "second run has nothing to do"
    );
}

async fn settings_round_trip_and_help_channels_are_replaced(url: String) {
    let store = store(&url).await;
    let guild = 1_100_000_000_000_000_010;
    assert_eq!(
        store.settings(guild).await.unwrap(),
        GuildSettings::new(guild)
    );

    let mut s = GuildSettings::new(guild);
    s.help_channels = [11, 12, 13].into();
    s.forum_channel = Some(20);
    s.agents_channel = Some(21);
    s.announce_channel = Some(22);
    s.status_channel = Some(23);
    s.agent_role = Some(30);
    s.moderator_role = Some(31);
    s.opening_hours = Some(OpeningHours::parse("mon-fri 09:00-17:00, sat 10:00-14:00").unwrap());
    s.time_zone = Some("Asia/Yerevan".into());
    s.threshold = Some(0.65);
    s.updated_by = Some(40);
    s.updated_at_ms = 1_790_000_000_000;
    store.save_settings(&s).await.unwrap();
    assert_eq!(store.settings(guild).await.unwrap(), s);

    s.help_channels = [12, 14].into();
    s.threshold = None;
    s.forum_channel = None;
    store.save_settings(&s).await.unwrap();
    assert_eq!(store.settings(guild).await.unwrap(), s);
    // Another server is untouched.
    assert_eq!(
        store.settings(guild + 1).await.unwrap(),
        GuildSettings::new(guild + 1)
    );
}

async fn a_question_is_stored_once_per_source(url: String) {
    let store = store(&url).await;
    let q = question(1_100_000_000_000_000_100, "پولم را پس بدهید 🙏 «فوری»");
    let id = store
        .record_question(&q)
        .await
        .unwrap()
        .expect("first time stored");
    assert_eq!(
        store.record_question(&q).await.unwrap(),
        None,
        "redelivery is recognised"
    );
    let (back, reply) = store.question(id).await.unwrap().expect("stored");
    assert_eq!(back, q);
    assert_eq!(reply, None);
    store
        .set_reply(id, 1_100_000_000_000_000_200)
        .await
        .unwrap();
    assert_eq!(
        store.question(id).await.unwrap().unwrap().1,
        Some(1_100_000_000_000_000_200)
    );
    assert_eq!(store.question(id + 1000).await.unwrap(), None);
    let all = store.questions(q.guild_id).await.unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].0, id);
}

async fn events_keep_their_order(url: String) {
    let store = store(&url).await;
    let id = store
        .record_question(&question(500, "refund"))
        .await
        .unwrap()
        .unwrap();
    let kinds = [
        EventKind::Picked,
        EventKind::Solved,
        EventKind::Human,
        EventKind::NoneFit,
        EventKind::TicketOffer,
    ];
    for (n, kind) in kinds.iter().enumerate() {
        store
            .record_event(&EventRecord {
                question_id: id,
                user_id: 7,
                kind: *kind,
                intent: (*kind == EventKind::Picked).then(|| "refund-request".to_string()),
                at_ms: 1_000 + n as i64,
            })
            .await
            .unwrap();
    }
    let events = store.events(id).await.unwrap();
    assert_eq!(events.iter().map(|e| e.kind).collect::<Vec<_>>(), kinds);
    assert_eq!(events[0].intent.as_deref(), Some("refund-request"));
    assert_eq!(events[1].intent, None);
}

async fn snowflakes_at_the_top_of_the_range_round_trip(url: String) {
    let store = store(&url).await;
    let big = (1u64 << 63) - 1;
    let mut q = question(big, "x");
    q.guild_id = big - 1;
    q.user_id = big - 2;
    q.channel_id = big - 3;
    let id = store.record_question(&q).await.unwrap().unwrap();
    assert_eq!(store.question(id).await.unwrap().unwrap().0, q);
    let mut s = GuildSettings::new(big);
    s.help_channels = [big - 5].into();
    store.save_settings(&s).await.unwrap();
    assert_eq!(store.settings(big).await.unwrap(), s);
}

async fn concurrent_writers_lose_nothing(url: String) {
    let store = store(&url).await;
    let tasks: Vec<_> = (0..200u64)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                // Half the tasks write a source twice: exactly one write may win.
                let q = question(10_000 + n / 2, &format!("question {n}"));
                store.record_question(&q).await.unwrap()
            })
        })
        .collect();
    let mut ids = successes(tasks).await;
    assert_eq!(ids.len(), 100, "one row per source");
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(ids.len(), 100, "distinct ids");
    assert_eq!(
        store
            .questions(question(0, "").guild_id)
            .await
            .unwrap()
            .len(),
        100
    );
}

async fn rows_survive_a_reconnect(url: String) {
    let first = store(&url).await;
    let id = first
        .record_question(&question(77, "where is my order"))
        .await
        .unwrap()
        .unwrap();
    first.close().await;
    let second = store(&url).await;
    let (q, _) = second.question(id).await.unwrap().expect("still there");
    assert_eq!(q.text, "where is my order");
}

fn new_ticket(guild_id: u64, customer_id: u64) -> NewTicket {
    NewTicket {
        guild_id,
        customer_id,
        category: "billing".into(),
        priority: Priority::High,
        question_id: None,
        subject: "my card was charged twice".into(),
        tags: vec!["billing".into()],
        lang: "en".into(),
        opened_at_ms: 1_790_000_000_000,
        due_at_ms: Some(1_790_000_060_000),
    }
}

fn change(to: TicketState, actor_id: u64) -> Change {
    Change {
        kind: to.name(),
        to,
        actor_id,
        at_ms: 1_790_000_000_500,
        agent_id: (to == TicketState::Claimed).then_some(actor_id),
        reason: (to == TicketState::Closed).then(|| "answered".to_string()),
    }
}

async fn tickets_are_numbered_per_server_even_when_opened_at_once(url: String) {
    let store = store(&url).await;
    let tasks: Vec<_> = (0..30u64)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let guild = if n % 3 == 0 { 2 } else { 1 };
                store
                    .open_ticket(&new_ticket(guild, 500 + n))
                    .await
                    .unwrap()
            })
        })
        .collect();
    let mut numbers: Vec<(u64, i64)> = Vec::new();
    for t in tasks {
        let ticket = t.await.unwrap();
        assert_eq!(ticket.state, TicketState::Open);
        assert_eq!(ticket.priority, Priority::High);
        assert_eq!(store.ticket(ticket.id).await.unwrap(), Some(ticket.clone()));
        numbers.push((ticket.guild_id, ticket.number));
    }
    for (guild, count) in [(1, 20), (2, 10)] {
        let mut ns: Vec<i64> = numbers
            .iter()
            .filter(|(g, _)| *g == guild)
            .map(|(_, n)| *n)
            .collect();
        ns.sort_unstable();
        assert_eq!(ns, (1..=count).collect::<Vec<i64>>(), "server {guild}");
    }
}

async fn exactly_one_of_many_racing_claims_wins(url: String) {
    let store = store(&url).await;
    let ticket = store.open_ticket(&new_ticket(1, 42)).await.unwrap();
    let waiting = store
        .move_ticket(
            ticket.id,
            &[TicketState::Open],
            &change(TicketState::Waiting, 42),
        )
        .await
        .unwrap()
        .expect("open -> waiting");
    assert_eq!(waiting.state, TicketState::Waiting);
    let claims: Vec<_> = (0..16u64)
        .map(|agent| {
            let store = store.clone();
            tokio::spawn(async move {
                let c = change(TicketState::Claimed, 1000 + agent);
                store
                    .move_ticket(ticket.id, &[TicketState::Open, TicketState::Waiting], &c)
                    .await
                    .unwrap()
            })
        })
        .collect();
    let winners = successes(claims).await;
    assert_eq!(winners.len(), 1, "exactly one claim wins");
    let stored = store.ticket(ticket.id).await.unwrap().unwrap();
    assert_eq!(stored.state, TicketState::Claimed);
    assert_eq!(stored.agent_id, winners[0].agent_id);
    assert!(stored.claimed_at_ms.is_some());

    // Released, it can be claimed again.
    let released = store
        .move_ticket(
            ticket.id,
            &[TicketState::Claimed],
            &change(TicketState::Waiting, 1000),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (released.state, released.agent_id),
        (TicketState::Waiting, None)
    );
}

async fn closed_tickets_leave_the_customers_open_list(url: String) {
    let store = store(&url).await;
    let a = store.open_ticket(&new_ticket(1, 7)).await.unwrap();
    let b = store.open_ticket(&new_ticket(1, 7)).await.unwrap();
    store.open_ticket(&new_ticket(1, 8)).await.unwrap();
    store.open_ticket(&new_ticket(2, 7)).await.unwrap();
    let open: Vec<i64> = store
        .open_tickets_of(1, 7)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(open, [a.id, b.id]);
    let closed = store
        .move_ticket(
            a.id,
            &[
                TicketState::Open,
                TicketState::Waiting,
                TicketState::Claimed,
            ],
            &change(TicketState::Closed, 99),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(closed.close_reason.as_deref(), Some("answered"));
    assert!(closed.closed_at_ms.is_some());
    // A closed ticket cannot be closed again.
    assert!(
        store
            .move_ticket(
                a.id,
                &[
                    TicketState::Open,
                    TicketState::Waiting,
                    TicketState::Claimed
                ],
                &change(TicketState::Closed, 99)
            )
            .await
            .unwrap()
            .is_none()
    );
    let open: Vec<i64> = store
        .open_tickets_of(1, 7)
        .await
        .unwrap()
        .iter()
        .map(|t| t.id)
        .collect();
    assert_eq!(open, [b.id]);
}

async fn the_queue_puts_higher_priority_first_then_first_come(url: String) {
    let store = store(&url).await;
    let open = |customer: u64, priority: Priority| {
        let store = store.clone();
        async move {
            let mut t = new_ticket(1, customer);
            t.priority = priority;
            let t = store.open_ticket(&t).await.unwrap();
            store
                .move_ticket(
                    t.id,
                    &[TicketState::Open],
                    &change(TicketState::Waiting, customer),
                )
                .await
                .unwrap()
                .unwrap()
        }
    };
    let normal_1 = open(1, Priority::Normal).await;
    let normal_2 = open(2, Priority::Normal).await;
    let urgent = open(3, Priority::Urgent).await;
    let low = open(4, Priority::Low).await;
    let ahead = |t| {
        let store = store.clone();
        async move { store.waiting_ahead(&t).await.unwrap() }
    };
    assert_eq!(ahead(urgent.clone()).await, 0);
    assert_eq!(ahead(normal_1.clone()).await, 1);
    assert_eq!(ahead(normal_2.clone()).await, 2);
    assert_eq!(ahead(low.clone()).await, 3);
    // Claimed tickets leave the queue.
    store
        .move_ticket(
            urgent.id,
            &[TicketState::Waiting],
            &change(TicketState::Claimed, 9),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(ahead(low).await, 2);
}
