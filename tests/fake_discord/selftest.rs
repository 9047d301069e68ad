//! Self-tests: the real serenity client against the fake. They prove the fake's payloads reach
//! serenity's handlers, its answers deserialize, and its checks catch what Discord would refuse.

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

use futures_util::future::join_all;
use serde_json::{Value, json};
use serenity::all::{
    ChannelId, ChannelType, ClientBuilder, CommandOptionType, Context, CreateActionRow,
    CreateAllowedMentions, CreateAutocompleteResponse, CreateButton, CreateCommand,
    CreateCommandOption, CreateEmbed, CreateForumPost, CreateInputText, CreateInteractionResponse,
    CreateInteractionResponseFollowup, CreateInteractionResponseMessage, CreateMessage,
    CreateModal, CreateThread, EditInteractionResponse, EditThread, EventHandler, GatewayIntents,
    GuildChannel, GuildId, Http, HttpBuilder, InputTextStyle, Interaction, Message, MessageId,
    Nonce, Ready, UserId,
};
use serenity::model::guild::Guild;
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use super::{FakeDiscord, TOKEN, custom_ids, message_content};

/// A guard against hangs only; nothing here should take more than a fraction of it.
pub(super) const LIMIT: Duration = Duration::from_secs(10);

/// What the test bot's handler saw.
#[derive(Debug)]
enum Seen {
    Ready(Box<Ready>),
    GuildCreate(Box<Guild>),
    Message(Box<Message>),
    Interaction(Box<Interaction>),
    ThreadCreate(Box<GuildChannel>),
}

/// Records events; answers `!ping` with a reply that mentions only the author.
struct Recorder {
    tx: UnboundedSender<Seen>,
}

#[serenity::async_trait]
impl EventHandler for Recorder {
    async fn ready(&self, _: Context, ready: Ready) {
        let _ = self.tx.send(Seen::Ready(Box::new(ready)));
    }

    async fn guild_create(&self, _: Context, guild: Guild, _: Option<bool>) {
        let _ = self.tx.send(Seen::GuildCreate(Box::new(guild)));
    }

    async fn message(&self, ctx: Context, message: Message) {
        if message.author.bot {
            return;
        }
        if message.content.starts_with("!ping") {
            let reply = CreateMessage::new()
                .content(format!("pong, <@{}>", message.author.id))
                .allowed_mentions(CreateAllowedMentions::new().users([message.author.id]));
            if let Err(e) = message.channel_id.send_message(&ctx.http, reply).await {
                eprintln!("test bot: reply failed: {e}");
            }
        }
        let _ = self.tx.send(Seen::Message(Box::new(message)));
    }

    async fn interaction_create(&self, _: Context, interaction: Interaction) {
        let _ = self.tx.send(Seen::Interaction(Box::new(interaction)));
    }

    async fn thread_create(&self, _: Context, thread: GuildChannel) {
        let _ = self.tx.send(Seen::ThreadCreate(Box::new(thread)));
    }
}

/// A running serenity client pointed at the fake.
pub(super) struct Bot {
    pub(super) http: Arc<Http>,
    seen: UnboundedReceiver<Seen>,
    pending: VecDeque<Seen>,
}

impl Bot {
    pub(super) async fn start(discord: &FakeDiscord, intents: GatewayIntents) -> Bot {
        let http = HttpBuilder::new(TOKEN)
            .proxy(discord.api_url())
            .ratelimiter_disabled(true)
            .build();
        let (tx, seen) = unbounded_channel();
        let mut client = ClientBuilder::new_with_http(http, intents)
            .event_handler(Recorder { tx })
            .await
            .expect("build serenity client");
        let http = client.http.clone();
        tokio::spawn(async move {
            if let Err(e) = client.start().await {
                eprintln!("test bot stopped: {e}");
            }
        });
        Bot {
            http,
            seen,
            pending: VecDeque::new(),
        }
    }

    /// The first event the handler saw that `pick` accepts. Others are kept for later calls:
    /// serenity runs every handler call in its own task, so handlers see events in any order.
    async fn next<T>(
        &mut self,
        what: &str,
        mut pick: impl FnMut(&Seen) -> bool,
        take: impl FnOnce(Seen) -> Option<T>,
    ) -> T {
        if let Some(i) = self.pending.iter().position(&mut pick) {
            let seen = self.pending.remove(i).expect("index in range");
            return take(seen).expect("picked event has the expected kind");
        }
        let wait = async {
            while let Some(seen) = self.seen.recv().await {
                if pick(&seen) {
                    return Some(seen);
                }
                self.pending.push_back(seen);
            }
            None
        };
        match tokio::time::timeout(LIMIT, wait).await {
            Ok(Some(seen)) => take(seen).expect("picked event has the expected kind"),
            _ => panic!("test bot: no {what} within {LIMIT:?}"),
        }
    }

    pub(super) async fn next_message(&mut self) -> Message {
        self.next(
            "message",
            |s| matches!(s, Seen::Message(_)),
            |s| match s {
                Seen::Message(m) => Some(*m),
                _ => None,
            },
        )
        .await
    }

    pub(super) async fn next_interaction(&mut self) -> Interaction {
        self.next(
            "interaction",
            |s| matches!(s, Seen::Interaction(_)),
            |s| match s {
                Seen::Interaction(i) => Some(*i),
                _ => None,
            },
        )
        .await
    }

    async fn next_ready(&mut self) -> Ready {
        self.next(
            "ready",
            |s| matches!(s, Seen::Ready(_)),
            |s| match s {
                Seen::Ready(r) => Some(*r),
                _ => None,
            },
        )
        .await
    }

