//! `roam`: a terminal client for Roam (and any server speaking Easemob IM's protocol), built
//! on the Rust SDK. Send messages, follow what arrives, and manage the server-side
//! conversation list and history.
//!
//! ```text
//! export ROAM_USER=alice ROAM_PASSWORD=pw
//! roam send bob "hello"
//! roam tail
//! roam conversations --all-pages
//! roam history bob --page-size 50 --json | jq '.messages[].id'
//! ROAM_CLIENT_ID=… ROAM_CLIENT_SECRET=… roam admin export alice > alice.jsonl
//! ```
//!
//! Readable output goes to stdout (`--json`: one JSON object per line, the SDK's types as
//! they serialize, ids as strings); errors go to stderr as one line, with exit code 1.
mod admin;
mod args;
mod output;
mod removal;
mod report;

use std::process::ExitCode;

use anyhow::{Context, bail};
use clap::Parser;
use roam_sdk::{
    ChatType, Client, ConversationQuery, Direction, Event, Events, HistoryQuery, Options, Outgoing,
};

use crate::{
    args::{Cli, Command},
    output::Output,
};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("roam: {}", report::error_line(&e));
            ExitCode::FAILURE
        }
    }
}

/// Logs in, runs the command, and logs out again (also when the command failed).
async fn run(cli: Cli) -> anyhow::Result<()> {
    let out = Output::new(cli.json);
    let command = match cli.command {
        Command::Admin(args) => return admin::run(&cli.server, &cli.app_key, args, &out).await,
        command => command,
    };
    let user = cli.user.context("give the user: --user or ROAM_USER")?;
    let mut options = match (&cli.token, &cli.password) {
        (Some(token), _) => Options::token(&cli.server, &cli.app_key, &user, token),
        (None, Some(password)) => Options::password(&cli.server, &cli.app_key, &user, password),
        (None, None) => {
            bail!("give a password or a token: --password, --token, ROAM_PASSWORD or ROAM_TOKEN")
        }
    };
    if let Some(resource) = &cli.resource {
        options = options.with_resource(resource);
    }
    let login = || format!("logging in to {} as {user}", cli.server);
    // Only sending, reading acks and tailing need a connected device; everything else is a
    // REST call and registers no device.
    let connected = matches!(
        command,
        Command::Send { .. } | Command::Tail { .. } | Command::Read { .. }
    );
    let (client, events) = if connected {
        let (client, events) = Client::open(options).await.with_context(login)?;
        (client, Some(events))
    } else {
        (Client::open_rest(options).await.with_context(login)?, None)
    };
    let result = execute(&client, events, command, &out).await;
    client.close().await;
    result
}

async fn execute(
    client: &Client,
    events: Option<Events>,
    command: Command,
    out: &Output,
) -> anyhow::Result<()> {
    match command {
        Command::Send { to, text, kind } => {
            let chat_type = kind.chat_type();
            if chat_type == ChatType::ChatRoom {
                client
                    .join_chat_room(&to)
                    .await
                    .with_context(|| format!("joining chat room {to}"))?;
            }
            let sent = client
                .send(&Outgoing::text(chat_type, to.as_str(), text))
                .await
                .with_context(|| format!("sending to {to}"))?;
            out.sent(&sent)
        }
        Command::Tail { join } => {
            let events = events.context("tail needs a connection")?;
            tail(client, events, &join, out).await
        }
        Command::Conversations {
            pinned,
            mark,
            page_size,
            cursor,
            all_pages,
        } => {
            let mut query = ConversationQuery {
                page_size,
                cursor,
                ..Default::default()
            };
            let mut pages = Vec::new();
            loop {
                let page = match (pinned, mark) {
                    (true, _) => client.get_server_pinned_conversations(&query).await,
                    (_, Some(mark)) => client.get_server_conversations_by_mark(mark, &query).await,
                    _ => client.get_server_conversations(&query).await,
                }
                .context("listing conversations")?;
                query.cursor.clone_from(&page.cursor);
                pages.push(page);
                if !all_pages || query.cursor.is_none() {
                    return out.conversations(&pages);
                }
            }
        }
        Command::History {
            target,
            kind,
            down,
            page_size,
            cursor,
        } => {
            let mut query = HistoryQuery::new(kind.chat_type(), &target)
                .page_size(page_size)
                .direction(if down { Direction::Down } else { Direction::Up });
            query.cursor = cursor;
            let page = client
                .get_history_messages(&query)
                .await
                .with_context(|| format!("reading the history with {target}"))?;
            out.history(&page)
        }
        Command::Pin { target, kind, off } => {
            let state = client
                .pin_conversation(&target, kind.chat_type(), !off)
                .await
                .with_context(|| format!("pinning {target}"))?;
            out.pinned(&target, &state)
        }
        Command::Mark {
            target,
            mark,
            kind,
            off,
        } => {
            let conversation = [(target.as_str(), kind.chat_type())];
            let ignored = if off {
                client.remove_conversation_mark(&conversation, mark).await
            } else {
                client.add_conversation_mark(&conversation, mark).await
            }
            .with_context(|| format!("marking {target}"))?;
            if !ignored.is_empty() {
                bail!("no conversation with {target}: mark {mark} not changed");
            }
            out.done(if off {
                format!("mark {mark} taken off {target}")
            } else {
                format!("mark {mark} put on {target}")
            })
        }
        Command::Delete {
            target,
            kind,
            with_history,
        } => {
            client
                .delete_conversation(&target, kind.chat_type(), with_history)
                .await
                .with_context(|| format!("deleting the conversation with {target}"))?;
            out.done(if with_history {
                format!("deleted the conversation with {target} and its history")
            } else {
                format!("deleted the conversation with {target}")
            })
        }
        Command::DeleteMessages {
            target,
            kind,
            which,
        } => match which.before {
            Some(ms) => removal::delete_before(client, &target, kind.chat_type(), ms, out).await,
            None => removal::delete_ids(client, &target, kind.chat_type(), &which.ids, out).await,
        },
        Command::Admin(_) => bail!("admin commands take no user login"),
        Command::Read { target, kind } => {
            client
                .send_conversation_read_ack(kind.chat_type(), &target)
                .await
                .with_context(|| format!("marking {target} read"))?;
            out.done(format!("marked the conversation with {target} read"))
        }
    }
}

/// Prints events until Ctrl-C, or until the connection gives up.
async fn tail(
    client: &Client,
    mut events: Events,
    rooms: &[String],
    out: &Output,
) -> anyhow::Result<()> {
    for room in rooms {
        client
            .join_chat_room(room)
            .await
            .with_context(|| format!("joining chat room {room}"))?;
    }
    eprintln!(
        "listening as {} (device {}); Ctrl-C to stop",
        client.user(),
        client.resource()
    );
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => return Ok(()),
        };
        let Some(event) = event else {
            bail!("the connection closed");
        };
        out.event(&event)?;
        if let Event::Disconnected {
            reason,
            will_retry: false,
        } = event
        {
            bail!("the server refused to reconnect: {reason}");
        }
    }
}
