//! The Python half of the runtime: `_pylon_runtime`, the module every cap's Python side
//! may import for CPython's argument conventions (`y*`, `i`, `n`, …), the mapping of a
//! cap's WIT `error` record to an exception, and non-subclassable, unpicklable types.
//! Like `runtime.c` for the generated C, it is one copy the product ships beside the
//! shims, so a cap's Python side carries no private copy of these helpers.

use std::fs;
use std::io;
use std::path::Path;

/// The module's import name.
pub const MODULE: &str = "_pylon_runtime";

/// The module's source, compiled into the generator so that what ships is what this
/// version of pylon-shim was built with.
pub const SOURCE: &str = include_str!("../python/_pylon_runtime.py");

/// Writes `_pylon_runtime.py` into `dir` (an overlay directory: its files go into the
/// stdlib zip at the top level).
pub fn write_to(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    fs::write(dir.join(format!("{MODULE}.py")), SOURCE)
}
