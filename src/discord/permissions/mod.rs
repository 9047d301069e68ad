//! What Beacon needs Discord to let it do, and a check of a server against it: per configured
//! channel and feature, which permission is missing and where to give it; which staff roles
//! Discord will offer the staff commands to; and, when Discord refuses a call with 50013, what
//! Beacon was trying to do and which permission that takes.
//!
//! Pure code over Discord's raw JSON (roles, channels with their overwrites, command
//! permissions): serenity 0.12's `Permissions` drops bits it does not know, among them
//! PIN_MESSAGES, which pinning alone has needed since February 23, 2026 (Discord change log,
//! "Permission Changes Going into Effect February 2026"). Permissions are computed the way
//! Discord's Permissions docs give it ("Permission Overwrites", "Implicit Permissions",
//! "Inherited Permissions (Threads)").

/// Discord's permission bits (Permissions docs, "Bitwise Permission Flags").
pub mod bit {
    pub const ADMINISTRATOR: u64 = 1 << 3;
    pub const MANAGE_GUILD: u64 = 1 << 5;
    pub const VIEW_CHANNEL: u64 = 1 << 10;
    pub const SEND_MESSAGES: u64 = 1 << 11;
    pub const EMBED_LINKS: u64 = 1 << 14;
    pub const ATTACH_FILES: u64 = 1 << 15;
    pub const READ_MESSAGE_HISTORY: u64 = 1 << 16;
    pub const MENTION_EVERYONE: u64 = 1 << 17;
    pub const USE_APPLICATION_COMMANDS: u64 = 1 << 31;
    pub const MANAGE_THREADS: u64 = 1 << 34;
    pub const CREATE_PRIVATE_THREADS: u64 = 1 << 36;
    pub const SEND_MESSAGES_IN_THREADS: u64 = 1 << 38;
    pub const PIN_MESSAGES: u64 = 1 << 51;
    /// Every bit Discord defines today (bit 47 is unassigned).
    pub const ALL: u64 = ((1 << 53) - 1) & !(1 << 47);
}

/// The names Discord's client shows for the permissions Beacon uses, in the order it lists them.
const NAMES: [(u64, &str); 13] = [
    (bit::ADMINISTRATOR, "Administrator"),
    (bit::MANAGE_GUILD, "Manage Server"),
    (bit::VIEW_CHANNEL, "View Channel"),
    (bit::SEND_MESSAGES, "Send Messages"),
    (bit::SEND_MESSAGES_IN_THREADS, "Send Messages in Threads"),
    (bit::CREATE_PRIVATE_THREADS, "Create Private Threads"),
    (bit::EMBED_LINKS, "Embed Links"),
    (bit::ATTACH_FILES, "Attach Files"),
    (
        bit::MENTION_EVERYONE,
        "Mention @everyone, @here and All Roles",
    ),
    (bit::MANAGE_THREADS, "Manage Threads"),
    (bit::READ_MESSAGE_HISTORY, "Read Message History"),
    (bit::PIN_MESSAGES, "Pin Messages"),
    (bit::USE_APPLICATION_COMMANDS, "Use Application Commands"),
];

