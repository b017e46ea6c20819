// Tailor's Shopify web pixel (`import { tailorPixel } from 'tailor/shopify-pixel'`): sends each
// completed checkout to the sync server as a `purchase` event. Register it from a web pixel
// extension (extensions/shopify-pixel/src/index.js); docs/integrate-shopify.md explains.
//
// The event id comes from the order id (orderEventId), as it does for a purchase the store's
// own pages track, so an order reported by both is stored once. The shopper is the one the
// storefront's loader keeps in localStorage, so the purchase joins their history; without it
// (no consent on the storefront, another device), Shopify's client id stands in. Order ids
// given as GraphQL ids count by their digits; a page tracking the same order must pass the digits.
import { orderEventId } from '../runtime.js';

/** The digits of an id given as a number, a digit string or a GraphQL id (`gid://shopify/Product/123`). */
function numericId(v) {
  const m = /(\d+)$/.exec(String(v == null ? '' : v));
  return m ? m[1] : null;
}

/** A product id as events carry it: a number, or a digit string beyond 2^53. */
function productId(v) {
  const digits = numericId(v);
  return digits && (Number.isSafeInteger(Number(digits)) ? Number(digits) : digits);
}

/** The `purchase` event for a `checkout_completed` customer event, or null when it names no product. */
export function purchaseEvent(site, event, shopper, session) {
  const checkout = (event && event.data && event.data.checkout) || {};
  const order = numericId(checkout.order && checkout.order.id) || String(event.id);
  const lines = (checkout.lineItems || [])
    .map((l) => ({
      item: productId(l.variant && l.variant.product && l.variant.product.id),
      qty: Math.max(1, Number(l.quantity) || 1),
      price: Math.max(0, Number(l.variant && l.variant.price && l.variant.price.amount) || 0),
    }))
    .filter((l) => l.item)
    .slice(0, 200);
  if (!lines.length) return null;
  const total = checkout.totalPrice && checkout.totalPrice.amount;
  const value = Number.isFinite(Number(total)) ? Number(total) : lines.reduce((s, l) => s + l.price * l.qty, 0);
  return {
    id: orderEventId(site, order),
    type: 'purchase',
    ts: Date.parse(event.timestamp) || Date.now(),
    shopper,
    session,
    lines,
    value: Math.max(0, value),
    order,
    ...(checkout.currencyCode ? { currency: checkout.currencyCode } : {}),
  };
}

/**
 * The pixel: `register(tailorPixel)`. `settings.site` and `settings.endpoint` come from the
 * pixel's settings (shopify.extension.toml). Resolves each send's HTTP status for callers that
 * wait (tests); the Shopify runtime ignores it.
 */
export function tailorPixel({ analytics, browser, settings }) {
  const site = settings && settings.site;
  const base = settings && settings.endpoint;
  if (!site || !base) return;
  const url = new URL('v1/events', base.endsWith('/') ? base : base + '/');
  const read = async (storage, key) => {
    try { return (storage && (await storage.getItem(key))) || null; } catch (_) { return null; }
  };
  analytics.subscribe('checkout_completed', async (event) => {
    const shopper = (await read(browser && browser.localStorage, 'tailor:shopper')) || String(event.clientId || `checkout-${event.id}`);
    // The storefront's session ("<id> <last event, ms>"): the checkout is part of it, however
    // long it took.
    const session = ((await read(browser && browser.localStorage, 'tailor:session')) || '').split(' ')[0] || shopper;
    const purchase = purchaseEvent(site, event, shopper, session);
    if (!purchase) return 0;
    const body = JSON.stringify({ site, key: settings.key || undefined, events: [purchase] });
    const res = await fetch(url, { method: 'POST', body, keepalive: true, credentials: 'omit', headers: { 'content-type': 'text/plain' } });
    return res.status;
  });
}
