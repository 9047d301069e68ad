//! The fake's "world": guilds, channels, roles, users, members, messages, interactions and
//! registered commands, plus the JSON shapes Discord (and so serenity) uses for them.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::time::{Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

/// The bot's application id; the bot user has the same id, as for every recent application.
pub const APPLICATION_ID: u64 = 1_090_000_000_000_000_001;
/// The bot user's id.
pub const BOT_USER_ID: u64 = APPLICATION_ID;
/// The bot user's name.
pub const BOT_USERNAME: &str = "Beacon";
/// A token shaped like a real one (base64 of the user id, timestamp, HMAC).
pub const TOKEN: &str = "MTA5MDAwMDAwMDAwMDAwMDAwMQ.GfAkE0.fake-discord-token-for-local-tests-only";
/// The first id the world hands out; ids then count up, so they look like snowflakes.
pub const FIRST_ID: u64 = 1_100_000_000_000_000_000;

/// Channel types used by the fake (Discord's numbers).
pub mod channel_type {
    pub const GUILD_TEXT: u8 = 0;
    pub const DM: u8 = 1;
    pub const GUILD_CATEGORY: u8 = 4;
    pub const GUILD_ANNOUNCEMENT: u8 = 5;
    pub const ANNOUNCEMENT_THREAD: u8 = 10;
    pub const PUBLIC_THREAD: u8 = 11;
    pub const PRIVATE_THREAD: u8 = 12;
    pub const GUILD_FORUM: u8 = 15;

    /// Whether a channel type is a thread.
    pub fn is_thread(kind: u8) -> bool {
        matches!(kind, ANNOUNCEMENT_THREAD | PUBLIC_THREAD | PRIVATE_THREAD)
    }
}

/// Permission bits the fake looks at (Discord's numbers).
pub mod perm {
    pub const ADD_REACTIONS: u64 = 1 << 6;
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_CHANNELS: u64 = 1 << 4;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const MANAGE_MESSAGES: u64 = 1 << 13;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const MANAGE_ROLES: u64 = 1 << 28;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PUBLIC_THREADS: u64 = 1 << 35;
    pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    /// Split from MANAGE_MESSAGES in 2025 and alone enough since February 23, 2026 (change log,
    /// "Permission Changes Going into Effect February 2026"). serenity 0.12 does not know it.
    pub const PIN_MESSAGES: u64 = 1 << 51;

    /// What `@everyone` may do in a fresh server.
    pub const EVERYONE_DEFAULT: u64 = VIEW_CHANNEL
        | SEND_MESSAGES
        | ADD_REACTIONS
        | EMBED_LINKS
        | ATTACH_FILES
        | READ_MESSAGE_HISTORY
        | USE_APPLICATION_COMMANDS
        | CREATE_PUBLIC_THREADS
        | SEND_MESSAGES_IN_THREADS;

    /// What the bot's own (managed) role grants by default: what a support bot is invited with.
    /// Tests of Beacon set it to exactly what Beacon's README invite link asks for.
    pub const BOT_DEFAULT: u64 = EVERYONE_DEFAULT
        | MANAGE_MESSAGES
        | MANAGE_THREADS
        | CREATE_PRIVATE_THREADS
        | MANAGE_CHANNELS
        | MANAGE_ROLES
        | PIN_MESSAGES;

    /// Names of the bits the fake checks, for its notes.
    pub const NAMES: &[(u64, &str)] = &[
        (ADMINISTRATOR, "ADMINISTRATOR"),
        (MANAGE_CHANNELS, "MANAGE_CHANNELS"),
        (MANAGE_GUILD, "MANAGE_GUILD"),
        (ADD_REACTIONS, "ADD_REACTIONS"),
        (VIEW_CHANNEL, "VIEW_CHANNEL"),
        (SEND_MESSAGES, "SEND_MESSAGES"),
        (MANAGE_MESSAGES, "MANAGE_MESSAGES"),
        (EMBED_LINKS, "EMBED_LINKS"),
        (ATTACH_FILES, "ATTACH_FILES"),
        (READ_MESSAGE_HISTORY, "READ_MESSAGE_HISTORY"),
        (MENTION_EVERYONE, "MENTION_EVERYONE"),
        (MANAGE_ROLES, "MANAGE_ROLES"),
        (USE_APPLICATION_COMMANDS, "USE_APPLICATION_COMMANDS"),
        (MANAGE_THREADS, "MANAGE_THREADS"),
        (CREATE_PUBLIC_THREADS, "CREATE_PUBLIC_THREADS"),
        (CREATE_PRIVATE_THREADS, "CREATE_PRIVATE_THREADS"),
        (SEND_MESSAGES_IN_THREADS, "SEND_MESSAGES_IN_THREADS"),
        (PIN_MESSAGES, "PIN_MESSAGES"),
    ];

