//! The app admin over REST: users, groups and their members, messages sent as the admin, and
//! any user's conversations and history. For operators' tools (the `roam admin` CLI).
//!
//! The admin token comes from the `client_credentials` grant (`POST /{org}/{app}/token`
//! with the app's client id and secret); every call sends it as a bearer token. A user's
//! roaming data is read through [`Admin::as_user`]: a REST-only [`Client`] for that user
//! carrying the admin token, which the server accepts for any user's conversation list,
//! history, pins, marks and deletes.
use reqwest::Method;
use roam_protocol::rest::{
    EntitiesResponse, NewPasswordBody, NewUserBody, TokenRequest, TokenResponse, UserEntity,
};
use serde::de::DeserializeOwned;

use crate::{ChatType, Client, Error, InputError, Options};

mod groups;

/// Users per page when listing them all.
const USER_PAGE: usize = 100;

pub use groups::{Group, GroupSummary, Member, NewGroup};

/// The app admin, logged in.
///
/// ```no_run
/// # async fn f() -> Result<(), roam_sdk::Error> {
/// use roam_sdk::Admin;
/// let admin = Admin::open("http://127.0.0.1:5280", "roam#demo", "YXA6…", "YXA6…").await?;
/// admin.create_user("alice", "secret", None).await?;
/// admin.send_text(roam_sdk::ChatType::Single, "alice", "welcome").await?;
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct Admin {
    http: reqwest::Client,
    api_url: String,
    app_key: String,
    /// `{api_url}/{org}/{app}`
    base: String,
    token: String,
}

/// A user as the admin sees it.
///
/// ```
/// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
/// let u = admin.user("alice").await?;
/// println!("{} since {}", u.username, u.created);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct User {
    pub username: String,
    pub nickname: Option<String>,
    /// ms since the Unix epoch.
    pub created: u64,
    pub activated: bool,
}

impl From<UserEntity> for User {
    fn from(e: UserEntity) -> User {
        User {
            username: e.username,
            nickname: e.nickname,
            created: e.created,
            activated: e.activated,
        }
    }
}

impl Admin {
    /// Takes an admin token with the app's client id and secret. `api_url` is read as
    /// [`Options::new`] reads it (`host:port` is `http://host:port`).
    pub async fn open(
        api_url: &str,
        app_key: &str,
        client_id: &str,
        client_secret: &str,
    ) -> Result<Admin, Error> {
        let mut admin = Admin::with_token(api_url, app_key, "")?;
        let request = TokenRequest {
            grant_type: "client_credentials".into(),
            client_id: Some(client_id.to_owned()),
            client_secret: Some(client_secret.to_owned()),
            ..Default::default()
        };
        let answer: TokenResponse = Client::answer(
            admin
                .http
                .post(format!("{}/token", admin.base))
                .json(&request),
        )
        .await
        .map_err(|e| match e {
            Error::Unauthorized(_) | Error::BadRequest(_) => {
                Error::Unauthorized("wrong client id or client secret".into())
            }
            e => e,
        })?;
        admin.token = answer.access_token;
        Ok(admin)
    }

    /// The admin with a token taken earlier.
    ///
    /// ```
    /// let admin = roam_sdk::Admin::with_token("127.0.0.1:5280", "roam#demo", "YWMt…").unwrap();
    /// ```
    pub fn with_token(api_url: &str, app_key: &str, token: &str) -> Result<Admin, Error> {
        let options = Options::token(api_url, app_key, "admin", token);
        let (org, app) = app_key
            .split_once('#')
            .ok_or_else(|| Error::BadRequest("app_key must be org#app".into()))?;
        if !cfg!(feature = "tls") && options.api_url.starts_with("https://") {
            return Err(InputError::TlsDisabled(options.api_url).into());
        }
        Ok(Admin {
            http: reqwest::Client::new(),
            base: format!("{}/{org}/{app}", options.api_url),
            api_url: options.api_url,
            app_key: app_key.to_owned(),
            token: token.to_owned(),
        })
    }

    /// The admin token in use.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// A REST-only client acting for `user` with the admin token: its conversation list,
    /// history, pins, marks and deletes, as [`Client`] offers them. Changes reach all of the
    /// user's devices.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let alice = admin.as_user("alice").await?;
    /// let page = alice.get_server_conversations(&Default::default()).await?;
    /// # Ok(()) }
    /// ```
    pub async fn as_user(&self, user: &str) -> Result<Client, Error> {
        Client::open_rest(Options::token(
            &self.api_url,
            &self.app_key,
            user,
            &self.token,
        ))
        .await
    }

    /// A request under `/{org}/{app}` with the admin token.
    pub(crate) fn rest(&self, method: Method, path: &str) -> reqwest::RequestBuilder {
        self.http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
    }

