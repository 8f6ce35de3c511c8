//! Message roaming over REST: the conversation list, pins, marks, history and one-way
//! deletes, as the Web SDK sends and reads them (`docs/protocol.md`, "REST: conversation list", "REST: pins, marks, deletes", "REST: history").
//!
//! Answers are deserialized leniently (`#[serde(default)]` on what a server may leave out),
//! so that a client reads Easemob's own server as well as Roam.
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::message_json::ChatKind;

/// An answer whose payload is under `data`: pins, marks, history and message deletes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DataResponse<T> {
    #[cfg_attr(feature = "openapi", schema(inline))]
    pub data: T,
}

/// `{}`: the empty object some answers carry as `data` or `meta`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct EmptyObject {}

/// A conversation as the SDK names it in bodies and answers: `{to, type}`, the type being a
/// chat kind name (`chat`, `groupchat`, …; see [`crate::message_json::ChatKind`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelRef {
    pub to: String,
    #[serde(rename = "type")]
    pub kind: String,
}

/// Answer to `GET /{org}/{app}/sdk/user/{u}/user_channels/list` (and the marked and pinned
/// lists): `{data: {cursor, channel_infos}, timestamp, duration}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListResponse {
    pub data: ListData,
    #[serde(default)]
    pub timestamp: u64,
    #[serde(default)]
    pub duration: u64,
}

/// The page itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ListData {
    /// Continues after the last item; empty on the last page.
    #[serde(default)]
    pub cursor: String,
    #[serde(default)]
    pub channel_infos: Vec<ChannelInfo>,
}

/// One conversation of the list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct ChannelInfo {
    /// The peer user or the group.
    pub session_to: String,
    /// `chat` or `groupchat` (chat rooms too); absent = `chat`.
    #[serde(default = "single_chat")]
    pub session_type: String,
    #[serde(default)]
    pub unread_num: u64,
    #[serde(default)]
    pub is_top: bool,
    /// When it was pinned (ms), 0 if not.
    #[serde(default)]
    pub update_top_status_time: u64,
    /// `mark_N` names.
    #[serde(default)]
    pub marks: Vec<String>,
    /// The newest message this user can see, or `{}`.
    #[serde(default)]
    pub meta: ChannelMeta,
}

fn single_chat() -> String {
    ChatKind::Single.name().to_owned()
}

/// A list item's `meta`: the last message, or `{}` when the user sees none (the SDK tests
/// for an empty object, not for null).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[serde(untagged)]
pub enum ChannelMeta {
    Message(LastMessage),
    Empty(EmptyObject),
}

impl Default for ChannelMeta {
    fn default() -> Self {
        ChannelMeta::Empty(EmptyObject {})
    }
}

impl ChannelMeta {
    /// The last message, if there is one.
    pub fn message(&self) -> Option<&LastMessage> {
        match self {
            ChannelMeta::Message(m) => Some(m),
            ChannelMeta::Empty(_) => None,
        }
    }
}

impl From<Option<LastMessage>> for ChannelMeta {
    fn from(m: Option<LastMessage>) -> Self {
        m.map_or_else(ChannelMeta::default, ChannelMeta::Message)
    }
}

/// The last message of a list item.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct LastMessage {
    /// The message id, as a decimal string.
    pub id: String,
    pub from: String,
    pub to: String,
    #[serde(default)]
    pub timestamp: u64,
    /// The message as Easemob's REST message JSON, itself in a string (as the SDK expects).
    pub payload: String,
}

/// Body of `POST /{org}/{app}/sdk/user/{u}/user_channel/top` (pin); unpin sends the same
/// two fields as query parameters.
pub type PinBody = ChannelRef;

/// `data` of the pin and unpin answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct PinData {
    #[serde(default)]
    pub is_top: bool,
    /// The pin time (ms), 0 if not pinned.
    #[serde(default)]
    pub update_top_status_time: u64,
}

