//! TLS of the HTTP clients: rustls with the ring provider and the platform's CA roots, checked
//! exactly as reqwest's default (rustls-platform-verifier) does. The roots are read on the first
//! TLS handshake, not when a client is built: reading and parsing the system's certificates costs
//! milliseconds at every start that a request to a local `http://` server never needs.

use std::sync::{Arc, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::CryptoProvider;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use rustls_platform_verifier::Verifier;

use crate::error::{Error, Result};

/// The platform verifier, built on first use and shared by every client of the process.
#[derive(Debug)]
struct LazyPlatformVerifier {
    provider: Arc<CryptoProvider>,
}

fn platform(
    provider: &Arc<CryptoProvider>,
) -> std::result::Result<&'static Verifier, rustls::Error> {
    static VERIFIER: OnceLock<std::result::Result<Verifier, rustls::Error>> = OnceLock::new();
    VERIFIER
        .get_or_init(|| Verifier::new(provider.clone()))
        .as_ref()
        .map_err(Clone::clone)
}

impl ServerCertVerifier for LazyPlatformVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> std::result::Result<ServerCertVerified, rustls::Error> {
        platform(&self.provider)?.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        )
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        platform(&self.provider)?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> std::result::Result<HandshakeSignatureValid, rustls::Error> {
        platform(&self.provider)?.verify_tls13_signature(message, cert, dss)
    }

    /// The same list the platform verifier gives (its provider's), without loading the roots.
    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// The rustls configuration every client uses: TLS 1.2 and 1.3, the platform's roots (lazily),
/// HTTP/2 or HTTP/1.1 by ALPN, as reqwest configures itself by default.
pub(crate) fn client_config() -> Result<rustls::ClientConfig> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| Error::Network {
            message: format!("TLS: {e}"),
        })?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(LazyPlatformVerifier { provider }))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}
