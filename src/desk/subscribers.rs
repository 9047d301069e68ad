//! Members who asked for a crisis's updates by direct message: subscribing (confirmed by a
//! DM, so they see at once whether DMs reach them), unsubscribing, and what the outbox sender
//! asks of the desk: its claims, their outcomes, the message each delivery sends, and the
//! moderator's progress report. Publishing an update, which fans it out to these members, is
//! `desk::publishing`; sending, paced under Discord's global limit, is the adapter's
//! (`discord::outbox`).

use super::crisis::{
    Crisis, CrisisLedger, CrisisUpdate, Delivery, EVERY_TOPIC, Outcome, Progress, Subscription,
    UpdateMark, check_topic,
};
use super::port::{Button, Dm, Edit, Port, Post};
use super::publishing::announcement_text;
use super::{Desk, Ledger, StoreError, now_ms};

/// A member asking for a topic's updates (`None`: every topic) by direct message.
#[derive(Clone, Copy, Debug)]
pub struct Subscribe<'a> {
    pub guild: u64,
    pub user: u64,
    pub topic: Option<&'a str>,
    /// The member's language: the confirmation and their updates' buttons are in it.
    pub lang: &'a str,
}

/// What came of subscribing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Subscribed {
    /// The topic is not one short word: what [`check_topic`] said.
    NotATopic(String),
    /// Discord opened no direct-message channel (`why`): nothing is stored. They are told to
    /// open their DMs, and where announcements are read (`news`).
    NoDmChannel { news: Option<u64>, why: String },
    /// Stored, but Discord refused the confirmation: their DMs are closed, and the fan-outs
    /// skip them until a later confirmation gets through.
    DmsClosed { news: Option<u64> },
    /// Subscribed, and the confirmation reached them.
    Subscribed { topic: Option<String> },
}

/// The moderator's delivery report: the counts so far, or the final report.
pub fn progress_text(title: &str, p: &Progress) -> String {
    let n = thousands;
    if p.finished() {
        format!(
            "Delivered “{title}”: {} delivered, {} refused (direct messages closed or member \
             gone), {} failed, of {}.",
            n(p.sent),
            n(p.refused),
            n(p.failed),
            n(p.total)
        )
    } else {
        format!(
            "Delivering “{title}”: {} of {} delivered · {} refused · {} failed",
            n(p.sent),
            n(p.total),
            n(p.refused),
            n(p.failed)
        )
    }
}

/// 10000 as "10,000", for the moderator's report.
fn thousands(n: i64) -> String {
    let digits = n.unsigned_abs().to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    if n < 0 { format!("-{out}") } else { out }
}

impl<L: Ledger + CrisisLedger> Desk<L> {
    /// Subscribe a member to a topic (`None`: every topic), and confirm it by direct message
    /// with an Unsubscribe button, so they see at once whether DMs reach them. Discord opens a
    /// DM channel even when the member's DMs are closed and refuses only the message: then
    /// they are recorded as unreachable, so fan-outs skip them.
    pub async fn subscribe(
        &self,
        port: &dyn Port,
        req: Subscribe<'_>,
    ) -> anyhow::Result<Subscribed> {
        let (l, lang) = (self.locales, req.lang);
        let topic = match req.topic.map(check_topic).transpose() {
            Ok(t) => t,
            Err(why) => return Ok(Subscribed::NotATopic(why)),
        };
        let news = self.settings(req.guild).await?.announce_channel;
        let dm = match port.open_dm(req.user).await {
            Ok(dm) => dm,
            Err(e) => {
                let why = format!("{e:#}");
                return Ok(Subscribed::NoDmChannel { news, why });
            }
        };
        let now = now_ms();
        let sub = Subscription {
            guild_id: req.guild,
            user_id: req.user,
            topic: topic.clone().unwrap_or_else(|| EVERY_TOPIC.into()),
            dm_channel_id: dm,
            lang: lang.to_string(),
            since_ms: now,
            dm_refused_at_ms: None,
        };
        let ledger = self.ledger();
        ledger.subscribe(&sub).await?;
        let server = ledger
            .server_name(req.guild)
            .await?
            .unwrap_or_else(|| l.get(lang, "crisis.this_server").to_string());
        let confirm = match &topic {
            Some(t) => l.fill(
                lang,
                "crisis.confirm_topic",
                &[("topic", t), ("server", &server)],
            ),
            None => l.fill(lang, "crisis.confirm_all", &[("server", &server)]),
        };
        let post = Post {
            text: confirm,
            nonce: Some(format!("u{now}")),
            buttons: vec![Button::Unsubscribe {
                guild: req.guild,
                topic: sub.topic.clone(),
                label: l.get(lang, "crisis.unsubscribe"),
            }],
            ..Post::default()
        };
        // The confirmation says, for every topic they follow, whether DMs reach them now.
        match port.post_dm(dm, &post).await? {
            Dm::Sent(_) => ledger.set_dm_refused(req.guild, req.user, None).await?,
            Dm::Closed => {
                ledger
                    .set_dm_refused(req.guild, req.user, Some(now))
                    .await?;
                return Ok(Subscribed::DmsClosed { news });
            }
        }
        Ok(Subscribed::Subscribed { topic })
    }

