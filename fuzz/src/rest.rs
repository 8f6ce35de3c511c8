//! The whole router (REST and the msync endpoints) driven with `oneshot`: a method, a path (one
//! of the routes with fuzzed segments, or fuzzed outright), a query, an identity and a body.
//! Nothing may panic, and no request may get a 500: bad input is the client's error.
use arbitrary::{Arbitrary, Unstructured};
use axum::{
    body::Body,
    http::{Request, StatusCode},
};
use http_body_util::BodyExt;
use tower::ServiceExt;

use crate::fixture::{BASE, fixture};

/// Every route, `{}` standing for a fuzzed segment.
const ROUTES: &[&str] = &[
    "/token",
    "/users",
    "/users/{}",
    "/users/{}/password",
    "/users/{}/joined_chatgroups",
    "/users/{}/joined_chatrooms",
    "/sdk/user/{}/user_channels/list",
    "/sdk/user/{}/user_channels/mark/search",
    "/sdk/user/{}/user_channels/mark",
    "/sdk/user/{}/user_channel/top",
    "/user/{}/user_channels",
    "/users/{}/user_channels",
    "/user/{}/user_channel",
    "/users/{}/messageroaming",
    "/sdk/message/roaming/{}/user/{}",
    "/sdk/message/roaming/{}/user/{}/time",
    "/sdk/message/roaming/user/{}/delete/all",
    "/messages/users",
    "/messages/chatgroups",
    "/messages/chatrooms",
    "/chatgroups",
    "/publicchatgroups",
    "/chatgroups/user/{}",
    "/chatrooms",
    "/chatgroups/{}",
    "/chatrooms/{}",
    "/chatgroups/{}/users",
    "/chatgroups/{}/users/{}",
    "/chatrooms/{}/users",
    "/chatrooms/{}/users/{}",
    "/chatgroups/{}/transfer",
];

const METHODS: &[&str] = &["GET", "POST", "PUT", "DELETE", "PATCH", "OPTIONS", "HEAD"];

#[derive(Debug, Arbitrary)]
enum Path {
    /// A route under the app's base, `{}` filled with these segments (or a real name).
    Route(u8, Vec<Segment>),
    /// Anything, under the base or not.
    Raw { under_base: bool, path: String },
}

#[derive(Debug, Arbitrary)]
enum Segment {
    Alice,
    Bob,
    Group,
    Text(String),
}

#[derive(Debug, Arbitrary)]
enum Identity {
    None,
    Alice,
    Bob,
    Admin,
    Header(String),
}

#[derive(Debug, Arbitrary)]
struct Input {
    method: u8,
    path: Path,
    query: Option<String>,
    identity: Identity,
    json: bool,
    body: Vec<u8>,
}

pub fn run(input: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(input)) else {
        return;
    };
    let Some(request) = build(input) else { return };
    let fx = fixture();
    let (status, body) = fx.runtime.block_on(async {
        let response = fx
            .router
            .clone()
            .oneshot(request)
            .await
            .expect("infallible");
        let status = response.status();
        let body = response.into_body().collect().await.map(|b| b.to_bytes());
        (status, body)
    });
    let body = body.expect("a body that can be read");
    assert_ne!(
        status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        String::from_utf8_lossy(&body)
    );
}

fn build(input: Input) -> Option<Request<Body>> {
    let fx = fixture();
    let path = match input.path {
        Path::Route(i, segments) => {
            let route = ROUTES[usize::from(i) % ROUTES.len()];
            let mut segments = segments.into_iter();
            let mut path = String::from(BASE);
            for (n, part) in route.split("{}").enumerate() {
                if n > 0 {
                    path.push_str(&match segments.next() {
                        Some(Segment::Alice) | None => "alice".to_owned(),
                        Some(Segment::Bob) => "bob".to_owned(),
                        Some(Segment::Group) => fx.group_id.clone(),
                        Some(Segment::Text(t)) => t,
                    });
                }
                path.push_str(part);
            }
            path
        }
        Path::Raw { under_base, path } if under_base => format!("{BASE}{path}"),
        Path::Raw { path, .. } => path,
    };
    let uri = match input.query {
        Some(q) => format!("{path}?{q}"),
        None => path,
    };
    let mut request = Request::builder()
        .method(METHODS[usize::from(input.method) % METHODS.len()])
        .uri(uri);
    let bearer = |t: &str| format!("Bearer {t}");
    let auth = match input.identity {
        Identity::None => None,
        Identity::Alice => Some(bearer(&fx.alice_token)),
        Identity::Bob => Some(bearer(&fx.bob_token)),
        Identity::Admin => Some(bearer(&fx.admin_token)),
        Identity::Header(h) => Some(h),
    };
    if let Some(auth) = auth {
        request = request.header("authorization", auth);
    }
    if input.json {
        request = request.header("content-type", "application/json");
    }
    // A request hyper itself would refuse (a bad URI or header) never reaches the router.
    request.body(Body::from(input.body)).ok()
}
