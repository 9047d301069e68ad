//! Journey J1 end to end: questions in a help channel, a support forum and `/faq`, in English,
//! Persian, Arabic and Armenian, with every button, list and notice, through the real serenity
//! client and the fake Discord, on both database backends.

use std::sync::OnceLock;

use beacon::desk::{EventKind, Ledger};
use beacon::kb::intents::{KnowledgeBase, load_dir};
use beacon::locale::Locales;
use serde_json::{Value, json};

use crate::harness::{Bot, custom_ids, id_of, labels};
use crate::on_both_backends;

on_both_backends!(
    help_channel_answers_in_four_languages,
    forum_posts_are_answered_and_other_messages_ignored,
    solved_and_talk_to_a_person_are_recorded_and_staff_named,
    a_close_call_offers_a_list_and_a_pick_answers_in_place,
    none_of_these_and_no_match_lead_to_a_person,
    faq_command_with_autocomplete,
    setup_records_settings_and_refuses_customers,
    floods_get_one_notice,
);

fn kb() -> &'static KnowledgeBase {
    static KB: OnceLock<KnowledgeBase> = OnceLock::new();
    KB.get_or_init(|| {
        load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("intents"))
            .expect("the starter knowledge base")
    })
}

/// The starter knowledge base's answer to intent `id` in `lang`.
fn answer(id: &str, lang: &str) -> String {
    let intent = kb().get(id).unwrap_or_else(|| panic!("no intent {id}"));
    let (got, text) = intent.answer_in(Some(lang));
    assert_eq!(got, lang, "{id} has an answer in {lang}");
    text.to_string()
}

fn words(lang: &str, key: &str) -> String {
    Locales::embedded().get(lang, key).to_string()
}

fn content(m: &Value) -> &str {
    m["content"].as_str().unwrap_or_default()
}

/// Questions that are not examples in the starter knowledge base, with the intent that answers
/// them and their language.
const QUESTIONS: [(&str, &str, &str); 4] = [
    (
        "how can I get my money back for this order",
        "refund-request",
        "en",
    ),
    ("چطور ایمیلم رو عوض کنم", "account-change-email", "fa"),
    ("كيف أسترجع أموالي؟", "refund-request", "ar"),
    ("Ինչպես փոխել իմ էլ․ փոստը", "account-change-email", "hy"),
];

async fn help_channel_answers_in_four_languages(url: String) {
    let bot = Bot::configured(&url).await;
    // The first question pings everyone it can: it is answered all the same, and the answer
    // pings nobody (`Bot::stop` checks the allowed mentions of every message).
    let pings = format!(
        "@everyone @here <@&{}> <@{}> ",
        bot.moderator_role, bot.moderator
    );
    for (n, (question, intent, lang)) in QUESTIONS.iter().enumerate() {
        let user = bot.others[n];
        let text = match n {
            0 => format!("{pings}{question}"),
            _ => question.to_string(),
        };
        let message = bot.fake.push_message(bot.help, user, &text);
        let reply = bot.reply_to(bot.help, message).await;
        assert_eq!(content(&reply), answer(intent, lang), "{text}");
        assert_eq!(
            labels(&reply),
            [words(lang, "answer.solved"), words(lang, "answer.human")],
            "{lang} buttons"
        );
        let (_, q, reply_id) = crate::harness::wait_replied(&bot, message).await;
        assert_eq!(q.text, text);
        assert_eq!(
            (q.outcome.as_str(), q.intent.as_deref(), q.lang.as_str()),
            ("answer", Some(*intent), *lang)
        );
        assert_eq!(q.user_id, user);
        assert_eq!(reply_id, id_of(&reply), "the reply is remembered");
    }
    bot.stop().await;
}

