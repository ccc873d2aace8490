//! `pylon repro-check [CAPS…] [--product]`: build each cap (or, with `--product`,
//! the whole pylon.wasm: CPython and the composition) as the baseline and again under
//! varied conditions (`pylon_repro`), then print a table per subject — variation →
//! identical / differs / not available, with the diagnosis of each difference — or
//! one versioned JSON document with `--json`. Exit status: 0 everything compared is
//! identical, 1 a build differs or failed, 2 usage or manifest error.
//!
//! The builds run in child `pylon` processes (the hidden `--internal-build` mode of
//! this same command for a cap, `pylon build` for the product) whose environment,
//! umask and clock are the varied ones; see
//! the module documentation of `pylon_repro` for why.
//!
//! Errors are rendered here (not returned), so `main` only maps the returned code.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use pylon_caps::sync::checkout_dir;
use pylon_manifest::{read_manifest, Manifest, Repo};
use pylon_repro::{
    repro_check, run_child_build, Against, BaselineInfo, ChildCommand, ProductOutput, ProductSpec,
    ReproEvent, ReproOptions, ReproReport, Row, RowKind, SubjectRepro, Variation, Verdict,
};
use serde_json::{json, Value};

const EXIT_OK: u8 = 0;
const EXIT_DIFFERS: u8 = 1;
const EXIT_USAGE: u8 = 2;

#[derive(clap::Args, Debug, Clone)]
#[command(
    after_help = "Variations (--variations a,b or all): build-path, home, tz, locale, umask, jobs,\nsource-date-epoch, extra-env, listing-order, clock (needs faketime). Each build runs in a\nfresh directory with a fresh cargo target dir. By default all variations go into ONE\nsecond build; if it differs, a control build and one build per variation attribute it.\n\nWith --product the subject is the whole product: `pylon build` runs in a copy of\nthe project with a fresh cache root (native build python, CPython, composition:\nabout 5 minutes per build here), and python.wasm, stdlib.zip and pylon.wasm are\ncompared. The caps must have been synced (their pinned artifacts are composed).\n\nWith --against pins there is no baseline build: the varied build is compared with the\ncommitted digests (caps-manifest.toml's sha256, profiles/expected/<profile>.toml,\npylon_sha256), which were made on another machine, path and clock. A difference is\ndiagnosed against the pinned bytes when this machine holds them (the artifact caps-sync\npublished, build/<profile>/), else the build is scanned alone; then each variation is\nbuilt alone to attribute it (--no-attribution skips that; for the product only with\n--attribute-product). With --all, every cap and the product, whose builds run beside\nthe caps'.\n\nExamples:\n  pylon repro-check --against pins --all  # every cap and the product, 1 build each (CI)\n  pylon repro-check                  # every cap of the manifest, 2 builds each\n  pylon repro-check zlib --each      # one build per variation\n  pylon repro-check --variations home,tz --json\n  pylon repro-check --product        # CPython + pylon.wasm, 2 cold builds\n\nExit status: 0 every compared build identical, 1 a build differs or failed,\n2 usage or manifest error."
)]
pub struct ReproArgs {
    /// Caps to check (all when none are given).
    pub caps: Vec<String>,
    /// The manifest to read.
    #[arg(long, env = "PYLON_MANIFEST", default_value = "caps-manifest.toml")]
    pub manifest: PathBuf,
    /// Variations to apply, comma-separated, or `all`.
    #[arg(long, default_value = "all", value_name = "LIST")]
    pub variations: String,
    /// What the varied build is compared with: `baseline` (a build made here first) or
    /// `pins` (the committed digests: no baseline build).
    #[arg(long, default_value = "baseline", value_name = "baseline|pins")]
    pub against: String,
    /// With --against pins: when a cap's build differs from its pin, do not build each
    /// variation alone to attribute it.
    #[arg(long)]
    pub no_attribution: bool,
    /// With --against pins: attribute a product build that differs from its pins too
    /// (one more cold product build per variation, minutes each).
    #[arg(long)]
    pub attribute_product: bool,
    /// Every cap of the manifest, then the product (--product with every cap named).
    #[arg(long, conflicts_with = "caps")]
    pub all: bool,
    /// One build per variation, even when the combined build is identical.
    #[arg(long)]
    pub each: bool,
    /// Keep the scratch directory (sources, target dirs, artifacts, build logs).
    #[arg(long)]
    pub keep: bool,
    /// Kill a build still running after this many minutes (reported as failed).
    #[arg(long, default_value_t = 60, value_name = "MINUTES")]
    pub build_timeout: u64,
    /// Print a versioned JSON document on stdout instead of the table.
    #[arg(long)]
    pub json: bool,
    /// Check the whole product (python.wasm, stdlib.zip, pylon.wasm) instead of the
    /// caps; caps named as well are checked first.
    #[arg(long)]
    pub product: bool,
    /// With --product: the profile (default: the name in profiles/default).
    #[arg(long, env = "PYLON_PROFILE")]
    pub profile: Option<String>,
    /// With --product: where git caps are checked out (as for build; default ~/git).
    #[arg(long, env = "PYLON_CAPS_DIR")]
    pub caps_dir: Option<PathBuf>,
    /// With --product: a local copy of the CPython tarball (default: the machine's
    /// input cache when it holds it; checked against the pin by each build).
    #[arg(long, env = "PYLON_CPYTHON_TARBALL")]
    pub cpython_tarball: Option<PathBuf>,
    /// Internal: build one request in this process (the varied child of a check).
    #[arg(long, hide = true, value_name = "REQUEST")]
    pub internal_build: Option<PathBuf>,
}

