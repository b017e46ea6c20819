// Types of Tailor's browser API: the wasm engine (`Engine`) and the loader's `window.tailor`.
// Every call takes at most one options object, but `track(type, props)`. Failures throw an `Error` whose `code` says what went
// wrong (`INVALID_OPTIONS`, `INVALID_EVENT`, `SNAPSHOT_*`, `DOM`, `NO_DOCUMENT`, `INTERNAL`).

/** A product id: a number, or a digit string for ids beyond 2^53. */
export type ProductId = number | string;

/** An error thrown by the engine. */
export interface TailorError extends Error {
  /** Machine-readable: `INVALID_OPTIONS`, `INVALID_EVENT`, `SNAPSHOT_CHECKSUM`, `NOT_INITIALIZED`, `WORKER_FAILED`, ... */
  code: string;
}

/** Why an item is where it is. */
export type Reason =
  | { kind: 'because_you_viewed'; item: ProductId }
  | { kind: 'favorite_category'; category: string }
  | { kind: 'favorite_vendor'; vendor: string }
  | { kind: 'goes_with_cart'; item: ProductId }
  | {
      /** A reason that names nothing more. */
      kind:
        | 'price_range'
        | 'context'
        | 'popular'
        | 'trending'
        | 'recently_viewed'
        | 'pinned'
        | 'exploration'
        | 'text_relevance';
    };

/** Recommendation placements, by their names in markup (`data-tailor-slot`). */
export type Placement =
  | 'similar'
  | 'frequently-bought-together'
  | 'recently-viewed'
  | 'for-you'
  | 'cart-upsell'
  | 'trending'
  | 'pick-up-where-you-left-off';

/** Fields every event carries (docs/events.md). The loader fills them in for `tailor.track`. */
export interface EventBase {
  /** A UUID made on the device; the server stores each id once. */
  id: string;
  /** Milliseconds since the Unix epoch. */
  ts: number;
  /** The device's random shopper id (never an email address). */
  shopper: string;
  /** The session id. */
  session: string;
}

/** What a shopper did, without the common fields. */
export type EventProps =
  | { type: 'page_view'; /** Page type. */ page?: 'home' | 'collection' | 'search' | 'product' | 'cart' | 'other' }
  | { type: 'product_view'; /** The product viewed. */ item: ProductId }
  | { type: 'add_to_cart' | 'remove_from_cart'; /** The product. */ item: ProductId; /** Quantity, at least 1 (default 1). */ qty?: number }
  | {
      /** An order was placed. */
      type: 'purchase';
      /** The order's lines (1 to 200). */
      lines: { item: ProductId; qty?: number; price?: number }[];
      /** Order value, >= 0. */
      value: number;
      /** The store's order id: the same order reported twice counts once. A number is sent as a string. */
      order?: string | number;
      /** ISO currency code. */
      currency?: string;
    }
  | { type: 'search'; /** The query (cut to 100 characters). */ query: string; /** Product ids shown. */ results?: ProductId[] }
  | { type: 'rec_impression'; request: string; slot: string; items: ProductId[]; model_version: string }
  | { type: 'rec_click'; request: string; slot: string; position: number; item: ProductId; model_version: string }
  | { type: 'banner_impression' | 'banner_click'; banner: string; variant: string }
  | { type: 'diagnostic'; code: string; detail?: string }
  | { type: 'exposure'; placement: string; arm: Arm; experiment?: string };

/** The experience a shopper gets on a placement (experiments and the global holdout). */
export type Arm = 'holdout' | 'control' | 'treatment' | 'default';

/** A complete event, as `Engine.track` takes it. */
export type TailorEvent = EventBase & EventProps;

/** A recommended item, for callers that render it themselves. */
export interface Recommendation {
  /** The product id. */
  id: ProductId;
  /** Position in the list, from 0. */
  position: number;
  /** Plain text: put it in `textContent`, never `innerHTML`. */
  title: string;
  /** Product page URL, when the product has a handle (same origin). */
  url: string | null;
  /** Image URL on the shop's origin or an allowed CDN host, or null. */
  image: string | null;
  /** Price in cents of the store's currency. */
  price_cents: number | null;
  /** Why it is recommended. */
  reason: Reason;
  /** The reason in words, e.g. "Because you viewed Red mug". */
  explanation: string;
}

