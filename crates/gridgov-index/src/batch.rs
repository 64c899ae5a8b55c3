//! Many points at once: a CSV with longitude/latitude columns, or a GeoJSON
//! feature collection of points, annotated with what a lookup finds, in input order.

use geo::Coord;
use gridgov_model::{Crs, Feature};

use crate::county::{CountyIndex, Lookup, LookupFilter, Nearest};

/// The most points one request may carry.
pub const MAX_POINTS: usize = 100_000;

/// The columns (CSV) or properties (GeoJSON) a lookup adds to each point, in order.
pub const COLUMNS: [&str; 15] = [
    "lookup_status",
    "township_code",
    "township_name",
    "village_code",
    "village_name",
    "group_code",
    "group_name",
    "grid_code",
    "grid_name",
    "grid_worker",
    "grid_worker_phone",
    "transfer_station",
    "transfer_station_m",
    "collection_point",
    "collection_point_m",
];

/// Names accepted for the longitude column (compared without case).
const LON_NAMES: [&str; 5] = ["lon", "lng", "longitude", "x", "经度"];
/// Names accepted for the latitude column.
const LAT_NAMES: [&str; 4] = ["lat", "latitude", "y", "纬度"];

/// Why a batch was refused. Nothing is answered for a refused batch.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The CSV has no header naming a longitude or latitude column.
    #[error("the CSV header has no {0} column (expected one of: {1})")]
    NoColumn(&'static str, String),
    /// A CSV row could not be read.
    #[error("CSV row {row}: {reason}")]
    Csv {
        /// 1-based row number (the header is row 1).
        row: u64,
        /// What is wrong.
        reason: String,
    },
    /// A coordinate is missing, not a number or out of range.
    #[error("{place}: {what}")]
    Coordinate {
        /// Which row or feature.
        place: String,
        /// What is wrong.
        what: String,
    },
    /// More points than a batch may carry.
    #[error("more than {0} points; split the file into batches of at most {0}")]
    TooMany(usize),
    /// The body is not a GeoJSON feature collection of points.
    #[error("GeoJSON: {0}")]
    GeoJson(String),
}

fn name(f: Option<&Feature>) -> &str {
    f.and_then(|f| f.text("name")).unwrap_or_default()
}

fn code(f: Option<&Feature>) -> &str {
    f.map(|f| f.text("code").unwrap_or(f.division.as_str()))
        .unwrap_or_default()
}

fn metres(n: Option<Nearest<'_>>) -> String {
    n.map(|n| format!("{:.1}", n.metres)).unwrap_or_default()
}

/// The values of [`COLUMNS`] for one point (`None`: outside the county).
pub fn record(found: Option<&Lookup<'_>>) -> [String; COLUMNS.len()] {
    let Some(l) = found else {
        let mut out: [String; COLUMNS.len()] = Default::default();
        "outside_county".clone_into(&mut out[0]);
        return out;
    };
    let grid_text = |field: &str| {
        l.grid
            .and_then(|g| g.text(field))
            .unwrap_or_default()
            .to_owned()
    };
    [
        "ok".to_owned(),
        code(l.township).to_owned(),
        name(l.township).to_owned(),
        code(l.village).to_owned(),
        name(l.village).to_owned(),
        code(l.group).to_owned(),
        name(l.group).to_owned(),
        code(l.grid).to_owned(),
        name(l.grid).to_owned(),
        grid_text("worker_name"),
        grid_text("worker_phone"),
        name(l.transfer_station.map(|n| n.feature)).to_owned(),
        metres(l.transfer_station),
        name(l.collection_point.map(|n| n.feature)).to_owned(),
        metres(l.collection_point),
    ]
}

/// Checks a coordinate pair; `place` names the row or feature in the error.
pub fn coordinate(
    lon: f64,
    lat: f64,
    place: impl Fn() -> String,
) -> Result<Coord<f64>, BatchError> {
    gridgov_model::crs::lon_lat(lon, lat).map_err(|e| BatchError::Coordinate {
        place: place(),
        what: e.to_string(),
    })
}

