//! Messages: what is sent ([`Outgoing`]) and what arrives ([`Message`]), with a typed
//! [`Body`]. On the wire a message is Easemob's `MessageBody` protobuf; bodies are built with
//! the protocol crate's REST-JSON conversions, so they match what the official SDK sends.
use roam_protocol::{
    message_json::{self, ChatKind},
    pb::{
        Jid, MessageBody, Meta,
        message_body::{self, Content, content},
    },
};
use serde_json::{Map, Value, json};

/// The kind of conversation a message belongs to.
///
/// ```
/// use roam_sdk::{ChatType, Outgoing};
/// let to_group = Outgoing::text(ChatType::Group, "g1", "hello all");
/// assert_eq!(to_group.chat_type, ChatType::Group);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ChatType {
    /// One to one.
    Single,
    /// A group (`groupChat`).
    Group,
    /// A chat room (`chatRoom`): members only while joined.
    ChatRoom,
}

impl ChatType {
    pub(crate) fn kind(self) -> ChatKind {
        match self {
            ChatType::Single => ChatKind::Single,
            ChatType::Group => ChatKind::Group,
            ChatType::ChatRoom => ChatKind::ChatRoom,
        }
    }

    /// The name the REST API uses for the conversation type (`chat` / `groupchat`).
    /// Chat rooms are group conversations there.
    pub(crate) fn rest_name(self) -> &'static str {
        match self {
            ChatType::Single => ChatKind::Single.name(),
            _ => ChatKind::Group.name(),
        }
    }

    /// Reads the REST API's names (`chat`, `groupchat`, `chatroom`, any case); anything else
    /// is a group.
    pub(crate) fn from_rest(name: &str) -> ChatType {
        match ChatKind::parse(name) {
            Some(ChatKind::Single) => ChatType::Single,
            Some(ChatKind::ChatRoom) => ChatType::ChatRoom,
            Some(ChatKind::Group) | None => ChatType::Group,
        }
    }
}

/// What a file-like message carries.
///
/// ```
/// use roam_sdk::{Body, FileKind};
/// let photo = Body::File { kind: FileKind::Image, url: "https://cdn/x.png".into(), name: None, length: None };
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FileKind {
    Image,
    Audio,
    Video,
    File,
}

/// A message's content.
///
/// ```
/// use roam_sdk::Body;
/// fn summary(b: &Body) -> String {
///     match b {
///         Body::Text(t) => t.clone(),
///         Body::Custom { event, .. } => format!("[{event}]"),
///         other => format!("{other:?}"),
///     }
/// }
/// assert_eq!(summary(&Body::Text("hi".into())), "hi");
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Body {
    Text(String),
    /// A command (`cmd`): not shown to users, not kept as conversation activity by apps.
    Command {
        action: String,
    },
    /// An app-defined message: an event name and string-valued fields.
    Custom {
        event: String,
        fields: Map<String, Value>,
    },
    Location {
        latitude: f64,
        longitude: f64,
        address: Option<String>,
    },
    /// An image, voice, video or file, uploaded elsewhere: its URL and metadata.
    File {
        kind: FileKind,
        url: String,
        name: Option<String>,
        length: Option<i64>,
    },
    /// A type this SDK does not read (its Easemob type name, e.g. `combine`).
    Other(String),
}

impl Body {
    /// The body as Easemob's REST JSON (`type` name and body object).
    fn to_rest(&self) -> (&'static str, Value) {
        match self {
            Body::Text(t) => ("txt", json!({ "msg": t })),
            Body::Command { action } => ("cmd", json!({ "action": action })),
            Body::Custom { event, fields } => (
                "custom",
                json!({ "customEvent": event, "customExts": fields }),
            ),
            Body::Location {
                latitude,
                longitude,
                address,
            } => (
                "loc",
                json!({ "lat": latitude, "lng": longitude, "addr": address }),
            ),
            Body::File {
                kind,
                url,
                name,
                length,
            } => (
                match kind {
                    FileKind::Image => "img",
                    FileKind::Audio => "audio",
                    FileKind::Video => "video",
                    FileKind::File => "file",
                },
                json!({ "url": url, "filename": name, "file_length": length }),
            ),
            Body::Other(_) => ("txt", json!({ "msg": "" })),
        }
    }

