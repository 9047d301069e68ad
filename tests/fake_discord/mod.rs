//! A fake Discord for end-to-end tests and benchmarks: REST (hyper) and gateway (websocket) on
//! 127.0.0.1, which the real serenity client connects to.
//!
//! It keeps a small world (guilds, channels, roles, members, the messages the bot wrote), lets a
//! test push events (messages, forum posts, slash commands, button presses, modal submits) and
//! read what the bot did (every REST request, its interaction responses, its messages). It is
//! strict: every REST request is checked against Discord's OpenAPI description and Discord's
//! unwritten rules, every gateway payload against serenity's own types, and anything off is a
//! *violation*: `assert_clean()` fails the test with the list.
//! It can also enforce Discord's global rate limit (`set_global_rate_limit`), answering the
//! requests over it with Discord's 429, so a bot's pacing can be tested and benchmarked.
//!
//! ```ignore
//! let discord = FakeDiscord::start().await;
//! let guild = discord.add_guild("Acme");
//! let help = discord.add_text_channel(guild, "help");
//! let alice = discord.add_member(guild, "alice", &[]);
//! // start the bot with discord.api_url() and fake_discord::TOKEN ...
//! discord.wait_ready(Duration::from_secs(10)).await;
//! discord.push_message(help, alice, "where is my order?");
//! let reply = discord.wait_for_request(|r| r.is("POST", "/channels/*/messages"), TEN_SECONDS).await;
//! discord.assert_clean();
//! ```
// Not every test binary uses every helper or re-export.
#![allow(dead_code, unused_imports)]

mod events;
mod gateway;
mod inspect;
mod openapi;
mod rest;
mod world;

#[cfg(test)]
mod selftest;
#[cfg(test)]
mod selftest_rules;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::sync::watch;

pub use events::Interaction;
pub use gateway::intents;
pub use inspect::{
    component_labels, custom_ids, embed_descriptions, message_content, visible_text,
};
pub use rest::{Recorded, counts_against_global_limit, path_matches};
pub use world::{APPLICATION_ID, BOT_USER_ID, TOKEN, channel_type, perm};

use gateway::{GatewayState, Outgoing, dispatch};
use rest::{Fault, GlobalLimit, RestState};
use world::{Deletion, World};

/// Whether `FAKE_DISCORD_LOG` is set: then the fake prints every request, gateway frame and
/// connection change to stderr (for debugging a test; `cargo test -- --nocapture`).
pub(crate) fn log_enabled() -> bool {
    static ENABLED: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *ENABLED.get_or_init(|| {
        std::env::var_os("FAKE_DISCORD_LOG").is_some_and(|v| !v.is_empty() && v != "0")
    })
}

/// Everything behind the fake's lock.
pub(crate) struct State {
    pub world: World,
    pub gateway: GatewayState,
    pub rest: RestState,
    pub violations: Vec<String>,
    pub gateway_url: String,
}

/// Check one in this many REST bodies against the spec and gateway payloads against serenity
/// (1: every one, the default). Only the throughput benchmark raises it, so that the fake's own
/// checking does not crowd out the bot it measures on a 2-core machine; the tests check all.
static CHECK_ONE_IN: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
static CHECK_COUNTER: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);

/// Whether this request or payload is one to check (see [`FakeDiscord::check_one_in`]).
pub(crate) fn should_check() -> bool {
    use std::sync::atomic::Ordering::Relaxed;
    let every = CHECK_ONE_IN.load(Relaxed).max(1);
    CHECK_COUNTER.fetch_add(1, Relaxed) % every == 0
}

/// Shared by the servers and every `FakeDiscord` clone.
pub(crate) struct Inner {
    state: Mutex<State>,
    /// Bumped after every change, so waiters re-check without polling.
    changes: watch::Sender<u64>,
    api_addr: SocketAddr,
    gateway_addr: SocketAddr,
}

impl Inner {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the state, then wakes every waiter.
    pub(crate) fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        let result = f(&mut self.lock());
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
        result
    }

    pub(crate) fn gateway_url(&self) -> String {
        format!("ws://{}", self.gateway_addr)
    }
}

/// The fake Discord. Cheap to clone; all clones share one world.
#[derive(Clone)]
pub struct FakeDiscord {
    inner: Arc<Inner>,
}

impl FakeDiscord {
    /// The bot token the fake accepts (REST `Authorization: Bot …` and gateway IDENTIFY).
    pub const TOKEN: &'static str = TOKEN;

