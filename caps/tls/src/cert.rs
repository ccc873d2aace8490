//! `decode-certificate`: a DER certificate as `SSLSocket.getpeercert()`
//! shows it, with OpenSSL's spellings (long attribute names, serial and
//! time formats, `IP Address` text).

use x509_parser::extensions::{DistributionPointName, GeneralName, ParsedExtension};
use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error;
use crate::{CertificateInfo, Error, NameAttribute};

/// OpenSSL's long names (`OBJ_nid2ln`) of the usual name attributes.
const ATTRIBUTE_NAMES: &[(&str, &str)] = &[
    ("2.5.4.3", "commonName"),
    ("2.5.4.4", "surname"),
    ("2.5.4.5", "serialNumber"),
    ("2.5.4.6", "countryName"),
    ("2.5.4.7", "localityName"),
    ("2.5.4.8", "stateOrProvinceName"),
    ("2.5.4.9", "streetAddress"),
    ("2.5.4.10", "organizationName"),
    ("2.5.4.11", "organizationalUnitName"),
    ("2.5.4.12", "title"),
    ("2.5.4.13", "description"),
    ("2.5.4.15", "businessCategory"),
    ("2.5.4.17", "postalCode"),
    ("2.5.4.18", "postOfficeBox"),
    ("2.5.4.41", "name"),
    ("2.5.4.42", "givenName"),
    ("2.5.4.43", "initials"),
    ("2.5.4.44", "generationQualifier"),
    ("2.5.4.46", "dnQualifier"),
    ("2.5.4.65", "pseudonym"),
    ("2.5.4.97", "organizationIdentifier"),
    ("1.2.840.113549.1.9.1", "emailAddress"),
    ("0.9.2342.19200300.100.1.1", "userId"),
    ("0.9.2342.19200300.100.1.25", "domainComponent"),
    ("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionLocalityName"),
    (
        "1.3.6.1.4.1.311.60.2.1.2",
        "jurisdictionStateOrProvinceName",
    ),
    ("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionCountryName"),
];

const OCSP: &str = "1.3.6.1.5.5.7.48.1";
const CA_ISSUERS: &str = "1.3.6.1.5.5.7.48.2";

fn attribute_name(oid: &str) -> String {
    ATTRIBUTE_NAMES
        .iter()
        .find(|(o, _)| *o == oid)
        .map_or_else(|| oid.to_string(), |(_, n)| (*n).to_string())
}

/// The value as UTF-8, as OpenSSL's ASN1_STRING_to_UTF8 gives it.
fn attribute_value(attr: &AttributeTypeAndValue<'_>) -> String {
    if let Ok(s) = attr.as_str() {
        return s.to_string();
    }
    let any = attr.attr_value();
    let data = any.data;
    match any.tag().0 {
        // BMPString: UTF-16BE.
        30 => {
            let units = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]));
            char::decode_utf16(units)
                .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
                .collect()
        }
        // UniversalString: UTF-32BE.
        28 => data
            .chunks_exact(4)
            .map(|c| {
                char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]]))
                    .unwrap_or(char::REPLACEMENT_CHARACTER)
            })
            .collect(),
        // T61String and the rest: Latin-1, as OpenSSL reads T61.
        20 => data.iter().map(|&b| char::from(b)).collect(),
        _ => String::from_utf8_lossy(data).into_owned(),
    }
}

fn name(n: &X509Name<'_>) -> Vec<Vec<NameAttribute>> {
    n.iter()
        .map(|rdn| {
            rdn.iter()
                .map(|attr| NameAttribute {
                    name: attribute_name(&attr.attr_type().to_id_string()),
                    value: attribute_value(attr),
                })
                .collect()
        })
        .collect()
}

/// OpenSSL's serial: the integer's bytes in upper-case hex (at least one
/// byte, no sign padding), `-` before a negative one's magnitude.
pub fn serial_hex(raw: &[u8]) -> String {
    let negative = raw.first().is_some_and(|b| b & 0x80 != 0);
    let mut bytes = raw.to_vec();
    if negative {
        // Two's complement magnitude: invert and add one.
        for b in bytes.iter_mut() {
            *b = !*b;
        }
        for b in bytes.iter_mut().rev() {
            let (v, carry) = b.overflowing_add(1);
            *b = v;
            if !carry {
                break;
            }
        }
    }
    let start = bytes.iter().position(|&b| b != 0).unwrap_or(bytes.len());
    let digits = &bytes[start.min(bytes.len().saturating_sub(1))..];
    let hex: String = if digits.is_empty() {
        "00".to_string()
    } else {
        digits.iter().map(|b| format!("{b:02X}")).collect()
    };
    if negative {
        format!("-{hex}")
    } else {
        hex
    }
}

