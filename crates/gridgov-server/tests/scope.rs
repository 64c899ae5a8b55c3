//! The region matrix: a county of two townships × two villages × two grids, one account of
//! every role at several scopes, every reading endpoint (items by listing, bbox, near and id;
//! layers; H3 counts; lookups; OGC API; vector tiles from zoom 0 to 18), on the GeoPackage and
//! on PostGIS: no feature from outside the account's scope, every feature inside it, personal
//! fields masked as the role allows. What is inside is known from how the county was built,
//! not asked of the server's own rules.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use chrono::NaiveDate;
use geo::{point, polygon, Geometry, MultiPolygon, Rect};
use gridgov_model::access::{mask_id_card, mask_name, mask_phone};
use gridgov_model::{Feature, FeatureId, IdCardNumber, Layer, Role};
use gridgov_store::gpkg::GpkgStore;
use gridgov_store::testing::TempDatabase;
use gridgov_store::{write, Op, Store};
use gridgov_tiles::{decode, tiles_covering, TileId};
use http_body_util::BodyExt;
use serde_json::Value as J;
use tower::ServiceExt;

const COUNTY: &str = "520526000000";
const TOWNSHIPS: [&str; 2] = ["520526101000", "520526102000"];

/// Where a feature of the fixture lies: its township, village and grid (as far as it has them).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Place {
    township: Option<String>,
    village: Option<String>,
    grid: Option<String>,
}

/// Every feature of the fixture with its place.
type Placed = BTreeMap<(Layer, i64), Place>;

fn rect(x0: f64, y0: f64, x1: f64, y1: f64) -> geo::Polygon<f64> {
    polygon![(x: x0, y: y0), (x: x1, y: y0), (x: x1, y: y1), (x: x0, y: y1), (x: x0, y: y0)]
}

fn multi(x0: f64, y0: f64, x1: f64, y1: f64) -> Geometry<f64> {
    Geometry::MultiPolygon(MultiPolygon(vec![rect(x0, y0, x1, y1)]))
}

fn with_id(mut f: Feature, id: i64) -> Feature {
    f.id = Some(FeatureId(id));
    f
}

fn id_card(n: i64) -> String {
    let body = format!(
        "520526198{:03}{:02}{:03}",
        101 + n % 9,
        10 + n % 18,
        n % 1000
    );
    let body = &body[..17];
    let mut first = [b'0'; 17];
    first.copy_from_slice(body.as_bytes());
    format!("{body}{}", IdCardNumber::check_char(&first))
}