    pub(crate) async fn answer<T: DeserializeOwned>(
        req: reqwest::RequestBuilder,
    ) -> Result<T, Error> {
        Client::answer(req).await
    }

    /// Registers a user.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let alice = admin.create_user("alice", "secret", Some("Alice")).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_user(
        &self,
        username: &str,
        password: &str,
        nickname: Option<&str>,
    ) -> Result<User, Error> {
        if username.is_empty() {
            return Err(InputError::Empty("username").into());
        }
        let body = NewUserBody {
            username: username.to_owned(),
            password: password.to_owned(),
            nickname: nickname.map(str::to_owned),
        };
        let answer: EntitiesResponse =
            Admin::answer(self.rest(Method::POST, "/users").json(&body)).await?;
        first_user(answer)
    }

    /// Every user, in id order (all pages of `GET /users`).
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// for u in admin.users().await? {
    ///     println!("{}", u.username);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn users(&self) -> Result<Vec<User>, Error> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self
                .rest(Method::GET, "/users")
                .query(&[("limit", USER_PAGE.to_string())]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: EntitiesResponse = Admin::answer(req).await?;
            all.extend(page.entities.into_iter().map(User::from));
            match page.cursor {
                Some(next) if !next.is_empty() && Some(&next) != cursor.as_ref() => {
                    cursor = Some(next);
                }
                _ => return Ok(all),
            }
        }
    }

    /// One user's profile; [`Error::NotFound`] for an unknown user.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let alice = admin.user("alice").await?;
    /// # Ok(()) }
    /// ```
    pub async fn user(&self, username: &str) -> Result<User, Error> {
        let path = format!("/users/{}", segment(username, "username")?);
        first_user(Admin::answer(self.rest(Method::GET, &path)).await?)
    }

    /// Removes a user: their devices are logged out, the groups they own destroyed; their
    /// messages stay with their peers.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// admin.delete_user("alice").await?;
    /// # Ok(()) }
    /// ```
    pub async fn delete_user(&self, username: &str) -> Result<User, Error> {
        let path = format!("/users/{}", segment(username, "username")?);
        first_user(Admin::answer(self.rest(Method::DELETE, &path)).await?)
    }

    /// Sets a user's password; their tokens are void and their devices logged out.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// admin.set_password("alice", "new secret").await?;
    /// # Ok(()) }
    /// ```
    pub async fn set_password(&self, username: &str, password: &str) -> Result<(), Error> {
        let path = format!("/users/{}/password", segment(username, "username")?);
        let body = NewPasswordBody {
            newpassword: password.to_owned(),
            oldpassword: None,
        };
        let _: serde_json::Value = Admin::answer(self.rest(Method::PUT, &path).json(&body)).await?;
        Ok(())
    }

    /// Sends a text message as the admin (`from` none: the server's `admin` user) to a user,
    /// group or chat room; answers the message id.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let id = admin.send_text(roam_sdk::ChatType::Group, "123456", "maintenance at 6").await?;
    /// # Ok(()) }
    /// ```
    pub async fn send_text(&self, chat_type: ChatType, to: &str, text: &str) -> Result<u64, Error> {
        if to.is_empty() {
            return Err(InputError::Empty("to").into());
        }
        let path = match chat_type {
            ChatType::Single => "/messages/users",
            ChatType::Group => "/messages/chatgroups",
            ChatType::ChatRoom => "/messages/chatrooms",
        };
        let body = serde_json::json!({
            "to": [to],
            "type": "txt",
            "body": { "msg": text },
        });
        let answer: serde_json::Value =
            Admin::answer(self.rest(Method::POST, path).json(&body)).await?;
        // `data: {recipient: id}`, or the reason in place of the id.
        let result = &answer["data"][to];
        crate::ids::parse(result).ok_or_else(|| Error::SendRefused {
            code: 0,
            reason: result
                .as_str()
                .map_or_else(|| answer.to_string(), str::to_owned),
        })
    }
}

/// A user name or group id as one path segment: refused if empty or if it holds a
/// character that would change the path.
fn segment<'a>(s: &'a str, what: &'static str) -> Result<&'a str, Error> {
    if s.is_empty() {
        return Err(InputError::Empty(what).into());
    }
    if s.contains(['/', '?', '#', '%', ',']) || s.chars().any(char::is_whitespace) {
        return Err(Error::BadRequest(format!("{what} {s:?}: not a valid id")));
    }
    Ok(s)
}

fn first_user(answer: EntitiesResponse) -> Result<User, Error> {
    answer
        .entities
        .into_iter()
        .next()
        .map(User::from)
        .ok_or_else(|| Error::Protocol("no user in the answer".into()))
}
