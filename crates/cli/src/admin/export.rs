//! `roam admin export USER`: everything the server keeps for one user, as JSON lines on
//! stdout — the answer to a data access request. Each line is one JSON object whose `record`
//! says what it is:
//!
//! - `profile`: the user (username, nickname, created, activated);
//! - `conversation`: one conversation as the user sees it (id, chat_type, unread, pinned,
//!   pinned_time, marks, last_message), conversations whose messages the user all deleted
//!   included;
//! - `message`: one message of a conversation (`conversation` names it), oldest first, as
//!   the user sees it (what they deleted is gone for them and not exported);
//! - `unavailable`: a conversation whose history could not be read (e.g. a group the user
//!   has left), with the reason;
//! - `end`: the last line, with the counts written, so that a cut-off export shows.
//!
//! Ids are strings (they pass 2^53).
use anyhow::Context;
use roam_sdk::{Admin, ConversationQuery, Direction, Error, HistoryQuery, MAX_PAGE_SIZE};
use serde::Serialize;
use serde_json::{Value, json};

/// Writes one record: `value`'s fields with `record` (and `extra`) added.
fn record(kind: &str, value: &impl Serialize, extra: &[(&str, Value)]) -> anyhow::Result<()> {
    let mut v = serde_json::to_value(value)?;
    let object = v
        .as_object_mut()
        .context("an exported record is a JSON object")?;
    object.insert("record".into(), kind.into());
    for (k, x) in extra {
        object.insert((*k).to_owned(), x.clone());
    }
    println!("{}", serde_json::to_string(&v)?);
    Ok(())
}

pub(crate) async fn export(admin: &Admin, user: &str) -> anyhow::Result<()> {
    let profile = admin
        .user(user)
        .await
        .with_context(|| format!("reading user {user}"))?;
    record("profile", &profile, &[])?;
    let client = admin.as_user(&profile.username).await?;

    let mut conversations = Vec::new();
    let mut query = ConversationQuery {
        page_size: MAX_PAGE_SIZE,
        include_empty: true,
        ..Default::default()
    };
    loop {
        let page = client
            .get_server_conversations(&query)
            .await
            .with_context(|| format!("listing the conversations of {user}"))?;
        for c in &page.conversations {
            record("conversation", c, &[])?;
        }
        conversations.extend(page.conversations);
        match page.cursor {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }

    let (mut messages, mut unavailable) = (0_u64, 0_u64);
    for c in &conversations {
        let mut query = HistoryQuery::new(c.chat_type, &c.id)
            .page_size(MAX_PAGE_SIZE)
            .direction(Direction::Down);
        loop {
            let page = match client.get_history_messages(&query).await {
                Ok(page) => page,
                Err(e @ (Error::NotMember(_) | Error::Forbidden(_) | Error::NotFound(_))) => {
                    eprintln!("roam: the history with {} is not available: {e}", c.id);
                    let reason = json!(e.to_string());
                    record(
                        "unavailable",
                        &json!({ "conversation": c.id, "chat_type": c.chat_type }),
                        &[("reason", reason)],
                    )?;
                    unavailable += 1;
                    break;
                }
                Err(e) => {
                    return Err(e).with_context(|| format!("reading the history with {}", c.id));
                }
            };
            for m in &page.messages {
                record("message", m, &[("conversation", json!(c.id))])?;
                messages += 1;
            }
            match page.cursor {
                Some(cursor) if !page.is_last && !page.messages.is_empty() => {
                    query = query.after(cursor);
                }
                _ => break,
            }
        }
    }
    record(
        "end",
        &json!({
            "user": profile.username,
            "conversations": conversations.len(),
            "messages": messages,
            "unavailable": unavailable,
        }),
        &[],
    )
}
