//! Sorting with one compiled copy for every caller. The standard library's sorts are fast but
//! each call site with its own comparison closure gets its own large copy, which together made
//! up a sixth of the wasm; the engine sorts short lists, where this merge sort is as good.
//! Rankings by score (the engine's hot paths) pack each score and index into one integer key
//! ([`desc_key`]) and pick the best with [`top_keys`]: no closure at all per comparison.

use std::cmp::Ordering;

/// Below this many elements, runs are sorted by insertion.
const RUN: usize = 16;

/// The stable order of `0..n` by `cmp`: `order[k]` is the index that goes to position `k`.
/// Not generic, so it is compiled once.
pub fn order(n: usize, cmp: &mut dyn FnMut(usize, usize) -> Ordering) -> Vec<u32> {
    let mut a: Vec<u32> = (0..n as u32).collect();
    for start in (0..n).step_by(RUN) {
        let end = (start + RUN).min(n);
        for i in start + 1..end {
            let mut j = i;
            while j > start && cmp(a[j - 1] as usize, a[j] as usize) == Ordering::Greater {
                a.swap(j - 1, j);
                j -= 1;
            }
        }
    }
    let mut b = vec![0u32; n];
    let mut width = RUN;
    while width < n {
        let mut i = 0;
        while i < n {
            let mid = (i + width).min(n);
            let end = (i + 2 * width).min(n);
            let (mut l, mut r, mut k) = (i, mid, i);
            while l < mid && r < end {
                // Take from the right only when strictly smaller: stable.
                if cmp(a[r] as usize, a[l] as usize) == Ordering::Less {
                    b[k] = a[r];
                    r += 1;
                } else {
                    b[k] = a[l];
                    l += 1;
                }
                k += 1;
            }
            b[k..k + (mid - l)].copy_from_slice(&a[l..mid]);
            k += mid - l;
            b[k..k + (end - r)].copy_from_slice(&a[r..end]);
            i += 2 * width;
        }
        std::mem::swap(&mut a, &mut b);
        width *= 2;
    }
    a
}

/// Move `v[perm[k]]` to position `k`, swapping along the permutation's cycles.
pub fn permute<T>(v: &mut [T], perm: &[u32]) {
    let mut done = vec![false; v.len()];
    for start in 0..v.len() {
        let mut cur = start;
        while !done[cur] {
            done[cur] = true;
            let next = perm[cur] as usize;
            if next == start {
                break;
            }
            v.swap(cur, next);
            cur = next;
        }
    }
}

/// Sort `v` stably by `cmp`.
pub fn sort_by<T>(v: &mut [T], mut cmp: impl FnMut(&T, &T) -> Ordering) {
    if v.len() < 2 {
        return;
    }
    let perm = {
        let view: &[T] = v;
        order(view.len(), &mut |i, j| cmp(&view[i], &view[j]))
    };
    permute(v, &perm);
}

/// Sort `v` stably by `key`.
pub fn sort_by_key<T, K: Ord>(v: &mut [T], mut key: impl FnMut(&T) -> K) {
    sort_by(v, |a, b| key(a).cmp(&key(b)));
}

/// A sort key for "best score first, then `low` ascending": its ascending order is `score`
/// descending as `f32::total_cmp` orders it, then `low` ascending. Ranking by these keys
/// compares plain integers, with no closure per comparison: in the engine's hot paths
/// (`recommend`, `rank_grid`) the closures cost more than the scoring itself.
pub fn desc_key(score: f32, low: u32) -> u64 {
    let bits = score.to_bits();
    // Ascending total order as an unsigned integer: negatives reversed below the positives.
    let ascending = if bits & 0x8000_0000 != 0 {
        !bits
    } else {
        bits | 0x8000_0000
    };
    (u64::from(!ascending) << 32) | u64::from(low)
}

/// The score a [`desc_key`] was made from, exactly.
pub fn key_score(key: u64) -> f32 {
    let ascending = !((key >> 32) as u32);
    f32::from_bits(if ascending & 0x8000_0000 != 0 {
        ascending & 0x7fff_ffff
    } else {
        !ascending
    })
}

/// The `low` part of a [`desc_key`].
pub fn key_low(key: u64) -> u32 {
    key as u32
}

/// Move the larger keys down from `i` in the max-heap `heap`.
fn sift_down(heap: &mut [u64], mut i: usize) {
    loop {
        let (l, r) = (2 * i + 1, 2 * i + 2);
        let mut top = i;
        if l < heap.len() && heap[l] > heap[top] {
            top = l;
        }
        if r < heap.len() && heap[r] > heap[top] {
            top = r;
        }
        if top == i {
            return;
        }
        heap.swap(i, top);
        i = top;
    }
}

