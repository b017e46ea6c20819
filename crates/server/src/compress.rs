//! Compression helpers.

/// Brotli at quality 11 (what a precompressed static file gets).
pub fn brotli(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let params = brotli::enc::BrotliEncoderParams {
        quality: 11,
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
