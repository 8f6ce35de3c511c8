//! Groups and chat rooms over REST: Easemob's envelope and the `data` of each answer under
//! `/chatgroups` and `/chatrooms` (Easemob's v3 shapes, as the Web SDK reads them).
use serde::{Deserialize, Serialize};

/// Easemob's envelope around a group answer. `data` is the answer proper; `entities` is empty
/// except in the joined-groups-with-roles answer, which carries its groups there.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Envelope<D, E = NoEntity> {
    /// `get`, `post`, `put` or `delete`.
    pub action: String,
    /// The application's uuid.
    pub application: String,
    #[serde(rename = "applicationName")]
    pub application_name: String,
    pub organization: String,
    /// The request's path.
    pub uri: String,
    #[serde(default = "Vec::new")]
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub entities: Vec<E>,
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub data: D,
    #[serde(default)]
    pub timestamp: u64,
    #[serde(default)]
    pub duration: u64,
    /// Items in `data` (or `entities`), on list answers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<usize>,
    /// The next page's `cursor`, when the page was full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cursor: Option<String>,
    /// The page asked for, echoed by the member list.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub params: Option<PageParams>,
}

/// The type of an always empty `entities`: no value of it exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub enum NoEntity {}

/// The member list's echo of its page: one-element arrays of decimal strings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PageParams {
    pub pagesize: Vec<String>,
    pub pagenum: Vec<String>,
}

/// `data` of a create: a group answers `groupid`, a chat room `id`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Created {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groupid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
}

/// A member entry: the user under the key of their role (`owner`, `admin` or `member`),
/// with when they joined.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Affiliation {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admin: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// ms.
    pub joined_time: u64,
}

/// One group in the details answer (`GET /chatgroups/{ids}`), with its members.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupDetails {
    pub id: String,
    pub name: String,
    pub description: String,
    /// Joining needs approval.
    pub membersonly: bool,
    pub allowinvites: bool,
    pub maxusers: u32,
    pub owner: String,
    /// ms.
    pub created: u64,
    pub custom: String,
    pub public: bool,
    pub disabled: bool,
    pub mute: bool,
    pub affiliations_count: u32,
    pub affiliations: Vec<Affiliation>,
}

/// One group of the list of all (or all public) groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct GroupSummary {
    pub id: String,
    pub groupid: String,
    pub name: String,
    pub groupname: String,
    pub owner: String,
    /// The member count (as Easemob names it here).
    pub affiliations: u32,
    pub affiliations_count: u32,
    pub public: bool,
}

/// One group of `GET /users/{u}/joined_chatgroups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinedGroup {
    pub id: String,
    pub groupid: String,
    pub name: String,
    pub groupname: String,
    pub disabled: bool,
    /// `owner` or `member`.
    pub permission: String,
    /// The same as `permission`. SDK 4.21 maps `{id, name, permission}` to the app's
    /// `{groupid, groupname, role}`; SDKs before it hand this list to the app unmapped, so the
    /// item carries the mapped names too (docs/protocol.md, "SDK versions").
    pub role: String,
}

/// One group of `GET /chatgroups/user/{u}` (in `entities`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct JoinedGroupWithRole {
    #[serde(rename = "groupId")]
    pub group_id: String,
    pub name: String,
    pub affiliations_count: u32,
    /// `owner` or `member`.
    pub permission: String,
    pub disabled: bool,
    pub membersonly: bool,
    pub allowinvites: bool,
    pub description: String,
    pub maxusers: u32,
    pub public: bool,
}

/// The result for one user of an add, invite, apply or remove. Each answer names the group
/// its own way, so both keys are optional.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MemberResult {
    pub result: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub groupid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// `add_member`, `invite`, `apply` or `remove_member`.
    pub action: String,
    pub user: String,
}

/// A remove of one user answers one result, of several an array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum OneOrMany<T> {
    One(#[cfg_attr(feature = "openapi", schema(inline))] T),
    Many(#[cfg_attr(feature = "openapi", schema(inline))] Vec<T>),
}

/// `data` of a batch add (`POST /chatgroups/{id}/users`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct AddedMembers {
    pub newmembers: Vec<String>,
    pub groupid: String,
    pub id: String,
    pub action: String,
}

