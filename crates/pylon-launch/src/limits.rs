//! The store's `ResourceLimiter`: `--max-memory` as a bound on the *total* of every linear
//! memory of the composition, fixed bounds on tables and instances, and the meter behind
//! `--report-memory`.
//!
//! A composed product is several core instances, each with its own linear memory
//! (CPython's, and one per cap), so a per-memory cap (wasmtime's `StoreLimits`) lets the
//! whole run use the cap times the number of memories. wasmtime reports every memory's
//! creation (as growth from 0) and every growth to the limiter, one memory at a time;
//! memories never shrink, so the sum of the approved deltas is the total.

use wasmtime::ResourceLimiter;

// Fixed bounds on what a store may create: far above what build/pylon.wasm uses, they
// only stop a component that instantiates or grows tables without end (host memory
// that --max-memory does not see). Measured for build/pylon.wasm with six caps: 7 linear
// memories (CPython's and one per cap), 14 tables holding 5512 elements in all (4614 of
// them CPython's function table); its core instances are CPython, each cap and the
// adapters and shims the composition puts between them.

/// Core instances one store may create.
pub(crate) const MAX_INSTANCES: usize = 1_000;
/// Tables, over all instances.
pub(crate) const MAX_TABLES: usize = 1_000;
/// Linear memories, over all instances.
pub(crate) const MAX_MEMORIES: usize = 1_000;
/// Table elements, summed over all tables. wasmtime keeps a pointer per element, so this
/// is at most 8 MB of host memory.
pub(crate) const MAX_TABLE_ELEMENTS: u64 = 1_000_000;

/// Totals over every memory and table of a store, with the limits they are held to.
#[derive(Debug)]
pub(crate) struct TotalLimits {
    /// `--max-memory`: bound on the sum of all linear memories, in bytes.
    max_memory: Option<u64>,
    /// Sum of every linear memory's current size, in bytes.
    memory_bytes: u64,
    /// The delta of the last approved memory growth, undone if wasmtime then reports the
    /// growth failed (the host could not map the memory). wasmtime calls
    /// `memory_grow_failed` without a preceding `memory_growing` only for memories with
    /// 1-byte pages (the custom-page-sizes proposal, off here), so a pending delta always
    /// belongs to the growth that failed.
    pending_memory: u64,
    /// Largest total the limit refused, for the error message.
    refused_memory: Option<u64>,
    table_elements: u64,
    pending_table: u64,
}

impl TotalLimits {
    pub(crate) fn new(max_memory: Option<u64>) -> Self {
        TotalLimits {
            max_memory,
            memory_bytes: 0,
            pending_memory: 0,
            refused_memory: None,
            table_elements: 0,
            pending_table: 0,
        }
    }

    /// Total bytes of linear memory now.
    pub(crate) fn memory_bytes(&self) -> u64 {
        self.memory_bytes
    }

    /// The total a refused growth would have reached, if `--max-memory` refused one.
    pub(crate) fn refused_memory(&self) -> Option<u64> {
        self.refused_memory
    }
}

fn delta(current: usize, desired: usize) -> u64 {
    u64::try_from(desired.saturating_sub(current)).unwrap_or(u64::MAX)
}

impl ResourceLimiter for TotalLimits {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.pending_memory = 0;
        // Refusing what the memory's own maximum forbids (as `StoreLimits` does) keeps
        // wasmtime from failing an approved growth for that reason.
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let grow = delta(current, desired);
        let total = self.memory_bytes.saturating_add(grow);
        if self.max_memory.is_some_and(|max| total > max) {
            self.refused_memory = Some(self.refused_memory.unwrap_or(0).max(total));
            // `false`, not an error: a failed memory.grow is what the guest's allocator
            // expects (CPython raises MemoryError); a failed creation fails instantiation.
            return Ok(false);
        }
        self.memory_bytes = total;
        self.pending_memory = grow;
        Ok(true)
    }

    fn memory_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.memory_bytes -= self.pending_memory;
        self.pending_memory = 0;
        Ok(())
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        self.pending_table = 0;
        if maximum.is_some_and(|max| desired > max) {
            return Ok(false);
        }
        let grow = delta(current, desired);
        let total = self.table_elements.saturating_add(grow);
        if total > MAX_TABLE_ELEMENTS {
            return Ok(false);
        }
        self.table_elements = total;
        self.pending_table = grow;
        Ok(true)
    }

    fn table_grow_failed(&mut self, _error: wasmtime::Error) -> wasmtime::Result<()> {
        self.table_elements -= self.pending_table;
        self.pending_table = 0;
        Ok(())
    }

    fn instances(&self) -> usize {
        MAX_INSTANCES
    }

    fn tables(&self) -> usize {
        MAX_TABLES
    }

    fn memories(&self) -> usize {
        MAX_MEMORIES
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: usize = 1 << 20;

    #[test]
    fn memory_limit_is_a_total() {
        let mut l = TotalLimits::new(Some(64 << 20));
        // Three memories of 20 MiB each fit; a fourth does not, nor growing one by 5 MiB.
        for _ in 0..3 {
            assert!(l.memory_growing(0, 20 * MIB, None).unwrap());
        }
        assert_eq!(l.memory_bytes(), 60 << 20);
        assert!(!l.memory_growing(0, 20 * MIB, None).unwrap());
        assert!(!l.memory_growing(20 * MIB, 25 * MIB, None).unwrap());
        assert_eq!(l.refused_memory(), Some(80 << 20));
        assert!(l.memory_growing(20 * MIB, 24 * MIB, None).unwrap());
        assert_eq!(l.memory_bytes(), 64 << 20);
    }

    #[test]
    fn failed_growth_is_not_counted() {
        let mut l = TotalLimits::new(None);
        assert!(l.memory_growing(0, MIB, None).unwrap());
        assert!(l.memory_growing(MIB, 3 * MIB, None).unwrap());
        l.memory_grow_failed(wasmtime::format_err!("mmap failed"))
            .unwrap();
        assert_eq!(l.memory_bytes(), MIB as u64);
        // Beyond the memory's own maximum: refused, nothing counted.
        assert!(!l.memory_growing(MIB, 3 * MIB, Some(2 * MIB)).unwrap());
        assert_eq!(l.memory_bytes(), MIB as u64);
        assert_eq!(l.refused_memory(), None);
    }

    #[test]
    fn table_elements_are_bounded_in_total() {
        let mut l = TotalLimits::new(None);
        let half = usize::try_from(MAX_TABLE_ELEMENTS / 2).unwrap();
        assert!(l.table_growing(0, half, None).unwrap());
        assert!(l.table_growing(0, half, None).unwrap());
        assert!(!l.table_growing(0, 1, None).unwrap());
    }
}
