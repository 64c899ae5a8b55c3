//! The analysis pipeline on hand-made events: time slices, errors, bounds and regions.
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use chrono::{DateTime, TimeZone, Utc};
use geo::Contains;
use gridgov_hotspot::analysis::{
    analyse, cell_polygon, summarise_regions, AnalysisError, HotspotRequest, Method, Slicing,
};
use gridgov_hotspot::bin::{DisputeEvent, EventFilter};
use gridgov_hotspot::classify::GiBin;
use h3o::LatLng;

fn day(y: i32, m: u32, d: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, 0, 0, 0).unwrap()
}

fn at(lon: f64, lat: f64, time: DateTime<Utc>, category: &str) -> DisputeEvent {
    DisputeEvent {
        lon,
        lat,
        time,
        category: category.into(),
        channel: "people".into(),
    }
}

/// A busy spot (45 events on a 3 × 3 grid of points 400 m apart, a few cells at resolution
/// 8) and a sparse line of 40 single events 2 km apart.
fn events(time: DateTime<Utc>) -> Vec<DisputeEvent> {
    (0..45)
        .map(|i| {
            let (col, row) = (f64::from(i % 3), f64::from((i / 3) % 3));
            at(104.0 + col * 0.004, 26.9 + row * 0.004, time, "land")
        })
        .chain((0..40).map(|i| at(104.0 + f64::from(i) * 0.02, 26.5, time, "labour")))
        .collect()
}

/// The observed cells of `events` at resolution 8 and every cell next to one.
fn ringed(events: &[DisputeEvent]) -> std::collections::BTreeSet<h3o::CellIndex> {
    events
        .iter()
        .flat_map(|e| {
            LatLng::new(e.lat, e.lon)
                .unwrap()
                .to_cell(h3o::Resolution::Eight)
                .grid_disk::<Vec<_>>(1)
        })
        .collect()
}

#[test]
fn the_busy_cell_is_hot_and_the_study_area_rings_the_events() {
    let e = events(day(2025, 3, 1));
    let map = analyse(&e, &HotspotRequest::default()).unwrap();
    assert_eq!(map.events, 85);
    let cells: Vec<_> = map.cells.iter().map(|c| c.cell).collect();
    assert_eq!(cells, ringed(&e).into_iter().collect::<Vec<_>>());
    let busy = map.cells.iter().max_by_key(|c| c.count).unwrap();
    assert!(busy.count >= 15, "{busy:?}");
    assert_eq!(busy.bin, GiBin::Hot99);
    // The normal tail is far thinner than the exact one (2e-25 against 4e-5 here).
    assert!(busy.p_exact < 1e-3 && busy.p < busy.p_exact, "{busy:?}");
    assert!(busy.p_sim.unwrap() <= 0.01);
    assert!(map
        .cells
        .iter()
        .all(|c| c.moran.is_none() && c.emerging.is_none()));
    // Only cells next to the busy spot are hot; the line's cells hold one event among six
    // empty neighbours.
    let hot: Vec<_> = map.at_least(GiBin::Hot90).collect();
    assert!(!hot.is_empty());
    assert!(
        hot.iter().all(|c| LatLng::from(c.cell).lat() > 26.85),
        "{hot:?}"
    );
    // Filters: only the line's category leaves no hot spot.
    let filter = EventFilter {
        categories: Some(["labour".to_owned()].into()),
        ..EventFilter::default()
    };
    let labour = analyse(
        &events(day(2025, 3, 1)),
        &HotspotRequest {
            filter,
            ..HotspotRequest::default()
        },
    )
    .unwrap();
    assert_eq!(labour.events, 40);
    assert_eq!(
        labour.cells.len(),
        ringed(&events(day(2025, 3, 1))[45..]).len()
    );
    assert_eq!(labour.at_least(GiBin::Hot90).count(), 0);
}

#[test]
fn no_event_is_an_empty_map() {
    let filter = EventFilter {
        from: Some(day(2030, 1, 1)),
        ..EventFilter::default()
    };
    let map = analyse(
        &events(day(2025, 3, 1)),
        &HotspotRequest {
            filter,
            ..HotspotRequest::default()
        },
    )
    .unwrap();
    assert_eq!(map.events, 0);
    assert!(map.cells.is_empty());
    assert!(analyse(&[], &HotspotRequest::default())
        .unwrap()
        .cells
        .is_empty());
}

