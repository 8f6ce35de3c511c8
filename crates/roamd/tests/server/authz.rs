//! The authorization matrix: every REST route × every kind of caller → the expected answer.
//!
//! The routes come from the router's own table ([`roam_rest::routes::table`], the rows the
//! server mounts): a route added without a row in [`rule`] fails
//! `every_route_has_a_row`, and every row is exercised by `every_route_refuses_whom_it_must`.
//! Callers: no token, a malformed token, an expired token (of the user the path names), another
//! user's token (not a member of any group here), a group member who does not own the group,
//! the user the path names (who owns the groups), and the admin.
use std::collections::BTreeSet;

use roam_rest::routes::{Route, table};
use serde_json::{Value, json};

use crate::{BASE, TestApp, client::http, spawn_app};

/// Who may call a route.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rule {
    /// No token needed; any token (even a bad one) is ignored.
    Public,
    /// The admin only.
    Admin,
    /// Any valid token.
    AnyUser,
    /// The user the path names, or the admin.
    SelfOrAdmin,
    /// Members of the group the path names, or the admin.
    Member,
    /// The group's owner, or the admin.
    Owner,
    /// Users, not the admin (who is no user and so cannot join a group).
    UsersOnly,
    /// Members other than the owner (who must transfer or destroy the group instead).
    Leaver,
}

/// What a route's calls may change, and so what each route needs afresh.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fresh {
    /// Nothing another row relies on: the shared world.
    No,
    /// The group or chat room it names: new ones in the shared world.
    Groups,
    /// Users or their tokens: a server and world of its own.
    World,
}

/// A caller in the matrix.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    NoToken,
    BadToken,
    Expired,
    Stranger,
    Member,
    TheUser,
    Admin,
}

const CALLERS: [Who; 7] = [
    Who::NoToken,
    Who::BadToken,
    Who::Expired,
    Who::Stranger,
    Who::Member,
    Who::TheUser,
    Who::Admin,
];

/// What a caller must get: refused with exactly this status, or let through (any status but
/// 401/403, and never a server error).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    Refused(u16),
    Through,
}

fn expect(rule: Rule, who: Who) -> Expect {
    use Expect::{Refused, Through};
    match (rule, who) {
        (Rule::Public, _) => Through,
        (_, Who::NoToken | Who::BadToken | Who::Expired) => Refused(401),
        (Rule::UsersOnly, Who::Admin) => Refused(403),
        (Rule::UsersOnly, _) => Through,
        (Rule::Leaver, Who::Member) => Through,
        (Rule::Leaver, _) => Refused(403),
        (Rule::AnyUser, _) | (_, Who::Admin) => Through,
        (Rule::Admin, _) => Refused(403),
        (Rule::SelfOrAdmin | Rule::Owner, Who::TheUser) => Through,
        (Rule::SelfOrAdmin | Rule::Owner, _) => Refused(403),
        (Rule::Member, Who::Member | Who::TheUser) => Through,
        (Rule::Member, _) => Refused(403),
    }
}

