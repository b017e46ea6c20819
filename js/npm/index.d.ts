// Types of the npm package: `tailor` (bundlers), `tailor/web` (plain ES modules) and, with a
// required `wasm`, `tailor/slim` (slim.d.ts). Every call takes at most one options object, but `track(type, props)`;
// failures throw a `TailorError` whose `code` says what went wrong.
import { Engine, Queue, readPage, applyPage } from '../tailor.js';
import type * as T from '../tailor.js';

export type {
  ProductId,
  Reason,
  Ranked,
  Recommendation,
  ProfileSummary,
  EventProps,
  TailorEvent,
  Arm,
  Placement,
  TailorError,
} from '../tailor.js';

/** What the engine can be given as its wasm. */
export type WasmSource = string | URL | Request | Response | Promise<Response> | BufferSource | WebAssembly.Module;

/** Options of `init()`. */
export interface InitOptions {
  /** The site's key on your sync server (`site.key` in its config). */
  site: string;
  /** The sync server's URL: it serves the snapshot and takes events. A path names the server's folder, with or without a trailing slash (`https://shop.example/tailor` is `https://shop.example/tailor/`). */
  endpoint: string | URL;
  /** Snapshot bytes to decide from, instead of downloading the site's current one. */
  snapshot?: Uint8Array;
  /** The version of `snapshot`, named in impression and click events (default `0`). */
  snapshotVersion?: string | number;
  /** The engine's wasm; the default is the package's own `tailor_bg.wasm`. */
  wasm?: WasmSource;
  /**
   * Consent mode (docs/privacy.md): `none` (default), `opt-in`, `opt-out`, or `shopify` (Shopify's
   * Customer Privacy API). Until consent nothing is stored or sent; decisions still run in memory.
   * To run nothing at all before consent, call `init()` once your banner has answered.
   */
  consent?: 'none' | 'opt-in' | 'opt-out' | 'shopify';
  /** Treat the browser's Do Not Track setting as no consent (Global Privacy Control always is). */
  dnt?: boolean;
  /** A logged-in customer's id hash (an HMAC, never the raw id or an email): their profile follows them across devices. */
  customer?: string;
  /** Extra host names allowed for recommendation links and images (a CDN); `cdn.shopify.com` always is. */
  hosts?: string[];
  /** The site's public write key, sent with every event batch: only when the sync server's config sets `write_key` under `[site]`, which refuses batches without it (401). */
  key?: string;
}

/** The running package, as `init()` and `ready()` resolve it: the calls `window.tailor` has too, and the engine. */
export interface Tailor extends T.TailorCalls {
  /** The wasm engine itself, for calls this API does not wrap (`decide`, `rerankSearch`, …). */
  engine(): Engine;
  /** Give (true) or take back (false) consent to tracking and storage; an answer given before `init()` or while it loads applies once it is done. */
  consent(granted: boolean): void;
}

/**
 * Start the engine: load the wasm, get the snapshot, restore the shopper's profile. Call it once,
 * in the browser; later calls return the same promise. Rejects with a `TailorError`
 * (`INVALID_OPTIONS`, `NO_DOCUMENT`, `SNAPSHOT_*`, `LOAD_FAILED`); after a rejection `init()` may be called again.
 * When only the snapshot failed (`SNAPSHOT_*`: the sync server down or out of reach, a damaged
 * download), events are tracked and sent all the same and the engine's calls throw that error;
 * calling `init()` again, for the same `site` and `endpoint` (else `INVALID_OPTIONS`), tries
 * again, and the engine it starts gets the events tracked meanwhile (the first 1,000).
 */
export declare function init(opts: InitOptions): Promise<Tailor>;
/** Resolves once `init()` has succeeded (it may be called before `init()`). */
export declare function ready(): Promise<Tailor>;

// The same calls as module functions. Each throws `NOT_INITIALIZED` until `init()` has
// resolved, except after a `SNAPSHOT_*` rejection: then `rank`, `recommend`, `profile`,
// `explain`, `assignment` and `engine` throw that error, and the others work.
export declare const {
  engine, rank, recommend, track, profile, explain, assignment, flush, dropped, consent, consented, forget,
}: Tailor;
export { Engine, Queue, readPage, applyPage };
