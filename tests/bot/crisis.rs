//! Journey J4 end to end: a moderator runs a crisis from start to end; the status message is
//! posted, pinned, edited and retired; announcements go out (crossposted, pinging the opt-in
//! role); subscribers get each update by direct message exactly once, through the outbox, even
//! when Discord answers 429 and 500 on the way; members subscribe and unsubscribe by command,
//! button and intent; answers and tickets point to the status while it runs.

use beacon::desk::crisis::CrisisLedger;
use beacon::desk::tickets::Priority;
use serde_json::{Value, json};

use crate::harness::{Bot, WAIT, custom_ids, id_of};
use crate::on_both_backends;
use crate::ticket_work::{content, fill};

on_both_backends!(
    a_crisis_from_start_to_end_reaches_every_subscriber_once,
    deliveries_survive_429_and_500_mid_run,
);

impl Bot {
    /// Crisis mode set up: status and announcement channels, the opt-in role.
    pub(crate) async fn with_crisis(url: &str) -> Bot {
        Bot::with_crisis_on(Bot::with_tickets(url).await).await
    }

    /// Crisis mode set up on a bot already started.
    pub(crate) async fn with_crisis_on(bot: Bot) -> Bot {
        bot.setup(
            "channels",
            json!([
                {"name": "status", "type": 7, "value": bot.status.to_string()},
                {"name": "announcements", "type": 7, "value": bot.announcements.to_string()},
            ]),
        )
        .await;
        bot.setup(
            "roles",
            json!([{"name": "announce", "type": 8, "value": bot.announce_role.to_string()}]),
        )
        .await;
        bot
    }

    /// `/crisis <sub> ...` as `user`; the reply.
    pub(crate) async fn crisis(&self, user: u64, sub: &str, options: Value) -> String {
        let i = self.command_in(
            self.general,
            user,
            "crisis",
            json!([{"name": sub, "type": 1, "options": options}]),
        );
        self.final_text(&i).await
    }

    /// `/subscribe [topic]` as `user`; the reply.
    async fn subscribe(&self, user: u64, topic: Option<&str>) -> String {
        let options = match topic {
            Some(t) => json!([{"name": "topic", "type": 3, "value": t}]),
            None => json!([]),
        };
        self.final_text(&self.command_in(self.general, user, "subscribe", options))
            .await
    }

    /// The crisis updates the bot sent `user` by direct message (not the confirmation of their
    /// subscription, nor its answers to their button presses there).
    fn dms(&self, user: u64) -> Vec<Value> {
        self.all_dms(user)
            .into_iter()
            .filter(|m| !is_confirmation(m))
            .collect()
    }

    /// Every direct message the bot sent `user`, confirmations included.
    fn all_dms(&self, user: u64) -> Vec<Value> {
        self.fake
            .dm_channel_of(user)
            .map(|c| self.fake.bot_messages(c))
            .unwrap_or_default()
            .into_iter()
            .filter(|m| m["interaction_metadata"].is_null())
            .collect()
    }

    /// Wait until the moderator's progress message shows the final report.
    async fn delivered(&self, title: &str) -> String {
        let prefix = format!("Delivered “{title}”:");
        self.fake
            .wait_until("the delivery report", WAIT, |f| {
                f.bot_messages(self.general)
                    .into_iter()
                    .map(|m| content(&m))
                    .find(|c| c.starts_with(&prefix))
            })
            .await
    }
}

/// Whether a direct message is the confirmation of a subscription (English).
fn is_confirmation(m: &Value) -> bool {
    content(m).starts_with("You're subscribed")
}

