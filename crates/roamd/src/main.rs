//! `roamd`: parse flags, load config, start logging, serve until SIGINT/SIGTERM.
use std::{io::IsTerminal, process::ExitCode};

use clap::Parser;
use roamd::{
    Server,
    config::{Cli, Config, LogFormat, unknown_env_vars},
};

#[tokio::main]
async fn main() -> ExitCode {
    match run().await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            // One line, the causes joined by ": " (anyhow's alternate form), instead of the
            // default `Error:` / `Caused by:` report that repeats each message.
            eprintln!("roamd: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let config = Config::load(&cli)?;
    if cli.print_config {
        print!("{}", config.to_toml());
        return Ok(());
    }
    init_logging(config.log_format);
    let unknown = unknown_env_vars(std::env::vars());
    if !unknown.is_empty() {
        tracing::warn!(
            variables = %unknown.join(", "),
            "ignoring ROAM_* environment variables that name no configuration key"
        );
    }
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

/// Logs to stderr, filtered by `RUST_LOG` (default `info`): text (coloured only on a
/// terminal, so redirected logs carry no escape codes) or JSON lines.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_writer(std::io::stderr)
        .with_env_filter(filter);
    match format {
        LogFormat::Text => builder.with_ansi(std::io::stderr().is_terminal()).init(),
        LogFormat::Json => builder.json().with_current_span(true).init(),
    }
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
    tracing::info!("shutting down");
}
