//! The snapshot: the compact, versioned model of a store that the browser downloads.
//!
//! The byte layout is specified normatively in `docs/snapshot-format.md`: a 16-byte header
//! (magic, format version, model kind, flags, catalog version), tagged sections (items,
//! strings, attributes, popularity, sequential neighbour lists, session sample, scorer weights,
//! handles, tags, co-view and co-purchase lists, trending prior, store configuration) and a
//! CRC-32 trailer. Scores are quantized to one byte, so the snapshot never reveals raw counts
//! or revenue.
//!
//! Decoding never panics: truncated, corrupted, or version-mismatched input yields a
//! [`SnapshotError`] that says exactly what is wrong, and no count read from the input can make
//! the decoder allocate more than the input's size allows.

use crate::checksum::crc32;
use crate::model::{ItemAttrs, ItemIx, Lists, Model, Neighbor, ScoreParams};
use std::fmt;

/// The four bytes every snapshot starts with.
pub const MAGIC: [u8; 4] = *b"TLSN";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 4;
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 16;
/// Size of the CRC-32 trailer in bytes.
pub const TRAILER_LEN: usize = 4;

/// Section tags, in the order they must appear.
pub mod tag {
    /// Item ids (required).
    pub const ITEMS: u8 = 1;
    /// Shared strings (categories, vendors).
    pub const STRINGS: u8 = 2;
    /// Per-item attributes.
    pub const ATTRS: u8 = 3;
    /// Per-item quantized popularity.
    pub const POPULARITY: u8 = 4;
    /// Per-item sequential neighbour lists.
    pub const NEXT: u8 = 5;
    /// The session sample.
    pub const SESSIONS: u8 = 6;
    /// The scorer weights.
    pub const PARAMS: u8 = 7;
    /// Per-item URL handles.
    pub const HANDLES: u8 = 8;
    /// Per-item tags.
    pub const TAGS: u8 = 9;
    /// Per-item co-view lists.
    pub const COVIEW: u8 = 10;
    /// Per-item co-purchase lists.
    pub const COPURCHASE: u8 = 11;
    /// Per-item trending prior.
    pub const TRENDING: u8 = 12;
    /// The store's configuration (JSON).
    pub const CONFIG: u8 = 13;
    /// Per-item display titles (for recommendation blocks).
    pub const TITLES: u8 = 14;
    /// Per-item image URLs (for recommendation blocks).
    pub const IMAGES: u8 = 15;
    /// The last tag this version defines.
    pub const LAST: u8 = IMAGES;
}

/// Which model produced the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// The hybrid next-item model: session-kNN + sequential lists + popularity.
    Hybrid,
}

impl ModelKind {
    /// The byte that encodes this kind.
    pub fn code(self) -> u8 {
        match self {
            ModelKind::Hybrid => 1,
        }
    }

    /// The kind for `code`, if this build knows it.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(ModelKind::Hybrid),
            _ => None,
        }
    }
}

/// A decoded snapshot.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// The model that produced the content.
    pub model_kind: ModelKind,
    /// The catalog version the snapshot was built against.
    pub catalog_version: u64,
    /// The model, indexed and ready to score.
    pub model: Model,
}

/// Why a byte string is not a valid snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SnapshotError {
    /// Fewer bytes than a header and a trailer.
    TooShort {
        /// Bytes received.
        len: usize,
    },
    /// The first four bytes are not [`MAGIC`].
    BadMagic {
        /// The four bytes found.
        found: [u8; 4],
    },
    /// The format version is not [`FORMAT_VERSION`].
    UnsupportedVersion {
        /// The version found.
        found: u16,
    },
    /// The model kind byte is unknown to this build.
    UnknownModelKind {
        /// The byte found.
        found: u8,
    },
    /// Reserved flag bits are set.
    ReservedFlags {
        /// The flags byte found.
        found: u8,
    },
    /// The CRC-32 trailer does not match the content.
    ChecksumMismatch {
        /// Checksum stored in the trailer.
        stored: u32,
        /// Checksum computed over the content.
        computed: u32,
    },
    /// The content ends in the middle of a value.
    Truncated {
        /// Byte offset where more input was needed.
        offset: usize,
    },
    /// A variable-length integer is longer than 10 bytes or overflows 64 bits.
    BadVarint {
        /// Byte offset of the integer.
        offset: usize,
    },
    /// A section tag this version does not define.
    UnknownSection {
        /// The tag found.
        tag: u8,
    },
    /// Sections out of order or repeated.
    SectionOrder {
        /// The tag found out of order.
        tag: u8,
    },
    /// A required section is absent.
    MissingSection {
        /// The tag of the missing section.
        tag: u8,
    },
    /// A section's declared length does not match its content.
    SectionLength {
        /// The section's tag.
        tag: u8,
    },
    /// A value is out of its allowed range (an index past the table, a count too large).
    OutOfRange {
        /// The section's tag.
        tag: u8,
        /// What was out of range.
        what: &'static str,
    },
    /// Item ids are not strictly increasing at this index.
    UnsortedItems {
        /// Index of the first offending id.
        index: usize,
    },
    /// A string is not UTF-8.
    BadString {
        /// Index of the string.
        index: usize,
    },
    /// The store configuration section does not parse or validate.
    BadConfig {
        /// Why.
        message: String,
    },
}