/// The county: townships split west/east, villages south/north, grids west/east within each
/// village; in every grid two households, a dispute, a rental house and a position report; in
/// every village a transfer station, two persons (one supervised, fenced in its grid G01)
/// and a tenancy.
#[expect(
    clippy::many_single_char_names,
    reason = "d, t, v, g and h name a division, township, village, grid and household id in a fixture"
)]
fn county() -> (Vec<Vec<Op>>, Placed) {
    let mut placed = Placed::new();
    let d = |s: &str| s.parse().unwrap();
    let mut divisions = vec![Op::Insert(
        Layer::Counties,
        with_id(
            Feature::new(d(COUNTY), Some(multi(104.0, 26.0, 105.0, 27.0)))
                .with("code", COUNTY)
                .with("name", "威宁县"),
            1,
        ),
    )];
    placed.insert((Layer::Counties, 1), Place::default());
    let mut people = Vec::new();
    let mut rest = Vec::new();
    let mut next: BTreeMap<Layer, i64> = BTreeMap::new();
    let mut id = |layer: Layer| {
        let n = next.entry(layer).or_insert(0);
        *n += 1;
        *n
    };
    let day = NaiveDate::from_ymd_opt(2026, 3, 1).unwrap();
    for (ti, township) in TOWNSHIPS.iter().enumerate() {
        let x0 = 104.0 + 0.5 * ti as f64;
        let t = id(Layer::Townships);
        divisions.push(Op::Insert(
            Layer::Townships,
            with_id(
                Feature::new(d(township), Some(multi(x0, 26.0, x0 + 0.5, 27.0)))
                    .with("code", *township)
                    .with("name", format!("乡镇{ti}")),
                t,
            ),
        ));
        let tp = Place {
            township: Some((*township).to_owned()),
            ..Place::default()
        };
        placed.insert((Layer::Townships, t), tp.clone());
        let plan = id(Layer::GridPlans);
        divisions.push(Op::Insert(
            Layer::GridPlans,
            with_id(
                Feature::new(d(township), None)
                    .with("name", "方案")
                    .with("status", "effective")
                    .with("created_on", day)
                    .with("effective_from", day),
                plan,
            ),
        ));
        placed.insert((Layer::GridPlans, plan), tp.clone());
        for vi in 0..2 {
            let village = format!("{}{}", &township[..9], 201 + vi);
            let y0 = 26.0 + 0.5 * f64::from(vi);
            let v = id(Layer::Villages);
            divisions.push(Op::Insert(
                Layer::Villages,
                with_id(
                    Feature::new(d(&village), Some(multi(x0, y0, x0 + 0.5, y0 + 0.5)))
                        .with("code", village.as_str())
                        .with("name", format!("村{ti}{vi}")),
                    v,
                ),
            ));
            let vp = Place {
                village: Some(village.clone()),
                ..tp.clone()
            };
            placed.insert((Layer::Villages, v), vp.clone());
            let station = id(Layer::TransferStations);
            rest.push(Op::Insert(
                Layer::TransferStations,
                with_id(
                    Feature::new(d(&village), Some(point!(x: x0 + 0.25, y: y0 + 0.05).into()))
                        .with("name", format!("转运站{ti}{vi}"))
                        .with("capacity_t", 5.0),
                    station,
                ),
            ));
            // On the line between the two grids: the village's, in neither grid alone.
            placed.insert((Layer::TransferStations, station), vp.clone());
            let mut persons = Vec::new();
            for k in 0..2 {
                let p = id(Layer::Persons);
                people.push(Op::Insert(
                    Layer::Persons,
                    with_id(
                        Feature::new(d(&village), None)
                            .with("name", format!("张{ti}{vi}{k}"))
                            .with("id_card", id_card(p))
                            .with("phone", format!("138{p:08}")),
                        p,
                    ),
                ));
                placed.insert((Layer::Persons, p), vp.clone());
                persons.push(p);
            }
            for gi in 0..2 {
                let grid = format!("{village}-G{:02}", gi + 1);
                let gx = x0 + 0.25 * f64::from(gi);
                let g = id(Layer::Grids);
                divisions.push(Op::Insert(
                    Layer::Grids,
                    with_id(
                        Feature::new(d(&village), Some(rect(gx, y0, gx + 0.25, y0 + 0.5).into()))
                            .with("code", grid.as_str())
                            .with("name", format!("网格{gi}"))
                            .with("plan_id", plan)
                            .with("worker_name", "李四")
                            .with("worker_phone", "13900000000"),
                        g,
                    ),
                ));
                let gp = Place {
                    grid: Some(grid.clone()),
                    ..vp.clone()
                };
                placed.insert((Layer::Grids, g), gp.clone());
                let (cx, cy) = (gx + 0.125, y0 + 0.25);
                for k in 0..2 {
                    let h = id(Layer::Households);
                    rest.push(Op::Insert(
                        Layer::Households,
                        with_id(
                            Feature::new(
                                d(&village),
                                Some(point!(x: cx + 0.01 * f64::from(k), y: cy).into()),
                            )
                            .with("address", format!("{grid} {k}号"))
                            .with("grid_code", grid.as_str()),
                            h,
                        ),
                    ));
                    placed.insert((Layer::Households, h), gp.clone());
                }
                let dispute = id(Layer::Disputes);
                rest.push(Op::Insert(
                    Layer::Disputes,
                    with_id(
                        Feature::new(d(&village), Some(point!(x: cx, y: cy + 0.05).into()))
                            .with("category", "land_contracting")
                            .with("channel", "people")
                            .with("level", "village")
                            .with("status", "mediating")
                            .with("opened_on", day)
                            .with("description", format!("{grid}的纠纷")),
                        dispute,
                    ),
                ));
                placed.insert((Layer::Disputes, dispute), gp.clone());
                let house = id(Layer::RentalHouses);
                rest.push(Op::Insert(
                    Layer::RentalHouses,
                    with_id(
                        Feature::new(d(&village), Some(point!(x: cx, y: cy - 0.05).into()))
                            .with("address", format!("{grid} 出租屋"))
                            .with("landlord_id", persons[0]),
                        house,
                    ),
                ));
                placed.insert((Layer::RentalHouses, house), gp.clone());
                if gi == 0 {
                    let sp = id(Layer::SupervisedPersons);
                    rest.push(Op::Insert(
                        Layer::SupervisedPersons,
                        with_id(
                            Feature::new(
                                d(&village),
                                Some(rect(cx - 0.05, cy - 0.05, cx + 0.05, cy + 0.05).into()),
                            )
                            .with("person_id", persons[1])
                            .with("category", "community_correction")
                            .with("officer", "王司法")
                            .with("start_date", day),
                            sp,
                        ),
                    ));
                    placed.insert((Layer::SupervisedPersons, sp), gp.clone());
                    let report = id(Layer::PositionReports);
                    rest.push(Op::Insert(
                        Layer::PositionReports,
                        with_id(
                            Feature::new(d(&village), Some(point!(x: cx, y: cy + 0.02).into()))
                                .with("supervised_person_id", sp)
                                .with("reported_at", day.and_hms_opt(9, 0, 0).unwrap().and_utc()),
                            report,
                        ),
                    ));
                    placed.insert((Layer::PositionReports, report), gp.clone());
                    let tenancy = id(Layer::Tenancies);
                    rest.push(Op::Insert(
                        Layer::Tenancies,
                        with_id(
                            Feature::new(d(&village), None)
                                .with("rental_house_id", house)
                                .with("person_id", persons[0])
                                .with("check_in", day),
                            tenancy,
                        ),
                    ));
                    placed.insert((Layer::Tenancies, tenancy), vp.clone());
                }
            }
        }
    }
    (vec![divisions, people, rest], placed)
}

