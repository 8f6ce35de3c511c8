//! The client: login, the event stream, sending, and the REST plumbing the conversation
//! operations use.
use std::sync::Arc;

use prost::Message as _;
use roam_protocol::{
    jid,
    pb::{Jid, MessageBody, MucBody, message_body, meta::NameSpace, muc_body},
    rest::{TokenRequest, TokenResponse},
};
use serde::de::DeserializeOwned;
use tokio::sync::{mpsc, oneshot};

use crate::{
    ChatType, Credentials, Error, Events, Options, Outgoing,
    connection::{self, Command, Login},
};

/// What the server answered a send with.
///
/// ```
/// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
/// let sent = client.send(&roam_sdk::Outgoing::text(roam_sdk::ChatType::Single, "bob", "hi")).await?;
/// println!("id {} at {}", sent.id, sent.time);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Sent {
    /// The server's id for the message. (Serialized as a string: it passes 2^53.)
    #[serde(serialize_with = "crate::ids::string")]
    pub id: u64,
    /// Server time, ms since the Unix epoch.
    pub time: u64,
}

/// A logged-in user on one device. Cheap to clone; every clone is the same connection.
///
/// ```
/// # async fn f() -> Result<(), roam_sdk::Error> {
/// use roam_sdk::{ChatType, Client, Options, Outgoing};
/// let (client, _events) =
///     Client::open(Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw")).await?;
/// let other = client.clone(); // the same connection
/// other.send(&Outgoing::text(ChatType::Single, "bob", "hi")).await?;
/// client.close().await;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    /// `{api_url}/{org}/{app}`
    base: String,
    app_key: String,
    user: String,
    resource: String,
    token: String,
    /// The connection task; `None` for a REST-only client.
    commands: Option<mpsc::UnboundedSender<Command>>,
}