fn column(
    headers: &csv::StringRecord,
    names: &[&str],
    which: &'static str,
) -> Result<usize, BatchError> {
    headers
        .iter()
        .position(|h| names.iter().any(|n| h.trim().eq_ignore_ascii_case(n)))
        .ok_or_else(|| BatchError::NoColumn(which, names.join(", ")))
}

fn number(rec: &csv::StringRecord, at: usize, row: u64, col: &str) -> Result<f64, BatchError> {
    let text = rec.get(at).unwrap_or_default().trim();
    text.parse::<f64>().map_err(|_| BatchError::Coordinate {
        place: format!("CSV row {row}"),
        what: format!("{col} '{text}' is not a number"),
    })
}

/// Annotates a CSV (a header row naming the longitude and latitude columns, e.g. `lon,lat`
/// or `经度,纬度`; any other columns are kept) with [`COLUMNS`], rows in input order; a UTF-8
/// byte-order mark is kept when the input has one (so spreadsheet programs read Chinese
/// right). Returns the number of points.
pub fn annotate_csv(
    index: &CountyIndex,
    filter: &dyn LookupFilter,
    crs: Crs,
    input: &[u8],
    max: usize,
    out: &mut Vec<u8>,
) -> Result<usize, BatchError> {
    const BOM: &[u8] = b"\xEF\xBB\xBF";
    let (bom, body) = match input.strip_prefix(BOM) {
        Some(rest) => (true, rest),
        None => (false, input),
    };
    if bom {
        out.extend_from_slice(BOM);
    }
    let csv_error = |row: u64, e: &csv::Error| BatchError::Csv {
        row,
        reason: e.to_string(),
    };
    let mut reader = csv::ReaderBuilder::new().flexible(false).from_reader(body);
    let headers = reader.headers().map_err(|e| csv_error(1, &e))?.clone();
    let lon_at = column(&headers, &LON_NAMES, "longitude")?;
    let lat_at = column(&headers, &LAT_NAMES, "latitude")?;
    let mut writer = csv::Writer::from_writer(out);
    let write_error = |e: csv::Error| BatchError::Csv {
        row: 0,
        reason: format!("writing the answer: {e}"),
    };
    writer
        .write_record(headers.iter().chain(COLUMNS))
        .map_err(write_error)?;
    let mut rec = csv::StringRecord::new();
    let mut n = 0usize;
    loop {
        let row = n as u64 + 2;
        match reader.read_record(&mut rec) {
            Ok(true) => {}
            Ok(false) => break,
            Err(e) => return Err(csv_error(row, &e)),
        }
        n += 1;
        if n > max {
            return Err(BatchError::TooMany(max));
        }
        let lon = number(&rec, lon_at, row, "longitude")?;
        let lat = number(&rec, lat_at, row, "latitude")?;
        coordinate(lon, lat, || format!("CSV row {row}"))?;
        let found = index.lookup_where(crs, lon, lat, filter);
        writer
            .write_record(
                rec.iter()
                    .chain(record(found.as_ref()).iter().map(String::as_str)),
            )
            .map_err(write_error)?;
    }
    writer.flush().map_err(|e| BatchError::Csv {
        row: 0,
        reason: format!("writing the answer: {e}"),
    })?;
    Ok(n)
}