/// Keep the `k` smallest of `keys`, in no particular order: a bounded max-heap. Keys are
/// distinct in every caller (their low half is an index), so which are kept is well defined.
pub fn select_keys(keys: &mut Vec<u64>, k: usize) {
    let k = k.min(keys.len());
    let (heap, rest) = keys.split_at_mut(k);
    for i in (0..k / 2).rev() {
        sift_down(heap, i);
    }
    for &x in rest.iter() {
        if k > 0 && x < heap[0] {
            heap[0] = x;
            sift_down(heap, 0);
        }
    }
    keys.truncate(k);
}

/// Keep the `k` smallest of `keys`, in ascending order (all of them, sorted, when `k` reaches
/// their number): [`select_keys`], then heapsort.
pub fn top_keys(keys: &mut Vec<u64>, k: usize) {
    select_keys(keys, k);
    let k = keys.len();
    for end in (1..k).rev() {
        keys.swap(0, end);
        sift_down(&mut keys[..end], 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A small deterministic generator (xorshift64) for the tests' inputs.
    fn xorshift(mut seed: u64) -> impl FnMut() -> u64 {
        move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        }
    }

    #[test]
    fn matches_the_standard_stable_sort_on_many_inputs() {
        let mut next = xorshift(0x1234_5678_9abc_def0u64);
        for n in [0usize, 1, 2, 3, 15, 16, 17, 31, 32, 33, 100, 257, 1000] {
            for _ in 0..5 {
                // Few distinct keys, so stability matters.
                let v: Vec<(u64, usize)> = (0..n).map(|i| (next() % 7, i)).collect();
                let mut ours = v.clone();
                sort_by(&mut ours, |a, b| a.0.cmp(&b.0));
                let mut std_sorted = v.clone();
                std_sorted.sort_by_key(|a| a.0);
                assert_eq!(ours, std_sorted, "n = {n}");
                let mut desc = v.clone();
                sort_by_key(&mut desc, |x| std::cmp::Reverse(x.0));
                let mut want = v.clone();
                want.sort_by_key(|x| std::cmp::Reverse(x.0));
                assert_eq!(desc, want);
            }
        }
    }

    #[test]
    fn score_keys_order_as_total_cmp_descending_then_low() {
        let scores = [
            f32::NEG_INFINITY,
            -3.5,
            -1e-30,
            -0.0,
            0.0,
            1e-30,
            0.25,
            1.0,
            7.5,
            f32::MAX,
            f32::INFINITY,
        ];
        for &a in &scores {
            assert_eq!(key_score(desc_key(a, 9)).to_bits(), a.to_bits());
            for &b in &scores {
                for (la, lb) in [(1u32, 2u32), (2, 1), (5, 5), (0, u32::MAX)] {
                    let want = b.total_cmp(&a).then(la.cmp(&lb));
                    assert_eq!(
                        desc_key(a, la).cmp(&desc_key(b, lb)),
                        want,
                        "{a} {la} / {b} {lb}"
                    );
                }
            }
        }
    }

    #[test]
    fn top_keys_equals_sort_then_truncate() {
        let mut next = xorshift(0x5eed_cafe_u64);
        for n in [0usize, 1, 2, 5, 40, 300, 1001] {
            for k in [0usize, 1, 2, 3, 12, 40, 500, 2000] {
                // Few distinct scores: the index decides most comparisons.
                let keys: Vec<u64> = (0..n)
                    .map(|i| desc_key((next() % 9) as f32 - 4.0, i as u32))
                    .collect();
                let mut ours = keys.clone();
                top_keys(&mut ours, k);
                let mut want = keys.clone();
                want.sort_unstable();
                want.truncate(k);
                assert_eq!(ours, want, "n = {n}, k = {k}");
                let mut chosen = keys.clone();
                select_keys(&mut chosen, k);
                chosen.sort_unstable();
                assert_eq!(chosen, want, "select, n = {n}, k = {k}");
            }
        }
    }

    #[test]
    fn moves_values_that_own_memory() {
        let mut v: Vec<String> = ["d", "a", "c", "b", "a"]
            .iter()
            .map(|s| s.to_string())
            .collect();
        sort_by(&mut v, |a, b| a.cmp(b));
        assert_eq!(v, ["a", "a", "b", "c", "d"]);
    }
}
