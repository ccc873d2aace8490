//! decode-certificate, check-key-pair, the library facts.

use rcgen::{date_time_ymd, CrlDistributionPoint, CustomExtension, DnType, KeyPair, SanType};

use super::certs::{leaf_params, pki};
use crate::{cert, config, ErrorKind, NameAttribute};

fn attr(name: &str, value: &str) -> Vec<NameAttribute> {
    vec![NameAttribute {
        name: name.to_string(),
        value: value.to_string(),
    }]
}

/// DER of an AuthorityInfoAccess extension value with one OCSP and one
/// caIssuers URI.
fn aia(ocsp: &str, issuers: &str) -> Vec<u8> {
    fn desc(last: u8, uri: &str) -> Vec<u8> {
        let mut d = vec![0x06, 0x08, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x07, 0x30, last];
        d.push(0x86);
        d.push(uri.len() as u8);
        d.extend(uri.as_bytes());
        let mut s = vec![0x30, d.len() as u8];
        s.extend(d);
        s
    }
    let mut body = desc(1, ocsp);
    body.extend(desc(2, issuers));
    let mut out = vec![0x30, body.len() as u8];
    out.extend(body);
    out
}

#[test]
fn decode_an_rcgen_certificate() {
    let mut p = leaf_params(&["localhost"]);
    p.distinguished_name.push(DnType::OrganizationName, "Pylon");
    p.distinguished_name.push(DnType::CountryName, "DE");
    p.subject_alt_names
        .push(SanType::IpAddress("127.0.0.1".parse().unwrap()));
    p.subject_alt_names
        .push(SanType::IpAddress("2001:db8::1".parse().unwrap()));
    p.subject_alt_names
        .push(SanType::Rfc822Name("a@example.com".try_into().unwrap()));
    p.subject_alt_names
        .push(SanType::URI("https://example.com/".try_into().unwrap()));
    p.serial_number = Some(10u64.into());
    p.not_before = date_time_ymd(2018, 1, 5);
    p.not_after = date_time_ymd(2038, 12, 31);
    p.crl_distribution_points = vec![CrlDistributionPoint {
        uris: vec!["http://crl.example/ca.crl".to_string()],
    }];
    p.custom_extensions = vec![CustomExtension::from_oid_content(
        &[1, 3, 6, 1, 5, 5, 7, 1, 1],
        aia("http://ocsp.example", "http://ca.example/ca.der"),
    )];
    let key = KeyPair::generate().unwrap();
    let der = p.self_signed(&key).unwrap().der().to_vec();
    let info = cert::decode(&der).unwrap();
    let subject: Vec<_> = info.subject.iter().map(|r| r[0].name.as_str()).collect();
    assert_eq!(subject, ["commonName", "organizationName", "countryName"]);
    assert_eq!(info.subject[0], attr("commonName", "localhost"));
    assert_eq!(info.issuer, info.subject);
    assert_eq!(info.version, 3);
    assert_eq!(info.serial_number, "0A");
    assert_eq!(info.not_before, "Jan  5 00:00:00 2018 GMT");
    assert_eq!(info.not_after, "Dec 31 00:00:00 2038 GMT");
    let sans: Vec<(&str, &str)> = info
        .subject_alt_names
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_str()))
        .collect();
    assert_eq!(
        sans,
        [
            ("DNS", "localhost"),
            ("IP Address", "127.0.0.1"),
            ("IP Address", "2001:DB8:0:0:0:0:0:1"),
            ("email", "a@example.com"),
            ("URI", "https://example.com/"),
        ]
    );
    assert_eq!(info.crl_distribution_points, ["http://crl.example/ca.crl"]);
    assert_eq!(info.ocsp, ["http://ocsp.example"]);
    assert_eq!(info.ca_issuers, ["http://ca.example/ca.der"]);

    let e = cert::decode(b"\x30\x03junk").unwrap_err();
    assert_eq!(e.kind, ErrorKind::BadData);
}

#[test]
fn serials_and_times() {
    assert_eq!(cert::serial_hex(&[0x00, 0x80]), "80");
    assert_eq!(cert::serial_hex(&[0x00]), "00");
    assert_eq!(cert::serial_hex(&[0x01, 0x02, 0x03]), "010203");
    assert_eq!(cert::serial_hex(&[0xff]), "-01");
    assert_eq!(cert::openssl_time(0), "Jan  1 00:00:00 1970 GMT");
    assert_eq!(
        cert::openssl_time(1_515_144_883),
        "Jan  5 09:34:43 2018 GMT"
    );
    assert_eq!(cert::openssl_time(951_782_400), "Feb 29 00:00:00 2000 GMT");
}

#[test]
fn check_key_pair() {
    let p = pki();
    config::check_key_pair(&p.server.chain[0], &p.server.key).unwrap();
    let e = config::check_key_pair(&p.server.chain[0], &p.client.key).unwrap_err();
    assert_eq!(
        (e.kind, e.reason.as_str()),
        (ErrorKind::BadData, "KEY_VALUES_MISMATCH")
    );
    let e = config::check_key_pair(&p.server.chain[0], b"nope").unwrap_err();
    assert_eq!(e.reason, "PEM_LIB");
    let e = config::check_key_pair(b"nope", &p.server.key).unwrap_err();
    assert_eq!(e.reason, "PEM_LIB");
}

#[test]
fn library_versions_match_cargo_lock() {
    let lock = include_str!("../../Cargo.lock");
    let version_of = |name: &str| {
        let at = lock
            .find(&format!("name = \"{name}\"\nversion = \""))
            .unwrap_or_else(|| panic!("{name} in Cargo.lock"));
        let rest = &lock[at..];
        let start = rest.find("version = \"").unwrap() + 11;
        rest[start..].split('"').next().unwrap().to_string()
    };
    assert_eq!(version_of("rustls"), crate::RUSTLS_VERSION);
    assert_eq!(version_of("ring"), crate::RING_VERSION);
    assert_eq!(version_of("webpki-roots"), crate::WEBPKI_ROOTS_VERSION);
    assert_eq!(
        crate::library_version(),
        format!(
            "rustls {} (ring {}, webpki-roots {})",
            crate::RUSTLS_VERSION,
            crate::RING_VERSION,
            crate::WEBPKI_ROOTS_VERSION
        )
    );
    assert!(webpki_roots::TLS_SERVER_ROOTS.len() > 100);
}