    /// Unsubscribe a member from a topic, or from everything (`None`, or `*`). Whether they
    /// had been subscribed.
    pub async fn unsubscribe(
        &self,
        guild: u64,
        user: u64,
        topic: Option<&str>,
    ) -> Result<bool, StoreError> {
        let topic = topic.filter(|t| *t != EVERY_TOPIC);
        Ok(self.ledger().unsubscribe(guild, user, topic).await? > 0)
    }

    /// Claim up to `limit` due deliveries for `lease_ms`, for one sender.
    pub async fn claim_deliveries(
        &self,
        lease_ms: i64,
        limit: i64,
    ) -> Result<Vec<Delivery>, StoreError> {
        self.ledger()
            .claim_deliveries(now_ms(), lease_ms, limit)
            .await
    }

    /// Record what became of a delivery's attempt.
    pub async fn finish_delivery(&self, id: i64, outcome: &Outcome) -> Result<(), StoreError> {
        self.ledger().finish_delivery(id, outcome, now_ms()).await
    }

    /// The crisis and update a delivery is for.
    pub async fn delivery_update(
        &self,
        update_id: i64,
    ) -> Result<Option<(Crisis, CrisisUpdate)>, StoreError> {
        self.ledger().crisis_update(update_id).await
    }

    /// The direct message a delivery sends: the update as announced, in a message whose nonce
    /// is the delivery's (the same on every attempt), with an Unsubscribe button in the
    /// member's language.
    pub fn direct_message(
        &self,
        delivery: &Delivery,
        crisis: &Crisis,
        update: &CrisisUpdate,
    ) -> Post {
        Post {
            text: announcement_text(crisis, update),
            nonce: Some(delivery.nonce()),
            buttons: vec![Button::Unsubscribe {
                guild: crisis.guild_id,
                topic: crisis.topic.clone(),
                label: self.locales.get(&delivery.lang, "crisis.unsubscribe"),
            }],
            ..Post::default()
        }
    }

    /// Keep each update's progress message current while it is delivered, then show the
    /// final report, once. Returns the edits Discord refused (each is tried again on the
    /// next pass).
    pub async fn report_progress(&self, port: &dyn Port) -> Result<Vec<anyhow::Error>, StoreError> {
        let ledger = self.ledger();
        let mut refused = Vec::new();
        for (crisis, update) in ledger.unfinished_updates().await? {
            let (Some(channel), Some(message), true) = (
                update.progress_channel_id,
                update.progress_message_id,
                update.fanned_out,
            ) else {
                continue;
            };
            let p = ledger.progress(update.id).await?;
            let text = progress_text(&crisis.title, &p);
            if let Err(e) = port.edit_message(channel, message, &Edit::text(text)).await {
                refused.push(e);
                continue;
            }
            if p.finished() {
                ledger.mark_update(update.id, UpdateMark::Reported).await?;
            }
        }
        Ok(refused)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::desk::port::recording::{Answer, Call, Recording};
    use crate::desk::publishing::tests::{
        ANNOUNCE, DM, GUILD, MEMBER, PROGRESS, desk, published, started, subscribed,
    };

    fn subscribe(topic: Option<&str>) -> Subscribe<'_> {
        Subscribe {
            guild: GUILD,
            user: MEMBER,
            topic,
            lang: "en",
        }
    }

