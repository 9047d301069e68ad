//! The desk's one way out to the chat: plain ids and plain values, no Discord types.
//!
//! A journey (opening a ticket, say) decides what to post where; `discord::port` carries it out,
//! once, for every journey: through the REST limiter, retried on 5xx, with the nonce enforced
//! (so a retry after a 5xx that Discord did act on returns the first message instead of a
//! second), text cut to Discord's 2,000 characters, and no mention allowed but the one
//! [`Post::ping_roles`] name. Desk tests use [`recording::Recording`], which panics on any call
//! the test did not plan.

use async_trait::async_trait;

/// The most text a post or an edit holds: Discord's limit on a message's content
/// (<https://discord.com/developers/docs/resources/message#create-message>, `content`). The
/// port cuts longer texts; a journey that must keep a text whole (a card it reads back) cuts
/// it itself.
pub const MAX_TEXT: usize = 2000;

/// A message the desk wants posted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Post {
    pub text: String,
    /// Discord's nonce, enforced: the same nonce twice gives the first message back.
    pub nonce: Option<String>,
    /// The roles this message may ping (the agents, inside opening hours; the supervisors on
    /// an escalation); none pings nobody whatever the text holds.
    pub ping_roles: Vec<u64>,
    /// The one member this message may ping (a customer the bot asks something, by its own
    /// decision); `None` pings no member.
    pub ping_user: Option<u64>,
    /// A message in the same channel this one answers (shown quoted above it).
    pub reply_to: Option<u64>,
    pub buttons: Vec<Button>,
}

impl Post {
    /// A message that pings nobody and carries no buttons.
    pub fn text(text: impl Into<String>) -> Self {
        Post {
            text: text.into(),
            ..Post::default()
        }
    }
}

/// A button under a posted message; the adapter gives it its custom id, its style, and its label
/// unless the desk names one in the reader's language.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Button {
    /// Claim, on a ticket's card in the agents' channel.
    Claim(i64),
    /// One of the closing survey's stars: the ticket, and 1 to 5.
    Rate(i64, u8),
    /// Reopen, under the closing survey, labelled in the customer's language.
    Reopen { ticket: i64, label: &'static str },
    /// The customer confirms that their ticket may close.
    ConfirmClose { ticket: i64, label: &'static str },
    /// The customer still needs help.
    KeepOpen { ticket: i64, label: &'static str },
    /// "Get updates by DM" on a crisis announcement: subscribe to its topic.
    Subscribe { topic: String, label: &'static str },
    /// Unsubscribe, on a direct message (which carries no server, so the button does),
    /// labelled in the member's language.
    Unsubscribe {
        guild: u64,
        topic: String,
        label: &'static str,
    },
}

/// A new text (and, when `buttons` is `Some`, new buttons: none for `Some(vec![])`) for a
/// message Beacon posted. Pings nobody, like every post.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edit {
    pub text: String,
    /// `None` leaves the message's buttons as they are.
    pub buttons: Option<Vec<Button>>,
}

impl Edit {
    /// A new text; the buttons stay as they are.
    pub fn text(text: impl Into<String>) -> Self {
        Edit {
            text: text.into(),
            buttons: None,
        }
    }
}

/// What a direct message came to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dm {
    /// Sent: the message's id.
    Sent(u64),
    /// Refused because the member does not take direct messages from this server's members (or
    /// left every server Beacon shares with them): Discord's 50007.
    Closed,
}

/// A thread's new state. Archived, a thread leaves the server's count of active threads; locked,
/// only those who can manage threads may unarchive it or write in it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ThreadState {
    pub archived: bool,
    /// `None` leaves it as it is.
    pub locked: Option<bool>,
}

/// A file posted with a message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    pub name: String,
    pub bytes: Vec<u8>,
}

