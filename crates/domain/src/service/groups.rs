//! Groups and chat rooms: creation, membership, and the events members are told.
//!
//! Permissions follow Easemob: the app admin may do anything; a group's owner manages it;
//! members may invite when the group allows it; anyone may join a public group that needs no
//! approval, and any chat room. Every membership change is told through a group event: one
//! row in the group's conversation for what all members see, one row in a user's own log for
//! what only that user sees (being removed, the group destroyed), built in `group_events`.
//! The events commit with the change, and are signalled after (see [`crate::store`]).
use super::{
    Roam,
    group_events::{actor_of, destroyed_events, group_event, user_event},
};
use crate::{
    auth::Principal,
    group::roster::Scope,
    group::{
        Group, GroupId, GroupKind, GroupOp, GroupSettings, InvalidGroupId, Member, NewGroup, Role,
    },
    limits::{self, TooLong},
    store::{Events, StoreError},
    user::{InvalidUserId, UserId},
};

/// Why a group operation failed.
#[derive(Debug, thiserror::Error)]
pub enum GroupError {
    #[error(transparent)]
    InvalidGroupId(#[from] InvalidGroupId),
    #[error(transparent)]
    InvalidUserId(#[from] InvalidUserId),
    #[error("{0}")]
    InvalidSettings(String),
    /// A name, a description or a list of users over its limit ([`crate::limits`]).
    #[error(transparent)]
    TooLong(#[from] TooLong),
    /// The user is in as many groups (or chat rooms) as the policy allows.
    #[error("user {0} has joined too many {kinds}", kinds = match .1 {
        GroupKind::Group => "groups",
        GroupKind::ChatRoom => "chatrooms",
    })]
    TooManyGroups(UserId, GroupKind),
    #[error("group {0} does not exist")]
    NotFound(GroupId),
    #[error("user {0} doesn't exist")]
    UserNotFound(UserId),
    #[error("{0} is not a member of group {1}")]
    NotMember(UserId, GroupId),
    #[error("group member list is full!")]
    Full(GroupId),
    #[error("the owner cannot leave or be removed; transfer or destroy the group")]
    OwnerStays,
    #[error("permission denied")]
    Forbidden,
    #[error(transparent)]
    Store(StoreError),
}

impl From<StoreError> for GroupError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::GroupNotFound(g) => GroupError::NotFound(g),
            StoreError::GroupFull(g) => GroupError::Full(g),
            e => GroupError::Store(e),
        }
    }
}

/// A request to create a group or chat room.
#[derive(Debug, Clone)]
pub struct CreateGroup {
    pub kind: GroupKind,
    /// Required when the admin creates; a user creates groups they own.
    pub owner: Option<String>,
    pub members: Vec<String>,
    pub settings: GroupSettings,
}

impl GroupSettings {
    /// The name, description and custom field are within [`crate::limits`].
    pub fn check(&self) -> Result<(), TooLong> {
        limits::chars("groupname", &self.name, limits::GROUP_NAME_CHARS)?;
        limits::chars(
            "description",
            &self.description,
            limits::GROUP_DESCRIPTION_CHARS,
        )?;
        limits::chars("custom", &self.custom, limits::GROUP_CUSTOM_CHARS)
    }
}

impl Roam {
    /// Parses user ids a client listed: each once, at most `max` of them.
    fn parse_users(
        what: &'static str,
        names: &[String],
        max: usize,
    ) -> Result<Vec<UserId>, GroupError> {
        let ids = names
            .iter()
            .map(|n| UserId::parse(n).map_err(GroupError::from))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(limits::distinct(what, ids, max)?)
    }

