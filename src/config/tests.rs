use super::*;

const KEY: &str = include_str!("../../dev/salesforce-dev-key.pem");
const AUTH: &str = r#"{"keys":[{"kid":"t","alg":"HS256","secret":"0123456789abcdef0123456789abcdef"}],"issuers":["sluice-tests"],"audience":"sluice"}"#;

fn base() -> Vec<(&'static str, &'static str)> {
    vec![
        ("DATABASE_URL", "postgres://localhost/sluice"),
        ("SALESFORCE_CLIENT_ID", "client"),
        ("SALESFORCE_USERNAME", "user@example.com"),
        ("SALESFORCE_PRIVATE_KEY", KEY),
        ("SLUICE_AUTH_KEYS", AUTH),
    ]
}

fn load(extra: &[(&'static str, &'static str)]) -> Result<Config, ConfigError> {
    let mut pairs = base();
    pairs.retain(|(k, _)| !extra.iter().any(|(e, _)| e == k));
    pairs.extend_from_slice(extra);
    Config::from_env(&Env::from_pairs(pairs))
}

#[test]
fn defaults_fit_heroku() {
    let cfg = load(&[]).expect("valid");
    assert_eq!(cfg.port, 8080);
    assert_eq!(cfg.database.pool_size, 5);
    assert_eq!(cfg.database.ssl_mode, "prefer");
    assert_eq!(
        cfg.salesforce.login_url.as_str(),
        "https://login.salesforce.com/"
    );
    assert_eq!(cfg.salesforce.audience, "https://login.salesforce.com");
    assert!(cfg.shutdown_grace < Duration::from_secs(30));
    assert_eq!(cfg.log.format, LogFormat::Logfmt);
    assert_eq!(cfg.catalog.iter().count(), 3);
}

#[test]
fn every_required_variable_is_named_when_missing() {
    for name in base().iter().map(|(k, _)| *k) {
        let pairs: Vec<_> = base().into_iter().filter(|(k, _)| *k != name).collect();
        match Config::from_env(&Env::from_pairs(pairs)) {
            Err(ConfigError::Missing(missing)) => assert_eq!(missing, name),
            other => panic!("{name}: expected Missing, got {other:?}"),
        }
    }
}

#[test]
fn malformed_values_are_named() {
    let cases: &[(&'static str, &'static str)] = &[
        ("PORT", "eighty"),
        ("DATABASE_URL", "mysql://x"),
        ("DATABASE_POOL_SIZE", "0"),
        ("DATABASE_SSL_MODE", "sometimes"),
        ("SALESFORCE_LOGIN_URL", "not a url"),
        ("SALESFORCE_PRIVATE_KEY", "not a pem"),
        ("SALESFORCE_API_VERSION", "sixty"),
        ("SLUICE_AUTH_KEYS", "{}"),
        ("SALESFORCE_MAX_CALLS_PER_SECOND", "0"),
        ("SALESFORCE_DAILY_BUDGET_PERCENT", "101"),
        ("SLUICE_SHUTDOWN_GRACE_SECS", "40"),
        ("SLUICE_MAPPINGS_DIR", "/nonexistent"),
        ("SLUICE_DESCRIBE_MAX_AGE_HOURS", "0"),
        ("LOG_FORMAT", "xml"),
        ("PUSH_ENABLED", "maybe"),
        ("SLUICE_WEBHOOKS", "[\"not an object\"]"),
        (
            "SLUICE_WEBHOOKS",
            "{\"nobody\": \"a-secret-of-enough-bytes\"}",
        ),
        ("PULL_ENABLED", "sometimes"),
        ("PULL_LEASE_SECS", "0"),
    ];
    for &(name, value) in cases {
        match load(&[(name, value)]) {
            Err(ConfigError::Invalid { name: got, .. }) => assert_eq!(got, name, "{value}"),
            other => panic!("{name}={value}: expected Invalid, got {other:?}"),
        }
    }
}

#[test]
fn a_pem_with_escaped_newlines_is_accepted() {
    let escaped = KEY.replace('\n', "\\n");
    let escaped: &'static str = Box::leak(escaped.into_boxed_str());
    let cfg = load(&[("SALESFORCE_PRIVATE_KEY", escaped)]).expect("valid");
    use secrecy::ExposeSecret;
    assert!(
        cfg.salesforce
            .private_key_pem
            .expose_secret()
            .contains("\n")
    );
}

