//! # tailor (wasm)
//!
//! The thin browser layer over [`tailor_core`]: the `#[wasm_bindgen]` API the loader calls, and
//! the DOM adapters that find products on the page and move them. It decides nothing itself:
//! every ordering comes from `tailor-core`.
//!
//! The JS surface is coarse, one options object per call:
//!
//! ```js
//! const engine = Engine.init({ snapshot: new Uint8Array(bytes) });
//! const moved = engine.rankGrid({ root: document }); // number of items that changed place
//! ```
//!
//! Failures reach JS as real `Error`s with a machine-readable `code` (see [`error`]).
#![warn(missing_docs)]

pub mod error;
pub mod grid;

use error::TailorError;
use tailor_core::profile::Profile;
use tailor_core::rank::{rank_grid, Context};
use tailor_core::snapshot::Snapshot;
use wasm_bindgen::prelude::*;

/// A running engine: a decoded snapshot plus the calls that personalize the page.
#[wasm_bindgen]
pub struct Engine {
    snapshot: Snapshot,
}

#[wasm_bindgen]
impl Engine {
    /// `Engine.init({ snapshot: Uint8Array })`: decode and validate the snapshot.
    ///
    /// Throws an `Error` with `code` `INVALID_OPTIONS` when `snapshot` is missing or not a
    /// `Uint8Array`, or one of the `SNAPSHOT_*` codes when the bytes are not a valid snapshot.
    pub fn init(opts: &JsValue) -> Result<Engine, JsValue> {
        let bytes = error::get_option(opts, "snapshot")?;
        let bytes = bytes.dyn_into::<js_sys::Uint8Array>().map_err(|_| {
            TailorError::new(
                "INVALID_OPTIONS",
                "Engine.init: `snapshot` must be a Uint8Array".to_owned(),
            )
        })?;
        let snapshot = Snapshot::decode(&bytes.to_vec())
            .map_err(|e| TailorError::new(e.code(), format!("Engine.init: {e}")))?;
        Ok(Engine { snapshot })
    }

    /// `engine.rankGrid({ root? })`: reorder the product grid found under `root` (default:
    /// `document`) by the snapshot's scores. Existing nodes are moved, never rebuilt, so the
    /// theme's listeners survive. Returns how many items changed position (0 when the page has
    /// no recognised grid or it is already in order).
    #[wasm_bindgen(js_name = rankGrid)]
    pub fn rank_grid(&self, opts: &JsValue) -> Result<u32, JsValue> {
        let root = grid::root_from_options(opts)?;
        let Some(found) = grid::find_grid(&root)? else {
            return Ok(0);
        };
        // The on-device profile arrives with storage; until then every shopper is new and the
        // grid follows the store's popularity.
        let order: Vec<usize> = rank_grid(
            &found.ids,
            &Profile::default(),
            &Context::default(),
            &self.snapshot.model,
        )
        .into_iter()
        .map(|(k, _)| k)
        .collect();
        Ok(grid::apply_order(&found, &order)?)
    }

    /// Number of items in the loaded snapshot.
    #[wasm_bindgen(getter, js_name = itemCount)]
    pub fn item_count(&self) -> u32 {
        self.snapshot.model.items.len() as u32
    }
}
