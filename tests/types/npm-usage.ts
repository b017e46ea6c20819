// The npm package's declarations as a front-end developer meets them, through the package's
// own `exports` map (`tailor`, `tailor/slim`, `tailor/shopify-pixel`). Checked by
// `tsc -p tests/types`; the @ts-expect-error lines prove misuse is rejected.
import { init, ready, rank, recommend, track, flush, profile, type Tailor, type Ranked } from 'tailor';
import * as slim from 'tailor/slim';
import { tailorPixel, purchaseEvent } from 'tailor/shopify-pixel';

async function main(): Promise<void> {
  const t: Tailor = await init({ site: 'demo', endpoint: 'https://tailor.example.com', consent: 'opt-in' });
  const again: Tailor = await ready();
  const order: Ranked[] = rank({ items: [7400000000012, '7400000000013', { id: 7400000000014 }] });
  const titles: string[] = recommend({ placement: 'similar', item: order[0].item, n: 4 }).map((r) => r.title);
  track('add_to_cart', { item: 7400000000012, qty: 1 });
  flush();
  const stage: string = profile().stage;
  await slim.init({ site: 'demo', endpoint: '/', snapshot: new Uint8Array(0), wasm: new URL('https://cdn.example/tailor_bg.wasm') });
  // @ts-expect-error tailor/slim needs the wasm
  await slim.init({ site: 'demo', endpoint: '/' });
  // @ts-expect-error site is required
  await init({ endpoint: '/' });
  // @ts-expect-error endpoint is required
  await init({ site: 'demo' });
  // @ts-expect-error an unknown consent mode
  await init({ site: 'demo', consent: 'maybe' });
  // @ts-expect-error an unknown placement
  recommend({ placement: 'others' });
  // @ts-expect-error rank takes a list of ids
  rank({ items: 'all' });
  const e = purchaseEvent('demo', { id: 'x', data: { checkout: { lineItems: [] } } }, 'shopper', 'session');
  tailorPixel({ analytics: { subscribe: () => undefined }, settings: { site: 'demo', endpoint: 'https://tailor.example.com' } });
  console.log(t, again, titles, stage, e);
}

export { main };
