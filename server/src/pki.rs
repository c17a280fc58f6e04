//! The development / platform PKI: a CA, the server certificate, operator client certificates (PEM and
//! a password-protected PKCS#12 that browsers import) and a CRL of revoked certificates.
//!
//! Layout of a PKI directory:
//! ```text
//! ca.pem  ca.key.pem            the platform CA (the key never leaves this directory)
//! server.pem  server.key.pem    the HTTPS server certificate
//! crl.pem                       the CA's revocation list, re-read by the server when it changes
//! revoked.json                  the revocations the CRL is made from, and the CRL number
//! issued/<name>.{pem,key.pem,p12}
//! ```

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use rand::Rng;
use rcgen::{
    BasicConstraints, CertificateParams, CertificateRevocationListParams, DistinguishedName,
    DnType, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyIdMethod, KeyPair, KeyUsagePurpose,
    RevocationReason, RevokedCertParams, SanType, SerialNumber,
};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use time::{Duration, OffsetDateTime};

pub use app::backend::identity::{CertKind, GATEWAY_EKU};

#[derive(Debug, thiserror::Error)]
pub enum PkiError {
    #[error("{0} already exists (use --force to replace it)")]
    Exists(PathBuf),
    #[error("{0} does not exist: create the CA first with `vpos pki init`")]
    NoCa(PathBuf),
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("certificate generation failed: {0}")]
    Rcgen(#[from] rcgen::Error),
    #[error("{path} is not a PEM certificate: {reason}")]
    BadCertificate { path: PathBuf, reason: String },
    #[error("PKCS#12 encoding failed: {0}")]
    Pkcs12(String),
    #[error("{0}")]
    Invalid(String),
}

type Result<T> = std::result::Result<T, PkiError>;

fn io_err(path: &Path) -> impl FnOnce(std::io::Error) -> PkiError + '_ {
    move |source| PkiError::Io {
        path: path.to_owned(),
        source,
    }
}

/// A PKI directory.
#[derive(Debug, Clone)]
pub struct Pki {
    root: PathBuf,
}

/// An issued client certificate and where its files are.
#[derive(Debug)]
pub struct IssuedCert {
    pub cert_path: PathBuf,
    pub key_path: PathBuf,
    /// The PKCS#12 file, for an operator's browser (a gateway certificate has none).
    pub p12_path: PathBuf,
    /// The PKCS#12 import password. Shown to the platform operator once; never logged.
    pub p12_password: SecretString,
    pub fingerprint: String,
    pub serial_hex: String,
    pub subject_cn: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct RevocationIndex {
    crl_number: u64,
    revoked: Vec<Revocation>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revocation {
    pub serial_hex: String,
    pub revoked_at: DateTime<Utc>,
    pub reason: String,
}

/// Why a certificate is revoked (RFC 5280 reason codes that make sense for an operator's certificate).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Reason {
    Unspecified,
    KeyCompromise,
    AffiliationChanged,
    Superseded,
    CessationOfOperation,
}

impl Reason {
    fn code(self) -> &'static str {
        match self {
            Reason::Unspecified => "unspecified",
            Reason::KeyCompromise => "key-compromise",
            Reason::AffiliationChanged => "affiliation-changed",
            Reason::Superseded => "superseded",
            Reason::CessationOfOperation => "cessation-of-operation",
        }
    }

    fn from_code(code: &str) -> RevocationReason {
        match code {
            "key-compromise" => RevocationReason::KeyCompromise,
            "affiliation-changed" => RevocationReason::AffiliationChanged,
            "superseded" => RevocationReason::Superseded,
            "cessation-of-operation" => RevocationReason::CessationOfOperation,
            _ => RevocationReason::Unspecified,
        }
    }
}

/// How long a CRL the CLI signs is valid: the server refuses one past its next update, so
/// `vpos pki crl` must run again within this time (`make run` does at every start).
pub const CRL_DAYS: i64 = 30;

impl Pki {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        Self { root: root.into() }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn ca_cert_path(&self) -> PathBuf {
        self.root.join("ca.pem")
    }
    pub fn ca_key_path(&self) -> PathBuf {
        self.root.join("ca.key.pem")
    }
    pub fn server_cert_path(&self) -> PathBuf {
        self.root.join("server.pem")
    }
    pub fn server_key_path(&self) -> PathBuf {
        self.root.join("server.key.pem")
    }
    pub fn crl_path(&self) -> PathBuf {
        self.root.join("crl.pem")
    }
    fn index_path(&self) -> PathBuf {
        self.root.join("revoked.json")
    }
    pub fn issued_dir(&self) -> PathBuf {
        self.root.join("issued")
    }

