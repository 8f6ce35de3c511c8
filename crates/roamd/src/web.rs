//! The web chat (`web/`, built by `npm run build` into `web/dist`), served as static files
//! under `/app` when its build is present, so that `roamd` alone shows Roam working in a
//! browser. The page learns the app key from `/app/config.json` and takes the server (REST and
//! `/websocket`) from its own origin.
use std::path::{Path, PathBuf};

use axum::{Json, Router, response::Redirect, routing::get};
use serde_json::json;
use tower_http::services::{ServeDir, ServeFile};

/// Where the web chat is mounted. Its files are built with this base (`web/vite.config.js`).
pub const MOUNT: &str = "/app";

/// The directory to serve, when `web_dir` names a directory holding a built page
/// (`index.html`); `None` (not mounted) when `web_dir` is empty or holds no build, e.g. in a
/// checkout where `npm run build` never ran.
pub fn built_dir(web_dir: &Path) -> Option<PathBuf> {
    if web_dir.as_os_str().is_empty() {
        return None;
    }
    web_dir
        .join("index.html")
        .is_file()
        .then(|| web_dir.to_owned())
}

/// `/app/…` serves the files in `dir`; any other path under `/app` answers `index.html` (the
/// page routes itself), except under `/app/assets/` (the build's hashed files), where a missing
/// file is a 404: a page left open across a rebuild must not get HTML for its script.
/// `/app/config.json` tells the page the app key; `/` redirects to `/app/`.
pub fn router(dir: &Path, app_key: &str) -> Router {
    let index = ServeFile::new(dir.join("index.html"));
    let files = ServeDir::new(dir).fallback(index);
    let assets = ServeDir::new(dir.join("assets"));
    let config = json!({ "appKey": app_key });
    Router::new()
        .route("/", get(|| async { Redirect::temporary("/app/") }))
        .route(
            "/app/config.json",
            get(move || {
                let config = config.clone();
                async move { Json(config) }
            }),
        )
        .nest_service("/app/assets", assets)
        .nest_service(MOUNT, files)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, reason = "tests")]
mod tests {
    use axum::{
        body::{Body, to_bytes},
        http::{Request, StatusCode, header},
    };
    use tower::ServiceExt;

    use super::*;

    async fn get(router: &Router, path: &str) -> (StatusCode, Option<String>, String) {
        let res = router
            .clone()
            .oneshot(Request::get(path).body(Body::empty()).unwrap())
            .await
            .unwrap();
        let status = res.status();
        let location = res
            .headers()
            .get(header::LOCATION)
            .map(|l| l.to_str().unwrap().to_owned());
        let body = to_bytes(res.into_body(), 1 << 20).await.unwrap();
        (
            status,
            location,
            String::from_utf8_lossy(&body).into_owned(),
        )
    }

    fn built() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("index.html"), "<html>chat</html>").unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/app.js"), "console.log(1)").unwrap();
        dir
    }

    #[tokio::test]
    async fn serves_files_the_page_and_its_config() {
        let dir = built();
        let router = router(dir.path(), "org#app");
        assert_eq!(
            get(&router, "/app/assets/app.js").await,
            (StatusCode::OK, None, "console.log(1)".into())
        );
        assert_eq!(get(&router, "/app/").await.2, "<html>chat</html>");
        let (status, _, body) = get(&router, "/app/config.json").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(
            serde_json::from_str::<serde_json::Value>(&body).unwrap(),
            json!({"appKey": "org#app"})
        );
    }

    #[tokio::test]
    async fn unknown_paths_under_app_get_the_page_and_root_redirects() {
        let dir = built();
        let router = router(dir.path(), "org#app");
        assert_eq!(
            get(&router, "/app/chat/bob").await,
            (StatusCode::OK, None, "<html>chat</html>".into())
        );
        let (status, _, _) = get(&router, "/app/assets/gone-1234.js").await;
        assert_eq!(
            status,
            StatusCode::NOT_FOUND,
            "a missing build file is not the page"
        );
        let (status, location, _) = get(&router, "/").await;
        assert_eq!(status, StatusCode::TEMPORARY_REDIRECT);
        assert_eq!(location.as_deref(), Some("/app/"));
    }

    #[tokio::test]
    async fn nothing_escapes_the_directory() {
        let outer = tempfile::tempdir().unwrap();
        std::fs::write(outer.path().join("secret.txt"), "secret").unwrap();
        let dist = outer.path().join("dist");
        std::fs::create_dir(&dist).unwrap();
        std::fs::write(dist.join("index.html"), "<html>chat</html>").unwrap();
        let router = router(&dist, "org#app");
        for path in ["/app/../secret.txt", "/app/%2e%2e/secret.txt"] {
            let (_, _, body) = get(&router, path).await;
            assert!(!body.contains("secret"), "{path}: {body}");
        }
    }

    #[test]
    fn mounted_only_when_built() {
        let dir = built();
        assert_eq!(built_dir(dir.path()), Some(dir.path().to_owned()));
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(built_dir(empty.path()), None);
        assert_eq!(built_dir(&empty.path().join("missing")), None);
        assert_eq!(built_dir(Path::new("")), None);
    }
}
