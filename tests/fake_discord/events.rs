//! What users do, as gateway events: messages, forum posts, slash commands, autocomplete,
//! button presses, select choices and modal submits.
//!
//! These check the test's own input the way Discord's client would (a user cannot press a
//! button that is not on the message, pick a command option that does not exist, or submit a
//! modal that was never opened) and panic with an explanation if it is impossible.

use serde_json::{Map, Value, json};

use super::gateway::dispatch;
use super::rest::{collect_custom_ids, new_interaction_record, valid_locales};
use super::world::{APPLICATION_ID, BOT_USER_ID, channel_type, now_iso, random_hex, snowflake};
use super::{FakeDiscord, State};

/// The largest upload Discord allows a bot without boosts (10 MiB), sent in every interaction.
const ATTACHMENT_SIZE_LIMIT: u64 = 10 * 1024 * 1024;

/// An interaction the fake sent to the bot.
#[derive(Clone, Debug)]
pub struct Interaction {
    pub id: u64,
    /// The interaction token (the bot answers on `/interactions/{id}/{token}/callback`).
    pub token: String,
    /// 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub kind: u8,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
}

impl FakeDiscord {
    /// A user posts a message (MESSAGE_CREATE with `guild_id`, `member` and `author`). Posting
    /// in an archived thread unarchives it first, as Discord does.
    pub fn push_message(&self, channel: u64, user: u64, content: &str) -> u64 {
        self.update(|s| user_message(s, channel, user, content, None))
    }

    /// A user replies to a message (type 19 with `message_reference`).
    pub fn push_reply(&self, channel: u64, user: u64, content: &str, reply_to: u64) -> u64 {
        self.update(|s| user_message(s, channel, user, content, Some(reply_to)))
    }

    /// A user writes to the bot in DMs; returns the message id (the channel is
    /// [`dm_channel_of`](Self::dm_channel_of)).
    pub fn push_dm(&self, user: u64, content: &str) -> u64 {
        self.update(|s| {
            let channel = s.world.dm_channel(user);
            user_message(s, channel, user, content, None)
        })
    }

    /// A user opens a forum post: THREAD_CREATE (type 11, `newly_created`) then MESSAGE_CREATE of
    /// the starter message, whose id is the thread's id. Returns the thread id.
    pub fn push_forum_post(&self, forum: u64, user: u64, title: &str, content: &str) -> u64 {
        self.update(|s| {
            let (kind, guild) = s
                .world
                .channel(forum)
                .map(|c| (c.kind, c.guild_id))
                .unwrap_or_else(|| panic!("fake Discord: unknown channel {forum}"));
            assert_eq!(
                kind,
                channel_type::GUILD_FORUM,
                "fake Discord: channel {forum} is not a forum"
            );
            let guild = guild.unwrap_or_default();
            assert_member(s, guild, user);
            let thread =
                s.world
                    .add_channel(Some(guild), channel_type::PUBLIC_THREAD, title, Some(forum));
            if let Some(c) = s.world.channels.get_mut(&thread) {
                c.owner_id = Some(user);
                if let Some(t) = c.thread.as_mut() {
                    t.members.insert(user);
                }
            }
            let mut created = s.world.channel_json(&s.world.channels[&thread]);
            created["newly_created"] = true.into();
            created["message_count"] = 1.into();
            dispatch(s, "THREAD_CREATE", created);
            let message = s.world.new_message_json(thread, thread, user, content);
            s.world.store_message(message, thread, user, None);
            if let Some(m) = s.world.gateway_message_json(thread) {
                dispatch(s, "MESSAGE_CREATE", m);
            }
            thread
        })
    }

