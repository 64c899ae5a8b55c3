//! gridgov-disputes: the mediation of disputes (矛盾纠纷调处), from report to settlement.
//!
//! # What this crate owns
//!
//! The rule of the plans is "small matters stay in the village, big matters stay in the
//! township, conflicts are not pushed upward" (小事不出村、大事不出镇、矛盾不上交). This crate
//! holds what follows from it, as pure functions on model values: a case and its history
//! ([`case`]), the workflow's states and transitions with escalation village → township →
//! county when mediation fails or a level's deadline passes ([`workflow`]), the deadlines per
//! level and category ([`deadline`]), the monthly ledger (台账, [`ledger`]), statistics per
//! division and grid ([`stats`]) with repeat disputes ([`repeat`]), and the ledger as CSV and
//! XLSX ([`export`]). It does no I/O and knows nothing of HTTP or the database: the server
//! reads features from the store, turns them into [`case::Case`]s, and writes back what the
//! workflow decides.
//!
//! # Layout
//!
//! | module | what |
//! | --- | --- |
//! | [`case`] | `Case` (a dispute with its `Step`s) from and to model features |
//! | [`deadline`] | `Deadlines`: days per level and category, configurable |
//! | [`workflow`] | transitions, their checks (409 naming the state) and escalation |
//! | [`ledger`] | the monthly rolling screening list per division |
//! | [`stats`] | cases by category and level, settlement shares, median days to close |
//! | [`repeat`] | repeat disputes: same place within 200 m or same parties, within 6 months |
//! | [`export`] | the ledger as CSV and XLSX with Chinese headers |

pub mod case;
pub mod deadline;
pub mod export;
pub mod ledger;
pub mod repeat;
pub mod stats;
pub mod workflow;