async fn forum_posts_are_answered_and_other_messages_ignored(url: String) {
    let bot = Bot::configured(&url).await;
    let thread = bot
        .fake
        .push_forum_post(bot.forum, bot.customer, "Refund", "كيف أسترجع أموالي؟");
    let reply = bot.reply_to(thread, thread).await;
    assert_eq!(content(&reply), answer("refund-request", "ar"));
    let stored = bot.store.questions(bot.guild).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].1.source, beacon::desk::Source::Forum);
    // A later message in the thread is the customer talking, not a new question; nor is a
    // message outside the help channels, nor an empty one.
    let later = bot
        .fake
        .push_message(thread, bot.customer, "thanks, and the shipping?");
    let elsewhere = bot
        .fake
        .push_message(bot.general, bot.customer, "money back?");
    bot.fake.push_message(bot.help, bot.customer, "   ");
    // A question after them is answered, so the ones before were seen and passed over.
    bot.ask(bot.help, bot.others[0], "money back?").await;
    assert!(crate::harness::reply_in(&bot.fake, thread, later).is_none());
    assert!(crate::harness::reply_in(&bot.fake, bot.general, elsewhere).is_none());
    assert_eq!(bot.fake.bot_messages(bot.help).len(), 1);
    assert_eq!(bot.store.questions(bot.guild).await.unwrap().len(), 2);
    bot.stop().await;
}

async fn solved_and_talk_to_a_person_are_recorded_and_staff_named(url: String) {
    let bot = Bot::configured(&url).await;
    let reply = bot.ask(bot.help, bot.customer, QUESTIONS[1].0).await;
    let ids = custom_ids(&reply);
    let question_id = bot.store.questions(bot.guild).await.unwrap()[0].0;

    let solved = bot
        .fake
        .press_button(id_of(&reply), &ids[0], bot.customer, "en-US");
    let thanks = bot.final_reply(&solved).await;
    assert_eq!(
        thanks["message"]["content"],
        json!(words("fa", "solved.thanks"))
    );
    assert!(crate::harness::acked_privately(&bot.fake, &solved));

    let human = bot
        .fake
        .press_button(id_of(&reply), &ids[1], bot.customer, "en-US");
    let notice = bot.final_text(&human).await;
    let role = format!("<@&{}>", bot.agent_role);
    let staff = Locales::embedded().fill("fa", "human.staff_role", &[("role", &role)]);
    assert_eq!(notice, staff);
    let events = bot.store.events(question_id).await.unwrap();
    let kinds: Vec<EventKind> = events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds, [EventKind::Solved, EventKind::Human]);
    assert!(events.iter().all(|e| e.user_id == bot.customer));

    // Without a tickets channel, the handoff intent says the same under its answer.
    let reply = bot
        .ask(bot.help, bot.others[0], "میخوام با یه آدم حرف بزنم")
        .await;
    let expected = format!("{}\n\n{staff}", answer("talk-to-a-person", "fa"));
    assert_eq!(content(&reply), expected);
    bot.stop().await;
}

async fn a_close_call_offers_a_list_and_a_pick_answers_in_place(url: String) {
    let bot = Bot::configured(&url).await;
    let reply = bot.ask(bot.help, bot.customer, "money").await;
    assert_eq!(content(&reply), words("en", "suggest.intro"));
    let options = labels(&reply);
    assert_eq!(options.last(), Some(&words("en", "suggest.none")));
    let refund_title = &kb().get("refund-request").unwrap().title;
    assert!(options.contains(refund_title), "{options:?}");
    let select = &custom_ids(&reply)[0];

    // Someone else picking gets the answer privately; the list stays for the asker.
    let bystander = bot.fake.choose_select(
        id_of(&reply),
        select,
        &["refund-request"],
        bot.others[0],
        "en-US",
    );
    let private = bot.final_reply(&bystander).await;
    assert_eq!(
        private["message"]["content"],
        json!(answer("refund-request", "en"))
    );
    assert!(crate::harness::acked_privately(&bot.fake, &bystander));

    let pick = bot.fake.choose_select(
        id_of(&reply),
        select,
        &["refund-request"],
        bot.customer,
        "en-US",
    );
    bot.final_reply(&pick).await;
    let updated = bot.fake.message(id_of(&reply)).unwrap();
    assert_eq!(content(&updated), answer("refund-request", "en"));
    assert_eq!(
        labels(&updated),
        [words("en", "answer.solved"), words("en", "answer.human")]
    );
    let question_id = bot.store.questions(bot.guild).await.unwrap()[0].0;
    let events = bot.store.events(question_id).await.unwrap();
    assert_eq!(events.len(), 2);
    assert!(
        events
            .iter()
            .all(|e| e.kind == EventKind::Picked && e.intent.as_deref() == Some("refund-request"))
    );
    bot.stop().await;
}

