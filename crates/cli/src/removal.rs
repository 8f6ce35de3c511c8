//! `delete-messages`, checked: the server's answer to a one-way delete says only "success",
//! also when an id matched nothing (Easemob's API does the same). So `roam` looks the ids up
//! in the history first, deletes those it found, checks that they are gone, and reports the
//! rest as not found (exit code 1) instead of claiming a delete that did not happen.
use std::collections::BTreeSet;

use anyhow::{Context, bail};
use roam_sdk::{ChatType, Client, Direction, HistoryQuery, MAX_PAGE_SIZE, Removal};

use crate::output::Output;

/// Deletes the messages `ids` of the conversation with `target` for this user.
pub(crate) async fn delete_ids(
    client: &Client,
    target: &str,
    chat_type: ChatType,
    ids: &[u64],
    out: &Output,
) -> anyhow::Result<()> {
    let wanted: BTreeSet<u64> = ids.iter().copied().collect();
    let found = visible(client, target, chat_type, &wanted).await?;
    let missing: Vec<String> = wanted.difference(&found).map(u64::to_string).collect();
    if found.is_empty() {
        bail!(
            "no message {} in the conversation with {target}: nothing deleted",
            missing.join(", ")
        );
    }
    client
        .remove_history_messages(
            target,
            chat_type,
            &Removal::Ids(found.iter().copied().collect()),
        )
        .await
        .with_context(|| format!("deleting messages with {target}"))?;
    let kept = visible(client, target, chat_type, &found).await?;
    if !kept.is_empty() {
        let kept: Vec<String> = kept.iter().map(u64::to_string).collect();
        bail!(
            "the server answered success but message {} with {target} is still there",
            kept.join(", ")
        );
    }
    out.deleted(target, &found)?;
    if !missing.is_empty() {
        bail!(
            "no message {} in the conversation with {target}: not deleted",
            missing.join(", ")
        );
    }
    Ok(())
}

/// Deletes every message of the conversation at or before `ms`, if there is one.
pub(crate) async fn delete_before(
    client: &Client,
    target: &str,
    chat_type: ChatType,
    ms: u64,
    out: &Output,
) -> anyhow::Result<()> {
    let mut query = HistoryQuery::new(chat_type, target).page_size(1);
    query.end_time = Some(ms);
    let page = client
        .get_history_messages(&query)
        .await
        .with_context(|| format!("reading the history with {target}"))?;
    if page.messages.is_empty() {
        bail!("no message with {target} at or before {ms}: nothing deleted");
    }
    client
        .remove_history_messages(target, chat_type, &Removal::Before(ms))
        .await
        .with_context(|| format!("deleting messages with {target}"))?;
    out.done(format!("deleted the messages up to {ms} with {target}"))
}

/// Which of `ids` this user still sees in the conversation. Pages back from the newest and
/// stops once all are found or the pages pass the oldest of them (message ids grow with
/// time).
async fn visible(
    client: &Client,
    target: &str,
    chat_type: ChatType,
    ids: &BTreeSet<u64>,
) -> anyhow::Result<BTreeSet<u64>> {
    let mut found = BTreeSet::new();
    let Some(&oldest) = ids.first() else {
        return Ok(found);
    };
    let mut query = HistoryQuery::new(chat_type, target)
        .page_size(MAX_PAGE_SIZE)
        .direction(Direction::Up);
    loop {
        let page = client
            .get_history_messages(&query)
            .await
            .with_context(|| format!("reading the history with {target}"))?;
        found.extend(
            page.messages
                .iter()
                .map(|m| m.id)
                .filter(|id| ids.contains(id)),
        );
        match page.cursor {
            Some(cursor) if !page.is_last && cursor > oldest && found.len() < ids.len() => {
                query = query.after(cursor);
            }
            _ => return Ok(found),
        }
    }
}