impl SnapshotError {
    /// A stable machine-readable code, used as the `code` of the JS `Error`.
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::TooShort { .. } | SnapshotError::Truncated { .. } => {
                "SNAPSHOT_TRUNCATED"
            }
            SnapshotError::BadMagic { .. } => "SNAPSHOT_BAD_MAGIC",
            SnapshotError::UnsupportedVersion { .. } => "SNAPSHOT_VERSION",
            SnapshotError::UnknownModelKind { .. } => "SNAPSHOT_MODEL_KIND",
            SnapshotError::ReservedFlags { .. } => "SNAPSHOT_FLAGS",
            SnapshotError::ChecksumMismatch { .. } => "SNAPSHOT_CHECKSUM",
            _ => "SNAPSHOT_CORRUPT",
        }
    }
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        use SnapshotError::*;
        match self {
            TooShort { len } => write!(
                f,
                "snapshot is {len} bytes, shorter than the {} bytes of header and checksum",
                HEADER_LEN + TRAILER_LEN
            ),
            BadMagic { found } => write!(
                f,
                "not a Tailor snapshot: expected magic bytes {MAGIC:02x?}, found {found:02x?}"
            ),
            UnsupportedVersion { found } => write!(
                f,
                "snapshot format version {found} is not supported (this build reads version {FORMAT_VERSION})"
            ),
            UnknownModelKind { found } => {
                write!(f, "snapshot model kind {found} is unknown to this build")
            }
            ReservedFlags { found } => write!(f, "snapshot sets reserved flag bits ({found:#04x})"),
            ChecksumMismatch { stored, computed } => write!(
                f,
                "snapshot checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (corrupted in transit or storage)"
            ),
            Truncated { offset } => write!(f, "snapshot ends early: a value at byte {offset} is cut off"),
            BadVarint { offset } => write!(f, "snapshot has an invalid variable-length integer at byte {offset}"),
            UnknownSection { tag } => write!(f, "snapshot has unknown section {tag}"),
            SectionOrder { tag } => write!(f, "snapshot section {tag} is out of order or repeated"),
            MissingSection { tag } => write!(f, "snapshot lacks required section {tag}"),
            SectionLength { tag } => write!(f, "snapshot section {tag} does not match its declared length"),
            OutOfRange { tag, what } => write!(f, "snapshot section {tag}: {what} is out of range"),
            UnsortedItems { index } => write!(f, "snapshot item ids are not strictly increasing at item {index}"),
            BadString { index } => write!(f, "snapshot string {index} is not valid UTF-8"),
            BadConfig { message } => write!(f, "snapshot {message}"),
        }
    }
}

impl std::error::Error for SnapshotError {}

// ---------------------------------------------------------------------------------------------
// Encoding

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn put_section(out: &mut Vec<u8>, tag: u8, payload: &[u8]) {
    out.push(tag);
    put_varint(out, payload.len() as u64);
    out.extend_from_slice(payload);
}

/// A per-item string section (handles, titles, images), left out when `v` is empty.
fn put_strings(out: &mut Vec<u8>, buf: &mut Vec<u8>, tag: u8, v: &[String]) {
    if v.is_empty() {
        return;
    }
    buf.clear();
    for h in v {
        put_varint(buf, h.len() as u64);
        buf.extend_from_slice(h.as_bytes());
    }
    put_section(out, tag, buf);
}

fn put_neighbour_lists(buf: &mut Vec<u8>, lists: &Lists<Neighbor>, n_items: usize) {
    for i in 0..n_items {
        let list = lists.get(i);
        put_varint(buf, list.len() as u64);
        for nb in list {
            put_varint(buf, nb.item as u64);
            buf.push(nb.score);
        }
    }
}

fn put_str(buf: &mut Vec<u8>, s: &str) {
    put_varint(buf, s.len() as u64);
    buf.extend_from_slice(s.as_bytes());
}

fn put_opt_str(buf: &mut Vec<u8>, s: &Option<String>) {
    match s {
        Some(s) => {
            buf.push(1);
            put_str(buf, s);
        }
        None => buf.push(0),
    }
}

fn put_opt_i64(buf: &mut Vec<u8>, v: Option<i64>) {
    match v {
        Some(v) => {
            buf.push(1);
            buf.extend_from_slice(&v.to_le_bytes());
        }
        None => buf.push(0),
    }
}

/// The store configuration in binary (specified in `docs/snapshot-format.md`, section 13).
/// Binary rather than JSON so that the browser build carries no JSON deserializer for it.
fn put_config(buf: &mut Vec<u8>, c: &crate::config::StoreConfig) {
    let g = &c.segments;
    for v in [g.engaged_product_views, g.engaged_sessions, g.vip_orders] {
        put_varint(buf, v as u64);
    }
    for v in [
        g.vip_spend,
        g.at_risk_gaps,
        g.lapsed_days,
        g.typical_gap_days,
    ] {
        buf.extend_from_slice(&v.to_le_bytes());
    }
    let e = &c.experiments;
    buf.extend_from_slice(&e.holdout_share.to_le_bytes());
    put_varint(buf, e.experiments.len() as u64);
    for x in &e.experiments {
        put_str(buf, &x.id);
        put_str(buf, &x.placement);
        buf.extend_from_slice(&x.treatment_share.to_le_bytes());
        put_opt_i64(buf, x.start);
        put_opt_i64(buf, x.end);
    }
    put_varint(buf, c.placements.len() as u64);
    for p in &c.placements {
        put_str(buf, &p.name);
        buf.push(p.placement.code());
        put_varint(buf, p.n as u64);
        let r = &p.rules;
        buf.push(r.exclude_unavailable as u8 | (r.exclude_purchased as u8) << 1);
        buf.extend_from_slice(&r.category_cap.to_le_bytes());
        match r.exploration_slot {
            Some(slot) => put_varint(buf, slot as u64 + 1),
            None => put_varint(buf, 0),
        }
        put_varint(buf, r.pinned.len() as u64);
        for &(pos, item) in &r.pinned {
            put_varint(buf, pos as u64);
            put_varint(buf, item);
        }
        put_opt_str(buf, &p.title);
    }
    put_varint(buf, c.banners.len() as u64);
    for b in &c.banners {
        put_str(buf, &b.name);
        put_varint(buf, b.variants.len() as u64);
        for v in &b.variants {
            put_str(buf, &v.id);
            put_opt_str(buf, &v.segment);
            put_opt_str(buf, &v.category);
        }
    }
}

