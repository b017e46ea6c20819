//! The snapshot: the compact, versioned model of a store that the browser downloads.
//!
//! The byte layout is specified normatively in `docs/snapshot-format.md`. In short: a 20-byte
//! header (magic, format version, model kind, flags, catalog version, item count), a table of
//! `(item id, quantized score)` records sorted by id, and a CRC-32 trailer. Scores are quantized
//! to one byte, so the snapshot never reveals raw counts or revenue.
//!
//! Decoding never panics: truncated, corrupted, or version-mismatched input yields a
//! [`SnapshotError`] that says exactly what is wrong.

use crate::checksum::crc32;
use std::fmt;

/// The four bytes every snapshot starts with.
pub const MAGIC: [u8; 4] = *b"TLSN";
/// The format version this build writes and reads.
pub const FORMAT_VERSION: u16 = 1;
/// Size of the fixed header in bytes.
pub const HEADER_LEN: usize = 20;
/// Size of one item record in bytes (u64 id + u8 score).
pub const ITEM_LEN: usize = 9;
/// Size of the CRC-32 trailer in bytes.
pub const TRAILER_LEN: usize = 4;

/// Which model produced the scores in a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelKind {
    /// Scores are a popularity prior (catalog popularity plus observed product views).
    Popularity,
}

impl ModelKind {
    /// The byte that encodes this kind.
    pub fn code(self) -> u8 {
        match self {
            ModelKind::Popularity => 1,
        }
    }

    /// The kind for `code`, if it is one this build knows.
    pub fn from_code(code: u8) -> Option<Self> {
        match code {
            1 => Some(ModelKind::Popularity),
            _ => None,
        }
    }
}

/// One item's entry in the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ItemScore {
    /// The store's product id (a Shopify product id, a WooCommerce post id, ...).
    pub id: u64,
    /// Quantized score, 0 (lowest) to 255 (highest).
    pub score: u8,
}

/// A decoded snapshot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snapshot {
    /// The model that produced the scores.
    pub model_kind: ModelKind,
    /// The catalog version the snapshot was built against.
    pub catalog_version: u64,
    items: Vec<ItemScore>,
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
    /// The length does not match the item count in the header.
    LengthMismatch {
        /// Length implied by the header.
        expected: u64,
        /// Length received.
        actual: usize,
    },
    /// The CRC-32 trailer does not match the content.
    ChecksumMismatch {
        /// Checksum stored in the trailer.
        stored: u32,
        /// Checksum computed over the content.
        computed: u32,
    },
    /// Item ids are not strictly increasing (unsorted or duplicated) at this record index.
    UnsortedItems {
        /// Index of the first offending record.
        index: usize,
    },
}

impl SnapshotError {
    /// A stable machine-readable code, used as the `code` of the JS `Error`.
    pub fn code(&self) -> &'static str {
        match self {
            SnapshotError::TooShort { .. } => "SNAPSHOT_TRUNCATED",
            SnapshotError::BadMagic { .. } => "SNAPSHOT_BAD_MAGIC",
            SnapshotError::UnsupportedVersion { .. } => "SNAPSHOT_VERSION",
            SnapshotError::UnknownModelKind { .. } => "SNAPSHOT_MODEL_KIND",
            SnapshotError::ReservedFlags { .. } => "SNAPSHOT_FLAGS",
            SnapshotError::LengthMismatch { .. } => "SNAPSHOT_TRUNCATED",
            SnapshotError::ChecksumMismatch { .. } => "SNAPSHOT_CHECKSUM",
            SnapshotError::UnsortedItems { .. } => "SNAPSHOT_CORRUPT",
        }
    }
}

impl fmt::Display for SnapshotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SnapshotError::TooShort { len } => write!(
                f,
                "snapshot is {len} bytes, shorter than the {} bytes of header and checksum",
                HEADER_LEN + TRAILER_LEN
            ),
            SnapshotError::BadMagic { found } => write!(
                f,
                "not a Tailor snapshot: expected magic bytes {:02x?}, found {:02x?}",
                MAGIC, found
            ),
            SnapshotError::UnsupportedVersion { found } => write!(
                f,
                "snapshot format version {found} is not supported (this build reads version {FORMAT_VERSION})"
            ),
            SnapshotError::UnknownModelKind { found } => {
                write!(f, "snapshot model kind {found} is unknown to this build")
            }
            SnapshotError::ReservedFlags { found } => {
                write!(f, "snapshot sets reserved flag bits ({found:#04x})")
            }
            SnapshotError::LengthMismatch { expected, actual } => write!(
                f,
                "snapshot is {actual} bytes but its header implies {expected} (truncated or padded)"
            ),
            SnapshotError::ChecksumMismatch { stored, computed } => write!(
                f,
                "snapshot checksum mismatch: stored {stored:#010x}, computed {computed:#010x} (corrupted in transit or storage)"
            ),
            SnapshotError::UnsortedItems { index } => write!(
                f,
                "snapshot item ids are not strictly increasing at record {index}"
            ),
        }
    }
}

