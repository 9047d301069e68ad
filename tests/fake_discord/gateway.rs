//! The gateway half of the fake: a websocket server speaking Discord's gateway protocol (HELLO,
//! IDENTIFY → READY + GUILD_CREATE, heartbeats, RESUME with replay) to one client at a time.
//!
//! Every dispatch is first parsed with serenity's own types; one that serenity would drop is
//! recorded as a violation. Events honour the session's intents (no MESSAGE_CREATE without
//! GUILD_MESSAGES, empty content without MESSAGE_CONTENT), as Discord does.

use std::sync::Arc;

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::world::{APPLICATION_ID, BOT_USER_ID, TOKEN, random_hex};
use super::{Inner, State};

/// The heartbeat interval the fake asks for, in milliseconds (Discord's usual value).
pub const HEARTBEAT_INTERVAL_MS: u64 = 41_250;

/// Gateway intent bits the fake honours.
pub mod intents {
    pub const GUILDS: u64 = 1 << 0;
    pub const GUILD_MEMBERS: u64 = 1 << 1;
    pub const GUILD_PRESENCES: u64 = 1 << 8;
    pub const GUILD_MESSAGES: u64 = 1 << 9;
    pub const DIRECT_MESSAGES: u64 = 1 << 12;
    pub const MESSAGE_CONTENT: u64 = 1 << 15;
}

/// What a connection task is told to do.
pub enum Outgoing {
    Text(String),
    /// Send a close frame with this code, then end.
    Close(u16),
    /// End without a close frame: the socket just goes away.
    Drop,
}

/// The connection that has identified or resumed.
pub struct LiveConnection {
    pub id: u64,
    pub tx: UnboundedSender<Outgoing>,
}

/// A gateway session: what a RESUME can continue.
pub struct Session {
    pub id: String,
    pub intents: u64,
    /// Above this many members a server is "large", and GUILD_CREATE leaves its members out.
    pub large_threshold: usize,
    pub seq: u64,
    /// Every dispatch sent in this session: (seq, event name, frame text), for replay.
    pub log: Vec<(u64, String, String)>,
}

/// Gateway-side state.
pub struct GatewayState {
    pub live: Option<LiveConnection>,
    next_connection: u64,
    pub session: Option<Session>,
    /// Events pushed before any session existed; sent after the first READY.
    pub before_session: Vec<(String, Value)>,
    pub identifies: u32,
    pub resumes: u32,
    /// `resumes` when the fake last dropped the connection (for `wait_resumed`).
    pub resumes_at_drop: u32,
    /// READY and every GUILD_CREATE have been sent for the current session.
    pub ready: bool,
    /// Events not sent because the session's intents exclude them, for diagnostics.
    pub withheld: u32,
    /// Frames the client sent that the fake did not expect, for diagnostics.
    pub client_ops: Vec<u64>,
}

impl GatewayState {
    pub fn new() -> GatewayState {
        GatewayState {
            live: None,
            next_connection: 0,
            session: None,
            before_session: Vec::new(),
            identifies: 0,
            resumes: 0,
            resumes_at_drop: 0,
            ready: false,
            withheld: 0,
            client_ops: Vec::new(),
        }
    }
}

/// Accepts gateway connections until the runtime ends.
pub async fn serve(inner: Arc<Inner>, listener: TcpListener) {
    loop {
        match listener.accept().await {
            Ok((tcp, _)) => {
                tokio::spawn(connection(inner.clone(), tcp));
            }
            Err(e) => tracing::warn!("fake Discord gateway accept failed: {e}"),
        }
    }
}

async fn connection(inner: Arc<Inner>, tcp: TcpStream) {
    let Ok(ws) = tokio_tungstenite::accept_async(tcp).await else {
        return;
    };
    let (mut sink, mut stream) = ws.split();
    let (tx, mut rx) = unbounded_channel::<Outgoing>();
    let id = inner.update(|s| {
        s.gateway.next_connection += 1;
        s.gateway.next_connection
    });
    if super::log_enabled() {
        eprintln!("[fake-discord] gateway connection {id} opened");
    }
    let hello = json!({ "op": 10, "s": null, "t": null, "d": { "heartbeat_interval": HEARTBEAT_INTERVAL_MS } });
    if sink.send(Message::Text(hello.to_string())).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            out = rx.recv() => match out {
                Some(Outgoing::Text(text)) => {
                    if sink.send(Message::Text(text)).await.is_err() {
                        break;
                    }
                }
                Some(Outgoing::Close(code)) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: "fake Discord closed the connection".into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(Outgoing::Drop) | None => break,
            },
            incoming = stream.next() => match incoming {
                Some(Ok(Message::Text(text))) => inner.update(|s| client_frame(s, id, &tx, &text)),
                Some(Ok(Message::Binary(_))) => inner.update(|s| {
                    s.violations.push("gateway: client sent a binary frame; Discord expects JSON text".into());
                }),
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
        }
    }
    // Dropping both halves closes the socket; without a close frame when told to `Drop`.
    drop((sink, stream));
    if super::log_enabled() {
        eprintln!("[fake-discord] gateway connection {id} closed");
    }
    inner.update(|s| {
        if s.gateway.live.as_ref().is_some_and(|l| l.id == id) {
            s.gateway.live = None;
        }
    });
}