const ATTR_AVAILABLE: u8 = 1;
const ATTR_CATEGORY: u8 = 2;
const ATTR_VENDOR: u8 = 4;
const ATTR_PRICE: u8 = 8;

impl Snapshot {
    /// A snapshot of `model`.
    pub fn new(model_kind: ModelKind, catalog_version: u64, mut model: Model) -> Snapshot {
        model.index();
        Snapshot {
            model_kind,
            catalog_version,
            model,
        }
    }

    /// Encode to bytes, as specified in `docs/snapshot-format.md`.
    pub fn encode(&self) -> Vec<u8> {
        let m = &self.model;
        let mut out = Vec::new();
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(self.model_kind.code());
        out.push(0);
        out.extend_from_slice(&self.catalog_version.to_le_bytes());

        let mut buf = Vec::new();
        put_varint(&mut buf, m.items.len() as u64);
        let mut prev = 0u64;
        for (i, it) in m.items.iter().enumerate() {
            put_varint(&mut buf, if i == 0 { it.id } else { it.id - prev });
            prev = it.id;
        }
        put_section(&mut out, tag::ITEMS, &buf);

        if !m.strings.is_empty() {
            buf.clear();
            put_varint(&mut buf, m.strings.len() as u64);
            for s in &m.strings {
                put_varint(&mut buf, s.len() as u64);
                buf.extend_from_slice(s.as_bytes());
            }
            put_section(&mut out, tag::STRINGS, &buf);
        }

        buf.clear();
        for it in &m.items {
            let mut flags = 0u8;
            if it.available {
                flags |= ATTR_AVAILABLE;
            }
            if it.category.is_some() {
                flags |= ATTR_CATEGORY;
            }
            if it.vendor.is_some() {
                flags |= ATTR_VENDOR;
            }
            if it.price_cents.is_some() {
                flags |= ATTR_PRICE;
            }
            buf.push(flags);
            for v in [it.category, it.vendor, it.price_cents]
                .into_iter()
                .flatten()
            {
                put_varint(&mut buf, v as u64);
            }
        }
        put_section(&mut out, tag::ATTRS, &buf);

        put_section(&mut out, tag::POPULARITY, &m.popularity);

        buf.clear();
        put_neighbour_lists(&mut buf, &m.next, m.items.len());
        put_section(&mut out, tag::NEXT, &buf);

        buf.clear();
        put_varint(&mut buf, m.sessions.len() as u64);
        for s in m.sessions.iter() {
            put_varint(&mut buf, s.len() as u64);
            for &i in s {
                put_varint(&mut buf, i as u64);
            }
        }
        put_section(&mut out, tag::SESSIONS, &buf);

        buf.clear();
        let p = &m.params;
        put_varint(&mut buf, p.k as u64);
        put_varint(&mut buf, p.sample as u64);
        for v in [p.sequential, p.popularity, p.recency, p.idf, p.forward] {
            buf.extend_from_slice(&v.to_le_bytes());
        }
        put_section(&mut out, tag::PARAMS, &buf);

        put_strings(&mut out, &mut buf, tag::HANDLES, &m.handles);
        if m.tags.total() > 0 {
            buf.clear();
            for i in 0..m.items.len() {
                let tags = m.tags.get(i);
                put_varint(&mut buf, tags.len() as u64);
                for &t in tags {
                    put_varint(&mut buf, t as u64);
                }
            }
            put_section(&mut out, tag::TAGS, &buf);
        }
        for (t, lists) in [(tag::COVIEW, &m.coview), (tag::COPURCHASE, &m.copurchase)] {
            if lists.total() > 0 {
                buf.clear();
                put_neighbour_lists(&mut buf, lists, m.items.len());
                put_section(&mut out, t, &buf);
            }
        }
        if !m.trending.is_empty() {
            put_section(&mut out, tag::TRENDING, &m.trending);
        }
        if m.config != crate::config::StoreConfig::default() {
            buf.clear();
            put_config(&mut buf, &m.config);
            put_section(&mut out, tag::CONFIG, &buf);
        }
        put_strings(&mut out, &mut buf, tag::TITLES, &m.titles);
        put_strings(&mut out, &mut buf, tag::IMAGES, &m.images);

        let crc = crc32(&out);
        out.extend_from_slice(&crc.to_le_bytes());
        out
    }