    /// The calls a subscription makes when the confirmation gets through.
    fn confirms() -> Recording {
        Recording::new()
            .then("open_dm", Answer::Id(DM))
            .then("post_dm", Answer::Id(300))
    }

    #[tokio::test]
    async fn a_member_subscribes_with_a_confirmation_by_dm() {
        let desk = desk().await;
        let port = confirms();
        let done = desk
            .subscribe(&port, subscribe(Some("Payments")))
            .await
            .unwrap();
        assert_eq!(
            done,
            Subscribed::Subscribed {
                topic: Some("payments".into())
            }
        );
        assert_eq!(port.calls()[0], Call::OpenDm { user: MEMBER });
        let Call::PostDm { channel, post } = &port.calls()[1] else {
            panic!("{:?}", port.calls())
        };
        assert_eq!(*channel, DM);
        assert!(
            post.text
                .starts_with("You're subscribed to updates about payments on this server."),
            "{}",
            post.text
        );
        assert_eq!(
            post.buttons,
            [Button::Unsubscribe {
                guild: GUILD,
                topic: "payments".into(),
                label: "Unsubscribe"
            }]
        );
        assert!(post.nonce.as_deref().is_some_and(|n| n.starts_with('u')));
    }

    #[tokio::test]
    async fn a_member_subscribes_once() {
        let desk = desk().await;
        desk.subscribe(&confirms(), subscribe(Some("payments")))
            .await
            .unwrap();
        desk.subscribe(&confirms(), subscribe(Some("payments")))
            .await
            .unwrap();
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert_eq!(subs.len(), 1);
    }

    #[tokio::test]
    async fn a_member_without_a_topic_subscribes_to_every_topic() {
        let desk = desk().await;
        let done = desk.subscribe(&confirms(), subscribe(None)).await.unwrap();
        assert_eq!(done, Subscribed::Subscribed { topic: None });
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert_eq!(subs[0].topic, EVERY_TOPIC);
    }

    #[tokio::test]
    async fn subscribing_to_what_is_not_a_topic_is_refused() {
        let desk = desk().await;
        let done = desk
            .subscribe(&Recording::new(), subscribe(Some("a/b")))
            .await
            .unwrap();
        assert!(matches!(done, Subscribed::NotATopic(_)), "{done:?}");
    }

    #[tokio::test]
    async fn a_member_whose_dms_are_closed_is_told_and_skipped_by_fan_outs() {
        let desk = desk().await;
        let port = Recording::new()
            .then("open_dm", Answer::Id(DM))
            .then("post_dm", Answer::DmsClosed);
        let done = desk
            .subscribe(&port, subscribe(Some("payments")))
            .await
            .unwrap();
        assert_eq!(
            done,
            Subscribed::DmsClosed {
                news: Some(ANNOUNCE)
            }
        );
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert!(subs[0].dm_refused_at_ms.is_some());
        assert_eq!(published(started(&desk, "payments").await).2.deliveries, 0);
    }

    #[tokio::test]
    async fn a_member_with_no_dm_channel_is_told_and_not_subscribed() {
        let desk = desk().await;
        let port = Recording::new().then("open_dm", Answer::Fail("no such user"));
        let done = desk
            .subscribe(&port, subscribe(Some("payments")))
            .await
            .unwrap();
        assert_eq!(
            done,
            Subscribed::NoDmChannel {
                news: Some(ANNOUNCE),
                why: "no such user".into()
            }
        );
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert!(subs.is_empty());
    }

    #[tokio::test]
    async fn unsubscribing_from_every_topic_removes_them_all() {
        let desk = desk().await;
        subscribed(&desk, MEMBER, "payments").await;
        subscribed(&desk, MEMBER, "shipping").await;
        assert!(desk.unsubscribe(GUILD, MEMBER, Some("*")).await.unwrap());
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert!(subs.is_empty());
    }

