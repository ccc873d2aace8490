//! caps-sync against hostile remotes, a hostile caller environment and files the pin
//! does not cover: each case is a way the pinned source could be bypassed, and each
//! must end in the pinned bytes or a FAIL that names the cause — never another
//! source reported OK. Real git repositories, real cargo builds, the real binary.

mod common;

use std::fs;
use std::path::Path;

use common::*;

/// One git cap, pinned by `manifest regen`; returns the sandbox, the remote and the
/// pinned commit.
fn pinned(name: &str) -> (Sandbox, std::path::PathBuf, String) {
    let sb = Sandbox::new();
    let (repo, _) = sb.cap_repo(name, "");
    sb.write_manifest(&[CapEntry::git(name, &repo, ZERO_REV)]);
    let regen = sb.run(&["manifest", "regen"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);
    let rev = git(&repo, &["rev-parse", "HEAD"]);
    (sb, repo, rev)
}

/// The remote moves on to different code (so building it gives other bytes).
fn commit_other_code(repo: &Path) -> String {
    let lib = repo.join("src/lib.rs");
    let text = fs::read_to_string(&lib).unwrap();
    fs::write(
        &lib,
        text + "\n#[no_mangle]\npub extern \"C\" fn injected() -> u32 { 7 }\n",
    )
    .unwrap();
    git(repo, &["commit", "-qam", "other code"]);
    git(repo, &["rev-parse", "HEAD"])
}

#[test]
fn a_branch_named_like_the_pinned_commit_does_not_replace_it() {
    let (sb, repo, rev) = pinned("alpha");
    // The remote's default branch is named after the pinned commit and points at other
    // code: `git checkout --detach <rev>` would pick the branch.
    let other = commit_other_code(&repo);
    git(&repo, &["branch", &rev, &other]);
    git(
        &repo,
        &["symbolic-ref", "HEAD", &format!("refs/heads/{rev}")],
    );

    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(status_of(&report, "alpha")["status"], "OK", "{report}");
    let checkout = sb.caps_dir().join("alpha");
    assert_eq!(git(&checkout, &["rev-parse", "HEAD"]), rev);

    // Regen follows the branch on purpose (it pins what HEAD names), but checks out the
    // commit it resolved, not the branch of the same name.
    let regen = sb.run(&["manifest", "regen"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);
    let text = fs::read_to_string(sb.manifest()).unwrap();
    assert!(text.contains(&format!("rev = \"{other}\"")), "{text}");
}

#[test]
fn the_callers_git_environment_and_config_are_ignored() {
    let (sb, _repo, _rev) = pinned("alpha");
    let home = sb.path().join("home");
    fs::create_dir_all(&home).unwrap();
    // A user config that would enable every transport, including `ext::` (runs a
    // command), and rewrite the remote's URL.
    fs::write(
        home.join(".gitconfig"),
        "[protocol]\n\tallow = always\n[url \"/nonexistent/\"]\n\tinsteadOf = file://\n",
    )
    .unwrap();
    let elsewhere = sb.path().join("elsewhere");
    fs::create_dir_all(&elsewhere).unwrap();
    let marker = sb.path().join("ext-ran");
    // The toolchain stays where it is when HOME moves.
    let real_home = std::env::var("HOME").unwrap();
    let cargo_home = std::env::var("CARGO_HOME").unwrap_or(format!("{real_home}/.cargo"));
    let rustup_home = std::env::var("RUSTUP_HOME").unwrap_or(format!("{real_home}/.rustup"));
    let env = [
        ("HOME", home.to_str().unwrap()),
        ("CARGO_HOME", cargo_home.as_str()),
        ("RUSTUP_HOME", rustup_home.as_str()),
        ("GIT_DIR", elsewhere.to_str().unwrap()),
        ("GIT_WORK_TREE", elsewhere.to_str().unwrap()),
        ("GIT_INDEX_FILE", "/nonexistent/index"),
        ("GIT_CONFIG_COUNT", "1"),
        ("GIT_CONFIG_KEY_0", "protocol.ext.allow"),
        ("GIT_CONFIG_VALUE_0", "always"),
        ("GIT_ALLOW_PROTOCOL", "ext:file"),
    ];
    let (code, report) = sb.sync_json(&env);
    assert_eq!(code, 0, "{report}");
    assert_eq!(status_of(&report, "alpha")["status"], "OK", "{report}");
    assert!(
        fs::read_dir(&elsewhere).unwrap().next().is_none(),
        "GIT_DIR/GIT_WORK_TREE redirected git"
    );

    // A manifest naming an `ext::` remote: refused at clone, the command never runs.
    let mut entry = CapEntry::git("beta", Path::new("/x"), "1".repeat(40).as_str());
    entry.repo = format!("ext::sh -c touch% {}", marker.display());
    entry.sha256 = "ab".repeat(32);
    sb.write_manifest(&[entry]);
    let (code, report) = sb.sync_json(&env);
    assert_eq!(code, 1, "{report}");
    let beta = status_of(&report, "beta");
    assert_eq!(beta["step"], "clone", "{report}");
    assert!(!marker.exists(), "the ext:: transport ran a command");
    assert!(!sb.caps_dir().join("beta").exists());
}

#[test]
fn a_failed_first_checkout_publishes_nothing_and_leftovers_are_cleaned() {
    let (sb, repo, rev) = pinned("alpha");
    // The pinned commit vanishes from the remote: the clone works, the fetch cannot.
    let moved = sb.path().join("remotes/alpha-moved");
    fs::rename(&repo, &moved).unwrap();
    fs::create_dir_all(&repo).unwrap();
    git(&repo, &["init", "-q", "-b", "main"]);
    git(&repo, &["commit", "-q", "--allow-empty", "-m", "unrelated"]);
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    assert_eq!(status_of(&report, "alpha")["step"], "fetch", "{report}");
    assert!(
        !sb.caps_dir().join("alpha").exists(),
        "a clone without the pinned checkout was published"
    );

    // What a run killed mid-clone leaves (a clone with git's index.lock) is cleared
    // by the next run, which then succeeds.
    fs::remove_dir_all(&repo).unwrap();
    fs::rename(&moved, &repo).unwrap();
    let stale = sb.caps_dir().join(".pylon-tmp/alpha/repo/.git");
    fs::create_dir_all(&stale).unwrap();
    fs::write(stale.join("index.lock"), "").unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    assert!(!sb.caps_dir().join(".pylon-tmp/alpha").exists());
    assert_eq!(
        git(&sb.caps_dir().join("alpha"), &["rev-parse", "HEAD"]),
        rev
    );
}

#[test]
fn killed_during_the_first_checkout_leaves_nothing_and_the_next_run_recovers() {
    use std::io::{BufRead, BufReader};
    use std::os::unix::process::CommandExt;
    use std::process::Stdio;
    let (sb, repo, rev) = pinned("alpha");
    // Enough files that git's checkout takes a while: the kill lands inside it.
    let bulk = repo.join("bulk");
    for d in 0..40 {
        let dir = bulk.join(format!("d{d}"));
        fs::create_dir_all(&dir).unwrap();
        for f in 0..500 {
            fs::write(
                dir.join(format!("f{f}.txt")),
                format!("{d}/{f}\n").repeat(64),
            )
            .unwrap();
        }
    }
    git(&repo, &["add", "-A"]);
    git(&repo, &["commit", "-q", "-m", "bulk"]);
    let pinned_rev = rev;
    let rev = git(&repo, &["rev-parse", "HEAD"]);
    let text = fs::read_to_string(sb.manifest()).unwrap();
    fs::write(sb.manifest(), text.replace(&pinned_rev, &rev)).unwrap();

    let mut child = sb
        .pylon()
        .args(["caps-sync", "--skip-build"])
        .process_group(0)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let stderr = BufReader::new(child.stderr.take().unwrap());
    for line in stderr.lines() {
        if line.unwrap().contains("alpha: checkout") {
            break;
        }
    }
    // pylon and git together, as a CI timeout or Ctrl-C would.
    let status = std::process::Command::new("kill")
        .args(["-KILL", "--", &format!("-{}", child.id())])
        .status()
        .unwrap();
    assert!(status.success());
    let _ = child.wait();
    let checkout = sb.caps_dir().join("alpha");
    // Nothing half-made is published: either no checkout, or (had git been faster
    // than the kill) a complete one.
    if checkout.exists() {
        assert_eq!(git(&checkout, &["rev-parse", "HEAD"]), rev);
        assert_eq!(git(&checkout, &["status", "--porcelain"]), "");
    }

    // The next run clones afresh (or reuses the complete checkout) and builds: the
    // data files change nothing in the component, so the old digest still holds.
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
    assert_eq!(status_of(&report, "alpha")["status"], "OK", "{report}");
    assert_eq!(git(&checkout, &["rev-parse", "HEAD"]), rev);
    assert!(!sb.caps_dir().join(".pylon-tmp/alpha").exists());
}

#[test]
fn a_checkout_of_another_repository_is_refused_untouched() {
    let (sb, _repo, _rev) = pinned("alpha");
    // A user's own working copy where the cap's checkout would go.
    let mine = sb.caps_dir().join("alpha");
    fs::create_dir_all(&mine).unwrap();
    git(&mine, &["init", "-q", "-b", "feature"]);
    fs::write(mine.join("notes.txt"), "my work\n").unwrap();
    git(&mine, &["add", "-A"]);
    git(&mine, &["commit", "-q", "-m", "mine"]);
    git(
        &mine,
        &[
            "remote",
            "add",
            "origin",
            "https://example.invalid/mine.git",
        ],
    );
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    let alpha = status_of(&report, "alpha");
    assert_eq!(alpha["step"], "checkout", "{report}");
    let message = alpha["message"].as_str().unwrap();
    assert!(
        message.contains("is not a checkout of cap alpha's repo")
            && message.contains("origin https://example.invalid/mine.git"),
        "{message}"
    );
    assert_eq!(
        git(&mine, &["symbolic-ref", "--short", "HEAD"]),
        "feature",
        "the user's branch was detached"
    );
}

#[test]
fn files_outside_the_pin_are_refused_and_the_callers_compiler_settings_ignored() {
    let (sb, _repo, _rev) = pinned("alpha");
    // A compiler and wrappers that fail: the build must not use them.
    let env = [
        ("RUSTC", "/bin/false"),
        ("RUSTC_WRAPPER", "/bin/false"),
        ("CARGO_BUILD_RUSTC", "/bin/false"),
        ("RUSTUP_TOOLCHAIN", "no-such-toolchain"),
    ];
    let (code, report) = sb.sync_json(&env);
    assert_eq!(code, 0, "{report}");
    assert_eq!(status_of(&report, "alpha")["status"], "OK", "{report}");

    let checkout = sb.caps_dir().join("alpha");
    // An untracked build script, hidden from `git status` by .git/info/exclude.
    fs::write(checkout.join("build.rs"), "fn main() {}\n").unwrap();
    fs::write(checkout.join(".git/info/exclude"), "build.rs\n").unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    let alpha = status_of(&report, "alpha");
    assert_eq!(alpha["step"], "pin", "{report}");
    assert!(
        alpha["message"]
            .as_str()
            .unwrap()
            .contains(&format!("{}", checkout.join("build.rs").display())),
        "{report}"
    );
    fs::remove_file(checkout.join("build.rs")).unwrap();

    // A cargo config above the checkout.
    let config = sb.caps_dir().join(".cargo/config.toml");
    fs::create_dir_all(config.parent().unwrap()).unwrap();
    fs::write(&config, "[build]\nrustflags = [\"-Cdebuginfo=2\"]\n").unwrap();
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 1, "{report}");
    let message = status_of(&report, "alpha")["message"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(message.contains(&config.display().to_string()), "{message}");
    fs::remove_dir_all(config.parent().unwrap()).unwrap();

    // The machine's own cargo config may hold registry settings, but not another
    // compiler or wrapper.
    let cargo_home = sb.path().join("cargo-home");
    fs::create_dir_all(&cargo_home).unwrap();
    fs::write(
        cargo_home.join("config.toml"),
        "[net]\noffline = true\n[build]\nrustc-wrapper = \"/bin/false\"\n",
    )
    .unwrap();
    let (code, report) = sb.sync_json(&[("CARGO_HOME", cargo_home.to_str().unwrap())]);
    assert_eq!(code, 1, "{report}");
    let message = status_of(&report, "alpha")["message"].as_str().unwrap();
    assert!(
        message.contains("config.toml: sets `build.rustc-wrapper`"),
        "{message}"
    );

    // Build outputs are not source: the run after is OK again.
    let (code, report) = sb.sync_json(&[]);
    assert_eq!(code, 0, "{report}");
}

/// An in-tree cap `local` in a fresh project repository under the sandbox.
fn in_tree_project(sb: &Sandbox) -> std::path::PathBuf {
    let root = sb.path().join("repo");
    fs::create_dir_all(&root).unwrap();
    git(&root, &["init", "-q", "-b", "main"]);
    write_files(&root.join("caps/local"), &cap_sources("local", ""));
    fs::write(root.join(".gitignore"), "target/\n").unwrap();
    let mut entry = CapEntry::git("local", &root, ZERO_REV);
    entry.repo = "caps/local".into();
    let manifest = root.join("caps-manifest.toml");
    fs::write(
        &manifest,
        format!(
            "schema = 1\npylon_sha256 = \"{ZERO_SHA256}\"\n\n{}",
            entry.toml()
        ),
    )
    .unwrap();
    git(&root, &["add", "-A"]);
    git(&root, &["commit", "-q", "-m", "init"]);
    root
}

/// The `pylon` binary run in the project `root`, with extra environment.
fn pylon_in(sb: &Sandbox, root: &Path, args: &[&str], env: &[(&str, &std::ffi::OsStr)]) -> Run {
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_pylon"));
    cmd.args(args)
        .current_dir(root)
        .env("PYLON_CAPS_DIR", sb.caps_dir())
        .env_remove("PYLON_MANIFEST");
    for (k, v) in env {
        cmd.env(k, v);
    }
    Run::from(cmd.output().unwrap())
}

#[test]
fn the_in_tree_pin_uses_a_private_index_not_a_name_in_the_shared_tmp() {
    let sb = Sandbox::new();
    let root = in_tree_project(&sb);
    // A `git` first on PATH that records where it is told to keep its index, and
    // who may write that directory, then runs the real git.
    let real_git = std::process::Command::new("sh")
        .args(["-c", "command -v git"])
        .output()
        .unwrap();
    let real_git = String::from_utf8(real_git.stdout)
        .unwrap()
        .trim()
        .to_string();
    let bin = sb.path().join("spy-bin");
    fs::create_dir_all(&bin).unwrap();
    let log = sb.path().join("index-dirs.log");
    let spy = format!(
        "#!/bin/sh\nif [ -n \"$GIT_INDEX_FILE\" ]; then d=$(dirname \"$GIT_INDEX_FILE\"); \
         echo \"$d $(stat -c %a \"$d\")\" >> '{}'; fi\nexec '{real_git}' \"$@\"\n",
        log.display()
    );
    fs::write(bin.join("git"), spy).unwrap();
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(bin.join("git"), fs::Permissions::from_mode(0o755)).unwrap();
    // A shared, world-writable TMPDIR, as /tmp is.
    let shared_tmp = sb.path().join("shared-tmp");
    fs::create_dir_all(&shared_tmp).unwrap();
    fs::set_permissions(&shared_tmp, fs::Permissions::from_mode(0o1777)).unwrap();
    let path = std::env::join_paths(
        std::iter::once(bin.clone())
            .chain(std::env::split_paths(&std::env::var_os("PATH").unwrap())),
    )
    .unwrap();
    let run = pylon_in(
        &sb,
        &root,
        &["manifest", "regen"],
        &[
            ("PATH", path.as_os_str()),
            ("TMPDIR", shared_tmp.as_os_str()),
        ],
    );
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
    let used = fs::read_to_string(&log).unwrap();
    assert!(
        !used.is_empty(),
        "the pin was computed without a separate index"
    );
    for line in used.lines() {
        let (dir, mode) = line.rsplit_once(' ').unwrap();
        assert_ne!(
            Path::new(dir),
            shared_tmp,
            "index file directly in the shared TMPDIR"
        );
        assert_eq!(mode, "700", "index directory {dir} is mode {mode}");
    }
}

#[test]
fn an_ignored_makefile_in_an_in_tree_cap_is_refused() {
    let sb = Sandbox::new();
    let root = in_tree_project(&sb);
    let pylon = |args: &[&str]| pylon_in(&sb, &root, args, &[]);
    let regen = pylon(&["manifest", "regen"]);
    assert_eq!(regen.code, 0, "{}{}", regen.stdout, regen.stderr);

    // Excluded from git (so the tree id, the pin, does not change), but present.
    let makefile = root.join("caps/local/GNUmakefile");
    fs::write(&makefile, "all:\n\ttouch pwned\n").unwrap();
    fs::write(root.join(".git/info/exclude"), "GNUmakefile\n").unwrap();
    let run = pylon(&["caps-sync"]);
    assert_eq!(run.code, 1, "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains("pin failed") && run.stdout.contains("GNUmakefile"),
        "{}",
        run.stdout
    );
    fs::remove_file(&makefile).unwrap();
    // __pycache__ (Python's, from running a cap's host-side scripts) is not source.
    fs::create_dir_all(root.join("caps/local/smoke/__pycache__")).unwrap();
    fs::write(root.join("caps/local/smoke/__pycache__/x.pyc"), "").unwrap();
    fs::write(root.join(".gitignore"), "target/\n__pycache__/\n").unwrap();
    let run = pylon(&["caps-sync"]);
    assert_eq!(run.code, 0, "{}{}", run.stdout, run.stderr);
}