/// Runs `pylon repro-check`; the returned value is the process exit code.
pub fn run(args: ReproArgs) -> anyhow::Result<u8> {
    if let Some(request) = &args.internal_build {
        return Ok(match run_child_build(request) {
            Ok(()) => EXIT_OK,
            Err(e) => {
                eprintln!("error: {e}");
                EXIT_DIFFERS
            }
        });
    }
    let variations = match Variation::parse_list(&args.variations) {
        Ok(v) => v,
        Err(e) => return Ok(usage_error(&args, format!("--variations: {e}"))),
    };
    let Some(against) = Against::parse(&args.against) else {
        return Ok(usage_error(
            &args,
            format!(
                "--against: unknown value {:?} (baseline or pins)",
                args.against
            ),
        ));
    };
    let manifest = match read_manifest(&args.manifest) {
        Ok(m) => m,
        Err(e) => return Ok(usage_error(&args, e.to_string())),
    };
    // Once, here: every varied build (its own HOME and cache root) inherits the
    // unpacked toolchain through PYLON_WASI_TOOLCHAIN.
    if let Err(e) =
        crate::toolchain_cmd::provide(&crate::manifest_root(&args.manifest), None, args.json)
    {
        return Ok(usage_error(&args, format!("{e:#}")));
    }
    let program = match std::env::current_exe() {
        Ok(p) => p,
        Err(e) => {
            return Ok(usage_error(
                &args,
                format!("cannot locate the pylon executable for the build processes: {e}"),
            ))
        }
    };
    let product = if args.product || args.all {
        match product_spec(&args, &manifest) {
            Ok(p) => Some(p),
            Err(e) => return Ok(usage_error(&args, e)),
        }
    } else {
        None
    };
    let opts = ReproOptions {
        caps: args.all || !args.product || !args.caps.is_empty(),
        against,
        attribute_caps: !args.no_attribution,
        attribute_product: args.attribute_product,
        caps_dir: caps_dir(&args).ok(),
        only: (!args.caps.is_empty()).then(|| args.caps.clone()),
        product,
        variations,
        each: args.each,
        keep: args.keep,
        scratch_parent: None,
        child: ChildCommand {
            program,
            args: vec!["repro-check".into(), "--internal-build".into()],
        },
        build_timeout: Duration::from_secs(args.build_timeout.saturating_mul(60)),
    };
    let report = match repro_check(&manifest, &opts, &progress) {
        Ok(r) => r,
        Err(e) => return Ok(usage_error(&args, e.to_string())),
    };
    let code = if report.success() {
        EXIT_OK
    } else {
        EXIT_DIFFERS
    };
    if args.json {
        let mut body = json!({ "exit_code": code });
        if let (Some(obj), Ok(Value::Object(r))) =
            (body.as_object_mut(), serde_json::to_value(&report))
        {
            obj.extend(r);
        }
        crate::render::print_json("repro-check", &body, report.success());
    } else {
        print_text(&report);
    }
    Ok(code)
}

