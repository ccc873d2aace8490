//! The compilation cache: compiled components stored as checked `.cwasm` files.
//!
//! Layout, in the cache directory:
//! - `<K>.cwasm`: `Component::serialize` output, where `K` is
//!   `<sha256 hex of the wasm bytes>-<first 16 hex digits of the engine hash>` and the
//!   engine hash is sha256 over `Engine::precompile_compatibility_hash()` (wasmtime
//!   version, target, compiler flags and tunables such as epoch interruption);
//! - `<K>.cwasm.sha256`: the sha256 hex of the `.cwasm` bytes, and a newline.
//!
//! Both are written to a unique temporary file in the same directory and renamed into
//! place, the `.cwasm` first; concurrent runs can therefore at worst leave a pair whose
//! digests disagree, which the next run detects, reports and rewrites.
//!
//! Safety argument for `Component::deserialize`: deserializing runs native code that the
//! bytes describe, so only bytes this launcher produced may reach it. The cache entry is
//! read fully into memory, its sha256 is compared with the sidecar, and those same
//! in-memory bytes (never the file again, which could change meanwhile) are deserialized.
//! A truncated, corrupted or half-written entry fails the check; an entry from another
//! engine configuration has another name, and wasmtime itself rejects a mismatched
//! version or configuration. The check does not defend against someone who can write
//! the cache directory (they could write both files): the cache directory must be as
//! trusted as the launcher binary, like wasmtime's own cache.

use std::hash::Hasher;
use std::path::{Path, PathBuf};
use std::time::Instant;

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
    let engine_hash = engine_hash_hex(engine);
    dir.join(format!(
        "{}-{}.cwasm",
        sha256_hex(wasm_bytes),
        &engine_hash[..16]
    ))
}

/// The checksum sidecar of a `.cwasm` path.
pub fn sidecar_path(entry: &Path) -> PathBuf {
    let mut name = entry.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
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
    std::fs::create_dir_all(dir).map_err(|source| LaunchError::Cache {
        path: dir.to_path_buf(),
        source,
    })?;
    let entry = entry_path(dir, engine, bytes);
    let start = Instant::now();
    match lookup(engine, &entry)? {
        Lookup::Hit(component) => {
            report(&Event::CacheHit {
                entry,
                load: start.elapsed(),
            });
            return Ok(component);
        }
        Lookup::Rejected(reason) => report(&Event::CacheRejected {
            entry: entry.clone(),
            reason,
        }),
        Lookup::Miss => {}
    }
    let start = Instant::now();
    let component = compile(engine, wasm, bytes)?;
    report(&Event::CacheMiss {
        entry: entry.clone(),
        compile: start.elapsed(),
    });
    if let Err(reason) = store(&component, &entry) {
        report(&Event::CacheWriteFailed { entry, reason });
    }
    Ok(component)
}

fn compile(engine: &Engine, wasm: &Path, bytes: &[u8]) -> Result<Component, LaunchError> {
    Component::from_binary(engine, bytes).map_err(|e| LaunchError::Compile {
        path: wasm.to_path_buf(),
        source: e.into(),
    })
}

fn lookup(engine: &Engine, entry: &Path) -> Result<Lookup, LaunchError> {
    let unreadable = |path: &Path, source| LaunchError::Cache {
        path: path.to_path_buf(),
        source,
    };
    let bytes = match std::fs::read(entry) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
        Err(e) => return Err(unreadable(entry, e)),
    };
    let sidecar = sidecar_path(entry);
    let recorded = match std::fs::read_to_string(&sidecar) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Ok(Lookup::Rejected("its checksum file is missing".into()))
        }
        Err(e) => return Err(unreadable(&sidecar, e)),
    };
    let actual = sha256_hex(&bytes);
    if recorded.trim() != actual {
        return Ok(Lookup::Rejected(format!(
            "sha256 {actual} does not match the recorded {}",
            recorded.trim()
        )));
    }
    // SAFETY: `bytes` are exactly the bytes whose sha256 was just checked against the
    // sidecar written next to them by `store`, i.e. `Component::serialize` output of this
    // launcher for an engine with the same compatibility hash (part of the file name).
    // They are in memory, so they cannot change between the check and this call. See the
    // module documentation for the trust assumption on the cache directory.
    match unsafe { Component::deserialize(engine, &bytes) } {
        Ok(component) => Ok(Lookup::Hit(component)),
        Err(e) => Ok(Lookup::Rejected(format!("cannot be loaded: {e}"))),
    }
}

/// Writes the entry and its sidecar atomically (unique temporary file + rename each).
fn store(component: &Component, entry: &Path) -> Result<(), String> {
    let bytes = component
        .serialize()
        .map_err(|e| format!("serializing: {e}"))?;
    let digest = sha256_hex(&bytes);
    write_atomic(entry, &bytes)?;
    write_atomic(&sidecar_path(entry), format!("{digest}\n").as_bytes())
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<(), String> {
    pylon_util::fs::write_atomic(path, bytes)
        .map_err(|e| format!("writing {}: {e}", path.display()))
}
