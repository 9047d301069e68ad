//! Tickets, first steps of J2 and J3: "Talk to a person" (or the handoff intent) opens a private
//! thread with the customer, a header card and a card in the agents' channel; Claim gives the
//! ticket to exactly one agent, and nobody else.

use beacon::desk::tickets::{NewTicket, Priority, TicketLedger, TicketState};
use beacon::locale::Locales;
use serde_json::{Value, json};

use crate::harness::{Bot, WAIT, custom_ids, id_of};
use crate::on_both_backends;

on_both_backends!(
    talk_to_a_person_opens_a_private_ticket_that_one_agent_claims,
    the_handoff_intent_opens_a_ticket_in_the_customers_language,
    a_half_opened_ticket_is_finished_when_the_bot_starts_again,
    ticket_command_then_an_agent_closes_and_the_thread_is_archived,
    outside_opening_hours_the_customer_hears_when_people_are_back_and_nobody_is_pinged,
);

fn fill(lang: &str, key: &str, args: &[(&str, &(dyn std::fmt::Display + Sync))]) -> String {
    Locales::embedded().fill(lang, key, args)
}

/// What a customer is told when their ticket opens inside opening hours.
fn opened_reply(lang: &str, number: i64, thread: u64, position: i64) -> String {
    let opened = fill(
        lang,
        "ticket.opened",
        &[("number", &number), ("thread", &format!("<#{thread}>"))],
    );
    let place = fill(lang, "ticket.position", &[("position", &position)]);
    format!("{opened}\n{place}")
}

fn content(m: &Value) -> String {
    m["content"].as_str().unwrap_or_default().to_string()
}

async fn talk_to_a_person_opens_a_private_ticket_that_one_agent_claims(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let question = "how can I get my money back for this order";
    let answer = bot.ask(bot.help, bot.customer, question).await;
    let human = &custom_ids(&answer)[1];
    let press = bot
        .fake
        .press_button(id_of(&answer), human, bot.customer, "en-US");
    let told = bot.final_text(&press).await;

    // A private thread with the customer in it, and a header card.
    let threads = bot.fake.threads_in(bot.tickets);
    assert_eq!(threads.len(), 1);
    let thread: u64 = threads[0]["id"].as_str().unwrap().parse().unwrap();
    assert_eq!(threads[0]["type"], json!(12), "private thread");
    let members = bot.fake.channel(thread).unwrap()["member_ids"].clone();
    assert!(
        members
            .as_array()
            .unwrap()
            .contains(&json!(bot.customer.to_string()))
    );
    assert_eq!(told, opened_reply("en", 1, thread, 1));
    let header = &bot.fake.bot_messages(thread)[0];
    assert!(content(header).contains("#1") && content(header).contains(question));
    // The agent sees what the FAQ had offered, by its title.
    let offered = fill("en", "ticket.offered", &[("title", &"")]);
    assert!(content(header).contains(&offered), "{}", content(header));

    // The card in the agents' channel pings the agent role (no hours set up: always staffed),
    // and the stored ticket.
    let card = &bot.fake.bot_messages(bot.agents)[0];
    assert!(content(card).starts_with(&format!("<@&{}>", bot.agent_role)));
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", bot.agents));
    assert_eq!(
        posted[0].body.as_ref().unwrap()["allowed_mentions"]["roles"],
        json!([bot.agent_role.to_string()])
    );
    // And Discord really pings it: the role is not mentionable, so only Mention Everyone, which
    // the README's invite link grants, lets the ping through.
    assert_eq!(card["mention_roles"], json!([bot.agent_role.to_string()]));
    let claim = &custom_ids(card)[0];
    let stored = bot.desk_ticket(1).await;
    assert_eq!(stored.state, TicketState::Waiting);
    assert_eq!(stored.thread_id, Some(thread));
    assert_eq!(stored.queue_card_id, Some(id_of(card)));

    // A customer cannot claim.
    let nope = bot
        .fake
        .press_button(id_of(card), claim, bot.customer, "en-US");
    assert_eq!(
        bot.final_text(&nope).await,
        fill("en", "ticket.agent_only", &[])
    );

    // Two agents at once: exactly one gets it.
    let [ana, bo] = bot.agent_members;
    let a = bot.fake.press_button(id_of(card), claim, ana, "en-US");
    let b = bot.fake.press_button(id_of(card), claim, bo, "en-US");
    let (ta, tb) = (bot.final_text(&a).await, bot.final_text(&b).await);
    let yours = fill(
        "en",
        "ticket.you_claimed",
        &[("number", &1), ("thread", &format!("<#{thread}>"))],
    );
    let (winner, winner_text, loser_text) = if ta == yours {
        (ana, ta, tb)
    } else {
        (bo, tb, ta)
    };
    assert_eq!(winner_text, yours);
    assert_eq!(
        loser_text,
        fill("en", "ticket.claimed_already", &[("number", &1)])
    );
    let stored = bot.desk_ticket(1).await;
    assert_eq!(
        (stored.state, stored.agent_id),
        (TicketState::Claimed, Some(winner))
    );

    // The card says who, and has no Claim any more; the agent is in the thread.
    let card = bot
        .fake
        .wait_until("the card edit", WAIT, |f| {
            f.message(id_of(card)).filter(|m| custom_ids(m).is_empty())
        })
        .await;
    assert!(content(&card).contains(&format!("<@{winner}>")));
    let members = bot.fake.channel(thread).unwrap()["member_ids"].clone();
    assert!(
        members
            .as_array()
            .unwrap()
            .contains(&json!(winner.to_string()))
    );

    // Asking again points to the open ticket instead of opening another.
    let again = bot
        .fake
        .press_button(id_of(&answer), human, bot.customer, "en-US");
    assert_eq!(
        bot.final_text(&again).await,
        fill(
            "en",
            "ticket.existing",
            &[("number", &1), ("thread", &format!("<#{thread}>"))]
        )
    );
    assert_eq!(bot.fake.threads_in(bot.tickets).len(), 1);
    bot.stop().await;
}

