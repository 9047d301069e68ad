//! Tickets, first steps of J2 and J3 through the real client: "Talk to a person" opens a
//! private thread with the customer, a header and a card in the agents' channel that Discord
//! really pings the agent role with (or does not, out of hours); Claim answers on Discord; a
//! ticket half opened before a restart is finished. The journeys' cases and refusals are desk
//! tests (`desk::opening`, `desk::work`); `/ticket` and `/close` run in `ticket_work.rs` and
//! `ticket_life.rs`.

use beacon::desk::tickets::{NewTicket, Priority, TicketLedger, TicketState};
use serde_json::json;

use crate::harness::{Bot, WAIT, custom_ids, id_of};
use crate::on_both_backends;
use crate::ticket_work::{content, fill};

on_both_backends!(
    talk_to_a_person_opens_a_ticket_one_agent_claims_and_out_of_hours_nobody_is_pinged,
    a_half_opened_ticket_is_finished_when_the_bot_starts_again,
);

async fn talk_to_a_person_opens_a_ticket_one_agent_claims_and_out_of_hours_nobody_is_pinged(
    url: String,
) {
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
    assert!(bot.in_thread(thread, bot.customer));
    let opened = fill(
        "en",
        "ticket.opened",
        &[("number", &1), ("thread", &format!("<#{thread}>"))],
    );
    let place = fill("en", "ticket.position", &[("position", &1)]);
    assert_eq!(told, format!("{opened}\n{place}"));
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

    // A customer cannot claim: Beacon reads the roles Discord sends with the press.
    let nope = bot
        .fake
        .press_button(id_of(card), claim, bot.customer, "en-US");
    assert_eq!(
        bot.final_text(&nope).await,
        fill("en", "ticket.agent_only", &[])
    );
    let ana = bot.agent_members[0];
    let yours = fill(
        "en",
        "ticket.you_claimed",
        &[("number", &1), ("thread", &format!("<#{thread}>"))],
    );
    assert_eq!(bot.press(card, claim, ana).await, yours);
    let stored = bot.desk_ticket(1).await;
    assert_eq!(
        (stored.state, stored.agent_id),
        (TicketState::Claimed, Some(ana))
    );

    // The card says who, and has no Claim any more; the agent is in the thread.
    let card = bot
        .fake
        .wait_until("the card edit", WAIT, |f| {
            f.message(id_of(card)).filter(|m| custom_ids(m).is_empty())
        })
        .await;
    assert!(content(&card).contains(&format!("<@{ana}>")));
    assert!(bot.in_thread(thread, ana));

    // Out of hours (open one hour on a day three days from now, UTC: closed now, whatever the
    // day), the customer hears when people are back and the card pings nobody.
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
    let open = bot.command_in(bot.general, bot.others[0], "ticket", json!([]));
    let told = bot.final_text(&open).await;
    let away = fill("en", "ticket.out_of_hours", &[("at", &"")]);
    let away_start = away.split("<t:").next().unwrap();
    assert!(told.contains(away_start) && told.contains(":R>)"), "{told}");
    let card = bot.fake.bot_messages(bot.agents).pop().unwrap();
    assert!(content(&card).contains("#2") && !content(&card).contains("<@&"));
    let posted = bot
        .fake
        .requests_matching("POST", &format!("/channels/{}/messages", bot.agents));
    assert_eq!(
        posted.last().unwrap().body.as_ref().unwrap()["allowed_mentions"]["roles"],
        json!([])
    );
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
