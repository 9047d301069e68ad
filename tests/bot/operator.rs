//! The operator's side of the binary: a start that fails leaves nothing behind and says what it
//! tried, secrets never reach the terminal, read-only commands write nothing, backups, and the
//! Docker image and systemd unit the README documents.

use std::path::Path;
use std::process::{Command, Output};

use crate::fake_discord::FakeDiscord;
use crate::report::{GUILD, seeded_store};

/// The built binary in `dir`, with none of the developer's environment.
fn beacon(dir: &Path) -> Command {
    let mut c = crate::process::clean(Command::new(env!("CARGO_BIN_EXE_beacon")));
    c.current_dir(dir);
    c
}

/// `beacon run` with the fake's token and API, so that the token check passes.
fn run_against(fake: &FakeDiscord, dir: &Path) -> Command {
    let mut c = beacon(dir);
    c.arg("run")
        .env("DISCORD_TOKEN", FakeDiscord::TOKEN)
        .env("BEACON_DISCORD_API_URL", fake.api_url());
    c
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// Every file in `dir`, by name.
fn files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_with_no_knowledge_base_creates_no_database() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let out = run_against(&fake, dir.path())
        .env("BEACON_INTENTS", dir.path().join("no-such-folder"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    assert!(stderr(&out).contains("no-such-folder"), "{}", stderr(&out));
    assert_eq!(files(dir.path()), Vec::<String>::new(), "nothing written");
    fake.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_start_on_a_port_in_use_creates_no_database() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let out = run_against(&fake, dir.path())
        .env("BEACON_INTENTS", &kb)
        .env("BEACON_OPS_LISTEN", &addr)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
    let err = stderr(&out);
    assert!(err.contains(&addr) && err.contains("/metrics"), "{err}");
    assert_eq!(files(dir.path()), ["intents"], "no beacon.db");
    fake.assert_clean();
}

#[test]
fn a_bad_setting_or_database_url_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("beacon.toml"), "[answers]\nthreshold = 2\n").unwrap();
    let out = beacon(dir.path())
        .args(["migrate"])
        .env("BEACON_CONFIG", "beacon.toml")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("answers.threshold"),
        "{}",
        stderr(&out)
    );
    std::fs::remove_file(dir.path().join("beacon.toml")).unwrap();

    let out = beacon(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", "not a url")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(stderr(&out).contains("\"not a url\""), "{}", stderr(&out));
    assert_eq!(
        files(dir.path()),
        Vec::<String>::new(),
        "no file named `not a url`"
    );
}