impl Client {
    /// Logs in (taking a token first when given a password), connects, and returns the
    /// client with its event stream. Fails if the credentials or the login are refused;
    /// after that, a lost connection is re-established by itself.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::{Client, Options};
    /// let (client, mut events) =
    ///     Client::open(Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open(options: Options) -> Result<(Client, Events), Error> {
        let (http, base, token) = Client::authenticate(&options).await?;
        let user = options.user.to_lowercase();
        let resource = options.resource.clone().unwrap_or_else(fresh_resource);
        let (events_tx, rx) = mpsc::unbounded_channel();
        let (commands, logged_in) = connection::spawn(
            Login {
                ws_url: options.ws_url(),
                app_key: options.app_key.clone(),
                user: user.clone(),
                resource: resource.clone(),
                token: token.clone(),
            },
            options.reconnect,
            events_tx,
        );
        logged_in.await.map_err(|_| Error::Closed)??;
        let client = Client {
            inner: Arc::new(Inner {
                http,
                base,
                app_key: options.app_key,
                user,
                resource,
                token,
                commands: Some(commands),
            }),
        };
        Ok((client, Events { rx }))
    }

    /// A client for the REST operations only (conversations, history, pins, marks,
    /// deletes): no WebSocket, so no device is registered and nothing is delivered to it.
    /// Sending, acks and chat rooms answer [`Error::NotConnected`]. For scripts and tools
    /// that only read or manage conversations.
    ///
    /// ```no_run
    /// # async fn f() -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::{Client, ConversationQuery, Options};
    /// let client =
    ///     Client::open_rest(Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw")).await?;
    /// let page = client.get_server_conversations(&ConversationQuery::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn open_rest(options: Options) -> Result<Client, Error> {
        let (http, base, token) = Client::authenticate(&options).await?;
        Ok(Client {
            inner: Arc::new(Inner {
                http,
                base,
                user: options.user.to_lowercase(),
                // Changes made here reach every device of the user.
                resource: options.resource.unwrap_or_default(),
                app_key: options.app_key,
                token,
                commands: None,
            }),
        })
    }

    /// Checks the options and takes a token if given a password: (HTTP client, REST base
    /// URL, token).
    async fn authenticate(options: &Options) -> Result<(reqwest::Client, String, String), Error> {
        let (org, app) = options
            .app_key
            .split_once('#')
            .ok_or_else(|| Error::BadRequest("app_key must be org#app".into()))?;
        if options.user.is_empty() {
            return Err(crate::InputError::Empty("user").into());
        }
        if !cfg!(feature = "tls") {
            for url in [options.api_url.clone(), options.ws_url()] {
                if url.starts_with("https://") || url.starts_with("wss://") {
                    return Err(crate::InputError::TlsDisabled(url).into());
                }
            }
        }
        let base = format!("{}/{org}/{app}", options.api_url);
        let http = reqwest::Client::new();
        let token = match &options.credentials {
            Credentials::Token(t) => t.clone(),
            Credentials::Password(pw) => {
                let request = TokenRequest {
                    grant_type: "password".into(),
                    username: Some(options.user.clone()),
                    password: Some(pw.clone()),
                    ..Default::default()
                };
                let t: TokenResponse =
                    Client::answer(http.post(format!("{base}/token")).json(&request))
                        .await
                        .map_err(|e| match e {
                            Error::Unauthorized(_) => {
                                Error::Unauthorized(crate::error::BAD_LOGIN.into())
                            }
                            e => e,
                        })?;
                t.access_token
            }
        };
        Ok((http, base, token))
    }

    /// The logged-in user (lower case: user ids are case-insensitive).
    pub fn user(&self) -> &str {
        &self.inner.user
    }

    /// This device's name (empty for a REST-only client).
    pub fn resource(&self) -> &str {
        &self.inner.resource
    }

    /// The token in use (for the REST API).
    pub fn token(&self) -> &str {
        &self.inner.token
    }

    /// Sends a message; returns once the server has stored it. If the connection drops
    /// meanwhile, the message goes out again after the reconnect and is still stored once.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// use roam_sdk::{ChatType, Outgoing};
    /// let sent = client.send(&Outgoing::text(ChatType::Single, "bob", "hello")).await?;
    /// println!("stored as {}", sent.id);
    /// # Ok(()) }
    /// ```
    pub async fn send(&self, message: &Outgoing) -> Result<Sent, Error> {
        if message.to.is_empty() {
            return Err(crate::InputError::Empty("to").into());
        }
        let body = message.to_wire(&self.inner.user)?;
        let to = self.jid(message.chat_type, &message.to);
        self.send_meta(to, NameSpace::Chat, body.encode_to_vec())
            .await
    }

    /// Marks a whole conversation read (a conversation read ack): its unread count becomes
    /// 0 on every device of this user, and the peer of a single chat is told.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.send_conversation_read_ack(roam_sdk::ChatType::Single, "bob").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_conversation_read_ack(
        &self,
        chat_type: ChatType,
        conversation: &str,
    ) -> Result<(), Error> {
        self.send_ack(
            chat_type,
            conversation,
            message_body::Type::ChannelAck,
            None,
        )
        .await
    }

    /// Tells the sender of message `id` in a single chat that it was read.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.send_read_ack("bob", 1234).await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_read_ack(&self, to: &str, id: u64) -> Result<(), Error> {
        self.send_ack(ChatType::Single, to, message_body::Type::ReadAck, Some(id))
            .await
    }

    async fn send_ack(
        &self,
        chat_type: ChatType,
        to: &str,
        ty: message_body::Type,
        id: Option<u64>,
    ) -> Result<(), Error> {
        let name = |n: &str| Jid {
            name: Some(n.to_owned()),
            ..Default::default()
        };
        let body = MessageBody {
            r#type: Some(ty as i32),
            from: Some(name(&self.inner.user)),
            to: Some(name(to)),
            ack_message_id: id,
            contents: vec![Default::default()],
            ..Default::default()
        };
        self.send_meta(
            self.jid(chat_type, to),
            NameSpace::Chat,
            body.encode_to_vec(),
        )
        .await
        .map(|_| ())
    }

    /// Joins a chat room (to send to it and receive its messages).
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.join_chat_room("123456").await?;
    /// # Ok(()) }
    /// ```
    pub async fn join_chat_room(&self, room: &str) -> Result<(), Error> {
        self.muc(room, muc_body::Operation::Join).await
    }

    /// Leaves a chat room.
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) -> Result<(), roam_sdk::Error> {
    /// client.leave_chat_room("123456").await?;
    /// # Ok(()) }
    /// ```
    pub async fn leave_chat_room(&self, room: &str) -> Result<(), Error> {
        self.muc(room, muc_body::Operation::Leave).await
    }

    async fn muc(&self, room: &str, op: muc_body::Operation) -> Result<(), Error> {
        let jid = jid::conference(&self.inner.app_key, room);
        let body = MucBody {
            muc_id: Some(jid.clone()),
            operation: Some(op as i32),
            is_chatroom: Some(true),
            ..Default::default()
        };
        self.send_meta(jid, NameSpace::Muc, body.encode_to_vec())
            .await
            .map(|_| ())
    }

    async fn send_meta(&self, to: Jid, ns: NameSpace, payload: Vec<u8>) -> Result<Sent, Error> {
        let (done, answer) = oneshot::channel();
        self.inner
            .commands
            .as_ref()
            .ok_or(Error::NotConnected)?
            .send(Command::Send {
                to,
                ns,
                payload,
                done,
            })
            .map_err(|_| Error::Closed)?;
        let (id, time) = answer.await.map_err(|_| Error::Closed)??;
        Ok(Sent { id, time })
    }

    /// Logs out and stops. The event stream ends; other clones fail with [`Error::Closed`].
    ///
    /// ```no_run
    /// # async fn f(client: roam_sdk::Client) {
    /// client.close().await;
    /// # }
    /// ```
    pub async fn close(&self) {
        let (done, closed) = oneshot::channel();
        if let Some(commands) = &self.inner.commands
            && commands.send(Command::Close { done }).is_ok()
        {
            let _ = closed.await;
        }
    }

    fn jid(&self, chat_type: ChatType, to: &str) -> Jid {
        match chat_type {
            ChatType::Single => jid::user(&self.inner.app_key, to, None),
            _ => jid::conference(&self.inner.app_key, to),
        }
    }

    /// A REST request under `/{org}/{app}` with this user's token; `?resource=` names this
    /// device so that the change reaches only the user's other devices. Add a body with
    /// `.json(..)`, then send it with [`Client::answer`].
    pub(crate) fn rest(
        &self,
        method: reqwest::Method,
        path: &str,
        query: &[(&str, String)],
    ) -> reqwest::RequestBuilder {
        let mut req = self
            .inner
            .http
            .request(method, format!("{}{path}", self.inner.base))
            .bearer_auth(&self.inner.token)
            .query(query);
        if !self.inner.resource.is_empty() {
            req = req.query(&[("resource", self.inner.resource.as_str())]);
        }
        req
    }

    /// Sends a REST request and reads its answer as `T` (one of the protocol crate's
    /// [`roam_protocol::rest`] types); any status but 200 is the server's error.
    pub(crate) async fn answer<T: DeserializeOwned>(
        req: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        let resp = req.send().await?;
        let status = resp.status().as_u16();
        let bytes = resp.bytes().await?;
        if status != 200 {
            return Err(Error::from_rest(status, &bytes));
        }
        serde_json::from_slice(&bytes).map_err(|e| Error::Protocol(e.to_string()))
    }
}

/// A device name unique enough for one user's devices.
fn fresh_resource() -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("rust_{:x}", nanos & 0xffff_ffff_ffff)
}

#[cfg(all(test, not(feature = "tls")))]
mod tests {
    use super::*;

    #[tokio::test]
    async fn https_without_the_tls_feature_is_refused_up_front() {
        let e = Client::open_rest(Options::password("https://im.example.com", "o#a", "u", "p"))
            .await
            .err()
            .unwrap();
        assert!(matches!(
            e,
            Error::Input(crate::InputError::TlsDisabled(url)) if url == "https://im.example.com"
        ));
    }
}
