//! Messages as Easemob's REST API writes them (`{type, body, ext}`), turned into the wire
//! `MessageBody` that devices receive, with `ext` encoded exactly as the Web SDK encodes it.
use serde_json::{Map, Value};

use crate::pb::{
    Jid, KeyValue, MessageBody,
    key_value::{self, ValueType},
    message_body::{self, Content, content},
};

/// Which kind of conversation a message belongs to, with the names the wire gives each kind.
/// This is the one place those names are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChatKind {
    Single,
    Group,
    ChatRoom,
}

impl ChatKind {
    /// The name in message JSON, conversation lists and multi-device events: `chat`,
    /// `groupchat`, `chatroom`.
    pub fn name(self) -> &'static str {
        match self {
            ChatKind::Single => "chat",
            ChatKind::Group => "groupchat",
            ChatKind::ChatRoom => "chatroom",
        }
    }

    /// A kind as clients write it, in any case: `chat` or `singleChat`; `groupChat` or
    /// `group`; `chatRoom`.
    pub fn parse(raw: &str) -> Option<ChatKind> {
        match raw.to_ascii_lowercase().as_str() {
            "chat" | "singlechat" => Some(ChatKind::Single),
            "groupchat" | "group" => Some(ChatKind::Group),
            "chatroom" => Some(ChatKind::ChatRoom),
            _ => None,
        }
    }
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

/// An optional integer for an `int32` field of the wire; one out of its range saturates.
fn int32(body: &Value, key: &str) -> Option<i32> {
    field(body, key)
        .and_then(Value::as_i64)
        .map(|n| i32::try_from(n).unwrap_or(if n < 0 { i32::MIN } else { i32::MAX }))
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

/// The inverse of [`ext_to_wire`]: STRING → string, BOOL → bool, the integer types → number,
/// FLOAT/DOUBLE → number, JSON_STRING → the parsed JSON (the string itself if it does not
/// parse). Entries without a key or a value are skipped.
pub fn ext_from_wire(ext: &[KeyValue]) -> Map<String, Value> {
    ext.iter()
        .filter_map(|kv| {
            let key = kv.key.clone()?;
            let value = kv.value.as_ref()?;
            let ty = kv.r#type.and_then(|t| ValueType::try_from(t).ok());
            let json = match (ty, value) {
                (Some(ValueType::Bool), key_value::Value::VarintValue(i)) => Value::Bool(*i != 0),
                (Some(ValueType::JsonString), key_value::Value::StringValue(s)) => {
                    serde_json::from_str(s).unwrap_or_else(|_| Value::String(s.clone()))
                }
                (_, key_value::Value::VarintValue(i)) => Value::from(*i),
                (_, key_value::Value::FloatValue(f)) => float(f64::from(*f)),
                (_, key_value::Value::DoubleValue(d)) => float(*d),
                (_, key_value::Value::StringValue(s)) => Value::String(s.clone()),
            };
            Some((key, json))
        })
        .collect()
}

fn float(f: f64) -> Value {
    serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)
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
                file_length: int32(body, "file_length"),
                duration: int32(body, "length"),
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

/// The Easemob message type name (`txt`, `img`, `video`, `loc`, `audio`, `file`, `cmd`,
/// `custom`, `combine`) of the first content of `body`; `""` if it has no contents or an
/// unknown content type.
pub fn content_type(body: &MessageBody) -> &'static str {
    body.contents.first().map_or("", content_name)
}

fn content_name(c: &Content) -> &'static str {
    match content::Type::try_from(c.r#type.unwrap_or_default()) {
        Ok(content::Type::Text) => "txt",
        Ok(content::Type::Image) => "img",
        Ok(content::Type::Video) => "video",
        Ok(content::Type::Location) => "loc",
        Ok(content::Type::Voice) => "audio",
        Ok(content::Type::File) => "file",
        Ok(content::Type::Command) => "cmd",
        Ok(content::Type::Custom) => "custom",
        Ok(content::Type::Combine) => "combine",
        Err(_) => "",
    }
}

