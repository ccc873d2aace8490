//! Recognising the two classic leaks of non-reproducible builds in raw bytes:
//! absolute build paths and date/time values. Everything here works on bytes,
//! because the strings live in data segments and custom sections with no
//! terminators or encoding the binary format tells us about.

/// Directories that only exist on the machine that ran the build: a string that
/// starts with one of these names a build path, not a path the program uses at
/// run time. Used by the single-artifact scan, where nothing else tells a build
/// path from a legitimate string; the diff accepts any differing absolute path.
pub(crate) const MACHINE_PATH_PREFIXES: &[&str] = &[
    "/home/",
    "/root/",
    "/tmp/",
    "/Users/",
    "/var/tmp/",
    "/var/folders/",
    "/private/var/",
    "/build/",
    "/builds/",
    "/github/workspace/",
    "/nix/store/",
];

/// Bytes that can be part of a path as toolchains embed them. Spaces and quotes
/// end a path: in packed string data the next string usually starts there.
fn is_path_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/\\._-+~@%=,:".contains(&b)
}

/// Extensions after which a source path ends even if more letters follow (packed
/// string data glues the next string straight onto `lib.rs`).
const SOURCE_EXTENSIONS: &[&str] = &[
    ".rs", ".c", ".h", ".cc", ".cpp", ".hpp", ".py", ".zig", ".wit",
];

/// The path that starts at `start`: extends while path bytes follow, and cuts
/// after the first source-file extension.
fn path_at(bytes: &[u8], start: usize) -> &[u8] {
    let mut end = start;
    while end < bytes.len() && is_path_byte(bytes[end]) {
        end += 1;
    }
    let token = &bytes[start..end];
    // Cut after the earliest extension found after the last directory separator
    // seen so far; "lib.rsindex out of range" -> "lib.rs".
    let mut cut = token.len();
    for ext in SOURCE_EXTENSIONS {
        let ext = ext.as_bytes();
        let mut i = 0;
        while i + ext.len() <= token.len() {
            if &token[i..i + ext.len()] == ext {
                let after = i + ext.len();
                // `.c` must not match `.cargo`: the extension is followed by a
                // non-lowercase byte, or by letters of a glued string (uppercase or
                // a different word) we cannot tell apart; accept only a
                // non-alphanumeric byte or the end, except for `.rs`, which never
                // starts a longer extension in practice.
                let next = token.get(after).copied();
                let ends = match next {
                    None => true,
                    Some(b) => !b.is_ascii_alphanumeric() || ext == b".rs",
                };
                if ends && token[..i].contains(&b'/') {
                    cut = cut.min(after);
                    break;
                }
            }
            i += 1;
        }
    }
    let mut token = &token[..cut];
    // Trailing punctuation belongs to the surrounding text ("see /tmp/x.").
    while let Some((&last, rest)) = token.split_last() {
        if b".,:=".contains(&last) {
            token = rest;
        } else {
            break;
        }
    }
    token
}

/// Whether position `i` continues a path that started earlier ("/usr/tmp/x" at
/// "/tmp"). Packed string data glues paths onto words ("range/home/…"), so a
/// preceding word without separators does not count.
fn inside_path(bytes: &[u8], i: usize) -> bool {
    bytes[..i]
        .iter()
        .rev()
        .take_while(|&&c| is_path_byte(c))
        .any(|&c| c == b'/' || c == b'\\')
}

/// A Windows absolute path (`C:\…` or `C:/…`) starts at `i`.
fn is_drive_path(bytes: &[u8], i: usize) -> bool {
    bytes.len() > i + 3
        && bytes[i].is_ascii_uppercase()
        && bytes[i + 1] == b':'
        && (bytes[i + 2] == b'\\' || bytes[i + 2] == b'/')
        && bytes[i + 3].is_ascii_alphanumeric()
        && (i == 0 || !bytes[i - 1].is_ascii_alphanumeric())
}

