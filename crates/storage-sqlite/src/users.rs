//! Users, tokens and the server's settings. Functions take a connection: the writer's inside
//! its transaction for changes, a reader's for queries.
use async_trait::async_trait;
use roam_domain::{
    auth::{Principal, TokenHash, TokenRecord},
    group::GroupKind,
    now_ms,
    store::{Committed, Events, RemovedUser, StoreError, UserStore},
    user::{NewUser, PasswordHash, User, UserId},
};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    SqliteStore,
    delivery::with_events,
    groups,
    rows::{SELECT_USER, engine, parse_user, sql_bound, user_from_row},
};

#[async_trait]
impl UserStore for SqliteStore {
    async fn insert_users(&self, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
        self.writer.write(move |c, _| insert(c, users)).await
    }

    async fn user(&self, id: &UserId) -> Result<Option<User>, StoreError> {
        self.readers.read_now(|c| get(c, id)).await
    }

    async fn users_after(
        &self,
        after: Option<&UserId>,
        limit: usize,
    ) -> Result<Vec<User>, StoreError> {
        let after = after.map_or_else(String::new, |u| u.as_str().to_owned());
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        self.readers
            .read(move |c| {
                c.prepare_cached(
                    "SELECT id, uuid, password_hash, nickname, created_ms, modified_ms FROM users \
                     WHERE id > ?1 ORDER BY id LIMIT ?2",
                )?
                .query_map(params![after, limit], user_from_row)?
                .collect()
            })
            .await
    }

    async fn delete_user(
        &self,
        id: &UserId,
        events: Events<Option<RemovedUser>>,
    ) -> Result<Committed<Option<RemovedUser>>, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, ids| {
                let removed = leave_groups(c, &id)?;
                // The events go to logs of the user's groups' members (the user among them)
                // before the user's own rows go.
                let done = with_events(c, ids, removed, events)?;
                delete(c, &id)?;
                Ok(done)
            })
            .await
    }

    async fn set_password(&self, id: &UserId, hash: PasswordHash) -> Result<bool, StoreError> {
        let id = id.clone();
        self.writer
            .write(move |c, _| set_password(c, &id, &hash))
            .await
    }

    async fn insert_token(&self, token: TokenRecord) -> Result<(), StoreError> {
        self.writer.write(move |c, _| insert_token(c, &token)).await
    }

    async fn token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>, StoreError> {
        let hash = *hash;
        self.readers.read(move |c| token(c, hash)).await
    }

    async fn delete_admin_tokens(&self) -> Result<u64, StoreError> {
        self.writer
            .write(move |c, _| {
                let n = c
                    .prepare_cached("DELETE FROM tokens WHERE user_id IS NULL")
                    .and_then(|mut st| st.execute([]))
                    .map_err(engine)?;
                Ok(u64::try_from(n).unwrap_or(u64::MAX))
            })
            .await
    }

    async fn setting(&self, key: &str) -> Result<Option<String>, StoreError> {
        let key = key.to_owned();
        self.readers.read(move |c| setting(c, &key)).await
    }

    async fn put_setting(&self, key: &str, value: &str) -> Result<(), StoreError> {
        let (key, value) = (key.to_owned(), value.to_owned());
        self.writer
            .write(move |c, _| put_setting(c, &key, &value))
            .await
    }
}

/// What a user leaves behind, all removed with them (their messages stay in their peers'
/// conversations).
const DELETE_USER: [&str; 6] = [
    "DELETE FROM users WHERE id = ?1",
    "DELETE FROM tokens WHERE user_id = ?1",
    "DELETE FROM devices WHERE user_id = ?1",
    "DELETE FROM device_cursors WHERE user_id = ?1",
    "DELETE FROM user_conversations WHERE user_id = ?1",
    "DELETE FROM deleted_messages WHERE user_id = ?1",
];

/// Creates all users or none (the writer's savepoint rolls back the others).
fn insert(c: &Connection, users: Vec<NewUser>) -> Result<Vec<User>, StoreError> {
    let now = now_ms();
    let mut insert = c
        .prepare_cached(
            "INSERT OR IGNORE INTO users (id, uuid, password_hash, nickname, created_ms, modified_ms) \
             VALUES (?1, ?2, ?3, ?4, ?5, ?5)",
        )
        .map_err(engine)?;
    let mut out = Vec::with_capacity(users.len());
    for u in users {
        let n = insert
            .execute(params![
                u.id.as_str(),
                u.uuid,
                u.password.as_str(),
                u.nickname,
                now
            ])
            .map_err(engine)?;
        if n == 0 {
            return Err(StoreError::DuplicateUser(u.id));
        }
        out.push(User {
            id: u.id,
            uuid: u.uuid,
            password: u.password,
            nickname: u.nickname,
            created_ms: now,
            modified_ms: now,
        });
    }
    Ok(out)
}

