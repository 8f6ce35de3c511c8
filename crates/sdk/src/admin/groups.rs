//! The admin's groups: create, list, show with members, add and remove members, destroy.
//! (Chat rooms are groups of another kind under `/chatrooms`; these calls name groups.)
use reqwest::Method;
use roam_protocol::rest::groups::{
    AddedMembers, Affiliation, Created, Destroyed, Envelope, GroupDetails, OneOrMany, UsernamesBody,
};
use serde::Serialize;

use super::{Admin, segment};
use crate::{Error, InputError};

/// Most members one add names (the server's limit).
const MAX_USERS_PER_ADD: usize = 60;
/// The page size the admin lists groups with.
const GROUP_PAGE: usize = 100;

/// A group to create.
///
/// ```
/// let g = roam_sdk::NewGroup::new("team", "alice").members(&["bob", "carol"]);
/// assert_eq!(g.members, ["bob", "carol"]);
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewGroup {
    pub name: String,
    pub description: String,
    /// The owner (a member).
    pub owner: String,
    /// Members besides the owner.
    pub members: Vec<String>,
    /// Listed for everyone and open to join requests.
    pub public: bool,
    /// Most members; `None`: the server's default.
    pub max_users: Option<u32>,
}

impl NewGroup {
    /// A private group with its owner only.
    pub fn new(name: &str, owner: &str) -> NewGroup {
        NewGroup {
            name: name.to_owned(),
            description: String::new(),
            owner: owner.to_owned(),
            members: Vec::new(),
            public: false,
            max_users: None,
        }
    }

    /// Sets the members besides the owner.
    pub fn members(mut self, members: &[&str]) -> NewGroup {
        self.members = members.iter().map(|m| (*m).to_owned()).collect();
        self
    }
}

/// The body of `POST /chatgroups` (the fields Easemob documents).
#[derive(Serialize)]
struct NewGroupBody<'a> {
    groupname: &'a str,
    desc: &'a str,
    owner: &'a str,
    members: &'a [String],
    public: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    maxusers: Option<u32>,
}

/// A group in the list of all groups.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GroupSummary {
    pub id: String,
    pub name: String,
    pub owner: String,
    pub members: u32,
    pub public: bool,
}

/// A member and their role: `owner`, `admin` or `member`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Member {
    pub user: String,
    pub role: String,
    /// When they joined (ms).
    pub joined: u64,
}

/// A group with its settings and members.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Group {
    pub id: String,
    pub name: String,
    pub description: String,
    pub owner: String,
    pub public: bool,
    pub max_users: u32,
    /// ms since the Unix epoch.
    pub created: u64,
    pub members: Vec<Member>,
}

fn member(a: Affiliation) -> Option<Member> {
    let (user, role) = match (a.owner, a.admin, a.member) {
        (Some(u), _, _) => (u, "owner"),
        (_, Some(u), _) => (u, "admin"),
        (_, _, Some(u)) => (u, "member"),
        _ => return None,
    };
    Some(Member {
        user,
        role: role.to_owned(),
        joined: a.joined_time,
    })
}

impl From<GroupDetails> for Group {
    fn from(g: GroupDetails) -> Group {
        Group {
            members: g.affiliations.into_iter().filter_map(member).collect(),
            id: g.id,
            name: g.name,
            description: g.description,
            owner: g.owner,
            public: g.public,
            max_users: g.maxusers,
            created: g.created,
        }
    }
}

impl Admin {
    /// Creates a group; answers its id.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let id = admin.create_group(&roam_sdk::NewGroup::new("team", "alice").members(&["bob"])).await?;
    /// # Ok(()) }
    /// ```
    pub async fn create_group(&self, group: &NewGroup) -> Result<String, Error> {
        if group.owner.is_empty() {
            return Err(InputError::Empty("owner").into());
        }
        let body = NewGroupBody {
            groupname: &group.name,
            desc: &group.description,
            owner: &group.owner,
            members: &group.members,
            public: group.public,
            maxusers: group.max_users,
        };
        let answer: Envelope<Created> =
            Admin::answer(self.rest(Method::POST, "/chatgroups").json(&body)).await?;
        answer
            .data
            .groupid
            .or(answer.data.id)
            .ok_or_else(|| Error::Protocol("no group id in the answer".into()))
    }