    /// Every permission bit Discord defines (serenity 0.12 knows all but PIN_MESSAGES and
    /// BYPASS_SLOWMODE).
    pub fn all() -> u64 {
        serenity::model::Permissions::all().bits() | PIN_MESSAGES | (1 << 52)
    }
}

/// A server.
pub struct Guild {
    pub id: u64,
    pub name: String,
    pub owner_id: u64,
    pub preferred_locale: String,
    pub members: BTreeMap<u64, Member>,
    pub joined_at: String,
}

/// A user's membership in a server.
pub struct Member {
    pub user_id: u64,
    pub roles: Vec<u64>,
    pub nick: Option<String>,
    pub joined_at: String,
}

/// A role; the `@everyone` role has the guild's id.
pub struct Role {
    pub id: u64,
    pub guild_id: u64,
    pub name: String,
    pub permissions: u64,
    pub position: u16,
    /// The bot's own integration role.
    pub bot_id: Option<u64>,
    /// Whether anyone may ping it; otherwise only members (and bots) with MENTION_EVERYONE.
    pub mentionable: bool,
}

/// A channel's permission overwrite for a role (`kind` 0) or a member (`kind` 1).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Overwrite {
    pub id: u64,
    pub kind: u8,
    pub allow: u64,
    pub deny: u64,
}

/// A user account.
pub struct User {
    pub id: u64,
    pub username: String,
    pub bot: bool,
    /// Whether the user refuses DMs from the bot (answers 403 50007, like Discord).
    pub dms_closed: bool,
}

/// A thread's extra state.
pub struct ThreadState {
    pub archived: bool,
    pub locked: bool,
    pub invitable: bool,
    pub auto_archive_duration: u32,
    pub archive_timestamp: String,
    pub create_timestamp: String,
    pub members: BTreeSet<u64>,
}

/// Any kind of channel: text, forum, category, thread or DM.
pub struct Channel {
    pub id: u64,
    pub kind: u8,
    pub guild_id: Option<u64>,
    pub name: String,
    pub parent_id: Option<u64>,
    pub position: u16,
    pub topic: Option<String>,
    pub owner_id: Option<u64>,
    pub thread: Option<ThreadState>,
    /// The other party of a DM channel.
    pub recipient: Option<u64>,
    pub last_message_id: Option<u64>,
    pub message_count: u32,
    pub applied_tags: Vec<String>,
    /// Permission overwrites (guild channels; threads use their parent's).
    pub overwrites: Vec<Overwrite>,
    /// Removed by the world (a test), so a 404 for it is expected, not the bot's mistake.
    pub deleted_by_world: bool,
    pub deleted: bool,
}

/// Who removed a message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Deletion {
    /// The bot deleted it (a later request for it is the bot's mistake).
    ByBot,
    /// A test removed it (a later 404 is expected and not a violation).
    ByWorld,
}

/// A message, in Discord's REST shape (no `guild_id`/`member`; those are added for the gateway).
pub struct StoredMessage {
    pub value: Value,
    pub channel_id: u64,
    pub author_id: u64,
    pub by_bot: bool,
    pub deleted: Option<Deletion>,
    /// The interaction whose response or follow-up this is.
    pub interaction: Option<u64>,
}

/// An interaction the fake sent, and everything the bot answered to it.
pub struct InteractionRecord {
    pub id: u64,
    pub token: String,
    /// 2 command, 3 component, 4 autocomplete, 5 modal submit.
    pub kind: u8,
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    pub created: Instant,
    /// Time a test made pass for this interaction (see `FakeDiscord::age_interaction`).
    pub aged: std::time::Duration,
    /// The callback type the bot answered with.
    pub callback: Option<u8>,
    /// The message `@original` refers to.
    pub original_message: Option<u64>,
    pub followups: Vec<u64>,
    /// Callback, edits and follow-ups in order, each `{"kind", "type", "body", "message"}`.
    pub responses: Vec<Value>,
    /// For components (and modals opened from one): the message the component is on.
    pub source_message: Option<u64>,
}

/// A modal the bot opened and the user has not submitted yet.
pub struct OpenModal {
    pub custom_id: String,
    pub opened_by: u64,
    pub user_id: u64,
    pub data: Value,
}

