//! The conversation list: a user's conversations, pinned ones, marked ones.
use reqwest::Method;
use roam_protocol::rest::roaming::{ChannelInfo, LastMessage, ListResponse};

use super::{mark_name, page_size};
use crate::{ChatType, Client, Error, Message};

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

impl Client {
    pub(super) fn user_path(&self, tail: &str) -> String {
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
        let answer: ListResponse = Client::answer(self.rest(Method::GET, &path, &query)).await?;
        let data = answer.data;
        Ok(ConversationPage {
            conversations: data.channel_infos.into_iter().map(conversation).collect(),
            cursor: Some(data.cursor).filter(|c| !c.is_empty()),
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
}

/// One item of `channel_infos`.
fn conversation(c: ChannelInfo) -> Conversation {
    Conversation {
        last_message: c.meta.message().and_then(last_message),
        chat_type: ChatType::from_rest(&c.session_type),
        id: c.session_to,
        unread: c.unread_num,
        pinned: c.is_top,
        pinned_time: c.update_top_status_time,
        marks: c
            .marks
            .iter()
            .filter_map(|m| m.strip_prefix("mark_")?.parse().ok())
            .collect(),
    }
}

/// A list item's last message: its payload is REST message JSON in a string.
fn last_message(m: &LastMessage) -> Option<Message> {
    let payload = serde_json::from_str(&m.payload).ok()?;
    Message::from_rest(m.id.parse().ok()?, m.timestamp, &payload)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn read(v: serde_json::Value) -> Conversation {
        conversation(serde_json::from_value(v).unwrap())
    }

    #[test]
    fn list_items_are_read_with_their_last_message() {
        let got = read(json!({
            "session_to": "bob", "session_type": "chat", "unread_num": 2, "is_top": true,
            "update_top_status_time": 5, "marks": ["mark_1", "mark_3"],
            "meta": {"id": "42", "from": "bob", "to": "alice", "timestamp": 7,
                     "payload": "{\"bodies\":[{\"type\":\"txt\",\"msg\":\"hi\"}],\"ext\":{},\"from\":\"bob\",\"to\":\"alice\",\"type\":\"chat\"}"}
        }));
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
        let empty = read(json!({"session_to": "g", "session_type": "groupchat", "meta": {}}));
        assert_eq!(
            (empty.chat_type, empty.last_message),
            (ChatType::Group, None)
        );
    }
}
