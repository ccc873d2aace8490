//! The compilation cache: compiled components stored as `.cwasm` files the launcher wrote
//! itself, mapped into memory on a hit without being read or hashed.
//!
//! Layout, in the cache directory:
//! - `<K>.cwasm`: `Component::serialize` output, where `K` is
//!   `<sha256 hex of the wasm bytes>-<first 16 hex digits of the engine hash>` and the
//!   engine hash is sha256 over `Engine::precompile_compatibility_hash()` (wasmtime
//!   version, target, compiler flags and tunables such as epoch interruption);
//! - `<K>.cwasm.sha256`: the sidecar, five lines: a format line, then `wasm <sha256 of
//!   the wasm>`, `engine <engine hash>`, `cwasm <sha256 of the .cwasm bytes>` and `file
//!   <dev> <ino> <len> <mtime_ns> <ctime_ns>`, the identity of the `.cwasm` as published;
//! - `wasm-ids/<sha256 hex of the wasm's canonical path>`: the wasm's identity record,
//!   a format line, `file …` (the wasm file's identity, as above) and `sha256 <hex>`.
//!
//! Trust model. Loading an entry runs native code that its bytes describe, so only bytes
//! this launcher produced, for this wasm and this engine, may reach it:
//! - *Only the user can write the cache.* The directory must belong to the user running
//!   the launcher and not be writable by group or others (created 0700 when missing),
//!   else the run stops with an error naming it. An entry or sidecar owned by someone
//!   else or writable by group or others is discarded and recompiled; such an identity
//!   record is ignored and rewritten, and a `wasm-ids` directory failing the directory
//!   check is not used at all.
//! - *Entries are published whole and never changed.* Every file is written to a unique
//!   temporary file in the same directory, synced, and renamed into place, the `.cwasm`
//!   before its sidecar (so not even a crash can leave a sidecar naming a `.cwasm` whose
//!   bytes were not written). An entry is only ever replaced by a rename or removed,
//!   never written in place. The sidecar binds the entry to the wasm and the engine it was
//!   compiled for, and both must be this run's: an entry copied or renamed to another
//!   wasm's name is recompiled, not run in its place (wasmtime itself also rejects a
//!   mismatched version or configuration).
//! - *An entry is the file as published.* The sidecar records the `.cwasm`'s identity,
//!   taken from the published file after the rename (which sets its ctime). A lookup
//!   opens the entry once and does every check on that open file (fstat). If its identity
//!   is the recorded one, it is the file the launcher wrote, unchanged: nobody but the
//!   user can write the directory or the file, and any write, truncation, chmod, chown or
//!   link sets the inode's change time (ctime) from the kernel's clock, which nobody but
//!   root can set back, while a replacement is another inode. That open file is then
//!   mapped by `Component::deserialize_file` through `/proc/self/fd/N` (a link to the
//!   open file itself, so the file mapped is the file checked), neither read nor hashed;
//!   on other systems, or without `/proc`, its bytes are read from the open file and
//!   deserialized. The mapping is private and the cache never writes an entry in place,
//!   so the code stays what was checked for as long as it is used, as `deserialize_file`
//!   requires.
//! - If the identity differs but the size is the recorded one and the full sha256 of the
//!   bytes equals the recorded `cwasm` digest (a cache copied, or restored from a
//!   backup), those checked in-memory bytes are loaded and the identity is re-recorded
//!   (sidecar rewritten as above). Otherwise (a truncated, corrupted or half-written
//!   entry, a missing or foreign sidecar, another wasm or engine) the entry is discarded
//!   and recompiled. Concurrent runs can at worst leave a sidecar that describes a
//!   `.cwasm` another run has since replaced; the identity then differs and the digest
//!   decides.
//!
//! The checks defend against other users, corruption, half-written files and mix-ups,
//! not against the user's own processes, which can write the cache (or the launcher's
//! memory) anyway.
//!
//! The wasm's digest. The key needs sha256 of the wasm, and hashing build/pylon.wasm
//! costs more than mapping its code. When the identity record of the wasm path matches
//! the identity of the wasm file as opened, the recorded digest is used and the wasm is
//! not read, unless the cache misses: its bytes are then read to be compiled, and if
//! they do not hash to the key (the file changed under the launcher), what was read is
//! hashed and used. Without a matching record the wasm is read and hashed, and the
//! record rewritten (best effort) unless the file changed while it was read. A record
//! only chooses the key, and the entry the key names must still pass every check above:
//! a stale record can make the launcher run code it compiled for a wasm that was at that
//! path before, never code it did not compile. A change to the wasm made within the
//! same tick of the filesystem clock as the previous one, while the launcher is reading
//! the file, can leave its identity unchanged and so go unnoticed until the next change.
//!
//! Pruning: after a new entry is written (a miss), the directory keeps the
//! [`KEEP_PER_ENGINE`] most recently used entries of this engine and entries of other
//! engines (another wasmtime, another configuration) used within
//! [`OTHER_ENGINE_MAX_AGE`]. A hit marks the use on its sidecar's modification time (the
//! entry's own times are part of its identity); an entry's last use is the later of its
//! own and its sidecar's modification times (older launchers touched the entry).
//! Temporary files older than a day (a killed writer's) go too, and so do identity
//! records whose digest names no remaining entry. Only names of the forms above are ever
//! removed, so a `--cache-dir` shared with other files loses none of them.

