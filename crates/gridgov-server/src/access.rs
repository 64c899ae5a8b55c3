//! What the signed-in user may see and change, applied on every output path: the role's
//! layers ([`Role::reads`], [`Role::writes`]), the features inside its scope, and masking of
//! personal fields ([`Role::mask`]). Handlers build an [`Access`] from the request's
//! [`Principal`] and ask it before answering; the rules themselves are the model's
//! (`gridgov_model::access`).
//!
//! A feature is inside a division scope when its owning division is the scope's division or
//! under it. A grid scope is the grid's village narrowed by the grid's polygon (of the plan in
//! force): a point is inside when it lies in the polygon or on its edge, a line or polygon when
//! it shares more than an edge with it. Features without geometry (persons, tenancies) are
//! placed by their owning village only.

use std::sync::Arc;

use geo::{BoundingRect, Geometry, Intersects, Relate};
use gridgov_model::{DivisionCode, Feature, GeometryKind, Layer, Role, Scope};
use gridgov_store::{Query, Store, StoreError};

use crate::auth::Principal;
use crate::{ApiError, AppState};

/// The rights of one request's user.
#[derive(Debug, Clone)]
pub struct Access {
    role: Role,
    scope: Scope,
    /// The grid's polygon, for a grid scope.
    grid: Option<Arc<Geometry<f64>>>,
}

/// Where a requested division lies against the user's scope.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Narrowed {
    /// The features owned by this division (or under it) are the answer.
    Within(DivisionCode),
    /// The request asks for a division outside the scope: the answer is empty.
    Outside,
}

impl Access {
    /// The rights of the request's user. A grid worker whose grid is not in the plan in force
    /// (the plan changed) sees nothing until given a new scope.
    ///
    /// # Errors
    /// 403 when a grid scope's grid is not in the plan in force.
    pub fn of(who: &Principal, state: &AppState) -> Result<Self, ApiError> {
        let grid = match who.scope() {
            Scope::Division(_) => None,
            Scope::Grid(code) => {
                let index = state.index.read();
                let code = code.to_string();
                let found = index.layer(Layer::Grids).and_then(|grids| {
                    grids
                        .features()
                        .find(|g| {
                            g.text("code") == Some(code.as_str()) && index.is_effective_grid(g)
                        })
                        .and_then(|g| g.geometry.clone())
                });
                let Some(geometry) = found else {
                    return Err(ApiError::Forbidden(format!(
                        "your scope, grid {code}, is not a grid of the plan in force; ask an administrator for a new scope"
                    )));
                };
                Some(Arc::new(geometry))
            }
        };
        Ok(Self {
            role: who.role(),
            scope: who.scope().clone(),
            grid,
        })
    }

    /// The role.
    pub fn role(&self) -> Role {
        self.role
    }

    /// The scope.
    pub fn scope(&self) -> &Scope {
        &self.scope
    }