/// Everything the fake knows about, guarded by the fake's lock.
pub struct World {
    next_id: u64,
    pub guilds: BTreeMap<u64, Guild>,
    pub channels: BTreeMap<u64, Channel>,
    pub roles: BTreeMap<u64, Role>,
    pub users: BTreeMap<u64, User>,
    pub messages: BTreeMap<u64, StoredMessage>,
    pub interactions: HashMap<u64, InteractionRecord>,
    pub interaction_tokens: HashMap<String, u64>,
    pub global_commands: Vec<Value>,
    pub guild_commands: BTreeMap<u64, Vec<Value>>,
    pub commands_registered: bool,
    /// `(channel, nonce)` → (message, when) for `enforce_nonce`.
    pub nonces: HashMap<(u64, String), (u64, Instant)>,
    pub open_modals: Vec<OpenModal>,
    /// Each user's DM channel, so opening one is not a scan of every channel.
    pub dms: HashMap<u64, u64>,
    /// The privileged gateway intents switched on for the app in the Developer Portal.
    pub privileged_intents: u64,
    /// Application command permissions an admin set under Server Settings > Integrations:
    /// `(guild, command id or the application id for app-level)` → entries.
    pub command_permissions: BTreeMap<(u64, u64), Vec<CommandPermission>>,
}

/// One application command permission (Application Commands docs, "Permissions"): a role
/// (`kind` 1; the guild id is `@everyone`), a user (2) or a channel (3; the guild id minus one is
/// every channel), allowed or not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CommandPermission {
    pub id: u64,
    pub kind: u8,
    pub allowed: bool,
}

impl World {
    pub fn new() -> World {
        let mut world = World {
            next_id: FIRST_ID,
            guilds: BTreeMap::new(),
            channels: BTreeMap::new(),
            roles: BTreeMap::new(),
            users: BTreeMap::new(),
            messages: BTreeMap::new(),
            interactions: HashMap::new(),
            interaction_tokens: HashMap::new(),
            global_commands: Vec::new(),
            guild_commands: BTreeMap::new(),
            commands_registered: false,
            nonces: HashMap::new(),
            open_modals: Vec::new(),
            dms: HashMap::new(),
            privileged_intents: super::gateway::intents::MESSAGE_CONTENT
                | super::gateway::intents::GUILD_MEMBERS
                | super::gateway::intents::GUILD_PRESENCES,
            command_permissions: BTreeMap::new(),
        };
        world.users.insert(
            BOT_USER_ID,
            User {
                id: BOT_USER_ID,
                username: BOT_USERNAME.into(),
                bot: true,
                dms_closed: false,
            },
        );
        world
    }

    /// A fresh snowflake-looking id.
    pub fn next_id(&mut self) -> u64 {
        self.next_id += 1;
        self.next_id
    }

    /// Creates a server with its `@everyone` role, an owner, and the bot as a member with its
    /// managed role.
    pub fn add_guild(&mut self, name: &str) -> u64 {
        let id = self.next_id();
        let owner_id = self.add_user(&format!("{}-owner", slug(name)), false);
        let now = now_iso();
        self.guilds.insert(
            id,
            Guild {
                id,
                name: name.to_string(),
                owner_id,
                preferred_locale: "en-US".into(),
                members: BTreeMap::new(),
                joined_at: now.clone(),
            },
        );
        self.roles.insert(
            id,
            Role {
                id,
                guild_id: id,
                name: "@everyone".into(),
                permissions: perm::EVERYONE_DEFAULT,
                position: 0,
                bot_id: None,
                mentionable: false,
            },
        );
        let bot_role = self.add_role(id, BOT_USERNAME, perm::BOT_DEFAULT);
        if let Some(role) = self.roles.get_mut(&bot_role) {
            role.bot_id = Some(BOT_USER_ID);
        }
        self.insert_member(id, owner_id, &[]);
        self.insert_member(id, BOT_USER_ID, &[bot_role]);
        id
    }

    pub fn add_user(&mut self, username: &str, bot: bool) -> u64 {
        let id = self.next_id();
        self.users.insert(
            id,
            User {
                id,
                username: username.to_string(),
                bot,
                dms_closed: false,
            },
        );
        id
    }

    pub fn add_role(&mut self, guild_id: u64, name: &str, permissions: u64) -> u64 {
        let id = self.next_id();
        let position = self
            .roles
            .values()
            .filter(|r| r.guild_id == guild_id)
            .count() as u16;
        self.roles.insert(
            id,
            Role {
                id,
                guild_id,
                name: name.to_string(),
                permissions,
                position,
                bot_id: None,
                mentionable: false,
            },
        );
        id
    }

    pub fn insert_member(&mut self, guild_id: u64, user_id: u64, roles: &[u64]) {
        let joined_at = now_iso();
        if let Some(guild) = self.guilds.get_mut(&guild_id) {
            guild.members.insert(
                user_id,
                Member {
                    user_id,
                    roles: roles.to_vec(),
                    nick: None,
                    joined_at,
                },
            );
        }
    }

