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
    bot.fake.push_message(
        thread,
        bot.customer,
        "it still crashes <script>alert(1)</script>",
    );
    bot.ticket_when(1, "customer seen", |t| t.customer_seen_at_ms.is_some())
        .await;
    bot.fake
        .push_message(thread, ana, "please reinstall version 2.1");
    bot.ticket_when(1, "first response", |t| t.first_response_at_ms.is_some())
        .await;

    // The agent asks; only the customer answers.
    let refused = bot
        .refused_by_beacon(thread, bot.customer, "resolve", json!([]))
        .await;
    assert_eq!(refused, fill("en", "ticket.agent_only", &[]));
    let resolve = bot.command_in(thread, ana, "resolve", json!([]));
    bot.final_text(&resolve).await;
    let ask = message_with_button(&bot, thread, &format!("t:keep:{id}")).await;
    assert!(content(&ask).starts_with(&format!("<@{}>", bot.customer)));
    // Another member cannot even see the private thread; an agent in it is refused.
    assert!(
        bot.fake
            .try_press_button(
                id_of(&ask),
                &format!("t:close:{id}"),
                bot.others[0],
                "en-US"
            )
            .is_err()
    );
    let not_theirs = bot
        .press(&ask, &format!("t:close:{id}"), bot.agent_members[1])
        .await;
    assert_eq!(not_theirs, fill("en", "ticket.not_customer", &[]));
    let keep = bot.press(&ask, &format!("t:keep:{id}"), bot.customer).await;
    assert_eq!(keep, fill("en", "ticket.still_open", &[]));
    assert_eq!(bot.desk_ticket(1).await.state, TicketState::Claimed);

    // Asked again, the customer confirms: closed, with their words as the reason.
    bot.final_text(&bot.command_in(thread, ana, "resolve", json!([])))
        .await;
    let closed = bot
        .press(&ask, &format!("t:close:{id}"), bot.customer)
        .await;
    assert_eq!(closed, fill("en", "ticket.you_closed", &[("number", &1)]));
    let t = bot.ticket_when(1, "wrapped up", |t| t.wrapped_up).await;
    assert_eq!(t.state, TicketState::Closed);
    assert_eq!(
        t.close_reason.as_deref(),
        Some(fill("en", "ticket.solved_reason", &[]).as_str())
    );
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(true));
    assert_eq!(channel["thread_metadata"]["locked"], json!(true));

    // The transcript: Markdown and HTML, with the conversation, the HTML escaped.
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", bot.transcripts));
    assert_eq!(posted.len(), 1);
    assert_eq!(posted[0].files, ["ticket-1.md", "ticket-1.html"]);
    let md = String::from_utf8(posted[0].file_contents[0].clone()).unwrap();
    let html = String::from_utf8(posted[0].file_contents[1].clone()).unwrap();
    for text in ["please reinstall version 2.1", "it still crashes"] {
        assert!(md.contains(text) && html.contains(text), "{text}");
    }
    assert!(!html.contains("<script>alert"), "escaped");
    assert!(html.contains("&lt;script&gt;"));
    let kept = bot.store.transcript(id, 1).await.unwrap();
    assert_eq!(
        kept,
        Some((md.clone(), html.clone())),
        "Beacon keeps what it posted"
    );

    // The thread is locked, so nothing there asks the customer to press anything: the close
    // notice points to the direct message.
    let survey_sent = fill("en", "ticket.survey_sent", &[]);
    let notice = bot
        .fake
        .bot_messages(thread)
        .into_iter()
        .find(|m| content(m).ends_with(&survey_sent))
        .expect("the close notice points to the direct message");
    assert!(
        custom_ids(&notice).is_empty(),
        "no buttons in a locked thread"
    );
    assert!(
        bot.fake
            .bot_messages(thread)
            .iter()
            .all(|m| custom_ids(m).iter().all(|c| !c.starts_with("t:rate")))
    );

    // The survey, by direct message: what the ticket was and who helped, stars and Reopen.
    let survey = message_with_button(
        &bot,
        bot.fake.dm_channel_of(bot.customer).unwrap(),
        &format!("t:rate:{id}:4"),
    )
    .await;
    let summary = fill(
        "en",
        "ticket.survey",
        &[
            ("number", &1),
            ("server", &"Acme Community"),
            ("reason", &fill("en", "ticket.solved_reason", &[])),
            ("subject", &"They asked: the app crashes on start"),
            ("agent", &"agent-ana"),
        ],
    );
    assert!(
        content(&survey).starts_with(&summary),
        "{}",
        content(&survey)
    );
    assert_eq!(
        custom_ids(&survey),
        (1..=5)
            .map(|s| format!("t:rate:{id}:{s}"))
            .chain([format!("t:reopen:{id}")])
            .collect::<Vec<_>>()
    );
    // Nobody else can press it: it is in the customer's direct messages.
    assert!(
        bot.fake
            .try_press_button(
                id_of(&survey),
                &format!("t:rate:{id}:1"),
                bot.others[0],
                "en-US"
            )
            .is_err()
    );

    // The rating: stars, with a comment form, from the direct message.
    let stars = bot.fake.press_button(
        id_of(&survey),
        &format!("t:rate:{id}:4"),
        bot.customer,
        "en-US",
    );
    let form = bot
        .fake
        .wait_until("the comment form", WAIT, |f| {
            f.interaction_responses(stars.id).first().cloned()
        })
        .await;
    assert_eq!(form["body"]["type"], json!(9));
    bot.ticket_when(1, "rated", |t| t.rating == Some(4)).await;
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

    // Reopened from the direct message: back in the queue, the thread open again, Claim back
    // on the card, and a link that works from a DM.
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
    let t = bot.desk_ticket(1).await;
    assert_eq!((t.state, t.agent_id), (TicketState::Waiting, None));
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(false));
    assert_eq!(channel["thread_metadata"]["locked"], json!(false));
    bot.message_when(id_of(&card), "Claim back", |m| !custom_ids(m).is_empty())
        .await;

    // Closed again by the agent, then reopened with /reopen from anywhere in the server.
    let close = json!([{"name": "reason", "type": 3, "value": "sorted"}]);
    bot.final_text(&bot.command_in(thread, ana, "close", close))
        .await;
    bot.ticket_when(1, "closed again", |t| t.wrapped_up && t.closings == 2)
        .await;
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
    // Someone else's ticket, by number, is not theirs to reopen.
    bot.final_text(&bot.command_in(
        thread,
        ana,
        "close",
        json!([{"name": "reason", "type": 3, "value": "x"}]),
    ))
    .await;
    bot.ticket_when(1, "closed a third time", |t| {
        t.wrapped_up && t.closings == 3
    })
    .await;
    let number = json!([{"name": "number", "type": 4, "value": 1}]);
    let theirs = bot.command_in(bot.general, bot.others[1], "reopen", number);
    assert_eq!(
        bot.final_text(&theirs).await,
        fill("en", "ticket.agent_only", &[])
    );
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

    // Only the customer rates.
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
    bot.fake
        .wait_until("the comment form", WAIT, |f| {
            f.interaction_responses(stars.id).first().cloned()
        })
        .await;
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
    let reopened = bot
        .press(&notice, &format!("t:reopen:{id}"), bot.customer)
        .await;
    assert!(
        reopened.starts_with("Ticket #1 is open again"),
        "{reopened}"
    );
    bot.stop().await;
}