    /// Binds REST and gateway on 127.0.0.1 with OS-chosen ports and starts serving them on the
    /// current tokio runtime.
    pub async fn start() -> FakeDiscord {
        let api = std::net::TcpListener::bind("127.0.0.1:0").expect("fake Discord: bind REST port");
        api.set_nonblocking(true)
            .expect("fake Discord: non-blocking REST socket");
        let gateway = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("fake Discord: bind gateway port");
        let api_addr = api.local_addr().expect("fake Discord: REST address");
        let gateway_addr = gateway.local_addr().expect("fake Discord: gateway address");
        // Load the spec now, so a missing file fails here and not inside the server.
        openapi::spec();
        let (changes, _) = watch::channel(0);
        let inner = Arc::new(Inner {
            state: Mutex::new(State {
                world: World::new(),
                gateway: GatewayState::new(),
                rest: RestState::new(),
                violations: Vec::new(),
                gateway_url: format!("ws://{gateway_addr}"),
            }),
            changes,
            api_addr,
            gateway_addr,
        });
        tokio::spawn(rest::serve(inner.clone(), api));
        tokio::spawn(gateway::serve(inner.clone(), gateway));
        FakeDiscord { inner }
    }

    /// The API base URL to give the bot (serenity's `HttpBuilder::proxy`): `http://127.0.0.1:PORT`.
    pub fn api_url(&self) -> String {
        format!("http://{}", self.inner.api_addr)
    }

    /// The gateway URL the fake announces in `GET /gateway`.
    pub fn gateway_url(&self) -> String {
        self.inner.gateway_url()
    }

    /// The bot's application id.
    pub fn application_id(&self) -> u64 {
        APPLICATION_ID
    }

    /// The bot user's id (the same as the application id).
    pub fn bot_user_id(&self) -> u64 {
        BOT_USER_ID
    }

    fn read<R>(&self, f: impl FnOnce(&State) -> R) -> R {
        f(&self.inner.lock())
    }

