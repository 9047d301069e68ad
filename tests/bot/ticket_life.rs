//! Journeys J2 and J3 over time: the customer's place in the queue kept current, escalation past
//! the first-response target, inactivity, closing with the customer's confirmation, the
//! transcript, the rating, reopening, and a restart in the middle of it all.

use beacon::desk::now_ms;
use beacon::desk::tickets::{TicketLedger, TicketState, Update};
use beacon::desk::workflow::TicketsConfig;
use serde_json::{Value, json};

use crate::harness::{Bot, Options, WAIT, custom_ids, id_of};
use crate::on_both_backends;
use crate::ticket_work::{content, fill};

on_both_backends!(
    the_customer_confirms_closing_rates_the_ticket_and_can_reopen_it,
    queue_places_stay_current_as_tickets_are_claimed,
    an_overdue_ticket_escalates_once_even_across_a_restart,
    a_quiet_customer_is_warned_then_the_ticket_closes,
    with_dms_closed_the_survey_stays_in_an_unlocked_thread,
);

/// The bot's message in `channel` that has a component with this custom id.
async fn message_with_button(bot: &Bot, channel: u64, custom_id: &str) -> Value {
    bot.fake
        .wait_until(custom_id, WAIT, |f| {
            f.bot_messages(channel)
                .into_iter()
                .rev()
                .find(|m| custom_ids(m).iter().any(|c| c == custom_id))
        })
        .await
}

