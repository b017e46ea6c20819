// Bulk reads for the wasm's DOM adapters (src/grid.rs): one call for a whole grid instead of
// two or three crossings per card. The adapters in Rust decide what is read and what it means;
// this file only reads, and decides nothing.
//
// For each element of `list` (a NodeList or an HTMLCollection), the attribute `attr` of its
// first descendant that matches `inner`, or of the element itself when `inner` is empty: one
// string, each value followed by U+001F, with U+001E for a missing element or attribute. (A
// value that itself holds U+001F changes the count, and the caller then leaves the grid alone,
// as any markup it does not understand.) With `mark`, each element found gets `attr` set to it,
// after its old value was read (src/grid.rs, `mark`).
export function attrs(list, inner, attr, mark) {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const el = inner ? list[i].querySelector(inner) : list[i];
    const v = el && el.getAttribute(attr);
    if (el && mark != null) el.setAttribute(attr, mark);
    out += (v == null ? '\u001e' : v) + '\u001f';
  }
  return out;
}
