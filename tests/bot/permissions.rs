//! Discord's permission rules end to end: which commands Discord offers whom, what Beacon tells
//! a moderator when a staff role cannot see its commands, `/setup check` and `beacon doctor`
//! naming each missing permission with its channel and fix, and a refusal at run time (403 /
//! 50013) explained to the moderator who triggered it.

use std::process::Command;

use serde_json::json;

use crate::fake_discord::{FakeDiscord, perm};
use crate::harness::{Bot, MANAGE_THREADS};
use crate::on_both_backends;
use crate::ticket_work::fill;

on_both_backends!(
    customers_see_only_their_commands_and_staff_roles_are_told_what_to_change,
    setup_check_and_doctor_name_each_missing_permission_with_its_fix,
    a_refusal_at_run_time_tells_the_moderator_which_permission_to_give,
);

const CUSTOMER_COMMANDS: [&str; 5] = ["faq", "reopen", "subscribe", "ticket", "unsubscribe"];
const AGENT_COMMANDS: [&str; 12] = [
    "add",
    "block",
    "close",
    "note",
    "priority",
    "release",
    "reply",
    "resolve",
    "tag",
    "transcript",
    "transfer",
    "unblock",
];
const MODERATOR_COMMANDS: [&str; 5] = ["crisis", "kb-reload", "panel", "report", "setup"];

fn sorted(lists: &[&[&str]]) -> Vec<String> {
    let mut all: Vec<String> = lists
        .iter()
        .flat_map(|l| l.iter().map(|s| s.to_string()))
        .collect();
    all.sort();
    all
}

async fn customers_see_only_their_commands_and_staff_roles_are_told_what_to_change(url: String) {
    let bot = Bot::with_tickets(&url).await;
    let offered = |user| bot.fake.commands_offered(bot.guild, bot.general, user);
    assert_eq!(offered(bot.customer), sorted(&[&CUSTOMER_COMMANDS]));
    assert_eq!(
        offered(bot.agent_members[0]),
        sorted(&[&CUSTOMER_COMMANDS, &AGENT_COMMANDS])
    );
    assert_eq!(
        offered(bot.moderator),
        sorted(&[&CUSTOMER_COMMANDS, &AGENT_COMMANDS, &MODERATOR_COMMANDS])
    );

    // A support role made with no permissions: Discord would not offer it the agent commands.
    // Beacon says so where the moderator sets it, naming the two settings that fix it.
    let support = bot.fake.add_role(bot.guild, "Support", 0);
    let sam = bot.fake.add_member(bot.guild, "sam", &[support]);
    let told = bot
        .setup(
            "roles",
            json!([{"name": "agent", "type": 8, "value": support.to_string()}]),
        )
        .await;
    let hidden = "/close, /release, /transfer, /add, /priority, /tag, /note, /reply, /resolve, \
                  /block, /unblock, /transcript, Apps > Open a ticket with this member";
    assert!(
        told.contains(&format!(
            "Discord does not offer {hidden} to <@&{support}> yet: they are shown to members \
             with Manage Threads. Either give <@&{support}> Manage Threads (Server Settings > \
             Roles > Support > Permissions), or allow <@&{support}> on each of them in Server \
             Settings > Integrations > Beacon > Manage."
        )),
        "{told}"
    );
    assert_eq!(offered(sam), sorted(&[&CUSTOMER_COMMANDS]));
    // The admin gives the role Manage Threads: the commands show, and the check is clean.
    bot.fake.set_role_permissions(support, MANAGE_THREADS);
    assert_eq!(offered(sam), sorted(&[&CUSTOMER_COMMANDS, &AGENT_COMMANDS]));
    let checked = bot.setup("check", json!([])).await;
    assert!(!checked.contains(&support.to_string()), "{checked}");

    // A moderator role without Manage Server; the admin allows it command by command instead.
    let leads = bot.fake.add_role(bot.guild, "Leads", 0);
    let lee = bot.fake.add_member(bot.guild, "lee", &[leads]);
    let told = bot
        .setup(
            "roles",
            json!([{"name": "moderator", "type": 8, "value": leads.to_string()}]),
        )
        .await;
    assert!(
        told.contains(&format!(
            "Discord does not offer /setup, /crisis, /panel, /kb-reload, /report to <@&{leads}> \
             yet: they are shown to members with Manage Server."
        )),
        "{told}"
    );
    for name in MODERATOR_COMMANDS {
        bot.fake
            .set_command_permissions(bot.guild, Some(name), &[(leads, 1, true)]);
    }
    let checked = bot.setup_as(lee, "check", json!([])).await;
    assert!(
        checked.starts_with(&format!("✅ {}", fill("en", "setup.check_ok", &[]))),
        "{checked}"
    );
    bot.stop().await;
}

/// Deny the bot's role `bits` in `channel`, as a moderator editing the channel would.
fn deny_bot(bot: &Bot, channel: u64, bits: u64) {
    bot.refusals_expected
        .store(true, std::sync::atomic::Ordering::Relaxed);
    bot.fake
        .set_overwrite(channel, bot.fake.bot_role(bot.guild), 0, 0, bits);
}

