//! Command-line parsing: long-only launcher options first, then the guest's argv.
//!
//! Hand-parsed because the first non-option argument (`-c`, `-m`, a script path) must end
//! option parsing and pass through untouched, which is awkward to express with clap.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::net::NetAccess;
use crate::{DirMapping, LaunchError, LaunchOptions};

/// The `--help` text.
pub const USAGE: &str = "\
usage: pylon-launch [launcher options] [--] [python args...]

Runs a wasi:cli/run component (default: $PYLON_WASM, else build/pylon.wasm) under
wasmtime. Launcher options are long-only and come first; the first argument that is not
a launcher option (e.g. -c, -m, a script path) and everything after it become the
guest's argv[1..] (argv[0] is \"python\"). `--` also ends the launcher options.

options:
  --wasm PATH             component to run (symlinks are followed)
  --dir HOST[::GUEST[::ro|::rw]]
                          preopen host directory HOST at guest path GUEST (default: the
                          same path as written); read-only unless `::rw`
  --cwd GUEST             the guest's working directory: an absolute guest path inside a
                          mapped directory (a --dir's, or the stdlib's); default `/`
  --env KEY=VALUE         set a guest environment variable (repeatable); `--env KEY`
                          copies KEY from the host if set. No other host variable is
                          visible to the guest
  --allow-net             allow TCP/UDP to any address and name lookup (default: only
                          the guest's own loopback listeners, which socketpair() and
                          asyncio use)
  --allow-net=HOST:PORT[,HOST:PORT...]
                          allow only these services (repeatable): connecting to them,
                          UDP with them, or serving on one of them; HOST is a name
                          (resolved by the launcher at start), an IPv4 address or
                          [IPv6]. Name lookups are allowed
  --max-memory SIZE       cap the total of all linear memories (CPython's and every
                          cap's): bytes, or with a K/M/G (10^3) or Ki/Mi/Gi (2^10)
                          suffix. A growth past it fails (Python: MemoryError)
  --timeout DURATION      stop the guest after DURATION (`500ms`, `5s`, `2m`, `1h`),
                          whatever it is blocked on; exit code 124
  --stdlib DIR            host directory holding the stdlib zip (default: `lib/` next to
                          the wasm file, as named by its record.json)
  --cache-dir DIR         compilation cache (default: $PYLON_CACHE_DIR/launch, else
                          $XDG_CACHE_HOME/pylon/launch, else ~/.cache/pylon/launch);
                          must be yours and not writable by group or others
  --no-cache              compile in memory, read and write no cache (and no snapshot)
  --no-snapshot           initialise CPython in this run instead of resuming the startup
                          snapshot (also PYLON_NO_SNAPSHOT=1); for debugging start-up
  --snapshot-import MODULE[,MODULE...]
                          also import these modules into the startup snapshot (one
                          snapshot per list, made on its first use); they are then in
                          sys.modules of every run that uses it
  --report-memory         print the total size of all linear memories when the guest
                          ends (memories only grow: a leak grows it with the work done)
  --verbose               report cache hit/miss and compile/load time on stderr (also
                          PYLON_LAUNCH_VERBOSE=1)
  --help                  print this text

The guest's working directory is `/` unless --cwd names another; unless a --dir maps
`/`, `/` is an empty read-only directory.

exit codes: the guest's own exit code; 1 if `run` returned an error; 124 on --timeout;
134 on a trap (or other runtime error); 2 for launcher errors (bad option, missing or
invalid wasm, unusable cache). A guest exiting with 124 or 134 itself gets a note on
stderr saying so.
";

/// Parses the launcher's arguments (without the program name, i.e.
/// `std::env::args_os().skip(1)`), resolving defaults from the environment.
pub fn parse_args(args: Vec<OsString>) -> Result<LaunchOptions, LaunchError> {
    parse_args_with_env(args, |k| std::env::var_os(k))
}

/// [`parse_args`] with an explicit environment lookup (for tests and embedders).
pub fn parse_args_with_env(
    args: Vec<OsString>,
    env: impl Fn(&str) -> Option<OsString>,
) -> Result<LaunchOptions, LaunchError> {
    let env_nonempty = |k: &str| env(k).filter(|v| !v.is_empty());
    let mut given = Given {
        verbose: env_nonempty("PYLON_LAUNCH_VERBOSE").is_some_and(|v| v != "0"),
        ..Given::default()
    };

    let mut it = args.into_iter();
    while let Some(raw) = it.next() {
        let Some(text) = raw.to_str() else {
            // Not UTF-8: neither a launcher option nor a valid guest argument.
            return Err(LaunchError::NonUtf8Arg(raw));
        };
        if text == "--" {
            given.guest_args = guest_strings(it)?;
            break;
        }
        let Some(long) = text.strip_prefix("--").filter(|s| !s.is_empty()) else {
            // First guest argument: it and everything after it belong to the guest.
            given.guest_args.push(text.to_owned());
            given.guest_args.extend(guest_strings(it)?);
            break;
        };
        let (name, inline) = match long.split_once('=') {
            Some((n, v)) => (n, Some(v.to_owned())),
            None => (long, None),
        };
        let option = format!("--{name}");
        if name == "allow-net" {
            // A flag alone, or with an inline list: `--allow-net=HOST:PORT,…`.
            given.net.add_option(inline.as_deref())?;
            continue;
        }
        let takes_value = matches!(
            name,
            "wasm"
                | "dir"
                | "cwd"
                | "env"
                | "max-memory"
                | "timeout"
                | "cache-dir"
                | "stdlib"
                | "snapshot-import"
        );
        let is_flag = matches!(
            name,
            "no-cache" | "no-snapshot" | "verbose" | "report-memory" | "help"
        );
        if !takes_value && !is_flag {
            return Err(LaunchError::Usage(format!(
                "unknown launcher option `{option}` (put python's own options after \
                 `--`, e.g. `pylon-launch -- {text}`; see --help)"
            )));
        }
        if is_flag {
            if inline.is_some() {
                return Err(LaunchError::Usage(format!("`{option}` takes no value")));
            }
            given.set_flag(name);
            continue;
        }
        let value = match inline {
            Some(v) => v,
            None => match it.next() {
                Some(v) => v.into_string().map_err(|v| {
                    LaunchError::invalid(&option, &v.to_string_lossy(), "not UTF-8")
                })?,
                None => return Err(LaunchError::Usage(format!("`{option}` needs a value"))),
            },
        };
        given.set_value(name, &option, value, &env)?;
    }
    Ok(given.with_defaults(&env_nonempty))
}

/// The launcher options as the command line gave them, before the defaults.
#[derive(Default)]
struct Given {
    wasm: Option<PathBuf>,
    dirs: Vec<DirMapping>,
    cwd: Option<String>,
    guest_env: Vec<(String, String)>,
    net: NetAccess,
    max_memory: Option<u64>,
    timeout: Option<Duration>,
    cache_dir: Option<PathBuf>,
    no_cache: bool,
    no_snapshot: bool,
    snapshot_imports: Vec<String>,
    stdlib: Option<PathBuf>,
    verbose: bool,
    show_help: bool,
    report_memory: bool,
    guest_args: Vec<String>,
}

impl Given {
    /// A flag: `--no-cache`, `--no-snapshot`, `--verbose`, `--report-memory` or `--help`.
    fn set_flag(&mut self, name: &str) {
        match name {
            "no-cache" => self.no_cache = true,
            "no-snapshot" => self.no_snapshot = true,
            "verbose" => self.verbose = true,
            "report-memory" => self.report_memory = true,
            _ => self.show_help = true,
        }
    }

    /// An option that takes a value, checked here.
    fn set_value(
        &mut self,
        name: &str,
        option: &str,
        value: String,
        env: &impl Fn(&str) -> Option<OsString>,
    ) -> Result<(), LaunchError> {
        match name {
            "wasm" => self.wasm = Some(PathBuf::from(value)),
            "dir" => self.dirs.push(parse_dir(&value)?),
            "cwd" => {
                let cwd =
                    guest_dir_path(&value).map_err(|r| LaunchError::invalid(option, &value, &r))?;
                self.cwd = Some(cwd);
            }
            "env" => {
                if let Some(pair) = parse_env(&value, env)? {
                    self.guest_env.push(pair);
                }
            }
            "max-memory" => {
                let bytes =
                    parse_size(&value).map_err(|r| LaunchError::invalid(option, &value, &r))?;
                self.max_memory = Some(bytes);
            }
            "timeout" => {
                let d =
                    parse_duration(&value).map_err(|r| LaunchError::invalid(option, &value, &r))?;
                self.timeout = Some(d);
            }
            "cache-dir" => self.cache_dir = Some(PathBuf::from(value)),
            "snapshot-import" => {
                for module in value.split(',') {
                    let valid = !module.is_empty()
                        && module.split('.').all(|part| {
                            part.chars()
                                .next()
                                .is_some_and(|c| c.is_alphabetic() || c == '_')
                                && part.chars().all(|c| c.is_alphanumeric() || c == '_')
                        });
                    if !valid {
                        return Err(LaunchError::invalid(
                            option,
                            &value,
                            &format!("`{module}` is not a module name"),
                        ));
                    }
                    self.snapshot_imports.push(module.to_owned());
                }
            }
            _ => self.stdlib = Some(PathBuf::from(value)),
        }
        Ok(())
    }

    /// The options with the defaults resolved from the environment.
    fn with_defaults(self, env_nonempty: &impl Fn(&str) -> Option<OsString>) -> LaunchOptions {
        let wasm = self
            .wasm
            .or_else(|| env_nonempty("PYLON_WASM").map(PathBuf::from))
            .unwrap_or_else(|| PathBuf::from("build/pylon.wasm"));
        let cache_dir = if self.no_cache {
            None
        } else {
            self.cache_dir.or_else(|| default_cache_dir(env_nonempty))
        };
        LaunchOptions {
            wasm,
            dirs: self.dirs,
            cwd: self.cwd,
            env: self.guest_env,
            net: self.net,
            max_memory: self.max_memory,
            timeout: self.timeout,
            cache_dir,
            stdlib: self.stdlib,
            verbose: self.verbose,
            report_memory: self.report_memory,
            show_help: self.show_help,
            guest_args: self.guest_args,
            snapshot_imports: self.snapshot_imports,
            snapshot: !self.no_snapshot
                && env_nonempty("PYLON_NO_SNAPSHOT").is_none_or(|v| v == "0"),
            process_exits_after: false,
            guest_on_calling_thread: false,
        }
    }
}

fn guest_strings(rest: impl Iterator<Item = OsString>) -> Result<Vec<String>, LaunchError> {
    rest.map(|a| a.into_string().map_err(LaunchError::NonUtf8Arg))
        .collect()
}

fn default_cache_dir(env: &impl Fn(&str) -> Option<OsString>) -> Option<PathBuf> {
    if let Some(dir) = env("PYLON_CACHE_DIR") {
        return Some(PathBuf::from(dir).join("launch"));
    }
    if let Some(dir) = env("XDG_CACHE_HOME") {
        return Some(PathBuf::from(dir).join("pylon").join("launch"));
    }
    env("HOME").map(|h| PathBuf::from(h).join(".cache").join("pylon").join("launch"))
}

/// An absolute guest path in its one spelling: `/a/b` for `/a//b/./`, `..` taken
/// lexically (as wasi-libc resolves guest paths: there are no guest symlinks to
/// follow), never above `/`.
fn guest_dir_path(value: &str) -> Result<String, String> {
    if !value.starts_with('/') {
        return Err("not an absolute guest path (it must start with `/`)".to_string());
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in value.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            name => parts.push(name),
        }
    }
    Ok(format!("/{}", parts.join("/")))
}

