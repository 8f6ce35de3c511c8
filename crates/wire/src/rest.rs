//! Domain values as Easemob REST JSON: the typed answers of [`roam_protocol::rest`], built
//! from what the use-cases return. Pure functions; the REST transport adds only the envelope
//! fields that depend on the request (`uri`, `timestamp`).
use base64::Engine as _;
use prost::Message as _;
use roam_domain::{
    conversation::Target,
    group::{Group, Member, Role},
    message::StoredMessage,
    roaming::ConversationSummary,
    user::User,
};
use roam_protocol::{
    message_json::body_to_rest,
    pb::MessageBody,
    rest::{
        UserEntity,
        groups::{Affiliation, GroupDetails, GroupSummary, JoinedGroup, JoinedGroupWithRole},
        roaming::{ChannelInfo, ChannelRef, HistoryItem, LastMessage},
    },
};

use crate::chat_kind;

/// One conversation of a user's list, as the SDK's list parser reads it: its last message
/// (as REST message JSON in a string) or `{}`.
pub fn channel_info(c: &ConversationSummary) -> ChannelInfo {
    let meta = c.last.as_ref().map(|m| {
        let payload = MessageBody::decode(m.payload.clone())
            .map(|b| body_to_rest(&b, chat_kind(&m.to)))
            .unwrap_or_else(|_| serde_json::json!({}));
        LastMessage {
            id: m.id.0.to_string(),
            from: m.from.as_str().to_owned(),
            to: m.to.to_string(),
            timestamp: m.timestamp_ms,
            payload: payload.to_string(),
        }
    });
    ChannelInfo {
        session_to: c.target.to_string(),
        session_type: chat_kind(&c.target).name().to_owned(),
        unread_num: c.unread,
        is_top: c.pinned_ms.is_some(),
        update_top_status_time: c.pinned_ms.unwrap_or(0),
        marks: c.marks.iter().map(|m| m.to_string()).collect(),
        meta: meta.into(),
    }
}

/// A conversation named in an answer (`{to, type}`), e.g. the ones a mark ignored.
pub fn channel_ref(target: &Target) -> ChannelRef {
    ChannelRef {
        to: target.to_string(),
        kind: chat_kind(target).name().to_owned(),
    }
}

/// One history entry: the stored message as the base64 `Meta` a device would pull (the same
/// meta, from [`crate::msync::message_meta`]).
pub fn history_item(app_key: &str, m: &StoredMessage) -> HistoryItem {
    let meta = crate::msync::message_meta(app_key, m);
    HistoryItem {
        msg: base64::engine::general_purpose::STANDARD.encode(meta.encode_to_vec()),
    }
}

/// A user as Easemob's user-management answers carry it.
pub fn user_entity(u: &User) -> UserEntity {
    UserEntity {
        uuid: u.uuid.clone(),
        kind: "user".into(),
        created: u.created_ms,
        modified: u.modified_ms,
        username: u.id.to_string(),
        activated: true,
        nickname: u.nickname.clone(),
    }
}

/// A member entry: the user under their role's key.
pub fn affiliation(m: &Member) -> Affiliation {
    let user = Some(m.user.as_str().to_owned());
    let mut a = Affiliation {
        joined_time: m.joined_ms,
        ..Default::default()
    };
    match m.role {
        Role::Owner => a.owner = user,
        Role::Admin => a.admin = user,
        Role::Member => a.member = user,
    }
    a
}

/// A group's details with (a page of) its members.
pub fn group_details(g: &Group, members: &[Member]) -> GroupDetails {
    GroupDetails {
        id: g.id.as_str().to_owned(),
        name: g.settings.name.clone(),
        description: g.settings.description.clone(),
        membersonly: g.settings.approval,
        allowinvites: g.settings.allow_invites,
        maxusers: g.settings.max_users,
        owner: g.owner.as_str().to_owned(),
        created: g.created_ms,
        custom: g.settings.custom.clone(),
        public: g.settings.public,
        disabled: false,
        mute: false,
        affiliations_count: g.member_count,
        affiliations: members.iter().map(affiliation).collect(),
    }
}

/// A group in the list of all (or all public) groups.
pub fn group_summary(g: &Group) -> GroupSummary {
    GroupSummary {
        id: g.id.as_str().to_owned(),
        groupid: g.id.as_str().to_owned(),
        name: g.settings.name.clone(),
        groupname: g.settings.name.clone(),
        owner: g.owner.as_str().to_owned(),
        affiliations: g.member_count,
        affiliations_count: g.member_count,
        public: g.settings.public,
    }
}

/// `owner` if `user` (a user id, lower case) owns the group, else `member`.
fn permission(g: &Group, user: &str) -> String {
    if g.owner.as_str() == user {
        "owner".into()
    } else {
        "member".into()
    }
}

/// A group `user` (lower case) joined, for `joined_chatgroups`.
pub fn joined_group(g: &Group, user: &str) -> JoinedGroup {
    JoinedGroup {
        id: g.id.as_str().to_owned(),
        groupid: g.id.as_str().to_owned(),
        name: g.settings.name.clone(),
        groupname: g.settings.name.clone(),
        disabled: false,
        permission: permission(g, user),
        role: permission(g, user),
    }
}