/// The rule of each route, and what calling it may change. `None`: the route has no row yet.
fn rule(route: &Route) -> Option<(Rule, Fresh)> {
    let path = route
        .path
        .strip_prefix("/{org}/{app}")
        .unwrap_or(route.path);
    Some(match (route.method.as_str(), path) {
        ("POST", "/token") => (Rule::Public, Fresh::No),
        ("POST", "/users") => (Rule::Admin, Fresh::No),
        ("GET", "/users") => (Rule::Admin, Fresh::No),
        ("GET", "/users/{username}") => (Rule::SelfOrAdmin, Fresh::No),
        ("DELETE", "/users/{username}") => (Rule::Admin, Fresh::World),
        ("PUT", "/users/{username}/password") => (Rule::SelfOrAdmin, Fresh::World),
        ("GET", "/users/{username}/joined_chatgroups" | "/users/{username}/joined_chatrooms") => {
            (Rule::SelfOrAdmin, Fresh::No)
        }
        ("GET", "/chatgroups/user/{username}") => (Rule::SelfOrAdmin, Fresh::No),
        (
            _,
            "/sdk/user/{username}/user_channels/list"
            | "/sdk/user/{username}/user_channels/mark/search"
            | "/sdk/user/{username}/user_channels/mark"
            | "/sdk/user/{username}/user_channel/top"
            | "/user/{username}/user_channels"
            | "/users/{username}/user_channels"
            | "/user/{username}/user_channel"
            | "/users/{username}/messageroaming"
            | "/sdk/message/roaming/{kind}/user/{username}"
            | "/sdk/message/roaming/{kind}/user/{username}/time"
            | "/sdk/message/roaming/user/{username}/delete/all",
        ) => (Rule::SelfOrAdmin, Fresh::No),
        ("POST", "/messages/users" | "/messages/chatgroups" | "/messages/chatrooms") => {
            (Rule::Admin, Fresh::No)
        }
        ("POST", "/chatgroups") => (Rule::AnyUser, Fresh::No),
        // Any user may open a chat room (Easemob leaves this to the app's settings).
        ("POST", "/chatrooms") => (Rule::AnyUser, Fresh::No),
        ("GET", "/chatgroups" | "/publicchatgroups" | "/chatrooms") => (Rule::AnyUser, Fresh::No),
        // The world's group is public: anyone sees its details (not its members); chat rooms
        // are open to all.
        ("GET", "/chatgroups/{id}" | "/chatrooms/{id}" | "/chatrooms/{id}/users") => {
            (Rule::AnyUser, Fresh::No)
        }
        ("GET", "/chatgroups/{id}/users") => (Rule::Member, Fresh::No),
        ("DELETE", "/chatgroups/{id}" | "/chatrooms/{id}") => (Rule::Owner, Fresh::Groups),
        ("PUT", "/chatgroups/{id}" | "/chatrooms/{id}") => (Rule::Owner, Fresh::Groups),
        ("POST", "/chatgroups/{id}/users" | "/chatrooms/{id}/users") => {
            (Rule::Owner, Fresh::Groups)
        }
        ("POST", "/chatgroups/{id}/users/{usernames}" | "/chatrooms/{id}/users/{usernames}") => {
            (Rule::Owner, Fresh::Groups)
        }
        ("DELETE", "/chatgroups/{id}/users/{usernames}" | "/chatrooms/{id}/users/{usernames}") => {
            (Rule::Owner, Fresh::Groups)
        }
        // The world's group does not allow members to invite.
        ("POST", "/chatgroups/{id}/invite") => (Rule::Owner, Fresh::Groups),
        ("POST", "/chatgroups/{id}/apply") => (Rule::UsersOnly, Fresh::Groups),
        ("DELETE", "/chatgroups/{id}/quit") => (Rule::Leaver, Fresh::Groups),
        _ => return None,
    })
}

#[test]
fn every_route_has_a_row() {
    let missing: Vec<String> = table()
        .iter()
        .filter(|r| rule(r).is_none())
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(
        missing.is_empty(),
        "routes without a row in the authorization matrix: {missing:?}"
    );
}

/// The users, groups and tokens one run of the matrix needs.
#[derive(Clone)]
pub(crate) struct World {
    /// ann: the path's user; owns `group` and `room`, where cat is a member.
    pub(crate) ann: String,
    /// bob: a stranger to ann's groups.
    pub(crate) bob: String,
    pub(crate) cat: String,
    pub(crate) expired: String,
    pub(crate) group: String,
    pub(crate) room: String,
}

async fn create(app: &TestApp, kind: &str, members: &[&str]) -> String {
    let (s, b) = http(
        app.addr,
        "POST",
        &format!("{BASE}/{kind}"),
        Some(&app.admin_token),
        Some(
            json!({"groupname": "g", "desc": "d", "public": true, "approval": false,
            "owner": "ann", "members": members, "maxusers": 100}),
        ),
    )
    .await
    .unwrap();
    assert_eq!(s, 200, "{b}");
    let id = b["data"]["groupid"].as_str().or(b["data"]["id"].as_str());
    id.unwrap_or_else(|| panic!("no group id in {b}"))
        .to_owned()
}

pub(crate) async fn world(app: &TestApp) -> World {
    app.users(&["ann", "bob", "cat", "dan"]).await;
    let expired = app.token("ann").await;
    let db = app.dir.path().join("roam.db");
    let hash = roam_domain::auth::Token::presented(&expired).hash().0;
    let c = rusqlite::Connection::open(db).unwrap();
    let n = c
        .execute(
            "UPDATE tokens SET expires_ms = 1 WHERE hash = ?1",
            [hash.to_vec()],
        )
        .unwrap();
    assert_eq!(n, 1);
    World {
        ann: app.token("ann").await,
        bob: app.token("bob").await,
        cat: app.token("cat").await,
        expired,
        group: create(app, "chatgroups", &["cat"]).await,
        room: create(app, "chatrooms", &["cat"]).await,
    }
}

