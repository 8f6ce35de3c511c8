//! The route table: every REST route once, with what its OpenAPI operation says about it.
//!
//! [`Rest::router`](crate::Rest::router) mounts exactly these rows, and [`crate::openapi`]
//! describes exactly these rows, so a route cannot be served without being documented (nor
//! documented without being served). Tests that must cover every route (the authorization
//! matrix) iterate [`table`] too, so a new row without a test row fails them.
use std::sync::Arc;

use axum::{
    http::Method,
    routing::{MethodRouter, delete, get, post, put},
};
use roam_protocol::rest::{
    EntitiesResponse, NewPasswordBody, NewUsersBody, TokenRequest, TokenResponse,
    groups::{
        AddedMembers, Affiliation, Created, Destroyed, Done, Envelope, GroupDetails, GroupSummary,
        JoinedGroup, JoinedGroupWithRole, MemberResult, NoEntity, OneOrMany, OwnerChanged,
        UsernamesBody,
    },
    roaming::{
        DeleteConversationBody, DeletedResponse, HistoryBody, HistoryResponse, ListResponse,
        MarkBody, MarkResponse, PinBody, PinResponse, RemovedResponse,
    },
};
use utoipa::{
    ToSchema,
    openapi::{RefOr, schema::Schema},
};

use crate::{
    Rest,
    groups::{
        self,
        manage::{ModifyBody, NewGroupBody},
    },
    messages::{self, SendBody},
    roaming, users,
};

