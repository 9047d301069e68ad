//! Running a crisis (journey J4): starting, updating and ending it, and publishing each update.
//! The rules (what a crisis is, the status message's text, the outbox's states) are
//! `desk::crisis`; the members who get the updates by direct message are `desk::subscribers`;
//! this is what happens, in which order, through the [`Port`].
//!
//! Publishing an update is four steps, each done once and recorded before the next, so that a
//! stopped process (or a step Discord failed) is finished by [`Desk::resume_publishing`]
//! without posting twice:
//! 1. the moderator's progress message, posted first so a restart knows where to report;
//! 2. the status message: posted and pinned the first time, edited in place after (and
//!    unpinned when the crisis ends, freeing the pin for the next one);
//! 3. the announcement in the announcement channel, pinging the opt-in role, with a button to
//!    get the updates by DM, and published to following servers from an announcement channel;
//! 4. the fan-out: a delivery for every subscriber, written to the outbox in one transaction.
//!
//! Steps 1 to 3 post with enforced nonces of their crisis or update (`g`, `s`, `a`), so a
//! repeat after a crash gets Discord's first message back; their ids are stored as they come.

use super::crisis::{
    Crisis, CrisisLedger, CrisisUpdate, UpdateKind, UpdateMark, check_topic, status_message,
};
use super::port::{Button, Edit, MAX_TEXT, Port, Post};
use super::tickets::Actor;
use super::{Desk, Ledger, StoreError, now_ms};

/// A moderator starting a crisis.
#[derive(Clone, Debug)]
pub struct StartCrisis {
    pub by: Actor,
    /// Where the command was run: the delivery's progress shows there.
    pub channel: u64,
    /// The topic members subscribe to; `general` when none is named.
    pub topic: Option<String>,
    pub title: String,
    /// What is known now.
    pub status: String,
    /// The server's public status page, when the web pages are served.
    pub status_page: Option<String>,
}

/// A moderator updating or ending a running crisis.
#[derive(Clone, Debug)]
pub struct ChangeCrisis {
    pub by: Actor,
    /// Where the command was run: the delivery's progress shows there.
    pub channel: u64,
    /// Which crisis; may be left out while only one runs.
    pub topic: Option<String>,
    /// The update, or the closing note.
    pub text: String,
    /// The server's public status page, when the web pages are served.
    pub status_page: Option<String>,
}

/// What came of a moderator's crisis command.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CrisisOutcome {
    /// Only moderators run crises.
    NotAModerator,
    /// The server has no status channel for the status message.
    NoStatusChannel,
    /// The topic is not one short word: what [`check_topic`] said.
    NotATopic(String),
    /// A crisis runs on that topic already.
    AlreadyRunning { topic: String },
    /// An update or an end, with no crisis running.
    NoneRunning,
    /// An update or an end without a topic, or naming none of these running ones.
    NameTheTopic { running: Vec<String> },
    /// The crisis ended meanwhile.
    AlreadyEnded,
    /// Started, updated or ended, and published.
    Published {
        kind: UpdateKind,
        topic: String,
        /// Where the delivery's progress shows.
        progress_channel: u64,
        published: Published,
    },
}

/// Where a publication reports and what its status message links to.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Publish {
    /// Where the moderator watches the delivery; the agents' (else the status) channel when
    /// `None`.
    pub progress_channel: Option<u64>,
    /// The server's public status page, when the web pages are served.
    pub status_page: Option<String>,
}

/// An update published.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Published {
    /// How many deliveries (subscribers) it has.
    pub deliveries: i64,
    /// What Discord refused without stopping the publication (an unpin, a crosspost), for
    /// the log.
    pub warnings: Vec<String>,
}

/// An unfinished update [`Desk::resume_publishing`] took up, and what came of it.
#[derive(Debug)]
pub struct Resumed {
    pub crisis: i64,
    pub update: i64,
    pub result: anyhow::Result<Published>,
}

/// An update as announced and delivered: the crisis title, the update, the status link.
pub fn announcement_text(crisis: &Crisis, update: &CrisisUpdate) -> String {
    let head = match update.kind {
        UpdateKind::Start => format!("🔴 **{}**", crisis.title),
        UpdateKind::Update => format!("🟠 **{}**", crisis.title),
        UpdateKind::End => format!("✅ **Resolved: {}**", crisis.title),
    };
    let mut text = format!("{head}\n{}", update.text);
    if let Some(link) = crisis.status_link() {
        text.push_str(&format!("\n{link}"));
    }
    text
}

