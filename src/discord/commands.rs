//! Slash commands: `/faq` (with autocomplete), `/setup` and `/kb-reload` for moderators. The bot
//! registers them itself when it connects.

use serenity::all::{
    Command as Registered, CommandInteraction, CommandOptionType, Context, CreateCommand,
    CreateCommandOption, CreateInteractionResponse, CreateInteractionResponseMessage,
    EditInteractionResponse, Permissions, ResolvedOption, ResolvedValue,
};
use serenity::http::Http;
use tracing::{error, info};

use super::permissions::Audience;
use super::render::{fit, no_pings};
use super::{Bot, actor_of, retry, tickets};
use crate::desk::answers::choose_lang;
use crate::desk::tickets::Actor;
use crate::desk::workflow::TicketsConfig;
use crate::kb::intents::Severity;

/// Discord's limit on autocomplete choices (and on an option's choices).
pub(crate) const MAX_CHOICES: usize = 25;

/// Who each command is for. Discord offers a command by its `default_member_permissions`
/// (set here from the audience) until an admin changes that under Server Settings >
/// Integrations; a bot cannot set per-role command permissions with its token (Application
/// Commands docs, "Permissions"). So a customer's list holds only what customers use; agents
/// are offered theirs by Manage Threads (tickets are threads), moderators by Manage Server;
/// `/setup roles` and `/setup check` say what to change when a configured role lacks it. The
/// bot still checks its own roles on every command, as before.
pub static TABLE: std::sync::LazyLock<Vec<(Command, &str, Audience)>> =
    std::sync::LazyLock::new(|| {
        let mut table = vec![
            (Command::Faq, "faq", Audience::Customers),
            (Command::Ticket, "ticket", Audience::Customers),
            (Command::Reopen, "reopen", Audience::Customers),
            (Command::Subscribe, "subscribe", Audience::Customers),
            (Command::Unsubscribe, "unsubscribe", Audience::Customers),
            (Command::Close, "close", Audience::Agents),
        ];
        // The agent commands are named where they are defined.
        table.extend(
            tickets::work::COMMANDS
                .iter()
                .map(|(work, name)| (Command::Work(*work), *name, Audience::Agents)),
        );
        table.extend([
            (Command::Transcript, "transcript", Audience::Agents),
            (Command::Setup, "setup", Audience::Moderators),
            (Command::Crisis, "crisis", Audience::Moderators),
            (Command::Panel, "panel", Audience::Moderators),
            (Command::KbReload, "kb-reload", Audience::Moderators),
            (Command::Report, "report", Audience::Moderators),
            (
                Command::FromMessage,
                super::context_menu::FROM_MESSAGE,
                Audience::Customers,
            ),
            (
                Command::WithMember,
                super::context_menu::WITH_MEMBER,
                Audience::Agents,
            ),
        ]);
        table
    });

/// Each command's name and audience, in [`TABLE`]'s order (what `/setup check` and `beacon
/// doctor` read).
pub static AUDIENCES: std::sync::LazyLock<Vec<(&str, Audience)>> =
    std::sync::LazyLock::new(|| TABLE.iter().map(|(_, n, a)| (*n, *a)).collect());

/// Every command Beacon registers, as the dispatcher matches on it (names are read once, by
/// [`Command::named`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Command {
    Faq,
    Ticket,
    Reopen,
    Subscribe,
    Unsubscribe,
    Close,
    /// An agent command in a ticket's thread (`tickets::work`).
    Work(tickets::work::Work),
    Transcript,
    Setup,
    Crisis,
    Panel,
    KbReload,
    Report,
    /// The message context menu "Open a ticket from this message".
    FromMessage,
    /// The user context menu "Open a ticket with this member".
    WithMember,
}

impl Command {
    /// The command registered under `name`.
    pub fn named(name: &str) -> Option<Command> {
        TABLE
            .iter()
            .find(|(_, n, _)| *n == name)
            .map(|(c, _, _)| *c)
    }
}

/// Who runs a command, where, and in which language: read once per interaction, after Discord
/// has been answered (the roles come from the settings, which may need the database).
pub struct Invocation {
    pub guild: u64,
    /// The channel (or thread) it was run in.
    pub channel: u64,
    pub actor: Actor,
    /// The language of their client.
    pub lang: &'static str,
}

impl Invocation {
    /// The invocation of `cmd`; a command outside a server is refused (see [`super::server`]).
    pub async fn of(bot: &Bot, cmd: &CommandInteraction) -> anyhow::Result<Invocation> {
        let guild = super::server(cmd.guild_id)?;
        let actor = actor_of(bot, guild, cmd.user.id.get(), cmd.member.as_deref()).await?;
        Ok(Invocation {
            guild,
            channel: cmd.channel_id.get(),
            actor,
            lang: choose_lang("", Some(&cmd.locale)),
        })
    }
}

/// Every command the bot offers, each with its audience's default permissions, in the order
/// of [`AUDIENCES`] (the order `/setup check` lists them in), whichever file defines them.
pub fn definitions(tickets: &TicketsConfig) -> Vec<CreateCommand> {
    let mut all: Vec<(usize, CreateCommand)> = commands(tickets)
        .into_iter()
        .chain(super::tickets::work::definitions())
        .chain(super::context_menu::definitions())
        .map(|command| {
            let name = name_of(&command);
            let place = AUDIENCES.iter().position(|(n, _)| *n == name);
            let audience = place.map_or(Audience::Moderators, |i| AUDIENCES[i].1);
            let command = match audience.default_permissions() {
                Some(bits) => {
                    command.default_member_permissions(Permissions::from_bits_truncate(bits))
                }
                None => command,
            };
            (place.unwrap_or(usize::MAX), command)
        })
        .collect();
    all.sort_by_key(|(place, _)| *place);
    all.into_iter().map(|(_, command)| command).collect()
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
    let sub = |name: &str, description: &str| {
        CreateCommandOption::new(CommandOptionType::SubCommand, name, description)
    };
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
        super::setup::definition(),
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
    let registered = Registered::set_global_commands(http, definitions(tickets)).await?;
    info!(commands = registered.len(), "slash commands registered");
    Ok(())
}

