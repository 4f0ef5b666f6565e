//! The status page for admins at `/admin`: server-rendered HTML with inline CSS, no scripts and no
//! external assets. Per object, counts by status and lag; the daily API budget and its last 24 h;
//! failed records with Salesforce's code and message, filterable, with retry and discard buttons;
//! recent Bulk API jobs. Not part of the OpenAPI document: it is for people, not programs.

mod failures_view;
mod html;
mod reads_view;
mod session;
mod sources_view;
mod view;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum::{Form, Router};
use serde::Deserialize;

pub use session::AdminSession;

use crate::observe::figures;
use crate::push::jobs;
use crate::salesforce::gate;
use crate::staging::{self, FailureFilter, Requeue};
use crate::state::AppState;
use html::esc;

/// The page has no scripts; inline styles only.
const CSP: &str = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; \
                   frame-ancestors 'none'; base-uri 'none'";
const FAILURES_SHOWN: i64 = 100;
const JOBS_SHOWN: i64 = 20;

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/admin", get(dashboard))
        .route(session::LOGIN_PATH, get(login_form).post(login))
        .route("/admin/logout", post(logout))
        .route("/admin/failures/retry", post(retry))
        .route("/admin/failures/discard", post(discard))
        .route("/admin/pulls/run", post(run_pull))
}

#[derive(Debug, Default, Deserialize)]
pub struct DashboardQuery {
    object: Option<String>,
    code: Option<String>,
    notice: Option<String>,
}

async fn dashboard(
    State(state): State<AppState>,
    session: AdminSession,
    Query(q): Query<DashboardQuery>,
) -> Response {
    let filter = FailureFilter {
        object: non_empty(q.object),
        code: non_empty(q.code),
        external_ids: None,
    };
    let read = async {
        Ok::<_, sqlx::Error>(view::Dashboard {
            now: chrono::Utc::now(),
            subject: session.caller.subject.clone(),
            csrf: session.csrf.clone(),
            notice: q.notice,
            objects: figures::per_object(&state.pool, &state.catalog).await?,
            usage: gate::usage(&state.pool).await?,
            history: gate::usage_history(&state.pool).await?,
            groups: staging::failure_groups(&state.pool).await?,
            failures: staging::list_failed(&state.pool, &filter, FAILURES_SHOWN).await?,
            jobs: jobs::recent(&state.pool, JOBS_SHOWN).await?,
            pulls: crate::sources::pulls::store::statuses(&state.pool).await?,
            reads: crate::read::store::statuses(&state.pool).await?,
            webhooks: crate::sources::webhooks::events::last_day(&state.pool).await?,
            filter_object: filter.object.clone(),
            filter_code: filter.code.clone(),
        })
    };
    match read.await {
        Ok(d) => html_response(StatusCode::OK, view::render(&d)),
        Err(e) => database_error(e),
    }
}

async fn login_form() -> Response {
    html_response(StatusCode::OK, login_page(None))
}

#[derive(Deserialize)]
struct LoginForm {
    token: String,
}

async fn login(
    State(state): State<AppState>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    if !session::same_origin(&headers) {
        return (StatusCode::FORBIDDEN, "cross-origin form refused").into_response();
    }
    let token = form.token.trim();
    match AdminSession::from_token(&state.authenticator, token) {
        Some(s) => {
            tracing::info!(subject = %s.caller.subject, "admin signed in to the status page");
            let mut response = Redirect::to("/admin").into_response();
            response
                .headers_mut()
                .insert(header::SET_COOKIE, session::session_cookie(&headers, token));
            response
        }
        None => html_response(
            StatusCode::UNAUTHORIZED,
            login_page(Some(
                "That token is not valid, has expired, or lacks the sync:admin scope.",
            )),
        ),
    }
}

#[derive(Deserialize)]
struct CsrfForm {
    #[serde(default)]
    csrf: String,
}

async fn logout(session: AdminSession, Form(form): Form<CsrfForm>) -> Response {
    if !session.csrf_matches(&form.csrf) {
        return csrf_refused();
    }
    let mut response = Redirect::to(session::LOGIN_PATH).into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::cleared_cookie());
    response
}

#[derive(Deserialize)]
struct ActionForm {
    #[serde(default)]
    csrf: String,
    object: Option<String>,
    code: Option<String>,
    external_id: Option<String>,
}

