//! Composition of the CPython component (the *socket*) with the capability components
//! (the *plugs*, "caps") into the one artifact Pylon ships, `build/pylon.wasm`.
//!
//! [`compose`] is a pure function over bytes: it builds a [`wac_graph::CompositionGraph`]
//! in-process, plugs every import of the socket that a cap exports, re-exports what the
//! socket exports (so a `wasi:cli/run` command stays a command), validates the result
//! and refuses it if anything but `wasi:*` is still imported. [`write_composition`]
//! publishes the bytes by rename and re-points the `build/pylon.wasm` symlink.
//!
//! # Determinism
//!
//! The output depends only on the socket's bytes and on the set of (cap name, cap
//! bytes) — not on the order of [`ComposeRequest::caps`], on file names or on
//! directories:
//!
//! - Caps are sorted by name before they are registered, and every name registered in
//!   the graph is derived from a name, never from a path: the socket is the package
//!   `pylon-socket:<socket_name>`, a cap `pylon-cap:<cap name>`. (With
//!   `define_components` these package names do not even reach the output; they only
//!   label the graph.)
//! - The graph is built in an order that depends only on the inputs: imports are
//!   resolved in the socket's own import order, a cap is instantiated when it is first
//!   needed and its own imports are resolved right after, in its import order.
//! - [`wac_graph::EncodeOptions`] is pinned field by field instead of relying on
//!   `Default`:
//!   - `define_components: true` — every component is embedded byte-for-byte
//!     (`component_raw`). With `false`, wac would *import* the components under names
//!     built from the graph's package names (`unlocked-dep=<pylon-cap:zlib>`), which is
//!     neither runnable nor independent of naming.
//!   - `processor: None` — no `producers` custom section (`processed-by`) is added to
//!     the outer component: it would record a tool name and version, which are not
//!     inputs of the artifact.
//!   - `validate: false` — wac-graph would validate with its own wasmparser (0.258,
//!     every feature enabled); the output is instead validated once, by this crate,
//!     with the workspace's wasmparser (0.263, default features, which include the
//!     component model). This does not change the bytes, only which validator decides.
//! - No node of the graph is given a name, so wac writes no `component-name` custom
//!   section for the outer component.
//! - Nothing inside the socket or the caps is rewritten: their own custom sections
//!   (producers, names, `component-type`) are part of their pinned bytes and pass
//!   through unchanged.
//!
//! A socket that imports nothing a cap exports is returned byte-for-byte (after the
//! same validation and import check): wrapping it in an outer component would add
//! nothing but bytes, and the artifact's digest then equals the socket's.

use std::fmt::Write as _;
use std::io;
use std::path::{Component, Path, PathBuf};

use wac_graph::types::{are_semver_compatible, Package};
use wac_graph::{CompositionGraph, EncodeError, EncodeOptions, NodeId, PackageId};
use wasmparser::{Parser, Payload, Validator, WasmFeatures};

/// Prefix of the package names the caps are registered under in the graph.
pub const CAP_PACKAGE_NAMESPACE: &str = "pylon-cap";
/// Prefix of the package name the socket is registered under in the graph.
pub const SOCKET_PACKAGE_NAMESPACE: &str = "pylon-socket";
/// File name of the composed artifact inside a profile directory.
pub const ARTIFACT_FILE_NAME: &str = "pylon.wasm";

/// One capability component offered to the composition.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CapInput {
    /// The cap's name in `caps-manifest.toml` (e.g. `zlib`).
    pub name: String,
    /// The component's bytes.
    pub bytes: Vec<u8>,
    /// The manifest's `exports` for this cap; must equal what the component exports.
    pub declared_exports: Vec<String>,
}

/// What to compose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ComposeRequest {
    /// Name of the socket, used in messages and in its graph package name (`cpython`).
    pub socket_name: String,
    /// The socket component's bytes.
    pub socket: Vec<u8>,
    /// The caps; their order does not matter.
    pub caps: Vec<CapInput>,
}