use std::collections::HashSet;
use std::fs::File;
use std::hash::Hasher;
use std::io::{Read, Write};
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

/// The directory of the wasm identity records, in the cache directory.
pub const WASM_IDS_DIR: &str = "wasm-ids";

/// The identity record of the wasm file at `wasm` (a canonical path) in cache `dir`.
pub fn wasm_id_path(dir: &Path, wasm: &Path) -> PathBuf {
    dir.join(WASM_IDS_DIR)
        .join(sha256_hex(wasm.as_os_str().as_encoded_bytes()))
}

/// Entries of this engine kept by pruning: the wasm files run most recently (a few
/// profiles, or a build and the one before it), ~27 MB each for build/pylon.wasm.
pub const KEEP_PER_ENGINE: usize = 4;
/// Entries of other engines (an older launcher) are removed once unused this long.
pub const OTHER_ENGINE_MAX_AGE: Duration = Duration::from_secs(30 * 24 * 3600);
/// Temporary files left by a writer that was killed are removed after this long (long
/// enough never to race a writer still at work).
const STALE_TEMP_AGE: Duration = Duration::from_secs(24 * 3600);
/// The name prefix of temporary files (as `pylon_util::fs::write_atomic`'s).
const TEMP_PREFIX: &str = ".pylon-tmp-";
/// The first line of a sidecar.
const SIDECAR_FORMAT: &str = "pylon-launch cache entry 2";
/// The first line of a wasm identity record.
const WASM_ID_FORMAT: &str = "pylon-launch wasm identity 1";
/// Sidecars and identity records are a few hundred bytes; no more than this is read.
const SMALL_FILE_MAX: u64 = 4096;

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
}

/// What identifies a file's content without reading it: the same inode of the same
/// device, with the same size, modification time and status change time. Writing,
/// truncating, chmod, chown or linking the inode sets its ctime to the kernel's clock,
/// which nobody but root can set back; a file renamed over it is another inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Identity {
    dev: u64,
    ino: u64,
    len: u64,
    mtime_ns: i128,
    ctime_ns: i128,
}

impl Identity {
    /// `None` where files have no such identity: not a Unix system, or a filesystem
    /// that keeps no change time.
    #[cfg(unix)]
    fn of(meta: &std::fs::Metadata) -> Option<Identity> {
        use std::os::unix::fs::MetadataExt;
        let ns = |s: i64, n: i64| i128::from(s) * 1_000_000_000 + i128::from(n);
        let id = Identity {
            dev: meta.dev(),
            ino: meta.ino(),
            len: meta.len(),
            mtime_ns: ns(meta.mtime(), meta.mtime_nsec()),
            ctime_ns: ns(meta.ctime(), meta.ctime_nsec()),
        };
        (id.ctime_ns != 0).then_some(id)
    }

    #[cfg(not(unix))]
    fn of(_meta: &std::fs::Metadata) -> Option<Identity> {
        None
    }

    /// The `file …` line of a sidecar or identity record.
    fn line(id: Option<Identity>) -> String {
        match id {
            Some(i) => format!(
                "file {} {} {} {} {}",
                i.dev, i.ino, i.len, i.mtime_ns, i.ctime_ns
            ),
            None => "file unknown".to_owned(),
        }
    }

    /// The value of a `file …` line; `None` for `unknown` or anything malformed.
    fn parse(value: &str) -> Option<Identity> {
        let mut parts = value.split(' ');
        let id = Identity {
            dev: parts.next()?.parse().ok()?,
            ino: parts.next()?.parse().ok()?,
            len: parts.next()?.parse().ok()?,
            mtime_ns: parts.next()?.parse().ok()?,
            ctime_ns: parts.next()?.parse().ok()?,
        };
        parts.next().is_none().then_some(id)
    }

