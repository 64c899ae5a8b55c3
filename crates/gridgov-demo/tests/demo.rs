//! The demo county against the brief: determinism, counts, validity against the model, exact
//! tilings, households in their grids, a connected noded road network, and planted dispute
//! clusters that really stand out.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::OnceLock;

use chrono::NaiveDate;
use geo::line_intersection::{line_intersection, LineIntersection};
use geo::{
    Area, BooleanOps, BoundingRect, Contains, Coord, Distance, Geometry, Haversine, Intersects,
    Line, MultiPolygon, Point, Polygon, Rect,
};
use gridgov_demo::{generate, Demo};
use gridgov_model::layer::Rule;
use gridgov_model::{
    check_containment, validate, DivisionCode, DivisionLevel, Feature, FeatureId, Layer,
};

/// The seed under test: 42, or `GRIDGOV_DEMO_SEED` to try others.
fn seed() -> u64 {
    std::env::var("GRIDGOV_DEMO_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(42)
}

fn demo() -> &'static Demo {
    static DEMO: OnceLock<Demo> = OnceLock::new();
    DEMO.get_or_init(|| generate(seed()))
}

fn features(layer: Layer) -> &'static [Feature] {
    demo().dataset.layers.get(&layer).map_or(&[], Vec::as_slice)
}

fn text(f: &Feature, name: &str) -> String {
    f.text(name).unwrap_or_default().to_owned()
}

fn int(f: &Feature, name: &str) -> i64 {
    f.get(name)
        .and_then(gridgov_model::Value::as_i64)
        .unwrap_or(-1)
}

fn date(f: &Feature, name: &str) -> Option<NaiveDate> {
    f.get(name).and_then(gridgov_model::Value::as_date)
}

fn multi(f: &Feature) -> MultiPolygon<f64> {
    match &f.geometry {
        Some(Geometry::MultiPolygon(mp)) => mp.clone(),
        Some(Geometry::Polygon(p)) => MultiPolygon(vec![p.clone()]),
        other => panic!("not a polygon: {other:?}"),
    }
}

fn point(f: &Feature) -> Point<f64> {
    match &f.geometry {
        Some(Geometry::Point(p)) => *p,
        other => panic!("not a point: {other:?}"),
    }
}

/// Division code → (polygon, name) for the county, townships and villages.
fn divisions() -> &'static BTreeMap<DivisionCode, (MultiPolygon<f64>, String)> {
    static MAP: OnceLock<BTreeMap<DivisionCode, (MultiPolygon<f64>, String)>> = OnceLock::new();
    MAP.get_or_init(|| {
        [Layer::Counties, Layer::Townships, Layer::Villages]
            .iter()
            .flat_map(|l| features(*l))
            .map(|f| (f.division, (multi(f), text(f, "name"))))
            .collect()
    })
}

fn count_by_division(layer: Layer) -> BTreeMap<DivisionCode, usize> {
    let mut m = BTreeMap::new();
    for f in features(layer) {
        *m.entry(f.division).or_insert(0) += 1;
    }
    m
}

#[test]
fn the_same_seed_gives_the_same_demo_and_another_seed_another() {
    let again = generate(seed());
    assert!(again.dataset.layers == demo().dataset.layers);
    assert_eq!(again.clusters, demo().clusters);
    let other = generate(seed().wrapping_add(1));
    assert!(other.dataset.layers != demo().dataset.layers);
    assert_ne!(other.clusters, demo().clusters);
}