/// A message read back from a thread, as plain values.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ThreadMessage {
    pub id: u64,
    pub author_id: u64,
    /// The name the author shows (their display name, else their username).
    pub author_name: String,
    pub author_is_bot: bool,
    pub text: String,
    /// Attached files: (name, url).
    pub attachments: Vec<(String, String)>,
    /// When it was sent, in milliseconds since the Unix epoch.
    pub at_ms: i64,
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
    /// Send a member a direct message; [`Dm::Closed`] when their DMs are closed, an error for
    /// any other failure.
    async fn send_dm(&self, user: u64, post: &Post) -> anyhow::Result<Dm>;
    /// A message's text (a card Beacon posted, to add a line to it).
    async fn message_text(&self, channel: u64, message: u64) -> anyhow::Result<String>;
    /// Change a message Beacon posted.
    async fn edit_message(&self, channel: u64, message: u64, edit: &Edit) -> anyhow::Result<()>;
    /// Archive, unarchive, lock or unlock a thread.
    async fn set_thread(&self, thread: u64, state: ThreadState) -> anyhow::Result<()>;
    /// Post with files attached. Returns the message's id.
    async fn post_files(&self, channel: u64, post: &Post, files: &[File]) -> anyhow::Result<u64>;
    /// A thread's messages, oldest first: all of them, or, when it holds more than `max`, the
    /// latest (read in whole pages of 100, so up to 99 more than `max`).
    async fn thread_messages(&self, thread: u64, max: usize) -> anyhow::Result<Vec<ThreadMessage>>;
    /// The name a user shows (their display name, else their username).
    async fn user_name(&self, user: u64) -> anyhow::Result<String>;
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
    /// a message is refused). Returns its id. The outbox keeps it, to send many updates.
    async fn open_dm(&self, user: u64) -> anyhow::Result<u64>;
    /// Post in a direct-message channel: sent, or [`Dm::Closed`] by the member's settings.
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
        SendDm {
            user: u64,
            post: Post,
        },
        MessageText {
            channel: u64,
            message: u64,
        },
        EditMessage {
            channel: u64,
            message: u64,
            edit: Edit,
        },
        SetThread {
            thread: u64,
            state: ThreadState,
        },
        PostFiles {
            channel: u64,
            post: Post,
            files: Vec<File>,
        },
        ThreadMessages {
            thread: u64,
            max: usize,
        },
        UserName {
            user: u64,
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
                Call::SendDm { .. } => "send_dm",
                Call::MessageText { .. } => "message_text",
                Call::EditMessage { .. } => "edit_message",
                Call::SetThread { .. } => "set_thread",
                Call::PostFiles { .. } => "post_files",
                Call::ThreadMessages { .. } => "thread_messages",
                Call::UserName { .. } => "user_name",
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
        /// A text: a message's, or a user's name.
        Text(String),
        /// A thread's messages, oldest first.
        Messages(Vec<ThreadMessage>),
        /// `is_announcement_channel`: yes, or no.
        Is(bool),
        /// For `send_dm` and `post_dm`: the member's direct messages are closed.
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
            match self.planned(call)? {
                Answer::Id(id) => Ok(Some(id)),
                Answer::Nothing => Ok(None),
                other => panic!("an id or nothing was planned, not {other:?}"),
            }
        }

        /// The planned answer to `call`, a failure as an error.
        fn planned(&self, call: Call) -> anyhow::Result<Answer> {
            let planned = self.plan.lock().unwrap().pop_front();
            let kind = call.kind();
            self.calls.lock().unwrap().push(call.clone());
            match planned {
                Some((k, answer)) if k == kind => match answer {
                    Answer::Fail(why) => Err(anyhow::anyhow!(why)),
                    answer => Ok(answer),
                },
                Some((k, _)) => panic!("unplanned call {call:?}: the plan expected {k} next"),
                None => panic!("unplanned call {call:?}: the plan was done"),
            }
        }

        fn text(&self, call: Call) -> anyhow::Result<String> {
            match self.planned(call)? {
                Answer::Text(text) => Ok(text),
                other => panic!("a text was planned, not {other:?}"),
            }
        }

        /// The texts messages were edited to, with which message.
        pub fn edited_texts(&self) -> Vec<(u64, String)> {
            self.edits()
                .into_iter()
                .map(|(_, message, edit)| (message, edit.text))
                .collect()
        }

        /// The edits made, with the message each changed.
        pub fn edits(&self) -> Vec<(u64, u64, Edit)> {
            self.calls()
                .into_iter()
                .filter_map(|c| match c {
                    Call::EditMessage {
                        channel,
                        message,
                        edit,
                    } => Some((channel, message, edit)),
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
        async fn send_dm(&self, user: u64, post: &Post) -> anyhow::Result<Dm> {
            let call = Call::SendDm {
                user,
                post: post.clone(),
            };
            match self.planned(call)? {
                Answer::Id(id) => Ok(Dm::Sent(id)),
                Answer::DmsClosed => Ok(Dm::Closed),
                other => panic!("an id or closed DMs were planned, not {other:?}"),
            }
        }
        async fn message_text(&self, channel: u64, message: u64) -> anyhow::Result<String> {
            self.text(Call::MessageText { channel, message })
        }
        async fn edit_message(
            &self,
            channel: u64,
            message: u64,
            edit: &Edit,
        ) -> anyhow::Result<()> {
            let call = Call::EditMessage {
                channel,
                message,
                edit: edit.clone(),
            };
            self.answer(call).map(|_| ())
        }
        async fn set_thread(&self, thread: u64, state: ThreadState) -> anyhow::Result<()> {
            self.answer(Call::SetThread { thread, state }).map(|_| ())
        }
        async fn post_files(
            &self,
            channel: u64,
            post: &Post,
            files: &[File],
        ) -> anyhow::Result<u64> {
            self.id(Call::PostFiles {
                channel,
                post: post.clone(),
                files: files.to_vec(),
            })
        }
        async fn thread_messages(
            &self,
            thread: u64,
            max: usize,
        ) -> anyhow::Result<Vec<ThreadMessage>> {
            match self.planned(Call::ThreadMessages { thread, max })? {
                Answer::Messages(messages) => Ok(messages),
                other => panic!("messages were planned, not {other:?}"),
            }
        }
        async fn user_name(&self, user: u64) -> anyhow::Result<String> {
            self.text(Call::UserName { user })
        }
        async fn pin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
            self.answer(Call::Pin { channel, message }).map(|_| ())
        }
        async fn unpin(&self, channel: u64, message: u64) -> anyhow::Result<()> {
            self.answer(Call::Unpin { channel, message }).map(|_| ())
        }
        async fn is_announcement_channel(&self, channel: u64) -> anyhow::Result<bool> {
            match self.planned(Call::IsAnnouncementChannel { channel })? {
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
            match self.planned(call)? {
                Answer::Id(id) => Ok(Dm::Sent(id)),
                Answer::DmsClosed => Ok(Dm::Closed),
                other => panic!("post_dm cannot answer {other:?}"),
            }
        }
    }
}
