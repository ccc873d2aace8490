//! Turning a `wasm32-wasip1` core module into a component, in-process.
//!
//! The module carries wit-bindgen's component-type custom section; wit-component
//! reads it and wraps the module, adapting its `wasi_snapshot_preview1` imports to
//! WASI 0.2 with the adapter shipped in `wasi-preview1-component-adapter-provider`
//! (pinned to the wasmtime release we embed, so the adapter bytes are pinned too).

use wasi_preview1_component_adapter_provider::{
    WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
    WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
};

/// Which preview1 adapter a module needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AdapterKind {
    /// The module exports `_start`: a command, run once through `wasi:cli/run`.
    Command,
    /// A library: no `_start`, its exports are called any number of times.
    Reactor,
}

#[derive(Debug, thiserror::Error)]
pub enum ComponentizeError {
    #[error("not a valid core wasm module: {0}")]
    InvalidModule(String),
    #[error("wit-component could not build a component: {0:#}")]
    Encode(String),
}

/// A module exporting `_start` is a command; anything else is a reactor.
pub fn adapter_kind(module: &[u8]) -> Result<AdapterKind, ComponentizeError> {
    for payload in wasmparser::Parser::new(0).parse_all(module) {
        let payload = payload.map_err(|e| ComponentizeError::InvalidModule(e.to_string()))?;
        if let wasmparser::Payload::ExportSection(exports) = payload {
            for export in exports {
                let export = export.map_err(|e| ComponentizeError::InvalidModule(e.to_string()))?;
                if export.name == "_start" {
                    return Ok(AdapterKind::Command);
                }
            }
        }
    }
    Ok(AdapterKind::Reactor)
}

/// Wraps a preview1 core module into a component. Deterministic: the same module
/// bytes give the same component bytes.
pub fn module_to_component(module: &[u8]) -> Result<Vec<u8>, ComponentizeError> {
    // wit-component assumes a well-formed module (it can panic on truncated custom
    // sections), so malformed input is rejected here first, as a clear error.
    wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
        .validate_all(module)
        .map_err(|e| ComponentizeError::InvalidModule(e.to_string()))?;
    let adapter = match adapter_kind(module)? {
        AdapterKind::Command => WASI_SNAPSHOT_PREVIEW1_COMMAND_ADAPTER,
        AdapterKind::Reactor => WASI_SNAPSHOT_PREVIEW1_REACTOR_ADAPTER,
    };
    // wit-component reports errors as `anyhow::Error`; keep its full context chain.
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| encoder.adapter(WASI_SNAPSHOT_PREVIEW1_ADAPTER_NAME, adapter))
        .and_then(|encoder| encoder.encode())
        .map_err(|e| ComponentizeError::Encode(format!("{e:#}")))
}