/// An account of the matrix.
struct Account {
    name: &'static str,
    role: Role,
    scope: &'static str,
}

const ACCOUNTS: &[Account] = &[
    Account {
        name: "county",
        role: Role::CountyAdmin,
        scope: COUNTY,
    },
    Account {
        name: "township",
        role: Role::TownshipOfficer,
        scope: "520526101000",
    },
    Account {
        name: "village",
        role: Role::VillageOfficer,
        scope: "520526102202",
    },
    Account {
        name: "grid",
        role: Role::GridWorker,
        scope: "520526102201-G02",
    },
    Account {
        name: "screen",
        role: Role::CommandScreen,
        scope: COUNTY,
    },
    Account {
        name: "screen2",
        role: Role::CommandScreen,
        scope: "520526102000",
    },
    Account {
        name: "judicial",
        role: Role::JudicialOfficer,
        scope: "520526101000",
    },
];

/// Whether a feature at `place` lies in `scope`, from the fixture's own layout.
fn inside(scope: &str, place: &Place) -> bool {
    if scope == COUNTY {
        return true;
    }
    if scope.contains("-G") {
        return place.grid.as_deref() == Some(scope)
            // The village polygon holds the grid; features without a place in a grid
            // (persons, tenancies) belong to the village as a whole; the station on the line
            // between the grids does not belong to a grid's inside.
            || (place.grid.is_none()
                && place.village.as_deref() == Some(&scope[..12])
                && place.township.is_some());
    }
    if scope.ends_with("000") {
        place.township.as_deref() == Some(scope)
    } else {
        place.village.as_deref() == Some(scope)
    }
}

