//! Real components for the tests: WIT worlds turned into components with
//! wit-component's dummy module, and hand-written WAT components that run.

#![allow(dead_code)]

use pylon_compose::CapInput;
use wit_component::{ComponentEncoder, StringEncoding};
use wit_parser::{ManglingAndAbi, Resolve};

const WASI_CLI: &str = r#"
package wasi:cli@0.2.6;

interface environment {
    get-environment: func() -> list<tuple<string, string>>;
    get-arguments: func() -> list<string>;
}

interface run {
    run: func() -> result;
}
"#;

fn test_a(version: &str) -> String {
    format!(
        r#"
package test:a@{version};

interface greet {{
    resource greeter {{
        constructor(prefix: string);
        greet: func(name: string) -> string;
    }}
    hello: func(name: string) -> string;
}}
"#
    )
}

const TEST_B: &str = r#"
package test:b@0.1.0;

interface other {
    ping: func() -> u32;
}
"#;

const WORLDS: &str = r#"
package test:worlds;

world socket {
    import test:a/greet@0.1.0;
    import wasi:cli/environment@0.2.6;
    export wasi:cli/run@0.2.6;
}

world plain-socket {
    import wasi:cli/environment@0.2.6;
    export wasi:cli/run@0.2.6;
}

world plug {
    import wasi:cli/environment@0.2.6;
    export test:a/greet@0.1.0;
}

world plug-v2 {
    export test:a/greet@0.2.0;
}

world plug-needs-other {
    import test:b/other@0.1.0;
    export test:a/greet@0.1.0;
}

world other {
    export test:b/other@0.1.0;
}
"#;

/// A component for `world` of the test WIT packages.
pub fn component(world: &str) -> Vec<u8> {
    let mut resolve = Resolve::default();
    resolve
        .push_source("wasi-cli.wit", WASI_CLI)
        .expect("wasi:cli parses");
    resolve
        .push_source("a1.wit", &test_a("0.1.0"))
        .expect("test:a@0.1.0 parses");
    resolve
        .push_source("a2.wit", &test_a("0.2.0"))
        .expect("test:a@0.2.0 parses");
    resolve.push_source("b.wit", TEST_B).expect("test:b parses");
    let pkg = resolve
        .push_source("worlds.wit", WORLDS)
        .expect("worlds parse");
    let world = resolve
        .select_world(&[pkg], Some(world))
        .expect("world exists");
    let mut module = wit_component::dummy_module(&resolve, world, ManglingAndAbi::Standard32);
    wit_component::embed_component_metadata(
        &mut module,
        &resolve,
        world,
        StringEncoding::UTF8,
        false,
    )
    .expect("metadata embeds");
    ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .expect("module is accepted")
        .encode()
        .expect("component encodes")
}

pub fn cap(name: &str, bytes: Vec<u8>, exports: &[&str]) -> CapInput {
    CapInput {
        name: name.to_string(),
        bytes,
        declared_exports: exports.iter().map(|s| s.to_string()).collect(),
    }
}

/// `bytes` with a custom section appended (still a valid component, other bytes).
pub fn with_custom_section(mut bytes: Vec<u8>, name: &str, data: &[u8]) -> Vec<u8> {
    let mut payload = Vec::new();
    leb(&mut payload, name.len());
    payload.extend_from_slice(name.as_bytes());
    payload.extend_from_slice(data);
    bytes.push(0);
    leb(&mut bytes, payload.len());
    bytes.extend_from_slice(&payload);
    bytes
}

fn leb(out: &mut Vec<u8>, mut n: usize) {
    loop {
        let byte = (n & 0x7f) as u8;
        n >>= 7;
        if n == 0 {
            out.push(byte);
            return;
        }
        out.push(byte | 0x80);
    }
}

/// Top-level import and export names of a component.
pub fn names(bytes: &[u8]) -> (Vec<String>, Vec<String>) {
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::ComponentImportSection(s) if depth == 1 => {
                for i in s {
                    imports.push(i.expect("import").name.name.to_string());
                }
            }
            wasmparser::Payload::ComponentExportSection(s) if depth == 1 => {
                for e in s {
                    exports.push(e.expect("export").name.name.to_string());
                }
            }
            _ => {}
        }
    }
    (imports, exports)
}

/// A socket that imports `test:m/math@0.1.0` (`add`) and a clock, and exports
/// `run: func() -> u32` returning `add(40, 2)`.
pub const RUNNABLE_SOCKET: &str = r#"
(component
  (import "wasi:clocks/monotonic-clock@0.2.6" (instance
    (export "now" (func (result u64)))))
  (import "test:m/math@0.1.0" (instance $math
    (export "add" (func (param "a" u32) (param "b" u32) (result u32)))))
  (alias export $math "add" (func $add))
  (core func $add_lowered (canon lower (func $add)))
  (core module $m
    (import "math" "add" (func $add (param i32 i32) (result i32)))
    (func (export "run") (result i32)
      (call $add (i32.const 40) (i32.const 2))))
  (core instance $i (instantiate $m
    (with "math" (instance (export "add" (func $add_lowered))))))
  (func $run (result u32) (canon lift (core func $i "run")))
  (export "run" (func $run))
)
"#;

/// A plug exporting `test:m/math@0.1.0` whose `add(a, b)` is `a + b + now()`.
pub const RUNNABLE_PLUG: &str = r#"
(component
  (import "wasi:clocks/monotonic-clock@0.2.6" (instance $clock
    (export "now" (func (result u64)))))
  (alias export $clock "now" (func $now))
  (core func $now_lowered (canon lower (func $now)))
  (core module $m
    (import "clock" "now" (func $now (result i64)))
    (func (export "add") (param i32 i32) (result i32)
      (i32.add (i32.add (local.get 0) (local.get 1)) (i32.wrap_i64 (call $now)))))
  (core instance $i (instantiate $m
    (with "clock" (instance (export "now" (func $now_lowered))))))
  (func $add (param "a" u32) (param "b" u32) (result u32)
    (canon lift (core func $i "add")))
  (instance $math (export "add" (func $add)))
  (export "test:m/math@0.1.0" (instance $math))
)
"#;

/// Names of the custom sections of the outermost component (not of nested ones).
pub fn top_level_custom_sections(bytes: &[u8]) -> Vec<String> {
    let mut sections = Vec::new();
    let mut depth = 0;
    for payload in wasmparser::Parser::new(0).parse_all(bytes) {
        match payload.expect("parses") {
            wasmparser::Payload::Version { .. } => depth += 1,
            wasmparser::Payload::End(_) => depth -= 1,
            wasmparser::Payload::CustomSection(c) if depth == 1 => {
                sections.push(c.name().to_string())
            }
            _ => {}
        }
    }
    sections
}
