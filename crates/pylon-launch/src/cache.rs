//! The compilation cache: compiled components stored as checked `.cwasm` files.
//!
//! Layout, in the cache directory:
//! - `<K>.cwasm`: `Component::serialize` output, where `K` is
//!   `<sha256 hex of the wasm bytes>-<first 16 hex digits of the engine hash>` and the
//!   engine hash is sha256 over `Engine::precompile_compatibility_hash()` (wasmtime
//!   version, target, compiler flags and tunables such as epoch interruption);
//! - `<K>.cwasm.sha256`: the sidecar, four lines: a format line, then `wasm <sha256 of
//!   the wasm>`, `engine <engine hash>` and `cwasm <sha256 of the .cwasm bytes>`.
//!
//! Both are written to a unique temporary file in the same directory and renamed into
//! place, the `.cwasm` first; concurrent runs can therefore at worst leave a pair whose
//! digests disagree, which the next run detects, reports and rewrites.
//!
//! Safety argument for `Component::deserialize`: deserializing runs native code that the
//! bytes describe, so only bytes this launcher produced may reach it. The cache entry is
//! read fully into memory, its sha256 is compared with the sidecar, and those same
//! in-memory bytes (never the file again, which could change meanwhile) are deserialized.
//! A truncated, corrupted or half-written entry fails the check. The sidecar also names
//! the wasm and the engine the entry was compiled for, and both must be this run's: an
//! entry copied or renamed to another wasm's name is recompiled, not run in its place
//! (wasmtime itself rejects a mismatched version or configuration).
//!
//! The check does not defend against someone who can write the cache directory (they
//! could write both files), so the directory is checked before use: it must belong to
//! the user running the launcher and not be writable by group or others (created 0700
//! when missing), else the run stops with an error naming it. An entry file owned by
//! someone else or writable by group or others is discarded and recompiled.
//!
//! Pruning: after a new entry is written (a miss), the directory keeps the
//! [`KEEP_PER_ENGINE`] most recently used entries of this engine (a hit refreshes its
//! entry's modification time) and entries of other engines (another wasmtime, another
//! configuration) used within [`OTHER_ENGINE_MAX_AGE`]; temporary files older than a day
//! (a killed writer's) go too. Only names of the forms above are ever removed, so a
//! `--cache-dir` shared with other files loses none of them.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use sha2::{Digest, Sha256};
use wasmtime::component::Component;
use wasmtime::Engine;

use crate::{Event, LaunchError};

pub use pylon_util::digest::sha256_hex;

/// A deterministic [`Hasher`] over sha256 (std's `DefaultHasher` is only stable within
/// one Rust release).
struct ShaHasher(Sha256);

impl Hasher for ShaHasher {
    fn finish(&self) -> u64 {
        let digest = self.0.clone().finalize();
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        u64::from_le_bytes(first)
    }

    fn write(&mut self, bytes: &[u8]) {
        self.0.update(bytes);
    }
}

/// Hex digest of the engine's precompile compatibility hash.
pub fn engine_hash_hex(engine: &Engine) -> String {
    let mut hasher = ShaHasher(Sha256::new());
    std::hash::Hash::hash(&engine.precompile_compatibility_hash(), &mut hasher);
    hex::encode(hasher.0.finalize())
}

/// The `.cwasm` path for `wasm_bytes` under `dir`.
pub fn entry_path(dir: &Path, engine: &Engine, wasm_bytes: &[u8]) -> PathBuf {
    Key {
        wasm_sha256: sha256_hex(wasm_bytes),
        engine_hash: engine_hash_hex(engine),
    }
    .entry(dir)
}

/// The checksum sidecar of a `.cwasm` path.
pub fn sidecar_path(entry: &Path) -> PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// Entries of this engine kept by pruning: the wasm files run most recently (a few
/// profiles, or a build and the one before it), ~27 MB each for build/pylon.wasm.
pub const KEEP_PER_ENGINE: usize = 4;
/// Entries of other engines (an older launcher) are removed once unused this long.
pub const OTHER_ENGINE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Temporary files left by a writer that was killed are removed after this long (long
/// enough never to race a writer still at work).
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);
/// The first line of a sidecar.
const SIDECAR_FORMAT: &str = "pylon-launch cache entry 1";

/// What an entry must have been compiled from: the sidecar's `wasm` and `engine` lines.
struct Key {
    wasm_sha256: String,
    engine_hash: String,
}

impl Key {
    fn entry(&self, dir: &Path) -> PathBuf {
        dir.join(format!(
            "{}-{}.cwasm",
            self.wasm_sha256,
            &self.engine_hash[..16]
        ))
    }

    fn sidecar(&self, cwasm_sha256: &str) -> String {
        format!(
            "{SIDECAR_FORMAT}\nwasm {}\nengine {}\ncwasm {cwasm_sha256}\n",
            self.wasm_sha256, self.engine_hash
        )
    }
}

enum Lookup {
    Miss,
    Hit(Component),
    Rejected(String),
}

pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &Path,
    bytes: &[u8],
    cache_dir: Option<&Path>,
    report: &mut dyn FnMut(&Event),
) -> Result<Component, LaunchError> {
    let Some(dir) = cache_dir else {
        let start = Instant::now();
        let component = compile(engine, wasm, bytes)?;
        report(&Event::Compiled {
            compile: start.elapsed(),
        });
        return Ok(component);
    };
    prepare_dir(dir)?;
    let key = Key {
        wasm_sha256: sha256_hex(bytes),
        engine_hash: engine_hash_hex(engine),
    };
    let entry = key.entry(dir);
    let start = Instant::now();
    match lookup(engine, &entry, &key)? {
        Lookup::Hit(component) => {
            // Pruning keeps the most recently used entries; a hit is a use.
            touch(&entry);
            report(&Event::CacheHit {
                entry,
                load: start.elapsed(),
            });
            return Ok(component);
        }
        Lookup::Rejected(reason) => {
            // Removed, not overwritten in place: the rewrite would keep the old file's
            // permissions, which may be why it was rejected.
            let _ = std::fs::remove_file(&entry);
            let _ = std::fs::remove_file(sidecar_path(&entry));
            report(&Event::CacheRejected {
                entry: entry.clone(),
                reason,
            })
        }
        Lookup::Miss => {}
    }
    let start = Instant::now();
    let component = compile(engine, wasm, bytes)?;
    report(&Event::CacheMiss {
        entry: entry.clone(),
        compile: start.elapsed(),
    });
    match store(&component, &entry, &key) {
        Ok(()) => {
            let removed = prune(dir, &key.engine_hash[..16], &entry, SystemTime::now());
            if !removed.is_empty() {
                report(&Event::CachePruned { removed });
            }
        }
        Err(reason) => report(&Event::CacheWriteFailed { entry, reason }),
    }
    Ok(component)
}

fn compile(engine: &Engine, wasm: &Path, bytes: &[u8]) -> Result<Component, LaunchError> {
    Component::from_binary(engine, bytes).map_err(|e| LaunchError::Compile {
        path: wasm.to_path_buf(),
        source: e.into(),
    })
}

/// Creates the cache directory (0700) if it is missing and checks that nobody but this
/// user can write it: whoever can write it chooses the native code the launcher runs.
fn prepare_dir(dir: &Path) -> Result<(), LaunchError> {
    let unusable = |source| LaunchError::Cache {
        path: dir.to_path_buf(),
        source,
    };
    let mut builder = std::fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(unusable)?;
    // Follows a symlink: what matters is the directory the entries are read from.
    let meta = std::fs::metadata(dir).map_err(unusable)?;
    if !meta.is_dir() {
        return Err(unusable(std::io::Error::other("not a directory")));
    }
    match untrusted(&meta) {
        Some(reason) => Err(LaunchError::CacheUntrusted {
            path: dir.to_path_buf(),
            reason,
        }),
        None => Ok(()),
    }
}

/// Why a cache directory or entry with this metadata cannot be trusted, if it cannot.
#[cfg(unix)]
fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    extern "C" {
        fn geteuid() -> u32;
    }
    // SAFETY: geteuid(2) has no preconditions and cannot fail.
    let me = unsafe { geteuid() };
    if meta.uid() != me {
        return Some(format!(
            "owned by uid {}, not by the user running pylon-launch (uid {me})",
            meta.uid()
        ));
    }
    let writable_by = match (meta.mode() & 0o020 != 0, meta.mode() & 0o002 != 0) {
        (true, true) => "group and others",
        (true, false) => "its group",
        (false, true) => "others",
        (false, false) => return None,
    };
    Some(format!(
        "writable by {writable_by} (mode {:o})",
        meta.mode() & 0o7777
    ))
}

#[cfg(not(unix))]
fn untrusted(_meta: &std::fs::Metadata) -> Option<String> {
    None
}

