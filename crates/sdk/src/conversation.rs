//! The server-side conversation and history operations, under the official SDK's names:
//! `get_server_conversations`, `get_server_pinned_conversations`, `pin_conversation`,
//! `get_history_messages`, `remove_history_messages`, `delete_conversation`, and marks.
//! Each validates its arguments as the official SDK does, then calls the REST API.
use base64::Engine as _;
use prost::Message as _;
use reqwest::Method;
use roam_protocol::pb::{MessageBody, Meta};
use serde_json::{Value, json};

use crate::{ChatType, Client, Error, InputError, Message};

/// Most items a page holds (conversations or messages).
///
/// ```
/// let q = roam_sdk::ConversationQuery { page_size: roam_sdk::MAX_PAGE_SIZE, ..Default::default() };
/// assert_eq!(q.page_size, 50);
/// ```
pub const MAX_PAGE_SIZE: u32 = 50;
/// Most message ids one delete names.
///
/// ```
/// let ids: Vec<u64> = (1..=roam_sdk::MAX_DELETE_IDS as u64).collect();
/// let removal = roam_sdk::Removal::Ids(ids); // the most one call takes
/// ```
pub const MAX_DELETE_IDS: usize = 50;

fn page_size(n: u32) -> Result<u32, InputError> {
    if (1..=MAX_PAGE_SIZE).contains(&n) {
        Ok(n)
    } else {
        Err(InputError::PageSize(n))
    }
}

/// Which page of a conversation list.
///
/// ```
/// let q = roam_sdk::ConversationQuery::default();
/// assert_eq!((q.page_size, q.cursor.as_deref()), (20, None));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConversationQuery {
    /// 1..=50.
    pub page_size: u32,
    /// The `cursor` of the previous page; `None` for the first page.
    pub cursor: Option<String>,
    /// Also list conversations whose messages this user all deleted.
    pub include_empty: bool,
}

impl Default for ConversationQuery {
    fn default() -> Self {
        ConversationQuery {
            page_size: 20,
            cursor: None,
            include_empty: false,
        }
    }
}

/// One conversation as this user sees it.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// for c in client.get_server_conversations(&Default::default()).await?.conversations {
///     let last = c.last_message.map(|m| m.from).unwrap_or_default();
///     println!("{} {:?} unread={} pinned={} last from {last}", c.id, c.chat_type, c.unread, c.pinned);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Conversation {
    /// The peer user, or the group.
    pub id: String,
    pub chat_type: ChatType,
    /// Messages from others after this user's read position that they did not delete.
    pub unread: u64,
    pub pinned: bool,
    /// When it was pinned (ms), 0 if not.
    pub pinned_time: u64,
    /// The marks (0..=19) set on it.
    pub marks: Vec<u8>,
    /// The newest message this user can see.
    pub last_message: Option<Message>,
}

/// A page of conversations.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// let page = client.get_server_conversations(&Default::default()).await?;
/// if page.cursor.is_none() {
///     println!("that was all {} of them", page.conversations.len());
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ConversationPage {
    pub conversations: Vec<Conversation>,
    /// Pass it as the next query's cursor; `None` on the last page.
    pub cursor: Option<String>,
}

/// The pin state after a pin or unpin.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// let state = client.pin_conversation("bob", roam_sdk::ChatType::Single, true).await?;
/// assert!(state.pinned && state.time > 0);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct PinState {
    pub pinned: bool,
    /// The pin time (ms), 0 if not pinned.
    pub time: u64,
}

/// Which way history pages go.
///
/// ```
/// use roam_sdk::{ChatType, Direction, HistoryQuery};
/// let oldest_first = HistoryQuery::new(ChatType::Single, "bob").direction(Direction::Down);
/// assert_eq!(oldest_first.direction, Direction::Down);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Newest first, towards older messages (the official SDK's `up`).
    Up,
    /// Oldest first, towards newer messages (`down`).
    Down,
}

