//! `gridgov route --township CODE --date YYYY-MM-DD --out routes.geojson`: a township's
//! collection routes for one day, written as GeoJSON (one LineString per vehicle, along the
//! roads, with its ordered stops), the day's summary (and the points left off, with their
//! reasons) on standard error and in the file's `summary` member.

use std::time::Duration;

use anyhow::{bail, Context, Result};
use gridgov_model::{DivisionCode, DivisionLevel};
use gridgov_routing::sanitation::{plan_day, DayOptions, Search};
use serde_json::json;

use crate::route::RouteArgs;
use crate::{open_existing, write_replacing};

/// Plans the day and writes the file.
pub async fn route_day(a: &RouteArgs, limit: Duration) -> Result<()> {
    let (Some(t), Some(d), Some(out)) = (a.township(), a.date(), a.out()) else {
        bail!("give --township CODE --date YYYY-MM-DD --out FILE (or --vrplib FILE)");
    };
    let township: DivisionCode = t.parse().with_context(|| format!("--township {t}"))?;
    if township.level() != DivisionLevel::Township {
        bail!("--township {t}: {t} is not a township's code");
    }
    let date = chrono::NaiveDate::parse_from_str(d.trim(), "%Y-%m-%d")
        .with_context(|| format!("--date {d}: give a day as YYYY-MM-DD"))?;
    let store = open_existing(a.store()).await?;
    let data = gridgov_server::route_plans::load(store.as_ref(), township)
        .await
        .context("reading the township")?;
    if data
        .layers
        .get(&gridgov_model::Layer::Villages)
        .is_none_or(Vec::is_empty)
    {
        bail!("--township {t}: the store has no villages of this township");
    }
    let search = Search {
        seed: a.seed(),
        time_limit: Some(limit),
        max_iterations: a.iterations(),
    };
    let plan = tokio::task::spawn_blocking(move || {
        plan_day(
            &data,
            township,
            date,
            &DayOptions::default(),
            &search,
            &mut |_| {},
        )
    })
    .await?
    .with_context(|| format!("planning {t} on {date}"))?;
    let summary = gridgov_server::route_plans::summary(&plan);
    let features: Vec<serde_json::Value> = plan
        .routes
        .iter()
        .map(|r| {
            let mut f = gridgov_server::route_plans::route_feature(0, r).to_geojson();
            // In the file the schedule is JSON, not JSON in a string; there is no stored plan.
            if let Some(p) = f["properties"].as_object_mut() {
                p.remove("plan_id");
                p.insert("schedule".into(), serde_json::to_value(&r.stops)?);
            }
            Ok(f)
        })
        .collect::<Result<_, serde_json::Error>>()?;
    let file = json!({
        "type": "FeatureCollection",
        "name": format!("routes_{t}_{date}"),
        "features": features,
        "summary": summary,
    });
    write_replacing(out, serde_json::to_string(&file)?.as_bytes())?;
    eprintln!(
        "gridgov: {t} on {date}: {} of {} due points on {} routes ({} trips), {:.1} of {:.1} t, {:.1} km",
        summary["visited_points"],
        summary["due_points"],
        summary["vehicles"],
        summary["trips"],
        summary["collected_kg"].as_f64().unwrap_or(0.0) / 1_000.0,
        summary["due_kg"].as_f64().unwrap_or(0.0) / 1_000.0,
        summary["distance_m"].as_f64().unwrap_or(0.0) / 1_000.0,
    );
    for u in &plan.unassigned {
        eprintln!(
            "gridgov: not collected: {} ({}, village {}): {}",
            u.name,
            u.id,
            u.village,
            u.reason.describe()
        );
    }
    Ok(())
}