/// Handles one frame from the client.
fn client_frame(state: &mut State, connection: u64, tx: &UnboundedSender<Outgoing>, text: &str) {
    let Ok(frame) = serde_json::from_str::<Value>(text) else {
        state.violations.push(format!(
            "gateway: client sent text that is not JSON: {text:.80}"
        ));
        let _ = tx.send(Outgoing::Close(4002));
        return;
    };
    let op = frame["op"].as_u64().unwrap_or(u64::MAX);
    if super::log_enabled() && op != 1 {
        eprintln!("[fake-discord] gateway connection {connection} sent op {op}");
    }
    let live = state
        .gateway
        .live
        .as_ref()
        .is_some_and(|l| l.id == connection);
    match op {
        1 => {
            let _ = tx.send(Outgoing::Text(
                json!({ "op": 11, "s": null, "t": null, "d": null }).to_string(),
            ));
        }
        2 => identify(state, connection, tx, &frame["d"]),
        6 => resume(state, connection, tx, &frame["d"]),
        3 | 4 | 8 | 31 if !live => {
            state
                .violations
                .push(format!("gateway: op {op} sent before IDENTIFY/RESUME"));
            let _ = tx.send(Outgoing::Close(4003));
        }
        8 => members_chunk(state, &frame["d"]),
        3 | 4 | 31 => state.gateway.client_ops.push(op),
        _ => {
            state
                .violations
                .push(format!("gateway: unknown opcode {op} from client"));
            let _ = tx.send(Outgoing::Close(4001));
        }
    }
}

fn token_ok(d: &Value) -> bool {
    let token = d["token"].as_str().unwrap_or("");
    token == TOKEN || token.strip_prefix("Bot ") == Some(TOKEN)
}

/// Makes `connection` the live one, dropping any other.
fn go_live(state: &mut State, connection: u64, tx: &UnboundedSender<Outgoing>) {
    if let Some(old) = state.gateway.live.take() {
        if old.id != connection {
            let _ = old.tx.send(Outgoing::Drop);
        }
    }
    state.gateway.live = Some(LiveConnection {
        id: connection,
        tx: tx.clone(),
    });
}

fn identify(state: &mut State, connection: u64, tx: &UnboundedSender<Outgoing>, d: &Value) {
    if !token_ok(d) {
        state
            .violations
            .push("gateway: IDENTIFY with a wrong token".into());
        let _ = tx.send(Outgoing::Close(4004));
        return;
    }
    if state
        .gateway
        .live
        .as_ref()
        .is_some_and(|l| l.id == connection)
    {
        state
            .violations
            .push("gateway: IDENTIFY sent twice on one connection".into());
        let _ = tx.send(Outgoing::Close(4005));
        return;
    }
    let intents = d["intents"].as_u64().unwrap_or(0);
    // A privileged intent not switched on in the Developer Portal closes the connection with
    // 4014 "Disallowed intent(s)" (Gateway docs, "Privileged Intents" and close codes).
    let privileged = intents::GUILD_MEMBERS | intents::GUILD_PRESENCES | intents::MESSAGE_CONTENT;
    if intents & privileged & !state.world.privileged_intents != 0 {
        let _ = tx.send(Outgoing::Close(4014));
        return;
    }
    // Discord takes 50 to 250, and 50 when none is given.
    let large_threshold = d["large_threshold"]
        .as_u64()
        .map_or(50, |t| t.clamp(50, 250) as usize);
    state.gateway.identifies += 1;
    state.gateway.ready = false;
    let session_id = random_hex(32);
    state.gateway.session = Some(Session {
        id: session_id.clone(),
        intents,
        large_threshold,
        seq: 0,
        log: Vec::new(),
    });
    go_live(state, connection, tx);

    let guilds: Vec<Value> = state
        .world
        .guilds
        .keys()
        .map(|id| json!({ "id": id.to_string(), "unavailable": true }))
        .collect();
    let ready = json!({
        "v": 10,
        "user": state.world.current_user_json(),
        "guilds": guilds,
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": state.gateway_url.clone(),
        "shard": [0, 1],
        "application": { "id": APPLICATION_ID.to_string(), "flags": 0 },
        "private_channels": [],
        "relationships": [],
        "presences": [],
        "guild_join_requests": [],
        "geo_ordered_rtc_regions": ["fake"],
        "user_settings": {},
        "_trace": ["[\"fake-discord\",{\"micros\":0}]"],
    });
    dispatch(state, "READY", ready);
    let guild_ids: Vec<u64> = state.world.guilds.keys().copied().collect();
    for id in guild_ids {
        let payload = state
            .world
            .guild_create_json(&state.world.guilds[&id], large_threshold);
        dispatch(state, "GUILD_CREATE", payload);
    }
    for (t, d) in std::mem::take(&mut state.gateway.before_session) {
        dispatch(state, &t, d);
    }
    state.gateway.ready = true;
}