async fn none_of_these_and_no_match_lead_to_a_person(url: String) {
    let bot = Bot::configured(&url).await;
    let reply = bot.ask(bot.help, bot.customer, "money").await;
    let none = bot.fake.choose_select(
        id_of(&reply),
        &custom_ids(&reply)[0],
        &["-none"],
        bot.customer,
        "en-US",
    );
    let sorry = bot.final_reply(&none).await;
    assert_eq!(
        sorry["message"]["content"],
        json!(words("en", "none_fit.text"))
    );

    let nothing = bot.ask(bot.help, bot.others[1], "asdf qwerty zxcv").await;
    assert_eq!(content(&nothing), words("en", "abstain.text"));
    assert_eq!(labels(&nothing), [words("en", "abstain.button")]);
    let offer = bot.fake.press_button(
        id_of(&nothing),
        &custom_ids(&nothing)[0],
        bot.others[1],
        "en-US",
    );
    let notice = bot.final_text(&offer).await;
    assert!(
        notice.contains(&format!("<@&{}>", bot.agent_role)),
        "{notice}"
    );
    let stored = bot.store.questions(bot.guild).await.unwrap();
    let outcomes: Vec<&str> = stored.iter().map(|(_, q, _)| q.outcome.as_str()).collect();
    assert_eq!(outcomes, ["suggest", "abstain"]);
    bot.stop().await;
}

async fn faq_command_with_autocomplete(url: String) {
    let bot = Bot::configured(&url).await;
    let typing = bot.fake.push_autocomplete(
        bot.guild,
        bot.general,
        bot.customer,
        "faq",
        json!([{"name": "question", "type": 3, "value": "refund", "focused": true}]),
        "en-US",
    );
    let choices = bot.final_reply(&typing).await;
    assert_eq!(choices["type"], json!(8));
    let list = choices["message"]["choices"]
        .as_array()
        .expect("choices")
        .clone();
    assert!(!list.is_empty() && list.len() <= 25);
    assert_eq!(list[0]["value"], json!("#refund-request"), "{list:?}");

    // Picking a choice answers that intent.
    let ask = bot.push_faq(bot.customer, "#refund-request");
    let reply = bot.final_reply(&ask).await;
    let first = ask.clone();
    let responses = bot.fake.interaction_responses(ask.id);
    assert_eq!(responses[0]["type"], json!(5), "deferred first");
    assert_eq!(reply["kind"], json!("edit_original"));
    assert_eq!(
        reply["message"]["content"],
        json!(answer("refund-request", "en"))
    );

    // Free text in Armenian from an English client: answered in Armenian.
    let ask = bot.push_faq(bot.others[2], QUESTIONS[3].0);
    assert_eq!(
        bot.final_text(&ask).await,
        answer("account-change-email", "hy")
    );
    assert!(crate::harness::acked_privately(&bot.fake, &ask));
    for i in [first.id, ask.id] {
        let (_, q, _) = crate::harness::wait_replied(&bot, i).await;
        assert_eq!(q.source, beacon::desk::Source::Slash);
    }
    bot.stop().await;
}

