//! Where and as whom a client connects: [`Options`] and [`Credentials`].
use crate::connection::Reconnect;

/// How the client proves who it is.
///
/// ```
/// let by_token = roam_sdk::Credentials::Token("YWMt...".into());
/// assert_ne!(by_token, roam_sdk::Credentials::Password("pw".into()));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// The user's password: the client takes a token with it first.
    Password(String),
    /// A token taken earlier (`POST /{org}/{app}/token`).
    Token(String),
}

/// Where and as whom to connect.
///
/// ```
/// use roam_sdk::Options;
/// let o = Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw");
/// assert_eq!(o.ws_url(), "ws://127.0.0.1:5280/websocket");
/// ```
#[derive(Debug, Clone)]
pub struct Options {
    /// The server's base URL for REST, e.g. `http://127.0.0.1:5280`.
    pub api_url: String,
    /// The msync WebSocket URL; `None`: `api_url` with `ws` for `http` plus `/websocket`.
    pub ws_url: Option<String>,
    /// The app, `org#app`.
    pub app_key: String,
    pub user: String,
    pub credentials: Credentials,
    /// This device's name; `None`: a fresh one per client. Give a stable one to have the server
    /// keep this device's place (what it was delivered) across runs.
    pub resource: Option<String>,
    pub reconnect: Reconnect,
}

impl Options {
    /// Log in with a password.
    ///
    /// ```
    /// let o = roam_sdk::Options::password("http://h:1", "o#a", "alice", "pw");
    /// assert_eq!(o.user, "alice");
    /// ```
    pub fn password(api_url: &str, app_key: &str, user: &str, password: &str) -> Options {
        Options::new(
            api_url,
            app_key,
            user,
            Credentials::Password(password.into()),
        )
    }

    /// Log in with a token.
    ///
    /// ```
    /// let o = roam_sdk::Options::token("http://h:1", "o#a", "alice", "YWMt...");
    /// assert!(matches!(o.credentials, roam_sdk::Credentials::Token(_)));
    /// ```
    pub fn token(api_url: &str, app_key: &str, user: &str, token: &str) -> Options {
        Options::new(api_url, app_key, user, Credentials::Token(token.into()))
    }

    /// Options with the defaults for everything else. `api_url` may be a full URL
    /// (`http(s)://…`), the WebSocket URL's scheme (`ws(s)://…`, read as `http(s)://…`), or
    /// a bare `host:port` (read as `http://host:port`).
    ///
    /// ```
    /// use roam_sdk::{Credentials, Options};
    /// let o = Options::new("http://h:1", "o#a", "bob", Credentials::Password("pw".into()));
    /// assert!(o.resource.is_none());
    /// let bare = Options::new("127.0.0.1:5280", "o#a", "bob", Credentials::Password("pw".into()));
    /// assert_eq!(bare.api_url, "http://127.0.0.1:5280");
    /// ```
    pub fn new(api_url: &str, app_key: &str, user: &str, credentials: Credentials) -> Options {
        Options {
            api_url: api_base(api_url),
            ws_url: None,
            app_key: app_key.to_owned(),
            user: user.to_owned(),
            credentials,
            resource: None,
            reconnect: Reconnect::default(),
        }
    }

    /// Sets this device's name.
    ///
    /// ```
    /// let o = roam_sdk::Options::password("http://h:1", "o#a", "bob", "pw").with_resource("phone");
    /// assert_eq!(o.resource.as_deref(), Some("phone"));
    /// ```
    pub fn with_resource(mut self, resource: &str) -> Options {
        self.resource = Some(resource.to_owned());
        self
    }

    /// The WebSocket URL the client connects to.
    ///
    /// ```
    /// let o = roam_sdk::Options::password("https://im.example.com", "o#a", "bob", "pw");
    /// assert_eq!(o.ws_url(), "wss://im.example.com/websocket");
    /// ```
    pub fn ws_url(&self) -> String {
        self.ws_url.clone().unwrap_or_else(|| {
            let base = if let Some(rest) = self.api_url.strip_prefix("https://") {
                format!("wss://{rest}")
            } else if let Some(rest) = self.api_url.strip_prefix("http://") {
                format!("ws://{rest}")
            } else {
                self.api_url.clone()
            };
            format!("{base}/websocket")
        })
    }
}

/// The REST base URL of what a user typed for a server: `http(s)://` as given, `ws(s)://` as
/// `http(s)://`, no scheme as `http://`; without a trailing `/`.
fn api_base(given: &str) -> String {
    let given = given.trim().trim_end_matches('/');
    let (scheme, rest) = match given.split_once("://") {
        Some((scheme, rest)) => (scheme.to_ascii_lowercase(), rest),
        None => ("http".to_owned(), given),
    };
    let scheme = match scheme.as_str() {
        "ws" => "http",
        "wss" => "https",
        other => other,
    };
    format!("{scheme}://{rest}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_server_is_given_as_host_port_or_any_url() {
        for (given, base) in [
            ("127.0.0.1:5280", "http://127.0.0.1:5280"),
            ("localhost:5280/", "http://localhost:5280"),
            ("http://h:1", "http://h:1"),
            ("https://im.example.com/", "https://im.example.com"),
            ("ws://h:1", "http://h:1"),
            ("WSS://im.example.com", "https://im.example.com"),
        ] {
            assert_eq!(api_base(given), base, "{given}");
        }
        let o = Options::password("wss://im.example.com", "o#a", "u", "p");
        assert_eq!(o.ws_url(), "wss://im.example.com/websocket");
    }
}