    /// Each of `users` not yet in `group` may join one more of its kind under the policy.
    /// Checked before the write; concurrent joins of one user may overshoot by a few.
    async fn room_in_groups(
        &self,
        users: &[UserId],
        kind: GroupKind,
        group: Option<&GroupId>,
    ) -> Result<(), GroupError> {
        let max = match kind {
            GroupKind::Group => self.policy.max_groups_per_user,
            GroupKind::ChatRoom => self.policy.max_chatrooms_per_user,
        };
        for u in users {
            let joined = self.store.groups_of(u, kind).await?;
            let already = group.is_some_and(|g| joined.iter().any(|j| j.id == *g));
            if joined.len() >= max && !already {
                return Err(GroupError::TooManyGroups(u.clone(), kind));
            }
        }
        Ok(())
    }

    async fn existing_users(&self, users: &[UserId]) -> Result<(), GroupError> {
        for u in users {
            if self.store.user(u).await?.is_none() {
                return Err(GroupError::UserNotFound(u.clone()));
            }
        }
        Ok(())
    }

    async fn existing_group(&self, id: &str) -> Result<Group, GroupError> {
        let id = GroupId::parse(id)?;
        self.store.group(&id).await?.ok_or(GroupError::NotFound(id))
    }

    /// The caller's standing in `group`: None for the app admin, else their role.
    async fn standing(
        &self,
        caller: &Principal,
        group: &Group,
    ) -> Result<Option<Option<Role>>, GroupError> {
        Ok(match caller {
            Principal::Admin => None,
            Principal::User(u) => Some(self.store.member(&group.id, u).await?.map(|m| m.role)),
        })
    }

    async fn manage(&self, caller: &Principal, group: &Group) -> Result<(), GroupError> {
        match self.standing(caller, group).await? {
            None | Some(Some(Role::Owner | Role::Admin)) => Ok(()),
            _ => Err(GroupError::Forbidden),
        }
    }

    /// Creates a group or chat room; its id is made here (numeric, time-ordered).
    pub async fn create_group(
        &self,
        caller: &Principal,
        req: CreateGroup,
    ) -> Result<Group, GroupError> {
        let owner = match (caller, &req.owner) {
            (Principal::Admin, Some(o)) => UserId::parse(o)?,
            (Principal::Admin, None) => {
                return Err(GroupError::InvalidSettings("owner is required".into()));
            }
            (Principal::User(me), Some(o)) if UserId::parse(o)? != *me => {
                return Err(GroupError::Forbidden);
            }
            (Principal::User(me), _) => me.clone(),
        };
        if req.settings.max_users < 1 || req.settings.max_users > 100_000 {
            return Err(GroupError::InvalidSettings(
                "maxusers must be between 1 and 100000".into(),
            ));
        }
        req.settings.check()?;
        let mut members = Self::parse_users("members", &req.members, limits::CREATE_MEMBERS)?;
        members.retain(|m| *m != owner);
        self.existing_users(&members).await?;
        self.existing_users(std::slice::from_ref(&owner)).await?;
        self.room_in_groups(std::slice::from_ref(&owner), req.kind, None)
            .await?;
        self.room_in_groups(&members, req.kind, None).await?;
        let group = self
            .store
            .create_group(NewGroup {
                id: GroupId::parse(&self.ids.next().0.to_string())?,
                kind: req.kind,
                owner,
                settings: req.settings,
                members,
            })
            .await?;
        Ok(group)
    }

    /// A group's details: for the admin, members, and anyone if the group is public.
    pub async fn group_info(&self, caller: &Principal, id: &str) -> Result<Group, GroupError> {
        let group = self.existing_group(id).await?;
        match self.standing(caller, &group).await? {
            Some(None) if !group.settings.public => Err(GroupError::Forbidden),
            _ => Ok(group),
        }
    }

    /// The groups (or chat rooms) `user` belongs to; the admin or that user may ask.
    pub async fn joined_groups(
        &self,
        caller: &Principal,
        user: &str,
        kind: GroupKind,
    ) -> Result<Vec<Group>, GroupError> {
        let user = UserId::parse(user)?;
        if let Principal::User(me) = caller
            && *me != user
        {
            return Err(GroupError::Forbidden);
        }
        Ok(self.store.groups_of(&user, kind).await?)
    }