    /// What differs from `now`, for messages: `size 10→5, ctime`.
    fn changes(&self, now: &Identity) -> String {
        let mut changes = Vec::new();
        if self.dev != now.dev {
            changes.push(format!("device {}→{}", self.dev, now.dev));
        }
        if self.ino != now.ino {
            changes.push(format!("inode {}→{}", self.ino, now.ino));
        }
        if self.len != now.len {
            changes.push(format!("size {}→{}", self.len, now.len));
        }
        if self.mtime_ns != now.mtime_ns {
            changes.push("mtime".to_owned());
        }
        if self.ctime_ns != now.ctime_ns {
            changes.push("ctime".to_owned());
        }
        changes.join(", ")
    }
}

/// What the identity of a file says about it against the recorded one.
fn identity_change(recorded: Option<Identity>, now: Option<Identity>) -> Option<String> {
    match (recorded, now) {
        (Some(r), Some(n)) if r == n => None,
        (Some(r), Some(n)) => Some(r.changes(&n)),
        (None, Some(_)) => Some("no identity recorded".to_owned()),
        (_, None) => Some("file identities are not available here".to_owned()),
    }
}

/// A sidecar's fields.
struct Sidecar {
    wasm: String,
    engine: String,
    cwasm: String,
    file: Option<Identity>,
}

impl Sidecar {
    /// `None` when the text is not in this launcher's format.
    fn parse(text: &str) -> Option<Sidecar> {
        let mut lines = text.lines();
        if lines.next() != Some(SIDECAR_FORMAT) {
            return None;
        }
        let mut field = |name: &str| {
            lines
                .next()
                .and_then(|l| l.strip_prefix(name))
                .and_then(|l| l.strip_prefix(' '))
                .unwrap_or("")
                .to_owned()
        };
        let (wasm, engine, cwasm) = (field("wasm"), field("engine"), field("cwasm"));
        let file = Identity::parse(&field("file"));
        Some(Sidecar {
            wasm,
            engine,
            cwasm,
            file,
        })
    }

    fn new(key: &Key, cwasm: String, file: Option<Identity>) -> Sidecar {
        Sidecar {
            wasm: key.wasm_sha256.clone(),
            engine: key.engine_hash.clone(),
            cwasm,
            file,
        }
    }

    fn text(&self) -> String {
        format!(
            "{SIDECAR_FORMAT}\nwasm {}\nengine {}\ncwasm {}\n{}\n",
            self.wasm,
            self.engine,
            self.cwasm,
            Identity::line(self.file)
        )
    }
}

enum Lookup {
    Miss,
    /// The component, and why the entry was hashed when its identity was not the
    /// recorded one (`None`: it was, and the entry was mapped unread).
    Hit(Component, Option<String>),
    Rejected(String),
}

/// The wasm being launched, opened once: its identity is taken when it is opened, its
/// bytes are read only when needed.
struct Wasm<'a> {
    path: &'a Path,
    file: File,
    identity: Option<Identity>,
}

/// The wasm's bytes and their sha256.
type Contents = (Vec<u8>, String);

impl<'a> Wasm<'a> {
    fn open(path: &'a Path) -> Result<Self, LaunchError> {
        let file = File::open(path).map_err(|e| read_error(path, e))?;
        let meta = file.metadata().map_err(|e| read_error(path, e))?;
        Ok(Wasm {
            path,
            identity: Identity::of(&meta),
            file,
        })
    }

    /// Reads the whole file (from the open file, never the path again) and hashes it.
    fn read(&self) -> Result<Contents, LaunchError> {
        let mut bytes = Vec::new();
        (&self.file)
            .read_to_end(&mut bytes)
            .map_err(|e| read_error(self.path, e))?;
        let digest = sha256_hex(&bytes);
        Ok((bytes, digest))
    }

    /// Whether the open file still has the identity it had when it was opened.
    fn unchanged(&self) -> bool {
        let now = self.file.metadata().ok().and_then(|m| Identity::of(&m));
        self.identity.is_some() && now == self.identity
    }
}

fn read_error(path: &Path, source: std::io::Error) -> LaunchError {
    LaunchError::ReadWasm {
        path: path.to_path_buf(),
        source,
    }
}

/// The sha256 of the wasm: from its identity record when the file is still the one
/// recorded, else read (into `contents`), hashed and recorded.
fn digest_of(
    dir: &Path,
    wasm: &Wasm,
    contents: &mut Option<Contents>,
    report: &mut dyn FnMut(&Event),
) -> Result<String, LaunchError> {
    match recorded_wasm_digest(dir, wasm) {
        Ok(digest) => Ok(digest),
        Err(reason) => {
            let start = Instant::now();
            let read = wasm.read()?;
            let hash = start.elapsed();
            let recorded = record_wasm_digest(dir, wasm, &read.1);
            report(&Event::WasmHashed {
                wasm: wasm.path.to_path_buf(),
                reason,
                hash,
                recorded,
            });
            Ok(contents.insert(read).1.clone())
        }
    }
}