fn resume(state: &mut State, connection: u64, tx: &UnboundedSender<Outgoing>, d: &Value) {
    if !token_ok(d) {
        state
            .violations
            .push("gateway: RESUME with a wrong token".into());
        let _ = tx.send(Outgoing::Close(4004));
        return;
    }
    let seq = d["seq"].as_u64().unwrap_or(0);
    let resumable = state
        .gateway
        .session
        .as_ref()
        .is_some_and(|s| d["session_id"].as_str() == Some(s.id.as_str()) && seq <= s.seq);
    if !resumable {
        // Like Discord: "invalid session, not resumable"; the client identifies again.
        let _ = tx.send(Outgoing::Text(
            json!({ "op": 9, "s": null, "t": null, "d": false }).to_string(),
        ));
        return;
    }
    state.gateway.resumes += 1;
    go_live(state, connection, tx);
    if let Some(session) = &state.gateway.session {
        for (s, t, text) in &session.log {
            if *s > seq && t != "RESUMED" {
                let _ = tx.send(Outgoing::Text(text.clone()));
            }
        }
    }
    dispatch(
        state,
        "RESUMED",
        json!({ "_trace": ["[\"fake-discord\",{\"micros\":0}]"] }),
    );
    state.gateway.ready = true;
}

/// Answers REQUEST_GUILD_MEMBERS with one chunk of every member.
fn members_chunk(state: &mut State, d: &Value) {
    let Some(guild) = super::world::snowflake(&d["guild_id"]) else {
        return;
    };
    let Some(g) = state.world.guilds.get(&guild) else {
        return;
    };
    let members: Vec<Value> = g
        .members
        .keys()
        .map(|&u| state.world.member_json(guild, u, true, false))
        .collect();
    let chunk = json!({
        "guild_id": guild.to_string(),
        "members": members,
        "chunk_index": 0,
        "chunk_count": 1,
        "not_found": [],
        "nonce": d["nonce"],
    });
    dispatch(state, "GUILD_MEMBERS_CHUNK", chunk);
}

/// Whether the session's intents let this event through, and whether message content shows.
fn filter_by_intents(session_intents: u64, t: &str, d: &mut Value) -> bool {
    match t {
        "MESSAGE_CREATE" | "MESSAGE_UPDATE" | "MESSAGE_DELETE" => {
            let in_guild = !d["guild_id"].is_null();
            let needed = if in_guild {
                intents::GUILD_MESSAGES
            } else {
                intents::DIRECT_MESSAGES
            };
            if session_intents & needed == 0 {
                return false;
            }
            let by_bot = d["author"]["id"] == BOT_USER_ID.to_string().as_str();
            let mentions_bot = d["mentions"].as_array().is_some_and(|m| {
                m.iter()
                    .any(|u| u["id"] == BOT_USER_ID.to_string().as_str())
            });
            if in_guild
                && !by_bot
                && !mentions_bot
                && session_intents & intents::MESSAGE_CONTENT == 0
                && t != "MESSAGE_DELETE"
            {
                d["content"] = "".into();
                d["embeds"] = json!([]);
                d["attachments"] = json!([]);
                d["components"] = json!([]);
            }
            true
        }
        "GUILD_CREATE" | "CHANNEL_CREATE" | "CHANNEL_UPDATE" | "CHANNEL_DELETE"
        | "THREAD_CREATE" | "THREAD_UPDATE" | "THREAD_DELETE" => {
            session_intents & intents::GUILDS != 0 || t == "GUILD_CREATE"
        }
        "GUILD_ROLE_CREATE" | "GUILD_ROLE_UPDATE" => session_intents & intents::GUILDS != 0,
        "THREAD_MEMBERS_UPDATE" | "GUILD_MEMBER_ADD" | "GUILD_MEMBER_UPDATE" => {
            session_intents & intents::GUILD_MEMBERS != 0
        }
        _ => true,
    }
}

