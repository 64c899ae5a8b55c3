//! The offline basemap over HTTP: TileJSON pointing at this server, tiles from a PMTiles
//! package (gzip as stored, or decompressed for a client without gzip; 204 where there is no
//! tile), glyph ranges from DejaVu Sans, the styles of `tiles/styles` with absolute URLs, and
//! clear answers when something is missing or malformed.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::io::Read as _;
use std::path::{Path, PathBuf};

use axum::body::Body;
use axum::http::{header, Request, StatusCode};
use gridgov_model::{Dataset, Role};
use gridgov_server::basemap::Basemap;
use gridgov_server::{router, AppState, LiveIndex};
use gridgov_store::Op;

mod common;

/// The repository's `tiles/styles`.
fn styles_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tiles/styles")
}

/// The small county's basemap (zooms 0 to 10) written to `dir/county.pmtiles`.
fn package(dir: &Path) -> PathBuf {
    let mut data = Dataset::default();
    for op in common::county_ops() {
        if let Op::Insert(layer, f) = op {
            data.layers.entry(layer).or_default().push(f);
        }
    }
    let basemap = gridgov_basemap::Basemap::from_dataset(&data);
    let options = gridgov_basemap::BuildOptions {
        max_zoom: 10,
        ..gridgov_basemap::BuildOptions::default()
    };
    let (writer, _) = gridgov_basemap::build(&basemap, &options, &mut |_, _, _| {}).unwrap();
    let path = dir.join("county.pmtiles");
    writer.write_to(&path).unwrap();
    path
}

async fn app(dir: &Path, basemap: Basemap) -> axum::Router {
    let store = common::county(dir).await;
    let index = LiveIndex::start(store.clone()).await.unwrap();
    let app = router(
        AppState::new(store.clone(), "test", dir.to_path_buf(), index, 1 << 20)
            .with_basemap(basemap),
    );
    let token = common::sign_in(
        &app,
        store.as_ref(),
        "admin",
        Role::CountyAdmin,
        "520526000000",
    )
    .await;
    common::as_user(app, &token)
}

/// GET with a `Host` header and optional `Accept-Encoding`: status, headers, body bytes.
async fn fetch(
    app: &axum::Router,
    uri: &str,
    gzip: bool,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let mut req = Request::get(uri).header(header::HOST, "gridgov.test:8080");
    if gzip {
        req = req.header(header::ACCEPT_ENCODING, "gzip");
    }
    common::raw(app, req.body(Body::empty()).unwrap()).await
}

fn json(bytes: &[u8]) -> serde_json::Value {
    serde_json::from_slice(bytes).unwrap()
}

