//! The Linux system calls `mvm-channel` makes, ARM EABI: number in r7,
//! arguments in r0..r5, result in r0 (-4095..-1 is an errno).

pub const PAGE: u64 = 4096;
pub const O_RDONLY: u32 = 0;
/// `O_SYNC` as ARM defines it (`__O_SYNC | O_DSYNC`).
pub const O_SYNC: u32 = 0o4_010_000;
pub const O_CLOEXEC: u32 = 0o2_000_000;
pub const EINTR: i32 = 4;
/// `struct input_event` on 32-bit Arm: timeval (2 x 4), type, code, value.
pub const INPUT_EVENT: usize = 16;
pub const EV_KEY: u16 = 1;

const SYS_EXIT_GROUP: u32 = 248;
const SYS_NANOSLEEP: u32 = 162;
const SYS_READ: u32 = 3;
const SYS_WRITE: u32 = 4;
const SYS_OPEN: u32 = 5;
const SYS_CLOSE: u32 = 6;
const SYS_IOCTL: u32 = 54;
const SYS_MMAP2: u32 = 192;
const PROT_READ: u32 = 1;
const MAP_SHARED: u32 = 1;

#[cfg(target_arch = "arm")]
fn syscall(number: u32, args: [u32; 6]) -> u32 {
    let result: u32;
    // SAFETY: a Linux system call; the callers pass valid pointers for
    // the calls that take them, and none of these calls touches memory
    // the compiler does not know about beyond those buffers.
    unsafe {
        core::arch::asm!(
            "svc 0",
            in("r7") number,
            inlateout("r0") args[0] => result,
            in("r1") args[1],
            in("r2") args[2],
            in("r3") args[3],
            in("r4") args[4],
            in("r5") args[5],
            options(nostack),
        );
    }
    result
}

#[cfg(not(target_arch = "arm"))]
fn syscall(_number: u32, _args: [u32; 6]) -> u32 {
    unreachable!("mvm-channel runs on 32-bit Arm Linux only")
}

/// The result as a value or an errno.
fn check(result: u32) -> Result<u32, i32> {
    if result > (-4096i32) as u32 {
        Err(-(result as i32))
    } else {
        Ok(result)
    }
}

pub fn exit(code: i32) -> ! {
    syscall(SYS_EXIT_GROUP, [code as u32, 0, 0, 0, 0, 0]);
    #[allow(clippy::empty_loop)]
    loop {}
}

/// Sleeps `ms` milliseconds (a signal may cut it short).
pub fn sleep_ms(ms: u32) {
    let request: [u32; 2] = [ms / 1000, (ms % 1000) * 1_000_000];
    syscall(SYS_NANOSLEEP, [request.as_ptr() as u32, 0, 0, 0, 0, 0]);
}

/// `path` ends with a NUL.
pub fn open(path: &[u8], flags: u32) -> Result<i32, i32> {
    if path.last() != Some(&0) {
        return Err(22);
    }
    check(syscall(SYS_OPEN, [path.as_ptr() as u32, flags, 0, 0, 0, 0])).map(|fd| fd as i32)
}

pub fn close(fd: i32) {
    syscall(SYS_CLOSE, [fd as u32, 0, 0, 0, 0, 0]);
}

pub fn read(fd: i32, buf: &mut [u8]) -> Result<usize, i32> {
    check(syscall(
        SYS_READ,
        [
            fd as u32,
            buf.as_mut_ptr() as u32,
            buf.len() as u32,
            0,
            0,
            0,
        ],
    ))
    .map(|n| (n as usize).min(buf.len()))
}

/// Writes all of `bytes` (or gives up on an error: nowhere to report it).
pub fn write_all(fd: i32, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        match check(syscall(
            SYS_WRITE,
            [
                fd as u32,
                bytes.as_ptr() as u32,
                bytes.len() as u32,
                0,
                0,
                0,
            ],
        )) {
            Ok(0) => return,
            Ok(n) => bytes = &bytes[(n as usize).min(bytes.len())..],
            Err(EINTR) => {}
            Err(_) => return,
        }
    }
}

/// An ioctl whose argument is a buffer `arg` of the size `request` encodes.
pub fn ioctl(fd: i32, request: u32, arg: *mut u8) -> Result<u32, i32> {
    check(syscall(
        SYS_IOCTL,
        [fd as u32, request, arg as u32, 0, 0, 0],
    ))
}

/// `EVIOCGNAME(len)`: `_IOC(_IOC_READ, 'E', 0x06, len)`.
pub const fn eviocgname(len: usize) -> u32 {
    (2 << 30) | ((len as u32) << 16) | ((b'E' as u32) << 8) | 0x06
}

/// Maps `size` bytes of `fd` from page `page` read-only and shared.
pub fn mmap2_read_shared(fd: i32, size: usize, page: usize) -> Result<*const u8, i32> {
    check(syscall(
        SYS_MMAP2,
        [
            0,
            size as u32,
            PROT_READ,
            MAP_SHARED,
            fd as u32,
            page as u32,
        ],
    ))
    .map(|address| address as usize as *const u8)
}
