//! The two context-menu entry points to a ticket (right-click, Apps):
//!
//! - **Open a ticket from this message** (on a message): a member opens their own ticket about
//!   it; staff open one for the message's author. The message is quoted in the header with a
//!   link back to it.
//! - **Open a ticket with this member** (on a member; staff): a ticket for that member, with the
//!   staff member in the thread.
//!
//! Both go to the desk's opening journey (`desk::opening`); this file only reads the
//! interaction and says the result. Context-menu commands have a name and no description
//! (<https://discord.com/developers/docs/interactions/application-commands#message-commands>,
//! `#user-commands`); their interaction carries the target in `data.target_id` and
//! `data.resolved`.

use serenity::all::{CommandInteraction, CommandType, CreateCommand, Http, ResolvedTarget};

use super::tickets::{self, Deferred as _};
use super::{Bot, actor_of};
use crate::desk::answers::choose_lang;
use crate::desk::opening::{self, OpenTicket, Quote};

/// The message command's name, as Discord shows it (at most 32 characters).
pub const FROM_MESSAGE: &str = "Open a ticket from this message";
/// The user command's name.
pub const WITH_MEMBER: &str = "Open a ticket with this member";

/// The two commands, for registration. A member command is offered to agents only (see
/// `commands::AUDIENCES`); the message command to everyone.
pub fn definitions() -> Vec<CreateCommand> {
    vec![
        CreateCommand::new(FROM_MESSAGE)
            .kind(CommandType::Message)
            .dm_permission(false),
        CreateCommand::new(WITH_MEMBER)
            .kind(CommandType::User)
            .dm_permission(false),
    ]
}

/// Run a context-menu command: deferred privately, then the ticket's news.
pub async fn run(bot: &Bot, http: &Http, cmd: &CommandInteraction) -> anyhow::Result<()> {
    cmd.defer_privately(http).await?;
    let text = answer(bot, http, cmd).await?;
    tickets::answer_deferred(http, cmd, &text).await
}

async fn answer(bot: &Bot, http: &Http, cmd: &CommandInteraction) -> anyhow::Result<String> {
    let l = bot.desk.locales;
    let invoker_lang = choose_lang("", Some(&cmd.locale));
    let guild = super::server(cmd.guild_id)?;
    let user = cmd.user.id.get();
    let actor = actor_of(bot, guild, user, cmd.member.as_deref()).await?;
    let ((customer, opened_by), quote, text) = match cmd.data.target() {
        Some(ResolvedTarget::Message(m)) => {
            let quote = Quote {
                author: m.author.id.get(),
                text: m.content.clone(),
                link: crate::desk::message_link(guild, m.channel_id.get(), m.id.get()),
            };
            let who = opening::about_message(&actor, m.author.id.get(), m.author.bot);
            (who, Some(quote), m.content.as_str())
        }
        Some(ResolvedTarget::User(target, _)) => {
            match opening::with_member(&actor, target.id.get(), target.bot) {
                Ok(who) => (who, None, ""),
                Err(refusal) => {
                    return Ok(tickets::refusal_text(l, invoker_lang, &refusal.into()));
                }
            }
        }
        _ => return Ok(l.get(invoker_lang, "error.expired").to_string()),
    };
    // A ticket speaks its customer's language: the message's script says it best, then the
    // locale of whoever asked.
    let lang = choose_lang(text, Some(&cmd.locale));
    let request = OpenTicket {
        guild,
        customer,
        lang,
        quote,
        opened_by,
        ..OpenTicket::default()
    };
    tickets::opened_or_notice(bot, http, request).await
}
