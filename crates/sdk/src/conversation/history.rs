//! History: pages of one conversation's messages, and one-way deletes of messages.
use base64::Engine as _;
use prost::Message as _;
use reqwest::Method;
use roam_protocol::{
    message_json::ChatKind,
    pb::{MessageBody, Meta},
    rest::roaming::{HistoryBody, HistoryResponse, RemovedResponse},
};
use serde_json::Value;

use super::{MAX_DELETE_IDS, page_size};
use crate::{ChatType, Client, Error, InputError, Message};

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
    /// The last message's id: the next page's cursor. (Serialized as a string.)
    #[serde(serialize_with = "crate::ids::optional_string")]
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

impl Client {
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
        let body = HistoryBody {
            queue,
            // (A cursor is a message id, below 2^63; -1 is none.)
            start: Some(query.cursor.map_or(Value::from(-1), Value::from)),
            pull_number: Some(i64::from(size)),
            is_positive: Some(query.direction == Direction::Down),
            msg_type: (!query.msg_types.is_empty()).then(|| query.msg_types.join(",")),
            start_time: query.start_time.map(Value::from),
            end_time: query.end_time.map(Value::from),
            user_id: query.from.clone(),
        };
        let path = format!("/users/{}/messageroaming", self.user());
        let answer: HistoryResponse =
            Client::answer(self.rest(Method::POST, &path, &[]).json(&body)).await?;
        let messages: Vec<Message> = answer
            .data
            .msgs
            .iter()
            .filter_map(|m| history_message(&m.msg))
            .collect();
        Ok(HistoryPage {
            cursor: messages.last().map(|m| m.id),
            is_last: answer.data.is_last,
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
            ChatType::Single => (ChatKind::Single.name(), "userId"),
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
        let _: RemovedResponse = Client::answer(self.rest(Method::DELETE, &path, &query)).await?;
        Ok(())
    }
}

/// One history message: a base64 `Meta` as a device would pull it.
fn history_message(b64: &str) -> Option<Message> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(b64).ok()?;
    let meta = Meta::decode(bytes.as_slice()).ok()?;
    let body = MessageBody::decode(meta.payload.clone()?).ok()?;
    Message::from_meta(&meta, &body)
}
