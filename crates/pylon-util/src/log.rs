//! Build logs.

use std::path::Path;

/// The last `n` lines of a log file, for an error message. Best effort: an unreadable
/// file gives no lines, and bytes that are not UTF-8 (a compiler's raw output) are
/// replaced rather than losing the whole tail.
pub fn tail_lines(path: &Path, n: usize) -> Vec<String> {
    let Ok(bytes) = std::fs::read(path) else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(&bytes);
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(n)..]
        .iter()
        .map(|s| s.to_string())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::tail_lines;

    #[test]
    fn tail_of_a_log_with_invalid_utf8_keeps_its_lines() {
        let dir = tempfile::tempdir().unwrap();
        let log = dir.path().join("build.log");
        std::fs::write(&log, b"one\ntwo \xff\xfe bytes\nthree\n").unwrap();
        assert_eq!(tail_lines(&log, 2), ["two \u{fffd}\u{fffd} bytes", "three"]);
        assert_eq!(tail_lines(&log, 10).len(), 3);
        assert!(tail_lines(&dir.path().join("missing.log"), 5).is_empty());
    }
}
