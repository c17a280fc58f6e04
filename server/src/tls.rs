//! Mutual TLS: the server demands a client certificate issued by the platform CA and not revoked.
//!
//! * The verifier checks the chain against the CA and the CRL at every handshake.
//! * TLS session resumption is off (no session cache, no tickets), so an identity can never be
//!   carried by a resumed session past a revocation.
//! * The CRL is re-read when its file changes: new handshakes use a new verifier, and requests on
//!   connections opened before the revocation are refused by a per-request check of the serial.

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

    /// Watches the CRL file until the task is dropped.
    pub fn spawn_crl_watcher(self: &Arc<Self>, every: Duration) -> tokio::task::JoinHandle<()> {
        let state = Arc::clone(self);
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(every);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tick.tick().await;
                state.reload_if_crl_changed();
            }
        })
    }
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
            revoked.extend(
                parsed
                    .iter_revoked_certificates()
                    .map(|r| hex::encode(r.raw_serial())),
            );
            crls.push(crl);
        }
    }

    let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider.clone())
        .with_crls(crls)
        .only_check_end_entity_revocation()
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
    })
}