/// A JSON body's schema: the type's own schema (inlined) and the named schemas it refers to.
pub type SchemaOf = fn(&mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema>;

fn schema<T: ToSchema>(components: &mut Vec<(String, RefOr<Schema>)>) -> RefOr<Schema> {
    T::schemas(components);
    T::schema()
}

/// One REST route.
pub struct Route {
    pub method: Method,
    /// The path as axum matches it, from the server's root (`/{org}/{app}/users/{username}`).
    pub path: &'static str,
    /// One line for the OpenAPI operation.
    pub summary: &'static str,
    /// Whether the route needs a bearer token at all (who may call it beyond that is the
    /// use-case's decision).
    pub token: bool,
    /// The JSON request body, if the route takes one.
    pub request: Option<SchemaOf>,
    /// The 200 answer.
    pub response: SchemaOf,
    pub(crate) handler: fn() -> MethodRouter<Arc<Rest>>,
}

/// The prefix of every app route.
pub const APP: &str = "/{org}/{app}";

macro_rules! row {
    ($method:ident $path:literal, $summary:literal, token: $token:literal,
     $req:tt -> $resp:ty, $router:ident($handler:path)) => {
        Route {
            method: Method::$method,
            path: concat!("/{org}/{app}", $path),
            summary: $summary,
            token: $token,
            request: row!(@req $req),
            response: schema::<$resp>,
            handler: || $router($handler),
        }
    };
    (@req ()) => { None };
    (@req $t:ty) => { Some(schema::<$t>) };
}

type Env<D> = Envelope<D>;
/// What an admin send answers: recipient → message id (or the reason it failed).
type Sent = Envelope<std::collections::BTreeMap<String, String>>;

/// Every route under `/{org}/{app}`, in the order the router mounts them.
pub fn table() -> Vec<Route> {
    vec![
        row!(POST "/token", "a user's token (password grant) or the admin's (client_credentials)", token: false,
            TokenRequest -> TokenResponse, post(users::token)),
        row!(POST "/users", "register one user or many (admin, unless registration is open)", token: false,
            NewUsersBody -> EntitiesResponse, post(users::create)),
        row!(GET "/users", "a page of users in id order (admin; `limit`, `cursor`)", token: true,
            () -> EntitiesResponse, get(users::list)),
        row!(GET "/users/{username}", "one user", token: true,
            () -> EntitiesResponse, get(users::get)),
        row!(DELETE "/users/{username}", "delete a user (admin)", token: true,
            () -> EntitiesResponse, delete(users::delete)),
        row!(PUT "/users/{username}/password", "change a password (the user or the admin)", token: true,
            NewPasswordBody -> serde_json::Value, put(users::set_password)),
        row!(GET "/users/{username}/joined_chatgroups", "groups a user is in", token: true,
            () -> Env<Vec<JoinedGroup>>, get(groups::joined)),
        row!(GET "/users/{username}/joined_chatrooms", "chat rooms a user is in", token: true,
            () -> Env<Vec<JoinedGroup>>, get(groups::joined)),
        row!(GET "/sdk/user/{username}/user_channels/list", "a page of the conversation list", token: true,
            () -> ListResponse, get(roaming::list)),
        row!(GET "/sdk/user/{username}/user_channels/mark/search", "conversations with a mark", token: true,
            () -> ListResponse, get(roaming::search_marked)),
        row!(POST "/sdk/user/{username}/user_channels/mark", "mark conversations", token: true,
            MarkBody -> MarkResponse, post(roaming::mark)),
        row!(DELETE "/sdk/user/{username}/user_channels/mark", "unmark conversations", token: true,
            MarkBody -> MarkResponse, delete(roaming::unmark)),
        row!(POST "/sdk/user/{username}/user_channel/top", "pin a conversation", token: true,
            PinBody -> PinResponse, post(roaming::pin)),
        row!(DELETE "/sdk/user/{username}/user_channel/top", "unpin a conversation", token: true,
            () -> PinResponse, delete(roaming::unpin)),
        row!(GET "/user/{username}/user_channels", "a user's conversation list (operator view)", token: true,
            () -> ListResponse, get(roaming::list)),
        row!(GET "/users/{username}/user_channels", "a user's conversation list (operator view)", token: true,
            () -> ListResponse, get(roaming::list)),
        row!(DELETE "/user/{username}/user_channel", "delete a conversation, optionally with its history", token: true,
            DeleteConversationBody -> DeletedResponse, delete(roaming::delete_conversation)),
        row!(POST "/users/{username}/messageroaming", "a page of a conversation's history", token: true,
            HistoryBody -> HistoryResponse, post(roaming::history)),
        row!(DELETE "/sdk/message/roaming/{kind}/user/{username}", "delete messages by id, for this user", token: true,
            () -> RemovedResponse, delete(roaming::remove_by_ids)),
        row!(DELETE "/sdk/message/roaming/{kind}/user/{username}/time", "delete messages up to a time, for this user", token: true,
            () -> RemovedResponse, delete(roaming::remove_before)),
        row!(POST "/sdk/message/roaming/user/{username}/delete/all", "delete every conversation and its history, for this user", token: true,
            () -> DeletedResponse, post(roaming::delete_all)),
        row!(POST "/messages/users", "send as the admin to users", token: true,
            SendBody -> Sent, post(messages::send)),
        row!(POST "/messages/chatgroups", "send as the admin to groups", token: true,
            SendBody -> Sent, post(messages::send)),
        row!(POST "/messages/chatrooms", "send as the admin to chat rooms", token: true,
            SendBody -> Sent, post(messages::send)),
        row!(POST "/chatgroups", "create a group", token: true,
            NewGroupBody -> Env<Created>, post(groups::create)),
        row!(GET "/chatgroups", "a page of groups (all for the admin, public ones for users)", token: true,
            () -> Env<Vec<GroupSummary>>, get(groups::list)),
        row!(GET "/publicchatgroups", "a page of public groups", token: true,
            () -> Env<Vec<GroupSummary>>, get(groups::list)),
        row!(GET "/chatgroups/user/{username}", "a user's groups with their roles", token: true,
            () -> Envelope<Vec<NoEntity>, JoinedGroupWithRole>, get(groups::joined_with_roles)),
        row!(POST "/chatrooms", "create a chat room", token: true,
            NewGroupBody -> Env<Created>, post(groups::create)),
        row!(GET "/chatrooms", "a page of chat rooms", token: true,
            () -> Env<Vec<GroupSummary>>, get(groups::list)),
        row!(GET "/chatgroups/{id}", "details of one group or several (comma-separated ids)", token: true,
            () -> Env<Vec<GroupDetails>>, get(groups::info)),
        row!(DELETE "/chatgroups/{id}", "destroy a group", token: true,
            () -> Env<Destroyed>, delete(groups::destroy)),
        row!(PUT "/chatgroups/{id}", "transfer a group to a new owner", token: true,
            ModifyBody -> Env<OwnerChanged>, put(groups::modify)),
        row!(GET "/chatrooms/{id}", "details of one chat room or several", token: true,
            () -> Env<Vec<GroupDetails>>, get(groups::info)),
        row!(DELETE "/chatrooms/{id}", "destroy a chat room", token: true,
            () -> Env<Destroyed>, delete(groups::destroy)),
        row!(PUT "/chatrooms/{id}", "transfer a chat room to a new owner", token: true,
            ModifyBody -> Env<OwnerChanged>, put(groups::modify)),
        row!(GET "/chatgroups/{id}/users", "a page of a group's members", token: true,
            () -> Env<Vec<Affiliation>>, get(groups::members)),
        row!(POST "/chatgroups/{id}/users", "add members to a group", token: true,
            UsernamesBody -> Env<AddedMembers>, post(groups::add_many)),
        row!(GET "/chatrooms/{id}/users", "a page of a chat room's members", token: true,
            () -> Env<Vec<Affiliation>>, get(groups::members)),
        row!(POST "/chatrooms/{id}/users", "add members to a chat room", token: true,
            UsernamesBody -> Env<AddedMembers>, post(groups::add_many)),
        row!(POST "/chatgroups/{id}/invite", "invite users into a group", token: true,
            UsernamesBody -> Env<Vec<MemberResult>>, post(groups::invite)),
        row!(POST "/chatgroups/{id}/apply", "join a group", token: true,
            () -> Env<MemberResult>, post(groups::apply)),
        row!(DELETE "/chatgroups/{id}/quit", "leave a group", token: true,
            () -> Env<Done>, delete(groups::quit)),
        row!(POST "/chatgroups/{id}/users/{usernames}", "add one member to a group", token: true,
            () -> Env<MemberResult>, post(groups::add_one)),
        row!(DELETE "/chatgroups/{id}/users/{usernames}", "remove members (comma-separated) from a group", token: true,
            () -> Env<OneOrMany<MemberResult>>, delete(groups::remove)),
        row!(POST "/chatrooms/{id}/users/{usernames}", "add one member to a chat room", token: true,
            () -> Env<MemberResult>, post(groups::add_one)),
        row!(DELETE "/chatrooms/{id}/users/{usernames}", "remove members from a chat room", token: true,
            () -> Env<OneOrMany<MemberResult>>, delete(groups::remove)),
    ]
}