/// One import satisfied by a cap's export.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct SatisfiedImport {
    /// Who imports it: the socket's name, or the name of another cap.
    pub importer: String,
    /// The import's name (e.g. `pylon:zlib/zlib@0.1.0`).
    pub import: String,
    /// The cap's export that satisfies it; differs from `import` only by a
    /// semver-compatible version (e.g. `@0.1.2` for `@0.1.0`).
    pub export: String,
}

/// A cap that was instantiated in the composition.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PlugReport {
    /// The cap's name.
    pub cap: String,
    /// The imports its exports satisfy, in resolution order.
    pub satisfied: Vec<SatisfiedImport>,
}

/// The composed artifact and how it was put together.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Composition {
    /// The composed component.
    #[serde(skip)]
    pub bytes: Vec<u8>,
    /// Caps that were plugged in, sorted by name.
    pub plugged: Vec<PlugReport>,
    /// Caps none of whose exports is imported (by the socket or a plugged cap), sorted.
    pub unused_caps: Vec<String>,
    /// Imports of the composed component, sorted; all `wasi:*`.
    pub remaining_imports: Vec<String>,
}

/// Why a composition was refused.
#[derive(Debug, thiserror::Error)]
pub enum ComposeError {
    /// The socket's bytes are not a valid component.
    #[error("socket `{name}` is not a valid WebAssembly component: {detail}")]
    InvalidSocket { name: String, detail: String },
    /// A cap's bytes are not a valid component.
    #[error("cap `{cap}` is not a valid WebAssembly component: {detail}")]
    InvalidCap { cap: String, detail: String },
    /// Two caps have the same name.
    #[error("cap `{cap}` is given more than once")]
    DuplicateCap { cap: String },
    /// A cap's declared exports are not what its component exports.
    #[error("cap `{cap}`: the declared exports differ from the component's exports ({})", describe_mismatch(.missing, .undeclared))]
    ExportsMismatch {
        cap: String,
        /// Declared but not exported by the component.
        missing: Vec<String>,
        /// Exported by the component but not declared.
        undeclared: Vec<String>,
    },
    /// An import that is not `wasi:*` and that no cap exports.
    #[error(
        "{importer} imports `{import}`, which is not `wasi:*` and which no cap satisfies: {reason}"
    )]
    UnsatisfiedImport {
        /// `socket <name>`, `cap <name>` or `the composition`.
        importer: String,
        import: String,
        /// The cap expected to provide it: one that declares it, or one that exports
        /// the same interface at another version.
        expected_cap: Option<String>,
        /// `no cap exports it`, or e.g. `cap zlib exports pylon:zlib/zlib@0.2.0, not @0.1.0`.
        reason: String,
    },
    /// More than one cap exports what is imported.
    #[error("{importer} imports `{import}`, which more than one cap exports: {}", .caps.join(", "))]
    AmbiguousImport {
        importer: String,
        import: String,
        caps: Vec<String>,
    },
    /// A cap exports the import's name but with an incompatible type.
    #[error("cap `{cap}` exports `{export}`, but its type does not match {importer}'s import `{import}`: {detail}")]
    IncompatibleExport {
        cap: String,
        export: String,
        importer: String,
        import: String,
        detail: String,
    },
    /// Caps import from each other in a cycle.
    #[error("the plugged caps import from each other in a cycle ({})", .caps.join(", "))]
    Cycle { caps: Vec<String> },
    /// wac-graph refused the composition for another reason.
    #[error("composition failed: {0}")]
    Graph(String),
    /// The composed component did not validate.
    #[error("the composed component is not valid: {0}")]
    InvalidOutput(String),
    /// The composed component lost an export of the socket.
    #[error("the composed component does not export `{export}`, which socket `{socket}` exports")]
    MissingExport { socket: String, export: String },
    /// A file-system operation failed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
}

fn describe_mismatch(missing: &[String], undeclared: &[String]) -> String {
    let mut parts = Vec::new();
    if !missing.is_empty() {
        parts.push(format!("declared but not exported: {}", missing.join(", ")));
    }
    if !undeclared.is_empty() {
        parts.push(format!(
            "exported but not declared: {}",
            undeclared.join(", ")
        ));
    }
    parts.join("; ")
}

