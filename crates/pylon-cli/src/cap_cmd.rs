//! `pylon cap list|new`: the caps of this project as found by looking
//! (`pylon_caps::layout`), and a new cap directory (`pylon_caps::scaffold`).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Args, Subcommand};

use pylon_caps::layout::{find_caps, IN_TREE_DIR};
use pylon_caps::scaffold::new_cap;

use crate::{caps_dir, load, render, usage, CommonArgs};

#[derive(Subcommand)]
pub enum CapCommand {
    /// Every cap: the manifest's (at their checkouts) and in-tree `caps/<name>/`
    /// directories with a cap.toml that the manifest does not pin yet.
    #[command(after_help = "Exit status: 0 listed, 2 usage, manifest or descriptor error.")]
    List(CommonArgs),
    /// Create `caps/NAME/`: a working cap (Rust component, WIT, Python module, smoke
    /// test, leak-loop part, wasmtime test, descriptor), like `cargo new`.
    #[command(
        after_help = "Then: edit caps/NAME/src/lib.rs, wit/ and python/, and run\n  pylon manifest regen NAME && make caps-sync build smoke\n\nExit status: 0 created, 1 cargo could not make its Cargo.lock, 2 bad name or NAME exists."
    )]
    New(NewArgs),
}

#[derive(Args)]
pub struct NewArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// The cap's name: lowercase words joined by '-' (`demo`, `my-cap`).
    name: String,
}

impl CapCommand {
    pub fn json(&self) -> bool {
        match self {
            CapCommand::List(a) => a.json,
            CapCommand::New(a) => a.common.json,
        }
    }
}

pub fn run(cmd: CapCommand) -> anyhow::Result<u8> {
    match cmd {
        CapCommand::List(args) => list(args),
        CapCommand::New(args) => new(args),
    }
}

fn list(args: CommonArgs) -> anyhow::Result<u8> {
    let manifest = load(&args.manifest)?;
    let caps = find_caps(&manifest, &caps_dir(args.caps_dir.clone())?).map_err(usage)?;
    if args.json {
        render::print_json("cap-list", &serde_json::json!({ "caps": caps }), true);
        return Ok(0);
    }
    for c in &caps {
        let state = match (c.in_manifest, c.pinned) {
            (true, true) => "pinned",
            (true, false) => "placeholder",
            _ => "not in the manifest (pylon manifest regen NAME)",
        };
        println!("{:12} {}  [{state}]", c.name, c.dir.display());
        if let Some(d) = &c.descriptor {
            let modules: Vec<&str> = d.modules.iter().map(|m| m.name.as_str()).collect();
            println!(
                "{:12} world {}, {}, Python: {}",
                "",
                d.world,
                if d.target.as_str().is_empty() {
                    "make"
                } else {
                    d.target.as_str()
                },
                if modules.is_empty() {
                    "-".to_string()
                } else {
                    modules.join(", ")
                }
            );
        }
    }
    Ok(0)
}

fn new(args: NewArgs) -> anyhow::Result<u8> {
    let manifest_path = &args.common.manifest;
    let root = manifest_path
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), PathBuf::from);
    let cargo = std::env::var_os("CARGO").map_or_else(|| PathBuf::from("cargo"), PathBuf::from);
    let made = match new_cap(&root.join(IN_TREE_DIR), &args.name, &cargo) {
        Ok(m) => m,
        Err(e @ pylon_caps::scaffold::ScaffoldError::Lockfile { .. }) => {
            return Err(anyhow::Error::new(e)).context(format!("creating cap {}", args.name))
        }
        Err(e) => return Err(usage(e)),
    };
    if args.common.json {
        render::print_json("cap-new", &made, true);
    } else {
        println!(
            "created {} ({} files):",
            made.dir.display(),
            made.files.len()
        );
        for f in &made.files {
            println!("  {f}");
        }
        println!(
            "Python: `import {}`. Next: edit it, then `pylon manifest regen {}` and \
             `make caps-sync build smoke`.",
            made.module, made.name
        );
    }
    Ok(0)
}
