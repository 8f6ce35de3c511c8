//! Changes to groups and chat rooms: creation, members joining and leaving, a new owner,
//! destruction. Each runs in the write's transaction, and first locks the group's
//! conversation row (the lock every append to the group takes first too): changes to one
//! group are serialized with each other and with its messages, in one lock order.
use std::collections::HashSet;

use roam_domain::{
    group::{Group, GroupId, NewGroup, Role},
    now_ms,
    store::StoreError,
    user::UserId,
};

use super::{get, kind_column, member_ids};
use crate::rows::{
    Tx, engine, exec, group_conversation_key, is_unique_violation, row, row_opt, rows, sql_bound,
};

/// What goes with a member, per conversation (`user_id` $1, `conv_id` $2).
const MEMBER_LEAVES: [&str; 3] = [
    "DELETE FROM user_conversations WHERE user_id = $1 AND conv_id = $2",
    "DELETE FROM device_cursors WHERE user_id = $1 AND conv_id = $2",
    "DELETE FROM deleted_messages WHERE user_id = $1 AND conv_id = $2",
];

/// What goes with a group: every side of its conversation (`conv_id` $1)…
const GROUP_SIDES_GO: [&str; 3] = [
    "DELETE FROM user_conversations WHERE conv_id = $1",
    "DELETE FROM device_cursors WHERE conv_id = $1",
    "DELETE FROM deleted_messages WHERE conv_id = $1",
];
/// …and its members and row (`group_id` $1). Its messages stay for history.
const GROUP_GOES: [&str; 2] = [
    "DELETE FROM group_members WHERE group_id = $1",
    "DELETE FROM groups WHERE id = $1",
];

/// Locks the group's conversation row; answers its id and last seq (where a member joining
/// now starts), None if there is no such group.
async fn lock_conversation(tx: &Tx<'_>, id: &GroupId) -> Result<Option<(i64, i64)>, StoreError> {
    row_opt(
        tx,
        "SELECT cv.id, cv.last_seq FROM groups g JOIN conversations cv ON cv.id = g.conv_id \
         WHERE g.id = $1 FOR UPDATE OF cv",
        &[&id.as_str()],
    )
    .await?
    .map(|r| Ok((r.try_get(0).map_err(engine)?, r.try_get(1).map_err(engine)?)))
    .transpose()
}

async fn conversation(tx: &Tx<'_>, id: &GroupId) -> Result<(i64, i64), StoreError> {
    lock_conversation(tx, id)
        .await?
        .ok_or_else(|| StoreError::GroupNotFound(id.clone()))
}

fn role_column(role: Role) -> i32 {
    match role {
        Role::Owner => 0,
        Role::Admin => 1,
        Role::Member => 2,
    }
}

/// Whether `members` more members would make the group larger than `max_users`.
fn too_many(members: usize, max_users: u32) -> bool {
    u64::try_from(members).unwrap_or(u64::MAX) > u64::from(max_users)
}

/// Makes `users` members with `role` (in one statement, whatever their number), with their
/// sides of the group's conversation starting now: earlier messages are not theirs. Answers
/// those who were not members yet, in the order given, once each.
async fn insert_members(
    tx: &Tx<'_>,
    id: &GroupId,
    conv: (i64, i64),
    users: &[UserId],
    role: Role,
    now: i64,
) -> Result<Vec<UserId>, StoreError> {
    let names: Vec<&str> = users.iter().map(UserId::as_str).collect();
    let inserted: HashSet<String> = rows(
        tx,
        "INSERT INTO group_members (group_id, user_id, role, joined_ms) \
         SELECT $1::text, u, $3::integer, $4::bigint FROM unnest($2::text[]) AS u \
         ON CONFLICT DO NOTHING RETURNING user_id",
        &[&id.as_str(), &names, &role_column(role), &now],
    )
    .await?
    .iter()
    .map(|r| r.try_get(0).map_err(engine))
    .collect::<Result<_, _>>()?;
    let mut fresh: Vec<UserId> = Vec::with_capacity(inserted.len());
    for u in users {
        if inserted.contains(u.as_str()) && !fresh.contains(u) {
            fresh.push(u.clone());
        }
    }
    let names: Vec<&str> = fresh.iter().map(UserId::as_str).collect();
    // (kind: 1 group, 2 chat room; read_ord: the activity so far is not unread.)
    exec(
        tx,
        "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms) \
         SELECT u, $2::bigint, $3::text, g.kind + 1, $4::bigint, $4::bigint, $4::bigint, cv.chat_count, $4::bigint, $5::bigint \
         FROM unnest($1::text[]) AS u, groups g JOIN conversations cv ON cv.id = g.conv_id WHERE g.conv_id = $2::bigint \
         ON CONFLICT (user_id, conv_id) DO NOTHING",
        &[&names, &conv.0, &group_conversation_key(id), &conv.1, &now],
    )
    .await?;
    Ok(fresh)
}

