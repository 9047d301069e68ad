//! Ask and answer (journey J1) on Discord: a message in a help channel, the first post of a
//! support-forum thread, or `/faq` (with its autocomplete) becomes a desk question
//! (`desk::asking`); what came of it becomes one reply, rendered here once for all three; the
//! buttons and the "did you mean" list under it are handled here too. A message in a ticket's
//! thread is ticket activity instead.

use serenity::all::{
    ChannelId, CommandInteraction, ComponentInteraction, ComponentInteractionDataKind, Context,
    CreateActionRow, CreateAutocompleteResponse, CreateInteractionResponse,
    CreateInteractionResponseMessage, CreateMessage, EditInteractionResponse, Http, Message,
};
use tracing::{error, warn};

use super::commands::{self, MAX_CHOICES, string_option};
use super::custom_id::AnswerButton;
use super::port::Discord;
use super::render::{self, NONE_FIT, fit, no_pings};
use super::{Bot, crisis, retry};
use crate::desk::answers::choose_lang;
use crate::desk::asking::{Answered, Done};
use crate::desk::{Asked, EventKind, Question, Source};
use crate::kb::faq::Context as FaqContext;
use crate::kb::intents::Action as IntentAction;
use crate::locale::Locales;

/// Autocomplete values that name an intent start with this; anything else is a typed question.
const CHOSEN: char = '#';

/// A message in a help channel, or the first post of a support-forum thread, is a question.
/// `again` when the catch-up after a restart reads it (see [`catch_up`]).
pub(crate) async fn on_message(
    bot: &Bot,
    http: &Http,
    msg: &Message,
    again: bool,
) -> anyhow::Result<()> {
    if msg.author.bot || msg.content.trim().is_empty() {
        return Ok(());
    }
    let Some(guild) = msg.guild_id else {
        return Ok(());
    };
    let settings = bot.desk.settings(guild.get()).await?;
    let channel = msg.channel_id.get();
    let source = if settings.help_channels.contains(&channel) {
        Source::Message
    } else if settings.forum_channel.is_some() && msg.id.get() == channel {
        // A forum post's first message has the thread's id. THREAD_CREATE usually tells the
        // parent first, but serenity runs handlers concurrently, so ask Discord when unsure.
        let parent = match bot.thread_parent(channel) {
            Some(p) => Some(p),
            None => fetch_parent(http, msg.channel_id).await,
        };
        if parent.is_some() && parent == settings.forum_channel {
            Source::Forum
        } else {
            return Ok(());
        }
    } else {
        return ticket_activity(bot, &settings, msg).await;
    };
    let question = Question {
        guild_id: guild.get(),
        channel_id: channel,
        user_id: msg.author.id.get(),
        source,
        source_id: msg.id.get(),
        text: msg.content.clone(),
        locale: None,
        chosen: None,
        crisis: false,
        again,
    };
    let Some(reply) = answer(bot, http, question, false).await? else {
        return Ok(());
    };
    let sent = send_reply(http, msg, reply.content, reply.components).await?;
    if let Some(q) = reply.question_id {
        bot.desk.replied(q, sent.id.get()).await?;
    }
    Ok(())
}

/// A message in a ticket's thread: the customer's keeps it alive, staff's counts as a response.
/// Threads known to belong elsewhere are skipped without asking the database.
async fn ticket_activity(
    bot: &Bot,
    settings: &crate::desk::GuildSettings,
    msg: &Message,
) -> anyhow::Result<()> {
    let channel = msg.channel_id.get();
    if let Some(parent) = bot.thread_parent(channel) {
        let ticket_channels = bot
            .desk
            .tickets
            .categories()
            .iter()
            .filter_map(|c| c.channel)
            .chain(settings.tickets_channel);
        if !ticket_channels.into_iter().any(|c| c == parent) {
            return Ok(());
        }
    }
    bot.desk
        .message_in_thread(channel, msg.author.id.get(), crate::desk::now_ms())
        .await?;
    Ok(())
}

async fn fetch_parent(http: &Http, channel: ChannelId) -> Option<u64> {
    match http.get_channel(channel).await {
        Ok(serenity::all::Channel::Guild(c)) => c.parent_id.map(|p| p.get()),
        Ok(_) => None,
        Err(e) => {
            warn!(%channel, "cannot look up a thread's parent: {e}");
            None
        }
    }
}

/// Send a reply under a customer's message, pinging nobody. A REST failure (a 429 or a 5xx)
/// is retried a few times. The nonce is derived from the customer's message and enforced, so a
/// retry after a 5xx that Discord did act on returns the first reply instead of a second one.
async fn send_reply(
    http: &Http,
    msg: &Message,
    content: String,
    components: Vec<serenity::all::CreateActionRow>,
) -> anyhow::Result<Message> {
    let builder = CreateMessage::new()
        .content(fit(&content, render::MAX_CONTENT))
        .components(components)
        .allowed_mentions(no_pings())
        .reference_message(msg)
        .nonce(serenity::all::Nonce::String(format!("r{}", msg.id)))
        .enforce_nonce(true);
    retry(|| msg.channel_id.send_message(http, builder.clone())).await
}

