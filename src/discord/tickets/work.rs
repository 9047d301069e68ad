//! The agent commands on Discord: their definitions, and how an interaction becomes a desk
//! request (`desk::work`) and its outcome a private reply. Claim is the card's button; the
//! rest run in a ticket's thread (blocking anywhere on the server).

use serenity::all::{
    CommandInteraction, CommandOptionType, ComponentInteraction, CreateCommand,
    CreateCommandOption, Http, ResolvedOption, ResolvedValue,
};

use super::{refusal_text, thread_link};
use crate::desk::GuildSettings;
use crate::desk::tickets::{Actor, Priority};
use crate::desk::work::{AgentCommand, ClaimTicket, Claimed, Work as WorkRequest, Worked, mention};
use crate::discord::commands::{Invocation, string_option};
use crate::discord::port::Discord;
use crate::discord::{Bot, actor_of};

/// The agent commands, by the name each is registered under (their audience, agents, is in
/// `commands::TABLE`).
pub const COMMANDS: [(Work, &str); 10] = [
    (Work::Release, "release"),
    (Work::Transfer, "transfer"),
    (Work::Add, "add"),
    (Work::Priority, "priority"),
    (Work::Tag, "tag"),
    (Work::Note, "note"),
    (Work::Reply, "reply"),
    (Work::Resolve, "resolve"),
    (Work::Block, "block"),
    (Work::Unblock, "unblock"),
];

/// An agent command, before its options are read (see [`parse`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Work {
    Release,
    Transfer,
    Add,
    Priority,
    Tag,
    Note,
    Reply,
    Resolve,
    Block,
    Unblock,
}

/// The agent commands, for registration (their audience is in `commands::AUDIENCES`).
pub fn definitions() -> Vec<CreateCommand> {
    let string = |name: &str, description: &str, max: u16| {
        CreateCommandOption::new(CommandOptionType::String, name, description).max_length(max)
    };
    let user = |name: &str, description: &str| {
        CreateCommandOption::new(CommandOptionType::User, name, description)
    };
    vec![
        CreateCommand::new("release")
            .description("Hand this ticket back to the queue (agents)")
            .dm_permission(false),
        CreateCommand::new("transfer")
            .description("Give this ticket to another agent (agents)")
            .dm_permission(false)
            .add_option(user("agent", "The agent who takes it over").required(true)),
        CreateCommand::new("add")
            .description("Add a colleague to this ticket's thread (agents)")
            .dm_permission(false)
            .add_option(user("member", "Who to add").required(true)),
        CreateCommand::new("priority")
            .description("Change this ticket's priority (agents)")
            .dm_permission(false)
            .add_option(
                Priority::ALL.iter().fold(
                    CreateCommandOption::new(CommandOptionType::String, "level", "New priority")
                        .required(true),
                    |o, p| o.add_string_choice(p.name(), p.name()),
                ),
            ),
        CreateCommand::new("tag")
            .description("Tag this ticket, or remove a tag (agents)")
            .dm_permission(false)
            .add_option(string("name", "The tag", 40).required(true))
            .add_option(CreateCommandOption::new(
                CommandOptionType::Boolean,
                "remove",
                "Remove it instead",
            )),
        CreateCommand::new("note")
            .description("A note on this ticket that only agents see (agents)")
            .dm_permission(false)
            .add_option(string("text", "The note", 1500).required(true)),
        CreateCommand::new("reply")
            .description("Send a saved reply in this ticket (agents)")
            .dm_permission(false)
            .add_option(
                string("name", "Which saved reply", 100)
                    .required(true)
                    .set_autocomplete(true),
            ),
        CreateCommand::new("resolve")
            .description("Ask the customer whether this ticket can close (agents)")
            .dm_permission(false),
        CreateCommand::new("block")
            .description("Stop a member from opening tickets (agents, moderators)")
            .dm_permission(false)
            .add_option(user("member", "Who").required(true))
            .add_option(string("reason", "Why (kept for the team)", 300)),
        CreateCommand::new("unblock")
            .description("Let a member open tickets again (agents, moderators)")
            .dm_permission(false)
            .add_option(user("member", "Who").required(true)),
    ]
}

/// Claim from the card: the ticket goes to exactly one agent; everyone else is told why not.
/// Returns the private reply for whoever pressed.
pub async fn claim(
    bot: &Bot,
    http: &Http,
    c: &ComponentInteraction,
    ticket: i64,
    lang: &str,
) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let guild = crate::discord::server(c.guild_id)?;
    let actor = actor_of(bot, guild, c.user.id.get(), c.member.as_ref()).await?;
    // The pressed message is the ticket's card: Claim exists nowhere else.
    let req = ClaimTicket {
        actor,
        ticket,
        card: c.message.id.get(),
    };
    Ok(
        match bot
            .desk
            .claim_ticket(&Discord::new(bot, http), &req)
            .await?
        {
            Claimed::Expired => l.get(lang, "error.expired").to_string(),
            Claimed::NotDone(not_done) => refusal_text(l, lang, &not_done),
            Claimed::Claimed(ticket) => {
                bot.queue_changed.notify_one();
                l.fill(
                    lang,
                    "ticket.you_claimed",
                    &[
                        ("number", &ticket.number),
                        ("thread", &thread_link(&ticket)),
                    ],
                )
            }
        },
    )
}

