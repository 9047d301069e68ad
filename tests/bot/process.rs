//! The `beacon` binary as an operator runs it: what it says without a token or with a refused
//! one, JSON logs without the token in them, SIGHUP reloading the knowledge base, SIGTERM
//! stopping it, and SIGKILL at any moment losing no question the bot had answered.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::fake_discord::FakeDiscord;
use crate::harness::{MANAGE_GUILD, PARTY, STARTUP, WAIT, reply_in};
use crate::on_both_backends;

on_both_backends!(
    half_open_web_connections_cannot_starve_the_process,
    killed_at_any_moment_loses_no_answered_question,
    killed_with_tickets_in_flight_repeats_nothing,
    killed_during_a_fan_out_delivers_every_message_once,
);

fn beacon() -> Command {
    clean(Command::new(env!("CARGO_BIN_EXE_beacon")))
}

/// The binary, run with at most `nofile` open files (soft and hard, so it cannot raise them).
fn beacon_with_files(nofile: u64) -> Command {
    let mut c = Command::new("sh");
    c.arg("-c")
        .arg(format!("ulimit -n {nofile} && exec \"$0\" \"$@\""))
        .arg(env!("CARGO_BIN_EXE_beacon"));
    clean(c)
}

/// A command without the test's own Beacon settings in its environment.
/// `c` without any of the developer's Beacon settings in its environment.
pub fn clean(mut c: Command) -> Command {
    for var in [
        "DISCORD_TOKEN",
        "DATABASE_URL",
        "BEACON_DISCORD_API_URL",
        "BEACON_INTENTS",
        "BEACON_CONFIG",
        "BEACON_LOG",
        "BEACON_LOG_FORMAT",
        "BEACON_WEB_LISTEN",
        "BEACON_OPS_LISTEN",
        "RUST_LOG",
    ] {
        c.env_remove(var);
    }
    c
}

/// Once the commands are registered, the moderator runs `/setup` with `options` in `channel`.
async fn setup(fake: &FakeDiscord, guild: u64, channel: u64, moderator: u64, options: Value) {
    fake.wait_commands_registered(STARTUP).await;
    let setup = fake.push_slash_command(guild, channel, moderator, "setup", options, "en-US");
    fake.wait_interaction_reply(&setup, STARTUP).await;
}