/// Annotates a GeoJSON feature collection of points: each feature keeps its geometry and
/// properties and gains [`COLUMNS`] as properties (replacing same-named ones), in input
/// order. Returns the number of points.
pub fn annotate_geojson(
    index: &CountyIndex,
    filter: &dyn LookupFilter,
    crs: Crs,
    input: &[u8],
    max: usize,
    out: &mut Vec<u8>,
) -> Result<usize, BatchError> {
    use serde_json::{Map, Value};
    let bad = |why: String| BatchError::GeoJson(why);
    let mut doc: Value =
        serde_json::from_slice(input).map_err(|e| bad(format!("not valid JSON: {e}")))?;
    if doc.get("type").and_then(Value::as_str) != Some("FeatureCollection") {
        return Err(bad("expected a FeatureCollection".into()));
    }
    let Some(features) = doc.get_mut("features").and_then(Value::as_array_mut) else {
        return Err(bad("the FeatureCollection has no 'features' array".into()));
    };
    if features.len() > max {
        return Err(BatchError::TooMany(max));
    }
    for (i, f) in features.iter_mut().enumerate() {
        let place = || format!("feature #{}", i + 1);
        let geometry = f.get("geometry");
        if geometry.and_then(|g| g.get("type")).and_then(Value::as_str) != Some("Point") {
            return Err(bad(format!("{} is not a Point", place())));
        }
        let xy = geometry
            .and_then(|g| g.get("coordinates"))
            .and_then(Value::as_array)
            .filter(|c| c.len() >= 2)
            .and_then(|c| Some((c[0].as_f64()?, c[1].as_f64()?)));
        let Some((lon, lat)) = xy else {
            return Err(bad(format!("{} has no [lon, lat] coordinates", place())));
        };
        coordinate(lon, lat, place)?;
        let found = index.lookup_where(crs, lon, lat, filter);
        let Some(obj) = f.as_object_mut() else {
            return Err(bad(format!("{} is not an object", place())));
        };
        let props = obj
            .entry("properties")
            .or_insert_with(|| Value::Object(Map::new()));
        if !props.is_object() {
            *props = Value::Object(Map::new());
        }
        if let Value::Object(map) = props {
            for (k, v) in COLUMNS.iter().zip(record(found.as_ref())) {
                let value = if k.ends_with("_m") {
                    v.parse::<f64>().ok().map_or(Value::Null, Value::from)
                } else {
                    Value::String(v)
                };
                map.insert((*k).to_owned(), value);
            }
        }
    }
    let n = features.len();
    serde_json::to_writer(&mut *out, &doc).map_err(|e| bad(format!("writing the answer: {e}")))?;
    Ok(n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use geo::Geometry;
    use gridgov_model::Layer;
    use std::fmt::Write as _;

    fn demo() -> (CountyIndex, Vec<Coord<f64>>) {
        let mut layers = gridgov_demo::generate(42).dataset.layers;
        let households = layers.remove(&Layer::Households).unwrap();
        let at = households
            .iter()
            .map(|h| match h.geometry {
                Some(Geometry::Point(p)) => p.0,
                _ => panic!("not a point"),
            })
            .collect();
        (CountyIndex::new(layers), at)
    }

    #[test]
    fn a_csv_of_100000_points_comes_back_whole_and_in_order() {
        let (index, homes) = demo();
        let mut input = String::from("id,lon,lat,note\n");
        let mut want = Vec::new();
        for i in 0..MAX_POINTS {
            // Households, and every 1000th point far outside the county.
            let c = if i % 1000 == 999 {
                Coord { x: 116.4, y: 39.9 }
            } else {
                homes[(i * 7919) % homes.len()]
            };
            writeln!(input, "{i},{},{},\"a, b\"", c.x, c.y).unwrap();
            want.push(index.locate(c).map(|l| record(Some(&l))[7].clone()));
        }
        let mut out = Vec::new();
        let n = annotate_csv(
            &index,
            &crate::Everything,
            Crs::Wgs84,
            input.as_bytes(),
            MAX_POINTS,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, MAX_POINTS);
        let mut reader = csv::Reader::from_reader(out.as_slice());
        let headers = reader.headers().unwrap().clone();
        assert_eq!(
            headers.iter().take(4).collect::<Vec<_>>(),
            ["id", "lon", "lat", "note"]
        );
        assert_eq!(headers.len(), 4 + COLUMNS.len());
        let grid_at = headers.iter().position(|h| h == "grid_code").unwrap();
        let mut rows = 0;
        for (i, rec) in reader.records().enumerate() {
            let rec = rec.unwrap();
            assert_eq!(rec[0].parse::<usize>().unwrap(), i, "order");
            assert_eq!(&rec[3], "a, b");
            match &want[i] {
                Some(code) => {
                    assert_eq!(&rec[4], "ok");
                    assert!(!code.is_empty());
                    assert_eq!(&rec[grid_at], code);
                }
                None => assert_eq!(&rec[4], "outside_county"),
            }
            rows += 1;
        }
        assert_eq!(rows, MAX_POINTS);
        // One more is refused.
        input.push_str("100000,106.0,26.0,x\n");
        let err = annotate_csv(
            &index,
            &crate::Everything,
            Crs::Wgs84,
            input.as_bytes(),
            MAX_POINTS,
            &mut Vec::new(),
        );
        assert!(
            matches!(err, Err(BatchError::TooMany(MAX_POINTS))),
            "{err:?}"
        );
    }

    #[test]
    fn bad_csv_is_refused_naming_the_row_or_column() {
        let (index, homes) = demo();
        let h = homes[0];
        let run = |text: &str| {
            annotate_csv(
                &index,
                &crate::Everything,
                Crs::Wgs84,
                text.as_bytes(),
                10,
                &mut Vec::new(),
            )
            .unwrap_err()
            .to_string()
        };
        assert!(run("x1,y1\n1,2\n").contains("no longitude column"));
        let text = format!("经度,纬度\n{},{}\nabc,26\n", h.x, h.y);
        assert!(
            run(&text).contains("CSV row 3: longitude 'abc' is not a number"),
            "{}",
            run(&text)
        );
        assert!(run("lon,lat\n200,26\n").contains("CSV row 2: longitude 200"));
        assert!(run("lon,lat\n106,26,7\n").contains("CSV row 2"));
        // A byte-order mark (as spreadsheet programs write) is read and given back.
        let text = format!("\u{feff}Lon,Lat\n{},{}\n", h.x, h.y);
        let mut out = Vec::new();
        annotate_csv(
            &index,
            &crate::Everything,
            Crs::Wgs84,
            text.as_bytes(),
            10,
            &mut out,
        )
        .unwrap();
        assert!(out.starts_with(b"\xEF\xBB\xBFLon,Lat,lookup_status"));
    }

    #[test]
    fn geojson_points_gain_the_lookup_as_properties() {
        let (index, homes) = demo();
        let g = gridgov_model::crs::from_wgs84(Crs::Gcj02, homes[5]);
        let want = index
            .locate(homes[5])
            .unwrap()
            .grid
            .unwrap()
            .text("code")
            .unwrap()
            .to_owned();
        let body = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {"name": "甲"}, "geometry": {"type": "Point", "coordinates": [g.x, g.y]}},
            {"type": "Feature", "properties": null, "geometry": {"type": "Point", "coordinates": [116.4, 39.9]}},
        ]});
        let mut out = Vec::new();
        let n = annotate_geojson(
            &index,
            &crate::Everything,
            Crs::Gcj02,
            body.to_string().as_bytes(),
            10,
            &mut out,
        )
        .unwrap();
        assert_eq!(n, 2);
        let doc: serde_json::Value = serde_json::from_slice(&out).unwrap();
        let first = &doc["features"][0]["properties"];
        assert_eq!(first["name"], "甲");
        assert_eq!(first["grid_code"], want.as_str());
        assert!(first["transfer_station_m"].as_f64().unwrap() >= 0.0);
        assert_eq!(
            doc["features"][1]["properties"]["lookup_status"],
            "outside_county"
        );
        let line = serde_json::json!({"type": "FeatureCollection", "features": [
            {"type": "Feature", "properties": {}, "geometry": {"type": "LineString", "coordinates": [[1, 2], [3, 4]]}}]});
        let err = annotate_geojson(
            &index,
            &crate::Everything,
            Crs::Wgs84,
            line.to_string().as_bytes(),
            10,
            &mut Vec::new(),
        )
        .unwrap_err();
        assert_eq!(err.to_string(), "GeoJSON: feature #1 is not a Point");
    }
}