    /// Decode and validate bytes produced by [`Snapshot::encode`].
    pub fn decode(bytes: &[u8]) -> Result<Snapshot, SnapshotError> {
        if bytes.len() < HEADER_LEN + TRAILER_LEN {
            return Err(SnapshotError::TooShort { len: bytes.len() });
        }
        let magic = [bytes[0], bytes[1], bytes[2], bytes[3]];
        if magic != MAGIC {
            return Err(SnapshotError::BadMagic { found: magic });
        }
        let version = u16::from_le_bytes([bytes[4], bytes[5]]);
        if version != FORMAT_VERSION {
            return Err(SnapshotError::UnsupportedVersion { found: version });
        }
        let body_end = bytes.len() - TRAILER_LEN;
        let mut stored = [0u8; 4];
        stored.copy_from_slice(&bytes[body_end..]);
        let stored = u32::from_le_bytes(stored);
        let computed = crc32(&bytes[..body_end]);
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
        let model_kind = ModelKind::from_code(bytes[6])
            .ok_or(SnapshotError::UnknownModelKind { found: bytes[6] })?;
        if bytes[7] != 0 {
            return Err(SnapshotError::ReservedFlags { found: bytes[7] });
        }
        let mut cv = [0u8; 8];
        cv.copy_from_slice(&bytes[8..16]);
        let catalog_version = u64::from_le_bytes(cv);

        let mut r = Reader {
            bytes: &bytes[..body_end],
            pos: HEADER_LEN,
        };
        let mut model = Model::default();
        let mut last_tag = 0u8;
        let mut n_items: Option<usize> = None;
        while r.pos < r.bytes.len() {
            let t = r.u8()?;
            if !(tag::ITEMS..=tag::LAST).contains(&t) {
                return Err(SnapshotError::UnknownSection { tag: t });
            }
            if t <= last_tag {
                return Err(SnapshotError::SectionOrder { tag: t });
            }
            if t != tag::ITEMS && n_items.is_none() {
                return Err(SnapshotError::MissingSection { tag: tag::ITEMS });
            }
            last_tag = t;
            let len = r.varint()?;
            let start = r.pos;
            let end = start
                .checked_add(
                    usize::try_from(len).map_err(|_| SnapshotError::SectionLength { tag: t })?,
                )
                .filter(|&e| e <= r.bytes.len())
                .ok_or(SnapshotError::SectionLength { tag: t })?;
            let mut s = Reader {
                bytes: &r.bytes[..end],
                pos: start,
            };
            // Inside a section, running out of bytes means the section's declared length is
            // wrong, whatever the total length.
            let mut parse = || -> Result<(), SnapshotError> {
                match t {
                    tag::ITEMS => {
                        let n = s.count(1, t)?;
                        let mut prev = 0u64;
                        for i in 0..n {
                            let v = s.varint()?;
                            let id = if i == 0 {
                                v
                            } else if v == 0 {
                                return Err(SnapshotError::UnsortedItems { index: i });
                            } else {
                                prev.checked_add(v).ok_or(SnapshotError::OutOfRange {
                                    tag: t,
                                    what: "item id",
                                })?
                            };
                            prev = id;
                            // Available unless the attributes section says otherwise.
                            model.items.push(ItemAttrs {
                                id,
                                available: true,
                                ..Default::default()
                            });
                        }
                        n_items = Some(n);
                        model.popularity = vec![0; n];
                        model.next = Lists::default();
                    }
                    tag::STRINGS => {
                        let n = s.count(1, t)?;
                        for index in 0..n {
                            let len = s.count(1, t)?;
                            let raw = s.take(len)?;
                            let text = std::str::from_utf8(raw)
                                .map_err(|_| SnapshotError::BadString { index })?;
                            model.strings.push(text.to_owned());
                        }
                    }
                    tag::ATTRS => {
                        let n_strings = model.strings.len() as u64;
                        for item in model.items.iter_mut() {
                            let flags = s.u8()?;
                            if flags & !(ATTR_AVAILABLE | ATTR_CATEGORY | ATTR_VENDOR | ATTR_PRICE)
                                != 0
                            {
                                return Err(SnapshotError::OutOfRange {
                                    tag: t,
                                    what: "attribute flags",
                                });
                            }
                            item.available = flags & ATTR_AVAILABLE != 0;
                            let mut string_ix = |what| -> Result<u32, SnapshotError> {
                                let v = s.varint()?;
                                if v >= n_strings {
                                    return Err(SnapshotError::OutOfRange { tag: t, what });
                                }
                                Ok(v as u32)
                            };
                            if flags & ATTR_CATEGORY != 0 {
                                item.category = Some(string_ix("category string index")?);
                            }
                            if flags & ATTR_VENDOR != 0 {
                                item.vendor = Some(string_ix("vendor string index")?);
                            }
                            if flags & ATTR_PRICE != 0 {
                                let v = s.varint()?;
                                item.price_cents = Some(u32::try_from(v).map_err(|_| {
                                    SnapshotError::OutOfRange {
                                        tag: t,
                                        what: "price",
                                    }
                                })?);
                            }
                        }
                    }
                    tag::POPULARITY => {
                        let n = n_items.unwrap_or(0);
                        model.popularity = s.take(n)?.to_vec();
                    }
                    tag::NEXT => model.next = s.neighbour_lists(n_items.unwrap_or(0), t)?,
                    tag::COVIEW => model.coview = s.neighbour_lists(n_items.unwrap_or(0), t)?,
                    tag::COPURCHASE => {
                        model.copurchase = s.neighbour_lists(n_items.unwrap_or(0), t)?
                    }
                    tag::HANDLES => model.handles = s.item_strings(n_items.unwrap_or(0), end, t)?,
                    tag::TITLES => model.titles = s.item_strings(n_items.unwrap_or(0), end, t)?,
                    tag::IMAGES => model.images = s.item_strings(n_items.unwrap_or(0), end, t)?,
                    tag::TAGS => {
                        let n = n_items.unwrap_or(0);
                        let n_strings = model.strings.len() as u64;
                        let mut lists = Lists::with_capacity(n, end - s.pos);
                        for _ in 0..n {
                            let len = s.count(1, t)?;
                            for _ in 0..len {
                                let v = s.varint()?;
                                if v >= n_strings {
                                    return Err(SnapshotError::OutOfRange {
                                        tag: t,
                                        what: "tag string index",
                                    });
                                }
                                lists.push(v as u32);
                            }
                            lists.close();
                        }
                        model.tags = lists.canonical();
                    }
                    tag::TRENDING => {
                        let n = n_items.unwrap_or(0);
                        model.trending = s.take(n)?.to_vec();
                    }
                    tag::CONFIG => {
                        let config = s.config(t)?;
                        config.validate().map_err(|e| SnapshotError::BadConfig {
                            message: format!("store config: {e}"),
                        })?;
                        model.config = config;
                    }
                    tag::SESSIONS => {
                        let n = n_items.unwrap_or(0);
                        let count = s.count(1, t)?;
                        let mut lists = Lists::with_capacity(count, end - s.pos);
                        for _ in 0..count {
                            let len = s.count(1, t)?;
                            for _ in 0..len {
                                lists.push(s.item_ix(n, t)?);
                            }
                            lists.close();
                        }
                        model.sessions = lists;
                    }
                    tag::PARAMS => {
                        let k = s.varint()?;
                        let sample = s.varint()?;
                        let mut f = [0f32; 5];
                        for v in f.iter_mut() {
                            let mut b = [0u8; 4];
                            b.copy_from_slice(s.take(4)?);
                            *v = f32::from_le_bytes(b);
                            if !v.is_finite() || *v < 0.0 || *v > 1.0e6 {
                                return Err(SnapshotError::OutOfRange {
                                    tag: t,
                                    what: "scorer weight",
                                });
                            }
                        }
                        let limit = |v: u64| -> Result<usize, SnapshotError> {
                            if v > 1_000_000 {
                                return Err(SnapshotError::OutOfRange {
                                    tag: t,
                                    what: "scorer count",
                                });
                            }
                            Ok(v as usize)
                        };
                        model.params = ScoreParams {
                            k: limit(k)?,
                            sample: limit(sample)?,
                            sequential: f[0],
                            popularity: f[1],
                            recency: f[2],
                            idf: f[3],
                            forward: f[4],
                        };
                    }
                    _ => unreachable!("tags are range-checked above"),
                }
                Ok(())
            };
            parse().map_err(|e| match e {
                SnapshotError::Truncated { .. } => SnapshotError::SectionLength { tag: t },
                e => e,
            })?;
            if s.pos != end {
                return Err(SnapshotError::SectionLength { tag: t });
            }
            r.pos = end;
        }
        if n_items.is_none() {
            return Err(SnapshotError::MissingSection { tag: tag::ITEMS });
        }
        model.index();
        Ok(Snapshot {
            model_kind,
            catalog_version,
            model,
        })
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl Reader<'_> {
    // (Inlined: the neighbour lists read one per neighbour, and a call each was a third of the
    // decode in the browser's profile.)
    #[inline(always)]
    fn u8(&mut self) -> Result<u8, SnapshotError> {
        let b = *self
            .bytes
            .get(self.pos)
            .ok_or(SnapshotError::Truncated { offset: self.pos })?;
        self.pos += 1;
        Ok(b)
    }

    fn take(&mut self, n: usize) -> Result<&[u8], SnapshotError> {
        let end = self
            .pos
            .checked_add(n)
            .filter(|&e| e <= self.bytes.len())
            .ok_or(SnapshotError::Truncated { offset: self.pos })?;
        let out = &self.bytes[self.pos..end];
        self.pos = end;
        Ok(out)
    }

    #[inline(always)]
    fn varint(&mut self) -> Result<u64, SnapshotError> {
        let start = self.pos;
        let rest = &self.bytes[start.min(self.bytes.len())..];
        // Fast paths: item indices and ids in a snapshot are one to three bytes.
        match *rest {
            [] => return Err(SnapshotError::Truncated { offset: start }),
            [b0, ..] if b0 < 0x80 => {
                self.pos += 1;
                return Ok(b0 as u64);
            }
            [b0, b1, ..] if b1 < 0x80 => {
                self.pos += 2;
                return Ok((b0 & 0x7F) as u64 | (b1 as u64) << 7);
            }
            [b0, b1, b2, ..] if b2 < 0x80 => {
                self.pos += 3;
                return Ok((b0 & 0x7F) as u64 | ((b1 & 0x7F) as u64) << 7 | (b2 as u64) << 14);
            }
            _ => {}
        }
        let mut v = 0u64;
        for (i, &b) in rest.iter().take(10).enumerate() {
            if i == 9 && b > 1 {
                return Err(SnapshotError::BadVarint { offset: start });
            }
            v |= ((b & 0x7F) as u64) << (7 * i);
            if b & 0x80 == 0 {
                self.pos = start + i + 1;
                return Ok(v);
            }
        }
        if rest.len() < 10 {
            Err(SnapshotError::Truncated {
                offset: start + rest.len(),
            })
        } else {
            Err(SnapshotError::BadVarint { offset: start })
        }
    }

    /// A count whose entries take at least `min_entry_bytes` each: refuse counts the remaining
    /// input cannot hold, so a corrupt count never triggers a huge allocation.
    fn count(&mut self, min_entry_bytes: usize, tag: u8) -> Result<usize, SnapshotError> {
        let v = self.varint()?;
        let remaining = (self.bytes.len() - self.pos) as u64;
        if v.saturating_mul(min_entry_bytes as u64) > remaining {
            return Err(SnapshotError::OutOfRange { tag, what: "count" });
        }
        Ok(v as usize)
    }

    fn f64(&mut self) -> Result<f64, SnapshotError> {
        let mut b = [0u8; 8];
        b.copy_from_slice(self.take(8)?);
        Ok(f64::from_le_bytes(b))
    }

    fn f32(&mut self) -> Result<f32, SnapshotError> {
        let mut b = [0u8; 4];
        b.copy_from_slice(self.take(4)?);
        Ok(f32::from_le_bytes(b))
    }

    fn string(&mut self, t: u8) -> Result<String, SnapshotError> {
        let len = self.count(1, t)?;
        let raw = self.take(len)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|_| SnapshotError::BadConfig {
                message: "store config has a string that is not UTF-8".into(),
            })
    }

