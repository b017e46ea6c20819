//! The next-item model that a snapshot carries, and its scorer.
//!
//! Three signals, all small enough to ship to the browser:
//! - a bounded **sample of recent sessions** (item sequences) for session-kNN: sessions that
//!   share items with the shopper's current session vote for their other items, weighted by
//!   how similar they are and how close each item sits to the shared one;
//! - **sequential neighbour lists**: for each item, the items that most often follow it
//!   shortly afterwards in a session (quantized, top-k);
//! - a **popularity prior** (quantized), which fills the list when the other two are silent
//!   and breaks ties, so the hybrid never does worse than plain popularity.
//!
//! Scoring is deterministic: equal scores are ordered by item id.

/// Index of an item in [`Model::items`].
pub type ItemIx = u32;

/// One entry of a neighbour list: an item and its quantized strength (1..=255).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Neighbor {
    /// The neighbouring item.
    pub item: ItemIx,
    /// Quantized strength relative to the list's strongest entry (255).
    pub score: u8,
}

/// Catalog attributes of an item, as shipped in the snapshot.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ItemAttrs {
    /// The store's product id.
    pub id: u64,
    /// Index into [`Model::strings`] of the category path, if known.
    pub category: Option<u32>,
    /// Index into [`Model::strings`] of the vendor/brand, if known.
    pub vendor: Option<u32>,
    /// Price in minor units (cents), if known.
    pub price_cents: Option<u32>,
    /// Whether the item can be bought now.
    pub available: bool,
}

/// Tunable weights of the hybrid scorer. The trainer chooses `recency` and `sequential` per
/// store on a validation split of the store's own training data (`train::train_tuned`) and
/// ships them in the snapshot; the defaults below are the starting point.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreParams {
    /// How many most-similar sessions vote.
    pub k: usize,
    /// How many of the most recent sessions per shared item are considered as candidates.
    pub sample: usize,
    /// Weight of the sequential neighbour lists relative to session-kNN.
    pub sequential: f32,
    /// Weight of the popularity prior relative to session-kNN.
    pub popularity: f32,
    /// How fast older items of the current session lose weight: an item `d` steps before the
    /// most recent one weighs `1 / (1 + d)^recency`. 1 is the classic "div" decay; 0 weighs
    /// every item of the session the same.
    pub recency: f32,
    /// Inverse document frequency: a shared item adds `1 + idf * ln(sessions / sessions
    /// containing it)` times its weight to a session's similarity, so rare shared items count
    /// more. 0 turns it off.
    pub idf: f32,
    /// How much more an item that came *after* the shared item in a neighbour session counts
    /// than one that came before (1 = symmetric).
    pub forward: f32,
}

impl Default for ScoreParams {
    fn default() -> Self {
        ScoreParams {
            k: 100,
            sample: 500,
            sequential: 0.5,
            popularity: 0.01,
            recency: 1.0,
            idf: 0.0,
            forward: 1.0,
        }
    }
}

/// Many short lists stored flat (one allocation for all entries, one for the offsets), so a
/// 50,000-item model decodes without 50,000 small allocations.
#[derive(Debug, Clone, PartialEq)]
pub struct Lists<T> {
    off: Vec<u32>,
    data: Vec<T>,
}

impl<T> Default for Lists<T> {
    fn default() -> Self {
        Lists {
            off: vec![0],
            data: Vec::new(),
        }
    }
}

impl<T: Clone> Lists<T> {
    /// Lists from nested vectors.
    pub fn from_vecs(v: Vec<Vec<T>>) -> Self {
        let mut l = Lists::with_capacity(v.len(), v.iter().map(Vec::len).sum());
        for list in v {
            l.data.extend(list);
            l.close();
        }
        l
    }

    /// Empty, with room for `lists` lists of `entries` entries in all.
    pub fn with_capacity(lists: usize, entries: usize) -> Self {
        let mut off = Vec::with_capacity(lists + 1);
        off.push(0);
        Lists {
            off,
            data: Vec::with_capacity(entries),
        }
    }

    /// Append an entry to the list being built.
    pub fn push(&mut self, v: T) {
        self.data.push(v);
    }

    /// End the list being built (possibly empty) and start the next.
    pub fn close(&mut self) {
        self.off.push(self.data.len() as u32);
    }