/// A page of one conversation's history.
///
/// ```
/// use roam_sdk::{ChatType, Direction, HistoryQuery};
/// let q = HistoryQuery::new(ChatType::Group, "g1").direction(Direction::Down).page_size(50);
/// assert_eq!((q.cursor, q.page_size), (None, 50));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HistoryQuery {
    /// The peer user, group or chat room.
    pub target: String,
    pub chat_type: ChatType,
    /// Start after this message id (exclusive); `None` = from the newest (up) or the
    /// oldest (down).
    pub cursor: Option<u64>,
    /// 1..=50.
    pub page_size: u32,
    pub direction: Direction,
    /// Only these types (`txt`, `img`, `custom`, …); empty = all.
    pub msg_types: Vec<String>,
    /// Only messages at or after this time (ms).
    pub start_time: Option<u64>,
    /// Only messages at or before this time (ms).
    pub end_time: Option<u64>,
    /// Only messages from this user (useful in groups).
    pub from: Option<String>,
}

impl HistoryQuery {
    /// The newest 20 messages of a conversation.
    ///
    /// ```
    /// let q = roam_sdk::HistoryQuery::new(roam_sdk::ChatType::Single, "bob");
    /// assert_eq!(q.direction, roam_sdk::Direction::Up);
    /// ```
    pub fn new(chat_type: ChatType, target: &str) -> HistoryQuery {
        HistoryQuery {
            target: target.to_owned(),
            chat_type,
            cursor: None,
            page_size: 20,
            direction: Direction::Up,
            msg_types: vec![],
            start_time: None,
            end_time: None,
            from: None,
        }
    }

    /// Sets the page size.
    ///
    /// ```
    /// let q = roam_sdk::HistoryQuery::new(roam_sdk::ChatType::Single, "bob").page_size(5);
    /// assert_eq!(q.page_size, 5);
    /// ```
    pub fn page_size(mut self, n: u32) -> HistoryQuery {
        self.page_size = n;
        self
    }

    /// Sets the direction.
    ///
    /// ```
    /// use roam_sdk::{ChatType, Direction, HistoryQuery};
    /// let q = HistoryQuery::new(ChatType::Single, "bob").direction(Direction::Down);
    /// assert_eq!(q.direction, Direction::Down);
    /// ```
    pub fn direction(mut self, d: Direction) -> HistoryQuery {
        self.direction = d;
        self
    }

    /// Continues after message `id` (the previous page's `cursor`).
    ///
    /// ```
    /// let q = roam_sdk::HistoryQuery::new(roam_sdk::ChatType::Single, "bob").after(42);
    /// assert_eq!(q.cursor, Some(42));
    /// ```
    pub fn after(mut self, id: u64) -> HistoryQuery {
        self.cursor = Some(id);
        self
    }
}

/// A page of history.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// let q = roam_sdk::HistoryQuery::new(roam_sdk::ChatType::Single, "bob");
/// let page = client.get_history_messages(&q).await?;
/// if let (false, Some(cursor)) = (page.is_last, page.cursor) {
///     let older = client.get_history_messages(&q.after(cursor)).await?;
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct HistoryPage {
    pub messages: Vec<Message>,
    /// The last message's id: the next page's cursor.
    pub cursor: Option<u64>,
    /// No more messages in this direction.
    pub is_last: bool,
}

/// What a one-way delete removes (for this user only, on all their devices).
///
/// ```
/// use roam_sdk::Removal;
/// let these = Removal::Ids(vec![913606723028123648]);
/// let everything_until_now = Removal::Before(1_700_000_000_000);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// These messages (1..=50 ids).
    Ids(Vec<u64>),
    /// Every message at or before this time (ms).
    Before(u64),
}

/// A conversation named for a mark: its id and type.
///
/// ```
/// let both: [roam_sdk::ConversationRef; 2] = [("bob", roam_sdk::ChatType::Single), ("g1", roam_sdk::ChatType::Group)];
/// ```
pub type ConversationRef<'a> = (&'a str, ChatType);

impl Client {
    fn user_path(&self, tail: &str) -> String {
        format!("/sdk/user/{}/{tail}", self.user())
    }