/// Body of a batch add or an invite.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UsernamesBody {
    pub usernames: Vec<String>,
}

/// `data` of a quit: `{"result": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Done {
    pub result: bool,
}

/// `data` of a destroy.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct Destroyed {
    pub success: bool,
    pub groupid: String,
    pub id: String,
}

/// `data` of an owner transfer: `{"newowner": true}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct OwnerChanged {
    pub newowner: bool,
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;

    fn envelope<D, E>(data: D, entities: Vec<E>) -> Envelope<D, E> {
        Envelope {
            action: "get".into(),
            application: "uuid".into(),
            application_name: "demo".into(),
            organization: "roam".into(),
            uri: "/roam/demo/chatgroups".into(),
            entities,
            data,
            timestamp: 1,
            duration: 0,
            count: None,
            cursor: None,
            params: None,
        }
    }

    fn head() -> Value {
        json!({"action": "get", "application": "uuid", "applicationName": "demo",
               "organization": "roam", "uri": "/roam/demo/chatgroups", "timestamp": 1,
               "duration": 0})
    }

    fn with(mut base: Value, extra: Value) -> Value {
        for (k, v) in extra.as_object().unwrap() {
            base[k] = v.clone();
        }
        base
    }

    #[test]
    fn a_member_list_envelope_round_trips() {
        let mut e = envelope(
            vec![
                Affiliation {
                    owner: Some("alice".into()),
                    joined_time: 3,
                    ..Default::default()
                },
                Affiliation {
                    member: Some("bob".into()),
                    joined_time: 4,
                    ..Default::default()
                },
            ],
            Vec::<NoEntity>::new(),
        );
        e.count = Some(2);
        e.cursor = Some("2".into());
        e.params = Some(PageParams {
            pagesize: vec!["2".into()],
            pagenum: vec!["1".into()],
        });
        let expected = with(
            head(),
            json!({"entities": [], "data": [{"owner": "alice", "joined_time": 3},
                   {"member": "bob", "joined_time": 4}], "count": 2, "cursor": "2",
                   "params": {"pagesize": ["2"], "pagenum": ["1"]}}),
        );
        assert_eq!(serde_json::to_value(&e).unwrap(), expected);
        assert_eq!(serde_json::from_value::<Envelope<_>>(expected).unwrap(), e);
    }

    #[test]
    fn group_answers_keep_their_shapes() {
        let created = envelope(
            Created {
                groupid: Some("7".into()),
                id: None,
            },
            Vec::<NoEntity>::new(),
        );
        let expected = with(head(), json!({"entities": [], "data": {"groupid": "7"}}));
        assert_eq!(serde_json::to_value(&created).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<Envelope<_>>(expected).unwrap(),
            created
        );

        let joined = envelope(
            Vec::<NoEntity>::new(),
            vec![JoinedGroupWithRole {
                group_id: "7".into(),
                name: "n".into(),
                affiliations_count: 2,
                permission: "owner".into(),
                disabled: false,
                membersonly: false,
                allowinvites: true,
                description: "d".into(),
                maxusers: 200,
                public: true,
            }],
        );
        let expected = with(
            head(),
            json!({"data": [], "entities": [{"groupId": "7", "name": "n",
                   "affiliations_count": 2, "permission": "owner", "disabled": false,
                   "membersonly": false, "allowinvites": true, "description": "d",
                   "maxusers": 200, "public": true}]}),
        );
        assert_eq!(serde_json::to_value(&joined).unwrap(), expected);
        assert_eq!(
            serde_json::from_value::<Envelope<_, _>>(expected).unwrap(),
            joined
        );

        let one = MemberResult {
            result: true,
            groupid: Some("7".into()),
            id: Some("7".into()),
            action: "remove_member".into(),
            user: "bob".into(),
        };
        let v = json!({"result": true, "groupid": "7", "id": "7", "action": "remove_member",
                       "user": "bob"});
        assert_eq!(
            serde_json::to_value(OneOrMany::One(one.clone())).unwrap(),
            v
        );
        assert_eq!(
            serde_json::from_value::<OneOrMany<MemberResult>>(json!([v])).unwrap(),
            OneOrMany::Many(vec![one])
        );
    }
}
