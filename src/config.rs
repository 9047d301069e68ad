//! Configuration: a TOML file (`beacon.toml` by default, every key optional) and environment
//! variables, which win over the file. `beacon config` prints the documented defaults.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The documented configuration file, with every default. Printed by `beacon config`.
pub const EXAMPLE: &str = r#"# beacon.toml: every key is optional; environment variables win over this file.

[discord]
# The bot token from https://discord.com/developers/applications (your app > Bot > Reset Token).
# Better kept out of files: set DISCORD_TOKEN instead.
# token = ""
# Where Discord's REST API and gateway are. Point it at an HTTP rate-limit proxy in production,
# or at a fake Discord in tests. Environment: BEACON_DISCORD_API_URL.
api_url = "https://discord.com"
# Every REST call Beacon makes goes through one limiter: at most this many requests a second in
# all (Discord allows a bot 50; interaction answers are exempt), answers and tickets first, the
# crisis outbox in what is left, per-route buckets as Discord's headers say.
rest_per_second = 49
# How long a call Discord rate-limits or fails with a 5xx is retried before Beacon gives up
# (an interaction's token lives 15 minutes).
retry_minutes = 15

[database]
# A SQLite file (created when missing), or postgres://user@host/db for large servers.
# Environment: DATABASE_URL.
url = "sqlite://beacon.db"

[knowledge_base]
# The folder of intent files. Environment: BEACON_INTENTS.
dir = "intents"

[answers]
# Answer when the matcher is at least this confident (0 to 1); servers may set their own
# with /setup threshold. Lower answers more questions and gets more of them wrong.
threshold = 0.57
# Flood guard: at most this many questions per member...
cooldown_questions = 4
# ...in this many seconds.
cooldown_seconds = 30
# After a new gateway session (a start, or a reconnect Discord could not resume), questions
# posted in help channels and the support forum while Beacon was away are read and answered:
# those of the last this many minutes...
catch_up_minutes = 30
# ...and at most this many messages per channel (1 to 1000), read 100 at a time.
catch_up_messages = 300

[announcements]
# The most crisis updates sent by direct message per second. The REST limiter above gives
# answers and tickets first call on Discord's 50 a second, so the outbox takes what they leave,
# up to this.
dm_rate_per_second = 40

[web]
# Serve the public status page, its Atom feed, agents' transcript links and /healthz on this
# address, e.g. "0.0.0.0:8080". Empty: no web server. Environment: BEACON_WEB_LISTEN.
listen = ""
# Serve /healthz and /metrics (ticket and question figures) on this address, for monitoring
# only, e.g. "127.0.0.1:9090". Empty: /metrics is not served. Environment: BEACON_OPS_LISTEN.
ops_listen = ""
# Connections each listener holds at once; past this, new ones wait to be accepted.
max_connections = 1024
# A connection that has not sent a whole request header this long after opening, or after its
# last answer (an idle keep-alive), is closed.
header_timeout_seconds = 10
# The address people reach that server at, for the links Beacon posts in Discord (no trailing
# slash), e.g. "https://status.example.com". Empty: http:// and the listen address.
# Environment: BEACON_PUBLIC_URL.
public_url = ""
# The language of the status page's own words when the reader's browser asks for none that
# Beacon speaks (en, fa, ar, hy).
lang = "en"
# How long a transcript link given to an agent keeps working.
transcript_link_minutes = 60
# How long a server's status page and feed are kept before the database is read again, so an
# outage's crowd of readers costs one read every few seconds. A crisis changed through this
# process shows at once; one changed by another process, within this time. 0: read every view.
status_cache_seconds = 5

[log]
# "text" (readable) or "json" (one object per line). Environment: BEACON_LOG_FORMAT.
format = "text"
# A tracing filter such as "info" or "beacon=debug,serenity=warn". Environment: BEACON_LOG.
level = "info"
"#;