    pub fn add_channel(
        &mut self,
        guild_id: Option<u64>,
        kind: u8,
        name: &str,
        parent_id: Option<u64>,
    ) -> u64 {
        let id = self.next_id();
        // A guild channel's place in its list; DM channels have none to count.
        let position = match guild_id {
            Some(_) => self
                .channels
                .values()
                .filter(|c| c.guild_id == guild_id)
                .count() as u16,
            None => 0,
        };
        let thread = channel_type::is_thread(kind).then(|| ThreadState {
            archived: false,
            locked: false,
            invitable: true,
            auto_archive_duration: 4320,
            archive_timestamp: now_iso(),
            create_timestamp: now_iso(),
            members: BTreeSet::new(),
        });
        self.channels.insert(
            id,
            Channel {
                id,
                kind,
                guild_id,
                name: name.to_string(),
                parent_id,
                position,
                topic: None,
                owner_id: None,
                thread,
                recipient: None,
                last_message_id: None,
                message_count: 0,
                applied_tags: Vec::new(),
                overwrites: Vec::new(),
                deleted_by_world: false,
                deleted: false,
            },
        );
        id
    }

    /// The DM channel with a user, created on first use.
    pub fn dm_channel(&mut self, user_id: u64) -> u64 {
        if let Some(id) = self.dms.get(&user_id) {
            return *id;
        }
        let id = self.add_channel(None, channel_type::DM, "", None);
        if let Some(c) = self.channels.get_mut(&id) {
            c.recipient = Some(user_id);
        }
        self.dms.insert(user_id, id);
        id
    }

    /// A live (not deleted) channel.
    pub fn channel(&self, id: u64) -> Option<&Channel> {
        self.channels.get(&id).filter(|c| !c.deleted)
    }

    /// The guild a channel belongs to.
    pub fn guild_of(&self, channel_id: u64) -> Option<u64> {
        self.channels.get(&channel_id).and_then(|c| c.guild_id)
    }

    /// A member's permissions in a guild, before any channel's overwrites: OR of `@everyone`
    /// and their roles; the owner and administrators get everything (Permissions docs,
    /// `compute_base_permissions`).
    pub fn permissions(&self, guild_id: u64, user_id: u64) -> u64 {
        let Some(guild) = self.guilds.get(&guild_id) else {
            return 0;
        };
        if guild.owner_id == user_id {
            return perm::all();
        }
        let mut bits = self.roles.get(&guild_id).map_or(0, |r| r.permissions);
        if let Some(member) = guild.members.get(&user_id) {
            for role in &member.roles {
                bits |= self.roles.get(role).map_or(0, |r| r.permissions);
            }
        }
        if bits & perm::ADMINISTRATOR != 0 {
            perm::all()
        } else {
            bits
        }
    }

    /// A member's permissions in a channel, as Discord computes them (Permissions docs,
    /// "Permission Overwrites"): the base permissions, then the channel's `@everyone`
    /// overwrite, then the member's roles' overwrites together (deny, then allow), then the
    /// member's own. Threads use their parent's overwrites ("Inherited Permissions (Threads)").
    /// Without VIEW_CHANNEL nothing else counts, and a denied SEND_MESSAGES takes MENTION_EVERYONE,
    /// ATTACH_FILES and EMBED_LINKS with it ("Implicit Permissions"). DMs allow everything.
    pub fn channel_permissions(&self, channel_id: u64, user_id: u64) -> u64 {
        let Some(channel) = self.channels.get(&channel_id) else {
            return 0;
        };
        let Some(guild_id) = channel.guild_id else {
            return perm::all();
        };
        let base = self.permissions(guild_id, user_id);
        if base & perm::ADMINISTRATOR != 0 {
            return perm::all();
        }
        let source = match (&channel.thread, channel.parent_id) {
            (Some(_), Some(parent)) => self.channels.get(&parent).unwrap_or(channel),
            _ => channel,
        };
        let roles: &[u64] = self
            .guilds
            .get(&guild_id)
            .and_then(|g| g.members.get(&user_id))
            .map_or(&[], |m| m.roles.as_slice());
        let mut bits = base;
        if let Some(o) = source
            .overwrites
            .iter()
            .find(|o| o.kind == 0 && o.id == guild_id)
        {
            bits = (bits & !o.deny) | o.allow;
        }
        let (mut allow, mut deny) = (0, 0);
        for o in source
            .overwrites
            .iter()
            .filter(|o| o.kind == 0 && roles.contains(&o.id))
        {
            allow |= o.allow;
            deny |= o.deny;
        }
        bits = (bits & !deny) | allow;
        if let Some(o) = source
            .overwrites
            .iter()
            .find(|o| o.kind == 1 && o.id == user_id)
        {
            bits = (bits & !o.deny) | o.allow;
        }
        if bits & perm::VIEW_CHANNEL == 0 {
            return 0;
        }
        if bits & perm::SEND_MESSAGES == 0 && channel.thread.is_none() {
            bits &= !(perm::MENTION_EVERYONE | perm::ATTACH_FILES | perm::EMBED_LINKS);
        }
        bits
    }

