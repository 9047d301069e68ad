//! Slash commands: `/faq` (with autocomplete), `/setup` and `/kb-reload` for moderators. The bot
//! registers them itself when it connects.

use serenity::all::{
    ChannelType, Command, CommandInteraction, CommandOptionType, Context,
    CreateAutocompleteResponse, CreateCommand, CreateCommandOption, CreateInteractionResponse,
    CreateInteractionResponseMessage, EditInteractionResponse, Permissions, ResolvedOption,
    ResolvedValue,
};
use serenity::http::Http;
use tracing::{error, info, warn};

use super::permissions::{Audience, Naming};
use super::render::{fit, no_pings};
use super::{Bot, render_asked, retry, tickets};
use crate::desk::answers::choose_lang;
use crate::desk::settings::{OpeningHours, check_threshold, check_time_zone};
use crate::desk::workflow::TicketsConfig;
use crate::desk::{GuildSettings, Question, Source};
use crate::kb::faq::Context as FaqContext;
use crate::kb::intents::Severity;

/// Discord's limit on autocomplete choices.
const MAX_CHOICES: usize = 25;
/// Autocomplete values that name an intent start with this; anything else is a typed question.
const CHOSEN: char = '#';

/// Who each command is for. Discord offers a command by its `default_member_permissions`
/// (set here from the audience) until an admin changes that under Server Settings >
/// Integrations; a bot cannot set per-role command permissions with its token (Application
/// Commands docs, "Permissions"). So a customer's list holds only what customers use; agents
/// are offered theirs by Manage Threads (tickets are threads), moderators by Manage Server;
/// `/setup roles` and `/setup check` say what to change when a configured role lacks it. The
/// bot still checks its own roles on every command, as before.
pub const AUDIENCES: &[(&str, Audience)] = &[
    ("faq", Audience::Customers),
    ("ticket", Audience::Customers),
    ("reopen", Audience::Customers),
    ("subscribe", Audience::Customers),
    ("unsubscribe", Audience::Customers),
    ("close", Audience::Agents),
    ("release", Audience::Agents),
    ("transfer", Audience::Agents),
    ("add", Audience::Agents),
    ("priority", Audience::Agents),
    ("tag", Audience::Agents),
    ("note", Audience::Agents),
    ("reply", Audience::Agents),
    ("resolve", Audience::Agents),
    ("block", Audience::Agents),
    ("unblock", Audience::Agents),
    ("transcript", Audience::Agents),
    ("setup", Audience::Moderators),
    ("crisis", Audience::Moderators),
    ("panel", Audience::Moderators),
    ("kb-reload", Audience::Moderators),
    ("report", Audience::Moderators),
    (super::context_menu::FROM_MESSAGE, Audience::Customers),
    (super::context_menu::WITH_MEMBER, Audience::Agents),
];

/// Every command the bot offers, each with its audience's default permissions.
pub fn definitions(tickets: &TicketsConfig) -> Vec<CreateCommand> {
    commands(tickets)
        .into_iter()
        .chain(super::tickets::work::definitions())
        .chain(super::context_menu::definitions())
        .map(|command| {
            let audience = AUDIENCES
                .iter()
                .find(|(n, _)| *n == name_of(&command))
                .map_or(Audience::Moderators, |(_, a)| *a);
            match audience.default_permissions() {
                Some(bits) => {
                    command.default_member_permissions(Permissions::from_bits_truncate(bits))
                }
                None => command,
            }
        })
        .collect()
}

