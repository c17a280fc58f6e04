//! Mutual TLS: the server demands a client certificate issued by the platform CA and not revoked.
//!
//! * The verifier checks the chain against the CA and the CRL at every handshake.
//! * TLS session resumption is off (no session cache, no tickets), so an identity can never be
//!   carried by a resumed session past a revocation.
//! * The CRL is re-read when its file changes: new handshakes use a new verifier, and requests on
//!   connections opened before the revocation are refused by a per-request check of the serial.
//! * Revocations are also kept in the database, which every instance reads every few seconds
//!   ([`TlsState::set_revoked_in_database`]): a revocation made on one machine holds on all of them
//!   even before their CRL files are updated.
//! * A CRL file that holds no CRL, or one past its next update, is refused: revocation checking never
//!   turns itself off. Serving without any CRL must be asked for (`tls.allow_no_crl`).
//! * Each request checks that the certificate is still within its validity: a connection opened the
//!   minute before it expired does not serve on past it.

use std::collections::HashSet;
use std::fs;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use arc_swap::ArcSwap;
use rustls::server::{NoServerSessionStorage, WebPkiClientVerifier};
use rustls::{RootCertStore, ServerConfig};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, CertificateRevocationListDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

use app::backend::ClientIdentity;

use crate::pki::cert_facts;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read {path}: {reason}")]
    Read { path: PathBuf, reason: String },
    #[error("{path} holds no certificate")]
    Empty { path: PathBuf },
    #[error("TLS configuration: {0}")]
    Config(String),
    #[error("{path} holds no certificate revocation list")]
    NoCrl { path: PathBuf },
    #[error("the CRL {path} expired on {next_update}: re-sign it with `vpos pki crl`")]
    CrlExpired { path: PathBuf, next_update: String },
}

/// Why a request on a verified connection is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    Revoked,
    Expired,
}

/// The files the TLS configuration is built from.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub ca_cert: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
    pub crl: Option<PathBuf>,
}

/// The live TLS configuration: swapped as a whole when the CRL changes.
pub struct TlsState {
    files: TlsFiles,
    acceptor: ArcSwap<TlsAcceptor>,
    revoked: ArcSwap<HashSet<String>>,
    /// Fingerprints of the certificates revoked in the database.
    revoked_in_database: ArcSwap<HashSet<String>>,
    crl_stamp: std::sync::Mutex<Option<(SystemTime, u64)>>,
}

impl TlsState {
    pub fn load(files: TlsFiles) -> Result<Arc<Self>, TlsError> {
        let (config, revoked) = build_config(&files)?;
        let stamp = files.crl.as_deref().and_then(file_stamp);
        Ok(Arc::new(Self {
            files,
            acceptor: ArcSwap::from_pointee(TlsAcceptor::from(Arc::new(config))),
            revoked: ArcSwap::from_pointee(revoked),
            revoked_in_database: ArcSwap::from_pointee(HashSet::new()),
            crl_stamp: std::sync::Mutex::new(stamp),
        }))
    }

    pub fn acceptor(&self) -> Arc<TlsAcceptor> {
        self.acceptor.load_full()
    }

    /// Whether a serial number (lower-case hex) is on the current CRL.
    pub fn is_revoked(&self, serial_hex: &str) -> bool {
        self.revoked.load().contains(serial_hex)
    }

    /// Whether a request of `identity` must be refused at `now`: its certificate is on the CRL,
    /// revoked in the database, or no longer (or not yet) valid.
    pub fn refusal(
        &self,
        identity: &ClientIdentity,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Option<Refusal> {
        if self.is_revoked(&identity.serial_hex)
            || self
                .revoked_in_database
                .load()
                .contains(&identity.fingerprint)
        {
            return Some(Refusal::Revoked);
        }
        (now >= identity.not_after || now < identity.not_before).then_some(Refusal::Expired)
    }

    /// The fingerprints revoked in the database, as last read.
    pub fn set_revoked_in_database(&self, fingerprints: HashSet<String>) {
        let old = self.revoked_in_database.load();
        if **old != fingerprints {
            tracing::info!(
                revoked = fingerprints.len(),
                "certificates revoked in the database reloaded"
            );
            self.revoked_in_database.store(Arc::new(fingerprints));
        }
    }

    /// Rebuilds the configuration from the files now. On error the previous configuration stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let (config, revoked) = build_config(&self.files)?;
        let count = revoked.len();
        self.acceptor
            .store(Arc::new(TlsAcceptor::from(Arc::new(config))));
        self.revoked.store(Arc::new(revoked));
        tracing::info!(revoked = count, "TLS configuration reloaded");
        Ok(())
    }

    /// Reloads if the CRL file changed since the last look. Returns whether it reloaded.
    pub fn reload_if_crl_changed(&self) -> bool {
        let Some(crl) = self.files.crl.as_deref() else {
            return false;
        };
        let stamp = file_stamp(crl);
        let mut last = self.crl_stamp.lock().unwrap_or_else(|p| p.into_inner());
        if stamp == *last {
            return false;
        }
        match self.reload() {
            Ok(()) => {
                *last = stamp;
                true
            }
            Err(error) => {
                tracing::error!(%error, "the CRL changed but could not be loaded; the previous one stays in force");
                false
            }
        }
    }

