//! The few git operations caps-sync needs, run through the `git` program with a
//! controlled environment, each failure carrying the command and git's own message.
//!
//! Git is run as if on a clean machine: none of the caller's `GIT_*` variables (which
//! can redirect the repository, index, work tree or config), no system or global
//! config, no hooks or fsmonitor, only the transports a manifest may name, no prompts.
//! Whatever a `repo` value or rev looks like, it is passed after `--` or as a
//! commit object, never where git would read it as an option or a branch name.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[derive(Debug, thiserror::Error)]
#[error("`git {args}` in {}: {message}", dir.display())]
pub struct GitError {
    pub args: String,
    pub dir: PathBuf,
    pub message: String,
}

/// Runs git in `dir` and returns its trimmed stdout.
pub fn git<I, S>(dir: &Path, args: I) -> Result<String, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    git_with_env(dir, args, &[])
}

pub fn git_with_env<I, S>(dir: &Path, args: I, env: &[(&str, &OsStr)]) -> Result<String, GitError>
where
    I: IntoIterator<Item = S>,
    S: AsRef<OsStr>,
{
    let args: Vec<_> = args
        .into_iter()
        .map(|a| a.as_ref().to_os_string())
        .collect();
    let shown = args
        .iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect::<Vec<_>>()
        .join(" ");
    let mut cmd = Command::new("git");
    for (key, _) in std::env::vars_os() {
        if key.to_string_lossy().starts_with("GIT_") {
            cmd.env_remove(&key);
        }
    }
    // A checkout's own config may name hooks or an fsmonitor program; neither runs.
    cmd.args([
        "-c",
        "core.hooksPath=/dev/null",
        "-c",
        "core.fsmonitor=false",
    ])
    .args(&args)
    .current_dir(dir)
    .stdin(Stdio::null())
    .env("GIT_CONFIG_NOSYSTEM", "1")
    .env("GIT_CONFIG_GLOBAL", "/dev/null")
    // Overrides any `protocol.*.allow`: no `ext::` (runs a command) or `fd::`.
    .env("GIT_ALLOW_PROTOCOL", ALLOWED_PROTOCOLS)
    // Never ask for credentials on a terminal: a missing repo must fail, not hang.
    .env("GIT_TERMINAL_PROMPT", "0")
    .env("GIT_ASKPASS", "true")
    .env("LC_ALL", "C");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().map_err(|e| GitError {
        args: shown.clone(),
        dir: dir.to_path_buf(),
        message: format!("cannot run git: {e}"),
    })?;
    if out.status.success() {
        Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
    } else {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let message = stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect::<Vec<_>>()
            .join("; ");
        Err(GitError {
            args: shown,
            dir: dir.to_path_buf(),
            message: if message.is_empty() {
                format!("exited with {}", out.status)
            } else {
                message
            },
        })
    }
}

/// The transports a manifest's `repo` may use (git's `GIT_ALLOW_PROTOCOL` syntax).
pub const ALLOWED_PROTOCOLS: &str = "file:git:http:https:ssh";

