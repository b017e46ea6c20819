//! # tailor-core
//!
//! The engine behind Tailor, in pure Rust: events, the snapshot format, the shopper profile,
//! the hybrid scorer and every ranking surface, segments, experiments, and (feature `train`)
//! training and offline evaluation.
//! It has no browser or server dependencies, so the same code ranks in the browser (through the
//! `tailor` wasm crate), in the sync server and in offline evaluation.
//!
//! ```
//! use tailor_core::model::Model;
//! use tailor_core::snapshot::{Snapshot, ModelKind};
//! use tailor_core::profile::Profile;
//! use tailor_core::rank::{rank_grid, Context};
//!
//! // The server builds a model from popularity weights...
//! let model = Model::from_popularity(&[(10, 1.0), (20, 9.0), (30, 4.0)]);
//! let snap = Snapshot::new(ModelKind::Hybrid, 7, model);
//! // ...ships it as bytes...
//! let bytes = snap.encode();
//! // ...and the browser decodes it and reorders the grid it found on the page.
//! let decoded = Snapshot::decode(&bytes).unwrap();
//! assert_eq!(decoded, snap);
//! let ranked = rank_grid(&[10, 20, 30, 99], &Profile::default(), &Context::default(), &decoded.model);
//! let order: Vec<usize> = ranked.iter().map(|(k, _)| *k).collect();
//! assert_eq!(order, vec![1, 2, 0, 3]); // 20, 30, 10, then the unknown 99 last
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod audience;
pub mod checksum;
pub mod config;
pub mod display;
#[cfg(feature = "train")]
pub mod eval;
pub mod events;
pub mod experiments;
pub mod model;
pub mod outbox;
pub mod profile;
pub mod rank;
pub mod report;
pub mod segments;
pub mod snapshot;
pub mod sort;
pub mod stats;
#[cfg(feature = "train")]
pub mod train;
pub mod urls;
