//! The benchmarks' load generator: posts deterministic Contacts to a running hub and checks what
//! reached the Salesforce simulator. Run by the scripts in `bench/`:
//!
//! ```sh
//! cargo run --release --example loadgen -- ingest --records 200000 --batch 500 --concurrency 4
//! cargo run --release --example loadgen -- steady --rate 100 --seconds 60 --sent .local/sent.tsv
//! cargo run --release --example loadgen -- lag --sent .local/sent.tsv
//! cargo run --release --example loadgen -- verify --accepted .local/accepted.tsv
//! ```
//!
//! Every command prints one JSON object on stdout; progress goes to stderr.

mod check;
mod send;

use clap::{Parser, Subcommand};
use serde_json::{Value, json};

#[derive(Parser)]
struct Cli {
    /// The hub.
    #[arg(
        long,
        env = "HUB_URL",
        default_value = "http://127.0.0.1:8080",
        global = true
    )]
    hub: String,
    /// A bearer token with `records:write`.
    #[arg(long, env = "HUB_TOKEN", default_value = "", global = true)]
    token: String,
    /// The Salesforce simulator.
    #[arg(
        long,
        env = "SIM_URL",
        default_value = "http://127.0.0.1:8081",
        global = true
    )]
    sim: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Post `records` Contacts as fast as `concurrency` senders can; report throughput and latency.
    Ingest(send::IngestArgs),
    /// Post at a steady rate, writing each record's send time (unix ms) to `sent`.
    Steady(send::SteadyArgs),
    /// Lag from send to arrival in the simulator, from `steady`'s file.
    Lag(check::LagArgs),
    /// Every accepted record in the simulator exactly once with its fields, or failed with a reason.
    Verify(check::VerifyArgs),
}

/// The `i`-th Contact of a run: the same on the sending and the checking side.
pub fn contact(prefix: &str, i: u64) -> Value {
    json!({
        "External_Id__c": format!("{prefix}-{i}"),
        "FirstName": format!("Marie{}", i % 997),
        "LastName": format!("Durand {i}"),
        "Email": format!("marie.durand.{i}@example.com"),
        "Phone": format!("+33 1 42 {:02} {:02} {:02}", i % 100, (i / 100) % 100, (i / 10_000) % 100),
        "LeadSource": "Web",
    })
}

/// Percentile of sorted values (nearest rank).
pub fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .build()?;
    let hub = send::Hub {
        http,
        url: cli.hub,
        token: cli.token,
    };
    let report = match cli.command {
        Command::Ingest(args) => send::ingest(&hub, args).await?,
        Command::Steady(args) => send::steady(&hub, args).await?,
        Command::Lag(args) => check::lag(&hub.http, &cli.sim, args).await?,
        Command::Verify(args) => check::verify(&hub.http, &cli.sim, args).await?,
    };
    println!("{report}");
    Ok(())
}
