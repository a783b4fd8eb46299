//! The page served at `/` and at UI routes (`/search`, `/trace/{id}`, …)
//! until the web UI is embedded: it tells a visitor where the API is rather
//! than showing a bare 404.

use axum::http::{StatusCode, Uri};
use axum::response::{Html, IntoResponse, Response};

use crate::envelope::error_response;

/// The placeholder page.
pub const PLACEHOLDER_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Clew</title></head><body><h1>Clew</h1>\
<p>Clew — the web UI is not built into this binary yet; the query API is at \
<a href=\"/api/services\">/api/</a>.</p></body></html>\n";

/// Fallback for every unrouted path: unknown `/api/...` paths get Jaeger's
/// 404 envelope, everything else is a UI route and gets the page.
pub async fn fallback(uri: Uri) -> Response {
    let path = uri.path();
    if path == "/api" || path.starts_with("/api/") {
        return error_response(StatusCode::NOT_FOUND, "404 page not found");
    }
    Html(PLACEHOLDER_PAGE).into_response()
}