/// Each button and command of the closing as Discord delivers it: Resolve's two buttons in the
/// private thread, the transcript read from the thread and attached, the survey by direct
/// message with its stars, comment form and Reopen, `/close` and `/reopen`.
async fn the_customer_confirms_closing_rates_the_ticket_and_can_reopen_it(url: String) {
    let bot = Bot::with_tickets(&url).await;
    bot.setup(
        "channels",
        json!([{"name": "transcripts", "type": 7, "value": bot.transcripts.to_string()}]),
    )
    .await;
    let (thread, card) = bot
        .open_ticket(bot.customer, "the app crashes on start")
        .await;
    let ana = bot.agent_members[0];
    bot.press(&card, &custom_ids(&card)[0], ana).await;
    let id = bot.desk_ticket(1).await.id;
    // The conversation, as the transcript will show it.
    bot.fake
        .push_message(thread, bot.customer, "it still crashes");
    bot.fake
        .push_message(thread, ana, "please reinstall version 2.1");
    bot.ticket_when(1, "first response", |t| t.first_response_at_ms.is_some())
        .await;

    // The agent asks; another member cannot even see the private thread.
    bot.final_text(&bot.command_in(thread, ana, "resolve", json!([])))
        .await;
    let ask = message_with_button(&bot, thread, &format!("t:keep:{id}")).await;
    assert!(content(&ask).starts_with(&format!("<@{}>", bot.customer)));
    let (keep, close) = (format!("t:keep:{id}"), format!("t:close:{id}"));
    assert!(
        bot.fake
            .try_press_button(id_of(&ask), &close, bot.others[0], "en-US")
            .is_err()
    );
    let kept = bot.press(&ask, &keep, bot.customer).await;
    assert_eq!(kept, fill("en", "ticket.still_open", &[]));
    assert_eq!(bot.desk_ticket(1).await.state, TicketState::Claimed);

    // The customer confirms: closed with their words, the thread archived and locked.
    let closed = bot.press(&ask, &close, bot.customer).await;
    assert_eq!(closed, fill("en", "ticket.you_closed", &[("number", &1)]));
    let t = bot.ticket_when(1, "wrapped up", |t| t.wrapped_up).await;
    assert_eq!(
        (t.state, t.close_reason),
        (
            TicketState::Closed,
            Some(fill("en", "ticket.solved_reason", &[]))
        )
    );
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(true));
    assert_eq!(channel["thread_metadata"]["locked"], json!(true));

    // The transcript: both files, with the conversation read back from the thread.
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", bot.transcripts));
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].files, ["ticket-1.md", "ticket-1.html"]);
    for file in &posted[0].file_contents {
        let text = String::from_utf8(file.clone()).unwrap();
        assert!(text.contains("please reinstall version 2.1") && text.contains("it still crashes"));
    }

    // The survey, by direct message, names the agent as Discord knows them; nobody else can
    // press it.
    let dm = bot.fake.dm_channel_of(bot.customer).unwrap();
    let survey = message_with_button(&bot, dm, &format!("t:rate:{id}:4")).await;
    assert!(
        content(&survey).contains("agent-ana"),
        "{}",
        content(&survey)
    );
    assert_eq!(custom_ids(&survey).last(), Some(&format!("t:reopen:{id}")));
    let four = format!("t:rate:{id}:4");
    assert!(
        bot.fake
            .try_press_button(id_of(&survey), &four, bot.others[0], "en-US")
            .is_err()
    );

    // Stars open the comment form; the comment comes back through it.
    let stars = bot
        .fake
        .press_button(id_of(&survey), &four, bot.customer, "en-US");
    assert_eq!(bot.first_response(&stars).await["body"]["type"], json!(9));
    let comment = bot.fake.submit_modal(
        &format!("t:comment:{id}:4"),
        &[("comment", "quick and kind")],
        bot.customer,
        "en-US",
    );
    assert_eq!(
        bot.final_text(&comment).await,
        fill("en", "ticket.rated", &[("number", &1), ("stars", &4)])
    );
    let t = bot.desk_ticket(1).await;
    assert_eq!(
        (t.rating, t.rating_comment.as_deref()),
        (Some(4), Some("quick and kind"))
    );

    // Reopened from the direct message: a link that works from a DM, the thread open again.
    let reopened = bot
        .press(&survey, &format!("t:reopen:{id}"), bot.customer)
        .await;
    let link = format!("https://discord.com/channels/{}/{thread}", bot.guild);
    assert_eq!(
        reopened,
        fill(
            "en",
            "ticket.you_reopened",
            &[("number", &1), ("thread", &link)]
        )
    );
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(false));
    assert_eq!(channel["thread_metadata"]["locked"], json!(false));

    // Closed again with /close, which has nothing to close outside a ticket's thread; the
    // reason goes on the card, which loses its buttons.
    let reason = json!([{"name": "reason", "type": 3, "value": "sorted"}]);
    let close = |channel| bot.command_in(channel, ana, "close", reason.clone());
    let elsewhere = bot.final_text(&close(bot.general)).await;
    assert_eq!(elsewhere, fill("en", "ticket.not_a_ticket", &[]));
    let closed = bot.final_text(&close(thread)).await;
    assert_eq!(closed, fill("en", "ticket.you_closed", &[("number", &1)]));
    let t = bot
        .ticket_when(1, "closed again", |t| t.wrapped_up && t.closings == 2)
        .await;
    assert_eq!(t.close_reason.as_deref(), Some("sorted"));
    bot.message_when(id_of(&card), "the reason on the card", |m| {
        content(m).contains("sorted") && custom_ids(m).is_empty()
    })
    .await;

    // Reopened with /reopen from anywhere in the server.
    let again = bot.command_in(bot.general, bot.customer, "reopen", json!([]));
    assert_eq!(
        bot.final_text(&again).await,
        fill(
            "en",
            "ticket.you_reopened",
            &[("number", &1), ("thread", &format!("<#{thread}>"))]
        )
    );
    assert_eq!(bot.desk_ticket(1).await.state, TicketState::Waiting);
    bot.stop().await;
}