    /// Whether the bot has all these permissions in a channel (always in DMs).
    pub fn bot_can(&self, channel_id: u64, bits: u64) -> bool {
        self.channel_permissions(channel_id, BOT_USER_ID) & bits == bits
    }

    /// Whether Discord's client offers a command to a member in a channel (and so lets them
    /// run it), by the rules of command permissions v2 (change log, "Upcoming Application
    /// Command Permission Changes", and Application Commands docs, "Permissions"):
    /// administrators may use everything; USE_APPLICATION_COMMANDS is needed; a channel
    /// entry (the command's, else the app's; a thread counts as its parent) can disable it
    /// there; a command-level entry for the member, one of their roles (any allow wins) or
    /// `@everyone` decides alone, overriding `default_member_permissions`; otherwise an
    /// app-level deny hides it, and then the member needs every bit of
    /// `default_member_permissions` (`"0"`: nobody but administrators).
    pub fn command_offered(&self, guild: u64, channel: u64, user: u64, command: &Value) -> bool {
        let perms = self.channel_permissions(channel, user);
        if perms & perm::ADMINISTRATOR != 0 {
            return true;
        }
        if perms & perm::USE_APPLICATION_COMMANDS == 0 {
            return false;
        }
        let no_entries = Vec::new();
        let entries = |target: u64| {
            self.command_permissions
                .get(&(guild, target))
                .unwrap_or(&no_entries)
        };
        let command_id = command["id"]
            .as_str()
            .and_then(|i| i.parse().ok())
            .unwrap_or(0);
        let (by_command, by_app) = (entries(command_id), entries(APPLICATION_ID));
        let place = match self.channels.get(&channel) {
            Some(c) if c.thread.is_some() => c.parent_id.unwrap_or(channel),
            _ => channel,
        };
        let channel_rule = |list: &[CommandPermission]| {
            list.iter()
                .find(|e| e.kind == 3 && e.id == place)
                .or_else(|| list.iter().find(|e| e.kind == 3 && e.id == guild - 1))
                .map(|e| e.allowed)
        };
        if !channel_rule(by_command)
            .or_else(|| channel_rule(by_app))
            .unwrap_or(true)
        {
            return false;
        }
        let roles: Vec<u64> = self
            .guilds
            .get(&guild)
            .and_then(|g| g.members.get(&user))
            .map(|m| m.roles.clone())
            .unwrap_or_default();
        let member_rule = |list: &[CommandPermission]| {
            if let Some(e) = list.iter().find(|e| e.kind == 2 && e.id == user) {
                return Some(e.allowed);
            }
            let mine: Vec<bool> = list
                .iter()
                .filter(|e| e.kind == 1 && roles.contains(&e.id))
                .map(|e| e.allowed)
                .collect();
            if !mine.is_empty() {
                return Some(mine.contains(&true));
            }
            list.iter()
                .find(|e| e.kind == 1 && e.id == guild)
                .map(|e| e.allowed)
        };
        if let Some(decided) = member_rule(by_command) {
            return decided;
        }
        if member_rule(by_app) == Some(false) {
            return false;
        }
        match command["default_member_permissions"].as_str() {
            None => true,
            Some(bits) => {
                let bits: u64 = bits.parse().unwrap_or(0);
                bits != 0 && perms & bits == bits
            }
        }
    }

    /// The permission names a bit set holds, for notes and violations.
    pub fn names(bits: u64) -> String {
        perm::NAMES
            .iter()
            .filter(|(bit, _)| bits & bit != 0)
            .map(|(_, name)| *name)
            .collect::<Vec<_>>()
            .join(" | ")
    }

    // ----- JSON shapes -----

    pub fn user_json(&self, user_id: u64) -> Value {
        match self.users.get(&user_id) {
            Some(u) => json!({
                "id": u.id.to_string(),
                "username": u.username,
                "discriminator": "0",
                "global_name": if u.bot { Value::Null } else { Value::String(u.username.clone()) },
                "avatar": null,
                "bot": u.bot,
                "public_flags": 0,
                "flags": 0,
            }),
            None => json!({
                "id": user_id.to_string(),
                "username": "deleted-user",
                "discriminator": "0",
                "global_name": null,
                "avatar": null,
                "public_flags": 0,
            }),
        }
    }