/// What the product check builds: the profile's outputs and their pins, and the
/// in-tree caps' artifacts to carry into each copy of the project.
fn product_spec(args: &ReproArgs, manifest: &Manifest) -> Result<ProductSpec, String> {
    let root = manifest.root();
    let profiles_dir = root.join("profiles");
    let profile = pylon_cpython::load_profile(&profiles_dir, args.profile.as_deref())
        .map_err(|e| e.to_string())?;
    let expected = pylon_cpython::build::expected_digests(&profiles_dir, &profile.name)
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    let caps_dir = caps_dir(args)?;
    let manifest_file = args
        .manifest
        .file_name()
        .map(OsString::from)
        .unwrap_or_else(|| "caps-manifest.toml".into());

    let mut extra_files = Vec::new();
    for cap in &manifest.caps {
        // In-tree caps' artifacts are copied with the project; git caps' are composed
        // from the caps dir. Either way they must be there: the check composes, it
        // does not build caps.
        let artifact = checkout_dir(manifest, cap, &caps_dir).join(&cap.artifact);
        if !artifact.is_file() {
            return Err(format!(
                "cap {}: {} does not exist: run `pylon caps-sync` first",
                cap.name,
                artifact.display()
            ));
        }
        if let Repo::InTree(rel) = &cap.repo {
            extra_files.push(rel.join(&cap.artifact));
        }
    }
    let tarball = args.cpython_tarball.clone().or_else(|| {
        pylon_cpython::fetch::default_cache_root()
            .map(|c| c.join("inputs").join(profile.source.sha256.as_str()))
            .filter(|p| p.is_file())
    });
    let mut env = Vec::new();
    if let Some(t) = tarball {
        env.push((
            "PYLON_CPYTHON_TARBALL".to_string(),
            absolute(&t).into_os_string(),
        ));
    }
    let mut env_remove: Vec<String> = [
        "PYLON_CACHE_DIR",
        "PYLON_PROFILE",
        "PYLON_MANIFEST",
        "PYLON_CAPS_DIR",
    ]
    .map(String::from)
    .to_vec();
    if env.is_empty() {
        env_remove.push("PYLON_CPYTHON_TARBALL".into());
    }
    // What `pylon build` published here: the pinned bytes, if it matched.
    let published = root.join("build").join(&profile.name);
    let mut build_args: Vec<OsString> = vec![
        "build".into(),
        "--profile".into(),
        profile.name.clone().into(),
        "--manifest".into(),
        manifest_file,
        "--caps-dir".into(),
        caps_dir.into(),
    ];
    let mut outputs = vec![
        ProductOutput {
            file: "python.wasm".into(),
            pinned: expected.python_wasm,
            reference: Some(published.join("python.wasm")),
        },
        ProductOutput {
            file: "stdlib.zip".into(),
            pinned: expected.stdlib_zip,
            reference: Some(published.join("stdlib.zip")),
        },
        ProductOutput {
            file: "pylon.wasm".into(),
            pinned: manifest
                .pylon_sha256
                .pinned()
                .map(|p| p.as_str().to_string()),
            reference: Some(published.join("pylon.wasm")),
        },
    ];
    // The seeded startup snapshot is part of the product when the profile pins one:
    // made by the same varied build, from its own pylon.wasm.
    if let Some(pin) = expected.snapshot {
        build_args.push("--snapshot".into());
        outputs.push(ProductOutput {
            file: pin.file_name(),
            reference: Some(published.join(pin.file_name())),
            pinned: pin.sha256,
        });
    }
    Ok(ProductSpec {
        name: format!("pylon ({})", profile.name),
        // Text, not --json: the stage lines (`build: configure done (41.2s)`) are what
        // the build log is for; the outputs are read from the out dir.
        build_args,
        out_dir: Path::new("build").join(&profile.name),
        extra_files,
        env,
        env_remove,
        outputs,
    })
}