/// `/setup help-channel` for `help`.
async fn set_help_channel(fake: &FakeDiscord, guild: u64, help: u64, moderator: u64) {
    let options = json!([{"name": "help-channel", "type": 1, "options": [
        {"name": "channel", "type": 7, "value": help.to_string()}]}]);
    setup(fake, guild, help, moderator, options).await;
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
        Running::start_configured(fake, db_url, kb, log, None)
    }

    fn start_configured(
        fake: &FakeDiscord,
        db_url: &str,
        kb: &Path,
        log: PathBuf,
        config: Option<&Path>,
    ) -> Running {
        Running::spawn("run", fake, db_url, kb, log, config)
    }

    /// `beacon <what>` (`run`, or `send` for the outbox alone) against the fake.
    fn spawn(
        what: &str,
        fake: &FakeDiscord,
        db_url: &str,
        kb: &Path,
        log: PathBuf,
        config: Option<&Path>,
    ) -> Running {
        Running::spawn_with(beacon(), what, fake, db_url, kb, log, config)
    }

    fn spawn_with(
        mut command: Command,
        what: &str,
        fake: &FakeDiscord,
        db_url: &str,
        kb: &Path,
        log: PathBuf,
        config: Option<&Path>,
    ) -> Running {
        let file = std::fs::File::create(&log).unwrap();
        if let Some(config) = config {
            command.env("BEACON_CONFIG", config);
        }
        let child = command
            .arg(what)
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

    /// Waits until the bot has identified `at_least` times in all and is connected. Fails at
    /// once if the process has exited, and either way shows what it logged.
    async fn wait_identified(&mut self, fake: &FakeDiscord, at_least: usize) {
        let deadline = tokio::time::Instant::now() + STARTUP;
        let connected = |f: &FakeDiscord| {
            (f.is_connected() && f.identifies() as usize >= at_least).then_some(())
        };
        loop {
            if fake
                .try_wait_until(Duration::from_millis(500), connected)
                .await
                .is_some()
            {
                return;
            }
            let exited = self.child.try_wait().unwrap();
            if exited.is_some() || tokio::time::Instant::now() >= deadline {
                let log = std::fs::read_to_string(&self.log).unwrap_or_default();
                let lines: Vec<&str> = log.lines().collect();
                let tail = &lines[lines.len().saturating_sub(30)..];
                panic!(
                    "the bot did not identify (time {at_least}): {}\n{}\nits log ends:\n{}",
                    match exited {
                        Some(status) => format!("it exited with {status}"),
                        None => format!("still running after {STARTUP:?}"),
                    },
                    fake.diagnostics(),
                    tail.join("\n")
                );
            }
        }
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
        let mut bot = Running::start(&fake, &db_url, &kb, dir.path().join(format!("log{round}")));
        bot.wait_identified(&fake, round + 1).await;
        if round == 0 {
            set_help_channel(&fake, guild, help, moderator).await;
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
        // While it is down, more members ask (50 in all over the rounds): Discord will not
        // replay these to the next session.
        let while_down: Vec<u64> = (0..17)
            .map(|n| {
                fake.push_message(
                    help,
                    users[(n * 7 + round) % users.len()],
                    "where is my parcel?",
                )
            })
            .collect();
        asked.extend(&while_down);
    }

    // Back up once more: every question of every round, those asked while it was down too,
    // gets exactly one answer; then it reloads on SIGHUP and stops cleanly on SIGTERM.
    let mut bot = Running::start(&fake, &db_url, &kb, dir.path().join("log-final"));
    bot.wait_identified(&fake, 4).await;
    let all = fake
        .try_wait_until(STARTUP, |f| {
            asked
                .iter()
                .all(|m| reply_in(f, help, *m).is_some())
                .then_some(())
        })
        .await;
    if all.is_none() {
        let missing: Vec<u64> = asked
            .iter()
            .copied()
            .filter(|m| reply_in(&fake, help, *m).is_none())
            .collect();
        let log = std::fs::read_to_string(&bot.log).unwrap_or_default();
        let tail: Vec<&str> = log.lines().rev().take(40).collect();
        panic!("unanswered {missing:?}\n{}", tail.join("\n"));
    }
    let replies: Vec<String> = fake
        .bot_messages(help)
        .iter()
        .filter_map(|m| {
            m["message_reference"]["message_id"]
                .as_str()
                .map(str::to_string)
        })
        .collect();
    for m in &asked {
        let n = replies.iter().filter(|r| **r == m.to_string()).count();
        assert_eq!(n, 1, "question {m} answered {n} times");
    }
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

/// Kills the bot during bursts of tickets and claims, several times: every ticket stored comes
/// back whole (one thread, one header, one card, one agent ping, one queue message showing the
/// right place), claims stay, and a deadline stored while the bot was down still escalates, once.
async fn killed_with_tickets_in_flight_repeats_nothing(db_url: String) {
    use beacon::desk::tickets::{TicketLedger, TicketState, Update};

    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let general = fake.add_text_channel(guild, "general");
    let tickets = fake.add_text_channel(guild, "tickets");
    let agents = fake.add_text_channel(guild, "agents");
    let agent_role = fake.add_role(guild, "Agents", 0);
    let ana = fake.add_member(guild, "agent-ana", &[agent_role]);
    let moderator_role = fake.add_role(guild, "Moderators", MANAGE_GUILD);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let customers: Vec<u64> = (0..30)
        .map(|n| fake.add_member(guild, &format!("customer{n}"), &[]))
        .collect();
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    let config = dir.path().join("beacon.toml");
    std::fs::write(&config, "[tickets]\ncheck_every_ms = 100\n").unwrap();
    let start = |round: usize| {
        let log = dir.path().join(format!("log{round}"));
        Running::start_configured(&fake, &db_url, &kb, log, Some(&config))
    };
    let card_of = |f: &FakeDiscord, number: i64| {
        f.bot_messages(agents).into_iter().find(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.contains(&format!("**Ticket #{number}**")))
        })
    };

    let mut next = 0;
    for round in 0..3 {
        let mut bot = start(round);
        bot.wait_identified(&fake, round + 1).await;
        if round == 0 {
            fake.wait_commands_registered(STARTUP).await;
            for (sub, options) in [
                (
                    "channels",
                    json!([{"name": "tickets", "type": 7, "value": tickets.to_string()},
                           {"name": "agents", "type": 7, "value": agents.to_string()}]),
                ),
                (
                    "roles",
                    json!([{"name": "agent", "type": 8, "value": agent_role.to_string()}]),
                ),
            ] {
                let setup = fake.push_slash_command(
                    guild,
                    general,
                    moderator,
                    "setup",
                    json!([{"name": sub, "type": 1, "options": options}]),
                    "en-US",
                );
                fake.wait_interaction_reply(&setup, WAIT).await;
            }
        }
        // Ana claims the cards of the round before, while new customers open tickets.
        for card in fake.bot_messages(agents) {
            if let Some(claim) = crate::harness::custom_ids(&card).first() {
                fake.press_button(crate::harness::id_of(&card), claim, ana, "en-US");
            }
        }
        let cards_before = fake.bot_messages(agents).len();
        for _ in 0..8 {
            fake.push_slash_command(
                guild,
                general,
                customers[next],
                "ticket",
                json!([{"name": "about", "type": 3, "value": "my order never came"}]),
                "en-US",
            );
            next += 1;
        }
        let kill_after = fastrand::usize(1..=8);
        fake.wait_until("some cards", WAIT, |f| {
            (f.bot_messages(agents).len() >= cards_before + kill_after).then_some(())
        })
        .await;
        bot.kill();
    }

    // While it is down, one waiting ticket's first-response target passes.
    let store = beacon::store::Store::connect(&db_url).await.unwrap();
    let mut overdue = None;
    for id in 1..=60 {
        let Some(t) = store.ticket(id).await.unwrap() else {
            continue;
        };
        if t.state == TicketState::Waiting && overdue.is_none() {
            let past = Update::Due(Some(beacon::desk::now_ms() - 1_000));
            store
                .update(t.id, 0, beacon::desk::now_ms(), &past)
                .await
                .unwrap();
            overdue = Some(t.number);
        }
    }
    store.close().await;

    let mut bot = start(3);
    bot.wait_identified(&fake, 4).await;
    let store = beacon::store::Store::connect(&db_url).await.unwrap();
    let stored = |store: &beacon::store::Store| {
        let store = store.clone();
        async move {
            // PostgreSQL may skip ids (a killed transaction used one up), so no early stop.
            let mut all = Vec::new();
            for id in 1..=60 {
                if let Some(t) = store.ticket(id).await.unwrap() {
                    all.push(t);
                }
            }
            all
        }
    };
    // Every ticket finished: in the queue with its place shown, or claimed.
    let deadline = std::time::Instant::now() + WAIT;
    let all = loop {
        let all = stored(&store).await;
        let done = all.iter().all(|t| {
            t.thread_id.is_some()
                && t.queue_card_id.is_some()
                && match t.state {
                    TicketState::Waiting => t.shown_position.is_some(),
                    TicketState::Claimed => true,
                    _ => false,
                }
        });
        if done {
            break all;
        }
        assert!(std::time::Instant::now() < deadline, "unfinished: {all:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(all.len() >= 3, "at least one ticket per round");
    if let Some(number) = overdue {
        fake.wait_until("the escalation", WAIT, |f| {
            f.bot_messages(agents).into_iter().find(|m| {
                m["content"].as_str().is_some_and(|c| {
                    c.contains("past its first-response target")
                        && c.contains(&format!("#{number} "))
                })
            })
        })
        .await;
    }
    // Let any duplicate that would come show itself before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let threads = fake.threads_in(tickets);
    assert_eq!(threads.len(), all.len(), "one thread per ticket");
    let waiting: Vec<_> = all
        .iter()
        .filter(|t| t.state == TicketState::Waiting)
        .collect();
    for t in &all {
        let thread = t.thread_id.unwrap();
        let messages = fake.bot_messages(thread);
        let count = |prefix: &str| {
            messages
                .iter()
                .filter(|m| m["content"].as_str().is_some_and(|c| c.starts_with(prefix)))
                .count()
        };
        assert_eq!(
            count(&format!("**Ticket #{}**", t.number)),
            1,
            "one header for #{}",
            t.number
        );
        let cards = fake
            .bot_messages(agents)
            .into_iter()
            .filter(|m| {
                m["content"]
                    .as_str()
                    .is_some_and(|c| c.contains(&format!("**Ticket #{}**", t.number)))
            })
            .count();
        assert_eq!(cards, 1, "one card for #{}", t.number);
        assert!(card_of(&fake, t.number).is_some());
        if t.state == TicketState::Waiting {
            let place = waiting.iter().position(|w| w.id == t.id).unwrap() as i64 + 1;
            assert_eq!(t.shown_position, Some(place), "#{}", t.number);
            assert_eq!(count(&format!("#{} · ", t.number)), 1, "one queue message");
        } else {
            assert_eq!(t.agent_id, Some(ana));
        }
    }
    // One agent ping per card: every POST that pinged the role made a card.
    let pings = fake
        .requests_matching("POST", &format!("/channels/{agents}/messages"))
        .into_iter()
        .filter(|r| {
            r.status < 300
                && r.body.as_ref().is_some_and(|b| {
                    b["allowed_mentions"]["roles"]
                        .as_array()
                        .is_some_and(|roles| !roles.is_empty())
                        && b["content"]
                            .as_str()
                            .is_some_and(|c| c.contains("**Ticket #"))
                })
        })
        .map(|r| r.body.unwrap()["nonce"].clone())
        .collect::<std::collections::HashSet<_>>();
    assert_eq!(
        pings.len(),
        all.len(),
        "a ping per ticket, repeats only with the same nonce"
    );
    let escalations = fake
        .bot_messages(agents)
        .into_iter()
        .filter(|m| {
            m["content"]
                .as_str()
                .is_some_and(|c| c.contains("past its first-response target"))
        })
        .count();
    assert_eq!(escalations, usize::from(overdue.is_some()));
    store.close().await;
    bot.signal("TERM");
    assert_eq!(bot.exit_code().await, Some(0));
    fake.assert_clean();
}

/// `n` members subscribed to every topic, with their DM channels open, seeded straight into the
/// fake and the database (subscribing one by one is tested end to end elsewhere).
async fn seed_subscribers(fake: &FakeDiscord, db_url: &str, guild: u64, n: usize) -> Vec<u64> {
    use beacon::desk::crisis::{CrisisLedger, Subscription};
    let store = beacon::store::Store::connect(db_url).await.unwrap();
    store.migrate().await.unwrap();
    let mut users = Vec::with_capacity(n);
    for i in 0..n {
        let user = fake.add_member(guild, &format!("member{i}"), &[]);
        let sub = Subscription {
            guild_id: guild,
            user_id: user,
            topic: "*".into(),
            dm_channel_id: fake.open_dm(user),
            lang: "en".into(),
            since_ms: 1,
            dm_refused_at_ms: None,
        };
        store.subscribe(&sub).await.unwrap();
        users.push(user);
    }
    store.close().await;
    users
}

/// Every user got exactly one direct message.
fn assert_one_dm_each(fake: &FakeDiscord, users: &[u64]) {
    let counts = fake.bot_message_counts();
    let wrong: Vec<(u64, usize)> = users
        .iter()
        .map(|u| {
            let dm = fake.dm_channel_of(*u).unwrap();
            (*u, counts.get(&dm).copied().unwrap_or(0))
        })
        .filter(|(_, n)| *n != 1)
        .collect();
    assert!(
        wrong.is_empty(),
        "{} of {} members did not get exactly one DM, e.g. {:?}",
        wrong.len(),
        users.len(),
        &wrong[..wrong.len().min(5)]
    );
}

/// Wait until the update's deliveries are all done.
async fn wait_delivered(
    db_url: &str,
    update_id: i64,
    total: i64,
) -> beacon::desk::crisis::Progress {
    use beacon::desk::crisis::CrisisLedger;
    let store = beacon::store::Store::connect(db_url).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(180);
    loop {
        let p = store.progress(update_id).await.unwrap();
        if p.total == total && p.finished() {
            store.close().await;
            return p;
        }
        assert!(std::time::Instant::now() < deadline, "not delivered: {p:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Whether the server's crisis has been delivered to everyone.
async fn all_delivered(db_url: &str, guild: u64) -> bool {
    use beacon::desk::crisis::CrisisLedger;
    let store = beacon::store::Store::connect(db_url).await.unwrap();
    let mut done = false;
    if let Some(crisis) = store.running_crises(guild).await.unwrap().first()
        && let Some(update) = store.updates(crisis.id).await.unwrap().first()
    {
        let p = store.progress(update.id).await.unwrap();
        done = p.total > 0 && p.finished();
    }
    store.close().await;
    done
}

/// Kills the bot at random moments during a fan-out to 10,000 subscribers, three times, and
/// starts it again each time: every subscriber ends up with exactly one message.
async fn killed_during_a_fan_out_delivers_every_message_once(db_url: String) {
    use beacon::desk::crisis::CrisisLedger;
    const MEMBERS: usize = 10_000;
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let general = fake.add_text_channel(guild, "general");
    let status = fake.add_text_channel(guild, "status");
    let moderator_role = fake.add_role(guild, "Moderators", MANAGE_GUILD);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let users = seed_subscribers(&fake, &db_url, guild, MEMBERS).await;
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    let config = dir.path().join("beacon.toml");
    std::fs::write(
        &config,
        "[announcements]\ndm_rate_per_second = 3000\n[discord]\nrest_per_second = 3000\n",
    )
    .unwrap();

    for round in 0..4 {
        let log = dir.path().join(format!("log{round}"));
        let mut bot = Running::start_configured(&fake, &db_url, &kb, log, Some(&config));
        bot.wait_identified(&fake, round + 1).await;
        if round == 0 {
            let options = json!([{"name": "channels", "type": 1, "options": [
                {"name": "status", "type": 7, "value": status.to_string()}]}]);
            setup(&fake, guild, general, moderator, options).await;
            fake.push_slash_command(
                guild,
                general,
                moderator,
                "crisis",
                json!([{"name": "start", "type": 1, "options": [
                    {"name": "topic", "type": 3, "value": "outage"},
                    {"name": "title", "type": 3, "value": "Everything is down"},
                    {"name": "status", "type": 3, "value": "We are on it."}]}]),
                "en-US",
            );
        }
        if round == 3 {
            // The last start delivers the rest, then stops cleanly.
            let store = beacon::store::Store::connect(&db_url).await.unwrap();
            let crisis = store.running_crises(guild).await.unwrap().remove(0);
            let update = store.updates(crisis.id).await.unwrap().remove(0);
            store.close().await;
            let p = wait_delivered(&db_url, update.id, MEMBERS as i64).await;
            assert_eq!(p.sent, MEMBERS as i64, "{p:?}");
            bot.signal("TERM");
            assert_eq!(bot.exit_code().await, Some(0));
            break;
        }
        // Killed somewhere in the fan-out (unless it is over already: then nothing is left to
        // interrupt, and the last start checks the result).
        let from = fake.request_count();
        let kill_after = fastrand::usize(200..3_000);
        let deadline = std::time::Instant::now() + Duration::from_secs(120);
        let mut looks = 0u32;
        while fake.request_count() < from + kill_after {
            // Now and then (a connection each time), whether there is anything left to do.
            looks += 1;
            if looks % 25 == 0 && all_delivered(&db_url, guild).await {
                break;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "round {round}: no progress"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        bot.kill();
    }
    assert_one_dm_each(&fake, &users);
    fake.assert_clean();
}

/// Two `beacon send` processes share one PostgreSQL outbox of 10,000 deliveries: each sends a
/// part, and every member gets exactly one message.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_senders_share_one_postgres_outbox() {
    use beacon::desk::crisis::{CrisisLedger, UpdateMark};
    const MEMBERS: usize = 10_000;
    let Some(db) = crate::db::TestDb::postgres().await else {
        return;
    };
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let users = seed_subscribers(&fake, &db.url, guild, MEMBERS).await;
    // A crisis update written to the outbox, as `/crisis start` would have.
    let store = beacon::store::Store::connect(&db.url).await.unwrap();
    let (_, update) = store
        .start_crisis(guild, "outage", "Everything is down", "We are on it.", 1, 1)
        .await
        .unwrap()
        .unwrap();
    let mark = UpdateMark::Shown {
        announce_message_id: None,
    };
    store.mark_update(update.id, mark).await.unwrap();
    let total = store.fan_out(update.id, guild, "outage", 1).await.unwrap();
    assert_eq!(total, MEMBERS as i64);
    store.close().await;

    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    let config = dir.path().join("beacon.toml");
    std::fs::write(
        &config,
        "[announcements]\ndm_rate_per_second = 2000\n[discord]\nrest_per_second = 2000\n",
    )
    .unwrap();
    let senders: Vec<Running> = (0..2)
        .map(|i| {
            let log = dir.path().join(format!("sender{i}"));
            Running::spawn("send", &fake, &db.url, &kb, log, Some(&config))
        })
        .collect();
    let p = wait_delivered(&db.url, update.id, MEMBERS as i64).await;
    assert_eq!(p.sent, MEMBERS as i64, "{p:?}");
    let mut sent_by = Vec::new();
    for sender in senders {
        sender.signal("TERM");
        let log = sender.log.clone();
        assert_eq!(sender.exit_code().await, Some(0));
        let sent = log_lines(&log)
            .iter()
            .find(|l| l["message"] == json!("outbox sender stopped"))
            .and_then(|l| l["sent"].as_u64())
            .expect("the sender says how many it sent");
        sent_by.push(sent);
    }
    assert_eq!(sent_by.iter().sum::<u64>(), MEMBERS as u64, "{sent_by:?}");
    assert!(
        sent_by.iter().all(|n| *n > 0),
        "both senders worked: {sent_by:?}"
    );
    assert_one_dm_each(&fake, &users);
    fake.assert_clean();
}

/// 1,200 connections to the public web port that each send half a request header and stay
/// silent, against a process allowed only 400 open files (so the default cap of 1,024
/// connections must give way to half of them): the ops port's `/healthz` still
/// answers, the silent sockets are closed after the header timeout, the public page answers
/// again, the gateway resumes after a drop, and a question is answered.
async fn half_open_web_connections_cannot_starve_the_process(db_url: String) {
    use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
    let fake = FakeDiscord::start().await;
    let guild = fake.add_guild("Acme");
    let help = fake.add_text_channel(guild, "help");
    let moderator_role = fake.add_role(guild, "Moderators", MANAGE_GUILD);
    let moderator = fake.add_member(guild, "mod", &[moderator_role]);
    let customer = fake.add_member(guild, "alex", &[]);
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    let port = || {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    };
    let (public, ops) = (port(), port());
    let config = dir.path().join("beacon.toml");
    std::fs::write(
        &config,
        format!(
            "[web]\nlisten = \"127.0.0.1:{public}\"\nops_listen = \"127.0.0.1:{ops}\"\n\
             header_timeout_seconds = 2\n"
        ),
    )
    .unwrap();
    let mut bot = Running::spawn_with(
        beacon_with_files(400),
        "run",
        &fake,
        &db_url,
        &kb,
        dir.path().join("log"),
        Some(&config),
    );
    bot.wait_identified(&fake, 1).await;
    set_help_channel(&fake, guild, help, moderator).await;

    // The test itself needs room for 1,200 sockets.
    let _ = rlimit::increase_nofile_limit(4096);
    let opens = (0..1200).map(|_| {
        tokio::spawn(async move {
            let mut s = tokio::time::timeout(
                Duration::from_secs(5),
                tokio::net::TcpStream::connect(("127.0.0.1", public)),
            )
            .await
            .ok()?
            .ok()?;
            s.write_all(b"GET /status/1 HTTP/1.1\r\nHost: beacon\r\nX-Half: ")
                .await
                .ok()?;
            Some(s)
        })
    });
    let mut silent = Vec::new();
    for open in opens {
        if let Some(s) = open.await.unwrap() {
            silent.push(s);
        }
    }
    assert!(
        silent.len() >= 200,
        "only {} connections opened",
        silent.len()
    );

    let get = |port: u16, path: &'static str| async move {
        let url = format!("http://127.0.0.1:{port}{path}");
        let answered = tokio::time::timeout(Duration::from_secs(30), reqwest::get(&url)).await;
        match answered {
            Ok(Ok(r)) => Some(r.status().as_u16()),
            _ => None,
        }
    };
    assert_eq!(
        get(ops, "/healthz").await,
        Some(200),
        "health answers beside them"
    );
    // The first silent sockets are closed by the server once the header timeout passes.
    // Read all 50 at once under one deadline, so a server that holds them fails fast.
    let reads = silent.iter_mut().take(50).map(|s| async move {
        let mut buf = [0u8; 256];
        // An answer (408) or the close itself both count.
        tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .is_ok_and(|read| read.is_ok())
    });
    let closed = futures_util::future::join_all(reads)
        .await
        .into_iter()
        .filter(|c| *c)
        .count();
    assert_eq!(closed, 50, "silent connections are closed, not held");
    assert_eq!(
        get(public, "/healthz").await,
        Some(200),
        "the public port answers again"
    );

    // The gateway still resumes, and a question is answered.
    fake.drop_connection();
    fake.wait_resumed(WAIT).await;
    let q = fake.push_message(help, customer, "how do I get my money back?");
    fake.wait_until("the answer", WAIT, |f| reply_in(f, help, q))
        .await;
    drop(silent);
    bot.signal("TERM");
    assert_eq!(bot.exit_code().await, Some(0));
    fake.assert_clean();
}