/// The topic a command named, checked; `Err` says what is wrong with it.
fn topic_of(topic: Option<&str>) -> Result<Option<String>, String> {
    topic.map(check_topic).transpose()
}

impl<L: Ledger + CrisisLedger> Desk<L> {
    /// Whether `by` may run a crisis on their server now: a moderator, with a status channel
    /// set up.
    async fn may_run_crises(&self, by: &Actor) -> Result<Option<CrisisOutcome>, StoreError> {
        if !by.is_moderator {
            return Ok(Some(CrisisOutcome::NotAModerator));
        }
        let settings = self.settings(by.guild_id).await?;
        Ok(settings
            .status_channel
            .is_none()
            .then_some(CrisisOutcome::NoStatusChannel))
    }

    /// Start a crisis on a topic and publish it: the status message posted and pinned, the
    /// announcement, the direct messages to the topic's subscribers.
    pub async fn start_crisis(
        &self,
        port: &dyn Port,
        req: StartCrisis,
    ) -> anyhow::Result<CrisisOutcome> {
        if let Some(refused) = self.may_run_crises(&req.by).await? {
            return Ok(refused);
        }
        let topic = match topic_of(req.topic.as_deref()) {
            Ok(t) => t.unwrap_or_else(|| "general".into()),
            Err(why) => return Ok(CrisisOutcome::NotATopic(why)),
        };
        let guild = req.by.guild_id;
        let started = self
            .ledger()
            .start_crisis(
                guild,
                &topic,
                &req.title,
                &req.status,
                req.by.user_id,
                now_ms(),
            )
            .await?;
        let Some((crisis, update)) = started else {
            return Ok(CrisisOutcome::AlreadyRunning { topic });
        };
        self.publish_new(port, crisis, update, req.channel, req.status_page)
            .await
    }

    /// Post an update of a running crisis: the status message edited, the announcement, the
    /// direct messages.
    pub async fn update_crisis(
        &self,
        port: &dyn Port,
        req: ChangeCrisis,
    ) -> anyhow::Result<CrisisOutcome> {
        self.change_crisis(port, UpdateKind::Update, req).await
    }

    /// End a running crisis with a closing note: the status message shows it resolved and is
    /// unpinned, the note is announced and delivered.
    pub async fn end_crisis(
        &self,
        port: &dyn Port,
        req: ChangeCrisis,
    ) -> anyhow::Result<CrisisOutcome> {
        self.change_crisis(port, UpdateKind::End, req).await
    }

    async fn change_crisis(
        &self,
        port: &dyn Port,
        kind: UpdateKind,
        req: ChangeCrisis,
    ) -> anyhow::Result<CrisisOutcome> {
        if let Some(refused) = self.may_run_crises(&req.by).await? {
            return Ok(refused);
        }
        let topic = match topic_of(req.topic.as_deref()) {
            Ok(t) => t,
            Err(why) => return Ok(CrisisOutcome::NotATopic(why)),
        };
        let guild = req.by.guild_id;
        let running = self.ledger().running_crises(guild).await?;
        // Which crisis: the one named, or the only one running.
        let crisis = match &topic {
            Some(t) => running.iter().find(|c| &c.topic == t),
            None if running.len() == 1 => running.first(),
            None => None,
        };
        let Some(crisis) = crisis else {
            return Ok(if running.is_empty() {
                CrisisOutcome::NoneRunning
            } else {
                CrisisOutcome::NameTheTopic {
                    running: running.into_iter().map(|c| c.topic).collect(),
                }
            });
        };
        let added = self
            .ledger()
            .add_update(crisis.id, kind, &req.text, req.by.user_id, now_ms())
            .await?;
        let Some((crisis, update)) = added else {
            return Ok(CrisisOutcome::AlreadyEnded);
        };
        self.publish_new(port, crisis, update, req.channel, req.status_page)
            .await
    }