/// A registered cap.
struct Cap<'a> {
    input: &'a CapInput,
    package: PackageId,
    /// The component's top-level export names, in its order.
    exports: Vec<String>,
    /// Set when the cap is first needed.
    instance: Option<NodeId>,
    satisfied: Vec<SatisfiedImport>,
}

/// Who is importing, while resolving.
#[derive(Clone, Copy)]
enum Importer {
    Socket,
    Cap(usize),
}

/// Composes the socket with every cap that exports something it (or an already
/// plugged cap) imports. See the crate documentation for what makes the output
/// deterministic.
pub fn compose(req: &ComposeRequest) -> Result<Composition, ComposeError> {
    let mut graph = CompositionGraph::new();
    let socket = register_socket(&mut graph, req)?;
    let mut caps = register_caps(&mut graph, &req.caps)?;
    let socket_imports = package_imports(&graph, socket);
    let socket_exports = package_exports(&graph, socket);

    // Resolve which imports caps satisfy, before touching the graph: a socket that
    // needs no cap is passed through.
    let plan = plan_imports(&req.socket_name, Importer::Socket, &socket_imports, &caps)?;
    let bytes = if plan.is_empty() {
        req.socket.clone()
    } else {
        let socket_instance = graph.instantiate(socket);
        plug_caps(&mut graph, req, &mut caps, socket_instance, plan)?;
        export_socket_exports(&mut graph, socket_instance, &socket_exports)?;
        encode_graph(&graph, &caps)?
    };

    let imports = check_output(&bytes, req, &caps, &socket_exports)?;
    Ok(composition_report(bytes, imports, caps))
}

/// Parses and registers the socket, as package `pylon-socket:<socket_name>`.
fn register_socket(
    graph: &mut CompositionGraph,
    req: &ComposeRequest,
) -> Result<PackageId, ComposeError> {
    if !Parser::is_component(&req.socket) {
        return Err(ComposeError::InvalidSocket {
            name: req.socket_name.clone(),
            detail: not_a_component_detail(&req.socket),
        });
    }
    let socket_pkg = Package::from_bytes(
        &format!("{SOCKET_PACKAGE_NAMESPACE}:{}", req.socket_name),
        None,
        req.socket.as_slice(),
        graph.types_mut(),
    )
    .map_err(|e| ComposeError::InvalidSocket {
        name: req.socket_name.clone(),
        detail: format!("{e:#}"),
    })?;
    graph
        .register_package(socket_pkg)
        .map_err(|e| ComposeError::Graph(e.to_string()))
}

/// Registers the caps sorted by name (so that their order in the request does not
/// matter), refusing a name given twice.
fn register_caps<'a>(
    graph: &mut CompositionGraph,
    cap_inputs: &'a [CapInput],
) -> Result<Vec<Cap<'a>>, ComposeError> {
    let mut inputs: Vec<&CapInput> = cap_inputs.iter().collect();
    inputs.sort_by(|a, b| a.name.cmp(&b.name));
    if let Some(w) = inputs.windows(2).find(|w| w[0].name == w[1].name) {
        return Err(ComposeError::DuplicateCap {
            cap: w[0].name.clone(),
        });
    }
    let mut caps = Vec::with_capacity(inputs.len());
    for input in inputs {
        caps.push(register_cap(graph, input)?);
    }
    Ok(caps)
}

/// A registered package's import names, in its order.
fn package_imports(graph: &CompositionGraph, package: PackageId) -> Vec<String> {
    graph.types()[graph[package].ty()]
        .imports
        .keys()
        .cloned()
        .collect()
}

/// A registered package's export names, in its order.
fn package_exports(graph: &CompositionGraph, package: PackageId) -> Vec<String> {
    graph.types()[graph[package].ty()]
        .exports
        .keys()
        .cloned()
        .collect()
}

