use std::process::ExitCode;

use anyhow::Context;
use clap::Parser;
use tokio_util::sync::CancellationToken;

use sluice::cli::{Cli, Command, MappingsCommand, SimulateArgs, TokenArgs};
use sluice::config::{Config, DatabaseConfig, Env, LogConfig};
use sluice::{db, serve, sim, telemetry};

#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    match run(cli.command, Env::from_process()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = format!("{e:#}"), "sluice stopped with an error");
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command, env: Env) -> anyhow::Result<()> {
    // Every command reads its settings once, the logging settings first so that the rest is logged.
    let Command::Serve = command else {
        telemetry::init(LogConfig::from_env(&env)?.format);
        return run_tool(command, &env).await;
    };
    let cfg = Config::from_env(&env)?;
    telemetry::init(cfg.log.format);
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

/// Every command but `serve`.
async fn run_tool(command: Command, env: &Env) -> anyhow::Result<()> {
    match command {
        Command::Serve => anyhow::bail!("`serve` is not a tool command"),
        Command::Migrate => {
            let pool = db::connect(&DatabaseConfig::from_env(env)?).await?;
            db::migrate(&pool).await?;
            tracing::info!("migrations applied");
        }
        Command::SimulateSalesforce(args) => simulate(args).await?,
        Command::Token(args) => println!("{}", mint(&args)?),
        Command::Mappings(args) => match args.command {
            MappingsCommand::Check { dir } => {
                print!("{}", sluice::ops::mappings::check(&dir, env).await?);
            }
            MappingsCommand::Try {
                source,
                object,
                file,
                dir,
                json,
            } => {
                let tried =
                    sluice::ingest::try_file::run(&dir, &source, &object, &file, env).await?;
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
            }
        },
        Command::Status(args) => {
            let pool = ops_pool(env).await?;
            print!("{}", sluice::ops::status_text(&pool, args.failures).await?);
        }
        Command::Retry(args) => {
            let n = sluice::ops::retry(&ops_pool(env).await?, &args).await?;
            println!("re-queued {n} failed record(s)");
        }
        Command::Discard(args) => {
            let n = sluice::ops::discard(&ops_pool(env).await?, &args).await?;
            println!("discarded {n} failed record(s)");
        }
        Command::Pull(args) => {
            let (text, ok) = sluice::ops::pull::run(env, args.source.as_deref()).await?;
            print!("{text}");
            anyhow::ensure!(ok, "the pull did not complete");
        }
        Command::Replay(args) => {
            let n = sluice::ops::replay(&ops_pool(env).await?, &args).await?;
            println!(
                "re-queued {n} {} record(s) received in [{}, {})",
                args.object, args.from, args.to
            );
        }
    }
    Ok(())
}

/// The pool of an operator command: DATABASE_URL (and its pool and TLS settings) only.
async fn ops_pool(env: &Env) -> anyhow::Result<sqlx::PgPool> {
    db::connect(&DatabaseConfig::from_env(env)?).await
}

async fn simulate(args: SimulateArgs) -> anyhow::Result<()> {
    let mut cfg = sim::SimConfig::dev();
    cfg.client_id = args.client_id;
    cfg.username = args.username;
    cfg.daily_api_limit = args.daily_limit;
    cfg.token_ttl = std::time::Duration::from_secs(args.token_ttl_secs);
    cfg.max_calls_per_second = args.max_calls_per_second;
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
