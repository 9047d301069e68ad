//! `/setup`: a moderator sets Beacon up for their server, one group of settings at a time
//! (help channels, the staff channels, roles, opening hours, the answer threshold), sees them
//! all, or checks what Beacon cannot do where it is set up to work.

use serenity::all::{
    ChannelType, CommandInteraction, CommandOptionType, CreateCommand, CreateCommandOption, Http,
    ResolvedOption, ResolvedValue,
};

use tracing::{info, warn};

use super::Bot;
use super::commands::{AUDIENCES, Invocation, Reply, string_option};
use super::permissions::Naming;
use crate::desk::settings::{check_threshold, check_time_zone};
use crate::desk::{GuildSettings, OpeningHours};

/// The command, for registration.
pub fn definition() -> CreateCommand {
    let channel = |name: &str, description: &str, kinds: Vec<ChannelType>| {
        CreateCommandOption::new(CommandOptionType::Channel, name, description).channel_types(kinds)
    };
    let sub = |name: &str, description: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, description)
    };
    let text_kinds = || vec![ChannelType::Text, ChannelType::News];
    CreateCommand::new("setup")
        .description("Set Beacon up for this server (moderators)")
        .dm_permission(false)
        .add_option(sub("show", "Show the current settings"))
        .add_option(sub(
            "check",
            "Check Beacon's permissions in every channel and role it uses",
        ))
        .add_option(
            sub(
                "help-channel",
                "Answer every question in a channel, or stop",
            )
            .add_sub_option(channel("channel", "The help channel", text_kinds()).required(true))
            .add_sub_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "enabled",
                "Answer there (default yes)",
            )),
        )
        .add_option(
            sub("channels", "Choose the support forum and staff channels")
                .add_sub_option(channel("forum", "Support forum", vec![ChannelType::Forum]))
                .add_sub_option(channel("agents", "Agents' channel", text_kinds()))
                .add_sub_option(channel("tickets", "Where tickets open", text_kinds()))
                .add_sub_option(channel("announcements", "Announcements", text_kinds()))
                .add_sub_option(channel("status", "Status message channel", text_kinds()))
                .add_sub_option(channel("transcripts", "Where transcripts go", text_kinds())),
        )
        .add_option(
            sub("roles", "Choose the agent and moderator roles")
                .add_sub_option(CreateCommandOption::new(
                    CommandOptionType::Role,
                    "agent",
                    "Agents",
                ))
                .add_sub_option(CreateCommandOption::new(
                    CommandOptionType::Role,
                    "moderator",
                    "Moderators",
                ))
                .add_sub_option(CreateCommandOption::new(
                    CommandOptionType::Role,
                    "supervisor",
                    "Pinged when a ticket passes its target",
                ))
                .add_sub_option(CreateCommandOption::new(
                    CommandOptionType::Role,
                    "announce",
                    "An opt-in role pinged by crisis announcements",
                )),
        )
        .add_option(
            sub("hours", "Set opening hours and time zone")
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "hours",
                        "Like: mon-fri 09:00-17:00, sat 10:00-14:00",
                    )
                    .required(true)
                    .max_length(200),
                )
                .add_sub_option(
                    CreateCommandOption::new(
                        CommandOptionType::String,
                        "time-zone",
                        "Like: Europe/Berlin",
                    )
                    .required(true)
                    .max_length(64),
                ),
        )
        .add_option(
            sub("threshold", "How sure the FAQ must be to answer (0 to 1)").add_sub_option(
                CreateCommandOption::new(
                    CommandOptionType::Number,
                    "value",
                    "Leave empty for the default",
                )
                .min_number_value(0.0)
                .max_number_value(1.0),
            ),
        )
}

/// The checks of this server, advice naming places as mentions.
fn checker<'a>(bot: &'a Bot, http: &'a Http) -> super::doctor::Checker<'a> {
    super::doctor::Checker {
        http,
        application: http.application_id().map_or(0, |a| a.get()),
        tickets: &bot.desk.tickets,
        audiences: &AUDIENCES,
        naming: Naming::Mentions,
    }
}

/// `/setup check`: what Beacon cannot do in this server's configured channels and roles, and
/// how to fix each.
async fn check(
    bot: &Bot,
    http: &Http,
    settings: &GuildSettings,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let report = checker(bot, http).server(settings).await?;
    Ok(if report.problems.is_empty() {
        format!("✅ {}", l.get(lang, "setup.check_ok"))
    } else {
        format!(
            "⚠️ {}\n• {}",
            l.fill(
                lang,
                "setup.check_found",
                &[("count", &report.problems.len())]
            ),
            report.problems.join("\n• ")
        )
    })
}

