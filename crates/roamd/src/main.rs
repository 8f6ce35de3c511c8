//! `roamd`: parse flags, load config, start logging, serve until SIGINT/SIGTERM.
use clap::Parser;
use roamd::{
    Server,
    config::{Cli, Config},
};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let config = Config::load(&Cli::parse())?;
    let server = Server::build(&config).await?;
    if let Some(c) = &server.generated_admin {
        println!(
            "roamd generated the admin credential (shown at each start until first used, then {} is deleted): client_id={} client_secret={}",
            c.file.display(),
            c.client_id,
            c.client_secret
        );
    }
    let addr = server.local_addr();
    tracing::info!(%addr, app_key = %config.app_key, data_dir = %config.data_dir.display(), "roamd listening");
    // Tests and scripts wait for this exact line on stdout.
    println!("roamd listening on {addr}");
    server.run(shutdown_signal()).await?;
    tracing::info!("roamd stopped");
    Ok(())
}

/// Completes on SIGINT or SIGTERM.
async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}
