//! Vector tiles in-process (`oneshot`) on the demo county in a GeoPackage: sizes at every
//! zoom, gzip, `ETag` and `304`, the cache and its invalidation, bad requests.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod tiles_support;

use axum::http::StatusCode;
use geo::{Geometry, Rect};
use gridgov_model::{Feature, FeatureId, Layer};
use gridgov_server::tiles::TileLayers;
use gridgov_store::{write, Change, Op, Query};
use gridgov_tiles::{decode, tiles_covering, TileId};
use tiles_support::{county_rect, get, gpkg_app as app, uri, App};

/// No tile of the demo county may be larger than this (uncompressed).
const MAX_TILE_BYTES: usize = 500 * 1024;

/// Every tile of `all` at zooms 0–14 and, at 15 and 16 (a few thousand tiles in a debug
/// build), every tile in a 2×2 block out of each 4×4 (a quarter, spread evenly over the
/// county) plus the tiles under the largest tile of zoom 14.
#[tokio::test]
async fn every_demo_tile_is_under_500_kb() {
    let app = app(0).await;
    let county = county_rect(&app);
    let mut largest_14 = None;
    let mut report = Vec::new();
    for z in 0..=16_u8 {
        let mut tiles: Vec<TileId> = tiles_covering(county, z).collect();
        if z >= 15 {
            let under = largest_14.map_or_else(Vec::new, |t: TileId| {
                let k = 1 << (z - 14);
                tiles
                    .iter()
                    .copied()
                    .filter(|c| c.x() / k == t.x() && c.y() / k == t.y())
                    .collect()
            });
            tiles.retain(|t| t.x() % 4 < 2 && t.y() % 4 < 2);
            tiles.extend(under);
        }
        let (mut max, mut at, mut total, mut features) = (0, None, 0, 0);
        for t in &tiles {
            let r = get(&app, &uri("all", *t), &[]).await;
            assert_eq!(r.status, StatusCode::OK, "{t}");
            assert!(r.header("content-encoding").is_none());
            let decoded = decode(&r.body).unwrap();
            features += decoded.feature_count();
            total += r.body.len();
            if r.body.len() >= max {
                max = r.body.len();
                at = Some(*t);
            }
        }
        if z == 14 {
            largest_14 = at;
        }
        report.push(format!(
            "z{z}: {} tiles, largest {max} B at {}, mean {} B, {features} features",
            tiles.len(),
            at.map(|t| t.to_string()).unwrap_or_default(),
            total / tiles.len().max(1)
        ));
        assert!(
            max <= MAX_TILE_BYTES,
            "tile {at:?} is {max} bytes\n{}",
            report.join("\n")
        );
    }
    eprintln!("{}", report.join("\n"));
}

/// A z14 tile of the county centre with households in it.
fn busy_tile(app: &App) -> (TileId, Feature) {
    let index = app.state.index.read();
    let households = index.layer(Layer::Households).unwrap();
    let c = county_rect(app).center();
    let near = households.nearest(c, 1);
    let f = near[0].feature.clone();
    let Some(Geometry::Point(p)) = f.geometry else {
        panic!("households are points")
    };
    let t = tiles_covering(Rect::new(p.0, p.0), 14).next().unwrap();
    (t, f)
}

#[tokio::test]
async fn tiles_are_gzipped_when_accepted_tagged_and_revalidated() {
    let app = app(0).await;
    let (t, _) = busy_tile(&app);
    let plain = get(&app, &uri("all", t), &[]).await;
    assert_eq!(plain.status, StatusCode::OK);
    assert_eq!(
        plain.header("content-type"),
        Some("application/vnd.mapbox-vector-tile")
    );
    assert_eq!(plain.header("content-encoding"), None);
    assert_eq!(plain.header("cache-control"), Some("no-cache"));
    let decoded = decode(&plain.body).unwrap();
    assert!(decoded.layer("households").is_some());

    let gz = get(&app, &uri("all", t), &[("accept-encoding", "gzip, br")]).await;
    assert_eq!(gz.status, StatusCode::OK);
    assert_eq!(gz.header("content-encoding"), Some("gzip"));
    assert!(gz.body.len() < plain.body.len());
    // Gzipped once: one gunzip gives the tile itself.
    assert_eq!(gz.tile(), plain.body);
    let (tag, gz_tag) = (
        plain.header("etag").unwrap().to_owned(),
        gz.header("etag").unwrap().to_owned(),
    );
    assert!(tag.starts_with('"') && tag.ends_with('"'));
    assert_ne!(tag, gz_tag, "each representation has its own tag");
    assert!(gz.header("vary").unwrap().contains("accept-encoding"));

    for (tag, enc) in [(&tag, "identity"), (&gz_tag, "gzip")] {
        let again = get(
            &app,
            &uri("all", t),
            &[("if-none-match", tag), ("accept-encoding", enc)],
        )
        .await;
        assert_eq!(again.status, StatusCode::NOT_MODIFIED);
        assert!(again.body.is_empty());
        assert!(again.header("etag").is_some());
    }
    let changed = get(&app, &uri("all", t), &[("if-none-match", "\"nope\"")]).await;
    assert_eq!(changed.status, StatusCode::OK);

    // An empty tile (outside the county) is an empty 200, never compressed.
    let far = get(
        &app,
        "/tiles/all/14/0/0.mvt",
        &[("accept-encoding", "gzip")],
    )
    .await;
    assert_eq!(far.status, StatusCode::OK);
    assert!(far.body.is_empty());
    // A layer below its minimum zoom: empty too.
    let low = get(&app, "/tiles/households/5/25/13.mvt", &[]).await;
    assert_eq!(low.status, StatusCode::OK);
    assert!(low.body.is_empty());
}