/// The client's names of the permissions in `bits`, joined with commas and "and".
pub fn names(bits: u64) -> String {
    let list: Vec<&str> = NAMES
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .map(|(_, n)| *n)
        .collect();
    match list.as_slice() {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Everything Beacon asks for when it is invited: each feature's needs below, together.
pub const INVITE: u64 = bit::VIEW_CHANNEL
    | bit::SEND_MESSAGES
    | bit::SEND_MESSAGES_IN_THREADS
    | bit::READ_MESSAGE_HISTORY
    | bit::CREATE_PRIVATE_THREADS
    | bit::MANAGE_THREADS
    | bit::PIN_MESSAGES
    | bit::ATTACH_FILES
    | bit::MENTION_EVERYONE;

/// The link that invites Beacon with [`INVITE`] and its slash commands.
pub fn invite_url(application_id: u64) -> String {
    format!(
        "https://discord.com/oauth2/authorize?client_id={application_id}\
         &scope=bot+applications.commands&permissions={INVITE}"
    )
}

mod server;

pub use server::{
    Channel, Command, CommandPermission, CommandPermissions, Overwrite, Role, Server, kind,
};

/// What Beacon uses a channel for (the channels `/setup` names).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Use {
    HelpChannel,
    Forum,
    Tickets,
    Agents,
    Transcripts,
    Status,
    Announcements,
}

impl Use {
    /// The feature, as the advice names it.
    pub fn label(self) -> &'static str {
        match self {
            Use::HelpChannel => "answering questions",
            Use::Forum => "answering support-forum posts",
            Use::Tickets => "opening tickets",
            Use::Agents => "the agents' ticket cards",
            Use::Transcripts => "posting transcripts",
            Use::Status => "the crisis status message",
            Use::Announcements => "crisis announcements",
        }
    }

    /// Each permission the feature needs in its channel, with what Beacon does with it.
    pub fn needs(self) -> &'static [(u64, &'static str)] {
        const SEE: (u64, &str) = (bit::VIEW_CHANNEL, "see the channel");
        const HISTORY: (u64, &str) = (bit::READ_MESSAGE_HISTORY, "reply to messages");
        match self {
            Use::HelpChannel => &[SEE, (bit::SEND_MESSAGES, "answer"), HISTORY],
            Use::Forum => &[
                SEE,
                (bit::SEND_MESSAGES_IN_THREADS, "answer in posts"),
                HISTORY,
            ],
            Use::Tickets => &[
                SEE,
                (bit::CREATE_PRIVATE_THREADS, "open ticket threads"),
                (bit::SEND_MESSAGES_IN_THREADS, "write in ticket threads"),
                (bit::MANAGE_THREADS, "archive and lock closed tickets"),
                (
                    bit::READ_MESSAGE_HISTORY,
                    "read a ticket for its transcript",
                ),
            ],
            Use::Agents => &[
                SEE,
                (bit::SEND_MESSAGES, "post ticket cards"),
                (bit::READ_MESSAGE_HISTORY, "update ticket cards"),
            ],
            Use::Transcripts => &[
                SEE,
                (bit::SEND_MESSAGES, "post transcripts"),
                (bit::ATTACH_FILES, "attach the transcript files"),
            ],
            Use::Status => &[
                SEE,
                (bit::SEND_MESSAGES, "post the status message"),
                (bit::PIN_MESSAGES, "pin the status message"),
            ],
            Use::Announcements => &[SEE, (bit::SEND_MESSAGES, "post announcements")],
        }
    }
}

/// A problem a check found, with everything its advice needs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Finding {
    /// The configured channel is gone, or Beacon cannot see it at all.
    NoChannel { used_for: Use, channel: u64 },
    /// Beacon lacks these permissions in the channel.
    Missing {
        used_for: Use,
        channel: u64,
        missing: u64,
    },
    /// The role is not mentionable and Beacon lacks Mention Everyone where it pings it:
    /// Discord accepts the message and pings nobody.
    SilentPing { role: u64, channel: u64 },
}

/// What to check: channels by use, and the roles Beacon pings with where it pings them.
#[derive(Clone, Debug, Default)]
pub struct Plan {
    pub channels: Vec<(Use, u64)>,
    pub pings: Vec<(u64, u64)>,
}

/// Check the bot's permissions in a server against a plan. Findings come in the plan's order.
pub fn check(server: &Server, plan: &Plan) -> Vec<Finding> {
    let mut out = Vec::new();
    for &(used_for, channel) in &plan.channels {
        let Some(has) = server.bot_in(channel) else {
            out.push(Finding::NoChannel { used_for, channel });
            continue;
        };
        let need = used_for.needs().iter().fold(0, |all, (b, _)| all | b);
        let missing = need & !has;
        if missing == need {
            out.push(Finding::NoChannel { used_for, channel });
        } else if missing != 0 {
            out.push(Finding::Missing {
                used_for,
                channel,
                missing,
            });
        }
    }
    for &(role, channel) in &plan.pings {
        let mentionable = server.role(role).is_some_and(|r| r.mentionable);
        let may = server
            .bot_in(channel)
            .is_some_and(|p| p & bit::MENTION_EVERYONE != 0);
        if !mentionable && !may && server.role(role).is_some() {
            out.push(Finding::SilentPing { role, channel });
        }
    }
    out
}

/// How a channel or role is named in advice: as a mention in Discord, by name in a terminal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Naming {
    Mentions,
    Names,
}

impl Naming {
    fn channel(self, server: &Server, id: u64) -> String {
        match (self, server.channel(id)) {
            (Naming::Mentions, _) => format!("<#{id}>"),
            (Naming::Names, Some(c)) => format!("#{}", c.name),
            (Naming::Names, None) => format!("channel {id}"),
        }
    }

