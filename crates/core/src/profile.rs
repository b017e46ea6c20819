//! The shopper's profile, kept on the device and updated by every event.
//!
//! It holds time-decayed affinities (category, vendor, price band), recent items, the cart,
//! purchases with dates and values, and the current session, all capped so the JSON stays a
//! few KB for localStorage. From it come the predictive fields merchants know from email tools:
//! `average_days_between_orders`, `expected_date_of_next_order`, `churn_probability`, a
//! price-sensitivity band and top categories.

use crate::events::{Event, EventKind};
use crate::model::Model;
use serde::{Deserialize, Serialize};

mod compact;

/// Milliseconds in a day.
pub const DAY_MS: f64 = 86_400_000.0;
/// Affinities halve every this many days without new signal.
pub const HALF_LIFE_DAYS: f64 = 30.0;
/// Caps that keep the profile small.
pub const MAX_AFFINITIES: usize = 16;
/// Most recent items kept.
pub const MAX_RECENT: usize = 30;
/// Items kept for the current session.
pub const MAX_SESSION_ITEMS: usize = 30;
/// Purchases kept (the oldest are summarized in `orders` and `spend`).
pub const MAX_PURCHASES: usize = 24;
/// Items kept per purchase.
pub const MAX_PURCHASE_ITEMS: usize = 20;
/// Longest affinity key kept, in bytes.
pub const MAX_KEY_BYTES: usize = 64;
/// Upper bounds of the price bands in the store's currency; the last band is open.
pub const PRICE_BANDS: [f64; 4] = [5.0, 15.0, 50.0, 150.0];

/// The format version of the serialized profile.
pub const PROFILE_VERSION: u32 = 1;

/// A decayed score for one key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Affinity {
    /// Category path, vendor name, or price band number.
    pub key: String,
    /// Score as of `at`.
    pub score: f32,
    /// When the score was last updated (ms).
    pub at: i64,
}

/// One purchase.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Purchase {
    /// When (ms).
    pub ts: i64,
    /// Order value.
    pub value: f64,
    /// Items bought (capped).
    pub items: Vec<u64>,
    /// The store's order id, when known: the same order reported twice (thank-you page and
    /// checkout pixel) counts once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order: Option<String>,
}

/// The current session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
pub struct SessionState {
    /// Session id.
    pub id: String,
    /// Start (ms).
    pub started: i64,
    /// Last event (ms).
    pub last: i64,
    /// Products viewed in this session, oldest first (capped).
    pub items: Vec<u64>,
}

/// Everything the device knows about its shopper.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// Serialization format version.
    pub v: u32,
    /// First event (ms); 0 before any.
    pub first_seen: i64,
    /// Last event (ms).
    pub last_seen: i64,
    /// Sessions seen.
    pub sessions: u32,
    /// Page views seen.
    pub page_views: u32,
    /// Product views seen.
    pub product_views: u32,
    /// All orders ever (the list below keeps only the latest).
    pub orders: u32,
    /// All spend ever.
    pub spend: f64,
    /// The current session.
    pub session: SessionState,
    /// Category affinities.
    pub categories: Vec<Affinity>,
    /// Vendor affinities.
    pub vendors: Vec<Affinity>,
    /// Price band affinities (keys "0".."4").
    pub price_bands: Vec<Affinity>,
    /// Recently viewed items, most recent first, unique: `(item, ms)`.
    pub recent: Vec<(u64, i64)>,
    /// Cart: `(item, quantity)`.
    pub cart: Vec<(u64, u32)>,
    /// Latest purchases, oldest first.
    pub purchases: Vec<Purchase>,
}

impl Default for Profile {
    fn default() -> Self {
        Profile {
            v: PROFILE_VERSION,
            first_seen: 0,
            last_seen: 0,
            sessions: 0,
            page_views: 0,
            product_views: 0,
            orders: 0,
            spend: 0.0,
            session: SessionState::default(),
            categories: Vec::new(),
            vendors: Vec::new(),
            price_bands: Vec::new(),
            recent: Vec::new(),
            cart: Vec::new(),
            purchases: Vec::new(),
        }
    }
}

/// A score decayed from `at` to `now`.
pub fn decayed(score: f32, at: i64, now: i64) -> f32 {
    let days = (now.saturating_sub(at).max(0) as f64) / DAY_MS;
    (score as f64 * 0.5f64.powf(days / HALF_LIFE_DAYS)) as f32
}