async fn the_handoff_intent_opens_a_ticket_in_the_customers_language(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let reply = bot
        .ask(bot.help, bot.customer, "میخوام با یه آدم حرف بزنم")
        .await;
    let thread: u64 = bot.fake.threads_in(bot.tickets)[0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    let opened = fill(
        "fa",
        "ticket.opened",
        &[("number", &1), ("thread", &format!("<#{thread}>"))],
    );
    assert!(content(&reply).contains(&opened), "{}", content(&reply));
    let first = fill("fa", "ticket.position", &[("position", &1)]);
    assert!(content(&reply).ends_with(&first), "{}", content(&reply));
    let ticket = bot.desk_ticket(1).await;
    assert_eq!(ticket.customer_id, bot.customer);
    assert!(ticket.question_id.is_some(), "the FAQ exchange is linked");
    // Asking for a person is not an answer the FAQ offered.
    let offered = fill("fa", "ticket.offered", &[("title", &"")]);
    assert!(!ticket.subject.contains(&offered), "{}", ticket.subject);
    assert!(ticket.subject.contains("میخوام با یه آدم حرف بزنم"));
    bot.stop().await;
}

async fn a_half_opened_ticket_is_finished_when_the_bot_starts_again(url: String) {
    let mut bot = Bot::with_tickets(&url).await;
    bot.pause().await;
    // As if the process had died right after storing two tickets: one with nothing else yet,
    // one whose thread Discord had made before the process could remember it.
    let new = |customer, n: &str| NewTicket {
        guild_id: bot.guild,
        customer_id: customer,
        category: "general".into(),
        priority: Priority::Normal,
        question_id: None,
        subject: format!("question {n}"),
        tags: vec![],
        lang: "en".into(),
        opened_at_ms: 1,
        due_at_ms: None,
    };
    let bare = bot
        .store
        .open_ticket(&new(bot.customer, "one"))
        .await
        .unwrap();
    let threaded = bot
        .store
        .open_ticket(&new(bot.others[0], "two"))
        .await
        .unwrap();
    let made = bot.fake.add_thread(
        bot.tickets,
        bot.fake.bot_user_id(),
        &format!("ticket-{}", threaded.number),
    );

    bot.resume().await;
    let cards = bot
        .fake
        .wait_until("both cards", WAIT, |f| {
            let cards = f.bot_messages(bot.agents);
            (cards.len() == 2).then_some(cards)
        })
        .await;
    assert!(content(&cards[0]).contains("#1") && content(&cards[1]).contains("#2"));
    let threads = bot.fake.threads_in(bot.tickets);
    assert_eq!(
        threads.len(),
        2,
        "one new thread; the one made before is used"
    );
    for (stored, card) in [(&bare, &cards[0]), (&threaded, &cards[1])] {
        let t = bot
            .ticket_when(stored.number, "the card stored", |t| {
                t.queue_card_id.is_some()
            })
            .await;
        assert_eq!(t.state, TicketState::Waiting);
        assert_eq!(t.queue_card_id, Some(id_of(card)));
        let header = &bot.fake.bot_messages(t.thread_id.unwrap())[0];
        assert!(content(header).contains(&t.subject), "{}", content(header));
    }
    assert_eq!(bot.desk_ticket(2).await.thread_id, Some(made));
    bot.stop().await;
}

async fn ticket_command_then_an_agent_closes_and_the_thread_is_archived(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let about = "the parcel arrived broken";
    let open = |user| {
        bot.fake.push_slash_command(
            bot.guild,
            bot.general,
            user,
            "ticket",
            json!([{"name": "about", "type": 3, "value": about}]),
            "en-US",
        )
    };
    let told = bot.final_text(&open(bot.customer)).await;
    let thread: u64 = bot.fake.threads_in(bot.tickets)[0]["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(told, opened_reply("en", 1, thread, 1));
    assert!(content(&bot.fake.bot_messages(thread)[0]).contains(about));
    // Another customer is second in the queue.
    let other = bot.final_text(&open(bot.others[0])).await;
    assert!(
        other.ends_with(&fill("en", "ticket.position", &[("position", &2)])),
        "{other}"
    );

    let close = |channel, user, reason: &str| {
        bot.fake.push_slash_command(
            bot.guild,
            channel,
            user,
            "close",
            json!([{"name": "reason", "type": 3, "value": reason}]),
            "en-US",
        )
    };
    let agent = bot.agent_members[0];
    // Not in a ticket's thread; not an agent.
    let elsewhere = bot.final_text(&close(bot.general, agent, "done")).await;
    assert_eq!(elsewhere, fill("en", "ticket.not_a_ticket", &[]));
    let bye = json!([{"name": "reason", "type": 3, "value": "bye"}]);
    let customer = bot
        .refused_by_beacon(thread, bot.customer, "close", bye)
        .await;
    assert_eq!(customer, fill("en", "ticket.agent_only", &[]));

    let closed = bot
        .final_text(&close(thread, agent, "replacement sent"))
        .await;
    assert_eq!(closed, fill("en", "ticket.you_closed", &[("number", &1)]));
    let ticket = bot.desk_ticket(1).await;
    assert_eq!(ticket.state, TicketState::Closed);
    assert_eq!(ticket.close_reason.as_deref(), Some("replacement sent"));
    let channel = bot.fake.channel(thread).unwrap();
    assert_eq!(channel["thread_metadata"]["archived"], json!(true));
    assert_eq!(channel["thread_metadata"]["locked"], json!(true));
    let card = &bot.fake.bot_messages(bot.agents)[0];
    assert!(content(card).contains("replacement sent") && custom_ids(card).is_empty());

    // A closed ticket stays closed; the customer who just opened one waits out the cooldown.
    let again = bot.final_text(&close(thread, agent, "twice")).await;
    assert_eq!(
        again,
        fill("en", "ticket.closed_already", &[("number", &1)])
    );
    let second = bot.final_text(&open(bot.customer)).await;
    assert_eq!(second, fill("en", "ticket.cooldown", &[("minutes", &10)]));
    assert_eq!(bot.fake.threads_in(bot.tickets).len(), 2);
    bot.stop().await;
}

async fn outside_opening_hours_the_customer_hears_when_people_are_back_and_nobody_is_pinged(
    url: String,
) {
    let bot = Bot::with_tickets(&url).await;
    // Open one hour on a day three days from now (UTC): closed now, whatever the day.
    let days = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
    let today = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .weekday()
        .to_monday_zero_offset() as usize;
    let hours = format!("{} 09:00-10:00", days[(today + 3) % 7]);
    bot.setup(
        "hours",
        json!([
            {"name": "hours", "type": 3, "value": hours},
            {"name": "time-zone", "type": 3, "value": "UTC"},
        ]),
    )
    .await;
    let open = bot.fake.push_slash_command(
        bot.guild,
        bot.general,
        bot.customer,
        "ticket",
        json!([]),
        "en-US",
    );
    let told = bot.final_text(&open).await;
    let away = fill("en", "ticket.out_of_hours", &[("at", &"")]);
    let away_start = away.split("<t:").next().unwrap();
    assert!(told.contains(away_start) && told.contains(":R>)"), "{told}");
    let card = &bot.fake.bot_messages(bot.agents)[0];
    assert!(!content(card).contains("<@&"), "no ping out of hours");
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", bot.agents));
    assert_eq!(
        posted[0].body.as_ref().unwrap()["allowed_mentions"]["roles"],
        json!([])
    );
    bot.stop().await;
}