/// `HOST`, `HOST::GUEST`, `HOST::GUEST::ro` or `HOST::GUEST::rw`.
pub fn parse_dir(spec: &str) -> Result<DirMapping, LaunchError> {
    let parts: Vec<&str> = spec.split("::").collect();
    let (host, guest, writable) = match parts.as_slice() {
        [host] => (*host, *host, false),
        [host, guest] => (*host, *guest, false),
        [host, guest, "ro"] => (*host, *guest, false),
        [host, guest, "rw"] => (*host, *guest, true),
        [_, _, other] => {
            return Err(LaunchError::invalid(
                "--dir",
                spec,
                &format!("unknown access mode `{other}` (use `ro` or `rw`)"),
            ))
        }
        _ => {
            return Err(LaunchError::invalid(
                "--dir",
                spec,
                "expected HOST[::GUEST[::ro|::rw]]",
            ))
        }
    };
    if host.is_empty() || guest.is_empty() {
        return Err(LaunchError::invalid(
            "--dir",
            spec,
            "empty host or guest path",
        ));
    }
    let host_path = Path::new(host);
    match std::fs::metadata(host_path) {
        Ok(m) if m.is_dir() => {}
        Ok(_) => {
            return Err(LaunchError::invalid(
                "--dir",
                spec,
                &format!("host path `{host}` is not a directory"),
            ))
        }
        Err(e) => {
            return Err(LaunchError::invalid(
                "--dir",
                spec,
                &format!("host directory `{host}`: {e}"),
            ))
        }
    }
    Ok(DirMapping {
        host: host_path.to_path_buf(),
        guest: guest.to_owned(),
        writable,
    })
}