/// An answer as a reply: its text, its buttons or list, and the question to remember the
/// reply under.
pub(crate) struct Reply {
    pub content: String,
    pub components: Vec<CreateActionRow>,
    pub question_id: Option<i64>,
}

/// Answer a question (the desk's J1 journey) and render what came of it. `None` when nothing
/// should be sent (a redelivered event, a flood notice already given), unless the reply
/// `must_say` something (a deferred interaction waits for it). A question that cannot be
/// stored is answered with an apology.
async fn answer(
    bot: &Bot,
    http: &Http,
    question: Question,
    must_say: bool,
) -> anyhow::Result<Option<Reply>> {
    let l = bot.desk.locales;
    let guild = question.guild_id;
    let asker = question.user_id;
    let fallback = choose_lang(&question.text, question.locale.as_deref());
    let answered = match bot.desk.answer(&Discord::new(bot, http), question).await {
        Ok(a) => a,
        Err(e) => {
            error!("cannot store the question: {e}");
            return Ok(Some(Reply {
                content: l.get(fallback, "error.generic").to_string(),
                components: vec![],
                question_id: None,
            }));
        }
    };
    let agent_role = bot.desk.settings(guild).await?.agent_role;
    let must_say = must_say.then_some(fallback);
    Ok(render(l, guild, asker, agent_role, &answered, must_say))
}

/// What came of a question, as a reply. `must_say`: the language to say something in where
/// nothing would be said.
fn render(
    l: &Locales,
    guild: u64,
    asker: u64,
    agent_role: Option<u64>,
    answered: &Answered,
    must_say: Option<&str>,
) -> Option<Reply> {
    let (content, components, question_id) = match &answered.asked {
        Asked::Answer {
            question_id,
            text,
            lang,
            action,
            ..
        } => {
            let done = answered.done.as_ref().and_then(|done| match done {
                Done::Ticket(opening) => super::tickets::open::say(l, lang, opening),
                Done::Subscribed(s) => Some(crisis::say_subscribed(l, lang, guild, s)),
                Done::Unsubscribed(was) => Some(crisis::say_unsubscribed(l, lang, *was)),
            });
            let mut content = if *action == Some(IntentAction::Handoff) {
                // The ticket, or how to reach staff: no buttons, the next step is a person.
                let next = done.unwrap_or_else(|| human_notice(l, lang, agent_role));
                format!("{text}\n\n{next}")
            } else {
                match done {
                    // Subscribed or unsubscribed: the answer, then what was done.
                    Some(done) => format!("{text}\n\n{done}"),
                    None => text.clone(),
                }
            };
            let components = match action {
                Some(IntentAction::Handoff) => vec![],
                _ => render::answer_buttons(l, lang, *question_id),
            };
            // While a crisis runs: the link to its status message.
            for link in &answered.status_links {
                content.push_str("\n\n");
                content.push_str(&l.fill(lang, "crisis.status_line", &[("link", link)]));
            }
            (content, components, Some(*question_id))
        }
        Asked::Suggest {
            question_id,
            offers,
            lang,
        } => (
            l.get(lang, "suggest.intro").to_string(),
            render::suggestion_menu(l, lang, *question_id, asker, offers),
            Some(*question_id),
        ),
        Asked::Abstain { question_id, lang } => (
            l.get(lang, "abstain.text").to_string(),
            render::person_button(l, lang, *question_id),
            Some(*question_id),
        ),
        Asked::Cooldown { wait, notify, lang } if *notify || must_say.is_some() => (
            l.fill(
                lang,
                "cooldown.text",
                &[("seconds", &wait.as_secs().max(1))],
            ),
            vec![],
            None,
        ),
        Asked::Duplicate if must_say.is_some() => (
            l.get(must_say.unwrap_or("en"), "error.generic").to_string(),
            vec![],
            None,
        ),
        Asked::Cooldown { .. } | Asked::Duplicate => return None,
    };
    Some(Reply {
        content,
        components,
        question_id,
    })
}

