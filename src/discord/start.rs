//! Starting the bot: the knowledge base and saved replies loaded, the database opened and
//! migrated, the REST gate and the clients behind it, the outbox, the gateway; and stopping it
//! without losing what was in flight. `send_only` is the same without a gateway (an outbox
//! process beside the shards).

use super::*;

/// Saved replies live in `replies/` inside the knowledge-base folder.
pub fn load_replies(kb_dir: &std::path::Path) -> Result<SavedReplies, Vec<intents::Problem>> {
    SavedReplies::load_dir(&kb_dir.join("replies"))
}

/// Load and train the FAQ off the async threads (training takes a moment).
pub async fn load_faq(dir: PathBuf, thresholds: Thresholds) -> Result<Faq, LoadError> {
    tokio::task::spawn_blocking(move || intents::load_dir(&dir).map(|kb| Faq::new(kb, thresholds)))
        .await
        .unwrap_or_else(|e| std::panic::resume_unwind(e.into_panic()))
}

/// Gateway intents: message content is privileged and only needed for help channels and forums.
pub fn intents() -> GatewayIntents {
    GatewayIntents::GUILDS | GatewayIntents::GUILD_MESSAGES | GatewayIntents::MESSAGE_CONTENT
}

/// serenity's HTTP client for `base`: the REST gate (see [`gate`]), or for a one-off tool the
/// configured API itself. serenity's own limiter is off: it would send to discord.com whatever
/// the base, and the gate limits everything together.
pub fn http_client(config: &Config, base: &str) -> anyhow::Result<Http> {
    // The token's absence is said as the configuration says it (what to set, where).
    let token = config.token().map_err(anyhow::Error::msg)?;
    let base = base.trim_end_matches('/');
    let builder = HttpBuilder::new(token.expose()).ratelimiter_disabled(true);
    Ok(if base == DISCORD_API {
        builder.build()
    } else {
        builder.proxy(base).build()
    })
}

/// Start the REST gate in front of the configured API.
async fn start_gate(config: &Config) -> anyhow::Result<gate::Gate> {
    gate::Gate::start(
        &config.discord.api_url,
        config.discord.rest_per_second,
        Duration::from_secs(u64::from(config.discord.retry_minutes) * 60),
    )
    .await
    .context("cannot start the REST limiter")
}

/// Run the bot until `shutdown` resolves (or the gateway fails for good). SIGHUP reloads the
/// knowledge base.
pub async fn run(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let gate = start_gate(&config).await?;
    let http =
        http_client(&config, &gate.base(gate::Class::Interactive)).context("the REST client")?;
    info!(api = %config.discord.api_url, "checking the token with Discord");
    let me = http.get_current_user().await.map_err(|e| {
        let refused = matches!(&e, serenity::Error::Http(h) if h.status_code().is_some_and(|s| s.as_u16() == 401));
        if refused {
            anyhow!(
                "Discord refused the token (401 Unauthorized): copy a fresh one from \
                 https://discord.com/developers/applications (your app > Bot > Reset Token) \
                 into DISCORD_TOKEN."
            )
        } else {
            anyhow!(
                "cannot reach Discord at {}: {e}",
                config.discord.api_url.trim_end_matches('/')
            )
        }
    })?;
    info!(bot = %me.name, id = %me.id, "token accepted");

    // What can fail without writing anything is checked before the database is opened: the
    // knowledge base, the saved replies and the web ports.
    let (faq, replies) = load_knowledge(&config).await?;
    let listeners = if config.web.enabled() {
        Some(crate::web::bind(&config.web).await?)
    } else {
        None
    };

    let (store, applied) = open_store(&config).await?;
    info!(backend = ?store.backend(), applied, "database ready");
    let mut bot = Bot::new(&config, store.clone(), faq, replies);
    let web = match listeners {
        Some(listeners) => {
            let gateway = Some(bot.gateway_up.clone());
            let served = listeners.serve(store.clone(), gateway).await?;
            // Links and status pages only where the public pages are served, not for an ops
            // listener alone.
            if served.addr.is_some() {
                bot.web = Some(served.handle);
            }
            Some(served.task)
        }
        None => None,
    };
    let bot = Arc::new(bot);
    // The outbox needs no gateway: it starts at once and delivers what a stopped process left.
    let outbox = spawn_outbox(&bot, &config, &gate)?;
    let mut client = serenity::all::ClientBuilder::new_with_http(http, intents())
        .event_handler(Handler(bot.clone()))
        .await
        .context("cannot start the Discord client")?;
    let shards = client.shard_manager.clone();

    #[cfg(unix)]
    let hangups = {
        let bot = bot.clone();
        let mut hup = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::hangup())?;
        tokio::spawn(async move {
            while hup.recv().await.is_some() {
                match bot.reload().await {
                    Ok(s) => info!(
                        intents = s.intents,
                        examples = s.examples,
                        "SIGHUP: knowledge base reloaded"
                    ),
                    Err(e) => error!(
                        "SIGHUP: new knowledge base refused, the old one keeps answering: {e}"
                    ),
                }
            }
        })
    };

    let result = tokio::select! {
        r = client.start() => r.map_err(|e| match e {
            serenity::Error::Gateway(serenity::gateway::GatewayError::InvalidAuthentication) => anyhow!(
                "Discord refused the token at the gateway: copy a fresh one into DISCORD_TOKEN."),
            serenity::Error::Gateway(serenity::gateway::GatewayError::DisallowedGatewayIntents) => anyhow!(
                "Discord refused the Message Content intent: switch it on at \
                 https://discord.com/developers/applications (your app > Bot > Privileged Gateway Intents)."),
            other => anyhow!("Discord connection failed: {other}"),
        }),
        () = shutdown => {
            info!("shutting down");
            shards.shutdown_all().await;
            Ok(())
        }
    };
    #[cfg(unix)]
    hangups.abort();
    if let Some(timers) = bot.timers.lock().unwrap_or_else(|e| e.into_inner()).take() {
        timers.abort();
    }
    if let Some(web) = web {
        web.abort();
    }
    stop(&bot, outbox, store).await;
    info!("stopped");
    result
}