    async fn list(
        &self,
        path: String,
        q: &ConversationQuery,
        extra: &[(&str, String)],
    ) -> Result<ConversationPage, Error> {
        let mut query = vec![("limit", page_size(q.page_size)?.to_string())];
        if let Some(c) = &q.cursor {
            query.push(("cursor", c.clone()));
        }
        if q.include_empty {
            query.push(("needEmptySession", "true".into()));
        }
        query.extend(extra.iter().cloned());
        let v = self.rest(Method::GET, &path, &query, None).await?;
        let data = &v["data"];
        let conversations = data["channel_infos"]
            .as_array()
            .map(|a| a.iter().filter_map(conversation).collect())
            .unwrap_or_default();
        let cursor = data["cursor"]
            .as_str()
            .filter(|c| !c.is_empty())
            .map(str::to_owned);
        Ok(ConversationPage {
            conversations,
            cursor,
        })
    }

    /// A page of this user's conversations, newest activity first.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// let mut q = roam_sdk::ConversationQuery { page_size: 50, ..Default::default() };
    /// loop {
    ///     let page = client.get_server_conversations(&q).await?;
    ///     for c in &page.conversations {
    ///         println!("{} unread {}", c.id, c.unread);
    ///     }
    ///     match page.cursor {
    ///         Some(next) => q.cursor = Some(next),
    ///         None => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_server_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, Error> {
        self.list(self.user_path("user_channels/list"), query, &[])
            .await
    }

    /// A page of this user's pinned conversations, newest pin first.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// let pinned = client.get_server_pinned_conversations(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_server_pinned_conversations(
        &self,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, Error> {
        self.list(
            self.user_path("user_channels/list"),
            query,
            &[("is_top", "true".into())],
        )
        .await
    }

    /// A page of this user's conversations that carry `mark` (0..=19).
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// let starred = client.get_server_conversations_by_mark(0, &Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn get_server_conversations_by_mark(
        &self,
        mark: u8,
        query: &ConversationQuery,
    ) -> Result<ConversationPage, Error> {
        let mark = mark_name(mark)?;
        self.list(
            self.user_path("user_channels/mark/search"),
            query,
            &[("mark", mark)],
        )
        .await
    }

    /// Pins or unpins a conversation; this user's other devices are told.
    /// [`Error::PinLimit`] when 50 are pinned already; [`Error::ConversationNotFound`] for a
    /// conversation this user does not have.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.pin_conversation("bob", roam_sdk::ChatType::Single, true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn pin_conversation(
        &self,
        conversation: &str,
        chat_type: ChatType,
        pinned: bool,
    ) -> Result<PinState, Error> {
        if conversation.is_empty() {
            return Err(InputError::Empty("conversation").into());
        }
        let path = self.user_path("user_channel/top");
        let kind = chat_type.rest_name();
        let v = if pinned {
            let body = json!({"to": conversation, "type": kind});
            self.rest(Method::POST, &path, &[], Some(body)).await?
        } else {
            let query = [("to", conversation.to_owned()), ("type", kind.to_owned())];
            self.rest(Method::DELETE, &path, &query, None).await?
        };
        Ok(PinState {
            pinned: v["data"]["is_top"].as_bool().unwrap_or(pinned),
            time: v["data"]["update_top_status_time"].as_u64().unwrap_or(0),
        })
    }

    /// Puts `mark` (0..=19) on conversations (1..=20); answers those this user does not
    /// have (ignored).
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::ChatType;
    /// client.add_conversation_mark(&[("bob", ChatType::Single)], 0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_conversation_mark(
        &self,
        conversations: &[ConversationRef<'_>],
        mark: u8,
    ) -> Result<Vec<String>, Error> {
        self.mark(Method::POST, conversations, mark).await
    }

    /// Takes `mark` off conversations; answers those this user does not have.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::ChatType;
    /// client.remove_conversation_mark(&[("bob", ChatType::Single)], 0).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_conversation_mark(
        &self,
        conversations: &[ConversationRef<'_>],
        mark: u8,
    ) -> Result<Vec<String>, Error> {
        self.mark(Method::DELETE, conversations, mark).await
    }

    async fn mark(
        &self,
        method: Method,
        conversations: &[ConversationRef<'_>],
        mark: u8,
    ) -> Result<Vec<String>, Error> {
        if conversations.is_empty() || conversations.len() > 20 {
            return Err(InputError::MarkTargets(conversations.len()).into());
        }
        let targets: Vec<Value> = conversations
            .iter()
            .map(|(id, t)| json!({"to": id, "type": t.rest_name()}))
            .collect();
        let body = json!({"mark": mark_name(mark)?, "targets": targets});
        let v = self
            .rest(
                method,
                &self.user_path("user_channels/mark"),
                &[],
                Some(body),
            )
            .await?;
        Ok(v["data"]["ignore"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|t| t["to"].as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default())
    }

    /// A page of one conversation's history, as this user sees it (without what they
    /// deleted). Group and chat room history needs membership ([`Error::NotMember`]).
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::{ChatType, HistoryQuery};
    /// let mut q = HistoryQuery::new(ChatType::Single, "bob");
    /// loop {
    ///     let page = client.get_history_messages(&q).await?;
    ///     for m in &page.messages {
    ///         println!("{} {:?}", m.from, m.body);
    ///     }
    ///     match (page.is_last, page.cursor) {
    ///         (false, Some(c)) => q = q.after(c),
    ///         _ => break,
    ///     }
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn get_history_messages(&self, query: &HistoryQuery) -> Result<HistoryPage, Error> {
        let size = page_size(query.page_size)?;
        if query.target.is_empty() {
            return Err(InputError::Empty("target").into());
        }
        let queue = match query.chat_type {
            ChatType::Single => query.target.clone(),
            _ => format!("{}@conference.easemob.com", query.target),
        };
        let mut body = json!({
            "queue": queue,
            "start": query.cursor.map_or(-1, |c| c as i64),
            "pull_number": size,
            "is_positive": query.direction == Direction::Down,
        });
        if !query.msg_types.is_empty() {
            body["msgType"] = query.msg_types.join(",").into();
        }
        if let Some(t) = query.start_time {
            body["startTime"] = t.into();
        }
        if let Some(t) = query.end_time {
            body["endTime"] = t.into();
        }
        if let Some(u) = &query.from {
            body["userId"] = u.as_str().into();
        }
        let path = format!("/users/{}/messageroaming", self.user());
        let v = self.rest(Method::POST, &path, &[], Some(body)).await?;
        let data = &v["data"];
        let messages: Vec<Message> = data["msgs"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| history_message(m["msg"].as_str()?))
                    .collect()
            })
            .unwrap_or_default();
        Ok(HistoryPage {
            cursor: messages.last().map(|m| m.id),
            is_last: data["is_last"].as_bool().unwrap_or(true),
            messages,
        })
    }

    /// Deletes messages of a conversation for this user only (every device; others keep
    /// them). This user's other devices are told.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::{ChatType, Removal};
    /// client.remove_history_messages("bob", ChatType::Single, &Removal::Ids(vec![1, 2])).await?;
    /// client.remove_history_messages("bob", ChatType::Single, &Removal::Before(1_700_000_000_000)).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_history_messages(
        &self,
        target: &str,
        chat_type: ChatType,
        removal: &Removal,
    ) -> Result<(), Error> {
        if target.is_empty() {
            return Err(InputError::Empty("target").into());
        }
        let (kind, who) = match chat_type {
            ChatType::Single => ("chat", "userId"),
            _ => ("group", "groupId"),
        };
        let base = format!("/sdk/message/roaming/{kind}/user/{}", self.user());
        let mut query = vec![(who, target.to_owned())];
        let path = match removal {
            Removal::Ids(ids) => {
                if ids.is_empty() || ids.len() > MAX_DELETE_IDS {
                    return Err(InputError::MessageIds(ids.len()).into());
                }
                let list: Vec<String> = ids.iter().map(u64::to_string).collect();
                query.push(("msgIdList", list.join(",")));
                base
            }
            Removal::Before(ms) => {
                query.push(("delTime", ms.to_string()));
                format!("{base}/time")
            }
        };
        self.rest(Method::DELETE, &path, &query, None).await?;
        Ok(())
    }

    /// Takes a conversation off this user's list (on every device); with `delete_roam`
    /// also hides its history up to now. A later message brings it back.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.delete_conversation("bob", roam_sdk::ChatType::Single, true).await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_conversation(
        &self,
        channel: &str,
        chat_type: ChatType,
        delete_roam: bool,
    ) -> Result<(), Error> {
        if channel.is_empty() {
            return Err(InputError::Empty("channel").into());
        }
        let body =
            json!({"channel": channel, "type": chat_type.rest_name(), "delete_roam": delete_roam});
        let path = format!("/user/{}/user_channel", self.user());
        self.rest(Method::DELETE, &path, &[], Some(body)).await?;
        Ok(())
    }

    /// Deletes every conversation of this user, with its history.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.delete_all_messages_and_conversations().await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_all_messages_and_conversations(&self) -> Result<(), Error> {
        let path = format!("/sdk/message/roaming/user/{}/delete/all", self.user());
        self.rest(Method::POST, &path, &[], None).await?;
        Ok(())
    }
}