#[tokio::test]
async fn cache_hits_return_the_same_bytes() {
    let app = app(64 << 20).await;
    let (t, _) = busy_tile(&app);
    for layers in ["all", "households"] {
        let first = get(&app, &uri(layers, t), &[("accept-encoding", "gzip")]).await;
        let sel = TileLayers::parse(layers).unwrap();
        assert!(app.state.tiles.contains(sel, t));
        let second = get(&app, &uri(layers, t), &[("accept-encoding", "gzip")]).await;
        assert_eq!(first.body, second.body);
        assert_eq!(first.header("etag"), second.header("etag"));
        // A client without gzip gets the plain tile from the same entry.
        let plain = get(&app, &uri(layers, t), &[]).await;
        assert_eq!(plain.header("content-encoding"), None);
        assert_eq!(plain.body, first.tile());
    }
    assert!(app.state.tiles.bytes() <= app.state.tiles.max_bytes());
}

/// A reply's headers, in order of name, for comparing two replies.
fn sorted_headers(r: &tiles_support::Reply) -> Vec<(String, String)> {
    let mut h: Vec<_> = r
        .headers
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    h.sort();
    h
}

/// Cache hits are answered in front of the router when they can be (`tiles::CachedTiles`):
/// every such answer must be the one the handler gives with no cache at all, whatever the
/// client sends (gzip or not, either tag, a personal layer, an empty tile).
#[tokio::test]
async fn cache_hits_are_answered_as_without_a_cache() {
    let cached = app(64 << 20).await;
    let uncached = app(0).await;
    let (t, _) = busy_tile(&cached);
    let first = get(&uncached, &uri("all", t), &[("accept-encoding", "gzip")]).await;
    let plain = get(&uncached, &uri("all", t), &[]).await;
    let (gz_tag, tag) = (
        first.header("etag").unwrap().to_owned(),
        plain.header("etag").unwrap().to_owned(),
    );
    let weak = format!("W/{gz_tag}");
    let paths = [
        uri("all", t),
        uri("households", t),
        uri("roads", t),
        "/tiles/all/14/0/0.mvt".to_owned(),
        format!("/tiles/all/{}/{}/{}.pbf", t.z(), t.x(), t.y()),
    ];
    let variants: [&[(&str, &str)]; 9] = [
        &[("accept-encoding", "gzip")],
        &[("accept-encoding", "gzip, deflate, br")],
        &[("accept-encoding", "*")],
        &[("accept-encoding", "gzip;q=0, *")],
        &[("accept-encoding", "identity")],
        &[],
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", gz_tag.as_str()),
        ],
        &[("if-none-match", tag.as_str())],
        &[
            ("accept-encoding", "gzip"),
            ("if-none-match", weak.as_str()),
        ],
    ];
    for path in &paths {
        // Twice: a miss fills the cache, then hits.
        for round in 0..2 {
            for headers in variants {
                let hit = get(&cached, path, headers).await;
                let reference = get(&uncached, path, headers).await;
                let what = format!("{path} {headers:?} round {round}");
                assert_eq!(hit.status, reference.status, "{what}");
                assert_eq!(sorted_headers(&hit), sorted_headers(&reference), "{what}");
                assert_eq!(hit.body, reference.body, "{what}");
            }
        }
        let layers = path.split('/').nth(2).unwrap();
        assert!(
            cached
                .state
                .tiles
                .contains(TileLayers::parse(layers).unwrap(), t)
                || path.contains("/14/0/0"),
            "{path} is cached"
        );
    }
}

