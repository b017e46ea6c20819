// Bulk reads for the wasm's DOM adapters (src/grid.rs): one call for a whole grid instead of
// two or three crossings per card. The adapters in Rust decide what is read and what it means;
// this file only reads, and decides nothing.
//
// For each element of `list` (a NodeList), the attribute `attr` of its first descendant that
// matches `inner`, or of the element itself when `inner` is empty: one string, each value
// followed by U+001F, with U+001E for a missing element or attribute. (A value that itself
// holds U+001F changes the count, and the caller then reads card by card.)
export function attrs(list, inner, attr) {
  let out = '';
  for (let i = 0; i < list.length; i++) {
    const el = inner ? list[i].querySelector(inner) : list[i];
    const v = el && el.getAttribute(attr);
    out += (v == null ? '\u001e' : v) + '\u001f';
  }
  return out;
}

// New elements from `spec`, made by `doc`, and the first of them (the root) returned: one
// record an element, records separated by U+001E; a record's fields, separated by U+001F, are
// its depth under the root (0 for the root, then its parent is the last element one level up),
// its tag, its text (none when empty), then attribute names and values. The writer
// (src/blocks.rs) decides every element, text and attribute, and keeps the two separators out
// of them. Text is set as `textContent` and attributes one by one: nothing is parsed as markup.
export function build(doc, spec) {
  const open = [];
  for (const record of spec.split('\u001e')) {
    const f = record.split('\u001f');
    const el = doc.createElement(f[1]);
    if (f[2]) el.textContent = f[2];
    for (let i = 3; i + 1 < f.length; i += 2) el.setAttribute(f[i], f[i + 1]);
    const depth = +f[0];
    if (depth) open[depth - 1].appendChild(el);
    open[depth] = el;
  }
  return open[0];
}
