//! The in-process wasm32-wasip1 → component path and export inspection, on real
//! bytes (the default caps' components are exercised in pylon-cap-tests).

use pylon_caps::componentize::{adapter_kind, module_to_component, AdapterKind, ComponentizeError};
use pylon_caps::inspect::{component_exports, missing_exports, InspectError};

/// The smallest valid core module: magic + version.
const EMPTY_MODULE: &[u8] = b"\0asm\x01\0\0\0";

/// A core module exporting `_start` and `memory` (the preview1 adapter needs the
/// main module's memory), hand-encoded section by section.
const START_MODULE: &[u8] = &[
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // header
    0x01, 0x04, 0x01, 0x60, 0x00, 0x00, // type: () -> ()
    0x03, 0x02, 0x01, 0x00, // func 0 : type 0
    0x05, 0x03, 0x01, 0x00, 0x01, // memory 0: min 1 page
    0x07, 0x13, 0x02, // export section, 2 exports
    0x06, b'_', b's', b't', b'a', b'r', b't', 0x00, 0x00, // "_start" = func 0
    0x06, b'm', b'e', b'm', b'o', b'r', b'y', 0x02, 0x00, // "memory" = memory 0
    0x0a, 0x04, 0x01, 0x02, 0x00, 0x0b, // body: end
];

#[test]
fn start_export_selects_the_command_adapter() {
    assert_eq!(adapter_kind(EMPTY_MODULE).unwrap(), AdapterKind::Reactor);
    assert_eq!(adapter_kind(START_MODULE).unwrap(), AdapterKind::Command);
}

#[test]
fn a_module_becomes_a_valid_component_deterministically() {
    let a = module_to_component(EMPTY_MODULE).unwrap();
    let b = module_to_component(EMPTY_MODULE).unwrap();
    assert_eq!(a, b, "same module, same component bytes");
    wasmparser::Validator::new()
        .validate_all(&a)
        .expect("valid component");
    assert_eq!(component_exports(&a).unwrap(), Vec::<String>::new());
    assert_eq!(
        missing_exports(&a, &["pylon:x/y@0.1.0".to_string()]).unwrap(),
        vec!["pylon:x/y@0.1.0".to_string()]
    );

    // A command: the adapter exports wasi:cli/run.
    let cmd = module_to_component(START_MODULE).unwrap();
    wasmparser::Validator::new()
        .validate_all(&cmd)
        .expect("valid component");
    let exports = component_exports(&cmd).unwrap();
    assert!(
        exports.iter().any(|e| e.starts_with("wasi:cli/run@")),
        "{exports:?}"
    );
}

#[test]
fn broken_input_is_a_clear_error() {
    match module_to_component(b"definitely not wasm") {
        Err(ComponentizeError::InvalidModule(_)) | Err(ComponentizeError::Encode(_)) => {}
        other => panic!("expected an error, got {other:?}"),
    }
    let truncated = &START_MODULE[..START_MODULE.len() - 3];
    assert!(module_to_component(truncated).is_err());
    assert!(matches!(
        component_exports(EMPTY_MODULE),
        Err(InspectError::NotAComponent(_))
    ));
    assert!(matches!(
        component_exports(b"\0asm\x0d\0\x01"),
        Err(InspectError::Malformed(_))
    ));
}
