use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use sluice::cli::{Cli, Command, MappingsCommand, SimulateArgs, TokenArgs};
use sluice::config::{Config, DatabaseConfig, Env};
use sluice::{db, serve, sim, telemetry};

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    telemetry::init(telemetry::format_from_env());
    match run(cli.command).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "sluice stopped with an error");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve => {
            let cfg = Config::from_env(&Env::from_process())?;
            sluice::observe::set_log_payloads(cfg.log_payloads);
            let listener = tokio::net::TcpListener::bind(("0.0.0.0", cfg.port))
                .await
                .with_context(|| format!("cannot listen on port {} (PORT)", cfg.port))?;
            let pool = db::connect(&cfg.database).await?;
            let shutdown = CancellationToken::new();
            serve::cancel_on_signal(shutdown.clone());
            let result = serve::run(cfg, pool.clone(), listener, shutdown).await;
            pool.close().await;
            result
        }
        Command::Migrate => {
            let cfg = DatabaseConfig::from_env(&Env::from_process())?;
            let pool = db::connect(&cfg).await?;
            db::migrate(&pool).await?;
            tracing::info!("migrations applied");
            Ok(())
        }
        Command::SimulateSalesforce(args) => simulate(args).await,
        Command::Token(args) => {
            println!("{}", mint(&args)?);
            Ok(())
        }
        Command::Mappings(args) => match args.command {
            MappingsCommand::Check { dir } => {
                let report = sluice::normalize::command::check(&dir, &Env::from_process()).await?;
                print!("{report}");
                Ok(())
            }
            MappingsCommand::Try {
                source,
                object,
                file,
                dir,
                json,
            } => {
                let env = Env::from_process();
                let tried =
                    sluice::ingest::try_file::run(&dir, &source, &object, &file, &env).await?;
                match json {
                    true => println!("{}", serde_json::to_string_pretty(&tried.preview)?),
                    false => print!("{}", sluice::ingest::try_file::render(&tried)),
                }
                let p = &tried.preview;
                anyhow::ensure!(
                    p.refused == 0,
                    "{} of {} record(s) would be refused",
                    p.refused,
                    p.records.len()
                );
                Ok(())
            }
        },
        Command::Status(args) => {
            let text = sluice::ops::status_text(&ops_pool().await?, args.failures).await?;
            print!("{text}");
            Ok(())
        }
        Command::Retry(args) => {
            let n = sluice::ops::retry(&ops_pool().await?, &args).await?;
            println!("re-queued {n} failed record(s)");
            Ok(())
        }
        Command::Discard(args) => {
            let n = sluice::ops::discard(&ops_pool().await?, &args).await?;
            println!("discarded {n} failed record(s)");
            Ok(())
        }
        Command::Replay(args) => {
            let n = sluice::ops::replay(&ops_pool().await?, &args).await?;
            println!(
                "re-queued {n} {} record(s) received in [{}, {})",
                args.object, args.from, args.to
            );
            Ok(())
        }
    }
}

/// The pool of an operator command: DATABASE_URL (and its pool and TLS settings) only.
async fn ops_pool() -> anyhow::Result<sqlx::PgPool> {
    let cfg = DatabaseConfig::from_env(&Env::from_process())?;
    db::connect(&cfg).await
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let mut cfg = sim::SimConfig::dev();
    cfg.client_id = args.client_id;
    cfg.username = args.username;
    cfg.daily_api_limit = args.daily_limit;
    cfg.token_ttl = std::time::Duration::from_secs(args.token_ttl_secs);
    if let Some(path) = args.public_key {
        cfg.public_key_pem = std::fs::read_to_string(&path)
            .with_context(|| format!("reading {}", path.display()))?;
    }
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", args.port))
        .await
        .with_context(|| format!("cannot listen on 127.0.0.1:{}", args.port))?;
    tracing::info!(url = %format!("http://127.0.0.1:{}", args.port), "Salesforce simulator listening");
    let shutdown = CancellationToken::new();
    serve::cancel_on_signal(shutdown.clone());
    sim::run(cfg, listener, shutdown).await?;
    Ok(())
}

fn mint(args: &TokenArgs) -> anyhow::Result<String> {
    if args.secret.len() < sluice::auth::MIN_HMAC_SECRET_BYTES {
        anyhow::bail!(
            "--secret must be at least {} bytes, like the key it matches",
            sluice::auth::MIN_HMAC_SECRET_BYTES
        );
    }
    Ok(sluice::auth::testing::mint(
        &sluice::auth::testing::MintRequest {
            secret: &args.secret,
            kid: args.kid.as_deref(),
            issuer: &args.issuer,
            audience: &args.audience,
            subject: &args.subject,
            scopes: &args.scopes,
            ttl: std::time::Duration::from_secs(args.ttl_secs),
        },
    ))
}
