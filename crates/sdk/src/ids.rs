//! 64-bit ids in JSON. Message ids pass 2^53, the largest integer a JavaScript number (and
//! `jq`) holds exactly: `915591013391663104` read as a number comes out as `…100`. So the
//! SDK's types serialize ids as strings, and read ids given either way (a server that writes
//! them as numbers, or as strings as Easemob's JSON mostly does: see [`parse`]).
use serde::Serializer;

/// Serializes an id as a JSON string (`#[serde(serialize_with = "crate::ids::string")]`).
pub(crate) fn string<S: Serializer>(id: &u64, s: S) -> Result<S::Ok, S::Error> {
    s.collect_str(id)
}

/// Serializes an optional id as a JSON string, or null.
pub(crate) fn optional_string<S: Serializer>(id: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
    match id {
        Some(id) => s.collect_str(id),
        None => s.serialize_none(),
    }
}

/// Reads an id from a JSON value given as a number or a string of digits.
pub(crate) fn parse(v: &serde_json::Value) -> Option<u64> {
    match v {
        serde_json::Value::Number(n) => n.as_u64(),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[derive(serde::Serialize)]
    struct Holder {
        #[serde(serialize_with = "string")]
        id: u64,
        #[serde(serialize_with = "optional_string")]
        cursor: Option<u64>,
    }

    #[test]
    fn ids_past_2_pow_53_are_written_as_strings_and_read_either_way() {
        let h = Holder {
            id: 915_591_013_391_663_104,
            cursor: Some(1),
        };
        assert_eq!(
            serde_json::to_value(&h).unwrap(),
            json!({"id": "915591013391663104", "cursor": "1"})
        );
        let none = Holder {
            id: 0,
            cursor: None,
        };
        assert_eq!(serde_json::to_value(&none).unwrap()["cursor"], json!(null));
        for given in [
            json!(915_591_013_391_663_104_u64),
            json!("915591013391663104"),
        ] {
            assert_eq!(parse(&given), Some(915_591_013_391_663_104));
        }
        assert_eq!(parse(&json!("x")), None);
        assert_eq!(parse(&json!(-1)), None);
    }
}