/// `/faq question`: the same journey as a help-channel message, answered privately.
pub(crate) async fn faq(bot: &Bot, ctx: &Context, cmd: &CommandInteraction) -> anyhow::Result<()> {
    let typed = string_option(&cmd.data.options(), "question").unwrap_or_default();
    let lang = choose_lang(&typed, Some(&cmd.locale));
    let Some(guild) = cmd.guild_id else {
        commands::Reply::text(bot.desk.locales.get(lang, "error.guild_only"))
            .send(ctx, cmd)
            .await?;
        return Ok(());
    };
    if typed.trim().is_empty() {
        commands::Reply::text(bot.desk.locales.get(lang, "faq.empty"))
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
        crisis: false,
        again: false,
    };
    // The deferred reply must say something: a repeated flood notice is still a notice.
    let Some(reply) = answer(bot, &ctx.http, question, true).await? else {
        return Ok(());
    };
    let sent = commands::Reply {
        content: reply.content,
        components: reply.components,
        files: vec![],
    }
    .send(ctx, cmd)
    .await?;
    if let Some(q) = reply.question_id {
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

/// A button or a list choice under an answer: solved, a person, a ticket, a suggestion picked
/// or none fits.
pub(crate) async fn on_button(
    bot: &Bot,
    ctx: &Context,
    c: &ComponentInteraction,
    action: AnswerButton,
) -> anyhow::Result<()> {
    let user = c.user.id.get();
    // Acknowledge first, whatever the database is doing: the asker's own pick updates the list
    // in place, everything else gets a private reply.
    let picked_value = match &c.data.kind {
        ComponentInteractionDataKind::StringSelect { values } => values.first().cloned(),
        _ => None,
    };
    let in_place = matches!(action, AnswerButton::Pick { asker, .. } if asker == user)
        && picked_value.as_deref() != Some(NONE_FIT);
    let ack = if in_place {
        CreateInteractionResponse::Acknowledge
    } else {
        CreateInteractionResponse::Defer(CreateInteractionResponseMessage::new().ephemeral(true))
    };
    retry(|| c.create_response(&ctx.http, ack.clone())).await?;

    let (question, kind, picked) = match action {
        AnswerButton::Solved(q) => (q, EventKind::Solved, None),
        AnswerButton::Human(q) => (q, EventKind::Human, None),
        AnswerButton::Ticket(q) => (q, EventKind::TicketOffer, None),
        AnswerButton::Pick { question, .. } => match picked_value.as_deref() {
            Some(NONE_FIT) | None => (question, EventKind::NoneFit, None),
            Some(id) => (question, EventKind::Picked, Some(id)),
        },
    };
    let settings = match c.guild_id {
        Some(g) => Some(bot.desk.settings(g.get()).await?),
        None => None,
    };
    let agent_role = settings.and_then(|s| s.agent_role);
    let l = bot.desk.locales;
    let fallback_lang = choose_lang("", Some(&c.locale));
    let (content, components) = match bot.desk.press(question, user, kind, picked).await {
        Err(e) => {
            error!("cannot store a button press: {e}");
            (l.get(fallback_lang, "error.generic").to_string(), vec![])
        }
        Ok(None) => (l.get(fallback_lang, "error.expired").to_string(), vec![]),
        Ok(Some(p)) => {
            let lang = p.question.lang.as_str();
            match kind {
                EventKind::Solved => (l.get(lang, "solved.thanks").to_string(), vec![]),
                EventKind::Human | EventKind::TicketOffer => {
                    let guild = crate::discord::server(c.guild_id)?;
                    let text = Some(p.question.text.as_str());
                    let request = crate::desk::opening::OpenTicket {
                        guild,
                        customer: user,
                        category: None,
                        question_id: Some(question),
                        text,
                        form: vec![],
                        lang,
                        ..Default::default()
                    };
                    let opened = super::tickets::opened_or_notice(bot, &ctx.http, request).await;
                    let text = match opened {
                        Ok(text) => text,
                        Err(e) => {
                            error!("cannot open a ticket: {e:#}");
                            human_notice(l, lang, agent_role)
                        }
                    };
                    (text, vec![])
                }
                EventKind::NoneFit => (
                    l.get(lang, "none_fit.text").to_string(),
                    render::person_button(l, lang, question),
                ),
                EventKind::Picked => {
                    let text = p.answer.map(|(_, t)| t).unwrap_or_default();
                    (text, render::answer_buttons(l, lang, question))
                }
            }
        }
    };
    let edit = EditInteractionResponse::new()
        .content(fit(&content, render::MAX_CONTENT))
        .components(components)
        .allowed_mentions(no_pings());
    retry(|| c.edit_response(&ctx.http, edit.clone())).await?;
    Ok(())
}

/// How to reach a person when the server has no tickets channel.
pub(crate) fn human_notice(l: &Locales, lang: &str, agent_role: Option<u64>) -> String {
    match agent_role {
        // A role mention shows the role's name; allowed mentions keep it from pinging.
        Some(role) => l.fill(
            lang,
            "human.staff_role",
            &[("role", &format!("<@&{role}>"))],
        ),
        None => l.get(lang, "human.staff").to_string(),
    }
}
