// Type-checked by `tsc -p tests/types` in the test command: the declarations in js/tailor.d.ts
// must describe the API as a front-end developer calls it. The @ts-expect-error lines prove the
// types reject misuse (tsc fails if such a line stops being an error).
import type { Engine, TailorApi, TailorEvent, Recommendation, Arm, PageChanges } from '../../js/tailor';
import { readPage, applyPage, checkEvent, Queue } from '../../js/tailor';

declare const engine: Engine;
declare const api: TailorApi;

const recs: Recommendation[] = engine.recommend({ placement: 'similar', item: 7400000000012, n: 4 });
const first: string | undefined = recs[0]?.title;
const read = readPage({ root: document, parts: 'gs' });
const changes: PageChanges = applyPage(read.reading, engine.decide(read.request), 'g');
const moved: number = changes.moved;
const arm: Arm = engine.assignment({ placement: 'grid' }).arm;
const event: TailorEvent = api.track('add_to_cart', { item: 7400000000012, qty: 2 });
api.push(['track', 'purchase', { lines: [{ item: 1, qty: 1, price: 9.5 }], value: 9.5 }]);
api.push(['consent', true]);
api.push(['forget']);
const allowed: boolean = api.consented();
// (The script tag's engine answers from its worker.)
api.recommend({ placement: 'for-you', n: 4 }).then((r: Recommendation[]) => r.map((x) => x.title));
const q = new Queue();
const sent: boolean = q.enqueue(JSON.stringify(checkEvent(event)), Date.now());
api.ready().then(() => api.flush());

// @ts-expect-error an unknown event type
api.track('page_vieww', {});
// @ts-expect-error consent takes a boolean
api.consent('yes');
// @ts-expect-error decide takes the reading's request (text), not the reading
const wrong: string = engine.decide(read);
// @ts-expect-error the script tag's recommendations are a promise
const now: Recommendation[] = api.recommend({ placement: 'for-you' });

export { first, moved, arm, event, allowed, wrong, sent, now };
