//! CRC-32 (IEEE 802.3, reflected, polynomial 0xEDB88320), the checksum that ends every snapshot.

/// CRC-32 of `bytes`, as computed by zlib's `crc32` and Node's `zlib.crc32`. Uses the
/// `crc32fast` crate (SIMD where the CPU has it, slicing tables elsewhere, wasm included).
pub fn crc32(bytes: &[u8]) -> u32 {
    crc32fast::hash(bytes)
}

#[cfg(test)]
mod tests {
    use super::crc32;

    #[test]
    fn known_vectors() {
        assert_eq!(crc32(b""), 0);
        // The standard check value of CRC-32/ISO-HDLC.
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(
            crc32(b"The quick brown fox jumps over the lazy dog"),
            0x414F_A339
        );
    }
}
