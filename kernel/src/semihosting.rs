//! Arm semihosting, only what the monitor needs: ending the emulation.
//!
//! A32 semihosting is `svc 0x123456` (QEMU intercepts it at any PL1 mode,
//! including Monitor). SYS_EXIT (0x18) on A32 takes the reason itself in r1
//! and cannot carry an exit status; SYS_EXIT_EXTENDED (0x20) takes a pointer
//! to `[reason, status]` and QEMU exits with `status`.

/// SYS_EXIT_EXTENDED.
pub const SYS_EXIT_EXTENDED: u32 = 0x20;
/// ADP_Stopped_ApplicationExit.
pub const ADP_STOPPED_APPLICATION_EXIT: u32 = 0x2_0026;

/// Stop the machine; the emulator exits with `code`. Spins where no
/// semihosting host is attached (the `svc` is then an ordinary SVC).
pub fn exit(code: u32) -> ! {
    #[cfg(target_arch = "arm")]
    {
        let block = [ADP_STOPPED_APPLICATION_EXIT, code];
        // SAFETY: the semihosting call only reads `block`, which lives for
        // the duration of the call; without a host it is an SVC, and the
        // monitor's Secure vectors park the core.
        unsafe {
            core::arch::asm!(
                "svc 0x123456",
                inout("r0") SYS_EXIT_EXTENDED => _,
                in("r1") block.as_ptr(),
                options(nostack)
            );
        }
    }
    #[cfg(not(target_arch = "arm"))]
    let _ = code;
    loop {
        core::hint::spin_loop();
    }
}