/// A command's name, as it is registered.
fn name_of(command: &CreateCommand) -> String {
    serde_json::to_value(command)
        .ok()
        .and_then(|v| v["name"].as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The commands, before their permissions are set.
fn commands(tickets: &TicketsConfig) -> Vec<CreateCommand> {
    let string = |name: &str, description: &str, max: u16| {
        CreateCommandOption::new(CommandOptionType::String, name, description).max_length(max)
    };
    let channel = |name: &str, description: &str, kinds: Vec<ChannelType>| {
        CreateCommandOption::new(CommandOptionType::Channel, name, description).channel_types(kinds)
    };
    let sub = |name: &str, description: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, description)
    };
    let text_kinds = || vec![ChannelType::Text, ChannelType::News];
    vec![
        CreateCommand::new("faq")
            .description("Ask the FAQ a question")
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(CommandOptionType::String, "question", "Your question")
                    .required(true)
                    .set_autocomplete(true)
                    .max_length(500),
            ),
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
            ),
        ticket_command(tickets),
        CreateCommand::new("close")
            .description("Close this ticket (agents, in the ticket's thread)")
            .dm_permission(false)
            .add_option(string("reason", "Why it is closed", 300).required(true)),
        CreateCommand::new("reopen")
            .description("Reopen your closed ticket (the latest, or the one with this number)")
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::Integer,
                    "number",
                    "The ticket's number (default: this thread's, or your latest)",
                )
                .min_int_value(1),
            ),
        CreateCommand::new("crisis")
            .description("Crisis mode: one source of truth for everyone (moderators)")
            .dm_permission(false)
            .add_option(
                sub(
                    "start",
                    "Start a crisis: post and pin the status, tell subscribers",
                )
                .add_sub_option(
                    string("topic", "One word members subscribe to, like payments", 32)
                        .required(true),
                )
                .add_sub_option(string("title", "What is wrong, in a line", 100).required(true))
                .add_sub_option(
                    string("status", "What is known and what happens next", 1500).required(true),
                ),
            )
            .add_option(
                sub(
                    "update",
                    "Post an update: the status is edited, subscribers told",
                )
                .add_sub_option(string("text", "The update", 1500).required(true))
                .add_sub_option(string(
                    "topic",
                    "Which crisis, when several run",
                    32,
                )),
            )
            .add_option(
                sub("end", "End the crisis with a closing note")
                    .add_sub_option(string("note", "How it was resolved", 1500).required(true))
                    .add_sub_option(string("topic", "Which crisis, when several run", 32)),
            ),
        CreateCommand::new("subscribe")
            .description("Get crisis updates by direct message")
            .dm_permission(false)
            .add_option(string(
                "topic",
                "Only this topic (default: every crisis)",
                32,
            )),
        CreateCommand::new("unsubscribe")
            .description("Stop crisis updates by direct message")
            .dm_permission(false)
            .add_option(string("topic", "Only this topic (default: all)", 32)),
        CreateCommand::new("panel")
            .description("Post the ticket panel in this channel (moderators)")
            .dm_permission(false)
            .default_member_permissions(Permissions::MANAGE_GUILD),
        CreateCommand::new("kb-reload")
            .description("Reload the knowledge base from its files (moderators)")
            .dm_permission(false)
            .default_member_permissions(Permissions::MANAGE_GUILD),
        CreateCommand::new("report")
            .description(
                "How support is doing: tickets, response times, satisfaction, the FAQ (moderators)",
            )
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::Integer,
                    "days",
                    "The last N days (default 7)",
                )
                .min_int_value(1)
                .max_int_value(super::report::MAX_DAYS as u64),
            ),
        CreateCommand::new("transcript")
            .description("A link to a closed ticket's transcript, for you alone (agents)")
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::Integer,
                    "number",
                    "The ticket's number (default: this thread's ticket)",
                )
                .min_int_value(1),
            ),
    ]
}

/// `/ticket about: category:`: the categories are choices when there are several.
fn ticket_command(tickets: &TicketsConfig) -> CreateCommand {
    let mut command = CreateCommand::new("ticket")
        .description("Open a ticket: a private thread where a person from the team helps you")
        .dm_permission(false)
        .add_option(
            CreateCommandOption::new(
                CommandOptionType::String,
                "about",
                "What you need help with",
            )
            .max_length(500),
        );
    let categories = tickets.categories();
    if categories.len() > 1 {
        let option = categories.iter().take(MAX_CHOICES).fold(
            CreateCommandOption::new(CommandOptionType::String, "category", "What it is about"),
            |o, c| o.add_string_choice(fit(&c.label, 100), c.id.clone()),
        );
        command = command.add_option(option);
    }
    command
}

/// Register the commands globally (one bulk overwrite, so a removed command disappears too).
pub async fn register(http: &Http, tickets: &TicketsConfig) -> serenity::Result<()> {
    let registered = Command::set_global_commands(http, definitions(tickets)).await?;
    info!(commands = registered.len(), "slash commands registered");
    Ok(())
}