    /// Number of lists.
    pub fn len(&self) -> usize {
        self.off.len() - 1
    }

    /// Whether there are no lists.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// List `i` (empty when out of range).
    pub fn get(&self, i: usize) -> &[T] {
        match (self.off.get(i), self.off.get(i + 1)) {
            (Some(&a), Some(&b)) => &self.data[a as usize..b as usize],
            _ => &[],
        }
    }

    /// Every list, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[T]> + '_ {
        (0..self.len()).map(move |i| self.get(i))
    }

    /// Total entries over all lists.
    pub fn total(&self) -> usize {
        self.data.len()
    }

    /// The canonical form of per-item lists: with no entries at all, the empty value (so a
    /// model compares equal whether its empty lists were built or decoded).
    pub fn canonical(self) -> Self {
        if self.data.is_empty() {
            Lists::default()
        } else {
            self
        }
    }

    /// Copy out as nested vectors.
    pub fn to_vecs(&self) -> Vec<Vec<T>> {
        self.iter().map(<[T]>::to_vec).collect()
    }
}

/// The model: item table, popularity, neighbour lists, session sample.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Model {
    /// Items sorted by id; an [`ItemIx`] is a position in this table.
    pub items: Vec<ItemAttrs>,
    /// Shared strings (categories, vendors).
    pub strings: Vec<String>,
    /// Quantized popularity per item (0..=255, log scale).
    pub popularity: Vec<u8>,
    /// Per item: the items that follow it in sessions, strongest first.
    pub next: Lists<Neighbor>,
    /// Sampled sessions as item sequences, oldest first.
    pub sessions: Lists<ItemIx>,
    /// The scorer weights chosen for this store at training time.
    pub params: ScoreParams,
    /// Per item: its URL handle (`/products/<handle>`), or empty when unknown. Either empty
    /// (no handles) or one per item.
    pub handles: Vec<String>,
    /// Display titles for recommendation blocks: empty (none) or one per item.
    pub titles: Vec<String>,
    /// Image URLs for recommendation blocks: empty (none) or one per item ("" = no image).
    pub images: Vec<String>,
    /// Per item: tag string indices.
    pub tags: Lists<u32>,
    /// Per item: items viewed in the same sessions (symmetric co-view), strongest first.
    pub coview: Lists<Neighbor>,
    /// Per item: items bought in the same orders, strongest first.
    pub copurchase: Lists<Neighbor>,
    /// Per item: trending prior (0 = no lift; 255 = the strongest recent lift), or empty.
    pub trending: Vec<u8>,
    /// The store's configuration: segments, experiments, placements, banners.
    pub config: crate::config::StoreConfig,
    /// Derived: per item, the sessions containing it, most recent first. Built by
    /// [`Model::index`]; not serialized.
    pub(crate) item_sessions: Lists<u32>,
    /// Derived: every item, most popular first (ties by index).
    pub(crate) by_popularity: Vec<ItemIx>,
    /// Derived: per string, the items whose category or vendor it is, most popular first.
    pub(crate) string_items: Lists<ItemIx>,
}

/// A scored item.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Scored {
    /// The item.
    pub item: ItemIx,
    /// Its hybrid score (higher is better).
    pub score: f32,
}

impl Scored {
    /// The item and score of a [`crate::sort::desc_key`] (best first, ties by item index).
    fn from_key(key: u64) -> Scored {
        Scored {
            item: crate::sort::key_low(key),
            score: crate::sort::key_score(key),
        }
    }
}

impl Model {
    /// A model from its parts, indexed and ready to score. `popularity` and `next` must have
    /// one entry per item (missing entries count as 0 and empty).
    pub fn from_parts(
        items: Vec<ItemAttrs>,
        strings: Vec<String>,
        mut popularity: Vec<u8>,
        mut next: Vec<Vec<Neighbor>>,
        sessions: Vec<Vec<ItemIx>>,
        params: ScoreParams,
    ) -> Model {
        popularity.resize(items.len(), 0);
        next.resize(items.len(), Vec::new());
        let mut m = Model {
            items,
            strings,
            popularity,
            next: Lists::from_vecs(next).canonical(),
            sessions: Lists::from_vecs(sessions),
            params,
            ..Model::default()
        };
        m.index();
        m
    }