/** The on-device profile, summarized. */
export interface ProfileSummary {
  /** Lifecycle stage: `new_visitor`, `browsing`, `engaged`, `first_time_buyer`, `repeat_buyer`, `vip`, `at_risk`, `lapsed`. */
  stage: string;
  /** Strongest categories, best first. */
  topCategories: string[];
  /** Sessions seen on this device. */
  sessions: number;
  /** Page views seen on this device. */
  pageViews: number;
  /** Product pages viewed. */
  productViews: number;
  /** Orders placed. */
  orders: number;
  /** Total order value, in the store's currency. */
  spend: number;
  /** Recently viewed products, most recent first. */
  recent: ProductId[];
  /** What is in the cart, as the shopper's events tell. */
  cart: { item: ProductId; qty: number }[];
}

/** The page as the engine reads it from theme markup. */
export interface PageInfo {
  /** The page type. */
  type: 'home' | 'collection' | 'search' | 'product' | 'cart' | 'other';
  /** The product on a product page. */
  item: ProductId | null;
  /** `generic`, `dawn`, `woocommerce` or `url`. */
  adapter: string;
}

/** What one slot received. */
export interface RenderedSlot {
  /** The slot's `data-tailor-slot` name. */
  slot: string;
  /** The placement that filled it. */
  placement: string;
  /** Ties impressions and clicks to this rendering. */
  request: string;
  /** The products shown, in order. */
  items: ProductId[];
  /** The slot element it filled (`[data-tailor-slot]`). */
  element: Element;
}

/** Options shared by calls that work on the page. */
export interface PageOptions {
  /** Where to look (default: `document`). */
  root?: Document | Element;
  /** Now, ms since the epoch (default: `Date.now()`). */
  now?: number;
}

/** Options of the calls that reorder a listing page in place. */
export interface ListingOptions extends PageOptions {
  /**
   * The page's query string (default: `location.search`). A `sort_by` or `orderby` in it (else
   * the value of a `select[name=sort_by]` or `select[name=orderby]` under `root`) other than
   * `manual`, `menu_order`, `relevance`, `best-selling` or `popularity` is an order the listing
   * keeps: by price, name, date or rating.
   */
  search?: string;
}

/**
 * Which parts of the page to read or change, as letters: `g` the product grid, `r` search
 * results, `s` recommendation slots, `b` banners (default: all of them).
 */
export type PageParts = string;

/** What `readPage` read. */
export interface PageReading {
  /** The page's type and product. */
  page: PageInfo;
  /** What the engine needs: pass it to `engine.decide`. */
  request: string;
  /** Which reading this is, for `applyPage` (the last 8 are kept). */
  reading: number;
}

/** What `applyPage` changed. */
export interface PageChanges {
  /** How many grid cards and search results moved. */
  moved: number;
  /** What each slot received. */
  slots: RenderedSlot[];
  /** The banners shown. */
  banners: { banner: string; variant: string; explanation: string }[];
  /** The shopper's arm on each placement decided (for exposure events). */
  arms: Record<string, { arm: Arm; experiment?: string }>;
}

/**
 * Read the page (step one of three: `readPage`, `engine.decide`, `applyPage`): its type and
 * product, its grid's products (not on a search page, nor when the listing is sorted by price,
 * name, date or rating), its search results, its slots and its banners. Cards, search results
 * and banners that `applyPage` has placed carry `data-tailor-placed`, and are left out: what the
 * shopper has seen keeps its place and variant, and only what is new (cards appended, markup
 * rendered afresh) is placed. (Remove the attribute to have it placed again.)
 */
export declare function readPage(opts?: ListingOptions & {
  /** `location.pathname` by default. */
  path?: string;
  /** The page's product when its markup names none and it is not a listing page. */
  item?: ProductId | null;
  /** Which parts to read (default: all). */
  parts?: PageParts;
}): PageReading;

/**
 * Change the page as the engine decided (step three): the grid and the search results are
 * reordered by moving their nodes, the slots filled, the banners' variants shown. A grid the
 * theme replaced since it was read is left alone. What it places, or leaves as it is (with `k`
 * in `parts`: the grid, the results and the banners all), is marked `data-tailor-placed`.
 */
export declare function applyPage(reading: number, decisions: string, parts?: PageParts): PageChanges;

/** One item of a ranked list, with why it is there. */
export interface Ranked {
  /** The product id: a number, or a digit string beyond 2^53. */
  item: ProductId;
  /** Why it is at this position. */
  reason: Reason;
  /** The reason in words, e.g. "Because you viewed Red mug". */
  text: string;
}

