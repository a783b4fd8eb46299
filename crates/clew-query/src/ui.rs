//! The web UI (`ui/`), embedded in the binary at build time (see
//! `build.rs`), served at `/` and at every path that is not an API route:
//! Jaeger UI's routes (`/search?…`, `/trace/{id}`, `/dependencies`, …) all
//! get `index.html`, and the single-page app routes on the client.
//!
//! Files under `assets/` carry a content hash in their names, so they are
//! cached for a year; `index.html` is never cached. A gzip copy of every
//! file is embedded too and sent to clients that accept it.
//!
//! Base path: behind a reverse proxy the whole router is nested under a
//! prefix ([`with_base_path`], Jaeger's `--query.base-path`), which also
//! attaches the prefix to every request as an extension; the page's
//! `<base href>` is rewritten to it, and the app resolves every route and
//! API call against `<base href>`.

use axum::extract::Request;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use axum::{Extension, Router};

use crate::envelope::error_response;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/ui_assets.rs"));
}

/// The page served when the binary was built without the UI
/// (`CLEW_SKIP_UI_BUILD=1` or no npm), kept for callers that show it.
pub const PLACEHOLDER_PAGE: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Clew</title></head><body><h1>Clew</h1>\
<p>Clew — the web UI is not built into this binary; the query API is at \
<a href=\"api/services\">api/</a>.</p></body></html>\n";

/// Whether this binary embeds the real web UI (false: a placeholder page).
pub const UI_EMBEDDED: bool = embedded::BUILT;

/// The `<base href>` the built `index.html` carries, replaced per request.
const BASE_MARKER: &str = "<base href=\"/\"";

fn asset(path: &str) -> Option<(&'static str, &'static [u8], &'static [u8])> {
    embedded::ASSETS
        .iter()
        .find(|(p, ..)| *p == path)
        .map(|&(_, mime, raw, gz)| (mime, raw, gz))
}

fn accepts_gzip(headers: &HeaderMap) -> bool {
    headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|v| v.split(',').any(|e| e.trim().starts_with("gzip")))
}

fn file_response(
    mime: &'static str,
    raw: &'static [u8],
    gz: &'static [u8],
    gzip: bool,
    cache: &'static str,
) -> Response {
    let mut resp = if gzip {
        let mut r = gz.into_response();
        r.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
        r
    } else {
        raw.into_response()
    };
    let h = resp.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static(mime));
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    h.insert(header::VARY, HeaderValue::from_static("Accept-Encoding"));
    resp
}

/// `index.html` with its `<base href>` set to `base` (`""` or `/prefix`).
fn index_page(base: &str) -> Response {
    let html = asset("index.html").map_or(PLACEHOLDER_PAGE, |(_, raw, _)| {
        std::str::from_utf8(raw).unwrap_or(PLACEHOLDER_PAGE)
    });
    let html = html.replacen(BASE_MARKER, &format!("<base href=\"{base}/\""), 1);
    let mut resp = html.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    resp
}

/// Fallback for every unrouted path: unknown `/api/...` paths get Jaeger's
/// 404 envelope, embedded files are served as such, a missing file under
/// `assets/` is a 404, and everything else is a UI route and gets the page.
pub async fn fallback(req: Request) -> Response {
    let path = req.uri().path();
    if path == "/api" || path.starts_with("/api/") {
        return error_response(StatusCode::NOT_FOUND, "404 page not found");
    }
    let headers = req.headers();
    let base = req
        .extensions()
        .get::<BasePath>()
        .map_or("", |b| b.0.as_str());
    let file = path.trim_start_matches('/');
    if file.is_empty() || file == "index.html" {
        return index_page(base);
    }
    if let Some((mime, raw, gz)) = asset(file) {
        let cache = if file.starts_with("assets/") {
            "public, max-age=31536000, immutable"
        } else {
            "public, max-age=3600"
        };
        return file_response(mime, raw, gz, accepts_gzip(headers), cache);
    }
    if file.starts_with("assets/") {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    index_page(base)
}

/// The prefix the router is nested under (`/jaeger`), seen by [`fallback`].
#[derive(Clone, Debug)]
struct BasePath(String);

/// Serves `router` (API and UI) under `base` (e.g. `/jaeger`), as Jaeger's
/// `--query.base-path` does; `/` redirects to the base. An empty base or
/// `/` returns the router unchanged.
pub fn with_base_path(router: Router, base: &str) -> Router {
    let base = base.trim_end_matches('/');
    if base.is_empty() {
        return router;
    }
    let base = if base.starts_with('/') {
        base.to_string()
    } else {
        format!("/{base}")
    };
    let target = format!("{base}/");
    Router::new()
        .nest(&base, router.layer(Extension(BasePath(base.clone()))))
        .route(
            "/",
            get(move || async move { Redirect::temporary(&target) }),
        )
}

#[cfg(test)]
mod tests {
    use axum::body::Body;
    use axum::http::Request;
    use tower::ServiceExt;

    use super::*;

    fn app() -> Router {
        Router::new()
            .route("/api/services", get(|| async { "services" }))
            .fallback(fallback)
    }

    async fn get_text(router: Router, path: &str) -> (StatusCode, String) {
        let resp = router
            .oneshot(Request::get(path).body(Body::empty()).expect("request"))
            .await
            .expect("response");
        let status = resp.status();
        let body = axum::body::to_bytes(resp.into_body(), 1 << 24)
            .await
            .expect("body");
        (status, String::from_utf8_lossy(&body).into_owned())
    }

    #[tokio::test]
    async fn ui_routes_get_the_page_and_api_keeps_precedence() {
        for path in [
            "/",
            "/search?service=a",
            "/trace/abc",
            "/dependencies",
            "/monitor",
        ] {
            let (status, body) = get_text(app(), path).await;
            assert_eq!(status, StatusCode::OK, "{path}");
            assert!(body.contains("<title>"), "{path}: {body}");
        }
        assert_eq!(get_text(app(), "/api/services").await.1, "services");
        let (status, body) = get_text(app(), "/api/nope").await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        assert!(body.contains("404 page not found"));
        assert_eq!(
            get_text(app(), "/assets/missing.js").await.0,
            StatusCode::NOT_FOUND
        );
    }

    #[tokio::test]
    async fn base_path_nests_everything_and_rewrites_base_href() {
        let app = with_base_path(app(), "/jaeger/");
        assert_eq!(
            get_text(app.clone(), "/jaeger/api/services").await.1,
            "services"
        );
        let (status, body) = get_text(app.clone(), "/jaeger/trace/abc").await;
        assert_eq!(status, StatusCode::OK);
        if UI_EMBEDDED {
            assert!(body.contains("<base href=\"/jaeger/\""), "{body}");
        }
        let resp = app
            .oneshot(Request::get("/").body(Body::empty()).expect("request"))
            .await
            .expect("response");
        assert_eq!(resp.status(), StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(resp.headers()[header::LOCATION], "/jaeger/");
    }

    #[tokio::test]
    async fn embedded_assets_are_served_gzipped_when_accepted() {
        let Some((path, ..)) = embedded::ASSETS.iter().find(|(p, ..)| p.ends_with(".js")) else {
            eprintln!("skipped: no JS asset embedded (UI built as placeholder)");
            return;
        };
        let resp = app()
            .oneshot(
                Request::get(format!("/{path}"))
                    .header(header::ACCEPT_ENCODING, "gzip, br")
                    .body(Body::empty())
                    .expect("request"),
            )
            .await
            .expect("response");
        assert_eq!(resp.status(), StatusCode::OK);
        assert_eq!(resp.headers()[header::CONTENT_ENCODING], "gzip");
    }
}
