//! What the tile tests share: the demo county (written once into a GeoPackage that each test
//! copies), an app over a store, and requests.
#![allow(dead_code, reason = "each tile test file uses a part of the helpers")]

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

#[path = "../common/mod.rs"]
mod common;

use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use geo::{BoundingRect, Rect};
use gridgov_model::Layer;
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::{write, Op, Store};
use gridgov_tiles::TileId;
use http_body_util::BodyExt;
use tower::ServiceExt;

/// The demo county's seed.
pub const SEED: u64 = 42;

/// The demo county as one validated batch.
pub fn demo_ops() -> Vec<Op> {
    gridgov_demo::generate(SEED)
        .dataset
        .layers
        .into_iter()
        .flat_map(|(layer, fs)| fs.into_iter().map(move |f| Op::Insert(layer, f)))
        .collect()
}

/// The demo county written once into a GeoPackage (in a folder of its own).
pub fn demo_gpkg() -> &'static Path {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        // Its own runtime: the tests' runtimes end with each test.
        std::thread::spawn(|| {
            let dir = tempfile::tempdir().unwrap().keep();
            let path = dir.join("demo.gpkg");
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let store = GpkgStore::open(&path).await.unwrap();
                write(&store, demo_ops()).await.unwrap();
            });
            drop(rt);
            path
        })
        .join()
        .unwrap()
    })
}

/// A router over a store, with its state.
pub struct App {
    /// The router.
    pub router: axum::Router,
    /// Its state.
    pub state: AppState,
    /// The folder of a GeoPackage copy, removed at the end.
    pub dir: Option<tempfile::TempDir>,
}

/// The app over a copy of the demo GeoPackage, with a tile cache of `cache_bytes`.
pub async fn gpkg_app(cache_bytes: usize) -> App {
    let dir = tempfile::tempdir().unwrap();
    let src = demo_gpkg();
    for entry in std::fs::read_dir(src.parent().unwrap()).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name();
        if name.to_string_lossy().starts_with("demo.gpkg") {
            std::fs::copy(entry.path(), dir.path().join(name)).unwrap();
        }
    }
    let store = GpkgStore::open(&dir.path().join("demo.gpkg"))
        .await
        .unwrap();
    let mut app = app_over(Arc::new(store), "geopackage", cache_bytes).await;
    app.dir = Some(dir);
    app
}

/// The app over any store.
pub async fn app_over(store: Arc<dyn Store>, kind: &'static str, cache_bytes: usize) -> App {
    static ACCOUNTS: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let web = std::env::temp_dir();
    let state = AppState::new(store.clone(), kind, web, index, cache_bytes);
    let raw = router(state.clone());
    let name = format!(
        "admin{}",
        ACCOUNTS.fetch_add(1, std::sync::atomic::Ordering::Relaxed)
    );
    let token = common::sign_in(
        &raw,
        store.as_ref(),
        &name,
        gridgov_model::Role::CountyAdmin,
        "520526000000",
    )
    .await;
    App {
        router: common::as_user(raw, &token),
        state,
        dir: None,
    }
}

/// A reply, read whole.
pub struct Reply {
    /// The status.
    pub status: StatusCode,
    /// The headers.
    pub headers: HeaderMap,
    /// The body as sent.
    pub body: Vec<u8>,
}

impl Reply {
    /// A header as text.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).map(|v| v.to_str().unwrap())
    }

    /// The tile bytes, gunzipped when the reply is gzip-encoded.
    pub fn tile(&self) -> Vec<u8> {
        match self.header("content-encoding") {
            Some("gzip") => {
                let mut out = Vec::new();
                flate2::read::GzDecoder::new(&self.body[..])
                    .read_to_end(&mut out)
                    .unwrap();
                out
            }
            None => self.body.clone(),
            Some(other) => panic!("unexpected encoding {other}"),
        }
    }
}

/// `GET uri` with headers.
pub async fn get(app: &App, uri: &str, headers: &[(&str, &str)]) -> Reply {
    let mut req = Request::get(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let r = app
        .router
        .clone()
        .oneshot(req.body(Body::empty()).unwrap())
        .await
        .unwrap();
    let status = r.status();
    let headers = r.headers().clone();
    let body = r.into_body().collect().await.unwrap().to_bytes().to_vec();
    Reply {
        status,
        headers,
        body,
    }
}

/// The county's bounding box, from the app's index.
pub fn county_rect(app: &App) -> Rect<f64> {
    let index = app.state.index.read();
    let counties = index.layer(Layer::Counties).unwrap();
    let all = counties.in_bbox([-180.0, -90.0, 180.0, 90.0]);
    all[0].geometry.as_ref().unwrap().bounding_rect().unwrap()
}

/// The URL of a tile.
pub fn uri(layers: &str, t: TileId) -> String {
    format!("/tiles/{layers}/{}/{}/{}.mvt", t.z(), t.x(), t.y())
}