/// Wires the socket's planned imports to the caps' exports, instantiating each cap
/// when it is first needed and then resolving its own imports the same way.
fn plug_caps(
    graph: &mut CompositionGraph,
    req: &ComposeRequest,
    caps: &mut [Cap<'_>],
    socket_instance: NodeId,
    plan: Vec<Planned>,
) -> Result<(), ComposeError> {
    let mut queue: Vec<(Importer, NodeId, Vec<Planned>)> =
        vec![(Importer::Socket, socket_instance, plan)];
    while let Some((importer, instance, plan)) = queue.pop() {
        for planned in plan {
            let provider = &mut caps[planned.cap];
            let (provider_instance, first_use) = match provider.instance {
                Some(node) => (node, false),
                None => {
                    let node = graph.instantiate(provider.package);
                    provider.instance = Some(node);
                    (node, true)
                }
            };
            let importer_name = match importer {
                Importer::Socket => req.socket_name.clone(),
                Importer::Cap(i) => caps[i].input.name.clone(),
            };
            let export = graph
                .alias_instance_export(provider_instance, &planned.export)
                .map_err(|e| ComposeError::Graph(e.to_string()))?;
            graph
                .set_instantiation_argument(instance, &planned.import, export)
                .map_err(|e| ComposeError::IncompatibleExport {
                    cap: caps[planned.cap].input.name.clone(),
                    export: planned.export.clone(),
                    importer: importer_label(req, caps, importer),
                    import: planned.import.clone(),
                    detail: error_chain(&e),
                })?;
            caps[planned.cap].satisfied.push(SatisfiedImport {
                importer: importer_name,
                import: planned.import,
                export: planned.export,
            });
            if first_use {
                let cap = &caps[planned.cap];
                let imports = package_imports(graph, cap.package);
                let sub =
                    plan_imports(&cap.input.name, Importer::Cap(planned.cap), &imports, caps)?;
                if !sub.is_empty() {
                    queue.push((Importer::Cap(planned.cap), provider_instance, sub));
                }
            }
        }
    }
    Ok(())
}

/// Re-exports what the socket exports, so a `wasi:cli/run` command stays a command.
fn export_socket_exports(
    graph: &mut CompositionGraph,
    socket_instance: NodeId,
    socket_exports: &[String],
) -> Result<(), ComposeError> {
    for name in socket_exports {
        let alias = graph
            .alias_instance_export(socket_instance, name)
            .map_err(|e| ComposeError::Graph(e.to_string()))?;
        graph
            .export(alias, name.as_str())
            .map_err(|e| ComposeError::Graph(e.to_string()))?;
    }
    Ok(())
}

/// Encodes the graph with the pinned [`EncodeOptions`] (see the crate documentation).
fn encode_graph(graph: &CompositionGraph, caps: &[Cap<'_>]) -> Result<Vec<u8>, ComposeError> {
    let options = EncodeOptions {
        define_components: true,
        validate: false,
        processor: None,
    };
    graph.encode(options).map_err(|e| match e {
        EncodeError::GraphContainsCycle { .. } => ComposeError::Cycle {
            caps: caps
                .iter()
                .filter(|c| c.instance.is_some())
                .map(|c| c.input.name.clone())
                .collect(),
        },
        other => ComposeError::Graph(error_chain(&other)),
    })
}

/// Checks the artifact itself, whatever the graph says: it validates, imports nothing
/// but `wasi:*` and still exports what the socket exports. Returns its imports.
fn check_output(
    bytes: &[u8],
    req: &ComposeRequest,
    caps: &[Cap<'_>],
    socket_exports: &[String],
) -> Result<Vec<String>, ComposeError> {
    Validator::new_with_features(WasmFeatures::default())
        .validate_all(bytes)
        .map_err(|e| ComposeError::InvalidOutput(e.to_string()))?;
    let (imports, exports) =
        top_level_names(bytes).map_err(|e| ComposeError::InvalidOutput(e.to_string()))?;
    for import in &imports {
        if !import.starts_with("wasi:") {
            let (expected_cap, reason) = explain_unsatisfied(import, caps);
            return Err(ComposeError::UnsatisfiedImport {
                importer: "the composition".into(),
                import: import.clone(),
                expected_cap,
                reason,
            });
        }
    }
    for export in socket_exports {
        if !exports.contains(export) {
            return Err(ComposeError::MissingExport {
                socket: req.socket_name.clone(),
                export: export.clone(),
            });
        }
    }
    Ok(imports)
}

/// The composition with what went into it: the caps plugged and unused (both already
/// sorted by name) and the artifact's remaining imports, sorted.
fn composition_report(bytes: Vec<u8>, imports: Vec<String>, caps: Vec<Cap<'_>>) -> Composition {
    let mut remaining_imports = imports;
    remaining_imports.sort();
    remaining_imports.dedup();
    let mut plugged = Vec::new();
    let mut unused_caps = Vec::new();
    for cap in caps {
        if cap.instance.is_some() {
            plugged.push(PlugReport {
                cap: cap.input.name.clone(),
                satisfied: cap.satisfied,
            });
        } else {
            unused_caps.push(cap.input.name.clone());
        }
    }
    Composition {
        bytes,
        plugged,
        unused_caps,
        remaining_imports,
    }
}

fn importer_label(req: &ComposeRequest, caps: &[Cap<'_>], importer: Importer) -> String {
    match importer {
        Importer::Socket => format!("socket `{}`", req.socket_name),
        Importer::Cap(i) => format!("cap `{}`", caps[i].input.name),
    }
}

/// Parses, validates and registers a cap, and checks its declared exports.
fn register_cap<'a>(
    graph: &mut CompositionGraph,
    input: &'a CapInput,
) -> Result<Cap<'a>, ComposeError> {
    if !Parser::is_component(&input.bytes) {
        return Err(ComposeError::InvalidCap {
            cap: input.name.clone(),
            detail: not_a_component_detail(&input.bytes),
        });
    }
    let package = Package::from_bytes(
        &format!("{CAP_PACKAGE_NAMESPACE}:{}", input.name),
        None,
        input.bytes.as_slice(),
        graph.types_mut(),
    )
    .map_err(|e| ComposeError::InvalidCap {
        cap: input.name.clone(),
        detail: format!("{e:#}"),
    })?;
    let exports: Vec<String> = graph.types()[package.ty()]
        .exports
        .keys()
        .cloned()
        .collect();
    let missing: Vec<String> = sorted_unique(
        input
            .declared_exports
            .iter()
            .filter(|d| !exports.contains(d)),
    );
    let undeclared: Vec<String> = sorted_unique(
        exports
            .iter()
            .filter(|e| !input.declared_exports.contains(e)),
    );
    if !missing.is_empty() || !undeclared.is_empty() {
        return Err(ComposeError::ExportsMismatch {
            cap: input.name.clone(),
            missing,
            undeclared,
        });
    }
    let package = graph
        .register_package(package)
        .map_err(|e| ComposeError::Graph(e.to_string()))?;
    Ok(Cap {
        input,
        package,
        exports,
        instance: None,
        satisfied: Vec::new(),
    })
}

fn sorted_unique<'s>(items: impl Iterator<Item = &'s String>) -> Vec<String> {
    let mut v: Vec<String> = items.cloned().collect();
    v.sort();
    v.dedup();
    v
}

/// An import to satisfy with a cap's export.
struct Planned {
    import: String,
    cap: usize,
    export: String,
}

/// Decides, for each import in order, which cap's export satisfies it. An exact name
/// match wins over a semver-compatible one; a `wasi:*` import no cap exports is left to
/// the host; any other import no cap exports is an error.
fn plan_imports(
    importer_name: &str,
    importer: Importer,
    imports: &[String],
    caps: &[Cap<'_>],
) -> Result<Vec<Planned>, ComposeError> {
    let label = match importer {
        Importer::Socket => format!("socket `{importer_name}`"),
        Importer::Cap(_) => format!("cap `{importer_name}`"),
    };
    let mut plan = Vec::new();
    for import in imports {
        let candidates = |exact: bool| -> Vec<(usize, String)> {
            caps.iter()
                .enumerate()
                .filter(|(i, _)| !matches!(importer, Importer::Cap(me) if me == *i))
                .filter_map(|(i, cap)| {
                    cap.exports
                        .iter()
                        .find(|e| {
                            if exact {
                                *e == import
                            } else {
                                are_semver_compatible(e, import)
                            }
                        })
                        .map(|e| (i, e.clone()))
                })
                .collect()
        };
        let mut found = candidates(true);
        if found.is_empty() {
            found = candidates(false);
        }
        match found.len() {
            0 if import.starts_with("wasi:") => {}
            0 => {
                let (expected_cap, reason) = explain_unsatisfied(import, caps);
                return Err(ComposeError::UnsatisfiedImport {
                    importer: label,
                    import: import.clone(),
                    expected_cap,
                    reason,
                });
            }
            1 => {
                let (cap, export) = found.remove(0);
                plan.push(Planned {
                    import: import.clone(),
                    cap,
                    export,
                });
            }
            _ => {
                return Err(ComposeError::AmbiguousImport {
                    importer: label,
                    import: import.clone(),
                    caps: found
                        .iter()
                        .map(|(i, _)| caps[*i].input.name.clone())
                        .collect(),
                });
            }
        }
    }
    Ok(plan)
}

/// Splits `ns:pkg/iface@1.2.3` into (`ns:pkg/iface`, `Some("1.2.3")`).
fn split_version(name: &str) -> (&str, Option<&str>) {
    match name.split_once('@') {
        Some((base, version)) => (base, Some(version)),
        None => (name, None),
    }
}

/// Names the cap expected to provide `import`, and why it does not.
fn explain_unsatisfied(import: &str, caps: &[Cap<'_>]) -> (Option<String>, String) {
    let (base, version) = split_version(import);
    for cap in caps {
        if cap.input.declared_exports.iter().any(|d| d == import) {
            return (
                Some(cap.input.name.clone()),
                format!(
                    "cap {} declares it, but its component does not export it",
                    cap.input.name
                ),
            );
        }
    }
    for cap in caps {
        for export in &cap.exports {
            let (export_base, export_version) = split_version(export);
            if export_base != base {
                continue;
            }
            let mut reason = format!("cap {} exports {export}, not ", cap.input.name);
            match version {
                Some(v) => {
                    let _ = write!(reason, "@{v}");
                }
                None => reason.push_str("the unversioned interface"),
            }
            if export_version.is_none() {
                reason.push_str(" (its export is unversioned)");
            }
            return (Some(cap.input.name.clone()), reason);
        }
    }
    (None, "no cap exports it".into())
}

fn not_a_component_detail(bytes: &[u8]) -> String {
    if Parser::is_core_wasm(bytes) {
        "it is a core module, not a component".into()
    } else if bytes.len() < 8 {
        format!("it is only {} bytes long", bytes.len())
    } else {
        "it does not start with the component header".into()
    }
}

fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let _ = write!(s, ": {cause}");
        source = cause.source();
    }
    s
}

/// The outermost component's import and export names, in order.
fn top_level_names(
    bytes: &[u8],
) -> Result<(Vec<String>, Vec<String>), wasmparser::BinaryReaderError> {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0usize;
    for payload in Parser::new(0).parse_all(bytes) {
        match payload? {
            Payload::Version { .. } => depth += 1,
            Payload::End(_) => depth = depth.saturating_sub(1),
            Payload::ComponentImportSection(section) if depth == 1 => {
                for import in section {
                    imports.push(import?.name.name.to_string());
                }
            }
            Payload::ComponentExportSection(section) if depth == 1 => {
                for export in section {
                    exports.push(export?.name.name.to_string());
                }
            }
            _ => {}
        }
    }
    Ok((imports, exports))
}

/// Writes `bytes` to `<profile_dir>/pylon.wasm` (by rename, via
/// [`pylon_manifest::write_atomic`]) and re-points `link` (`build/pylon.wasm`) at it:
/// a relative symlink is created under a temporary name next to `link`, then renamed
/// over it, so `link` is at every moment either the old link or the new one.
///
/// Returns the path of the written artifact.
pub fn write_composition(
    bytes: &[u8],
    profile_dir: &Path,
    link: &Path,
) -> Result<PathBuf, ComposeError> {
    let io_err = |action: &'static str, path: &Path| {
        let path = path.to_path_buf();
        move |source| ComposeError::Io {
            action,
            path,
            source,
        }
    };
    std::fs::create_dir_all(profile_dir).map_err(io_err("create directory", profile_dir))?;
    let artifact = profile_dir.join(ARTIFACT_FILE_NAME);
    pylon_manifest::write_atomic(&artifact, bytes).map_err(io_err("write", &artifact))?;

    let link_dir = match link.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let link_name = link.file_name().ok_or_else(|| ComposeError::Io {
        action: "use as a link",
        path: link.to_path_buf(),
        source: io::Error::new(io::ErrorKind::InvalidInput, "the path has no file name"),
    })?;
    std::fs::create_dir_all(link_dir).map_err(io_err("create directory", link_dir))?;
    let abs_link_dir = link_dir
        .canonicalize()
        .map_err(io_err("resolve", link_dir))?;
    let abs_artifact_dir = profile_dir
        .canonicalize()
        .map_err(io_err("resolve", profile_dir))?;
    let target = relative_path(&abs_link_dir, &abs_artifact_dir).join(ARTIFACT_FILE_NAME);

    replace_symlink(&target, link_dir, link_name, link)?;
    Ok(artifact)
}