/// A slash or context-menu command: read once into a [`Command`] and an [`Invocation`], then
/// handed to the file that owns it.
pub async fn on_command(bot: &Bot, ctx: &Context, cmd: &CommandInteraction) -> anyhow::Result<()> {
    let Some(command) = Command::named(&cmd.data.name) else {
        return Ok(());
    };
    let http = &ctx.http;
    match command {
        Command::FromMessage | Command::WithMember => {
            return super::context_menu::run(bot, http, cmd).await;
        }
        // A category with a form answers with the form itself, which cannot follow a deferral.
        Command::Ticket if cmd.guild_id.is_some() => {
            if let Some(modal) = ticket_form(bot, cmd) {
                let response = CreateInteractionResponse::Modal(modal);
                retry(|| cmd.create_response(http, response.clone())).await?;
                return Ok(());
            }
        }
        _ => {}
    }
    // Acknowledge at once (privately): the database may be slow, Discord waits 3 seconds.
    let defer =
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true));
    retry(|| cmd.create_response(http, defer.clone())).await?;
    if command == Command::Faq {
        return super::answering::faq(bot, ctx, cmd).await;
    }
    let inv = match Invocation::of(bot, cmd).await {
        Ok(inv) => inv,
        Err(e) if e.is::<super::NotInServer>() => {
            let lang = choose_lang("", Some(&cmd.locale));
            let text = bot.desk.locales.get(lang, "error.guild_only");
            Reply::text(text).send(ctx, cmd).await?;
            return Ok(());
        }
        Err(e) => return Err(e),
    };
    let lang = inv.lang;
    let options = cmd.data.options();
    let reply = match command {
        Command::Setup | Command::KbReload | Command::Panel | Command::Report
            if !inv.actor.is_moderator =>
        {
            Reply::text(bot.desk.locales.get(lang, "permission.moderator"))
        }
        Command::Setup => super::setup::command(bot, http, &inv, cmd).await?,
        Command::Ticket => {
            let about = string_option(&options, "about");
            let category = string_option(&options, "category");
            let lang = choose_lang(about.as_deref().unwrap_or(""), Some(&cmd.locale));
            let request = crate::desk::opening::OpenTicket {
                guild: inv.guild,
                customer: inv.actor.user_id,
                category: category.as_deref(),
                text: about.as_deref(),
                lang,
                ..Default::default()
            };
            Reply::text(tickets::opened_or_notice(bot, http, request).await?)
        }
        Command::Close => {
            let reason = string_option(&options, "reason").unwrap_or_default();
            Reply::text(tickets::closing::close_command(bot, http, inv, reason).await?)
        }
        Command::Reopen => {
            let number = int_option(&options, "number");
            Reply::text(tickets::closing::reopen_command(bot, http, inv, number).await?)
        }
        Command::Crisis => Reply::text(super::crisis::command(bot, http, inv, cmd).await?),
        Command::Subscribe | Command::Unsubscribe => {
            let topic = string_option(&options, "topic");
            // A topic typed in Persian, Arabic or Armenian says the member's language best.
            let lang = choose_lang(topic.as_deref().unwrap_or(""), Some(&cmd.locale));
            let (guild, user, topic) = (inv.guild, inv.actor.user_id, topic.as_deref());
            Reply::text(if command == Command::Subscribe {
                super::crisis::subscribe(bot, http, guild, user, topic, lang).await?
            } else {
                super::crisis::unsubscribe(bot, guild, user, topic, lang).await?
            })
        }
        Command::Panel => {
            let panel = tickets::open::panel(bot, lang);
            retry(|| cmd.channel_id.send_message(http, panel.clone())).await?;
            Reply::text("✅")
        }
        Command::Work(work) => {
            Reply::text(tickets::work::command(bot, http, &inv, work, cmd).await?)
        }
        Command::KbReload => reload(bot, lang).await,
        Command::Report => {
            let days = int_option(&options, "days");
            let (summary, chart) = super::report::command(bot, &inv, days).await?;
            Reply {
                content: summary,
                components: vec![],
                files: chart.into_iter().collect(),
            }
        }
        Command::Transcript => {
            let number = int_option(&options, "number");
            Reply::text(super::report::transcript(bot, &inv, number).await?)
        }
        Command::Faq | Command::FromMessage | Command::WithMember => return Ok(()),
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

pub(crate) struct Reply {
    pub content: String,
    pub components: Vec<serenity::all::CreateActionRow>,
    pub files: Vec<serenity::all::CreateAttachment>,
}

impl Reply {
    pub(crate) fn text(content: impl Into<String>) -> Reply {
        Reply {
            content: content.into(),
            components: vec![],
            files: vec![],
        }
    }

    pub(crate) async fn send(
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
    fn every_registered_command_is_read_back_as_itself() {
        let defs = definitions(&TicketsConfig::default());
        let mut read: Vec<Command> = defs
            .iter()
            .map(|def| {
                let name = name_of(def);
                Command::named(&name).unwrap_or_else(|| panic!("/{name} is not a Command"))
            })
            .collect();
        let all: Vec<Command> = TABLE.iter().map(|(c, _, _)| *c).collect();
        assert_eq!(read, all, "registered in TABLE's order, each once");
        read.dedup();
        assert_eq!(read.len(), TABLE.len());
        assert_eq!(Command::named("nope"), None);
    }

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
