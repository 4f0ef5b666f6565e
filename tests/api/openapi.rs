/// The committed document is what the code generates: regenerate it with
/// `SLUICE_UPDATE_OPENAPI=1 cargo test --test api openapi` after changing a route or schema.
#[test]
fn the_committed_openapi_document_matches_the_code() {
    let generated = sluice::http::openapi::document_json();
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/openapi/openapi.json");
    if std::env::var_os("SLUICE_UPDATE_OPENAPI").is_some() {
        std::fs::write(path, &generated).expect("write openapi/openapi.json");
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == generated,
        "openapi/openapi.json is stale: run SLUICE_UPDATE_OPENAPI=1 cargo test --test api openapi"
    );
}

#[tokio::test]
async fn the_served_document_is_the_committed_one() {
    let sim = crate::helpers::spawn_sim().await;
    let cfg = crate::helpers::config(&sim.url, &[]);
    let state = sluice::state::AppState {
        pool: sqlx::PgPool::connect_lazy("postgres://unused").unwrap(),
        catalog: std::sync::Arc::new(cfg.catalog.clone()),
        mappings: cfg.mappings.clone(),
        describes: Default::default(),
        max_stream_bytes: 1024,
        max_decompression_ratio: 100,
        inbox_max_records: 1_000_000,
        authenticator: sluice::auth::Authenticator::new(cfg.auth.clone()),
        max_body_bytes: 1024,
        webhooks: cfg.webhooks.clone(),
    };
    let app = sluice::http::router(state, &sluice::http::HttpSettings::from_config(&cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/openapi.json", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let served = reqwest::get(url).await.unwrap().text().await.unwrap();
    assert_eq!(served, sluice::http::openapi::document_json());
}
