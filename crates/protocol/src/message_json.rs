//! Messages as Easemob's REST API writes them (`{type, body, ext}`), turned into the wire
//! `MessageBody` that devices receive, with `ext` encoded exactly as the Web SDK encodes it.
use serde_json::{Map, Value};

use crate::pb::{
    Jid, KeyValue, MessageBody,
    key_value::{self, ValueType},
    message_body::{self, Content, content},
};

/// Which kind of conversation a REST message goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Single,
    Group,
    ChatRoom,
}

/// Why a REST message body was refused (the text is the error description).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct BadMessage(pub String);

fn field<'a>(body: &'a Value, key: &str) -> Option<&'a Value> {
    body.get(key).filter(|v| !v.is_null())
}

fn text(body: &Value, key: &str) -> Result<String, BadMessage> {
    field(body, key)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| BadMessage(format!("body.{key} is required")))
}

fn number(body: &Value, key: &str) -> Result<f64, BadMessage> {
    field(body, key)
        .and_then(|v| {
            v.as_f64()
                .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        })
        .ok_or_else(|| BadMessage(format!("body.{key} must be a number")))
}

/// `ext` as the SDK encodes it: string → STRING, bool → BOOL, integer → INT, other number →
/// DOUBLE, object or array → JSON_STRING.
pub fn ext_to_wire(ext: &Map<String, Value>) -> Vec<KeyValue> {
    ext.iter()
        .filter(|(_, v)| !v.is_null())
        .map(|(k, v)| {
            let (ty, value) = match v {
                Value::String(s) => (ValueType::String, key_value::Value::StringValue(s.clone())),
                Value::Bool(b) => (ValueType::Bool, key_value::Value::VarintValue(*b as i64)),
                Value::Number(n) => match n.as_i64() {
                    Some(i) => (ValueType::Int, key_value::Value::VarintValue(i)),
                    None => (
                        ValueType::Double,
                        key_value::Value::DoubleValue(n.as_f64().unwrap_or_default()),
                    ),
                },
                other => (
                    ValueType::JsonString,
                    key_value::Value::StringValue(other.to_string()),
                ),
            };
            KeyValue {
                key: Some(k.clone()),
                r#type: Some(ty as i32),
                value: Some(value),
            }
        })
        .collect()
}

/// Builds the wire body of a REST message of `msg_type` (`txt`, `cmd`, `custom`, `loc`, `img`,
/// `audio`, `video`, `file`) with its `body` object and optional `ext`.
pub fn body_from_rest(
    kind: ChatKind,
    from: &str,
    to: &str,
    msg_type: &str,
    body: &Value,
    ext: Option<&Map<String, Value>>,
) -> Result<MessageBody, BadMessage> {
    let content = match msg_type {
        "txt" => Content {
            r#type: Some(content::Type::Text as i32),
            text: Some(text(body, "msg")?),
            ..Default::default()
        },
        "cmd" => Content {
            r#type: Some(content::Type::Command as i32),
            action: Some(text(body, "action")?),
            ..Default::default()
        },
        "custom" => Content {
            r#type: Some(content::Type::Custom as i32),
            custom_event: Some(text(body, "customEvent")?),
            custom_exts: field(body, "customExts")
                .and_then(Value::as_object)
                .map(ext_to_wire)
                .unwrap_or_default(),
            ..Default::default()
        },
        "loc" => Content {
            r#type: Some(content::Type::Location as i32),
            latitude: Some(number(body, "lat")?),
            longitude: Some(number(body, "lng")?),
            address: field(body, "addr")
                .and_then(Value::as_str)
                .map(str::to_owned),
            ..Default::default()
        },
        "img" | "audio" | "video" | "file" => {
            let ty = match msg_type {
                "img" => content::Type::Image,
                "audio" => content::Type::Voice,
                "video" => content::Type::Video,
                _ => content::Type::File,
            };
            Content {
                r#type: Some(ty as i32),
                remote_path: Some(text(body, "url")?),
                display_name: field(body, "filename")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                secret_key: field(body, "secret")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                file_length: field(body, "file_length")
                    .and_then(Value::as_i64)
                    .map(|n| n as i32),
                duration: field(body, "length")
                    .and_then(Value::as_i64)
                    .map(|n| n as i32),
                ..Default::default()
            }
        }
        other => return Err(BadMessage(format!("unsupported message type: {other}"))),
    };
    let ty = match kind {
        ChatKind::Single => message_body::Type::Chat,
        ChatKind::Group => message_body::Type::Groupchat,
        ChatKind::ChatRoom => message_body::Type::Chatroom,
    };
    Ok(MessageBody {
        r#type: Some(ty as i32),
        from: Some(Jid {
            name: Some(from.to_owned()),
            ..Default::default()
        }),
        to: Some(Jid {
            name: Some(to.to_owned()),
            ..Default::default()
        }),
        contents: vec![content],
        ext: ext.map(ext_to_wire).unwrap_or_default(),
        ..Default::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_with_ext_is_encoded_like_the_sdk() {
        let ext = json!({"a": 1, "b": "x", "c": true, "d": {"k": "v"}, "e": 1.5});
        let b = body_from_rest(
            ChatKind::Group,
            "alice",
            "g1",
            "txt",
            &json!({"msg": "hi"}),
            ext.as_object(),
        )
        .unwrap();
        assert_eq!(b.r#type, Some(message_body::Type::Groupchat as i32));
        assert_eq!(b.contents[0].text.as_deref(), Some("hi"));
        let by_key = |k: &str| {
            b.ext
                .iter()
                .find(|kv| kv.key.as_deref() == Some(k))
                .unwrap()
                .clone()
        };
        assert_eq!(by_key("a").r#type, Some(ValueType::Int as i32));
        assert_eq!(by_key("c").value, Some(key_value::Value::VarintValue(1)));
        assert_eq!(
            by_key("d").value,
            Some(key_value::Value::StringValue("{\"k\":\"v\"}".into()))
        );
        assert_eq!(by_key("e").r#type, Some(ValueType::Double as i32));
    }

    #[test]
    fn bad_bodies_are_refused() {
        assert!(body_from_rest(ChatKind::Single, "a", "b", "txt", &json!({}), None).is_err());
        assert!(
            body_from_rest(
                ChatKind::Single,
                "a",
                "b",
                "loc",
                &json!({"lat": "x", "lng": 1}),
                None
            )
            .is_err()
        );
        assert!(body_from_rest(ChatKind::Single, "a", "b", "nope", &json!({}), None).is_err());
        assert!(
            body_from_rest(
                ChatKind::Single,
                "a",
                "b",
                "cmd",
                &json!({"action": "go"}),
                None
            )
            .is_ok()
        );
    }
}