#[tokio::test]
async fn the_basemap_its_glyphs_and_styles_are_served_from_this_machine() {
    let dir = tempfile::tempdir().unwrap();
    let path = package(dir.path());
    let app = app(dir.path(), Basemap::open(path, styles_dir()).unwrap()).await;

    // TileJSON names this server's tile URL and the package's layers.
    let (s, _, body) = fetch(&app, "/basemap.json", false).await;
    assert_eq!(s, StatusCode::OK);
    let tj = json(&body);
    assert_eq!(
        tj["tiles"][0],
        "http://gridgov.test:8080/basemap/{z}/{x}/{y}.mvt"
    );
    let layers: Vec<&str> = tj["vector_layers"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|l| l["id"].as_str())
        .collect();
    assert!(layers.contains(&"boundaries"), "{layers:?}");

    // The tile holding the county (104–105°E, 26–27°N) at zoom 8: gzip as stored, or the
    // same tile decompressed for a client that takes no gzip.
    let (s, h, gz) = fetch(&app, "/basemap/8/202/108.mvt", true).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_ENCODING], "gzip");
    assert_eq!(
        h[header::CONTENT_TYPE],
        "application/vnd.mapbox-vector-tile"
    );
    assert!(h[header::CACHE_CONTROL]
        .to_str()
        .unwrap()
        .contains("max-age"));
    let (s, h, plain) = fetch(&app, "/basemap/8/202/108.mvt", false).await;
    assert_eq!(s, StatusCode::OK);
    assert!(h.get(header::CONTENT_ENCODING).is_none());
    let mut unzipped = Vec::new();
    flate2::read::GzDecoder::new(&gz[..])
        .read_to_end(&mut unzipped)
        .unwrap();
    assert_eq!(unzipped, plain);
    assert!(
        plain
            .windows(b"boundaries".len())
            .any(|w| w == b"boundaries"),
        "the tile has the division outlines"
    );
    // Far from the county: nothing to draw, and no console error in the browser.
    let (s, _, body) = fetch(&app, "/basemap/8/0/0.mvt", true).await;
    assert_eq!((s, body.len()), (StatusCode::NO_CONTENT, 0));
    // Off the zoom's grid, or not a number: 400 naming it.
    let (s, _, body) = fetch(&app, "/basemap/3/100/1.mvt", false).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(json(&body)["detail"].as_str().unwrap().contains("3/100/1"));
    let (s, _, body) = fetch(&app, "/basemap/3/a/1.mvt", false).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
    assert!(json(&body)["detail"].as_str().unwrap().contains("'a'"));

    // Glyphs: the Latin range of DejaVu Sans, kept once drawn; unknown fonts and ranges named.
    let (s, h, first) = fetch(&app, "/fonts/DejaVu%20Sans%20Book/0-255.pbf", false).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(h[header::CONTENT_TYPE], "application/x-protobuf");
    assert!(first.len() > 10_000, "{} bytes", first.len());
    assert!(first.windows(16).any(|w| w == b"DejaVu Sans Book"));
    let (_, _, again) = fetch(
        &app,
        "/fonts/Open%20Sans%20Regular,DejaVu%20Sans%20Book/0-255.pbf",
        false,
    )
    .await;
    assert!(!again.is_empty());
    let (s, _, body) = fetch(&app, "/fonts/Comic%20Sans/0-255.pbf", false).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    assert!(json(&body)["detail"]
        .as_str()
        .unwrap()
        .contains("Comic Sans"));
    let (s, _, _) = fetch(&app, "/fonts/DejaVu%20Sans%20Book/3-7.pbf", false).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);

    // Styles: both, their sources and glyphs on this server; nothing else is reached.
    for name in ["light", "dark"] {
        let (s, _, body) = fetch(&app, &format!("/styles/{name}.json"), false).await;
        assert_eq!(s, StatusCode::OK, "{name}");
        let style = json(&body);
        assert_eq!(style["version"], 8);
        assert_eq!(
            style["glyphs"],
            "http://gridgov.test:8080/fonts/{fontstack}/{range}.pbf"
        );
        let text = style.to_string();
        let foreign: Vec<&str> = text
            .match_indices("http")
            .map(|(i, _)| &text[i..(i + 30).min(text.len())])
            .filter(|u| !u.starts_with("http://gridgov.test:8080/"))
            .collect();
        assert!(foreign.is_empty(), "{name}: {foreign:?}");
    }
    let (s, _, _) = fetch(&app, "/styles/nope.json", false).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let (s, _, _) = fetch(&app, "/styles/..%2Fsecret.json", false).await;
    assert_eq!(s, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn without_a_package_the_answer_says_how_to_build_one() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("none.pmtiles");
    let app = app(dir.path(), Basemap::open(missing, styles_dir()).unwrap()).await;
    let (s, _, body) = fetch(&app, "/basemap.json", false).await;
    assert_eq!(s, StatusCode::NOT_FOUND);
    let detail = json(&body)["detail"].as_str().unwrap().to_owned();
    assert!(detail.contains("gridgov basemap build"), "{detail}");
    // A file that is not a package is refused when the server starts, naming it.
    let broken = dir.path().join("broken.pmtiles");
    std::fs::write(&broken, b"not a pmtiles archive at all, just text").unwrap();
    let e = Basemap::open(broken, styles_dir()).unwrap_err();
    assert!(e.to_string().to_lowercase().contains("pmtiles"), "{e}");
}
