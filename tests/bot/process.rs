//! The `beacon` binary as an operator runs it: what it says without a token or with a refused
//! one, JSON logs without the token in them, SIGHUP reloading the knowledge base, SIGTERM
//! stopping it, and SIGKILL at any moment losing no question the bot had answered.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_discord::FakeDiscord;
use crate::harness::{MANAGE_GUILD, PARTY, WAIT, reply_in};
use crate::on_both_backends;

on_both_backends!(killed_at_any_moment_loses_no_answered_question);

fn beacon() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_beacon"));
    for var in [
        "DISCORD_TOKEN",
        "DATABASE_URL",
        "BEACON_DISCORD_API_URL",
        "BEACON_INTENTS",
        "BEACON_CONFIG",
        "BEACON_LOG",
        "BEACON_LOG_FORMAT",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c
}

#[test]
fn without_a_token_it_says_what_to_do() {
    let dir = tempfile::tempdir().unwrap();
    let out = beacon()
        .arg("run")
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(err.trim().lines().count(), 1, "one sentence: {err}");
    assert!(
        err.contains("DISCORD_TOKEN") && err.contains("discord.com/developers"),
        "{err}"
    );
    assert!(
        !dir.path().join("beacon.db").exists(),
        "nothing created before the token check"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_is_named() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = beacon()
        .arg("run")
        .current_dir(dir.path())
        .env("DISCORD_TOKEN", "MTEx.not-the-right.token")
        .env("BEACON_DISCORD_API_URL", fake.api_url())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("refused the token"), "{err}");
    assert!(
        !err.contains("not-the-right"),
        "the token never reaches a log: {err}"
    );
    // The fake answered 401 as Discord would; that is the test, not a violation.
    fake.take_violations();
}

struct Running {
    child: Child,
    log: PathBuf,
}

impl Running {
    fn start(fake: &FakeDiscord, db_url: &str, kb: &Path, log: PathBuf) -> Running {
        let file = std::fs::File::create(&log).unwrap();
        let child = beacon()
            .arg("run")
            .env("DISCORD_TOKEN", FakeDiscord::TOKEN)
            .env("BEACON_DISCORD_API_URL", fake.api_url())
            .env("DATABASE_URL", db_url)
            .env("BEACON_INTENTS", kb)
            .env("BEACON_LOG_FORMAT", "json")
            .env("BEACON_LOG", "beacon=debug,info")
            .stdout(Stdio::null())
            .stderr(file)
            .spawn()
            .unwrap();
        Running { child, log }
    }

    fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .args([format!("-{name}"), self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    async fn exit_code(mut self) -> Option<i32> {
        tokio::task::spawn_blocking(move || {
            let deadline = std::time::Instant::now() + WAIT;
            loop {
                if let Some(status) = self.child.try_wait().unwrap() {
                    return status.code();
                }
                assert!(std::time::Instant::now() < deadline, "beacon did not exit");
                std::thread::sleep(Duration::from_millis(20));
            }
        })
        .await
        .unwrap()
    }

    fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Running {
    /// A failing test must not leave a bot running behind it.
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// The JSON log lines of a run, checked to hold no token.
fn log_lines(log: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(log).unwrap();
    assert!(
        !text.contains(FakeDiscord::TOKEN),
        "the token reached the log"
    );
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("not JSON ({e}): {l}")))
        .collect()
}

async fn killed_at_any_moment_loses_no_answered_question(db_url: String) {
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let help = fake.add_text_channel(guild, "help");
    let moderator_role = fake.add_role(guild, "Moderators", MANAGE_GUILD);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let users: Vec<u64> = (0..40)
        .map(|n| fake.add_member(guild, &format!("customer{n}"), &[]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);

    let mut asked: Vec<u64> = Vec::new();
    for round in 0..3 {
        let bot = Running::start(&fake, &db_url, &kb, dir.path().join(format!("log{round}")));
        fake.wait_until("the bot to identify", WAIT, |f| {
            (f.identifies() as usize > round && f.is_connected()).then_some(())
        })
        .await;
        if round == 0 {
            fake.wait_commands_registered(WAIT).await;
            let setup = fake.push_slash_command(
                guild,
                help,
                moderator,
                "setup",
                json!([{"name": "help-channel", "type": 1, "options": [
                    {"name": "channel", "type": 7, "value": help.to_string()}]}]),
                "en-US",
            );
            fake.wait_interaction_reply(&setup, WAIT).await;
        }
        // A burst of questions, and a kill after a random number of answers.
        let burst: Vec<u64> = (0..12)
            .map(|n| fake.push_message(help, users[(round * 12 + n) % users.len()], "money back?"))
            .collect();
        asked.extend(&burst);
        let kill_after = fastrand::usize(1..=burst.len());
        fake.wait_until("some answers", WAIT, |f| {
            (burst
                .iter()
                .filter(|m| reply_in(f, help, **m).is_some())
                .count()
                >= kill_after)
                .then_some(())
        })
        .await;
        bot.kill();

        // Every question the bot answered has its row.
        let store = beacon::store::Store::connect(&db_url).await.unwrap();
        let stored: Vec<u64> = store
            .questions(guild)
            .await
            .unwrap()
            .iter()
            .map(|(_, q, _)| q.source_id)
            .collect();
        let answered: Vec<u64> = asked
            .iter()
            .copied()
            .filter(|m| reply_in(&fake, help, *m).is_some())
            .collect();
        for m in &answered {
            assert!(stored.contains(m), "round {round}: answered {m} but no row");
        }
        assert!(answered.len() >= kill_after);
        store.close().await;
    }

    // Back up once more: it answers, reloads on SIGHUP, and stops cleanly on SIGTERM.
    let bot = Running::start(&fake, &db_url, &kb, dir.path().join("log-final"));
    fake.wait_until("the bot to identify", WAIT, |f| {
        (f.identifies() >= 4 && f.is_connected()).then_some(())
    })
    .await;
    std::fs::write(kb.join("party.toml"), PARTY).unwrap();
    bot.signal("HUP");
    // The reload is logged when the new knowledge base answers.
    let deadline = std::time::Instant::now() + WAIT;
    while !std::fs::read_to_string(&bot.log)
        .unwrap()
        .contains("knowledge base reloaded")
    {
        assert!(
            std::time::Instant::now() < deadline,
            "SIGHUP reload never logged"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let m = fake.push_message(help, users[0], "what time does the launch party begin?");
    let party = fake
        .wait_until("the reply", WAIT, |f| reply_in(f, help, m))
        .await;
    assert!(
        party["content"]
            .as_str()
            .unwrap()
            .contains("Friday at 18:00")
    );
    bot.signal("TERM");
    let log = bot.log.clone();
    assert_eq!(bot.exit_code().await, Some(0), "SIGTERM stops cleanly");
    let lines = log_lines(&log);
    let messages: Vec<&str> = lines.iter().filter_map(|l| l["message"].as_str()).collect();
    for expected in ["knowledge base reloaded", "shutting down", "stopped"] {
        assert!(
            messages.iter().any(|m| m.contains(expected)),
            "log has {expected:?}: {messages:?}"
        );
    }
    fake.assert_clean();
}
