//! Accounts and tokens: registration, login, authentication, password change, removal.
use std::{net::IpAddr, time::Duration};

use super::{
    Roam,
    group_events::{destroyed_events, group_event},
};
use crate::{
    auth::{Principal, Token, TokenRecord, throttle::Throttled},
    fanout::KickReason,
    group::{GroupOp, roster::Scope},
    limits::{self, TooLong},
    now_ms,
    password::pool::HashError,
    store::{Events, RemovedUser, StoreError},
    user::{
        InvalidPassword, InvalidUserId, NewUser, Password, PasswordHash, User, UserId, entity_uuid,
    },
};

/// The settings key of the fingerprint of the admin credential in force.
const ADMIN_FINGERPRINT: &str = "admin_fingerprint";
/// What the throttle counts admin (`client_credentials`) attempts against: not a legal user
/// id, so no user shares its budget.
const ADMIN_ACCOUNT: &str = "#admin";

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    InvalidUserId(#[from] InvalidUserId),
    #[error(transparent)]
    InvalidPassword(#[from] InvalidPassword),
    /// A nickname over its limit ([`crate::limits`]).
    #[error(transparent)]
    TooLong(#[from] TooLong),
    #[error("user {0} exists already")]
    DuplicateUser(UserId),
    /// Unknown user or wrong password: deliberately the same answer for both.
    #[error("invalid password")]
    InvalidGrant,
    #[error("invalid client credentials")]
    InvalidClient,
    #[error("user {0} not found")]
    UserNotFound(UserId),
    /// Too many failed logins from this address (on this account): retry after this long.
    #[error("too many failed logins; retry in {} s", .0.as_secs().max(1))]
    Throttled(Duration),
    /// Every password hashing thread is busy and the queue is full.
    #[error(transparent)]
    Busy(HashError),
    /// A user changing their own password gave no current password, or a wrong one.
    #[error("the current password is required and must match")]
    WrongCurrentPassword,
    /// The caller may not do this (e.g. a user acting on another user).
    #[error("permission denied")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
}

impl From<HashError> for AccountError {
    fn from(e: HashError) -> Self {
        match e {
            HashError::Busy => AccountError::Busy(e),
            HashError::Failed => AccountError::Store(StoreError::Engine(e.to_string())),
        }
    }
}

impl From<Throttled> for AccountError {
    fn from(Throttled(wait): Throttled) -> Self {
        AccountError::Throttled(wait)
    }
}

impl From<StoreError> for AccountError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DuplicateUser(u) => AccountError::DuplicateUser(u),
            e => AccountError::Store(e),
        }
    }
}

/// Why a presented token was refused.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("unknown token")]
    Unknown,
    #[error("token expired")]
    Expired,
    /// The token is valid but its user has been removed since.
    #[error("user not found")]
    UserGone,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// A token just issued, with its lifetime.
#[derive(Debug, Clone)]
pub struct IssuedToken {
    pub token: Token,
    pub expires_ms: u64,
    pub expires_in_secs: u64,
}

impl Roam {
    /// Registers users (all or none). Ids are parsed here, passwords hashed off the executor.
    pub async fn register_users(
        &self,
        users: Vec<(String, String, Option<String>)>,
    ) -> Result<Vec<User>, AccountError> {
        let mut parsed = Vec::with_capacity(users.len());
        for (id, password, nickname) in users {
            if let Some(n) = &nickname {
                limits::chars("nickname", n, limits::NICKNAME_CHARS)?;
            }
            parsed.push((UserId::parse(&id)?, Password::parse(&password)?, nickname));
        }
        let new_users = self
            .hashing
            .run(move |memory| {
                parsed
                    .into_iter()
                    .map(|(id, pw, nickname)| NewUser {
                        id,
                        uuid: entity_uuid(),
                        password: pw.hash_in(memory),
                        nickname,
                    })
                    .collect::<Vec<_>>()
            })
            .await?;
        Ok(self.store.insert_users(new_users).await?)
    }

