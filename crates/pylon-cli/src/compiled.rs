//! What this binary was compiled with, for the drift diagnosis and `manifest regen`
//! (`pylon_product::drift`): the versions build.rs read from the workspace Cargo.lock.

use pylon_product::drift::Compiled;

/// `wasmtime` and `wac-graph` as compiled into this pylon (from the workspace
/// Cargo.lock, by build.rs); `None` when the lockfile was not there to read.
pub fn compiled_crate(name: &str) -> Option<String> {
    let version = match name {
        "wasmtime" => env!("PYLON_WASMTIME_VERSION"),
        "wac-graph" => env!("PYLON_WAC_GRAPH_VERSION"),
        _ => "",
    };
    (!version.is_empty()).then(|| format!("{name} {version}"))
}

/// Both, as the drift library takes them.
pub fn crates() -> Compiled {
    Compiled {
        wasmtime: compiled_crate("wasmtime"),
        wac_graph: compiled_crate("wac-graph"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    #[test]
    fn compiled_versions_are_the_workspace_lockfiles() {
        let lock =
            std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../Cargo.lock"))
                .unwrap();
        let packages = pylon_util::lockfile::locked_packages(&lock).unwrap();
        for name in ["wasmtime", "wac-graph"] {
            let versions: Vec<&str> = packages[name].iter().map(|(v, _)| v.as_str()).collect();
            assert_eq!(
                compiled_crate(name),
                Some(format!("{name} {}", versions.join("/")))
            );
        }
    }
}
