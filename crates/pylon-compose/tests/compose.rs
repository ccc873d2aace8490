mod common;

use std::sync::OnceLock;

use common::{cap, component, names, with_custom_section};
use pylon_compose::{compose, ComposeError, ComposeRequest, SatisfiedImport};

const GREET: &str = "test:a/greet@0.1.0";
const GREET_V2: &str = "test:a/greet@0.2.0";
const OTHER: &str = "test:b/other@0.1.0";
const ENV: &str = "wasi:cli/environment@0.2.6";
const RUN: &str = "wasi:cli/run@0.2.6";

struct Fixtures {
    socket: Vec<u8>,
    plain_socket: Vec<u8>,
    plug: Vec<u8>,
    plug_v2: Vec<u8>,
    plug_needs_other: Vec<u8>,
    other: Vec<u8>,
}

fn fixtures() -> &'static Fixtures {
    static F: OnceLock<Fixtures> = OnceLock::new();
    F.get_or_init(|| Fixtures {
        socket: component("socket"),
        plain_socket: component("plain-socket"),
        plug: component("plug"),
        plug_v2: component("plug-v2"),
        plug_needs_other: component("plug-needs-other"),
        other: component("other"),
    })
}

fn request(socket: &[u8], caps: Vec<pylon_compose::CapInput>) -> ComposeRequest {
    ComposeRequest {
        socket_name: "cpython".into(),
        socket: socket.to_vec(),
        caps,
    }
}

#[test]
fn plugs_the_cap_and_keeps_only_wasi_imports() {
    let f = fixtures();
    let out = compose(&request(
        &f.socket,
        vec![
            cap("greet", f.plug.clone(), &[GREET]),
            cap("other", f.other.clone(), &[OTHER]),
        ],
    ))
    .expect("composes");

    let (imports, exports) = names(&out.bytes);
    assert!(
        imports.iter().all(|i| !i.starts_with("test:")),
        "{imports:?}"
    );
    assert_eq!(imports, vec![ENV.to_string()]);
    assert_eq!(exports, vec![RUN.to_string()]);
    assert_eq!(out.remaining_imports, vec![ENV.to_string()]);
    assert_eq!(out.plugged.len(), 1);
    assert_eq!(out.plugged[0].cap, "greet");
    assert_eq!(
        out.plugged[0].satisfied,
        vec![SatisfiedImport {
            importer: "cpython".into(),
            import: GREET.into(),
            export: GREET.into(),
        }]
    );
    assert_eq!(out.unused_caps, vec!["other".to_string()]);
    // No producers (`processed-by`) or names section is added around the socket.
    assert!(
        common::top_level_custom_sections(&out.bytes).is_empty(),
        "{:?}",
        common::top_level_custom_sections(&out.bytes)
    );
    wasmparser::Validator::new()
        .validate_all(&out.bytes)
        .expect("valid component");
}

#[test]
fn output_does_not_depend_on_cap_order_or_where_caps_come_from() {
    let f = fixtures();
    let caps = [
        ("greet", f.plug.clone(), GREET),
        ("other", f.other.clone(), OTHER),
    ];

    let mut outputs = Vec::new();
    for (round, reversed) in [(0, false), (1, true), (2, false)] {
        // Each round reads the caps back from files with different names in a
        // fresh directory, in a different order.
        let dir = tempfile::tempdir().expect("tempdir");
        let mut inputs = Vec::new();
        for (name, bytes, export) in &caps {
            let path = dir
                .path()
                .join(format!("round{round}-{name}-artifact.wasm"));
            std::fs::write(&path, bytes).expect("write cap");
            let bytes = std::fs::read(&path).expect("read cap");
            inputs.push(cap(name, bytes, &[export]));
        }
        if reversed {
            inputs.reverse();
        }
        outputs.push(compose(&request(&f.socket, inputs)).expect("composes"));
    }
    assert_eq!(outputs[0].bytes, outputs[1].bytes);
    assert_eq!(outputs[0].bytes, outputs[2].bytes);
    assert_eq!(outputs[0], outputs[1]);
}

#[test]
fn a_changed_cap_changes_the_output() {
    let f = fixtures();
    let a = compose(&request(
        &f.socket,
        vec![cap("greet", f.plug.clone(), &[GREET])],
    ))
    .expect("composes");
    let changed = with_custom_section(f.plug.clone(), "pylon-test", b"v2");
    let b = compose(&request(&f.socket, vec![cap("greet", changed, &[GREET])])).expect("composes");
    assert_ne!(a.bytes, b.bytes);
}

#[test]
fn caps_plug_into_caps() {
    let f = fixtures();
    let out = compose(&request(
        &f.socket,
        vec![
            cap("other", f.other.clone(), &[OTHER]),
            cap("greet", f.plug_needs_other.clone(), &[GREET]),
        ],
    ))
    .expect("composes");
    let (imports, _) = names(&out.bytes);
    assert!(
        imports.iter().all(|i| !i.starts_with("test:")),
        "{imports:?}"
    );
    let plugged: Vec<&str> = out.plugged.iter().map(|p| p.cap.as_str()).collect();
    assert_eq!(plugged, ["greet", "other"]);
    assert_eq!(out.plugged[1].satisfied[0].importer, "greet");
    assert!(out.unused_caps.is_empty());
}

#[test]
fn a_socket_without_cap_imports_passes_through() {
    let f = fixtures();
    let out = compose(&request(
        &f.plain_socket,
        vec![cap("greet", f.plug.clone(), &[GREET])],
    ))
    .expect("composes");
    assert_eq!(out.bytes, f.plain_socket);
    assert!(out.plugged.is_empty());
    assert_eq!(out.unused_caps, vec!["greet".to_string()]);
    assert_eq!(out.remaining_imports, vec![ENV.to_string()]);
}

