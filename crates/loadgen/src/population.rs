//! The simulated users: registered through the admin API, logged in once each (a password
//! login costs the server an argon2 hash, ~45 ms of CPU), then as many devices per user as a
//! scenario needs, opened with that one token (no further hashing).
use futures::{StreamExt, stream};
use roam_sdk::{Admin, Client, Events, Options};

use crate::server::{APP_KEY, Roamd};

/// The password of every user registered here.
pub const PASSWORD: &str = "loadgen-pw";

/// Registrations and password logins in flight at once: the server hashes on a few threads
/// and answers 503 beyond its queue (64 by default).
const HASHING_AT_ONCE: usize = 16;
/// Token logins (WebSocket handshakes) in flight at once.
const CONNECTING_AT_ONCE: usize = 128;

/// One logged-in device and its events.
pub struct Device {
    pub client: Client,
    pub events: Events,
}

/// Registers `n` users named `{prefix}{i}` and answers their names.
pub async fn register(admin: &Admin, prefix: &str, n: usize) -> anyhow::Result<Vec<String>> {
    let names: Vec<String> = (0..n).map(|i| format!("{prefix}{i}")).collect();
    let results: Vec<Result<(), roam_sdk::Error>> = stream::iter(names.iter())
        .map(|name| async move {
            admin.create_user(name, PASSWORD, None).await?;
            Ok(())
        })
        .buffer_unordered(HASHING_AT_ONCE)
        .collect()
        .await;
    for r in results {
        r?;
    }
    Ok(names)
}

/// Logs each user in with the password (one device each), in the order given.
pub async fn login(server: &Roamd, users: &[String]) -> anyhow::Result<Vec<Device>> {
    login_spread(std::slice::from_ref(server), users, 0).await
}

/// Logs each user in with the password (one device each), in the order given, round-robin
/// over `nodes`: user `i` on node `(first + i) % nodes.len()`.
pub async fn login_spread(
    nodes: &[Roamd],
    users: &[String],
    first: usize,
) -> anyhow::Result<Vec<Device>> {
    anyhow::ensure!(!nodes.is_empty(), "no node to log in on");
    let results: Vec<Result<Device, roam_sdk::Error>> = stream::iter(users.iter().enumerate())
        .map(|(i, u)| async move {
            let url = &nodes[(first + i) % nodes.len()].url;
            let (client, events) =
                Client::open(Options::password(url, APP_KEY, u, PASSWORD)).await?;
            Ok(Device { client, events })
        })
        .buffered(HASHING_AT_ONCE)
        .collect()
        .await;
    Ok(results.into_iter().collect::<Result<_, _>>()?)
}

/// Opens `n` more devices of the user `first` is logged in as, with its token.
pub async fn more_devices(server: &Roamd, first: &Client, n: usize) -> anyhow::Result<Vec<Device>> {
    let (user, token) = (first.user().to_owned(), first.token().to_owned());
    let results: Vec<Result<Device, roam_sdk::Error>> = stream::iter(0..n)
        .map(|_| {
            let (user, token) = (user.clone(), token.clone());
            async move {
                let (client, events) =
                    Client::open(Options::token(&server.url, APP_KEY, &user, &token)).await?;
                Ok(Device { client, events })
            }
        })
        .buffer_unordered(CONNECTING_AT_ONCE)
        .collect()
        .await;
    Ok(results.into_iter().collect::<Result<_, _>>()?)
}