    pub fn has_ca(&self) -> bool {
        self.ca_cert_path().is_file() && self.ca_key_path().is_file()
    }

    /// Creates the CA and an empty CRL. Refuses to replace an existing CA unless `force`.
    pub fn init(&self, ca_name: &str, days: u32, force: bool) -> Result<()> {
        if self.has_ca() && !force {
            return Err(PkiError::Exists(self.ca_cert_path()));
        }
        fs::create_dir_all(&self.root).map_err(io_err(&self.root))?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(ca_name, Some("VPOS Platform"));
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        params.serial_number = Some(random_serial());
        (params.not_before, params.not_after) = validity(days)?;
        let cert = params.self_signed(&key)?;
        write_file(&self.ca_cert_path(), cert.pem().as_bytes(), false)?;
        write_file(&self.ca_key_path(), key.serialize_pem().as_bytes(), true)?;
        write_file(
            &self.index_path(),
            b"{\"crl_number\":0,\"revoked\":[]}",
            false,
        )?;
        self.write_crl()
    }

    fn issuer(&self) -> Result<Issuer<'static, KeyPair>> {
        if !self.has_ca() {
            return Err(PkiError::NoCa(self.ca_cert_path()));
        }
        let key_pem = read_string(&self.ca_key_path())?;
        let cert_pem = read_string(&self.ca_cert_path())?;
        let key = KeyPair::from_pem(&key_pem)?;
        Ok(Issuer::from_ca_cert_pem(&cert_pem, key)?)
    }

    /// Issues the HTTPS server certificate for the given host names and addresses.
    pub fn issue_server(
        &self,
        dns: &[String],
        ips: &[IpAddr],
        days: u32,
        force: bool,
    ) -> Result<()> {
        if self.server_cert_path().exists() && !force {
            return Err(PkiError::Exists(self.server_cert_path()));
        }
        if dns.is_empty() && ips.is_empty() {
            return Err(PkiError::Invalid(
                "a server certificate needs at least one --dns name or --ip address".into(),
            ));
        }
        let issuer = self.issuer()?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        let cn = dns.first().cloned().unwrap_or_else(|| ips[0].to_string());
        params.distinguished_name = name(&cn, Some("VPOS Platform"));
        params.subject_alt_names = dns
            .iter()
            .map(|d| d.clone().try_into().map(SanType::DnsName))
            .chain(ips.iter().map(|ip| Ok(SanType::IpAddress(*ip))))
            .collect::<std::result::Result<_, _>>()?;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        params.serial_number = Some(random_serial());
        (params.not_before, params.not_after) = validity(days)?;
        let cert = params.signed_by(&key, &issuer)?;
        write_file(&self.server_cert_path(), cert.pem().as_bytes(), false)?;
        write_file(
            &self.server_key_path(),
            key.serialize_pem().as_bytes(),
            true,
        )
    }

    /// Issues an operator's client certificate as PEM and as PKCS#12 protected by `password` (a random
    /// one if `None`), into `issued/<file_stem>.*`.
    pub fn issue_client(
        &self,
        common_name: &str,
        organisation: Option<&str>,
        days: u32,
        password: Option<SecretString>,
        force: bool,
    ) -> Result<IssuedCert> {
        let (not_before, not_after) = validity(days)?;
        self.issue_client_valid_between(
            common_name,
            organisation,
            not_before,
            not_after,
            password,
            force,
        )
    }

    /// Like [`Pki::issue_client`] with an explicit validity period (which may lie in the past).
    pub fn issue_client_valid_between(
        &self,
        common_name: &str,
        organisation: Option<&str>,
        not_before: OffsetDateTime,
        not_after: OffsetDateTime,
        password: Option<SecretString>,
        force: bool,
    ) -> Result<IssuedCert> {
        let validity = (not_before, not_after);
        self.issue(
            CertKind::Operator,
            common_name,
            organisation,
            validity,
            password,
            force,
        )
    }

    /// Issues a gateway certificate: a client certificate that also carries the gateway's extended
    /// key usage ([`GATEWAY_EKU`]), for the acquirer's front end that sends the terminals' messages.
    /// The terminal gateway takes only these; the console refuses them.
    pub fn issue_gateway(&self, common_name: &str, days: u32, force: bool) -> Result<IssuedCert> {
        let validity = validity(days)?;
        self.issue(CertKind::Gateway, common_name, None, validity, None, force)
    }

    fn issue(
        &self,
        kind: CertKind,
        common_name: &str,
        organisation: Option<&str>,
        (not_before, not_after): (OffsetDateTime, OffsetDateTime),
        password: Option<SecretString>,
        force: bool,
    ) -> Result<IssuedCert> {
        if not_after <= not_before {
            return Err(PkiError::Invalid(
                "a certificate must end after it starts".into(),
            ));
        }
        let stem = file_stem(common_name)?;
        let dir = self.issued_dir();
        let cert_path = dir.join(format!("{stem}.pem"));
        let key_path = dir.join(format!("{stem}.key.pem"));
        let p12_path = dir.join(format!("{stem}.p12"));
        if cert_path.exists() && !force {
            return Err(PkiError::Exists(cert_path));
        }
        let password = password.unwrap_or_else(random_password);
        if password.expose_secret().chars().count() < 8 {
            return Err(PkiError::Invalid(
                "the PKCS#12 password must have at least 8 characters".into(),
            ));
        }
        let issuer = self.issuer()?;
        let key = KeyPair::generate()?;
        let mut params = CertificateParams::default();
        params.distinguished_name = name(common_name, organisation);
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        if kind == CertKind::Gateway {
            params
                .extended_key_usages
                .push(ExtendedKeyUsagePurpose::Other(GATEWAY_EKU.to_vec()));
        }
        params.use_authority_key_identifier_extension = true;
        let serial = random_serial();
        params.serial_number = Some(serial.clone());
        params.not_before = not_before;
        params.not_after = not_after;
        let cert = params.signed_by(&key, &issuer)?;

        fs::create_dir_all(&dir).map_err(io_err(&dir))?;
        write_file(&cert_path, cert.pem().as_bytes(), false)?;
        write_file(&key_path, key.serialize_pem().as_bytes(), true)?;
        // A browser imports the PKCS#12 file; the gateway's client (a server of the acquirer) reads
        // the PEM files, and a PKCS#12 file with a password nobody was told would only lie about.
        if kind == CertKind::Operator {
            let ca_der = pem_to_der(&read_string(&self.ca_cert_path())?, &self.ca_cert_path())?;
            let p12 = pkcs12(
                common_name,
                cert.der(),
                &ca_der,
                &key.serialize_der(),
                &password,
            )?;
            write_file(&p12_path, &p12, true)?;
        }

        Ok(IssuedCert {
            cert_path,
            key_path,
            p12_path,
            p12_password: password,
            fingerprint: fingerprint(cert.der()),
            serial_hex: hex::encode(serial.to_bytes()),
            subject_cn: common_name.to_owned(),
            not_before: to_chrono(not_before),
            not_after: to_chrono(not_after),
        })
    }

    /// Revokes a certificate by serial number and rewrites the CRL. Revoking twice is harmless.
    pub fn revoke(&self, serial_hex: &str, reason: Reason) -> Result<bool> {
        let serial_hex = normalise_serial(serial_hex)?;
        let mut index = self.read_index()?;
        if index.revoked.iter().any(|r| r.serial_hex == serial_hex) {
            return Ok(false);
        }
        index.revoked.push(Revocation {
            serial_hex,
            revoked_at: Utc::now(),
            reason: reason.code().into(),
        });
        self.write_index(&index)?;
        self.write_crl()?;
        Ok(true)
    }

    pub fn revocations(&self) -> Result<Vec<Revocation>> {
        Ok(self.read_index()?.revoked)
    }

    /// Signs a fresh CRL (new number, valid for [`CRL_DAYS`]) from the revocation index.
    pub fn write_crl(&self) -> Result<()> {
        let now = OffsetDateTime::now_utc();
        self.write_crl_between(now, now + Duration::days(CRL_DAYS))
    }

    /// Signs a fresh CRL valid from `this_update` to `next_update` (tests make an expired one).
    pub fn write_crl_between(
        &self,
        this_update: OffsetDateTime,
        next_update: OffsetDateTime,
    ) -> Result<()> {
        let issuer = self.issuer()?;
        let mut index = self.read_index()?;
        index.crl_number += 1;
        let now = this_update;
        let revoked_certs = index
            .revoked
            .iter()
            .map(|r| {
                let bytes =
                    hex::decode(&r.serial_hex).map_err(|e| PkiError::Invalid(e.to_string()))?;
                Ok(RevokedCertParams {
                    serial_number: SerialNumber::from_slice(&bytes),
                    revocation_time: OffsetDateTime::from_unix_timestamp(r.revoked_at.timestamp())
                        .unwrap_or(now),
                    reason_code: Some(Reason::from_code(&r.reason)),
                    invalidity_date: None,
                })
            })
            .collect::<Result<Vec<_>>>()?;
        let params = CertificateRevocationListParams {
            this_update,
            next_update,
            crl_number: SerialNumber::from_slice(&index.crl_number.to_be_bytes()),
            issuing_distribution_point: None,
            revoked_certs,
            key_identifier_method: KeyIdMethod::Sha256,
        };
        let crl = params.signed_by(&issuer)?;
        self.write_index(&index)?;
        // Write then rename, so the server never reads a half-written CRL.
        let tmp = self.root.join("crl.pem.tmp");
        write_file(&tmp, crl.pem()?.as_bytes(), false)?;
        fs::rename(&tmp, self.crl_path()).map_err(io_err(&self.crl_path()))
    }

    fn read_index(&self) -> Result<RevocationIndex> {
        let path = self.index_path();
        if !path.exists() {
            return Ok(RevocationIndex::default());
        }
        serde_json::from_str(&read_string(&path)?)
            .map_err(|e| PkiError::Invalid(format!("{}: {e}", path.display())))
    }

    fn write_index(&self, index: &RevocationIndex) -> Result<()> {
        let json =
            serde_json::to_vec_pretty(index).map_err(|e| PkiError::Invalid(e.to_string()))?;
        write_file(&self.index_path(), &json, false)
    }
}

