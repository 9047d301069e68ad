//! The desk's one way out to the chat: plain ids and plain values, no Discord types.
//!
//! A journey (opening a ticket, say) decides what to post where; `discord::port` carries it out,
//! once, for every journey: through the REST limiter, retried on 5xx, with the nonce enforced
//! (so a retry after a 5xx that Discord did act on returns the first message instead of a
//! second), text cut to Discord's 2,000 characters, and no mention allowed but the one
//! [`Post::ping_role`] names. Desk tests use [`recording::Recording`], which panics on any call
//! the test did not plan.

use async_trait::async_trait;

/// A message the desk wants posted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Post {
    pub text: String,
    /// Discord's nonce, enforced: the same nonce twice gives the first message back.
    pub nonce: Option<String>,
    /// The one role this message may ping (the agents, inside opening hours); `None` pings
    /// nobody whatever the text holds.
    pub ping_role: Option<u64>,
    pub buttons: Vec<Button>,
}

/// A button under a posted message; the adapter gives it its custom id and label.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Button {
    /// Claim, on a ticket's card in the agents' channel.
    Claim(i64),
    /// "Get updates by DM" on a crisis announcement: subscribe to its topic. Labelled in `lang`.
    Subscribe { topic: String, lang: String },
    /// Unsubscribe, on a direct message (which carries no server, so the button does).
    /// Labelled in `lang`.
    Unsubscribe {
        guild: u64,
        topic: String,
        lang: String,
    },
}

/// What came of a direct message.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dm {
    /// Delivered: the message's id.
    Sent(u64),
    /// Discord refuses the member direct messages (their DMs are closed to the server, or
    /// they share none with the bot): error 50007.
    Refused,
}

/// What the desk asks of the chat.
#[async_trait]
pub trait Port: Send + Sync {
    /// A private thread under `channel` that only those added (and staff who can manage
    /// threads) see. Returns its id.
    async fn open_private_thread(&self, channel: u64, name: &str) -> anyhow::Result<u64>;
    /// An active thread of the server, by parent and name: one a stopped process created and
    /// had no time to remember.
    async fn find_thread(&self, guild: u64, parent: u64, name: &str)
    -> anyhow::Result<Option<u64>>;
    /// Add a member to a thread (adding twice is harmless).
    async fn add_to_thread(&self, thread: u64, user: u64) -> anyhow::Result<()>;
    /// Post in a channel or thread. Returns the message's id.
    async fn post(&self, channel: u64, post: &Post) -> anyhow::Result<u64>;
    /// Replace a message's text (its buttons stay); nothing in the new text pings.
    async fn edit_message(&self, channel: u64, message: u64, text: &str) -> anyhow::Result<()>;
    /// Pin a message in its channel (needs Pin Messages: refused otherwise).
    async fn pin(&self, channel: u64, message: u64) -> anyhow::Result<()>;
    /// Unpin a message (unpinning one that is not pinned is harmless).
    async fn unpin(&self, channel: u64, message: u64) -> anyhow::Result<()>;
    /// Whether a channel is an announcement channel, whose messages can be published to the
    /// servers that follow it.
    async fn is_announcement_channel(&self, channel: u64) -> anyhow::Result<bool>;
    /// Publish a message of an announcement channel to the channels following it.
    async fn crosspost(&self, channel: u64, message: u64) -> anyhow::Result<()>;
    /// The direct-message channel with a member (opened even when their DMs are closed: only
    /// a message is refused). Returns its id.
    async fn open_dm(&self, user: u64) -> anyhow::Result<u64>;
    /// Post in a direct-message channel: sent, or refused by the member's settings.
    async fn post_dm(&self, channel: u64, post: &Post) -> anyhow::Result<Dm>;
}

#[cfg(test)]
pub mod recording {
    //! A [`Port`] that records every call and answers from a plan: a call the test did not plan,
    //! or made in another order, panics with what was asked.

    use std::collections::VecDeque;
    use std::sync::Mutex;

    use super::*;

    /// One call to the port, with its arguments.
    #[derive(Clone, Debug, PartialEq, Eq)]
    pub enum Call {
        OpenPrivateThread {
            channel: u64,
            name: String,
        },
        FindThread {
            guild: u64,
            parent: u64,
            name: String,
        },
        AddToThread {
            thread: u64,
            user: u64,
        },
        Post {
            channel: u64,
            post: Post,
        },
        EditMessage {
            channel: u64,
            message: u64,
            text: String,
        },
        Pin {
            channel: u64,
            message: u64,
        },
        Unpin {
            channel: u64,
            message: u64,
        },
        IsAnnouncementChannel {
            channel: u64,
        },
        Crosspost {
            channel: u64,
            message: u64,
        },
        OpenDm {
            user: u64,
        },
        PostDm {
            channel: u64,
            post: Post,
        },
    }

