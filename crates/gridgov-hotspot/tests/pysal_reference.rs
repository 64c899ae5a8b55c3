//! Columbus (Anselin 1988) against `PySAL` esda 2.9 reference values in the shared folder.
//!
//! The shared folder is `$GRIDGOV_SHARED` or `../shared` beside the repository; missing
//! reference files fail the tests (they are never skipped).

use std::collections::BTreeSet;
use std::path::PathBuf;

use geo::{Coord, LineString, MultiPolygon, Polygon};
use gridgov_hotspot::getis_ord::{general_g, local_g, LocalGOptions};
use gridgov_hotspot::moran::{moran_global, moran_local, LocalMoranOptions};
use gridgov_hotspot::weights::{SpatialWeights, Transform};
use serde_json::Value;

fn reference_dir() -> PathBuf {
    let shared = std::env::var_os("GRIDGOV_SHARED").map_or_else(
        || PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared")),
        PathBuf::from,
    );
    shared.join("geodata/spatial-stats")
}

fn read(rel: &str) -> String {
    let path = reference_dir().join(rel);
    std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!(
            "PySAL reference file {} is missing or unreadable ({e}); \
             set GRIDGOV_SHARED to the shared folder",
            path.display()
        )
    })
}

/// One row of `columbus_CRIME_queen_local_stats.csv`.
#[derive(Debug)]
struct Row {
    id: String,
    y: f64,
    local_moran_is: f64,
    local_moran_q: u8,
    local_moran_p_sim: f64,
    gi_star_binary_g: f64,
    gi_star_binary_z: f64,
    gi_star_binary_p_norm: f64,
    gi_binary_g: f64,
    gi_binary_z: f64,
    gi_rowstd_g: f64,
    gi_rowstd_z: f64,
}

fn local_rows() -> Vec<Row> {
    let text = read("columbus_CRIME_queen_local_stats.csv");
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().expect("csv header").split(',').collect();
    let col = |name: &str| {
        header
            .iter()
            .position(|h| h.trim() == name)
            .unwrap_or_else(|| panic!("column {name} missing from the reference csv"))
    };
    let c = [
        col("id"),
        col("y"),
        col("local_moran_Is"),
        col("local_moran_q"),
        col("local_moran_p_sim_seed12345"),
        col("gi_star_binary_Gs"),
        col("gi_star_binary_Zs"),
        col("gi_star_binary_p_norm"),
        col("gi_binary_Gs"),
        col("gi_binary_Zs"),
        col("gi_rowstd_Gs"),
        col("gi_rowstd_Zs"),
    ];
    lines
        .filter(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').map(str::trim).collect();
            let num = |k: usize| -> f64 { f[c[k]].parse().expect("number") };
            Row {
                id: f[c[0]].to_owned(),
                y: num(1),
                local_moran_is: num(2),
                local_moran_q: f[c[3]].parse().expect("quadrant"),
                local_moran_p_sim: num(4),
                gi_star_binary_g: num(5),
                gi_star_binary_z: num(6),
                gi_star_binary_p_norm: num(7),
                gi_binary_g: num(8),
                gi_binary_z: num(9),
                gi_rowstd_g: num(10),
                gi_rowstd_z: num(11),
            }
        })
        .collect()
}

/// The GAL weights with the csv rows in the GAL's id order.
fn columbus() -> (SpatialWeights, Vec<Row>) {
    let gal = SpatialWeights::from_gal(&read("columbus/columbus.gal")).expect("columbus.gal");
    let rows = local_rows();
    assert_eq!(rows.len(), gal.ids.len(), "csv rows vs GAL ids");
    let ordered = gal
        .ids
        .iter()
        .map(|id| {
            let k = rows
                .iter()
                .position(|r| r.id == *id)
                .unwrap_or_else(|| panic!("GAL id {id} not in csv"));
            k
        })
        .collect::<Vec<_>>();
    let mut rows: Vec<Option<Row>> = rows.into_iter().map(Some).collect();
    let rows = ordered
        .into_iter()
        .map(|k| rows[k].take().expect("unique id"))
        .collect();
    (gal.weights, rows)
}

fn assert_close(what: &str, i: usize, got: f64, want: f64, tol: f64) {
    assert!(
        (got - want).abs() <= tol,
        "{what}[{i}]: got {got}, reference {want} (|diff| {} > {tol})",
        (got - want).abs()
    );
}

#[test]
fn gal_reads_columbus() {
    let (w, rows) = columbus();
    assert_eq!(w.len(), 49);
    assert_eq!(rows.len(), 49);
    assert!(w.is_symmetric());
    assert!(w.islands().is_empty());
    // Observation 1 neighbours 2 and 3 (first lines of the file).
    assert_eq!(w.neighbours(0), &[1, 2]);
}