/// `key` cut to [`MAX_KEY_BYTES`] on a character boundary: how affinity keys are stored, and
/// so how names must be cut before they are compared with them.
pub fn cut_key(key: &str) -> &str {
    if key.len() <= MAX_KEY_BYTES {
        return key;
    }
    let mut cut = MAX_KEY_BYTES;
    while !key.is_char_boundary(cut) {
        cut -= 1;
    }
    &key[..cut]
}

fn bump(list: &mut Vec<Affinity>, key: &str, amount: f32, now: i64) {
    let key = cut_key(key);
    match list.iter_mut().find(|a| a.key == key) {
        Some(a) => {
            a.score = decayed(a.score, a.at, now) + amount;
            a.at = a.at.max(now);
        }
        None => list.push(Affinity {
            key: key.to_owned(),
            score: amount,
            at: now,
        }),
    }
    if list.len() > MAX_AFFINITIES {
        if let Some(i) = weakest(list, now) {
            list.remove(i);
        }
    }
}

/// Where the weakest affinity of `list` is, as of `now` (ties: the lexically last key), so that
/// the one dropped for room is chosen deterministically.
fn weakest(list: &[Affinity], now: i64) -> Option<usize> {
    list.iter()
        .enumerate()
        .min_by(|(_, a), (_, b)| {
            decayed(a.score, a.at, now)
                .total_cmp(&decayed(b.score, b.at, now))
                .then(b.key.cmp(&a.key))
        })
        .map(|(i, _)| i)
}

/// Whether two copies of a purchase are the same order: the same order id, or, without one,
/// the same time, value and items.
fn same_purchase(a: &Purchase, b: &Purchase) -> bool {
    match (&a.order, &b.order) {
        (Some(x), Some(y)) => x == y,
        (None, None) => {
            a.ts == b.ts && a.value.to_bits() == b.value.to_bits() && a.items == b.items
        }
        _ => false,
    }
}

/// `theirs` joined into `mine`: each key's larger score, both decayed to the later of their
/// times, then the strongest [`MAX_AFFINITIES`] as of the latest time ([`weakest`]).
fn join_affinities(mine: &mut Vec<Affinity>, theirs: &[Affinity]) {
    for a in theirs {
        match mine.iter_mut().find(|m| m.key == a.key) {
            Some(m) => {
                let at = m.at.max(a.at);
                m.score = decayed(m.score, m.at, at).max(decayed(a.score, a.at, at));
                m.at = at;
            }
            None => mine.push(a.clone()),
        }
    }
    let now = mine.iter().map(|a| a.at).max().unwrap_or(0);
    while mine.len() > MAX_AFFINITIES {
        match weakest(mine, now) {
            Some(i) => drop(mine.remove(i)),
            None => break,
        }
    }
}

/// The price band (0..=4) of a price in the store's currency.
pub fn price_band(price: f64) -> usize {
    PRICE_BANDS.iter().take_while(|&&b| price >= b).count()
}

/// How much each kind of signal adds to an affinity.
const VIEW: f32 = 1.0;
const CART: f32 = 3.0;
const BUY: f32 = 5.0;

/// How sensitive the shopper seems to price, from the prices of what they view and buy
/// relative to the catalog's median price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PriceSensitivity {
    /// Prefers items well below the catalog median.
    High,
    /// Around the median.
    Medium,
    /// Prefers items well above the median.
    Low,
}

impl Profile {
    /// Serialize for storage (JSON).
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Read a stored profile. A profile that does not parse, or has another format version,
    /// is replaced by an empty one (it is a cache of the device's own history, never a source
    /// of truth): the error says why.
    pub fn from_json(text: &str) -> Result<Profile, String> {
        let p: Profile =
            serde_json::from_str(text).map_err(|e| format!("stored profile is unreadable: {e}"))?;
        if p.v != PROFILE_VERSION {
            return Err(format!(
                "stored profile has version {}, this build reads {PROFILE_VERSION}",
                p.v
            ));
        }
        let mut p = p;
        p.sanitize();
        Ok(p)
    }

