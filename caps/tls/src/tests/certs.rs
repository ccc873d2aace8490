//! Test certificates, generated once per test process with rcgen (ECDSA
//! P-256): a CA, leaves signed by it, a self-signed leaf, a leaf of a CA
//! nobody trusts.

use std::sync::OnceLock;

use rcgen::{
    date_time_ymd, BasicConstraints, CertificateParams, DnType, IsCa, Issuer, KeyPair,
    KeyUsagePurpose,
};

/// A certificate chain (leaf first) and its PKCS#8 private key.
#[derive(Clone)]
pub struct Identity {
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
}

pub struct Pki {
    pub ca: Vec<u8>,
    /// For "localhost" and 127.0.0.1, signed by `ca`.
    pub server: Identity,
    /// Like `server`, but expired in 2020.
    pub expired: Identity,
    /// A client certificate signed by `ca`.
    pub client: Identity,
    /// A self-signed "localhost" leaf.
    pub self_signed: Identity,
    /// Self-signed with CA:TRUE, as `openssl req -x509` makes them.
    pub self_signed_ca: Identity,
    /// "localhost" signed by a CA that is not `ca`.
    pub untrusted: Identity,
}

fn ca(cn: &str) -> (Vec<u8>, Issuer<'static, KeyPair>) {
    let mut params = CertificateParams::new(Vec::<String>::new()).expect("CA params");
    params.distinguished_name.push(DnType::CommonName, cn);
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let key = KeyPair::generate().expect("CA key");
    let cert = params.self_signed(&key).expect("CA cert");
    (cert.der().to_vec(), Issuer::new(params, key))
}

pub fn leaf_params(names: &[&str]) -> CertificateParams {
    let names: Vec<String> = names.iter().map(|s| s.to_string()).collect();
    let mut params = CertificateParams::new(names).expect("leaf params");
    params
        .distinguished_name
        .push(DnType::CommonName, "localhost");
    params
}

fn signed(params: CertificateParams, ca_der: &[u8], issuer: &Issuer<'_, KeyPair>) -> Identity {
    let key = KeyPair::generate().expect("leaf key");
    let cert = params.signed_by(&key, issuer).expect("leaf cert");
    Identity {
        chain: vec![cert.der().to_vec(), ca_der.to_vec()],
        key: key.serialize_der(),
    }
}

fn build() -> Pki {
    let (ca_der, issuer) = ca("Pylon Test CA");
    let server = signed(leaf_params(&["localhost", "127.0.0.1"]), &ca_der, &issuer);
    let mut old = leaf_params(&["localhost"]);
    old.not_before = date_time_ymd(2019, 1, 1);
    old.not_after = date_time_ymd(2020, 1, 1);
    let expired = signed(old, &ca_der, &issuer);
    let mut client_params = leaf_params(&["client.example"]);
    client_params.distinguished_name = rcgen::DistinguishedName::new();
    client_params
        .distinguished_name
        .push(DnType::CommonName, "Pylon Test Client");
    let client = signed(client_params, &ca_der, &issuer);
    let ss_key = KeyPair::generate().expect("self-signed key");
    let ss = leaf_params(&["localhost"])
        .self_signed(&ss_key)
        .expect("self-signed cert");
    let self_signed = Identity {
        chain: vec![ss.der().to_vec()],
        key: ss_key.serialize_der(),
    };
    let ss_ca_key = KeyPair::generate().expect("self-signed CA key");
    let mut ss_ca_params = leaf_params(&["localhost"]);
    ss_ca_params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
    let ss_ca = ss_ca_params
        .self_signed(&ss_ca_key)
        .expect("self-signed CA cert");
    let self_signed_ca = Identity {
        chain: vec![ss_ca.der().to_vec()],
        key: ss_ca_key.serialize_der(),
    };
    let (other_der, other) = ca("Someone Else's CA");
    let untrusted = signed(leaf_params(&["localhost"]), &other_der, &other);
    Pki {
        ca: ca_der,
        server,
        expired,
        client,
        self_signed,
        self_signed_ca,
        untrusted,
    }
}

pub fn pki() -> &'static Pki {
    static PKI: OnceLock<Pki> = OnceLock::new();
    PKI.get_or_init(build)
}