    fn flag(&mut self, t: u8) -> Result<bool, SnapshotError> {
        match self.u8()? {
            0 => Ok(false),
            1 => Ok(true),
            _ => Err(SnapshotError::OutOfRange {
                tag: t,
                what: "flag",
            }),
        }
    }

    fn opt_string(&mut self, t: u8) -> Result<Option<String>, SnapshotError> {
        Ok(if self.flag(t)? {
            Some(self.string(t)?)
        } else {
            None
        })
    }

    fn opt_i64(&mut self, t: u8) -> Result<Option<i64>, SnapshotError> {
        Ok(if self.flag(t)? {
            let mut b = [0u8; 8];
            b.copy_from_slice(self.take(8)?);
            Some(i64::from_le_bytes(b))
        } else {
            None
        })
    }

    fn small(&mut self, t: u8, what: &'static str) -> Result<u32, SnapshotError> {
        u32::try_from(self.varint()?).map_err(|_| SnapshotError::OutOfRange { tag: t, what })
    }

    fn config(&mut self, t: u8) -> Result<crate::config::StoreConfig, SnapshotError> {
        use crate::config::{BannerConfig, BannerVariantConfig, PlacementConfig, StoreConfig};
        use crate::experiments::{Experiment, ExperimentConfig};
        use crate::rank::{Placement, Rules};
        use crate::segments::SegmentConfig;
        let segments = SegmentConfig {
            engaged_product_views: self.small(t, "threshold")?,
            engaged_sessions: self.small(t, "threshold")?,
            vip_orders: self.small(t, "threshold")?,
            vip_spend: self.f64()?,
            at_risk_gaps: self.f64()?,
            lapsed_days: self.f64()?,
            typical_gap_days: self.f64()?,
        };
        let holdout_share = self.f64()?;
        let count = self.count(1, t)?;
        let mut experiments = Vec::with_capacity(count);
        for _ in 0..count {
            experiments.push(Experiment {
                id: self.string(t)?,
                placement: self.string(t)?,
                treatment_share: self.f64()?,
                start: self.opt_i64(t)?,
                end: self.opt_i64(t)?,
            });
        }
        let count = self.count(1, t)?;
        let mut placements = Vec::with_capacity(count);
        for _ in 0..count {
            let name = self.string(t)?;
            let placement = Placement::from_code(self.u8()?).ok_or(SnapshotError::OutOfRange {
                tag: t,
                what: "placement",
            })?;
            let n = self.small(t, "list length")? as usize;
            let flags = self.u8()?;
            if flags > 3 {
                return Err(SnapshotError::OutOfRange {
                    tag: t,
                    what: "rule flags",
                });
            }
            let category_cap = self.f32()?;
            let exploration_slot = match self.small(t, "exploration slot")? {
                0 => None,
                k => Some(k as usize - 1),
            };
            let pins = self.count(2, t)?;
            let mut pinned = Vec::with_capacity(pins);
            for _ in 0..pins {
                pinned.push((self.small(t, "pin position")? as usize, self.varint()?));
            }
            placements.push(PlacementConfig {
                name,
                placement,
                n,
                rules: Rules {
                    exclude_unavailable: flags & 1 != 0,
                    exclude_purchased: flags & 2 != 0,
                    pinned,
                    category_cap,
                    exploration_slot,
                },
                title: self.opt_string(t)?,
            });
        }
        let count = self.count(1, t)?;
        let mut banners = Vec::with_capacity(count);
        for _ in 0..count {
            let name = self.string(t)?;
            let n = self.count(1, t)?;
            let mut variants = Vec::with_capacity(n);
            for _ in 0..n {
                variants.push(BannerVariantConfig {
                    id: self.string(t)?,
                    segment: self.opt_string(t)?,
                    category: self.opt_string(t)?,
                });
            }
            banners.push(BannerConfig { name, variants });
        }
        Ok(StoreConfig {
            segments,
            experiments: ExperimentConfig {
                holdout_share,
                experiments,
            },
            placements,
            banners,
        })
    }

