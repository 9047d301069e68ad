//! The `beacon` command line. Everything here works without a Discord token.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use anyhow::{Context as _, Result};
use beacon::config::Config;
use beacon::desk::Ledger as _;
use beacon::desk::report::Period;
use beacon::eval::{self, Answerer};
use beacon::kb::check;
use beacon::kb::faq::{Context, Faq, Outcome};
use beacon::kb::intents::{self, Severity};
use beacon::kb::matcher::Thresholds;
use beacon::store::Store;
use clap::{Parser, Subcommand};

/// `println!` that ignores a closed stdout (`beacon ask ... | head`) instead of panicking.
macro_rules! say {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout().lock(), $($arg)*);
    }};
}

mod report_command;

use report_command::{ReportArgs, report};

#[derive(Parser)]
#[command(name = "beacon", version, about = "A customer-support bot for Discord")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the bot: connect to Discord and answer. Needs DISCORD_TOKEN; everything else has a
    /// default (SQLite file beacon.db, intents in ./intents). See `beacon config`.
    Run {
        /// A configuration file (default: beacon.toml when it exists).
        #[arg(long, env = "BEACON_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Deliver crisis updates from the outbox only, without a gateway connection. On
    /// PostgreSQL, run several beside `beacon run` to deliver faster: they share the outbox
    /// and never send one message twice. Needs DISCORD_TOKEN.
    Send {
        /// A configuration file (default: beacon.toml when it exists).
        #[arg(long, env = "BEACON_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Check that Beacon can do everything it is set up for: the token, the Message Content
    /// intent, the knowledge base, the database, and in every server (or only `--guild`) the
    /// permissions each configured channel needs, the roles its pings and staff commands
    /// need, and the opening hours. Says what to change for each problem; exits non-zero when
    /// there is one. Needs DISCORD_TOKEN.
    Doctor {
        /// A configuration file (default: beacon.toml when it exists).
        #[arg(long, env = "BEACON_CONFIG")]
        config: Option<PathBuf>,
        /// Check only this server (its id).
        #[arg(long)]
        guild: Option<u64>,
    },
    /// Apply the database migrations not applied yet, then exit (`run` does this too).
    Migrate {
        /// A configuration file (default: beacon.toml when it exists).
        #[arg(long, env = "BEACON_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Copy the SQLite database to FILE while the bot runs: one consistent moment, checked
    /// after it is written. FILE must not exist. To restore, stop the bot and put the copy in
    /// the database's place (the README says how, and what to use on PostgreSQL).
    Backup {
        /// The new file to write the copy to.
        file: PathBuf,
        /// A configuration file (default: beacon.toml when it exists).
        #[arg(long, env = "BEACON_CONFIG")]
        config: Option<PathBuf>,
    },
    /// Print the documented configuration file with every default; the ticket categories and
    /// rules are commented-out examples.
    Config,
    /// Print a support report for one server: tickets opened and closed, first response and
    /// resolution times, satisfaction, FAQ deflection, each crisis, and the most asked
    /// unanswered questions grouped by similarity. Optionally export CSV files and a chart.
    Report {
        #[command(flatten)]
        args: ReportArgs,
    },
    /// Ask the knowledge base a question, as a customer would: prints the decision, the top 3
    /// intents with their confidence, and the answer in the question's language.
    Ask {
        /// The question.
        text: String,
        /// The intents directory.
        #[arg(long, default_value = "intents", env = "BEACON_INTENTS")]
        intents: PathBuf,
        /// Answer as if a crisis were running (crisis-only intents may answer).
        #[arg(long)]
        crisis: bool,
        /// Confidence needed to answer, from 0 to 1 (default: the built-in threshold).
        #[arg(long, value_parser = parse_threshold)]
        threshold: Option<f32>,
    },
    /// Work with the knowledge base files.
    Intents {
        #[command(subcommand)]
        command: IntentsCommand,
    },
    /// Measure the matcher on a labelled query set; prints one JSON object.
    Eval {
        /// An intents directory, or a `text,intent` CSV to build the knowledge base from.
        #[arg(long)]
        kb: PathBuf,
        /// A `text,intent` CSV of questions; an empty intent marks an out-of-scope question.
        #[arg(long)]
        queries: PathBuf,
        /// Confidence needed to answer, from 0 to 1 (default: the built-in threshold).
        #[arg(long, value_parser = parse_threshold)]
        threshold: Option<f32>,
    },
}

#[derive(Subcommand)]
enum IntentsCommand {
    /// Validate the intent files and report what would confuse customers. Exits non-zero on
    /// errors; warnings alone exit 0.
    Check {
        /// The intents directory.
        #[arg(default_value = "intents", env = "BEACON_INTENTS")]
        dir: PathBuf,
    },
}

fn parse_threshold(s: &str) -> Result<f32, String> {
    match s.parse::<f32>() {
        Ok(t) if (0.0..=1.0).contains(&t) => Ok(t),
        _ => Err(format!("{s:?} is not a number from 0 to 1")),
    }
}

fn thresholds(answer: Option<f32>) -> Thresholds {
    let t = Thresholds::default();
    answer.map_or(t, |a| t.with_answer(a))
}

fn load_faq(dir: &Path, th: Thresholds) -> Result<Faq, ExitCode> {
    match intents::load_dir(dir) {
        Ok(kb) => Ok(Faq::new(kb, th)),
        Err(e) => {
            eprint!("{e}");
            Err(ExitCode::FAILURE)
        }
    }
}

fn ask(text: &str, dir: &Path, crisis: bool, threshold: Option<f32>) -> ExitCode {
    let faq = match load_faq(dir, thresholds(threshold)) {
        Ok(f) => f,
        Err(code) => return code,
    };
    let reply = faq.ask(text, Context { crisis });
    match &reply.outcome {
        Outcome::Answer(i) => say!("decision: answer ({})", i.id),
        Outcome::Suggest(list) => {
            let ids: Vec<&str> = list.iter().map(|i| i.id.as_str()).collect();
            say!("decision: suggest ({})", ids.join(", "));
        }
        Outcome::Abstain => say!("decision: abstain"),
    }
    say!("language: {}", reply.lang.unwrap_or("unknown"));
    say!("top intents:");
    if reply.top.is_empty() {
        say!("  (none: the question has no words the knowledge base knows)");
    }
    for (n, s) in reply.top.iter().take(3).enumerate() {
        let crisis_note = if s.intent.crisis_only && !crisis {
            "  [crisis only]"
        } else {
            ""
        };
        say!(
            "  {}. {:<24} {:.2}  {}{crisis_note}",
            n + 1,
            s.intent.id,
            s.confidence,
            s.intent.title
        );
    }
    match reply.answer_text() {
        Some((lang, answer)) => say!("answer ({lang}):\n{answer}"),
        None => match &reply.outcome {
            Outcome::Suggest(list) => {
                say!("did you mean:");
                for i in list {
                    say!("  - {}", i.title);
                }
            }
            _ => say!("no answer: the bot would offer a ticket"),
        },
    }
    ExitCode::SUCCESS
}

fn check_intents(dir: &Path) -> ExitCode {
    // The saved replies live beside the intents and are checked with them.
    let replies = match beacon::discord::load_replies(dir) {
        Ok(r) => r,
        Err(problems) => {
            for p in &problems {
                eprintln!("{p}");
            }
            eprintln!(
                "{} error(s): the saved replies in {} cannot be loaded",
                problems.len(),
                dir.join("replies").display()
            );
            return ExitCode::FAILURE;
        }
    };
    let kb = match intents::load_dir(dir) {
        Ok(kb) => kb,
        Err(e) => {
            for p in &e.problems {
                eprintln!("{p}");
            }
            let errors = e
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .count();
            eprintln!("{errors} error(s): the knowledge base cannot be loaded");
            return ExitCode::FAILURE;
        }
    };
    let findings = check::check(&kb);
    for w in &findings.problems {
        say!("{w}");
    }
    let examples: usize = kb.intents.iter().map(|i| i.examples.len()).sum();
    say!(
        "{} intents, {examples} examples: 0 errors, {} warning(s)",
        kb.intents.len(),
        findings.problems.len()
    );
    say!("{} saved replies: 0 errors", replies.len());
    if findings.held_out_total > 0 {
        #[expect(clippy::cast_precision_loss, reason = "example counts are small")]
        let share = findings.held_out_right as f64 / findings.held_out_total as f64;
        say!(
            "held out in turn, {} of {} examples ({:.0}%) find their own intent first",
            findings.held_out_right,
            findings.held_out_total,
            share * 100.0
        );
    }
    ExitCode::SUCCESS
}

fn run_eval(kb: &Path, queries: &Path, threshold: Option<f32>) -> Result<()> {
    let th = thresholds(threshold);
    let queries = eval::read_csv(queries)?;
    let start = Instant::now();
    let answerer: Box<dyn Answerer> = if kb.is_dir() {
        let loaded = intents::load_dir(kb).map_err(|e| anyhow::anyhow!("{e}"))?;
        Box::new(Faq::new(loaded, th))
    } else {
        Box::new(eval::matcher_from_rows(&eval::read_csv(kb)?))
    };
    let build_ms = start.elapsed().as_millis();
    let report = eval::evaluate(answerer.as_ref(), &queries, &th, build_ms);
    say!(
        "{}",
        serde_json::to_string(&report).context("printing the report")?
    );
    Ok(())
}

/// The configuration from the file and the environment, or the reason it cannot be read.
fn load_config(file: Option<&Path>) -> Result<Config, ExitCode> {
    Config::load(file, |name| std::env::var(name).ok()).map_err(|e| {
        eprintln!("error: {e}");
        ExitCode::from(2)
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("the tokio runtime starts")
}

/// The configuration of a command that talks to Discord: a missing token is said first, with
/// what to do about it, before anything else happens.
fn config_with_token(file: Option<&Path>) -> Result<Config, ExitCode> {
    let config = load_config(file)?;
    if let Err(e) = config.token() {
        eprintln!("{e}");
        return Err(ExitCode::from(2));
    }
    Ok(config)
}

fn run_bot(file: Option<&Path>, outbox_only: bool) -> ExitCode {
    let config = match config_with_token(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    if let Err(e) = beacon::logging::init(&config.log) {
        eprintln!("error: {e}");
        return ExitCode::from(2);
    }
    // Every connection (Discord, the database, the web's visitors) takes a descriptor: raise
    // the soft limit to the hard one, which is often 1,024 against a hard 500,000.
    match rlimit::increase_nofile_limit(u64::MAX) {
        Ok(n) => tracing::debug!(limit = n, "open-file limit"),
        Err(e) => tracing::warn!("cannot raise the open-file limit: {e}"),
    }
    let running = if outbox_only {
        runtime().block_on(beacon::discord::send_only(config, shutdown_signal()))
    } else {
        runtime().block_on(beacon::discord::run(config, shutdown_signal()))
    };
    match running {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!("{e:#}");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn doctor(file: Option<&Path>, guild: Option<u64>) -> ExitCode {
    let config = match config_with_token(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let checked = runtime().block_on(beacon::discord::doctor::doctor(
        &config,
        guild,
        &beacon::discord::commands::AUDIENCES,
        &mut std::io::stdout(),
    ));
    match checked {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

/// SIGINT (Ctrl-C) or SIGTERM.
async fn shutdown_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let mut term = signal(SignalKind::terminate()).expect("SIGTERM handler");
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = tokio::signal::ctrl_c().await;
}

fn migrate(file: Option<&Path>) -> ExitCode {
    let config = match load_config(file) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = runtime().block_on(async {
        let store = Store::connect(&config.database.url)
            .await
            .map_err(|e| e.to_string())?;
        let applied = store.migrate().await.map_err(|e| e.to_string())?;
        store.close().await;
        Ok::<_, String>((store.backend(), applied))
    });
    match result {
        Ok((backend, applied)) => {
            say!("{backend:?}: {applied} migration(s) applied, schema up to date");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn backup(file: &Path, config: Option<&Path>) -> ExitCode {
    let config = match load_config(config) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let where_ = beacon::store::redact_url(&config.database.url);
    let result = runtime().block_on(async {
        let store = Store::connect_existing(&config.database.url)
            .await
            .map_err(|e| e.to_string())?;
        let copied = store.backup_to(file).await;
        store.close().await;
        copied.map_err(|e| e.to_string())
    });
    match result {
        Ok(copied) => {
            let size = std::fs::metadata(file).map(|m| m.len()).unwrap_or(0);
            say!(
                "{where_} copied to {} ({} KiB, checked): {} tickets, {} questions",
                file.display(),
                size.div_ceil(1024),
                copied.tickets,
                copied.questions,
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Run { config } => run_bot(config.as_deref(), false),
        Command::Send { config } => run_bot(config.as_deref(), true),
        Command::Migrate { config } => migrate(config.as_deref()),
        Command::Doctor { config, guild } => doctor(config.as_deref(), guild),
        Command::Report { args } => report(args),
        Command::Backup { file, config } => backup(&file, config.as_deref()),
        Command::Config => {
            say!("{}", beacon::config::documented().trim_end());
            ExitCode::SUCCESS
        }
        Command::Ask {
            text,
            intents,
            crisis,
            threshold,
        } => ask(&text, &intents, crisis, threshold),
        Command::Intents {
            command: IntentsCommand::Check { dir },
        } => check_intents(&dir),
        Command::Eval {
            kb,
            queries,
            threshold,
        } => match run_eval(&kb, &queries, threshold) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
