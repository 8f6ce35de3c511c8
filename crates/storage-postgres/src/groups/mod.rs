//! Groups and chat rooms: the queries here, the changes in [`changes`]. Functions take a
//! connection or the write's transaction.
use async_trait::async_trait;
use deadpool_postgres::GenericClient;
use roam_domain::{
    group::{Group, GroupId, GroupKind, GroupSettings, Member, NewGroup, Role},
    store::{Committed, Events, GroupStore, StoreError},
    user::UserId,
};
use tokio_postgres::Row;

use crate::{
    PgStore,
    delivery::OnceEvents,
    rows::{bad_row, engine, parse_user, row_opt, rows, sql_count, transaction, unsigned},
};

mod changes;

pub(crate) use changes::{delete, remove_members};

#[async_trait]
impl GroupStore for PgStore {
    async fn create_group(&self, group: NewGroup) -> Result<Group, StoreError> {
        transaction!(self, |tx| { changes::create(&tx, group.clone()).await })
    }

    async fn group(&self, id: &GroupId) -> Result<Option<Group>, StoreError> {
        get(&self.client().await?, id).await
    }

    async fn groups_of(&self, user: &UserId, kind: GroupKind) -> Result<Vec<Group>, StoreError> {
        of_user(&self.client().await?, user, kind).await
    }

    async fn list_groups(
        &self,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, StoreError> {
        rows(
            &self.client().await?,
            SELECT_ALL_GROUPS,
            &[&kind_column(kind), &sql_count(limit), &sql_count(offset)],
        )
        .await?
        .iter()
        .map(group_from_row)
        .collect()
    }

    async fn members(
        &self,
        id: &GroupId,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, StoreError> {
        rows(
            &self.client().await?,
            "SELECT user_id, role, joined_ms FROM group_members WHERE group_id = $1 \
             ORDER BY role, joined_ms, user_id LIMIT $2 OFFSET $3",
            &[&id.as_str(), &sql_count(limit), &sql_count(offset)],
        )
        .await?
        .iter()
        .map(member_from_row)
        .collect()
    }

    async fn member_ids(&self, id: &GroupId) -> Result<Vec<UserId>, StoreError> {
        member_ids(&self.client().await?, id).await
    }

    async fn member(&self, id: &GroupId, user: &UserId) -> Result<Option<Member>, StoreError> {
        member(&self.client().await?, id, user).await
    }

    async fn add_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            let added = changes::add_members(&tx, id, &users).await?;
            events.append(&tx, &self.ids, added).await
        })
    }

    async fn remove_members(
        &self,
        id: &GroupId,
        users: Vec<UserId>,
        events: Events<Vec<UserId>>,
    ) -> Result<Committed<Vec<UserId>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            let removed = changes::remove_members(&tx, id, &users).await?;
            events.append(&tx, &self.ids, removed).await
        })
    }

    async fn set_owner(
        &self,
        id: &GroupId,
        user: &UserId,
        events: Events<()>,
    ) -> Result<Committed<()>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            changes::set_owner(&tx, id, user).await?;
            events.append(&tx, &self.ids, ()).await
        })
    }

    async fn delete_group(
        &self,
        id: &GroupId,
        events: Events<Option<Vec<UserId>>>,
    ) -> Result<Committed<Option<Vec<UserId>>>, StoreError> {
        let mut events = OnceEvents::new(events);
        transaction!(self, |tx| {
            let members = delete(&tx, id).await?;
            events.append(&tx, &self.ids, members).await
        })
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
    FROM groups g WHERE g.id = $1";

const SELECT_GROUPS_OF: &str = "SELECT g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) \
    FROM group_members me JOIN groups g ON g.id = me.group_id \
    WHERE me.user_id = $1 AND g.kind = $2 ORDER BY g.created_ms DESC, g.id";

const SELECT_ALL_GROUPS: &str = "SELECT g.id, g.kind, g.owner, g.name, g.description, g.public, g.approval, \
    g.allow_invites, g.max_users, g.custom, g.created_ms, \
    (SELECT COUNT(*) FROM group_members m WHERE m.group_id = g.id) \
    FROM groups g WHERE g.kind = $1 ORDER BY g.created_ms DESC, g.id LIMIT $2 OFFSET $3";

/// `groups.kind`: 0 group, 1 chat room.
pub(crate) fn kind_column(kind: GroupKind) -> i32 {
    match kind {
        GroupKind::Group => 0,
        GroupKind::ChatRoom => 1,
    }
}

/// An INTEGER 0/1 flag.
fn flag(r: &Row, i: usize) -> Result<bool, StoreError> {
    Ok(r.try_get::<_, i32>(i).map_err(engine)? != 0)
}

fn group_from_row(r: &Row) -> Result<Group, StoreError> {
    Ok(Group {
        id: GroupId::parse(r.try_get(0).map_err(engine)?).map_err(|_| bad_row("group id"))?,
        kind: if r.try_get::<_, i32>(1).map_err(engine)? == 1 {
            GroupKind::ChatRoom
        } else {
            GroupKind::Group
        },
        owner: parse_user(r.try_get(2).map_err(engine)?)?,
        settings: GroupSettings {
            name: r.try_get(3).map_err(engine)?,
            description: r.try_get(4).map_err(engine)?,
            public: flag(r, 5)?,
            approval: flag(r, 6)?,
            allow_invites: flag(r, 7)?,
            max_users: u32::try_from(unsigned(r, 8)?).map_err(|_| bad_row("max users"))?,
            custom: r.try_get(9).map_err(engine)?,
        },
        created_ms: unsigned(r, 10)?,
        member_count: u32::try_from(unsigned(r, 11)?).map_err(|_| bad_row("member count"))?,
    })
}

fn member_from_row(r: &Row) -> Result<Member, StoreError> {
    Ok(Member {
        user: parse_user(r.try_get(0).map_err(engine)?)?,
        role: Role::from_code(i64::from(r.try_get::<_, i32>(1).map_err(engine)?)),
        joined_ms: unsigned(r, 2)?,
    })
}

pub(crate) async fn get(c: &impl GenericClient, id: &GroupId) -> Result<Option<Group>, StoreError> {
    row_opt(c, SELECT_GROUP, &[&id.as_str()])
        .await?
        .map(|r| group_from_row(&r))
        .transpose()
}

pub(crate) async fn of_user(
    c: &impl GenericClient,
    user: &UserId,
    kind: GroupKind,
) -> Result<Vec<Group>, StoreError> {
    rows(c, SELECT_GROUPS_OF, &[&user.as_str(), &kind_column(kind)])
        .await?
        .iter()
        .map(group_from_row)
        .collect()
}

pub(crate) async fn member_ids(
    c: &impl GenericClient,
    id: &GroupId,
) -> Result<Vec<UserId>, StoreError> {
    rows(
        c,
        "SELECT user_id FROM group_members WHERE group_id = $1 ORDER BY user_id",
        &[&id.as_str()],
    )
    .await?
    .iter()
    .map(|r| parse_user(r.try_get(0).map_err(engine)?))
    .collect()
}

pub(crate) async fn member(
    c: &impl GenericClient,
    id: &GroupId,
    user: &UserId,
) -> Result<Option<Member>, StoreError> {
    row_opt(
        c,
        "SELECT user_id, role, joined_ms FROM group_members WHERE group_id = $1 AND user_id = $2",
        &[&id.as_str(), &user.as_str()],
    )
    .await?
    .map(|r| member_from_row(&r))
    .transpose()
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