#[test]
fn getis_ord_local_matches_esda() {
    let (w, rows) = columbus();
    let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
    let opts = |transform, star| LocalGOptions {
        transform,
        star,
        permutations: 0,
        seed: 0,
    };
    let star_b = local_g(&y, &w, &opts(Transform::Binary, true)).unwrap();
    let gi_b = local_g(&y, &w, &opts(Transform::Binary, false)).unwrap();
    let gi_r = local_g(&y, &w, &opts(Transform::Row, false)).unwrap();
    let mut worst = 0.0_f64;
    for (i, r) in rows.iter().enumerate() {
        for (what, got, want) in [
            ("gi* binary G", star_b.g[i], r.gi_star_binary_g),
            ("gi* binary z", star_b.z[i], r.gi_star_binary_z),
            (
                "gi* binary p_norm",
                star_b.p_norm[i],
                r.gi_star_binary_p_norm,
            ),
            ("gi binary G", gi_b.g[i], r.gi_binary_g),
            ("gi binary z", gi_b.z[i], r.gi_binary_z),
            ("gi row G", gi_r.g[i], r.gi_rowstd_g),
            ("gi row z", gi_r.z[i], r.gi_rowstd_z),
        ] {
            worst = worst.max((got - want).abs());
            assert_close(what, i, got, want, 1e-6);
        }
    }
    eprintln!("Getis-Ord local: largest |diff| from esda = {worst:e}");
}

#[test]
fn moran_local_matches_esda() {
    let (w, rows) = columbus();
    let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
    let lm = moran_local(
        &y,
        &w,
        &LocalMoranOptions {
            transform: Transform::Row,
            permutations: 999,
            seed: 12_345,
        },
    )
    .unwrap();
    let p_sim = lm.p_sim.as_ref().unwrap();
    let mut worst = 0.0_f64;
    let mut worst_p = 0.0_f64;
    for (i, r) in rows.iter().enumerate() {
        worst = worst.max((lm.i[i] - r.local_moran_is).abs());
        assert_close("local moran I", i, lm.i[i], r.local_moran_is, 1e-6);
        assert_eq!(
            lm.quadrants[i].code(),
            r.local_moran_q,
            "quadrant of row {i}"
        );
        let pr = r.local_moran_p_sim;
        let tol = 4.0 * (pr * (1.0 - pr) / 999.0).sqrt() + 0.01;
        worst_p = worst_p.max((p_sim[i] - pr).abs());
        assert_close("local moran p_sim", i, p_sim[i], pr, tol);
    }
    eprintln!(
        "Local Moran: largest |diff| of I = {worst:e}, largest |diff| of p_sim = {worst_p:.4}"
    );
}

/// Directed pseudo p-value of `observed` against draws of `stat` from a brute-force
/// conditional randomisation (its own RNG, many draws): an independent check of the
/// crate's shared-table engine.
fn brute_force_p(
    w: &SpatialWeights,
    y: &[f64],
    i: usize,
    observed: f64,
    stat: impl Fn(&[usize]) -> f64,
) -> f64 {
    use rand::SeedableRng;
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(99 + i as u64);
    let others: Vec<usize> = (0..y.len()).filter(|&j| j != i).collect();
    let draws = 20_000;
    let mut larger = 0;
    let mut picked = Vec::new();
    for _ in 0..draws {
        picked.clear();
        picked.extend(
            rand::seq::index::sample(&mut rng, others.len(), w.cardinality(i))
                .iter()
                .map(|k| others[k]),
        );
        if stat(&picked) >= observed {
            larger += 1;
        }
    }
    f64::from(larger.min(draws - larger)) / f64::from(draws)
}

#[test]
fn getis_ord_permutation_p_values_match_brute_force() {
    // The reference has no Gi p_sim, so the seeded engine is checked against an
    // independent brute-force conditional randomisation, within Monte-Carlo error.
    let (w, rows) = columbus();
    let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
    let sum_y: f64 = y.iter().sum();
    for star in [true, false] {
        for transform in [Transform::Binary, Transform::Row] {
            let g = local_g(
                &y,
                &w,
                &LocalGOptions {
                    transform,
                    star,
                    permutations: 999,
                    seed: 12_345,
                },
            )
            .unwrap();
            let p_sim = g.p_sim.unwrap();
            let mut worst = 0.0_f64;
            for i in 0..y.len() {
                let k = w.cardinality(i) as f64;
                let (wn, ws) = match (transform, star) {
                    (Transform::Binary, true) => (1.0, 1.0),
                    (Transform::Binary, false) => (1.0, 0.0),
                    (Transform::Row, true) => (1.0 / (k + 1.0), 1.0 / (k + 1.0)),
                    (Transform::Row, false) => (1.0 / k, 0.0),
                };
                let den = if star { sum_y } else { sum_y - y[i] };
                let p_bf = brute_force_p(&w, &y, i, g.g[i], |picked| {
                    (ws * y[i] + wn * picked.iter().map(|&j| y[j]).sum::<f64>()) / den
                });
                let tol = 4.0 * (p_bf * (1.0 - p_bf) / 999.0).sqrt() + 0.01;
                worst = worst.max((p_sim[i] - p_bf).abs());
                assert_close("Gi p_sim vs brute force", i, p_sim[i], p_bf, tol);
            }
            eprintln!("Gi star={star} {transform:?}: largest |p_sim - brute force| = {worst:.4}");
        }
    }
}

