//! The HTTP surface: Lag's robot API under `/robots/@me`, the emulator's admin API under `/_sim`
//! and the playground page at `/`.

mod access;
mod admin;
mod events;
mod playground;
mod robot;

use std::sync::Arc;

use axum::Router;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, PathRejection, QueryRejection};
use axum::extract::{DefaultBodyLimit, FromRequest, FromRequestParts, Request};
use axum::http::{HeaderValue, StatusCode, header, request::Parts};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use rand::Rng as _;
use serde::de::DeserializeOwned;
use serde_json::json;
use tower_http::catch_panic::CatchPanicLayer;

use crate::error::{Error, ErrorKind};
use crate::shared::Shared;

/// Builds the full router.
pub(crate) fn router(shared: Arc<Shared>) -> Router {
    let limit = shared.config.body_limit;
    let guarded = Router::new()
        .merge(playground::routes())
        .nest("/_sim", admin::routes())
        .route_layer(middleware::from_fn_with_state(
            Arc::clone(&shared),
            access::guard,
        ));
    Router::new()
        .merge(robot::routes())
        .merge(events::routes())
        .merge(guarded)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(limit))
        .layer(middleware::from_fn_with_state(limit, reject_oversized))
        .layer(CatchPanicLayer::custom(internal_error))
        .layer(middleware::from_fn(request_id))
        .with_state(shared)
}

/// An error answered with Lag's `{error, message, statusCode}` envelope.
#[derive(Debug)]
pub(crate) struct ApiError(pub(crate) Error);

impl From<Error> for ApiError {
    fn from(error: Error) -> Self {
        Self(error)
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status =
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = json!({
            "error": error.reason(),
            "message": error.message(),
            "statusCode": error.status(),
        });
        let mut response = (status, axum::Json(body)).into_response();
        if let ErrorKind::RateLimited { retry_after } = error.kind() {
            let seconds = retry_after.as_secs() + u64::from(retry_after.subsec_nanos() > 0);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds.max(1)));
        }
        response
    }
}

pub(crate) type ApiResult<T> = Result<T, ApiError>;

async fn not_found(request: Request) -> ApiError {
    ApiError(Error::not_found(format!(
        "no route for {} {}",
        request.method(),
        request.uri().path()
    )))
}

async fn method_not_allowed(request: Request) -> ApiError {
    ApiError(Error::new(
        ErrorKind::MethodNotAllowed,
        format!(
            "{} is not allowed on {}",
            request.method(),
            request.uri().path()
        ),
    ))
}

/// A handler panicked: answer 500 with the envelope instead of dropping the connection.
fn internal_error(_panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    ApiError(Error::internal(
        "the emulator failed to handle this request",
    ))
    .into_response()
}

async fn request_id(request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    let id = format!("req_{:016x}", rand::rng().random::<u64>());
    if let Ok(value) = HeaderValue::from_str(&id) {
        response.headers_mut().insert("x-request-id", value);
    }
    response
}

async fn reject_oversized(
    axum::extract::State(limit): axum::extract::State<usize>,
    request: Request,
    next: Next,
) -> Response {
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|len| len > limit as u64) {
        return too_large(limit).into_response();
    }
    next.run(request).await
}

fn too_large(limit: usize) -> ApiError {
    ApiError(Error::new(
        ErrorKind::PayloadTooLarge,
        format!("request body exceeds {limit} bytes"),
    ))
}

/// The raw request body, with a size-limit rejection mapped to 413 and anything else to 400.
pub(crate) struct Body(pub(crate) Bytes);

impl<S: Send + Sync> FromRequest<S> for Body {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        Bytes::from_request(request, state)
            .await
            .map(Body)
            .map_err(|rejection: BytesRejection| {
                if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
                    ApiError(Error::new(
                        ErrorKind::PayloadTooLarge,
                        "request body is too large",
                    ))
                } else {
                    ApiError(Error::bad_request(format!(
                        "cannot read the request body: {rejection}"
                    )))
                }
            })
    }
}

impl Body {
    /// Decodes the body as JSON; an empty body decodes as `{}` so optional-only bodies may be omitted.
    pub(crate) fn json<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        let bytes: &[u8] = if self.0.iter().all(u8::is_ascii_whitespace) {
            b"{}"
        } else {
            &self.0
        };
        serde_json::from_slice(bytes)
            .map_err(|e| ApiError(Error::bad_request(format!("invalid JSON body: {e}"))))
    }
}

/// `axum::extract::Path` with rejections turned into 400 envelopes.
pub(crate) struct Path<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Path<T>
where
    S: Send + Sync,
    T: DeserializeOwned + Send,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Path::<T>::from_request_parts(parts, state)
            .await
            .map(|p| Path(p.0))
            .map_err(|rejection: PathRejection| {
                ApiError(Error::bad_request(format!(
                    "invalid path: {}",
                    rejection.body_text()
                )))
            })
    }
}

/// `axum::extract::Query` with rejections turned into 400 envelopes.
pub(crate) struct Query<T>(pub(crate) T);

impl<S, T> FromRequestParts<S> for Query<T>
where
    S: Send + Sync,
    T: DeserializeOwned,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        axum::extract::Query::<T>::from_request_parts(parts, state)
            .await
            .map(|q| Query(q.0))
            .map_err(|rejection: QueryRejection| {
                ApiError(Error::bad_request(format!(
                    "invalid query string: {}",
                    rejection.body_text()
                )))
            })
    }
}