#[test]
fn an_import_no_cap_exports_is_refused() {
    let f = fixtures();
    let err = compose(&request(
        &f.socket,
        vec![cap("other", f.other.clone(), &[OTHER])],
    ))
    .expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains(GREET), "{msg}");
    assert!(msg.contains("no cap exports it"), "{msg}");
    assert!(msg.contains("cpython"), "{msg}");
    assert!(
        matches!(
            err,
            ComposeError::UnsatisfiedImport {
                expected_cap: None,
                ..
            }
        ),
        "{err:?}"
    );
}

#[test]
fn a_version_mismatch_names_both_versions() {
    let f = fixtures();
    let err = compose(&request(
        &f.socket,
        vec![cap("greet", f.plug_v2.clone(), &[GREET_V2])],
    ))
    .expect_err("must fail");
    let msg = err.to_string();
    assert!(
        msg.contains("cap greet exports test:a/greet@0.2.0, not @0.1.0"),
        "{msg}"
    );
    assert!(msg.contains(GREET), "{msg}");
    match err {
        ComposeError::UnsatisfiedImport { expected_cap, .. } => {
            assert_eq!(expected_cap.as_deref(), Some("greet"))
        }
        other => panic!("unexpected error {other:?}"),
    }
}

#[test]
fn declared_exports_must_match_the_component() {
    let f = fixtures();
    let err = compose(&request(
        &f.socket,
        vec![cap("greet", f.plug.clone(), &[GREET, "test:x/y@1.0.0"])],
    ))
    .expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("cap `greet`"), "{msg}");
    assert!(msg.contains("test:x/y@1.0.0"), "{msg}");

    let err = compose(&request(&f.socket, vec![cap("greet", f.plug.clone(), &[])]))
        .expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("cap `greet`"), "{msg}");
    assert!(
        msg.contains("exported but not declared: test:a/greet@0.1.0"),
        "{msg}"
    );
}

#[test]
fn invalid_components_are_named() {
    let f = fixtures();
    let err = compose(&request(
        &f.socket,
        vec![
            cap("greet", f.plug.clone(), &[GREET]),
            cap("junk", b"this is not wasm at all".to_vec(), &[]),
        ],
    ))
    .expect_err("must fail");
    assert!(matches!(&err, ComposeError::InvalidCap { cap, .. } if cap == "junk"));
    assert!(err.to_string().contains("cap `junk`"), "{err}");

    let core = wat::parse_str("(module)").expect("wat");
    let err = compose(&request(&f.socket, vec![cap("core", core, &[])])).expect_err("must fail");
    assert!(err.to_string().contains("cap `core`"), "{err}");
    assert!(err.to_string().contains("core module"), "{err}");

    // A component header followed by garbage.
    let truncated = f.plug[..f.plug.len() / 2].to_vec();
    let err = compose(&request(&f.socket, vec![cap("half", truncated, &[GREET])]))
        .expect_err("must fail");
    assert!(err.to_string().contains("cap `half`"), "{err}");

    let err = compose(&request(b"garbage", vec![])).expect_err("must fail");
    assert!(matches!(err, ComposeError::InvalidSocket { .. }));
    assert!(err.to_string().contains("socket `cpython`"), "{err}");
}

#[test]
fn duplicate_and_ambiguous_caps_are_refused() {
    let f = fixtures();
    let err = compose(&request(
        &f.socket,
        vec![
            cap("greet", f.plug.clone(), &[GREET]),
            cap("greet", f.plug.clone(), &[GREET]),
        ],
    ))
    .expect_err("must fail");
    assert!(matches!(err, ComposeError::DuplicateCap { .. }), "{err:?}");

    let err = compose(&request(
        &f.socket,
        vec![
            cap("greet", f.plug.clone(), &[GREET]),
            cap("greet2", f.plug_needs_other.clone(), &[GREET]),
        ],
    ))
    .expect_err("must fail");
    let msg = err.to_string();
    assert!(msg.contains("greet, greet2"), "{msg}");
}

#[test]
fn the_composition_runs_in_wasmtime() {
    use wasmtime::component::{Component, Linker};
    use wasmtime::{Engine, Store};

    let socket = wat::parse_str(common::RUNNABLE_SOCKET).expect("socket wat");
    let plug = wat::parse_str(common::RUNNABLE_PLUG).expect("plug wat");
    let out = compose(&request(
        &socket,
        vec![cap("math", plug, &["test:m/math@0.1.0"])],
    ))
    .expect("composes");
    assert_eq!(
        out.remaining_imports,
        vec!["wasi:clocks/monotonic-clock@0.2.6".to_string()]
    );

    let engine = Engine::default();
    let component = Component::new(&engine, &out.bytes).expect("compiles");
    let mut linker = Linker::<()>::new(&engine);
    linker
        .instance("wasi:clocks/monotonic-clock@0.2.6")
        .expect("instance")
        .func_wrap("now", |_, (): ()| Ok((100u64,)))
        .expect("define now");
    let mut store = Store::new(&engine, ());
    let instance = linker
        .instantiate(&mut store, &component)
        .expect("instantiates");
    let run = instance
        .get_typed_func::<(), (u32,)>(&mut store, "run")
        .expect("run export");
    let (result,) = run.call(&mut store, ()).expect("runs");
    assert_eq!(result, 142);
}