fn sub_type_name(sub: i32) -> Value {
    match content::SubType::try_from(sub) {
        Ok(content::SubType::Combine) => Value::from("sub_combine"),
        Ok(content::SubType::Gif) => Value::from("sub_gif"),
        Ok(content::SubType::SubStream) => Value::from("sub_stream"),
        Err(_) => Value::from(sub),
    }
}

fn content_to_rest(c: &Content) -> Value {
    let name = content_name(c);
    let mut out = Map::new();
    out.insert("type".into(), Value::from(name));
    let mut put = |key: &str, value: Option<Value>| {
        if let Some(value) = value {
            out.insert(key.into(), value);
        }
    };
    let string = |s: &Option<String>| s.clone().map(Value::String);
    match name {
        "txt" => {
            put("msg", Some(Value::from(c.text.clone().unwrap_or_default())));
            put("subType", c.sub_type.map(sub_type_name));
        }
        "img" => {
            let size = c.size.unwrap_or_default();
            put(
                "url",
                Some(Value::from(c.remote_path.clone().unwrap_or_default())),
            );
            put("secret", string(&c.secret_key));
            put(
                "size",
                Some(serde_json::json!({
                    "width": float(size.width.unwrap_or_default()),
                    "height": float(size.height.unwrap_or_default()),
                })),
            );
            put("file_length", c.file_length.map(Value::from));
            put("filename", string(&c.display_name));
            put("subType", c.sub_type.map(sub_type_name));
        }
        "video" | "audio" | "file" => {
            put(
                "url",
                Some(Value::from(c.remote_path.clone().unwrap_or_default())),
            );
            put("secret", string(&c.secret_key));
            put("filename", string(&c.display_name));
            put("length", c.duration.map(Value::from));
            put("file_length", c.file_length.map(Value::from));
        }
        "loc" => {
            put(
                "addr",
                Some(Value::from(c.address.clone().unwrap_or_default())),
            );
            put("lat", Some(float(c.latitude.unwrap_or_default())));
            put("lng", Some(float(c.longitude.unwrap_or_default())));
            put("buildingName", string(&c.building_name));
        }
        "cmd" => put(
            "action",
            Some(Value::from(c.action.clone().unwrap_or_default())),
        ),
        "custom" => {
            put(
                "customEvent",
                Some(Value::from(c.custom_event.clone().unwrap_or_default())),
            );
            // The SDK sends them in `customExts`; older clients used `params`.
            let exts = if c.custom_exts.is_empty() {
                &c.params
            } else {
                &c.custom_exts
            };
            let exts = ext_from_wire(exts)
                .into_iter()
                .map(|(k, v)| Value::Object(Map::from_iter([(k, v)])))
                .collect();
            put("customExts", Some(Value::Array(exts)));
        }
        _ => {}
    }
    Value::Object(out)
}

