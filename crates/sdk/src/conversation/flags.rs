//! A user's own flags on conversations — pins and marks — and conversation deletes. Each
//! reaches the user's other devices as a multi-device event.
use reqwest::Method;
use roam_protocol::rest::roaming::{
    ChannelRef, DeleteConversationBody, DeletedResponse, MarkBody, MarkResponse, PinBody,
    PinResponse,
};

use super::mark_name;
use crate::{ChatType, Client, Error, InputError};

/// Most conversations one mark call names.
const MAX_MARK_TARGETS: usize = 20;

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

/// A conversation named for a mark: its id and type.
///
/// ```
/// let both: [roam_sdk::ConversationRef; 2] = [("bob", roam_sdk::ChatType::Single), ("g1", roam_sdk::ChatType::Group)];
/// ```
pub type ConversationRef<'a> = (&'a str, ChatType);

impl Client {
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
        let request = if pinned {
            let body = PinBody {
                to: conversation.to_owned(),
                kind: kind.to_owned(),
            };
            self.rest(Method::POST, &path, &[]).json(&body)
        } else {
            let query = [("to", conversation.to_owned()), ("type", kind.to_owned())];
            self.rest(Method::DELETE, &path, &query)
        };
        let answer: PinResponse = Client::answer(request).await?;
        Ok(PinState {
            pinned: answer.data.is_top,
            time: answer.data.update_top_status_time,
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
        if conversations.is_empty() || conversations.len() > MAX_MARK_TARGETS {
            return Err(InputError::MarkTargets(conversations.len()).into());
        }
        let body = MarkBody {
            mark: mark_name(mark)?,
            targets: conversations
                .iter()
                .map(|(id, t)| ChannelRef {
                    to: (*id).to_owned(),
                    kind: t.rest_name().to_owned(),
                })
                .collect(),
        };
        let request = self
            .rest(method, &self.user_path("user_channels/mark"), &[])
            .json(&body);
        let answer: MarkResponse = Client::answer(request).await?;
        Ok(answer.data.ignore.into_iter().map(|t| t.to).collect())
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
        let body = DeleteConversationBody {
            channel: channel.to_owned(),
            kind: chat_type.rest_name().to_owned(),
            delete_roam,
        };
        let path = format!("/user/{}/user_channel", self.user());
        let _: DeletedResponse =
            Client::answer(self.rest(Method::DELETE, &path, &[]).json(&body)).await?;
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
        let _: DeletedResponse = Client::answer(self.rest(Method::POST, &path, &[])).await?;
        Ok(())
    }
}
