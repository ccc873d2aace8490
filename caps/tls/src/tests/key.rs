//! Encrypted private keys made by OpenSSL 3.0 (`keys/`, from one P-256 key:
//! `openssl pkcs8 -topk8 -v2 … -passout pass:pylon-key-pass` and
//! `openssl ec -aes128|-des3`), decrypted by the cap and compared with the
//! plain key OpenSSL wrote (`plain-pkcs8.der`, `plain-sec1.der`).

use crate::key::decrypt;
use crate::ErrorKind;

const PASSWORD: &[u8] = b"pylon-key-pass";
const PLAIN_PKCS8: &[u8] = include_bytes!("keys/plain-pkcs8.der");
const PLAIN_SEC1: &[u8] = include_bytes!("keys/plain-sec1.der");
const LEGACY_AES128: &[u8] = include_bytes!("keys/legacy-aes128.der");
const LEGACY_AES128_DEK: &str = "AES-128-CBC,D09BFFBE86E7133BEA733DF7A7371BCC";
const LEGACY_DES3: &[u8] = include_bytes!("keys/legacy-des3.der");
const LEGACY_DES3_DEK: &str = "DES-EDE3-CBC,CB418C41AA4D38E9";

#[test]
fn pkcs8_pbes2_variants_decrypt_to_openssls_plain_key() {
    for (name, der) in [
        (
            "aes-256-cbc, hmacWithSHA256",
            &include_bytes!("keys/pbes2-aes256-sha256.der")[..],
        ),
        (
            "des3, hmacWithSHA1",
            &include_bytes!("keys/pbes2-des3-sha1.der")[..],
        ),
        ("scrypt", &include_bytes!("keys/pbes2-scrypt.der")[..]),
    ] {
        let plain = decrypt(der, None, PASSWORD).unwrap_or_else(|e| panic!("{name}: {e:?}"));
        assert_eq!(plain, PLAIN_PKCS8, "{name}");
        // …and what came out is a key the configuration code accepts.
        crate::config::private_key(&plain).expect(name);
    }
}

#[test]
fn legacy_pem_encryption_decrypts_to_openssls_sec1_key() {
    for (der, dek) in [
        (LEGACY_AES128, LEGACY_AES128_DEK),
        (LEGACY_DES3, LEGACY_DES3_DEK),
    ] {
        assert_eq!(
            decrypt(der, Some(dek), PASSWORD).unwrap(),
            PLAIN_SEC1,
            "{dek}"
        );
        // The header's cipher name is case-insensitive, as OpenSSL's is.
        let lower = dek.to_ascii_lowercase();
        assert_eq!(decrypt(der, Some(&lower), PASSWORD).unwrap(), PLAIN_SEC1);
    }
}

#[test]
fn a_wrong_password_is_bad_decrypt() {
    // Many wrong passwords: with CBC some leave valid padding by chance,
    // and those must be refused too, never returned as a key.
    for i in 0..300 {
        let wrong = format!("wrong-{i}");
        let cases: [(&[u8], Option<&str>); 3] = [
            (include_bytes!("keys/pbes2-aes256-sha256.der"), None),
            (LEGACY_AES128, Some(LEGACY_AES128_DEK)),
            (LEGACY_DES3, Some(LEGACY_DES3_DEK)),
        ];
        for (der, dek) in cases {
            if i >= 3 && dek.is_none() {
                continue; // PBKDF2 is slow in a debug build; three tries suffice
            }
            let err = decrypt(der, dek, wrong.as_bytes()).unwrap_err();
            assert_eq!(err.kind, ErrorKind::BadData, "{err:?}");
            assert_eq!(err.reason, "BAD_DECRYPT", "{err:?}");
        }
    }
    assert_eq!(
        decrypt(LEGACY_DES3, Some(LEGACY_DES3_DEK), b"")
            .unwrap_err()
            .reason,
        "BAD_DECRYPT"
    );
}

#[test]
fn what_is_not_decrypted_says_why() {
    // PKCS#12's PBE (openssl pkcs8 -v1 PBE-SHA1-3DES): not PBES2.
    let err = decrypt(
        include_bytes!("keys/pkcs12-pbe-sha1-3des.der"),
        None,
        PASSWORD,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err:?}");
    // A cipher the legacy header may name that the cap does not have.
    let err = decrypt(
        LEGACY_AES128,
        Some("CAMELLIA-128-CBC,D09BFFBE86E7133BEA733DF7A7371BCC"),
        PASSWORD,
    )
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Unsupported, "{err:?}");
    assert!(err.message.contains("CAMELLIA-128-CBC"), "{err:?}");
    // Broken headers and data.
    for dek in ["AES-128-CBC", "AES-128-CBC,XYZ", "AES-128-CBC,D09B"] {
        let err = decrypt(LEGACY_AES128, Some(dek), PASSWORD).unwrap_err();
        assert_eq!(err.reason, "PEM_LIB", "{dek}: {err:?}");
    }
    let err = decrypt(b"\x30\x03\x02\x01\x00", None, PASSWORD).unwrap_err();
    assert_eq!(err.reason, "PEM_LIB", "{err:?}");
    let err = decrypt(&LEGACY_AES128[..100], Some(LEGACY_AES128_DEK), PASSWORD).unwrap_err();
    assert_eq!(
        err.reason, "BAD_DECRYPT",
        "a length that is no block multiple: {err:?}"
    );
}
