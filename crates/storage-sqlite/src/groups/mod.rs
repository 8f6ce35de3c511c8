//! Groups and chat rooms in SQLite: the queries here, the changes in [`changes`]. Functions
//! take a connection: the writer's inside its transaction for changes, a reader's for queries.
use async_trait::async_trait;
use roam_domain::{
    group::{Group, GroupId, GroupKind, GroupSettings, Member, NewGroup, Role},
    store::{Committed, Events, GroupStore, StoreError},
    user::UserId,
};
use rusqlite::{Connection, OptionalExtension, Row, params};

use crate::{
    SqliteStore,
    rows::{bad_row, parse_user, sql_count},
};

mod changes;

pub(crate) use changes::{delete, remove_members};

#[async_trait]
impl GroupStore for SqliteStore {
    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError> {
        self.writer
            .write(move |c, _| changes::create(c, group))
            .await
    }

    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| get(c, &id)).await
    }

    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError> {
        let user = user.clone();
        self.readers.read(move |c| of_user(c, &user, kind)).await
    }

    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError> {
        self.readers
            .read(move |c| list(c, kind, offset, limit))
            .await
    }

    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        let id = id.clone();
        self.readers
            .read(move |c| members(c, &id, offset, limit))
            .await
    }

    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError> {
        let id = id.clone();
        self.readers.read(move |c| member_ids(c, &id)).await
    }

    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.readers.read(move |c| member(c, &id, &user)).await
    }

    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        let id = id.clone();
        self.writer
            .write_with_events(move |c| changes::add_members(c, &id, users), events)
            .await
    }

    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        let id = id.clone();
        self.writer
            .write_with_events(move |c| changes::remove_members(c, &id, users), events)
            .await
    }

    async fn set_owner(
        &self,
        id: &GroupId,
        user: &UserId,
        events: Events<()>,
    ) -> Result<Committed<()>, StoreError> {
        let (id, user) = (id.clone(), user.clone());
        self.writer
            .write_with_events(move |c| changes::set_owner(c, &id, &user), events)
            .await
    }

    async fn delete_group(
        &self,
        id: &GroupId,
        events: Events<Option<Vec<UserId>>>,
    ) -> Result<Committed<Option<Vec<UserId>>>, StoreError> {
        let id = id.clone();
        self.writer
            .write_with_events(move |c| delete(c, &id), events)
            .await
    }
}

/// The columns [`group_from_row`] reads, in order (spelled out in the statements below,
/// which are constants; a test checks they match).
#[cfg(test)]
const GROUP_COLUMNS: &str = "g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id)";

const SELECT_GROUP: &str = "SELECT g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) \
    FROM groups g WHERE g.id = ?1";

const SELECT_GROUPS_OF: &str = "SELECT g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) \
    FROM group_members me JOIN groups g ON g.id = me.group_id \
    WHERE me.user_id = ?1 AND g.kind = ?2 ORDER BY g.created_ms DESC, g.id";

const SELECT_ALL_GROUPS: &str = "SELECT g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) \
    FROM groups g WHERE g.kind = ?1 ORDER BY g.created_ms DESC, g.id LIMIT ?2 OFFSET ?3";

fn group_from_row(r: &Row<'_>) -> rusqlite::Result<Group> {
    Ok(Group {
        id: GroupId::parse(&r.get::<_, String>(0)?).map_err(|_| bad_row("group id"))?,
        kind: if r.get::<_, i64>(1)? == 1 {
            GroupKind::ChatRoom
        } else {
            GroupKind::Group
        },
        owner: parse_user(r.get(2)?)?,
        settings: GroupSettings {
            name: r.get(3)?,
            description: r.get(4)?,
            public: r.get(5)?,
            approval: r.get(6)?,
            allow_invites: r.get(7)?,
            max_users: r.get(8)?,
            custom: r.get(9)?,
        },
        created_ms: r.get(10)?,
        member_count: r.get(11)?,
    })
}

fn member_from_row(r: &Row<'_>) -> rusqlite::Result<Member> {
    Ok(Member {
        user: parse_user(r.get(0)?)?,
        role: Role::from_code(r.get(1)?),
        joined_ms: r.get(2)?,
    })
}

pub(crate) fn get(c: &Connection, id: &GroupId) -> rusqlite::Result<Option<Group>> {
    c.prepare_cached(SELECT_GROUP)?
        .query_row([id.as_str()], group_from_row)
        .optional()
}

pub(crate) fn of_user(
    c: &Connection,
    user: &UserId,
    kind: GroupKind,
) -> rusqlite::Result<Vec<Group>> {
    let mut stmt = c.prepare_cached(SELECT_GROUPS_OF)?;
    stmt.query_map(params![user.as_str(), kind as i64], group_from_row)?
        .collect()
}

pub(crate) fn list(
    c: &Connection,
    kind: GroupKind,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<Group>> {
    let mut stmt = c.prepare_cached(SELECT_ALL_GROUPS)?;
    stmt.query_map(
        params![kind as i64, sql_count(limit), sql_count(offset)],
        group_from_row,
    )?
    .collect()
}

pub(crate) fn members(
    c: &Connection,
    id: &GroupId,
    offset: usize,
    limit: usize,
) -> rusqlite::Result<Vec<Member>> {
    let mut stmt = c.prepare_cached(
        "SELECT user_id, role, joined_ms FROM group_members WHERE group_id = ?1 \
         ORDER BY role, joined_ms, user_id LIMIT ?2 OFFSET ?3",
    )?;
    stmt.query_map(
        params![id.as_str(), sql_count(limit), sql_count(offset)],
        member_from_row,
    )?
    .collect()
}

pub(crate) fn member_ids(c: &Connection, id: &GroupId) -> rusqlite::Result<Vec<UserId>> {
    let mut stmt = c.prepare_cached("SELECT user_id FROM group_members WHERE group_id = ?1")?;
    stmt.query_map([id.as_str()], |r| parse_user(r.get(0)?))?
        .collect()
}

pub(crate) fn member(
    c: &Connection,
    id: &GroupId,
    user: &UserId,
) -> rusqlite::Result<Option<Member>> {
    c.prepare_cached(
        "SELECT user_id, role, joined_ms FROM group_members WHERE group_id = ?1 AND user_id = ?2",
    )?
    .query_row(params![id.as_str(), user.as_str()], member_from_row)
    .optional()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_group_statements_select_the_group_columns() {
        for sql in [SELECT_GROUP, SELECT_GROUPS_OF, SELECT_ALL_GROUPS] {
            assert!(
                sql.starts_with(&format!("SELECT {GROUP_COLUMNS} FROM ")),
                "{sql}"
            );
        }
    }
}
