//! Every generated C file compiles for wasm32-wasip2 with clang-19 against CPython's
//! public headers (and a test-only pyconfig.h, tests/fixtures/pyconfig).

mod common;

use common::*;

#[test]
fn default_caps_compile() {
    for cap in DEFAULT_CAPS {
        let shim = pylon_shim::generate_shim(cap, &cap_wit(cap), None).unwrap();
        let out = tempfile::tempdir().unwrap();
        let dir = shim.write_to(out.path()).unwrap();
        compile_shim_dir(&dir, shim.module_name());
    }
}

#[test]
fn every_wit_shape_compiles() {
    let shim = pylon_shim::generate_shim("everything", &fixture("everything"), None).unwrap();
    let out = tempfile::tempdir().unwrap();
    let dir = shim.write_to(out.path()).unwrap();
    compile_shim_dir(&dir, shim.module_name());
}