/// Facts about a PEM certificate file: what `revoke --cert` and `operator bind-cert` need.
#[derive(Debug, Clone)]
pub struct CertFacts {
    pub fingerprint: String,
    pub serial_hex: String,
    pub subject_cn: String,
    pub not_before: DateTime<Utc>,
    pub not_after: DateTime<Utc>,
    pub kind: CertKind,
}

/// What the platform records of a certificate it binds or revokes.
impl From<CertFacts> for app::backend::services::platform::CertificateRecord {
    fn from(facts: CertFacts) -> Self {
        Self {
            fingerprint: facts.fingerprint,
            serial_hex: facts.serial_hex,
            subject_cn: facts.subject_cn,
            not_before: facts.not_before,
            not_after: facts.not_after,
        }
    }
}

pub fn read_cert_facts(path: &Path) -> Result<CertFacts> {
    let der = pem_to_der(&read_string(path)?, path)?;
    cert_facts(&der).map_err(|reason| PkiError::BadCertificate {
        path: path.to_owned(),
        reason,
    })
}

/// Fingerprint, serial, subject CN and validity of a DER certificate.
pub fn cert_facts(der: &[u8]) -> std::result::Result<CertFacts, String> {
    let (_, cert) = x509_parser::parse_x509_certificate(der).map_err(|e| e.to_string())?;
    let subject_cn = cert
        .subject()
        .iter_common_name()
        .next()
        .and_then(|cn| cn.as_str().ok())
        .unwrap_or_default()
        .to_owned();
    let to_utc = |t: x509_parser::time::ASN1Time| {
        DateTime::from_timestamp(t.timestamp(), 0).unwrap_or_default()
    };
    let gateway_eku = x509_parser::der_parser::oid::Oid::from(GATEWAY_EKU)
        .map_err(|_| "the gateway's key usage is not an object identifier".to_owned())?;
    let is_gateway = cert
        .extended_key_usage()
        .map_err(|e| e.to_string())?
        .is_some_and(|eku| eku.value.client_auth && eku.value.other.contains(&gateway_eku));
    Ok(CertFacts {
        kind: if is_gateway {
            CertKind::Gateway
        } else {
            CertKind::Operator
        },
        fingerprint: fingerprint(der),
        serial_hex: hex::encode(cert.raw_serial()),
        subject_cn,
        not_before: to_utc(cert.validity().not_before),
        not_after: to_utc(cert.validity().not_after),
    })
}