    fn role(self, server: &Server, id: u64) -> String {
        match (self, server.role(id)) {
            (Naming::Mentions, _) => format!("<@&{id}>"),
            (Naming::Names, Some(r)) => format!("@{}", r.name),
            (Naming::Names, None) => format!("role {id}"),
        }
    }
}

/// A finding in plain words: what Beacon cannot do, and which setting gives it.
pub fn advice(server: &Server, finding: &Finding, naming: Naming) -> String {
    let me = server.bot_role_name();
    match *finding {
        Finding::NoChannel { used_for, channel } => {
            let place = naming.channel(server, channel);
            if server.channel(channel).is_some() {
                format!(
                    "{place} ({}): Beacon cannot see this channel: give the {me} role View \
                     Channel in {place} (Edit Channel > Permissions).",
                    used_for.label()
                )
            } else {
                format!(
                    "{} ({}): the channel is gone; choose another with /setup channels.",
                    place,
                    used_for.label()
                )
            }
        }
        Finding::Missing {
            used_for,
            channel,
            missing,
        } => {
            let place = naming.channel(server, channel);
            let what: Vec<&str> = used_for
                .needs()
                .iter()
                .filter(|(b, _)| missing & b != 0)
                .map(|(_, w)| *w)
                .collect();
            format!(
                "{place} ({}): Beacon cannot {} there: give the {me} role {} in {place} \
                 (Edit Channel > Permissions).",
                used_for.label(),
                join_and(&what),
                names(missing)
            )
        }
        Finding::SilentPing { role, channel } => {
            let place = naming.channel(server, channel);
            let role = naming.role(server, role);
            format!(
                "{role} in {place}: Discord will not ping this role for Beacon, because it is not \
                 mentionable: give the {me} role Mention @everyone, @here and All Roles in \
                 {place}, or switch on \"Allow anyone to @mention this role\" for {role}."
            )
        }
    }
}