/// Where git caps are checked out: `--caps-dir`, else `~/git` (as for build), made
/// absolute (the builds run elsewhere).
fn caps_dir(args: &ReproArgs) -> Result<PathBuf, String> {
    let dir = args
        .caps_dir
        .clone()
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join("git")))
        .ok_or("HOME is not set; pass --caps-dir or set PYLON_CAPS_DIR")?;
    Ok(std::fs::canonicalize(&dir).unwrap_or(dir))
}

fn absolute(p: &Path) -> PathBuf {
    std::fs::canonicalize(p).unwrap_or_else(|_| p.to_path_buf())
}

/// Progress on stderr, one line per build (builds take about a minute each).
fn progress(ev: ReproEvent<'_>) {
    match ev {
        ReproEvent::Source { cap } => eprintln!("repro-check: {cap}: preparing the source"),
        ReproEvent::Build { cap, label } => eprintln!("repro-check: {cap}: building {label}…"),
        ReproEvent::Built {
            cap,
            label,
            verdict,
            elapsed,
        } => {
            let verdict = verdict.map_or("done", Verdict::label);
            eprintln!(
                "repro-check: {cap}: {label}: {verdict} ({})",
                duration(elapsed)
            );
        }
    }
}

fn usage_error(args: &ReproArgs, message: String) -> u8 {
    eprintln!("error: {message}");
    if args.json {
        crate::render::print_json(
            "repro-check",
            &json!({ "error": message, "exit_code": EXIT_USAGE }),
            false,
        );
    }
    EXIT_USAGE
}

fn duration(d: Duration) -> String {
    let s = d.as_secs_f64();
    if s < 60.0 {
        format!("{s:.1}s")
    } else {
        format!("{}m{:02}s", (s / 60.0) as u64, (s % 60.0) as u64)
    }
}

fn print_text(report: &ReproReport) {
    for subject in report.caps.iter().chain(report.product.as_ref()) {
        print_subject(subject);
    }
    print_summary(report);
}

/// One subject's block: its source, what its builds were compared with, the table
/// and the notes on it.
fn print_subject(cap: &SubjectRepro) {
    println!("{}  ({})", cap.name, source_text(cap));
    if let Some(err) = &cap.error {
        println!("  {} failed: {}", err.step, err.message);
        for line in &err.log_tail {
            println!("    | {line}");
        }
        if let Some(log) = &err.log {
            println!("    full log: {}", log.display());
        }
        println!();
        return;
    }
    if let Some(b) = &cap.baseline {
        print_baseline(b);
    }
    if let Some(p) = &cap.pins {
        let width = p.outputs.iter().map(|o| o.file.len()).max().unwrap_or(0);
        println!("  compared with the pins:");
        for o in &p.outputs {
            let reference = o.reference.as_ref().map_or_else(
                || "no local copy of the pinned bytes".to_string(),
                |r| format!("pinned bytes at {}", r.display()),
            );
            println!("    {:<width$}  {}  ({reference})", o.file, o.sha256);
        }
    }
    let width = cap
        .rows
        .iter()
        .map(|r| row_label(&r.kind, &r.label).len())
        .max()
        .unwrap_or(0);
    for row in &cap.rows {
        print_row(row, width);
    }
    if cap
        .rows
        .iter()
        .any(|r| matches!(r.kind, RowKind::Variation { alone: false, .. }))
    {
        println!(
            "  (the variations were judged together, in the combined build; --each builds \
             them one by one)"
        );
    }
    println!("  {} builds, {}", cap.builds, duration(cap.elapsed));
    let control_differs = cap
        .rows
        .iter()
        .any(|r| r.kind == RowKind::Control && r.verdict == Verdict::Differs);
    if control_differs && cap.pins.is_some() {
        println!(
            "  note: the control build (no variation) differs from the pin too: this \
             machine builds other bytes than the pin's under its own conditions (the \
             pin's build path or toolchain, or a build that is not deterministic)"
        );
    } else if control_differs {
        println!(
            "  note: the control build (no variation) differs too: the build is not \
             deterministic, so the variations' rows cannot be told apart from that"
        );
    }
    println!();
}