    /// Join `other`, another copy of the same shopper's profile, into this one: what a sync
    /// server does with a logged-in customer's profile that one of their devices sends, so that
    /// a device that started without the stored copy (a download that failed, say) or two
    /// devices that each went on from it lose nothing of each other's history. What both copies
    /// hold is not counted twice: merging a copy with itself, or with one it grew from, changes
    /// nothing. Affinities take the larger of the two scores (decayed to the later time), the
    /// recently viewed items and the purchases are united (a purchase by its order id, else by
    /// its time, value and items), the counters take the larger, and the session and the cart
    /// come from the copy that saw the later event.
    pub fn merge(&mut self, other: &Profile) {
        if other.first_seen > 0 && (self.first_seen == 0 || other.first_seen < self.first_seen) {
            self.first_seen = other.first_seen;
        }
        if other.last_seen > self.last_seen {
            self.last_seen = other.last_seen;
            self.cart = other.cart.clone();
        }
        if other.session.last > self.session.last {
            self.session = other.session.clone();
        }
        self.sessions = self.sessions.max(other.sessions);
        self.page_views = self.page_views.max(other.page_views);
        self.product_views = self.product_views.max(other.product_views);
        for (mine, theirs) in [
            (&mut self.categories, &other.categories),
            (&mut self.vendors, &other.vendors),
            (&mut self.price_bands, &other.price_bands),
        ] {
            join_affinities(mine, theirs);
        }
        let mut recent: Vec<(u64, i64)> = Vec::new();
        for &(item, ts) in self.recent.iter().chain(&other.recent) {
            match recent.iter_mut().find(|r| r.0 == item) {
                Some(r) => r.1 = r.1.max(ts),
                None => recent.push((item, ts)),
            }
        }
        crate::sort::sort_by_key(&mut recent, |r| (std::cmp::Reverse(r.1), r.0));
        recent.truncate(MAX_RECENT);
        self.recent = recent;
        // The purchases: those of the copy that counted more orders, and those of the other
        // copy it does not hold (not older than its oldest, when its list is full: an older one
        // may have been dropped from it for room, not missed).
        let mine_more = (self.orders, self.spend) >= (other.orders, other.spend);
        let (base, extra_from) = if mine_more {
            (self.purchases.clone(), &other.purchases)
        } else {
            (other.purchases.clone(), &self.purchases)
        };
        let (orders, spend) = if mine_more {
            (self.orders, self.spend)
        } else {
            (other.orders, other.spend)
        };
        let oldest = (base.len() >= MAX_PURCHASES).then(|| base.first().map_or(0, |p| p.ts));
        let extra: Vec<Purchase> = extra_from
            .iter()
            .filter(|p| {
                oldest.is_none_or(|o| p.ts >= o) && !base.iter().any(|b| same_purchase(b, p))
            })
            .cloned()
            .collect();
        self.orders = orders.saturating_add(extra.len() as u32);
        self.spend = spend + extra.iter().map(|p| p.value).sum::<f64>();
        let mut purchases = base;
        purchases.extend(extra);
        crate::sort::sort_by_key(&mut purchases, |p| p.ts);
        let excess = purchases.len().saturating_sub(MAX_PURCHASES);
        purchases.drain(..excess);
        self.purchases = purchases;
        self.v = PROFILE_VERSION;
    }

    /// Make a profile read from storage safe to use: drop scores that are not finite and
    /// non-negative, clamp times to the representable range, re-apply the caps and keep
    /// purchases in time order. Storage is under the page's control, so nothing is trusted.
    pub fn sanitize(&mut self) {
        const MAX_TS: i64 = 1 << 53;
        let ts = |t: i64| t.clamp(0, MAX_TS);
        for list in [
            &mut self.categories,
            &mut self.vendors,
            &mut self.price_bands,
        ] {
            list.retain(|a| a.score.is_finite() && a.score >= 0.0 && a.score < 1.0e30);
            for a in list.iter_mut() {
                a.at = ts(a.at);
                if a.key.len() > MAX_KEY_BYTES {
                    a.key = cut_key(&a.key).to_owned();
                }
            }
            list.truncate(MAX_AFFINITIES);
        }
        self.first_seen = ts(self.first_seen);
        self.last_seen = ts(self.last_seen);
        self.session.started = ts(self.session.started);
        self.session.last = ts(self.session.last);
        self.session.items.truncate(MAX_SESSION_ITEMS);
        self.recent.truncate(MAX_RECENT);
        for r in &mut self.recent {
            r.1 = ts(r.1);
        }
        self.cart.truncate(MAX_RECENT);
        if !self.spend.is_finite() || self.spend < 0.0 {
            self.spend = 0.0;
        }
        self.purchases
            .retain(|p| p.value.is_finite() && p.value >= 0.0);
        for p in &mut self.purchases {
            p.ts = ts(p.ts);
            p.items.truncate(MAX_PURCHASE_ITEMS);
        }
        crate::sort::sort_by_key(&mut self.purchases, |p| p.ts);
        let excess = self.purchases.len().saturating_sub(MAX_PURCHASES);
        self.purchases.drain(..excess);
    }