    /// Every group, all pages.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// for g in admin.groups().await? {
    ///     println!("{} {} ({} members)", g.id, g.name, g.members);
    /// }
    /// # Ok(()) }
    /// ```
    pub async fn groups(&self) -> Result<Vec<GroupSummary>, Error> {
        let mut all = Vec::new();
        let mut cursor: Option<String> = None;
        loop {
            let mut req = self
                .rest(Method::GET, "/chatgroups")
                .query(&[("limit", GROUP_PAGE.to_string())]);
            if let Some(c) = &cursor {
                req = req.query(&[("cursor", c)]);
            }
            let page: Envelope<Vec<roam_protocol::rest::groups::GroupSummary>> =
                Admin::answer(req).await?;
            let full = page.data.len() >= GROUP_PAGE;
            all.extend(page.data.into_iter().map(|g| GroupSummary {
                id: g.groupid,
                name: g.groupname,
                owner: g.owner,
                members: g.affiliations,
                public: g.public,
            }));
            match page.cursor {
                Some(next) if full && !next.is_empty() && Some(&next) != cursor.as_ref() => {
                    cursor = Some(next);
                }
                _ => return Ok(all),
            }
        }
    }

    /// One group with its members; [`Error::NotFound`] for an unknown group.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// let g = admin.group("123456").await?;
    /// # Ok(()) }
    /// ```
    pub async fn group(&self, id: &str) -> Result<Group, Error> {
        let path = format!("/chatgroups/{}", segment(id, "group")?);
        let answer: Envelope<Vec<GroupDetails>> =
            Admin::answer(self.rest(Method::GET, &path)).await?;
        answer
            .data
            .into_iter()
            .next()
            .map(Group::from)
            .ok_or_else(|| Error::NotFound(format!("group {id}")))
    }

    /// Adds members (1 to 60); answers those added.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// admin.add_members("123456", &["carol"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn add_members(&self, id: &str, users: &[&str]) -> Result<Vec<String>, Error> {
        if users.is_empty() || users.len() > MAX_USERS_PER_ADD {
            return Err(Error::BadRequest(format!(
                "add 1 to {MAX_USERS_PER_ADD} members at a time, got {}",
                users.len()
            )));
        }
        let path = format!("/chatgroups/{}/users", segment(id, "group")?);
        let body = UsernamesBody {
            usernames: users.iter().map(|u| (*u).to_owned()).collect(),
        };
        let answer: Envelope<AddedMembers> =
            Admin::answer(self.rest(Method::POST, &path).json(&body)).await?;
        Ok(answer.data.newmembers)
    }

    /// Removes members; answers those removed (a user who was not a member is not).
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// admin.remove_members("123456", &["carol"]).await?;
    /// # Ok(()) }
    /// ```
    pub async fn remove_members(&self, id: &str, users: &[&str]) -> Result<Vec<String>, Error> {
        if users.is_empty() || users.len() > MAX_USERS_PER_ADD {
            return Err(Error::BadRequest(format!(
                "remove 1 to {MAX_USERS_PER_ADD} members at a time, got {}",
                users.len()
            )));
        }
        let names = users
            .iter()
            .map(|u| segment(u, "user"))
            .collect::<Result<Vec<_>, _>>()?;
        let path = format!(
            "/chatgroups/{}/users/{}",
            segment(id, "group")?,
            names.join(",")
        );
        let answer: Envelope<OneOrMany<roam_protocol::rest::groups::MemberResult>> =
            Admin::answer(self.rest(Method::DELETE, &path)).await?;
        let results = match answer.data {
            OneOrMany::One(r) => vec![r],
            OneOrMany::Many(rs) => rs,
        };
        Ok(results
            .into_iter()
            .filter(|r| r.result)
            .map(|r| r.user)
            .collect())
    }

    /// Destroys a group: its members are told, its conversations end.
    ///
    /// ```no_run
    /// # async fn f(admin: roam_sdk::Admin) -> Result<(), roam_sdk::Error> {
    /// admin.destroy_group("123456").await?;
    /// # Ok(()) }
    /// ```
    pub async fn destroy_group(&self, id: &str) -> Result<(), Error> {
        let path = format!("/chatgroups/{}", segment(id, "group")?);
        let answer: Envelope<Destroyed> = Admin::answer(self.rest(Method::DELETE, &path)).await?;
        if answer.data.success {
            Ok(())
        } else {
            Err(Error::Protocol(format!("group {id} was not destroyed")))
        }
    }
}