    /// Publish an update just stored, reporting its progress where the command was run.
    async fn publish_new(
        &self,
        port: &dyn Port,
        crisis: Crisis,
        update: CrisisUpdate,
        channel: u64,
        status_page: Option<String>,
    ) -> anyhow::Result<CrisisOutcome> {
        // Answers and tickets read the crisis again: it started, changed or ended.
        self.forget_crises(crisis.guild_id);
        let to = Publish {
            progress_channel: Some(channel),
            status_page,
        };
        let published = self.publish(port, &crisis, &update, &to).await?;
        Ok(CrisisOutcome::Published {
            kind: update.kind,
            topic: crisis.topic,
            progress_channel: update.progress_channel_id.unwrap_or(channel),
            published,
        })
    }

    /// Show, announce and fan out one update, each step once (see the module's header): what
    /// an earlier try did is skipped.
    pub async fn publish(
        &self,
        port: &dyn Port,
        crisis: &Crisis,
        update: &CrisisUpdate,
        to: &Publish,
    ) -> anyhow::Result<Published> {
        let ledger = self.ledger();
        let settings = self.settings(crisis.guild_id).await?;
        let mut crisis = crisis.clone();
        let mut update = update.clone();
        let mut warnings = Vec::new();
        // Where the moderator watches: posted first, so a restart knows where to report.
        if update.progress_message_id.is_none()
            && let Some(channel) = to
                .progress_channel
                .or(settings.agents_channel)
                .or(settings.status_channel)
        {
            let post = Post {
                text: format!("Delivering “{}” to subscribers…", crisis.title),
                nonce: Some(format!("g{}", update.id)),
                ..Post::default()
            };
            let message = port.post(channel, &post).await?;
            let mark = UpdateMark::Progress {
                channel_id: channel,
                message_id: message,
            };
            ledger.mark_update(update.id, mark).await?;
            update.progress_channel_id = Some(channel);
            update.progress_message_id = Some(message);
        }
        if !update.status_done {
            self.show_crisis_status(port, &mut crisis, to.status_page.as_deref(), &mut warnings)
                .await?;
            let announced = self.announce(port, &crisis, &update, &mut warnings).await?;
            let mark = UpdateMark::Shown {
                announce_message_id: announced,
            };
            ledger.mark_update(update.id, mark).await?;
        }
        let deliveries = if update.fanned_out {
            ledger.progress(update.id).await?.total
        } else {
            ledger
                .fan_out(update.id, crisis.guild_id, &crisis.topic, now_ms())
                .await?
        };
        Ok(Published {
            deliveries,
            warnings,
        })
    }

