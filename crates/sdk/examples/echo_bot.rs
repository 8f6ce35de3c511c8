//! An echo bot: logs in and answers every text message with `echo: <text>`, in the same
//! conversation (to the sender of a single chat, or into the group or chat room).
//!
//! Run it against a local roamd, then write to the bot from another client:
//!
//! ```text
//! cargo run -p roam-sdk --example echo_bot -- --user bot --password pw
//! # or: ROAM_SERVER=http://127.0.0.1:5280 ROAM_APP_KEY=roam#demo ROAM_USER=bot \
//! #     ROAM_PASSWORD=pw cargo run -p roam-sdk --example echo_bot
//! ```
//!
//! Flags (each with an environment variable): `--server URL` (`ROAM_SERVER`, default
//! `http://127.0.0.1:5280`), `--app-key org#app` (`ROAM_APP_KEY`, default `roam#demo`),
//! `--user U` (`ROAM_USER`), `--password P` (`ROAM_PASSWORD`). Stop it with Ctrl-C.
use anyhow::{Context, bail};
use roam_sdk::{Body, ChatType, Client, Event, Options, Outgoing};

/// `--server`, `--app-key`, `--user`, `--password`, else the environment, else defaults.
fn options() -> anyhow::Result<Options> {
    let mut server = std::env::var("ROAM_SERVER").unwrap_or("http://127.0.0.1:5280".into());
    let mut app_key = std::env::var("ROAM_APP_KEY").unwrap_or("roam#demo".into());
    let mut user = std::env::var("ROAM_USER").ok();
    let mut password = std::env::var("ROAM_PASSWORD").ok();
    let mut args = std::env::args().skip(1);
    while let Some(flag) = args.next() {
        let value = args
            .next()
            .with_context(|| format!("{flag} needs a value"))?;
        match flag.as_str() {
            "--server" => server = value,
            "--app-key" => app_key = value,
            "--user" => user = Some(value),
            "--password" => password = Some(value),
            _ => bail!("unknown flag {flag} (try --server, --app-key, --user, --password)"),
        }
    }
    let user = user.context("give --user or ROAM_USER")?;
    let password = password.context("give --password or ROAM_PASSWORD")?;
    Ok(Options::password(&server, &app_key, &user, &password))
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = options()?;
    let (client, mut events) = Client::open(options.clone())
        .await
        .with_context(|| format!("logging in to {} as {}", options.api_url, options.user))?;
    println!(
        "logged in as {} (device {}); Ctrl-C to stop",
        client.user(),
        client.resource()
    );
    loop {
        let event = tokio::select! {
            event = events.recv() => event,
            _ = tokio::signal::ctrl_c() => break,
        };
        match event {
            Some(Event::Message(m)) => answer(&client, &m).await,
            Some(Event::Disconnected { reason, will_retry }) => {
                println!("disconnected: {reason}");
                if !will_retry {
                    bail!("the server refused to take the bot back: {reason}");
                }
            }
            Some(Event::Reconnected) => println!("reconnected"),
            Some(_) => {}
            None => bail!("the connection closed"),
        }
    }
    client.close().await;
    println!("bye");
    Ok(())
}

/// Echoes a text message back into its conversation; skips everything else, including what
/// this user sent from another device.
async fn answer(client: &Client, m: &roam_sdk::Message) {
    let Body::Text(text) = &m.body else {
        println!("{} sent a {:?} message, not text: skipped", m.from, m.body);
        return;
    };
    if m.from == client.user() {
        return;
    }
    // Reply where it came from: to the sender of a single chat, else to the group or room.
    let to = match m.chat_type {
        ChatType::Single => &m.from,
        ChatType::Group | ChatType::ChatRoom => &m.to,
    };
    let reply = Outgoing::text(m.chat_type, to.as_str(), format!("echo: {text}"));
    match client.send(&reply).await {
        Ok(sent) => println!("{} said {text:?}: echoed as message {}", m.from, sent.id),
        Err(e) => eprintln!("could not answer {}: {e}", m.from),
    }
}
