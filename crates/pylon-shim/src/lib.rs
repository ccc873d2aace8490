//! Generates, from a cap's WIT, the CPython extension module that imports it.
//!
//! A cap *exports* WIT interfaces; CPython reaches them through a C extension module
//! compiled into python.wasm that *imports* the same interfaces. [`generate_shim`]
//! builds that module: it parses the cap's WIT directory, builds a shim world
//! (`package pylon-shim:<cap>; world shim-<cap> { import <each exported interface>; }`),
//! runs wit-bindgen-c on it in-process (C import bindings plus the component-type
//! object) and emits `_pylon_<cap>module.c`, which maps WIT values to Python objects.
//! [`Shim::write_to`] writes all of it as a `cpython-ext/`-layout directory
//! `<ext_root>/_pylon_<cap>/`. Output is deterministic: the same WIT gives the same
//! bytes, wherever it lives and whenever it is generated.
//!
//! # The Python mapping (the contract Python overlays are written against)
//!
//! * Module `_pylon_<cap>` (cap name with `-` → `_`). Each imported interface is a
//!   module object (made with `PyModule_New`, named `_pylon_<cap>.<iface>`) attached as
//!   attribute `<iface>` (`-` → `_`): `_pylon_zlib.zlib`, `_pylon_hashing.kdf`.
//!   Interfaces pulled in by a `use` of an exported interface are imported and exposed
//!   the same way.
//! * Functions are named after the WIT name with `-` → `_`, take their parameters
//!   positionally or by keyword (WIT parameter names, `-` → `_`).
//! * Values:
//!   - `bool` ↔ `bool` (arguments: any object, by truth value);
//!   - integers ↔ `int` (arguments: anything with `__index__`; out of range:
//!     `OverflowError`); `f32`/`f64` ↔ `float`; `char` ↔ `str` of length 1 (a
//!     surrogate: `ValueError`); `string` ↔ `str` (UTF-8);
//!   - `list<u8>`: arguments accept any bytes-like object (buffer protocol, no copy:
//!     the WIT list points at the buffer during the call), results are `bytes`;
//!     other `list<T>`: arguments accept any iterable, results are `list`;
//!   - `tuple<…>` ↔ `tuple` (arguments: any sequence of the right length);
//!   - `option<T>` ↔ `None` or the value (`option<option<T>>` is rejected at
//!     generation time);
//!   - `record` ↔ a `PyStructSequence` type per record, exposed in its interface's
//!     namespace under the record name in CamelCase (`zstd.CompressOptions`); fields are
//!     the WIT field names (`-` → `_`); arguments accept that type or any sequence of the
//!     right length in field order;
//!   - `enum` ↔ `int` case index, with constants `<ENUM>_<CASE>` (upper case, `-` → `_`)
//!     in the namespace (`zlib.FLUSH_MODE_FINISH == 4`); out-of-range: `ValueError`;
//!   - `flags` ↔ `int` bit mask, constants `<FLAGS>_<FLAG>` = `1 << i`;
//!   - `variant` ↔ `(case_index, payload_or_None)`, constants `<VARIANT>_<CASE>`;
//!     arguments accept that 2-sequence, or a bare `int` for a case without payload;
//!   - a `result<T, E>` *not* in return position (nested, or an argument) is mapped
//!     like a variant with cases 0 = ok, 1 = err;
//!   - a type `use`d from another interface is the same Python type; its name (in
//!     CamelCase for records/resources, or as a constant prefix) is also exposed in
//!     the interface that uses it (`kdf.Error is hashing.Error`).
//! * A function whose WIT result is `result<T, E>` returns the converted `T` (`None` for
//!   `_`) or raises `_pylon_<cap>.WitError` (one class per module, subclass of
//!   `Exception`) with `args == (converted_E,)` — for the caps' `error` records,
//!   `e.args[0].kind`, `.message`, `.code`. Any other result is returned as converted;
//!   no result returns `None`.
//! * Resources are classes in their interface's namespace, named in CamelCase
//!   (`zlib.Compressor`, created with `PyType_FromSpec`, not subclassable): a WIT
//!   `constructor` is the class call (`__new__`; a fallible constructor raises
//!   `WitError`); without one the class cannot be instantiated from Python. Static
//!   functions are `staticmethod`s, methods take `self` as the borrow. `own<T>` results
//!   are new objects owning the handle; `borrow<T>` and `own<T>` arguments take an
//!   instance — an `own` argument moves the handle into the call and the object is
//!   then unusable. `close()` drops the handle now (idempotent), `tp_dealloc` drops it
//!   if still held, and `with obj:` closes on exit. Using a closed or moved object:
//!   `ValueError`.
//! * Memory: canonical-ABI results are freed with wit-bindgen-c's `*_free` functions
//!   after conversion, on the error path too (bytes are copied into `bytes` first).
//!   Arguments follow wit-bindgen-c's import convention (the caller keeps ownership):
//!   strings and byte buffers are borrowed from the Python objects for the call, other
//!   lists are PyMem arrays released after the call. The GIL is held throughout.
//!   Caveat: if converting a result fails half way (MemoryError), `own` handles inside
//!   it that were not yet wrapped are leaked, not dropped.
//! * Anything else (`future`, `stream`, `error-context`, `map`, fixed-length lists,
//!   async functions, `borrow` in a result, a resource method named `close`, two WIT
//!   names mapping to one Python name) is a generation-time
//!   [`ShimError::Unsupported`].
//!
//! # Linking
//!
//! `setup.flags` passes the component-type object to the link of python.wasm as
//! `-Wl,$(srcdir)/Modules/_pylon_ext/_pylon_<cap>/shim_<cap>_component_type.o`:
//! makesetup sorts `-[A-Zl]*` tokens into the module's libraries (a bare relative `*.o`
//! would be turned into a `.c` source), and `$(srcdir)` is the relative source
//! directory the build's configure was run with (`../..` from `cross-build/<triple>`),
//! so no absolute path reaches `Makefile`/sysconfig data. wasm-component-ld merges the
//! object's `component-type:shim-<cap>` custom section into python.wasm's imports.

