//! Dumps a user's whole conversation list, page by page: each conversation's id, type,
//! unread count, whether it is pinned, and its last message.
//!
//! ```text
//! cargo run -p roam-sdk --example conversations -- --user alice --password pw
//! # or: ROAM_SERVER=http://127.0.0.1:5280 ROAM_APP_KEY=roam#demo ROAM_USER=alice \
//! #     ROAM_PASSWORD=pw cargo run -p roam-sdk --example conversations
//! ```
//!
//! Flags (each with an environment variable): `--server URL` (`ROAM_SERVER`, default
//! `http://127.0.0.1:5280`), `--app-key org#app` (`ROAM_APP_KEY`, default `roam#demo`),
//! `--user U` (`ROAM_USER`), `--password P` (`ROAM_PASSWORD`).
use anyhow::{Context, bail};
use roam_sdk::{Body, Client, ConversationQuery, MAX_PAGE_SIZE, Options};

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
    // Only the REST API is used here; the event stream is not read.
    let (client, _events) = Client::open(options.clone())
        .await
        .with_context(|| format!("logging in to {} as {}", options.api_url, options.user))?;

    let mut query = ConversationQuery {
        page_size: MAX_PAGE_SIZE,
        ..Default::default()
    };
    let (mut pages, mut total) = (0, 0);
    loop {
        let page = client.get_server_conversations(&query).await?;
        pages += 1;
        total += page.conversations.len();
        println!("page {pages}: {} conversations", page.conversations.len());
        for c in &page.conversations {
            let last = c.last_message.as_ref().map_or(String::new(), |m| {
                let text = match &m.body {
                    Body::Text(t) => t.clone(),
                    other => format!("{other:?}"),
                };
                // One line per conversation, whatever the text holds.
                format!("{}: {}", m.from, text.replace(['\n', '\r'], " "))
            });
            println!(
                "  {:<20} {:<9} unread {:<4} {:<6} {last}",
                c.id,
                format!("{:?}", c.chat_type).to_lowercase(),
                c.unread,
                if c.pinned { "pinned" } else { "" },
            );
        }
        match page.cursor {
            Some(next) => query.cursor = Some(next),
            None => break,
        }
    }
    println!("{total} conversation(s) in {pages} page(s)");
    client.close().await;
    Ok(())
}
