//! `beacon report`: the support report of one server read from the database, as text, CSV
//! files or a chart (part of the `beacon` binary).

use super::*;

fn parse_day(s: &str) -> Result<jiff::civil::Date, String> {
    s.parse()
        .map_err(|_| format!("{s:?} is not a day like 2026-11-22"))
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// A configuration file (default: beacon.toml when it exists).
    #[arg(long, env = "BEACON_CONFIG")]
    config: Option<PathBuf>,
    /// The server (guild) id.
    #[arg(long)]
    guild: u64,
    /// The period: the last N days up to now.
    #[arg(long, default_value_t = 7, conflicts_with = "from")]
    days: u32,
    /// The period's first day, YYYY-MM-DD in the server's time zone, instead of --days.
    #[arg(long, value_parser = parse_day)]
    from: Option<jiff::civil::Date>,
    /// The day after the period, YYYY-MM-DD in the server's time zone; default: now.
    #[arg(long, value_parser = parse_day, requires = "from")]
    to: Option<jiff::civil::Date>,
    /// Write tickets.csv, questions.csv, unanswered.csv, timeline.csv and crises.csv here.
    #[arg(long)]
    csv: Option<PathBuf>,
    /// Write the chart (volume and first response over time) to this PNG file.
    #[arg(long)]
    chart: Option<PathBuf>,
}

/// The report's period: whole days in the server's time zone, or the last `days` days.
fn report_period(args: &ReportArgs, zone: &jiff::tz::TimeZone) -> Result<Period, String> {
    let now = jiff::Timestamp::now().as_millisecond();
    let start = |day: jiff::civil::Date| {
        day.to_zoned(zone.clone())
            .map(|z| z.timestamp().as_millisecond())
            .map_err(|e| e.to_string())
    };
    let period = match args.from {
        Some(from) => Period {
            from_ms: start(from)?,
            to_ms: args.to.map_or(Ok(now), start)?,
        },
        None => Period::last_days(now, args.days),
    };
    if period.to_ms <= period.from_ms {
        return Err("the period ends before it starts".into());
    }
    Ok(period)
}

/// The report, from a database that is Beacon's, up to date, and knows the server; otherwise
/// what is wrong with it, in words.
async fn report_from(
    store: &Store,
    args: &ReportArgs,
    where_: &str,
) -> Result<beacon::desk::report::Report, String> {
    if store.is_empty().await {
        return Err(format!(
            "the database {where_} holds nothing from Beacon yet: is it the bot's database?"
        ));
    }
    let pending = store.pending_migrations().await;
    if pending > 0 {
        return Err(format!(
            "the database {where_} is {pending} migration(s) behind this beacon: run \
             `beacon migrate` (or start the bot) first"
        ));
    }
    let known = store.known_guilds().await.map_err(|e| e.to_string())?;
    if !known.iter().any(|(id, _)| *id == args.guild) {
        let list: Vec<String> = known
            .iter()
            .map(|(id, name)| match name {
                Some(name) => format!("{id} ({name})"),
                None => id.to_string(),
            })
            .collect();
        let list = if list.is_empty() {
            "none yet".to_string()
        } else {
            list.join(", ")
        };
        return Err(format!(
            "Beacon has no record of server {} in {where_}: nobody set it up, asked a question \
             or opened a ticket there. Servers it knows: {list}",
            args.guild
        ));
    }
    let settings = store
        .settings(args.guild)
        .await
        .map_err(|e| e.to_string())?;
    let zone = beacon::desk::settings::zone(&settings);
    let period = report_period(args, &zone)?;
    beacon::desk::report::build(store, args.guild, period, zone)
        .await
        .map_err(|e| e.to_string())
}

pub fn report(args: ReportArgs) -> ExitCode {
    let config = match load_config(args.config.as_deref()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let result = runtime().block_on(async {
        // A report only reads: it creates no database and migrates none.
        let store = Store::connect_existing(&config.database.url)
            .await
            .map_err(|e| {
                format!("{e} (set DATABASE_URL or [database] url to the bot's database)")
            })?;
        let where_ = beacon::store::redact_url(&config.database.url);
        let report = report_from(&store, &args, &where_).await;
        store.close().await;
        report
    });
    let report = match result {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    say!("{}", report.to_text().trim_end());
    if let Some(dir) = &args.csv {
        let written = std::fs::create_dir_all(dir)
            .map_err(|e| e.to_string())
            .and_then(|()| report.to_csv().map_err(|e| e.to_string()))
            .and_then(|files| {
                for (name, text) in &files {
                    std::fs::write(dir.join(name), text)
                        .map_err(|e| format!("{}: {e}", dir.join(name).display()))?;
                }
                Ok(files.len())
            });
        match written {
            Ok(n) => say!("\n{n} CSV files written to {}", dir.display()),
            Err(e) => {
                eprintln!("error: cannot write the CSV files: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    if let Some(path) = &args.chart {
        let png = beacon::chart::of_report(&report).map_err(|e| e.to_string());
        match png.and_then(|png| std::fs::write(path, png).map_err(|e| e.to_string())) {
            Ok(()) => say!("chart written to {}", path.display()),
            Err(e) => {
                eprintln!("error: cannot write the chart {}: {e}", path.display());
                return ExitCode::FAILURE;
            }
        }
    }
    ExitCode::SUCCESS
}