#[test]
fn the_county_has_what_the_brief_asks_for() {
    let d = &demo().dataset;
    assert_eq!(d.count(Layer::Counties), 1);
    let county = &features(Layer::Counties)[0];
    assert_eq!(county.division.as_str(), "520526000000");
    assert_eq!(text(county, "name"), "威宁彝族回族苗族自治县");
    let rect = multi(county).bounding_rect().unwrap();
    let across_km = |a: Coord<f64>, b: Coord<f64>| Haversine.distance(Point(a), Point(b)) / 1e3;
    let (min, max) = (rect.min(), rect.max());
    let width = across_km(min, Coord { x: max.x, y: min.y });
    let height = across_km(min, Coord { x: min.x, y: max.y });
    assert!((40.0..=62.0).contains(&width), "{width} km wide");
    assert!((40.0..=62.0).contains(&height), "{height} km high");
    let centre = Point::new(f64::midpoint(min.x, max.x), f64::midpoint(min.y, max.y));
    assert!(Haversine.distance(centre, Point::new(104.3, 26.9)) < 15_000.0);

    let townships = d.count(Layer::Townships);
    assert!((7..=9).contains(&townships), "{townships} townships");
    let villages = d.count(Layer::Villages);
    assert!((70..=90).contains(&villages), "{villages} villages");
    for (village, n) in count_by_division(Layer::VillagerGroups) {
        assert!((4..=10).contains(&n), "{village} has {n} villager groups");
    }
    let households = d.count(Layer::Households);
    assert!((26_000..=30_000).contains(&households), "{households}");
    // Township seats are communities, with more households than a village.
    let per_village = count_by_division(Layer::Households);
    let (mut community, mut village) = (Vec::new(), Vec::new());
    for f in features(Layer::Villages) {
        let n = per_village.get(&f.division).copied().unwrap_or(0) as f64;
        match text(f, "kind").as_str() {
            "community" => community.push(n),
            _ => village.push(n),
        }
    }
    assert!(community.len() >= townships);
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    assert!(mean(&community) > 2.0 * mean(&village));
    for f in features(Layer::Households) {
        assert!((1..=7).contains(&int(f, "size")));
        assert!(text(f, "address").starts_with("威宁县"));
    }

    assert_eq!(d.count(Layer::GridPlans), townships);
    for f in features(Layer::GridPlans) {
        assert_eq!(text(f, "status"), "effective");
        assert_eq!(f.division.level(), DivisionLevel::Township);
    }
    let grids = count_by_division(Layer::Grids);
    for f in features(Layer::Grids) {
        let n = int(f, "households");
        if grids[&f.division] == 1 {
            assert!(n < 560, "{} alone holds {n}", text(f, "code"));
        } else {
            assert!((250..=560).contains(&n), "{} holds {n}", text(f, "code"));
        }
        let phone = text(f, "worker_phone");
        assert!(phone.len() == 11 && phone.starts_with('1'));
        assert!((b'3'..=b'9').contains(&phone.as_bytes()[1]));
        assert!(text(f, "name").ends_with("网格"));
    }
    for (village, n) in &per_village {
        if *n < 300 {
            assert_eq!(grids[village], 1, "{village} has {n} households");
        }
    }

    let disputes = d.count(Layer::Disputes);
    assert!((1_500..=3_000).contains(&disputes), "{disputes}");
    assert!((4..=6).contains(&demo().clusters.len()));
}

#[test]
fn every_feature_validates_and_lies_in_its_division() {
    for layer in Layer::ALL {
        let list = features(*layer);
        for (i, f) in list.iter().enumerate() {
            assert_eq!(f.id, Some(FeatureId(i as i64 + 1)), "{layer} ids run 1..=N");
            let mut checked = f.clone();
            if let Err(e) = validate(*layer, &mut checked) {
                panic!("{layer} {i}: {e}");
            }
            assert!(&checked == f, "{layer} {i} was not already in stored form");
            let (polygon, name) = &divisions()[&f.division];
            if let Err(e) = check_containment(*layer, f, polygon, name) {
                panic!("{layer} {i}: {e}");
            }
        }
    }
}

#[test]
fn references_resolve_within_the_dataset() {
    for layer in Layer::ALL {
        for field in layer.fields() {
            if let Rule::Reference(target) = field.rule {
                let n = demo().dataset.count(target) as i64;
                for f in features(*layer) {
                    if let Some(v) = f.get(field.name) {
                        let id = v.as_i64().unwrap();
                        assert!((1..=n).contains(&id), "{layer}.{} = {id}", field.name);
                    }
                }
            }
        }
    }
    // Every grid references its own township's plan.
    let plans: HashMap<i64, DivisionCode> = features(Layer::GridPlans)
        .iter()
        .map(|f| (f.id.unwrap().0, f.division))
        .collect();
    for g in features(Layer::Grids) {
        assert_eq!(Some(plans[&int(g, "plan_id")]), g.division.township());
    }
}