/// Answer to pin and unpin.
pub type PinResponse = DataResponse<PinData>;

/// Body of `POST|DELETE /{org}/{app}/sdk/user/{u}/user_channels/mark`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkBody {
    /// `mark_N`, N in 0..=19.
    pub mark: String,
    /// 1 to 20 conversations.
    pub targets: Vec<ChannelRef>,
}

/// `data` of the mark answers.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MarkData {
    /// The targets the user has no conversation with.
    #[serde(default)]
    pub ignore: Vec<ChannelRef>,
}

/// Answer to adding or removing a mark.
pub type MarkResponse = DataResponse<MarkData>;

/// Body of `POST /{org}/{app}/users/{u}/messageroaming`. The loosely typed fields are taken
/// as the SDK sends them: numbers or strings.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryBody {
    /// `bob@easemob.com` or `bob` (single chat), `123@conference.easemob.com` (group, room).
    pub queue: String,
    /// A message id (number or string) to continue after; -1 or absent = from the end.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start: Option<Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pull_number: Option<i64>,
    /// true = oldest first ("down"); false = newest first ("up").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_positive: Option<bool>,
    /// Comma-joined body types.
    #[serde(default, rename = "msgType", skip_serializing_if = "Option::is_none")]
    pub msg_type: Option<String>,
    #[serde(default, rename = "startTime", skip_serializing_if = "Option::is_none")]
    pub start_time: Option<Value>,
    #[serde(default, rename = "endTime", skip_serializing_if = "Option::is_none")]
    pub end_time: Option<Value>,
    /// Sender filter (groups).
    #[serde(default, rename = "userId", skip_serializing_if = "Option::is_none")]
    pub user_id: Option<String>,
}

/// `data` of a history page.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryData {
    /// In the order asked for.
    #[serde(default)]
    pub msgs: Vec<HistoryItem>,
    /// The last message's id (a decimal string), null on an empty page.
    #[serde(default)]
    pub next_key: Option<String>,
    #[serde(default = "yes")]
    pub is_last: bool,
}

fn yes() -> bool {
    true
}

/// One message of a history page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct HistoryItem {
    /// The msync `Meta` a device would pull, protobuf-encoded, in standard base64.
    pub msg: String,
}

/// Answer to a history request.
pub type HistoryResponse = DataResponse<HistoryData>;

/// Answer to the one-way message deletes: `{"data": "success"}`.
pub type RemovedResponse = DataResponse<String>;

/// Body of `DELETE /{org}/{app}/user/{u}/user_channel`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeleteConversationBody {
    pub channel: String,
    /// A chat kind name.
    #[serde(rename = "type")]
    pub kind: String,
    /// Also hide the conversation's history up to now.
    #[serde(default)]
    pub delete_roam: bool,
}

/// Answer to deleting one conversation or all of them: `{"result": "ok", "data": {}}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct DeletedResponse {
    pub result: String,
    #[serde(default)]
    pub data: EmptyObject,
}

impl DeletedResponse {
    /// The only answer Roam gives.
    pub fn ok() -> DeletedResponse {
        DeletedResponse {
            result: "ok".into(),
            data: EmptyObject {},
        }
    }
}

#[cfg(test)]
mod tests {
    use serde::de::DeserializeOwned;
    use serde_json::json;

    use super::*;

    /// `value` serialises to exactly `expected` and reads back as itself.
    fn round_trip<T: Serialize + DeserializeOwned + PartialEq + std::fmt::Debug>(
        value: T,
        expected: Value,
    ) {
        assert_eq!(serde_json::to_value(&value).unwrap(), expected);
        assert_eq!(serde_json::from_value::<T>(expected).unwrap(), value);
    }

