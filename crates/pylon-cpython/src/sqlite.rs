//! SQLite for the stdlib's `_sqlite3`, built inside the WASI tree from the profile's
//! pinned source: SQLite's own `Makefile.linux-generic` makes the amalgamation
//! (`sqlite3.c`, with the JimTCL it bundles: no tclsh, no configure), the pinned clang
//! compiles it for the WASI target with the profile's `[sqlite] cflags`, and
//! `llvm-ar` (deterministic by default) archives it into `<toolchain>/sqlite3/lib/`.
//! Headers go to `<toolchain>/sqlite3/include/`. The toolchain directory is mapped to
//! `/wasi-toolchain` in every path the build can record, so the library's location
//! never reaches python.wasm or `_sysconfigdata`.
//!
//! The WASI specifics that are not options live here: the amalgamation is compiled
//! through [`UNIT_C`], which routes SQLite's POSIX-lock calls to a function of its own
//! (see its comment). The source, the options and that file are all part of the
//! build's cache key.

use std::fs;
use std::path::Path;
use std::process::Command;

use crate::build::{io_err, pinned, run_logged, unpack_and_patch, BuildError, Stage, BASE_PATH};
use crate::profile::SqliteSpec;

/// The compilation unit: `#include "sqlite3.c"` plus the WASI lock glue.
pub const UNIT_C: &str = include_str!("sqlite/pylon_sqlite.c");
const UNIT_NAME: &str = "pylon_sqlite.c";

/// The directory under the build's toolchain directory that holds `include/` and
/// `lib/libsqlite3.a`.
pub const SUBDIR: &str = "sqlite3";

/// The archive's file name.
pub const ARCHIVE: &str = "libsqlite3.a";

/// Where a built tree keeps the archive.
pub fn archive_in(toolchain_dir: &Path) -> std::path::PathBuf {
    toolchain_dir.join(SUBDIR).join("lib").join(ARCHIVE)
}

/// What configure is given to find the library (`LIBSQLITE3_CFLAGS`, `LIBSQLITE3_LIBS`).
#[derive(Debug, Clone)]
pub struct SqliteLib {
    pub cflags: String,
    pub libs: String,
}

/// Where one SQLite build happens and with what.
pub struct SqliteBuild<'a> {
    pub spec: &'a SqliteSpec,
    /// The digest-checked source tarball.
    pub tarball: &'a Path,
    /// The WASI work tree's top (`cpython/work/<key>/`).
    pub work: &'a Path,
    /// The build's toolchain directory (mapped to `/wasi-toolchain`).
    pub toolchain_dir: &'a Path,
    /// The WASI C compiler as a program and its fixed arguments (target, sysroot, …).
    pub cc: &'a [String],
    pub ar: &'a Path,
    pub home: &'a Path,
    pub epoch: u64,
    pub logs: &'a Path,
}

impl SqliteBuild<'_> {
    /// Builds `libsqlite3.a` and returns how configure finds it.
    pub fn run(&self) -> Result<SqliteLib, BuildError> {
        let stage = Stage::Sqlite;
        let src_root = self.work.join("sqlite");
        fs::create_dir_all(&src_root).map_err(io_err("creating", &src_root))?;
        let top = unpack_and_patch(
            self.tarball,
            &src_root,
            &self.spec.source.top_dir,
            &[],
            self.logs,
            self.epoch,
            stage,
        )?;

        // The amalgamation, in a build directory of its own.
        let gen = src_root.join("build");
        fs::create_dir_all(&gen).map_err(io_err("creating", &gen))?;
        let mut make = Command::new("make");
        make.current_dir(&gen)
            .arg("-f")
            .arg(top.join("Makefile.linux-generic"))
            .arg(format!("TOP={}", top.display()))
            .arg("sqlite3.c");
        let make = pinned(make, self.home, self.epoch, BASE_PATH);
        run_logged(make, stage, &self.logs.join("sqlite-amalgamation.log"))?;

        let out = self.toolchain_dir.join(SUBDIR);
        let include = out.join("include");
        let lib = out.join("lib");
        for d in [&include, &lib] {
            fs::create_dir_all(d).map_err(io_err("creating", d))?;
        }
        for h in ["sqlite3.h", "sqlite3ext.h"] {
            let from = gen.join(h);
            fs::copy(&from, include.join(h)).map_err(io_err("copying", &from))?;
        }
        let unit = gen.join(UNIT_NAME);
        fs::write(&unit, UNIT_C).map_err(io_err("writing", &unit))?;

        let (program, fixed) = self.cc.split_first().ok_or_else(|| BuildError::Check {
            stage,
            message: "no C compiler for the WASI target".into(),
        })?;
        let mut cc = Command::new(program);
        cc.current_dir(&gen)
            .args(fixed)
            .arg(format!("-ffile-prefix-map={}=/sqlite", src_root.display()))
            .arg(format!(
                "-ffile-prefix-map={}=/wasi-toolchain",
                self.toolchain_dir.display()
            ))
            .args(&self.spec.cflags)
            .args(["-c", UNIT_NAME, "-o", "sqlite3.o"]);
        let cc = pinned(cc, self.home, self.epoch, BASE_PATH);
        run_logged(cc, stage, &self.logs.join("sqlite-compile.log"))?;
        let archive = archive_in(self.toolchain_dir);
        let mut ar = Command::new(self.ar);
        ar.current_dir(&gen)
            .arg("rcs")
            .arg(&archive)
            .arg("sqlite3.o");
        let ar = pinned(ar, self.home, self.epoch, BASE_PATH);
        run_logged(ar, stage, &self.logs.join("sqlite-ar.log"))?;

        Ok(SqliteLib {
            cflags: format!("-I{}", include.display()),
            libs: format!("-L{} -lsqlite3", lib.display()),
        })
    }
}

/// The line of the build's key material for this library: its source and the unit
/// (the options are in the profile's text, which is keyed whole).
pub fn key_line(spec: &SqliteSpec) -> String {
    format!(
        "sqlite {} {} unit {}",
        spec.source.tarball,
        spec.source.sha256,
        pylon_util::digest::sha256_hex(UNIT_C.as_bytes())
    )
}