async fn a_crisis_from_start_to_end_reaches_every_subscriber_once(url: String) {
    let bot = Bot::with_crisis(&url).await;
    let everyone = &bot.others[0..3];
    let (payments_only, shipping_only, closed) = (bot.others[3], bot.others[4], bot.others[5]);
    for &u in everyone {
        assert_eq!(
            bot.subscribe(u, None).await,
            fill("en", "crisis.subscribed_all", &[])
        );
    }
    bot.subscribe(payments_only, Some("payments")).await;
    bot.subscribe(shipping_only, Some("shipping")).await;
    bot.subscribe(closed, None).await;
    // Each subscription is confirmed by a direct message that carries Unsubscribe.
    for &u in everyone.iter().chain([&payments_only, &closed]) {
        let sent = bot.all_dms(u);
        assert_eq!(sent.len(), 1, "one confirmation for {u}");
        assert!(is_confirmation(&sent[0]), "{}", content(&sent[0]));
        assert_eq!(custom_ids(&sent[0]).len(), 1);
        assert!(custom_ids(&sent[0])[0].starts_with(&format!("c:unsub:{}:", bot.guild)));
    }
    bot.fake.set_dms_closed(closed, true);

    // A member whose DMs are closed is told at once how to open them, in their language, and
    // is not counted on: Discord opens the DM channel and refuses only the message.
    let shut = bot.fake.add_member(bot.guild, "shut", &[]);
    bot.fake.set_dms_closed(shut, true);
    let told = bot
        .final_text(&bot.command_in(bot.general, shut, "subscribe", json!([])))
        .await;
    assert_eq!(
        told,
        format!(
            "{} {}",
            fill("en", "crisis.dms_closed", &[]),
            fill(
                "en",
                "crisis.dms_closed_news",
                &[("channel", &format!("<#{}>", bot.announcements))]
            )
        )
    );
    let stored = bot.store.subscriptions_of(bot.guild, shut).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(
        stored[0].dm_refused_at_ms.is_some(),
        "recorded as unreachable"
    );
    let persian = bot.fake.add_member(bot.guild, "shirin", &[]);
    bot.fake.set_dms_closed(persian, true);
    let asked = bot.fake.push_slash_command(
        bot.guild,
        bot.general,
        persian,
        "subscribe",
        json!([{"name": "topic", "type": 3, "value": "پرداخت"}]),
        "en-US",
    );
    let told = bot.final_text(&asked).await;
    assert!(
        told.starts_with(&fill("fa", "crisis.dms_closed", &[])),
        "{told}"
    );

    // Only moderators run crises: Discord offers /crisis to members with Manage Server...
    let start = json!([{"name": "start", "type": 1, "options": [
        {"name": "topic", "type": 3, "value": "payments"},
        {"name": "title", "type": 3, "value": "x"},
        {"name": "status", "type": 3, "value": "y"}]}]);
    let hidden = bot.fake.try_push_slash_command(
        bot.guild,
        bot.general,
        bot.customer,
        "crisis",
        start.clone(),
        "en-US",
    );
    assert!(hidden.is_err(), "a customer is not offered /crisis");
    // ... and when an admin lets everyone see it, Beacon still refuses a customer.
    bot.allow_everyone("crisis");
    let refused = bot
        .crisis(
            bot.customer,
            "start",
            json!([
            {"name": "topic", "type": 3, "value": "payments"},
            {"name": "title", "type": 3, "value": "x"},
            {"name": "status", "type": 3, "value": "y"}]),
        )
        .await;
    assert_eq!(refused, fill("en", "permission.moderator", &[]));

    let title = "Card payments failing";
    let started = bot
        .crisis(
            bot.moderator,
            "start",
            json!([
            {"name": "topic", "type": 3, "value": "payments"},
            {"name": "title", "type": 3, "value": title},
            {"name": "status", "type": 3, "value": "We are on it. Next update at 15:00."}]),
        )
        .await;
    assert!(
        started.starts_with("Crisis started (`payments`)"),
        "{started}"
    );
    assert!(started.contains("5 subscriber(s)"), "{started}");

    // The status message: posted once, pinned.
    let status = bot.fake.bot_messages(bot.status);
    assert_eq!(status.len(), 1);
    assert!(content(&status[0]).starts_with(&format!("🔴 **{title}**")));
    let status_id = id_of(&status[0]);
    assert!(bot.fake.message(status_id).unwrap()["pinned"] == json!(true));
    let link = format!(
        "https://discord.com/channels/{}/{}/{status_id}",
        bot.guild, bot.status
    );

    // The announcement: crossposted, pinging the opt-in role, with a subscribe button.
    let announced = &bot.fake.bot_messages(bot.announcements)[0];
    assert!(content(announced).starts_with(&format!("<@&{}>", bot.announce_role)));
    assert!(content(announced).contains(&link));
    assert_eq!(custom_ids(announced), ["c:sub:payments"]);
    assert_eq!(
        bot.fake
            .requests_matching("POST", "/channels/*/messages/*/crosspost")
            .len(),
        1
    );

    // Direct messages: every subscriber of payments or of everything, once; not shipping's.
    let report = bot.delivered(title).await;
    assert!(
        report.contains("4 delivered, 1 refused") && report.contains("0 failed, of 5"),
        "{report}"
    );
    for &u in everyone.iter().chain([&payments_only]) {
        let dms = bot.dms(u);
        assert_eq!(dms.len(), 1, "one DM for {u}");
        assert!(content(&dms[0]).contains(title) && content(&dms[0]).contains(&link));
        assert_eq!(
            custom_ids(&dms[0]),
            [format!("c:unsub:{}:payments", bot.guild)]
        );
    }
    assert!(bot.dms(shipping_only).is_empty());

    // While it runs: crisis-only answers switch on, and answers point to the status.
    let reply = bot.ask(bot.help, bot.customer, "is the service down").await;
    let line = fill("en", "crisis.status_line", &[("link", &link)]);
    assert!(content(&reply).ends_with(&line), "{}", content(&reply));
    assert!(!content(&reply).starts_with(&fill("en", "abstain.text", &[])));

    // A ticket that mentions the topic is tagged and raised, and its header links the status.
    let (thread, _) = bot
        .open_ticket(bot.others[5], "my payments keep failing")
        .await;
    let ticket = bot.desk_ticket(1).await;
    assert_eq!(ticket.tags, ["crisis-payments"]);
    assert_eq!(ticket.priority, Priority::High);
    assert!(content(&bot.fake.bot_messages(thread)[0]).contains(&line));

    // An update: the status message edited in place, everyone told again.
    let update = "Refunds for failed payments are automatic.";
    bot.crisis(
        bot.moderator,
        "update",
        json!([{"name": "text", "type": 3, "value": update}]),
    )
    .await;
    let edited = bot
        .message_when(status_id, "the status edited", |m| {
            content(m).contains(update)
        })
        .await;
    assert!(content(&edited).contains("We are on it."), "history kept");
    bot.fake
        .wait_until("second DMs", WAIT, |_| {
            (bot.dms(payments_only).len() == 2).then_some(())
        })
        .await;
    // The member Discord refused is not tried again.
    let refused_before = bot
        .fake
        .requests_matching(
            "POST",
            &format!(
                "/channels/{}/messages",
                bot.fake.dm_channel_of(closed).unwrap()
            ),
        )
        .len();

    // A member unsubscribes from the DM button; the end reaches the others only.
    let dm = &bot.dms(everyone[0])[0];
    let press = bot
        .fake
        .press_button(id_of(dm), &custom_ids(dm)[0], everyone[0], "en-US");
    assert_eq!(
        bot.final_text(&press).await,
        fill("en", "crisis.unsubscribed", &[])
    );
    let left = bot
        .store
        .subscriptions_of(bot.guild, everyone[0])
        .await
        .unwrap();
    assert!(left.is_empty(), "{left:?}");

    let ended = bot
        .crisis(
            bot.moderator,
            "end",
            json!([{"name": "note", "type": 3, "value": "All payments work again."}]),
        )
        .await;
    assert!(ended.starts_with("Crisis ended"), "{ended}");
    let resolved = bot
        .message_when(status_id, "the status resolved", |m| {
            content(m).starts_with(&format!("✅ **Resolved: {title}**"))
        })
        .await;
    assert_eq!(resolved["pinned"], json!(false), "retired from the pins");
    bot.fake
        .wait_until("third DMs", WAIT, |_| {
            (bot.dms(payments_only).len() == 3).then_some(())
        })
        .await;
    let closed_dm = bot.fake.dm_channel_of(closed).unwrap();
    assert_eq!(
        bot.fake
            .requests_matching("POST", &format!("/channels/{closed_dm}/messages"))
            .len(),
        refused_before,
        "a member whose DMs were refused is not tried again"
    );
    assert_eq!(bot.dms(everyone[0]).len(), 2, "unsubscribed before the end");
    for &u in &everyone[1..] {
        assert_eq!(bot.dms(u).len(), 3);
    }
    assert!(
        bot.store
            .running_crises(bot.guild)
            .await
            .unwrap()
            .is_empty()
    );

    // After it: the crisis-only answer is gone, and no status line.
    let reply = bot
        .ask(bot.help, bot.customer, "is the service down right now")
        .await;
    assert!(!content(&reply).contains(&link));

    // The subscribe intent, in Persian, subscribes to everything.
    let reply = bot
        .ask(bot.help, bot.others[0], "میخوام عضو اطلاع‌رسانی‌ها بشم")
        .await;
    assert!(
        content(&reply).ends_with(&fill("fa", "crisis.subscribed_all", &[])),
        "{}",
        content(&reply)
    );
    bot.stop().await;
}