    #[tokio::test]
    async fn unsubscribing_from_one_topic_keeps_the_others() {
        let desk = desk().await;
        subscribed(&desk, MEMBER, "payments").await;
        subscribed(&desk, MEMBER, "shipping").await;
        assert!(
            desk.unsubscribe(GUILD, MEMBER, Some("payments"))
                .await
                .unwrap()
        );
        let subs = desk.ledger().subscriptions_of(GUILD, MEMBER).await.unwrap();
        assert_eq!(subs.len(), 1);
        assert_eq!(subs[0].topic, "shipping");
    }

    #[tokio::test]
    async fn unsubscribing_without_a_subscription_says_so() {
        let desk = desk().await;
        assert!(!desk.unsubscribe(GUILD, MEMBER, None).await.unwrap());
    }

    #[tokio::test]
    async fn a_direct_message_carries_its_deliverys_nonce_and_an_unsubscribe_button() {
        let desk = desk().await;
        subscribed(&desk, MEMBER, "payments").await;
        started(&desk, "payments").await;
        let delivery = desk.claim_deliveries(15_000, 10).await.unwrap().remove(0);
        let (crisis, update) = desk
            .delivery_update(delivery.update_id)
            .await
            .unwrap()
            .unwrap();
        let post = desk.direct_message(&delivery, &crisis, &update);
        assert_eq!(post.text, announcement_text(&crisis, &update));
        assert_eq!(post.nonce, Some(delivery.nonce()));
        assert!(post.ping_roles.is_empty());
        assert_eq!(
            post.buttons,
            [Button::Unsubscribe {
                guild: GUILD,
                topic: "payments".into(),
                label: "Unsubscribe"
            }]
        );
    }

    #[tokio::test]
    async fn a_claimed_delivery_is_not_claimed_again_until_it_is_finished() {
        let desk = desk().await;
        subscribed(&desk, MEMBER, "payments").await;
        started(&desk, "payments").await;
        let claimed = desk.claim_deliveries(15_000, 10).await.unwrap();
        assert_eq!(claimed.len(), 1);
        assert!(desk.claim_deliveries(15_000, 10).await.unwrap().is_empty());
        let sent = Outcome::Sent { message_id: 5 };
        desk.finish_delivery(claimed[0].id, &sent).await.unwrap();
        assert!(desk.claim_deliveries(0, 10).await.unwrap().is_empty());
    }

    #[tokio::test]
    async fn the_progress_message_counts_deliveries_until_the_final_report() {
        let desk = desk().await;
        subscribed(&desk, MEMBER, "payments").await;
        started(&desk, "payments").await;
        let port = Recording::new().then("edit_message", Answer::Nothing);
        assert!(desk.report_progress(&port).await.unwrap().is_empty());
        assert_eq!(
            port.edited_texts(),
            [(
                PROGRESS,
                "Delivering “Card payments failing”: 0 of 1 delivered · 0 refused · 0 failed"
                    .to_string()
            )]
        );
    }

    #[tokio::test]
    async fn the_final_report_is_shown_once() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let port = Recording::new().then("edit_message", Answer::Nothing);
        desk.report_progress(&port).await.unwrap();
        assert!(
            port.edited_texts()[0].1.starts_with(
                "Delivered “Card payments failing”: 0 delivered, 0 refused (direct messages \
                 closed or member gone), 0 failed, of 0."
            ),
            "{:?}",
            port.edited_texts()
        );
        // Reported: nothing more to edit.
        desk.report_progress(&Recording::new()).await.unwrap();
    }

    #[tokio::test]
    async fn a_refused_progress_edit_is_tried_again_on_the_next_pass() {
        let desk = desk().await;
        started(&desk, "payments").await;
        let refusing = Recording::new().then("edit_message", Answer::Fail("503"));
        assert_eq!(desk.report_progress(&refusing).await.unwrap().len(), 1);
        let port = Recording::new().then("edit_message", Answer::Nothing);
        assert!(desk.report_progress(&port).await.unwrap().is_empty());
        assert!(port.all_made());
    }

    #[test]
    fn reports_read_like_numbers() {
        let cases = [
            (0, "0"),
            (999, "999"),
            (1000, "1,000"),
            (4210, "4,210"),
            (100000, "100,000"),
            (1234567, "1,234,567"),
        ];
        for (n, text) in cases {
            assert_eq!(thousands(n), text);
        }
    }
}
