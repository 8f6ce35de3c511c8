//! What `roam` prints: readable lines and aligned tables, or with `--json` one JSON object per
//! line (the SDK's types as they serialize). Times are shown in UTC.
use std::{
    collections::BTreeSet,
    time::{SystemTime, UNIX_EPOCH},
};

use roam_sdk::{
    Body, ChatType, Conversation, ConversationPage, Event, FileKind, HistoryPage, Message,
    MultiDeviceOp, PinState, Sent,
};
use serde_json::json;

/// Prints a value as one line of JSON, in its fields' declared order.
macro_rules! json_line {
    ($value:expr) => {
        println!("{}", serde_json::to_string($value)?)
    };
}

/// Longest last-message text shown in the conversation table.
const PREVIEW_CHARS: usize = 60;

/// Prints results in the chosen format.
pub struct Output {
    json: bool,
}

impl Output {
    pub fn new(json: bool) -> Output {
        Output { json }
    }

    /// A sent message: its server id.
    pub fn sent(&self, sent: &Sent) -> anyhow::Result<()> {
        if self.json {
            json_line!(sent);
        } else {
            println!("{}", sent.id);
        }
        Ok(())
    }

    /// Conversation pages: one JSON line per page, or one table of them all followed by
    /// the cursor of the next page, if any.
    pub fn conversations(&self, pages: &[ConversationPage]) -> anyhow::Result<()> {
        if self.json {
            for page in pages {
                json_line!(page);
            }
            return Ok(());
        }
        let all: Vec<&Conversation> = pages.iter().flat_map(|p| &p.conversations).collect();
        if all.is_empty() {
            println!("no conversations");
        } else {
            let rows = all.iter().map(|c| conversation_row(c)).collect();
            table(
                &["ID", "TYPE", "UNREAD", "PINNED", "MARKS", "LAST MESSAGE"],
                rows,
            );
        }
        if let Some(cursor) = pages.last().and_then(|p| p.cursor.as_deref()) {
            println!("(more: --cursor {cursor})");
        }
        Ok(())
    }

    /// A history page: a table of its messages in page order, then the next page's cursor.
    pub fn history(&self, page: &HistoryPage) -> anyhow::Result<()> {
        if self.json {
            json_line!(page);
            return Ok(());
        }
        if page.messages.is_empty() {
            println!("no messages");
        } else {
            let rows = page
                .messages
                .iter()
                .map(|m| {
                    vec![
                        m.id.to_string(),
                        date_time(m.time),
                        m.from.clone(),
                        one_line(&body(&m.body)),
                    ]
                })
                .collect();
            table(&["ID", "TIME", "FROM", "MESSAGE"], rows);
        }
        if let (false, Some(cursor)) = (page.is_last, page.cursor) {
            println!("(more: --cursor {cursor})");
        }
        Ok(())
    }

    /// The pin state after `pin`.
    pub fn pinned(&self, target: &str, state: &PinState) -> anyhow::Result<()> {
        if self.json {
            json_line!(state);
        } else if state.pinned {
            println!("pinned {target}");
        } else {
            println!("unpinned {target}");
        }
        Ok(())
    }

    /// A command that answers nothing but success.
    pub fn done(&self, what: String) -> anyhow::Result<()> {
        if self.json {
            json_line!(&json!({ "ok": true, "done": what }));
        } else {
            println!("{what}");
        }
        Ok(())
    }

    /// Whether output is JSON lines.
    pub fn json(&self) -> bool {
        self.json
    }

    /// A value: as a JSON line, or as the readable line `text` makes.
    pub fn value(
        &self,
        value: &impl serde::Serialize,
        text: impl FnOnce() -> String,
    ) -> anyhow::Result<()> {
        if self.json {
            json_line!(value);
        } else {
            println!("{}", text());
        }
        Ok(())
    }

    /// Messages deleted (by id) from a conversation: how many, and which.
    pub fn deleted(&self, target: &str, ids: &BTreeSet<u64>) -> anyhow::Result<()> {
        let ids: Vec<String> = ids.iter().map(u64::to_string).collect();
        if self.json {
            json_line!(&json!({
                "ok": true,
                "done": format!("deleted {} message(s) with {target}", ids.len()),
                "deleted": ids,
            }));
        } else {
            println!(
                "deleted {} message(s) with {target}: {}",
                ids.len(),
                ids.join(", ")
            );
        }
        Ok(())
    }

    /// One event of `tail`.
    pub fn event(&self, event: &Event) -> anyhow::Result<()> {
        if self.json {
            json_line!(event);
        } else {
            println!("{}", event_line(event));
        }
        Ok(())
    }
}

/// Prints rows under a header, each column as wide as its widest cell.
pub(crate) fn table(header: &[&str], rows: Vec<Vec<String>>) {
    let header: Vec<String> = header.iter().map(|h| (*h).to_owned()).collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    for row in std::iter::once(&header).chain(&rows) {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(&widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let pad = w - cell.chars().count();
                line.push_str(cell);
                line.push_str(&" ".repeat(pad + 2));
            }
        }
        println!("{}", line.trim_end());
    }
}