/// The Easemob REST JSON of a wire message, as the Web SDK reads a conversation's
/// `lastMessage` (`meta.payload` of `user_channels/list`):
/// `{"bodies":[…],"ext":{…},"from","to","type":"chat"|"groupchat"|"chatroom"}`. The inverse of
/// [`body_from_rest`]; `ext` is always an object.
pub fn body_to_rest(body: &MessageBody, kind: ChatKind) -> Value {
    let name = |jid: &Option<Jid>| {
        jid.as_ref()
            .and_then(|j| j.name.clone())
            .unwrap_or_default()
    };
    let ty = kind.name();
    serde_json::json!({
        "bodies": body.contents.iter().map(content_to_rest).collect::<Vec<_>>(),
        "ext": ext_from_wire(&body.ext),
        "from": name(&body.from),
        "to": name(&body.to),
        "type": ty,
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

    fn round_trip(
        kind: ChatKind,
        msg_type: &str,
        body: Value,
        ext: Option<Value>,
    ) -> (MessageBody, Value) {
        let wire = body_from_rest(
            kind,
            "alice",
            "bob",
            msg_type,
            &body,
            ext.as_ref().and_then(Value::as_object),
        )
        .unwrap();
        let rest = body_to_rest(&wire, kind);
        (wire, rest)
    }

    #[test]
    fn text_with_ext_round_trips() {
        let ext = json!({"s": "x", "b": true, "f": false, "i": -7, "d": 1.5, "o": {"k": ["v", 1]}});
        let (wire, rest) = round_trip(
            ChatKind::Single,
            "txt",
            json!({"msg": "hi"}),
            Some(ext.clone()),
        );
        assert_eq!(content_type(&wire), "txt");
        assert_eq!(
            rest,
            json!({
                "bodies": [{"type": "txt", "msg": "hi"}],
                "ext": ext,
                "from": "alice",
                "to": "bob",
                "type": "chat",
            })
        );
    }

    #[test]
    fn chat_kinds_name_the_payload_type() {
        for (kind, name) in [
            (ChatKind::Single, "chat"),
            (ChatKind::Group, "groupchat"),
            (ChatKind::ChatRoom, "chatroom"),
        ] {
            let (_, rest) = round_trip(kind, "txt", json!({"msg": "m"}), None);
            assert_eq!(rest["type"], name);
        }
    }

    #[test]
    fn empty_ext_is_an_empty_object() {
        let (_, rest) = round_trip(ChatKind::Group, "txt", json!({"msg": "m"}), None);
        assert_eq!(rest["ext"], json!({}));
        let (_, rest) = round_trip(ChatKind::Group, "txt", json!({"msg": "m"}), Some(json!({})));
        assert_eq!(rest["ext"], json!({}));
        assert_eq!(
            body_to_rest(&MessageBody::default(), ChatKind::Single)["ext"],
            json!({})
        );
    }

    #[test]
    fn custom_round_trips() {
        let (wire, rest) = round_trip(
            ChatKind::Group,
            "custom",
            json!({"customEvent": "e", "customExts": {"k": "v", "n": 2}}),
            None,
        );
        assert_eq!(content_type(&wire), "custom");
        assert_eq!(rest["type"], "groupchat");
        assert_eq!(
            rest["bodies"],
            json!([{"type": "custom", "customEvent": "e", "customExts": [{"k": "v"}, {"n": 2}]}])
        );
    }

    #[test]
    fn custom_params_are_read_when_custom_exts_are_absent() {
        let mut wire = MessageBody::default();
        wire.contents.push(Content {
            r#type: Some(content::Type::Custom as i32),
            custom_event: Some("e".into()),
            params: ext_to_wire(json!({"p": "q"}).as_object().unwrap()),
            ..Default::default()
        });
        assert_eq!(
            body_to_rest(&wire, ChatKind::Single)["bodies"][0]["customExts"],
            json!([{"p": "q"}])
        );
    }

    #[test]
    fn loc_round_trips() {
        let (wire, rest) = round_trip(
            ChatKind::Single,
            "loc",
            json!({"lat": 39.9042, "lng": 116.4074, "addr": "Beijing"}),
            None,
        );
        assert_eq!(content_type(&wire), "loc");
        assert_eq!(
            rest["bodies"],
            json!([{"type": "loc", "addr": "Beijing", "lat": 39.9042, "lng": 116.4074}])
        );
    }

    #[test]
    fn loc_building_name_is_kept() {
        let mut wire = MessageBody::default();
        wire.contents.push(Content {
            r#type: Some(content::Type::Location as i32),
            latitude: Some(1.0),
            longitude: Some(2.0),
            address: Some("a".into()),
            building_name: Some("Tower".into()),
            ..Default::default()
        });
        assert_eq!(
            body_to_rest(&wire, ChatKind::Single)["bodies"][0],
            json!({"type": "loc", "addr": "a", "lat": 1.0, "lng": 2.0, "buildingName": "Tower"})
        );
    }

    #[test]
    fn cmd_round_trips() {
        let (wire, rest) = round_trip(
            ChatKind::Single,
            "cmd",
            json!({"action": "go"}),
            Some(json!({"why": "test"})),
        );
        assert_eq!(content_type(&wire), "cmd");
        assert_eq!(rest["bodies"], json!([{"type": "cmd", "action": "go"}]));
        assert_eq!(rest["ext"], json!({"why": "test"}));
    }

    #[test]
    fn file_round_trips() {
        let body = json!({
            "url": "http://x/f", "filename": "f.zip", "secret": "s", "file_length": 42, "length": 3,
        });
        for (msg_type, expected) in [("file", "file"), ("audio", "audio"), ("video", "video")] {
            let (wire, rest) = round_trip(ChatKind::Single, msg_type, body.clone(), None);
            assert_eq!(content_type(&wire), expected);
            let mut want = body.clone();
            want["type"] = json!(msg_type);
            assert_eq!(rest["bodies"], json!([want]));
        }
    }

    #[test]
    fn img_round_trips_with_a_size() {
        let (wire, rest) = round_trip(
            ChatKind::Single,
            "img",
            json!({"url": "http://x/i", "filename": "i.png", "secret": "s", "file_length": 9}),
            None,
        );
        assert_eq!(content_type(&wire), "img");
        assert_eq!(
            rest["bodies"],
            json!([{
                "type": "img", "url": "http://x/i", "secret": "s", "filename": "i.png",
                "file_length": 9, "size": {"width": 0.0, "height": 0.0},
            }])
        );
    }

    #[test]
    fn content_type_names_every_content_type() {
        let body = |ty: Option<content::Type>| MessageBody {
            contents: vec![Content {
                r#type: ty.map(|t| t as i32),
                ..Default::default()
            }],
            ..Default::default()
        };
        for (ty, name) in [
            (content::Type::Text, "txt"),
            (content::Type::Image, "img"),
            (content::Type::Video, "video"),
            (content::Type::Location, "loc"),
            (content::Type::Voice, "audio"),
            (content::Type::File, "file"),
            (content::Type::Command, "cmd"),
            (content::Type::Custom, "custom"),
            (content::Type::Combine, "combine"),
        ] {
            assert_eq!(content_type(&body(Some(ty))), name);
            assert_eq!(
                body_to_rest(&body(Some(ty)), ChatKind::Single)["bodies"][0]["type"],
                name
            );
        }
        assert_eq!(content_type(&body(None)), "txt");
        assert_eq!(content_type(&MessageBody::default()), "");
        assert_eq!(
            body_to_rest(&body(Some(content::Type::Combine)), ChatKind::Single)["bodies"],
            json!([{"type": "combine"}])
        );
    }

    #[test]
    fn ext_from_wire_decodes_every_value_type() {
        let kv = |k: &str, ty: ValueType, v: key_value::Value| KeyValue {
            key: Some(k.into()),
            r#type: Some(ty as i32),
            value: Some(v),
        };
        let ext = [
            kv("b", ValueType::Bool, key_value::Value::VarintValue(0)),
            kv("i", ValueType::Int, key_value::Value::VarintValue(5)),
            kv("u", ValueType::Uint, key_value::Value::VarintValue(6)),
            kv(
                "l",
                ValueType::Llint,
                key_value::Value::VarintValue(1 << 40),
            ),
            kv("f", ValueType::Float, key_value::Value::FloatValue(0.5)),
            kv("d", ValueType::Double, key_value::Value::DoubleValue(2.25)),
            kv(
                "s",
                ValueType::String,
                key_value::Value::StringValue("x".into()),
            ),
            kv(
                "j",
                ValueType::JsonString,
                key_value::Value::StringValue("[1,{\"a\":null}]".into()),
            ),
            kv(
                "bad",
                ValueType::JsonString,
                key_value::Value::StringValue("{nope".into()),
            ),
            KeyValue {
                key: None,
                r#type: Some(ValueType::String as i32),
                value: Some(key_value::Value::StringValue("dropped".into())),
            },
        ];
        assert_eq!(
            Value::Object(ext_from_wire(&ext)),
            json!({
                "b": false, "i": 5, "u": 6, "l": 1_i64 << 40, "f": 0.5, "d": 2.25, "s": "x",
                "j": [1, {"a": null}], "bad": "{nope",
            })
        );
    }
}
