//! # roam-sdk
//!
//! A Rust client for [Roam](https://github.com/) — and for any server that speaks Easemob
//! IM's protocol: msync (protobuf over WebSocket) for messages and events, plus the REST API
//! for the server-side conversation list and history. It depends on Roam's protocol crate
//! only, never on the server.
//!
//! ```no_run
//! use roam_sdk::{ChatType, Client, ConversationQuery, Event, Options, Outgoing};
//!
//! # async fn run() -> Result<(), roam_sdk::Error> {
//! let (client, mut events) =
//!     Client::open(Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw")).await?;
//! let sent = client.send(&Outgoing::text(ChatType::Single, "bob", "hello bob")).await?;
//! println!("stored as {}", sent.id);
//!
//! let page = client.get_server_conversations(&ConversationQuery::default()).await?;
//! for c in &page.conversations {
//!     println!("{} ({} unread)", c.id, c.unread);
//! }
//! while let Some(event) = events.recv().await {
//!     if let Event::Message(m) = event {
//!         println!("{}: {:?}", m.from, m.body);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! Plain `http://` / `ws://` URLs work out of the box; `https://` / `wss://` need the `tls`
//! feature (rustls on ring with the webpki roots).
//!
//! A client keeps its connection up by itself: after a drop it reconnects with backoff, sends
//! again what was not acknowledged (the server stores it once) and delivers what arrived
//! meanwhile, each message once ([`Event::Disconnected`] and [`Event::Reconnected`] say so).
//!
//! The types serialize (for logs, tools and the `roam` CLI's `--json`) with 64-bit ids as
//! JSON strings: message ids pass 2^53, which JavaScript numbers and `jq` round.
mod admin;
mod client;
mod connection;
mod conversation;
mod error;
mod event;
mod ids;
mod message;
mod options;

pub use admin::{Admin, Group, GroupSummary, Member, NewGroup, User};
pub use client::{Client, Sent};
pub use connection::Reconnect;
pub use conversation::{
    Conversation, ConversationPage, ConversationQuery, ConversationRef, Direction, HistoryPage,
    HistoryQuery, MAX_DELETE_IDS, MAX_PAGE_SIZE, PinState, Removal,
};
pub use error::{Error, InputError};
pub use event::{Event, Events, GroupEvent, MultiDeviceEvent, MultiDeviceOp};
pub use message::{Body, ChatType, FileKind, Message, Outgoing};
pub use options::{Credentials, Options};