fn boolean(options: &[ResolvedOption<'_>], name: &str) -> bool {
    options
        .iter()
        .any(|o| o.name == name && matches!(o.value, ResolvedValue::Boolean(true)))
}

/// A user option: the user, and the member Discord resolved with it, as the desk sees them on
/// this server (whether they are an agent is `Actor::on`'s rule).
fn member(options: &[ResolvedOption<'_>], name: &str, settings: &GuildSettings) -> Option<Actor> {
    options
        .iter()
        .find(|o| o.name == name)
        .and_then(|o| match &o.value {
            ResolvedValue::User(u, m) => {
                let roles: Vec<u64> = m
                    .map(|m| m.roles.iter().map(|r| r.get()).collect())
                    .unwrap_or_default();
                Some(Actor::on(settings, u.id.get(), &roles, false))
            }
            _ => None,
        })
}

/// The command an interaction names, with its options read. `None` when an option Discord
/// requires is missing (an outdated client).
fn parse(which: Work, cmd: &CommandInteraction, settings: &GuildSettings) -> Option<AgentCommand> {
    use Work as W;
    let options = cmd.data.options();
    let text = |name| string_option(&options, name).unwrap_or_default();
    let who = |name| member(&options, name, settings).map(|m| m.user_id);
    Some(match which {
        W::Release => AgentCommand::Release,
        W::Transfer => {
            let to = member(&options, "agent", settings)?;
            AgentCommand::Transfer {
                to: to.user_id,
                to_is_agent: to.is_agent,
            }
        }
        W::Add => AgentCommand::Add {
            member: who("member")?,
        },
        W::Priority => AgentCommand::Priority(
            string_option(&options, "level")
                .and_then(|p| Priority::from_name(&p))
                .unwrap_or(Priority::Normal),
        ),
        W::Tag => AgentCommand::Tag {
            name: text("name"),
            remove: boolean(&options, "remove"),
        },
        W::Note => AgentCommand::Note(text("text")),
        W::Reply => AgentCommand::Reply { name: text("name") },
        W::Resolve => AgentCommand::Resolve,
        W::Block => AgentCommand::Block {
            member: who("member")?,
            reason: text("reason"),
        },
        W::Unblock => AgentCommand::Unblock {
            member: who("member")?,
        },
    })
}

/// An agent command in a ticket's thread. Returns the private reply.
pub async fn command(
    bot: &Bot,
    http: &Http,
    inv: &Invocation,
    which: Work,
    cmd: &CommandInteraction,
) -> anyhow::Result<String> {
    let (l, lang) = (bot.desk.locales, inv.lang);
    let settings = bot.desk.settings(inv.guild).await?;
    let Some(command) = parse(which, cmd, &settings) else {
        return Ok(l.get(lang, "error.generic").to_string());
    };
    let replies = bot.replies();
    let work = WorkRequest {
        actor: &inv.actor,
        channel: inv.channel,
        command: &command,
        replies: &replies,
    };
    let worked = bot.desk.work(&Discord::new(bot, http), work).await?;
    if worked.moves_queue() {
        bot.queue_changed.notify_one();
    }
    Ok(say(l, lang, &worked))
}

/// What the agent reads about their command.
fn say(l: &crate::locale::Locales, lang: &str, worked: &Worked) -> String {
    match worked {
        Worked::NotDone(not_done) => refusal_text(l, lang, not_done),
        Worked::StaffOnly => l.get(lang, "ticket.agent_only").to_string(),
        Worked::Blocked { member } => format!("{} cannot open tickets any more.", mention(*member)),
        Worked::Unblocked {
            member,
            was_blocked: true,
        } => format!("{} can open tickets again.", mention(*member)),
        Worked::Unblocked { member, .. } => format!("{} was not blocked.", mention(*member)),
        Worked::Released(t) => format!("Ticket #{} is back in the queue.", t.number),
        Worked::Transferred(t) => format!(
            "Ticket #{} is now {}'s.",
            t.number,
            mention(t.agent_id.unwrap_or_default())
        ),
        Worked::Added { ticket, member } => {
            format!("{} is in ticket #{} now.", mention(*member), ticket.number)
        }
        Worked::Prioritised(t) => format!(
            "Ticket #{} is {} priority now.",
            t.number,
            t.priority.name()
        ),
        Worked::Tagged(t) if t.tags.is_empty() => format!("Ticket #{} has no tags.", t.number),
        Worked::Tagged(t) => format!("Ticket #{} tags: {}", t.number, t.tags.join(", ")),
        Worked::Noted(t) => format!("Note added to ticket #{} (agents only).", t.number),
        Worked::Replied { ticket, name } => format!("Sent `{name}` in ticket #{}.", ticket.number),
        Worked::NoSuchReply { name } => format!("There is no saved reply called `{name}`."),
        Worked::AskedToClose(t) => format!(
            "Asked the customer to confirm closing ticket #{}.",
            t.number
        ),
    }
}