    /// Post the status message the first time (and pin it), else edit it in place; unpinned
    /// when the crisis ends.
    async fn show_crisis_status(
        &self,
        port: &dyn Port,
        crisis: &mut Crisis,
        status_page: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<()> {
        let ledger = self.ledger();
        let updates = ledger.updates(crisis.id).await?;
        let text = status_message(crisis, &updates, status_page, MAX_TEXT);
        if let (Some(channel), Some(message)) = (crisis.status_channel_id, crisis.status_message_id)
        {
            port.edit_message(channel, message, &Edit::text(text))
                .await?;
            if crisis.ended_at_ms.is_some() {
                // Retired: the pin is freed for the next crisis. Unpinned twice is harmless,
                // and a pin left behind stops nothing: the ending goes on.
                if let Err(e) = port.unpin(channel, message).await {
                    warnings.push(format!(
                        "cannot unpin a resolved crisis's status message: {e:#}"
                    ));
                }
            }
            return Ok(());
        }
        let settings = self.settings(crisis.guild_id).await?;
        let channel = settings
            .status_channel
            .ok_or_else(|| anyhow::anyhow!("no status channel"))?;
        let post = Post {
            text,
            nonce: Some(format!("s{}", crisis.id)),
            ..Post::default()
        };
        let message = port.post(channel, &post).await?;
        // Pinned before it is remembered: a refused pin is tried again with the next update
        // (the nonce gives back the same message).
        port.pin(channel, message).await?;
        ledger
            .set_status_message(crisis.id, channel, message)
            .await?;
        crisis.status_channel_id = Some(channel);
        crisis.status_message_id = Some(message);
        // Answers and tickets link to it from now on.
        self.forget_crises(crisis.guild_id);
        Ok(())
    }

    /// Post the update to the announcement channel (and publish it to following servers from
    /// an announcement channel), pinging the opt-in role when there is one: one message
    /// reaches any number of members. Its id, when there is an announcement channel.
    async fn announce(
        &self,
        port: &dyn Port,
        crisis: &Crisis,
        update: &CrisisUpdate,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<Option<u64>> {
        if let Some(id) = update.announce_message_id {
            return Ok(Some(id));
        }
        let settings = self.settings(crisis.guild_id).await?;
        let Some(channel) = settings.announce_channel else {
            return Ok(None);
        };
        let mut text = announcement_text(crisis, update);
        if let Some(role) = settings.announce_role {
            text = format!("<@&{role}> {text}");
        }
        let post = Post {
            text,
            nonce: Some(format!("a{}", update.id)),
            ping_roles: settings.announce_role.into_iter().collect(),
            // The channel is everyone's, in no one language: the button is labelled in
            // English, as it always was.
            buttons: vec![Button::Subscribe {
                topic: crisis.topic.clone(),
                label: self.locales.get("en", "crisis.subscribe"),
            }],
            ..Post::default()
        };
        let message = port.post(channel, &post).await?;
        if port.is_announcement_channel(channel).await?
            && let Err(e) = port.crosspost(channel, message).await
        {
            // Published already (a repeat after a restart) or not allowed: the post stands.
            warnings.push(format!("cannot crosspost the announcement: {e:#}"));
        }
        Ok(Some(message))
    }

    /// Finish the updates a stopped process (or a failed step) left half-done: all of them
    /// with `min_age_ms` 0 (at start), later only those older than it, so a moderator's
    /// command still publishing its own update is not joined half-way. `status_page` gives a
    /// server's public status page, when the web pages are served.
    pub async fn resume_publishing(
        &self,
        port: &dyn Port,
        min_age_ms: i64,
        status_page: &(dyn Fn(u64) -> Option<String> + Sync),
    ) -> Result<Vec<Resumed>, StoreError> {
        let mut resumed = Vec::new();
        for (crisis, update) in self.ledger().unfinished_updates().await? {
            if (update.status_done && update.fanned_out) || now_ms() - update.at_ms < min_age_ms {
                continue;
            }
            let to = Publish {
                progress_channel: None,
                status_page: status_page(crisis.guild_id),
            };
            let result = self.publish(port, &crisis, &update, &to).await;
            resumed.push(Resumed {
                crisis: crisis.id,
                update: update.id,
                result,
            });
        }
        Ok(resumed)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    //! Also the setting of `desk::subscribers`'s tests.

    use super::*;
    use crate::desk::crisis::{EVERY_TOPIC, Subscription};
    use crate::desk::port::recording::{Answer, Call, Recording};
    pub(crate) use crate::desk::testing::set_up;
    use crate::store::Store;

    pub(crate) const GUILD: u64 = 1;
    pub(crate) const STATUS: u64 = 10;
    pub(crate) const ANNOUNCE: u64 = 11;
    pub(crate) const ANNOUNCE_ROLE: u64 = 12;
    pub(crate) const AGENTS: u64 = 13;
    /// Where the moderator ran the command.
    pub(crate) const HERE: u64 = 14;
    pub(crate) const MODERATOR: u64 = 20;
    pub(crate) const MEMBER: u64 = 30;
    pub(crate) const PROGRESS: u64 = 100;
    pub(crate) const STATUS_MESSAGE: u64 = 101;
    pub(crate) const ANNOUNCEMENT: u64 = 102;
    pub(crate) const DM: u64 = 200;

    /// A desk on a fresh in-memory SQLite database, with the status, announcement and agents
    /// channels and the announcement role set up.
    pub(crate) async fn desk() -> Desk<Store> {
        let desk = crate::desk::testing::empty_desk("").await;
        set_up(&desk, |s| {
            s.status_channel = Some(STATUS);
            s.announce_channel = Some(ANNOUNCE);
            s.announce_role = Some(ANNOUNCE_ROLE);
            s.agents_channel = Some(AGENTS);
        })
        .await;
        desk
    }

    fn moderator() -> Actor {
        Actor {
            user_id: MODERATOR,
            guild_id: GUILD,
            is_agent: false,
            is_moderator: true,
        }
    }

    fn start(topic: &str) -> StartCrisis {
        StartCrisis {
            by: moderator(),
            channel: HERE,
            topic: Some(topic.into()),
            title: "Card payments failing".into(),
            status: "We are on it.".into(),
            status_page: None,
        }
    }

    fn change(topic: Option<&str>, text: &str) -> ChangeCrisis {
        ChangeCrisis {
            by: moderator(),
            channel: HERE,
            topic: topic.map(String::from),
            text: text.into(),
            status_page: None,
        }
    }

    /// The calls a crisis's start makes, each answering as Discord would, into a channel that
    /// is not an announcement channel.
    fn starts() -> Recording {
        Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT))
            .then("is_announcement_channel", Answer::Is(false))
    }

    /// The calls an update makes once the status message exists.
    fn updates() -> Recording {
        Recording::new()
            .then("post", Answer::Id(PROGRESS + 1))
            .then("edit_message", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT + 1))
            .then("is_announcement_channel", Answer::Is(false))
    }

