// Batched DOM primitives for the wasm crate (src/dom.rs, `Nodes`). Each is one call from the
// wasm for a whole list of cards, where a call per card and per property used to cross between
// the wasm and JavaScript three times a card (BENCHMARKS.md, "a seventeenth round"). They decide
// nothing: which elements, which selectors and which moves all come from the wasm.

// A text of each element of `list`: the `attr` attribute ('' for the element's id) of the
// element itself, or of its first descendant matching `selector` when one is given; '' when
// there is none. One string, the texts joined by U+0001 (the wasm checks the count: a text
// that holds the separator makes the list unreadable, never misread).
export function texts(list, selector, attr) {
  return list.map((c) => {
    const el = selector ? c.querySelector(selector) : c;
    return (el && (attr ? el.getAttribute(attr) : el.id)) || '';
  }).join('\u0001');
}

// Make the moves `plan` lists, in its order: pairs of (element, the element to go before) as
// indices into `list`, all separated by spaces; "-" for "after the last element" (before the
// element that followed it). First, though, check that `parent` is still in its document and
// every element of `list` still its child (the theme may have replaced the cards, the grid, or
// a section around it): if not, move nothing. `moveBefore` keeps a moved node in the document
// (its focus, a playing video); a browser without it, or a move it refuses, gets
// `insertBefore`. Returns 0 when every move was made, 1 when nothing was in place, 2 when the
// page refused a move (the wasm reports it).
export function place(parent, list, plan) {
  if (!parent.isConnected || list.some((n) => n.parentNode !== parent)) return 1;
  const end = list[list.length - 1].nextElementSibling;
  const steps = plan.split(' ');
  try {
    for (let i = 0; i < steps.length; i += 2) {
      const node = list[steps[i]];
      const before = list[steps[i + 1]] || end;
      try {
        parent.moveBefore(node, before);
      } catch {
        parent.insertBefore(node, before);
      }
    }
    return 0;
  } catch {
    return 2;
  }
}