/// The sha256 of the wasm file at `wasm` (a canonical path) as the compiled-code cache
/// in `dir` knows it (see [`digest_of`]), and its bytes when they had to be read.
pub(crate) fn wasm_sha256(
    dir: &Path,
    wasm: &Path,
    report: &mut dyn FnMut(&Event),
) -> Result<(String, Option<Vec<u8>>), LaunchError> {
    prepare_dir(dir)?;
    let wasm = Wasm::open(wasm)?;
    let mut contents = None;
    let digest = digest_of(dir, &wasm, &mut contents, report)?;
    Ok((digest, contents.map(|(bytes, _)| bytes)))
}

/// Loads the compiled component of the wasm file at `wasm` (a canonical path) from the
/// cache in `cache_dir`, or compiles it there; without a cache, reads and compiles it.
pub(crate) fn load_or_compile(
    engine: &Engine,
    wasm: &Path,
    cache_dir: Option<&Path>,
    report: &mut dyn FnMut(&Event),
) -> Result<Component, LaunchError> {
    let Some(dir) = cache_dir else {
        let bytes = std::fs::read(wasm).map_err(|e| read_error(wasm, e))?;
        let start = Instant::now();
        let component = compile(engine, wasm, &bytes)?;
        report(&Event::Compiled {
            compile: start.elapsed(),
        });
        return Ok(component);
    };
    prepare_dir(dir)?;
    let wasm = Wasm::open(wasm)?;
    // The wasm's bytes and digest, once read: on a hit with a usable identity record,
    // never.
    let mut contents: Option<Contents> = None;
    let wasm_sha256 = digest_of(dir, &wasm, &mut contents, report)?;
    let mut key = Key {
        wasm_sha256,
        engine_hash: engine_hash_hex(engine),
    };
    loop {
        let entry = key.entry(dir);
        let start = Instant::now();
        match lookup(engine, &entry, &key)? {
            Lookup::Hit(component, reverified) => {
                report(&Event::CacheHit {
                    entry,
                    load: start.elapsed(),
                    reverified,
                });
                return Ok(component);
            }
            Lookup::Rejected(reason) => {
                // Removed at once: should the rewrite fail, the next run misses instead
                // of rejecting the entry again.
                let _ = std::fs::remove_file(&entry);
                let _ = std::fs::remove_file(sidecar_path(&entry));
                report(&Event::CacheRejected {
                    entry: entry.clone(),
                    reason,
                })
            }
            Lookup::Miss => {}
        }
        // Compiling needs the bytes, and they must be the ones the key names.
        let read = match contents.take() {
            Some(read) => read,
            None => {
                let start = Instant::now();
                let read = wasm.read()?;
                if read.1 != key.wasm_sha256 {
                    // The record matched the file's identity but not its content: the
                    // file changed under the launcher. What was read is what runs.
                    let recorded = record_wasm_digest(dir, &wasm, &read.1);
                    report(&Event::WasmHashed {
                        wasm: wasm.path.to_path_buf(),
                        reason: "its content is not the one its identity record names (it \
                                 changed under the launcher)"
                            .to_owned(),
                        hash: start.elapsed(),
                        recorded,
                    });
                    key.wasm_sha256 = read.1.clone();
                    contents = Some(read);
                    continue;
                }
                read
            }
        };
        let (bytes, _) = contents.insert(read);
        let start = Instant::now();
        let component = compile(engine, wasm.path, bytes)?;
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
        return Ok(component);
    }
}

fn compile(engine: &Engine, wasm: &Path, bytes: &[u8]) -> Result<Component, LaunchError> {
    Component::from_binary(engine, bytes).map_err(|e| LaunchError::Compile {
        path: wasm.to_path_buf(),
        source: e.into(),
    })
}

/// Creates the cache directory (0700) if it is missing and checks that nobody but this
/// user can write it: whoever can write it chooses the native code the launcher runs.
pub(crate) fn prepare_dir(dir: &Path) -> Result<(), LaunchError> {
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

/// Why a cache directory or file with this metadata cannot be trusted, if it cannot.
pub(crate) fn untrusted(meta: &std::fs::Metadata) -> Option<String> {
    pylon_util::fs::not_owner_only(meta)
}

/// A sidecar or identity record, opened and checked.
enum Small {
    Missing,
    /// Owned by someone else or writable by others: why.
    Untrusted(String),
    /// The open file and its text.
    Text(File, String),
}

fn read_small(path: &Path) -> std::io::Result<Small> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Small::Missing),
        Err(e) => return Err(e),
    };
    if let Some(reason) = untrusted(&file.metadata()?) {
        return Ok(Small::Untrusted(reason));
    }
    let mut bytes = Vec::new();
    (&file).take(SMALL_FILE_MAX).read_to_end(&mut bytes)?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Ok(Small::Text(file, text))
}