/// `beacon doctor` against the test's fake Discord and database: exit code and output.
fn doctor(fake: &FakeDiscord, db_url: &str) -> (Option<i32>, String) {
    let kb = concat!(env!("CARGO_MANIFEST_DIR"), "/intents");
    let out = Command::new(env!("CARGO_BIN_EXE_beacon"))
        .arg("doctor")
        .env_remove("BEACON_CONFIG")
        .env("DISCORD_TOKEN", FakeDiscord::TOKEN)
        .env("BEACON_DISCORD_API_URL", fake.api_url())
        .env("DATABASE_URL", db_url)
        .env("BEACON_INTENTS", kb)
        .output()
        .expect("beacon doctor runs");
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.code(), text)
}

async fn setup_check_and_doctor_name_each_missing_permission_with_its_fix(url: String) {
    let bot = Bot::with_crisis(&url).await;
    bot.setup(
        "channels",
        json!([{"name": "transcripts", "type": 7, "value": bot.transcripts.to_string()}]),
    )
    .await;
    // With what the README's invite link grants, everything is in place.
    let checked = bot.setup("check", json!([])).await;
    assert_eq!(checked, format!("✅ {}", fill("en", "setup.check_ok", &[])));
    let (code, out) = doctor(&bot.fake, &url);
    assert_eq!(code, Some(0), "{out}");
    assert!(out.contains("✓ server Acme Community"), "{out}");
    assert!(
        out.contains("permissions=2252160591170560"),
        "the invite link: {out}"
    );

    // A moderator takes two permissions from Beacon's role in two channels.
    deny_bot(&bot, bot.status, perm::PIN_MESSAGES);
    deny_bot(&bot, bot.transcripts, perm::ATTACH_FILES);
    let pins = format!(
        "<#{0}> (the crisis status message): Beacon cannot pin the status message there: give \
         the Beacon role Pin Messages in <#{0}> (Edit Channel > Permissions).",
        bot.status
    );
    let files = format!(
        "<#{0}> (posting transcripts): Beacon cannot attach the transcript files there: give the \
         Beacon role Attach Files in <#{0}> (Edit Channel > Permissions).",
        bot.transcripts
    );
    let checked = bot.setup("check", json!([])).await;
    assert!(
        checked.contains(&pins) && checked.contains(&files),
        "{checked}"
    );
    assert!(checked.starts_with("⚠️ 2 thing(s) to fix:"), "{checked}");
    let (code, out) = doctor(&bot.fake, &url);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("✗ #status (the crisis status message): Beacon cannot pin the status message")
            && out.contains("give the Beacon role Pin Messages in #status"),
        "{out}"
    );
    assert!(
        out.contains("✗ #transcripts (posting transcripts)")
            && out.contains("give the Beacon role Attach Files in #transcripts"),
        "{out}"
    );

    // A silent ping: the agents' channel takes Mention Everyone from Beacon, and the agent role
    // is not mentionable.
    deny_bot(&bot, bot.agents, perm::MENTION_EVERYONE);
    let checked = bot.setup("check", json!([])).await;
    assert!(
        checked.contains(&format!(
            "<@&{}> in <#{}>: Discord will not ping this role for Beacon",
            bot.agent_role, bot.agents
        )),
        "{checked}"
    );
    bot.fake.set_role_mentionable(bot.agent_role, true);

    // Put back: clean again, and doctor exits 0.
    bot.fake
        .set_overwrite(bot.status, bot.fake.bot_role(bot.guild), 0, 0, 0);
    bot.fake
        .set_overwrite(bot.transcripts, bot.fake.bot_role(bot.guild), 0, 0, 0);
    let (code, out) = doctor(&bot.fake, &url);
    assert_eq!(code, Some(0), "{out}");

    // Without the Message Content intent, doctor says where to switch it on.
    bot.fake.set_message_content_intent(false);
    let (code, out) = doctor(&bot.fake, &url);
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("Privileged Gateway Intents"), "{out}");
    bot.fake.set_message_content_intent(true);
    bot.stop().await;
}

async fn a_refusal_at_run_time_tells_the_moderator_which_permission_to_give(url: String) {
    let bot = Bot::with_crisis(&url).await;
    deny_bot(&bot, bot.status, perm::PIN_MESSAGES);
    let told = bot
        .crisis(
            bot.moderator,
            "start",
            json!([
            {"name": "topic", "type": 3, "value": "payments"},
            {"name": "title", "type": 3, "value": "Card payments failing"},
            {"name": "status", "type": 3, "value": "We are on it."}]),
        )
        .await;
    let advice = format!(
        "Beacon cannot pin messages in <#{0}>: give the Beacon role Pin Messages in <#{0}> \
         (Edit Channel > Permissions).",
        bot.status
    );
    assert_eq!(told, fill("en", "error.refused", &[("advice", &advice)]));
    // A refusal is Discord's rule, not Beacon's mistake: `stop` finds no violation.
    bot.stop().await;
}