impl ActionForm {
    fn filter(&self) -> FailureFilter {
        FailureFilter {
            object: non_empty(self.object.clone()),
            code: non_empty(self.code.clone()),
            external_ids: non_empty(self.external_id.clone()).map(|id| vec![id]),
        }
    }
}

#[derive(Clone, Copy)]
enum Action {
    Retry,
    Discard,
}

async fn retry(
    State(state): State<AppState>,
    session: AdminSession,
    Form(form): Form<ActionForm>,
) -> Response {
    act(&state, &session, &form, Action::Retry).await
}

async fn discard(
    State(state): State<AppState>,
    session: AdminSession,
    Form(form): Form<ActionForm>,
) -> Response {
    act(&state, &session, &form, Action::Discard).await
}

async fn act(
    state: &AppState,
    session: &AdminSession,
    form: &ActionForm,
    action: Action,
) -> Response {
    if !session.csrf_matches(&form.csrf) {
        return csrf_refused();
    }
    let filter = form.filter();
    let (done, result) = match action {
        Action::Retry => (
            "Re-queued",
            staging::requeue(&state.pool, Requeue::Failed(&filter)).await,
        ),
        Action::Discard => ("Discarded", staging::discard(&state.pool, &filter).await),
    };
    match result {
        Ok(n) => {
            tracing::info!(subject = %session.caller.subject, object = ?filter.object, code = ?filter.code,
                external_ids = ?filter.external_ids, records = n, action = done, "status page action");
            let notice = format!("{done} {n} failed record{}.", if n == 1 { "" } else { "s" });
            let back = view::back_to(filter.object.as_deref(), filter.code.as_deref(), &notice);
            Redirect::to(&back).into_response()
        }
        Err(e) => database_error(e),
    }
}

#[derive(Deserialize)]
struct RunPullForm {
    #[serde(default)]
    csrf: String,
    source: String,
}

/// Asks for a run of the pull now: whichever dyno's scheduler sees it first runs it.
async fn run_pull(
    State(state): State<AppState>,
    session: AdminSession,
    Form(form): Form<RunPullForm>,
) -> Response {
    if !session.csrf_matches(&form.csrf) {
        return csrf_refused();
    }
    match crate::sources::pulls::store::request_run(&state.pool, &form.source).await {
        Ok(found) => {
            tracing::info!(subject = %session.caller.subject, source = %form.source, found, "status page: pull asked for");
            let notice = match found {
                true => format!(
                    "A run of {} was asked for; it starts within seconds.",
                    form.source
                ),
                false => format!("There is no pull named {}.", form.source),
            };
            Redirect::to(&view::back_to(None, None, &notice)).into_response()
        }
        Err(e) => database_error(e),
    }
}

fn non_empty(value: Option<String>) -> Option<String> {
    value.map(|v| v.trim().to_owned()).filter(|v| !v.is_empty())
}

fn login_page(error: Option<&str>) -> String {
    let error = error.map_or(String::new(), |e| {
        format!("<p class=\"error\" id=\"login-error\">{}</p>", esc(e))
    });
    html::page(
        "Sluice status: sign in",
        &format!(
            "<header><h1>Sluice status</h1></header><main><section class=\"login\"><h2>Sign in</h2>{error}\
             <p class=\"hint\">Paste a token with the <code>sync:admin</code> scope (for example from \
             <code>sluice token --scopes sync:admin</code>). It is kept in a cookie for this browser session.</p>\
             <form method=\"post\" action=\"{}\"><textarea name=\"token\" required autocomplete=\"off\"></textarea>\
             <p><button class=\"primary\">Sign in</button></p></form></section></main>",
            session::LOGIN_PATH
        ),
    )
}

fn html_response(status: StatusCode, body: String) -> Response {
    let mut response = (status, body).into_response();
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CSP),
    );
    // The API's `no-referrer` makes browsers send `Origin: null` on form posts; the page's own
    // origin is what the POST handlers check.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    response
}

fn csrf_refused() -> Response {
    html_response(
        StatusCode::FORBIDDEN,
        html::page(
            "Refused",
            "<main><p class=\"error\">This form has expired. <a href=\"/admin\">Reload the page</a> and try again.</p></main>",
        ),
    )
}

fn database_error(e: sqlx::Error) -> Response {
    tracing::error!(error = %e, "status page: database error");
    html_response(
        StatusCode::SERVICE_UNAVAILABLE,
        html::page(
            "Unavailable",
            "<main><p class=\"error\">The database is unavailable. Try again in a moment.</p></main>",
        ),
    )
}