    /// The bot as `GET /users/@me` and READY describe it.
    pub fn current_user_json(&self) -> Value {
        json!({
            "id": BOT_USER_ID.to_string(),
            "username": BOT_USERNAME,
            "discriminator": "0",
            "global_name": null,
            "avatar": null,
            "bot": true,
            "verified": true,
            "mfa_enabled": true,
            "email": null,
            "flags": 0,
            "public_flags": 0,
            "premium_type": 0,
            "locale": "en-US",
        })
    }

    /// A member; `with_user` adds the user object, `with_permissions` the computed permissions
    /// (as in interactions).
    pub fn member_json(
        &self,
        guild_id: u64,
        user_id: u64,
        with_user: bool,
        with_permissions: bool,
    ) -> Value {
        let member = self
            .guilds
            .get(&guild_id)
            .and_then(|g| g.members.get(&user_id));
        let mut v = json!({
            "nick": member.and_then(|m| m.nick.clone()),
            "avatar": null,
            "banner": null,
            "roles": member.map(|m| m.roles.iter().map(u64::to_string).collect::<Vec<_>>()).unwrap_or_default(),
            "joined_at": member.map_or_else(now_iso, |m| m.joined_at.clone()),
            "premium_since": null,
            "deaf": false,
            "mute": false,
            "flags": 0,
            "pending": false,
            "communication_disabled_until": null,
        });
        if with_user {
            v["user"] = self.user_json(user_id);
        }
        if with_permissions {
            v["permissions"] = self.permissions(guild_id, user_id).to_string().into();
        }
        v
    }

    pub fn role_json(&self, role: &Role) -> Value {
        let mut v = json!({
            "id": role.id.to_string(),
            "name": role.name,
            "description": null,
            "color": 0,
            "colors": { "primary_color": 0, "secondary_color": null, "tertiary_color": null },
            "hoist": false,
            "icon": null,
            "unicode_emoji": null,
            "position": role.position,
            "permissions": role.permissions.to_string(),
            "managed": role.bot_id.is_some(),
            "mentionable": role.mentionable,
            "flags": 0,
        });
        if let Some(bot) = role.bot_id {
            v["tags"] = json!({ "bot_id": bot.to_string() });
        }
        v
    }

    /// A channel as Discord returns it: a guild channel, a thread or a DM.
    pub fn channel_json(&self, c: &Channel) -> Value {
        if c.kind == channel_type::DM {
            let recipient = c.recipient.unwrap_or_default();
            return json!({
                "id": c.id.to_string(),
                "type": c.kind,
                "last_message_id": c.last_message_id.map(|m| m.to_string()),
                "flags": 0,
                "recipients": [self.user_json(recipient)],
            });
        }
        let mut v = json!({
            "id": c.id.to_string(),
            "type": c.kind,
            "guild_id": c.guild_id.map(|g| g.to_string()),
            "name": c.name,
            "parent_id": c.parent_id.map(|p| p.to_string()),
            "last_message_id": c.last_message_id.map(|m| m.to_string()),
            "rate_limit_per_user": 0,
            "flags": 0,
            "nsfw": false,
        });
        if let Some(t) = &c.thread {
            v["owner_id"] = c.owner_id.map(|o| o.to_string()).into();
            v["message_count"] = c.message_count.into();
            v["total_message_sent"] = c.message_count.into();
            v["member_count"] = (t.members.len().min(50) as u64).into();
            v["applied_tags"] = json!(c.applied_tags);
            v["thread_metadata"] = json!({
                "archived": t.archived,
                "auto_archive_duration": t.auto_archive_duration,
                "archive_timestamp": t.archive_timestamp,
                "locked": t.locked,
                "create_timestamp": t.create_timestamp,
                "invitable": t.invitable,
            });
        } else {
            v["position"] = c.position.into();
            v["permission_overwrites"] = c
                .overwrites
                .iter()
                .map(|o| {
                    json!({ "id": o.id.to_string(), "type": o.kind, "allow": o.allow.to_string(), "deny": o.deny.to_string() })
                })
                .collect::<Vec<_>>()
                .into();
            v["topic"] = c.topic.clone().into();
            if c.kind == channel_type::GUILD_FORUM {
                v["available_tags"] = json!([]);
                v["default_reaction_emoji"] = Value::Null;
                v["default_sort_order"] = Value::Null;
                v["default_forum_layout"] = 0.into();
                v["default_thread_rate_limit_per_user"] = 0.into();
            }
        }
        v
    }

