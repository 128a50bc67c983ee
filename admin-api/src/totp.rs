//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP), HMAC-SHA1, 6 digits, 30 s
//! steps, as authenticator apps expect by default. Secrets are 20 random bytes, shown to the
//! user in base32 (no padding) inside an `otpauth://` URI.

use hmac::{Hmac, Mac};
use sha1::Sha1;
use subtle::ConstantTimeEq;

pub const DIGITS: u32 = 6;
pub const STEP_SECONDS: u64 = 30;
/// Codes of one step before or after the current one are accepted (clock drift).
pub const SKEW_STEPS: u64 = 1;
pub const SECRET_BYTES: usize = 20;
pub const ISSUER: &str = "MaxIOFS";

/// HOTP value of `counter` with `digits` digits (RFC 4226 §5.3, dynamic truncation).
pub fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC accepts any key length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

pub fn step_of(unix_seconds: u64) -> u64 {
    unix_seconds / STEP_SECONDS
}

pub fn code_at(secret: &[u8], step: u64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step, DIGITS),
        width = DIGITS as usize
    )
}

/// The step whose code `code` is, within the skew window around `now_step` and strictly after
/// `last_used_step` (a code is accepted once: replays within its window are refused).
pub fn verify(
    secret: &[u8],
    code: &str,
    now_step: u64,
    last_used_step: Option<u64>,
) -> Option<u64> {
    let code = code.trim();
    if code.len() != DIGITS as usize || !code.bytes().all(|byte| byte.is_ascii_digit()) {
        return None;
    }
    let mut found = None;
    // Every candidate is compared (no early exit) so timing says nothing about which matched.
    for step in now_step.saturating_sub(SKEW_STEPS)..=now_step + SKEW_STEPS {
        let candidate = code_at(secret, step);
        if bool::from(candidate.as_bytes().ct_eq(code.as_bytes()))
            && last_used_step.is_none_or(|last| step > last)
        {
            found = Some(step);
        }
    }
    found
}

pub fn new_secret() -> Vec<u8> {
    rand::random::<[u8; SECRET_BYTES]>().to_vec()
}

pub fn encode_secret(secret: &[u8]) -> String {
    data_encoding::BASE32_NOPAD.encode(secret)
}

pub fn decode_secret(text: &str) -> Option<Vec<u8>> {
    data_encoding::BASE32_NOPAD.decode(text.as_bytes()).ok()
}

/// The provisioning URI authenticator apps read from the QR code (Key Uri Format).
pub fn otpauth_uri(account: &str, secret: &[u8]) -> String {
    let label: String = format!("{ISSUER}:{account}")
        .bytes()
        .map(|byte| {
            if byte.is_ascii_alphanumeric() || b"-._~:@".contains(&byte) {
                char::from(byte).to_string()
            } else {
                format!("%{byte:02X}")
            }
        })
        .collect();
    format!(
        "otpauth://totp/{label}?secret={}&issuer={ISSUER}&algorithm=SHA1&digits={DIGITS}\
         &period={STEP_SECONDS}",
        encode_secret(secret)
    )
}

/// The URI as an SVG QR code in a `data:` URI (no raster image stack needed).
pub fn qr_code_data_uri(uri: &str) -> Result<String, String> {
    use base64::Engine as _;
    let code = qrcode::QrCode::new(uri.as_bytes()).map_err(|error| error.to_string())?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .build();
    Ok(format!(
        "data:image/svg+xml;base64,{}",
        base64::engine::general_purpose::STANDARD.encode(svg)
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238 appendix B, SHA-1 rows: the 20-byte ASCII secret "12345678901234567890".
    #[test]
    fn rfc6238_sha1_vectors() {
        let secret = b"12345678901234567890";
        let vectors: [(u64, u32); 6] = [
            (59, 94_287_082),
            (1_111_111_109, 7_081_804),
            (1_111_111_111, 14_050_471),
            (1_234_567_890, 89_005_924),
            (2_000_000_000, 69_279_037),
            (20_000_000_000, 65_353_130),
        ];
        for (time, expected) in vectors {
            assert_eq!(hotp(secret, step_of(time), 8), expected, "T = {time}");
        }
    }

    /// RFC 4226 appendix D: HOTP of counters 0 and 9.
    #[test]
    fn rfc4226_hotp_vectors() {
        let secret = b"12345678901234567890";
        assert_eq!(hotp(secret, 0, 6), 755_224);
        assert_eq!(hotp(secret, 9, 6), 520_489);
    }

    #[test]
    fn verify_accepts_the_window_once() {
        let secret = b"12345678901234567890";
        let now = 1000;
        let code = code_at(secret, now + 1);
        assert_eq!(verify(secret, &code, now, None), Some(now + 1));
        assert_eq!(verify(secret, &code, now, Some(now + 1)), None, "replay");
        assert_eq!(verify(secret, &code_at(secret, now + 2), now, None), None);
        assert_eq!(verify(secret, "12345", now, None), None);
        assert_eq!(verify(secret, "abcdef", now, None), None);
    }

    #[test]
    fn secrets_round_trip_in_base32_and_qr_renders() {
        let secret = new_secret();
        assert_eq!(decode_secret(&encode_secret(&secret)), Some(secret.clone()));
        let uri = otpauth_uri("alice smith", &secret);
        assert!(uri.starts_with("otpauth://totp/MaxIOFS:alice%20smith?secret="));
        let qr = qr_code_data_uri(&uri).unwrap();
        assert!(qr.starts_with("data:image/svg+xml;base64,"));
    }
}