fn mark_name(mark: u8) -> Result<String, InputError> {
    if mark < 20 {
        Ok(format!("mark_{mark}"))
    } else {
        Err(InputError::Mark(mark))
    }
}

/// One item of `channel_infos`.
fn conversation(c: &Value) -> Option<Conversation> {
    let meta = &c["meta"];
    let last_message = meta["payload"]
        .as_str()
        .and_then(|p| serde_json::from_str::<Value>(p).ok())
        .and_then(|payload| {
            let id = meta["id"].as_str()?.parse().ok()?;
            Message::from_rest(id, meta["timestamp"].as_u64().unwrap_or(0), &payload)
        });
    Some(Conversation {
        id: c["session_to"].as_str()?.to_owned(),
        chat_type: ChatType::from_rest(c["session_type"].as_str().unwrap_or("chat")),
        unread: c["unread_num"].as_u64().unwrap_or(0),
        pinned: c["is_top"].as_bool().unwrap_or(false),
        pinned_time: c["update_top_status_time"].as_u64().unwrap_or(0),
        marks: c["marks"]
            .as_array()
            .map(|a| {
                a.iter()
                    .filter_map(|m| m.as_str()?.strip_prefix("mark_")?.parse().ok())
                    .collect()
            })
            .unwrap_or_default(),
        last_message,
    })
}