fn lookup(engine: &Engine, entry: &Path, key: &Key) -> Result<Lookup, LaunchError> {
    let unreadable = |path: &Path, source| LaunchError::Cache {
        path: path.to_path_buf(),
        source,
    };
    let file = match File::open(entry) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Lookup::Miss),
        Err(e) => return Err(unreadable(entry, e)),
    };
    // The open file's own metadata: the file that is mapped or read next.
    let meta = file.metadata().map_err(|e| unreadable(entry, e))?;
    if let Some(reason) = untrusted(&meta) {
        return Ok(Lookup::Rejected(format!("the file is {reason}")));
    }
    let sidecar = sidecar_path(entry);
    let (sidecar_file, text) = match read_small(&sidecar).map_err(|e| unreadable(&sidecar, e))? {
        Small::Text(file, text) => (file, text),
        Small::Missing => return Ok(Lookup::Rejected("its checksum file is missing".into())),
        Small::Untrusted(reason) => {
            return Ok(Lookup::Rejected(format!("its checksum file is {reason}")))
        }
    };
    let Some(recorded) = Sidecar::parse(&text) else {
        return Ok(Lookup::Rejected(
            "its checksum file is not in this launcher's format".into(),
        ));
    };
    if recorded.wasm != key.wasm_sha256 {
        return Ok(Lookup::Rejected(format!(
            "it was compiled from another wasm (sha256 {:?}, this one is {})",
            recorded.wasm, key.wasm_sha256
        )));
    }
    if recorded.engine != key.engine_hash {
        return Ok(Lookup::Rejected(format!(
            "it was compiled for another engine configuration ({:?})",
            recorded.engine
        )));
    }
    let identity = Identity::of(&meta);
    let Some(changed) = identity_change(recorded.file, identity) else {
        return match map(engine, &file) {
            Ok(component) => {
                // A use, for pruning; on the sidecar, since the entry's own times are its
                // identity. Best effort: pruning may then drop the entry a little early.
                let _ = sidecar_file.set_modified(SystemTime::now());
                Ok(Lookup::Hit(component, None))
            }
            Err(e) => Ok(Lookup::Rejected(format!("cannot be loaded: {e}"))),
        };
    };
    check_digest(engine, entry, &file, identity, &recorded, key, &changed)
}

/// An entry that is not the file as published (`changed` says how) is only good if its
/// bytes still are: loads them if their sha256 is the recorded one, and records the
/// file's identity for the next run.
fn check_digest(
    engine: &Engine,
    entry: &Path,
    file: &File,
    identity: Option<Identity>,
    recorded: &Sidecar,
    key: &Key,
    changed: &str,
) -> Result<Lookup, LaunchError> {
    if let (Some(was), Some(now)) = (recorded.file, identity) {
        if was.len != now.len {
            return Ok(Lookup::Rejected(format!(
                "the file changed since it was written ({changed})"
            )));
        }
    }
    let mut bytes = Vec::new();
    let mut reader = file;
    reader
        .read_to_end(&mut bytes)
        .map_err(|source| LaunchError::Cache {
            path: entry.to_path_buf(),
            source,
        })?;
    let actual = sha256_hex(&bytes);
    if actual != recorded.cwasm {
        return Ok(Lookup::Rejected(format!(
            "the file changed since it was written ({changed}) and its sha256 {actual} does \
             not match the recorded {:?}",
            recorded.cwasm
        )));
    }
    // SAFETY: `bytes` are exactly the bytes whose sha256 was just checked against the
    // sidecar written next to them by `store`, i.e. `Component::serialize` output of this
    // launcher for this wasm and an engine with the same compatibility hash. They are in
    // memory, so they cannot change between the check and this call. See the module
    // documentation for the trust assumption on the cache directory, checked by
    // `prepare_dir`.
    let component = match unsafe { Component::deserialize(engine, &bytes) } {
        Ok(component) => component,
        Err(e) => return Ok(Lookup::Rejected(format!("cannot be loaded: {e}"))),
    };
    // Bind the entry to this file, so that the next run maps it unread.
    let after = file.metadata().ok().and_then(|m| Identity::of(&m));
    let rerecorded = if identity.is_none() {
        Err("file identities are not available here".to_owned())
    } else if after != identity {
        Err("it changed while it was read".to_owned())
    } else {
        let sidecar = sidecar_path(entry);
        let text = Sidecar::new(key, actual, identity).text();
        publish(&sidecar, text.as_bytes())
            .map(drop)
            .map_err(write_error(&sidecar))
    };
    let outcome = match rerecorded {
        Ok(()) => "identity re-recorded".to_owned(),
        Err(e) => format!("identity not re-recorded: {e}"),
    };
    Ok(Lookup::Hit(
        component,
        Some(format!(
            "the file changed since it was written ({changed}) but its sha256 matches the \
             recorded one; {outcome}"
        )),
    ))
}