    /// A user runs a slash command. `options` is Discord's JSON array of `{name, type, value}`
    /// (sub-commands nested under `options`); channel, role and user options get `resolved`
    /// data. The command must be registered and the options must fit its definition.
    /// Panics if Discord's client would not offer the command to this member there (see
    /// [`try_push_slash_command`](Self::try_push_slash_command)).
    pub fn push_slash_command(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
        locale: &str,
    ) -> Interaction {
        self.try_push_slash_command(guild, channel, user, name, options, locale)
            .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user tries to run a slash command: `Err` says why Discord's client does not offer it
    /// to them (its `default_member_permissions`, command permissions, a locked or archived
    /// thread); the bot then hears nothing.
    pub fn try_push_slash_command(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
        locale: &str,
    ) -> Result<Interaction, String> {
        self.update(|s| command_interaction(s, guild, channel, user, name, options, locale, false))
    }

    /// The slash commands Discord's client offers this member in this channel, by name, sorted
    /// (see `World::command_offered`).
    pub fn commands_offered(&self, guild: u64, channel: u64, user: u64) -> Vec<String> {
        self.read(|s| {
            let mut names: Vec<String> = s
                .world
                .all_commands()
                .iter()
                .filter(|c| c["type"].as_u64().unwrap_or(1) == 1)
                .filter(|c| {
                    c["guild_id"]
                        .as_str()
                        .is_none_or(|g| g == guild.to_string())
                })
                .filter(|c| s.world.command_offered(guild, channel, user, c))
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect();
            names.sort();
            names
        })
    }

    /// An admin changes Beacon's command permissions under Server Settings > Integrations:
    /// for one command (by name), or for the whole app (`None`). Entries are `(id, kind,
    /// allowed)`: kind 1 a role (the guild id is `@everyone`), 2 a user, 3 a channel (the guild
    /// id minus one is every channel). An empty list removes the overrides.
    pub fn set_command_permissions(
        &self,
        guild: u64,
        command: Option<&str>,
        entries: &[(u64, u8, bool)],
    ) {
        self.update(|s| {
            let target = match command {
                None => APPLICATION_ID,
                Some(name) => s
                    .world
                    .find_command(Some(guild), name, 1)
                    .and_then(|c| c["id"].as_str()?.parse().ok())
                    .unwrap_or_else(|| panic!("fake Discord: no command {name:?} registered")),
            };
            let list: Vec<super::world::CommandPermission> = entries
                .iter()
                .map(|&(id, kind, allowed)| super::world::CommandPermission { id, kind, allowed })
                .collect();
            if list.is_empty() {
                s.world.command_permissions.remove(&(guild, target));
            } else {
                s.world.command_permissions.insert((guild, target), list);
            }
        })
    }

    /// A user types into an autocomplete option: like [`push_slash_command`](Self::push_slash_command)
    /// with exactly one option marked `"focused": true` (its value is the text typed so far).
    pub fn push_autocomplete(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
        locale: &str,
    ) -> Interaction {
        self.update(|s| command_interaction(s, guild, channel, user, name, options, locale, true))
            .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user runs a message context-menu command on `target` (command type 3).
    pub fn push_message_command(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        target: u64,
        locale: &str,
    ) -> Interaction {
        self.update(|s| {
            let (_, cmd) = context_command(s, channel, user, name, 3)?;
            let message = s
                .world
                .messages
                .get(&target)
                .unwrap_or_else(|| panic!("fake Discord: unknown message {target}"));
            let data = json!({
                "id": cmd["id"],
                "name": name,
                "type": 3,
                "target_id": target.to_string(),
                "resolved": { "messages": { target.to_string(): message.value } },
            });
            send_interaction(s, 2, channel, user, locale, data, None)
        })
        .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user runs a user context-menu command on member `target` (command type 2). Discord
    /// sends the target's id in `target_id` and its user and member in `resolved` (Application
    /// Commands docs, "User Commands"). Panics where Discord's client would refuse (see
    /// [`try_push_user_command`](Self::try_push_user_command)).
    pub fn push_user_command(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        target: u64,
        locale: &str,
    ) -> Interaction {
        self.try_push_user_command(channel, user, name, target, locale)
            .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user tries a user command: `Err` says why the client refuses. It offers the command
    /// only as its `default_member_permissions` allow, and "a user must have permission to send
    /// text messages in the channel they invoke a user command in" (Application Commands docs,
    /// "User Commands"): without it they get "Permission Denied" and the bot hears nothing.
    pub fn try_push_user_command(
        &self,
        channel: u64,
        user: u64,
        name: &str,
        target: u64,
        locale: &str,
    ) -> Result<Interaction, String> {
        self.update(|s| {
            let (guild, cmd) = context_command(s, channel, user, name, 2)?;
            let in_thread = s.world.channel(channel).is_some_and(|c| c.thread.is_some());
            let send = if in_thread {
                super::perm::SEND_MESSAGES_IN_THREADS
            } else {
                super::perm::SEND_MESSAGES
            };
            if guild.is_some() && s.world.channel_permissions(channel, user) & send == 0 {
                return Err(format!(
                    "member {user} may not send messages in channel {channel}: Discord's client \
                     answers {name:?} with Permission Denied"
                ));
            }
            let raw = target.to_string();
            let data = json!({
                "id": cmd["id"],
                "name": name,
                "type": 2,
                "target_id": raw,
                "resolved": resolve_ids(s, guild, user, 5, &[&raw]),
            });
            send_interaction(s, 2, channel, user, locale, data, None)
        })
    }

    /// A user presses a button on a bot message. The button must be on the message and enabled.
    /// Panics if Discord's client would not let them (see [`try_press_button`](Self::try_press_button)).
    pub fn press_button(
        &self,
        message: u64,
        custom_id: &str,
        user: u64,
        locale: &str,
    ) -> Interaction {
        self.try_press_button(message, custom_id, user, locale)
            .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user tries to press a button: `Err` says why Discord's client does not send the
    /// interaction (a locked thread, an archived one they cannot reopen); then the bot hears
    /// nothing, as on Discord.
    pub fn try_press_button(
        &self,
        message: u64,
        custom_id: &str,
        user: u64,
        locale: &str,
    ) -> Result<Interaction, String> {
        self.update(|s| {
            let (channel, component, value) = find_component(s, message, custom_id);
            let kind = component["type"].as_u64().unwrap_or(0);
            assert_eq!(kind, 2, "fake Discord: {custom_id:?} on message {message} is a component of type {kind}, not a button");
            let data = json!({ "custom_id": custom_id, "component_type": 2, "id": component["id"] });
            send_interaction(s, 3, channel, user, locale, data, Some((message, value)))
        })
    }

    /// A user picks values in a select menu on a bot message. For string selects the values
    /// must be among the options, and their count within `min_values..=max_values`.
    pub fn choose_select(
        &self,
        message: u64,
        custom_id: &str,
        values: &[&str],
        user: u64,
        locale: &str,
    ) -> Interaction {
        self.update(|s| {
            let (channel, component, value) = find_component(s, message, custom_id);
            let kind = component["type"].as_u64().unwrap_or(0);
            assert!(matches!(kind, 3 | 5..=8), "fake Discord: {custom_id:?} is a component of type {kind}, not a select menu");
            let min = component["min_values"].as_u64().unwrap_or(1) as usize;
            let max = component["max_values"].as_u64().unwrap_or(1) as usize;
            assert!(
                (min..=max).contains(&values.len()),
                "fake Discord: select {custom_id:?} takes {min}..={max} values, the test chose {}",
                values.len()
            );
            if kind == 3 {
                let offered: Vec<&str> =
                    component["options"].as_array().map(|o| o.iter().filter_map(|x| x["value"].as_str()).collect()).unwrap_or_default();
                for v in values {
                    assert!(offered.contains(v), "fake Discord: select {custom_id:?} has no option {v:?}; it offers {offered:?}");
                }
            }
            let mut data = json!({ "custom_id": custom_id, "component_type": kind, "values": values, "id": component["id"] });
            if kind != 3 {
                let guild = s.world.guild_of(channel);
                data["resolved"] = resolve_ids(s, guild, user, kind, values);
            }
            send_interaction(s, 3, channel, user, locale, data, Some((message, value)))
        })
        .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }

    /// A user submits a modal the bot opened for them (the latest with this `custom_id`).
    /// `fields` are `(text input custom_id, value)`; required inputs must be given.
    pub fn submit_modal(
        &self,
        custom_id: &str,
        fields: &[(&str, &str)],
        user: u64,
        locale: &str,
    ) -> Interaction {
        self.update(|s| {
            let index = s
                .world
                .open_modals
                .iter()
                .rposition(|m| m.custom_id == custom_id && m.user_id == user)
                .unwrap_or_else(|| panic!("fake Discord: the bot has not opened a modal {custom_id:?} for user {user}"));
            let modal = s.world.open_modals.remove(index);
            let opener = &s.world.interactions[&modal.opened_by];
            let (channel, source) = (opener.channel_id, opener.source_message);
            let inputs = text_inputs(&modal.data["components"]);
            for (field, _) in fields {
                assert!(
                    inputs.iter().any(|i| i["custom_id"] == *field),
                    "fake Discord: modal {custom_id:?} has no input {field:?}"
                );
            }
            let mut rows = Vec::new();
            for input in &inputs {
                let id = input["custom_id"].as_str().unwrap_or("");
                let value = fields.iter().find(|(f, _)| *f == id).map(|(_, v)| *v);
                let required = input["required"] != false;
                let value = match value {
                    Some(v) => v,
                    None if required => panic!("fake Discord: modal {custom_id:?} requires input {id:?}"),
                    None => "",
                };
                let len = value.chars().count() as u64;
                if let Some(max) = input["max_length"].as_u64() {
                    assert!(len <= max, "fake Discord: input {id:?} takes at most {max} characters");
                }
                if let Some(min) = input["min_length"].as_u64() {
                    assert!(len >= min || (!required && len == 0), "fake Discord: input {id:?} needs at least {min} characters");
                }
                rows.push(json!({ "type": 1, "components": [{ "type": 4, "custom_id": id, "value": value }] }));
            }
            let data = json!({ "custom_id": custom_id, "components": rows });
            let source = source.and_then(|m| s.world.messages.get(&m).map(|v| (m, v.value.clone())));
            send_interaction(s, 5, channel, user, locale, data, source)
        })
        .unwrap_or_else(|why| panic!("fake Discord: {why}"))
    }
}

fn assert_member(s: &State, guild: u64, user: u64) {
    let member = s
        .world
        .guilds
        .get(&guild)
        .is_some_and(|g| g.members.contains_key(&user));
    assert!(
        member,
        "fake Discord: user {user} is not a member of guild {guild}"
    );
}

fn user_message(
    s: &mut State,
    channel: u64,
    user: u64,
    content: &str,
    reply_to: Option<u64>,
) -> u64 {
    let c = s
        .world
        .channel(channel)
        .unwrap_or_else(|| panic!("fake Discord: unknown channel {channel}"));
    assert!(
        !matches!(
            c.kind,
            channel_type::GUILD_FORUM | channel_type::GUILD_CATEGORY
        ),
        "fake Discord: users cannot post directly in channel {channel} (type {}); use push_forum_post for forums",
        c.kind
    );
    let thread = c.thread.as_ref().map(|t| (t.archived, t.locked));
    if let Some(guild) = c.guild_id {
        assert_member(s, guild, user);
    }
    if let Some((archived, locked)) = thread {
        assert!(
            !locked,
            "fake Discord: thread {channel} is locked; members cannot post in it"
        );
        if archived {
            super::rest::unarchive(s, channel);
        }
        if let Some(t) = s
            .world
            .channels
            .get_mut(&channel)
            .and_then(|c| c.thread.as_mut())
        {
            t.members.insert(user);
        }
    }
    let id = s.world.next_id();
    let mut message = s.world.new_message_json(id, channel, user, content);
    if let Some(target) = reply_to {
        let replied = s
            .world
            .messages
            .get(&target)
            .unwrap_or_else(|| panic!("fake Discord: unknown message {target}"));
        message["type"] = 19.into();
        message["message_reference"] = json!({ "type": 0, "message_id": target.to_string(), "channel_id": channel.to_string() });
        message["referenced_message"] = replied.value.clone();
        let author = s.world.user_json(replied.author_id);
        if let Some(list) = message["mentions"].as_array_mut() {
            list.push(author);
        }
    }
    s.world.store_message(message, channel, user, None);
    if let Some(m) = s.world.gateway_message_json(id) {
        dispatch(s, "MESSAGE_CREATE", m);
    }
    id
}

/// Whether Discord's client lets `user` interact (`kind`: 2 command, 3 component, 4
/// autocomplete, 5 modal submit) in a thread, and the unarchiving it does first.
///
/// Threads docs, "Locked Threads" and "Active & Archived Threads": users cannot use
/// application commands in archived threads; a locked thread can only be unarchived by a
/// member with MANAGE_THREADS; unlocking aside, unarchiving needs only to be a member of the
/// thread who may send in it (Channel docs, "Modify Channel", thread params). The client tries
/// to unarchive before sending a component interaction, and when that is refused (403 50013)
/// the interaction never reaches the bot (discord-api-docs issues 8474 and 5946); components
/// in a locked thread are not pressable at all (issue 7900).
fn client_gate(s: &mut State, kind: u8, channel: u64, user: u64) -> Result<(), String> {
    // Nobody interacts with what they cannot see: a DM is its recipient's, a server channel
    // needs VIEW_CHANNEL, a private thread membership or MANAGE_THREADS (Threads docs,
    // "Permissions").
    if let Some(c) = s.world.channel(channel) {
        let sees = match (c.recipient, &c.thread) {
            (Some(recipient), _) => recipient == user,
            (None, Some(t)) if c.kind == channel_type::PRIVATE_THREAD => {
                let perms = s.world.channel_permissions(channel, user);
                perms & super::perm::VIEW_CHANNEL != 0
                    && (t.members.contains(&user) || perms & super::perm::MANAGE_THREADS != 0)
            }
            _ => s.world.channel_permissions(channel, user) & super::perm::VIEW_CHANNEL != 0,
        };
        if !sees {
            return Err(format!(
                "member {user} cannot see channel {channel}, so cannot use it"
            ));
        }
    }
    let Some(thread) = s.world.channel(channel).and_then(|c| c.thread.as_ref()) else {
        return Ok(());
    };
    let (archived, locked, member) = (
        thread.archived,
        thread.locked,
        thread.members.contains(&user),
    );
    let perms = s.world.channel_permissions(channel, user);
    let manages = perms & super::perm::MANAGE_THREADS != 0;
    if locked && !manages && (archived || matches!(kind, 3 | 5)) {
        return Err(format!(
            "thread {channel} is locked: Discord's client does not let member {user} (no MANAGE_THREADS) \
             press components or run commands in it, so the bot never hears of it"
        ));
    }
    if archived {
        let may_unarchive =
            manages || (member && perms & super::perm::SEND_MESSAGES_IN_THREADS != 0);
        if !may_unarchive {
            return Err(format!(
                "thread {channel} is archived and member {user} may not unarchive it: the client's \
                 PATCH is refused with 403 50013 and the interaction is never sent"
            ));
        }
        super::rest::unarchive(s, channel);
    }
    Ok(())
}

/// Builds and sends an INTERACTION_CREATE; records it so the bot's answers can be checked.
/// `Err` when Discord's client would not send it (see [`client_gate`]).
/// The context-menu command (`kind` 2 for users, 3 for messages) a member runs in `channel`,
/// with the channel's server: Discord's client offers it only as its permissions allow.
fn context_command(
    s: &State,
    channel: u64,
    user: u64,
    name: &str,
    kind: u64,
) -> Result<(Option<u64>, Value), String> {
    let guild = s.world.guild_of(channel);
    let cmd = s
        .world
        .find_command(guild, name, kind)
        .unwrap_or_else(|| panic!("fake Discord: no command {name:?} of type {kind} registered"))
        .clone();
    if let Some(g) = guild
        && !s.world.command_offered(g, channel, user, &cmd)
    {
        return Err(format!(
            "Discord's client does not offer {name:?} to member {user} in channel {channel} \
             (default_member_permissions {})",
            cmd["default_member_permissions"]
        ));
    }
    Ok((guild, cmd))
}

fn send_interaction(
    s: &mut State,
    kind: u8,
    channel: u64,
    user: u64,
    locale: &str,
    data: Value,
    message: Option<(u64, Value)>,
) -> Result<Interaction, String> {
    client_gate(s, kind, channel, user)?;
    let locales = valid_locales();
    assert!(
        locales.iter().any(|l| l == locale),
        "fake Discord: {locale:?} is not a Discord locale, so no client sends it; use one of {locales:?}"
    );
    let c = s
        .world
        .channel(channel)
        .unwrap_or_else(|| panic!("fake Discord: unknown channel {channel}"));
    let guild = c.guild_id;
    let mut channel_json = s.world.channel_json(c);
    let id = s.world.next_id();
    let token = format!("aW50ZXJhY3Rpb246{id}:{}", random_hex(96));
    let mut payload = json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID.to_string(),
        "type": kind,
        "data": data,
        "channel_id": channel.to_string(),
        "token": token,
        "version": 1,
        "locale": locale,
        "entitlements": [],
        "attachment_size_limit": ATTACHMENT_SIZE_LIMIT,
    });
    match guild {
        Some(g) => {
            assert_member(s, g, user);
            channel_json["permissions"] = s
                .world
                .channel_permissions(channel, user)
                .to_string()
                .into();
            payload["guild_id"] = g.to_string().into();
            payload["guild"] = json!({ "id": g.to_string(), "locale": s.world.guilds[&g].preferred_locale, "features": [] });
            payload["guild_locale"] = s.world.guilds[&g].preferred_locale.clone().into();
            payload["member"] = s.world.member_json(g, user, true, true);
            payload["app_permissions"] = s
                .world
                .channel_permissions(channel, BOT_USER_ID)
                .to_string()
                .into();
            payload["authorizing_integration_owners"] = json!({ "0": g.to_string() });
            payload["context"] = 0.into();
        }
        None => {
            payload["user"] = s.world.user_json(user);
            payload["app_permissions"] = super::perm::all().to_string().into();
            payload["authorizing_integration_owners"] = json!({ "0": "0" });
            payload["context"] = 1.into();
        }
    }
    payload["channel"] = channel_json;
    let source = message.as_ref().map(|(m, _)| *m);
    if let Some((_, value)) = message {
        payload["message"] = value;
    }
    s.world.interactions.insert(
        id,
        new_interaction_record(id, token.clone(), kind, guild, channel, user, source),
    );
    s.world.interaction_tokens.insert(token.clone(), id);
    dispatch(s, "INTERACTION_CREATE", payload);
    Ok(Interaction {
        id,
        token,
        kind,
        guild_id: guild,
        channel_id: channel,
        user_id: user,
    })
}

#[expect(
    clippy::too_many_arguments,
    reason = "mirrors the public push_* signature plus the mode"
)]
fn command_interaction(
    s: &mut State,
    guild: u64,
    channel: u64,
    user: u64,
    name: &str,
    options: Value,
    locale: &str,
    autocomplete: bool,
) -> Result<Interaction, String> {
    assert_eq!(
        s.world.guild_of(channel),
        Some(guild),
        "fake Discord: channel {channel} is not in guild {guild}"
    );
    let cmd = s
        .world
        .find_command(Some(guild), name, 1)
        .unwrap_or_else(|| {
            let known: Vec<String> = s
                .world
                .all_commands()
                .iter()
                .filter_map(|c| c["name"].as_str().map(str::to_string))
                .collect();
            panic!("fake Discord: no slash command {name:?} registered (registered: {known:?})")
        })
        .clone();
    if !s.world.command_offered(guild, channel, user, &cmd) {
        return Err(format!(
            "Discord's client does not offer /{name} to member {user} in channel {channel} \
             (default_member_permissions {}, and no command permission allows them)",
            cmd["default_member_permissions"]
        ));
    }
    let options = match options {
        Value::Null => json!([]),
        o => o,
    };
    let mut focused = 0;
    let options = check_options(
        s,
        guild,
        &cmd["options"],
        &options,
        &format!("/{name}"),
        autocomplete,
        &mut focused,
    );
    if autocomplete {
        assert_eq!(
            focused, 1,
            "fake Discord: an autocomplete needs exactly one option with \"focused\": true"
        );
    } else {
        assert_eq!(
            focused, 0,
            "fake Discord: \"focused\" only belongs in push_autocomplete"
        );
    }
    let mut data = json!({ "id": cmd["id"], "name": name, "type": 1, "options": options });
    if let Some(g) = cmd.get("guild_id") {
        data["guild_id"] = g.clone();
    }
    let mut resolved = Map::new();
    collect_resolved(s, guild, user, &data["options"], &mut resolved);
    if !resolved.is_empty() {
        data["resolved"] = Value::Object(resolved);
    }
    send_interaction(
        s,
        if autocomplete { 4 } else { 2 },
        channel,
        user,
        locale,
        data,
        None,
    )
}

/// Checks the given options against the command's definition (as a Discord client would) and
/// returns them normalised (snowflakes as strings).
fn check_options(
    s: &State,
    guild: u64,
    defs: &Value,
    given: &Value,
    at: &str,
    autocomplete: bool,
    focused: &mut usize,
) -> Value {
    let defs = defs.as_array().cloned().unwrap_or_default();
    let given = given
        .as_array()
        .unwrap_or_else(|| panic!("fake Discord: options of {at} must be a JSON array"));
    let names: Vec<&str> = defs.iter().filter_map(|d| d["name"].as_str()).collect();
    let mut out = Vec::new();
    for option in given {
        let name = option["name"]
            .as_str()
            .unwrap_or_else(|| panic!("fake Discord: an option of {at} has no name"));
        let def = defs.iter().find(|d| d["name"] == name).unwrap_or_else(|| {
            panic!("fake Discord: {at} has no option {name:?} (it has {names:?})")
        });
        let kind = def["type"].as_u64().unwrap_or(0);
        let given_kind = option["type"].as_u64().unwrap_or(kind);
        assert_eq!(
            given_kind, kind,
            "fake Discord: option {at} {name} has type {kind}, the test gave {given_kind}"
        );
        let mut o = json!({ "name": name, "type": kind });
        if matches!(kind, 1 | 2) {
            let nested = option.get("options").cloned().unwrap_or_else(|| json!([]));
            o["options"] = check_options(
                s,
                guild,
                &def["options"],
                &nested,
                &format!("{at} {name}"),
                autocomplete,
                focused,
            );
            out.push(o);
            continue;
        }
        let value = &option["value"];
        let is_focused = option["focused"] == true;
        if is_focused {
            *focused += 1;
            assert!(
                def["autocomplete"] == true,
                "fake Discord: option {at} {name} does not have autocomplete"
            );
            o["focused"] = true.into();
            o["value"] = value.clone();
            out.push(o);
            continue;
        }
        let normalised = match kind {
            6..=9 => Value::String(
                snowflake(value)
                    .unwrap_or_else(|| {
                        panic!("fake Discord: option {at} {name} needs an id, got {value}")
                    })
                    .to_string(),
            ),
            _ => value.clone(),
        };
        if let Some(choices) = def["choices"].as_array().filter(|c| !c.is_empty()) {
            assert!(
                choices.iter().any(|c| c["value"] == normalised),
                "fake Discord: option {at} {name} only accepts its choices, not {normalised}"
            );
        }
        match kind {
            3 => {
                let text = normalised
                    .as_str()
                    .unwrap_or_else(|| panic!("fake Discord: option {at} {name} is a string"));
                let len = text.chars().count() as u64;
                assert!(
                    def["max_length"].as_u64().is_none_or(|m| len <= m),
                    "fake Discord: option {at} {name} is too long"
                );
                assert!(
                    def["min_length"].as_u64().is_none_or(|m| len >= m),
                    "fake Discord: option {at} {name} is too short"
                );
            }
            4 | 10 => {
                let n = normalised
                    .as_f64()
                    .unwrap_or_else(|| panic!("fake Discord: option {at} {name} is a number"));
                assert!(
                    def["max_value"].as_f64().is_none_or(|m| n <= m),
                    "fake Discord: option {at} {name} is above max_value"
                );
                assert!(
                    def["min_value"].as_f64().is_none_or(|m| n >= m),
                    "fake Discord: option {at} {name} is below min_value"
                );
                if kind == 4 {
                    assert!(
                        normalised.is_i64() || normalised.is_u64(),
                        "fake Discord: option {at} {name} is an integer"
                    );
                }
            }
            5 => assert!(
                normalised.is_boolean(),
                "fake Discord: option {at} {name} is a boolean"
            ),
            7 => {
                let id = snowflake(&normalised).unwrap_or_default();
                let c = s.world.channel(id).unwrap_or_else(|| {
                    panic!("fake Discord: option {at} {name}: unknown channel {id}")
                });
                assert_eq!(
                    c.guild_id,
                    Some(guild),
                    "fake Discord: channel {id} is in another guild"
                );
                if let Some(types) = def["channel_types"].as_array().filter(|t| !t.is_empty()) {
                    assert!(
                        types.iter().any(|t| t.as_u64() == Some(u64::from(c.kind))),
                        "fake Discord: option {at} {name} accepts channel types {types:?}, channel {id} is type {}",
                        c.kind
                    );
                }
            }
            _ => {}
        }
        o["value"] = normalised;
        out.push(o);
    }
    if !autocomplete {
        for def in &defs {
            if def["required"] == true {
                let name = def["name"].as_str().unwrap_or("");
                assert!(
                    given.iter().any(|o| o["name"] == name),
                    "fake Discord: {at} requires option {name:?}"
                );
            }
        }
    }
    Value::Array(out)
}

/// `resolved` entries for user (6), channel (7), role (8) and mentionable (9) options.
fn collect_resolved(
    s: &State,
    guild: u64,
    user: u64,
    options: &Value,
    out: &mut Map<String, Value>,
) {
    for o in options.as_array().into_iter().flatten() {
        let kind = o["type"].as_u64().unwrap_or(0);
        if matches!(kind, 1 | 2) {
            collect_resolved(s, guild, user, &o["options"], out);
            continue;
        }
        if o["focused"] == true || !matches!(kind, 6..=9) {
            continue;
        }
        let id = o["value"].as_str().unwrap_or("");
        let select_kind = match kind {
            6 => 5,
            7 => 8,
            8 => 6,
            _ => 7,
        };
        merge(out, resolve_ids(s, Some(guild), user, select_kind, &[id]));
    }
}

fn merge(into: &mut Map<String, Value>, from: Value) {
    if let Value::Object(from) = from {
        for (k, v) in from {
            let entry = into.entry(k).or_insert_with(|| json!({}));
            if let (Value::Object(e), Value::Object(v)) = (entry, v) {
                e.extend(v);
            }
        }
    }
}

/// `resolved` data for ids picked in a select of `select_kind` (5 user, 6 role, 7 mentionable,
/// 8 channel).
fn resolve_ids(s: &State, guild: Option<u64>, user: u64, select_kind: u64, ids: &[&str]) -> Value {
    let mut resolved = json!({});
    for raw in ids {
        let id: u64 = raw
            .parse()
            .unwrap_or_else(|_| panic!("fake Discord: {raw:?} is not an id"));
        let is_role = s.world.roles.contains_key(&id);
        match select_kind {
            6 | 7 if is_role => {
                let role = s.world.role_json(&s.world.roles[&id]);
                resolved["roles"][raw] = role;
            }
            5 | 7 => {
                assert!(
                    s.world.users.contains_key(&id),
                    "fake Discord: unknown user {id}"
                );
                resolved["users"][raw] = s.world.user_json(id);
                if let Some(g) = guild {
                    if s.world.guilds[&g].members.contains_key(&id) {
                        resolved["members"][raw] = s.world.member_json(g, id, false, true);
                    }
                }
            }
            8 => {
                let c = s
                    .world
                    .channel(id)
                    .unwrap_or_else(|| panic!("fake Discord: unknown channel {id}"));
                let mut v = json!({
                    "id": raw,
                    "name": c.name,
                    "type": c.kind,
                    "parent_id": c.parent_id.map(|p| p.to_string()),
                    "permissions": s.world.channel_permissions(id, user).to_string(),
                });
                if let Some(t) = s.world.channel_json(c).get("thread_metadata") {
                    v["thread_metadata"] = t.clone();
                }
                resolved["channels"][raw] = v;
            }
            _ => panic!("fake Discord: unknown role {id}"),
        }
    }
    resolved
}

/// The channel, the component with `custom_id`, and the message's current value.
fn find_component(s: &State, message: u64, custom_id: &str) -> (u64, Value, Value) {
    let m = s
        .world
        .messages
        .get(&message)
        .unwrap_or_else(|| panic!("fake Discord: unknown message {message}"));
    assert!(
        m.deleted.is_none(),
        "fake Discord: message {message} was deleted"
    );
    let mut found = None;
    find_in(&m.value["components"], custom_id, &mut found);
    let Some(component) = found else {
        let mut ids = Vec::new();
        collect_custom_ids(&m.value["components"], &mut ids);
        panic!("fake Discord: message {message} has no component {custom_id:?}; it has {ids:?}");
    };
    assert!(
        component["disabled"] != true,
        "fake Discord: component {custom_id:?} is disabled; users cannot use it"
    );
    (m.channel_id, component, m.value.clone())
}

fn find_in(components: &Value, custom_id: &str, found: &mut Option<Value>) {
    match components {
        Value::Array(items) => items.iter().for_each(|c| find_in(c, custom_id, found)),
        Value::Object(map) => {
            if map.get("custom_id").and_then(Value::as_str) == Some(custom_id) && found.is_none() {
                *found = Some(components.clone());
            }
            for key in ["components", "accessory", "component"] {
                if let Some(child) = map.get(key) {
                    find_in(child, custom_id, found);
                }
            }
        }
        _ => {}
    }
}

/// The text inputs of a modal, in order (inside action rows or labels).
fn text_inputs(components: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    fn walk(v: &Value, out: &mut Vec<Value>) {
        match v {
            Value::Array(items) => items.iter().for_each(|c| walk(c, out)),
            Value::Object(map) => {
                if map.get("type").and_then(Value::as_u64) == Some(4) {
                    out.push(v.clone());
                }
                for key in ["components", "component"] {
                    if let Some(child) = map.get(key) {
                        walk(child, out);
                    }
                }
            }
            _ => {}
        }
    }
    walk(components, &mut out);
    out
}