/// The knowledge base and the saved replies, loaded and checked; nothing is written.
async fn load_knowledge(config: &Config) -> anyhow::Result<(Faq, SavedReplies)> {
    let started = std::time::Instant::now();
    let dir = &config.knowledge_base.dir;
    let faq = load_faq(dir.clone(), thresholds(config.answers.threshold))
        .await
        .with_context(|| dir.display().to_string())?;
    let stats = KbStats::of(&faq);
    info!(
        intents = stats.intents,
        examples = stats.examples,
        ms = started.elapsed().as_millis() as u64,
        "knowledge base loaded"
    );
    let replies = load_replies(dir).map_err(|problems| LoadError { problems })?;
    info!(replies = replies.len(), "saved replies loaded");
    Ok((faq, replies))
}

/// The outbox sender: serenity's client for the interactive calls it makes (progress reports),
/// its own sender for the direct messages, both through the gate.
fn spawn_outbox(
    bot: &Arc<Bot>,
    config: &Config,
    gate: &gate::Gate,
) -> anyhow::Result<tokio::task::JoinHandle<()>> {
    let http =
        http_client(config, &gate.base(gate::Class::Interactive)).context("the REST client")?;
    let sender = outbox::Sender::new(config, &gate.base(gate::Class::Bulk))?;
    Ok(outbox::spawn(
        bot.clone(),
        Arc::new(http),
        sender,
        config.announcements.dm_rate_per_second,
    ))
}

/// Stop the outbox sender, say what it sent, and close the database.
async fn stop(bot: &Bot, outbox: tokio::task::JoinHandle<()>, store: Store) {
    outbox.abort();
    let sent = bot.outbox_sent.load(Ordering::Relaxed);
    info!(sent, "outbox sender stopped");
    store.close().await;
}

/// The database, connected and migrated, with how many migrations were applied now.
async fn open_store(config: &Config) -> anyhow::Result<(Store, usize)> {
    let store = Store::connect(&config.database.url).await?;
    let applied = store.migrate().await?;
    Ok((store, applied))
}

/// Deliver the outbox only, until `shutdown` resolves: no gateway, no commands. Several of
/// these share one PostgreSQL outbox.
pub async fn send_only(config: Config, shutdown: impl Future<Output = ()>) -> anyhow::Result<()> {
    let gate = start_gate(&config).await?;
    let (faq, replies) = load_knowledge(&config).await?;
    let (store, _) = open_store(&config).await?;
    let bot = Arc::new(Bot::new(&config, store.clone(), faq, replies));
    let outbox = spawn_outbox(&bot, &config, &gate)?;
    info!("delivering the outbox (no gateway)");
    shutdown.await;
    stop(&bot, outbox, store).await;
    Ok(())
}
