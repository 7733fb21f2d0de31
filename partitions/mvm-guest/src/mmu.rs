//! Shadow paging: address spaces and mappings, kept by the monitor.
//!
//! - A shadow-paged guest with a pool starts in [`Space::BOOT`], where every
//!   page of its regions sits at its guest-physical address; it may create
//!   more spaces and map 4 KiB pages of its own memory and devices into
//!   them. The monitor checks every request (docs/hypercalls.md).
//! - Adding a mapping is safe: the monitor never replaces one (an occupied
//!   page is refused), so no reference of the guest changes meaning.
//!   Removing one, switching spaces and destroying one are `unsafe`: the
//!   guest must not lose the pages its code, stack and data live in.

use crate::hypercall::{abi, call_checked, result, Error};

/// Bytes of a page.
pub const PAGE: u32 = 4096;

/// How a page is mapped.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flags {
    pub writable: bool,
    pub executable: bool,
    /// Device memory (a device's page always is).
    pub device: bool,
}

impl Flags {
    /// Read-write data, never executable.
    pub const DATA: Self = Self {
        writable: true,
        executable: false,
        device: false,
    };
    /// Read-only, never executable.
    pub const READ_ONLY: Self = Self {
        writable: false,
        executable: false,
        device: false,
    };
    /// A device's registers.
    pub const DEVICE: Self = Self {
        writable: true,
        executable: false,
        device: true,
    };

    fn bits(self) -> u32 {
        (self.writable as u32) * abi::MAP_WRITABLE
            | (self.executable as u32) * abi::MAP_EXECUTABLE
            | (self.device as u32) * abi::MAP_DEVICE
    }
}

/// An address space of this guest, by id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Space(pub u32);

impl Space {
    /// The space the guest starts in.
    pub const BOOT: Space = Space(0);

    /// A new, empty address space.
    pub fn create() -> Result<Space, Error> {
        result(call_checked(abi::SPACE_CREATE, [0; 3])[0]).map(Space)
    }

    /// Maps virtual page `va` to guest-physical page `gpa`. Both must be
    /// page aligned; `va` must not be mapped yet in this space.
    pub fn map(self, va: u32, gpa: u32, flags: Flags) -> Result<(), Error> {
        // Flags travel in the low bits of the (page-aligned) virtual
        // address; a misaligned `va` is sent as it is, so that the monitor
        // refuses it rather than this wrapper hiding it.
        let r1 = if va % PAGE == 0 {
            va | flags.bits()
        } else {
            va
        };
        result(call_checked(abi::MAP, [r1, gpa, self.0])[0]).map(|_| ())
    }

    /// Maps `va` with raw flag bits, exactly as given (for tests of the
    /// monitor's checks).
    pub fn map_raw(self, r1: u32, gpa: u32) -> Result<(), Error> {
        result(call_checked(abi::MAP, [r1, gpa, self.0])[0]).map(|_| ())
    }

    /// Removes the mapping of virtual page `va`.
    ///
    /// # Safety
    /// Nothing the guest still uses lies in that page of this space.
    pub unsafe fn unmap(self, va: u32) -> Result<(), Error> {
        result(call_checked(abi::UNMAP, [va, self.0, 0])[0]).map(|_| ())
    }

    /// Invalidates this space's TLB entries.
    pub fn flush(self) -> Result<(), Error> {
        result(call_checked(abi::FLUSH, [self.0, 0, 0])[0]).map(|_| ())
    }

    /// Makes this space the current one.
    ///
    /// # Safety
    /// It maps the guest's running code, stacks, vectors and every datum in
    /// use at the same virtual addresses as the current space.
    pub unsafe fn switch(self) -> Result<(), Error> {
        result(call_checked(abi::SPACE_SWITCH, [self.0, 0, 0])[0]).map(|_| ())
    }

    /// Frees this space (not the current one) and its tables.
    ///
    /// # Safety
    /// The guest switches to it no more (its id may be reused).
    pub unsafe fn destroy(self) -> Result<(), Error> {
        result(call_checked(abi::SPACE_DESTROY, [self.0, 0, 0])[0]).map(|_| ())
    }
}