pub(crate) async fn create(tx: &Tx<'_>, g: NewGroup) -> Result<Group, StoreError> {
    if get(tx, &g.id).await?.is_some() {
        return Err(StoreError::DuplicateGroup(g.id));
    }
    let mut members: Vec<UserId> = g.members.into_iter().filter(|m| *m != g.owner).collect();
    members.sort();
    members.dedup();
    if too_many(members.len() + 1, g.settings.max_users) {
        return Err(StoreError::GroupFull(g.id));
    }
    let now = sql_bound(now_ms());
    let key = group_conversation_key(&g.id);
    exec(
        tx,
        "INSERT INTO conversations (key, last_seq, last_ms, created_ms) VALUES ($1, 0, $2, $2) \
         ON CONFLICT (key) DO NOTHING",
        &[&key, &now],
    )
    .await?;
    let r = row(
        tx,
        "SELECT id, last_seq FROM conversations WHERE key = $1 FOR UPDATE",
        &[&key],
    )
    .await?;
    let conv: (i64, i64) = (r.try_get(0).map_err(engine)?, r.try_get(1).map_err(engine)?);
    let s = &g.settings;
    let st = tx
        .prepare_cached(
            "INSERT INTO groups (id, kind, conv_id, owner, name, description, public, approval, allow_invites, max_users, custom, created_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .await
        .map_err(engine)?;
    // Created by another node meanwhile: the unique key says so.
    if let Err(e) = tx
        .execute(
            &st,
            &[
                &g.id.as_str(),
                &kind_column(g.kind),
                &conv.0,
                &g.owner.as_str(),
                &s.name,
                &s.description,
                &i32::from(s.public),
                &i32::from(s.approval),
                &i32::from(s.allow_invites),
                &i64::from(s.max_users),
                &s.custom,
                &now,
            ],
        )
        .await
    {
        return Err(if is_unique_violation(&e) {
            StoreError::DuplicateGroup(g.id)
        } else {
            engine(e)
        });
    }
    insert_members(
        tx,
        &g.id,
        conv,
        std::slice::from_ref(&g.owner),
        Role::Owner,
        now,
    )
    .await?;
    insert_members(tx, &g.id, conv, &members, Role::Member, now).await?;
    get(tx, &g.id)
        .await?
        .ok_or_else(|| StoreError::GroupNotFound(g.id.clone()))
}

pub(crate) async fn add_members(
    tx: &Tx<'_>,
    id: &GroupId,
    users: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let conv = conversation(tx, id).await?;
    let group = get(tx, id)
        .await?
        .ok_or_else(|| StoreError::GroupNotFound(id.clone()))?;
    let fresh = insert_members(tx, id, conv, users, Role::Member, sql_bound(now_ms())).await?;
    let count = usize::try_from(group.member_count).unwrap_or(usize::MAX);
    if too_many(count.saturating_add(fresh.len()), group.settings.max_users) {
        // (The error rolls the insert back: nobody is added.)
        return Err(StoreError::GroupFull(id.clone()));
    }
    Ok(fresh)
}

pub(crate) async fn remove_members(
    tx: &Tx<'_>,
    id: &GroupId,
    users: &[UserId],
) -> Result<Vec<UserId>, StoreError> {
    let (conv, _) = conversation(tx, id).await?;
    let mut removed = Vec::new();
    for u in users {
        let n = exec(
            tx,
            "DELETE FROM group_members WHERE group_id = $1 AND user_id = $2",
            &[&id.as_str(), &u.as_str()],
        )
        .await?;
        if n == 0 {
            continue;
        }
        for sql in MEMBER_LEAVES {
            exec(tx, sql, &[&u.as_str(), &conv]).await?;
        }
        removed.push(u.clone());
    }
    Ok(removed)
}

pub(crate) async fn set_owner(tx: &Tx<'_>, id: &GroupId, user: &UserId) -> Result<(), StoreError> {
    conversation(tx, id).await?;
    exec(
        tx,
        "UPDATE group_members SET role = $3 WHERE group_id = $1 AND role = $2",
        &[
            &id.as_str(),
            &role_column(Role::Owner),
            &role_column(Role::Member),
        ],
    )
    .await?;
    exec(
        tx,
        "UPDATE group_members SET role = $3 WHERE group_id = $1 AND user_id = $2",
        &[&id.as_str(), &user.as_str(), &role_column(Role::Owner)],
    )
    .await?;
    exec(
        tx,
        "UPDATE groups SET owner = $2 WHERE id = $1",
        &[&id.as_str(), &user.as_str()],
    )
    .await?;
    Ok(())
}

/// Removes a group, its members and their sides of its conversation (its messages stay for
/// history); answers the members it had, `None` if there was no such group.
pub(crate) async fn delete(tx: &Tx<'_>, id: &GroupId) -> Result<Option<Vec<UserId>>, StoreError> {
    let Some((conv, _)) = lock_conversation(tx, id).await? else {
        return Ok(None);
    };
    let members = member_ids(tx, id).await?;
    for sql in GROUP_SIDES_GO {
        exec(tx, sql, &[&conv]).await?;
    }
    for sql in GROUP_GOES {
        exec(tx, sql, &[&id.as_str()]).await?;
    }
    Ok(Some(members))
}
