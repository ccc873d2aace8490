//! `pylon cap new NAME`: a working cap directory, like `cargo new`. The files come
//! from `templates/new-cap/` (compiled in); the cap's `Cargo.lock` is made by cargo.
//! The directory is assembled under a temporary name next to its destination and
//! renamed into place only when complete, so a failure leaves nothing behind.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Template files, by their path in the new cap (`@MODULE@` in a path is replaced).
const TEMPLATE: &[(&str, &str)] = &[
    (
        ".gitignore",
        include_str!("../templates/new-cap/.gitignore"),
    ),
    (
        "Cargo.toml",
        include_str!("../templates/new-cap/Cargo.toml"),
    ),
    ("README.md", include_str!("../templates/new-cap/README.md")),
    ("cap.toml", include_str!("../templates/new-cap/cap.toml")),
    (
        "python/@MODULE@.py",
        include_str!("../templates/new-cap/python/@MODULE@.py"),
    ),
    (
        "smoke/@MODULE@_smoke.py",
        include_str!("../templates/new-cap/smoke/@MODULE@_smoke.py"),
    ),
    (
        "smoke/alloc_loop.py",
        include_str!("../templates/new-cap/smoke/alloc_loop.py"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/new-cap/src/lib.rs"),
    ),
    (
        "wasmtime_test.rs",
        include_str!("../templates/new-cap/wasmtime_test.rs"),
    ),
    (
        "wit/world.wit",
        include_str!("../templates/new-cap/wit/world.wit"),
    ),
];

#[derive(Debug, thiserror::Error)]
pub enum ScaffoldError {
    #[error("{name:?} cannot name a new cap: use lowercase words of letters and digits joined by '-', each starting with a letter (it becomes a WIT package, a directory and a Python module)")]
    BadName { name: String },
    #[error("{} already exists; choose another name or remove it", path.display())]
    Exists { path: PathBuf },
    #[error("{what} {}: {source}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("`cargo generate-lockfile` for the new cap failed ({status}):\n{stderr}")]
    Lockfile { status: String, stderr: String },
}

/// What `new_cap` made.
#[derive(Debug, serde::Serialize)]
pub struct NewCap {
    pub name: String,
    pub dir: PathBuf,
    /// The Python module it serves (`name` with `-` → `_`).
    pub module: String,
    /// Every file written, relative to `dir`.
    pub files: Vec<String>,
}

/// Whether `name` is a WIT identifier in kebab case (`demo`, `my-cap2`): lowercase
/// words of letters and digits, each starting with a letter, joined by single '-'.
pub fn valid_new_cap_name(name: &str) -> bool {
    !name.is_empty()
        && name.split('-').all(|word| {
            let mut c = word.chars();
            matches!(c.next(), Some('a'..='z')) && c.all(|c| matches!(c, 'a'..='z' | '0'..='9'))
        })
}

/// `CamelCase` of a kebab name, as `wasmtime::component::bindgen!` names a world.
fn upper_camel(kebab: &str) -> String {
    kebab
        .split('-')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

/// Creates `<caps_root>/<name>/`: a cap that builds, is tested in wasmtime and in
/// pylon.wasm, and serves one Python module. `cargo` is the one to run for the lock.
pub fn new_cap(caps_root: &Path, name: &str, cargo: &Path) -> Result<NewCap, ScaffoldError> {
    if !valid_new_cap_name(name) {
        return Err(ScaffoldError::BadName {
            name: name.to_string(),
        });
    }
    let dest = caps_root.join(name);
    if dest.exists() {
        return Err(ScaffoldError::Exists { path: dest });
    }
    let module = name.replace('-', "_");
    let world_type = upper_camel(&format!("{name}-cap"));
    let fill = |s: &str| {
        s.replace("@NAME@", name)
            .replace("@MODULE@", &module)
            .replace("@WORLD_TYPE@", &world_type)
    };
    std::fs::create_dir_all(caps_root).map_err(io("creating", caps_root))?;
    let staging = tempfile::Builder::new()
        .prefix(&format!(".new-{name}-"))
        .tempdir_in(caps_root)
        .map_err(io("creating a directory in", caps_root))?;
    let mut files = Vec::new();
    for (path, text) in TEMPLATE {
        let rel = fill(path);
        let file = staging.path().join(&rel);
        if let Some(parent) = file.parent() {
            std::fs::create_dir_all(parent).map_err(io("creating", parent))?;
        }
        std::fs::write(&file, fill(text)).map_err(io("writing", &file))?;
        files.push(rel);
    }
    let out = Command::new(cargo)
        .arg("generate-lockfile")
        .arg("--manifest-path")
        .arg(staging.path().join("Cargo.toml"))
        .env_remove("CARGO_TARGET_DIR")
        .output()
        .map_err(io("running", cargo))?;
    if !out.status.success() {
        return Err(ScaffoldError::Lockfile {
            status: out.status.to_string(),
            stderr: String::from_utf8_lossy(&out.stderr).trim().to_string(),
        });
    }
    files.push("Cargo.lock".to_string());
    files.sort();
    let staged = staging.keep();
    std::fs::rename(&staged, &dest).map_err(|source| {
        let _ = std::fs::remove_dir_all(&staged);
        ScaffoldError::Io {
            what: "moving the new cap into place at",
            path: dest.clone(),
            source,
        }
    })?;
    Ok(NewCap {
        name: name.to_string(),
        dir: dest,
        module,
        files,
    })
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> ScaffoldError {
    let path = path.to_path_buf();
    move |source| ScaffoldError::Io { what, path, source }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn new_cap_names_are_wit_kebab_identifiers() {
        for ok in ["demo", "my-cap2", "a"] {
            assert!(valid_new_cap_name(ok), "{ok}");
        }
        for bad in [
            "", "Demo", "my_cap", "2cap", "my--cap", "cap-", "-cap", "my-2", "../x",
        ] {
            assert!(!valid_new_cap_name(bad), "{bad}");
        }
        assert_eq!(upper_camel("my-cap2-cap"), "MyCap2Cap");
    }

    #[test]
    fn a_bad_name_or_an_existing_directory_writes_nothing() {
        let root = tempfile::tempdir().unwrap();
        let cargo = Path::new("cargo");
        assert!(matches!(
            new_cap(root.path(), "Bad_Name", cargo),
            Err(ScaffoldError::BadName { .. })
        ));
        std::fs::create_dir(root.path().join("demo")).unwrap();
        std::fs::write(root.path().join("demo/keep"), "mine").unwrap();
        let e = new_cap(root.path(), "demo", cargo).unwrap_err();
        assert!(matches!(e, ScaffoldError::Exists { .. }), "{e}");
        assert_eq!(
            std::fs::read_to_string(root.path().join("demo/keep")).unwrap(),
            "mine"
        );
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 1);
    }

    #[test]
    fn a_failing_lockfile_step_leaves_no_directory() {
        let root = tempfile::tempdir().unwrap();
        let e = new_cap(root.path(), "demo", Path::new("false")).unwrap_err();
        assert!(matches!(e, ScaffoldError::Lockfile { .. }), "{e}");
        assert_eq!(std::fs::read_dir(root.path()).unwrap().count(), 0);
    }
}