    impl Call {
        fn kind(&self) -> &'static str {
            match self {
                Call::OpenPrivateThread { .. } => "open_private_thread",
                Call::FindThread { .. } => "find_thread",
                Call::AddToThread { .. } => "add_to_thread",
                Call::Post { .. } => "post",
                Call::EditMessage { .. } => "edit_message",
                Call::Pin { .. } => "pin",
                Call::Unpin { .. } => "unpin",
                Call::IsAnnouncementChannel { .. } => "is_announcement_channel",
                Call::Crosspost { .. } => "crosspost",
                Call::OpenDm { .. } => "open_dm",
                Call::PostDm { .. } => "post_dm",
            }
        }
    }

    /// What a planned call answers.
    #[derive(Clone, Debug)]
    pub enum Answer {
        /// The new thread's or message's id (or, for `find_thread`, the one found).
        Id(u64),
        /// Nothing found, or nothing to return.
        Nothing,
        /// The chat refused or failed.
        Fail(&'static str),
        /// `is_announcement_channel`: yes, or no.
        Is(bool),
        /// `post_dm`: Discord refuses the member direct messages.
        DmsClosed,
    }

    #[derive(Default)]
    pub struct Recording {
        plan: Mutex<VecDeque<(&'static str, Answer)>>,
        calls: Mutex<Vec<Call>>,
    }

    impl Recording {
        pub fn new() -> Self {
            Self::default()
        }

        /// The next call must be of this kind (`"post"`, `"open_private_thread"`...), and
        /// answers this.
        pub fn then(self, kind: &'static str, answer: Answer) -> Self {
            self.plan.lock().unwrap().push_back((kind, answer));
            self
        }

        /// Every call made, in order.
        pub fn calls(&self) -> Vec<Call> {
            self.calls.lock().unwrap().clone()
        }

        /// The posts made, with where they went.
        pub fn posts(&self) -> Vec<(u64, Post)> {
            self.calls()
                .into_iter()
                .filter_map(|c| match c {
                    Call::Post { channel, post } => Some((channel, post)),
                    _ => None,
                })
                .collect()
        }

        /// Whether every planned call was made.
        pub fn all_made(&self) -> bool {
            self.plan.lock().unwrap().is_empty()
        }

        fn answer(&self, call: Call) -> anyhow::Result<Option<u64>> {
            let planned = self.plan.lock().unwrap().pop_front();
            let kind = call.kind();
            self.calls.lock().unwrap().push(call.clone());
            match planned {
                Some((k, answer)) if k == kind => match answer {
                    Answer::Id(id) => Ok(Some(id)),
                    Answer::Nothing => Ok(None),
                    Answer::Fail(why) => Err(anyhow::anyhow!(why)),
                    other => panic!("{call:?} cannot answer {other:?}"),
                },
                Some((k, _)) => panic!("unplanned call {call:?}: the plan expected {k} next"),
                None => panic!("unplanned call {call:?}: the plan was done"),
            }
        }

        /// Answers `Is` and `DmsClosed`, which the other calls cannot.
        fn answer_whole(&self, call: Call) -> anyhow::Result<Answer> {
            let planned = self.plan.lock().unwrap().pop_front();
            let kind = call.kind();
            self.calls.lock().unwrap().push(call.clone());
            match planned {
                Some((k, Answer::Fail(why))) if k == kind => Err(anyhow::anyhow!(why)),
                Some((k, answer)) if k == kind => Ok(answer),
                Some((k, _)) => panic!("unplanned call {call:?}: the plan expected {k} next"),
                None => panic!("unplanned call {call:?}: the plan was done"),
            }
        }

        /// The texts messages were edited to, with which message.
        pub fn edits(&self) -> Vec<(u64, String)> {
            self.calls()
                .into_iter()
                .filter_map(|c| match c {
                    Call::EditMessage { message, text, .. } => Some((message, text)),
                    _ => None,
                })
                .collect()
        }

        fn id(&self, call: Call) -> anyhow::Result<u64> {
            let answer = self.answer(call)?;
            Ok(answer.expect("a planned id"))
        }
    }

    #[async_trait]
    impl Port for Recording {
        async fn open_private_thread(&self, channel: u64, name: &str) -> anyhow::Result<u64> {
            self.id(Call::OpenPrivateThread {
                channel,
                name: name.to_string(),
            })
        }
        async fn find_thread(
            &self,
            guild: u64,
            parent: u64,
            name: &str,
        ) -> anyhow::Result<Option<u64>> {
            self.answer(Call::FindThread {
                guild,
                parent,
                name: name.to_string(),
            })
        }
        async fn add_to_thread(&self, thread: u64, user: u64) -> anyhow::Result<()> {
            self.answer(Call::AddToThread { thread, user }).map(|_| ())
        }
        async fn post(&self, channel: u64, post: &Post) -> anyhow::Result<u64> {
            self.id(Call::Post {
                channel,
                post: post.clone(),
            })
        }
        async fn edit_message(&self, channel: u64, message: u64, text: &str) -> anyhow::Result<()> {
            let text = text.to_string();
            self.answer(Call::EditMessage {
                channel,
                message,
                text,
            })
            .map(|_| ())
        }
        async fn pin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
            self.answer(Call::Pin { channel, message }).map(|_| ())
        }
        async fn unpin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
            self.answer(Call::Unpin { channel, message }).map(|_| ())
        }
        async fn is_announcement_channel(&self, channel: u64) -> anyhow::Result<bool> {
            match self.answer_whole(Call::IsAnnouncementChannel { channel })? {
                Answer::Is(is) => Ok(is),
                other => panic!("is_announcement_channel cannot answer {other:?}"),
            }
        }
        async fn crosspost(&self, channel: u64, message: u64) -> anyhow::Result<()> {
            self.answer(Call::Crosspost { channel, message })
                .map(|_| ())
        }
        async fn open_dm(&self, user: u64) -> anyhow::Result<u64> {
            self.id(Call::OpenDm { user })
        }
        async fn post_dm(&self, channel: u64, post: &Post) -> anyhow::Result<Dm> {
            let call = Call::PostDm {
                channel,
                post: post.clone(),
            };
            match self.answer_whole(call)? {
                Answer::Id(id) => Ok(Dm::Sent(id)),
                Answer::DmsClosed => Ok(Dm::Refused),
                other => panic!("post_dm cannot answer {other:?}"),
            }
        }
    }
}