    /// A model with popularity only, from `(id, weight)` pairs (weights of a repeated id add up;
    /// negative or non-finite weights count as zero). Quantized on a log scale, so a
    /// long-tailed distribution keeps its order among the head and the tail.
    pub fn from_popularity(weights: &[(u64, f64)]) -> Model {
        let mut w: Vec<(u64, f64)> = weights
            .iter()
            .map(|&(id, w)| (id, if w.is_finite() && w > 0.0 { w } else { 0.0 }))
            .collect();
        crate::sort::sort_by_key(&mut w, |&(id, _)| id);
        let mut merged: Vec<(u64, f64)> = Vec::with_capacity(w.len());
        for (id, x) in w {
            match merged.last_mut() {
                Some(last) if last.0 == id => last.1 += x,
                _ => merged.push((id, x)),
            }
        }
        let max = merged.iter().map(|&(_, x)| x).fold(0.0f64, f64::max);
        let mut m = Model {
            items: merged
                .iter()
                .map(|&(id, _)| ItemAttrs {
                    id,
                    available: true,
                    ..Default::default()
                })
                .collect(),
            popularity: merged.iter().map(|&(_, x)| quantize_log(x, max)).collect(),
            next: Lists::default(),
            ..Default::default()
        };
        m.index();
        m
    }

    /// Build the derived session index. Call once after constructing or decoding.
    pub fn index(&mut self) {
        // Two passes over the sessions, newest first: count, then fill. An item that occurs
        // twice in a session lists it once.
        let n = self.items.len();
        let mut count = vec![0u32; n];
        let mut last_seen = vec![u32::MAX; n];
        for s in (0..self.sessions.len()).rev() {
            for &i in self.sessions.get(s) {
                let i = i as usize;
                if i < n && last_seen[i] != s as u32 {
                    last_seen[i] = s as u32;
                    count[i] += 1;
                }
            }
        }
        let mut off = Vec::with_capacity(n + 1);
        off.push(0u32);
        for c in &count {
            off.push(off[off.len() - 1] + c);
        }
        let mut fill: Vec<u32> = off[..n].to_vec();
        let mut data = vec![0u32; off[n] as usize];
        last_seen.iter_mut().for_each(|x| *x = u32::MAX);
        for s in (0..self.sessions.len()).rev() {
            for &i in self.sessions.get(s) {
                let i = i as usize;
                if i < n && last_seen[i] != s as u32 {
                    last_seen[i] = s as u32;
                    data[fill[i] as usize] = s as u32;
                    fill[i] += 1;
                }
            }
        }
        self.item_sessions = Lists { off, data };

        let mut by_pop: Vec<ItemIx> = (0..n as ItemIx).collect();
        crate::sort::sort_by_key(&mut by_pop, |&i| {
            std::cmp::Reverse(self.popularity.get(i as usize).copied().unwrap_or(0))
        });
        let n_strings = self.strings.len();
        let strings_of = |a: &ItemAttrs| {
            [a.category, a.vendor.filter(|v| Some(*v) != a.category)]
                .into_iter()
                .flatten()
                .map(|s| s as usize)
                .filter(move |&s| s < n_strings)
        };
        let mut count = vec![0u32; n_strings];
        for a in &self.items {
            for s in strings_of(a) {
                count[s] += 1;
            }
        }
        let mut off = Vec::with_capacity(n_strings + 1);
        off.push(0u32);
        for c in &count {
            off.push(off[off.len() - 1] + c);
        }
        let mut fill: Vec<u32> = off[..n_strings].to_vec();
        let mut data = vec![0 as ItemIx; off[n_strings] as usize];
        for &i in &by_pop {
            for s in strings_of(&self.items[i as usize]) {
                data[fill[s] as usize] = i;
                fill[s] += 1;
            }
        }
        self.string_items = Lists { off, data };
        self.by_popularity = by_pop;
    }

    /// The items whose category or vendor is string `s`, most popular first.
    pub fn items_with_string(&self, s: u32) -> &[ItemIx] {
        self.string_items.get(s as usize)
    }

    /// Every item, most popular first (ties by index).
    pub fn by_popularity(&self) -> &[ItemIx] {
        &self.by_popularity
    }

    /// The index of item `id`, if the model knows it.
    pub fn ix_of(&self, id: u64) -> Option<ItemIx> {
        self.items
            .binary_search_by_key(&id, |a| a.id)
            .ok()
            .map(|i| i as ItemIx)
    }

