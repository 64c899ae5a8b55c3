//! What the command-line end-to-end tests share: running `gridgov`, the demo GeoPackage made
//! once per test binary, and reading files back with GDAL's `ogrinfo`.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

pub fn gridgov(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_gridgov"))
        .args(args)
        .env("CI", "true")
        .output()
        .unwrap()
}

pub fn ok(args: &[&str]) -> String {
    let out = gridgov(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "gridgov {args:?} failed:\n{stderr}");
    stderr
}

pub fn fails(args: &[&str]) -> String {
    let out = gridgov(args);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !out.status.success(),
        "gridgov {args:?} should have failed:\n{stderr}"
    );
    stderr
}

pub fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The demo GeoPackage (seed 42) and its planted clusters, made once per test run.
pub fn demo() -> &'static (PathBuf, serde_json::Value) {
    static DEMO: OnceLock<(PathBuf, serde_json::Value)> = OnceLock::new();
    DEMO.get_or_init(|| {
        let dir = tempfile::tempdir().unwrap().keep();
        let path = dir.join("demo.gpkg");
        ok(&["demo", "--out", s(&path), "--seed", "42"]);
        let clusters = std::fs::read(path.with_extension("clusters.json")).unwrap();
        (path, serde_json::from_slice(&clusters).unwrap())
    })
}

/// What `ogrinfo -so -al` says of a file: its one layer's geometry type, feature count
/// (only features matching `filter`, an OGR SQL WHERE, when given) and text.
pub fn ogrinfo(path: &Path, filter: Option<&str>) -> (String, u64, String) {
    let mut args = vec!["-so", "-al"];
    if let Some(w) = filter {
        args.extend(["-where", w]);
    }
    args.push(s(path));
    let out = Command::new("ogrinfo").args(&args).output().unwrap();
    assert!(
        out.status.success(),
        "ogrinfo failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    assert_eq!(text.matches("\nLayer name: ").count(), 1, "{text}");
    let line = |prefix: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(prefix))
            .unwrap()
            .trim()
            .to_owned()
    };
    let count = line("Feature Count: ").parse().unwrap();
    (line("Geometry: "), count, text)
}

pub fn read(path: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap()
}