/// Loads the entry open as `file`, which has just passed its checks, by mapping it.
fn map(engine: &Engine, file: &File) -> Result<Component, String> {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let path = format!("/proc/self/fd/{}", file.as_raw_fd());
        // SAFETY: `path` is a magic link to the open `file` itself (not a path lookup
        // that could find another file), kept open until this call returns. Its
        // identity was just found to be the one recorded when this launcher published
        // it, so its bytes are, unchanged, this launcher's `Component::serialize` output
        // for this wasm and an engine with the same compatibility hash (module
        // documentation: only the user can write the directory and the file, and any
        // change to the file would have changed its ctime, which only root can set
        // back). The cache never writes an entry in place, so the mapped file stays
        // unchanged while the component lives, as `deserialize_file` requires.
        match unsafe { Component::deserialize_file(engine, &path) } {
            Ok(component) => return Ok(component),
            // No /proc (some sandboxes): read the open file below instead.
            Err(_) if !Path::new("/proc/self/fd").is_dir() => {}
            Err(e) => return Err(format!("{e:#}")),
        }
    }
    let mut bytes = Vec::new();
    let mut reader = file;
    reader.read_to_end(&mut bytes).map_err(|e| e.to_string())?;
    // SAFETY: `bytes` were read from the open `file`, whose identity was just found to
    // be the one recorded when this launcher published it (see above), and are in
    // memory, so they cannot change before or during this call.
    unsafe { Component::deserialize(engine, &bytes) }.map_err(|e| format!("{e:#}"))
}

/// Writes the entry, then its sidecar with the entry's identity as published.
fn store(component: &Component, entry: &Path, key: &Key) -> Result<(), String> {
    let bytes = component
        .serialize()
        .map_err(|e| format!("serializing: {e}"))?;
    let digest = sha256_hex(&bytes);
    let published = publish(entry, &bytes).map_err(write_error(entry))?;
    // From the published file itself after the rename (which set its ctime): a
    // concurrent run renaming its own entry over it cannot slip its identity in.
    let identity = published.metadata().ok().and_then(|m| Identity::of(&m));
    drop(published);
    let sidecar = sidecar_path(entry);
    let text = Sidecar::new(key, digest, identity).text();
    publish(&sidecar, text.as_bytes())
        .map(drop)
        .map_err(write_error(&sidecar))
}

fn write_error(path: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("writing {}: {e}", path.display())
}

/// Writes `bytes` to a new temporary file beside `path` (mode 0600), syncs it and
/// renames it over `path`, so readers see the old file or the new one, never a torn
/// one; returns the published file, still open.
fn publish(path: &Path, bytes: &[u8]) -> std::io::Result<File> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(TEMP_PREFIX)
        .tempfile_in(dir)?;
    tmp.write_all(bytes)?;
    tmp.as_file().sync_all()?;
    tmp.persist(path).map_err(|e| e.error)
}

/// The wasm's digest from its identity record if the record is usable and names the
/// file as opened; else why not.
fn recorded_wasm_digest(dir: &Path, wasm: &Wasm) -> Result<String, String> {
    let Some(identity) = wasm.identity else {
        return Err("file identities are not available here".into());
    };
    let ids = dir.join(WASM_IDS_DIR);
    match std::fs::metadata(&ids) {
        Ok(meta) => {
            if let Some(reason) = untrusted(&meta) {
                return Err(format!(
                    "identity records are not used: {} is {reason}",
                    ids.display()
                ));
            }
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err("it has no identity record".into())
        }
        Err(e) => return Err(format!("{}: {e}", ids.display())),
    }
    let record = wasm_id_path(dir, wasm.path);
    let text = match read_small(&record) {
        Ok(Small::Text(_, text)) => text,
        Ok(Small::Missing) => return Err("it has no identity record".into()),
        Ok(Small::Untrusted(reason)) => {
            return Err(format!("its identity record is {reason} (ignored)"))
        }
        Err(e) => return Err(format!("its identity record is unreadable: {e}")),
    };
    let Some((recorded, digest)) = parse_wasm_id(&text) else {
        return Err("its identity record is not in this launcher's format".into());
    };
    match identity_change(recorded, Some(identity)) {
        None => Ok(digest.to_owned()),
        Some(changed) => Err(format!(
            "it changed since its identity was recorded ({changed})"
        )),
    }
}