/// When the customer's DMs are closed, the survey stays in the thread, which is archived but
/// not locked: the customer's press reopens it (Discord's client does that first) and reaches
/// Beacon; after the rating it is archived again.
async fn with_dms_closed_the_survey_stays_in_an_unlocked_thread(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let (thread, card) = bot.open_ticket(bot.customer, "refund please").await;
    let ana = bot.agent_members[0];
    bot.press(&card, &custom_ids(&card)[0], ana).await;
    let id = bot.desk_ticket(1).await.id;
    bot.fake.set_dms_closed(bot.customer, true);
    let close = json!([{"name": "reason", "type": 3, "value": "refunded"}]);
    bot.final_text(&bot.command_in(thread, ana, "close", close))
        .await;
    bot.ticket_when(1, "wrapped up", |t| t.wrapped_up).await;
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(true));
    assert_eq!(channel["thread_metadata"]["locked"], json!(false));
    let notice = message_with_button(&bot, thread, &format!("t:rate:{id}:5")).await;
    assert!(content(&notice).ends_with(&fill("en", "ticket.rate_ask", &[])));
    assert!(custom_ids(&notice).contains(&format!("t:reopen:{id}")));

    // A press reopens the archived thread (Discord's client does that first); the agent's is
    // refused, the customer's rates, and Beacon archives the thread again.
    let other = bot.press(&notice, &format!("t:rate:{id}:1"), ana).await;
    assert_eq!(other, fill("en", "ticket.not_customer", &[]));
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(
        channel["thread_metadata"]["archived"],
        json!(false),
        "the press reopened it"
    );
    bot.fake.archive_thread(thread);
    let stars = bot.fake.press_button(
        id_of(&notice),
        &format!("t:rate:{id}:5"),
        bot.customer,
        "en-US",
    );
    bot.first_response(&stars).await;
    let comment = bot
        .fake
        .submit_modal(&format!("t:comment:{id}:5"), &[], bot.customer, "en-US");
    assert_eq!(
        bot.final_text(&comment).await,
        fill("en", "ticket.rated", &[("number", &1), ("stars", &5)])
    );
    bot.fake
        .wait_until("archived again", WAIT, |f| {
            (f.channel(thread).unwrap()["thread_metadata"]["archived"] == json!(true)).then_some(())
        })
        .await;
    bot.stop().await;
}

async fn queue_places_stay_current_as_tickets_are_claimed(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let (_, first_card) = bot.open_ticket(bot.customer, "first").await;
    let (thread, _) = bot.open_ticket(bot.others[0], "second").await;
    let place = |position: i64| {
        let place = fill("en", "ticket.position", &[("position", &position)]);
        format!("#2 · {place}")
    };
    let second = bot
        .fake
        .wait_until("the second place", WAIT, |f| {
            f.bot_messages(thread)
                .into_iter()
                .find(|m| content(m) == place(2))
        })
        .await;

    // The first is claimed: the second customer moves up, in the same message.
    bot.press(
        &first_card,
        &custom_ids(&first_card)[0],
        bot.agent_members[0],
    )
    .await;
    bot.message_when(id_of(&second), "moved up", |m| content(m) == place(1))
        .await;
    let places = bot.fake.bot_messages(thread);
    let places = places.iter().filter(|m| content(m).starts_with("#2 · "));
    assert_eq!(places.count(), 1, "edited, not posted again");
    bot.stop().await;
}

async fn an_overdue_ticket_escalates_once_even_across_a_restart(url: String) {
    let mut bot = Bot::with_tickets(&url).await;
    bot.setup(
        "roles",
        json!([{"name": "supervisor", "type": 8, "value": bot.supervisor_role.to_string()}]),
    )
    .await;
    let agents = bot.agents;
    let escalations = move |f: &crate::fake_discord::FakeDiscord| -> Vec<Value> {
        f.bot_messages(agents)
            .into_iter()
            .filter(|m| content(m).contains("past its first-response target"))
            .collect()
    };
    let (thread, card) = bot.open_ticket(bot.customer, "nobody answers me").await;
    let t = bot.desk_ticket(1).await;
    assert!(t.due_at_ms.unwrap() > now_ms(), "not overdue yet");
    // Time passes: the target is behind us.
    let past = Update::Due(Some(now_ms() - 1_000));
    bot.store.update(t.id, 0, now_ms(), &past).await.unwrap();
    let escalation = bot
        .fake
        .wait_until("the escalation", WAIT, |f| escalations(f).pop())
        .await;
    let pings = format!("<@&{}> <@&{}>", bot.agent_role, bot.supervisor_role);
    assert!(content(&escalation).starts_with(&pings), "{escalation}");
    assert_eq!(
        escalation["message_reference"]["message_id"],
        json!(id_of(&card).to_string())
    );
    bot.ticket_when(1, "escalation stored", |t| {
        t.escalation_id == Some(id_of(&escalation))
    })
    .await;

    // Stopped and started again: nothing is posted twice, and the timers still run.
    bot.restart().await;
    let (_, second_card) = bot.open_ticket(bot.others[0], "me too").await;
    let t2 = bot.desk_ticket(2).await;
    bot.store.update(t2.id, 0, now_ms(), &past).await.unwrap();
    let both = bot
        .fake
        .wait_until("the second escalation", WAIT, |f| {
            Some(escalations(f)).filter(|e| e.len() == 2)
        })
        .await;
    assert_eq!(
        both[1]["message_reference"]["message_id"],
        json!(id_of(&second_card).to_string())
    );
    let cards = bot
        .fake
        .bot_messages(bot.agents)
        .iter()
        .filter(|m| content(m).contains("**Ticket #"))
        .count();
    assert_eq!(cards, 2, "one card each");
    let headers = bot
        .fake
        .bot_messages(thread)
        .iter()
        .filter(|m| content(m).starts_with("**Ticket #1**"))
        .count();
    assert_eq!(headers, 1);
    assert_eq!(bot.fake.threads_in(bot.tickets).len(), 2);
    bot.stop().await;
}