#[tokio::test]
async fn a_write_changes_exactly_the_tiles_it_touches() {
    let app = app(64 << 20).await;
    let (t, near) = busy_tile(&app);
    let far = {
        // A tile of the same zoom at the other side of the county.
        let c = county_rect(&app);
        let corner = geo::coord! { x: c.min().x + 0.01, y: c.min().y + 0.01 };
        let f = tiles_covering(Rect::new(corner, corner), 14)
            .next()
            .unwrap();
        assert!(f.x().abs_diff(t.x()) > 2 || f.y().abs_diff(t.y()) > 2);
        f
    };
    let before = get(&app, &uri("all", t), &[]).await;
    let before_layer = get(&app, &uri("households", t), &[]).await;
    let before_far = get(&app, &uri("all", far), &[]).await;
    assert!(app.state.tiles.contains(TileLayers::All, far));

    // A new household where an existing one is (inside its village).
    let mut house = near.clone();
    house.id = None;
    let ids = write(
        &*app.state.store,
        vec![Op::Insert(Layer::Households, house)],
    )
    .await
    .unwrap();
    let id: FeatureId = ids[0];
    app.state
        .index
        .apply(&Change {
            layer: Layer::Households,
            ids: Some(vec![id]),
        })
        .await
        .unwrap();
    assert!(!app.state.tiles.contains(TileLayers::All, t));
    assert!(!app
        .state
        .tiles
        .contains(TileLayers::One(Layer::Households), t));
    assert!(
        app.state.tiles.contains(TileLayers::All, far),
        "unrelated tiles stay"
    );

    let after = get(&app, &uri("all", t), &[]).await;
    assert_ne!(after.header("etag"), before.header("etag"));
    let decoded = decode(&after.body).unwrap();
    let ids_in: Vec<_> = decoded
        .layer("households")
        .unwrap()
        .features
        .iter()
        .map(|f| f.id)
        .collect();
    assert!(
        ids_in.contains(&Some(id.0 as u64)),
        "the new household is drawn"
    );
    let after_layer = get(&app, &uri("households", t), &[]).await;
    assert_ne!(after_layer.header("etag"), before_layer.header("etag"));
    let after_far = get(&app, &uri("all", far), &[]).await;
    assert_eq!(after_far.header("etag"), before_far.header("etag"));

    // Deleting it brings the old tile back.
    write(&*app.state.store, vec![Op::Delete(Layer::Households, id)])
        .await
        .unwrap();
    app.state
        .index
        .apply(&Change {
            layer: Layer::Households,
            ids: Some(vec![id]),
        })
        .await
        .unwrap();
    let restored = get(&app, &uri("all", t), &[]).await;
    assert_eq!(restored.header("etag"), before.header("etag"));
    // A whole-layer reload drops every tile of the layer.
    app.state
        .index
        .apply(&Change {
            layer: Layer::Households,
            ids: None,
        })
        .await
        .unwrap();
    assert!(!app.state.tiles.contains(TileLayers::All, far));
    let stored = app
        .state
        .store
        .count(Layer::Households, &Query::default())
        .await
        .unwrap();
    assert!(stored > 0);
}

#[tokio::test]
async fn bad_tile_requests_are_problems_not_errors() {
    let app = app(1 << 20).await;
    for (uri, status) in [
        ("/tiles/nope/1/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/persons/1/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/grid_plans/1/0/0.mvt", StatusCode::NOT_FOUND),
        ("/tiles/all/1/2/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/all/1/0/2.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/all/23/0/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/all/x/0/0.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/all/1/0/-1.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/all/1/0/0.5.mvt", StatusCode::BAD_REQUEST),
        (
            "/tiles/all/99999999999999999999/0/0.mvt",
            StatusCode::BAD_REQUEST,
        ),
        (
            "/tiles/roads/3/0/99999999999999.mvt",
            StatusCode::BAD_REQUEST,
        ),
        ("/tiles/all/1/0/0.png", StatusCode::NOT_FOUND),
        ("/tiles/all/1/0/.mvt", StatusCode::BAD_REQUEST),
        ("/tiles/nope.json", StatusCode::NOT_FOUND),
        ("/tiles/persons.json", StatusCode::NOT_FOUND),
        ("/tiles/roads", StatusCode::NOT_FOUND),
        ("/tiles/all/1/0", StatusCode::NOT_FOUND),
    ] {
        let r = get(&app, uri, &[]).await;
        assert_eq!(r.status, status, "{uri}");
        assert_eq!(
            r.header("content-type"),
            Some("application/problem+json"),
            "{uri}"
        );
        let body: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
        assert_eq!(body["status"], status.as_u16(), "{uri}");
    }
}

#[tokio::test]
async fn tilejson_describes_every_layer() {
    let app = app(0).await;
    let r = get(&app, "/tiles/all.json", &[("host", "maps.example:8080")]).await;
    assert_eq!(r.status, StatusCode::OK);
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["tilejson"], "3.0.0");
    assert_eq!(
        j["tiles"][0],
        "http://maps.example:8080/tiles/all/{z}/{x}/{y}.mvt"
    );
    let layers = j["vector_layers"].as_array().unwrap();
    assert_eq!(layers.len(), gridgov_tiles::tiled_layers().count());
    let households = layers.iter().find(|l| l["id"] == "households").unwrap();
    assert_eq!(households["minzoom"], 14);
    assert_eq!(households["fields"]["division_code"], "String");
    assert!(households["fields"].get("address").is_none());
    let bounds: Vec<f64> = j["bounds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_f64().unwrap())
        .collect();
    let c = county_rect(&app);
    assert!((bounds[0] - c.min().x).abs() < 1e-9 && (bounds[3] - c.max().y).abs() < 1e-9);

    let r = get(&app, "/tiles/roads.json", &[]).await;
    let j: serde_json::Value = serde_json::from_slice(&r.body).unwrap();
    assert_eq!(j["vector_layers"].as_array().unwrap().len(), 1);
    assert_eq!(j["tiles"][0], "/tiles/roads/{z}/{x}/{y}.mvt");
}