/// Where the subject's source came from: `caps/zlib @ 0123456789ab, the pinned rev,
/// 12 files`.
fn source_text(cap: &SubjectRepro) -> String {
    cap.source
        .as_ref()
        .map(|s| {
            let rev = s
                .rev
                .as_deref()
                .map(|r| format!(" @ {}", &r[..r.len().min(12)]))
                .unwrap_or_default();
            let pin = match s.matches_pin {
                Some(true) => ", the pinned rev",
                Some(false) => ", NOT the pinned rev",
                None => "",
            };
            format!("{}{rev}{pin}, {} files", s.repo, s.files)
        })
        .unwrap_or_default()
}

fn print_baseline(b: &BaselineInfo) {
    let pin = match b.matches_pin {
        Some(true) => ", = manifest sha256",
        Some(false) => ", differs from the manifest sha256",
        None => "",
    };
    if b.outputs.len() > 1 {
        println!("  baseline{pin}:");
        print_outputs(&b.outputs, "= pin", "differs from the pin");
    } else {
        println!("  baseline sha256 {} ({} bytes{pin})", b.sha256, b.size);
    }
}

/// One row of the table, with what varied under a difference and the log's tail
/// under a failure.
fn print_row(row: &Row, width: usize) {
    let label = row_label(&row.kind, &row.label);
    let verdict = row.verdict.label();
    let what = match row.verdict {
        Verdict::Differs => row
            .diagnosis
            .clone()
            .unwrap_or_else(|| "bytes differ".into()),
        _ => row.detail.clone(),
    };
    println!("  {label:<width$}  {verdict:<13}  {what}");
    if row.verdict == Verdict::Differs && row.outputs.len() > 1 {
        print_outputs(&row.outputs, "identical", "DIFFERS");
    }
    if row.verdict == Verdict::Differs {
        let more = row.causes.len().saturating_sub(1);
        if more > 0 {
            println!(
                "  {:<width$}  {:<13}  (+{more} more cause{}; varied: {})",
                "",
                "",
                if more == 1 { "" } else { "s" },
                row.detail
            );
        } else {
            println!("  {:<width$}  {:<13}  varied: {}", "", "", row.detail);
        }
    }
    if row.verdict == Verdict::Failed {
        for line in &row.log_tail {
            println!("  {:<width$}  {:<13}  | {line}", "", "");
        }
        if let Some(log) = &row.log {
            println!("  {:<width$}  {:<13}  full log: {}", "", "", log.display());
        }
    }
}

/// The last line: how many subjects differ or failed, and how the run was made.
fn print_summary(report: &ReproReport) {
    let subjects: Vec<&SubjectRepro> = report.caps.iter().chain(report.product.as_ref()).collect();
    let differ = subjects
        .iter()
        .filter(|c| {
            c.rows
                .iter()
                .any(|r| r.verdict == Verdict::Differs || r.verdict == Verdict::Failed)
        })
        .count();
    let failed = subjects.iter().filter(|c| c.error.is_some()).count();
    let what = match (report.caps.len(), report.product.is_some()) {
        (0, true) => "the product".to_string(),
        (1, false) => "1 cap".to_string(),
        (n, false) => format!("{n} caps"),
        (1, true) => "1 cap and the product".to_string(),
        (n, true) => format!("{n} caps and the product"),
    };
    println!(
        "repro-check: {what}, {differ} with differences, {failed} failed ({} mode, against {}, {})",
        report.mode,
        report.against.name(),
        duration(report.elapsed)
    );
    if let Some(kept) = &report.kept {
        println!("kept: {}", kept.display());
    }
}

/// One line per output file: digest, size and whether it matches.
fn print_outputs(outputs: &[pylon_repro::OutputDigest], yes: &str, no: &str) {
    let width = outputs.iter().map(|o| o.file.len()).max().unwrap_or(0);
    for o in outputs {
        let verdict = match o.matches {
            Some(true) => yes,
            Some(false) => no,
            None => "not pinned",
        };
        println!(
            "    {:<width$}  {}  {:>10} bytes  {verdict}",
            o.file, o.sha256, o.size
        );
    }
}

fn row_label(kind: &RowKind, label: &str) -> String {
    match kind {
        RowKind::Combined { variations } => format!("all {} combined", variations.len()),
        RowKind::Control => "control (none)".into(),
        RowKind::Variation { .. } => label.to_string(),
    }
}