mod cgen;
mod names;
pub mod python_runtime;

use std::collections::BTreeMap;
use std::fs;
use std::io;
use std::path::{Path, PathBuf};

use wit_bindgen_core::wit_parser::{PackageId, Resolve, WorldId, WorldItem, WorldKey};

/// The subdirectory of CPython's `Modules/` that `pylon build` copies `cpython-ext/`
/// modules into (pylon-cpython's `EXT_SUBDIR`).
pub const EXT_SUBDIR: &str = "_pylon_ext";

#[derive(Debug, thiserror::Error)]
pub enum ShimError {
    #[error("cap `{cap}`: {}: not a WIT directory", dir.display())]
    NoWitDir { cap: String, dir: PathBuf },
    #[error("cap `{cap}`: invalid cap name: {message}")]
    InvalidCapName { cap: String, message: String },
    #[error("cap `{cap}`: parsing the WIT in {}: {message}", dir.display())]
    Wit {
        cap: String,
        dir: PathBuf,
        message: String,
    },
    #[error("cap `{cap}`: {} defines several worlds ({}); name the one to use", dir.display(), worlds.join(", "))]
    AmbiguousWorld {
        cap: String,
        dir: PathBuf,
        worlds: Vec<String>,
    },
    #[error("cap `{cap}`: {}: {message}", dir.display())]
    World {
        cap: String,
        dir: PathBuf,
        message: String,
    },
    #[error("cap `{cap}`: `{function}`: {what} is not supported by the Python shim")]
    Unsupported {
        cap: String,
        function: String,
        what: String,
    },
    #[error("cap `{cap}`: wit-bindgen-c: {message}")]
    Bindgen { cap: String, message: String },
    #[error("{}: {source}", path.display())]
    Io { path: PathBuf, source: io::Error },
}

/// A generated shim: file names → contents, ready to be written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shim {
    cap: String,
    module: String,
    imports: Vec<String>,
    files: BTreeMap<String, Vec<u8>>,
}