    #[inline(never)]
    fn neighbour_lists(&mut self, n: usize, t: u8) -> Result<Lists<Neighbor>, SnapshotError> {
        let mut lists = Lists::with_capacity(n, (self.bytes.len() - self.pos) / 2);
        for _ in 0..n {
            let len = self.count(2, t)?;
            for _ in 0..len {
                let item = self.item_ix(n, t)?;
                let score = self.u8()?;
                if score == 0 {
                    return Err(SnapshotError::OutOfRange {
                        tag: t,
                        what: "neighbour strength",
                    });
                }
                lists.push(Neighbor { item, score });
            }
            lists.close();
        }
        Ok(lists.canonical())
    }

    #[inline(always)]
    /// `n` strings, one per item, each `length: varint` + UTF-8, within a section ending at
    /// `end`.
    fn item_strings(
        &mut self,
        n: usize,
        end: usize,
        tag: u8,
    ) -> Result<Vec<String>, SnapshotError> {
        let mut out = Vec::with_capacity(n.min(end.saturating_sub(self.pos)));
        for index in 0..n {
            let len = self.count(1, tag)?;
            let raw = self.take(len)?;
            let text = std::str::from_utf8(raw).map_err(|_| SnapshotError::BadString { index })?;
            out.push(text.to_owned());
        }
        Ok(out)
    }