/// Sends (or queues) one dispatch event after checking that serenity can parse it.
pub fn dispatch(state: &mut State, t: &str, mut d: Value) {
    let Some(session) = state.gateway.session.as_mut() else {
        state.gateway.before_session.push((t.to_string(), d));
        return;
    };
    if !filter_by_intents(session.intents, t, &mut d) {
        state.gateway.withheld += 1;
        return;
    }
    session.seq += 1;
    let seq = session.seq;
    let payload = json!({ "op": 0, "s": seq, "t": t, "d": d });
    let text = payload.to_string();
    session.log.push((seq, t.to_string(), text.clone()));
    if super::log_enabled() {
        let to = state
            .gateway
            .live
            .as_ref()
            .map_or("queued".to_string(), |l| format!("connection {}", l.id));
        eprintln!("[fake-discord] gateway {t} s={seq} -> {to}");
    }
    if !super::should_check() {
        // Not sampled (benchmark only).
    } else if let Err(problem) = serenity_accepts(t, payload) {
        state
            .violations
            .push(format!("gateway {t} (seq {seq}): {problem}"));
    }
    if let Some(live) = &state.gateway.live {
        let _ = live.tx.send(Outgoing::Text(text));
    }
}

/// Parses a dispatch the way serenity's shard does, and the specific event type to name the
/// field serenity chokes on.
pub fn serenity_accepts(t: &str, payload: Value) -> Result<(), String> {
    use serenity::model::event::*;
    let specific = |d: &Value| -> Result<(), serde_json::Error> {
        let d = d.clone();
        match t {
            "READY" => serde_json::from_value::<ReadyEvent>(d).map(drop),
            "RESUMED" => serde_json::from_value::<ResumedEvent>(d).map(drop),
            "GUILD_CREATE" => serde_json::from_value::<GuildCreateEvent>(d).map(drop),
            "GUILD_MEMBER_ADD" => serde_json::from_value::<GuildMemberAddEvent>(d).map(drop),
            "GUILD_MEMBER_UPDATE" => serde_json::from_value::<GuildMemberUpdateEvent>(d).map(drop),
            "GUILD_ROLE_CREATE" => serde_json::from_value::<GuildRoleCreateEvent>(d).map(drop),
            "GUILD_ROLE_UPDATE" => serde_json::from_value::<GuildRoleUpdateEvent>(d).map(drop),
            "GUILD_MEMBERS_CHUNK" => serde_json::from_value::<GuildMembersChunkEvent>(d).map(drop),
            "MESSAGE_CREATE" => serde_json::from_value::<MessageCreateEvent>(d).map(drop),
            "MESSAGE_UPDATE" => serde_json::from_value::<MessageUpdateEvent>(d).map(drop),
            "MESSAGE_DELETE" => serde_json::from_value::<MessageDeleteEvent>(d).map(drop),
            "CHANNEL_CREATE" => serde_json::from_value::<ChannelCreateEvent>(d).map(drop),
            "CHANNEL_UPDATE" => serde_json::from_value::<ChannelUpdateEvent>(d).map(drop),
            "CHANNEL_DELETE" => serde_json::from_value::<ChannelDeleteEvent>(d).map(drop),
            "THREAD_CREATE" => serde_json::from_value::<ThreadCreateEvent>(d).map(drop),
            "THREAD_UPDATE" => serde_json::from_value::<ThreadUpdateEvent>(d).map(drop),
            "THREAD_DELETE" => serde_json::from_value::<ThreadDeleteEvent>(d).map(drop),
            "THREAD_MEMBERS_UPDATE" => {
                serde_json::from_value::<ThreadMembersUpdateEvent>(d).map(drop)
            }
            "INTERACTION_CREATE" => serde_json::from_value::<InteractionCreateEvent>(d).map(drop),
            _ => Ok(()),
        }
    };
    if let Err(e) = specific(&payload["d"]) {
        return Err(format!("serenity cannot parse it: {e}"));
    }
    match serde_json::from_value::<GatewayEvent>(payload) {
        Err(e) => Err(format!("serenity cannot parse the frame: {e}")),
        Ok(GatewayEvent::Dispatch(_, Event::Unknown(_))) => {
            Err("serenity treats it as an unknown event and drops it".to_string())
        }
        Ok(_) => Ok(()),
    }
}
