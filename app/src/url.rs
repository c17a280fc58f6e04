//! Building URLs: one percent-encoder for query values and URI labels, on the server and in the
//! browser alike.

/// `text` with every byte outside RFC 3986's unreserved set percent-encoded (UTF-8 bytes included).
pub fn encode_component(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(char::from(b));
            }
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// `k=v&k=v`, each value encoded.
pub fn query_string(pairs: &[(&str, String)]) -> String {
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={}", encode_component(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reserved_and_non_ascii_bytes_are_encoded() {
        assert_eq!(encode_component("a-z_0.9~"), "a-z_0.9~");
        assert_eq!(encode_component("=SUM(1,2)&x"), "%3DSUM%281%2C2%29%26x");
        assert_eq!(encode_component("华"), "%E5%8D%8E");
        assert_eq!(
            query_string(&[("from", "2026-11-01".into()), ("operator", "a b".into())]),
            "from=2026-11-01&operator=a%20b"
        );
    }
}
