//! The standard library as one deterministic zip.
//!
//! Contents: every file under `Lib/` that the profile keeps (no test packages unless
//! asked, no `__pycache__`), the build's `_sysconfigdata_*` module with build paths
//! replaced, and next to each `.py` its `.pyc` (zipimport reads `mod.pyc` beside
//! `mod.py`, not `__pycache__/`). The `.pyc` files are compiled by the native build
//! python with unchecked-hash invalidation (no source mtime inside, and zipimport never
//! re-checks them) and `PYTHONHASHSEED=0` (set and frozenset constants are marshalled in
//! hash order). `co_filename` is the file's guest path inside the zip, so tracebacks
//! point where the interpreter actually loads it from.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use crate::profile::StdlibSpec;
use crate::zip::{write_stored_zip, ZipError};

/// Directory names that hold test suites.
pub const TEST_DIRS: &[&str] = &["test", "tests", "idle_test"];

#[derive(Debug, thiserror::Error)]
pub enum StdlibError {
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: io::Error,
    },
    #[error("byte-compiling the stdlib failed ({status}); log: {}", log.display())]
    Compile {
        status: String,
        log: PathBuf,
        tail: Vec<String>,
    },
    #[error("{0}")]
    Zip(#[from] ZipError),
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(io::Error) -> StdlibError {
    let path = path.to_path_buf();
    move |source| StdlibError::Io { what, path, source }
}

/// Whether a path relative to `Lib/` is kept by the profile.
pub fn keep(rel: &str, spec: &StdlibSpec) -> bool {
    let parts: Vec<&str> = rel.split('/').collect();
    let Some((file, dirs)) = parts.split_last() else {
        return false;
    };
    if parts
        .iter()
        .any(|p| p.starts_with('.') || *p == "__pycache__")
    {
        return false;
    }
    if file.ends_with(".pyc") || file.ends_with(".pyo") {
        return false;
    }
    if spec.exclude.iter().any(|e| e == parts[0]) {
        return false;
    }
    if !spec.include_tests && dirs.iter().any(|d| TEST_DIRS.contains(d)) {
        return false;
    }
    true
}

/// The kept files under `lib_dir`, relative path → content. Only names and contents
/// matter: mtimes, permissions and directory order do not reach the result.
pub fn collect_files(
    lib_dir: &Path,
    spec: &StdlibSpec,
) -> Result<BTreeMap<String, Vec<u8>>, StdlibError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![String::new()];
    while let Some(rel_dir) = stack.pop() {
        let abs = lib_dir.join(&rel_dir);
        for entry in fs::read_dir(&abs).map_err(io("reading", &abs))? {
            let entry = entry.map_err(io("reading", &abs))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let rel = if rel_dir.is_empty() {
                name
            } else {
                format!("{rel_dir}/{name}")
            };
            let ty = entry.file_type().map_err(io("reading", &abs))?;
            if ty.is_dir() {
                // Test the directory as if it held a file, so excluded trees are skipped whole.
                if keep(&format!("{rel}/x.py"), spec) {
                    stack.push(rel);
                }
            } else if keep(&rel, spec) {
                let path = entry.path();
                out.insert(rel, fs::read(&path).map_err(io("reading", &path))?);
            }
        }
    }
    Ok(out)
}

