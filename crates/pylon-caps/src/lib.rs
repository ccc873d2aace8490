//! Capability components: clone, pin, build and digest-check them.
//!
//! Operations here return data (`SyncReport`, `VerifyReport`); they never print.
//! The `pylon` CLI renders them.

pub mod build;
pub mod componentize;
pub mod digest;
pub mod git;
pub mod inspect;
pub mod layout;
pub mod lock;
pub mod regen;
pub mod scaffold;
pub mod sync;
pub mod toolchain;
pub mod verify;
pub mod wit;