/// True when `rev` names a commit already present in the repository at `dir`.
pub fn has_commit(dir: &Path, rev: &str) -> bool {
    git(dir, ["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok()
}

/// `git clone --no-checkout` of `url` into `dest` (which must not exist), run in
/// `parent`; `--` keeps a URL or path that starts with `-` from being an option.
pub fn clone_no_checkout(parent: &Path, url: &str, dest: &Path) -> Result<(), GitError> {
    git(
        parent,
        [
            OsStr::new("clone"),
            "--quiet".as_ref(),
            "--no-checkout".as_ref(),
            "--".as_ref(),
            url.as_ref(),
            dest.as_os_str(),
        ],
    )
    .map(drop)
}

/// Checks out the commit `rev` (a full commit id) detached, and proves it: afterwards
/// `HEAD` must be exactly `rev`.
///
/// `git checkout --detach <id>` prefers a *branch* named `<id>` over the commit, so a
/// remote whose branch is named like the pinned commit could substitute its own code.
/// `<id>^{commit}` is no branch name, and git resolves a full hex id as an object
/// before any ref of that name.
pub fn checkout_commit(dir: &Path, rev: &str) -> Result<(), GitError> {
    git(
        dir,
        [
            "checkout",
            "--quiet",
            "--detach",
            &format!("{rev}^{{commit}}"),
        ],
    )?;
    let head = git(dir, ["rev-parse", "--verify", "HEAD"])?;
    if head.eq_ignore_ascii_case(rev) {
        Ok(())
    } else {
        Err(GitError {
            args: format!("checkout --detach {rev}^{{commit}}"),
            dir: dir.to_path_buf(),
            message: format!("HEAD is {head} afterwards, not the pinned commit {rev}"),
        })
    }
}

/// The URL the checkout at `dir` was cloned from (`remote.origin.url`), if any.
pub fn origin_url(dir: &Path) -> Option<String> {
    git(dir, ["config", "--get", "remote.origin.url"])
        .ok()
        .filter(|u| !u.is_empty())
}

/// Files under `dir` that git does not track, as `dir`-relative paths. With
/// `ignored`, only those its ignore rules exclude; without, all of them.
pub fn untracked(dir: &Path, ignored: bool) -> Result<Vec<PathBuf>, GitError> {
    // Every file, not `--directory`'s summary: that collapses a directory holding
    // only ignored files into one entry, hiding which files they are.
    let mut args = vec!["ls-files", "-z", "--others"];
    if ignored {
        args.extend(["--ignored", "--exclude-standard"]);
    }
    args.extend(["--", "."]);
    let listed = git(dir, args)?;
    Ok(listed
        .split('\0')
        .filter(|s| !s.is_empty())
        .map(PathBuf::from)
        .collect())
}

/// The tree id of the *working copy* of `subdir` (committed or not, honouring
/// .gitignore), computed with a throw-away index so the user's index is untouched.
pub fn worktree_tree_id(repo_root: &Path, subdir: &Path) -> Result<String, GitError> {
    // The index lives in a private (0700) directory of ours: a predictable path in a
    // shared /tmp could be pre-created or swapped by another user between our calls.
    use std::os::unix::fs::PermissionsExt;
    let scratch = tempfile::Builder::new()
        .prefix("pylon-index-")
        .permissions(std::fs::Permissions::from_mode(0o700))
        .tempdir()
        .map_err(|e| GitError {
            args: "add (temporary index)".into(),
            dir: repo_root.to_path_buf(),
            message: e.to_string(),
        })?;
    let index_path = scratch.path().join("index");
    let env = [("GIT_INDEX_FILE", index_path.as_os_str())];
    let sub = subdir.to_string_lossy().replace('\\', "/");
    let result = git_with_env(repo_root, ["add", "-A", "--", sub.as_str()], &env).and_then(|_| {
        git_with_env(
            repo_root,
            [
                "write-tree",
                &format!("--prefix={}/", sub.trim_end_matches('/')),
            ],
            &env,
        )
    });
    drop(scratch);
    result
}

/// The pin of an in-tree cap: the tree id of its directory's working copy, in the git
/// work tree that holds the directory. The one definition of it: caps-sync checks it,
/// regen writes it, repro-check reports it.
pub fn in_tree_rev(cap_dir: &Path) -> Result<String, GitError> {
    let top = toplevel(cap_dir)?;
    let fail = |message: String| GitError {
        args: "rev-parse --show-toplevel".into(),
        dir: cap_dir.to_path_buf(),
        message,
    };
    let canonical =
        |p: &Path| std::fs::canonicalize(p).map_err(|e| fail(format!("{}: {e}", p.display())));
    let rel = canonical(cap_dir)?
        .strip_prefix(canonical(&top)?)
        .map(Path::to_path_buf)
        .map_err(|_| fail(format!("not inside its work tree {}", top.display())))?;
    if rel.as_os_str().is_empty() {
        return Err(fail(
            "the cap directory is a repository's top directory: pin it as a git cap \
             (its commit), not as an in-tree cap"
                .into(),
        ));
    }
    worktree_tree_id(&top, &rel)
}

/// The top directory of the git work tree containing `dir`.
pub fn toplevel(dir: &Path) -> Result<PathBuf, GitError> {
    git(dir, ["rev-parse", "--show-toplevel"]).map(PathBuf::from)
}
