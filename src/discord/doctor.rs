//! `beacon doctor` (the command line, with the token) and `/setup check` (moderators, in
//! Discord): read a server's roles, channels with their overwrites and command permissions
//! from Discord, check them against what each configured feature needs
//! ([`permissions`](super::permissions)), and say per channel and feature what is missing and
//! how to fix it. Also, when Discord refuses a call with 403 / 50013 at run time, the same
//! reading turns it into advice for whoever triggered it.
//!
//! Discord is read raw (serenity's `fire` into JSON): serenity 0.12 drops permission bits it
//! does not know, among them Pin Messages.

use serde::de::DeserializeOwned;
use serde_json::Value;
use serenity::all::{ApplicationId, ChannelId, GuildId, UserId};
use serenity::http::{Http, HttpError, LightMethod, Request, Route};

use super::permissions::{
    self, Audience, Command, CommandPermissions, Naming, Plan, Server, Use, advice,
};
use crate::desk::GuildSettings;
use crate::desk::settings::check_time_zone;
use crate::desk::workflow::TicketsConfig;

async fn get<T: DeserializeOwned>(http: &Http, route: Route<'_>) -> serenity::Result<T> {
    http.fire(Request::new(route, LightMethod::Get)).await
}

/// A server as Beacon's checks need it, and its name.
pub async fn read_server(http: &Http, guild: u64) -> anyhow::Result<(Server, String)> {
    let guild_id = GuildId::new(guild);
    let about: Value = get(http, Route::Guild { guild_id }).await?;
    let roles: Vec<permissions::Role> = get(http, Route::GuildRoles { guild_id }).await?;
    let channels: Vec<permissions::Channel> = get(http, Route::GuildChannels { guild_id }).await?;
    let me: Value = get(http, Route::UserMe).await?;
    let bot_id: u64 = me["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    let member: Value = get(
        http,
        Route::GuildMember {
            guild_id,
            user_id: UserId::new(bot_id.max(1)),
        },
    )
    .await?;
    let ids = |v: &Value| -> Vec<u64> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(|r| r.as_str()?.parse().ok())
            .collect()
    };
    let server = Server {
        guild_id: guild,
        owner_id: about["owner_id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
        roles,
        channels,
        bot_id,
        bot_roles: ids(&member["roles"]),
    };
    let name = about["name"].as_str().unwrap_or_default().to_string();
    Ok((server, name))
}

/// The commands Beacon registered, with their ids and default permissions.
pub async fn read_commands(http: &Http, application: u64) -> anyhow::Result<Vec<Command>> {
    let application_id = ApplicationId::new(application);
    Ok(get(http, Route::Commands { application_id }).await?)
}

/// The command permissions an admin set in a server (none: an empty list).
pub async fn read_overrides(
    http: &Http,
    application: u64,
    guild: u64,
) -> anyhow::Result<Vec<CommandPermissions>> {
    let route = Route::GuildCommandsPermissions {
        application_id: ApplicationId::new(application),
        guild_id: GuildId::new(guild),
    };
    Ok(get(http, route).await?)
}

/// Which channels a server's settings use for what, and where Beacon pings which role.
pub fn plan(settings: &GuildSettings, tickets: &TicketsConfig) -> Plan {
    let mut channels: Vec<(Use, u64)> = settings
        .help_channels
        .iter()
        .map(|c| (Use::HelpChannel, *c))
        .collect();
    let mut add = |used: Use, channel: Option<u64>| {
        if let Some(c) = channel
            && !channels.contains(&(used, c))
        {
            channels.push((used, c));
        }
    };
    add(Use::Forum, settings.forum_channel);
    add(Use::Tickets, settings.tickets_channel);
    if settings.tickets_channel.is_some() {
        for category in tickets.categories() {
            add(Use::Tickets, category.channel);
        }
    }
    add(Use::Agents, settings.agents_channel);
    add(Use::Transcripts, settings.transcripts_channel);
    add(Use::Status, settings.status_channel);
    add(Use::Announcements, settings.announce_channel);
    let mut pings = Vec::new();
    if let Some(agents) = settings.agents_channel {
        pings.extend(settings.agent_role.map(|r| (r, agents)));
        pings.extend(settings.supervisor_role.map(|r| (r, agents)));
    }
    if let (Some(role), Some(channel)) = (settings.announce_role, settings.announce_channel) {
        pings.push((role, channel));
    }
    Plan { channels, pings }
}

