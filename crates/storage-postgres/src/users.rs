//! Users, tokens and the server's settings.
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use roam_domain::{
    auth::{Principal, TokenHash, TokenRecord},
    group::GroupKind,
    now_ms,
    store::{Committed, Events, RemovedUser, StoreError, UserStore},
    user::{NewUser, PasswordHash, User, UserId},
};

use crate::{
    PgStore,
    delivery::OnceEvents,
    groups,
    rows::{
        SELECT_USER, Tx, engine, exec, parse_user, row_opt, rows, sql_bound, sql_count,
        transaction, unsigned, user_from_row,
    },
};

#[async_trait]
impl UserStore for PgStore {
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
        transaction!(self, |tx| { insert(&tx, &users).await })
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        get(&self.client().await?, id).await
    }

    async fn users_after(
        &self,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let after = after.map_or("", |u| u.as_str());
        rows(
            &self.client().await?,
            "SELECT id, uuid, password_hash, nickname, created_ms, modified_ms FROM users \
             WHERE id > $1 ORDER BY id LIMIT $2",
            &[&after, &sql_count(limit)],
        )
        .await?
        .iter()
        .map(user_from_row)
        .collect()
    }

    async fn delete_user(
        &self,
        id: &UserId,
        events: Events<Option<RemovedUser>>,
    ) -> Result<Committed<Option<RemovedUser>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            let removed = leave_groups(&tx, id).await?;
            // The events go to logs of the user's groups' members (the user among them)
            // before the user's own rows go.
            let done = events.append(&tx, &self.ids, removed).await?;
            delete(&tx, id).await?;
            Ok(done)
        })
    }

    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError> {
        transaction!(self, |tx| {
            let n = exec(
                &tx,
                "UPDATE users SET password_hash = $2, modified_ms = $3 WHERE id = $1",
                &[&id.as_str(), &hash.as_str(), &sql_bound(now_ms())],
            )
            .await?;
            exec(
                &tx,
                "DELETE FROM tokens WHERE user_id = $1",
                &[&id.as_str()],
            )
            .await?;
            Ok(n == 1)
        })
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        let user = match &token.principal {
            Principal::User(u) => Some(u.as_str()),
            Principal::Admin => None,
        };
        let c = self.client().await?;
        exec(
            &c,
            "INSERT INTO tokens (hash, user_id, expires_ms) VALUES ($1, $2, $3)",
            &[&&token.hash.0[..], &user, &sql_bound(token.expires_ms)],
        )
        .await?;
        // Expired tokens are of no use to anyone: sweep a few on every issue.
        exec(
            &c,
            "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_ms < $1 LIMIT 16)",
            &[&sql_bound(now_ms())],
        )
        .await?;
        Ok(())
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let Some(r) = row_opt(
            &self.client().await?,
            "SELECT user_id, expires_ms FROM tokens WHERE hash = $1",
            &[&&hash.0[..]],
        )
        .await?
        else {
            return Ok(None);
        };
        let user: Option<&str> = r.try_get(0).map_err(engine)?;
        let principal = match user {
            Some(u) => Principal::User(parse_user(u)?),
            None => Principal::Admin,
        };
        Ok(Some(TokenRecord {
            hash: *hash,
            principal,
            expires_ms: unsigned(&r, 1)?,
        }))
    }

    async fn delete_admin_tokens(&self) -> Result<u64, StoreError> {
        exec(
            &self.client().await?,
            "DELETE FROM tokens WHERE user_id IS NULL",
            &[],
        )
        .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        row_opt(
            &self.client().await?,
            "SELECT value FROM settings WHERE key = $1",
            &[&key],
        )
        .await?
        .map(|r| r.try_get(0).map_err(engine))
        .transpose()
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        exec(
            &self.client().await?,
            "INSERT INTO settings (key, value) VALUES ($1, $2) \
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            &[&key, &value],
        )
        .await?;
        Ok(())
    }
}

/// What a user leaves behind, all removed with them (their messages stay in their peers'
/// conversations).
const DELETE_USER: [&str; 6] = [
    "DELETE FROM users WHERE id = $1",
    "DELETE FROM tokens WHERE user_id = $1",
    "DELETE FROM devices WHERE user_id = $1",
    "DELETE FROM device_cursors WHERE user_id = $1",
    "DELETE FROM user_conversations WHERE user_id = $1",
    "DELETE FROM deleted_messages WHERE user_id = $1",
];

/// Creates all users or none (an error rolls the transaction back).
async fn insert(tx: &Tx<'_>, users: &[NewUser]) -> Result<Vec<User>, StoreError> {
    let now = now_ms();
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let n = exec(
            tx,
            "INSERT INTO users (id, uuid, password_hash, nickname, created_ms, modified_ms) \
             VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT DO NOTHING",
            &[
                &u.id.as_str(),
                &u.uuid,
                &u.password.as_str(),
                &u.nickname,
                &sql_bound(now),
            ],
        )
        .await?;
        if n == 0 {
            return Err(StoreError::DuplicateUser(u.id.clone()));
        }
        out.push(User {
            id: u.id.clone(),
            uuid: u.uuid.clone(),
            password: u.password.clone(),
            nickname: u.nickname.clone(),
            created_ms: now,
            modified_ms: now,
        });
    }
    Ok(out)
}

pub(crate) async fn get(c: &impl GenericClient, id: &UserId) -> Result<Option<User>, StoreError> {
    row_opt(c, SELECT_USER, &[&id.as_str()])
        .await?
        .map(|r| user_from_row(&r))
        .transpose()
}

/// Destroys the groups, then the chat rooms, that the user owns (each kind newest first) and
/// takes the user out of the others; answers the user with both, or `None` (and does
/// nothing) if there is no such user. Locks the user's row first: two deletes of one user
/// do not interleave.
async fn leave_groups(tx: &Tx<'_>, id: &UserId) -> Result<Option<RemovedUser>, StoreError> {
    if row_opt(
        tx,
        "SELECT 1 FROM users WHERE id = $1 FOR UPDATE",
        &[&id.as_str()],
    )
    .await?
    .is_none()
    {
        return Ok(None);
    }
    let Some(user) = get(tx, id).await? else {
        return Ok(None);
    };
    let (mut destroyed, mut left) = (Vec::new(), Vec::new());
    for kind in [GroupKind::Group, GroupKind::ChatRoom] {
        for group in groups::of_user(tx, id, kind).await? {
            if group.owner == *id {
                if let Some(members) = groups::delete(tx, &group.id).await? {
                    destroyed.push((group, members));
                }
            } else if !groups::remove_members(tx, &group.id, std::slice::from_ref(id))
                .await?
                .is_empty()
            {
                left.push(group);
            }
        }
    }
    Ok(Some(RemovedUser {
        user,
        groups: destroyed,
        left,
    }))
}

/// Removes the user's rows and everything that is theirs alone.
async fn delete(tx: &Tx<'_>, id: &UserId) -> Result<(), StoreError> {
    for sql in DELETE_USER {
        exec(tx, sql, &[&id.as_str()]).await?;
    }
    Ok(())
}
