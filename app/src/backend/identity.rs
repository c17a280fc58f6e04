//! Who is on the other end of the TLS connection.

use std::net::SocketAddr;

use chrono::{DateTime, Utc};

/// The verified client certificate of a connection, put into every request's extensions by the TLS
/// listener. The handshake has already checked it against the platform CA and its CRL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientIdentity {
    /// SHA-256 of the certificate's DER encoding, lower-case hex.
    pub fingerprint: String,
    pub subject_cn: String,
    pub serial_hex: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub remote_addr: SocketAddr,
}