impl Shim {
    /// `_pylon_<cap>` (`-` → `_`).
    pub fn module_name(&self) -> &str {
        &self.module
    }

    /// The cap the shim was generated for.
    pub fn cap(&self) -> &str {
        &self.cap
    }

    /// The interfaces the shim imports, e.g. `pylon:zlib/zlib@0.1.0`, in world order.
    pub fn imports(&self) -> &[String] {
        &self.imports
    }

    /// The files of the module directory (name → bytes), sorted by name.
    pub fn files(&self) -> &BTreeMap<String, Vec<u8>> {
        &self.files
    }

    /// The generated extension module source, `_pylon_<cap>module.c`.
    pub fn module_source(&self) -> &str {
        std::str::from_utf8(&self.files[&format!("{}module.c", self.module)])
            .expect("generated as a String")
    }

    /// Writes `<ext_root>/_pylon_<cap>/` (replacing a previous one): the files go into a
    /// hidden temporary directory in `ext_root`, which is then renamed into place.
    /// Returns the module directory.
    pub fn write_to(&self, ext_root: &Path) -> Result<PathBuf, ShimError> {
        let io_err = |path: &Path| {
            let path = path.to_path_buf();
            move |source| ShimError::Io { path, source }
        };
        fs::create_dir_all(ext_root).map_err(io_err(ext_root))?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!(".{}.tmp-", self.module))
            .tempdir_in(ext_root)
            .map_err(io_err(ext_root))?;
        for (name, bytes) in &self.files {
            let path = tmp.path().join(name);
            fs::write(&path, bytes).map_err(io_err(&path))?;
        }
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            fs::set_permissions(tmp.path(), fs::Permissions::from_mode(0o755))
                .map_err(io_err(tmp.path()))?;
        }
        let dest = ext_root.join(&self.module);
        let mut old = None;
        if fs::symlink_metadata(&dest).is_ok() {
            let parked = tempfile::Builder::new()
                .prefix(&format!(".{}.old-", self.module))
                .tempdir_in(ext_root)
                .map_err(io_err(ext_root))?;
            let parked_path = parked.path().join("old");
            fs::rename(&dest, &parked_path).map_err(io_err(&dest))?;
            old = Some(parked);
        }
        let tmp_path = tmp.keep();
        if let Err(source) = fs::rename(&tmp_path, &dest) {
            let _ = fs::remove_dir_all(&tmp_path);
            return Err(ShimError::Io { path: dest, source });
        }
        drop(old); // removes the previous module directory
        Ok(dest)
    }
}

fn valid_cap_name(cap: &str) -> Result<(), String> {
    let mut chars = cap.chars();
    match chars.next() {
        Some('a'..='z') => {}
        _ => return Err("must start with a lower-case ASCII letter".into()),
    }
    if !cap
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
    {
        return Err("only a-z, 0-9, '-' and '_' are allowed".into());
    }
    if cap.ends_with(['-', '_']) || cap.contains("--") || cap.contains("__") {
        return Err("'-'/'_' must separate words".into());
    }
    Ok(())
}

/// Generates the shim of cap `cap_name` from its WIT directory. `world` names the
/// cap's world; without it the cap's package must define exactly one.
pub fn generate_shim(
    cap_name: &str,
    wit_dir: &Path,
    world: Option<&str>,
) -> Result<Shim, ShimError> {
    let cap = cap_name.to_string();
    valid_cap_name(cap_name).map_err(|message| ShimError::InvalidCapName {
        cap: cap.clone(),
        message,
    })?;
    let (mut resolve, pkg) = parse_wit_dir(&cap, wit_dir)?;
    let cap_world = select_cap_world(&resolve, pkg, world, &cap, wit_dir)?;
    let imports = exported_interfaces(&resolve, cap_world, &cap, wit_dir)?;
    let shim_world = push_shim_world(&mut resolve, cap_name, &imports, &cap)?;
    let all_imports = imported_interfaces(&resolve, shim_world);

    let module = format!("_pylon_{}", cap_name.replace('-', "_"));
    let names = names::CNames::new(&resolve, shim_world).map_err(|message| ShimError::Bindgen {
        cap: cap.clone(),
        message,
    })?;
    let header = format!("{}.h", names.world_snake());

    // Generate the module first: it rejects what it cannot map before wit-bindgen-c
    // gets to see (and possibly panic on) it.
    let module_c = cgen::module_source(&resolve, shim_world, &cap, &module, &header, names)?;

    let (mut out, object) = run_bindgen(&mut resolve, shim_world, &cap, &header)?;
    out.insert(format!("{module}module.c"), module_c.into_bytes());
    out.insert(
        "setup.flags".into(),
        setup_flags(&cap, &module, &object).into_bytes(),
    );
    Ok(Shim {
        cap,
        module,
        imports: all_imports,
        files: out,
    })
}

