//! End-to-end: `gridgov route` on CVRPLIB instances (the routes it prints cover every client
//! once, and the cost line is the known optimum on the small ones) and on a township of the
//! demo county (the GeoJSON it writes, read back by GDAL's `ogrinfo`).
#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod cli;

use std::collections::BTreeSet;
use std::path::PathBuf;

use cli::{demo, fails, gridgov, ogrinfo, ok, read, s};

/// The shared CVRPLIB folder (`../shared/geodata/cvrp`, or under `$GRIDGOV_SHARED`).
fn cvrp(name: &str) -> PathBuf {
    let shared = std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared"),
        PathBuf::from,
    );
    let p = shared.join("geodata/cvrp").join(name);
    assert!(
        p.exists(),
        "{} is missing: ../shared must be there",
        p.display()
    );
    p
}

/// Runs `gridgov route --vrplib`; its routes (client numbers) and cost.
fn solve(file: &str, iterations: &str) -> (Vec<Vec<usize>>, String) {
    let path = cvrp(file);
    let out = gridgov(&[
        "route",
        "--vrplib",
        s(&path),
        "--seed",
        "1",
        "--iterations",
        iterations,
        "--seconds",
        "120",
    ]);
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        out.status.success(),
        "{file}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines: Vec<&str> = stdout.lines().collect();
    let last = (*lines.last().unwrap()).to_owned();
    let routes = lines
        .iter()
        .filter_map(|l| l.split_once(": "))
        .filter(|(head, _)| head.starts_with("Route #"))
        .map(|(_, r)| r.split_whitespace().map(|c| c.parse().unwrap()).collect())
        .collect();
    (routes, last)
}

#[test]
fn small_cvrplib_instances_are_solved_to_their_optimum() {
    for (file, clients, optimum) in [("E-n13-k4.vrp", 12, 247), ("P-n16-k8.vrp", 15, 450)] {
        let (routes, last) = solve(file, "4000");
        assert_eq!(last, format!("cost {optimum}"), "{file}");
        let visited: Vec<usize> = routes.iter().flatten().copied().collect();
        let unique: BTreeSet<usize> = visited.iter().copied().collect();
        assert_eq!(visited.len(), clients, "{file}: each client once");
        assert_eq!(unique, (1..=clients).collect(), "{file}");
    }
}

#[test]
fn a_broken_instance_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.vrp");
    std::fs::write(
        &bad,
        "NAME : bad\nTYPE : CVRP\nCAPACITY : 10\nNODE_COORD_SECTION\n1 0 0\n",
    )
    .unwrap();
    let said = fails(&["route", "--vrplib", s(&bad)]);
    assert!(said.contains("bad.vrp"), "{said}");
    let said = fails(&["route", "--vrplib", s(&dir.path().join("none.vrp"))]);
    assert!(said.contains("none.vrp"), "{said}");
}

#[test]
fn a_township_day_is_written_as_routes_gdal_reads() {
    let (store, _) = demo();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("routes.geojson");
    let args = |township: &'static str, date: &'static str| {
        vec![
            "route",
            "--store",
            s(store),
            "--township",
            township,
            "--date",
            date,
            "--seconds",
            "5",
            "--out",
            s(&out),
        ]
    };
    let said = ok(&args("520526104000", "2026-12-01"));
    assert!(said.contains("due points"), "{said}");
    let file = read(&out);
    let summary = &file["summary"];
    let (geometry, count, _) = ogrinfo(&out, None);
    assert_eq!(geometry, "Line String");
    assert_eq!(count, summary["vehicles"].as_u64().unwrap());
    assert!(count > 0);
    let due = summary["due_points"].as_u64().unwrap();
    let visited = summary["visited_points"].as_u64().unwrap();
    let left = summary["unassigned"].as_array().unwrap().len() as u64;
    assert_eq!(visited + left, due, "{summary}");
    for f in file["features"].as_array().unwrap() {
        let stops = f["properties"]["schedule"].as_array().unwrap();
        assert_eq!(stops[0]["kind"], "start");
        assert_eq!(stops.last().unwrap()["kind"], "end");
    }
    // Wrong codes and days are named; nothing is written.
    std::fs::remove_file(&out).unwrap();
    let said = fails(&args("520526104001", "2026-12-01"));
    assert!(said.contains("not a township"), "{said}");
    let said = fails(&args("520526104000", "2026-13-01"));
    assert!(said.contains("--date"), "{said}");
    assert!(!out.exists());
}