async fn setup_records_settings_and_refuses_customers(url: String) {
    let bot = Bot::start(&url).await;
    // Discord does not offer /setup to a customer; should an admin let everyone see it,
    // Beacon refuses them itself.
    let options = json!([{"name": "help-channel", "type": 1, "options": [
        {"name": "channel", "type": 7, "value": bot.help.to_string()}]}]);
    let refused = bot
        .refused_by_beacon(bot.general, bot.customer, "setup", options)
        .await;
    assert_eq!(refused, words("en", "permission.moderator"));
    use beacon::desk::Ledger as _;
    assert!(
        bot.store
            .settings(bot.guild)
            .await
            .unwrap()
            .help_channels
            .is_empty()
    );

    // Two changes pushed together, as two moderators (or a script) would: neither is lost.
    let setup =
        |options: Value| bot.command_in(bot.general, bot.moderator, "setup", json!([options]));
    let channels = setup(json!({"name": "channels", "type": 1, "options": [
        {"name": "tickets", "type": 7, "value": bot.tickets.to_string()}]}));
    let roles = setup(json!({"name": "roles", "type": 1, "options": [
        {"name": "agent", "type": 8, "value": bot.agent_role.to_string()}]}));
    bot.final_text(&channels).await;
    bot.final_text(&roles).await;
    let s = bot.store.settings(bot.guild).await.unwrap();
    assert_eq!(
        (s.tickets_channel, s.agent_role),
        (Some(bot.tickets), Some(bot.agent_role))
    );

    bot.setup(
        "help-channel",
        json!([{"name": "channel", "type": 7, "value": bot.help.to_string()}]),
    )
    .await;
    bot.setup(
        "channels",
        json!([
            {"name": "forum", "type": 7, "value": bot.forum.to_string()},
            {"name": "agents", "type": 7, "value": bot.general.to_string()},
        ]),
    )
    .await;
    bot.setup(
        "hours",
        json!([
            {"name": "hours", "type": 3, "value": "Mon-Fri 09:00-17:00"},
            {"name": "time-zone", "type": 3, "value": "Asia/Yerevan"},
        ]),
    )
    .await;
    bot.setup(
        "threshold",
        json!([{"name": "value", "type": 10, "value": 0.7}]),
    )
    .await;

    let s = bot.store.settings(bot.guild).await.unwrap();
    assert_eq!(s.help_channels, [bot.help].into());
    assert_eq!(s.forum_channel, Some(bot.forum));
    assert_eq!(s.agents_channel, Some(bot.general));
    assert_eq!(s.opening_hours.unwrap().to_string(), "mon-fri 09:00-17:00");
    assert_eq!(s.time_zone.as_deref(), Some("Asia/Yerevan"));
    assert_eq!(s.threshold, Some(0.7));
    assert_eq!(s.updated_by, Some(bot.moderator));

    let shown = bot.setup("show", json!([])).await;
    assert!(shown.contains(&format!("<#{}>", bot.help)), "{shown}");
    assert!(
        shown.contains("mon-fri 09:00-17:00") && shown.contains("0.7"),
        "{shown}"
    );
    bot.stop().await;
}

async fn floods_get_one_notice(url: String) {
    let bot = Bot::start_with(
        &url,
        crate::harness::Options {
            cooldown_questions: 2,
            ..Default::default()
        },
    )
    .await;
    bot.setup(
        "help-channel",
        json!([{"name": "channel", "type": 7, "value": bot.help.to_string()}]),
    )
    .await;
    let mut replies = Vec::new();
    for text in [
        "money back?",
        "how can I get my money back for this order",
        "refund??",
    ] {
        replies.push(bot.ask(bot.help, bot.customer, text).await);
    }
    let notice = words("en", "cooldown.text");
    let before_number = notice.split("{seconds}").next().unwrap();
    assert!(
        content(&replies[2]).starts_with(before_number),
        "{}",
        content(&replies[2])
    );
    assert!(custom_ids(&replies[2]).is_empty());
    // A fourth question in the window gets no second notice; another member is not held up.
    let fourth = bot.fake.push_message(bot.help, bot.customer, "refund!!!");
    bot.ask(bot.help, bot.others[0], "money back?").await;
    let stored = crate::harness::wait_stored(&bot, fourth).await;
    let outcomes: Vec<&str> = stored.iter().map(|(_, q, _)| q.outcome.as_str()).collect();
    assert_eq!(
        outcomes.iter().filter(|o| **o == "cooldown").count(),
        2,
        "{outcomes:?}"
    );
    assert!(crate::harness::reply_in(&bot.fake, bot.help, fourth).is_none());
    bot.stop().await;
}