#[test]
fn debug_output_shows_no_secret() {
    let cfg = load(&[]).expect("valid");
    let shown = format!("{cfg:?}");
    assert!(!shown.contains("PRIVATE KEY"), "{shown}");
    assert!(!shown.contains("0123456789abcdef"), "{shown}");
    assert!(!shown.contains("postgres://localhost"), "{shown}");
}

/// Every variable the code reads is documented where users look: the README's configuration
/// table, `.env.example`, and `app.json` (but `PORT` and `DATABASE_URL`, which Heroku sets).
#[test]
fn every_variable_read_is_in_the_readme_env_example_and_app_json() {
    let env = Env::from_pairs(base());
    Config::from_env(&env).expect("valid");
    let names = env.names_read();
    assert!(names.len() > 20, "{names:?}");
    let root = env!("CARGO_MANIFEST_DIR");
    let read = |file: &str| std::fs::read_to_string(format!("{root}/{file}")).expect(file);
    let readme = read("README.md");
    let example = read(".env.example");
    let app: serde_json::Value = serde_json::from_str(&read("app.json")).expect("app.json");
    for name in &names {
        assert!(
            readme.contains(&format!("| `{name}` |")),
            "{name} is not in README's table"
        );
        assert!(
            example.contains(&format!("{name}=")),
            "{name} is not in .env.example"
        );
        if !["PORT", "DATABASE_URL", "DYNO"].contains(&name.as_str()) {
            assert!(app["env"].get(name).is_some(), "{name} is not in app.json");
        }
    }
}

#[test]
fn cors_origins_are_bare_origins() {
    assert_eq!(
        parse_cors_origins(" https://app.example.com, http://localhost:3000 ,").unwrap(),
        ["https://app.example.com", "http://localhost:3000"]
    );
    for bad in [
        "*",
        "https://app.example.com/path",
        "ftp://x.example",
        "app.example.com",
    ] {
        assert!(parse_cors_origins(bad).is_err(), "{bad}");
    }
}

/// A folder with one mapping file, for the tests of `[webhook]` and `[pull]`.
fn source_dir(name: &str, text: &str) -> &'static str {
    let dir = std::env::temp_dir().join(format!("sluice-config-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join(format!("{name}.toml")), text).unwrap();
    Box::leak(dir.to_string_lossy().into_owned().into_boxed_str())
}

const OBJECT: &str = "[objects.Contact]\nexternal_id = \"External_Id__c\"\n[objects.Contact.fields]\nExternal_Id__c = { from = \"id\" }\n";

#[test]
fn a_webhook_or_pull_names_the_variable_it_misses_and_the_file_that_asked() {
    let hook = source_dir(
        "hook",
        &format!(
            "source = \"hook\"\n[webhook]\nscheme = \"github\"\nsecrets_env = \"HOOK_SECRETS\"\n{OBJECT}"
        ),
    );
    match load(&[("SLUICE_MAPPINGS_DIR", hook)]) {
        Err(ConfigError::MissingNamed { name, by }) => {
            assert_eq!(name, "HOOK_SECRETS");
            assert!(by.contains("hook.toml") && by.contains("[webhook]"), "{by}");
        }
        other => panic!("expected MissingNamed, got {other:?}"),
    }
    let cfg = load(&[
        ("SLUICE_MAPPINGS_DIR", hook),
        (
            "HOOK_SECRETS",
            "first-secret-0123456789, second-secret-0123456789",
        ),
    ])
    .expect("valid");
    assert_eq!(cfg.webhooks.get("hook").unwrap().secrets.len(), 2);
    assert!(
        !format!("{cfg:?}").contains("first-secret"),
        "secrets stay secret"
    );
    let short = load(&[("SLUICE_MAPPINGS_DIR", hook), ("HOOK_SECRETS", "short")]);
    assert!(
        matches!(short, Err(ConfigError::Invalid { name: "SLUICE_MAPPINGS_DIR", reason }) if reason.contains("too short"))
    );

    let pull = source_dir(
        "pull",
        &format!(
            "source = \"pull\"\n[pull]\nurl = \"https://api.example.com/x\"\nevery = \"fortnightly\"\n{OBJECT}"
        ),
    );
    match load(&[("SLUICE_MAPPINGS_DIR", pull)]) {
        Err(ConfigError::Invalid { reason, .. }) => {
            assert!(
                reason.contains("pull.toml") && reason.contains("every"),
                "{reason}"
            )
        }
        other => panic!("expected Invalid, got {other:?}"),
    }
}