/// Machine-specific absolute paths in `bytes`: those starting with one of the
/// well-known build locations or with one of `extra` (e.g. this machine's HOME or
/// the cap's checkout), and Windows drive paths. Returns (offset, path) pairs.
pub(crate) fn find_machine_paths(bytes: &[u8], extra: &[String]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let starts = (b == b'/'
            && !inside_path(bytes, i)
            && (MACHINE_PATH_PREFIXES
                .iter()
                .any(|p| bytes[i..].starts_with(p.as_bytes()))
                || extra
                    .iter()
                    .any(|p| !p.is_empty() && bytes[i..].starts_with(p.as_bytes()))))
            || is_drive_path(bytes, i);
        if starts {
            let path = path_at(bytes, i);
            // A bare prefix ("/tmp/") is a string the program uses, not a build path.
            if path.len() > 6
                && path.iter().filter(|&&c| c == b'/' || c == b'\\').count() >= 2
                && !is_shallow_temp_name(path)
            {
                found.push((i, String::from_utf8_lossy(path).into_owned()));
                i += path.len().max(1);
                continue;
            }
        }
        i += 1;
    }
    found
}

/// A name one or two levels under a temp directory that names no source file
/// (`/tmp/myimport.zip`, `/tmp/x.zip/dir`): programs and their tests use such
/// literals; a build's scratch paths go deeper (`/tmp/<random>/caps/x/src/…`) or end
/// in a source file.
fn is_shallow_temp_name(path: &[u8]) -> bool {
    let Some(rest) = ["/tmp/", "/var/tmp/"]
        .iter()
        .find_map(|p| path.strip_prefix(p.as_bytes()))
    else {
        return false;
    };
    let rest = rest.strip_suffix(b"/").unwrap_or(rest);
    let depth = rest.split(|&c| c == b'/').count();
    let names_source = SOURCE_EXTENSIONS
        .iter()
        .any(|ext| rest.ends_with(ext.as_bytes()));
    depth <= 2 && !names_source
}

/// Any absolute path (`/a/b…` or a drive path) in `text`. Used on the strings
/// around a difference, where a differing absolute path is evidence enough.
pub(crate) fn find_any_paths(bytes: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        let unix = b == b'/'
            && (i == 0 || !is_path_byte(bytes[i - 1]))
            && bytes
                .get(i + 1)
                .is_some_and(|c| c.is_ascii_alphanumeric() || *c == b'.');
        if unix || is_drive_path(bytes, i) {
            let path = path_at(bytes, i);
            let separators = path.iter().filter(|&&c| c == b'/' || c == b'\\').count();
            if separators >= 2 {
                found.push((i, String::from_utf8_lossy(path).into_owned()));
                i += path.len().max(1);
                continue;
            }
        }
        i += 1;
    }
    found
}

/// The `n` ASCII digits at `at` as a number (u64: a ten-digit epoch does not fit u32).
fn digits(bytes: &[u8], at: usize, n: usize) -> Option<u64> {
    let s = bytes.get(at..at + n)?;
    if n > 19 || !s.iter().all(u8::is_ascii_digit) {
        return None;
    }
    Some(s.iter().fold(0u64, |acc, d| acc * 10 + u64::from(d - b'0')))
}

const MONTHS: [&[u8]; 12] = [
    b"Jan", b"Feb", b"Mar", b"Apr", b"May", b"Jun", b"Jul", b"Aug", b"Sep", b"Oct", b"Nov", b"Dec",
];

/// A plausible build year: the window in which any artifact we look at was made.
fn is_year(y: u64) -> bool {
    (1970..2100).contains(&y)
}

/// `HH:MM` or `HH:MM:SS` at `i`; returns its length.
fn time_at(bytes: &[u8], i: usize) -> Option<usize> {
    let h = digits(bytes, i, 2)?;
    let m = digits(bytes, i + 3, 2)?;
    if bytes.get(i + 2) != Some(&b':') || h > 23 || m > 59 {
        return None;
    }
    match (bytes.get(i + 5), digits(bytes, i + 6, 2)) {
        (Some(b':'), Some(s)) if s <= 60 => Some(8),
        _ => Some(5),
    }
}