    /// Watches the CRL file, every `every`, for as long as the runtime runs.
    pub fn spawn_crl_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = Arc::clone(self);
        repeat(every, move || {
            state.reload_if_crl_changed();
            std::future::ready(())
        })
    }

    /// Reads the certificates revoked in the database every `every`, for as long as the runtime
    /// runs. A failed read keeps the last list (and is logged): revocations never lapse for a
    /// database hiccup.
    pub fn spawn_revocation_watcher(
        self: &Arc<Self>,
        db: sea_orm::DatabaseConnection,
        every: Duration,
    ) -> tokio::task::JoinHandle<()> {
        let state = Arc::clone(self);
        repeat(every, move || {
            let (state, db) = (Arc::clone(&state), db.clone());
            async move {
                state.read_revocations(&db).await;
            }
        })
    }

    /// Reads the certificates revoked in the database once; returns whether the read succeeded.
    pub async fn read_revocations(&self, db: &sea_orm::DatabaseConnection) -> bool {
        match app::backend::services::platform::revoked_fingerprints(db).await {
            Ok(fingerprints) => {
                self.set_revoked_in_database(fingerprints);
                true
            }
            Err(error) => {
                tracing::error!(%error, "reading the revoked certificates failed; the last list stays in force");
                false
            }
        }
    }
}

/// Runs `task` at once and then every `every`; a late run delays the next rather than bunching.
fn repeat<F, Fut>(every: Duration, mut task: F) -> tokio::task::JoinHandle<()>
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send,
{
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            task().await;
        }
    })
}

fn file_stamp(path: &Path) -> Option<(SystemTime, u64)> {
    let meta = fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len()))
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    fs::read(path).map_err(|e| TlsError::Read {
        path: path.to_owned(),
        reason: e.to_string(),
    })
}

fn build_config(files: &TlsFiles) -> Result<(ServerConfig, HashSet<String>), TlsError> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let bad = |path: &Path| {
        let path = path.to_owned();
        move |e: rustls_pki_types::pem::Error| TlsError::Read {
            path,
            reason: e.to_string(),
        }
    };

    let mut roots = RootCertStore::empty();
    let ca_pem = read(&files.ca_cert)?;
    for cert in CertificateDer::pem_slice_iter(&ca_pem) {
        roots
            .add(cert.map_err(bad(&files.ca_cert))?)
            .map_err(|e| TlsError::Config(format!("CA certificate: {e}")))?;
    }
    if roots.is_empty() {
        return Err(TlsError::Empty {
            path: files.ca_cert.clone(),
        });
    }

    let mut crls = Vec::new();
    let mut revoked = HashSet::new();
    if let Some(path) = &files.crl {
        let pem = read(path)?;
        for crl in CertificateRevocationListDer::pem_slice_iter(&pem) {
            let crl = crl.map_err(bad(path))?;
            let (_, parsed) = x509_parser::parse_x509_crl(&crl).map_err(|e| TlsError::Read {
                path: path.clone(),
                reason: e.to_string(),
            })?;
            if let Some(next) = parsed.next_update() {
                if next.timestamp() <= chrono::Utc::now().timestamp() {
                    return Err(TlsError::CrlExpired {
                        path: path.clone(),
                        next_update: next.to_string(),
                    });
                }
            }
            revoked.extend(
                parsed
                    .iter_revoked_certificates()
                    .map(|r| hex::encode(r.raw_serial())),
            );
            crls.push(crl);
        }
        if crls.is_empty() {
            return Err(TlsError::NoCrl { path: path.clone() });
        }
    }

    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        .only_check_end_entity_revocation()
        // A CRL past its next update refuses every handshake rather than check against old news.
        .enforce_revocation_expiration()
        .build()
        .map_err(|e| TlsError::Config(format!("client verifier: {e}")))?;

    let chain_pem = read(&files.server_cert)?;
    let chain = CertificateDer::pem_slice_iter(&chain_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(bad(&files.server_cert))?;
    if chain.is_empty() {
        return Err(TlsError::Empty {
            path: files.server_cert.clone(),
        });
    }
    let key =
        PrivateKeyDer::from_pem_slice(&read(&files.server_key)?).map_err(bad(&files.server_key))?;

    let mut config = ServerConfig::builder_with_provider(provider)
        .with_protocol_versions(&[&rustls::version::TLS13, &rustls::version::TLS12])
        .map_err(|e| TlsError::Config(e.to_string()))?
        .with_client_cert_verifier(verifier)
        .with_single_cert(chain, key)
        .map_err(|e| TlsError::Config(format!("server certificate or key: {e}")))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    // No resumption: every connection proves its certificate afresh.
    config.session_storage = Arc::new(NoServerSessionStorage {});
    config.send_tls13_tickets = 0;
    Ok((config, revoked))
}

/// The identity of a verified connection: its end-entity certificate.
pub fn identity_of(
    conn: &rustls::ServerConnection,
    remote_addr: SocketAddr,
) -> Option<ClientIdentity> {
    let der = conn.peer_certificates()?.first()?;
    let facts = cert_facts(der).ok()?;
    Some(ClientIdentity {
        fingerprint: facts.fingerprint,
        subject_cn: facts.subject_cn,
        serial_hex: facts.serial_hex,
        not_before: facts.not_before,
        not_after: facts.not_after,
        remote_addr,
        kind: facts.kind,
    })
}