    /// A guild as `GET /guilds/{id}` returns it (serenity's `PartialGuild`).
    pub fn partial_guild_json(&self, g: &Guild) -> Value {
        let roles: Vec<Value> = self
            .roles
            .values()
            .filter(|r| r.guild_id == g.id)
            .map(|r| self.role_json(r))
            .collect();
        json!({
            "id": g.id.to_string(),
            "name": g.name,
            "icon": null,
            "icon_hash": null,
            "splash": null,
            "discovery_splash": null,
            "owner_id": g.owner_id.to_string(),
            "afk_channel_id": null,
            "afk_timeout": 300,
            "widget_enabled": false,
            "widget_channel_id": null,
            "verification_level": 1,
            "default_message_notifications": 1,
            "explicit_content_filter": 2,
            "roles": roles,
            "emojis": [],
            "stickers": [],
            "features": ["COMMUNITY", "NEWS"],
            "mfa_level": 0,
            "application_id": null,
            "system_channel_id": null,
            "system_channel_flags": 0,
            "rules_channel_id": null,
            "max_presences": null,
            "max_members": 500000,
            "vanity_url_code": null,
            "description": null,
            "banner": null,
            "premium_tier": 0,
            "premium_subscription_count": 0,
            "preferred_locale": g.preferred_locale,
            "public_updates_channel_id": null,
            "max_video_channel_users": 25,
            "max_stage_video_channel_users": 50,
            "nsfw_level": 0,
            "premium_progress_bar_enabled": false,
            "safety_alerts_channel_id": null,
        })
    }

    /// The full GUILD_CREATE payload: guild plus channels, threads, members and roles. A server
    /// with more than `large_threshold` members is "large": Discord then sends only its online
    /// members, and a bot without the presence intent (Beacon's case) gets itself alone.
    pub fn guild_create_json(&self, g: &Guild, large_threshold: usize) -> Value {
        let mut v = self.partial_guild_json(g);
        let live = |c: &&Channel| c.guild_id == Some(g.id) && !c.deleted;
        let channels: Vec<Value> = self
            .channels
            .values()
            .filter(live)
            .filter(|c| c.thread.is_none())
            .map(|c| self.channel_json(c))
            .collect();
        let threads: Vec<Value> = self
            .channels
            .values()
            .filter(live)
            .filter(|c| c.thread.as_ref().is_some_and(|t| !t.archived))
            .map(|c| self.channel_json(c))
            .collect();
        let large = g.members.len() > large_threshold;
        let members: Vec<Value> = g
            .members
            .keys()
            .filter(|&&u| !large || u == BOT_USER_ID)
            .map(|&u| self.member_json(g.id, u, true, false))
            .collect();
        v["joined_at"] = g.joined_at.clone().into();
        v["large"] = large.into();
        v["unavailable"] = false.into();
        v["member_count"] = g.members.len().into();
        v["voice_states"] = json!([]);
        v["members"] = members.into();
        v["channels"] = channels.into();
        v["threads"] = threads.into();
        v["presences"] = json!([]);
        v["stage_instances"] = json!([]);
        v["guild_scheduled_events"] = json!([]);
        v["soundboard_sounds"] = json!([]);
        v["incidents_data"] = Value::Null;
        v
    }

    /// The application as `GET /oauth2/applications/@me` returns it.
    pub fn application_json(&self) -> Value {
        json!({
            "id": APPLICATION_ID.to_string(),
            "name": BOT_USERNAME,
            "icon": null,
            "description": "A customer-support bot (fake Discord)",
            "summary": "",
            "type": null,
            "bot_public": false,
            "bot_require_code_grant": false,
            "verify_key": "0".repeat(64),
            // GATEWAY_MESSAGE_CONTENT_LIMITED (1 << 19): the intent is on for a bot in fewer
            // than 100 servers (Application docs, "Application Flags").
            "flags": if self.privileged_intents & super::gateway::intents::MESSAGE_CONTENT != 0 { 1u64 << 19 } else { 0 },
            "owner": self.user_json(BOT_USER_ID),
            "team": null,
            "rpc_origins": [],
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": null,
            "role_connections_verification_url": null,
            "approximate_guild_count": self.guilds.len(),
            "approximate_user_install_count": 0,
            "integration_types_config": { "0": {} },
            "bot": self.user_json(BOT_USER_ID),
        })
    }