/// A date/time string starting at `i`, as build tools write them: ISO 8601
/// (`2024-05-01`, `2024-05-01T12:00:00Z`), C's `__DATE__` (`May  1 2024`),
/// RFC 2822 (`01 May 2024`) and a bare `__TIME__` (`12:00:00`). Returns its length.
fn timestamp_at(bytes: &[u8], i: usize) -> Option<usize> {
    // Not in the middle of a longer number or word.
    if i > 0 && bytes[i - 1].is_ascii_alphanumeric() {
        return None;
    }
    // ISO 8601 date, optionally with a time.
    if let (Some(y), Some(mo), Some(d)) = (
        digits(bytes, i, 4),
        digits(bytes, i + 5, 2),
        digits(bytes, i + 8, 2),
    ) {
        if bytes[i + 4] == b'-'
            && bytes[i + 7] == b'-'
            && is_year(y)
            && (1..=12).contains(&mo)
            && (1..=31).contains(&d)
            && !bytes.get(i + 10).is_some_and(u8::is_ascii_digit)
        {
            let mut len = 10;
            if matches!(bytes.get(i + 10), Some(b'T' | b' ')) {
                if let Some(t) = time_at(bytes, i + 11) {
                    len = 11 + t;
                    // Fraction and zone designator.
                    while bytes
                        .get(i + len)
                        .is_some_and(|c| c.is_ascii_digit() || b".Z+-:".contains(c))
                    {
                        len += 1;
                    }
                }
            }
            return Some(len);
        }
    }
    // `May  1 2024` / `May 01 2024` (C __DATE__).
    if MONTHS.iter().any(|m| bytes[i..].starts_with(m)) && bytes.get(i + 3) == Some(&b' ') {
        let day_ok = match (bytes.get(i + 4), bytes.get(i + 5)) {
            (Some(b' '), Some(d)) => d.is_ascii_digit(),
            (Some(a), Some(b)) => a.is_ascii_digit() && b.is_ascii_digit(),
            _ => false,
        };
        if day_ok && bytes.get(i + 6) == Some(&b' ') && digits(bytes, i + 7, 4).is_some_and(is_year)
        {
            return Some(11);
        }
    }
    // `01 May 2024` (RFC 2822, often after a weekday).
    if digits(bytes, i, 2).is_some_and(|d| (1..=31).contains(&d))
        && bytes.get(i + 2) == Some(&b' ')
        && MONTHS.iter().any(|m| bytes[i + 3..].starts_with(m))
        && bytes.get(i + 6) == Some(&b' ')
        && digits(bytes, i + 7, 4).is_some_and(is_year)
    {
        return Some(11);
    }
    // A bare time of day (C __TIME__): needs seconds, or "12:00" is too common.
    if let Some(8) = time_at(bytes, i) {
        if !bytes.get(i + 8).is_some_and(u8::is_ascii_digit) {
            return Some(8);
        }
    }
    None
}

/// Date/time strings in `bytes`, with their offsets.
pub(crate) fn find_timestamps(bytes: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        if let Some(len) = timestamp_at(bytes, i) {
            found.push((i, String::from_utf8_lossy(&bytes[i..i + len]).into_owned()));
            i += len;
        } else {
            i += 1;
        }
    }
    found
}

/// Seconds since 1970 that fall between 2000 and 2100: a value in that range that
/// changes between two builds is almost certainly the build time.
pub(crate) fn is_epoch_like(v: u64) -> bool {
    (946_684_800..4_102_444_800).contains(&v)
}

/// 2015-01-01 to 2040-01-01: when a wasm32-wasip1/p2 toolchain could have run a
/// build (the no-reference scan's window for a bare decimal epoch).
pub(crate) fn is_plausible_build_time(v: u64) -> bool {
    (1_420_070_400..2_208_988_800).contains(&v)
}

/// A decimal epoch (`1714564800`) in text: ten digits, not part of a longer number.
pub(crate) fn find_decimal_epochs(bytes: &[u8]) -> Vec<(usize, String)> {
    let mut found = Vec::new();
    let mut i = 0;
    while i + 10 <= bytes.len() {
        let boundary_before = i == 0 || !bytes[i - 1].is_ascii_digit();
        let boundary_after = !bytes.get(i + 10).is_some_and(u8::is_ascii_digit);
        if boundary_before && boundary_after {
            if let Some(v) = digits(bytes, i, 10) {
                if is_epoch_like(v) {
                    found.push((i, String::from_utf8_lossy(&bytes[i..i + 10]).into_owned()));
                    i += 10;
                    continue;
                }
            }
        }
        i += 1;
    }
    found
}

