//! Self-tests of the rules the fake enforces as Discord does: permissions with channel
//! overwrites, what each request needs, role pings, what the client lets a member do in locked
//! and archived threads, which commands it offers whom, interaction tokens' lifetime,
//! privileged intents and who can be sent a direct message.

use std::time::Duration;

use serde_json::json;
use serenity::all::{
    ChannelId, ClientBuilder, CreateActionRow, CreateAllowedMentions, CreateAttachment,
    CreateButton, CreateCommand, CreateMessage, CreateThread, EditInteractionResponse, EditThread,
    GatewayIntents, HttpBuilder, Interaction, Permissions, RoleId, UserId,
};

use super::selftest::{LIMIT, all_intents, raw_request, setup};
use super::{FakeDiscord, TOKEN, perm};

/// The Discord error code of a failed serenity call.
fn code(result: &serenity::Result<impl std::fmt::Debug>) -> Option<(u16, isize)> {
    match result {
        Err(serenity::Error::Http(serenity::http::HttpError::UnsuccessfulRequest(e))) => {
            Some((e.status_code.as_u16(), e.error.code))
        }
        _ => None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn overwrites_apply_in_discords_order_and_threads_inherit_their_parents() {
    let s = setup().await;
    let d = &s.discord;
    let staff_room = d.add_text_channel(s.guild, "staff-room");
    let helpers = d.add_role(s.guild, "Helpers", 0);
    let bob = d.add_member(s.guild, "bob", &[helpers]);
    let carol = d.add_member(s.guild, "carol", &[helpers, s.staff]);

    // @everyone loses the channel; a role gets it back; a member overwrite beats the roles.
    d.set_overwrite(staff_room, s.guild, 0, 0, perm::VIEW_CHANNEL);
    assert_eq!(d.permissions_in(staff_room, s.alice), 0, "no view: nothing");
    d.set_overwrite(staff_room, helpers, 0, perm::VIEW_CHANNEL, 0);
    assert_ne!(d.permissions_in(staff_room, bob) & perm::VIEW_CHANNEL, 0);
    // Role overwrites add up: one role's allow wins over another's deny.
    d.set_overwrite(
        staff_room,
        s.staff,
        0,
        0,
        perm::VIEW_CHANNEL | perm::SEND_MESSAGES,
    );
    assert_ne!(d.permissions_in(staff_room, carol) & perm::VIEW_CHANNEL, 0);
    assert_eq!(d.permissions_in(staff_room, carol) & perm::SEND_MESSAGES, 0);
    // Denying sending takes attaching, embedding and mentioning everyone with it.
    assert_eq!(
        d.permissions_in(staff_room, carol) & (perm::ATTACH_FILES | perm::EMBED_LINKS),
        0
    );
    d.set_overwrite(staff_room, carol, 1, perm::SEND_MESSAGES, 0);
    assert_ne!(d.permissions_in(staff_room, carol) & perm::ATTACH_FILES, 0);
    d.set_overwrite(staff_room, bob, 1, 0, perm::VIEW_CHANNEL);
    assert_eq!(d.permissions_in(staff_room, bob), 0);

    // A thread has its parent's overwrites; the owner and administrators have everything.
    let thread = d.add_thread(staff_room, carol, "carol's thread");
    assert_eq!(d.permissions_in(thread, bob), 0);
    assert_ne!(d.permissions_in(thread, carol) & perm::VIEW_CHANNEL, 0);
    assert_eq!(
        d.permissions_in(staff_room, d.guild_owner(s.guild)),
        perm::all()
    );
    let admin_role = d.add_role(s.guild, "Admins", perm::ADMINISTRATOR);
    let admin = d.add_member(s.guild, "admin", &[admin_role]);
    d.set_overwrite(staff_room, admin_role, 0, 0, perm::VIEW_CHANNEL);
    assert_eq!(d.permissions_in(staff_room, admin), perm::all());
    d.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_bot_is_refused_what_its_permissions_in_the_channel_do_not_allow() {
    let s = setup().await;
    let (d, http) = (&s.discord, &s.bot.http);
    let bot_role = d.bot_role(s.guild);
    let help = ChannelId::new(s.help);
    let posted = help.say(http, "status").await.expect("send");

    // Pinning needs PIN_MESSAGES, whatever MANAGE_MESSAGES says.
    d.set_overwrite(
        s.help,
        bot_role,
        0,
        perm::MANAGE_MESSAGES,
        perm::PIN_MESSAGES,
    );
    assert_eq!(code(&help.pin(http, posted.id).await), Some((403, 50013)));
    d.set_overwrite(s.help, bot_role, 0, 0, 0);
    help.pin(http, posted.id)
        .await
        .expect("pinned with PIN_MESSAGES");

    // Files need ATTACH_FILES; replies and reading need READ_MESSAGE_HISTORY.
    d.set_overwrite(
        s.help,
        bot_role,
        0,
        0,
        perm::ATTACH_FILES | perm::READ_MESSAGE_HISTORY,
    );
    let file = CreateMessage::new()
        .content("transcript")
        .add_file(CreateAttachment::bytes(b"# notes".to_vec(), "notes.md"));
    assert_eq!(
        code(&help.send_message(http, file).await),
        Some((403, 50013))
    );
    let reply = CreateMessage::new()
        .content("a reply")
        .reference_message((help, posted.id));
    assert_eq!(
        code(&help.send_message(http, reply).await),
        Some((403, 50013))
    );
    let read = help.messages(http, serenity::all::GetMessages::new()).await;
    assert!(read.expect("listing works").is_empty(), "but shows nothing");
    assert_eq!(
        code(&help.message(http, posted.id).await),
        Some((403, 50013))
    );

    // A channel the bot cannot see is Missing Access.
    d.set_overwrite(s.help, bot_role, 0, 0, perm::VIEW_CHANNEL);
    assert_eq!(code(&help.say(http, "hello?").await), Some((403, 50001)));
    // A refusal is Discord's rule, not the bot's mistake: no violation.
    d.assert_clean();
    assert!(d.invalid_request_count() >= 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_that_is_not_mentionable_is_pinged_only_with_mention_everyone() {
    let s = setup().await;
    let (d, http) = (&s.discord, &s.bot.http);
    let help = ChannelId::new(s.help);
    let role = d.add_role(s.guild, "Agents", 0);
    let ping = || {
        CreateMessage::new()
            .content(format!("<@&{role}> a new ticket"))
            .allowed_mentions(CreateAllowedMentions::new().roles([RoleId::new(role)]))
    };
    let pinged = |m: serenity::all::Message| m.mention_roles.contains(&RoleId::new(role));

    // Accepted, but nobody is pinged: Discord does not say so.
    assert!(!pinged(
        help.send_message(http, ping()).await.expect("sent")
    ));
    d.set_role_mentionable(role, true);
    assert!(pinged(help.send_message(http, ping()).await.expect("sent")));
    d.set_role_mentionable(role, false);
    d.set_overwrite(s.help, d.bot_role(s.guild), 0, perm::MENTION_EVERYONE, 0);
    assert!(pinged(help.send_message(http, ping()).await.expect("sent")));
    d.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn locked_threads_take_no_presses_and_archived_ones_only_from_who_may_reopen_them() {
    let s = setup().await;
    let (d, http) = (&s.discord, &s.bot.http);
    let help = ChannelId::new(s.help);
    let thread = help
        .create_thread(http, CreateThread::new("ticket"))
        .await
        .expect("private thread");
    thread
        .id
        .add_thread_member(http, UserId::new(s.alice))
        .await
        .expect("alice added");
    let with_button =
        CreateMessage::new()
            .content("rate us")
            .components(vec![CreateActionRow::Buttons(vec![
                CreateButton::new("rate:5").label("5"),
            ])]);
    let message = thread
        .id
        .send_message(http, with_button)
        .await
        .expect("sent")
        .id
        .get();
    let bob = d.add_member(s.guild, "bob", &[]);
    let moderator_role = d.add_role(s.guild, "Mods", perm::MANAGE_THREADS);
    let moderator = d.add_member(s.guild, "mod", &[moderator_role]);

    let close = |archived, locked| EditThread::new().archived(archived).locked(locked);
    thread
        .id
        .edit_thread(http, close(true, true))
        .await
        .expect("closed");
    let refused = d.try_press_button(message, "rate:5", s.alice, "en-US");
    assert!(refused.unwrap_err().contains("locked"));
    // Staff with Manage Threads still can (the client unarchives for them).
    d.try_press_button(message, "rate:5", moderator, "en-US")
        .expect("a moderator may");
    assert_eq!(
        d.channel(thread.id.get()).unwrap()["thread_metadata"]["archived"],
        json!(false)
    );

    // Archived but not locked: a member of the thread reopens it by pressing; others cannot.
    thread
        .id
        .edit_thread(http, close(true, false))
        .await
        .expect("archived");
    assert!(d.try_press_button(message, "rate:5", bob, "en-US").is_err());
    let pressed = d
        .try_press_button(message, "rate:5", s.alice, "en-US")
        .expect("alice may");
    assert_eq!(
        d.channel(thread.id.get()).unwrap()["thread_metadata"]["archived"],
        json!(false)
    );
    // Exactly the two allowed presses reach the bot.
    let mut bot = s.bot;
    let mut pressers = Vec::new();
    for _ in 0..2 {
        let Interaction::Component(c) = bot.next_interaction().await else {
            panic!("a component press")
        };
        pressers.push(c.user.id.get());
    }
    pressers.sort_unstable();
    let mut expected = vec![moderator, pressed.user_id];
    expected.sort_unstable();
    assert_eq!(pressers, expected);
    d.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commands_are_offered_by_their_default_permissions_and_the_admins_overrides() {
    let s = setup().await;
    let (d, http) = (&s.discord, &s.bot.http);
    let commands = vec![
        CreateCommand::new("open").description("Anyone"),
        CreateCommand::new("staff")
            .description("Staff")
            .default_member_permissions(Permissions::MANAGE_THREADS),
        CreateCommand::new("nobody")
            .description("Admins only")
            .default_member_permissions(Permissions::empty()),
    ];
    serenity::model::application::Command::set_global_commands(http, commands)
        .await
        .expect("registered");
    let helpers = d.add_role(s.guild, "Helpers", perm::MANAGE_THREADS);
    let helper = d.add_member(s.guild, "helper", &[helpers]);
    let offered = |user| d.commands_offered(s.guild, s.help, user);

    assert_eq!(offered(s.alice), ["open"]);
    assert_eq!(offered(helper), ["open", "staff"]);
    assert_eq!(offered(d.guild_owner(s.guild)), ["nobody", "open", "staff"]);
    let refused = d.try_push_slash_command(s.guild, s.help, s.alice, "staff", json!([]), "en-US");
    assert!(refused.unwrap_err().contains("does not offer /staff"));

    // A command-level entry overrides default_member_permissions; an app-level deny hides
    // the rest; a channel entry turns a command off in one channel.
    d.set_command_permissions(s.guild, Some("staff"), &[(s.staff, 1, true)]);
    let staffer = d.add_member(s.guild, "staffer", &[s.staff]);
    assert_eq!(offered(staffer), ["open", "staff"]);
    d.set_command_permissions(s.guild, None, &[(s.guild, 1, false)]);
    assert_eq!(offered(staffer), ["staff"]);
    assert_eq!(offered(s.alice), Vec::<String>::new());
    d.set_command_permissions(s.guild, None, &[(s.help, 3, false)]);
    assert_eq!(offered(s.alice), Vec::<String>::new());
    assert_eq!(d.commands_offered(s.guild, s.forum, s.alice), ["open"]);

    // The bot may read them with its token, not change them.
    let path = format!(
        "/applications/{}/guilds/{}/commands/permissions",
        d.application_id(),
        s.guild
    );
    let read = raw_request(d, "GET", path, None).await;
    assert_eq!(read.status, 200);
    assert_eq!(read.body.as_array().map(Vec::len), Some(2));
    let staff_id = d
        .commands()
        .iter()
        .find(|c| c["name"] == "staff")
        .and_then(|c| c["id"].as_str().map(str::to_string))
        .unwrap();
    let path = format!(
        "/applications/{}/guilds/{}/commands/{staff_id}/permissions",
        d.application_id(),
        s.guild
    );
    let write = raw_request(d, "PUT", path, Some(json!({ "permissions": [] }))).await;
    assert_eq!(write.status, 401);
    let violations = d.take_violations();
    assert!(
        violations.iter().any(|v| v.contains("bot token")),
        "{violations:?}"
    );
    d.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_interaction_token_stops_working_after_fifteen_minutes() {
    let mut s = setup().await;
    super::selftest::register_ticket_command(&s.bot.http).await;
    s.discord.wait_commands_registered(LIMIT).await;
    let options = json!([{ "name": "where", "type": 7, "value": s.help.to_string() }]);
    let pushed = s
        .discord
        .push_slash_command(s.guild, s.help, s.alice, "ticket", options, "en-US");
    let Interaction::Command(command) = s.bot.next_interaction().await else {
        panic!("a command")
    };
    command.defer(&s.bot.http).await.expect("deferred in time");
    s.discord
        .age_interaction(&pushed, Duration::from_secs(14 * 60));
    let edit = || EditInteractionResponse::new().content("still here");
    command
        .edit_response(&s.bot.http, edit())
        .await
        .expect("14 minutes in, the token works");
    s.discord.age_interaction(&pushed, Duration::from_secs(61));
    assert_eq!(
        code(&command.edit_response(&s.bot.http, edit()).await),
        Some((401, 50027))
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_the_message_content_intent_in_the_portal_identify_is_closed_with_4014() {
    let discord = FakeDiscord::start().await;
    discord.add_guild("Acme");
    discord.set_message_content_intent(false);
    let http = HttpBuilder::new(TOKEN)
        .proxy(discord.api_url())
        .ratelimiter_disabled(true)
        .build();
    let app = http.get_current_application_info().await.expect("app");
    assert_eq!(app.flags.map(|f| f.bits() & (1 << 19)), Some(0));
    let mut client = ClientBuilder::new_with_http(http, all_intents())
        .await
        .expect("client");
    let started = tokio::time::timeout(LIMIT, client.start()).await;
    assert!(
        matches!(
            started,
            Ok(Err(serenity::Error::Gateway(
                serenity::gateway::GatewayError::DisallowedGatewayIntents
            )))
        ),
        "{started:?}"
    );
    // Without the privileged intent, the same client connects.
    let http = HttpBuilder::new(TOKEN)
        .proxy(discord.api_url())
        .ratelimiter_disabled(true)
        .build();
    let mut client = ClientBuilder::new_with_http(http, GatewayIntents::GUILDS)
        .await
        .expect("client");
    tokio::spawn(async move { client.start().await });
    discord.wait_ready(LIMIT).await;
    discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_messages_reach_only_members_of_a_shared_server_with_dms_open() {
    let s = setup().await;
    let (d, http) = (&s.discord, &s.bot.http);
    let elsewhere = d.add_guild("Elsewhere");
    let stranger = d.add_member(elsewhere, "stranger", &[]);
    // The bot is in both servers; a user of no shared server cannot be written to.
    let dm = UserId::new(stranger)
        .create_dm_channel(http)
        .await
        .expect("opens");
    dm.id.say(http, "hi").await.expect("shares Elsewhere");
    let outsider = d.add_member(elsewhere, "outsider", &[]);
    d.leave_guild(elsewhere, outsider);
    let dm = UserId::new(outsider)
        .create_dm_channel(http)
        .await
        .expect("the DM channel still opens");
    assert_eq!(code(&dm.id.say(http, "hi").await), Some((403, 50007)));
    d.set_dms_closed(s.alice, true);
    let dm = UserId::new(s.alice)
        .create_dm_channel(http)
        .await
        .expect("opens");
    assert_eq!(code(&dm.id.say(http, "hi").await), Some((403, 50007)));
    d.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_without_components_v2_takes_five_rows_and_a_select_fills_its_row() {
    let s = setup().await;
    let help = ChannelId::new(s.help);
    let row = |n: usize| {
        CreateActionRow::Buttons(
            (0..n.min(5))
                .map(|i| CreateButton::new(format!("b{n}.{i}")).label("x"))
                .collect(),
        )
    };
    let six_rows = CreateMessage::new()
        .content("too many rows")
        .components((1..=6).map(row).collect());
    assert!(help.send_message(&s.bot.http, six_rows).await.is_err());
    let five_rows = CreateMessage::new()
        .content("five rows")
        .components((1..=5).map(row).collect());
    help.send_message(&s.bot.http, five_rows)
        .await
        .expect("five rows of up to five buttons");
    // Serenity builds a row of one select; a raw body can put a button beside it.
    let mixed = json!({ "content": "mixed", "components": [{ "type": 1, "components": [
        { "type": 3, "custom_id": "pick", "options": [{ "label": "a", "value": "a" }] },
        { "type": 2, "style": 1, "custom_id": "go", "label": "Go" },
    ]}]});
    assert!(s.bot.http.send_message(help, vec![], &mixed).await.is_err());
    let violations = s.discord.take_violations();
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations[0].contains("6 action rows"), "{violations:?}");
    assert!(
        violations[1].contains("a select fills its row"),
        "{violations:?}"
    );
    s.discord.assert_clean();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_user_command_needs_send_messages_where_it_is_run() {
    let s = setup().await;
    let d = &s.discord;
    let commands =
        vec![CreateCommand::new("Help this member").kind(serenity::all::CommandType::User)];
    serenity::all::GuildId::new(s.guild)
        .set_commands(&s.bot.http, commands)
        .await
        .expect("guild commands");
    d.wait_commands_registered(LIMIT).await;
    let quiet = d.add_text_channel(s.guild, "read-only");
    d.set_overwrite(quiet, s.guild, 0, 0, perm::SEND_MESSAGES);
    let refused = d.try_push_user_command(quiet, s.alice, "Help this member", s.alice, "en-US");
    assert!(
        refused
            .as_ref()
            .is_err_and(|why| why.contains("Permission Denied")),
        "{:?}",
        refused.map(|_| ())
    );
    // Where they may write, the command reaches the bot with its target resolved.
    let mut bot = s.bot;
    d.push_user_command(s.help, s.alice, "Help this member", s.alice, "en-US");
    let Interaction::Command(command) = bot.next_interaction().await else {
        panic!("expected a command")
    };
    assert_eq!(command.data.target_id.map(|t| t.get()), Some(s.alice));
    assert!(
        command
            .data
            .resolved
            .users
            .contains_key(&UserId::new(s.alice))
    );
    d.assert_clean();
}
