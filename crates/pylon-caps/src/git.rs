//! The few git operations caps-sync needs, run through the `git` program with a
//! controlled environment (no user config, no prompts), each failure carrying the
//! command and git's own message.

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
    cmd.args(&args)
        .current_dir(dir)
        .stdin(Stdio::null())
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

/// True when `rev` names a commit already present in the repository at `dir`.
pub fn has_commit(dir: &Path, rev: &str) -> bool {
    git(dir, ["cat-file", "-e", &format!("{rev}^{{commit}}")]).is_ok()
}

/// The tree id of the *working copy* of `subdir` (committed or not, honouring
/// .gitignore), computed with a throw-away index so the user's index is untouched.
pub fn worktree_tree_id(repo_root: &Path, subdir: &Path) -> Result<String, GitError> {
    let index = tempfile::NamedTempFile::new().map_err(|e| GitError {
        args: "add (temporary index)".into(),
        dir: repo_root.to_path_buf(),
        message: e.to_string(),
    })?;
    // An empty file is not a valid index; git wants it absent.
    let index_path = index.path().to_path_buf();
    drop(index);
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
    let _ = std::fs::remove_file(&index_path);
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