fn global_reference() -> Value {
    serde_json::from_str(&read("columbus_CRIME_queen_global.json")).expect("global json")
}

#[test]
fn moran_global_matches_esda() {
    let (w, rows) = columbus();
    let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
    let m = moran_global(&y, &w, Transform::Row).unwrap();
    let r = &global_reference()["columbus_CRIME_queen"]["moran_row_std"];
    let want = |k: &str| r[k].as_f64().unwrap_or_else(|| panic!("moran_row_std.{k}"));
    for (k, got) in [
        ("I", m.i),
        ("EI", m.expected),
        ("VI_norm", m.variance_norm),
        ("z_norm", m.z_norm),
        ("p_norm", m.p_norm),
        ("VI_rand", m.variance_rand),
        ("z_rand", m.z_rand),
        ("p_rand", m.p_rand),
    ] {
        assert_close(k, 0, got, want(k), 1e-6);
        eprintln!("Moran {k}: {got:e} vs {:e}", want(k));
    }
    // p-values are tiny: check them relatively too.
    assert!((m.p_norm / want("p_norm") - 1.0).abs() < 1e-6);
    assert!((m.p_rand / want("p_rand") - 1.0).abs() < 1e-6);
}

#[test]
fn general_g_matches_esda() {
    let (w, rows) = columbus();
    let y: Vec<f64> = rows.iter().map(|r| r.y).collect();
    let g = general_g(&y, &w, 99, 1).unwrap();
    let r = &global_reference()["columbus_CRIME_queen"]["general_G_binary"];
    let want = |k: &str| {
        r[k].as_f64()
            .unwrap_or_else(|| panic!("general_G_binary.{k}"))
    };
    for (k, got) in [
        ("G", g.g),
        ("EG", g.expected),
        ("z_norm", g.z_norm),
        ("p_norm", g.p_norm),
    ] {
        assert_close(k, 0, got, want(k), 1e-6);
        eprintln!("General G {k}: {got:e} vs {:e}", want(k));
    }
    assert!((g.p_norm / want("p_norm") - 1.0).abs() < 1e-6);
    assert!(g.p_sim.unwrap() <= 0.02);
}

/// The polygons of columbus.json, in feature order, with their POLYID.
fn columbus_polygons() -> Vec<(String, MultiPolygon<f64>)> {
    let v: Value = serde_json::from_str(&read("columbus/columbus.json")).expect("geojson");
    let ring = |r: &Value| -> LineString<f64> {
        r.as_array()
            .expect("ring")
            .iter()
            .map(|p| Coord {
                x: p[0].as_f64().expect("x"),
                y: p[1].as_f64().expect("y"),
            })
            .collect()
    };
    let polygon = |rings: &Value| -> Polygon<f64> {
        let rings = rings.as_array().expect("rings");
        Polygon::new(ring(&rings[0]), rings[1..].iter().map(ring).collect())
    };
    v["features"]
        .as_array()
        .expect("features")
        .iter()
        .map(|f| {
            let id = f["properties"]["POLYID"].as_f64().expect("POLYID");
            let g = &f["geometry"];
            let mp = match g["type"].as_str() {
                Some("Polygon") => MultiPolygon(vec![polygon(&g["coordinates"])]),
                Some("MultiPolygon") => MultiPolygon(
                    g["coordinates"]
                        .as_array()
                        .expect("polygons")
                        .iter()
                        .map(polygon)
                        .collect(),
                ),
                other => panic!("unexpected geometry {other:?}"),
            };
            (format!("{id}"), mp)
        })
        .collect()
}

fn neighbour_ids(w: &SpatialWeights, ids: &[String], i: usize) -> BTreeSet<String> {
    w.neighbours(i)
        .iter()
        .map(|&j| ids[j as usize].clone())
        .collect()
}

#[test]
fn queen_from_polygons_equals_gal() {
    let gal = SpatialWeights::from_gal(&read("columbus/columbus.gal")).unwrap();
    let polys = columbus_polygons();
    let ids: Vec<String> = polys.iter().map(|(id, _)| id.clone()).collect();
    let shapes: Vec<MultiPolygon<f64>> = polys.into_iter().map(|(_, p)| p).collect();
    let queen = SpatialWeights::queen(&shapes).unwrap();
    let rook = SpatialWeights::rook(&shapes).unwrap();
    assert!(queen.is_symmetric() && rook.is_symmetric());
    let mut differences = Vec::new();
    for (gi, gid) in gal.ids.iter().enumerate() {
        let qi = ids
            .iter()
            .position(|id| id == gid)
            .expect("GAL id among POLYIDs");
        let want = neighbour_ids(&gal.weights, &gal.ids, gi);
        let got = neighbour_ids(&queen, &ids, qi);
        if want != got {
            differences.push(format!("{gid}: GAL {want:?}, queen {got:?}"));
        }
        // Rook neighbours are queen neighbours.
        assert!(neighbour_ids(&rook, &ids, qi).is_subset(&got));
    }
    assert!(
        differences.is_empty(),
        "queen contiguity differs from columbus.gal:\n{}",
        differences.join("\n")
    );
}