    async fn next_guild_create(&mut self) -> Guild {
        self.next(
            "guild_create",
            |s| matches!(s, Seen::GuildCreate(_)),
            |s| match s {
                Seen::GuildCreate(g) => Some(*g),
                _ => None,
            },
        )
        .await
    }

    async fn next_thread_create(&mut self) -> GuildChannel {
        self.next(
            "thread_create",
            |s| matches!(s, Seen::ThreadCreate(_)),
            |s| match s {
                Seen::ThreadCreate(t) => Some(*t),
                _ => None,
            },
        )
        .await
    }
}

pub(super) fn all_intents() -> GatewayIntents {
    GatewayIntents::GUILDS
        | GatewayIntents::GUILD_MEMBERS
        | GatewayIntents::GUILD_MESSAGES
        | GatewayIntents::DIRECT_MESSAGES
        | GatewayIntents::MESSAGE_CONTENT
}

/// A guild with a help channel, a forum, a staff role and a member, and a connected bot.
pub(super) struct Setup {
    pub(super) discord: FakeDiscord,
    pub(super) bot: Bot,
    pub(super) guild: u64,
    pub(super) help: u64,
    pub(super) forum: u64,
    pub(super) staff: u64,
    pub(super) alice: u64,
}

pub(super) async fn setup() -> Setup {
    let discord = FakeDiscord::start().await;
    let guild = discord.add_guild("Acme Support");
    let help = discord.add_text_channel(guild, "help");
    let forum = discord.add_forum_channel(guild, "questions");
    let staff = discord.add_role(guild, "Staff", super::perm::MANAGE_MESSAGES);
    let alice = discord.add_member(guild, "alice", &[]);
    let mut bot = Bot::start(&discord, all_intents()).await;
    discord.wait_ready(LIMIT).await;
    bot.next_guild_create().await;
    Setup {
        discord,
        bot,
        guild,
        help,
        forum,
        staff,
        alice,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_delivers_ready_and_guild_create_with_roles_and_channels() {
    let discord = FakeDiscord::start().await;
    let guild = discord.add_guild("Acme Support");
    let help = discord.add_text_channel(guild, "help");
    let staff = discord.add_role(guild, "Staff", super::perm::MANAGE_MESSAGES);
    let mut bot = Bot::start(&discord, all_intents()).await;

    let ready = bot.next_ready().await;
    assert_eq!(ready.user.id, UserId::new(discord.bot_user_id()));
    assert_eq!(ready.guilds.len(), 1);
    let created = bot.next_guild_create().await;
    assert_eq!(created.id, GuildId::new(guild));
    assert!(
        created
            .roles
            .values()
            .any(|r| r.name == "Staff" && r.id.get() == staff)
    );
    assert!(created.channels.contains_key(&ChannelId::new(help)));
    assert!(
        created
            .members
            .contains_key(&UserId::new(discord.bot_user_id()))
    );
    discord.wait_ready(LIMIT).await;
    assert_eq!(discord.identifies(), 1);

    // A guild added while connected arrives at once.
    let second = discord.add_guild("Second");
    let created = bot.next_guild_create().await;
    assert_eq!(created.id, GuildId::new(second));

    // World changes while connected are announced in shapes serenity accepts.
    let role = discord.add_role(guild, "Helpers", 0);
    discord.set_role_permissions(role, super::perm::MANAGE_THREADS);
    let member = discord.add_member(guild, "bob", &[role]);
    let general = discord.add_text_channel(guild, "general");
    let thread = discord.add_thread(general, member, "bob's question");
    discord.archive_thread(thread);
    discord.delete_channel(thread);
    assert_eq!(discord.channel(thread).unwrap()["deleted"], true);
    discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pushed_message_reaches_the_handler_and_the_reply_is_recorded() {
    let mut s = setup().await;
    let sent = s.discord.push_message(s.help, s.alice, "!ping please");

    let got = s.bot.next_message().await;
    assert_eq!(got.id, MessageId::new(sent));
    assert_eq!(got.content, "!ping please");
    assert_eq!(got.guild_id, Some(GuildId::new(s.guild)));
    assert!(got.member.is_some());

    let reply = s
        .discord
        .wait_for_request(|r| r.is("POST", "/channels/*/messages"), LIMIT)
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(
        reply.route.as_deref(),
        Some("/channels/{channel_id}/messages")
    );
    assert_eq!(
        reply.body.as_ref().unwrap()["allowed_mentions"]["users"],
        json!([s.alice.to_string()])
    );
    let messages = s.discord.bot_messages(s.help);
    assert_eq!(messages.len(), 1);
    assert_eq!(
        message_content(&messages[0]),
        format!("pong, <@{}>", s.alice)
    );
    assert_eq!(messages[0]["mentions"][0]["id"], s.alice.to_string());
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_message_content_intent_content_arrives_empty() {
    let discord = FakeDiscord::start().await;
    let guild = discord.add_guild("Acme");
    let help = discord.add_text_channel(guild, "help");
    let alice = discord.add_member(guild, "alice", &[]);
    let mut bot = Bot::start(
        &discord,
        GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES,
    )
    .await;
    discord.wait_ready(LIMIT).await;

    discord.push_message(help, alice, "hello there");
    assert_eq!(bot.next_message().await.content, "");
    discord.push_message(help, alice, &format!("<@{}> hello", discord.bot_user_id()));
    assert!(bot.next_message().await.content.ends_with("hello"));
    discord.assert_clean();
}

pub(super) async fn register_ticket_command(http: &Http) {
    let command = CreateCommand::new("ticket")
        .description("Open a support ticket")
        .add_option(
            CreateCommandOption::new(CommandOptionType::Channel, "where", "Where to open it")
                .required(true),
        )
        .add_option(
            CreateCommandOption::new(CommandOptionType::String, "topic", "What it is about")
                .set_autocomplete(true),
        )
        .description_localized("de", "Ein Ticket öffnen");
    serenity::model::application::Command::set_global_commands(http, vec![command])
        .await
        .expect("register commands");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slash_command_and_button_press_reach_the_handler_and_answers_are_recorded() {
    let mut s = setup().await;
    register_ticket_command(&s.bot.http).await;
    s.discord.wait_commands_registered(LIMIT).await;
    let commands = s.discord.commands();
    assert_eq!(commands[0]["name"], "ticket");
    assert_eq!(
        commands[0]["application_id"],
        s.discord.application_id().to_string()
    );

    let options = json!([{ "name": "where", "type": 7, "value": s.help.to_string() }]);
    let pushed = s
        .discord
        .push_slash_command(s.guild, s.help, s.alice, "ticket", options, "de");
    let Interaction::Command(command) = s.bot.next_interaction().await else {
        panic!("expected a command")
    };
    assert_eq!(command.data.name, "ticket");
    assert_eq!(command.locale, "de");
    let resolved = command
        .data
        .resolved
        .channels
        .get(&ChannelId::new(s.help))
        .expect("resolved channel");
    assert_eq!(resolved.kind, ChannelType::Text);
    assert!(
        command
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .is_some()
    );

    let answer = CreateInteractionResponseMessage::new()
        .content("Ticket opened")
        .components(vec![CreateActionRow::Buttons(vec![
            CreateButton::new("ticket:close").label("Close"),
        ])]);
    command
        .create_response(&s.bot.http, CreateInteractionResponse::Message(answer))
        .await
        .expect("respond");
    let responses = s.discord.interaction_responses(pushed.id);
    assert_eq!(responses[0]["kind"], "callback");
    assert_eq!(responses[0]["type"], 4);
    assert_eq!(
        s.discord.last_response_text(&pushed).as_deref(),
        Some("Ticket opened\nClose")
    );

    let original = command
        .get_response(&s.bot.http)
        .await
        .expect("get original");
    assert_eq!(
        custom_ids(&s.discord.message(original.id.get()).unwrap()),
        vec!["ticket:close"]
    );
    let press = s
        .discord
        .press_button(original.id.get(), "ticket:close", s.alice, "en-US");
    let Interaction::Component(component) = s.bot.next_interaction().await else {
        panic!("expected a component")
    };
    assert_eq!(component.data.custom_id, "ticket:close");
    assert_eq!(component.message.id, original.id);
    component
        .create_response(
            &s.bot.http,
            CreateInteractionResponse::UpdateMessage(
                CreateInteractionResponseMessage::new()
                    .content("Closed")
                    .components(vec![]),
            ),
        )
        .await
        .expect("update message");
    assert_eq!(s.discord.interaction_responses(press.id)[0]["type"], 7);
    assert_eq!(
        message_content(&s.discord.message(original.id.get()).unwrap()),
        "Closed"
    );

    // Answering twice is Discord's 40060, and a violation.
    let again = component
        .create_response(&s.bot.http, CreateInteractionResponse::Acknowledge)
        .await;
    assert!(again.is_err());
    let violations = s.discord.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("answered twice")),
        "{violations:?}"
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn autocomplete_deferral_follow_up_and_modal_round_trip() {
    let mut s = setup().await;
    register_ticket_command(&s.bot.http).await;
    s.discord.wait_commands_registered(LIMIT).await;

    let options = json!([
        { "name": "where", "type": 7, "value": s.help.to_string() },
        { "name": "topic", "type": 3, "value": "refu", "focused": true },
    ]);
    let pushed = s
        .discord
        .push_autocomplete(s.guild, s.help, s.alice, "ticket", options, "en-US");
    let Interaction::Autocomplete(auto) = s.bot.next_interaction().await else {
        panic!("expected autocomplete")
    };
    assert_eq!(auto.data.autocomplete().map(|o| o.value), Some("refu"));
    let choices = CreateAutocompleteResponse::new().add_string_choice("Refunds", "refunds");
    auto.create_response(
        &s.bot.http,
        CreateInteractionResponse::Autocomplete(choices),
    )
    .await
    .expect("choices");
    assert_eq!(
        s.discord.last_response_text(&pushed).as_deref(),
        Some("Refunds")
    );

    // Deferred, then the follow-up replaces the "thinking" message, as on Discord.
    let options = json!([{ "name": "where", "type": 7, "value": s.help.to_string() }]);
    let pushed = s
        .discord
        .push_slash_command(s.guild, s.help, s.alice, "ticket", options, "en-US");
    let Interaction::Command(command) = s.bot.next_interaction().await else {
        panic!("expected a command")
    };
    command.defer_ephemeral(&s.bot.http).await.expect("defer");
    let follow = CreateInteractionResponseFollowup::new()
        .content("Done")
        .components(vec![CreateActionRow::Buttons(vec![
            CreateButton::new("ticket:details").label("Details"),
        ])]);
    let message = command
        .create_followup(&s.bot.http, follow)
        .await
        .expect("follow-up");
    let original = command.get_response(&s.bot.http).await.expect("original");
    assert_eq!(message.id, original.id);
    assert_eq!(original.content, "Done");
    command
        .edit_response(
            &s.bot.http,
            EditInteractionResponse::new().embed(CreateEmbed::new().description("Ticket #1")),
        )
        .await
        .expect("edit");
    let kinds: Vec<Value> = s
        .discord
        .interaction_responses(pushed.id)
        .iter()
        .map(|r| r["kind"].clone())
        .collect();
    assert_eq!(
        kinds,
        vec![json!("callback"), json!("followup"), json!("edit_original")]
    );

    // A button opens a modal; the user submits it.
    s.discord
        .press_button(original.id.get(), "ticket:details", s.alice, "en-US");
    let Interaction::Component(component) = s.bot.next_interaction().await else {
        panic!("expected a component")
    };
    let modal =
        CreateModal::new("ticket:form", "Details").components(vec![CreateActionRow::InputText(
            CreateInputText::new(InputTextStyle::Paragraph, "What happened?", "ticket:what")
                .max_length(500),
        )]);
    component
        .create_response(&s.bot.http, CreateInteractionResponse::Modal(modal))
        .await
        .expect("modal");
    s.discord.submit_modal(
        "ticket:form",
        &[("ticket:what", "It broke")],
        s.alice,
        "en-US",
    );
    let Interaction::Modal(submitted) = s.bot.next_interaction().await else {
        panic!("expected a modal submit")
    };
    assert_eq!(submitted.data.custom_id, "ticket:form");
    let serenity::all::ActionRowComponent::InputText(input) =
        &submitted.data.components[0].components[0]
    else {
        panic!("input")
    };
    assert_eq!(input.value.as_deref(), Some("It broke"));
    submitted
        .create_response(&s.bot.http, CreateInteractionResponse::Acknowledge)
        .await
        .expect("ack modal");
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_forum_post_arrives_as_thread_create_then_its_starter_message() {
    let mut s = setup().await;
    let thread = s
        .discord
        .push_forum_post(s.forum, s.alice, "Refund?", "Where is my refund?");

    // serenity runs each handler call in its own task: these two may arrive in either order.
    let created = s.bot.next_thread_create().await;
    assert_eq!(created.id, ChannelId::new(thread));
    assert_eq!(created.kind, ChannelType::PublicThread);
    assert_eq!(created.parent_id, Some(ChannelId::new(s.forum)));
    let starter = s.bot.next_message().await;
    assert_eq!(starter.id.get(), thread);
    assert_eq!(starter.channel_id, ChannelId::new(thread));
    assert_eq!(starter.content, "Where is my refund?");

    // The bot answers in the thread, archives and locks it.
    ChannelId::new(thread)
        .say(&s.bot.http, "Looking into it")
        .await
        .expect("answer in thread");
    let edited = ChannelId::new(thread)
        .edit_thread(&s.bot.http, EditThread::new().archived(true).locked(true))
        .await
        .expect("archive");
    assert!(
        edited
            .thread_metadata
            .is_some_and(|t| t.archived && t.locked)
    );
    // Renaming an archived thread is refused by Discord.
    let rename = ChannelId::new(thread)
        .edit_thread(&s.bot.http, EditThread::new().name("closed"))
        .await;
    assert!(rename.is_err());
    assert!(
        s.discord
            .take_violations()
            .iter()
            .any(|v| v.contains("is archived"))
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rest_answers_deserialize_into_serenity_types() {
    let s = setup().await;
    let http = &s.bot.http;
    http.get_current_user().await.expect("users/@me");
    http.get_current_application_info()
        .await
        .expect("applications/@me");
    http.get_guild(GuildId::new(s.guild)).await.expect("guild");
    http.get_channels(GuildId::new(s.guild))
        .await
        .expect("channels");
    http.get_guild_roles(GuildId::new(s.guild))
        .await
        .expect("roles");
    http.get_member(GuildId::new(s.guild), UserId::new(s.alice))
        .await
        .expect("member");
    http.get_channel(ChannelId::new(s.help))
        .await
        .expect("channel");

    let dm = UserId::new(s.alice)
        .create_dm_channel(http)
        .await
        .expect("dm");
    dm.say(http, "Your ticket was answered")
        .await
        .expect("dm message");
    assert_eq!(s.discord.dm_channel_of(s.alice), Some(dm.id.get()));

    let message = ChannelId::new(s.help)
        .say(http, "Pinned notice")
        .await
        .expect("send");
    message.pin(http).await.expect("pin");
    http.get_message(ChannelId::new(s.help), message.id)
        .await
        .expect("get message");
    let private = ChannelId::new(s.help)
        .create_thread(
            http,
            CreateThread::new("ticket-1").kind(ChannelType::PrivateThread),
        )
        .await
        .expect("private thread");
    assert_eq!(private.kind, ChannelType::PrivateThread);
    private
        .id
        .add_thread_member(http, UserId::new(s.alice))
        .await
        .expect("add member");
    let from_message = ChannelId::new(s.help)
        .create_thread_from_message(http, message.id, CreateThread::new("discussion"))
        .await
        .expect("thread from message");
    assert_eq!(from_message.id.get(), message.id.get());
    let post = ChannelId::new(s.forum)
        .create_forum_post(
            http,
            CreateForumPost::new("FAQ", CreateMessage::new().content("Read me")),
        )
        .await
        .expect("forum post");
    assert_eq!(
        s.discord.bot_messages(post.id.get())[0]["id"],
        post.id.to_string()
    );
    let _ = s.staff;
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_body_against_the_spec_is_a_violation_and_a_400() {
    let s = setup().await;
    let body = json!({
        "content": "x",
        "components": [{ "type": 1, "components": [
            { "type": 2, "style": 1, "label": "ok", "custom_id": "fine" },
            { "type": 2, "style": 1, "label": "too long", "custom_id": "a".repeat(101) },
        ]}],
    });
    let result = s
        .bot
        .http
        .send_message(ChannelId::new(s.help), vec![], &body)
        .await;
    let err = result.expect_err("Discord refuses a 101-character custom_id");
    assert!(err.to_string().contains("Invalid Form Body"), "{err}");
    let violations = s.discord.take_violations();
    assert_eq!(violations.len(), 1, "{violations:?}");
    assert_eq!(
        violations[0],
        "POST /channels/{channel_id}/messages: body.components[0].components[1].custom_id: string longer than 100 (got 101 chars)"
    );
    assert!(s.discord.bot_messages(s.help).is_empty());

    // So is a route Discord does not have.
    let bogus = serenity::http::Request::new(
        serenity::http::Route::Channel {
            channel_id: ChannelId::new(s.help),
        },
        serenity::http::LightMethod::Put,
    );
    assert!(s.bot.http.request(bogus).await.is_err());
    assert_eq!(s.discord.take_violations().len(), 1);
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn after_a_dropped_connection_the_client_resumes_and_gets_missed_events() {
    let mut s = setup().await;
    s.discord.drop_connection();
    let sent = s
        .discord
        .push_message(s.help, s.alice, "sent while you were away");

    s.discord.wait_resumed(LIMIT).await;
    let got = s.bot.next_message().await;
    assert_eq!(got.id, MessageId::new(sent));
    assert_eq!(s.discord.resumes(), 1);
    assert_eq!(s.discord.identifies(), 1);

    // And events after the resume flow as usual.
    s.discord.push_message(s.help, s.alice, "and now");
    assert_eq!(s.bot.next_message().await.content, "and now");
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_injected_429_fails_one_send_and_the_next_succeeds() {
    let s = setup().await;
    s.discord.fail_next("POST", "/channels/*/messages", 429, 1);
    let first = ChannelId::new(s.help).say(&s.bot.http, "one").await;
    let err = first.expect_err("the injected 429");
    match &err {
        serenity::Error::Http(e) => assert_eq!(e.status_code().map(|c| c.as_u16()), Some(429)),
        other => panic!("unexpected error {other:?}"),
    }
    ChannelId::new(s.help)
        .say(&s.bot.http, "two")
        .await
        .expect("second send");
    let sends = s
        .discord
        .requests_matching("POST", "/channels/{channel_id}/messages");
    assert_eq!(
        sends
            .iter()
            .map(|r| (r.status, r.injected))
            .collect::<Vec<_>>(),
        vec![(429, true), (200, false)]
    );
    assert_eq!(s.discord.bot_messages(s.help).len(), 1);
    assert_eq!(s.discord.invalid_request_count(), 1);
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_nonce_with_enforce_nonce_returns_the_first_message() {
    let s = setup().await;
    let send = || {
        CreateMessage::new()
            .content("Announcement")
            .nonce(Nonce::String("outbox-42".into()))
            .enforce_nonce(true)
    };
    let first = ChannelId::new(s.help)
        .send_message(&s.bot.http, send())
        .await
        .expect("first");
    let second = ChannelId::new(s.help)
        .send_message(&s.bot.http, send())
        .await
        .expect("second");
    assert_eq!(first.id, second.id);
    assert_eq!(s.discord.bot_messages(s.help).len(), 1);
    let notes: Vec<Option<String>> = s
        .discord
        .requests_matching("POST", "/channels/*/messages")
        .into_iter()
        .map(|r| r.note)
        .collect();
    assert!(
        notes[1]
            .as_deref()
            .is_some_and(|n| n.contains("returned existing message")),
        "{notes:?}"
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn command_rules_beyond_the_schema_are_checked() {
    let s = setup().await;
    let bad = CreateCommand::new("Ticket")
        .description("Open a ticket")
        .name_localized("fa", "تیکت");
    let result =
        serenity::model::application::Command::set_global_commands(&s.bot.http, vec![bad]).await;
    assert!(result.is_err());
    let violations = s.discord.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("upper-case")),
        "{violations:?}"
    );
    assert!(
        violations
            .iter()
            .any(|v| v.contains("\"fa\" is not a Discord locale")),
        "{violations:?}"
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_string_select_choice_reaches_the_handler_with_its_values() {
    let mut s = setup().await;
    let menu = serenity::all::CreateSelectMenu::new(
        "topic",
        serenity::all::CreateSelectMenuKind::String {
            options: vec![
                serenity::all::CreateSelectMenuOption::new("Refunds", "refunds"),
                serenity::all::CreateSelectMenuOption::new("Shipping", "shipping"),
            ],
        },
    )
    .max_values(2);
    let message = ChannelId::new(s.help)
        .send_message(
            &s.bot.http,
            CreateMessage::new()
                .content("Pick topics")
                .select_menu(menu),
        )
        .await
        .expect("send select");
    s.discord.choose_select(
        message.id.get(),
        "topic",
        &["refunds", "shipping"],
        s.alice,
        "fr",
    );
    let Interaction::Component(component) = s.bot.next_interaction().await else {
        panic!("expected a component")
    };
    let serenity::all::ComponentInteractionDataKind::StringSelect { values } = &component.data.kind
    else {
        panic!("expected a string select, got {:?}", component.data.kind)
    };
    assert_eq!(values, &vec!["refunds".to_string(), "shipping".to_string()]);
    component.defer(&s.bot.http).await.expect("deferred update");
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_richer_command_set_built_by_serenity_passes_the_spec() {
    let s = setup().await;
    let commands = vec![
        CreateCommand::new("queue")
            .description("Staff: the ticket queue")
            .default_member_permissions(serenity::all::Permissions::MANAGE_MESSAGES)
            .dm_permission(false)
            .add_option(
                CreateCommandOption::new(CommandOptionType::SubCommand, "show", "Show the queue")
                    .add_sub_option(
                        CreateCommandOption::new(CommandOptionType::Integer, "limit", "How many")
                            .min_int_value(1)
                            .max_int_value(25),
                    ),
            )
            .add_option(
                CreateCommandOption::new(
                    CommandOptionType::SubCommand,
                    "assign",
                    "Assign a ticket",
                )
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::User, "to", "Staff member")
                        .required(true),
                )
                .add_sub_option(
                    CreateCommandOption::new(CommandOptionType::String, "priority", "Priority")
                        .add_string_choice("High", "high")
                        .add_string_choice("Low", "low"),
                ),
            ),
        CreateCommand::new("Create ticket").kind(serenity::all::CommandType::Message),
    ];
    let guild = GuildId::new(s.guild);
    guild
        .set_commands(&s.bot.http, commands)
        .await
        .expect("guild commands");
    s.discord.wait_commands_registered(LIMIT).await;
    assert_eq!(s.discord.commands().len(), 2);
    let options = json!([{ "name": "assign", "type": 1, "options": [
        { "name": "to", "type": 6, "value": s.alice.to_string() },
        { "name": "priority", "type": 3, "value": "high" },
    ]}]);
    // Only staff are offered it (its default_member_permissions).
    let staffer = s.discord.add_member(s.guild, "sam", &[s.staff]);
    s.discord
        .push_slash_command(s.guild, s.help, staffer, "queue", options, "en-GB");
    let mut bot = s.bot;
    let Interaction::Command(command) = bot.next_interaction().await else {
        panic!("expected a command")
    };
    assert!(
        command
            .data
            .resolved
            .users
            .contains_key(&UserId::new(s.alice))
    );
    let message = s.discord.push_message(s.help, s.alice, "please help");
    s.discord
        .push_message_command(s.help, s.alice, "Create ticket", message, "en-US");
    let Interaction::Command(context) = bot.next_interaction().await else {
        panic!("expected a command")
    };
    assert_eq!(context.data.target_id.map(|t| t.get()), Some(message));
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_both_ways_and_closed_dms() {
    let mut s = setup().await;
    s.discord.push_dm(s.alice, "hi bot");
    let got = s.bot.next_message().await;
    assert_eq!(got.guild_id, None);
    assert_eq!(Some(got.channel_id.get()), s.discord.dm_channel_of(s.alice));

    s.discord.set_dms_closed(s.alice, true);
    let refused = got.channel_id.say(&s.bot.http, "hello").await;
    assert!(refused.is_err());
    // A closed DM is a fact of life, not the bot's mistake.
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn close_codes_and_reconnect_requests_lead_to_resumes() {
    let mut s = setup().await;
    s.discord.close_connection(4000);
    s.discord.wait_resumed(LIMIT).await;
    s.discord.request_reconnect();
    let sent = s
        .discord
        .push_message(s.help, s.alice, "after two reconnects");
    s.discord.wait_resumed(LIMIT).await;
    assert_eq!(s.bot.next_message().await.id.get(), sent);
    assert_eq!((s.discord.identifies(), s.discord.resumes()), (1, 2));
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_acknowledgements_and_unknown_ids_are_violations() {
    let mut s = setup().await;
    register_ticket_command(&s.bot.http).await;
    s.discord.wait_commands_registered(LIMIT).await;
    s.discord.set_ack_deadline(Some(Duration::ZERO));
    let options = json!([{ "name": "where", "type": 7, "value": s.help.to_string() }]);
    s.discord
        .push_slash_command(s.guild, s.help, s.alice, "ticket", options, "en-US");
    let Interaction::Command(command) = s.bot.next_interaction().await else {
        panic!("expected a command")
    };
    assert!(command.defer(&s.bot.http).await.is_err());
    let violations = s.discord.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("acknowledged after")),
        "{violations:?}"
    );

    assert!(ChannelId::new(42).say(&s.bot.http, "hello?").await.is_err());
    let violations = s.discord.take_violations();
    assert_eq!(
        violations,
        vec!["POST /channels/{channel_id}/messages: unknown channel 42"]
    );

    // A message a moderator deleted is a legitimate 404, not a violation.
    let message = ChannelId::new(s.help)
        .say(&s.bot.http, "to be removed")
        .await
        .expect("send");
    s.discord.delete_message(message.id.get());
    assert!(
        s.bot
            .http
            .get_message(ChannelId::new(s.help), message.id)
            .await
            .is_err()
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn limits_the_schema_does_not_state_are_checked() {
    let s = setup().await;
    // serenity's builders refuse 2001 characters themselves; a raw body does not.
    let long = s
        .bot
        .http
        .send_message(
            ChannelId::new(s.help),
            vec![],
            &json!({ "content": "x".repeat(2001) }),
        )
        .await;
    assert!(long.is_err());
    let twice = CreateMessage::new()
        .content("dup")
        .components(vec![CreateActionRow::Buttons(vec![
            CreateButton::new("same").label("A"),
            CreateButton::new("same").label("B"),
        ])]);
    assert!(
        ChannelId::new(s.help)
            .send_message(&s.bot.http, twice)
            .await
            .is_err()
    );
    let violations = s.discord.take_violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("longer than 2000"));
    assert!(violations[1].contains("used twice"));
    s.discord.assert_clean();
}

/// An answer read off the wire: serenity keeps an error's body and headers to itself.
#[derive(Debug)]
pub(super) struct RawAnswer {
    pub(super) status: u16,
    headers: Vec<(String, String)>,
    pub(super) body: Value,
}

impl RawAnswer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Sends one request to the fake's REST API as the bot, as plain HTTP/1.1 on a connection of its
/// own (hyper is only a server here), so that many can be in flight at once.
pub(super) async fn raw_request(
    discord: &FakeDiscord,
    method: &'static str,
    path: String,
    body: Option<Value>,
) -> RawAnswer {
    use std::io::{Read, Write};

    let addr = discord.api_url().trim_start_matches("http://").to_string();
    tokio::task::spawn_blocking(move || {
        let mut stream = std::net::TcpStream::connect(&addr).expect("connect to the fake's REST");
        stream.set_read_timeout(Some(LIMIT)).expect("read timeout");
        let body = body.map(|b| b.to_string()).unwrap_or_default();
        let content_type = match body.is_empty() {
            true => "",
            false => "Content-Type: application/json\r\n",
        };
        write!(
            stream,
            "{method} /api/v10{path} HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bot {TOKEN}\r\n\
             {content_type}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .expect("send the request");
        let mut raw = String::new();
        stream.read_to_string(&mut raw).expect("read the answer");
        let (head, body) = raw.split_once("\r\n\r\n").expect("a header block");
        let mut lines = head.lines();
        let status = lines
            .next()
            .and_then(|l| l.split(' ').nth(1))
            .and_then(|s| s.parse().ok())
            .expect("a status line");
        let headers = lines
            .filter_map(|l| l.split_once(": "))
            .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
            .collect();
        let body = match body.is_empty() {
            true => Value::Null,
            false => serde_json::from_str(body).expect("a JSON body"),
        };
        RawAnswer {
            status,
            headers,
            body,
        }
    })
    .await
    .expect("raw request task")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn over_the_global_limit_requests_get_discords_429_and_waiting_retry_after_gets_all_through()
{
    let s = setup().await;
    s.discord.set_global_rate_limit(Some(20));
    let from = s.discord.request_count();
    let send = |n: usize| {
        raw_request(
            &s.discord,
            "POST",
            format!("/channels/{}/messages", s.help),
            Some(json!({ "content": format!("burst {n}") })),
        )
    };

    let answers = join_all((0..60).map(send)).await;

    let refused: Vec<usize> = (0..60).filter(|&n| answers[n].status == 429).collect();
    let accepted: Vec<&RawAnswer> = answers.iter().filter(|a| a.status == 200).collect();
    assert_eq!(accepted.len() + refused.len(), 60, "{answers:#?}");
    assert!(!refused.is_empty(), "60 sends at once against 20 a second");
    for a in refused.iter().map(|&n| &answers[n]) {
        assert_eq!(a.body["message"], "You are being rate limited.");
        assert_eq!(
            (&a.body["global"], &a.body["code"]),
            (&json!(true), &json!(0))
        );
        let retry_after = a.body["retry_after"].as_f64().expect("retry_after");
        assert!(retry_after > 0.0 && retry_after <= 1.0, "{retry_after}");
        assert_eq!(a.header("retry-after"), Some("1"));
        assert_eq!(a.header("x-ratelimit-global"), Some("true"));
        assert_eq!(a.header("x-ratelimit-scope"), Some("global"));
    }
    for a in &accepted {
        assert_eq!(a.header("x-ratelimit-limit"), Some("5"));
        let remaining: u32 = a
            .header("x-ratelimit-remaining")
            .expect("remaining")
            .parse()
            .expect("a number");
        assert!(remaining >= 1, "a client must not be told to wait");
        for name in ["x-ratelimit-reset", "x-ratelimit-reset-after"] {
            let value: f64 = a.header(name).expect(name).parse().expect("seconds");
            assert!(value > 0.0, "{name}: {value}");
        }
        assert_eq!(
            a.header("x-ratelimit-bucket"),
            accepted[0].header("x-ratelimit-bucket")
        );
        assert_eq!(a.header("x-ratelimit-global"), None);
    }
    assert_eq!(s.discord.rate_limited_count(), refused.len() as u64);
    assert_eq!(
        s.discord.bot_message_count(s.help),
        accepted.len(),
        "refused sends were not acted on"
    );

    // Each refused send waits `retry_after` and tries again, as long as it takes.
    let retry = |n: usize| async move {
        for _ in 0..100 {
            let a = send(n).await;
            if a.status != 429 {
                return a.status;
            }
            let retry_after = a.body["retry_after"].as_f64().expect("retry_after");
            tokio::time::sleep(Duration::from_secs_f64(retry_after)).await;
        }
        panic!("send {n} still refused after 100 tries");
    };
    let statuses = join_all(refused.iter().map(|&n| retry(n))).await;
    assert!(statuses.iter().all(|&s| s == 200), "{statuses:?}");
    assert_eq!(s.discord.bot_message_count(s.help), 60);

    // By the fake's own clock, no second ever saw more than 20 accepted.
    let times: Vec<_> = s
        .discord
        .accepted_since(from)
        .into_iter()
        .map(|(t, _, _)| t)
        .collect();
    assert!(times.len() >= 60);
    for w in times.windows(21) {
        assert!(
            w[20] - w[0] >= Duration::from_secs(1),
            "21 accepted within {:?}",
            w[20] - w[0]
        );
    }
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn edits_reactions_and_deletes_count_against_the_global_limit() {
    let s = setup().await;
    let message = ChannelId::new(s.help)
        .say(&s.bot.http, "to edit")
        .await
        .expect("send")
        .id;
    let path = format!("/channels/{}/messages/{message}", s.help);
    let reaction = format!("{path}/reactions/%E2%9C%85/@me");
    s.discord.set_global_rate_limit(Some(3));
    let from = s.discord.request_count();

    // Three fit in the empty window however slow the machine is.
    let edit = raw_request(
        &s.discord,
        "PATCH",
        path.clone(),
        Some(json!({ "content": "edited" })),
    );
    let edit = edit.await;
    let react = raw_request(&s.discord, "PUT", reaction.clone(), None).await;
    let unreact = raw_request(&s.discord, "DELETE", reaction, None).await;
    assert_eq!((edit.status, react.status, unreact.status), (200, 204, 204));
    let delete = raw_request(&s.discord, "DELETE", path, None).await;

    let log = s.discord.requests_since(from);
    if log[3].handled_at - log[0].handled_at < Duration::from_secs(1) {
        assert_eq!(delete.status, 429);
        assert_eq!(
            s.discord.message(message.get()).expect("message")["deleted"],
            Value::Null
        );
        assert_eq!(s.discord.rate_limited_count(), 1);
    } else {
        eprintln!("slow machine: the fourth request came a second after the first");
        assert_eq!(delete.status, 204);
    }
    let counted: Vec<String> = s
        .discord
        .accepted_since(from)
        .into_iter()
        .map(|(_, method, _)| method)
        .collect();
    assert_eq!(counted[..3], ["PATCH", "PUT", "DELETE"]);
    assert_eq!(counted.len(), 3 + usize::from(delete.status == 204));
    s.discord.assert_clean();
}

/// The Rate Limits docs exempt only interaction endpoints from the global limit ("All bots can
/// make up to 50 requests per second to our API"); a gateway lookup counts like any request.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn gateway_lookups_count_against_the_global_limit() {
    let s = setup().await;
    s.discord.set_global_rate_limit(Some(1));
    let from = s.discord.request_count();
    let first = raw_request(&s.discord, "GET", "/gateway/bot".into(), None).await;
    let second = raw_request(&s.discord, "GET", "/gateway/bot".into(), None).await;
    assert_eq!(first.status, 200);
    let log = s.discord.requests_since(from);
    if log[1].handled_at - log[0].handled_at < Duration::from_secs(1) {
        assert_eq!(
            second.status, 429,
            "the second lookup within the second is refused"
        );
    } else {
        eprintln!("slow machine: the second lookup came a second after the first");
        assert_eq!(second.status, 200);
    }
    s.discord.set_global_rate_limit(None);
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_global_limit_nothing_is_refused_and_no_bucket_headers_are_sent() {
    let s = setup().await;
    s.discord.set_global_rate_limit(Some(20));
    s.discord.set_global_rate_limit(None);

    let answers = join_all((0..60).map(|n| {
        raw_request(
            &s.discord,
            "POST",
            format!("/channels/{}/messages", s.help),
            Some(json!({ "content": format!("burst {n}") })),
        )
    }))
    .await;

    assert!(answers.iter().all(|a| a.status == 200), "{answers:#?}");
    assert!(
        answers
            .iter()
            .all(|a| a.headers.iter().all(|(n, _)| !n.starts_with("x-ratelimit"))),
        "no rate-limit headers without a limit"
    );
    assert_eq!(s.discord.rate_limited_count(), 0);
    assert_eq!(s.discord.bot_message_count(s.help), 60);
    s.discord.assert_clean();
}

mod validator {
    use serde_json::json;

    use super::super::openapi::{schema_ref, spec};

    #[test]
    fn accepts_snowflakes_as_numbers_and_permissions_as_strings() {
        let spec = spec();
        let message = json!({ "content": "hi", "allowed_mentions": { "parse": [], "users": [1100000000000000001u64] } });
        assert!(
            spec.validate(&schema_ref("MessageCreateRequest"), &message)
                .is_empty()
        );
        let command =
            json!({ "name": "ticket", "description": "d", "default_member_permissions": "8" });
        assert!(
            spec.validate(&schema_ref("ApplicationCommandCreateRequest"), &command)
                .is_empty()
        );
    }

    #[test]
    fn names_the_alternative_that_was_meant() {
        let errors = spec().validate(
            &schema_ref("MessageCreateRequest"),
            &json!({ "components": [{ "type": 1, "components": [{ "type": 3, "custom_id": "s", "options": [] }] }] }),
        );
        let text: Vec<String> = errors.iter().map(ToString::to_string).collect();
        assert_eq!(
            text,
            vec!["body.components[0].components[0].options: fewer than 1 items (got 0)"]
        );
    }

    #[test]
    fn matches_literal_routes_before_parameters() {
        let m = spec()
            .match_path("/webhooks/1/abc/messages/@original")
            .expect("route");
        assert_eq!(
            m.route.template,
            "/webhooks/{webhook_id}/{webhook_token}/messages/@original"
        );
        assert!(spec().match_path("/channels/1/nonsense").is_none());
    }
}

mod gateway_checks {
    use serde_json::json;

    use super::super::gateway::serenity_accepts;
    use super::super::world::World;

    #[test]
    fn a_large_server_is_announced_without_its_members() {
        let mut world = World::new();
        let guild = world.add_guild("Acme");
        for n in 0..60 {
            let user = world.add_user(&format!("member{n}"), false);
            world.insert_member(guild, user, &[]);
        }
        let members = |payload: &serde_json::Value| payload["members"].as_array().unwrap().len();
        // 60 members and the owner and the bot: above 50, at most 250.
        let large = world.guild_create_json(&world.guilds[&guild], 50);
        assert_eq!(large["large"], true);
        assert_eq!(members(&large), 1, "the bot alone");
        assert_eq!(
            large["members"][0]["user"]["id"],
            super::super::world::BOT_USER_ID.to_string()
        );
        assert_eq!(large["member_count"], 62);
        let small = world.guild_create_json(&world.guilds[&guild], 250);
        assert_eq!(small["large"], false);
        assert_eq!(members(&small), 62);
        for payload in [large, small] {
            serenity_accepts(
                "GUILD_CREATE",
                json!({ "op": 0, "s": 1, "t": "GUILD_CREATE", "d": payload }),
            )
            .unwrap();
        }
    }

    #[test]
    fn a_role_without_colors_makes_serenity_drop_guild_create() {
        let mut world = World::new();
        let guild = world.add_guild("Acme");
        let mut payload = world.guild_create_json(&world.guilds[&guild], 250);
        payload["roles"][0]
            .as_object_mut()
            .unwrap()
            .remove("colors");
        let problem = serenity_accepts(
            "GUILD_CREATE",
            json!({ "op": 0, "s": 1, "t": "GUILD_CREATE", "d": payload }),
        );
        assert!(problem.is_err_and(|p| p.contains("colors")));
    }
}