    /// A message authored by `author` in `channel`, in REST shape.
    pub fn new_message_json(
        &self,
        id: u64,
        channel_id: u64,
        author_id: u64,
        content: &str,
    ) -> Value {
        let (mentions, mention_roles, everyone) = parse_mentions(content);
        let mentions: Vec<Value> = mentions
            .into_iter()
            .filter(|u| self.users.contains_key(u))
            .map(|u| self.user_json(u))
            .collect();
        json!({
            "id": id.to_string(),
            "channel_id": channel_id.to_string(),
            "author": self.user_json(author_id),
            "content": content,
            "timestamp": now_iso(),
            "edited_timestamp": null,
            "tts": false,
            "mention_everyone": everyone,
            "mentions": mentions,
            "mention_roles": mention_roles.iter().map(u64::to_string).collect::<Vec<_>>(),
            "attachments": [],
            "embeds": [],
            "components": [],
            "reactions": [],
            "pinned": false,
            "type": 0,
            "flags": 0,
        })
    }

    /// A stored message as the gateway sends it: with `guild_id` and the author's `member`.
    pub fn gateway_message_json(&self, id: u64) -> Option<Value> {
        let stored = self.messages.get(&id)?;
        let mut v = stored.value.clone();
        if let Some(guild) = self.guild_of(stored.channel_id) {
            v["guild_id"] = guild.to_string().into();
            if stored.value["webhook_id"].is_null() {
                v["member"] = self.member_json(guild, stored.author_id, false, false);
            }
        }
        Some(v)
    }

    /// Records a new message in a channel and bumps the channel's counters.
    pub fn store_message(
        &mut self,
        value: Value,
        channel_id: u64,
        author_id: u64,
        interaction: Option<u64>,
    ) -> u64 {
        let id = value["id"]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or_default();
        self.messages.insert(
            id,
            StoredMessage {
                value,
                channel_id,
                author_id,
                by_bot: author_id == BOT_USER_ID,
                deleted: None,
                interaction,
            },
        );
        if let Some(c) = self.channels.get_mut(&channel_id) {
            c.last_message_id = Some(id);
            if c.thread.is_some() {
                c.message_count += 1;
            }
        }
        id
    }

    /// All registered commands, global first.
    pub fn all_commands(&self) -> Vec<Value> {
        self.global_commands
            .iter()
            .chain(self.guild_commands.values().flatten())
            .cloned()
            .collect()
    }

    /// The registered command a user in `guild` would see under `name` (guild ones win).
    pub fn find_command(&self, guild_id: Option<u64>, name: &str, kind: u64) -> Option<&Value> {
        let matches = |c: &&Value| c["name"] == name && c["type"].as_u64().unwrap_or(1) == kind;
        guild_id
            .and_then(|g| self.guild_commands.get(&g))
            .and_then(|cmds| cmds.iter().find(matches))
            .or_else(|| self.global_commands.iter().find(matches))
    }
}

/// `"Acme Support"` → `"acme-support"`.
fn slug(name: &str) -> String {
    name.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect()
}

/// User mentions (`<@id>`, `<@!id>`), role mentions (`<@&id>`) and `@everyone`/`@here` in text.
pub fn parse_mentions(content: &str) -> (Vec<u64>, Vec<u64>, bool) {
    let mut users = Vec::new();
    let mut roles = Vec::new();
    let mut rest = content;
    while let Some(start) = rest.find("<@") {
        rest = &rest[start + 2..];
        let (is_role, body) = match rest.strip_prefix('&') {
            Some(b) => (true, b),
            None => (false, rest.strip_prefix('!').unwrap_or(rest)),
        };
        if let Some(end) = body.find('>') {
            if let Ok(id) = body[..end].parse::<u64>() {
                let list = if is_role { &mut roles } else { &mut users };
                if !list.contains(&id) {
                    list.push(id);
                }
            }
        }
    }
    let everyone = content.contains("@everyone") || content.contains("@here");
    (users, roles, everyone)
}

/// The current time as Discord writes it: `2024-05-01T12:34:56.789000+00:00`.
pub fn now_iso() -> String {
    iso_from_system(SystemTime::now())
}

pub fn iso_from_system(t: SystemTime) -> String {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs() as i64;
    let micros = d.subsec_micros();
    let (days, sod) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, day) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{day:02}T{:02}:{:02}:{:02}.{micros:06}+00:00",
        sod / 3600,
        (sod / 60) % 60,
        sod % 60
    )
}

/// Howard Hinnant's days-to-civil conversion.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// A random-looking hex string (session ids, interaction tokens).
pub fn random_hex(len: usize) -> String {
    (0..len)
        .map(|_| char::from_digit(fastrand::u32(0..16), 16).unwrap_or('0'))
        .collect()
}

/// Parses a snowflake given as a JSON string or number.
pub fn snowflake(v: &Value) -> Option<u64> {
    match v {
        Value::String(s) => s.parse().ok(),
        Value::Number(n) => n.as_u64(),
        _ => None,
    }
}