/// Checks that the children tile the parent: areas add up and no two children overlap.
fn assert_tiles(parent: &MultiPolygon<f64>, children: &[MultiPolygon<f64>], what: &str) {
    let total: f64 = children.iter().map(Area::unsigned_area).sum();
    let area = parent.unsigned_area();
    assert!(
        ((total - area) / area).abs() < 1e-9,
        "{what}: children cover {total}, parent {area}"
    );
    let rects: Vec<Rect<f64>> = children
        .iter()
        .map(|c| c.bounding_rect().expect("a child has an extent"))
        .collect();
    for i in 0..children.len() {
        for j in i + 1..children.len() {
            if rects[i].intersects(&rects[j]) {
                let overlap = children[i].intersection(&children[j]).unsigned_area();
                assert!(
                    overlap <= 1e-9 * area,
                    "{what}: children {i} and {j} overlap by {overlap}"
                );
            }
        }
    }
}

#[test]
fn children_tile_their_parents_exactly() {
    let county = multi(&features(Layer::Counties)[0]);
    let townships: Vec<_> = features(Layer::Townships).iter().map(multi).collect();
    assert_tiles(&county, &townships, "townships in the county");
    for t in features(Layer::Townships) {
        let villages: Vec<_> = features(Layer::Villages)
            .iter()
            .filter(|v| v.division.parent() == Some(t.division))
            .map(multi)
            .collect();
        assert_tiles(&multi(t), &villages, &format!("villages in {}", t.division));
    }
    for v in features(Layer::Villages) {
        for layer in [Layer::VillagerGroups, Layer::Grids] {
            let children: Vec<_> = features(layer)
                .iter()
                .filter(|c| c.division == v.division)
                .map(multi)
                .collect();
            assert_tiles(&multi(v), &children, &format!("{layer} in {}", v.division));
        }
    }
}

/// For each household, the codes of the polygons of `layer` that contain it.
fn containing(layer: Layer) -> Vec<Vec<String>> {
    let polygons: Vec<(Rect<f64>, MultiPolygon<f64>, String)> = features(layer)
        .iter()
        .map(|f| {
            let mp = multi(f);
            (
                mp.bounding_rect().expect("a polygon has an extent"),
                mp,
                text(f, "code"),
            )
        })
        .collect();
    features(Layer::Households)
        .iter()
        .map(|h| {
            let p = point(h);
            polygons
                .iter()
                .filter(|(r, mp, _)| r.intersects(&p) && mp.intersects(&p))
                .map(|(_, mp, code)| {
                    assert!(
                        mp.contains(&p),
                        "a household lies on the boundary of {code}"
                    );
                    code.clone()
                })
                .collect()
        })
        .collect()
}

#[test]
fn every_household_lies_in_exactly_one_grid_and_group_and_the_codes_match() {
    for (layer, field) in [
        (Layer::Grids, "grid_code"),
        (Layer::VillagerGroups, "group_code"),
    ] {
        for (h, codes) in features(Layer::Households).iter().zip(containing(layer)) {
            assert_eq!(codes, vec![text(h, field)], "{}", text(h, "address"));
        }
    }
    let mut per_grid: HashMap<String, i64> = HashMap::new();
    for h in features(Layer::Households) {
        *per_grid.entry(text(h, "grid_code")).or_insert(0) += 1;
    }
    for g in features(Layer::Grids) {
        assert_eq!(
            per_grid.get(&text(g, "code")).copied().unwrap_or(0),
            int(g, "households")
        );
    }
}

/// Union-find: the root of `a`, halving paths on the way.
fn find(parent: &mut [usize], mut a: usize) -> usize {
    while parent[a] != a {
        parent[a] = parent[parent[a]];
        a = parent[a];
    }
    a
}

