//! Message JSON: a REST message (`msg_type`, `body`, `ext` as JSON) becomes a wire body, which
//! renders back to JSON that builds the same wire body again; and any bytes that decode as a
//! wire body render as JSON, as a conversation's `lastMessage` does.
use arbitrary::{Arbitrary, Unstructured};
use prost::Message as _;
use roam_protocol::{
    message_json::{self, ChatKind},
    pb::MessageBody,
};
use serde_json::{Map, Value};

const TYPES: &[&str] = &[
    "txt", "cmd", "custom", "loc", "img", "audio", "video", "file", "",
];
const KINDS: [ChatKind; 3] = [ChatKind::Single, ChatKind::Group, ChatKind::ChatRoom];

#[derive(Debug, Arbitrary)]
struct Input {
    kind: u8,
    from: String,
    to: String,
    msg_type: u8,
    body: String,
    ext: Option<String>,
    wire: Vec<u8>,
}

pub fn run(input: &[u8]) {
    let Ok(input) = Input::arbitrary_take_rest(Unstructured::new(input)) else {
        return;
    };
    let kind = KINDS[usize::from(input.kind) % KINDS.len()];
    if let Ok(body) = MessageBody::decode(input.wire.as_slice()) {
        render(&body, kind);
    }
    let Ok(body) = serde_json::from_str::<Value>(&input.body) else {
        return;
    };
    let ext: Option<Map<String, Value>> = match input.ext.as_deref().map(serde_json::from_str) {
        Some(Ok(ext)) => Some(ext),
        Some(Err(_)) => return,
        None => None,
    };
    let msg_type = TYPES[usize::from(input.msg_type) % TYPES.len()];
    let Ok(wire) =
        message_json::body_from_rest(kind, &input.from, &input.to, msg_type, &body, ext.as_ref())
    else {
        return;
    };
    render(&wire, kind);
    // `custom` does not round-trip by design: the REST builder takes `customExts` as an object
    // (as Easemob's REST API does) and the renderer writes the SDK's array of one-key objects.
    if msg_type == "custom" {
        return;
    }
    // What the server rendered, read back through the REST builder, is the same message.
    let json = message_json::body_to_rest(&wire, kind);
    let bodies = json["bodies"].as_array().expect("bodies is an array");
    let [first] = bodies.as_slice() else {
        panic!("one REST message renders as one body: {json}");
    };
    let again = message_json::body_from_rest(
        kind,
        &input.from,
        &input.to,
        msg_type,
        first,
        json["ext"].as_object(),
    )
    .expect("a rendered message is a valid REST message");
    assert_eq!(
        message_json::body_to_rest(&again, kind),
        json,
        "JSON → wire → JSON is not stable"
    );
}

fn render(body: &MessageBody, kind: ChatKind) {
    let json = message_json::body_to_rest(body, kind);
    serde_json::to_string(&json).expect("message JSON serializes");
    let _ = message_json::content_type(body);
    let ext = message_json::ext_from_wire(&body.ext);
    let _ = message_json::ext_to_wire(&ext);
}