fn parse_env(
    spec: &str,
    env: &impl Fn(&str) -> Option<OsString>,
) -> Result<Option<(String, String)>, LaunchError> {
    let (key, value) = match spec.split_once('=') {
        Some((k, v)) => (k, Some(v.to_owned())),
        None => (spec, None),
    };
    if key.is_empty() || key.contains('\0') {
        return Err(LaunchError::invalid(
            "--env",
            spec,
            "expected KEY=VALUE or KEY",
        ));
    }
    let value = match value {
        Some(v) => v,
        None => match env(key) {
            Some(v) => v
                .into_string()
                .map_err(|_| LaunchError::invalid("--env", spec, "host value is not UTF-8"))?,
            None => return Ok(None),
        },
    };
    Ok(Some((key.to_owned(), value)))
}

/// Bytes with an optional `K`/`M`/`G` (powers of 1000) or `Ki`/`Mi`/`Gi` (powers of
/// 1024) suffix, case-insensitive, an optional trailing `B` allowed (`64MiB`).
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, suffix) = t.split_at(digits_end);
    if digits.is_empty() {
        return Err("expected a number of bytes, e.g. 512M or 1Gi".into());
    }
    let n: u64 = digits.parse().map_err(|_| "number too large".to_string())?;
    let suffix = suffix.to_ascii_lowercase();
    let suffix = suffix.strip_suffix('b').unwrap_or(&suffix);
    let mult: u64 = match suffix {
        "" => 1,
        "k" => 1_000,
        "m" => 1_000_000,
        "g" => 1_000_000_000,
        "ki" => 1 << 10,
        "mi" => 1 << 20,
        "gi" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown size suffix `{}` (use K, M, G, Ki, Mi or Gi)",
                &t[digits_end..]
            ))
        }
    };
    n.checked_mul(mult)
        .ok_or_else(|| "size too large".to_string())
}