fn key(c: Coord<f64>) -> (u64, u64) {
    (c.x.to_bits(), c.y.to_bits())
}

#[test]
fn the_road_network_is_one_noded_connected_network() {
    let roads = features(Layer::Roads);
    let lines: Vec<Vec<Coord<f64>>> = roads
        .iter()
        .map(|f| match &f.geometry {
            Some(Geometry::LineString(l)) => l.0.clone(),
            other => panic!("not a line: {other:?}"),
        })
        .collect();
    // Connected: union-find over shared vertices.
    let mut ids: HashMap<(u64, u64), usize> = HashMap::new();
    let mut parent: Vec<usize> = Vec::new();
    for line in &lines {
        let mut last = None;
        for c in line {
            let id = *ids.entry(key(*c)).or_insert_with(|| {
                parent.push(parent.len());
                parent.len() - 1
            });
            if let Some(prev) = last {
                let (a, b) = (find(&mut parent, prev), find(&mut parent, id));
                parent[a] = b;
            }
            last = Some(id);
        }
    }
    let roots: BTreeSet<usize> = (0..parent.len()).map(|v| find(&mut parent, v)).collect();
    assert_eq!(
        roots.len(),
        1,
        "the network falls into {} pieces",
        roots.len()
    );

    // Noded: segments meet only at shared vertices.
    let segments: Vec<(usize, Line<f64>)> = lines
        .iter()
        .enumerate()
        .flat_map(|(i, l)| l.windows(2).map(move |w| (i, Line::new(w[0], w[1]))))
        .collect();
    let cell = 0.005;
    let mut grid: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (s, (_, line)) in segments.iter().enumerate() {
        let r = line.bounding_rect();
        for x in (r.min().x / cell).floor() as i64..=(r.max().x / cell).floor() as i64 {
            for y in (r.min().y / cell).floor() as i64..=(r.max().y / cell).floor() as i64 {
                grid.entry((x, y)).or_default().push(s);
            }
        }
    }
    let mut checked = BTreeSet::new();
    for bucket in grid.values() {
        for (n, &a) in bucket.iter().enumerate() {
            for &b in &bucket[n + 1..] {
                if !checked.insert((a.min(b), a.max(b))) {
                    continue;
                }
                let (la, lb) = (segments[a].1, segments[b].1);
                let Some(hit) = line_intersection(la, lb) else {
                    continue;
                };
                let shared = |c: Coord<f64>| {
                    (c == la.start || c == la.end) && (c == lb.start || c == lb.end)
                };
                match hit {
                    LineIntersection::SinglePoint {
                        intersection,
                        is_proper: false,
                    } if shared(intersection) => {}
                    other => panic!(
                        "roads {} and {} cross without a shared vertex: {other:?}",
                        segments[a].0, segments[b].0
                    ),
                }
            }
        }
    }

    // Classes, names and owners.
    let mut classes = BTreeSet::new();
    for f in roads {
        let class = text(f, "class");
        let level = f.division.level();
        match class.as_str() {
            "trunk" | "primary" => assert_eq!(level, DivisionLevel::County),
            "secondary" => assert_eq!(level, DivisionLevel::Township),
            _ => assert_eq!(level, DivisionLevel::Village),
        }
        classes.insert(class);
    }
    for c in ["trunk", "primary", "secondary", "village", "lane"] {
        assert!(classes.contains(c), "no {c} roads");
    }
    let names: BTreeSet<String> = roads.iter().map(|f| text(f, "name")).collect();
    assert!(names.contains("G326"));
    assert!(names.iter().any(|n| n.starts_with("县道X")));
    assert!(names.iter().any(|n| n.ends_with("村村道")));
    assert!(roads
        .iter()
        .any(|f| text(f, "class") == "lane" && f.get("oneway") == Some(&true.into())));
}

