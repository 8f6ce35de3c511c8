//! Changes to groups and chat rooms: creation, members joining and leaving, a new owner,
//! destruction. Each runs on the writer's connection, inside its transaction.
use roam_domain::{
    group::{Group, GroupId, NewGroup, Role},
    now_ms,
    store::StoreError,
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, params};

use super::{get, member, member_ids};
use crate::rows::{engine, group_conversation_key};

/// What goes with a member, per conversation (`user_id` ?1, `conv_id` ?2).
const MEMBER_LEAVES: [&str; 3] = [
    "DELETE FROM user_conversations WHERE user_id = ?1 AND conv_id = ?2",
    "DELETE FROM device_cursors WHERE user_id = ?1 AND conv_id = ?2",
    "DELETE FROM deleted_messages WHERE user_id = ?1 AND conv_id = ?2",
];

/// What goes with a group: every side of its conversation (`conv_id` ?1)…
const GROUP_SIDES_GO: [&str; 3] = [
    "DELETE FROM user_conversations WHERE conv_id = ?1",
    "DELETE FROM device_cursors WHERE conv_id = ?1",
    "DELETE FROM deleted_messages WHERE conv_id = ?1",
];
/// …and its members and row (`group_id` ?1). Its messages stay for history.
const GROUP_GOES: [&str; 2] = [
    "DELETE FROM group_members WHERE group_id = ?1",
    "DELETE FROM groups WHERE id = ?1",
];

/// The group's conversation id and its last seq (where a member joining now starts).
fn conversation(c: &Connection, id: &GroupId) -> Result<(i64, i64), StoreError> {
    c.prepare_cached(
        "SELECT g.conv_id, cv.last_seq FROM groups g JOIN conversations cv ON cv.id = g.conv_id WHERE g.id = ?1",
    )
    .and_then(|mut st| {
        st.query_row([id.as_str()], |r| Ok((r.get(0)?, r.get(1)?)))
            .optional()
    })
    .map_err(engine)?
    .ok_or_else(|| StoreError::GroupNotFound(id.clone()))
}

fn insert_member(
    c: &Connection,
    id: &GroupId,
    conv: (i64, i64),
    user: &UserId,
    role: Role,
    now: u64,
) -> Result<(), StoreError> {
    c.prepare_cached(
        "INSERT INTO group_members (group_id, user_id, role, joined_ms) VALUES (?1, ?2, ?3, ?4)",
    )
    .and_then(|mut st| st.execute(params![id.as_str(), user.as_str(), role as i64, now]))
    .map_err(engine)?;
    // The member's side of the conversation starts now: earlier messages are not theirs.
    // (kind: 1 group, 2 chat room; read_ord: the activity so far is not unread.)
    c.prepare_cached(
        "INSERT INTO user_conversations (user_id, conv_id, target, kind, start_seq, synced_seq, read_seq, read_ord, hidden_to, created_ms) \
         SELECT ?1, ?2, ?3, g.kind + 1, ?4, ?4, ?4, cv.chat_count, ?4, ?5 \
         FROM groups g JOIN conversations cv ON cv.id = g.conv_id WHERE g.conv_id = ?2 \
         ON CONFLICT(user_id, conv_id) DO NOTHING",
    )
    .and_then(|mut st| {
        st.execute(params![user.as_str(), conv.0, group_conversation_key(id), conv.1, now])
    })
    .map_err(engine)?;
    Ok(())
}