/// An integer followed by `ms`, `s`, `m` or `h` (a bare integer means seconds).
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    let t = text.trim();
    let digits_end = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (digits, unit) = t.split_at(digits_end);
    if digits.is_empty() {
        return Err("expected a duration such as 500ms, 5s or 2m".into());
    }
    let n: u64 = digits.parse().map_err(|_| "number too large".to_string())?;
    let ms_per: u64 = match unit {
        "ms" => 1,
        "" | "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        _ => {
            return Err(format!(
                "unknown duration unit `{unit}` (use ms, s, m or h)"
            ))
        }
    };
    let ms = n
        .checked_mul(ms_per)
        .ok_or_else(|| "duration too large".to_string())?;
    if ms == 0 {
        return Err("the timeout must be greater than zero".into());
    }
    Ok(Duration::from_millis(ms))
}

/// `5s`, `500ms`, `2m`, `1h`: the shortest exact spelling of a whole number of ms.
pub fn format_duration(d: Duration) -> String {
    let ms = d.as_millis();
    if ms != 0 && ms.is_multiple_of(3_600_000) {
        format!("{}h", ms / 3_600_000)
    } else if ms != 0 && ms.is_multiple_of(60_000) {
        format!("{}m", ms / 60_000)
    } else if ms.is_multiple_of(1_000) {
        format!("{}s", ms / 1_000)
    } else {
        format!("{ms}ms")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(v: &[&str]) -> Vec<OsString> {
        v.iter().map(OsString::from).collect()
    }

    fn parse(v: &[&str]) -> Result<LaunchOptions, LaunchError> {
        parse_args_with_env(os(v), |k| match k {
            "HOME" => Some("/home/u".into()),
            _ => None,
        })
    }

    #[test]
    fn guest_args_start_at_first_non_option() {
        let o = parse(&["--allow-net", "-c", "print(1)", "--wasm", "x"]).unwrap();
        assert_eq!(o.net, NetAccess::All);
        assert_eq!(o.guest_args, ["-c", "print(1)", "--wasm", "x"]);
        assert_eq!(o.wasm, PathBuf::from("build/pylon.wasm"));
        let o = parse(&["--wasm=a.wasm", "--", "--version"]).unwrap();
        assert_eq!(o.wasm, PathBuf::from("a.wasm"));
        assert_eq!(o.guest_args, ["--version"]);
        let o = parse(&[]).unwrap();
        assert!(o.guest_args.is_empty());
        assert_eq!(
            o.cache_dir,
            Some(PathBuf::from("/home/u/.cache/pylon/launch"))
        );
        assert_eq!(parse(&["--no-cache"]).unwrap().cache_dir, None);
    }

    #[test]
    fn snapshot_imports_are_module_names() {
        let o = parse(&[
            "--snapshot-import",
            "json,re",
            "--snapshot-import=xml.dom",
            "-c",
            "1",
        ])
        .unwrap();
        assert_eq!(o.snapshot_imports, ["json", "re", "xml.dom"]);
        assert!(o.snapshot);
        for bad in ["", "json,", "1abc", "a-b", "os.path/x"] {
            let err = parse(&["--snapshot-import", bad]).unwrap_err().to_string();
            assert!(err.contains("--snapshot-import"), "{bad}: {err}");
        }
        assert!(!parse(&["--no-snapshot"]).unwrap().snapshot);
    }

    #[test]
    fn bad_options() {
        assert!(parse(&["--frobnicate"]).is_err());
        assert!(parse(&["--timeout"]).is_err());
        assert!(parse(&["--allow-net=yes"]).is_err());
        assert!(parse(&["--allow-net="]).is_err());
        assert!(parse(&["--env", "=x"]).is_err());
        assert!(parse(&["--dir", "/definitely/not/here::/x"]).is_err());
        assert!(parse(&["--dir", "/::/x::rx"]).is_err());
    }

    #[test]
    fn dirs() {
        let d = parse_dir("/tmp").unwrap();
        assert_eq!((d.guest.as_str(), d.writable), ("/tmp", false));
        let d = parse_dir("/tmp::/work::rw").unwrap();
        assert_eq!((d.guest.as_str(), d.writable), ("/work", true));
        let d = parse_dir("/tmp::/work::ro").unwrap();
        assert!(!d.writable);
    }

    #[test]
    fn cwd_is_an_absolute_guest_path_in_one_spelling() {
        let cwd = |v: &str| parse(&["--cwd", v, "-c", "1"]).map(|o| o.cwd);
        assert_eq!(cwd("/").unwrap().as_deref(), Some("/"));
        assert_eq!(cwd("/data//a/./b/").unwrap().as_deref(), Some("/data/a/b"));
        assert_eq!(cwd("/data/a/../b").unwrap().as_deref(), Some("/data/b"));
        assert_eq!(cwd("/../..").unwrap().as_deref(), Some("/"));
        for bad in ["", "data", "./data"] {
            let err = cwd(bad).unwrap_err().to_string();
            assert!(
                err.contains("--cwd") && err.contains("absolute"),
                "{bad}: {err}"
            );
        }
        assert_eq!(parse(&[]).unwrap().cwd, None);
    }

    #[test]
    fn sizes_and_durations() {
        assert_eq!(parse_size("123"), Ok(123));
        assert_eq!(parse_size("64M"), Ok(64_000_000));
        assert_eq!(parse_size("64Mi"), Ok(64 << 20));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert!(parse_size("12Q").is_err());
        assert!(parse_size("M").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("5s"), Ok(Duration::from_secs(5)));
        assert_eq!(parse_duration("2m"), Ok(Duration::from_secs(120)));
        assert_eq!(parse_duration("3"), Ok(Duration::from_secs(3)));
        assert!(parse_duration("0s").is_err());
        assert!(parse_duration("5 parsecs").is_err());
        assert_eq!(format_duration(Duration::from_secs(5)), "5s");
        assert_eq!(format_duration(Duration::from_millis(1500)), "1500ms");
        assert_eq!(format_duration(Duration::from_secs(120)), "2m");
    }
}