/// A group `user` (lower case) joined, with its settings, for `chatgroups/user/{u}`.
pub fn joined_group_with_role(g: &Group, user: &str) -> JoinedGroupWithRole {
    JoinedGroupWithRole {
        group_id: g.id.as_str().to_owned(),
        name: g.settings.name.clone(),
        affiliations_count: g.member_count,
        permission: permission(g, user),
        disabled: false,
        membersonly: g.settings.approval,
        allowinvites: g.settings.allow_invites,
        description: g.settings.description.clone(),
        maxusers: g.settings.max_users,
        public: g.settings.public,
    }
}

#[cfg(test)]
mod tests {
    use roam_domain::{
        device::Resource,
        group::GroupId,
        id::MessageId,
        message::MessageKind,
        roaming::{ListCursor, Marks},
        user::UserId,
    };
    use serde_json::json;

    use super::*;

    fn user(name: &str) -> UserId {
        UserId::parse(name).unwrap()
    }

    fn summary(target: Target, last: Option<StoredMessage>) -> ConversationSummary {
        ConversationSummary {
            target,
            unread: 1,
            pinned_ms: Some(9),
            marks: Marks(0b101),
            last,
            position: ListCursor::parse("1.2").unwrap().unwrap(),
        }
    }

    #[test]
    fn a_list_item_renders_as_the_sdk_reads_it() {
        let group = Target::Group(GroupId::parse("123").unwrap());
        let got = serde_json::to_value(channel_info(&summary(group, None))).unwrap();
        assert_eq!(
            got,
            json!({"session_to": "123", "session_type": "groupchat", "unread_num": 1,
                   "is_top": true, "update_top_status_time": 9, "marks": ["mark_0", "mark_2"],
                   "meta": {}})
        );
    }

    #[test]
    fn a_last_message_keeps_its_id_as_a_string() {
        let m = StoredMessage {
            id: MessageId(42),
            seq: 1,
            from: user("bob"),
            from_resource: Resource::parse("web").unwrap(),
            to: Target::User(user("alice")),
            kind: MessageKind::Chat,
            timestamp_ms: 7,
            payload: bytes::Bytes::from_static(b"\xff"),
            activity: true,
        };
        let info = channel_info(&summary(Target::User(user("bob")), Some(m.clone())));
        let last = info.meta.message().unwrap();
        assert_eq!(
            (last.id.as_str(), last.from.as_str(), last.to.as_str()),
            ("42", "bob", "alice")
        );
        assert_eq!(
            (info.session_type.as_str(), last.payload.as_str()),
            ("chat", "{}")
        );
        // History carries the meta a device would pull, in base64.
        let raw = base64::engine::general_purpose::STANDARD
            .decode(history_item("o#a", &m).msg)
            .unwrap();
        let meta = roam_protocol::pb::Meta::decode(raw.as_slice()).unwrap();
        assert_eq!(meta, crate::msync::message_meta("o#a", &m));
        assert_eq!((meta.id, meta.timestamp), (Some(42), Some(7)));
    }

    #[test]
    fn members_sit_under_their_role() {
        let m = Member {
            user: user("bob"),
            role: Role::Admin,
            joined_ms: 3,
        };
        assert_eq!(
            serde_json::to_value(affiliation(&m)).unwrap(),
            json!({"admin": "bob", "joined_time": 3})
        );
    }

    fn group() -> Group {
        Group {
            id: GroupId::parse("77").unwrap(),
            kind: roam_domain::group::GroupKind::Group,
            owner: user("alice"),
            settings: roam_domain::group::GroupSettings {
                name: "n".into(),
                description: "d".into(),
                public: true,
                approval: false,
                allow_invites: true,
                max_users: 200,
                custom: "c".into(),
            },
            created_ms: 5,
            member_count: 2,
        }
    }

    /// The field names and JSON types the Web SDK reads from group answers.
    #[test]
    fn groups_render_in_easemobs_v3_shapes() {
        let g = group();
        let owner = Member {
            user: user("alice"),
            role: Role::Owner,
            joined_ms: 5,
        };
        assert_eq!(
            serde_json::to_value(group_details(&g, &[owner])).unwrap(),
            json!({"id": "77", "name": "n", "description": "d", "membersonly": false,
                   "allowinvites": true, "maxusers": 200, "owner": "alice", "created": 5,
                   "custom": "c", "public": true, "disabled": false, "mute": false,
                   "affiliations_count": 2,
                   "affiliations": [{"owner": "alice", "joined_time": 5}]})
        );
        assert_eq!(
            serde_json::to_value(group_summary(&g)).unwrap(),
            json!({"id": "77", "groupid": "77", "name": "n", "groupname": "n",
                   "owner": "alice", "affiliations": 2, "affiliations_count": 2,
                   "public": true})
        );
        assert_eq!(
            serde_json::to_value(joined_group(&g, "bob")).unwrap(),
            json!({"id": "77", "groupid": "77", "name": "n", "groupname": "n",
                   "disabled": false, "permission": "member", "role": "member"})
        );
        assert_eq!(
            serde_json::to_value(joined_group_with_role(&g, "alice")).unwrap(),
            json!({"groupId": "77", "name": "n", "affiliations_count": 2,
                   "permission": "owner", "disabled": false, "membersonly": false,
                   "allowinvites": true, "description": "d", "maxusers": 200,
                   "public": true})
        );
    }
}
