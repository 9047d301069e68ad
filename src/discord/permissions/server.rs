//! A server as Discord's raw JSON gives it (roles, channels with their overwrites, command
//! permissions), and a member's permissions in a channel computed from it the way the
//! Permissions docs give them.

use serde::Deserialize;

use super::bit;

/// A snowflake or permission bit set, which Discord sends as a string.
fn number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Raw {
        Text(String),
        Number(u64),
    }
    match Raw::deserialize(d)? {
        Raw::Number(n) => Ok(n),
        Raw::Text(s) => s.parse().map_err(serde::de::Error::custom),
    }
}

fn optional_number<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    #[derive(Deserialize)]
    struct Wrap(#[serde(deserialize_with = "number")] u64);
    Ok(Option::<Wrap>::deserialize(d)?.map(|Wrap(n)| n))
}

/// A role as `GET /guilds/{id}/roles` returns it (the fields Beacon reads).
#[derive(Clone, Debug, Deserialize)]
pub struct Role {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    pub name: String,
    #[serde(deserialize_with = "number")]
    pub permissions: u64,
    #[serde(default)]
    pub mentionable: bool,
}

/// A channel's permission overwrite: `kind` 0 for a role, 1 for a member.
#[derive(Clone, Debug, Deserialize)]
pub struct Overwrite {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(deserialize_with = "number", default)]
    pub allow: u64,
    #[serde(deserialize_with = "number", default)]
    pub deny: u64,
}

/// A channel as `GET /guilds/{id}/channels` returns it (the fields Beacon reads).
#[derive(Clone, Debug, Deserialize)]
pub struct Channel {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    #[serde(default)]
    pub name: String,
    #[serde(rename = "type")]
    pub kind: u8,
    #[serde(deserialize_with = "optional_number", default)]
    pub parent_id: Option<u64>,
    #[serde(default)]
    pub permission_overwrites: Vec<Overwrite>,
}

/// Discord's channel types Beacon tells apart.
pub mod kind {
    pub const TEXT: u8 = 0;
    pub const ANNOUNCEMENT: u8 = 5;
    pub const FORUM: u8 = 15;
}

/// One application command permission an admin set (Application Commands docs, "Permissions"):
/// `kind` 1 a role (the guild id is `@everyone`), 2 a user, 3 a channel.
#[derive(Clone, Debug, Deserialize)]
pub struct CommandPermission {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    #[serde(rename = "type")]
    pub kind: u8,
    pub permission: bool,
}

/// The command permissions of one command, or of the whole app when `id` is the application's.
#[derive(Clone, Debug, Deserialize)]
pub struct CommandPermissions {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    pub permissions: Vec<CommandPermission>,
}

/// A registered command, as far as who is offered it goes.
#[derive(Clone, Debug, Deserialize)]
pub struct Command {
    #[serde(deserialize_with = "number")]
    pub id: u64,
    pub name: String,
    #[serde(deserialize_with = "optional_number", default)]
    pub default_member_permissions: Option<u64>,
}

/// What Beacon knows of one server for checking it: read from Discord at the moment of asking.
#[derive(Clone, Debug, Default)]
pub struct Server {
    pub guild_id: u64,
    pub owner_id: u64,
    pub roles: Vec<Role>,
    pub channels: Vec<Channel>,
    /// The bot's own user id and its roles in the server.
    pub bot_id: u64,
    pub bot_roles: Vec<u64>,
}

impl Server {
    pub fn role(&self, id: u64) -> Option<&Role> {
        self.roles.iter().find(|r| r.id == id)
    }

    pub fn channel(&self, id: u64) -> Option<&Channel> {
        self.channels.iter().find(|c| c.id == id)
    }

    /// The name of the bot's own role (the one Discord made when it was invited), for advice.
    pub fn bot_role_name(&self) -> String {
        self.bot_roles
            .iter()
            .filter_map(|r| self.role(*r))
            .map(|r| r.name.clone())
            .next()
            .unwrap_or_else(|| "Beacon".into())
    }

    /// Permissions from `@everyone` and `roles`, before channel overwrites (Permissions docs,
    /// `compute_base_permissions`).
    pub fn base(&self, user: u64, roles: &[u64]) -> u64 {
        if user == self.owner_id {
            return bit::ALL;
        }
        let mut bits = self.role(self.guild_id).map_or(0, |r| r.permissions);
        for r in roles {
            bits |= self.role(*r).map_or(0, |r| r.permissions);
        }
        if bits & bit::ADMINISTRATOR != 0 {
            bit::ALL
        } else {
            bits
        }
    }

    /// Permissions in a channel, overwrites applied in Discord's order (`@everyone`, the roles
    /// together, the member). `None` when the channel is not in the server.
    pub fn in_channel(&self, channel: u64, user: u64, roles: &[u64]) -> Option<u64> {
        let c = self.channel(channel)?;
        let base = self.base(user, roles);
        if base & bit::ADMINISTRATOR != 0 {
            return Some(bit::ALL);
        }
        let overwrites = &c.permission_overwrites;
        let mut bits = base;
        if let Some(o) = overwrites
            .iter()
            .find(|o| o.kind == 0 && o.id == self.guild_id)
        {
            bits = (bits & !o.deny) | o.allow;
        }
        let (mut allow, mut deny) = (0, 0);
        for o in overwrites
            .iter()
            .filter(|o| o.kind == 0 && roles.contains(&o.id))
        {
            allow |= o.allow;
            deny |= o.deny;
        }
        bits = (bits & !deny) | allow;
        if let Some(o) = overwrites.iter().find(|o| o.kind == 1 && o.id == user) {
            bits = (bits & !o.deny) | o.allow;
        }
        // Implicit Permissions: nothing without VIEW_CHANNEL; without SEND_MESSAGES, no
        // mentioning everyone, attaching or embedding.
        if bits & bit::VIEW_CHANNEL == 0 {
            return Some(0);
        }
        if bits & bit::SEND_MESSAGES == 0 {
            bits &= !(bit::MENTION_EVERYONE | bit::ATTACH_FILES | bit::EMBED_LINKS);
        }
        Some(bits)
    }

    /// The bot's permissions in a channel.
    pub fn bot_in(&self, channel: u64) -> Option<u64> {
        self.in_channel(channel, self.bot_id, &self.bot_roles)
    }
}
