//! Limits on every size a client chooses: names, descriptions, lists of ids, messages.
//!
//! One table, so that the msync and REST transports refuse the same things. Where Easemob
//! documents a limit, it is Easemob's; the others are Roam's and say why. Characters are
//! counted as Unicode scalar values (Easemob counts "characters"), bytes as UTF-8 bytes.
//!
//! Without them one logged-in user could make the server hold far more than they sent: a
//! 1 MB group name answered once per id of a 3,000-id details query is gigabytes.
//!
//! How many groups and chat rooms one user may be in is the operator's choice
//! ([`crate::service::Policy`]), not a constant here.

/// Most characters of a group's or chat room's name (Easemob: 128).
pub const GROUP_NAME_CHARS: usize = 128;
/// Most characters of a group's or chat room's description (Easemob: 512).
pub const GROUP_DESCRIPTION_CHARS: usize = 512;
/// Most characters of a group's custom (extension) field (Easemob: 1,024).
pub const GROUP_CUSTOM_CHARS: usize = 1024;
/// Most characters of a user's nickname (Easemob: 100).
pub const NICKNAME_CHARS: usize = 100;
/// Most initial members a group creation names (Easemob: 100, the owner not counted).
pub const CREATE_MEMBERS: usize = 100;
/// Most users one add, invite or removal names (Easemob's batch calls: 60).
pub const USERS_PER_CALL: usize = 60;
/// Most distinct group ids one details query names (Easemob: 100).
pub const IDS_PER_QUERY: usize = 100;
/// Most bytes of text one message carries, all its text contents together (Easemob: 5 KB).
pub const MESSAGE_TEXT_BYTES: usize = 5 * 1024;
/// Most bytes of one message body as stored and relayed: contents, `ext` and all. Roam's
/// limit: room for a full 5 KB text with a generous `ext`, while a pull batch of 50 such
/// messages stays well under the 1 MiB WebSocket frame.
pub const MESSAGE_BYTES: usize = 16 * 1024;

/// A value a client sent that is larger than allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{what} is too long: at most {max} {unit}, got {got}")]
pub struct TooLong {
    /// The field, as the API names it.
    pub what: &'static str,
    pub max: usize,
    pub got: usize,
    /// `characters`, `bytes` or `ids`.
    pub unit: &'static str,
}

/// `value` has at most `max` characters.
pub fn chars(what: &'static str, value: &str, max: usize) -> Result<(), TooLong> {
    // Counting stops past the limit: a 1 MB string costs no more than a short one.
    let got = value.chars().take(max + 1).count();
    if got > max {
        return Err(TooLong {
            what,
            max,
            got: value.chars().count(),
            unit: "characters",
        });
    }
    Ok(())
}

/// `len` bytes are at most `max`.
pub fn bytes(what: &'static str, len: usize, max: usize) -> Result<(), TooLong> {
    if len > max {
        return Err(TooLong {
            what,
            max,
            got: len,
            unit: "bytes",
        });
    }
    Ok(())
}

/// A list a client sent, without repeats (first occurrence kept, order kept) and with at most
/// `max` distinct items: repeating an id must not multiply the work.
pub fn distinct<T: PartialEq>(
    what: &'static str,
    items: impl IntoIterator<Item = T>,
    max: usize,
) -> Result<Vec<T>, TooLong> {
    let mut out: Vec<T> = Vec::new();
    for item in items {
        if out.contains(&item) {
            continue;
        }
        if out.len() == max {
            return Err(TooLong {
                what,
                max,
                got: max + 1,
                unit: "ids",
            });
        }
        out.push(item);
    }
    Ok(out)
}

/// A message's text and its whole body are within [`MESSAGE_TEXT_BYTES`] and
/// [`MESSAGE_BYTES`]. The transports measure (they know the wire body); this decides.
pub fn message(text_bytes: usize, body_bytes: usize) -> Result<(), TooLong> {
    bytes("message text", text_bytes, MESSAGE_TEXT_BYTES)?;
    bytes("message", body_bytes, MESSAGE_BYTES)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn characters_not_bytes_are_counted() {
        assert!(chars("name", &"é".repeat(128), 128).is_ok());
        let e = chars("name", &"é".repeat(129), 128).unwrap_err();
        assert_eq!((e.max, e.got), (128, 129));
        assert!(e.to_string().contains("name is too long"), "{e}");
    }

    #[test]
    fn repeats_are_dropped_before_counting() {
        let ids = distinct("ids", ["1"; 1000].iter().copied().chain(["2"]), 2).unwrap();
        assert_eq!(ids, ["1", "2"]);
        assert!(distinct("ids", ["1", "2", "3"], 2).is_err());
        assert!(distinct("ids", Vec::<&str>::new(), 2).unwrap().is_empty());
    }

    #[test]
    fn messages_are_bounded_in_text_and_in_total() {
        assert!(message(MESSAGE_TEXT_BYTES, MESSAGE_BYTES).is_ok());
        assert!(message(MESSAGE_TEXT_BYTES + 1, 10).is_err());
        assert!(message(0, MESSAGE_BYTES + 1).is_err());
    }
}