    /// The product id of item `ix`.
    pub fn id_of(&self, ix: ItemIx) -> u64 {
        self.items[ix as usize].id
    }

    /// Score every item for a shopper whose current session is `session` (oldest first) and
    /// return the best `n`, best first.
    pub fn recommend_next(&self, session: &[ItemIx], n: usize, p: &ScoreParams) -> Vec<Scored> {
        let mut keys = self.next_keys(session, n, p);
        crate::sort::top_keys(&mut keys, usize::MAX);
        keys.into_iter().map(Scored::from_key).collect()
    }

    /// The same `n` items as [`Model::recommend_next`], in no particular order (the session part
    /// of the shop's scorer needs them all, not their order).
    pub fn next_candidates(&self, session: &[ItemIx], n: usize, p: &ScoreParams) -> Vec<Scored> {
        self.next_keys(session, n, p)
            .into_iter()
            .map(Scored::from_key)
            .collect()
    }

    /// The best `n` items for `session` as [`crate::sort::desc_key`]s, in no particular order.
    fn next_keys(&self, session: &[ItemIx], n: usize, p: &ScoreParams) -> Vec<u64> {
        let mut scores = vec![0f32; self.items.len()];
        self.add_knn(session, p, &mut scores);
        self.add_sequential(session, p.sequential, &mut scores);
        // Only the items the session touched, and the most popular others, can make the list:
        // an untouched item scores its popularity alone, so a more popular untouched item
        // always beats it. Ranking this short list gives exactly the full ranking's top `n`.
        let pop = |i: usize| {
            if p.popularity > 0.0 {
                p.popularity * self.popularity[i] as f32 / 255.0
            } else {
                0.0
            }
        };
        let mut seen = vec![false; self.items.len()];
        let mut keys: Vec<u64> = Vec::new();
        let mut add = |i: usize| {
            if !seen[i] {
                seen[i] = true;
                keys.push(crate::sort::desc_key(scores[i] + pop(i), i as ItemIx));
            }
        };
        let mut touched = 0;
        for (i, &score) in scores.iter().enumerate() {
            if score != 0.0 {
                touched += 1;
                add(i);
            }
        }
        if self.by_popularity.len() == self.items.len() {
            let head = n.saturating_add(touched).min(self.items.len());
            for &i in &self.by_popularity[..head] {
                add(i as usize);
            }
        } else {
            for i in 0..self.items.len() {
                add(i);
            }
        }
        crate::sort::select_keys(&mut keys, n);
        keys
    }

    /// Session-kNN votes, normalized so the best item gets 1.
    fn add_knn(&self, session: &[ItemIx], p: &ScoreParams, out: &mut [f32]) {
        if session.is_empty() || self.sessions.is_empty() || p.k == 0 {
            return;
        }
        // Weight of each current-session item: the most recent 1, the one before 1/2, ...
        let len = session.len();
        let mut weights: Vec<(ItemIx, f32)> = Vec::with_capacity(len);
        for (pos, &item) in session.iter().enumerate() {
            if item as usize >= self.items.len() {
                continue;
            }
            let w = ((len - pos) as f32).powf(-p.recency);
            match weights.iter_mut().find(|(i, _)| *i == item) {
                Some(e) => e.1 = e.1.max(w),
                None => weights.push((item, w)),
            }
        }
        // Similarity of candidate sessions: the summed weights of shared items.
        let mut sim: Vec<(u32, f32)> = Vec::new();
        let mut slot = std::collections::HashMap::<u32, usize>::new();
        let n_sessions = self.sessions.len() as f32;
        for &(item, w) in &weights {
            let containing = self.item_sessions.get(item as usize);
            let w = if p.idf > 0.0 && !containing.is_empty() {
                w * (1.0 + p.idf * (n_sessions / containing.len() as f32).ln())
            } else {
                w
            };
            for &s in containing.iter().take(p.sample) {
                match slot.get(&s) {
                    Some(&ix) => sim[ix].1 += w,
                    None => {
                        slot.insert(s, sim.len());
                        sim.push((s, w));
                    }
                }
            }
        }
        // The k most similar; ties go to the more recent session (higher index).
        let mut keys: Vec<u64> = sim
            .iter()
            .map(|&(s, w)| crate::sort::desc_key(w, !s))
            .collect();
        crate::sort::top_keys(&mut keys, p.k);
        let sim: Vec<(u32, f32)> = keys
            .into_iter()
            .map(|k| (!crate::sort::key_low(k), crate::sort::key_score(k)))
            .collect();
        let mut votes = vec![0f32; out.len()];
        for &(s, similarity) in &sim {
            let items = self.sessions.get(s as usize);
            // Anchor: the position of the shared item that is most recent in the current session.
            let anchor = items
                .iter()
                .enumerate()
                .filter_map(|(pos, i)| weights.iter().find(|(c, _)| c == i).map(|&(_, w)| (pos, w)))
                .fold(None, |best: Option<(usize, f32)>, cur| match best {
                    Some(b) if b.1 >= cur.1 => Some(b),
                    _ => Some(cur),
                })
                .map(|(pos, _)| pos)
                .unwrap_or(0);
            for (pos, &i) in items.iter().enumerate() {
                let dist = pos.abs_diff(anchor);
                let direction = if pos > anchor { p.forward } else { 1.0 };
                votes[i as usize] += direction * similarity / (dist + 1) as f32;
            }
        }
        let max = votes.iter().copied().fold(0f32, f32::max);
        if max > 0.0 {
            for (o, v) in out.iter_mut().zip(votes) {
                *o += v / max;
            }
        }
    }

