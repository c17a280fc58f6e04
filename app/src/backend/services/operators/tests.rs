use super::credentials::parse_fingerprint;

#[test]
fn fingerprints_are_read_as_typed_or_pasted() {
    let hex = "ab".repeat(32);
    assert_eq!(parse_fingerprint(&hex), Some(hex.clone()));
    let colons = hex
        .as_bytes()
        .chunks(2)
        .map(|c| String::from_utf8_lossy(c).to_uppercase())
        .collect::<Vec<_>>()
        .join(":");
    assert_eq!(parse_fingerprint(&colons), Some(hex.clone()));
    assert_eq!(parse_fingerprint(&hex[..62]), None);
    assert_eq!(parse_fingerprint(&"zz".repeat(32)), None);
}