#[test]
fn a_broken_token_line_is_named_but_not_echoed() {
    let dir = tempfile::tempdir().unwrap();
    let token = "MTEyMzQ1Njc4OTAxMjM0NTY3OA.Gsecret.do-not-print-this-part";
    std::fs::write(
        dir.path().join("beacon.toml"),
        format!("[discord]\ntoken = \"{token}\n[database]\nurl = \"sqlite://b.db\"\n"),
    )
    .unwrap();
    for command in ["run", "migrate"] {
        let out = beacon(dir.path())
            .args([command, "--config", "beacon.toml"])
            .output()
            .unwrap();
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{command}: {err}");
        assert!(
            err.contains("beacon.toml, line 2") && err.contains("`token`"),
            "{err}"
        );
        assert!(
            !err.contains("do-not-print") && !err.contains("Gsecret"),
            "{err}"
        );
    }
    assert_eq!(files(dir.path()), ["beacon.toml"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_postgres_is_named_without_its_password() {
    let fake = FakeDiscord::start().await;
    let dir = tempfile::tempdir().unwrap();
    let kb = dir.path().join("intents");
    crate::harness::copy_starter_kb(&kb);
    // Nothing listens on port 1.
    let url = "postgres://beacon@127.0.0.1:1/beacon?password=hunter2-secret&sslmode=disable";
    let out = run_against(&fake, dir.path())
        .env("BEACON_INTENTS", &kb)
        .env("DATABASE_URL", url)
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("PostgreSQL at 127.0.0.1:1"), "{err}");
    assert!(err.contains("password=***"), "{err}");
    assert!(
        !err.contains("hunter2"),
        "the password is never printed: {err}"
    );
    fake.assert_clean();
}

#[test]
fn an_unreachable_discord_is_named_with_the_cause() {
    let dir = tempfile::tempdir().unwrap();
    let out = beacon(dir.path())
        .arg("run")
        .env("DISCORD_TOKEN", "MTEx.secret-token.value")
        .env("BEACON_DISCORD_API_URL", "http://127.0.0.1:1")
        .output()
        .unwrap();
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(
        err.contains("cannot reach Discord at http://127.0.0.1:1"),
        "{err}"
    );
    assert!(
        err.contains("Connection refused"),
        "the cause, not only \"error sending request\": {err}"
    );
    assert!(!err.contains("secret-token"), "{err}");
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[test]
fn a_report_reads_only_and_says_why_it_has_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let refused = || {
        let out = beacon(dir.path())
            .args(["report", "--guild", "5"])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(1), "{}", stderr(&out));
        stderr(&out)
    };
    // No database: none is created.
    let err = refused();
    assert!(err.contains("no database file at beacon.db"), "{err}");
    assert_eq!(files(dir.path()), Vec::<String>::new());
    // An empty file is not the bot's database, and is left as it was.
    std::fs::write(dir.path().join("beacon.db"), "").unwrap();
    let err = refused();
    assert!(err.contains("holds nothing from Beacon"), "{err}");
    let size = std::fs::metadata(dir.path().join("beacon.db"))
        .unwrap()
        .len();
    assert_eq!(size, 0, "the file is not written");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_report_on_a_server_beacon_never_saw_names_the_ones_it_knows() {
    let db = crate::db::TestDb::sqlite();
    seeded_store(&db.url).await.close().await;
    let dir = tempfile::tempdir().unwrap();
    let out = beacon(dir.path())
        .args(["report", "--guild", "42"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("no record of server 42"), "{err}");
    assert!(
        err.contains(&GUILD.to_string()),
        "the server it does know: {err}"
    );
    assert!(out.stdout.is_empty(), "no report of zeros");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_is_a_checked_copy_and_never_overwrites() {
    let db = crate::db::TestDb::sqlite();
    // The store stays open, as the running bot's would.
    let store = seeded_store(&db.url).await;
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("copy.db");
    let out = beacon(dir.path())
        .args(["backup", "copy.db"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    let said = String::from_utf8_lossy(&out.stdout);
    assert!(
        said.contains("copied to copy.db") && said.contains("checked"),
        "{said}"
    );
    let tickets = store.ticket_count().await.unwrap();
    assert!(
        said.contains(&format!("{tickets} tickets")),
        "counted in the copy: {said}"
    );

    // The copy is a whole database: the same tickets, and a report from it.
    let restored = beacon::store::Store::connect_existing(&format!("sqlite://{}", copy.display()))
        .await
        .unwrap();
    assert_eq!(
        restored.ticket_count().await.unwrap(),
        store.ticket_count().await.unwrap()
    );
    assert!(restored.ticket_count().await.unwrap() > 0);
    assert_eq!(restored.pending_migrations().await, 0);
    restored.close().await;

    let again = beacon(dir.path())
        .args(["backup", "copy.db"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("exists already"),
        "{}",
        stderr(&again)
    );
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_backup_of_postgres_points_to_pg_dump() {
    let dir = tempfile::tempdir().unwrap();
    let Some(db) = crate::db::TestDb::postgres().await else {
        return;
    };
    seeded_store(&db.url).await.close().await;
    let out = beacon(dir.path())
        .args(["backup", "copy.db"])
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pg_dump"), "{}", stderr(&out));
    assert_eq!(files(dir.path()), Vec::<String>::new());
}

#[test]
fn help_is_wrapped_to_the_terminal() {
    let dir = tempfile::tempdir().unwrap();
    for args in [&["--help"][..], &["run", "--help"], &["report", "--help"]] {
        let out = beacon(dir.path()).args(args).output().unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        let widest = help.lines().map(|l| l.chars().count()).max().unwrap_or(0);
        assert!(
            widest <= 100,
            "{args:?}: a {widest}-character line in\n{help}"
        );
    }
}

fn repo_file(name: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join(name)).unwrap()
}

/// The fenced blocks of the README that follow `marker` (its first ```` ``` ```` block after it).
fn readme_block(marker: &str) -> String {
    let readme = repo_file("README.md");
    let after = &readme[readme
        .find(marker)
        .unwrap_or_else(|| panic!("{marker} in README"))..];
    let start = after.find("```").unwrap();
    let body = &after[start..];
    let body = &body[body.find('\n').unwrap() + 1..];
    body[..body.find("```").unwrap()].to_string()
}

#[test]
fn the_dockerfile_builds_and_runs_what_the_readme_says() {
    let dockerfile = repo_file("Dockerfile");
    let readme = readme_block("### Running it in Docker");
    // The README's build command is the Dockerfile's own.
    let build = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("RUN cargo build"))
        .expect("the build stage runs cargo build");
    assert!(
        build.contains("--release") && build.contains("--locked"),
        "{build}"
    );
    assert!(
        readme.contains(&format!("cargo build{build}")),
        "README shows the build stage's `cargo build{build}`:\n{readme}"
    );
    assert!(readme.contains("docker build -t beacon ."), "{readme}");
    // Multi-stage, not root, with the knowledge base and the migrations inside.
    assert_eq!(
        dockerfile.matches("\nFROM ").count() + usize::from(dockerfile.starts_with("FROM")),
        2
    );
    let user = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("USER "))
        .expect("a USER");
    assert_ne!(user.trim(), "root");
    for copied in [
        "COPY intents ",
        "COPY migrations ",
        "/target/release/beacon",
    ] {
        assert!(dockerfile.contains(copied), "{copied}");
    }
    // The toolchain is at least the one Cargo.toml asks for.
    let image: f32 = dockerfile
        .lines()
        .find_map(|l| l.strip_prefix("FROM rust:"))
        .and_then(|tag| tag.split('-').next())
        .and_then(|v| v.parse().ok())
        .expect("FROM rust:X.Y-...");
    let manifest = repo_file("Cargo.toml");
    let wanted: f32 = manifest
        .lines()
        .find_map(|l| l.strip_prefix("rust-version = \""))
        .and_then(|v| v.trim_end_matches('"').parse().ok())
        .unwrap();
    assert!(
        image >= wanted,
        "rust:{image} builds a crate that needs {wanted}"
    );
    // Every variable the image sets is one Beacon reads, and the time zones are in the binary.
    for var in ["BEACON_INTENTS", "DATABASE_URL", "BEACON_OPS_LISTEN"] {
        assert!(dockerfile.contains(&format!("{var}=")), "{var}");
        assert!(
            repo_file("src/config.rs").contains(&format!("\"{var}\"")),
            "{var} is read"
        );
    }
    assert!(manifest.contains("tzdb-bundle-always"));
    assert!(repo_file("LICENSE").starts_with("MIT License"));
    assert!(manifest.contains("license = \"MIT\""));
}

#[test]
fn the_systemd_unit_runs_a_command_beacon_has() {
    let unit = readme_block("### Running it as a service");
    let exec = unit
        .lines()
        .find_map(|l| l.strip_prefix("ExecStart="))
        .expect("ExecStart");
    let words: Vec<&str> = exec.split_whitespace().collect();
    assert_eq!(words[1..], ["run"]);
    assert!(
        unit.contains("ExecReload=/bin/kill -HUP $MAINPID"),
        "SIGHUP reloads"
    );
    assert!(unit.contains("User=beacon"));
    let config = repo_file("src/config.rs");
    for line in unit.lines().filter_map(|l| l.strip_prefix("Environment=")) {
        let var = line.split('=').next().unwrap();
        assert!(
            config.contains(&format!("\"{var}\"")),
            "{var} is a variable Beacon reads"
        );
    }
    // `beacon run --help` lists the subcommand the unit starts.
    let dir = tempfile::tempdir().unwrap();
    let out = beacon(dir.path()).arg("--help").output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("  run "));
}