fn join_and(items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [one] => (*one).to_string(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

/// Who a slash command is for. Discord decides who is offered a command by its
/// `default_member_permissions` until an admin sets command permissions under Server Settings >
/// Integrations; a bot cannot set those with its own token (Application Commands docs,
/// "Permissions"). So each audience is tied to a permission its people hold anyway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Audience {
    /// Everyone: no default permissions.
    Customers,
    /// Agents work tickets, which are threads: Manage Threads.
    Agents,
    /// Moderators set the server up: Manage Server.
    Moderators,
}

impl Audience {
    /// The `default_member_permissions` of its commands.
    pub fn default_permissions(self) -> Option<u64> {
        match self {
            Audience::Customers => None,
            Audience::Agents => Some(bit::MANAGE_THREADS),
            Audience::Moderators => Some(bit::MANAGE_GUILD),
        }
    }
}

/// Whether Discord offers `command` to a member holding only `role` (and `@everyone`), by the
/// rules of command permissions v2 (change log, "Upcoming Application Command Permission
/// Changes"): a command-level entry for the role or `@everyone` decides alone; otherwise an
/// app-level deny hides it, and then the member needs `default_member_permissions`. Channel
/// entries are left out: they decide where, not who.
pub fn offered_to_role(
    server: &Server,
    application_id: u64,
    overrides: &[CommandPermissions],
    command: &Command,
    role: u64,
) -> bool {
    let perms = server.base(0, &[role]);
    if perms & bit::ADMINISTRATOR != 0 {
        return true;
    }
    let rule = |target: u64| -> Option<bool> {
        let list = &overrides.iter().find(|o| o.id == target)?.permissions;
        list.iter()
            .find(|e| e.kind == 1 && e.id == role)
            .or_else(|| list.iter().find(|e| e.kind == 1 && e.id == server.guild_id))
            .map(|e| e.permission)
    };
    if let Some(decided) = rule(command.id) {
        return decided;
    }
    if rule(application_id) == Some(false) || perms & bit::USE_APPLICATION_COMMANDS == 0 {
        return false;
    }
    match command.default_member_permissions {
        None => true,
        Some(0) => false,
        Some(bits) => perms & bits == bits,
    }
}

/// A command as members find it: `/name` for a slash command, whose names Discord keeps
/// lowercase without spaces; a context-menu command (a name with spaces or capitals) under
/// Apps in the right-click menu.
fn shown_name(name: &str) -> String {
    if name.chars().any(|c| c == ' ' || c.is_uppercase()) {
        format!("Apps > {name}")
    } else {
        format!("/{name}")
    }
}

/// The commands of an audience a role is not offered, and what would change that, in words.
/// `None` when Discord offers it every one of them.
pub fn role_advice(
    server: &Server,
    application_id: u64,
    overrides: &[CommandPermissions],
    commands: &[(Command, Audience)],
    audience: Audience,
    role: u64,
    naming: Naming,
) -> Option<String> {
    let hidden: Vec<String> = commands
        .iter()
        .filter(|(_, a)| *a == audience)
        .filter(|(c, _)| !offered_to_role(server, application_id, overrides, c, role))
        .map(|(c, _)| shown_name(&c.name))
        .collect();
    if hidden.is_empty() {
        return None;
    }
    let who = naming.role(server, role);
    let needed = names(audience.default_permissions().unwrap_or(0));
    let plain = server
        .role(role)
        .map_or_else(|| "the role".to_string(), |r| r.name.clone());
    Some(format!(
        "Discord does not offer {} to {who} yet: they are shown to members with {needed}. Either \
         give {who} {needed} (Server Settings > Roles > {plain} > Permissions), or allow {who} \
         on each of them in Server Settings > Integrations > Beacon > Manage.",
        hidden.join(", ")
    ))
}

/// What Beacon was doing when Discord answered 403 / 50013, read from the request: the channel
/// and the permissions that call takes (Discord's docs of each endpoint). `None` for calls
/// outside a channel.
pub fn refused_call(method: &str, path: &str) -> Option<(u64, &'static str, u64)> {
    let rest = path
        .split("/channels/")
        .nth(1)?
        .split('?')
        .next()
        .unwrap_or_default();
    let mut parts = rest.split('/');
    let channel: u64 = parts.next()?.parse().ok()?;
    let tail: Vec<&str> = parts.collect();
    let send = bit::VIEW_CHANNEL | bit::SEND_MESSAGES | bit::SEND_MESSAGES_IN_THREADS;
    let (what, bits) = match (method, tail.as_slice()) {
        ("PUT" | "DELETE", ["pins", _]) | ("PUT" | "DELETE", ["messages", "pins", _]) => {
            ("pin messages", bit::VIEW_CHANNEL | bit::PIN_MESSAGES)
        }
        ("POST", ["messages"]) => (
            "post messages",
            send | bit::ATTACH_FILES | bit::READ_MESSAGE_HISTORY,
        ),
        ("POST", ["messages", _, "crosspost"]) => ("publish announcements", send),
        ("GET", ["messages", ..]) => (
            "read messages",
            bit::VIEW_CHANNEL | bit::READ_MESSAGE_HISTORY,
        ),
        ("POST", ["threads"]) => (
            "open private threads",
            bit::VIEW_CHANNEL | bit::CREATE_PRIVATE_THREADS,
        ),
        ("PUT", ["thread-members", _]) => ("add members to threads", send),
        ("PATCH", []) => ("archive, lock and reopen threads", bit::MANAGE_THREADS),
        _ => ("do that", bit::VIEW_CHANNEL),
    };
    Some((channel, what, bits))
}

/// The advice for a refused call, once the server has been read: the permissions of `bits`
/// the bot lacks in `channel`, named where to give them. For a call in a thread, `channel` is
/// its parent (threads take their parent's permissions) and `in_thread` says so.
pub fn refusal_advice(
    server: &Server,
    channel: u64,
    in_thread: bool,
    what: &str,
    bits: u64,
    naming: Naming,
) -> String {
    let me = server.bot_role_name();
    let place = naming.channel(server, channel);
    let has = server.bot_in(channel).unwrap_or(0);
    // In a thread, sending takes Send Messages in Threads; elsewhere Send Messages.
    let bits = if in_thread {
        bits & !bit::SEND_MESSAGES
    } else {
        bits & !bit::SEND_MESSAGES_IN_THREADS
    };
    let missing = bits & !has;
    if missing == 0 {
        format!(
            "Discord refused Beacon permission to {what} in {place}. Check the {me} role's \
             permissions there (Edit Channel > Permissions)."
        )
    } else {
        format!(
            "Beacon cannot {what} in {place}: give the {me} role {} in {place} (Edit Channel > \
             Permissions).",
            names(missing)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const GUILD: u64 = 100;
    const BOT: u64 = 7;
    const BOT_ROLE: u64 = 101;
    const AGENTS: u64 = 102;

    fn server(bot_role_bits: u64, overwrites: serde_json::Value) -> Server {
        let roles: Vec<Role> = serde_json::from_value(json!([
            { "id": GUILD.to_string(), "name": "@everyone", "permissions": (bit::VIEW_CHANNEL | bit::SEND_MESSAGES | bit::USE_APPLICATION_COMMANDS).to_string() },
            { "id": BOT_ROLE.to_string(), "name": "Beacon", "permissions": bot_role_bits.to_string(), "managed": true },
            { "id": AGENTS.to_string(), "name": "Support", "permissions": "0", "mentionable": false },
        ]))
        .unwrap();
        let channels: Vec<Channel> = serde_json::from_value(json!([
            { "id": "200", "name": "status", "type": 0, "permission_overwrites": overwrites },
            { "id": "201", "name": "tickets", "type": 0 },
        ]))
        .unwrap();
        Server {
            guild_id: GUILD,
            owner_id: 1,
            roles,
            channels,
            bot_id: BOT,
            bot_roles: vec![BOT_ROLE],
        }
    }

    #[test]
    fn overwrites_apply_everyone_then_roles_then_the_member() {
        let s = server(
            bit::PIN_MESSAGES,
            json!([
                { "id": GUILD.to_string(), "type": 0, "allow": "0", "deny": bit::VIEW_CHANNEL.to_string() },
                { "id": BOT_ROLE.to_string(), "type": 0, "allow": bit::VIEW_CHANNEL.to_string(), "deny": bit::PIN_MESSAGES.to_string() },
                { "id": BOT.to_string(), "type": 1, "allow": bit::PIN_MESSAGES.to_string(), "deny": "0" },
            ]),
        );
        let bits = s.bot_in(200).unwrap();
        assert_ne!(
            bits & bit::VIEW_CHANNEL,
            0,
            "the role's allow beats @everyone's deny"
        );
        assert_ne!(
            bits & bit::PIN_MESSAGES,
            0,
            "the member's allow beats the role's deny"
        );
        assert_eq!(
            s.in_channel(200, 55, &[]),
            Some(0),
            "no view, nothing at all"
        );
        assert_eq!(
            s.in_channel(200, 1, &[]),
            Some(bit::ALL),
            "the owner has everything"
        );
        assert_eq!(s.bot_in(999), None);
    }

    #[test]
    fn without_send_messages_attaching_and_mentioning_everyone_go_too() {
        let s = server(
            bit::ATTACH_FILES | bit::MENTION_EVERYONE,
            json!([{ "id": BOT_ROLE.to_string(), "type": 0, "allow": "0", "deny": bit::SEND_MESSAGES.to_string() }]),
        );
        assert_eq!(
            s.bot_in(200).unwrap() & (bit::ATTACH_FILES | bit::MENTION_EVERYONE),
            0
        );
        assert_ne!(s.bot_in(201).unwrap() & bit::ATTACH_FILES, 0);
    }

    #[test]
    fn a_check_names_each_missing_permission_with_the_channel_and_the_fix() {
        let s = server(bit::VIEW_CHANNEL | bit::SEND_MESSAGES, json!([]));
        let plan = Plan {
            channels: vec![(Use::Status, 200), (Use::Tickets, 201), (Use::Agents, 999)],
            pings: vec![(AGENTS, 201)],
        };
        let found = check(&s, &plan);
        assert_eq!(
            found,
            vec![
                Finding::Missing {
                    used_for: Use::Status,
                    channel: 200,
                    missing: bit::PIN_MESSAGES
                },
                Finding::Missing {
                    used_for: Use::Tickets,
                    channel: 201,
                    missing: bit::CREATE_PRIVATE_THREADS
                        | bit::SEND_MESSAGES_IN_THREADS
                        | bit::MANAGE_THREADS
                        | bit::READ_MESSAGE_HISTORY
                },
                Finding::NoChannel {
                    used_for: Use::Agents,
                    channel: 999
                },
                Finding::SilentPing {
                    role: AGENTS,
                    channel: 201
                },
            ]
        );
        assert_eq!(
            advice(&s, &found[0], Naming::Names),
            "#status (the crisis status message): Beacon cannot pin the status message there: \
             give the Beacon role Pin Messages in #status (Edit Channel > Permissions)."
        );
        assert!(advice(&s, &found[1], Naming::Mentions).contains(
            "give the Beacon role Send Messages in Threads, Create Private Threads, Manage \
             Threads and Read Message History in <#201>"
        ));
        assert!(advice(&s, &found[2], Naming::Names).contains("the channel is gone"));
        assert!(advice(&s, &found[3], Naming::Names).contains("@Support in #tickets"));
    }

    #[test]
    fn everything_the_invite_grants_passes_every_feature() {
        let s = server(INVITE, json!([]));
        let plan = Plan {
            channels: [
                Use::HelpChannel,
                Use::Forum,
                Use::Tickets,
                Use::Agents,
                Use::Transcripts,
                Use::Status,
                Use::Announcements,
            ]
            .iter()
            .map(|u| (*u, 201))
            .collect(),
            pings: vec![(AGENTS, 201)],
        };
        assert_eq!(check(&s, &plan), vec![]);
        assert!(invite_url(42).ends_with(&format!("permissions={INVITE}")));
    }

    #[test]
    fn the_readme_invite_link_asks_for_exactly_what_beacon_needs() {
        let readme = include_str!("../../../README.md");
        assert!(
            readme.contains(&format!("&permissions={INVITE}`")),
            "README's invite link should carry permissions={INVITE}"
        );
    }

    #[test]
    fn a_staff_role_is_offered_its_commands_by_its_permission_or_by_an_override() {
        let mut s = server(0, json!([]));
        let close = Command {
            id: 300,
            name: "close".into(),
            default_member_permissions: Audience::Agents.default_permissions(),
        };
        let faq = Command {
            id: 301,
            name: "faq".into(),
            default_member_permissions: None,
        };
        let commands = vec![
            (close.clone(), Audience::Agents),
            (faq, Audience::Customers),
        ];
        let advice = role_advice(
            &s,
            9,
            &[],
            &commands,
            Audience::Agents,
            AGENTS,
            Naming::Names,
        )
        .expect("hidden");
        assert!(advice.starts_with("Discord does not offer /close to @Support yet"));
        assert!(advice.contains("Server Settings > Roles > Support > Permissions"));

        // An admin allowed the role on the command.
        let allowed: Vec<CommandPermissions> = serde_json::from_value(json!([
            { "id": "300", "permissions": [{ "id": AGENTS.to_string(), "type": 1, "permission": true }] }
        ]))
        .unwrap();
        assert!(offered_to_role(&s, 9, &allowed, &close, AGENTS));
        // An app-level deny of @everyone hides it again unless the command allows the role.
        let denied: Vec<CommandPermissions> = serde_json::from_value(json!([
            { "id": "9", "permissions": [{ "id": GUILD.to_string(), "type": 1, "permission": false }] }
        ]))
        .unwrap();
        s.roles[2].permissions = bit::MANAGE_THREADS;
        assert!(!offered_to_role(&s, 9, &denied, &close, AGENTS));
        assert!(offered_to_role(&s, 9, &[], &close, AGENTS));
        assert_eq!(
            role_advice(
                &s,
                9,
                &[],
                &commands,
                Audience::Agents,
                AGENTS,
                Naming::Names
            ),
            None
        );
    }

    #[test]
    fn a_refused_call_says_what_was_tried_and_which_permission_it_takes() {
        assert_eq!(
            refused_call("PUT", "https://discord.com/api/v10/channels/200/pins/5"),
            Some((200, "pin messages", bit::VIEW_CHANNEL | bit::PIN_MESSAGES))
        );
        assert_eq!(
            refused_call("PUT", "/api/v10/channels/200/messages/pins/5").map(|r| r.1),
            Some("pin messages")
        );
        assert_eq!(refused_call("GET", "/api/v10/users/@me"), None);
        let s = server(bit::VIEW_CHANNEL | bit::SEND_MESSAGES, json!([]));
        let (channel, what, bits) = refused_call("PUT", "/api/v10/channels/200/pins/5").unwrap();
        assert_eq!(
            refusal_advice(&s, channel, false, what, bits, Naming::Mentions),
            "Beacon cannot pin messages in <#200>: give the Beacon role Pin Messages in <#200> \
             (Edit Channel > Permissions)."
        );
        assert_eq!(
            names(bit::VIEW_CHANNEL | bit::PIN_MESSAGES),
            "View Channel and Pin Messages"
        );
    }
}