    /// A page of all groups or chat rooms (users see public ones only).
    pub async fn list_groups(
        &self,
        caller: &Principal,
        kind: GroupKind,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Group>, GroupError> {
        let all = self.store.list_groups(kind, offset, limit).await?;
        Ok(match caller {
            Principal::Admin => all,
            Principal::User(_) => all.into_iter().filter(|g| g.settings.public).collect(),
        })
    }

    /// A page of members: for the admin and members (and anyone, for a public chat room).
    pub async fn group_members(
        &self,
        caller: &Principal,
        id: &str,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Member>, GroupError> {
        let group = self.existing_group(id).await?;
        let open = group.kind == GroupKind::ChatRoom && group.settings.public;
        if let Some(None) = self.standing(caller, &group).await?
            && !open
        {
            return Err(GroupError::Forbidden);
        }
        Ok(self.store.members(&group.id, offset, limit).await?)
    }

    /// Adds users: the admin, the owner or a group admin — or any member if the group allows
    /// invites. Returns who was added (those already in are skipped).
    pub async fn add_group_members(
        &self,
        caller: &Principal,
        id: &str,
        users: &[String],
    ) -> Result<Vec<UserId>, GroupError> {
        let group = self.existing_group(id).await?;
        match self.standing(caller, &group).await? {
            None | Some(Some(Role::Owner | Role::Admin)) => {}
            Some(Some(Role::Member)) if group.settings.allow_invites => {}
            _ => return Err(GroupError::Forbidden),
        }
        let users = Self::parse_users("usernames", users, limits::USERS_PER_CALL)?;
        self.existing_users(&users).await?;
        self.room_in_groups(&users, group.kind, Some(&group.id))
            .await?;
        let actor = actor_of(caller, &group);
        let about = group.clone();
        let events: Events<Vec<UserId>> = Box::new(move |added| {
            if added.is_empty() {
                return Vec::new();
            }
            let mut events = vec![group_event(&about, GroupOp::MembersAdded, &actor, added)];
            // Each added user is also told in their own log that someone else added them.
            for u in added.iter().filter(|u| **u != actor) {
                events.push(user_event(
                    u,
                    &about,
                    GroupOp::MembersAdded,
                    &actor,
                    vec![u.clone()],
                ));
            }
            events
        });
        let (store, id) = (self.store.clone(), group.id.clone());
        let done = self
            .membership_write(Scope::Group(id.clone()), async move {
                store.add_members(&id, users, events).await
            })
            .await?;
        self.signal_all(&done.events).await;
        Ok(done.value)
    }

    /// Joins a public group that needs no approval, or a chat room.
    pub async fn join_group(&self, caller: &Principal, id: &str) -> Result<Group, GroupError> {
        let Principal::User(me) = caller else {
            return Err(GroupError::Forbidden);
        };
        let group = self.existing_group(id).await?;
        let open = group.kind == GroupKind::ChatRoom
            || (group.settings.public && !group.settings.approval);
        if !open {
            return Err(GroupError::Forbidden);
        }
        self.room_in_groups(std::slice::from_ref(me), group.kind, Some(&group.id))
            .await?;
        let (about, actor) = (group.clone(), me.clone());
        let events: Events<Vec<UserId>> = Box::new(move |added| {
            if added.is_empty() {
                return Vec::new();
            }
            vec![group_event(&about, GroupOp::MembersAdded, &actor, added)]
        });
        let (store, id, me) = (self.store.clone(), group.id.clone(), me.clone());
        let done = self
            .membership_write(Scope::Group(id.clone()), async move {
                store.add_members(&id, vec![me], events).await
            })
            .await?;
        self.signal_all(&done.events).await;
        Ok(group)
    }

    /// Removes members (the admin, the owner or a group admin). The owner cannot be removed.
    pub async fn remove_group_members(
        &self,
        caller: &Principal,
        id: &str,
        users: &[String],
    ) -> Result<Vec<UserId>, GroupError> {
        let group = self.existing_group(id).await?;
        self.manage(caller, &group).await?;
        let users = Self::parse_users("usernames", users, limits::USERS_PER_CALL)?;
        if users.contains(&group.owner) {
            return Err(GroupError::OwnerStays);
        }
        let actor = actor_of(caller, &group);
        let about = group.clone();
        let events: Events<Vec<UserId>> = Box::new(move |removed| {
            if removed.is_empty() {
                return Vec::new();
            }
            let mut events = vec![group_event(
                &about,
                GroupOp::MembersRemoved,
                &actor,
                removed,
            )];
            for u in removed {
                events.push(user_event(
                    u,
                    &about,
                    GroupOp::MembersRemoved,
                    &actor,
                    vec![u.clone()],
                ));
            }
            events
        });
        let (store, id) = (self.store.clone(), group.id.clone());
        let done = self
            .membership_write(Scope::Group(id.clone()), async move {
                store.remove_members(&id, users, events).await
            })
            .await?;
        self.signal_all(&done.events).await;
        Ok(done.value)
    }

    /// The caller leaves (not the owner).
    pub async fn leave_group(&self, caller: &Principal, id: &str) -> Result<(), GroupError> {
        let Principal::User(me) = caller else {
            return Err(GroupError::Forbidden);
        };
        let group = self.existing_group(id).await?;
        if group.owner == *me {
            return Err(GroupError::OwnerStays);
        }
        let (about, actor) = (group.clone(), me.clone());
        let events: Events<Vec<UserId>> = Box::new(move |removed| {
            if removed.is_empty() {
                return Vec::new();
            }
            vec![group_event(
                &about,
                GroupOp::MemberLeft,
                &actor,
                std::slice::from_ref(&actor),
            )]
        });
        let (store, id, leaver) = (self.store.clone(), group.id.clone(), me.clone());
        let done = self
            .membership_write(Scope::Group(id.clone()), async move {
                store.remove_members(&id, vec![leaver], events).await
            })
            .await?;
        if done.value.is_empty() {
            return Err(GroupError::NotMember(me.clone(), group.id));
        }
        self.signal_all(&done.events).await;
        Ok(())
    }

    /// Destroys a group (the admin or the owner). Every member is told in their own log.
    pub async fn destroy_group(&self, caller: &Principal, id: &str) -> Result<Group, GroupError> {
        let group = self.existing_group(id).await?;
        match self.standing(caller, &group).await? {
            None | Some(Some(Role::Owner)) => {}
            _ => return Err(GroupError::Forbidden),
        }
        let actor = actor_of(caller, &group);
        let about = group.clone();
        let events: Events<Option<Vec<UserId>>> = Box::new(move |members| {
            destroyed_events(&about, &actor, members.as_deref().unwrap_or_default())
        });
        let (store, id) = (self.store.clone(), group.id.clone());
        let done = self
            .membership_write(Scope::Group(id.clone()), async move {
                store.delete_group(&id, events).await
            })
            .await?;
        self.signal_all(&done.events).await;
        Ok(group)
    }

    /// Makes a member the owner (the admin or the owner).
    pub async fn transfer_group(
        &self,
        caller: &Principal,
        id: &str,
        new_owner: &str,
    ) -> Result<Group, GroupError> {
        let group = self.existing_group(id).await?;
        match self.standing(caller, &group).await? {
            None | Some(Some(Role::Owner)) => {}
            _ => return Err(GroupError::Forbidden),
        }
        let new_owner = UserId::parse(new_owner)?;
        if self.store.member(&group.id, &new_owner).await?.is_none() {
            return Err(GroupError::NotMember(new_owner, group.id));
        }
        let actor = actor_of(caller, &group);
        let about = group.clone();
        let owner = new_owner.clone();
        let events: Events<()> =
            Box::new(move |_| vec![group_event(&about, GroupOp::OwnerChanged, &actor, &[owner])]);
        let done = self.store.set_owner(&group.id, &new_owner, events).await?;
        self.signal_all(&done.events).await;
        self.existing_group(group.id.as_str()).await
    }
}
