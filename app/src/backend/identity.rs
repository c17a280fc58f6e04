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
    pub kind: CertKind,
}

/// What a client certificate of the platform CA is for. The console serves operators' certificates
/// only, the terminal gateway gateway certificates only: a gateway's key cannot sign in to the
/// console, nor an operator's browser send payments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CertKind {
    Operator,
    Gateway,
}

/// The extended key usage that marks a gateway certificate, beside client authentication. The
/// identifier is only ever read in certificates of the platform's own CA, which alone decides what it
/// means there.
pub const GATEWAY_EKU: &[u64] = &[1, 3, 6, 1, 4, 1, 59_999, 8, 1];

/// Whether a certificate holds at a time: see [`CertificateCheck`].
pub type HoldsAt = dyn Fn(&ClientIdentity, DateTime<Utc>) -> bool + Send + Sync;

/// Whether the certificate of a connection still holds (not revoked since, not expired), as the TLS
/// layer knows it. The HTTP layer puts one into every request, for what outlives a request: a live
/// stream asks it again while it is open.
#[derive(Clone)]
pub struct CertificateCheck(pub std::sync::Arc<HoldsAt>);

impl CertificateCheck {
    pub fn holds(&self, identity: &ClientIdentity, now: DateTime<Utc>) -> bool {
        (self.0)(identity, now)
    }
}