pub(crate) fn create(c: &Connection, g: NewGroup) -> Result<Group, StoreError> {
    if get(c, &g.id).map_err(engine)?.is_some() {
        return Err(StoreError::DuplicateGroup(g.id));
    }
    let mut members: Vec<UserId> = g.members.into_iter().filter(|m| *m != g.owner).collect();
    members.sort();
    members.dedup();
    if members.len() + 1 > g.settings.max_users as usize {
        return Err(StoreError::GroupFull(g.id));
    }
    let now = now_ms();
    let key = group_conversation_key(&g.id);
    c.prepare_cached(
        "INSERT INTO conversations (key, last_seq, last_ms, created_ms) VALUES (?1, 0, ?2, ?2) ON CONFLICT(key) DO NOTHING",
    )
    .and_then(|mut st| st.execute(params![key, now]))
    .map_err(engine)?;
    let conv: (i64, i64) = c
        .prepare_cached("SELECT id, last_seq FROM conversations WHERE key = ?1")
        .and_then(|mut st| st.query_row([&key], |r| Ok((r.get(0)?, r.get(1)?))))
        .map_err(engine)?;
    let s = &g.settings;
    c.prepare_cached(
        "INSERT INTO groups (id, kind, conv_id, owner, name, description, public, approval, allow_invites, max_users, custom, created_ms) \
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )
    .and_then(|mut st| st.execute(params![g.id.as_str(), g.kind as i64, conv.0, g.owner.as_str(), s.name, s.description, s.public, s.approval, s.allow_invites, s.max_users as i64, s.custom, now]))
    .map_err(engine)?;
    insert_member(c, &g.id, conv, &g.owner, Role::Owner, now)?;
    for m in &members {
        insert_member(c, &g.id, conv, m, Role::Member, now)?;
    }
    get(c, &g.id)
        .map_err(engine)?
        .ok_or_else(|| StoreError::GroupNotFound(g.id.clone()))
}

pub(crate) fn add_members(
    c: &Connection,
    id: &GroupId,
    users: Vec<UserId>,
) -> Result<Vec<UserId>, StoreError> {
    let conv = conversation(c, id)?;
    let group = get(c, id)
        .map_err(engine)?
        .ok_or_else(|| StoreError::GroupNotFound(id.clone()))?;
    let mut fresh = Vec::new();
    for u in users {
        if !fresh.contains(&u) && member(c, id, &u).map_err(engine)?.is_none() {
            fresh.push(u);
        }
    }
    if group.member_count as usize + fresh.len() > group.settings.max_users as usize {
        return Err(StoreError::GroupFull(id.clone()));
    }
    let now = now_ms();
    for u in &fresh {
        insert_member(c, id, conv, u, Role::Member, now)?;
    }
    Ok(fresh)
}

pub(crate) fn remove_members(
    c: &Connection,
    id: &GroupId,
    users: Vec<UserId>,
) -> Result<Vec<UserId>, StoreError> {
    let (conv, _) = conversation(c, id)?;
    let mut removed = Vec::new();
    for u in users {
        let n = c
            .prepare_cached("DELETE FROM group_members WHERE group_id = ?1 AND user_id = ?2")
            .and_then(|mut st| st.execute(params![id.as_str(), u.as_str()]))
            .map_err(engine)?;
        if n == 0 {
            continue;
        }
        for sql in MEMBER_LEAVES {
            c.prepare_cached(sql)
                .and_then(|mut st| st.execute(params![u.as_str(), conv]))
                .map_err(engine)?;
        }
        removed.push(u);
    }
    Ok(removed)
}

pub(crate) fn set_owner(c: &Connection, id: &GroupId, user: &UserId) -> Result<(), StoreError> {
    c.prepare_cached("UPDATE group_members SET role = ?3 WHERE group_id = ?1 AND role = ?2")
        .and_then(|mut st| {
            st.execute(params![
                id.as_str(),
                Role::Owner as i64,
                Role::Member as i64
            ])
        })
        .map_err(engine)?;
    c.prepare_cached("UPDATE group_members SET role = ?3 WHERE group_id = ?1 AND user_id = ?2")
        .and_then(|mut st| st.execute(params![id.as_str(), user.as_str(), Role::Owner as i64]))
        .map_err(engine)?;
    c.prepare_cached("UPDATE groups SET owner = ?2 WHERE id = ?1")
        .and_then(|mut st| st.execute(params![id.as_str(), user.as_str()]))
        .map_err(engine)?;
    Ok(())
}

/// Removes a group, its members and their sides of its conversation (its messages stay for
/// history); answers the members it had, `None` if there was no such group.
pub(crate) fn delete(c: &Connection, id: &GroupId) -> Result<Option<Vec<UserId>>, StoreError> {
    let Ok((conv, _)) = conversation(c, id) else {
        return Ok(None);
    };
    let members = member_ids(c, id).map_err(engine)?;
    for sql in GROUP_SIDES_GO {
        c.prepare_cached(sql)
            .and_then(|mut st| st.execute([conv]))
            .map_err(engine)?;
    }
    for sql in GROUP_GOES {
        c.prepare_cached(sql)
            .and_then(|mut st| st.execute([id.as_str()]))
            .map_err(engine)?;
    }
    Ok(Some(members))
}