/// Days since 1970-01-01 to (year, month 1-12, day 1-31) (Howard Hinnant's
/// civil_from_days).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// A Unix time as OpenSSL prints it: `Jan  5 09:34:43 2018 GMT`.
pub fn openssl_time(secs: i64) -> String {
    const MONTHS: [&str; 12] = [
        "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
    ];
    let (year, month, day) = civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    let mon = MONTHS[(month as usize).saturating_sub(1) % 12];
    format!(
        "{mon} {day:>2} {:02}:{:02}:{:02} {year} GMT",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// An IP address SAN as OpenSSL prints it: IPv6 as eight upper-case hex
/// groups without zero compression.
fn ip_text(bytes: &[u8]) -> String {
    match bytes.len() {
        4 => format!("{}.{}.{}.{}", bytes[0], bytes[1], bytes[2], bytes[3]),
        16 => bytes
            .chunks_exact(2)
            .map(|g| format!("{:X}", u16::from_be_bytes([g[0], g[1]])))
            .collect::<Vec<_>>()
            .join(":"),
        _ => "<invalid>".to_string(),
    }
}

fn san_entry(g: &GeneralName<'_>) -> Option<(String, String)> {
    let (kind, value) = match g {
        GeneralName::DNSName(s) => ("DNS", (*s).to_string()),
        GeneralName::IPAddress(b) => ("IP Address", ip_text(b)),
        GeneralName::RFC822Name(s) => ("email", (*s).to_string()),
        GeneralName::URI(s) => ("URI", (*s).to_string()),
        GeneralName::RegisteredID(oid) => ("Registered ID", oid.to_id_string()),
        _ => return None,
    };
    Some((kind.to_string(), value))
}

fn uris<'a>(names: impl IntoIterator<Item = &'a GeneralName<'a>>) -> Vec<String> {
    names
        .into_iter()
        .filter_map(|g| match g {
            GeneralName::URI(u) => Some((*u).to_string()),
            _ => None,
        })
        .collect()
}

pub fn decode(der: &[u8]) -> Result<CertificateInfo, Error> {
    let (_, cert) = x509_parser::parse_x509_certificate(der)
        .map_err(|e| error::bad_data("PEM_LIB", format!("cannot parse the certificate: {e}")))?;
    let validity = cert.validity();
    let mut info = CertificateInfo {
        subject: name(cert.subject()),
        issuer: name(cert.issuer()),
        version: cert.version().0.saturating_add(1),
        serial_number: serial_hex(cert.raw_serial()),
        not_before: openssl_time(validity.not_before.timestamp()),
        not_after: openssl_time(validity.not_after.timestamp()),
        subject_alt_names: Vec::new(),
        ocsp: Vec::new(),
        ca_issuers: Vec::new(),
        crl_distribution_points: Vec::new(),
    };
    for ext in cert.extensions() {
        match ext.parsed_extension() {
            ParsedExtension::SubjectAlternativeName(san) => info
                .subject_alt_names
                .extend(san.general_names.iter().filter_map(san_entry)),
            ParsedExtension::AuthorityInfoAccess(aia) => {
                for ad in aia.iter() {
                    let uri = uris([&ad.access_location]);
                    match ad.access_method.to_id_string().as_str() {
                        OCSP => info.ocsp.extend(uri),
                        CA_ISSUERS => info.ca_issuers.extend(uri),
                        _ => {}
                    }
                }
            }
            ParsedExtension::CRLDistributionPoints(points) => {
                for p in points.iter() {
                    if let Some(DistributionPointName::FullName(names)) = &p.distribution_point {
                        info.crl_distribution_points.extend(uris(names));
                    }
                }
            }
            _ => {}
        }
    }
    Ok(info)
}