    fn from_content(c: &Content) -> Body {
        let string = |s: &Option<String>| s.clone().unwrap_or_default();
        let file = |kind| Body::File {
            kind,
            url: string(&c.remote_path),
            name: c.display_name.clone(),
            length: c.file_length.map(i64::from),
        };
        match content::Type::try_from(c.r#type.unwrap_or_default()) {
            Ok(content::Type::Text) => Body::Text(string(&c.text)),
            Ok(content::Type::Command) => Body::Command {
                action: string(&c.action),
            },
            Ok(content::Type::Custom) => Body::Custom {
                event: string(&c.custom_event),
                fields: message_json::ext_from_wire(&c.custom_exts),
            },
            Ok(content::Type::Location) => Body::Location {
                latitude: c.latitude.unwrap_or_default(),
                longitude: c.longitude.unwrap_or_default(),
                address: c.address.clone(),
            },
            Ok(content::Type::Image) => file(FileKind::Image),
            Ok(content::Type::Voice) => file(FileKind::Audio),
            Ok(content::Type::Video) => file(FileKind::Video),
            Ok(content::Type::File) => file(FileKind::File),
            Ok(content::Type::Combine) => Body::Other("combine".into()),
            Err(_) => Body::Other(String::new()),
        }
    }
}

/// A message to send.
///
/// ```
/// use roam_sdk::{ChatType, Outgoing};
/// let hello = Outgoing::text(ChatType::Single, "bob", "hello").with_ext("priority", 1);
/// assert_eq!(hello.to, "bob");
/// ```
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub chat_type: ChatType,
    /// The user, group or chat room id.
    pub to: String,
    pub body: Body,
    /// App-defined extra fields, delivered as they are.
    pub ext: Map<String, Value>,
}

impl Outgoing {
    /// A message with `body` to `to`.
    ///
    /// ```
    /// use roam_sdk::{Body, ChatType, Outgoing};
    /// let ping = Outgoing::new(ChatType::Group, "g1", Body::Command { action: "ping".into() });
    /// assert!(ping.ext.is_empty());
    /// ```
    pub fn new(chat_type: ChatType, to: impl Into<String>, body: Body) -> Outgoing {
        Outgoing {
            chat_type,
            to: to.into(),
            body,
            ext: Map::new(),
        }
    }

    /// A text message.
    ///
    /// ```
    /// use roam_sdk::{Body, ChatType, Outgoing};
    /// let m = Outgoing::text(ChatType::Single, "bob", "hi");
    /// assert_eq!(m.body, Body::Text("hi".into()));
    /// ```
    pub fn text(chat_type: ChatType, to: impl Into<String>, text: impl Into<String>) -> Outgoing {
        Outgoing::new(chat_type, to, Body::Text(text.into()))
    }

    /// Adds an `ext` field.
    ///
    /// ```
    /// use roam_sdk::{ChatType, Outgoing};
    /// let m = Outgoing::text(ChatType::Single, "bob", "hi").with_ext("k", "v");
    /// assert_eq!(m.ext["k"], "v");
    /// ```
    pub fn with_ext(mut self, key: impl Into<String>, value: impl Into<Value>) -> Outgoing {
        self.ext.insert(key.into(), value.into());
        self
    }

    /// The wire body, from `from`.
    pub(crate) fn to_wire(&self, from: &str) -> Result<MessageBody, crate::Error> {
        let (kind, body) = self.body.to_rest();
        message_json::body_from_rest(
            self.chat_type.kind(),
            from,
            &self.to,
            kind,
            &body,
            Some(&self.ext),
        )
        .map_err(|e| crate::Error::Protocol(e.0))
    }
}

/// A message as received: pushed live, pulled at login, or read from history.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// let page = client.get_history_messages(&roam_sdk::HistoryQuery::new(roam_sdk::ChatType::Single, "bob")).await?;
/// for m in &page.messages {
///     println!("{} {} → {}: {:?}", m.time, m.from, m.to, m.body);
/// }
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Message {
    /// The server's id: unique, time-ordered; the cursor of history pages. (Serialized as a
    /// string: it passes 2^53.)
    #[serde(serialize_with = "crate::ids::string")]
    pub id: u64,
    pub from: String,
    /// The sender's device, when the server says.
    pub from_resource: Option<String>,
    /// The recipient user, or the group or chat room.
    pub to: String,
    pub chat_type: ChatType,
    /// Server time, ms since the Unix epoch.
    pub time: u64,
    pub body: Body,
    pub ext: Map<String, Value>,
}

