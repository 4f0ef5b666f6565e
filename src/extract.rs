//! Extractors whose rejections are the hub's own errors: a body, path or query string that does
//! not parse is answered with problem+json naming the part at fault, like every other error.
//! Handlers use these instead of axum's `Json`, `Path` and `Query`.

use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, PathRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
use serde::de::DeserializeOwned;

use crate::error::ApiError;
use crate::state::AppState;

/// The raw request body, within the configured size limit.
pub struct RawBody(pub Bytes);

impl FromRequest<AppState> for RawBody {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match Bytes::from_request(req, state).await {
            Ok(bytes) => Ok(Self(bytes)),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge {
                    limit: state.max_body_bytes,
                })
            }
            Err(rejection) => Err(ApiError::bad_request(
                "body",
                "unreadable",
                rejection.body_text(),
            )),
        }
    }
}

/// A JSON body.
pub struct ApiJson<T>(pub T);

impl<T: DeserializeOwned> FromRequest<AppState> for ApiJson<T> {
    type Rejection = ApiError;

    async fn from_request(req: Request, state: &AppState) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
            Err(JsonRejection::MissingJsonContentType(_)) => Err(ApiError::UnsupportedMediaType(
                "Content-Type must be application/json".into(),
            )),
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                Err(ApiError::PayloadTooLarge {
                    limit: state.max_body_bytes,
                })
            }
            Err(rejection) => Err(ApiError::bad_request("body", "json", rejection.body_text())),
        }
    }
}

/// Path parameters.
pub struct ApiPath<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiPath<T>
where
    T: DeserializeOwned + Send,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(value)) => Ok(Self(value)),
            Err(rejection @ PathRejection::FailedToDeserializePathParams(_)) => Err(
                ApiError::bad_request("path", "format", rejection.body_text()),
            ),
            Err(rejection) => Err(ApiError::Internal(anyhow::anyhow!(
                "path parameters unavailable: {}",
                rejection.body_text()
            ))),
        }
    }
}

/// The query string.
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => Err(query_rejected(&rejection)),
        }
    }
}

fn query_rejected(rejection: &QueryRejection) -> ApiError {
    ApiError::bad_request("query", "format", rejection.body_text())
}