async fn queue_places_stay_current_as_tickets_are_claimed(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let (first_thread, first_card) = bot.open_ticket(bot.customer, "first").await;
    let (second_thread, _) = bot.open_ticket(bot.others[0], "second").await;
    let place = |n: i64, position: i64| {
        format!(
            "#{n} · {}",
            fill("en", "ticket.position", &[("position", &position)])
        )
    };
    let status = |thread: u64, text: String| {
        let bot = &bot;
        async move {
            bot.fake
                .wait_until(&text.clone(), WAIT, move |f| {
                    f.bot_messages(thread)
                        .into_iter()
                        .find(|m| content(m) == text)
                })
                .await
        }
    };
    let second_place = status(second_thread, place(2, 2)).await;
    status(first_thread, place(1, 1)).await;

    // The first is claimed: the second customer moves up, in the same message.
    bot.press(
        &first_card,
        &custom_ids(&first_card)[0],
        bot.agent_members[0],
    )
    .await;
    bot.message_when(id_of(&second_place), "moved up", |m| {
        content(m) == place(2, 1)
    })
    .await;
    let t = bot
        .ticket_when(2, "shown place", |t| t.shown_position == Some(1))
        .await;
    assert_eq!(t.status_message_id, Some(id_of(&second_place)));
    // One queue message per thread, edited rather than posted again.
    let places: Vec<Value> = bot
        .fake
        .bot_messages(second_thread)
        .into_iter()
        .filter(|m| content(m).starts_with("#2 · "))
        .collect();
    assert_eq!(places.len(), 1);
    bot.stop().await;
}