fn lookup(engine: &Engine, entry: &Path, key: &Key) -> Result<Lookup, LaunchError> {
    let unreadable = |path: &Path, source| LaunchError::Cache {
        path: path.to_path_buf(),
        source,
    };
    let mut file = match std::fs::File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
        Err(e) => return Err(unreadable(entry, e)),
    };
    // The open file's own metadata: the one whose bytes are read next.
    let meta = file.metadata().map_err(|e| unreadable(entry, e))?;
    if let Some(reason) = untrusted(&meta) {
        return Ok(Lookup::Rejected(format!("the file is {reason}")));
    }
    let mut bytes = Vec::new();
    std::io::Read::read_to_end(&mut file, &mut bytes).map_err(|e| unreadable(entry, e))?;
    drop(file);
    let sidecar = sidecar_path(entry);
    let recorded = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Lookup::Rejected("its checksum file is missing".into()))
        }
        Err(e) => return Err(unreadable(&sidecar, e)),
    };
    let mut lines = recorded.lines();
    if lines.next() != Some(SIDECAR_FORMAT) {
        return Ok(Lookup::Rejected(
            "its checksum file is not in this launcher's format".into(),
        ));
    }
    let mut field = |name: &str| {
        lines
            .next()
            .and_then(|l| l.strip_prefix(name))
            .and_then(|l| l.strip_prefix(' '))
            .unwrap_or("")
            .to_owned()
    };
    let (wasm_sha, engine_hash, cwasm_sha) = (field("wasm"), field("engine"), field("cwasm"));
    if wasm_sha != key.wasm_sha256 {
        return Ok(Lookup::Rejected(format!(
            "it was compiled from another wasm (sha256 {wasm_sha:?}, this one is {})",
            key.wasm_sha256
        )));
    }
    if engine_hash != key.engine_hash {
        return Ok(Lookup::Rejected(format!(
            "it was compiled for another engine configuration ({engine_hash:?})"
        )));
    }
    let actual = sha256_hex(&bytes);
    if cwasm_sha != actual {
        return Ok(Lookup::Rejected(format!(
            "sha256 {actual} does not match the recorded {cwasm_sha:?}"
        )));
    }
    // SAFETY: `bytes` are exactly the bytes whose sha256 was just checked against the
    // sidecar written next to them by `store`, i.e. `Component::serialize` output of this
    // launcher for this wasm and an engine with the same compatibility hash. They are in
    // memory, so they cannot change between the check and this call. See the module
    // documentation for the trust assumption on the cache directory, checked by
    // `prepare_dir`.
    match unsafe { Component::deserialize(engine, &bytes) } {
        Ok(component) => Ok(Lookup::Hit(component)),
        Err(e) => Ok(Lookup::Rejected(format!("cannot be loaded: {e}"))),
    }
}

/// Writes the entry and its sidecar atomically (unique temporary file + rename each).
fn store(component: &Component, entry: &Path, key: &Key) -> Result<(), String> {
    let bytes = component
        .serialize()
        .map_err(|e| format!("serializing: {e}"))?;
    let digest = sha256_hex(&bytes);
    write_atomic(entry, &bytes)?;
    write_atomic(&sidecar_path(entry), key.sidecar(&digest).as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    pylon_util::fs::write_atomic(path, bytes)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}

/// Sets the entry's modification time to now; best effort (pruning may then drop an
/// entry a little early, which only costs a compilation).
fn touch(entry: &Path) {
    if let Ok(file) = std::fs::File::options().write(true).open(entry) {
        let _ = file.set_modified(SystemTime::now());
    }
}

/// Removes an entry and its sidecar, recording the entry if it was there to remove.
fn remove_entry(entry: PathBuf, removed: &mut Vec<PathBuf>) {
    if std::fs::remove_file(&entry).is_ok() {
        let _ = std::fs::remove_file(sidecar_path(&entry));
        removed.push(entry);
    }
}

/// `<64 hex>-<16 hex>` → the engine part, for names this launcher writes.
fn entry_engine(stem: &str) -> Option<&str> {
    let (wasm, engine) = stem.split_once('-')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    (hex(wasm, 64) && hex(engine, 16)).then_some(engine)
}

/// Removes what the pruning policy (module documentation) does not keep; returns the
/// entries removed. Best effort: a file that cannot be removed, or that a concurrent
/// run removed first, is skipped.
pub(crate) fn prune(dir: &Path, engine16: &str, keep: &Path, now: SystemTime) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let age = |meta: &std::fs::Metadata| {
        meta.modified()
            .ok()
            .and_then(|t| now.duration_since(t).ok())
            .unwrap_or(Duration::ZERO)
    };
    let mut removed = Vec::new();
    let mut ours = Vec::new();
    for item in listing.flatten() {
        let path = item.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Ok(meta) = item.metadata() else {
            continue;
        };
        if name.starts_with(".pylon-tmp-") {
            if age(&meta) > STALE_TEMP_AGE {
                let _ = std::fs::remove_file(&path);
            }
        } else if let Some(stem) = name.strip_suffix(".cwasm.sha256") {
            // A sidecar whose entry is gone (removed by hand, or a concurrent prune).
            let orphan = entry_engine(stem).is_some() && !path.with_extension("").exists();
            if orphan && age(&meta) > STALE_TEMP_AGE {
                let _ = std::fs::remove_file(&path);
            }
        } else if let Some(engine) = name.strip_suffix(".cwasm").and_then(entry_engine) {
            if engine == engine16 {
                ours.push((meta.modified().unwrap_or(now), path));
            } else if age(&meta) > OTHER_ENGINE_MAX_AGE {
                remove_entry(path, &mut removed);
            }
        }
    }
    // Most recently used first; the entry just written is kept whatever its clock says.
    ours.sort_by_key(|(used, _)| std::cmp::Reverse(*used));
    let mut kept = 0;
    for (_, path) in ours {
        if path == keep || kept < KEEP_PER_ENGINE - 1 {
            kept += usize::from(path != keep);
            continue;
        }
        remove_entry(path, &mut removed);
    }
    removed
}