/// Which audience each of Beacon's commands is for (see `commands::AUDIENCES`).
pub type Audiences<'a> = &'a [(&'a str, Audience)];

/// What a check of one server found.
#[derive(Debug, Default)]
pub struct ServerReport {
    pub name: String,
    /// Each problem, with its fix, in plain words.
    pub problems: Vec<String>,
}

/// What every check of a server needs besides the server: Discord, the app, the ticket
/// categories (their channels), the commands' audiences, and how advice names places.
pub struct Checker<'a> {
    pub http: &'a Http,
    pub application: u64,
    pub tickets: &'a TicketsConfig,
    pub audiences: Audiences<'a>,
    pub naming: Naming,
}

impl Checker<'_> {
    /// Check one server: the bot's permissions per configured channel and feature, silent role
    /// pings, which staff roles Discord offers their commands to, and the settings themselves.
    pub async fn server(&self, settings: &GuildSettings) -> anyhow::Result<ServerReport> {
        let (server, name) = read_server(self.http, settings.guild_id).await?;
        let channels = Plan {
            channels: plan(settings, self.tickets).channels,
            pings: vec![],
        };
        let mut problems = self.findings(&server, &channels);
        problems.extend(self.roles_of(&server, settings).await?);
        if let Some(zone) = &settings.time_zone
            && let Err(e) = check_time_zone(zone)
        {
            problems.push(format!("Opening hours: {e} (/setup hours)."));
        }
        Ok(ServerReport { name, problems })
    }

    /// What `/setup roles` tells the moderator about the roles just set: whether Discord
    /// offers the staff roles their commands, and whether Beacon's pings of them ping anyone.
    pub async fn roles(&self, settings: &GuildSettings) -> anyhow::Result<Vec<String>> {
        let (server, _) = read_server(self.http, settings.guild_id).await?;
        self.roles_of(&server, settings).await
    }

    /// The advice for each finding of a plan.
    fn findings(&self, server: &Server, plan: &Plan) -> Vec<String> {
        permissions::check(server, plan)
            .iter()
            .map(|f| advice(server, f, self.naming))
            .collect()
    }

    /// The staff roles' commands and the pings of every configured role.
    async fn roles_of(
        &self,
        server: &Server,
        settings: &GuildSettings,
    ) -> anyhow::Result<Vec<String>> {
        let mut notes = self.role_notes(server, settings).await?;
        let pings = Plan {
            channels: vec![],
            pings: plan(settings, self.tickets).pings,
        };
        notes.extend(self.findings(server, &pings));
        Ok(notes)
    }

    /// Whether Discord offers the configured agent and moderator roles their commands, and
    /// what to change where it does not.
    async fn role_notes(
        &self,
        server: &Server,
        settings: &GuildSettings,
    ) -> anyhow::Result<Vec<String>> {
        let roles = [
            (settings.agent_role, Audience::Agents),
            (settings.moderator_role, Audience::Moderators),
        ];
        if roles.iter().all(|(r, _)| r.is_none()) {
            return Ok(vec![]);
        }
        let registered = read_commands(self.http, self.application).await?;
        let commands: Vec<(Command, Audience)> = registered
            .into_iter()
            .filter_map(|c| {
                let audience = self.audiences.iter().find(|(n, _)| *n == c.name)?.1;
                Some((c, audience))
            })
            .collect();
        let overrides = read_overrides(self.http, self.application, server.guild_id).await?;
        Ok(roles
            .iter()
            .filter_map(|(role, audience)| {
                permissions::role_advice(
                    server,
                    self.application,
                    &overrides,
                    &commands,
                    *audience,
                    (*role)?,
                    self.naming,
                )
            })
            .collect())
    }
}

/// The method and URL of a call Discord refused with 403 / 50013, somewhere in an error's chain.
fn refused(error: &anyhow::Error) -> Option<(String, String)> {
    error
        .chain()
        .find_map(|e| match e.downcast_ref::<serenity::Error>()? {
            serenity::Error::Http(HttpError::UnsuccessfulRequest(r))
                if r.status_code.as_u16() == 403 && r.error.code == 50013 =>
            {
                Some((r.method.to_string(), r.url.clone()))
            }
            _ => None,
        })
}

/// For the log of work nobody is waiting on (timers, restarts): what Discord refused Beacon,
/// and where, without reading the server again on every pass. `None` for any other error.
pub fn refusal_hint(error: &anyhow::Error) -> Option<String> {
    let (method, url) = refused(error)?;
    let (channel, what, _) = permissions::refused_call(&method, &url)?;
    Some(format!(
        "Discord refused Beacon permission to {what} in channel {channel}: \
         `/setup check` or `beacon doctor` says which permission to give"
    ))
}

/// An error for the log: the refusal hint when Discord refused a permission, else the cause
/// chain.
pub fn why(error: &anyhow::Error) -> String {
    refusal_hint(error).unwrap_or_else(|| format!("{error:#}"))
}

