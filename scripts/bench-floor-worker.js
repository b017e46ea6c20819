// The worker of scripts/bench-floor.js's FLOOR=worker variant: it answers what the page read
// with a fixed order of the cards and fixed items for each slot. It stands in for a worker
// that holds the engine; it decides nothing, and its time is not the page's.
onmessage = ({ data }) => {
  if (data.event) return;
  const order = data.cards.map((href, i) => [i, href.length * 7919 % 101]).sort((x, y) => x[1] - y[1]).map(([i]) => i);
  const blocks = data.slots.map(([, n]) => Array.from({ length: Math.min(48, n) }, (_, i) => [7400000000000 + i, `A Product Of The Catalog Number ${i}`, `/products/a-product-of-the-catalog-${i}`, `${i + 1}.95`, 'Because you viewed Another Product']));
  postMessage({ order, blocks });
};