/// The ids each account must see, per layer it reads.
fn expected(account: &Account, placed: &Placed) -> BTreeMap<Layer, BTreeSet<i64>> {
    let mut out: BTreeMap<Layer, BTreeSet<i64>> = Layer::ALL
        .iter()
        .filter(|l| account.role.reads(**l))
        .map(|l| (*l, BTreeSet::new()))
        .collect();
    for ((layer, id), place) in placed {
        if let Some(ids) = out.get_mut(layer) {
            if inside(account.scope, place) {
                ids.insert(*id);
            }
        }
    }
    out
}

async fn send(app: &axum::Router, token: &str, uri: &str) -> (StatusCode, J) {
    let r = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .header("host", "gridgov.test")
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = r.status();
    let bytes = r.into_body().collect().await.unwrap().to_bytes();
    (status, serde_json::from_slice(&bytes).unwrap_or(J::Null))
}

async fn tile(app: &axum::Router, token: &str, uri: &str) -> (StatusCode, Vec<u8>) {
    let r = app
        .clone()
        .oneshot(
            Request::get(uri)
                .header("authorization", format!("Bearer {token}"))
                .body(Body::empty())
                .unwrap(),
        )
        .await
        .unwrap();
    let status = r.status();
    (
        status,
        r.into_body().collect().await.unwrap().to_bytes().to_vec(),
    )
}

fn ids(fc: &J) -> BTreeSet<i64> {
    fc["features"]
        .as_array()
        .unwrap_or_else(|| panic!("not a feature collection: {fc}"))
        .iter()
        .map(|f| f["id"].as_i64().unwrap())
        .collect()
}