/// One history message: a base64 `Meta` as a device would pull it.
fn history_message(b64: &str) -> Option<Message> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let meta = Meta::decode(bytes.as_slice()).ok()?;
    let body = MessageBody::decode(meta.payload.clone()?).ok()?;
    Message::from_meta(&meta, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_are_checked_like_the_official_sdk() {
        assert_eq!(page_size(0), Err(InputError::PageSize(0)));
        assert_eq!(page_size(51), Err(InputError::PageSize(51)));
        assert_eq!(page_size(50), Ok(50));
        assert_eq!(mark_name(19).unwrap(), "mark_19");
        assert_eq!(mark_name(20), Err(InputError::Mark(20)));
    }

    #[test]
    fn list_items_are_read_with_their_last_message() {
        let c = json!({
            "session_to": "bob", "session_type": "chat", "unread_num": 2, "is_top": true,
            "update_top_status_time": 5, "marks": ["mark_1", "mark_3"],
            "meta": {"id": "42", "from": "bob", "to": "alice", "timestamp": 7,
                     "payload": "{\"bodies\":[{\"type\":\"txt\",\"msg\":\"hi\"}],\"ext\":{},\"from\":\"bob\",\"to\":\"alice\",\"type\":\"chat\"}"}
        });
        let got = conversation(&c).unwrap();
        assert_eq!(
            (
                got.id.as_str(),
                got.unread,
                got.pinned,
                got.pinned_time,
                got.marks.clone()
            ),
            ("bob", 2, true, 5, vec![1, 3])
        );
        let m = got.last_message.unwrap();
        assert_eq!(
            (m.id, m.time, m.body),
            (42, 7, crate::Body::Text("hi".into()))
        );
        let empty =
            conversation(&json!({"session_to": "g", "session_type": "groupchat", "meta": {}}))
                .unwrap();
        assert_eq!(
            (empty.chat_type, empty.last_message),
            (ChatType::Group, None)
        );
    }
}