    /// Refuses a layer the role does not read.
    ///
    /// # Errors
    /// 403 naming the role and the layer.
    pub fn read(&self, layer: Layer) -> Result<(), ApiError> {
        if self.role.reads(layer) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} ({}) does not see {layer}",
                self.role,
                self.role.zh()
            )))
        }
    }

    /// Refuses a layer the role does not change.
    ///
    /// # Errors
    /// 403 naming the role and the layer.
    pub fn write(&self, layer: Layer) -> Result<(), ApiError> {
        self.read(layer)?;
        if self.role.writes(layer) {
            Ok(())
        } else {
            Err(ApiError::Forbidden(format!(
                "a {} ({}) does not change {layer}",
                self.role,
                self.role.zh()
            )))
        }
    }

    /// [`Access::narrow`] for a listing that must lie in the scope: the division to list, or
    /// 403 when the requested one lies outside the scope.
    pub fn division_to_list(
        &self,
        requested: Option<DivisionCode>,
    ) -> Result<DivisionCode, ApiError> {
        match self.narrow(requested) {
            Narrowed::Within(d) => Ok(d),
            Narrowed::Outside => Err(ApiError::Forbidden(format!(
                "the division lies outside your scope ({})",
                self.scope
            ))),
        }
    }

    /// The division a query may cover: the requested one when it lies in the scope, the
    /// scope's own when the request is wider or absent, [`Narrowed::Outside`] when the two do
    /// not meet.
    pub fn narrow(&self, requested: Option<DivisionCode>) -> Narrowed {
        let mine = self.scope.division();
        match requested {
            None => Narrowed::Within(mine),
            Some(r) if mine.contains(&r) => Narrowed::Within(r),
            Some(r) if r.contains(&mine) => Narrowed::Within(mine),
            Some(_) => Narrowed::Outside,
        }
    }

    /// The grid's bounding box `[min_lon, min_lat, max_lon, max_lat]`, for a grid scope: a
    /// store query can be cut to it before [`Access::admits`] decides.
    pub fn grid_bbox(&self) -> Option<[f64; 4]> {
        let r = self.grid.as_ref()?.bounding_rect()?;
        Some([r.min().x, r.min().y, r.max().x, r.max().y])
    }

    /// Whether a grid scope narrows results beyond a division prefix.
    pub fn is_grid(&self) -> bool {
        self.grid.is_some()
    }

    /// Whether a feature lies inside the scope.
    pub fn admits(&self, f: &Feature) -> bool {
        if !self.scope.admits_owner(&f.division) {
            return false;
        }
        match (&self.grid, &f.geometry) {
            // Features without geometry (persons) belong to the grid's village as a whole;
            // the grid narrows only what has a place.
            (None, _) | (Some(_), None) => true,
            // A point on the grid's edge is in it; a line or polygon must share more than an
            // edge with it (the neighbouring grid only touches).
            (Some(grid), Some(g @ Geometry::Point(_))) => grid.intersects(g),
            (Some(grid), Some(g)) => {
                grid.bounding_rect()
                    .zip(g.bounding_rect())
                    .is_some_and(|(a, b)| a.intersects(&b))
                    && {
                        let m = grid.relate(g);
                        m.is_intersects() && !m.is_touches()
                    }
            }
        }
    }

    /// A page of a layer's features matching `q` inside the scope, and how many match in all
    /// when `count` is set: `q.division` is narrowed to the scope; for a grid scope the store
    /// is asked for the grid's village within the grid's box and the grid's polygon decides,
    /// the page then cut from what it admits.
    ///
    /// # Errors
    /// The store's.
    pub async fn page(
        &self,
        store: &dyn Store,
        layer: Layer,
        q: Query,
        count: bool,
    ) -> Result<(Option<u64>, Vec<Feature>), StoreError> {
        let division = match self.narrow(q.division) {
            Narrowed::Within(d) => d,
            Narrowed::Outside => return Ok((count.then_some(0), Vec::new())),
        };
        if self.is_grid() {
            let spatial = layer.geometry() != GeometryKind::None;
            let all = Query {
                division: Some(division),
                bbox: q.bbox.or_else(|| self.grid_bbox().filter(|_| spatial)),
                limit: None,
                offset: None,
                ..q
            };
            let admitted: Vec<Feature> = store
                .query(layer, &all)
                .await?
                .into_iter()
                .filter(|f| self.admits(f))
                .collect();
            let matched = count.then_some(admitted.len() as u64);
            let page = admitted
                .into_iter()
                .skip(usize::try_from(q.offset.unwrap_or(0)).unwrap_or(usize::MAX))
                .take(
                    q.limit
                        .map_or(usize::MAX, |l| usize::try_from(l).unwrap_or(usize::MAX)),
                )
                .collect();
            Ok((matched, page))
        } else {
            let q = Query {
                division: Some(division),
                ..q
            };
            let matched = if count {
                Some(store.count(layer, &q).await?)
            } else {
                None
            };
            // An offset at or past the end is an empty page, whatever its size.
            if matched.is_some_and(|m| q.offset.is_some_and(|o| o >= m)) {
                return Ok((matched, Vec::new()));
            }
            Ok((matched, store.query(layer, &q).await?))
        }
    }

    /// The feature as this role may see it (personal fields masked).
    pub fn mask(&self, layer: Layer, mut f: Feature) -> Feature {
        self.role.mask(layer, &mut f);
        f
    }
}

impl gridgov_index::LookupFilter for Access {
    /// A point is answered when it lies in the scope: in the scope's township or village (by
    /// the division that holds it), or in the grid.
    fn point(&self, found: &gridgov_index::Lookup<'_>) -> bool {
        let holds =
            |f: Option<&Feature>, code: &DivisionCode| f.is_some_and(|f| f.division == *code);
        match &self.scope {
            Scope::Division(d) => match d.level() {
                gridgov_model::DivisionLevel::County => true,
                gridgov_model::DivisionLevel::Township => holds(found.township, d),
                _ => holds(found.village, d),
            },
            Scope::Grid(g) => {
                let code = g.to_string();
                found
                    .grid
                    .is_some_and(|f| f.text("code") == Some(code.as_str()))
            }
        }
    }

    fn feature(&self, f: &Feature) -> bool {
        self.admits(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn access(role: Role, scope: &str) -> Access {
        Access {
            role,
            scope: scope
                .parse()
                .unwrap_or_else(|_| Scope::Division(code("520526000000"))),
            grid: None,
        }
    }

    fn code(s: &str) -> DivisionCode {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn requests_are_narrowed_to_the_scope() {
        let t = access(Role::TownshipOfficer, "520526101000");
        assert_eq!(t.narrow(None), Narrowed::Within(code("520526101000")));
        assert_eq!(
            t.narrow(Some(code("520526101201"))),
            Narrowed::Within(code("520526101201"))
        );
        assert_eq!(
            t.narrow(Some(code("520526000000"))),
            Narrowed::Within(code("520526101000"))
        );
        assert_eq!(t.narrow(Some(code("520526102000"))), Narrowed::Outside);
        assert_eq!(t.narrow(Some(code("520526102201"))), Narrowed::Outside);
    }

    #[test]
    fn features_outside_the_scope_are_not_admitted() {
        let t = access(Role::TownshipOfficer, "520526101000");
        let inside = Feature::new(code("520526101201"), None);
        let other = Feature::new(code("520526102201"), None);
        let county = Feature::new(code("520526000000"), None);
        assert!(t.admits(&inside));
        assert!(!t.admits(&other));
        assert!(!t.admits(&county));
        assert!(t.read(Layer::Households).is_ok());
        assert!(t.read(Layer::SupervisedPersons).is_err());
        assert!(access(Role::CommandScreen, "520526000000")
            .write(Layer::Disputes)
            .is_err());
    }
}