/** The wasm engine (`pkg/npm/glue.js`; the script tag bundles the same). */
export declare class Engine {
  /** Decode and validate a snapshot; restore a stored profile. */
  static init(opts: {
    /** The snapshot bytes (`GET /v1/snapshot/{site}` names the current version). */
    snapshot: Uint8Array;
    /** What `exportProfile()` returned earlier; an unreadable one starts a fresh profile. */
    profile?: string;
    /** The device's random shopper id (experiment and holdout assignment). */
    shopper?: string;
    /** The shop's origin (`location.origin`): links and images must be on it or on `hosts`. */
    origin?: string;
    /** Extra host names allowed for images and links (a CDN); `cdn.shopify.com` always is. */
    hosts?: string[];
  }): Engine;
  /** Validate one event and update the profile at once. Returns the event to send. */
  track(event: TailorEvent): TailorEvent;
  /** The profile, as a string to store and pass back to `init`. */
  exportProfile(): string;
  /** The profile, summarized. */
  profile(opts?: { now?: number }): ProfileSummary;
  /**
   * A product list you already have, in this shopper's order (the product grid's ranking).
   * In the grid experiment's control arm and the holdout the list keeps its order.
   */
  rank(opts: {
    /** Product ids, or `{ id }` objects, in your current order. */
    items: (ProductId | { id: ProductId })[];
    /** Now, ms since the epoch (default: `Date.now()`). */
    now?: number;
  }): Ranked[];
  /** Rerank search results; text relevance stays dominant. */
  rerankSearch(opts: {
    /** The results in the search engine's order. */
    items: { id: ProductId; /** Higher is more relevant (default: by position). */ relevance?: number }[];
    /** Now, ms since the epoch (default: `Date.now()`). */
    now?: number;
  }): Ranked[];
  /** Recommendations to render yourself. */
  recommend(opts: {
    /** Which list. */
    placement: Placement;
    /** The product on the page (for similar and frequently bought together). */
    item?: ProductId;
    /** How many, 1 to 200 (default 12). */
    n?: number;
    /** Now, ms since the epoch (default: `Date.now()`). */
    now?: number;
  }): Recommendation[];
  /**
   * The decisions for a page `readPage` read (its `request`), as text for `applyPage`: the
   * grid's order, the search results' order, each slot's block, each banner's variant, and the
   * shopper's arm on each placement. The engine may run elsewhere (a worker): both are text.
   */
  decide(request: string, now?: number): string;
  /** Why an item ranks where it does for this shopper. */
  explain(opts: { item: ProductId; now?: number }): { item: ProductId; reason: Reason; text: string };
  /** The shopper's arm on a placement (`grid`, `search`, `similar`, `banner:<name>`, ...); a block's placement is named as `recommend` takes it (`for-you` or `for_you`). */
  assignment(opts: { placement: string; now?: number }): { arm: Arm; experiment?: string };
  /** Drop the on-device profile (the queue is a `Queue` of its own); `shopper`, the device's new random id, is what experiments assign by from now on. */
  forget(shopper?: string): void;
  /** Items in the loaded snapshot. */
  readonly itemCount: number;
  /** Release the engine's memory; the object is unusable afterwards. */
  free(): void;
}

/**
 * Validate one event as `Engine.track` does, without an engine: returns the event to send (free
 * text cut and redacted). Throws `INVALID_EVENT` with the reason.
 */
export declare function checkEvent(event: TailorEvent): TailorEvent;

/** The event queue: what to send, when to retry and what to drop (the page does the I/O). */
export declare class Queue {
  /** An empty queue. */
  constructor();
  /** Queue one event's JSON for sending; false when the page's rate limit dropped it. */
  enqueue(json: string, now: number): boolean;
  /** Put back a queue saved by `storedQueue()`. */
  restoreQueue(lines: string): void;
  /** How many events wait in the queue (unsent, or sent and not yet answered). */
  readonly queued: number;
  /** The queue to keep on the device: one event's JSON per line. */
  storedQueue(): string;
  /** The JSON array of the next batch to send, or undefined when nothing may go now. */
  nextBatch(now: number, online: boolean): string | undefined;
  /** The answer to the batch in flight (status 0: network error); `jitter` in 0..1. */
  answered(status: number, retryAfterMs: number | undefined, now: number, jitter: number): void;
  /** The device came back online: the next send may go at once. */
  online(): void;
  /** The batch in flight will get no answer; its events stay queued. */
  abandoned(): void;
  /** When the next send may start (ms since the epoch; 0: now). */
  retryAt(): number;
  /** Events dropped so far, by reason. */
  dropped(): { overflow: number; rateLimited: number; oversized: number; rejected: number; expired: number };
  /** Count one event that is not valid, and so was never queued, as `rejected`. */
  reject(): void;
  /** Drop every queued event, unsent. */
  forget(): void;
  /** Release the queue's memory; the object is unusable afterwards. */
  free(): void;
}