/// A slash command.
pub async fn on_command(bot: &Bot, ctx: &Context, cmd: &CommandInteraction) -> anyhow::Result<()> {
    if super::context_menu::is_ours(cmd) {
        return super::context_menu::run(bot, &ctx.http, cmd).await;
    }
    // A category with a form answers with the form itself, which cannot follow a deferral.
    if cmd.data.name == "ticket"
        && cmd.guild_id.is_some()
        && let Some(modal) = ticket_form(bot, cmd)
    {
        let response = CreateInteractionResponse::Modal(modal);
        retry(|| cmd.create_response(&ctx.http, response.clone())).await?;
        return Ok(());
    }
    // Acknowledge at once (privately): the database may be slow, Discord waits 3 seconds.
    let defer =
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
    retry(|| cmd.create_response(&ctx.http, defer.clone())).await?;
    let lang = choose_lang("", Some(&cmd.locale));
    let name = cmd.data.name.as_str();
    let http = &ctx.http;
    let reply = match name {
        "faq" => return faq(bot, ctx, cmd).await,
        _ if cmd.guild_id.is_none() => Reply::text(bot.desk.locales.get(lang, "error.guild_only")),
        "setup" | "kb-reload" | "panel" | "report" if !is_moderator(bot, cmd).await? => {
            Reply::text(bot.desk.locales.get(lang, "permission.moderator"))
        }
        "setup" => setup(bot, http, cmd, lang).await?,
        "ticket" => {
            let options = cmd.data.options();
            let about = string_option(&options, "about");
            let category = string_option(&options, "category");
            let guild = crate::discord::server(cmd.guild_id)?;
            let lang = choose_lang(about.as_deref().unwrap_or(""), Some(&cmd.locale));
            let request = crate::desk::opening::OpenTicket {
                guild,
                customer: cmd.user.id.get(),
                category: category.as_deref(),
                question_id: None,
                text: about.as_deref(),
                form: vec![],
                lang,
                ..Default::default()
            };
            Reply::text(tickets::opened_or_notice(bot, http, request).await?)
        }
        "close" => {
            let reason = string_option(&cmd.data.options(), "reason").unwrap_or_default();
            Reply::text(tickets::closing::close_command(bot, http, cmd, &reason, lang).await?)
        }
        "reopen" => Reply::text(tickets::closing::reopen_command(bot, http, cmd, lang).await?),
        "crisis" => Reply::text(super::crisis::command(bot, http, cmd, lang).await?),
        "subscribe" | "unsubscribe" => {
            let topic = string_option(&cmd.data.options(), "topic");
            // A topic typed in Persian, Arabic or Armenian says the member's language best.
            let lang = choose_lang(topic.as_deref().unwrap_or(""), Some(&cmd.locale));
            let guild = crate::discord::server(cmd.guild_id)?;
            let user = cmd.user.id.get();
            Reply::text(if name == "subscribe" {
                super::crisis::subscribe(bot, http, guild, user, topic.as_deref(), lang).await?
            } else {
                super::crisis::unsubscribe(bot, guild, user, topic.as_deref(), lang).await?
            })
        }
        "panel" => {
            let panel = tickets::open::panel(bot, lang);
            retry(|| cmd.channel_id.send_message(http, panel.clone())).await?;
            Reply::text("✅")
        }
        name if tickets::work::COMMANDS.contains(&name) => {
            Reply::text(tickets::work::command(bot, http, cmd, lang).await?)
        }
        "kb-reload" => reload(bot, lang).await,
        "report" => {
            let (summary, chart) = super::report::command(bot, cmd).await?;
            Reply {
                content: summary,
                components: vec![],
                files: chart.into_iter().collect(),
            }
        }
        "transcript" => {
            let guild = crate::discord::server(cmd.guild_id)?;
            let actor =
                super::actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
            Reply::text(super::report::transcript(bot, cmd, &actor, lang).await?)
        }
        _ => return Ok(()),
    };
    reply.send(ctx, cmd).await?;
    Ok(())
}

/// The form of the category `/ticket` names, if it has one.
fn ticket_form(bot: &Bot, cmd: &CommandInteraction) -> Option<serenity::all::CreateModal> {
    let options = cmd.data.options();
    let category = match string_option(&options, "category") {
        Some(id) => bot.desk.tickets.category(&id)?,
        None => bot.desk.tickets.default_category(),
    };
    tickets::open::form(bot, category, choose_lang("", Some(&cmd.locale)))
}

struct Reply {
    content: String,
    components: Vec<serenity::all::CreateActionRow>,
    files: Vec<serenity::all::CreateAttachment>,
}

impl Reply {
    fn text(content: impl Into<String>) -> Reply {
        Reply {
            content: content.into(),
            components: vec![],
            files: vec![],
        }
    }

