//! gridgov's domain model: what a county keeps on its map, and the rules it must obey.
//!
//! # Layout
//! - [`access`]: roles, their scopes in the administrative tree, what each reads and writes,
//!   and masking of personal fields.
//! - [`code`]: national division codes and the local codes of villager groups and grids.
//! - [`idcard`]: resident ID-card numbers with their checksum.
//! - [`vocab`]: the controlled vocabularies (dispute categories, road classes, …) with their
//!   Chinese terms: the project's glossary.
//! - [`layer`]: every layer and its schema (geometry type, typed fields, rules).
//! - [`feature`]: a stored feature and its typed values.
//! - [`geometry`]: geometry checks and GeoJSON encoding.
//! - [`crs`]: WGS84 / CGCS2000, GCJ-02 and BD-09, both ways.
//! - [`mod@validate`]: validation against the schema and the administrative tree.
//!
//! No I/O and no async here: stores, importers and the server build on these types.

pub mod access;
pub mod code;
pub mod crs;
pub mod feature;
pub mod geometry;
pub mod idcard;
pub mod layer;
pub mod validate;
pub mod vocab;
pub mod wkb;

pub use access::{Role, Scope, UserName};
pub use code::{CodeError, DivisionCode, DivisionLevel, GridCode, GroupCode};
pub use feature::{Dataset, Feature, FeatureId, Properties, Value};
pub use idcard::IdCardNumber;
pub use layer::{FieldDef, FieldType, GeometryKind, Layer, Rule, UnknownLayer};
pub use validate::{check_containment, clock_seconds, validate, ValidationError};
pub use vocab::Crs;
