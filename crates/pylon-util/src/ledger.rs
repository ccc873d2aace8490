//! The build ledger: one JSON line per compilation, appended to the file named by
//! `PYLON_BUILD_LEDGER` when that variable is set.
//!
//! CI's budget counts how often each cap and CPython are compiled in one run. The
//! count must come from the code that compiles, not from a guess in a shell script,
//! and it must cover every process that compiles (caps-sync, `pylon build`, the
//! child processes of `repro-check`, tests). So the place that runs the compiler
//! records it here, and every process inherits the variable.
//!
//! Each record is written with one `write` on a file opened with `O_APPEND`; records
//! are far below `PIPE_BUF`, so lines from concurrent processes never interleave.
//! Recording is best effort: a ledger that cannot be written never fails a build.

use std::ffi::OsString;
use std::fs::OpenOptions;
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::time::Duration;

/// The variable naming the ledger file.
pub const LEDGER_ENV: &str = "PYLON_BUILD_LEDGER";

/// What was compiled.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Subject {
    /// A cap's component (cargo or make).
    Cap,
    /// CPython for wasm32-wasip2 (configure + make, or make in a kept tree).
    Cpython,
    /// The native CPython that CPython's cross build runs (a build tool).
    BuildPython,
}

impl Subject {
    pub fn as_str(self) -> &'static str {
        match self {
            Subject::Cap => "cap",
            Subject::Cpython => "cpython",
            Subject::BuildPython => "build-python",
        }
    }
}

/// One compilation (or one build invocation that found everything fresh).
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Record {
    pub subject: Subject,
    /// The cap's name, or the profile's.
    pub name: String,
    /// Whether anything was compiled: false when cargo found every unit fresh.
    pub compiled: bool,
    /// How the compile ran: `cold`, `incremental`, `fresh`, `make`.
    pub how: String,
    pub seconds: f64,
    /// The process that compiled (`pylon caps-sync`, `pylon repro-check`, a test).
    pub by: String,
}

impl Record {
    pub fn new(subject: Subject, name: &str, compiled: bool, how: &str, took: Duration) -> Self {
        Record {
            subject,
            name: name.to_string(),
            compiled,
            how: how.to_string(),
            seconds: (took.as_secs_f64() * 10.0).round() / 10.0,
            by: process_label(),
        }
    }
}

/// Appends `record` to the ledger named by `PYLON_BUILD_LEDGER`; does nothing when
/// the variable is unset or empty.
pub fn record(rec: &Record) {
    if let Some(path) = std::env::var_os(LEDGER_ENV).filter(|p| !p.is_empty()) {
        let _ = append(Path::new(&path), rec);
    }
}

/// Appends one record to `path` as a single write.
pub fn append(path: &Path, rec: &Record) -> std::io::Result<()> {
    let mut line = serde_json::to_string(rec).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut file = OpenOptions::new().create(true).append(true).open(path)?;
    file.write_all(line.as_bytes())
}

/// Reads every record of a ledger; a line that does not parse is an error naming its
/// number (a ledger is written only by [`append`]).
pub fn read(path: &Path) -> std::io::Result<Vec<Record>> {
    let file = std::fs::File::open(path)?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let rec = serde_json::from_str(&line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("{}:{}: {e}", path.display(), i + 1),
            )
        })?;
        out.push(rec);
    }
    Ok(out)
}

/// `pylon caps-sync`: the program's file name and its first argument.
fn process_label() -> String {
    let args: Vec<OsString> = std::env::args_os().take(2).collect();
    let program = args
        .first()
        .and_then(|p| {
            Path::new(p)
                .file_name()
                .map(|f| f.to_string_lossy().into_owned())
        })
        .unwrap_or_default();
    match args.get(1) {
        Some(a) if !a.to_string_lossy().starts_with('-') => {
            format!("{program} {}", a.to_string_lossy())
        }
        _ => program,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_lines_name_their_number() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        let a = Record::new(
            Subject::Cap,
            "zlib",
            true,
            "cold",
            Duration::from_millis(12_340),
        );
        let b = Record::new(Subject::Cpython, "cp313", false, "fresh", Duration::ZERO);
        append(&path, &a).unwrap();
        append(&path, &b).unwrap();
        let got = read(&path).unwrap();
        assert_eq!(got, vec![a.clone(), b]);
        assert_eq!(got[0].seconds, 12.3);

        std::fs::write(
            &path,
            format!("{}\nnot json\n", serde_json::to_string(&a).unwrap()),
        )
        .unwrap();
        let err = read(&path).unwrap_err().to_string();
        assert!(err.contains("ledger.jsonl:2"), "{err}");
    }

    #[test]
    fn concurrent_appends_keep_whole_lines() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("ledger.jsonl");
        std::thread::scope(|s| {
            for t in 0..4 {
                let path = &path;
                s.spawn(move || {
                    for i in 0..50 {
                        let rec = Record::new(
                            Subject::Cap,
                            &format!("cap-{t}-{i}"),
                            true,
                            "cold",
                            Duration::from_secs(1),
                        );
                        append(path, &rec).unwrap();
                    }
                });
            }
        });
        assert_eq!(read(&path).unwrap().len(), 200);
    }
}