    async fn send(
        self,
        ctx: &Context,
        cmd: &CommandInteraction,
    ) -> anyhow::Result<serenity::all::Message> {
        let mut edit = EditInteractionResponse::new()
            .content(fit(&self.content, super::render::MAX_CONTENT))
            .components(self.components)
            .allowed_mentions(no_pings());
        for file in self.files {
            edit = edit.new_attachment(file);
        }
        retry(|| cmd.edit_response(&ctx.http, edit.clone())).await
    }
}

/// Moderators: members who may manage the server, or who have the moderator role set up.
async fn is_moderator(bot: &Bot, cmd: &CommandInteraction) -> anyhow::Result<bool> {
    let Some(guild) = cmd.guild_id else {
        return Ok(false);
    };
    let member = cmd.member.as_deref();
    Ok(super::actor_of(bot, guild.get(), cmd.user.id.get(), member)
        .await?
        .is_moderator)
}

/// `/faq question`: the same journey as a help-channel message, answered privately.
async fn faq(bot: &Bot, ctx: &Context, cmd: &CommandInteraction) -> anyhow::Result<()> {
    let typed = string_option(&cmd.data.options(), "question").unwrap_or_default();
    let lang = choose_lang(&typed, Some(&cmd.locale));
    let Some(guild) = cmd.guild_id else {
        Reply::text(bot.desk.locales.get(lang, "error.guild_only"))
            .send(ctx, cmd)
            .await?;
        return Ok(());
    };
    if typed.trim().is_empty() {
        Reply::text(bot.desk.locales.get(lang, "faq.empty"))
            .send(ctx, cmd)
            .await?;
        return Ok(());
    }
    let faq = bot.desk.faq();
    // A chosen intent is asked by its title, so the stored question reads like one.
    let (chosen, text) = match typed.strip_prefix(CHOSEN).and_then(|id| faq.intent(id)) {
        Some(intent) => (Some(intent.id.clone()), intent.title.clone()),
        None => (None, typed.clone()),
    };
    let question = Question {
        guild_id: guild.get(),
        channel_id: cmd.channel_id.get(),
        user_id: cmd.user.id.get(),
        source: Source::Slash,
        source_id: cmd.id.get(),
        text,
        locale: Some(cmd.locale.clone()),
        chosen,
        crisis: !bot.desk.running_crises(guild.get()).await?.is_empty(),
        again: false,
    };
    let settings = bot.desk.settings(guild.get()).await?;
    let asked = match bot.desk.ask(&question).await {
        Ok(a) => a,
        Err(e) => {
            error!("cannot store the question: {e}");
            Reply::text(bot.desk.locales.get(lang, "error.generic"))
                .send(ctx, cmd)
                .await?;
            return Ok(());
        }
    };
    let agent_role = settings.agent_role.map(serenity::all::RoleId::new);
    let handoff = super::action_text(
        bot,
        &ctx.http,
        guild.get(),
        cmd.user.id.get(),
        &asked,
        &typed,
    )
    .await;
    let (mut content, components, question_id) =
        render_asked(bot, &asked, cmd.user.id.get(), agent_role, handoff).unwrap_or_else(|| {
            // The deferred reply must say something: a repeated flood notice is still a notice.
            let text = match &asked {
                crate::desk::Asked::Cooldown { wait, lang, .. } => bot.desk.locales.fill(
                    lang,
                    "cooldown.text",
                    &[("seconds", &wait.as_secs().max(1))],
                ),
                _ => bot.desk.locales.get(lang, "error.generic").to_string(),
            };
            (text, vec![], None)
        });
    super::add_status_line(bot, guild.get(), &asked, &mut content).await;
    let sent = Reply {
        content,
        components,
        files: vec![],
    }
    .send(ctx, cmd)
    .await?;
    if let Some(q) = question_id {
        bot.desk.replied(q, sent.id.get()).await?;
    }
    Ok(())
}

