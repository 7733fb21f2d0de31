//! Starting CPU1 (UG585 6.1.10, "Starting Code on CPU 1").
//!
//! - After reset CPU1 runs the boot ROM: it waits in `wfe`, and at each
//!   event reads the word at 0xFFFF_FFF0; once that word is not zero, it
//!   jumps there, in Secure SVC with the MMU and caches off.
//! - 0xFFFF_FFF0 lies in the last 64 KiB of OCM, which the boot ROM leaves
//!   mapped high (`OCM_CFG` RAM_HI bit 3). Whoever remaps OCM must keep that
//!   block high until CPU1 has left the boot ROM.
//! - CPU0 writes the entry, makes the write visible (`dsb`), then `sev`.

/// Where CPU1's boot ROM loop looks for its entry point.
pub const CPU1_ENTRY_ADDRESS: usize = 0xFFFF_FFF0;

/// The `OCM_CFG` RAM_HI bit of the OCM block that holds
/// [`CPU1_ENTRY_ADDRESS`] (the last 64 KiB).
pub const OCM_CFG_ENTRY_BLOCK: u32 = 1 << 3;

/// Why CPU1 cannot be started at an address.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cpu1EntryError {
    /// 0 means "keep waiting" to the boot ROM.
    Zero,
    /// The boot ROM branches in Arm state: the entry is word aligned.
    Misaligned,
    /// The last OCM block is mapped low, so the boot ROM would not read the
    /// word written at 0xFFFF_FFF0.
    EntryBlockNotHigh,
}

/// Checks an entry point and the OCM mapping (`OCM_CFG` RAM_HI) before
/// [`start_cpu1`].
pub const fn check_cpu1_entry(entry: usize, ocm_high_blocks: u32) -> Result<(), Cpu1EntryError> {
    if entry == 0 {
        Err(Cpu1EntryError::Zero)
    } else if entry & 3 != 0 {
        Err(Cpu1EntryError::Misaligned)
    } else if ocm_high_blocks & OCM_CFG_ENTRY_BLOCK == 0 {
        Err(Cpu1EntryError::EntryBlockNotHigh)
    } else {
        Ok(())
    }
}

/// Releases CPU1 from the boot ROM to `entry`.
///
/// # Safety
/// Runs on CPU0 in the Secure world with the MMU off (or 0xFFFF_F000
/// identity mapped as device or strongly-ordered memory); `entry` passes
/// [`check_cpu1_entry`] and is code that sets up CPU1 from reset state
/// (its own stack first); nothing else uses the word at
/// [`CPU1_ENTRY_ADDRESS`].
pub unsafe fn start_cpu1(entry: usize) {
    #[cfg(target_arch = "arm")]
    // SAFETY: the caller vouched for the address being the boot ROM's
    // mailbox in mapped OCM and for `entry`; `dsb` orders the store before
    // the event, `sev` wakes CPU1's `wfe`.
    unsafe {
        core::ptr::write_volatile(CPU1_ENTRY_ADDRESS as *mut u32, entry as u32);
        core::arch::asm!("dsb", "sev", options(nostack, preserves_flags));
    }
    #[cfg(not(target_arch = "arm"))]
    let _ = entry;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_checks() {
        let after_boot_rom = 0x8; // OCM_CFG RAM_HI as the boot ROM leaves it
        assert_eq!(check_cpu1_entry(0x0010_0000, after_boot_rom), Ok(()));
        assert_eq!(check_cpu1_entry(0x0010_0000, 0xF), Ok(()));
        assert_eq!(
            check_cpu1_entry(0, after_boot_rom),
            Err(Cpu1EntryError::Zero)
        );
        assert_eq!(
            check_cpu1_entry(0x0010_0002, after_boot_rom),
            Err(Cpu1EntryError::Misaligned)
        );
        assert_eq!(
            check_cpu1_entry(0x0010_0000, 0x7),
            Err(Cpu1EntryError::EntryBlockNotHigh)
        );
    }

    #[test]
    fn the_mailbox_is_in_the_last_ocm_block() {
        let block = (CPU1_ENTRY_ADDRESS as u64 - crate::OCM_HIGH.base) / crate::OCM_BLOCK_SIZE;
        assert_eq!(1 << block, OCM_CFG_ENTRY_BLOCK);
    }
}
