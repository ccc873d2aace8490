//! Every cap's wasmtime test (`caps/<name>/wasmtime_test.rs`), one module per cap,
//! found by build.rs.

include!(concat!(env!("OUT_DIR"), "/cap_tests.rs"));
