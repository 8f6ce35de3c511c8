//! The README's example: log in, send, list conversations, read history, print what arrives
//! (messages, and a line for any other event) until Ctrl-C.
//! Run a server (`cargo run --release`), create alice and bob, then
//! `cargo run -p roam-sdk --example quickstart`. `ROAM_SERVER`, `ROAM_APP_KEY`, `ROAM_USER`,
//! `ROAM_PASSWORD` and `ROAM_PEER` change the defaults (`http://127.0.0.1:5280`, `roam#demo`,
//! alice, pw, bob).
use roam_sdk::{ChatType, Client, ConversationQuery, Event, HistoryQuery, Options, Outgoing};

#[tokio::main]
async fn main() -> Result<(), roam_sdk::Error> {
    let var = |name: &str, default: &str| std::env::var(name).unwrap_or_else(|_| default.into());
    let (server, app_key) = (
        var("ROAM_SERVER", "http://127.0.0.1:5280"),
        var("ROAM_APP_KEY", "roam#demo"),
    );
    let (user, password, peer) = (
        var("ROAM_USER", "alice"),
        var("ROAM_PASSWORD", "pw"),
        var("ROAM_PEER", "bob"),
    );
    let options = Options::password(&server, &app_key, &user, &password);
    let (client, mut events) = Client::open(options).await?;
    client
        .send(&Outgoing::text(
            ChatType::Single,
            &peer,
            format!("hello {peer}"),
        ))
        .await?;
    for c in client
        .get_server_conversations(&ConversationQuery::default())
        .await?
        .conversations
    {
        println!(
            "{} ({} unread): {:?}",
            c.id,
            c.unread,
            c.last_message.map(|m| m.body)
        );
    }
    let history = client
        .get_history_messages(&HistoryQuery::new(ChatType::Single, &peer))
        .await?;
    println!("{} messages with {peer}", history.messages.len());
    // Every event until the stream ends: messages, and also acks, other devices' changes,
    // group events and reconnects, which are not messages and must not end the loop.
    while let Some(event) = events.recv().await {
        match event {
            Event::Message(m) => println!("{}: {:?}", m.from, m.body),
            other => println!("(event: {other:?})"),
        }
    }
    Ok(())
}