/// A serial number as typed (any case, colons allowed) in the form certificates are known by:
/// lower-case hex without separators.
pub fn normalise_serial(typed: &str) -> Result<String> {
    let serial_hex = typed.trim().to_ascii_lowercase().replace(':', "");
    if serial_hex.is_empty() || hex::decode(&serial_hex).is_err() {
        return Err(PkiError::Invalid(format!(
            "{serial_hex:?} is not a hexadecimal serial number"
        )));
    }
    Ok(serial_hex)
}

/// SHA-256 of a DER certificate, lower-case hex.
pub fn fingerprint(der: &[u8]) -> String {
    hex::encode(Sha256::digest(der))
}

fn pem_to_der(pem: &str, path: &Path) -> Result<Vec<u8>> {
    use rustls_pki_types::pem::PemObject;
    rustls_pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .map(|c| c.to_vec())
        .map_err(|e| PkiError::BadCertificate {
            path: path.to_owned(),
            reason: e.to_string(),
        })
}

fn pkcs12(
    alias: &str,
    cert_der: &[u8],
    ca_der: &[u8],
    key_der: &[u8],
    password: &SecretString,
) -> Result<Vec<u8>> {
    use p12_keystore::{Certificate, KeyStore, KeyStoreEntry, PrivateKey, PrivateKeyChain};
    let p12 = |e: p12_keystore::error::Error| PkiError::Pkcs12(e.to_string());
    let chain = PrivateKeyChain::new(
        Sha256::digest(cert_der).to_vec(),
        PrivateKey::from_der(key_der).map_err(p12)?,
        [
            Certificate::from_der(cert_der).map_err(p12)?,
            Certificate::from_der(ca_der).map_err(p12)?,
        ],
    );
    let mut store = KeyStore::new();
    store.add_entry(alias, KeyStoreEntry::PrivateKeyChain(chain));
    store.writer(password.expose_secret()).write().map_err(p12)
}

