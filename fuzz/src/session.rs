//! The msync session without a socket: a PROVISION (valid, or arbitrary bytes), then up to
//! eight requests, each either raw bytes or a frame built from fuzzed fields (so the fuzzer
//! reaches sends, pulls and room operations without first learning protobuf). Every answer
//! must decode as a server frame.
use arbitrary::{Arbitrary, Unstructured};
use bytes::Bytes;
use prost::Message as _;
use roam_gateway::session::{Next, Session};
use roam_protocol::{
    jid,
    msync::{self, ClientFrame},
    pb::{
        CommSyncUl, Jid, KeyValue, MessageBody, Meta, MucBody, Provision, key_value,
        message_body::Content,
    },
};

use crate::fixture::{APP_KEY, fixture};

#[derive(Debug, Arbitrary)]
enum Login {
    /// alice with her valid token, by the `auth` field or the PROVISION's `auth_token`.
    Valid {
        resource: String,
        in_provision: bool,
    },
    /// A login built from fuzzed fields, with one of the real tokens or a fuzzed one.
    Fields {
        user: String,
        resource: Option<String>,
        token: TokenChoice,
    },
    Raw(Vec<u8>),
}

#[derive(Debug, Arbitrary)]
enum TokenChoice {
    Alice,
    Bob,
    Admin,
    Other(String),
}

#[derive(Debug, Arbitrary)]
enum Request {
    Raw(Vec<u8>),
    Unread,
    Send {
        id: u64,
        to: String,
        group: bool,
        ns: u8,
        body_type: i32,
        content_type: i32,
        text: String,
        ext: Vec<(String, String)>,
    },
    Pull {
        queue: String,
        group: bool,
        key: Option<u64>,
    },
    Room {
        id: u64,
        group: Option<String>,
        operation: i32,
    },
    Logout,
}

pub fn run(input: &[u8]) {
    let mut u = Unstructured::new(input);
    let Ok(login) = Login::arbitrary(&mut u) else {
        return;
    };
    let requests: Vec<Request> = u
        .arbitrary_iter()
        .map(|it| it.take(8).filter_map(Result::ok).collect())
        .unwrap_or_default();
    let fx = fixture();
    fx.runtime.block_on(async {
        let mut session = Session::new(fx.gateway.clone());
        for frame in std::iter::once(login_frame(login)).chain(requests.into_iter().map(encode)) {
            let (answers, next) = session.handle(&frame).await;
            for answer in answers {
                msync::decode_server(&answer).expect("the server's frames decode");
            }
            if next == Next::Close {
                break;
            }
        }
    });
}

fn login_frame(login: Login) -> Vec<u8> {
    let fx = fixture();
    match login {
        Login::Valid {
            resource,
            in_provision,
        } => {
            let auth = format!("$t${}", fx.alice_token);
            ClientFrame::Provision {
                guid: Some(jid::user(APP_KEY, "alice", Some(&resource))),
                auth: (!in_provision).then(|| auth.clone()),
                provision: Provision {
                    resource: Some(resource),
                    auth_token: in_provision.then_some(auth),
                    ..Default::default()
                },
            }
            .encode()
        }
        Login::Fields {
            user,
            resource,
            token,
        } => {
            let token = match token {
                TokenChoice::Alice => fx.alice_token.clone(),
                TokenChoice::Bob => fx.bob_token.clone(),
                TokenChoice::Admin => fx.admin_token.clone(),
                TokenChoice::Other(t) => t,
            };
            ClientFrame::Provision {
                guid: Some(jid::user(APP_KEY, &user, resource.as_deref())),
                auth: Some(format!("$t${token}")),
                provision: Provision {
                    resource,
                    ..Default::default()
                },
            }
            .encode()
        }
        Login::Raw(bytes) => bytes,
    }
}

fn target(name: &str, group: bool) -> Jid {
    let fx = fixture();
    match (group, name) {
        (true, "") => jid::conference(APP_KEY, &fx.group_id),
        (true, _) => jid::conference(APP_KEY, name),
        (false, _) => jid::user(APP_KEY, name, None),
    }
}

fn encode(request: Request) -> Vec<u8> {
    let sync = |ul: CommSyncUl| ClientFrame::Sync(ul).encode();
    match request {
        Request::Raw(bytes) => bytes,
        Request::Unread => ClientFrame::Unread.encode(),
        Request::Logout => ClientFrame::Logout(Default::default()).encode(),
        Request::Send {
            id,
            to,
            group,
            ns,
            body_type,
            content_type,
            text,
            ext,
        } => {
            let to = target(&to, group);
            let body = MessageBody {
                r#type: Some(body_type % 8),
                from: Some(jid::user(APP_KEY, "alice", None)),
                to: Some(to.clone()),
                contents: vec![Content {
                    r#type: Some(content_type % 12),
                    text: Some(text),
                    ..Default::default()
                }],
                ext: ext
                    .into_iter()
                    .map(|(key, value)| KeyValue {
                        key: Some(key),
                        r#type: Some(key_value::ValueType::String as i32),
                        value: Some(key_value::Value::StringValue(value)),
                    })
                    .collect(),
                ..Default::default()
            };
            sync(CommSyncUl {
                meta: Some(Meta {
                    id: Some(id),
                    to: Some(to),
                    ns: Some(i32::from(ns % 6)),
                    payload: Some(Bytes::from(body.encode_to_vec())),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }
        Request::Pull { queue, group, key } => sync(CommSyncUl {
            queue: Some(target(&queue, group)),
            key,
            ..Default::default()
        }),
        Request::Room {
            id,
            group,
            operation,
        } => {
            let muc = MucBody {
                muc_id: Some(target(group.as_deref().unwrap_or(""), true)),
                operation: Some(operation % 8),
                ..Default::default()
            };
            sync(CommSyncUl {
                meta: Some(Meta {
                    id: Some(id),
                    ns: Some(2),
                    payload: Some(Bytes::from(muc.encode_to_vec())),
                    ..Default::default()
                }),
                ..Default::default()
            })
        }
    }
}