    #[test]
    fn list_items_carry_their_last_message_or_an_empty_meta() {
        let last = LastMessage {
            id: "42".into(),
            from: "bob".into(),
            to: "alice".into(),
            timestamp: 7,
            payload: "{}".into(),
        };
        let item = |meta: ChannelMeta| ChannelInfo {
            session_to: "bob".into(),
            session_type: "chat".into(),
            unread_num: 2,
            is_top: true,
            update_top_status_time: 5,
            marks: vec!["mark_1".into()],
            meta,
        };
        round_trip(
            ListResponse {
                data: ListData {
                    cursor: "c".into(),
                    channel_infos: vec![item(ChannelMeta::Message(last)), item(None.into())],
                },
                timestamp: 9,
                duration: 0,
            },
            json!({
                "data": {"cursor": "c", "channel_infos": [
                    {"session_to": "bob", "session_type": "chat", "unread_num": 2, "is_top": true,
                     "update_top_status_time": 5, "marks": ["mark_1"],
                     "meta": {"id": "42", "from": "bob", "to": "alice", "timestamp": 7, "payload": "{}"}},
                    {"session_to": "bob", "session_type": "chat", "unread_num": 2, "is_top": true,
                     "update_top_status_time": 5, "marks": ["mark_1"], "meta": {}},
                ]},
                "timestamp": 9, "duration": 0,
            }),
        );
    }

    #[test]
    fn a_list_item_missing_optional_fields_still_reads() {
        let got: ChannelInfo = serde_json::from_value(json!({"session_to": "g"})).unwrap();
        assert_eq!((got.unread_num, got.meta.message()), (0, None));
        assert_eq!(got.session_type, "chat");
    }

    #[test]
    fn pin_mark_and_delete_answers_keep_their_shapes() {
        round_trip(
            PinResponse {
                data: PinData {
                    is_top: true,
                    update_top_status_time: 5,
                },
            },
            json!({"data": {"is_top": true, "update_top_status_time": 5}}),
        );
        round_trip(
            MarkResponse {
                data: MarkData {
                    ignore: vec![ChannelRef {
                        to: "g1".into(),
                        kind: "groupchat".into(),
                    }],
                },
            },
            json!({"data": {"ignore": [{"to": "g1", "type": "groupchat"}]}}),
        );
        round_trip(
            RemovedResponse {
                data: "success".into(),
            },
            json!({"data": "success"}),
        );
        round_trip(DeletedResponse::ok(), json!({"result": "ok", "data": {}}));
    }

    #[test]
    fn history_answers_and_bodies_keep_their_shapes() {
        round_trip(
            HistoryResponse {
                data: HistoryData {
                    msgs: vec![HistoryItem { msg: "AAA=".into() }],
                    next_key: Some("42".into()),
                    is_last: false,
                },
            },
            json!({"data": {"msgs": [{"msg": "AAA="}], "next_key": "42", "is_last": false}}),
        );
        round_trip(
            HistoryResponse {
                data: HistoryData {
                    msgs: vec![],
                    next_key: None,
                    is_last: true,
                },
            },
            json!({"data": {"msgs": [], "next_key": null, "is_last": true}}),
        );
        round_trip(
            HistoryBody {
                queue: "bob".into(),
                start: Some(json!(-1)),
                pull_number: Some(20),
                is_positive: Some(false),
                msg_type: Some("txt,img".into()),
                user_id: Some("carol".into()),
                ..Default::default()
            },
            json!({"queue": "bob", "start": -1, "pull_number": 20, "is_positive": false,
                   "msgType": "txt,img", "userId": "carol"}),
        );
        round_trip(
            MarkBody {
                mark: "mark_0".into(),
                targets: vec![ChannelRef {
                    to: "bob".into(),
                    kind: "chat".into(),
                }],
            },
            json!({"mark": "mark_0", "targets": [{"to": "bob", "type": "chat"}]}),
        );
        round_trip(
            DeleteConversationBody {
                channel: "bob".into(),
                kind: "chat".into(),
                delete_roam: true,
            },
            json!({"channel": "bob", "type": "chat", "delete_roam": true}),
        );
    }
}