/// An identity record's identity and digest; `None` when not in this launcher's format.
fn parse_wasm_id(text: &str) -> Option<(Option<Identity>, &str)> {
    let mut lines = text.lines();
    if lines.next() != Some(WASM_ID_FORMAT) {
        return None;
    }
    let identity = Identity::parse(lines.next()?.strip_prefix("file ")?);
    let digest = lines.next()?.strip_prefix("sha256 ")?;
    is_hex(digest, 64).then_some((identity, digest))
}

/// Records the identity and digest of the wasm, which has just been read; best effort,
/// `Err` says why it was not recorded.
fn record_wasm_digest(dir: &Path, wasm: &Wasm, digest: &str) -> Result<(), String> {
    let Some(identity) = wasm.identity else {
        return Err("file identities are not available here".into());
    };
    let record = wasm_id_path(dir, wasm.path);
    if !wasm.unchanged() {
        // What was read may be neither the old content nor the new.
        let _ = std::fs::remove_file(&record);
        return Err("it changed while it was read".into());
    }
    let ids = dir.join(WASM_IDS_DIR);
    let mut builder = std::fs::DirBuilder::new();
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    match builder.create(&ids) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("creating {}: {e}", ids.display())),
    }
    let meta = std::fs::metadata(&ids).map_err(|e| format!("{}: {e}", ids.display()))?;
    if let Some(reason) = untrusted(&meta) {
        return Err(format!("{} is {reason}", ids.display()));
    }
    let text = format!(
        "{WASM_ID_FORMAT}\n{}\nsha256 {digest}\n",
        Identity::line(Some(identity))
    );
    publish(&record, text.as_bytes())
        .map(drop)
        .map_err(write_error(&record))
}

/// Removes an entry and its sidecar, recording the entry if it was there to remove.
fn remove_entry(entry: PathBuf, removed: &mut Vec<PathBuf>) {
    if std::fs::remove_file(&entry).is_ok() {
        let _ = std::fs::remove_file(sidecar_path(&entry));
        removed.push(entry);
    }
}