/// What `beacon config` prints: every setting with its default, and the ticket categories and
/// rules as commented-out examples, so that saving the output as `beacon.toml` changes nothing
/// until a line is uncommented.
pub fn documented() -> String {
    let tickets = crate::desk::workflow::EXAMPLE;
    let (live, examples) = tickets
        .split_once("\n# The categories")
        .expect("the tickets example has its categories");
    let mut out = format!("{}\n\n{}\n", EXAMPLE.trim_end(), live.trim_end());
    out.push_str("\n# Examples, commented out: remove the leading '# ' of a block to use it.\n");
    for line in format!("# The categories{examples}").lines() {
        if line.is_empty() || line.starts_with('#') {
            out.push_str(line);
        } else {
            out.push_str("# ");
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// A secret that never shows in logs or debug output.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Self {
        Secret(s.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("\"<redacted>\"")
    }
}

#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct Config {
    pub discord: DiscordConfig,
    pub database: DatabaseConfig,
    pub knowledge_base: KbConfig,
    pub answers: AnswersConfig,
    pub tickets: crate::desk::workflow::TicketsConfig,
    pub announcements: AnnouncementsConfig,
    pub web: WebConfig,
    pub log: LogConfig,
}

/// `[web]`: the status page, transcript links, health and metrics.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct WebConfig {
    pub listen: String,
    pub ops_listen: String,
    pub max_connections: usize,
    pub header_timeout_seconds: u32,
    pub public_url: String,
    pub lang: String,
    pub transcript_link_minutes: u32,
    pub status_cache_seconds: u32,
}

impl Default for WebConfig {
    fn default() -> Self {
        WebConfig {
            listen: String::new(),
            ops_listen: String::new(),
            max_connections: 1024,
            header_timeout_seconds: 10,
            public_url: String::new(),
            lang: "en".into(),
            transcript_link_minutes: 60,
            status_cache_seconds: 5,
        }
    }
}

impl WebConfig {
    /// Whether the web server runs.
    pub fn enabled(&self) -> bool {
        !self.listen.trim().is_empty() || !self.ops_listen.trim().is_empty()
    }

    /// The base of the links Beacon posts: `public_url`, else `http://` and the listen address.
    pub fn base_url(&self) -> String {
        let url = if self.public_url.trim().is_empty() {
            format!("http://{}", self.listen.trim())
        } else {
            self.public_url.trim().to_string()
        };
        url.trim_end_matches('/').to_string()
    }
}

/// `[announcements]`: how fast crisis updates go out by direct message.
#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnnouncementsConfig {
    /// Direct messages a second. Discord allows a bot 50 requests a second in all; the rest is
    /// left for answers and tickets.
    pub dm_rate_per_second: u32,
}

impl Default for AnnouncementsConfig {
    fn default() -> Self {
        AnnouncementsConfig {
            dm_rate_per_second: 40,
        }
    }
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DiscordConfig {
    pub token: Option<Secret>,
    pub api_url: String,
    pub rest_per_second: u32,
    pub retry_minutes: u32,
}

#[derive(Clone, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct DatabaseConfig {
    pub url: String,
}

/// The URL may carry a password: debug output shows it redacted.
impl fmt::Debug for DatabaseConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DatabaseConfig")
            .field("url", &crate::store::redact_url(&self.url))
            .finish()
    }
}