fn conversation_row(c: &Conversation) -> Vec<String> {
    let marks: Vec<String> = c.marks.iter().map(u8::to_string).collect();
    let last = c.last_message.as_ref().map_or_else(String::new, |m| {
        let text = one_line(&body(&m.body));
        let text = if text.chars().count() > PREVIEW_CHARS {
            let cut: String = text.chars().take(PREVIEW_CHARS - 1).collect();
            format!("{cut}…")
        } else {
            text
        };
        format!("{} {}: {text}", date_time(m.time), m.from)
    });
    vec![
        c.id.clone(),
        chat_type(c.chat_type).to_owned(),
        c.unread.to_string(),
        if c.pinned { "yes" } else { "" }.to_owned(),
        marks.join(","),
        last,
    ]
}

fn chat_type(t: ChatType) -> &'static str {
    match t {
        ChatType::Single => "single",
        ChatType::Group => "group",
        ChatType::ChatRoom => "room",
    }
}

/// A message body as text: the text itself, or a bracketed summary.
fn body(b: &Body) -> String {
    match b {
        Body::Text(t) => t.clone(),
        Body::Command { action } => format!("[command {action}]"),
        Body::Custom { event, .. } => format!("[custom {event}]"),
        Body::Location {
            latitude,
            longitude,
            address,
        } => match address {
            Some(a) => format!("[location {latitude},{longitude} {a}]"),
            None => format!("[location {latitude},{longitude}]"),
        },
        Body::File {
            kind,
            url,
            name,
            length: _,
        } => {
            let kind = match kind {
                FileKind::Image => "image",
                FileKind::Audio => "audio",
                FileKind::Video => "video",
                FileKind::File => "file",
            };
            format!("[{kind} {}]", name.as_deref().unwrap_or(url))
        }
        Body::Other(kind) => format!("[{kind} message]"),
    }
}

/// Newlines and tabs as spaces, so that a message stays on its line.
fn one_line(s: &str) -> String {
    s.replace(['\n', '\r', '\t'], " ")
}

/// Where a message went: the user, or the group or room with its kind.
fn destination(m: &Message) -> String {
    match m.chat_type {
        ChatType::Single => m.to.clone(),
        t => format!("{} ({})", m.to, chat_type(t)),
    }
}

/// One readable line for an event, starting with the time (the message's, else now).
fn event_line(event: &Event) -> String {
    let text = match event {
        Event::Message(m) => {
            return format!(
                "{} {} → {}: {}",
                time_of_day(m.time),
                m.from,
                destination(m),
                one_line(&body(&m.body))
            );
        }
        Event::ReadAck {
            from, message_id, ..
        } => format!("{from} read message {message_id}"),
        Event::DeliveryAck {
            from, message_id, ..
        } => format!("{from} received message {message_id}"),
        Event::ChannelAck {
            from, conversation, ..
        } => format!("{from} read the conversation with {conversation}"),
        Event::MultiDevice(e) => {
            let what = match e.op {
                MultiDeviceOp::Pinned => "pinned".to_owned(),
                MultiDeviceOp::Unpinned => "unpinned".to_owned(),
                MultiDeviceOp::Deleted => "deleted".to_owned(),
                MultiDeviceOp::Marked(n) => format!("put mark {n} on"),
                MultiDeviceOp::Unmarked(n) => format!("took mark {n} off"),
                MultiDeviceOp::MessagesDeleted => "deleted messages of".to_owned(),
            };
            format!(
                "device {} {what} the conversation with {}",
                e.resource, e.conversation
            )
        }
        Event::Group(g) => {
            let kind = if g.is_chat_room { "room" } else { "group" };
            let users = if g.users.is_empty() {
                String::new()
            } else {
                format!(" ({})", g.users.join(", "))
            };
            format!("{kind} {}: {} by {}{users}", g.group, g.operation, g.from)
        }
        Event::Disconnected { reason, will_retry } => {
            let next = if *will_retry {
                "reconnecting"
            } else {
                "giving up"
            };
            format!("disconnected: {reason}; {next}")
        }
        Event::Reconnected => "reconnected".to_owned(),
    };
    format!("{} {text}", time_of_day(now_ms()))
}

fn now_ms() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

/// `HH:MM:SS` (UTC) of a time in ms since the Unix epoch.
fn time_of_day(ms: u64) -> String {
    let s = ms / 1000 % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// `YYYY-MM-DD HH:MM:SS` (UTC) of a time in ms since the Unix epoch.
pub(crate) fn date_time(ms: u64) -> String {
    // Days to a civil date: Howard Hinnant's `civil_from_days`.
    let days = i64::try_from(ms / 86_400_000).expect("u64::MAX ms are under 2^38 days") + 719_468;
    let era = days / 146_097;
    let doe = days - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!("{year:04}-{month:02}-{day:02} {}", time_of_day(ms))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_utc() {
        assert_eq!(date_time(0), "1970-01-01 00:00:00");
        assert_eq!(date_time(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(date_time(1_714_566_184_999), "2024-05-01 12:23:04");
        assert_eq!(time_of_day(1_714_566_184_999), "12:23:04");
    }

    #[test]
    fn bodies_read_as_one_line() {
        assert_eq!(one_line(&body(&Body::Text("a\nb".into()))), "a b");
        assert_eq!(
            body(&Body::Command {
                action: "ping".into()
            }),
            "[command ping]"
        );
    }
}