    /// Update the profile with `event`. `model` supplies item attributes (category, vendor,
    /// price) when the item is in the snapshot.
    pub fn apply(&mut self, event: &Event, model: Option<&Model>) {
        let now = event.ts;
        if self.first_seen == 0 || now < self.first_seen {
            self.first_seen = now;
        }
        self.last_seen = self.last_seen.max(now);
        if self.session.id != event.session {
            self.sessions += 1;
            self.session = SessionState {
                id: event.session.clone(),
                started: now,
                last: now,
                items: Vec::new(),
            };
        }
        self.session.last = self.session.last.max(now);
        match &event.kind {
            EventKind::PageView { .. } => self.page_views += 1,
            EventKind::ProductView { item } => {
                self.product_views += 1;
                self.recent.retain(|(i, _)| i != item);
                self.recent.insert(0, (*item, now));
                self.recent.truncate(MAX_RECENT);
                self.session.items.push(*item);
                if self.session.items.len() > MAX_SESSION_ITEMS {
                    self.session.items.remove(0);
                }
                self.learn(*item, VIEW, now, model);
            }
            EventKind::AddToCart { item, qty } => {
                match self.cart.iter_mut().find(|(i, _)| i == item) {
                    Some(line) => line.1 = line.1.saturating_add(*qty),
                    None => self.cart.push((*item, *qty)),
                }
                self.learn(*item, CART, now, model);
            }
            EventKind::RemoveFromCart { item, qty } => {
                if let Some(pos) = self.cart.iter().position(|(i, _)| i == item) {
                    if self.cart[pos].1 <= *qty {
                        self.cart.remove(pos);
                    } else {
                        self.cart[pos].1 -= qty;
                    }
                }
            }
            EventKind::Purchase {
                lines,
                value,
                order,
                ..
            } => {
                if order.is_some() && self.purchases.iter().any(|p| p.order == *order) {
                    return;
                }
                self.orders += 1;
                self.spend += value;
                let items: Vec<u64> = lines
                    .iter()
                    .map(|l| l.item)
                    .take(MAX_PURCHASE_ITEMS)
                    .collect();
                self.cart.retain(|(i, _)| !items.contains(i));
                for &i in &items {
                    self.learn(i, BUY, now, model);
                }
                self.purchases.push(Purchase {
                    ts: now,
                    value: *value,
                    items,
                    order: order.clone(),
                });
                crate::sort::sort_by_key(&mut self.purchases, |p| p.ts);
                if self.purchases.len() > MAX_PURCHASES {
                    self.purchases.remove(0);
                }
            }
            EventKind::RecClick { item, .. } => self.learn(*item, VIEW, now, model),
            _ => {}
        }
    }

    fn learn(&mut self, item: u64, amount: f32, now: i64, model: Option<&Model>) {
        let Some(m) = model else { return };
        let Some(ix) = m.ix_of(item) else { return };
        let attrs = &m.items[ix as usize];
        if let Some(c) = attrs.category.and_then(|c| m.strings.get(c as usize)) {
            bump(&mut self.categories, c, amount, now);
        }
        if let Some(v) = attrs.vendor.and_then(|v| m.strings.get(v as usize)) {
            bump(&mut self.vendors, v, amount, now);
        }
        if let Some(cents) = attrs.price_cents {
            let band = price_band(cents as f64 / 100.0);
            bump(&mut self.price_bands, &band.to_string(), amount, now);
        }
    }

    /// Affinity for category `key` as of `now` (0 when unknown).
    pub fn category_affinity(&self, key: &str, now: i64) -> f32 {
        let key = cut_key(key);
        self.categories
            .iter()
            .find(|a| a.key == key)
            .map_or(0.0, |a| decayed(a.score, a.at, now))
    }