async fn an_overdue_ticket_escalates_once_even_across_a_restart(url: String) {
    let mut bot = Bot::with_tickets(&url).await;
    bot.setup(
        "roles",
        json!([{"name": "supervisor", "type": 8, "value": bot.supervisor_role.to_string()}]),
    )
    .await;
    let (thread, card) = bot.open_ticket(bot.customer, "nobody answers me").await;
    let t = bot.desk_ticket(1).await;
    assert!(t.due_at_ms.unwrap() > now_ms(), "not overdue yet");
    // Time passes: the target is behind us.
    let past = Update::Due(Some(now_ms() - 1_000));
    bot.store.update(t.id, 0, now_ms(), &past).await.unwrap();
    let escalation = bot
        .fake
        .wait_until("the escalation", WAIT, |f| {
            f.bot_messages(bot.agents)
                .into_iter()
                .find(|m| content(m).contains("past its first-response target"))
        })
        .await;
    let text = content(&escalation);
    assert!(
        text.starts_with(&format!(
            "<@&{}> <@&{}>",
            bot.agent_role, bot.supervisor_role
        )),
        "{text}"
    );
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
    bot.fake
        .wait_until("the second escalation", WAIT, |f| {
            let n = f
                .bot_messages(bot.agents)
                .into_iter()
                .filter(|m| content(m).contains("past its first-response target"))
                .count();
            (n == 2).then_some(())
        })
        .await;
    bot.ticket_when(2, "escalated", |t| t.escalation_id.is_some())
        .await;
    let agents = bot.fake.bot_messages(bot.agents);
    let escalations: Vec<&Value> = agents
        .iter()
        .filter(|m| content(m).contains("past its first-response target"))
        .collect();
    assert_eq!(escalations.len(), 2, "one each");
    assert_eq!(
        escalations[1]["message_reference"]["message_id"],
        json!(id_of(&second_card).to_string())
    );
    let cards = agents
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
    let bot = Bot::start_with(&url, options).await;
    bot.setup(
        "channels",
        json!([
            {"name": "tickets", "type": 7, "value": bot.tickets.to_string()},
            {"name": "agents", "type": 7, "value": bot.agents.to_string()},
        ]),
    )
    .await;
    bot.setup(
        "roles",
        json!([{"name": "agent", "type": 8, "value": bot.agent_role.to_string()}]),
    )
    .await;
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

    // Later the agent answers and the customer goes quiet for good: warned, then closed.
    for (update, hours) in [(Update::CustomerSeen, 4), (Update::StaffSeen, 3)] {
        bot.store
            .update(id, 0, hours_ago(hours), &update)
            .await
            .unwrap();
    }
    bot.ticket_when(1, "warned again", |t| t.warned_at_ms.is_some())
        .await;
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
    let warnings = bot
        .fake
        .bot_messages(thread)
        .into_iter()
        .filter(|m| content(m).starts_with(&warning_start))
        .count();
    assert_eq!(warnings, 2);
    assert_eq!(
        bot.fake.channel(thread).unwrap()["thread_metadata"]["archived"],
        json!(true)
    );
    bot.stop().await;
}