/// A TOML error without the snippet of the file that `toml`'s own message quotes: the line at
/// fault may be `token = "..."` or a database URL with its password. Says the file, the line and
/// column, the key when the line starts with one, and what is wrong.
fn toml_error(path: &Path, text: &str, e: &toml::de::Error) -> String {
    let Some(span) = e.span() else {
        return format!("{}: {}", path.display(), e.message());
    };
    let before = &text[..span.start.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let column = before[line_start..].chars().count() + 1;
    let whole_line = text[line_start..].lines().next().unwrap_or("");
    // Only a bare key followed by '=' is named: a pasted value (a token alone on a line)
    // never is.
    let key = whole_line
        .split_once('=')
        .map(|(k, _)| k.trim())
        .filter(|k| {
            !k.is_empty()
                && k.len() <= 40
                && k.chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.'))
        });
    let at = key.map(|k| format!(" (key `{k}`)")).unwrap_or_default();
    format!(
        "{}, line {line}, column {column}{at}: {}",
        path.display(),
        e.message().trim_end()
    )
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct KbConfig {
    pub dir: PathBuf,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct AnswersConfig {
    pub threshold: f64,
    pub cooldown_questions: usize,
    pub cooldown_seconds: u64,
    pub catch_up_minutes: u32,
    pub catch_up_messages: u16,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Clone, Debug, Deserialize, PartialEq)]
#[serde(deny_unknown_fields, default)]
pub struct LogConfig {
    pub format: LogFormat,
    pub level: String,
}

/// Discord's own API, used unless configured otherwise.
pub const DISCORD_API: &str = "https://discord.com";

impl Default for DiscordConfig {
    fn default() -> Self {
        DiscordConfig {
            token: None,
            api_url: DISCORD_API.into(),
            rest_per_second: 49,
            retry_minutes: 15,
        }
    }
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig {
            url: "sqlite://beacon.db".into(),
        }
    }
}

impl Default for KbConfig {
    fn default() -> Self {
        KbConfig {
            dir: "intents".into(),
        }
    }
}

impl Default for AnswersConfig {
    fn default() -> Self {
        AnswersConfig {
            // The matcher's f32 threshold, as the two-decimal number the documentation shows.
            threshold: (f64::from(crate::kb::matcher::DEFAULT_ANSWER_THRESHOLD) * 100.0).round()
                / 100.0,
            cooldown_questions: 4,
            cooldown_seconds: 30,
            catch_up_minutes: 30,
            catch_up_messages: 300,
        }
    }
}

impl Default for LogConfig {
    fn default() -> Self {
        LogConfig {
            format: LogFormat::Text,
            level: "info".into(),
        }
    }
}

/// The default configuration file, read when it exists and no other is named.
pub const DEFAULT_FILE: &str = "beacon.toml";

impl Config {
    /// Read the configuration: `file` (which must exist) or `beacon.toml` when present, then
    /// the environment as `env` reports it.
    pub fn load(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Config, String> {
        let mut config = match file {
            Some(path) => Self::from_file(path)?,
            None if Path::new(DEFAULT_FILE).exists() => Self::from_file(Path::new(DEFAULT_FILE))?,
            None => Config::default(),
        };
        let env = |name: &str| env(name).filter(|v| !v.trim().is_empty());
        if let Some(token) = env("DISCORD_TOKEN") {
            config.discord.token = Some(Secret::new(token.trim()));
        }
        if let Some(url) = env("BEACON_DISCORD_API_URL") {
            config.discord.api_url = url;
        }
        if let Some(url) = env("DATABASE_URL") {
            config.database.url = url;
        }
        if let Some(dir) = env("BEACON_INTENTS") {
            config.knowledge_base.dir = dir.into();
        }
        if let Some(format) = env("BEACON_LOG_FORMAT") {
            config.log.format = match format.as_str() {
                "text" => LogFormat::Text,
                "json" => LogFormat::Json,
                other => {
                    return Err(format!(
                        "BEACON_LOG_FORMAT is {other:?}; use \"text\" or \"json\""
                    ));
                }
            };
        }
        if let Some(listen) = env("BEACON_WEB_LISTEN") {
            config.web.listen = listen;
        }
        if let Some(listen) = env("BEACON_OPS_LISTEN") {
            config.web.ops_listen = listen;
        }
        if let Some(url) = env("BEACON_PUBLIC_URL") {
            config.web.public_url = url;
        }
        if let Some(level) = env("BEACON_LOG") {
            config.log.level = level;
        }
        config.check()?;
        Ok(config)
    }

    fn from_file(path: &Path) -> Result<Config, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        toml::from_str(&text).map_err(|e| toml_error(path, &text, &e))
    }

    fn check(&self) -> Result<(), String> {
        crate::store::backend_of(&self.database.url)
            .map_err(|e| format!("database.url (or DATABASE_URL): {e}"))?;
        let a = &self.answers;
        if !(0.0..=1.0).contains(&a.threshold) {
            return Err(format!(
                "answers.threshold is {}; it must be from 0 to 1",
                a.threshold
            ));
        }
        if a.cooldown_questions == 0 || a.cooldown_seconds == 0 {
            return Err("answers.cooldown_questions and cooldown_seconds must be above 0".into());
        }
        if self.announcements.dm_rate_per_second == 0 {
            return Err("announcements.dm_rate_per_second must be above 0".into());
        }
        let web = &self.web;
        for (key, value, example) in [
            ("web.listen", &web.listen, "0.0.0.0:8080"),
            ("web.ops_listen", &web.ops_listen, "127.0.0.1:9090"),
        ] {
            let value = value.trim();
            if !value.is_empty() && value.parse::<std::net::SocketAddr>().is_err() {
                return Err(format!(
                    "{key} {value:?} must be an address and port such as \"{example}\""
                ));
            }
        }
        if !web.public_url.is_empty()
            && !web.public_url.starts_with("http://")
            && !web.public_url.starts_with("https://")
        {
            return Err(format!(
                "web.public_url {:?} must start with http:// or https://",
                web.public_url
            ));
        }
        if web.max_connections == 0 || web.header_timeout_seconds == 0 {
            return Err(
                "web.max_connections and web.header_timeout_seconds must be above 0".into(),
            );
        }
        if web.transcript_link_minutes == 0 {
            return Err("web.transcript_link_minutes must be above 0".into());
        }
        let problems = self.tickets.check();
        if !problems.is_empty() {
            return Err(format!("[tickets]: {}", problems.join("; ")));
        }
        if !(1..=1000).contains(&self.answers.catch_up_messages) {
            return Err("answers.catch_up_messages must be from 1 to 1000".into());
        }
        if self.discord.rest_per_second == 0 || self.discord.retry_minutes == 0 {
            return Err("discord.rest_per_second and discord.retry_minutes must be above 0".into());
        }
        if !self.discord.api_url.starts_with("http://")
            && !self.discord.api_url.starts_with("https://")
        {
            return Err(format!(
                "discord.api_url {:?} must start with http:// or https://",
                self.discord.api_url
            ));
        }
        Ok(())
    }

    /// The token, or the sentence that tells a newcomer how to get one.
    pub fn token(&self) -> Result<&Secret, String> {
        self.discord
            .token
            .as_ref()
            .filter(|t| !t.expose().is_empty())
            .ok_or_else(|| {
                "No Discord bot token: create a bot at https://discord.com/developers/applications \
             (your app > Bot > Reset Token), then run again with DISCORD_TOKEN=<token> \
             (or set token under [discord] in beacon.toml)."
                    .to_string()
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn env(vars: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        move |k| map.get(k).cloned()
    }

    #[test]
    fn the_documented_example_is_the_default() {
        let parsed: Config = toml::from_str(EXAMPLE).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn what_beacon_config_prints_is_the_default_and_shows_the_examples_commented_out() {
        let printed = documented();
        let parsed: Config = toml::from_str(&printed).unwrap();
        assert_eq!(parsed, Config::default());
        assert!(printed.contains("\n# [[tickets.category]]\n"), "{printed}");
        assert!(printed.contains("\n# id = \"billing\"\n"), "{printed}");
        assert!(printed.contains("# [[tickets.rule]]"), "{printed}");
        // Every line of the tickets example is there, live or commented out.
        for line in crate::desk::workflow::EXAMPLE.lines() {
            let shown = printed
                .lines()
                .any(|l| l == line || l.strip_prefix("# ") == Some(line));
            assert!(
                shown,
                "{line:?} is missing from what `beacon config` prints"
            );
        }
    }

    #[test]
    fn a_broken_line_is_named_without_echoing_its_value() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("beacon.toml");
        let token = "MTIzNDU2Nzg5.secret-part.abcdefghij";
        std::fs::write(
            &file,
            format!("[discord]\ntoken = \"{token}\nretry_minutes = 5\n"),
        )
        .unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(!e.contains("secret-part"), "{e}");
        assert!(
            e.contains("beacon.toml, line 2") && e.contains("key `token`"),
            "{e}"
        );
        // A value pasted alone on a line is not named either.
        std::fs::write(&file, format!("[discord]\n{token}\n")).unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(!e.contains("secret-part"), "{e}");
        assert!(e.contains("line 2"), "{e}");
    }

    #[test]
    fn database_passwords_are_redacted_in_both_forms_and_in_debug_output() {
        for (url, shown) in [
            (
                "postgres://beacon:hunter2@db/beacon",
                "postgres://beacon:***@db/beacon",
            ),
            (
                "postgres://beacon@db/beacon?password=hunter2&sslmode=require",
                "postgres://beacon@db/beacon?password=***&sslmode=require",
            ),
            (
                "postgres://db/b?sslpassword=hunter2",
                "postgres://db/b?sslpassword=***",
            ),
            ("sqlite://beacon.db", "sqlite://beacon.db"),
        ] {
            assert_eq!(crate::store::redact_url(url), shown);
        }
        let c = Config::load(
            None,
            env(&[("DATABASE_URL", "postgres://b@db/b?password=hunter2")]),
        )
        .unwrap();
        assert!(!format!("{c:?}").contains("hunter2"));
    }

    #[test]
    fn a_database_url_that_is_not_one_is_refused() {
        let e = Config::load(None, env(&[("DATABASE_URL", "not a url")])).unwrap_err();
        assert!(e.contains("not a url") && e.contains("sqlite://"), "{e}");
        let e = Config::load(None, env(&[("DATABASE_URL", "mysql://u:pw@h/db")])).unwrap_err();
        assert!(!e.contains(":pw@"), "{e}");
        for ok in [
            "beacon.db",
            "/var/lib/beacon/beacon.sqlite3",
            "sqlite::memory:",
        ] {
            assert!(
                Config::load(None, env(&[("DATABASE_URL", ok)])).is_ok(),
                "{ok}"
            );
        }
    }

    #[test]
    fn environment_wins_over_the_file_and_the_token_never_prints() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.toml");
        std::fs::write(
            &file,
            "[discord]\ntoken = \"from-file\"\n[database]\nurl = \"sqlite://x.db\"\n",
        )
        .unwrap();
        let c = Config::load(
            Some(&file),
            env(&[
                ("DISCORD_TOKEN", " secret-token "),
                ("BEACON_DISCORD_API_URL", "http://127.0.0.1:9"),
            ]),
        )
        .unwrap();
        assert_eq!(c.token().unwrap().expose(), "secret-token");
        assert_eq!(c.discord.api_url, "http://127.0.0.1:9");
        assert_eq!(c.database.url, "sqlite://x.db");
        assert!(!format!("{c:?}").contains("secret-token"));
    }

    #[test]
    fn mistakes_are_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("b.toml");
        std::fs::write(&file, "[answers]\nthreshhold = 0.5\n").unwrap();
        let e = Config::load(Some(&file), env(&[])).unwrap_err();
        assert!(e.contains("b.toml") && e.contains("threshhold"), "{e}");
        let e = Config::load(None, env(&[("BEACON_LOG_FORMAT", "xml")])).unwrap_err();
        assert!(e.contains("BEACON_LOG_FORMAT"), "{e}");
        let no_token = Config::load(None, env(&[])).unwrap();
        assert!(no_token.token().unwrap_err().contains("DISCORD_TOKEN"));
        assert!(Config::load(Some(Path::new("/nonexistent/b.toml")), env(&[])).is_err());
    }
}
