//! What goes wrong around J1: a dropped gateway connection, Discord answering 429 or 500, a slow
//! database, a knowledge base reloaded while the bot runs (and a broken one refused).

use std::path::Path;

use beacon::locale::Locales;
use serde_json::json;
use sqlx::Connection as _;

use crate::harness::{Bot, Options, PARTY, WAIT, id_of};
use crate::on_both_backends;

on_both_backends!(
    a_dropped_connection_resumes_and_the_next_question_is_answered,
    rest_429_and_500_still_deliver_the_answer_once,
    interactions_are_acknowledged_while_the_database_is_locked,
    reload_refuses_a_broken_knowledge_base_and_takes_a_good_one,
    questions_asked_while_away_are_answered_once_on_the_next_session,
);

fn words(lang: &str, key: &str) -> String {
    Locales::embedded().get(lang, key).to_string()
}

async fn a_dropped_connection_resumes_and_the_next_question_is_answered(url: String) {
    let bot = Bot::configured(&url).await;
    bot.ask(bot.help, bot.customer, "money back?").await;
    bot.fake.drop_connection();
    // Pushed while the bot is away: delivered when it resumes.
    let message = bot
        .fake
        .push_message(bot.help, bot.others[0], "Ուզում եմ գումարս հետ ստանալ");
    bot.fake.wait_resumed(WAIT).await;
    let reply = bot.reply_to(bot.help, message).await;
    assert!(!reply["content"].as_str().unwrap_or_default().is_empty());
    assert_eq!(bot.fake.identifies(), 1, "resumed, not a new session");
    assert_eq!(bot.fake.resumes(), 1);
    // Exactly one reply to each question.
    assert_eq!(bot.fake.bot_messages(bot.help).len(), 2);
    bot.stop().await;
}

async fn rest_429_and_500_still_deliver_the_answer_once(url: String) {
    let bot = Bot::configured(&url).await;
    for (n, status) in [429u16, 500, 502].into_iter().enumerate() {
        bot.fake
            .fail_next("POST", "/channels/*/messages", status, 1);
        let message = bot.fake.push_message(
            bot.help,
            bot.others[n],
            "how can I get my money back for this order",
        );
        bot.reply_to(bot.help, message).await;
        crate::harness::wait_replied(&bot, message).await;
    }
    let sends = bot.fake.requests_matching("POST", "/channels/*/messages");
    assert_eq!(
        sends.iter().filter(|r| r.injected).count(),
        3,
        "each failure was served"
    );
    assert_eq!(
        sends.iter().filter(|r| r.status == 200).count(),
        3,
        "each answer was sent once"
    );
    assert_eq!(bot.fake.bot_messages(bot.help).len(), 3);
    // A retry carries the first attempt's nonce, enforced, so Discord could never post twice.
    for pair in sends.chunks(2) {
        let nonce = |r: &crate::fake_discord::Recorded| r.body.as_ref().map(|b| b["nonce"].clone());
        assert_eq!(nonce(&pair[0]), nonce(&pair[1]), "retry keeps the nonce");
        assert!(
            pair.iter()
                .all(|r| r.body.as_ref().unwrap()["enforce_nonce"] == json!(true))
        );
    }

    // The same for an interaction's deferred answer.
    bot.fake.fail_next("PATCH", "/webhooks/**", 500, 1);
    let ask = bot.push_faq(bot.customer, "money back?");
    let reply = bot.final_reply(&ask).await;
    assert!(
        !reply["message"]["content"]
            .as_str()
            .unwrap_or_default()
            .is_empty()
    );
    let edits: Vec<_> = bot
        .fake
        .interaction_responses(ask.id)
        .into_iter()
        .filter(|r| r["kind"] == json!("edit_original"))
        .collect();
    assert_eq!(edits.len(), 1, "one edit landed");
    bot.stop().await;
}

/// Holds the database's write lock from another connection while `f` runs.
enum Lock {
    Sqlite(sqlx::SqliteConnection),
    Postgres(sqlx::PgConnection),
}

impl Lock {
    async fn take(url: &str) -> Lock {
        if url.starts_with("postgres") {
            let mut c = sqlx::PgConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN").execute(&mut c).await.unwrap();
            sqlx::query("LOCK TABLE questions IN ACCESS EXCLUSIVE MODE")
                .execute(&mut c)
                .await
                .unwrap();
            Lock::Postgres(c)
        } else {
            let mut c = sqlx::SqliteConnection::connect(url).await.unwrap();
            sqlx::query("BEGIN EXCLUSIVE")
                .execute(&mut c)
                .await
                .unwrap();
            Lock::Sqlite(c)
        }
    }