/// `2024-05-01T12:00:00Z` for seconds since the epoch.
pub(crate) fn format_epoch(secs: u64) -> String {
    let secs = secs as i64;
    let (y, m, d) = pylon_util::date::civil_from_days(secs.div_euclid(86_400));
    let t = secs.rem_euclid(86_400);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        t / 3600,
        (t / 60) % 60,
        t % 60
    )
}

/// The printable text around `range` in `bytes` (expanded to the enclosing run of
/// printable ASCII, capped), so a differing byte is shown inside its string.
pub(crate) fn printable_context(
    bytes: &[u8],
    start: usize,
    end: usize,
    cap: usize,
) -> (usize, usize) {
    let printable = |b: u8| (0x20..0x7f).contains(&b) || b == b'\t';
    let mut s = start.min(bytes.len());
    let mut e = end.min(bytes.len());
    while s > 0 && printable(bytes[s - 1]) && start - (s - 1) <= cap {
        s -= 1;
    }
    while e < bytes.len() && printable(bytes[e]) && (e + 1) - end <= cap {
        e += 1;
    }
    (s, e)
}

/// Bytes shown as text: printable ASCII as is, anything else escaped.
pub(crate) fn show_bytes(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len());
    for &b in bytes {
        if (0x20..0x7f).contains(&b) {
            s.push(b as char);
        } else {
            s.push_str(&format!("\\x{b:02x}"));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ten_digit_numbers_beyond_u32_are_not_epochs_and_do_not_overflow() {
        // 9999999999 > u32::MAX: reading it once overflowed (a panic in debug builds).
        let text = b"size 9999999999 and 4294967296, built at 1714564800.";
        let found = find_decimal_epochs(text);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "1714564800");
    }

    #[test]
    fn machine_paths_are_found_and_cut_at_source_extensions() {
        let data = b"index in range/home/ci/src/fixture/src/lib.rscalled `Option::unwrap()`\0/tmp/";
        let found = find_machine_paths(data, &[]);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].1, "/home/ci/src/fixture/src/lib.rs");
        // The bare "/tmp/" at the end is a run-time string, not a build path.
        assert!(find_machine_paths(b"dir=/tmp/", &[]).is_empty());
        let win = find_machine_paths(b"x C:\\Users\\ci\\src\\lib.rs y", &[]);
        assert_eq!(win[0].1, "C:\\Users\\ci\\src\\lib.rs");
        let extra = find_machine_paths(b"at /work/ck/zlib/src/a.c:1", &["/work/ck".into()]);
        assert_eq!(extra[0].1, "/work/ck/zlib/src/a.c");
        // Remapped paths are not machine paths.
        assert!(find_machine_paths(
            b"/caps/zlib/src/lib.rs /rustc/abc/library/core/src/x.rs",
            &[]
        )
        .is_empty());
    }

    #[test]
    fn any_path_needs_two_separators() {
        assert!(
            find_any_paths(b"x/work/a/b y").is_empty(),
            "glued to a word"
        );
        assert_eq!(
            find_any_paths(b" /work/a/b y"),
            vec![(1, "/work/a/b".to_string())]
        );
        assert!(find_any_paths(b"a / b").is_empty());
    }

    #[test]
    fn timestamps_in_the_usual_formats() {
        let data = b"built 2024-05-01T12:34:56Z on May  1 2024 at 12:34:56; Wed, 01 May 2024";
        let found: Vec<String> = find_timestamps(data).into_iter().map(|(_, s)| s).collect();
        assert_eq!(
            found,
            [
                "2024-05-01T12:34:56Z",
                "May  1 2024",
                "12:34:56",
                "01 May 2024"
            ]
        );
        assert!(find_timestamps(b"version 1.2.3, 10:30, 2024-13-01, 12024-01-01").is_empty());
    }

    #[test]
    fn epochs_as_text_and_dates() {
        assert_eq!(find_decimal_epochs(b"t=1714564800;")[0].1, "1714564800");
        assert!(
            find_decimal_epochs(b"17145648001").is_empty(),
            "longer number"
        );
        assert!(find_decimal_epochs(b"0000000001").is_empty(), "too early");
        assert_eq!(format_epoch(315_532_800), "1980-01-01T00:00:00Z");
        assert_eq!(format_epoch(1_714_564_800), "2024-05-01T12:00:00Z");
    }
}