    /// The `n` strongest categories as of `now`, strongest first (ties by name).
    pub fn top_categories(&self, n: usize, now: i64) -> Vec<(String, f32)> {
        let mut v: Vec<(String, f32)> = self
            .categories
            .iter()
            .map(|a| (a.key.clone(), decayed(a.score, a.at, now)))
            .collect();
        crate::sort::sort_by(&mut v, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.truncate(n);
        v
    }

    /// The days (since the epoch) with an order, oldest first, each once.
    fn order_days(&self) -> Vec<i64> {
        let mut days: Vec<i64> = self
            .purchases
            .iter()
            .map(|p| (p.ts as f64 / DAY_MS).floor() as i64)
            .collect();
        days.dedup();
        days
    }

    /// Mean days between consecutive orders (orders on the same day count once); `None`
    /// with fewer than two order days.
    pub fn average_days_between_orders(&self) -> Option<f64> {
        let days = self.order_days();
        if days.len() < 2 {
            return None;
        }
        Some((days[days.len() - 1] - days[0]) as f64 / (days.len() - 1) as f64)
    }

    /// The expected gap to the next order in days: the shopper's own average, shrunk toward
    /// the store's typical gap `prior_days` (worth two observed gaps), so one or two orders
    /// do not produce a wild guess. `None` before the first order.
    pub fn expected_gap_days(&self, prior_days: f64) -> Option<f64> {
        if self.purchases.is_empty() {
            return None;
        }
        let gaps = self.order_days().len().saturating_sub(1) as f64;
        let own = self.average_days_between_orders().unwrap_or(0.0);
        const PRIOR_WEIGHT: f64 = 2.0;
        Some((own * gaps + prior_days * PRIOR_WEIGHT) / (gaps + PRIOR_WEIGHT))
    }

    /// When the next order is expected (ms), or `None` before the first order.
    pub fn expected_date_of_next_order(&self, prior_days: f64) -> Option<i64> {
        let last = self.purchases.last()?.ts;
        let gap = self.expected_gap_days(prior_days)?;
        Some(last + (gap * DAY_MS) as i64)
    }

    /// Probability that the shopper has stopped buying, as of `now`: 0 until the expected next
    /// order date, then `1 - exp(-overdue / gap)` (0.63 one full gap overdue, 0.86 two).
    /// `None` before the first order.
    pub fn churn_probability(&self, now: i64, prior_days: f64) -> Option<f64> {
        let last = self.purchases.last()?.ts;
        let gap = self.expected_gap_days(prior_days)?.max(1.0);
        let elapsed = now.saturating_sub(last).max(0) as f64 / DAY_MS;
        let overdue = (elapsed - gap).max(0.0);
        Some(1.0 - (-overdue / gap).exp())
    }

    /// Price sensitivity from the price-band affinities relative to the band of the catalog's
    /// median price; `None` without any priced signal.
    pub fn price_sensitivity(&self, median_price: f64, now: i64) -> Option<PriceSensitivity> {
        let total: f32 = self
            .price_bands
            .iter()
            .map(|a| decayed(a.score, a.at, now))
            .sum();
        if total <= 0.0 {
            return None;
        }
        let mean_band: f32 = self
            .price_bands
            .iter()
            .map(|a| a.key.parse::<f32>().unwrap_or(0.0) * decayed(a.score, a.at, now))
            .sum::<f32>()
            / total;
        let median_band = price_band(median_price) as f32;
        Some(if mean_band < median_band - 0.5 {
            PriceSensitivity::High
        } else if mean_band > median_band + 0.5 {
            PriceSensitivity::Low
        } else {
            PriceSensitivity::Medium
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::events::Line;
    use crate::model::ItemAttrs;

    const T0: i64 = 1_700_000_000_000;
    const DAY: i64 = 86_400_000;

    fn ev(ts: i64, session: &str, kind: EventKind) -> Event {
        Event {
            id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
            ts,
            shopper: "s".into(),
            session: session.into(),
            kind,
        }
    }

    fn model() -> Model {
        Model::from_parts(
            vec![
                ItemAttrs {
                    id: 1,
                    category: Some(0),
                    vendor: Some(2),
                    price_cents: Some(299),
                    available: true,
                },
                ItemAttrs {
                    id: 2,
                    category: Some(1),
                    vendor: None,
                    price_cents: Some(9900),
                    available: true,
                },
                ItemAttrs {
                    id: 3,
                    category: Some(0),
                    vendor: None,
                    price_cents: Some(450),
                    available: true,
                },
            ],
            vec!["Kitchen".into(), "Bags".into(), "Acme".into()],
            vec![0; 3],
            vec![],
            vec![],
            crate::model::ScoreParams::default(),
        )
    }

    fn buy(p: &mut Profile, ts: i64, item: u64, value: f64) {
        p.apply(
            &ev(
                ts,
                &format!("buy-{ts}"),
                EventKind::Purchase {
                    order: None,
                    lines: vec![Line {
                        item,
                        qty: 1,
                        price: value,
                    }],
                    value,
                    currency: None,
                },
            ),
            Some(&model()),
        );
    }

    #[test]
    fn views_build_affinities_recent_items_and_sessions() {
        let m = model();
        let mut p = Profile::default();
        for (i, item) in [1u64, 3, 1, 2].iter().enumerate() {
            p.apply(
                &ev(T0 + i as i64, "a", EventKind::ProductView { item: *item }),
                Some(&m),
            );
        }
        assert_eq!(p.sessions, 1);
        assert_eq!(p.product_views, 4);
        assert_eq!(
            p.recent.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![2, 1, 3]
        );
        assert_eq!(p.session.items, vec![1, 3, 1, 2]);
        assert_eq!(p.top_categories(2, T0)[0].0, "Kitchen");
        assert!((p.category_affinity("Kitchen", T0 + 10) - 3.0).abs() < 1e-3);
        assert_eq!(p.vendors[0].key, "Acme");
        p.apply(
            &ev(T0 + 100, "b", EventKind::PageView { page: None }),
            Some(&m),
        );
        assert_eq!(p.sessions, 2);
        assert!(p.session.items.is_empty());
    }

    #[test]
    fn affinities_decay_with_a_half_life() {
        let mut p = Profile::default();
        p.apply(
            &ev(T0, "a", EventKind::ProductView { item: 2 }),
            Some(&model()),
        );
        let later = T0 + (HALF_LIFE_DAYS as i64) * DAY;
        assert!((p.category_affinity("Bags", later) - 0.5).abs() < 1e-4);
    }

    #[test]
    fn cart_and_purchases() {
        let m = model();
        let mut p = Profile::default();
        p.apply(
            &ev(T0, "a", EventKind::AddToCart { item: 1, qty: 2 }),
            Some(&m),
        );
        p.apply(
            &ev(T0, "a", EventKind::AddToCart { item: 2, qty: 1 }),
            Some(&m),
        );
        p.apply(
            &ev(T0, "a", EventKind::RemoveFromCart { item: 1, qty: 1 }),
            Some(&m),
        );
        assert_eq!(p.cart, vec![(1, 1), (2, 1)]);
        buy(&mut p, T0 + 1, 2, 99.0);
        assert_eq!(p.cart, vec![(1, 1)]);
        assert_eq!((p.orders, p.spend), (1, 99.0));
    }

    #[test]
    fn cadence_fields() {
        let mut p = Profile::default();
        assert_eq!(p.average_days_between_orders(), None);
        assert_eq!(p.expected_date_of_next_order(30.0), None);
        assert_eq!(p.churn_probability(T0, 30.0), None);
        buy(&mut p, T0, 1, 3.0);
        // One order: the store's prior decides.
        assert_eq!(p.expected_gap_days(30.0), Some(30.0));
        buy(&mut p, T0 + 10 * DAY, 1, 3.0);
        buy(&mut p, T0 + 20 * DAY, 1, 3.0);
        assert_eq!(p.average_days_between_orders(), Some(10.0));
        // Two gaps of 10 days against a prior of 30 worth two gaps: (20 + 60) / 4 = 20.
        assert_eq!(p.expected_gap_days(30.0), Some(20.0));
        assert_eq!(p.expected_date_of_next_order(30.0), Some(T0 + 40 * DAY));
        assert_eq!(p.churn_probability(T0 + 30 * DAY, 30.0), Some(0.0));
        let c = p.churn_probability(T0 + 60 * DAY, 30.0).unwrap();
        assert!((c - (1.0 - (-1.0f64).exp())).abs() < 1e-9, "{c}");
    }

    #[test]
    fn price_sensitivity_follows_viewed_prices() {
        let m = model();
        let mut p = Profile::default();
        assert_eq!(p.price_sensitivity(20.0, T0), None);
        p.apply(&ev(T0, "a", EventKind::ProductView { item: 1 }), Some(&m));
        assert_eq!(p.price_sensitivity(20.0, T0), Some(PriceSensitivity::High));
        for _ in 0..10 {
            p.apply(&ev(T0, "a", EventKind::ProductView { item: 2 }), Some(&m));
        }
        assert_eq!(p.price_sensitivity(20.0, T0), Some(PriceSensitivity::Low));
    }

    #[test]
    fn stays_small_and_round_trips() {
        // Fill every list to its cap with long keys.
        let mut p = Profile::default();
        for i in 0..100u64 {
            // Longer than the key cap, unique within it.
            let key = format!("{i:03}-{}", "Home & Living / Kitchen / Storage".repeat(3));
            bump(&mut p.categories, &key, 1.0 + i as f32, T0);
            bump(&mut p.vendors, &key, 1.0, T0);
            p.apply(
                &ev(
                    T0 + i as i64,
                    "a",
                    EventKind::ProductView {
                        item: 7_400_000_000_000 + i,
                    },
                ),
                None,
            );
            p.apply(
                &ev(
                    T0 + i as i64,
                    "a",
                    EventKind::AddToCart {
                        item: 7_400_000_000_000 + i % 10,
                        qty: 1,
                    },
                ),
                None,
            );
        }
        for k in 0..40 {
            p.purchases.push(Purchase {
                ts: T0 + k,
                value: 123.45,
                items: vec![7_400_000_000_000; MAX_PURCHASE_ITEMS],
                order: None,
            });
        }
        p.purchases.truncate(MAX_PURCHASES);
        assert_eq!(p.categories.len(), MAX_AFFINITIES);
        // The weakest were dropped: the strongest key survives.
        assert!(p.categories.iter().any(|a| a.key.starts_with("099-")));
        assert!(p.categories.iter().all(|a| a.key.len() <= MAX_KEY_BYTES));
        let json = p.to_json();
        assert!(json.len() < 16 * 1024, "profile is {} bytes", json.len());
        assert_eq!(Profile::from_json(&json).unwrap(), p);
    }

    #[test]
    fn stored_profiles_are_not_trusted() {
        let text = r#"{"v":1,"first_seen":0,"last_seen":0,"sessions":0,"page_views":0,"product_views":0,
            "orders":0,"spend":-5,"session":{"id":"","started":0,"last":0,"items":[]},
            "categories":[{"key":"Kitchen","score":1e39,"at":0},{"key":"Bags","score":2,"at":-9223372036854775808}],
            "vendors":[],"price_bands":[],"recent":[],"cart":[],"purchases":[]}"#;
        let p = Profile::from_json(text).unwrap();
        // The infinite score is dropped; the absurd time is clamped, so decay cannot overflow.
        assert_eq!(p.categories.len(), 1);
        assert_eq!(p.categories[0].at, 0);
        assert!(p.category_affinity("Bags", i64::MAX).is_finite());
        assert_eq!(p.spend, 0.0);
    }

    #[test]
    fn one_order_reported_twice_counts_once() {
        let mut p = Profile::default();
        let order = |ts| {
            ev(
                ts,
                "a",
                EventKind::Purchase {
                    order: Some("1001".into()),
                    lines: vec![Line {
                        item: 1,
                        qty: 1,
                        price: 9.0,
                    }],
                    value: 9.0,
                    currency: None,
                },
            )
        };
        p.apply(&order(T0), Some(&model()));
        p.apply(&order(T0 + 5), Some(&model()));
        assert_eq!((p.orders, p.spend, p.purchases.len()), (1, 9.0, 1));
    }

    #[test]
    fn unreadable_profiles_are_reported() {
        assert!(Profile::from_json("{")
            .unwrap_err()
            .starts_with("stored profile is unreadable"));
        let p = Profile {
            v: 99,
            ..Default::default()
        };
        assert_eq!(
            Profile::from_json(&p.to_json()).unwrap_err(),
            "stored profile has version 99, this build reads 1"
        );
    }

    #[test]
    fn price_bands() {
        assert_eq!(price_band(0.5), 0);
        assert_eq!(price_band(5.0), 1);
        assert_eq!(price_band(49.99), 2);
        assert_eq!(price_band(1000.0), 4);
    }

    fn view(p: &mut Profile, ts: i64, session: &str, item: u64) {
        p.apply(
            &ev(ts, session, EventKind::ProductView { item }),
            Some(&model()),
        );
    }

    fn cart(p: &mut Profile, ts: i64, session: &str, item: u64) {
        p.apply(
            &ev(ts, session, EventKind::AddToCart { item, qty: 1 }),
            Some(&model()),
        );
    }

    /// A shopper's history on one device: views in two sessions and a purchase.
    fn history() -> Profile {
        let mut p = Profile::default();
        view(&mut p, T0, "s1", 1);
        view(&mut p, T0 + 1_000, "s1", 3);
        buy(&mut p, T0 + 2_000, 1, 12.5);
        view(&mut p, T0 + DAY_MS as i64, "s2", 2);
        p
    }

    #[test]
    fn a_profile_merged_with_itself_or_with_one_it_grew_from_is_unchanged() {
        let stored = history();
        let mut same = stored.clone();
        same.merge(&stored);
        assert_eq!(same, stored);
        // A device that started from the stored copy and went on.
        let mut grown = stored.clone();
        view(&mut grown, T0 + 2 * DAY_MS as i64, "s3", 3);
        buy(&mut grown, T0 + 2 * DAY_MS as i64 + 5, 3, 4.5);
        cart(&mut grown, T0 + 2 * DAY_MS as i64 + 9, "s3", 2);
        let mut a = grown.clone();
        a.merge(&stored);
        assert_eq!(a, grown, "the stored copy adds nothing the grown one lacks");
        let mut b = stored.clone();
        b.merge(&grown);
        assert_eq!(b, grown, "the grown copy replaces what it grew from");
    }

    #[test]
    fn two_devices_that_went_on_from_one_copy_keep_both_histories() {
        let stored = history();
        let mut phone = stored.clone();
        view(&mut phone, T0 + 3 * DAY_MS as i64, "p1", 2);
        buy(&mut phone, T0 + 3 * DAY_MS as i64 + 10, 2, 99.0);
        let mut laptop = stored.clone();
        view(&mut laptop, T0 + 4 * DAY_MS as i64, "l1", 3);
        cart(&mut laptop, T0 + 4 * DAY_MS as i64 + 10, "l1", 1);
        let mut merged = phone.clone();
        merged.merge(&laptop);
        // Both purchases since the stored copy count once each; the shared one once.
        assert_eq!(merged.orders, 2);
        assert_eq!(merged.purchases.len(), 2);
        assert!(
            (merged.spend - (12.5 + 99.0)).abs() < 1e-9,
            "{}",
            merged.spend
        );
        // Both devices' views, latest first.
        assert_eq!(
            merged.recent.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![3, 2, 1]
        );
        // The later device's session and cart.
        assert_eq!(merged.session.id, "l1");
        assert_eq!(merged.cart, vec![(1, 1)]);
        assert_eq!(merged.last_seen, laptop.last_seen);
        assert_eq!(merged.first_seen, T0);
        // Each category as the device that bumped it last has it, never the two added up.
        let at = merged.last_seen;
        for key in ["Kitchen", "Bags"] {
            let want = phone
                .category_affinity(key, at)
                .max(laptop.category_affinity(key, at));
            assert!(
                (merged.category_affinity(key, at) - want).abs() < 1e-4,
                "{key}"
            );
        }
        // The join is the same either way round.
        let mut other_way = laptop.clone();
        other_way.merge(&phone);
        assert_eq!(other_way.orders, merged.orders);
        assert_eq!(other_way.recent, merged.recent);
        assert_eq!(other_way.purchases, merged.purchases);
        assert_eq!(other_way.session, merged.session);
        assert_eq!(other_way.cart, merged.cart);
    }

    #[test]
    fn a_device_that_started_without_the_stored_copy_does_not_erase_it() {
        // The customer's copy on the server, and a new device whose download of it failed: it
        // started from nothing and saw one view.
        let stored = history();
        let mut fresh = Profile::default();
        view(&mut fresh, T0 + 5 * DAY_MS as i64, "n1", 2);
        let mut kept = stored.clone();
        kept.merge(&fresh);
        assert_eq!(kept.orders, 1);
        assert_eq!(kept.purchases, stored.purchases);
        assert_eq!(
            kept.recent.iter().map(|r| r.0).collect::<Vec<_>>(),
            vec![2, 3, 1]
        );
        assert!(kept.category_affinity("Kitchen", kept.last_seen) > 0.0);
        assert_eq!(kept.session.id, "n1");
        assert_eq!(kept.first_seen, T0);
    }

    #[test]
    fn a_purchase_dropped_from_a_full_list_for_room_is_not_counted_again() {
        let mut a = Profile::default();
        for k in 0..(MAX_PURCHASES as i64 + 3) {
            buy(&mut a, T0 + k * 10, 1, 1.0);
        }
        assert_eq!(a.purchases.len(), MAX_PURCHASES);
        // An older copy that still holds the first purchases.
        let mut old = Profile::default();
        for k in 0..3 {
            buy(&mut old, T0 + k * 10, 1, 1.0);
        }
        let mut merged = a.clone();
        merged.merge(&old);
        assert_eq!(merged.orders, a.orders);
        assert_eq!(merged.purchases, a.purchases);
        assert!((merged.spend - a.spend).abs() < 1e-9);
    }
}