#[test]
fn water_and_land_use_are_where_they_belong() {
    let water = features(Layer::Water);
    let kinds: BTreeSet<String> = water.iter().map(|f| text(f, "kind")).collect();
    for k in ["river", "stream", "reservoir", "lake"] {
        assert!(kinds.contains(k), "no {k}");
    }
    let county = multi(&features(Layer::Counties)[0]);
    let river = water.iter().find(|f| text(f, "kind") == "river").unwrap();
    let Some(Geometry::LineString(line)) = &river.geometry else {
        panic!("the river is no line")
    };
    assert!(
        !county.contains(&Point(line.0[0])) && !county.contains(&Point(*line.0.last().unwrap()))
    );
    assert!(county.intersects(line), "the river must cross the county");
    let lakes: Vec<Polygon<f64>> = water
        .iter()
        .filter_map(|f| match &f.geometry {
            Some(Geometry::Polygon(p)) => Some(p.clone()),
            _ => None,
        })
        .collect();
    for h in features(Layer::Households) {
        let p = point(h);
        assert!(
            lakes.iter().all(|l| !l.intersects(&p)),
            "{} is under water",
            text(h, "address")
        );
    }

    let land = features(Layer::LandUse);
    let kinds: BTreeSet<String> = land.iter().map(|f| text(f, "kind")).collect();
    for k in ["farmland", "forest", "built_up", "grassland"] {
        assert!(kinds.contains(k), "no {k}");
    }
    let mut by_village: BTreeMap<DivisionCode, Vec<MultiPolygon<f64>>> = BTreeMap::new();
    for f in land {
        by_village.entry(f.division).or_default().push(multi(f));
    }
    for (village, patches) in by_village {
        let rects: Vec<_> = patches.iter().map(|p| p.bounding_rect().unwrap()).collect();
        for i in 0..patches.len() {
            for j in i + 1..patches.len() {
                if rects[i].intersects(&rects[j]) {
                    let overlap = patches[i].intersection(&patches[j]).unsigned_area();
                    assert!(overlap < 1e-12, "land use overlaps in {village}");
                }
            }
        }
    }
}

#[test]
fn sanitation_follows_the_plan() {
    let groups = count_by_division(Layer::VillagerGroups);
    let stations = count_by_division(Layer::TransferStations);
    for v in features(Layer::Villages) {
        let n = stations.get(&v.division).copied().unwrap_or(0);
        assert!(
            (1..=3).contains(&n),
            "{} has {n} transfer stations",
            v.division
        );
    }
    assert_eq!(
        count_by_division(Layer::Incinerators).len(),
        features(Layer::Townships).len()
    );
    let points = features(Layer::CollectionPoints).len() as f64;
    let per_point = features(Layer::Households).len() as f64 / points;
    assert!(
        (15.0..=30.0).contains(&per_point),
        "{per_point} households per point"
    );
    for f in features(Layer::CollectionPoints) {
        let every = int(f, "every_days");
        match text(f, "kind").as_str() {
            "garbage_pool" => assert!((2..=3).contains(&every)),
            _ => assert_eq!(every, 1),
        }
    }
    let vehicles = features(Layer::Vehicles);
    for t in features(Layer::Townships) {
        let trucks = vehicles
            .iter()
            .filter(|v| v.division == t.division && text(v, "kind") == "truck")
            .count();
        assert!((1..=2).contains(&trucks));
    }
    for v in features(Layer::Villages) {
        let tricycles = vehicles.iter().filter(|x| x.division == v.division).count();
        assert_eq!(tricycles, 1);
    }
    let cleaners = count_by_division(Layer::Cleaners);
    for (village, n) in groups {
        assert_eq!(cleaners[&village], n + 3);
    }
    let group_codes: BTreeSet<String> = features(Layer::VillagerGroups)
        .iter()
        .map(|g| text(g, "code"))
        .collect();
    for c in features(Layer::Cleaners) {
        let area = text(c, "area_code");
        assert!(
            area == c.division.as_str() || group_codes.contains(&area),
            "{area}"
        );
    }
}