    async fn release(self) {
        match self {
            Lock::Sqlite(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
            Lock::Postgres(mut c) => {
                sqlx::query("ROLLBACK").execute(&mut c).await.unwrap();
            }
        }
    }
}

async fn interactions_are_acknowledged_while_the_database_is_locked(url: String) {
    let bot = Bot::configured(&url).await;
    let lock = Lock::take(&url).await;
    let ask = bot.push_faq(bot.customer, "money back?");
    // The acknowledgement arrives while the question cannot be stored...
    let id = ask.id;
    let ack = bot
        .fake
        .wait_until("the deferral", WAIT, move |f| {
            f.interaction_responses(id).into_iter().next()
        })
        .await;
    assert_eq!(ack["type"], json!(5), "deferred");
    let answered = bot
        .fake
        .interaction_responses(ask.id)
        .iter()
        .any(|r| r["kind"] == json!("edit_original"));
    assert!(
        !answered,
        "no answer can exist before the question is stored"
    );
    // ...and the answer once it can.
    lock.release().await;
    let reply = bot.final_reply(&ask).await;
    assert_eq!(reply["kind"], json!("edit_original"));
    crate::harness::wait_replied(&bot, ask.id).await;
    bot.stop().await;
}

async fn reload_refuses_a_broken_knowledge_base_and_takes_a_good_one(url: String) {
    let dir = tempfile::tempdir().unwrap();
    crate::harness::copy_starter_kb(dir.path());
    let bot = Bot::start_with(
        &url,
        Options {
            kb_dir: dir.path().to_path_buf(),
            ..Default::default()
        },
    )
    .await;
    bot.setup(
        "help-channel",
        json!([{"name": "channel", "type": 7, "value": bot.help.to_string()}]),
    )
    .await;
    let reload = |user| {
        bot.fake.push_slash_command(
            bot.guild,
            bot.general,
            user,
            "kb-reload",
            json!([]),
            "en-US",
        )
    };

    // A customer may not reload: Discord does not offer it, and Beacon refuses it when an
    // admin lets everyone see it.
    let hidden = bot.fake.try_push_slash_command(
        bot.guild,
        bot.general,
        bot.customer,
        "kb-reload",
        json!([]),
        "en-US",
    );
    assert!(hidden.is_err());
    bot.allow_everyone("kb-reload");
    let refused = bot.final_text(&reload(bot.customer)).await;
    assert_eq!(refused, words("en", "permission.moderator"));

    // A broken file is refused with its place, and the old knowledge base keeps answering.
    std::fs::write(
        dir.path().join("party.toml"),
        PARTY.replace("answer = ", "answr = "),
    )
    .unwrap();
    let text = bot.final_text(&reload(bot.moderator)).await;
    let refusal = Locales::embedded().fill("en", "reload.refused", &[("count", &1)]);
    assert!(text.starts_with(&refusal), "{text}");
    assert!(text.contains("party.toml:"), "names the file: {text}");
    assert!(text.contains("answr"), "names the problem: {text}");
    let still = bot.ask(bot.help, bot.customer, "money back?").await;
    assert_eq!(
        still["content"].as_str(),
        Some(
            beacon::kb::intents::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("intents"))
                .unwrap()
                .get("refund-request")
                .unwrap()
                .answer
                .as_str()
        )
    );

    // Fixed: the new intent answers from now on.
    std::fs::write(dir.path().join("party.toml"), PARTY).unwrap();
    let text = bot.final_text(&reload(bot.moderator)).await;
    let kb = beacon::kb::intents::load_dir(dir.path()).unwrap();
    let examples: usize = kb.intents.iter().map(|i| i.examples.len()).sum();
    assert_eq!(
        text,
        Locales::embedded().fill(
            "en",
            "reload.done",
            &[("intents", &kb.intents.len()), ("examples", &examples)]
        )
    );
    let party = bot
        .ask(
            bot.help,
            bot.others[0],
            "what time does the launch party begin?",
        )
        .await;
    assert_eq!(
        party["content"].as_str(),
        Some("The launch party is on Friday at 18:00 in the main hall.")
    );
    assert!(id_of(&party) > 0);
    bot.stop().await;
}

/// Discord replays nothing to a new session: what was asked in the help channel and the forum
/// while Beacon was stopped is read and answered once when it is back; a question stored but
/// never answered (a crash between the two) is answered then too; one answered before is not
/// answered again, and a new session that finds nothing new sends nothing.
async fn questions_asked_while_away_are_answered_once_on_the_next_session(url: String) {
    use beacon::desk::{Ledger as _, QuestionRecord, Source};
    let mut bot = Bot::configured(&url).await;
    let before = bot
        .fake
        .push_message(bot.help, bot.customer, "how do I get my money back");
    bot.reply_to(bot.help, before).await;
    bot.pause().await;

    let while_away: Vec<u64> = bot
        .others
        .iter()
        .map(|&u| bot.fake.push_message(bot.help, u, "where is my parcel?"))
        .collect();
    let post =
        bot.fake
            .push_forum_post(bot.forum, bot.others[0], "Refund", "how do I get a refund?");
    // Stored by a process that stopped before its reply went out.
    let stored = bot
        .fake
        .push_message(bot.help, bot.customer, "my card was declined");
    bot.store
        .record_question(&QuestionRecord {
            guild_id: bot.guild,
            channel_id: bot.help,
            user_id: bot.customer,
            source: Source::Message,
            source_id: stored,
            text: "my card was declined".into(),
            lang: "en".into(),
            outcome: "answer".into(),
            intent: None,
            confidence: 0.9,
            suggestions: vec![],
            asked_at_ms: beacon::desk::now_ms(),
        })
        .await
        .unwrap()
        .expect("stored");

    bot.resume().await;
    for &m in while_away.iter().chain([&stored]) {
        bot.reply_to(bot.help, m).await;
    }
    bot.fake
        .wait_until("the forum post's answer", WAIT, |f| {
            (f.bot_message_count(post) == 1).then_some(())
        })
        .await;
    let count = |m: u64| {
        bot.fake
            .bot_messages(bot.help)
            .iter()
            .filter(|r| r["message_reference"]["message_id"].as_str() == Some(&m.to_string()))
            .count()
    };
    for &m in while_away.iter().chain([&stored]) {
        assert_eq!(count(m), 1, "question {m}");
    }
    assert_eq!(count(before), 1, "answered before the stop, not again");

    // Another new session finds nothing new: nothing is sent.
    let sent = bot.fake.bot_message_count(bot.help);
    bot.restart().await;
    bot.ask(bot.help, bot.others[1], "how do I get my money back")
        .await;
    assert_eq!(
        bot.fake.bot_message_count(bot.help),
        sent + 1,
        "only the new question"
    );
    bot.stop().await;
}
