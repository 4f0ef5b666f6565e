//! The `sluice` command line.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(name = "sluice", version, about = "A data hub for Salesforce", long_about = None)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the HTTP API and the push scheduler in one process (the Procfile's web dyno).
    ///
    /// Reads its configuration from the environment (PORT, DATABASE_URL, SALESFORCE_*,
    /// SLUICE_AUTH_KEYS, ...: see the README). Stops within 30 s of SIGTERM.
    Serve,
    /// Apply the database migrations (the Procfile's release phase). Reads DATABASE_URL.
    Migrate,
    /// Run the Salesforce simulator: token endpoint, REST, sObject Collections, Bulk API 2.0,
    /// limits and fault injection, as strict as Salesforce. For tests and local runs.
    SimulateSalesforce(SimulateArgs),
    /// Mint a short-lived HS256 token for a caller of the hub API (for local runs and scripts).
    Token(TokenArgs),
    /// Check the senders' mappings: the files parse, and, when SALESFORCE_* is set, every mapped
    /// field exists in the org's describe and can be written. Exits 1 on any problem.
    Mappings(MappingsArgs),
    /// Print the hub's figures: records by object and sync status, lag, the daily API budget and
    /// recent failures (what the status page at /admin shows). Reads DATABASE_URL only.
    Status(crate::ops::StatusArgs),
    /// Re-queue failed records, e.g. after fixing a validation rule in Salesforce. Reads
    /// DATABASE_URL only.
    Retry(crate::ops::FailureArgs),
    /// Give up on failed records; they stay in the table as `discarded` with their error, and a
    /// new change of the record queues it again. Reads DATABASE_URL only.
    Discard(crate::ops::FailureArgs),
    /// Push again the records of one object first received in a time range (e.g. after a
    /// sandbox refresh or a restore in Salesforce). Reads DATABASE_URL only.
    Replay(crate::ops::ReplayArgs),
    /// Without SOURCE: every scheduled pull with its last run. With SOURCE: run that pull now in
    /// this process (under the same lease as the dynos' scheduler) and print what it read;
    /// exits 1 when it failed or another process is running it. Reads DATABASE_URL, the
    /// mappings and the variables the pull names.
    Pull(PullArgs),
}

#[derive(Debug, clap::Args)]
pub struct PullArgs {
    /// The source whose pull to run now, e.g. `orders-api`.
    pub source: Option<String>,
}

#[derive(Debug, clap::Args)]
pub struct SimulateArgs {
    /// Port on 127.0.0.1.
    #[arg(long, env = "SIM_PORT", default_value_t = 8081)]
    pub port: u16,
    /// The connected app's consumer key the simulator accepts as the JWT issuer.
    #[arg(long, env = "SIM_CLIENT_ID", default_value = "sluice-dev-client")]
    pub client_id: String,
    /// The integration user the simulator accepts as the JWT subject.
    #[arg(long, env = "SIM_USERNAME", default_value = "integration@sluice.dev")]
    pub username: String,
    /// PEM public key verifying the JWT assertions (default: the repository's dev key).
    #[arg(long, env = "SIM_PUBLIC_KEY_FILE")]
    pub public_key: Option<PathBuf>,
    /// The org's daily API request allowance.
    #[arg(long, env = "SIM_DAILY_API_LIMIT", default_value_t = 15_000)]
    pub daily_limit: u64,
    /// How long an access token lives without use, in seconds.
    #[arg(long, env = "SIM_TOKEN_TTL_SECS", default_value_t = 7200)]
    pub token_ttl_secs: u64,
    /// Refuse REST calls past this many in any one second (403 REQUEST_LIMIT_EXCEEDED).
    #[arg(long, env = "SIM_MAX_CALLS_PER_SECOND")]
    pub max_calls_per_second: Option<u32>,
}

#[derive(Debug, clap::Args)]
pub struct TokenArgs {
    /// The shared HS256 secret (one of the HS256 keys in SLUICE_AUTH_KEYS).
    #[arg(long, env = "SLUICE_TOKEN_SECRET")]
    pub secret: String,
    /// Key id to put in the header (the `kid` of that key), if it has one.
    #[arg(long)]
    pub kid: Option<String>,
    /// Issuer claim; must be listed in SLUICE_AUTH_KEYS' issuers.
    #[arg(long, default_value = "sluice-dev")]
    pub issuer: String,
    /// Audience claim; must equal SLUICE_AUTH_KEYS' audience.
    #[arg(long, default_value = "sluice")]
    pub audience: String,
    /// Subject: who the caller is.
    #[arg(long, default_value = "local-developer")]
    pub subject: String,
    /// Space-separated scopes.
    #[arg(long, default_value = "records:write records:read sync:admin")]
    pub scopes: String,
    /// Lifetime in seconds.
    #[arg(long, default_value_t = 3600)]
    pub ttl_secs: u64,
}

#[derive(Debug, clap::Args)]
pub struct MappingsArgs {
    #[command(subcommand)]
    pub command: MappingsCommand,
}

#[derive(Debug, Subcommand)]
pub enum MappingsCommand {
    /// Load every mapping file and check it (against Salesforce's describe when SALESFORCE_* is
    /// configured: one describe call per object).
    Check {
        /// Folder of the mapping files.
        #[arg(long, env = "SLUICE_MAPPINGS_DIR", default_value = "mappings")]
        dir: PathBuf,
    },
    /// Run a sample file (JSON array, NDJSON, or a CSV export with a header row) through one
    /// mapping and show each record as Salesforce would receive it, or every reason it would be
    /// refused. Makes no Salesforce API call and stores nothing; with DATABASE_URL set, also
    /// checks against the describe the hub last read. Exits 1 when a record would be refused.
    Try {
        /// The sender whose mapping is tried.
        #[arg(long)]
        source: String,
        /// The Salesforce object (API name).
        #[arg(long)]
        object: String,
        /// The sample file.
        file: PathBuf,
        /// Folder of the mapping files.
        #[arg(long, env = "SLUICE_MAPPINGS_DIR", default_value = "mappings")]
        dir: PathBuf,
        /// Print the preview as JSON, as the preview endpoint answers it.
        #[arg(long)]
        json: bool,
    },
}