    /// Sequential neighbour list of the last item (and, weaker, the one before), normalized.
    fn add_sequential(&self, session: &[ItemIx], weight: f32, out: &mut [f32]) {
        if weight <= 0.0 {
            return;
        }
        let mut decay = 1.0f32;
        for &item in session.iter().rev().take(2) {
            for nb in self.next.get(item as usize) {
                if let Some(o) = out.get_mut(nb.item as usize) {
                    *o += weight * decay * nb.score as f32 / 255.0;
                }
            }
            decay *= 0.3;
        }
    }
}

/// Quantize `w` relative to `max` on a log scale to 0..=255:
/// `round(255 * ln(1 + w) / ln(1 + max))`, and 0 when `max` or `w` is not positive.
pub fn quantize_log(w: f64, max: f64) -> u8 {
    if max <= 0.0 || w <= 0.0 || !w.is_finite() {
        return 0;
    }
    (255.0 * w.ln_1p() / max.ln_1p()).round().clamp(0.0, 255.0) as u8
}

/// The best `n` of `scores`, best first, ties by item index. Zero scores are included only
/// when fewer than `n` items scored above zero.
pub fn top_n(scores: &[f32], n: usize) -> Vec<Scored> {
    let mut keys: Vec<u64> = scores
        .iter()
        .enumerate()
        .map(|(i, &score)| crate::sort::desc_key(score, i as ItemIx))
        .collect();
    crate::sort::top_keys(&mut keys, n);
    keys.into_iter().map(Scored::from_key).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(n_items: u32, sessions: Vec<Vec<ItemIx>>) -> Model {
        model_with(n_items, sessions, vec![], vec![])
    }

    fn model_with(
        n_items: u32,
        sessions: Vec<Vec<ItemIx>>,
        popularity: Vec<u8>,
        next: Vec<Vec<Neighbor>>,
    ) -> Model {
        let items = (0..n_items)
            .map(|i| ItemAttrs {
                id: 100 + i as u64,
                available: true,
                ..Default::default()
            })
            .collect();
        Model::from_parts(
            items,
            vec![],
            popularity,
            next,
            sessions,
            ScoreParams::default(),
        )
    }

    #[test]
    fn knn_recommends_what_similar_sessions_did_next() {
        // Sessions that contain 0 continue with 1; sessions with 2 continue with 3.
        let m = model(5, vec![vec![0, 1], vec![2, 3], vec![0, 1, 4], vec![2, 3]]);
        let p = ScoreParams::default();
        // The viewed item itself may rank first (shoppers return to it); the best other item
        // is what similar sessions did next.
        let first_other = |session: &[ItemIx]| {
            m.recommend_next(session, 5, &p)
                .into_iter()
                .find(|s| !session.contains(&s.item))
                .unwrap()
                .item
        };
        assert_eq!(first_other(&[0]), 1);
        assert_eq!(first_other(&[2]), 3);
    }

    #[test]
    fn recent_items_weigh_more() {
        let m = model(6, vec![vec![0, 1], vec![2, 3]]);
        // The shopper viewed 0, then 2: the session sharing 2 wins.
        let top = m.recommend_next(&[0, 2], 6, &ScoreParams::default());
        let others: Vec<ItemIx> = top
            .iter()
            .map(|s| s.item)
            .filter(|i| *i != 0 && *i != 2)
            .collect();
        assert_eq!(others[..2], [3, 1]);
    }

    #[test]
    fn sequential_lists_and_popularity_fill_in() {
        let next = vec![vec![
            Neighbor {
                item: 2,
                score: 255,
            },
            Neighbor { item: 1, score: 10 },
        ]];
        let m = model_with(4, vec![], vec![0, 0, 0, 200], next);
        let top = m.recommend_next(&[0], 4, &ScoreParams::default());
        let order: Vec<u32> = top.iter().map(|s| s.item).collect();
        assert_eq!(order, vec![2, 1, 3, 0]);
    }

    #[test]
    fn cold_start_is_popularity_then_id_order() {
        let m = model_with(4, vec![vec![0, 1]], vec![5, 0, 9, 5], vec![]);
        let order: Vec<u32> = m
            .recommend_next(&[], 4, &ScoreParams::default())
            .iter()
            .map(|s| s.item)
            .collect();
        assert_eq!(order, vec![2, 0, 3, 1]);
    }

    #[test]
    fn top_n_is_deterministic_and_bounded() {
        let s = [0.5, 0.9, 0.5, 0.1];
        let got: Vec<u32> = top_n(&s, 3).iter().map(|x| x.item).collect();
        assert_eq!(got, vec![1, 0, 2]);
        assert_eq!(top_n(&s, 10).len(), 4);
        assert!(top_n(&s, 0).is_empty());
    }

    #[test]
    fn popularity_model_quantizes_on_a_log_scale_and_merges_duplicates() {
        let m = Model::from_popularity(&[(3, 10.0), (1, 0.0), (2, 100.0), (3, 5.0), (9, f64::NAN)]);
        let ids: Vec<u64> = m.items.iter().map(|i| i.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 9]);
        // 15 = 10 + 5; ln(16)/ln(101) * 255 = 153.0...
        assert_eq!(m.popularity, vec![0, 255, 153, 0]);
        assert_eq!(Model::from_popularity(&[(1, 0.0)]).popularity, vec![0]);
    }

    #[test]
    fn the_short_list_ranks_exactly_like_scoring_every_item() {
        // Pseudo-random sessions, popularity and lists over 400 items.
        let mut x = 12345u64;
        let mut r = move |m: u64| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x % m
        };
        let sessions: Vec<Vec<ItemIx>> = (0..300)
            .map(|_| (0..2 + r(5)).map(|_| r(400) as ItemIx).collect())
            .collect();
        let popularity: Vec<u8> = (0..400).map(|_| r(256) as u8).collect();
        let next: Vec<Vec<Neighbor>> = (0..400)
            .map(|_| {
                (0..r(4))
                    .map(|_| Neighbor {
                        item: r(400) as ItemIx,
                        score: 1 + r(255) as u8,
                    })
                    .collect()
            })
            .collect();
        let m = model_with(400, sessions, popularity, next);
        let p = ScoreParams::default();
        for q in 0..50u32 {
            let session: Vec<ItemIx> = (0..1 + q % 4).map(|k| (q * 37 + k * 11) % 400).collect();
            let got = m.recommend_next(&session, 20, &p);
            // Brute force over every item.
            let mut all = vec![0f32; 400];
            m.add_knn(&session, &p, &mut all);
            m.add_sequential(&session, p.sequential, &mut all);
            for (s, &pop) in all.iter_mut().zip(&m.popularity) {
                *s += p.popularity * pop as f32 / 255.0;
            }
            let want = top_n(&all, 20);
            assert_eq!(
                got.iter().map(|s| s.item).collect::<Vec<_>>(),
                want.iter().map(|s| s.item).collect::<Vec<_>>(),
                "session {session:?}"
            );
        }
    }

    #[test]
    fn unknown_indices_are_ignored() {
        let m = model(2, vec![vec![0, 1]]);
        let top = m.recommend_next(&[99], 2, &ScoreParams::default());
        assert_eq!(top.len(), 2);
    }
}