/// `/faq` autocomplete: the matcher's and the fuzzy finder's best intents for what is typed,
/// labelled in the customer's language. No database: autocomplete must be fast.
pub async fn on_autocomplete(
    bot: &Bot,
    ctx: &Context,
    cmd: &CommandInteraction,
) -> anyhow::Result<()> {
    let typed = cmd
        .data
        .autocomplete()
        .map(|o| o.value.to_string())
        .unwrap_or_default();
    if cmd.data.name == "reply" {
        let mut response = CreateAutocompleteResponse::new();
        for (name, title) in bot.replies().autocomplete(&typed, MAX_CHOICES) {
            response = response.add_string_choice(fit(&title, 100), name);
        }
        cmd.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(response))
            .await?;
        return Ok(());
    }
    let lang = choose_lang(&typed, Some(&cmd.locale));
    let faq = bot.desk.faq();
    let mut response = CreateAutocompleteResponse::new();
    for intent in faq.autocomplete(&typed, FaqContext::default(), MAX_CHOICES) {
        let label = crate::desk::answers::label_in(intent, lang);
        response = response.add_string_choice(fit(&label, 100), format!("{CHOSEN}{}", intent.id));
    }
    cmd.create_response(&ctx.http, CreateInteractionResponse::Autocomplete(response))
        .await?;
    Ok(())
}

/// A string option's value.
pub(crate) fn string_option(options: &[ResolvedOption<'_>], name: &str) -> Option<String> {
    options.iter().find_map(|o| match o.value {
        ResolvedValue::String(s) if o.name == name => Some(s.to_string()),
        _ => None,
    })
}

/// An integer option's value.
pub(crate) fn int_option(options: &[ResolvedOption<'_>], name: &str) -> Option<i64> {
    options.iter().find_map(|o| match o.value {
        ResolvedValue::Integer(i) if o.name == name => Some(i),
        _ => None,
    })
}

/// The checks of this server, advice naming places as mentions.
fn checker<'a>(bot: &'a Bot, http: &'a Http) -> super::doctor::Checker<'a> {
    super::doctor::Checker {
        http,
        application: http.application_id().map_or(0, |a| a.get()),
        tickets: &bot.desk.tickets,
        audiences: AUDIENCES,
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
async fn setup(
    bot: &Bot,
    http: &Http,
    cmd: &CommandInteraction,
    lang: &str,
) -> anyhow::Result<Reply> {
    let guild = crate::discord::server(cmd.guild_id)?;
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

/// `/kb-reload`: the new files answer from now on, or the errors reach the moderator and the old
/// knowledge base keeps answering.
async fn reload(bot: &Bot, lang: &str) -> Reply {
    let l = bot.desk.locales;
    match bot.reload().await {
        Ok(stats) => {
            info!(
                intents = stats.intents,
                examples = stats.examples,
                "knowledge base reloaded by a moderator"
            );
            Reply::text(l.fill(
                lang,
                "reload.done",
                &[("intents", &stats.intents), ("examples", &stats.examples)],
            ))
        }
        Err(e) => {
            let errors: Vec<String> = e
                .problems
                .iter()
                .filter(|p| p.severity == Severity::Error)
                .map(|p| p.to_string())
                .collect();
            error!("knowledge base reload refused: {e}");
            let mut text = l.fill(lang, "reload.refused", &[("count", &errors.len())]);
            text.push_str("\n```\n");
            let mut shown = 0;
            for line in &errors {
                // Leave room for the closing fence and the "... and N more" line.
                if text.chars().count() + line.chars().count() + 120 > super::render::MAX_CONTENT {
                    break;
                }
                text.push_str(&line.replace("```", "'''"));
                text.push('\n');
                shown += 1;
            }
            text.push_str("```");
            if shown < errors.len() {
                text.push('\n');
                text.push_str(&l.fill(lang, "reload.more", &[("count", &(errors.len() - shown))]));
            }
            Reply::text(text)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_command_has_its_audiences_default_permissions() {
        let defs = definitions(&TicketsConfig::default());
        assert_eq!(defs.len(), AUDIENCES.len(), "one audience per command");
        for def in &defs {
            let v = serde_json::to_value(def).unwrap();
            let name = v["name"].as_str().unwrap();
            let audience = AUDIENCES
                .iter()
                .find(|(n, _)| *n == name)
                .map(|(_, a)| *a)
                .unwrap_or_else(|| panic!("/{name} has no audience"));
            let expected = audience
                .default_permissions()
                .map(|bits| serde_json::Value::String(bits.to_string()));
            assert_eq!(
                v.get("default_member_permissions")
                    .cloned()
                    .filter(|p| !p.is_null()),
                expected,
                "/{name}"
            );
        }
        let customers: Vec<&str> = AUDIENCES
            .iter()
            .filter(|(_, a)| *a == Audience::Customers)
            .map(|(n, _)| *n)
            .collect();
        assert_eq!(
            customers,
            [
                "faq",
                "ticket",
                "reopen",
                "subscribe",
                "unsubscribe",
                super::super::context_menu::FROM_MESSAGE
            ]
        );
    }
}