    /// The `password` grant: a token for the user if the password matches. `ip` is the
    /// client's address, for throttling (`None` when the transport cannot tell).
    ///
    /// An unknown user costs the same argon2 check as a wrong password (against a dummy hash)
    /// and gets the same error, so neither the answer nor its timing tells who exists.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
        ip: Option<IpAddr>,
    ) -> Result<(IssuedToken, User), AccountError> {
        let id = UserId::parse(username).map_err(|_| AccountError::InvalidGrant)?;
        let attempt = self.throttle.begin(id.as_str(), ip)?;
        let user = self.store.user(&id).await?;
        let hash = user
            .as_ref()
            .map_or_else(|| PasswordHash::dummy().clone(), |u| u.password.clone());
        let candidate = password.to_owned();
        let ok = self
            .hashing
            .run(move |memory| hash.verify_in(&candidate, memory))
            .await?;
        let Some(user) = user.filter(|_| ok) else {
            self.throttle.failed(attempt);
            return Err(AccountError::InvalidGrant);
        };
        self.throttle.succeeded(attempt);
        let token = self.issue(Principal::User(user.id.clone())).await?;
        Ok((token, user))
    }

    /// The `client_credentials` grant: an admin token. Throttled like [`Roam::login`].
    pub async fn login_admin(
        &self,
        client_id: &str,
        client_secret: &str,
        ip: Option<IpAddr>,
    ) -> Result<IssuedToken, AccountError> {
        let attempt = self.throttle.begin(ADMIN_ACCOUNT, ip)?;
        if !self.admin.matches(client_id, client_secret) {
            self.throttle.failed(attempt);
            return Err(AccountError::InvalidClient);
        }
        self.throttle.succeeded(attempt);
        let issued = self.issue(Principal::Admin).await?;
        self.admin_used.send_replace(true);
        Ok(issued)
    }

    /// Changes once the admin credential has been used to log in (by this process): the
    /// server then forgets a generated credential it was still showing.
    pub fn admin_used(&self) -> tokio::sync::watch::Receiver<bool> {
        self.admin_used.subscribe()
    }

    /// Voids admin tokens issued under another admin credential: call once at start, so that
    /// rotating the admin secret (or id) ends every admin session of the old one. Answers
    /// whether it did (a first start, or an upgrade from a version that did not record the
    /// credential, counts as a change).
    pub async fn settle_admin_credential(&self) -> Result<bool, StoreError> {
        let fingerprint = self.admin.fingerprint();
        if self.store.setting(ADMIN_FINGERPRINT).await?.as_deref() == Some(fingerprint.as_str()) {
            return Ok(false);
        }
        // Tokens first: a crash in between repeats this at the next start.
        let voided = self.store.delete_admin_tokens().await?;
        self.store
            .put_setting(ADMIN_FINGERPRINT, &fingerprint)
            .await?;
        if voided > 0 {
            tracing::info!(
                voided,
                "the admin credential changed: its old tokens are void"
            );
        }
        Ok(true)
    }

    async fn issue(&self, principal: Principal) -> Result<IssuedToken, AccountError> {
        let token = Token::generate();
        let ttl = self.policy.token_ttl;
        let ttl_ms = u64::try_from(ttl.as_millis()).unwrap_or(u64::MAX);
        let expires_ms = now_ms().saturating_add(ttl_ms);
        self.store
            .insert_token(TokenRecord {
                hash: token.hash(),
                principal,
                expires_ms,
            })
            .await?;
        Ok(IssuedToken {
            token,
            expires_ms,
            expires_in_secs: ttl.as_secs(),
        })
    }

    /// Who `token` speaks for, and until when (epoch ms).
    pub async fn authenticate(&self, token: &str) -> Result<(Principal, u64), AuthError> {
        let record = self
            .store
            .token(&Token::presented(token).hash())
            .await?
            .ok_or(AuthError::Unknown)?;
        if record.expires_ms <= now_ms() {
            return Err(AuthError::Expired);
        }
        if let Principal::User(id) = &record.principal
            && self.store.user(id).await?.is_none()
        {
            return Err(AuthError::UserGone);
        }
        Ok((record.principal, record.expires_ms))
    }

    /// A user, as seen by `caller` (the admin, or that user).
    pub async fn user(&self, caller: &Principal, username: &str) -> Result<User, AccountError> {
        let id = self.authorize(caller, username)?;
        self.store
            .user(&id)
            .await?
            .ok_or(AccountError::UserNotFound(id))
    }

    /// A page of users (admin only) in id order: at most `limit` after the user `after`.
    pub async fn list_users(
        &self,
        caller: &Principal,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<User>, AccountError> {
        if *caller != Principal::Admin {
            return Err(AccountError::Forbidden);
        }
        let after = after.map(UserId::parse).transpose()?;
        Ok(self.store.users_after(after.as_ref(), limit).await?)
    }

    /// Removes a user (admin only) with the groups and chat rooms they own (their members are
    /// told, as for a destroy) and their place in the others (whose members see them leave),
    /// all in one write, and logs their devices out.
    pub async fn delete_user(
        &self,
        caller: &Principal,
        username: &str,
    ) -> Result<User, AccountError> {
        if *caller != Principal::Admin {
            return Err(AccountError::Forbidden);
        }
        let id = UserId::parse(username)?;
        if self.store.user(&id).await?.is_none() {
            return Err(AccountError::UserNotFound(id));
        }
        // The groups and chat rooms they own are destroyed with them, as the admin would:
        // each member is told, the owner named as the actor.
        let events: Events<Option<RemovedUser>> = Box::new(|removed| {
            let Some(removed) = removed else {
                return Vec::new();
            };
            let mut events: Vec<_> = removed
                .groups
                .iter()
                .flat_map(|(group, members)| destroyed_events(group, &group.owner, members))
                .collect();
            // The groups they were only in see them leave, as if they had quit.
            let me = &removed.user.id;
            events.extend(removed.left.iter().map(|group| {
                group_event(group, GroupOp::MemberLeft, me, std::slice::from_ref(me))
            }));
            events
        });
        let (store, gone) = (self.store.clone(), id.clone());
        let done = self
            .membership_write(
                Scope::All,
                async move { store.delete_user(&gone, events).await },
            )
            .await?;
        let removed = done.value.ok_or(AccountError::UserNotFound(id.clone()))?;
        self.signal_all(&done.events).await;
        self.fanout.kick(&id, KickReason::UserRemoved);
        Ok(removed.user)
    }

    /// Sets a new password, voids the user's tokens and disconnects their devices. The admin
    /// needs only the new password; a user changing their own must also give the current one
    /// (a stolen token alone must not be enough to take the account over).
    pub async fn change_password(
        &self,
        caller: &Principal,
        username: &str,
        new_password: &str,
        current_password: Option<&str>,
    ) -> Result<(), AccountError> {
        let id = self.authorize(caller, username)?;
        let password = Password::parse(new_password)?;
        let current = match caller {
            Principal::Admin => None,
            Principal::User(_) => {
                // Guesses at the current password are throttled like logins (per account).
                let attempt = self.throttle.begin(id.as_str(), None)?;
                let given = current_password.ok_or(AccountError::WrongCurrentPassword)?;
                let user = self
                    .store
                    .user(&id)
                    .await?
                    .ok_or_else(|| AccountError::UserNotFound(id.clone()))?;
                Some((user.password, given.to_owned(), attempt))
            }
        };
        let (check, attempt) = match current {
            Some((stored, given, attempt)) => (Some((stored, given)), Some(attempt)),
            None => (None, None),
        };
        let hash = self
            .hashing
            .run(move |memory| match check {
                Some((stored, given)) if !stored.verify_in(&given, memory) => None,
                _ => Some(password.hash_in(memory)),
            })
            .await?
            .ok_or(AccountError::WrongCurrentPassword)?;
        if let Some(attempt) = attempt {
            self.throttle.succeeded(attempt);
        }
        if !self.store.set_password(&id, hash).await? {
            return Err(AccountError::UserNotFound(id));
        }
        self.fanout.kick(&id, KickReason::PasswordChanged);
        Ok(())
    }

    fn authorize(&self, caller: &Principal, username: &str) -> Result<UserId, AccountError> {
        let id = UserId::parse(username)?;
        match caller {
            Principal::Admin => Ok(id),
            Principal::User(me) if *me == id => Ok(id),
            Principal::User(_) => Err(AccountError::Forbidden),
        }
    }
}