impl std::error::Error for SnapshotError {}

impl Snapshot {
    /// A snapshot from items in any order. Duplicate ids keep their highest score.
    pub fn new(model_kind: ModelKind, catalog_version: u64, mut items: Vec<ItemScore>) -> Self {
        items.sort_by(|a, b| a.id.cmp(&b.id).then(b.score.cmp(&a.score)));
        items.dedup_by_key(|i| i.id);
        Snapshot {
            model_kind,
            catalog_version,
            items,
        }
    }

    /// A snapshot from non-negative weights, quantized to one byte on a log scale so that a
    /// long-tailed popularity distribution keeps its order among the head *and* the tail.
    /// Weights of duplicate ids are added; negative or non-finite weights count as zero.
    pub fn from_weights(
        model_kind: ModelKind,
        catalog_version: u64,
        weights: &[(u64, f64)],
    ) -> Self {
        let mut merged: Vec<(u64, f64)> = weights
            .iter()
            .map(|&(id, w)| (id, if w.is_finite() && w > 0.0 { w } else { 0.0 }))
            .collect();
        merged.sort_by_key(|&(id, _)| id);
        let mut summed: Vec<(u64, f64)> = Vec::with_capacity(merged.len());
        for (id, w) in merged {
            match summed.last_mut() {
                Some(last) if last.0 == id => last.1 += w,
                _ => summed.push((id, w)),
            }
        }
        let max = summed.iter().map(|&(_, w)| w).fold(0.0f64, f64::max);
        let denom = max.ln_1p();
        let items = summed
            .into_iter()
            .map(|(id, w)| {
                let score = if denom > 0.0 {
                    (255.0 * w.ln_1p() / denom).round().clamp(0.0, 255.0) as u8
                } else {
                    0
                };
                ItemScore { id, score }
            })
            .collect();
        Snapshot {
            model_kind,
            catalog_version,
            items,
        }
    }

    /// The item records, sorted by id.
    pub fn items(&self) -> &[ItemScore] {
        &self.items
    }

    /// The quantized score of `id`, or `None` when the item is not in the snapshot.
    pub fn score_of(&self, id: u64) -> Option<u8> {
        self.items
            .binary_search_by_key(&id, |i| i.id)
            .ok()
            .map(|ix| self.items[ix].score)
    }

    /// Length in bytes of the encoded snapshot.
    pub fn encoded_len(&self) -> usize {
        HEADER_LEN + self.items.len() * ITEM_LEN + TRAILER_LEN
    }

