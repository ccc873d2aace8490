//! The Debian archive host, read from this machine's own apt configuration.
//!
//! A profile names a path in Debian's pool (`pool/main/p/python3.13/...`), never a host:
//! the machine already says which mirror it uses (a local mirror, a proxy, a snapshot),
//! and the build must go where apt goes.

use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum AptError {
    #[error("no Debian archive found in the apt configuration under {} (looked at sources.list and sources.list.d/*.list, *.sources)", root.display())]
    NoArchive { root: PathBuf },
}

/// One `deb`/`deb-src` entry: its URI and suites.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AptEntry {
    pub uri: String,
    pub suites: Vec<String>,
}

/// Every enabled entry of the apt configuration at `root` (normally `/etc/apt`), in
/// the order apt reads them: `sources.list`, then `sources.list.d/` sorted by name.
pub fn apt_entries(root: &Path) -> Vec<AptEntry> {
    let mut out = Vec::new();
    if let Ok(text) = std::fs::read_to_string(root.join("sources.list")) {
        out.extend(parse_one_line_style(&text));
    }
    let mut files: Vec<PathBuf> = std::fs::read_dir(root.join("sources.list.d"))
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path())
        .collect();
    files.sort();
    for file in files {
        let Ok(text) = std::fs::read_to_string(&file) else {
            continue;
        };
        match file.extension().and_then(|e| e.to_str()) {
            Some("list") => out.extend(parse_one_line_style(&text)),
            Some("sources") => out.extend(parse_deb822(&text)),
            _ => {}
        }
    }
    out
}

/// `deb [options] URI SUITE COMPONENT...` lines.
pub fn parse_one_line_style(text: &str) -> Vec<AptEntry> {
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or("").trim();
        let mut rest = match line.split_once(char::is_whitespace) {
            Some(("deb" | "deb-src", rest)) => rest.trim_start(),
            _ => continue,
        };
        if rest.starts_with('[') {
            match rest.find(']') {
                Some(i) => rest = rest[i + 1..].trim_start(),
                None => continue,
            }
        }
        let mut words = rest.split_whitespace();
        if let (Some(uri), Some(suite)) = (words.next(), words.next()) {
            out.push(AptEntry {
                uri: uri.to_string(),
                suites: vec![suite.to_string()],
            });
        }
    }
    out
}

/// deb822 stanzas (`Types:`, `URIs:`, `Suites:`, `Enabled:`), separated by blank lines.
pub fn parse_deb822(text: &str) -> Vec<AptEntry> {
    let mut out = Vec::new();
    for stanza in text.split("\n\n") {
        let (mut types, mut uris, mut suites, mut enabled) = ("", "", "", "yes");
        for line in stanza.lines() {
            if line.starts_with('#') {
                continue;
            }
            let Some((key, value)) = line.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match key.trim() {
                "Types" => types = value,
                "URIs" => uris = value,
                "Suites" => suites = value,
                "Enabled" => enabled = value,
                _ => {}
            }
        }
        let is_debian_type = types
            .split_whitespace()
            .any(|t| t == "deb" || t == "deb-src");
        if enabled.eq_ignore_ascii_case("no") || !is_debian_type {
            continue;
        }
        let suites: Vec<String> = suites.split_whitespace().map(str::to_string).collect();
        for uri in uris.split_whitespace() {
            out.push(AptEntry {
                uri: uri.to_string(),
                suites: suites.clone(),
            });
        }
    }
    out
}

/// Base URLs of the Debian archive (the host + path that holds `pool/`), best first.
///
/// An entry qualifies when one of its suites is a release suite (`bookworm`, `sid`,
/// `stable`: no `-security`/`-updates`/`-backports` suffix) and its URI is http(s) and
/// not a security archive, whose pool holds only security updates. Duplicates are
/// dropped; the order is the apt configuration's.
pub fn debian_archives(root: &Path) -> Result<Vec<String>, AptError> {
    let mut out: Vec<String> = Vec::new();
    for entry in apt_entries(root) {
        let uri = entry.uri.trim_end_matches('/').to_string();
        let http = uri.starts_with("http://") || uri.starts_with("https://");
        let release_suite = entry
            .suites
            .iter()
            .any(|s| !s.contains('-') && !s.contains('/'));
        if http && release_suite && !uri.contains("security") && !out.contains(&uri) {
            out.push(uri);
        }
    }
    if out.is_empty() {
        return Err(AptError::NoArchive {
            root: root.to_path_buf(),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deb822_and_one_line_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("sources.list.d")).unwrap();
        std::fs::write(
            dir.path().join("sources.list.d/debian.sources"),
            "Types: deb\n# comment\nURIs: http://mirror.example/debian\nSuites: bookworm bookworm-updates\nComponents: main\n\n\
             Types: deb\nURIs: http://mirror.example/debian-security\nSuites: bookworm-security\nComponents: main\n\n\
             Types: deb\nURIs: http://off.example/debian\nSuites: sid\nEnabled: no\n",
        )
        .unwrap();
        std::fs::write(
            dir.path().join("sources.list.d/other.list"),
            "deb [arch=amd64 signed-by=/k.gpg] https://other.example/apt stable main\n# deb http://x/debian sid main\n",
        )
        .unwrap();
        let archives = debian_archives(dir.path()).unwrap();
        assert_eq!(
            archives,
            vec![
                "http://mirror.example/debian".to_string(),
                "https://other.example/apt".to_string()
            ]
        );
    }

    #[test]
    fn no_archive_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        assert!(matches!(
            debian_archives(dir.path()),
            Err(AptError::NoArchive { .. })
        ));
    }
}