    fn item_ix(&mut self, n_items: usize, tag: u8) -> Result<ItemIx, SnapshotError> {
        let v = self.varint()?;
        if v >= n_items as u64 {
            return Err(SnapshotError::OutOfRange {
                tag,
                what: "item index",
            });
        }
        Ok(v as ItemIx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn sample() -> Snapshot {
        let items = vec![
            ItemAttrs {
                id: 7,
                category: Some(0),
                vendor: None,
                price_cents: Some(499),
                available: true,
            },
            ItemAttrs {
                id: 300,
                category: Some(1),
                vendor: Some(0),
                price_cents: None,
                available: false,
            },
            ItemAttrs {
                id: 301,
                ..Default::default()
            },
        ];
        let mut model = Model::from_parts(
            items,
            vec!["Kitchen".into(), "Bags".into()],
            vec![255, 3, 0],
            vec![
                vec![
                    Neighbor {
                        item: 1,
                        score: 255,
                    },
                    Neighbor { item: 2, score: 9 },
                ],
                vec![],
                vec![Neighbor { item: 0, score: 1 }],
            ],
            vec![vec![0, 1], vec![2, 0, 2]],
            ScoreParams {
                sequential: 0.75,
                recency: 2.0,
                ..Default::default()
            },
        );
        model.handles = vec!["red-mug".into(), "".into(), "bag-é".into()];
        model.titles = vec!["Red mug".into(), "<b>Bag</b>".into(), "".into()];
        model.images = vec![
            "/img/1.png".into(),
            "".into(),
            "https://cdn.example/x.jpg".into(),
        ];
        model.tags = Lists::from_vecs(vec![vec![1], vec![], vec![0, 1]]);
        model.coview = Lists::from_vecs(vec![
            vec![Neighbor {
                item: 2,
                score: 255,
            }],
            vec![],
            vec![],
        ]);
        model.copurchase =
            Lists::from_vecs(vec![vec![], vec![Neighbor { item: 0, score: 7 }], vec![]]);
        model.trending = vec![0, 200, 17];
        model.config = crate::config::StoreConfig::from_json(
            r#"{"placements":[{"name":"pdp","placement":"similar","n":4,"title":"You may also like",
                 "rules":{"exclude_purchased":true,"pinned":[[0,7]],"category_cap":0.5,"exploration_slot":3}}],
                "experiments":{"holdout_share":0.1,"experiments":[{"id":"e1","placement":"grid","start":5,"end":null}]},
                "banners":[{"name":"hero","variants":[{"id":"vip","segment":"vip"},{"id":"bags","category":"Bags"}]}],
                "segments":{"vip_spend":250.5}}"#,
        )
        .unwrap();
        Snapshot::new(ModelKind::Hybrid, 42, model)
    }

    #[test]
    fn round_trips() {
        let s = sample();
        assert_eq!(Snapshot::decode(&s.encode()).unwrap(), s);
        let empty = Snapshot::new(ModelKind::Hybrid, 0, Model::default());
        assert_eq!(Snapshot::decode(&empty.encode()).unwrap(), empty);
    }

    #[test]
    fn a_bad_store_config_is_a_precise_error() {
        let mut body = header();
        body.extend_from_slice(&[1, 2, 1, 5]);
        let config = crate::config::StoreConfig {
            banners: vec![crate::config::BannerConfig {
                name: "h".into(),
                variants: vec![crate::config::BannerVariantConfig {
                    id: "a".into(),
                    segment: Some("whale".into()),
                    category: None,
                }],
            }],
            ..Default::default()
        };
        let mut buf = Vec::new();
        put_config(&mut buf, &config);
        put_section(&mut body, tag::CONFIG, &buf);
        let err = Snapshot::decode(&seal(body)).unwrap_err();
        assert_eq!(err.code(), "SNAPSHOT_CORRUPT");
        assert_eq!(
            err.to_string(),
            "snapshot store config: banner `h` variant `a`: unknown segment `whale`"
        );
    }

    #[test]
    fn varints_round_trip_at_the_edges() {
        for v in [0u64, 1, 127, 128, 16_383, 16_384, u32::MAX as u64, u64::MAX] {
            let mut b = Vec::new();
            put_varint(&mut b, v);
            let mut r = Reader { bytes: &b, pos: 0 };
            assert_eq!(r.varint().unwrap(), v);
            assert_eq!(r.pos, b.len());
        }
        let eleven = [0xFFu8; 11];
        let mut r = Reader {
            bytes: &eleven,
            pos: 0,
        };
        assert_eq!(r.varint(), Err(SnapshotError::BadVarint { offset: 0 }));
    }

    #[test]
    fn rejects_short_input_bad_magic_and_other_versions() {
        for len in 0..HEADER_LEN + TRAILER_LEN {
            assert_eq!(
                Snapshot::decode(&vec![0; len]),
                Err(SnapshotError::TooShort { len })
            );
        }
        let mut b = sample().encode();
        b[0] = b'X';
        assert!(matches!(
            Snapshot::decode(&b),
            Err(SnapshotError::BadMagic { .. })
        ));
        let mut b = sample().encode();
        b[4] = 2;
        assert_eq!(
            Snapshot::decode(&b),
            Err(SnapshotError::UnsupportedVersion { found: 2 })
        );
    }

    #[test]
    fn every_truncation_is_rejected() {
        let b = sample().encode();
        for len in 0..b.len() {
            assert!(
                Snapshot::decode(&b[..len]).is_err(),
                "accepted {len} of {} bytes",
                b.len()
            );
        }
    }

    #[test]
    fn every_single_bit_flip_is_rejected() {
        let b = sample().encode();
        for byte in 0..b.len() {
            for bit in 0..8 {
                let mut c = b.clone();
                c[byte] ^= 1 << bit;
                assert!(
                    Snapshot::decode(&c).is_err(),
                    "flip of bit {bit} in byte {byte} was accepted"
                );
            }
        }
    }

    /// Re-seal `body` (everything but the trailer) with a correct checksum.
    fn seal(mut body: Vec<u8>) -> Vec<u8> {
        let crc = crc32(&body);
        body.extend_from_slice(&crc.to_le_bytes());
        body
    }

    fn header() -> Vec<u8> {
        let mut h = MAGIC.to_vec();
        h.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        h.extend_from_slice(&[1, 0]);
        h.extend_from_slice(&0u64.to_le_bytes());
        h
    }

    #[test]
    fn structural_errors_behind_a_valid_checksum_are_precise() {
        let cases: Vec<(Vec<u8>, SnapshotError)> = vec![
            (vec![99, 0], SnapshotError::UnknownSection { tag: 99 }),
            (vec![4, 0], SnapshotError::MissingSection { tag: 1 }),
            (
                vec![1, 1, 0, 1, 1, 0],
                SnapshotError::SectionOrder { tag: 1 },
            ),
            (vec![1, 5, 0], SnapshotError::SectionLength { tag: 1 }),
            (
                vec![1, 3, 2, 5, 0],
                SnapshotError::UnsortedItems { index: 1 },
            ),
            // A count of 2^60 items in a 10-byte section must not allocate.
            (
                vec![1, 9, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10],
                SnapshotError::OutOfRange {
                    tag: 1,
                    what: "count",
                },
            ),
            // One item; a session referring to item index 3.
            (
                vec![1, 2, 1, 5, 6, 3, 1, 1, 3],
                SnapshotError::OutOfRange {
                    tag: 6,
                    what: "item index",
                },
            ),
            (vec![], SnapshotError::MissingSection { tag: 1 }),
            // A popularity section shorter than the item count.
            (
                vec![1, 2, 1, 5, 4, 0],
                SnapshotError::SectionLength { tag: 4 },
            ),
            // A neighbour of strength 0.
            (
                vec![1, 2, 1, 5, 5, 3, 1, 0, 0],
                SnapshotError::OutOfRange {
                    tag: 5,
                    what: "neighbour strength",
                },
            ),
        ];
        for (body, want) in cases {
            let mut b = header();
            b.extend_from_slice(&body);
            assert_eq!(
                Snapshot::decode(&seal(b)),
                Err(want.clone()),
                "body {body:?}"
            );
            assert!(!want.to_string().is_empty());
        }
    }

    #[test]
    fn random_bytes_never_panic() {
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = sample().encode();
        for round in 0..30_000 {
            let len = (next() % 96) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 && len >= HEADER_LEN {
                // Start like a real snapshot and re-seal, so the structural checks are reached.
                let n = len.min(valid.len());
                buf[..n].copy_from_slice(&valid[..n]);
                let i = HEADER_LEN + (next() as usize) % (len - HEADER_LEN).max(1);
                if i < len {
                    buf[i] = next() as u8;
                }
                buf.truncate(len.saturating_sub(TRAILER_LEN));
                buf = seal(buf);
            }
            let _ = Snapshot::decode(&buf);
        }
    }

    #[test]
    fn error_codes_are_stable() {
        assert_eq!(
            SnapshotError::UnsupportedVersion { found: 9 }.code(),
            "SNAPSHOT_VERSION"
        );
        assert_eq!(
            SnapshotError::UnsupportedVersion { found: 9 }.to_string(),
            "snapshot format version 9 is not supported (this build reads version 4)"
        );
        assert_eq!(
            SnapshotError::Truncated { offset: 3 }.code(),
            "SNAPSHOT_TRUNCATED"
        );
        assert_eq!(
            SnapshotError::UnsortedItems { index: 3 }.code(),
            "SNAPSHOT_CORRUPT"
        );
    }
}