async fn a_quiet_customer_is_warned_then_the_ticket_closes(url: String) {
    let options = Options {
        tickets: TicketsConfig {
            check_every_ms: 100,
            inactivity_warn_hours: 1,
            inactivity_close_hours: 1,
            ..TicketsConfig::default()
        },
        ..Options::default()
    };
    let bot = Bot::with_tickets_with(&url, options).await;
    let (thread, card) = bot.open_ticket(bot.customer, "my invoice is wrong").await;
    let ana = bot.agent_members[0];
    bot.press(&card, &custom_ids(&card)[0], ana).await;
    let id = bot.desk_ticket(1).await.id;
    let hours_ago = |h: i64| now_ms() - h * 3_600_000;

    // The agent answered two hours ago and the customer has said nothing since: warned.
    bot.fake
        .push_message(thread, ana, "could you send the invoice number?");
    bot.ticket_when(1, "staff seen", |t| t.staff_seen_at_ms.is_some())
        .await;
    bot.store
        .update(id, ana, hours_ago(2), &Update::StaffSeen)
        .await
        .unwrap();
    let warning = fill(
        "en",
        "ticket.warn_inactive",
        &[("customer", &format!("<@{}>", bot.customer)), ("at", &"")],
    );
    let warning_start = warning.split("<t:").next().unwrap().to_string();
    let warned = bot
        .fake
        .wait_until("the warning", WAIT, |f| {
            f.bot_messages(thread)
                .into_iter()
                .find(|m| content(m).starts_with(&warning_start))
        })
        .await;
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{thread}/messages"));
    let request = posted
        .iter()
        .find(|r| r.body.as_ref().unwrap()["content"] == warned["content"])
        .unwrap();
    assert_eq!(
        request.body.as_ref().unwrap()["allowed_mentions"]["users"],
        json!([bot.customer.to_string()]),
        "only the customer is pinged"
    );
    bot.ticket_when(1, "warned", |t| t.warned_at_ms.is_some())
        .await;

    // The customer answers: the warning is lifted.
    bot.fake
        .push_message(thread, bot.customer, "it is 2024-118");
    bot.ticket_when(1, "warning lifted", |t| t.warned_at_ms.is_none())
        .await;

    // A warning two hours old that nobody answered (an answer clears it): closed.
    bot.store
        .update(id, 0, hours_ago(2), &Update::Warned)
        .await
        .unwrap();
    let t = bot
        .ticket_when(1, "closed for inactivity", |t| {
            t.state == TicketState::Closed && t.wrapped_up
        })
        .await;
    assert_eq!(
        t.close_reason.as_deref(),
        Some(fill("en", "ticket.inactive_reason", &[]).as_str())
    );
    assert_eq!(
        bot.fake.channel(thread).unwrap()["thread_metadata"]["archived"],
        json!(true)
    );
    bot.stop().await;
}