    /// A crisis on `topic`, started and published.
    pub(crate) async fn started(desk: &Desk<Store>, topic: &str) -> CrisisOutcome {
        let port = starts();
        let outcome = desk.start_crisis(&port, start(topic)).await.unwrap();
        assert!(port.all_made());
        outcome
    }

    pub(crate) fn published(outcome: CrisisOutcome) -> (UpdateKind, String, Published) {
        match outcome {
            CrisisOutcome::Published {
                kind,
                topic,
                published,
                ..
            } => (kind, topic, published),
            other => panic!("not published: {other:?}"),
        }
    }

    /// `user` subscribed to `topic` as the confirmation would leave them: reachable.
    pub(crate) async fn subscribed(desk: &Desk<Store>, user: u64, topic: &str) {
        let sub = Subscription {
            guild_id: GUILD,
            user_id: user,
            topic: topic.into(),
            dm_channel_id: DM + user,
            lang: "en".into(),
            since_ms: now_ms(),
            dm_refused_at_ms: None,
        };
        desk.ledger().subscribe(&sub).await.unwrap();
    }

    #[tokio::test]
    async fn only_moderators_start_a_crisis() {
        let desk = desk().await;
        let req = StartCrisis {
            by: Actor {
                is_moderator: false,
                ..moderator()
            },
            ..start("payments")
        };
        // Any call to Discord would panic: none is planned.
        let outcome = desk.start_crisis(&Recording::new(), req).await.unwrap();
        assert_eq!(outcome, CrisisOutcome::NotAModerator);
    }

    #[tokio::test]
    async fn a_crisis_needs_a_status_channel_first() {
        let desk = desk().await;
        set_up(&desk, |s| s.status_channel = None).await;
        let outcome = desk
            .start_crisis(&Recording::new(), start("payments"))
            .await
            .unwrap();
        assert_eq!(outcome, CrisisOutcome::NoStatusChannel);
    }

    #[tokio::test]
    async fn a_topic_is_one_short_word() {
        let desk = desk().await;
        let outcome = desk
            .start_crisis(&Recording::new(), start("two words"))
            .await
            .unwrap();
        assert!(
            matches!(&outcome, CrisisOutcome::NotATopic(why) if why.contains("one short word")),
            "{outcome:?}"
        );
    }

    #[tokio::test]
    async fn a_crisis_without_a_topic_is_about_general() {
        let desk = desk().await;
        let req = StartCrisis {
            topic: None,
            ..start("")
        };
        let outcome = desk.start_crisis(&starts(), req).await.unwrap();
        assert_eq!(published(outcome).1, "general");
    }