async fn deliveries_survive_429_and_500_mid_run(url: String) {
    let bot = Bot::with_crisis(&url).await;
    let members: Vec<u64> = (0..30)
        .map(|n| bot.fake.add_member(bot.guild, &format!("fan{n}"), &[]))
        .collect();
    for &m in &members {
        bot.subscribe(m, None).await;
    }
    // Discord has a bad moment in the middle of the fan-out: server errors and rate limits on
    // some members' direct messages.
    let dm = |n: usize| bot.fake.dm_channel_of(members[n]).unwrap();
    bot.fake
        .fail_next("POST", &format!("/channels/{}/messages", dm(3)), 500, 3);
    bot.fake
        .fail_next("POST", &format!("/channels/{}/messages", dm(7)), 429, 2);
    bot.fake
        .fail_next("POST", &format!("/channels/{}/messages", dm(11)), 502, 1);
    let title = "Shipping delayed";
    bot.crisis(
        bot.moderator,
        "start",
        json!([
        {"name": "topic", "type": 3, "value": "shipping"},
        {"name": "title", "type": 3, "value": title},
        {"name": "status", "type": 3, "value": "Parcels leave two days late."}]),
    )
    .await;
    let report = bot.delivered(title).await;
    assert!(report.contains("30 delivered, 0 refused"), "{report}");
    for &m in &members {
        assert_eq!(bot.dms(m).len(), 1, "exactly one DM for {m}");
    }
    // The failed attempts were made, and repeated with the same nonce.
    let attempts: Vec<_> = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", dm(3)))
        .into_iter()
        .filter(|r| {
            !r.body.as_ref().unwrap()["nonce"]
                .as_str()
                .unwrap_or("")
                .starts_with('u')
        })
        .collect();
    assert_eq!(attempts.len(), 4, "three failures, then the delivery");
    let nonces: std::collections::HashSet<String> = attempts
        .iter()
        .map(|r| r.body.as_ref().unwrap()["nonce"].to_string())
        .collect();
    assert_eq!(nonces.len(), 1);
    bot.stop().await;
}
