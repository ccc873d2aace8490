//! The @NAME@ cap as a component in wasmtime: its exports called through bindings
//! generated from its own WIT (run by `cargo test -p pylon-cap-tests`).

use pylon_cap_tests::harness;

wasmtime::component::bindgen!({
    path: "../../caps/@NAME@/wit",
    world: "@NAME@-cap",
});

#[test]
fn greet_says_hello() {
    let mut h = harness("@NAME@");
    let cap = @WORLD_TYPE@::instantiate(&mut h.store, &h.component, &h.linker)
        .expect("instantiate the @NAME@ cap");
    let greeting = cap
        .pylon_@MODULE@_@MODULE@()
        .call_greet(&mut h.store, "wasmtime")
        .expect("greet does not trap");
    assert_eq!(greeting, "hello, wasmtime");
}