/// `/setup ...`: change one group of settings, then show them all.
pub(crate) async fn command(
    bot: &Bot,
    http: &Http,
    inv: &Invocation,
    cmd: &CommandInteraction,
) -> anyhow::Result<Reply> {
    let (guild, lang) = (inv.guild, inv.lang);
    let _one_change_at_a_time = bot.desk.editing_settings().await;
    let current = bot.desk.settings(guild).await?;
    let mut s: GuildSettings = (*current).clone();
    let options = cmd.data.options();
    let Some(ResolvedOption {
        name: sub,
        value: ResolvedValue::SubCommand(args),
        ..
    }) = options.first()
    else {
        return Ok(Reply::text(summary(bot, &current, lang)));
    };
    let channel = |name: &str| {
        args.iter().find_map(|o| match &o.value {
            ResolvedValue::Channel(c) if o.name == name => Some(c.id.get()),
            _ => None,
        })
    };
    let role = |name: &str| {
        args.iter().find_map(|o| match &o.value {
            ResolvedValue::Role(r) if o.name == name => Some(r.id.get()),
            _ => None,
        })
    };
    let changed: Result<bool, crate::desk::SettingsError> = match *sub {
        "show" => Ok(false),
        "check" => return Ok(Reply::text(check(bot, http, &current, lang).await?)),
        "help-channel" => {
            let enabled = args
                .iter()
                .find_map(|o| match o.value {
                    ResolvedValue::Boolean(b) if o.name == "enabled" => Some(b),
                    _ => None,
                })
                .unwrap_or(true);
            if let Some(c) = channel("channel") {
                if enabled {
                    s.help_channels.insert(c);
                } else {
                    s.help_channels.remove(&c);
                }
            }
            Ok(true)
        }
        "channels" => {
            for (name, slot) in [
                ("forum", &mut s.forum_channel),
                ("agents", &mut s.agents_channel),
                ("tickets", &mut s.tickets_channel),
                ("announcements", &mut s.announce_channel),
                ("status", &mut s.status_channel),
                ("transcripts", &mut s.transcripts_channel),
            ] {
                if let Some(c) = channel(name) {
                    *slot = Some(c);
                }
            }
            Ok(true)
        }
        "roles" => {
            if let Some(r) = role("agent") {
                s.agent_role = Some(r);
            }
            if let Some(r) = role("moderator") {
                s.moderator_role = Some(r);
            }
            if let Some(r) = role("supervisor") {
                s.supervisor_role = Some(r);
            }
            if let Some(r) = role("announce") {
                s.announce_role = Some(r);
            }
            Ok(true)
        }
        "hours" => (|| {
            let hours = OpeningHours::parse(&string_option(args, "hours").unwrap_or_default())?;
            let zone = check_time_zone(&string_option(args, "time-zone").unwrap_or_default())?;
            s.opening_hours = Some(hours);
            s.time_zone = Some(zone);
            Ok(true)
        })(),
        "threshold" => {
            let value = args.iter().find_map(|o| match o.value {
                ResolvedValue::Number(n) if o.name == "value" => Some(n),
                _ => None,
            });
            match value.map(check_threshold).transpose() {
                Ok(v) => {
                    s.threshold = v;
                    Ok(true)
                }
                Err(e) => Err(e),
            }
        }
        _ => Ok(false),
    };
    match changed {
        Err(e) => Ok(Reply::text(bot.desk.locales.fill(
            lang,
            "setup.refused",
            &[("error", &e)],
        ))),
        Ok(false) => Ok(Reply::text(summary(bot, &current, lang))),
        Ok(true) => {
            s.updated_by = Some(cmd.user.id.get());
            bot.desk.save_settings(s.clone()).await?;
            info!(guild, by = %cmd.user.id, what = sub, "settings changed");
            let mut text = format!(
                "{}\n\n{}",
                bot.desk.locales.get(lang, "setup.saved"),
                summary(bot, &s, lang)
            );
            // Roles only work once Discord offers them their commands and pings them: say
            // what to change, now, where the moderator is looking.
            if *sub == "roles" {
                // The settings are saved either way; a failed read only costs the advice.
                let notes = checker(bot, http).roles(&s).await.unwrap_or_else(|e| {
                    warn!(guild, "cannot check the roles just set: {e:#}");
                    vec![]
                });
                for note in notes {
                    text.push_str("\n\n⚠️ ");
                    text.push_str(&note);
                }
            }
            Ok(Reply::text(text))
        }
    }
}

/// All of a server's settings, one per line, with channels and roles as mentions (allowed
/// mentions keep role mentions from pinging).
fn summary(bot: &Bot, s: &GuildSettings, lang: &str) -> String {
    let l = bot.desk.locales;
    let not_set = || l.get(lang, "setup.not_set").to_string();
    let channel = |c: Option<u64>| c.map(|c| format!("<#{c}>")).unwrap_or_else(not_set);
    let role = |r: Option<u64>| r.map(|r| format!("<@&{r}>")).unwrap_or_else(not_set);
    let help = if s.help_channels.is_empty() {
        not_set()
    } else {
        s.help_channels
            .iter()
            .map(|c| format!("<#{c}>"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let threshold = match s.threshold {
        Some(t) => format!("{t}"),
        None => l.fill(
            lang,
            "setup.default_threshold",
            &[("value", &bot.desk.faq().thresholds().answer)],
        ),
    };
    let lines = [
        ("setup.help_channels", help),
        ("setup.forum", channel(s.forum_channel)),
        ("setup.agents", channel(s.agents_channel)),
        ("setup.tickets", channel(s.tickets_channel)),
        ("setup.announcements", channel(s.announce_channel)),
        ("setup.status", channel(s.status_channel)),
        ("setup.transcripts", channel(s.transcripts_channel)),
        ("setup.agent_role", role(s.agent_role)),
        ("setup.moderator_role", role(s.moderator_role)),
        ("setup.supervisor_role", role(s.supervisor_role)),
        (
            "setup.hours",
            s.opening_hours
                .as_ref()
                .map(|h| h.to_string())
                .unwrap_or_else(not_set),
        ),
        (
            "setup.time_zone",
            s.time_zone.clone().unwrap_or_else(not_set),
        ),
        ("setup.threshold", threshold),
    ];
    lines
        .iter()
        .map(|(key, value)| format!("**{}**: {value}", l.get(lang, key)))
        .collect::<Vec<_>>()
        .join("\n")
}