fn name(common_name: &str, organisation: Option<&str>) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, common_name);
    if let Some(org) = organisation {
        dn.push(DnType::OrganizationName, org);
    }
    dn
}

/// A random positive 16-byte serial whose first byte is never zero, so its DER and hex forms agree.
fn random_serial() -> SerialNumber {
    let mut bytes = [0u8; 16];
    rand::rng().fill(&mut bytes[..]);
    bytes[0] = (bytes[0] & 0x7f).max(1);
    SerialNumber::from_slice(&bytes)
}

fn random_password() -> SecretString {
    const CHARS: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnpqrstuvwxyz23456789";
    let mut rng = rand::rng();
    SecretString::from(
        (0..20)
            .map(|_| char::from(CHARS[rng.random_range(0..CHARS.len())]))
            .collect::<String>(),
    )
}

/// Starts an hour ago (clock skew between machines) and lasts `days`.
fn validity(days: u32) -> Result<(OffsetDateTime, OffsetDateTime)> {
    if !(1..=3650 * 3).contains(&days) {
        return Err(PkiError::Invalid(format!(
            "--days must be between 1 and 10950, not {days}"
        )));
    }
    let now = OffsetDateTime::now_utc();
    Ok((
        now - Duration::hours(1),
        now + Duration::days(i64::from(days)),
    ))
}

fn to_chrono(t: OffsetDateTime) -> DateTime<Utc> {
    DateTime::from_timestamp(t.unix_timestamp(), 0).unwrap_or_default()
}

/// Certificate file names come from the common name: letters, digits, `.`, `-`, `_` only.
fn file_stem(common_name: &str) -> Result<String> {
    let ok = !common_name.is_empty()
        && common_name.len() <= 64
        && !common_name.starts_with('.')
        && common_name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b'_'));
    if ok {
        Ok(common_name.to_owned())
    } else {
        Err(PkiError::Invalid(format!(
            "the certificate name {common_name:?} must be 1 to 64 letters, digits, dots, dashes or underscores"
        )))
    }
}

fn read_string(path: &Path) -> Result<String> {
    fs::read_to_string(path).map_err(io_err(path))
}

fn write_file(path: &Path, contents: &[u8], private: bool) -> Result<()> {
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(if private { 0o600 } else { 0o644 });
    }
    let mut file = options.open(path).map_err(io_err(path))?;
    // The mode given above applies only when the file is created: one overwritten (`--force`) keeps
    // whatever mode it had, which may let others read a private key.
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = if private { 0o600 } else { 0o644 };
        file.set_permissions(fs::Permissions::from_mode(mode))
            .map_err(io_err(path))?;
    }
    file.write_all(contents).map_err(io_err(path))
}

#[cfg(all(test, unix))]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    #[test]
    fn an_overwritten_private_file_is_readable_by_its_owner_only() {
        let dir = std::env::temp_dir().join(format!("vpos-pki-mode-{}", std::process::id()));
        fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("key.pem");
        fs::write(&path, b"old").expect("write");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).expect("chmod");
        write_file(&path, b"new key", true).expect("overwrite");
        let mode = fs::metadata(&path).expect("meta").permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        assert_eq!(fs::read(&path).expect("read"), b"new key");
        fs::remove_dir_all(&dir).ok();
    }
}