/// Parses the cap's WIT directory into a fresh `Resolve`; returns it and the cap's package.
fn parse_wit_dir(cap: &str, wit_dir: &Path) -> Result<(Resolve, PackageId), ShimError> {
    if !wit_dir.is_dir() {
        return Err(ShimError::NoWitDir {
            cap: cap.to_string(),
            dir: wit_dir.to_path_buf(),
        });
    }
    let mut resolve = Resolve::default();
    match resolve.push_dir(wit_dir) {
        Ok((pkg, _)) => Ok((resolve, pkg)),
        Err(e) => {
            // Rendered against the Resolve's source map: `file:line:column` + snippet.
            Err(ShimError::Wit {
                cap: cap.to_string(),
                dir: wit_dir.to_path_buf(),
                message: resolve.render_error(&e),
            })
        }
    }
}

/// The cap's world: the one named `world`, or else the package's only world.
fn select_cap_world(
    resolve: &Resolve,
    pkg: PackageId,
    world: Option<&str>,
    cap: &str,
    wit_dir: &Path,
) -> Result<WorldId, ShimError> {
    let worlds: Vec<_> = resolve.packages[pkg].worlds.iter().collect();
    let world_error = |message: String| ShimError::World {
        cap: cap.to_string(),
        dir: wit_dir.to_path_buf(),
        message,
    };
    match world {
        Some(name) => match resolve.packages[pkg].worlds.get(name) {
            Some(id) => Ok(*id),
            None => Err(world_error(format!(
                "no world `{name}` (worlds: {})",
                worlds
                    .iter()
                    .map(|(n, _)| n.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ))),
        },
        None => match worlds.as_slice() {
            [(_, id)] => Ok(**id),
            [] => Err(world_error("the package defines no world".into())),
            many => Err(ShimError::AmbiguousWorld {
                cap: cap.to_string(),
                dir: wit_dir.to_path_buf(),
                worlds: many.iter().map(|(n, _)| n.to_string()).collect(),
            }),
        },
    }
}

/// The names of the interfaces the cap's world exports (what the shim world imports),
/// in world order; anything else the world exports is unsupported.
fn exported_interfaces(
    resolve: &Resolve,
    cap_world: WorldId,
    cap: &str,
    wit_dir: &Path,
) -> Result<Vec<String>, ShimError> {
    let unsupported = |function: String, what: &str| ShimError::Unsupported {
        cap: cap.to_string(),
        function,
        what: what.into(),
    };
    let mut imports = Vec::new();
    for (key, item) in resolve.worlds[cap_world].exports.iter() {
        match (key, item) {
            (WorldKey::Interface(id), WorldItem::Interface { .. }) => {
                imports.push(resolve.id_of(*id).ok_or_else(|| ShimError::World {
                    cap: cap.to_string(),
                    dir: wit_dir.to_path_buf(),
                    message: "an exported interface has no package name".into(),
                })?);
            }
            (WorldKey::Name(name), WorldItem::Function(_)) => {
                return Err(unsupported(
                    name.clone(),
                    "a function exported directly by the world (export it from an interface)",
                ))
            }
            (WorldKey::Name(name), _) => {
                return Err(unsupported(
                    name.clone(),
                    "an inline exported interface (export a named interface)",
                ))
            }
            (_, _) => {
                return Err(unsupported(
                    resolve.name_world_key(key),
                    "this kind of export",
                ))
            }
        }
    }
    if imports.is_empty() {
        return Err(ShimError::World {
            cap: cap.to_string(),
            dir: wit_dir.to_path_buf(),
            message: format!(
                "world `{}` exports no interface",
                resolve.worlds[cap_world].name
            ),
        });
    }
    Ok(imports)
}

/// Adds the shim world (`package pylon-shim:<cap>; world shim-<cap> { import …; }`) to
/// `resolve` and returns it, with the nominal type ids wit-bindgen-c will use.
fn push_shim_world(
    resolve: &mut Resolve,
    cap_name: &str,
    imports: &[String],
    cap: &str,
) -> Result<WorldId, ShimError> {
    let wit_cap = cap_name.replace('_', "-");
    let mut shim_wit = format!("package pylon-shim:{wit_cap};\n\nworld shim-{wit_cap} {{\n");
    for i in imports {
        shim_wit.push_str(&format!("    import {i};\n"));
    }
    shim_wit.push_str("}\n");
    let shim_pkg =
        resolve
            .push_str("pylon-shim.wit", &shim_wit)
            .map_err(|e| ShimError::InvalidCapName {
                cap: cap.to_string(),
                message: format!("{e:#}"),
            })?;
    let shim_world = resolve
        .select_world(&[shim_pkg], None)
        .map_err(|e| ShimError::Bindgen {
            cap: cap.to_string(),
            message: format!("{e:#}"),
        })?;
    // wit-bindgen-c does this itself; doing it first makes the ids we walk the same.
    resolve.generate_nominal_type_ids(shim_world);
    Ok(shim_world)
}

/// Every interface of the elaborated world (dependencies of `use` included).
fn imported_interfaces(resolve: &Resolve, shim_world: WorldId) -> Vec<String> {
    resolve.worlds[shim_world]
        .imports
        .iter()
        .filter_map(|(key, item)| match item {
            WorldItem::Interface { .. } => Some(resolve.name_world_key(key)),
            _ => None,
        })
        .collect()
}

/// Runs wit-bindgen-c on the shim world: its files by name, and the name of the
/// component-type object among them. Checks that `header` is one of them.
fn run_bindgen(
    resolve: &mut Resolve,
    shim_world: WorldId,
    cap: &str,
    header: &str,
) -> Result<(BTreeMap<String, Vec<u8>>, String), ShimError> {
    let bindgen_error = |message: String| ShimError::Bindgen {
        cap: cap.to_string(),
        message,
    };
    let mut files = wit_bindgen_core::Files::default();
    let opts = wit_bindgen_c::Opts {
        no_sig_flattening: true,
        ..Default::default()
    };
    opts.build()
        .generate(resolve, shim_world, &mut files)
        .map_err(|e| bindgen_error(format!("{e:#}")))?;
    let out: BTreeMap<String, Vec<u8>> = files
        .iter()
        .map(|(n, b)| (n.to_string(), b.to_vec()))
        .collect();
    let object = out
        .keys()
        .find(|n| n.ends_with("_component_type.o"))
        .cloned()
        .ok_or_else(|| bindgen_error("no component-type object was generated".into()))?;
    if !out.contains_key(header) {
        return Err(bindgen_error(format!(
            "expected {header} among the generated files"
        )));
    }
    Ok((out, object))
}

fn setup_flags(cap: &str, module: &str, object: &str) -> String {
    format!(
        "# Generated by pylon-shim for the `{cap}` cap; do not edit.\n\
         # Links the component-type object (the WIT imports of {module}) into python.wasm.\n\
         # makesetup sorts `-W...` tokens into the module's libraries; a bare relative `.o`\n\
         # would be read as a C source. $(srcdir) is the relative source directory of the\n\
         # WASI build (`../..` from cross-build/<triple>), so no absolute path is recorded.\n\
         -Wl,$(srcdir)/Modules/{EXT_SUBDIR}/{module}/{object}\n"
    )
}