pub(crate) fn get(c: &Connection, id: &UserId) -> rusqlite::Result<Option<User>> {
    c.prepare_cached(SELECT_USER)?
        .query_row([id.as_str()], user_from_row)
        .optional()
}

/// Destroys the groups, then the chat rooms, that the user owns (each kind newest first) and
/// takes the user out of the others; answers the user with both, or `None` (and does
/// nothing) if there is no such user.
fn leave_groups(c: &Connection, id: &UserId) -> Result<Option<RemovedUser>, StoreError> {
    let Some(user) = get(c, id).map_err(engine)? else {
        return Ok(None);
    };
    let (mut destroyed, mut left) = (Vec::new(), Vec::new());
    for kind in [GroupKind::Group, GroupKind::ChatRoom] {
        for group in groups::of_user(c, id, kind).map_err(engine)? {
            if group.owner == *id {
                if let Some(members) = groups::delete(c, &group.id)? {
                    destroyed.push((group, members));
                }
            } else if !groups::remove_members(c, &group.id, vec![id.clone()])?.is_empty() {
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
fn delete(c: &Connection, id: &UserId) -> Result<(), StoreError> {
    for sql in DELETE_USER {
        c.prepare_cached(sql)
            .and_then(|mut st| st.execute([id.as_str()]))
            .map_err(engine)?;
    }
    Ok(())
}

/// Sets the password and voids every token; false if there is no such user.
fn set_password(c: &Connection, id: &UserId, hash: &PasswordHash) -> Result<bool, StoreError> {
    let n = c
        .prepare_cached("UPDATE users SET password_hash = ?2, modified_ms = ?3 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id.as_str(), hash.as_str(), now_ms()]))
        .map_err(engine)?;
    c.prepare_cached("DELETE FROM tokens WHERE user_id = ?1")
        .and_then(|mut st| st.execute([id.as_str()]))
        .map_err(engine)?;
    Ok(n == 1)
}

fn insert_token(c: &Connection, token: &TokenRecord) -> Result<(), StoreError> {
    let user = match &token.principal {
        Principal::User(u) => Some(u.as_str()),
        Principal::Admin => None,
    };
    c.prepare_cached("INSERT INTO tokens (hash, user_id, expires_ms) VALUES (?1, ?2, ?3)")
        .and_then(|mut st| {
            st.execute(params![
                &token.hash.0[..],
                user,
                sql_bound(token.expires_ms)
            ])
        })
        .map_err(engine)?;
    // Expired tokens are of no use to anyone: sweep a few on every issue.
    c.prepare_cached(
        "DELETE FROM tokens WHERE hash IN (SELECT hash FROM tokens WHERE expires_ms < ?1 LIMIT 16)",
    )
    .and_then(|mut st| st.execute([now_ms()]))
    .map_err(engine)?;
    Ok(())
}

fn token(c: &Connection, hash: TokenHash) -> rusqlite::Result<Option<TokenRecord>> {
    c.prepare_cached("SELECT user_id, expires_ms FROM tokens WHERE hash = ?1")?
        .query_row([&hash.0[..]], |r| {
            let user: Option<String> = r.get(0)?;
            let principal = match user {
                Some(u) => Principal::User(parse_user(u)?),
                None => Principal::Admin,
            };
            Ok(TokenRecord {
                hash,
                principal,
                expires_ms: r.get(1)?,
            })
        })
        .optional()
}

fn setting(c: &Connection, key: &str) -> rusqlite::Result<Option<String>> {
    c.prepare_cached("SELECT value FROM settings WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()
}

fn put_setting(c: &Connection, key: &str, value: &str) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO settings (key, value) VALUES (?1, ?2) \
         ON CONFLICT(key) DO UPDATE SET value = excluded.value",
    )
    .and_then(|mut st| st.execute(params![key, value]))
    .map_err(engine)?;
    Ok(())
}