fn name(j: &Option<Jid>) -> String {
    j.as_ref().and_then(|j| j.name.clone()).unwrap_or_default()
}

impl Message {
    /// A chat message meta (`ns` CHAT whose body is a message, not an ack).
    pub(crate) fn from_meta(meta: &Meta, body: &MessageBody) -> Option<Message> {
        let chat_type = match message_body::Type::try_from(body.r#type.unwrap_or_default()) {
            Ok(message_body::Type::Chat | message_body::Type::Normal) => ChatType::Single,
            Ok(message_body::Type::Groupchat) => ChatType::Group,
            Ok(message_body::Type::Chatroom) => ChatType::ChatRoom,
            _ => return None,
        };
        Some(Message {
            id: meta.id.unwrap_or_default(),
            from: name(&meta.from),
            from_resource: meta.from.as_ref().and_then(|j| j.client_resource.clone()),
            to: name(&meta.to),
            chat_type,
            time: meta.timestamp.unwrap_or_default(),
            body: body
                .contents
                .first()
                .map_or(Body::Other(String::new()), Body::from_content),
            ext: message_json::ext_from_wire(&body.ext),
        })
    }

    /// A message in Easemob's REST JSON (a conversation's `lastMessage`): `payload` is
    /// `{"bodies":[{type,…}],"ext":{…},"from","to","type"}`.
    pub(crate) fn from_rest(id: u64, time: u64, payload: &Value) -> Option<Message> {
        let chat_type = ChatType::from_rest(payload.get("type")?.as_str()?);
        let from = payload.get("from")?.as_str()?.to_owned();
        let to = payload.get("to")?.as_str()?.to_owned();
        let first = payload.get("bodies")?.as_array()?.first()?;
        let kind = first.get("type")?.as_str()?;
        let ext = payload.get("ext").and_then(Value::as_object);
        // The list writes a custom body's fields as an array of one-field objects.
        let mut first = first.clone();
        if let Some(Value::Array(fields)) = first.get("customExts") {
            let merged: Map<String, Value> = fields
                .iter()
                .filter_map(Value::as_object)
                .flat_map(|o| o.clone())
                .collect();
            first["customExts"] = Value::Object(merged);
        }
        let wire =
            message_json::body_from_rest(chat_type.kind(), &from, &to, kind, &first, ext).ok()?;
        Some(Message {
            id,
            from,
            from_resource: None,
            to,
            chat_type,
            time,
            body: wire
                .contents
                .first()
                .map_or(Body::Other(kind.to_owned()), Body::from_content),
            ext: ext.cloned().unwrap_or_default(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bodies_survive_the_wire_and_rest_json() {
        let mut fields = Map::new();
        fields.insert("k".into(), "v".into());
        for body in [
            Body::Text("hi".into()),
            Body::Command {
                action: "ping".into(),
            },
            Body::Custom {
                event: "gift".into(),
                fields,
            },
            Body::Location {
                latitude: 1.5,
                longitude: 2.5,
                address: Some("here".into()),
            },
            Body::File {
                kind: FileKind::Image,
                url: "http://x/y.png".into(),
                name: Some("y.png".into()),
                length: Some(10),
            },
        ] {
            let out = Outgoing::new(ChatType::Group, "g1", body.clone()).with_ext("n", 1);
            let wire = out.to_wire("alice").unwrap();
            let meta = Meta {
                id: Some(7),
                timestamp: Some(9),
                ..Default::default()
            };
            let got = Message::from_meta(&meta, &wire).unwrap();
            assert_eq!(
                (got.body.clone(), got.chat_type),
                (body.clone(), ChatType::Group)
            );
            assert_eq!(got.ext["n"], 1);
            let rest = message_json::body_to_rest(&wire, ChatKind::Group);
            let back = Message::from_rest(7, 9, &rest).unwrap();
            assert_eq!(back.body, body);
            assert_eq!((back.from.as_str(), back.to.as_str()), ("alice", "g1"));
        }
    }
}