    fn update<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        self.inner.update(f)
    }

    // ----- building the world -----

    /// Adds a server with an owner, an `@everyone` role and the bot (with its own managed role).
    /// Announced as GUILD_CREATE at once if the bot has a session, else in READY.
    pub fn add_guild(&self, name: &str) -> u64 {
        self.update(|s| {
            let id = s.world.add_guild(name);
            if let Some(session) = &s.gateway.session {
                let payload = s
                    .world
                    .guild_create_json(&s.world.guilds[&id], session.large_threshold);
                dispatch(s, "GUILD_CREATE", payload);
            }
            id
        })
    }

    /// Adds a channel (a thread if `kind` is one, owned by `owner`) and announces it if the bot
    /// has a session.
    fn add_channel(
        &self,
        guild: u64,
        kind: u8,
        name: &str,
        parent: Option<u64>,
        owner: Option<u64>,
    ) -> u64 {
        self.update(|s| {
            assert!(
                s.world.guilds.contains_key(&guild),
                "fake Discord: unknown guild {guild}"
            );
            let id = s.world.add_channel(Some(guild), kind, name, parent);
            if let Some(c) = s.world.channels.get_mut(&id) {
                c.owner_id = owner;
                if let (Some(t), Some(owner)) = (c.thread.as_mut(), owner) {
                    t.members.insert(owner);
                }
            }
            if s.gateway.session.is_some() {
                let mut v = s.world.channel_json(&s.world.channels[&id]);
                if channel_type::is_thread(kind) {
                    v["newly_created"] = true.into();
                    dispatch(s, "THREAD_CREATE", v);
                } else {
                    dispatch(s, "CHANNEL_CREATE", v);
                }
            }
            id
        })
    }

    /// Adds a text channel (type 0).
    pub fn add_text_channel(&self, guild: u64, name: &str) -> u64 {
        self.add_channel(guild, channel_type::GUILD_TEXT, name, None, None)
    }

    /// Adds a forum channel (type 15); users post into it with [`push_forum_post`](Self::push_forum_post).
    pub fn add_forum_channel(&self, guild: u64, name: &str) -> u64 {
        self.add_channel(guild, channel_type::GUILD_FORUM, name, None, None)
    }

    /// Adds an announcement channel (type 5), whose messages can be crossposted.
    pub fn add_announcement_channel(&self, guild: u64, name: &str) -> u64 {
        self.add_channel(guild, channel_type::GUILD_ANNOUNCEMENT, name, None, None)
    }

    /// Adds a category (type 4).
    pub fn add_category(&self, guild: u64, name: &str) -> u64 {
        self.add_channel(guild, channel_type::GUILD_CATEGORY, name, None, None)
    }

    /// Adds a public thread (type 11) under a text channel, started by `owner`.
    pub fn add_thread(&self, parent: u64, owner: u64, name: &str) -> u64 {
        let guild = self
            .read(|s| s.world.guild_of(parent))
            .expect("fake Discord: unknown parent channel");
        self.add_channel(
            guild,
            channel_type::PUBLIC_THREAD,
            name,
            Some(parent),
            Some(owner),
        )
    }

    /// Adds a role with a permission bit set (see [`perm`]).
    pub fn add_role(&self, guild: u64, name: &str, permissions: u64) -> u64 {
        self.update(|s| {
            assert!(
                s.world.guilds.contains_key(&guild),
                "fake Discord: unknown guild {guild}"
            );
            let id = s.world.add_role(guild, name, permissions);
            if s.gateway.session.is_some() {
                let role = s.world.role_json(&s.world.roles[&id]);
                dispatch(
                    s,
                    "GUILD_ROLE_CREATE",
                    json!({ "guild_id": guild.to_string(), "role": role }),
                );
            }
            id
        })
    }

    /// Changes a role's permissions (GUILD_ROLE_UPDATE).
    pub fn set_role_permissions(&self, role: u64, permissions: u64) {
        self.edit_role(role, |r| r.permissions = permissions);
    }

    /// Changes a role as a moderator would in Server Settings, announcing GUILD_ROLE_UPDATE.
    fn edit_role(&self, role: u64, change: impl FnOnce(&mut world::Role)) {
        self.update(|s| {
            let r = s
                .world
                .roles
                .get_mut(&role)
                .unwrap_or_else(|| panic!("fake Discord: unknown role {role}"));
            change(r);
            let guild = r.guild_id;
            if s.gateway.session.is_some() {
                let role = s.world.role_json(&s.world.roles[&role]);
                dispatch(
                    s,
                    "GUILD_ROLE_UPDATE",
                    json!({ "guild_id": guild.to_string(), "role": role }),
                );
            }
        })
    }

    /// Sets a channel's permission overwrite for a role (`kind` 0; the guild id is `@everyone`)
    /// or a member (`kind` 1), as a moderator would in the channel's settings (CHANNEL_UPDATE).
    /// `allow` and `deny` both 0 removes it.
    pub fn set_overwrite(&self, channel: u64, id: u64, kind: u8, allow: u64, deny: u64) {
        self.update(|s| {
            let c = s
                .world
                .channels
                .get_mut(&channel)
                .unwrap_or_else(|| panic!("fake Discord: unknown channel {channel}"));
            assert!(
                c.thread.is_none() && c.guild_id.is_some(),
                "fake Discord: overwrites belong on guild channels, not threads or DMs"
            );
            c.overwrites.retain(|o| !(o.id == id && o.kind == kind));
            if allow != 0 || deny != 0 {
                c.overwrites.push(world::Overwrite {
                    id,
                    kind,
                    allow,
                    deny,
                });
            }
            if s.gateway.session.is_some() {
                let v = s.world.channel_json(&s.world.channels[&channel]);
                dispatch(s, "CHANNEL_UPDATE", v);
            }
        })
    }

    /// Makes a role pingable by anyone, or only by members with MENTION_EVERYONE (the
    /// default, as for a role made in Server Settings).
    pub fn set_role_mentionable(&self, role: u64, mentionable: bool) {
        self.edit_role(role, |r| r.mentionable = mentionable);
    }

    /// A member's permissions in a channel, overwrites applied (see
    /// `World::channel_permissions`).
    pub fn permissions_in(&self, channel: u64, user: u64) -> u64 {
        self.read(|s| s.world.channel_permissions(channel, user))
    }

    /// Creates a user and makes them a member with these roles; returns the user id.
    pub fn add_member(&self, guild: u64, username: &str, roles: &[u64]) -> u64 {
        let user = self.update(|s| s.world.add_user(username, false));
        self.join_guild(guild, user, roles);
        user
    }

    /// Makes an existing user a member of another guild (GUILD_MEMBER_ADD).
    pub fn join_guild(&self, guild: u64, user: u64, roles: &[u64]) {
        self.update(|s| {
            assert!(
                s.world.guilds.contains_key(&guild),
                "fake Discord: unknown guild {guild}"
            );
            for r in roles {
                assert!(
                    s.world
                        .roles
                        .get(r)
                        .is_some_and(|role| role.guild_id == guild),
                    "fake Discord: role {r} is not a role of guild {guild}"
                );
            }
            s.world.insert_member(guild, user, roles);
            if s.gateway.session.is_some() {
                let mut m = s.world.member_json(guild, user, true, false);
                m["guild_id"] = guild.to_string().into();
                dispatch(s, "GUILD_MEMBER_ADD", m);
            }
        })
    }

    /// A member leaves a server (GUILD_MEMBER_REMOVE).
    pub fn leave_guild(&self, guild: u64, user: u64) {
        self.update(|s| {
            let left = s
                .world
                .guilds
                .get_mut(&guild)
                .and_then(|g| g.members.remove(&user))
                .is_some();
            assert!(
                left,
                "fake Discord: user {user} is not a member of guild {guild}"
            );
            if s.gateway.session.is_some() {
                let user = s.world.user_json(user);
                dispatch(
                    s,
                    "GUILD_MEMBER_REMOVE",
                    json!({ "guild_id": guild.to_string(), "user": user }),
                );
            }
        })
    }

    /// The guild's owner (created with the guild; has every permission).
    pub fn guild_owner(&self, guild: u64) -> u64 {
        self.read(|s| s.world.guilds.get(&guild).map(|g| g.owner_id))
            .expect("fake Discord: unknown guild")
    }

    /// The bot's managed role in a guild (change its permissions to test "missing permission").
    pub fn bot_role(&self, guild: u64) -> u64 {
        self.read(|s| {
            s.world
                .roles
                .values()
                .find(|r| r.guild_id == guild && r.bot_id.is_some())
                .map(|r| r.id)
        })
        .expect("fake Discord: unknown guild")
    }

    /// Makes a user refuse DMs from the bot: sending to their DM channel answers 403 50007.
    pub fn set_dms_closed(&self, user: u64, closed: bool) {
        self.update(|s| {
            if let Some(u) = s.world.users.get_mut(&user) {
                u.dms_closed = closed;
            }
        })
    }

    /// A user (or a moderator) deletes a message (MESSAGE_DELETE). Later requests for it get 404
    /// without a violation.
    pub fn delete_message(&self, message: u64) {
        self.update(|s| {
            let m = s.world.messages.get_mut(&message).unwrap_or_else(|| panic!("fake Discord: unknown message {message}"));
            m.deleted = Some(Deletion::ByWorld);
            let channel = m.channel_id;
            let guild = s.world.guild_of(channel).map(|g| g.to_string());
            dispatch(s, "MESSAGE_DELETE", json!({ "id": message.to_string(), "channel_id": channel.to_string(), "guild_id": guild }));
        })
    }

    /// A moderator deletes a channel or thread. Later requests for it get 404 without a violation.
    pub fn delete_channel(&self, channel: u64) {
        self.update(|s| {
            let c = s.world.channels.get_mut(&channel).unwrap_or_else(|| panic!("fake Discord: unknown channel {channel}"));
            c.deleted = true;
            c.deleted_by_world = true;
            let is_thread = c.thread.is_some();
            let v = s.world.channel_json(&s.world.channels[&channel]);
            if is_thread {
                let event = json!({ "id": v["id"], "guild_id": v["guild_id"], "parent_id": v["parent_id"], "type": v["type"] });
                dispatch(s, "THREAD_DELETE", event);
            } else {
                dispatch(s, "CHANNEL_DELETE", v);
            }
        })
    }

    /// Discord archives an idle thread (THREAD_UPDATE with `archived: true`).
    pub fn archive_thread(&self, thread: u64) {
        self.update(|s| {
            let t = s
                .world
                .channels
                .get_mut(&thread)
                .and_then(|c| c.thread.as_mut())
                .unwrap_or_else(|| panic!("fake Discord: {thread} is not a thread"));
            t.archived = true;
            t.archive_timestamp = world::now_iso();
            let v = s.world.channel_json(&s.world.channels[&thread]);
            dispatch(s, "THREAD_UPDATE", v);
        })
    }

    // ----- gateway control -----

    /// Closes the gateway socket abruptly (no close frame), as a network failure would. The
    /// client should reconnect and RESUME; events pushed meanwhile are replayed then.
    pub fn drop_connection(&self) {
        self.close_with(Outgoing::Drop);
    }

    /// Closes the gateway with a close frame; 4000 ("unknown error") lets the client resume,
    /// 4004 or 4014 do not.
    pub fn close_connection(&self, code: u16) {
        self.close_with(Outgoing::Close(code));
    }

    fn close_with(&self, how: Outgoing) {
        self.update(|s| {
            let live = s
                .gateway
                .live
                .take()
                .expect("fake Discord: no gateway connection to close");
            s.gateway.resumes_at_drop = s.gateway.resumes;
            let _ = live.tx.send(how);
        })
    }

    /// Asks the client to reconnect (op 7), as Discord does before maintenance.
    pub fn request_reconnect(&self) {
        self.update(|s| {
            let live = s
                .gateway
                .live
                .as_ref()
                .expect("fake Discord: no gateway connection");
            s.gateway.resumes_at_drop = s.gateway.resumes;
            let _ = live.tx.send(Outgoing::Text(
                json!({ "op": 7, "s": null, "t": null, "d": null }).to_string(),
            ));
        })
    }

    /// Whether a client has identified or resumed and is connected now.
    pub fn is_connected(&self) -> bool {
        self.read(|s| s.gateway.live.is_some())
    }

    /// How many times a client has sent IDENTIFY.
    pub fn identifies(&self) -> u32 {
        self.read(|s| s.gateway.identifies)
    }

    /// How many times a client has resumed a session successfully.
    pub fn resumes(&self) -> u32 {
        self.read(|s| s.gateway.resumes)
    }

    // ----- REST control -----

    /// Answers the next `times` requests matching `method` (`"*"` for any) and `path_pattern`
    /// (see [`path_matches`]) with `status`: 429 with Discord's rate-limit body and headers,
    /// 502 with Cloudflare's HTML page, others with a small JSON error.
    pub fn fail_next(&self, method: &str, path_pattern: &str, status: u16, times: u32) {
        self.update(|s| {
            s.rest.faults.push(Fault {
                method: method.to_string(),
                pattern: path_pattern.to_string(),
                status,
                remaining: times,
            })
        })
    }

    /// Check only one in `n` REST bodies and gateway payloads, process-wide: for the
    /// throughput benchmark only (see `CHECK_ONE_IN`).
    pub fn check_one_in(n: u64) {
        CHECK_ONE_IN.store(n.max(1), std::sync::atomic::Ordering::Relaxed);
    }

    /// Delays every REST answer by `latency` (a slow Discord).
    pub fn set_latency(&self, latency: Duration) {
        self.update(|s| s.rest.latency = latency)
    }

    /// Discord's global rate limit: with `Some(n)`, at most `n` REST requests are accepted per
    /// rolling second (a sliding window over the requests accepted so far; refused ones do not
    /// count), across every route and method; `GET /gateway`, `GET /gateway/bot` and the
    /// interaction endpoints are exempt. A request over the limit is not acted on (nor checked)
    /// and is answered as Discord does: 429 with `{"message", "retry_after" (seconds, to the millisecond, until a request
    /// would be accepted), "global": true, "code": 0}` and the headers `retry-after` (whole
    /// seconds, rounded up), `x-ratelimit-global: true` and `x-ratelimit-scope: global`. See
    /// [`rate_limited_count`](Self::rate_limited_count).
    ///
    /// While a limit is set, successful answers also carry Discord's bucket headers
    /// (`x-ratelimit-limit`, `-remaining`, `-reset`, `-reset-after`, `-bucket`): 5 per 5 s per
    /// route and major parameter, reported but not enforced, `remaining` never 0.
    /// `None` (the default) turns all of it off. Panics on `Some(0)`.
    pub fn set_global_rate_limit(&self, per_second: Option<u32>) {
        assert_ne!(
            per_second,
            Some(0),
            "fake Discord: a global limit of 0 would refuse everything forever"
        );
        self.update(|s| match per_second {
            Some(n) => match &mut s.rest.global_limit {
                Some(limit) => limit.per_second = n,
                None => s.rest.global_limit = Some(GlobalLimit::new(n)),
            },
            None => {
                s.rest.global_limit = None;
                s.rest.buckets.clear();
            }
        })
    }

    /// Lets `by` pass for an interaction, as if it had been sent that long ago: after 15
    /// minutes in all its token no longer works for edits and follow-ups (401 50027).
    pub fn age_interaction(&self, interaction: &Interaction, by: Duration) {
        self.update(|s| {
            if let Some(rec) = s.world.interactions.get_mut(&interaction.id) {
                rec.aged += by;
            }
        })
    }

    /// Switches the Message Content intent on or off for the app in the Developer Portal: off,
    /// an IDENTIFY asking for it is closed with 4014, and the application's flags say so.
    pub fn set_message_content_intent(&self, enabled: bool) {
        self.update(|s| {
            let bit = gateway::intents::MESSAGE_CONTENT;
            if enabled {
                s.world.privileged_intents |= bit;
            } else {
                s.world.privileged_intents &= !bit;
            }
        })
    }

    /// Enforce per-route buckets: with `Some(n)`, each bucket (route and top-level resource)
    /// takes `n` requests per 5 s, its headers count down to `remaining: 0`, and a request over
    /// it gets Discord's 429 (scope `user`, `retry_after` until the reset) without being acted
    /// on. See [`route_limited_count`](Self::route_limited_count).
    pub fn set_route_limit(&self, per_five_seconds: Option<u32>) {
        self.update(|s| {
            s.rest.route_limit = per_five_seconds.filter(|n| *n > 0);
            s.rest.buckets.clear();
        })
    }

    /// Requests refused with a 429 because their bucket was used up.
    pub fn route_limited_count(&self) -> u64 {
        self.read(|s| s.rest.route_limited)
    }

    /// How long the bot has to answer an interaction (Discord: 3 s); `None` turns the check off.
    pub fn set_ack_deadline(&self, deadline: Option<Duration>) {
        self.update(|s| s.rest.ack_deadline = deadline)
    }

    // ----- reading what happened -----

    /// Every REST request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.read(|s| s.rest.requests.clone())
    }

    /// Requests with this method (`"*"` for any) whose path matches the pattern (see
    /// [`path_matches`]: `*` or `{name}` is one segment, a trailing `/` is a prefix).
    pub fn requests_matching(&self, method: &str, path_pattern: &str) -> Vec<Recorded> {
        self.read(|s| {
            s.rest
                .requests
                .iter()
                .filter(|r| r.is(method, path_pattern))
                .cloned()
                .collect()
        })
    }

    /// How many REST requests arrived so far.
    pub fn request_count(&self) -> usize {
        self.read(|s| s.rest.requests.len())
    }

    /// Requests from position `from` on (cheap polling of new requests in benchmarks).
    pub fn requests_since(&self, from: usize) -> Vec<Recorded> {
        self.read(|s| {
            s.rest
                .requests
                .get(from..)
                .map(<[Recorded]>::to_vec)
                .unwrap_or_default()
        })
    }

    /// Requests refused with a 429 by the global rate limit so far (not those from `fail_next`).
    pub fn rate_limited_count(&self) -> u64 {
        self.read(|s| s.rest.rate_limited)
    }

    /// The requests from position `from` on that the global rate limit let through (all of them
    /// when no limit is set), gateway URL lookups left out as they never count: when each was
    /// handled (the instant the limit counted it), its method and path. For measuring the rate
    /// a client achieves.
    pub fn accepted_since(&self, from: usize) -> Vec<(Instant, String, String)> {
        self.read(|s| {
            s.rest
                .requests
                .get(from..)
                .unwrap_or_default()
                .iter()
                .filter(|r| !r.rate_limited && rest::counts_against_global_limit(&r.path))
                .map(|r| (r.handled_at, r.method.clone(), r.path.clone()))
                .collect()
        })
    }

    /// 401, 403 and 429 answers so far (Discord bans bots with too many of these).
    pub fn invalid_request_count(&self) -> u32 {
        self.read(|s| s.rest.invalid_requests)
    }

    /// Every problem found so far: REST requests Discord would refuse, payloads serenity would
    /// drop, protocol mistakes.
    pub fn violations(&self) -> Vec<String> {
        self.read(|s| s.violations.clone())
    }

    /// Returns and forgets the violations (for tests that provoke one on purpose).
    pub fn take_violations(&self) -> Vec<String> {
        self.update(|s| std::mem::take(&mut s.violations))
    }

    /// Panics listing every violation, if there are any. Call it at the end of every test.
    #[track_caller]
    pub fn assert_clean(&self) {
        let violations = self.violations();
        if !violations.is_empty() {
            let list: Vec<String> = violations
                .iter()
                .enumerate()
                .map(|(i, v)| format!("  {}. {v}", i + 1))
                .collect();
            panic!(
                "fake Discord saw {} violation(s):\n{}",
                violations.len(),
                list.join("\n")
            );
        }
    }

    /// The application commands the bot registered (global first, then per guild), as Discord
    /// stores them (with ids, versions, `application_id`).
    pub fn commands(&self) -> Vec<Value> {
        self.read(|s| s.world.all_commands())
    }

    /// The current state (after edits) of the messages the bot created in a channel, oldest
    /// first, deleted ones left out. Includes interaction responses; ephemeral ones carry flag 64.
    pub fn bot_messages(&self, channel: u64) -> Vec<Value> {
        self.read(|s| {
            s.world
                .messages
                .values()
                .filter(|m| m.channel_id == channel && m.by_bot && m.deleted.is_none())
                .map(|m| m.value.clone())
                .collect()
        })
    }

    /// A message's current state (also deleted ones, with `"deleted": true` added).
    pub fn message(&self, id: u64) -> Option<Value> {
        self.read(|s| {
            s.world.messages.get(&id).map(|m| {
                let mut v = m.value.clone();
                if m.deleted.is_some() {
                    v["deleted"] = true.into();
                }
                v
            })
        })
    }

    /// The bot's reply to a message (a bot message whose `message_reference` points at it), in
    /// its current state. Cheaper than scanning `bot_messages` in a loop.
    pub fn reply_to(&self, message: u64) -> Option<Value> {
        self.read(|s| {
            let target = message.to_string();
            s.world
                .messages
                .range(message + 1..)
                .map(|(_, m)| m)
                .find(|m| {
                    m.by_bot
                        && m.deleted.is_none()
                        && m.value["message_reference"]["message_id"].as_str()
                            == Some(target.as_str())
                })
                .map(|m| m.value.clone())
        })
    }

    /// How many messages the bot created in a channel and has not deleted.
    pub fn bot_message_count(&self, channel: u64) -> usize {
        self.read(|s| {
            s.world
                .messages
                .values()
                .filter(|m| m.channel_id == channel && m.by_bot && m.deleted.is_none())
                .count()
        })
    }

    /// A channel's current state as Discord would return it (threads: `thread_metadata`).
    pub fn channel(&self, id: u64) -> Option<Value> {
        self.read(|s| {
            s.world.channels.get(&id).map(|c| {
                let mut v = s.world.channel_json(c);
                if c.deleted {
                    v["deleted"] = true.into();
                }
                if let Some(t) = &c.thread {
                    v["member_ids"] = t
                        .members
                        .iter()
                        .map(|m| Value::String(m.to_string()))
                        .collect::<Vec<_>>()
                        .into();
                }
                v
            })
        })
    }

    /// The threads under a channel (including archived ones), oldest first.
    pub fn threads_in(&self, parent: u64) -> Vec<Value> {
        self.read(|s| {
            s.world
                .channels
                .values()
                .filter(|c| c.parent_id == Some(parent) && c.thread.is_some() && !c.deleted)
                .map(|c| s.world.channel_json(c))
                .collect()
        })
    }

    /// The DM channel between the bot and a user, if the bot opened one.
    /// How many messages the bot posted in each channel (not deleted, not answers to
    /// interactions), in one pass: for tests that count across thousands of channels.
    pub fn bot_message_counts(&self) -> std::collections::HashMap<u64, usize> {
        self.read(|s| {
            let mut counts = std::collections::HashMap::new();
            for m in s.world.messages.values() {
                if m.by_bot && m.deleted.is_none() && m.interaction.is_none() {
                    *counts.entry(m.channel_id).or_insert(0) += 1;
                }
            }
            counts
        })
    }

    /// Opens (or finds) the DM channel between the bot and `user`, as `POST /users/@me/channels`
    /// would: for tests that seed subscribers without a request each.
    pub fn open_dm(&self, user: u64) -> u64 {
        self.update(|s| s.world.dm_channel(user))
    }

    pub fn dm_channel_of(&self, user: u64) -> Option<u64> {
        self.read(|s| s.world.dms.get(&user).copied())
    }

    /// Everything the bot answered to an interaction, in order. Each entry is
    /// `{"kind": "callback" | "edit_original" | "followup" | "edit_followup" | "delete_original"
    /// | "delete_followup", "type": <callback type or null>, "body": <request body>,
    /// "message": <the message-like payload: callback data or webhook body, or null>}`.
    pub fn interaction_responses(&self, interaction: u64) -> Vec<Value> {
        self.read(|s| {
            s.world
                .interactions
                .get(&interaction)
                .map(|r| r.responses.clone())
                .unwrap_or_default()
        })
    }

    /// The text of the latest response that carries any (content, embeds, components, choices).
    pub fn last_response_text(&self, interaction: &Interaction) -> Option<String> {
        self.interaction_responses(interaction.id)
            .iter()
            .rev()
            .map(|r| visible_text(&r["message"]))
            .find(|t| !t.is_empty())
    }

    // ----- waiting -----

    /// Waits until `check` returns `Some`, re-checking after every change in the fake (no
    /// polling). Panics after `timeout` with `what`, the violations so far and recent requests.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&FakeDiscord) -> Option<T>,
    ) -> T {
        match self.try_wait_until(timeout, &mut check).await {
            Some(v) => v,
            None => panic!(
                "fake Discord: timed out after {timeout:?} waiting for {what}\n{}",
                self.diagnostics()
            ),
        }
    }

    /// Like [`wait_until`](Self::wait_until) but gives `None` on timeout.
    pub async fn try_wait_until<T>(
        &self,
        timeout: Duration,
        mut check: impl FnMut(&FakeDiscord) -> Option<T>,
    ) -> Option<T> {
        let mut changes = self.inner.changes.subscribe();
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            changes.borrow_and_update();
            if let Some(v) = check(self) {
                return Some(v);
            }
            match tokio::time::timeout_at(deadline, changes.changed()).await {
                Ok(Ok(())) => {}
                _ => return check(self),
            }
        }
    }

    /// The state a timeout message shows: gateway, violations, the last requests.
    pub fn diagnostics(&self) -> String {
        self.read(|s| {
            let recent: Vec<String> = s
                .rest
                .requests
                .iter()
                .rev()
                .take(10)
                .rev()
                .map(|r| {
                    let note = r
                        .note
                        .as_deref()
                        .map(|n| format!(" ({n})"))
                        .unwrap_or_default();
                    format!("  {} {} -> {}{note}", r.method, r.path, r.status)
                })
                .collect();
            let intents = s
                .gateway
                .session
                .as_ref()
                .map(|x| format!("{:#x}", x.intents));
            format!(
                "gateway: identifies={} resumes={} connected={} ready={} intents={} \
                 events withheld by intents={} queued before any session={}\n\
                 violations: {:#?}\nlast requests:\n{}",
                s.gateway.identifies,
                s.gateway.resumes,
                s.gateway.live.is_some(),
                s.gateway.ready,
                intents.as_deref().unwrap_or("none"),
                s.gateway.withheld,
                s.gateway.before_session.len(),
                s.violations,
                recent.join("\n")
            )
        })
    }

    /// Waits until a client has identified and been sent READY and every GUILD_CREATE.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until(
            "the bot to connect (IDENTIFY, READY, GUILD_CREATE)",
            timeout,
            |f| f.read(|s| (s.gateway.ready && s.gateway.live.is_some()).then_some(())),
        )
        .await
    }

    /// Waits until the bot has registered application commands (bulk or one by one).
    pub async fn wait_commands_registered(&self, timeout: Duration) {
        self.wait_until("the bot to register its commands", timeout, |f| {
            f.read(|s| s.world.commands_registered.then_some(()))
        })
        .await
    }

    /// Waits until the client has resumed after the last `drop_connection`/`close_connection`
    /// (or, if there was none, resumed at all).
    pub async fn wait_resumed(&self, timeout: Duration) {
        self.wait_until("the bot to resume its gateway session", timeout, |f| {
            f.read(|s| {
                (s.gateway.resumes > s.gateway.resumes_at_drop && s.gateway.live.is_some())
                    .then_some(())
            })
        })
        .await
    }

    /// Waits for a REST request matching `predicate`, including ones that already happened;
    /// returns the first such request.
    pub async fn wait_for_request(
        &self,
        predicate: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Recorded {
        let mut seen = 0;
        self.wait_until("a matching REST request", timeout, |f| {
            f.read(|s| {
                let found = s.rest.requests[seen..]
                    .iter()
                    .find(|r| predicate(r))
                    .cloned();
                seen = s.rest.requests.len();
                found
            })
        })
        .await
    }

    /// Like [`wait_for_request`](Self::wait_for_request) but `None` on timeout (to check that
    /// something did *not* happen within a while).
    pub async fn try_wait_for_request(
        &self,
        predicate: impl Fn(&Recorded) -> bool,
        timeout: Duration,
    ) -> Option<Recorded> {
        let mut seen = 0;
        self.try_wait_until(timeout, |f| {
            f.read(|s| {
                let found = s.rest.requests[seen..]
                    .iter()
                    .find(|r| predicate(r))
                    .cloned();
                seen = s.rest.requests.len();
                found
            })
        })
        .await
    }

    /// Waits for the bot's first answer to an interaction that carries something to show
    /// (a message, an update, choices or a modal; a bare deferral does not count) and returns
    /// that response entry (see [`interaction_responses`](Self::interaction_responses)).
    pub async fn wait_interaction_reply(
        &self,
        interaction: &Interaction,
        timeout: Duration,
    ) -> Value {
        let id = interaction.id;
        self.wait_until("the bot to answer the interaction", timeout, move |f| {
            f.interaction_responses(id)
                .into_iter()
                .find(|r| !r["message"].is_null())
        })
        .await
    }
}