/// When Discord refused a call with 403 / 50013 ("Missing Permissions"): what Beacon was doing,
/// and which permission to give where, read from the server now. `None` for any other error.
pub async fn explain_refusal(http: &Http, error: &anyhow::Error) -> Option<String> {
    let (method, url) = refused(error)?;
    let (channel, what, bits) = permissions::refused_call(&method, &url)?;
    let about: Value = get(
        http,
        Route::Channel {
            channel_id: ChannelId::new(channel),
        },
    )
    .await
    .ok()?;
    let guild: u64 = about["guild_id"].as_str()?.parse().ok()?;
    let in_thread = about.get("thread_metadata").is_some();
    let place = if in_thread {
        about["parent_id"].as_str()?.parse().ok()?
    } else {
        channel
    };
    let (server, _) = read_server(http, guild).await.ok()?;
    Some(permissions::refusal_advice(
        &server,
        place,
        in_thread,
        what,
        bits,
        Naming::Mentions,
    ))
}

/// Application flags that say the Message Content intent is on (Application docs,
/// "Application Flags": GATEWAY_MESSAGE_CONTENT, and _LIMITED below 100 servers).
const MESSAGE_CONTENT_FLAGS: u64 = (1 << 18) | (1 << 19);

/// `beacon doctor`: check the token, the gateway intent, the knowledge base, the database and
/// every server Beacon is in (or only `only`), printing a line per check to `out`. Returns
/// whether everything is in place.
pub async fn doctor(
    config: &crate::config::Config,
    only: Option<u64>,
    audiences: Audiences<'_>,
    out: &mut impl std::io::Write,
) -> anyhow::Result<bool> {
    let mut fine = true;
    let mut bad = |out: &mut dyn std::io::Write, line: String| {
        fine = false;
        let _ = writeln!(out, "✗ {line}");
    };
    let http = super::http_client(config, &config.discord.api_url)?;
    let me: Value = match get(&http, Route::UserMe).await {
        Ok(me) => me,
        Err(e) => {
            bad(
                out,
                format!(
                    "Discord did not accept the token: {e}. Copy a fresh one from https://discord.com/developers/applications (your app > Bot > Reset Token) into DISCORD_TOKEN."
                ),
            );
            return Ok(false);
        }
    };
    writeln!(
        out,
        "✓ token accepted: {} ({})",
        me["username"].as_str().unwrap_or("?"),
        me["id"].as_str().unwrap_or("?")
    )?;
    let app: Value = get(&http, Route::Oauth2ApplicationCurrent).await?;
    let application: u64 = app["id"].as_str().and_then(|s| s.parse().ok()).unwrap_or(0);
    let flags = app["flags"].as_u64().unwrap_or(0);
    if flags & MESSAGE_CONTENT_FLAGS == 0 {
        bad(out, "the Message Content intent is off: switch it on at https://discord.com/developers/applications (your app > Bot > Privileged Gateway Intents), or Beacon cannot read questions in help channels and the support forum.".into());
    } else {
        writeln!(out, "✓ Message Content intent on")?;
    }
    match crate::kb::intents::load_dir(&config.knowledge_base.dir) {
        Ok(kb) => writeln!(
            out,
            "✓ knowledge base {}: {} intents",
            config.knowledge_base.dir.display(),
            kb.intents.len()
        )?,
        Err(e) => bad(
            out,
            format!(
                "knowledge base {}: {e}",
                config.knowledge_base.dir.display()
            ),
        ),
    }
    let store = match crate::store::Store::connect(&config.database.url).await {
        Ok(s) => s,
        Err(e) => {
            bad(out, e.to_string());
            return Ok(false);
        }
    };
    match store.pending_migrations().await {
        0 => writeln!(out, "✓ database ready")?,
        n => writeln!(
            out,
            "! database: {n} migration(s) to apply; `beacon run` (or `beacon migrate`) applies them"
        )?,
    }
    writeln!(
        out,
        "  invite link with every permission Beacon needs: {}",
        permissions::invite_url(application)
    )?;
    let guilds: Vec<Value> = get(&http, Route::UserMeGuilds).await?;
    let ids: Vec<u64> = guilds
        .iter()
        .filter_map(|g| g["id"].as_str()?.parse().ok())
        .filter(|id| only.is_none_or(|o| o == *id))
        .collect();
    if let Some(o) = only
        && ids.is_empty()
    {
        bad(
            out,
            format!("Beacon is not in server {o}: invite it with the link above."),
        );
    }
    use crate::desk::Ledger as _;
    let checker = Checker {
        http: &http,
        application,
        tickets: &config.tickets,
        audiences,
        naming: Naming::Names,
    };
    for guild in ids {
        let settings = store.settings(guild).await?;
        let report = checker.server(&settings).await?;
        if report.problems.is_empty() {
            writeln!(
                out,
                "✓ server {} ({guild}): everything Beacon needs is in place",
                report.name
            )?;
        } else {
            writeln!(out, "server {} ({guild}):", report.name)?;
            for p in report.problems {
                bad(out, p);
            }
        }
    }
    store.close().await;
    Ok(fine)
}