    /// Encode to bytes, as specified in `docs/snapshot-format.md`.
    ///
    /// # Panics
    /// When the snapshot holds more than `u32::MAX` items, which no store comes near.
    pub fn encode(&self) -> Vec<u8> {
        let count = u32::try_from(self.items.len()).expect("more than u32::MAX items");
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(&MAGIC);
        out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
        out.push(self.model_kind.code());
        out.push(0); // flags: reserved
        out.extend_from_slice(&self.catalog_version.to_le_bytes());
        out.extend_from_slice(&count.to_le_bytes());
        for item in &self.items {
            out.extend_from_slice(&item.id.to_le_bytes());
            out.push(item.score);
        }
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
        let count = u32::from_le_bytes([bytes[16], bytes[17], bytes[18], bytes[19]]);
        let expected = (HEADER_LEN + TRAILER_LEN) as u64 + count as u64 * ITEM_LEN as u64;
        if expected != bytes.len() as u64 {
            return Err(SnapshotError::LengthMismatch {
                expected,
                actual: bytes.len(),
            });
        }
        let body_end = bytes.len() - TRAILER_LEN;
        let stored = u32::from_le_bytes([
            bytes[body_end],
            bytes[body_end + 1],
            bytes[body_end + 2],
            bytes[body_end + 3],
        ]);
        let computed = crc32(&bytes[..body_end]);
        if stored != computed {
            return Err(SnapshotError::ChecksumMismatch { stored, computed });
        }
        let model_kind = ModelKind::from_code(bytes[6])
            .ok_or(SnapshotError::UnknownModelKind { found: bytes[6] })?;
        if bytes[7] != 0 {
            return Err(SnapshotError::ReservedFlags { found: bytes[7] });
        }
        let mut catalog_version = [0u8; 8];
        catalog_version.copy_from_slice(&bytes[8..16]);
        let catalog_version = u64::from_le_bytes(catalog_version);

        let mut items = Vec::with_capacity(count as usize);
        for (index, rec) in bytes[HEADER_LEN..body_end]
            .chunks_exact(ITEM_LEN)
            .enumerate()
        {
            let mut id = [0u8; 8];
            id.copy_from_slice(&rec[..8]);
            let id = u64::from_le_bytes(id);
            if let Some(prev) = items.last() {
                let prev: &ItemScore = prev;
                if prev.id >= id {
                    return Err(SnapshotError::UnsortedItems { index });
                }
            }
            items.push(ItemScore { id, score: rec[8] });
        }
        Ok(Snapshot {
            model_kind,
            catalog_version,
            items,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Snapshot {
        Snapshot::from_weights(
            ModelKind::Popularity,
            42,
            &[(3, 10.0), (1, 0.0), (2, 100.0), (3, 5.0), (9, f64::NAN)],
        )
    }

    #[test]
    fn round_trips() {
        let s = sample();
        let bytes = s.encode();
        assert_eq!(bytes.len(), s.encoded_len());
        assert_eq!(Snapshot::decode(&bytes).unwrap(), s);
    }

    #[test]
    fn quantizes_on_a_log_scale_and_merges_duplicates() {
        let s = sample();
        let ids: Vec<u64> = s.items().iter().map(|i| i.id).collect();
        assert_eq!(ids, vec![1, 2, 3, 9]);
        assert_eq!(s.score_of(2), Some(255));
        assert_eq!(s.score_of(1), Some(0));
        assert_eq!(s.score_of(9), Some(0));
        // 15 = 10 + 5; ln(16)/ln(101) * 255 = 153.0...
        assert_eq!(s.score_of(3), Some(153));
        assert_eq!(s.score_of(4), None);
    }

    #[test]
    fn all_zero_weights_give_zero_scores() {
        let s = Snapshot::from_weights(ModelKind::Popularity, 1, &[(1, 0.0), (2, -3.0)]);
        assert!(s.items().iter().all(|i| i.score == 0));
    }

    #[test]
    fn new_sorts_and_keeps_highest_duplicate() {
        let s = Snapshot::new(
            ModelKind::Popularity,
            1,
            vec![
                ItemScore { id: 5, score: 1 },
                ItemScore { id: 2, score: 7 },
                ItemScore { id: 5, score: 9 },
            ],
        );
        assert_eq!(
            s.items(),
            &[ItemScore { id: 2, score: 7 }, ItemScore { id: 5, score: 9 }]
        );
    }

    #[test]
    fn rejects_short_input() {
        for len in 0..HEADER_LEN + TRAILER_LEN {
            assert_eq!(
                Snapshot::decode(&vec![0; len]),
                Err(SnapshotError::TooShort { len })
            );
        }
    }

    #[test]
    fn rejects_bad_magic() {
        let mut b = sample().encode();
        b[0] = b'X';
        assert!(matches!(
            Snapshot::decode(&b),
            Err(SnapshotError::BadMagic { .. })
        ));
    }

    #[test]
    fn rejects_other_versions() {
        let mut b = sample().encode();
        b[4] = 2;
        assert_eq!(
            Snapshot::decode(&b),
            Err(SnapshotError::UnsupportedVersion { found: 2 })
        );
    }

    #[test]
    fn rejects_truncation_and_padding() {
        let b = sample().encode();
        let err = Snapshot::decode(&b[..b.len() - 1]).unwrap_err();
        assert!(matches!(err, SnapshotError::LengthMismatch { .. }), "{err}");
        let mut padded = b.clone();
        padded.push(0);
        assert!(matches!(
            Snapshot::decode(&padded),
            Err(SnapshotError::LengthMismatch { .. })
        ));
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

    #[test]
    fn rejects_unsorted_items_even_with_a_valid_checksum() {
        let s = sample();
        let mut b = s.encode();
        // Swap the first two records and fix the checksum.
        let (a, c) = (HEADER_LEN, HEADER_LEN + ITEM_LEN);
        let first: Vec<u8> = b[a..c].to_vec();
        let second: Vec<u8> = b[c..c + ITEM_LEN].to_vec();
        b[a..c].copy_from_slice(&second);
        b[c..c + ITEM_LEN].copy_from_slice(&first);
        let end = b.len() - TRAILER_LEN;
        let crc = crc32(&b[..end]).to_le_bytes();
        b[end..].copy_from_slice(&crc);
        assert_eq!(
            Snapshot::decode(&b),
            Err(SnapshotError::UnsortedItems { index: 1 })
        );
    }

    #[test]
    fn random_bytes_never_panic() {
        // A small deterministic xorshift generator: fixed seed, no dependency.
        let mut state = 0x9E37_79B9_7F4A_7C15u64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let valid = sample().encode();
        for round in 0..20_000 {
            let len = (next() % 80) as usize;
            let mut buf: Vec<u8> = (0..len).map(|_| next() as u8).collect();
            if round % 2 == 0 && len >= 4 {
                // Half the inputs start like a real snapshot, to reach the deeper checks.
                let n = len.min(valid.len());
                buf[..n].copy_from_slice(&valid[..n]);
                let i = (next() as usize) % len;
                buf[i] = next() as u8;
            }
            let _ = Snapshot::decode(&buf);
        }
    }

    #[test]
    fn error_messages_are_precise() {
        let e = SnapshotError::UnsupportedVersion { found: 9 };
        assert_eq!(
            e.to_string(),
            "snapshot format version 9 is not supported (this build reads version 1)"
        );
        assert_eq!(e.code(), "SNAPSHOT_VERSION");
    }
}
