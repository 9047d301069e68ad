//! The desk's one way out to the chat: plain ids and plain values, no Discord types.
//!
//! A journey (opening a ticket, say) decides what to post where; `discord::port` carries it out,
//! once, for every journey: through the REST limiter, retried on 5xx, with the nonce enforced
//! (so a retry after a 5xx that Discord did act on returns the first message instead of a
//! second), text cut to Discord's 2,000 characters, and no mention allowed but the one
//! [`Post::ping_roles`] name. Desk tests use [`recording::Recording`], which panics on any call
//! the test did not plan.

use async_trait::async_trait;

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

/// A new text for a message the bot posted, and, when `buttons` is `Some`, its new buttons
/// (`Some(vec![])` takes them all away).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Edit {
    pub text: String,
    pub buttons: Option<Vec<Button>>,
}

/// A button under a posted message; the adapter gives it its custom id (and its label, where
/// the button does not carry one in the reader's language).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Button {
    /// Claim, on a ticket's card in the agents' channel.
    Claim(i64),
    /// The customer confirms that their ticket may close.
    ConfirmClose { ticket: i64, label: String },
    /// The customer still needs help.
    KeepOpen { ticket: i64, label: String },
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
    /// Change a message the bot posted: its text, and its buttons when the edit names them.
    async fn edit(&self, channel: u64, message: u64, edit: &Edit) -> anyhow::Result<()>;
    /// The text of a message the bot posted (a card, to add a line to it).
    async fn text_of(&self, channel: u64, message: u64) -> anyhow::Result<String>;
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
        Edit {
            channel: u64,
            message: u64,
            edit: Edit,
        },
        TextOf {
            channel: u64,
            message: u64,
        },
    }

    impl Call {
        fn kind(&self) -> &'static str {
            match self {
                Call::OpenPrivateThread { .. } => "open_private_thread",
                Call::FindThread { .. } => "find_thread",
                Call::AddToThread { .. } => "add_to_thread",
                Call::Post { .. } => "post",
                Call::Edit { .. } => "edit",
                Call::TextOf { .. } => "text_of",
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
        /// A message's text (for `text_of`).
        Text(&'static str),
        /// The chat refused or failed.
        Fail(&'static str),
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

        /// The edits made, with the channel and message edited.
        pub fn edits(&self) -> Vec<(u64, u64, Edit)> {
            self.calls()
                .into_iter()
                .filter_map(|c| match c {
                    Call::Edit {
                        channel,
                        message,
                        edit,
                    } => Some((channel, message, edit)),
                    _ => None,
                })
                .collect()
        }

        fn answer(&self, call: Call) -> anyhow::Result<Option<u64>> {
            self.answer_with(call).map(|a| match a {
                Answer::Id(id) => Some(id),
                _ => None,
            })
        }

        fn answer_with(&self, call: Call) -> anyhow::Result<Answer> {
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
        async fn edit(&self, channel: u64, message: u64, edit: &Edit) -> anyhow::Result<()> {
            self.answer(Call::Edit {
                channel,
                message,
                edit: edit.clone(),
            })
            .map(|_| ())
        }
        async fn text_of(&self, channel: u64, message: u64) -> anyhow::Result<String> {
            match self.answer_with(Call::TextOf { channel, message })? {
                Answer::Text(text) => Ok(text.to_string()),
                other => panic!("text_of planned with {other:?}, not a text"),
            }
        }
    }
}