/// The script the build python runs: reads `source<TAB>relative path` lines and writes
/// `<out>/<relative path>c`. A file that does not compile fails the build, except in
/// test packages, which ship deliberately broken files (`badsyntax_*.py`).
const COMPILE_SCRIPT: &str = r#"
import os, py_compile, sys
out_root, guest_root = sys.argv[1], sys.argv[2]
tests = ("test", "tests", "idle_test")
failed = 0
for line in sys.stdin.read().splitlines():
    src, rel = line.split("\t")
    cfile = os.path.join(out_root, rel + "c")
    try:
        py_compile.compile(src, cfile=cfile, dfile=guest_root + "/" + rel, doraise=True,
                           invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    except py_compile.PyCompileError as e:
        if any(part in tests for part in rel.split("/")[:-1]):
            print("skipped (does not compile, test data):", rel)
        else:
            print(e.msg, file=sys.stderr)
            failed += 1
sys.exit(1 if failed else 0)
"#;

/// Compiles every `.py` of `files` with `build_python` and adds the `.pyc` beside it.
pub fn add_bytecode(
    files: &mut BTreeMap<String, Vec<u8>>,
    build_python: &Path,
    guest_zip_path: &str,
    staging: &Path,
    log: &Path,
) -> Result<(), StdlibError> {
    let src_dir = staging.join("src");
    let out_dir = staging.join("pyc");
    for d in [&src_dir, &out_dir] {
        fs::create_dir_all(d).map_err(io("creating", d))?;
    }
    let mut list = String::new();
    for (rel, bytes) in files.iter() {
        if !rel.ends_with(".py") {
            continue;
        }
        // Compile from a copy, so the bytecode matches exactly the bytes zipped.
        let src = src_dir.join(rel);
        if let Some(parent) = src.parent() {
            fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        fs::write(&src, bytes).map_err(io("writing", &src))?;
        list.push_str(&format!("{}\t{rel}\n", src.display()));
    }
    let script = staging.join("compile_stdlib.py");
    fs::write(&script, COMPILE_SCRIPT).map_err(io("writing", &script))?;
    let log_file = fs::File::create(log).map_err(io("creating", log))?;
    let log_err = log_file.try_clone().map_err(io("opening", log))?;
    // Not -E/-I: those would drop PYTHONHASHSEED. The environment is cleared instead.
    let mut child = Command::new(build_python)
        .arg("-S")
        .arg("-s")
        .arg(&script)
        .arg(&out_dir)
        .arg(guest_zip_path)
        .env_clear()
        .env("PYTHONHASHSEED", "0")
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .env("LC_ALL", "C.UTF-8")
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::from(log_file))
        .stderr(Stdio::from(log_err))
        .spawn()
        .map_err(io("running", build_python))?;
    if let Some(mut stdin) = child.stdin.take() {
        stdin
            .write_all(list.as_bytes())
            .map_err(io("feeding", build_python))?;
    }
    let status = child.wait().map_err(io("waiting for", build_python))?;
    if !status.success() {
        return Err(StdlibError::Compile {
            status: status.to_string(),
            log: log.to_path_buf(),
            tail: pylon_util::log::tail_lines(log, 20),
        });
    }
    let py: Vec<String> = files
        .keys()
        .filter(|k| k.ends_with(".py"))
        .cloned()
        .collect();
    for rel in py {
        let pyc = out_dir.join(format!("{rel}c"));
        if pyc.is_file() {
            let bytes = fs::read(&pyc).map_err(io("reading", &pyc))?;
            files.insert(format!("{rel}c"), bytes);
        }
    }
    Ok(())
}

/// Writes the zip to `out` (a temporary path; the caller publishes by rename).
pub fn write_zip(
    files: &BTreeMap<String, Vec<u8>>,
    epoch: u64,
    out: &Path,
) -> Result<u64, StdlibError> {
    let file = fs::File::create(out).map_err(io("creating", out))?;
    let mut w = io::BufWriter::new(file);
    let n = write_stored_zip(&mut w, files, epoch)?;
    w.flush().map_err(io("writing", out))?;
    Ok(n)
}

/// Replaces every occurrence of each `from` path with its `to` in a text file's
/// content (the `_sysconfigdata_*` module records the build's absolute paths).
pub fn replace_paths(text: &str, maps: &[(String, String)]) -> String {
    let mut maps: Vec<&(String, String)> = maps.iter().filter(|(f, _)| !f.is_empty()).collect();
    // Longest first, so a path inside another mapped path is replaced by its own rule.
    maps.sort_by_key(|(f, _)| std::cmp::Reverse(f.len()));
    let mut out = text.to_string();
    for (from, to) in maps {
        out = out.replace(from.as_str(), to);
    }
    out
}

/// Writes `files` under `dir` (relative `/`-separated paths), for a cache entry.
pub fn write_tree(files: &BTreeMap<String, Vec<u8>>, dir: &Path) -> Result<(), StdlibError> {
    for (rel, bytes) in files {
        let path = dir.join(rel);
        if let Some(parent) = path.parent() {
            fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        fs::write(&path, bytes).map_err(io("writing", &path))?;
    }
    Ok(())
}

/// Reads back what [`write_tree`] wrote: every regular file under `dir`, by its
/// `/`-separated relative path.
pub fn read_tree(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, StdlibError> {
    let mut out = BTreeMap::new();
    let mut stack = vec![String::new()];
    while let Some(rel) = stack.pop() {
        let abs = if rel.is_empty() {
            dir.to_path_buf()
        } else {
            dir.join(&rel)
        };
        for entry in fs::read_dir(&abs).map_err(io("reading", &abs))? {
            let entry = entry.map_err(io("reading", &abs))?;
            let name = entry.file_name().to_string_lossy().into_owned();
            let child = if rel.is_empty() {
                name
            } else {
                format!("{rel}/{name}")
            };
            if entry.file_type().map_err(io("reading", &abs))?.is_dir() {
                stack.push(child);
            } else {
                let bytes = fs::read(entry.path()).map_err(io("reading", &entry.path()))?;
                out.insert(child, bytes);
            }
        }
    }
    Ok(out)
}
