//! `pylon manifest regen`: parses the arguments, gathers this machine's facts (its
//! `[toolchain]` values, host paths), calls `pylon_product::regen::regen` and renders
//! the result. Exit status: 0 written (or a clean dry run), 1 a cap, the product build
//! or a write failed (nothing written), 2 usage, manifest or descriptor error.

use std::collections::HashMap;
use std::io::Write;

use pylon_caps::build::HostPaths;
use pylon_caps::regen::RegenOptions;
use pylon_caps::sync::SyncEvent;
use pylon_product::build::ProductEvent;
use pylon_product::regen::{
    regen, ProductPin, ProductSettings, RegenEvent, RegenRequest, RegenResult,
};
use pylon_product::PylonPin;

use crate::{caps_dir, compiled, render, usage, RegenArgs};

pub fn run(args: RegenArgs) -> anyhow::Result<u8> {
    let mut refs = HashMap::new();
    for spec in &args.refs {
        let Some((name, r)) = spec.split_once('=') else {
            return Err(usage(anyhow::anyhow!("--ref {spec:?}: expected NAME=REF")));
        };
        refs.insert(name.to_string(), r.to_string());
    }
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()));
    if jobs == 0 {
        return Err(usage(anyhow::anyhow!("--jobs must be at least 1")));
    }
    let manifest_root = crate::manifest_root(&args.common.manifest);
    crate::toolchain_cmd::provide(&manifest_root, args.cache_dir.as_deref(), args.common.json)?;
    let product = if args.no_build {
        None
    } else {
        let cache_root = args
            .cache_dir
            .clone()
            .or_else(pylon_cpython::fetch::default_cache_root);
        cache_root.map(|cache_root| ProductSettings {
            cache_root,
            jobs,
            host: HostPaths::detect(),
        })
    };
    let request = RegenRequest {
        manifest_path: args.common.manifest.clone(),
        caps: RegenOptions {
            caps_dir: caps_dir(args.common.caps_dir.clone())?,
            only: (!args.caps.is_empty()).then(|| args.caps.clone()),
            refs,
            host: HostPaths::detect(),
        },
        toolchain: pylon_product::drift::current_toolchain(&manifest_root, &compiled::crates()),
        product,
        dry_run: args.dry_run,
    };
    let json = args.common.json;
    let result = regen(&request, &|ev| progress(json, ev)).map_err(|e| {
        let code = e.exit_code();
        let mut message = e.to_string();
        for line in e.log_tail() {
            message.push_str("\n  | ");
            message.push_str(line);
        }
        if code == 2 {
            usage(anyhow::anyhow!(message))
        } else {
            anyhow::anyhow!(message)
        }
    })?;
    if json {
        render::print_json(
            "manifest-regen",
            &serde_json::json!({
                "caps": result.caps.caps,
                "added": result.added,
                "written": !result.written.is_empty(),
                "files": result.written,
                "pylon_sha256": result.pylon_sha256,
            }),
            result.success(),
        );
    } else {
        print(&result, &args);
    }
    Ok(if result.success() { 0 } else { 1 })
}

/// One line per cap build, sync result and product stage on stderr (quiet with --json).
fn progress(json: bool, ev: RegenEvent<'_>) {
    if json {
        return;
    }
    let mut err = std::io::stderr().lock();
    let _ = match ev {
        RegenEvent::Cap { name, new } => writeln!(
            err,
            "regen: building {name}{} from fresh sources…",
            if new { " (new cap)" } else { "" }
        ),
        RegenEvent::Sync(SyncEvent::Finished(outcome)) => writeln!(
            err,
            "regen: caps-sync {} {}",
            outcome.name,
            outcome.status.label()
        ),
        RegenEvent::Sync(_) => Ok(()),
        RegenEvent::Product(ProductEvent::Cpython(ev)) => match ev {
            pylon_cpython::BuildEvent::Done(stage, took) => writeln!(
                err,
                "regen: product build: {} done ({:.1}s)",
                stage.as_str(),
                took.as_secs_f64()
            ),
            pylon_cpython::BuildEvent::Cached(stage, _) => {
                writeln!(err, "regen: product build: {} cached", stage.as_str())
            }
            _ => Ok(()),
        },
        RegenEvent::Product(ProductEvent::ComposeStart) => {
            writeln!(err, "regen: composing pylon.wasm …")
        }
        RegenEvent::Product(ProductEvent::SnapshotStart { seed }) => writeln!(
            err,
            "regen: making the seeded startup snapshot (seed {seed}) …"
        ),
        RegenEvent::Product(ProductEvent::Toolchain(ev)) => {
            match crate::toolchain_cmd::describe(&ev) {
                Some(line) => writeln!(err, "regen: {line}"),
                None => Ok(()),
            }
        }
        RegenEvent::Product(ProductEvent::ComposeDone(_) | ProductEvent::SnapshotDone(_)) => Ok(()),
    };
}

fn print(result: &RegenResult, args: &RegenArgs) {
    let manifest = &args.common.manifest;
    render::print_regen(&result.caps, manifest, !result.written.is_empty());
    let not_written = if args.dry_run {
        "; not written (--dry-run)"
    } else {
        ""
    };
    match &result.pylon_sha256 {
        Some(ProductPin::Built {
            sha256,
            profile,
            python_wasm,
            stdlib_zip,
            expected,
            cached,
            snapshot_sha256,
        }) => {
            println!(
                "product rebuilt with the new pins ({profile}{}):",
                if *cached { ", from the cache" } else { "" }
            );
            println!("  python.wasm  {python_wasm}");
            println!("  stdlib.zip   {stdlib_zip}");
            println!("  pylon_sha256 {sha256}");
            if let Some(snapshot) = snapshot_sha256 {
                println!("  snapshot     {snapshot}");
            }
            if !result.written.is_empty() {
                println!("wrote {}", expected.display());
            }
        }
        Some(ProductPin::OnDisk(PylonPin::Composed { sha256, python })) => println!(
            "pylon_sha256 {sha256} (composed from {} and the caps){not_written}",
            python.display()
        ),
        Some(ProductPin::OnDisk(PylonPin::Stale { reason, .. })) => println!(
            "pylon_sha256 set to the placeholder: {reason}.\nNext: `make caps-sync build`, \
             then `pylon manifest regen` again pins the product (or run regen without --no-build)"
        ),
        Some(ProductPin::OnDisk(PylonPin::NotBuilt { python })) => println!(
            "pylon_sha256 unchanged: {} does not exist (run `make build`, then regen again)",
            python.display()
        ),
        None => {}
    }
}
