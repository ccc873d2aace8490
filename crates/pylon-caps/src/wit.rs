//! What a cap exports, read from its WIT (`<cap>/wit/`, the world its descriptor
//! names): the manifest's `exports` are written from this, never by hand.

use std::path::{Path, PathBuf};

use wit_parser::{Resolve, WorldItem, WorldKey};

#[derive(Debug, thiserror::Error)]
pub enum WitError {
    #[error("{}: {message}", dir.display())]
    Parse { dir: PathBuf, message: String },
    #[error("{}: no world {world:?} in package {package}", dir.display())]
    NoWorld {
        dir: PathBuf,
        world: String,
        package: String,
    },
    #[error("{}: world {world:?} exports {what}, which a cap cannot: export interfaces", dir.display())]
    Unsupported {
        dir: PathBuf,
        world: String,
        what: String,
    },
}

/// The interfaces world `world` of the WIT package in `wit_dir` exports, as
/// `namespace:package/interface@version`, in the world's order.
pub fn world_exports(wit_dir: &Path, world: &str) -> Result<Vec<String>, WitError> {
    let mut resolve = Resolve::default();
    let (package, _) = resolve.push_dir(wit_dir).map_err(|e| WitError::Parse {
        dir: wit_dir.to_path_buf(),
        message: format!("{e:#}"),
    })?;
    let package_name = resolve.packages[package].name.to_string();
    let world_id = resolve.packages[package]
        .worlds
        .get(world)
        .copied()
        .ok_or_else(|| WitError::NoWorld {
            dir: wit_dir.to_path_buf(),
            world: world.to_string(),
            package: package_name,
        })?;
    let mut out = Vec::new();
    for (key, item) in &resolve.worlds[world_id].exports {
        if let WorldItem::Interface { id, .. } = item {
            if let Some(name) = resolve.id_of(*id) {
                out.push(name);
                continue;
            }
        }
        let what = match key {
            WorldKey::Name(name) => format!("{name:?} (not a named interface)"),
            WorldKey::Interface(_) => "an anonymous interface".to_string(),
        };
        return Err(WitError::Unsupported {
            dir: wit_dir.to_path_buf(),
            world: world.to_string(),
            what,
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exports_of_a_world_are_its_interfaces_in_order() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("world.wit"),
            "package pylon:demo@0.1.0;\n\
             interface b { f: func() -> u32; }\n\
             interface a { g: func(); }\n\
             world demo-cap { export b; export a; }\n",
        )
        .unwrap();
        assert_eq!(
            world_exports(dir.path(), "demo-cap").unwrap(),
            ["pylon:demo/b@0.1.0", "pylon:demo/a@0.1.0"]
        );
        let e = world_exports(dir.path(), "other").unwrap_err().to_string();
        assert!(
            e.contains("no world \"other\" in package pylon:demo@0.1.0"),
            "{e}"
        );
    }

    #[test]
    fn a_bare_function_export_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("world.wit"),
            "package pylon:demo@0.1.0;\nworld w { export run: func(); }\n",
        )
        .unwrap();
        let e = world_exports(dir.path(), "w").unwrap_err().to_string();
        assert!(e.contains("\"run\""), "{e}");
    }

    #[test]
    fn malformed_wit_names_the_directory() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("world.wit"),
            "package pylon:demo@0.1.0;\nworld {",
        )
        .unwrap();
        let e = world_exports(dir.path(), "w").unwrap_err().to_string();
        assert!(e.contains(&dir.path().display().to_string()), "{e}");
    }
}
