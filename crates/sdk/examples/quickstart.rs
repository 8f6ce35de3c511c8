//! The README's example: log in, send, list conversations, read history, print what arrives.
//! Run a server (`cargo run --release`), create alice and bob, then
//! `cargo run -p roam-sdk --example quickstart`.
use roam_sdk::{ChatType, Client, ConversationQuery, Event, HistoryQuery, Options, Outgoing};

#[tokio::main]
async fn main() -> Result<(), roam_sdk::Error> {
    let options = Options::password("http://127.0.0.1:5280", "roam#demo", "alice", "pw");
    let (client, mut events) = Client::open(options).await?;
    client
        .send(&Outgoing::text(ChatType::Single, "bob", "hello bob"))
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
        .get_history_messages(&HistoryQuery::new(ChatType::Single, "bob"))
        .await?;
    println!("{} messages with bob", history.messages.len());
    while let Some(Event::Message(m)) = events.recv().await {
        println!("{}: {:?}", m.from, m.body);
    }
    Ok(())
}