/// Writes the county through `store` and serves it from `served` (the same store, or on
/// PostGIS one connected as the server's role, under row-level security).
async fn matrix(store: Arc<dyn Store>, served: Arc<dyn Store>) {
    let (batches, placed) = county();
    for ops in batches {
        write(store.as_ref(), ops).await.unwrap();
    }
    let persons: BTreeMap<i64, Feature> = store
        .query(Layer::Persons, &gridgov_store::Query::default())
        .await
        .unwrap()
        .into_iter()
        .map(|f| (f.id.unwrap().0, f))
        .collect();
    let app = common::router_over(served.clone(), &std::env::temp_dir()).await;
    let county_rect = Rect::new((104.0, 26.0), (105.0, 27.0));
    let mut tiles_read = 0usize;
    for account in ACCOUNTS {
        let who = account.name;
        let token = common::sign_in(&app, store.as_ref(), who, account.role, account.scope).await;
        let want = expected(account, &placed);

        // The layer list: the layers the role reads, counted in scope.
        let (status, layers) = send(&app, &token, "/api/v1/layers").await;
        assert_eq!(status, StatusCode::OK, "{who}");
        let listed: BTreeMap<String, u64> = layers["layers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|l| {
                (
                    l["name"].as_str().unwrap().to_owned(),
                    l["count"].as_u64().unwrap(),
                )
            })
            .collect();
        let want_counts: BTreeMap<String, u64> = want
            .iter()
            .map(|(l, ids)| (l.name().to_owned(), ids.len() as u64))
            .collect();
        assert_eq!(listed, want_counts, "{who}: /api/v1/layers");

        for layer in Layer::ALL {
            let name = layer.name();
            let items = format!("/api/v1/layers/{name}/items?limit=10000");
            let (status, fc) = send(&app, &token, &items).await;
            let Some(want_ids) = want.get(layer) else {
                assert_eq!(status, StatusCode::FORBIDDEN, "{who}: {items}");
                let (status, _) =
                    send(&app, &token, &format!("/ogc/collections/{name}/items")).await;
                assert_eq!(status, StatusCode::FORBIDDEN, "{who}: OGC {name}");
                continue;
            };
            assert_eq!(status, StatusCode::OK, "{who}: {items}");
            assert_eq!(&ids(&fc), want_ids, "{who}: {items}");
            // Keyset pages of one feature cover the same set.
            let mut paged = BTreeSet::new();
            let mut next = Some(format!("/api/v1/layers/{name}/items?limit=1"));
            while let Some(uri) = next.take() {
                let (status, page) = send(&app, &token, &uri).await;
                assert_eq!(status, StatusCode::OK, "{who}: {uri}");
                paged.extend(ids(&page));
                next = page["links"]
                    .as_array()
                    .and_then(|l| l.iter().find(|l| l["rel"] == "next"))
                    .map(|l| l["href"].as_str().unwrap().to_owned());
            }
            assert_eq!(&paged, want_ids, "{who}: {name} by pages");
            // Each feature by id: there when inside, 404 when not.
            for ((l, id), _) in placed.iter().filter(|((l, _), _)| l == layer) {
                let (status, f) =
                    send(&app, &token, &format!("/api/v1/layers/{name}/items/{id}")).await;
                let visible = want_ids.contains(id);
                assert_eq!(
                    status,
                    if visible {
                        StatusCode::OK
                    } else {
                        StatusCode::NOT_FOUND
                    },
                    "{who}: {l} {id}: {f}"
                );
                let (status, _) =
                    send(&app, &token, &format!("/ogc/collections/{name}/items/{id}")).await;
                assert_eq!(status == StatusCode::OK, visible, "{who}: OGC {l} {id}");
            }
            // The OGC API sees the same.
            let (status, fc) = send(
                &app,
                &token,
                &format!("/ogc/collections/{name}/items?limit=10000"),
            )
            .await;
            assert_eq!(status, StatusCode::OK, "{who}: OGC {name}");
            assert_eq!(&ids(&fc), want_ids, "{who}: OGC {name}");
            assert_eq!(
                fc["numberMatched"].as_u64(),
                Some(want_ids.len() as u64),
                "{who}: OGC {name}"
            );
            if layer.geometry() != gridgov_model::GeometryKind::None {
                let (status, fc) = send(&app, &token, &format!("{items}&bbox=104,26,105,27")).await;
                assert_eq!(status, StatusCode::OK, "{who}: bbox {name}");
                assert_eq!(&ids(&fc), want_ids, "{who}: bbox {name}");
                let (status, fc) = send(&app, &token, &format!("{items}&near=104.5,26.5")).await;
                assert_eq!(status, StatusCode::OK, "{who}: near {name}");
                assert!(ids(&fc).is_subset(want_ids), "{who}: near {name}");
            }
            // Personal fields, masked as the role allows.
            if *layer == Layer::Persons {
                for f in fc["features"].as_array().unwrap() {
                    let id = f["id"].as_i64().unwrap();
                    let stored = &persons[&id];
                    let p = &f["properties"];
                    assert_eq!(
                        p["id_card"],
                        mask_id_card(stored.text("id_card").unwrap()),
                        "{who}"
                    );
                    assert_eq!(
                        p["phone"],
                        mask_phone(stored.text("phone").unwrap()),
                        "{who}"
                    );
                    let name = stored.text("name").unwrap();
                    let shown = if account.role == Role::CommandScreen {
                        mask_name(name)
                    } else {
                        name.to_owned()
                    };
                    assert_eq!(p["name"], shown.as_str(), "{who}");
                    assert!(
                        !f.to_string().contains(stored.text("id_card").unwrap()),
                        "{who}"
                    );
                }
            }
        }

        // The OGC collections are the layers the role reads.
        let (_, cols) = send(&app, &token, "/ogc/collections").await;
        let cols: BTreeSet<String> = cols["collections"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_str().unwrap().to_owned())
            .collect();
        let readable: BTreeSet<String> = want.keys().map(|l| l.name().to_owned()).collect();
        assert_eq!(cols, readable, "{who}: /ogc/collections");

        // H3 counts add up to what the account sees.
        let (status, h3) = send(&app, &token, "/api/v1/layers/disputes/h3?resolution=7").await;
        assert_eq!(status, StatusCode::OK, "{who}");
        assert_eq!(
            h3["total"].as_u64(),
            Some(want[&Layer::Disputes].len() as u64),
            "{who}: h3"
        );

        // Lookups: answered inside the scope only, and with nothing from outside it.
        for ((layer, id), place) in &placed {
            if *layer != Layer::Grids {
                continue;
            }
            let grid = &placed_grid_centre(*id);
            let (status, l) = send(
                &app,
                &token,
                &format!("/api/v1/lookup?lon={}&lat={}&crs=wgs84", grid.0, grid.1),
            )
            .await;
            if inside(account.scope, place) {
                assert_eq!(status, StatusCode::OK, "{who}: lookup in grid {id}: {l}");
                for (part, part_layer) in [
                    ("township", Layer::Townships),
                    ("village", Layer::Villages),
                    ("grid", Layer::Grids),
                    ("transfer_station", Layer::TransferStations),
                ] {
                    if let Some(found) = l[part]["id"].as_i64() {
                        assert!(
                            want.get(&part_layer).is_some_and(|w| w.contains(&found)),
                            "{who}: lookup {part} {found}"
                        );
                    }
                }
            } else {
                assert_eq!(
                    status,
                    StatusCode::NOT_FOUND,
                    "{who}: lookup outside, grid {id}: {l}"
                );
            }
        }

        // Tiles from zoom 0 to 18 over the county and around a household of every grid.
        let mut seen: BTreeMap<Layer, BTreeSet<i64>> = BTreeMap::new();
        let mut addresses: Vec<TileId> = Vec::new();
        for z in 0..=9 {
            addresses.extend(tiles_covering(county_rect, z));
        }
        for (layer, id) in placed.keys() {
            if *layer == Layer::Grids {
                let (x, y) = placed_grid_centre(*id);
                let around = Rect::new((x - 0.002, y - 0.002), (x + 0.002, y + 0.002));
                for z in 10..=18 {
                    addresses.extend(tiles_covering(around, z));
                }
            }
        }
        for t in &addresses {
            let uri = format!("/tiles/all/{}/{}/{}.mvt", t.z(), t.x(), t.y());
            let (status, bytes) = tile(&app, &token, &uri).await;
            assert_eq!(status, StatusCode::OK, "{who}: {uri}");
            for l in decode(&bytes).unwrap().layers {
                let layer: Layer = l.name.parse().unwrap();
                for f in l.features {
                    let id = i64::try_from(f.id.unwrap()).unwrap();
                    assert!(
                        want.get(&layer).is_some_and(|w| w.contains(&id)),
                        "{who}: {uri} holds {layer} {id}, outside the account's scope or layers"
                    );
                    seen.entry(layer).or_default().insert(id);
                }
            }
            tiles_read += 1;
        }
        // Not vacuous: the tiles show what the account may see.
        assert!(
            seen.get(&Layer::Households).is_some_and(|s| !s.is_empty())
                || !want.contains_key(&Layer::Households),
            "{who}: no household in any tile"
        );
        // A layer the role does not read is refused by name.
        for layer in Layer::ALL
            .iter()
            .filter(|l| !want.contains_key(l) && gridgov_tiles::schema(**l).is_some())
        {
            let (status, _) = tile(
                &app,
                &token,
                &format!("/tiles/{}/12/3300/1700.mvt", layer.name()),
            )
            .await;
            assert_eq!(status, StatusCode::FORBIDDEN, "{who}: tiles of {layer}");
        }
    }
    assert!(tiles_read >= 1000, "only {tiles_read} tiles read");
}

/// The centre of grid `id` of the fixture (ids are given in building order: township, village,
/// grid).
fn placed_grid_centre(id: i64) -> (f64, f64) {
    let n = id - 1; // 0..8
    let (ti, vi, gi) = (n / 4, (n / 2) % 2, n % 2);
    (
        104.0 + 0.5 * ti as f64 + 0.25 * gi as f64 + 0.125,
        26.0 + 0.5 * vi as f64 + 0.25,
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_account_sees_outside_its_scope_on_the_geopackage() {
    let dir = tempfile::tempdir().unwrap();
    let store: Arc<dyn Store> =
        Arc::new(GpkgStore::open(&dir.path().join("m.gpkg")).await.unwrap());
    matrix(store.clone(), store).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_account_sees_outside_its_scope_on_postgis() {
    let db = TempDatabase::create("scope").await.unwrap();
    let (store, served) = common::postgis_stores(&db).await;
    matrix(store, served).await;
    db.drop_now().await.unwrap();
}