/// The concrete request of a row: path, query and body.
fn request(route: &Route, w: &World) -> (String, Option<Value>) {
    let id = if route.path.contains("/chatrooms") {
        &w.room
    } else {
        &w.group
    };
    let path = route
        .path
        .replace("/{org}/{app}", BASE)
        .replace("{username}", "ann")
        .replace("{usernames}", "dan")
        .replace("{kind}", "chat")
        .replace("{id}", id);
    let query = match route.path {
        p if p.ends_with("/{kind}/user/{username}") => "?userId=bob&msgIdList=1&resource=web",
        p if p.ends_with("/time") => "?userId=bob&delTime=1&resource=web",
        p if p.ends_with("/user_channel/top") => "?type=chat&to=bob&resource=web",
        p if p.contains("mark/search") => "?mark=mark_1",
        _ => "",
    };
    let relative = route
        .path
        .strip_prefix("/{org}/{app}")
        .unwrap_or(route.path);
    let body = route.request.map(|_| match (route.method.as_str(), relative) {
        (_, p) if p.ends_with("/token") => json!({"grant_type": "password", "username": "ann", "password": "pw"}),
        ("POST", "/users") => {
            json!({"username": format!("new{}", rand_suffix()), "password": "pw"})
        }
        (_, p) if p.ends_with("/password") => json!({"newpassword": "pw2", "oldpassword": "pw"}),
        (_, p) if p.ends_with("/mark") => json!({"mark": "mark_1", "targets": [{"to": "bob", "type": "chat"}]}),
        (_, p) if p.ends_with("/top") => json!({"type": "chat", "to": "bob"}),
        (_, p) if p.ends_with("/user_channel") => json!({"channel": "bob", "type": "chat", "delete_roam": false}),
        (_, p) if p.ends_with("/messageroaming") => json!({"queue": "bob", "start": null, "pageSize": 10, "direction": "up"}),
        (_, p) if p.contains("/messages/") => {
            let to = if p.ends_with("users") { "ann".to_owned() } else { id.clone() };
            json!({"from": "ann", "to": [to], "type": "txt", "body": {"msg": "hi"}})
        }
        ("POST", p) if p.ends_with("/chatgroups") || p.ends_with("/chatrooms") => {
            json!({"groupname": "x", "desc": "x", "public": true, "maxusers": 10, "members": []})
        }
        ("PUT", _) => json!({"newowner": "cat"}),
        (_, p) if p.ends_with("/users") || p.ends_with("/invite") => json!({"usernames": ["dan"]}),
        _ => json!({}),
    });
    (format!("{path}{query}"), body)
}

fn rand_suffix() -> u64 {
    use std::sync::atomic::{AtomicU64, Ordering};
    static N: AtomicU64 = AtomicU64::new(0);
    N.fetch_add(1, Ordering::Relaxed)
}

fn token<'a>(who: Who, app: &'a TestApp, w: &'a World) -> Option<&'a str> {
    match who {
        Who::NoToken => None,
        Who::BadToken => Some("not-a-token"),
        Who::Expired => Some(&w.expired),
        Who::Stranger => Some(&w.bob),
        Who::Member => Some(&w.cat),
        Who::TheUser => Some(&w.ann),
        Who::Admin => Some(&app.admin_token),
    }
}

#[tokio::test]
async fn every_route_refuses_whom_it_must() {
    let shared = spawn_app().await;
    let shared_world = world(&shared).await;
    let mut failures = Vec::new();
    let mut seen = BTreeSet::new();
    for route in table() {
        let (rule, fresh) = rule(&route).expect("every_route_has_a_row");
        seen.insert(format!("{} {}", route.method, route.path));
        // A route that changes what it acts on gets it afresh.
        let own = if fresh == Fresh::World {
            Some(spawn_app().await)
        } else {
            None
        };
        let app = own.as_ref().unwrap_or(&shared);
        let w = match fresh {
            Fresh::No => shared_world.clone(),
            Fresh::Groups => World {
                group: create(app, "chatgroups", &["cat"]).await,
                room: create(app, "chatrooms", &["cat"]).await,
                ..shared_world.clone()
            },
            Fresh::World => world(app).await,
        };
        let w = &w;
        for who in CALLERS {
            let (path, body) = request(&route, w);
            let (status, answer) = http(
                app.addr,
                route.method.as_str(),
                &path,
                token(who, app, w),
                body,
            )
            .await
            .unwrap();
            let ok = match expect(rule, who) {
                Expect::Refused(s) => status == s,
                Expect::Through => status != 401 && status != 403 && status < 500,
            };
            if !ok {
                failures.push(format!(
                    "{} {} as {who:?}: expected {:?}, got {status} {answer}",
                    route.method,
                    route.path,
                    expect(rule, who)
                ));
            }
        }
    }
    assert!(seen.len() >= 40, "the table lists {} routes", seen.len());
    assert!(
        failures.is_empty(),
        "{} cells wrong:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
