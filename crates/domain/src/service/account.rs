//! Accounts and tokens: registration, login, authentication, password change, removal.
use tokio::task::spawn_blocking;

use super::{Roam, group_events::destroyed_events};
use crate::{
    auth::{Principal, Token, TokenRecord},
    fanout::KickReason,
    now_ms,
    store::{Events, RemovedUser, StoreError},
    user::{InvalidPassword, InvalidUserId, NewUser, Password, User, UserId, entity_uuid},
};

/// Why an account operation failed.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error(transparent)]
    InvalidUserId(#[from] InvalidUserId),
    #[error(transparent)]
    InvalidPassword(#[from] InvalidPassword),
    #[error("user {0} exists already")]
    DuplicateUser(UserId),
    /// Unknown user or wrong password: deliberately the same answer for both.
    #[error("invalid password")]
    InvalidGrant,
    #[error("invalid client credentials")]
    InvalidClient,
    #[error("user {0} not found")]
    UserNotFound(UserId),
    /// The caller may not do this (e.g. a user acting on another user).
    #[error("permission denied")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
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
            parsed.push((UserId::parse(&id)?, Password::parse(&password)?, nickname));
        }
        let _permit = self.hashing.acquire().await;
        let new_users = spawn_blocking(move || {
            parsed
                .into_iter()
                .map(|(id, pw, nickname)| NewUser {
                    id,
                    uuid: entity_uuid(),
                    password: pw.hash(),
                    nickname,
                })
                .collect::<Vec<_>>()
        })
        .await
        .map_err(|e| AccountError::Store(StoreError::Engine(e.to_string())))?;
        Ok(self.store.insert_users(new_users).await?)
    }

    /// The `password` grant: a token for the user if the password matches.
    pub async fn login(
        &self,
        username: &str,
        password: &str,
    ) -> Result<(IssuedToken, User), AccountError> {
        let id = UserId::parse(username).map_err(|_| AccountError::InvalidGrant)?;
        let user = self
            .store
            .user(&id)
            .await?
            .ok_or(AccountError::InvalidGrant)?;
        let (hash, candidate) = (user.password.clone(), password.to_owned());
        let _permit = self.hashing.acquire().await;
        let ok = spawn_blocking(move || hash.verify(&candidate))
            .await
            .unwrap_or(false);
        if !ok {
            return Err(AccountError::InvalidGrant);
        }
        let token = self.issue(Principal::User(user.id.clone())).await?;
        Ok((token, user))
    }

    /// The `client_credentials` grant: an admin token.
    pub async fn login_admin(
        &self,
        client_id: &str,
        client_secret: &str,
    ) -> Result<IssuedToken, AccountError> {
        if !self.admin.matches(client_id, client_secret) {
            return Err(AccountError::InvalidClient);
        }
        self.issue(Principal::Admin).await
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
    /// told, as for a destroy), and logs their devices out.
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
            removed
                .groups
                .iter()
                .flat_map(|(group, members)| destroyed_events(group, &group.owner, members))
                .collect()
        });
        let done = self.store.delete_user(&id, events).await?;
        let removed = done.value.ok_or(AccountError::UserNotFound(id.clone()))?;
        self.signal_all(&done.events).await;
        self.fanout.kick(&id, KickReason::UserRemoved);
        Ok(removed.user)
    }

    /// Sets a new password, voids the user's tokens and disconnects their devices.
    pub async fn change_password(
        &self,
        caller: &Principal,
        username: &str,
        new_password: &str,
    ) -> Result<(), AccountError> {
        let id = self.authorize(caller, username)?;
        let password = Password::parse(new_password)?;
        let _permit = self.hashing.acquire().await;
        let hash = spawn_blocking(move || password.hash())
            .await
            .map_err(|e| AccountError::Store(StoreError::Engine(e.to_string())))?;
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
