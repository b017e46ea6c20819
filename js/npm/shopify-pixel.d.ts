// Types of `tailor/shopify-pixel`: the Shopify web pixel that sends completed checkouts.
import type { TailorEvent } from '../tailor.js';

/** The parts of Shopify's web pixel API the pixel uses. */
export interface PixelApi {
  /** Shopify's customer events. */
  analytics: { subscribe(name: 'checkout_completed', handler: (event: CheckoutCompleted) => unknown): unknown };
  /** The storefront's storage, read to find the shopper the storefront's loader knows. */
  browser?: {
    /** `localStorage` of the storefront (async in the pixel sandbox): the shopper and session ids. */
    localStorage?: { getItem(key: string): Promise<string | null> };
  };
  /** The pixel's settings (shopify.extension.toml). */
  settings: {
    /** The site's key on the sync server (`key` under `[site]` in its config). */
    site: string;
    /** The sync server's URL. */
    endpoint: string;
    /** The site's public write key, when the sync server's config sets `write_key`. */
    key?: string;
  };
}

/** The fields of Shopify's `checkout_completed` event that the pixel reads. */
export interface CheckoutCompleted {
  /** Shopify's id of this customer event. */
  id: string;
  /** Shopify's client id of the visitor. */
  clientId?: string;
  /** ISO 8601 time of the event. */
  timestamp?: string;
  /** The checkout. */
  data: {
    /** The completed checkout. */
    checkout: {
      /** The order it became. */
      order?: { id?: string | number } | null;
      /** ISO currency code. */
      currencyCode?: string;
      /** The total paid. */
      totalPrice?: { amount?: number | string } | null;
      /** The lines bought. */
      lineItems?: {
        /** How many. */
        quantity?: number;
        /** The variant bought, with its product. */
        variant?: { price?: { amount?: number | string }; product?: { id?: string | number } } | null;
      }[];
    };
  };
}

/** The `purchase` event for a completed checkout, or null when it names no product. */
export declare function purchaseEvent(site: string, event: CheckoutCompleted, shopper: string, session: string): TailorEvent | null;
/** The pixel; pass it to `register` from `@shopify/web-pixels-extension`. */
export declare function tailorPixel(api: PixelApi): void;
