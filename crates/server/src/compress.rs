//! Compression helpers.

/// Brotli quality used for snapshots. Measured on the yoochoose snapshot (445,487 bytes):
/// quality 5 gives 358,275 bytes, 7 gives 358,051, 9 gives 353,725 and 11 gives 314,260, but
/// the higher qualities' match search is far too slow in this pure-Rust encoder for a server
/// that rebuilds on a schedule (quality 9 took most of a 2-minute build of a 1.4 MB snapshot).
pub const BROTLI_QUALITY: i32 = 5;

/// Brotli at [`BROTLI_QUALITY`], 4 MiB window.
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: BROTLI_QUALITY,
        lgwin: 22,
        ..Default::default()
    };
    let mut input = bytes;
    // Writing into a Vec cannot fail.
    let _ = brotli::BrotliCompress(&mut input, &mut out, &params);
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn compresses_and_decompresses() {
        let data = b"tailor ".repeat(1000);
        let packed = super::brotli(&data);
        assert!(packed.len() < 100);
        let mut out = Vec::new();
        brotli::BrotliDecompress(&mut packed.as_slice(), &mut out).unwrap();
        assert_eq!(out, data);
    }
}