    #[tokio::test]
    async fn a_crisis_starts_with_the_progress_then_the_pinned_status_then_the_announcement() {
        let desk = desk().await;
        let port = starts();
        let outcome = desk.start_crisis(&port, start("payments")).await.unwrap();
        assert_eq!(
            outcome,
            CrisisOutcome::Published {
                kind: UpdateKind::Start,
                topic: "payments".into(),
                progress_channel: HERE,
                published: Published {
                    deliveries: 0,
                    warnings: vec![]
                },
            }
        );
        let posts = port.posts();
        let channels: Vec<u64> = posts.iter().map(|(c, _)| *c).collect();
        assert_eq!(channels, [HERE, STATUS, ANNOUNCE]);
        assert_eq!(
            posts[0].1.text,
            "Delivering “Card payments failing” to subscribers…"
        );
        let status = &posts[1].1;
        assert!(
            status
                .text
                .starts_with("🔴 **Card payments failing**\nWe are on it."),
            "{}",
            status.text
        );
        assert!(status.ping_roles.is_empty());
        assert_eq!(
            port.calls()[2],
            Call::Pin {
                channel: STATUS,
                message: STATUS_MESSAGE
            }
        );
        let crisis = desk.ledger().running_crises(GUILD).await.unwrap().remove(0);
        assert_eq!(
            (crisis.status_channel_id, crisis.status_message_id),
            (Some(STATUS), Some(STATUS_MESSAGE))
        );
        // Each post carries the nonce of its crisis or update: a repeat is Discord's first.
        let nonces: Vec<String> = posts.iter().filter_map(|(_, p)| p.nonce.clone()).collect();
        assert_eq!(nonces, ["g1", format!("s{}", crisis.id).as_str(), "a1"]);
    }

    #[tokio::test]
    async fn the_announcement_pings_the_opt_in_role_links_the_status_and_offers_updates_by_dm() {
        let desk = desk().await;
        let port = starts();
        desk.start_crisis(&port, start("payments")).await.unwrap();
        let (_, announcement) = &port.posts()[2];
        assert!(
            announcement.text.starts_with(&format!(
                "<@&{ANNOUNCE_ROLE}> 🔴 **Card payments failing**\nWe are on it."
            )),
            "{}",
            announcement.text
        );
        assert!(
            announcement
                .text
                .ends_with(&crate::desk::message_link(GUILD, STATUS, STATUS_MESSAGE)),
            "{}",
            announcement.text
        );
        assert_eq!(announcement.ping_roles, vec![ANNOUNCE_ROLE]);
        assert_eq!(
            announcement.buttons,
            [Button::Subscribe {
                topic: "payments".into(),
                label: "Get updates by DM"
            }]
        );
    }

    #[tokio::test]
    async fn without_an_opt_in_role_the_announcement_pings_nobody() {
        let desk = desk().await;
        set_up(&desk, |s| s.announce_role = None).await;
        let port = starts();
        desk.start_crisis(&port, start("payments")).await.unwrap();
        let (_, announcement) = &port.posts()[2];
        assert!(
            announcement.text.starts_with("🔴 "),
            "{}",
            announcement.text
        );
        assert!(announcement.ping_roles.is_empty());
    }

