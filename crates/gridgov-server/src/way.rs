//! `/api/v1/way`: the way along the roads from a point (where a grid worker stands) to a
//! transfer station, for the mobile page's "how do I get there". The road network
//! (`gridgov-routing`, the tricycle's roads: lanes and tracks included) is built from the
//! index's roads once and again only after the roads change.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::{Query as QueryParams, State};
use axum::Json;
use geo::{Coord, Geometry};
use gridgov_model::vocab::VehicleKind;
use gridgov_model::{FeatureId, Layer, ValidationError};
use gridgov_routing::network::{Profile, RoadLine, RoadNetwork, SnapOptions};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::access::Access;
use crate::auth::Principal;
use crate::live::{Listener, LiveIndex};
use crate::lookup::LookupParams;
use crate::openapi::Problem;
use crate::{ApiError, AppState};

/// How far from a road the point and the station may lie (the rest is walked), in metres.
const MAX_SNAP_M: f64 = 1_000.0;

/// The road network of the index's roads, built on first use and after every change of them.
#[derive(Debug, Default)]
pub struct RoadCache {
    /// Bumped by every change of the roads.
    version: AtomicU64,
    built: Mutex<Option<(u64, Arc<RoadNetwork>)>>,
}

impl RoadCache {
    /// The listener to register with [`LiveIndex::on_change`]: a change of the roads makes the
    /// next way build the network again.
    pub fn listener(self: &Arc<Self>) -> Listener {
        let cache = Arc::downgrade(self);
        Box::new(move |touched| {
            if touched.layer == Layer::Roads {
                if let Some(cache) = cache.upgrade() {
                    cache.version.fetch_add(1, Ordering::SeqCst);
                }
            }
        })
    }

    /// The network for the roads as they are now.
    async fn network(&self, index: &Arc<LiveIndex>) -> Result<Arc<RoadNetwork>, ApiError> {
        let version = self.version.load(Ordering::SeqCst);
        if let Some((v, net)) = self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .as_ref()
        {
            if *v == version {
                return Ok(net.clone());
            }
        }
        let lines: Vec<RoadLine> = {
            let index = index.read();
            let mut lines = Vec::new();
            for (i, f) in index
                .layer(Layer::Roads)
                .into_iter()
                .flat_map(gridgov_index::LayerIndex::features)
                .enumerate()
            {
                lines.extend(
                    RoadLine::from_feature(f, f.id.map_or(i as i64, |id| id.0))
                        .map_err(|e| ApiError::Internal(format!("a road: {e}")))?,
                );
            }
            lines
        };
        if lines.is_empty() {
            return Err(ApiError::NotFound(
                "the county has no roads to find a way on".into(),
            ));
        }
        let net = tokio::task::spawn_blocking(move || {
            RoadNetwork::build(lines, &Profile::for_vehicle(VehicleKind::Tricycle))
        })
        .await
        .map_err(|e| ApiError::Internal(format!("building the road network: {e}")))?
        .map_err(|e| ApiError::Internal(format!("building the road network: {e}")))?;
        let net = Arc::new(net);
        *self
            .built
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Some((version, net.clone()));
        Ok(net)
    }
}

/// Query parameters of `GET /api/v1/way` beside the start (`lon`, `lat`, `crs` as a lookup
/// takes them: [`LookupParams`]).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
#[into_params(parameter_in = Query)]
pub struct WayParams {
    /// The transfer station's id (the lookup's `transfer_station.id`).
    pub station: Option<String>,
}

fn unprocessable(field: &str, reason: String) -> ApiError {
    ApiError::Unprocessable(vec![ValidationError::new(field, reason)])
}

/// `GET /api/v1/way?lon=&lat=&crs=&station=`: the way along the roads from the point to the
/// transfer station, as a GeoJSON LineString feature (the point, the roads, the station), with
/// its length and the time it takes by tricycle.
#[utoipa::path(get, path = "/api/v1/way", tag = "lookup",
    params(LookupParams, WayParams),
    responses(
        (status = 200, description = "A GeoJSON Feature: LineString from the point along the roads to the station; `distance_m` (all of it), `road_m`, `duration_s` (by tricycle on the roads), `from_road_m` and `to_road_m` (walked to and from the roads), `station` `{id, name}`", body = Object),
        (status = 400, description = "A missing or malformed parameter (named)", content_type = "application/problem+json", body = Problem),
        (status = 404, description = "The point or the station lies outside the county or the scope", content_type = "application/problem+json", body = Problem),
        (status = 422, description = "No way on the roads: the point or station is too far from one, or on roads not joined to the other's", content_type = "application/problem+json", body = Problem)))]
pub async fn get_way(
    State(s): State<AppState>,
    who: Principal,
    QueryParams(start): QueryParams<LookupParams>,
    QueryParams(p): QueryParams<WayParams>,
) -> Result<Json<Value>, ApiError> {
    let access = Access::of(&who, &s)?;
    access.read(Layer::TransferStations)?;
    let (crs, lon, lat) = start.point()?;
    let text = p.station.as_deref().unwrap_or_default();
    let id: i64 = text.trim().parse().map_err(|_| {
        ApiError::BadRequest(format!(
            "parameter 'station': '{text}' is not a transfer station's id"
        ))
    })?;
    let (from, (to, name)) = {
        let index = s.index.read();
        let found = index
            .lookup_where(crs, lon, lat, &access)
            .ok_or_else(|| crate::lookup::outside(crs, lon, lat, &access))?;
        let station = index
            .layer(Layer::TransferStations)
            .and_then(|l| l.get(FeatureId(id)))
            .filter(|f| access.admits(f))
            .and_then(|f| match &f.geometry {
                Some(Geometry::Point(pt)) => Some((pt.0, f.text("name").map(str::to_owned))),
                _ => None,
            })
            .ok_or_else(|| {
                ApiError::NotFound(format!(
                    "no transfer station {id} in your scope ({})",
                    access.scope()
                ))
            })?;
        (found.point, station)
    };
    let net = s.roads.network(&s.index).await?;
    let options = SnapOptions {
        max_distance_m: Some(MAX_SNAP_M),
        prefer_main: true,
    };
    let at = |c: Coord<f64>, field: &str, what: &str| {
        net.snap_with(c, &options)
            .map_err(|e| unprocessable(field, format!("{what}: {e}")))
    };
    let a = at(from, "lon", "the point")?;
    let b = at(to, "station", "the station")?;
    let way = net.path(&a, &b).ok_or_else(|| {
        unprocessable(
            "station",
            format!(
                "no way along the roads from the point to station {id}: their roads are not joined"
            ),
        )
    })?;
    let mut coords: Vec<[f64; 2]> = vec![[from.x, from.y]];
    coords.extend(way.coords.iter().map(|c| [c.x, c.y]));
    coords.push([to.x, to.y]);
    coords.dedup();
    let round = |m: f64| (m * 10.0).round() / 10.0;
    Ok(Json(json!({
        "type": "Feature",
        "geometry": {"type": "LineString", "coordinates": coords},
        "properties": {
            "distance_m": round(f64::from(way.distance_m) + a.distance_m + b.distance_m),
            "road_m": way.distance_m,
            "duration_s": way.time_s,
            "from_road_m": round(a.distance_m),
            "to_road_m": round(b.distance_m),
            "profile": "tricycle",
            "station": {"id": id, "name": name},
        },
    })))
}
