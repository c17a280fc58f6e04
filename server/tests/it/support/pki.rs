//! A throw-away PKI in a temporary directory.

use secrecy::SecretString;
use server::pki::{IssuedCert, Pki};

pub struct TestPki {
    pub pki: Pki,
    pub dir: tempfile::TempDir,
}

pub const P12_PASSWORD: &str = "test-p12-password";

impl TestPki {
    /// A CA, its empty CRL and a server certificate for localhost / 127.0.0.1.
    pub fn new() -> TestPki {
        Self::with_ca_name("Test CA")
    }

    pub fn with_ca_name(ca_name: &str) -> TestPki {
        let dir = tempfile::tempdir().expect("temp dir");
        let pki = Pki::new(dir.path().join("pki"));
        pki.init(ca_name, 30, false).expect("init CA");
        pki.issue_server(
            &["localhost".into()],
            &["127.0.0.1".parse().expect("ip")],
            30,
            false,
        )
        .expect("server certificate");
        TestPki { pki, dir }
    }

    pub fn client(&self, name: &str) -> IssuedCert {
        self.pki
            .issue_client(
                name,
                Some("Test"),
                30,
                Some(SecretString::from(P12_PASSWORD.to_owned())),
                false,
            )
            .expect("client certificate")
    }

    /// A gateway certificate (`vpos pki gateway`).
    pub fn gateway(&self, name: &str) -> IssuedCert {
        self.pki
            .issue_gateway(name, 30, false)
            .expect("gateway certificate")
    }
}