#[cfg(unix)]
fn replace_symlink(
    target: &Path,
    link_dir: &Path,
    link_name: &std::ffi::OsStr,
    link: &Path,
) -> Result<(), ComposeError> {
    let mut attempt = 0u32;
    let tmp = loop {
        let mut name = std::ffi::OsString::from(".pylon-tmp-");
        name.push(link_name);
        name.push(format!(".{}.{attempt}", std::process::id()));
        let tmp = link_dir.join(name);
        match std::os::unix::fs::symlink(target, &tmp) {
            Ok(()) => break tmp,
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempt < 1000 => attempt += 1,
            Err(source) => {
                return Err(ComposeError::Io {
                    action: "create symlink",
                    path: tmp,
                    source,
                })
            }
        }
    };
    if let Err(source) = std::fs::rename(&tmp, link) {
        let _ = std::fs::remove_file(&tmp);
        return Err(ComposeError::Io {
            action: "replace",
            path: link.to_path_buf(),
            source,
        });
    }
    Ok(())
}

#[cfg(not(unix))]
fn replace_symlink(
    _target: &Path,
    _link_dir: &Path,
    _link_name: &std::ffi::OsStr,
    link: &Path,
) -> Result<(), ComposeError> {
    Err(ComposeError::Io {
        action: "create symlink",
        path: link.to_path_buf(),
        source: io::Error::new(io::ErrorKind::Unsupported, "symlinks need a unix host"),
    })
}

/// The path from directory `from` to `to`, both absolute and canonical.
fn relative_path(from: &Path, to: &Path) -> PathBuf {
    let from: Vec<Component<'_>> = from.components().collect();
    let to: Vec<Component<'_>> = to.components().collect();
    let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
    let mut rel = PathBuf::new();
    for _ in common..from.len() {
        rel.push("..");
    }
    for c in &to[common..] {
        rel.push(c.as_os_str());
    }
    if rel.as_os_str().is_empty() {
        rel.push(".");
    }
    rel
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relative_paths() {
        assert_eq!(
            relative_path(Path::new("/w/build"), Path::new("/w/build/default")),
            PathBuf::from("default")
        );
        assert_eq!(
            relative_path(Path::new("/w/build"), Path::new("/w/build")),
            PathBuf::from(".")
        );
        assert_eq!(
            relative_path(Path::new("/w/a/b"), Path::new("/w/c")),
            PathBuf::from("../../c")
        );
    }

    #[test]
    fn versions_split() {
        assert_eq!(
            split_version("pylon:zlib/zlib@0.1.0"),
            ("pylon:zlib/zlib", Some("0.1.0"))
        );
        assert_eq!(split_version("a:b/c"), ("a:b/c", None));
    }
}
