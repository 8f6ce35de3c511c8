//! What can go wrong, as one error type for the SDK's callers: arguments refused before any
//! request ([`InputError`]), the server's refusals by kind, and transport failures.
use roam_protocol::rest::ErrorBody;

/// An argument the SDK refuses before sending anything (as the official SDK does).
///
/// ```
/// # async fn f(client: roam_sdk::Client) {
/// use roam_sdk::{ConversationQuery, Error, InputError};
/// let too_big = ConversationQuery { page_size: 51, ..Default::default() };
/// let e = client.get_server_conversations(&too_big).await.unwrap_err();
/// assert!(matches!(e, Error::Input(InputError::PageSize(51))));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InputError {
    /// Page sizes are 1..=50.
    #[error("page size must be 1 to 50, got {0}")]
    PageSize(u32),
    /// A one-way delete names 1..=50 message ids.
    #[error("a delete names 1 to 50 message ids, got {0}")]
    MessageIds(usize),
    /// Marks are 0..=19.
    #[error("marks are 0 to 19, got {0}")]
    Mark(u8),
    /// Marks are set on 1..=20 conversations at a time.
    #[error("marks are set on 1 to 20 conversations at a time, got {0}")]
    MarkTargets(usize),
    /// An `https://` or `wss://` URL without the crate's `tls` feature.
    #[error("{0}: https:// and wss:// need roam-sdk's `tls` feature")]
    TlsDisabled(String),
    /// An empty user, group or conversation id.
    #[error("{0} must not be empty")]
    Empty(&'static str),
}

/// Everything an SDK call can fail with.
///
/// ```
/// # async fn f(client: roam_sdk::Client) {
/// use roam_sdk::{ChatType, Error};
/// match client.pin_conversation("bob", ChatType::Single, true).await {
///     Ok(_) => {}
///     Err(Error::PinLimit(_)) => println!("unpin one first"),
///     Err(Error::ConversationNotFound) => println!("no conversation with bob"),
///     Err(e) => println!("{e}"),
/// }
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// (Not the error's `source`: the message already says it, and a chain printed as
    /// `a: b` would say it twice.)
    #[error("invalid argument: {0}")]
    Input(InputError),
    /// Wrong password, or the token is unknown or expired (HTTP 401, or a refused login).
    #[error("unauthorized: {0}")]
    Unauthorized(String),
    /// The server refused the login for another reason (msync status code and reason).
    #[error("login refused ({code}): {reason}")]
    LoginRefused { code: i32, reason: String },
    /// Not allowed (HTTP 403), e.g. another user's conversations.
    #[error("forbidden: {0}")]
    Forbidden(String),
    /// The user has no such conversation.
    #[error("conversation not found")]
    ConversationNotFound,
    /// Pinning one more conversation would pass the server's limit (50 by default).
    #[error("too many pinned conversations: {0}")]
    PinLimit(String),
    /// Not a member of the group or chat room.
    #[error("not in the group or chat room: {0}")]
    NotMember(String),
    /// No such user, group, chat room or endpoint (HTTP 404).
    #[error("not found: {0}")]
    NotFound(String),
    /// The server refused an argument (HTTP 400).
    #[error("bad request: {0}")]
    BadRequest(String),
    /// A message the server refused (msync status code and reason).
    #[error("message refused ({code}): {reason}")]
    SendRefused { code: i32, reason: String },
    /// Any other refusal: the HTTP status and Easemob's error body.
    #[error("server error {status}: {description}")]
    Server { status: u16, description: String },
    /// The client was closed (or its connection gave up for good).
    #[error("the client is closed")]
    Closed,
    /// A REST-only client ([`crate::Client::open_rest`]) cannot send.
    #[error("this client has no connection (opened for REST only)")]
    NotConnected,
    /// The HTTP request failed (its cause is the error's `source`).
    #[error("HTTP request failed")]
    Http(#[from] reqwest::Error),
    /// The WebSocket failed (its cause is the error's `source`).
    #[error("WebSocket failed")]
    WebSocket(#[from] tokio_tungstenite::tungstenite::Error),
    /// The server answered something this SDK cannot read.
    #[error("unexpected answer: {0}")]
    Protocol(String),
}

impl From<InputError> for Error {
    fn from(e: InputError) -> Error {
        Error::Input(e)
    }
}

/// What a refused password login means: the server answers the same for an unknown user and
/// a wrong password (so as not to tell which users exist), and so does the SDK.
pub(crate) const BAD_LOGIN: &str = "unknown user or wrong password";

/// Easemob's REST error codes the SDK tells apart.
const CONVERSATION_NOT_FOUND: u32 = 91001;
const PIN_LIMIT: u32 = 40005;

impl Error {
    /// The error for a REST answer with a status other than 200: by `error_code`, then by
    /// status (the same table the official SDK uses).
    pub(crate) fn from_rest(status: u16, body: &[u8]) -> Error {
        let parsed: Option<ErrorBody> = serde_json::from_slice(body).ok();
        let description = parsed.as_ref().map_or_else(
            || String::from_utf8_lossy(body).into_owned(),
            |b| b.error_description.clone(),
        );
        // A wrong password is 400 `invalid_grant` (OAuth's answer), not 401.
        if parsed.as_ref().is_some_and(|b| b.error == "invalid_grant") {
            return Error::Unauthorized(description);
        }
        match (parsed.and_then(|b| b.error_code), status) {
            (Some(CONVERSATION_NOT_FOUND), _) => Error::ConversationNotFound,
            (Some(PIN_LIMIT), _) => Error::PinLimit(description),
            (_, 400) => Error::BadRequest(description),
            (_, 401) => Error::Unauthorized(description),
            (_, 403) if description.contains("not in group") => Error::NotMember(description),
            (_, 403) => Error::Forbidden(description),
            (_, 404) => Error::NotFound(description),
            (_, status) => Error::Server {
                status,
                description,
            },
        }
    }

    /// The error for a message the server refused over msync.
    pub(crate) fn from_send(code: i32, reason: String) -> Error {
        if reason.contains("not in group or chatroom") {
            Error::NotMember(reason)
        } else {
            Error::SendRefused { code, reason }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(code: Option<u32>, description: &str) -> Vec<u8> {
        serde_json::to_vec(&ErrorBody {
            error: "x".into(),
            error_description: description.into(),
            error_code: code,
            timestamp: 0,
            duration: 0,
            exception: String::new(),
        })
        .unwrap()
    }

    #[test]
    fn rest_errors_map_by_code_then_status() {
        assert!(matches!(
            Error::from_rest(404, &body(Some(91001), "x")),
            Error::ConversationNotFound
        ));
        assert!(matches!(
            Error::from_rest(403, &body(Some(40005), "limit")),
            Error::PinLimit(d) if d == "limit"
        ));
        assert!(matches!(
            Error::from_rest(400, &body(None, "bad")),
            Error::BadRequest(_)
        ));
        assert!(matches!(
            Error::from_rest(401, b"not json"),
            Error::Unauthorized(d) if d == "not json"
        ));
        assert!(matches!(
            Error::from_rest(503, &body(None, "down")),
            Error::Server { status: 503, .. }
        ));
    }
}