/**
 * The calls a running engine answers, as `window.tailor` (the loader) and the npm package both
 * offer them (`calls()` in js/runtime.js).
 */
export interface TailorCalls {
  /** Record what the shopper did (id, time, shopper and session are added): checks it, updates the on-device profile (at once in the npm package; in the script tag's worker, a moment later), and queues the event for the sync server. */
  track(type: EventProps['type'], props?: Record<string, unknown>): TailorEvent;
  /** A product list you already have, in this shopper's order (see `Engine.rank`). */
  rank(opts: Parameters<Engine['rank']>[0]): Ranked[];
  /** Recommendations to render yourself (titles are plain text: use `textContent`; see `Engine.recommend`). */
  recommend(opts: Parameters<Engine['recommend']>[0]): Recommendation[];
  /** The on-device profile, summarized. */
  profile(): ProfileSummary;
  /** Why an item ranks where it does for this shopper. */
  explain(opts: {
    /** The product. */
    item: ProductId;
  }): Ranked;
  /** The shopper's arm on a placement (`grid`, `search`, `similar`, `banner:<name>`, …). */
  assignment(opts: {
    /** The placement's name; a block's as `recommend` takes it (`for-you` or `for_you`). */
    placement: string;
  }): { arm: Arm; experiment?: string };
  /** Send queued events now. */
  flush(): void;
  /** Events dropped so far, by reason. */
  dropped(): ReturnType<Queue['dropped']>;
  /** Give (true) or take back (false) consent to tracking and storage (docs/privacy.md). */
  consent(granted: boolean): void;
  /** Whether events may be sent and storage written now. */
  consented(): boolean;
  /** Clear everything Tailor keeps on this device and ask the server to delete this shopper. */
  forget(): void;
}

/** The script tag's event queue as its worker last reported it (`window.tailor.queue`). */
export interface QueueState {
  /** How many events wait in the queue (unsent, or sent and not yet answered). */
  readonly queued: number;
  /** When the next send may start (ms since the epoch; 0: now). */
  retryAt(): number;
}

/** The calls whose answers come from the script tag's worker, where its engine runs. */
type Asked = 'rank' | 'recommend' | 'profile' | 'explain' | 'assignment';

/**
 * `window.tailor` once the loader is ready (before that it is an array command queue). Its
 * engine runs in a worker, so the calls that ask it resolve to their answers.
 */
export interface TailorApi extends Omit<TailorCalls, Asked> {
  /** A product list you already have, in this shopper's order (see `Engine.rank`). */
  rank(opts: Parameters<TailorCalls['rank']>[0]): Promise<Ranked[]>;
  /** Recommendations to render yourself (titles are plain text: use `textContent`). */
  recommend(opts: Parameters<TailorCalls['recommend']>[0]): Promise<Recommendation[]>;
  /** The on-device profile, summarized. */
  profile(): Promise<ProfileSummary>;
  /** Why an item ranks where it does for this shopper. */
  explain(opts: Parameters<TailorCalls['explain']>[0]): Promise<Ranked>;
  /** The shopper's arm on a placement (`grid`, `search`, `similar`, `banner:<name>`, …). */
  assignment(opts: Parameters<TailorCalls['assignment']>[0]): Promise<ReturnType<TailorCalls['assignment']>>;
  /** The event queue's state as the worker, which keeps the queue, last sent it, for diagnostics. */
  readonly queue: QueueState;
  /** Run a queued command, e.g. `['track', 'add_to_cart', { item: 123 }]`. */
  push(
    /** The command's name and arguments. */
    command:
      | [name: 'track', type: EventProps['type'], props?: Record<string, unknown>]
      | [name: 'consent', granted: boolean]
      | [name: 'forget'],
  ): unknown;
  /**
   * Resolves once the engine is running. When it could not start (the page then fails open,
   * `tailor:failed`) but the event queue did, `window.tailor` is this API all the same: `track`,
   * `consent`, `forget` and `flush` work, and `ready()` and the engine's calls reject with the
   * error that stopped it (its `code`, e.g. `SNAPSHOT_UNAVAILABLE`).
   */
  ready(): Promise<unknown>;
}

declare global {
  interface Window {
    /** Tailor's command queue, then its API once the loader is ready. */
    tailor?: TailorApi | unknown[];
  }
}