#[test]
fn quarters_follow_the_calendar_and_the_window() {
    let mut e = events(day(2025, 2, 10));
    e.extend(events(day(2025, 8, 20)));
    let filter = EventFilter {
        from: Some(day(2025, 2, 1)),
        until: Some(day(2025, 9, 1)),
        ..EventFilter::default()
    };
    let map = analyse(
        &e,
        &HotspotRequest {
            filter,
            method: Method::Emerging(Slicing::Quarter),
            ..HotspotRequest::default()
        },
    )
    .unwrap();
    let bounds: Vec<_> = map.slices.iter().map(|s| (s.from, s.until)).collect();
    assert_eq!(
        bounds,
        [
            (day(2025, 2, 1), day(2025, 4, 1)),
            (day(2025, 4, 1), day(2025, 7, 1)),
            (day(2025, 7, 1), day(2025, 9, 1)),
        ]
    );
    let busy = map.cells.iter().max_by_key(|c| c.count).unwrap();
    let once = analyse(&events(day(2025, 2, 10)), &HotspotRequest::default()).unwrap();
    assert_eq!(
        busy.count,
        2 * once.cells.iter().map(|c| c.count).max().unwrap()
    );
    assert_eq!(map.events, 170);
    let states = &busy.emerging.as_ref().unwrap().states;
    assert_eq!(states.len(), 3);
    // Without a window: from the first event's month to the last event.
    let map = analyse(
        &e,
        &HotspotRequest {
            method: Method::Emerging(Slicing::Month),
            ..HotspotRequest::default()
        },
    )
    .unwrap();
    assert_eq!(map.slices.len(), 7);
    assert_eq!(map.slices[0].from, day(2025, 2, 10));
    assert_eq!(map.slices[6].from, day(2025, 8, 1));
    assert!(map.slices[6].until > day(2025, 8, 20));
}

#[test]
fn requests_that_cannot_be_answered_say_why() {
    let e = events(day(2025, 3, 1));
    let one_month = HotspotRequest {
        method: Method::Emerging(Slicing::Month),
        ..HotspotRequest::default()
    };
    assert_eq!(analyse(&e, &one_month), Err(AnalysisError::TooFewSlices(1)));
    let moran = HotspotRequest {
        method: Method::Moran,
        permutations: 0,
        ..HotspotRequest::default()
    };
    assert_eq!(
        analyse(&e, &moran),
        Err(AnalysisError::MoranWithoutPermutations)
    );
    let ring = HotspotRequest {
        k: 0,
        ..HotspotRequest::default()
    };
    assert_eq!(analyse(&e, &ring), Err(AnalysisError::Ring));
    let bounded = HotspotRequest {
        max_work: Some(1000),
        ..HotspotRequest::default()
    };
    let cells = ringed(&e).len();
    assert!(matches!(
        analyse(&e, &bounded),
        Err(AnalysisError::TooMuchWork { cells: c, permutations: 999, slices: 0, max: 1000 }) if c == cells
    ));
    let res = HotspotRequest {
        resolution: 11,
        ..HotspotRequest::default()
    };
    assert!(matches!(analyse(&e, &res), Err(AnalysisError::Bin(_))));
    // A window of centuries is refused before its slices are made.
    let centuries = HotspotRequest {
        filter: EventFilter {
            from: Some(day(1000, 1, 1)),
            until: Some(day(3000, 1, 1)),
            ..EventFilter::default()
        },
        max_work: Some(1_000_000),
        ..one_month
    };
    assert!(matches!(
        analyse(&e, &centuries),
        Err(AnalysisError::TooMuchWork { .. })
    ));
}

#[test]
fn regions_sum_their_events_and_hot_cells() {
    let e = events(day(2025, 3, 1));
    let map = analyse(&e, &HotspotRequest::default()).unwrap();
    // The busy spot in village A, the line in B, except one event in no region.
    let regions: Vec<Option<&str>> = (0..e.len())
        .map(|i| match i {
            0..45 => Some("A"),
            45 => None,
            _ => Some("B"),
        })
        .collect();
    let s = summarise_regions(&e, &regions, &map).unwrap();
    assert_eq!(s.len(), 2);
    let busy = ringed(&e[..45]).len();
    let observed_a = map
        .cells
        .iter()
        .filter(|c| c.count > 0 && LatLng::from(c.cell).lat() > 26.85);
    let hot_a: Vec<_> = observed_a
        .clone()
        .filter(|c| c.bin >= GiBin::Hot95)
        .collect();
    assert!(busy > 7);
    assert_eq!((s[0].region, s[0].cases), ("A", 45));
    assert_eq!(s[0].cells, observed_a.count());
    assert_eq!(s[0].hot_cells, hot_a.len());
    assert_eq!(
        s[0].cases_in_hot_cells,
        hot_a.iter().map(|c| c.count).sum::<u64>()
    );
    assert!(s[0].hot_cells >= 1);
    assert_eq!((s[1].region, s[1].cases, s[1].cells), ("B", 39, 39));
    assert_eq!(s[1].hot_cells, 0);
    assert!(s[0].mean_z > s[1].mean_z);
    assert_eq!(
        summarise_regions(&e, &regions[1..], &map),
        Err(AnalysisError::RegionCount {
            regions: 84,
            events: 85
        })
    );
}

#[test]
fn cell_polygons_are_closed_rings_around_their_centres() {
    let cell = LatLng::new(26.9, 104.0)
        .unwrap()
        .to_cell(h3o::Resolution::Eight);
    let p = cell_polygon(cell);
    let ring = &p.exterior().0;
    assert!(ring.len() >= 7);
    assert_eq!(ring.first(), ring.last());
    assert!(p.contains(&geo::Point::new(104.0, 26.9)));
}
