//! `gridgov hotspots`: a dispute hotspot map of a store, written as GeoJSON (H3 cell
//! polygons with their statistics, the same file `GET /api/v1/hotspots` answers).
//!
//! The parameters, the events and the file are the server's (`gridgov_server::hotspots`),
//! the statistics `gridgov_hotspot::analysis`'s; a local user reads every dispute of the
//! store (or of `--division`), as `gridgov export` does, and the map is recorded in the
//! audit log as an export of disputes before it is written.

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use gridgov_hotspot::analysis::analyse;
use gridgov_hotspot::classify::GiBin;
use gridgov_model::{DivisionCode, Layer};
use gridgov_server::hotspots::{
    analysis_error, dispute_event, feature_collection, HotspotParams, ParamError,
};
use gridgov_store::{AuditAction, Query};

use crate::{open_existing, write_replacing};

/// Arguments of `gridgov hotspots`.
#[derive(Debug, Args)]
pub struct HotspotArgs {
    /// A GeoPackage path or postgres:// URL (default ./gridgov.gpkg).
    #[arg(long)]
    store: Option<String>,
    /// H3 resolution, 6 to 10 (8: cells of 0.74 km²).
    #[arg(long, default_value_t = 8)]
    res: u8,
    /// First month (YYYY-MM) or day (YYYY-MM-DD) counted, by the date disputes were opened.
    #[arg(long)]
    from: Option<String>,
    /// Last month (YYYY-MM) or day (YYYY-MM-DD) counted, inclusive.
    #[arg(long)]
    to: Option<String>,
    /// Dispute categories counted, comma-separated (e.g. `land_acquisition,labour`); default all.
    #[arg(long)]
    category: Option<String>,
    /// Mediation channels counted, comma-separated (people, administrative, judicial,
    /// petition); default all.
    #[arg(long)]
    channel: Option<String>,
    /// gistar (hot and cold spots), moran (local Moran's I) or emerging (trends over time).
    #[arg(long, default_value = "gistar")]
    method: String,
    /// With --method emerging: time slices of a month or a quarter.
    #[arg(long)]
    slice: Option<String>,
    /// Permutations for pseudo p-values, 0 to 9999.
    #[arg(long, default_value_t = gridgov_hotspot::analysis::DEFAULT_PERMUTATIONS)]
    permutations: usize,
    /// Seed of the permutations: the same seed gives the same map.
    #[arg(long, default_value_t = gridgov_hotspot::analysis::DEFAULT_SEED)]
    seed: u64,
    /// Neighbourhood ring, 1 to 3 (1: a cell and its six neighbours).
    #[arg(long, default_value_t = 1)]
    k: u32,
    /// Classify without the Benjamini–Hochberg correction.
    #[arg(long)]
    no_fdr: bool,
    /// p-values of the classes: exact (the counts' randomisation tails) or normal (ArcGIS's).
    #[arg(long, default_value = "exact")]
    inference: String,
    /// Only the disputes of this division (a township or village code) and under it.
    #[arg(long)]
    division: Option<String>,
    /// The GeoJSON file to write.
    #[arg(long)]
    out: PathBuf,
}

/// A parameter error as the command line names it (`--res`, not `res`).
fn flag(e: &ParamError) -> anyhow::Error {
    anyhow::anyhow!("--{}: {}", e.name, e.reason)
}

/// Runs `gridgov hotspots`.
pub async fn hotspots(a: HotspotArgs) -> Result<()> {
    let params = HotspotParams {
        res: Some(a.res.to_string()),
        from: a.from.clone(),
        to: a.to.clone(),
        category: a.category.clone(),
        channel: a.channel.clone(),
        method: Some(a.method.clone()),
        slice: a.slice.clone(),
        permutations: Some(a.permutations.to_string()),
        seed: Some(a.seed.to_string()),
        k: Some(a.k.to_string()),
        fdr: Some((!a.no_fdr).to_string()),
        inference: Some(a.inference.clone()),
    };
    let request = params.request().map_err(|e| flag(&e))?;
    let division = a
        .division
        .as_deref()
        .map(|d| {
            d.parse::<DivisionCode>()
                .with_context(|| format!("--division {d}"))
        })
        .transpose()?;
    let store = open_existing(a.store.clone()).await?;
    let q = Query {
        division,
        ..Query::default()
    };
    let features = store
        .query(Layer::Disputes, &q)
        .await
        .context("reading the disputes")?;
    let events: Vec<_> = features
        .iter()
        .filter_map(dispute_event)
        .filter(|e| request.filter.accepts(e))
        .collect();
    let map = tokio::task::spawn_blocking(move || analyse(&events, &request))
        .await?
        .map_err(|e| analysis_error(&e).map_or_else(|| anyhow::Error::new(e), |p| flag(&p)))?;
    let hot = map.at_least(GiBin::Hot95).count();
    let cold = map.at_least(GiBin::Cold95).count();
    // Recorded before the file is written: a map that cannot be audited is not made.
    crate::audit::record(
        store.as_ref(),
        AuditAction::Export,
        Layer::Disputes.name().to_owned(),
        serde_json::json!({
            "hotspots": a.method,
            "resolution": a.res,
            "from": a.from,
            "to": a.to,
            "division": a.division,
            "events": map.events,
            "cells": map.cells.len(),
            "out": a.out.display().to_string(),
        }),
    )
    .await
    .context("nothing was written")?;
    let body = feature_collection(&map).to_string();
    write_replacing(&a.out, body.as_bytes())?;
    eprintln!(
        "gridgov: {} disputes in {} cells at resolution {}: {hot} hot and {cold} cold at 95 %; wrote {}",
        map.events,
        map.cells.len(),
        a.res,
        a.out.display()
    );
    Ok(())
}