#[test]
fn persons_have_unique_id_cards() {
    let persons = features(Layer::Persons);
    let cards: BTreeSet<String> = persons.iter().map(|p| text(p, "id_card")).collect();
    assert_eq!(cards.len(), persons.len());
    assert!(cards.iter().all(|c| c.starts_with("520526")));
}

#[test]
fn rental_houses_and_tenancies_are_registered() {
    let households = features(Layer::Households);
    let houses = features(Layer::RentalHouses);
    let share = houses.len() as f64 / households.len() as f64;
    assert!((0.045..=0.055).contains(&share), "{share}");
    for r in houses {
        let h = &households[int(r, "household_id") as usize - 1];
        assert_eq!(h.geometry, r.geometry);
        assert_eq!(text(h, "address"), text(r, "address"));
        assert!((1..=8).contains(&int(r, "rooms")));
    }
    let mut per_house: HashMap<i64, usize> = HashMap::new();
    for t in features(Layer::Tenancies) {
        *per_house.entry(int(t, "rental_house_id")).or_insert(0) += 1;
    }
    assert_eq!(per_house.len(), houses.len());
    assert!(per_house.values().all(|n| (1..=4).contains(n)));
    let out = features(Layer::Tenancies)
        .iter()
        .filter(|t| t.get("check_out").is_some())
        .count();
    assert!(out > 0 && out < features(Layer::Tenancies).len());
}

#[test]
fn supervised_persons_mostly_stay_inside_their_fence() {
    let persons = features(Layer::SupervisedPersons);
    let n = persons.len() as f64;
    let expected = features(Layer::Households).len() as f64 / 1_000.0;
    assert!(
        (n - expected).abs() <= 0.3 * expected,
        "{n} supervised persons"
    );
    let mut reports: HashMap<i64, Vec<Point<f64>>> = HashMap::new();
    for r in features(Layer::PositionReports) {
        reports
            .entry(int(r, "supervised_person_id"))
            .or_default()
            .push(point(r));
    }
    let mut breaches = 0;
    for p in persons {
        let fence = multi(p);
        let list = &reports[&p.id.unwrap().0];
        assert!(list.len() >= 60, "{} reports in three weeks", list.len());
        let outside = list.iter().filter(|q| !fence.contains(*q)).count();
        assert!(outside <= 3, "{outside} reports outside the fence");
        breaches += usize::from(outside > 0);
    }
    assert!(
        breaches >= 3,
        "only {breaches} persons ever left their area"
    );
}

#[test]
fn planted_clusters_are_denser_than_the_background() {
    let disputes: Vec<(Point<f64>, NaiveDate, String, DivisionCode)> = features(Layer::Disputes)
        .iter()
        .map(|f| {
            (
                point(f),
                date(f, "opened_on").unwrap(),
                text(f, "category"),
                f.division,
            )
        })
        .collect();
    let first = disputes.iter().map(|d| d.1).min().unwrap();
    let last = disputes.iter().map(|d| d.1).max().unwrap();
    assert!(first >= NaiveDate::from_ymd_opt(2024, 11, 1).unwrap());
    assert!(last <= NaiveDate::from_ymd_opt(2026, 10, 31).unwrap());
    let months = |a: NaiveDate, b: NaiveDate| ((b - a).num_days() + 1) as f64 / 30.44;
    let total_months = months(first, last);
    let county_km2 = {
        let county = multi(&features(Layer::Counties)[0]);
        let rect = county.bounding_rect().unwrap();
        let (min, max) = (rect.min(), rect.max());
        let w = Haversine.distance(Point(min), Point::new(max.x, min.y)) / 1e3;
        let h = Haversine.distance(Point(min), Point::new(min.x, max.y)) / 1e3;
        county.unsigned_area() / rect.to_polygon().unsigned_area() * w * h
    };
    let county_density = disputes.len() as f64 / county_km2 / total_months;
    for c in &demo().clusters {
        let centre = Point::new(c.center_lon, c.center_lat);
        let near: Vec<_> = disputes
            .iter()
            .filter(|d| Haversine.distance(centre, d.0) <= c.radius_m * 1.01)
            .collect();
        let during = near.iter().filter(|d| d.1 >= c.from && d.1 <= c.to).count();
        let planted = near
            .iter()
            .filter(|d| {
                d.1 >= c.from && d.1 <= c.to && d.2 == c.category && d.3.as_str() == c.village_code
            })
            .count();
        assert!(
            planted >= c.count,
            "{}: {planted} of {} found",
            c.category,
            c.count
        );
        assert!(
            c.count >= 25,
            "{} has only {} disputes",
            c.category,
            c.count
        );
        let km2 = std::f64::consts::PI * (c.radius_m / 1e3).powi(2);
        let window = months(c.from, c.to);
        let inside = during as f64 / km2 / window;
        let outside = (near.len() - during) as f64 / km2 / (total_months - window);
        assert!(
            inside >= 5.0 * outside,
            "{}: {inside:.2} vs {outside:.2} per km² and month",
            c.category
        );
        assert!(
            inside >= 20.0 * county_density,
            "{}: {inside:.2} vs county {county_density:.3}",
            c.category
        );
    }
}