fn is_hex(s: &str, len: usize) -> bool {
    s.len() == len && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// `<64 hex>-<16 hex>` → the wasm and engine parts, for names this launcher writes.
fn entry_parts(stem: &str) -> Option<(&str, &str)> {
    let (wasm, engine) = stem.split_once('-')?;
    (is_hex(wasm, 64) && is_hex(engine, 16)).then_some((wasm, engine))
}

/// Removes what the pruning policy (module documentation) does not keep; returns the
/// entries removed. Best effort: a file that cannot be removed, or that a concurrent
/// run removed first, is skipped.
pub(crate) fn prune(dir: &Path, engine16: &str, keep: &Path, now: SystemTime) -> Vec<PathBuf> {
    let Ok(listing) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let age = |time: SystemTime| now.duration_since(time).unwrap_or(Duration::ZERO);
    // When an entry was last used: a hit touches the sidecar (older launchers touched
    // the entry itself).
    let last_used = |entry: &Path, meta: &std::fs::Metadata| {
        let own = meta.modified().unwrap_or(now);
        match std::fs::metadata(sidecar_path(entry)).and_then(|m| m.modified()) {
            Ok(sidecar) => own.max(sidecar),
            Err(_) => own,
        }
    };
    let mut removed = Vec::new();
    let mut ours = Vec::new();
    // The wasm digests of the entries that stay: the identity records worth keeping.
    let mut live = HashSet::new();
    for item in listing.flatten() {
        let path = item.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        let Ok(meta) = item.metadata() else {
            continue;
        };
        let modified = meta.modified().unwrap_or(now);
        if name.starts_with(TEMP_PREFIX) {
            if age(modified) > STALE_TEMP_AGE {
                let _ = std::fs::remove_file(&path);
            }
        } else if let Some(stem) = name.strip_suffix(".cwasm.sha256") {
            // A sidecar whose entry is gone (removed by hand, or a concurrent prune).
            let orphan = entry_parts(stem).is_some() && !path.with_extension("").exists();
            if orphan && age(modified) > STALE_TEMP_AGE {
                let _ = std::fs::remove_file(&path);
            }
        } else if let Some((wasm, engine)) = name.strip_suffix(".cwasm").and_then(entry_parts) {
            let wasm = wasm.to_owned();
            let used = last_used(&path, &meta);
            if engine == engine16 {
                ours.push((used, path, wasm));
            } else if age(used) > OTHER_ENGINE_MAX_AGE {
                remove_entry(path, &mut removed);
            } else {
                live.insert(wasm);
            }
        }
    }
    // Most recently used first; the entry just written is kept whatever its clock says.
    ours.sort_by_key(|(used, _, _)| std::cmp::Reverse(*used));
    let mut kept = 0;
    for (_, path, wasm) in ours {
        if path == keep || kept < KEEP_PER_ENGINE - 1 {
            kept += usize::from(path != keep);
            live.insert(wasm);
            continue;
        }
        remove_entry(path, &mut removed);
    }
    prune_wasm_ids(&dir.join(WASM_IDS_DIR), &live, now);
    removed
}

/// Removes the identity records whose digest names no entry in `live` (the next run of
/// their wasm compiles it, and hashes it for that anyway) and stale temporary files.
fn prune_wasm_ids(ids: &Path, live: &HashSet<String>, now: SystemTime) {
    // A directory that fails the check is not used, nor cleaned.
    if !std::fs::metadata(ids).is_ok_and(|m| m.is_dir() && untrusted(&m).is_none()) {
        return;
    }
    let Ok(listing) = std::fs::read_dir(ids) else {
        return;
    };
    for item in listing.flatten() {
        let path = item.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if name.starts_with(TEMP_PREFIX) {
            let modified = item.metadata().and_then(|m| m.modified());
            let age = modified.map(|t| now.duration_since(t).unwrap_or(Duration::ZERO));
            if age.is_ok_and(|age| age > STALE_TEMP_AGE) {
                let _ = std::fs::remove_file(&path);
            }
        } else if is_hex(name, 64) {
            let useful = match read_small(&path) {
                Ok(Small::Text(_, text)) => {
                    parse_wasm_id(&text).is_some_and(|(_, digest)| live.contains(digest))
                }
                // A record that cannot be read now may be readable later.
                Err(_) => true,
                Ok(_) => false,
            };
            if !useful {
                let _ = std::fs::remove_file(&path);
            }
        }
    }
}

/// Whether `path` is a regular file this user owns and only this user can write (a
/// startup snapshot in the cache directory); false when it is missing.
pub(crate) fn trusted_file(path: &Path) -> bool {
    std::fs::symlink_metadata(path).is_ok_and(|meta| meta.is_file() && untrusted(&meta).is_none())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identity_lines_round_trip_and_name_what_changed() {
        let id = Identity {
            dev: 2049,
            ino: 77,
            len: 1 << 20,
            mtime_ns: 1_700_000_000_123_456_789,
            ctime_ns: -5,
        };
        let line = Identity::line(Some(id));
        assert_eq!(
            Identity::parse(line.strip_prefix("file ").unwrap()),
            Some(id)
        );
        assert_eq!(Identity::line(None), "file unknown");
        assert_eq!(Identity::parse("unknown"), None);
        assert_eq!(Identity::parse("1 2 3 4"), None);
        assert_eq!(Identity::parse("1 2 3 4 5 6"), None);
        let now = Identity {
            len: 10,
            ctime_ns: 9,
            ..id
        };
        assert_eq!(id.changes(&now), "size 1048576→10, ctime");
        assert_eq!(identity_change(Some(id), Some(id)), None);
        assert!(identity_change(None, Some(id)).is_some());
        assert!(identity_change(Some(id), None).is_some());
    }

    #[test]
    fn sidecar_and_wasm_id_texts_parse_back() {
        let key = Key {
            wasm_sha256: "a".repeat(64),
            engine_hash: "b".repeat(64),
        };
        let id = Identity {
            dev: 1,
            ino: 2,
            len: 3,
            mtime_ns: 4,
            ctime_ns: 5,
        };
        let text = Sidecar::new(&key, "c".repeat(64), Some(id)).text();
        let parsed = Sidecar::parse(&text).unwrap();
        assert_eq!(parsed.wasm, key.wasm_sha256);
        assert_eq!(parsed.engine, key.engine_hash);
        assert_eq!(parsed.cwasm, "c".repeat(64));
        assert_eq!(parsed.file, Some(id));
        // A format-1 sidecar (no `file` line) is not this launcher's.
        let old = format!(
            "pylon-launch cache entry 1\nwasm {0}\nengine {0}\ncwasm {0}\n",
            "a"
        );
        assert!(Sidecar::parse(&old).is_none());

        let record = format!(
            "{WASM_ID_FORMAT}\nfile 1 2 3 4 5\nsha256 {}\n",
            "d".repeat(64)
        );
        assert_eq!(
            parse_wasm_id(&record),
            Some((Some(id), "d".repeat(64).as_str()))
        );
        assert_eq!(parse_wasm_id(&record.replace("sha256 d", "sha256 x")), None);
        assert_eq!(parse_wasm_id("pylon-launch wasm identity 0\n"), None);
    }
}
