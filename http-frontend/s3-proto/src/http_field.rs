//! What an HTTP header field may hold (RFC 9110 §5.1, §5.5), the one rule for every name and
//! value a response head carries and for every client value that will be echoed or stored
//! as a header: a name is a token; a value holds no CR, LF, NUL or other control character.
//!
//! A value may hold HTAB, SP, visible ASCII and obs-text (bytes >= 0x80): that is exactly what
//! httparse accepts in a request header, so anything a client could send as a header can be
//! served back unchanged (UTF-8 metadata travels as obs-text, as it does today).

/// Whether `byte` is a tchar (RFC 9110 §5.6.2).
fn is_tchar(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&byte)
}

/// Whether `name` is a field name: one or more tchars.
pub fn is_field_name(name: &[u8]) -> bool {
    !name.is_empty() && name.iter().all(|&byte| is_tchar(byte))
}

/// Whether `byte` may appear in a field value: HTAB, SP, visible ASCII, obs-text.
pub fn is_field_value_byte(byte: u8) -> bool {
    byte == b'\t' || (b' '..=b'~').contains(&byte) || byte >= 0x80
}

/// Whether `value` may be written as a field value (see the module documentation).
pub fn is_field_value(value: &[u8]) -> bool {
    value.iter().all(|&byte| is_field_value_byte(byte))
}

/// Whether `text` holds a control character (C0, DEL), HTAB included: for values that have no
/// use for a tab (CORS origins and header names).
pub fn has_control(text: &str) -> bool {
    text.bytes().any(|byte| byte < b' ' || byte == 0x7F)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_bytes_are_refused_and_everything_else_passes() {
        for byte in 0..=u8::MAX {
            let control = byte < b' ' || byte == 0x7F;
            assert_eq!(
                is_field_value(&[b'a', byte, b'b']),
                !control || byte == b'\t',
                "{byte:#04x}"
            );
            assert_eq!(has_control(&char::from(byte).to_string()), control);
        }
        assert!(is_field_value(b""));
        assert!(is_field_value("caf\u{e9}".as_bytes()));
        assert!(is_field_name(b"x-amz-meta-Color_1"));
        for name in [
            &b""[..],
            b"a b",
            b"a:b",
            b"a\r\nb",
            b"a\nb",
            b"a\0",
            b"caf\xc3\xa9",
        ] {
            assert!(!is_field_name(name), "{name:?}");
        }
    }
}