    #[tokio::test]
    async fn without_an_announcement_channel_nothing_is_announced() {
        let desk = desk().await;
        set_up(&desk, |s| s.announce_channel = None).await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing);
        published(desk.start_crisis(&port, start("payments")).await.unwrap());
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn an_announcement_in_an_announcement_channel_is_published_to_its_followers() {
        let desk = desk().await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT))
            .then("is_announcement_channel", Answer::Is(true))
            .then("crosspost", Answer::Nothing);
        desk.start_crisis(&port, start("payments")).await.unwrap();
        assert_eq!(
            port.calls().last(),
            Some(&Call::Crosspost {
                channel: ANNOUNCE,
                message: ANNOUNCEMENT
            })
        );
    }

    #[tokio::test]
    async fn a_refused_crosspost_leaves_the_announcement_standing() {
        let desk = desk().await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT))
            .then("is_announcement_channel", Answer::Is(true))
            .then("crosspost", Answer::Fail("already crossposted"));
        let (_, _, published) =
            published(desk.start_crisis(&port, start("payments")).await.unwrap());
        assert_eq!(
            published.warnings,
            ["cannot crosspost the announcement: already crossposted"]
        );
        let unfinished = desk.ledger().unfinished_updates().await.unwrap();
        assert!(unfinished[0].1.status_done);
    }

    #[tokio::test]
    async fn the_status_message_links_the_public_status_page() {
        let desk = desk().await;
        let port = starts();
        let req = StartCrisis {
            status_page: Some("https://status.example.com/status/1".into()),
            ..start("payments")
        };
        desk.start_crisis(&port, req).await.unwrap();
        let (_, status) = &port.posts()[1];
        assert!(
            status
                .text
                .contains("🌐 https://status.example.com/status/1"),
            "{}",
            status.text
        );
    }

    #[tokio::test]
    async fn a_second_crisis_on_a_running_topic_is_refused() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let outcome = desk
            .start_crisis(&Recording::new(), start("payments"))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            CrisisOutcome::AlreadyRunning {
                topic: "payments".into()
            }
        );
    }

    #[tokio::test]
    async fn an_update_edits_the_status_message_then_posts_the_announcement() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let port = updates();
        let outcome = desk
            .update_crisis(&port, change(None, "A fix is rolling out."))
            .await
            .unwrap();
        assert_eq!(published(outcome).0, UpdateKind::Update);
        let edits = port.edited_texts();
        assert_eq!(edits.len(), 1);
        assert_eq!(edits[0].0, STATUS_MESSAGE);
        assert!(
            edits[0].1.contains("A fix is rolling out."),
            "{}",
            edits[0].1
        );
        assert!(edits[0].1.contains("We are on it."), "history kept");
        let (channel, announcement) = &port.posts()[1];
        assert_eq!(*channel, ANNOUNCE);
        assert!(
            announcement
                .text
                .contains("🟠 **Card payments failing**\nA fix is rolling out."),
            "{}",
            announcement.text
        );
    }

    #[tokio::test]
    async fn an_update_with_no_crisis_running_says_so() {
        let desk = desk().await;
        let outcome = desk
            .update_crisis(&Recording::new(), change(None, "news"))
            .await
            .unwrap();
        assert_eq!(outcome, CrisisOutcome::NoneRunning);
    }

    #[tokio::test]
    async fn an_update_without_a_topic_while_two_crises_run_asks_which() {
        let desk = desk().await;
        started(&desk, "payments").await;
        started(&desk, "shipping").await;
        let outcome = desk
            .update_crisis(&Recording::new(), change(None, "news"))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            CrisisOutcome::NameTheTopic {
                running: vec!["payments".into(), "shipping".into()]
            }
        );
    }

    #[tokio::test]
    async fn an_update_naming_a_topic_that_is_not_running_asks_which() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let outcome = desk
            .update_crisis(&Recording::new(), change(Some("login"), "news"))
            .await
            .unwrap();
        assert_eq!(
            outcome,
            CrisisOutcome::NameTheTopic {
                running: vec!["payments".into()]
            }
        );
    }

    #[tokio::test]
    async fn an_update_goes_to_the_crisis_its_topic_names() {
        let desk = desk().await;
        started(&desk, "payments").await;
        started(&desk, "shipping").await;
        let outcome = desk
            .update_crisis(&updates(), change(Some("Shipping"), "Parcels move again."))
            .await
            .unwrap();
        assert_eq!(published(outcome).1, "shipping");
    }

    #[tokio::test]
    async fn ending_a_crisis_edits_its_status_message_and_unpins_it() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS + 1))
            .then("edit_message", Answer::Nothing)
            .then("unpin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT + 1))
            .then("is_announcement_channel", Answer::Is(false));
        let outcome = desk
            .end_crisis(&port, change(None, "All payments work again."))
            .await
            .unwrap();
        assert_eq!(published(outcome).0, UpdateKind::End);
        let (_, text) = &port.edited_texts()[0];
        assert!(
            text.starts_with("✅ **Resolved: Card payments failing**\nAll payments work again."),
            "{text}"
        );
        assert_eq!(
            port.calls()[2],
            Call::Unpin {
                channel: STATUS,
                message: STATUS_MESSAGE
            }
        );
        assert!(desk.running_crises(GUILD).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn a_refused_unpin_does_not_stop_the_ending() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS + 1))
            .then("edit_message", Answer::Nothing)
            .then("unpin", Answer::Fail("403 Missing Permissions"))
            .then("post", Answer::Id(ANNOUNCEMENT + 1))
            .then("is_announcement_channel", Answer::Is(false));
        let outcome = desk.end_crisis(&port, change(None, "Done.")).await.unwrap();
        assert_eq!(
            published(outcome).2.warnings,
            ["cannot unpin a resolved crisis's status message: 403 Missing Permissions"]
        );
        assert!(port.all_made());
    }

    #[tokio::test]
    async fn the_announcement_of_an_ending_says_resolved() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let port = Recording::new()
            .then("post", Answer::Id(PROGRESS + 1))
            .then("edit_message", Answer::Nothing)
            .then("unpin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT + 1))
            .then("is_announcement_channel", Answer::Is(false));
        desk.end_crisis(&port, change(None, "Done.")).await.unwrap();
        let (_, announcement) = &port.posts()[1];
        assert!(
            announcement
                .text
                .contains("✅ **Resolved: Card payments failing**\nDone."),
            "{}",
            announcement.text
        );
    }

    #[tokio::test]
    async fn an_update_is_delivered_to_the_topics_subscribers_and_those_of_every_topic() {
        let desk = desk().await;
        subscribed(&desk, 31, "payments").await;
        subscribed(&desk, 32, EVERY_TOPIC).await;
        subscribed(&desk, 33, "shipping").await;
        let (_, _, published) = published(started(&desk, "payments").await);
        assert_eq!(published.deliveries, 2);
    }

    #[tokio::test]
    async fn a_publication_stopped_midway_resumes_without_posting_twice() {
        let desk = desk().await;
        let failing = Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing)
            .then("post", Answer::Fail("503 Service Unavailable"));
        assert!(
            desk.start_crisis(&failing, start("payments"))
                .await
                .is_err()
        );
        // Neither the progress nor the status message again: the status is edited in place,
        // and the announcement is tried with the nonce the first try used.
        let port = Recording::new()
            .then("edit_message", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT))
            .then("is_announcement_channel", Answer::Is(false));
        let resumed = desk.resume_publishing(&port, 0, &|_| None).await.unwrap();
        assert_eq!(resumed.len(), 1);
        assert!(resumed[0].result.is_ok(), "{:?}", resumed[0].result);
        assert_eq!(port.edited_texts()[0].0, STATUS_MESSAGE);
        assert_eq!(port.posts()[0].0, ANNOUNCE);
        assert_eq!(port.posts()[0].1.nonce.as_deref(), Some("a1"));
        let (_, update) = desk.ledger().unfinished_updates().await.unwrap().remove(0);
        assert!(update.status_done && update.fanned_out);
    }

    #[tokio::test]
    async fn a_refused_pin_is_tried_again_on_the_same_status_message() {
        let desk = desk().await;
        let failing = Recording::new()
            .then("post", Answer::Id(PROGRESS))
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Fail("403 Missing Permissions"));
        assert!(
            desk.start_crisis(&failing, start("payments"))
                .await
                .is_err()
        );
        let port = Recording::new()
            .then("post", Answer::Id(STATUS_MESSAGE))
            .then("pin", Answer::Nothing)
            .then("post", Answer::Id(ANNOUNCEMENT))
            .then("is_announcement_channel", Answer::Is(false));
        desk.resume_publishing(&port, 0, &|_| None).await.unwrap();
        let crisis = desk.ledger().running_crises(GUILD).await.unwrap().remove(0);
        assert_eq!(port.posts()[0].1.nonce, Some(format!("s{}", crisis.id)));
        assert_eq!(crisis.status_message_id, Some(STATUS_MESSAGE));
    }

    #[tokio::test]
    async fn a_resumed_publication_reports_in_the_agents_channel() {
        let desk = desk().await;
        let failing = Recording::new().then("post", Answer::Fail("connection reset"));
        assert!(
            desk.start_crisis(&failing, start("payments"))
                .await
                .is_err()
        );
        let port = starts();
        let page = |guild| Some(format!("https://status.example.com/status/{guild}"));
        desk.resume_publishing(&port, 0, &page).await.unwrap();
        let posts = port.posts();
        assert_eq!(posts[0].0, AGENTS);
        assert!(
            posts[1]
                .1
                .text
                .contains("🌐 https://status.example.com/status/1")
        );
    }

    #[tokio::test]
    async fn a_finished_publication_is_not_resumed() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let resumed = desk
            .resume_publishing(&Recording::new(), 0, &|_| None)
            .await
            .unwrap();
        assert!(resumed.is_empty());
    }

    #[tokio::test]
    async fn a_young_unfinished_publication_is_left_to_its_command() {
        let desk = desk().await;
        let failing = Recording::new().then("post", Answer::Fail("connection reset"));
        assert!(
            desk.start_crisis(&failing, start("payments"))
                .await
                .is_err()
        );
        let resumed = desk
            .resume_publishing(&Recording::new(), 60_000, &|_| None)
            .await
            .unwrap();
        assert!(resumed.is_empty());
    }
}