/// The demo's cases were played through the workflow: each history starts with the report,
/// ends where the case stands, and never skips a level; most cases settle in the village
/// (小事不出村), some climb, a few are overdue or backlog cases, and most backlog cases have
/// a leader and a plan.
#[test]
fn disputes_carry_histories_the_workflow_would_have_written() {
    use gridgov_disputes::case::Case;
    use gridgov_model::vocab::{DisputeAction, DisputeLevel, DisputeStatus};
    let steps = features(Layer::DisputeSteps);
    let mut by_case: HashMap<i64, Vec<&Feature>> = HashMap::new();
    for s in steps {
        by_case
            .entry(
                s.get("dispute_id")
                    .and_then(gridgov_model::Value::as_i64)
                    .unwrap(),
            )
            .or_default()
            .push(s);
    }
    let as_of = NaiveDate::from_ymd_opt(2026, 10, 31).unwrap();
    let (mut village, mut finished, mut climbed, mut backlog, mut led) = (0, 0, 0, 0, 0);
    for f in features(Layer::Disputes) {
        let c = Case::from_feature(f)
            .unwrap()
            .with_steps(by_case[&f.id.unwrap().0].iter().copied())
            .unwrap();
        let first = &c.steps[0];
        assert_eq!(first.action, DisputeAction::Report);
        assert_eq!(first.level, DisputeLevel::Village);
        assert_eq!(first.at.date_naive(), c.opened_on);
        let last = c.steps.last().unwrap();
        assert_eq!(
            (last.status, last.level),
            (c.status, c.level),
            "case {:?}",
            c.id
        );
        assert!(c.steps.windows(2).all(|w| w[0].at <= w[1].at));
        assert!(c.steps.iter().all(|s| s.at.date_naive() <= as_of));
        for w in c.steps.windows(2) {
            let (a, b) = (w[0].level as u8, w[1].level as u8);
            assert!(b == a || b == a + 1, "case {:?} skips a level", c.id);
        }
        if c.status.is_finished() {
            finished += 1;
            if c.status == DisputeStatus::Settled && c.level == DisputeLevel::Village {
                village += 1;
            }
            assert!(c.closed_on.is_some());
        }
        climbed += usize::from(c.level != DisputeLevel::Village);
        if gridgov_disputes::ledger::is_backlog(&c, as_of) {
            backlog += 1;
            led += usize::from(c.leader.is_some() && c.plan.is_some());
        }
        assert!(c.grid.is_some(), "every demo dispute lies in a grid");
        assert_eq!(c.parties.len(), 2);
    }
    let n = features(Layer::Disputes).len();
    let share = f64::from(village) / f64::from(finished);
    assert!((0.6..0.9).contains(&share), "小事不出村率 {share}");
    assert!(
        climbed * 20 > n && climbed * 3 < n,
        "{climbed} of {n} escalated"
    );
    assert!(
        backlog > 0 && led * 2 > backlog,
        "{led} of {backlog} backlog cases led"
    );
}
