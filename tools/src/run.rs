//! `cargo mvm run`: boot the image in QEMU and show every console.
//!
//! - QEMU `vexpress-a9,secure=on`, two cores, `-icount shift=0,sleep=off`:
//!   emulated time counts instructions (1 ns each), so runs are
//!   reproducible, and idle time is skipped rather than waited for.
//! - The monitor's console (UART0) is shown as it is; each other UART is
//!   shown line by line behind the name of the guest that owns it.
//! - `--for DURATION` ends the run after that much *emulated* time: the tool
//!   writes the duration into the monitor's `MVM_RUN_FOR_NS` before boot and
//!   the monitor ends the run itself: its last line is the verdict,
//!   `mvm: N deadline misses, M overruns in T` (plus any core that did not
//!   answer and any monitor fault), and its semihosting exit status says
//!   the same (`mvm_kernel::stats::EXIT_*`). Ctrl-C stops QEMU at once.
//! - Exit codes (README.md, "Running"): 0 healthy; 1 the description was
//!   rejected; 2 the run could not start; 3 a deadline was missed; 4 a core
//!   did not answer at the end; 5 a monitor fault stopped a core; 6 the
//!   monitor panicked or did not end the run; 7 a guest was not started
//!   (an image in its memory was not the one built).

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use mvm_kernel::stats;

use crate::EXIT_CANNOT_RUN;

/// Exit code of `run`: a deadline was missed.
pub const EXIT_DEADLINE_MISSED: u8 = 3;
/// Exit code of `run`: a shared core did not publish its figures.
pub const EXIT_CORE_SILENT: u8 = 4;
/// Exit code of `run`: a fault in the monitor stopped a core.
pub const EXIT_MONITOR_FAULT: u8 = 5;
/// Exit code of `run`: a guest was not started (an image in its memory
/// was not the one built).
pub const EXIT_GUEST_REFUSED: u8 = 7;
/// Exit code of `run`: the monitor panicked, or the run did not end.
pub const EXIT_MONITOR_BROKEN: u8 = 6;

/// The tool's exit code for the monitor's exit status (QEMU's exit code).
fn exit_code(status: Option<i32>) -> u8 {
    let Some(status) = status.and_then(|s| u32::try_from(s).ok()) else {
        return EXIT_MONITOR_BROKEN;
    };
    match status {
        stats::EXIT_HEALTHY => 0,
        stats::EXIT_DEADLINE_MISSED => EXIT_DEADLINE_MISSED,
        stats::EXIT_CORE_SILENT => EXIT_CORE_SILENT,
        stats::EXIT_MONITOR_FAULT => EXIT_MONITOR_FAULT,
        stats::EXIT_GUEST_REFUSED => EXIT_GUEST_REFUSED,
        _ => EXIT_MONITOR_BROKEN,
    }
}

/// The QEMU machine the `qemu-vexpress-a9` board describes.
const QEMU: &str = "qemu-system-arm";
/// UARTs of the vexpress-a9 motherboard; QEMU's serial port n is UART n.
const UARTS: usize = 4;

pub fn run(
    system: Option<PathBuf>,
    duration: Option<String>,
    no_build: bool,
    trace: Option<PathBuf>,
) -> ExitCode {
    let run_for = match duration.as_deref().map(mvm_config::units::parse_time) {
        None => None,
        Some(Ok(0)) => {
            eprintln!("error: --for must be longer than zero");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
        Some(Ok(ns)) => Some(ns),
        Some(Err(e)) => {
            eprintln!(
                "error: --for `{}`: {e} (write e.g. `1s` or `500ms`)",
                duration.unwrap_or_default()
            );
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    let built = if no_build {
        crate::image::prebuilt(system)
    } else {
        crate::image::build(system)
    };
    let built = match built {
        Ok(b) => b,
        Err(code) => return code,
    };
    if built.system.board.name != "qemu-vexpress-a9" {
        eprintln!(
            "error: system `{}` is for board `{}`, which QEMU cannot emulate with TrustZone; boot {} on the board (docs/boards/)",
            built.system.name,
            built.system.board.name,
            built.elf.display()
        );
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    if let Err(code) = ensure_qemu() {
        return code;
    }
    let code = boot(&built, run_for, trace.is_some());
    if let Some(file) = trace {
        let log = built.dir.join("run").join("uart0.log");
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        match crate::trace::chrome_json(&built.system, &text) {
            Ok((json, summary)) => {
                if let Err(e) = std::fs::write(&file, json) {
                    eprintln!("error: cannot write `{}`: {e}", file.display());
                    return ExitCode::from(EXIT_CANNOT_RUN);
                }
                eprintln!("     Trace: {summary} in {}", file.display());
            }
            Err(e) => {
                eprintln!("error: the trace: {e}");
                return ExitCode::from(EXIT_CANNOT_RUN);
            }
        }
    }
    code
}

/// Installs QEMU through apt-get when it is missing and we are root;
/// otherwise says exactly what to run.
pub fn ensure_qemu() -> Result<(), ExitCode> {
    let present = || {
        Command::new(QEMU)
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
    };
    if present() {
        return Ok(());
    }
    let root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0"));
    if root {
        eprintln!("   Installing {QEMU} (apt-get install qemu-system-arm)");
        let ok = Command::new("apt-get")
            .arg("update")
            .arg("-qq")
            .status()
            .is_ok_and(|s| s.success())
            && Command::new("apt-get")
                .args(["install", "-y", "-qq", "qemu-system-arm"])
                .env("DEBIAN_FRONTEND", "noninteractive")
                .status()
                .is_ok_and(|s| s.success());
        if ok && present() {
            return Ok(());
        }
    }
    eprintln!("error: {QEMU} is missing; install it with: sudo apt-get install qemu-system-arm");
    Err(ExitCode::from(EXIT_CANNOT_RUN))
}

fn boot(built: &crate::image::Built, run_for: Option<u64>, trace: bool) -> ExitCode {
    let run_dir = built.dir.join("run");
    if let Err(e) = std::fs::create_dir_all(&run_dir) {
        eprintln!("error: cannot create `{}`: {e}", run_dir.display());
        return ExitCode::from(EXIT_CANNOT_RUN);
    }
    let logs: Vec<PathBuf> = (0..UARTS)
        .map(|n| run_dir.join(format!("uart{n}.log")))
        .collect();
    for log in &logs {
        let _ = std::fs::remove_file(log);
    }
    let mut args: Vec<String> = [
        "-M",
        "vexpress-a9,secure=on",
        "-smp",
        "2",
        "-m",
        "1G",
        "-icount",
        "shift=0,sleep=off",
        "-display",
        "none",
        "-monitor",
        "none",
        "-semihosting-config",
        "enable=on,target=native",
        "-audiodev",
        "none,id=noaudio",
        "-global",
        "pl041.audiodev=noaudio",
        "-kernel",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    args.push(built.elf.display().to_string());
    // A Linux guest's console is interactive: a socket the tool relays
    // between this terminal and the UART (and into its log, which is shown
    // like every other UART's). QEMU waits for the tool to connect.
    let interactive = interactive_uart(&built.system);
    let socket = run_dir.join("console.sock");
    let _ = std::fs::remove_file(&socket);
    for (n, log) in logs.iter().enumerate() {
        args.push("-serial".into());
        if Some(n) == interactive {
            args.push("chardev:console".into());
            args.push("-chardev".into());
            args.push(format!(
                "socket,id=console,path={},server=on,wait=on",
                socket.display()
            ));
        } else {
            args.push(format!("file:{}", log.display()));
        }
    }
    match crate::image::in_place_loads(built) {
        Ok(loads) => {
            for (file, addr) in loads {
                args.push("-device".into());
                args.push(format!(
                    "loader,file={},addr={addr:#x},force-raw=on",
                    file.display()
                ));
            }
        }
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    if let Some(ns) = run_for {
        let elf = std::fs::read(&built.elf).unwrap_or_default();
        let Some(addr) = crate::image::symbol_address(&elf, "MVM_RUN_FOR_NS") else {
            eprintln!(
                "error: the monitor image has no MVM_RUN_FOR_NS symbol; cannot bound the run"
            );
            return ExitCode::from(1);
        };
        args.push("-device".into());
        args.push(format!("loader,addr={addr:#x},data={ns:#x},data-len=8"));
        if trace {
            let Some(addr) = crate::image::symbol_address(&elf, "MVM_TRACE") else {
                eprintln!("error: the monitor image has no MVM_TRACE symbol; cannot trace the run");
                return ExitCode::from(1);
            };
            args.push("-device".into());
            args.push(format!("loader,addr={addr:#x},data=0x1,data-len=8"));
        }
    }
    let names = uart_names(&built.system);
    eprintln!(
        "     Running `{}` in QEMU{}",
        built.system.name,
        run_for.map_or(String::new(), |ns| format!(
            " for {}",
            mvm_config::units::format_time(ns)
        ))
    );
    let mut child = match Command::new(QEMU).args(&args).stdin(Stdio::null()).spawn() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot start {QEMU}: {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    };
    if let Some(n) = interactive {
        if let Err(e) = relay_console(&socket, &logs[n], &mut child) {
            kill(&mut child);
            eprintln!("error: cannot reach the console of the Linux guest (uart{n}): {e}");
            return ExitCode::from(EXIT_CANNOT_RUN);
        }
    }
    let stop = Arc::new(AtomicBool::new(false));
    let flag = Arc::clone(&stop);
    let _ = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst));
    // A monitor that never ends a bounded run must not hang CI: allow far
    // more wall time than any healthy run needs.
    let deadline =
        run_for.map(|ns| Instant::now() + Duration::from_secs(60) + Duration::from_nanos(ns) * 30);
    let mut tails: Vec<Tail> = logs
        .iter()
        .zip(names)
        .enumerate()
        .map(|(i, (p, n))| Tail::new(i + 1, p.clone(), n))
        .collect();
    let outcome = loop {
        for t in &mut tails {
            t.poll(false);
        }
        // Ctrl-C in a terminal reaches QEMU too (same process group), so
        // QEMU may already be gone when the flag is seen.
        if stop.load(Ordering::SeqCst) {
            kill(&mut child);
            break Outcome::Interrupted;
        }
        match child.try_wait() {
            Ok(Some(_)) if stop.load(Ordering::SeqCst) => break Outcome::Interrupted,
            Ok(Some(status)) => break Outcome::Exited(status.code()),
            Ok(None) => {}
            Err(e) => break Outcome::Error(e.to_string()),
        }
        if deadline.is_some_and(|d| Instant::now() > d) {
            kill(&mut child);
            break Outcome::TimedOut;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    for t in &mut tails {
        t.poll(true);
    }
    // The monitor's verdict is the last line shown.
    for t in &mut tails {
        t.show_verdict();
    }
    match outcome {
        // The monitor's verdict is its last line: nothing is added to a
        // run it judged itself.
        Outcome::Exited(code) => match exit_code(code) {
            EXIT_MONITOR_BROKEN => {
                eprintln!(
                    "error: the monitor ended the run without a verdict (QEMU exit code {code:?}): see its last lines above"
                );
                ExitCode::from(EXIT_MONITOR_BROKEN)
            }
            code => ExitCode::from(code),
        },
        Outcome::Interrupted => {
            eprintln!("     Stopped by Ctrl-C");
            ExitCode::SUCCESS
        }
        Outcome::TimedOut => {
            eprintln!("error: the monitor did not end the run in time; QEMU was stopped");
            ExitCode::from(EXIT_MONITOR_BROKEN)
        }
        Outcome::Error(e) => {
            eprintln!("error: lost track of QEMU: {e}");
            ExitCode::from(EXIT_CANNOT_RUN)
        }
    }
}

/// The UART of the first Linux guest's console, which `run` makes
/// interactive.
fn interactive_uart(system: &mvm_config::model::System) -> Option<usize> {
    let console = system.guests.iter().find_map(|g| g.linux.as_ref())?.console;
    let n: usize = console.name.strip_prefix("uart")?.parse().ok()?;
    (n < UARTS).then_some(n)
}

/// Connects to QEMU's console socket (QEMU waits for it before it starts
/// the machine) and relays: what the UART sends goes to `log`, which is
/// shown like any other UART's; what this terminal types goes to the UART.
fn relay_console(
    socket: &std::path::Path,
    log: &std::path::Path,
    child: &mut Child,
) -> Result<(), String> {
    use std::os::unix::net::UnixStream;
    let started = Instant::now();
    let stream = loop {
        match UnixStream::connect(socket) {
            Ok(s) => break s,
            Err(e) => {
                if let Ok(Some(status)) = child.try_wait() {
                    return Err(format!("QEMU ended first ({status})"));
                }
                if started.elapsed() > Duration::from_secs(30) {
                    return Err(format!("`{}`: {e}", socket.display()));
                }
                std::thread::sleep(Duration::from_millis(20));
            }
        }
    };
    let mut from_uart = stream.try_clone().map_err(|e| e.to_string())?;
    let mut file = std::fs::File::create(log).map_err(|e| format!("`{}`: {e}", log.display()))?;
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = from_uart.read(&mut buf) {
            if n == 0 || file.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    let mut to_uart = stream;
    std::thread::spawn(move || {
        let mut buf = [0u8; 1024];
        let mut stdin = std::io::stdin().lock();
        while let Ok(n) = stdin.read(&mut buf) {
            if n == 0 || to_uart.write_all(&buf[..n]).is_err() {
                break;
            }
        }
    });
    Ok(())
}

enum Outcome {
    Exited(Option<i32>),
    Interrupted,
    TimedOut,
    Error(String),
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

/// The prefix of each UART's lines: nothing for the monitor's console, the
/// owning guest's name for a passthrough UART.
fn uart_names(system: &mvm_config::model::System) -> Vec<Option<String>> {
    (0..UARTS)
        .map(|n| {
            let device = format!("uart{n}");
            if n == 0 {
                return None;
            }
            let owner = system
                .guests
                .iter()
                .find(|g| g.devices.iter().any(|d| d.device.name == device));
            Some(owner.map_or(device, |g| g.name.clone()))
        })
        .collect()
}

/// The [`Tail::id`] of the UART whose partial line was shown last without
/// its end, or 0.
static DANGLING: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// A UART's bytes as shown: without carriage returns and terminal control
/// sequences (`ESC [ ... letter`: a shell asking for the cursor position).
fn printable(bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut escape = 0u8;
    for &b in bytes {
        match (escape, b) {
            (0, 0x1B) => escape = 1,
            (0, b'\r') => {}
            (0, _) => out.push(b),
            (1, b'[') => escape = 2,
            (1, _) => escape = 0,
            (_, 0x40..=0x7E) => escape = 0,
            _ => {}
        }
    }
    out
}

/// Follows one UART's log file and prints complete lines as they come.
struct Tail {
    /// 1 + its UART's number.
    id: usize,
    path: PathBuf,
    prefix: Option<String>,
    read: u64,
    partial: Vec<u8>,
    /// When the last bytes came: a partial line (a shell's prompt) is shown
    /// once the UART has been quiet for a while.
    last_data: Instant,
    /// The last bytes shown did not end a line: no prefix before the next.
    mid_line: bool,
    /// The monitor's summary line, held back until everything else is
    /// shown (the guests' UARTs are read separately and may still hold
    /// lines written before it).
    verdict: Option<Vec<u8>>,
}

/// The monitor's closing summary line (`mvm: N deadline misses, ...`).
fn is_verdict(line: &[u8]) -> bool {
    line.starts_with(b"mvm: ")
        && line
            .windows(b" deadline miss".len())
            .any(|w| w == b" deadline miss")
}

impl Tail {
    fn new(id: usize, path: PathBuf, prefix: Option<String>) -> Self {
        Self {
            id,
            path,
            prefix,
            read: 0,
            partial: Vec::new(),
            last_data: Instant::now(),
            mid_line: false,
            verdict: None,
        }
    }

    /// Shows the held-back summary line, if any.
    fn show_verdict(&mut self) {
        if let Some(line) = self.verdict.take() {
            let mut out = std::io::stdout().lock();
            self.emit(&mut out, &line);
            let _ = out.flush();
        }
    }

    fn poll(&mut self, last: bool) {
        let mut new = Vec::new();
        if let Ok(mut f) = std::fs::File::open(&self.path) {
            use std::io::Seek;
            if f.seek(std::io::SeekFrom::Start(self.read)).is_ok() {
                let _ = f.read_to_end(&mut new);
            }
        }
        self.read += new.len() as u64;
        if !new.is_empty() {
            self.last_data = Instant::now();
        }
        self.partial.extend_from_slice(&new);
        let mut out = std::io::stdout().lock();
        while let Some(i) = self.partial.iter().position(|&b| b == b'\n') {
            let line: Vec<u8> = self.partial.drain(..=i).collect();
            if self.prefix.is_none() && is_verdict(&line) {
                self.verdict = Some(line);
                continue;
            }
            // The trace's lines go to its file, not the terminal.
            if self.prefix.is_none() && line.starts_with(b"mvm-trace ") {
                continue;
            }
            self.emit(&mut out, &line);
        }
        if last && !self.partial.is_empty() {
            let mut line = std::mem::take(&mut self.partial);
            line.push(b'\n');
            self.emit(&mut out, &line);
        } else if !self.partial.is_empty()
            && self.prefix.is_some()
            && self.last_data.elapsed() > Duration::from_millis(300)
        {
            let part = std::mem::take(&mut self.partial);
            self.emit(&mut out, &part);
        }
        let _ = out.flush();
    }

    fn emit(&mut self, out: &mut impl Write, line: &[u8]) {
        let line = printable(line);
        // Another UART's partial line (a prompt) is ended first; this one's
        // continues where it stopped.
        let dangling = DANGLING.load(Ordering::Relaxed);
        if dangling != 0 && dangling != self.id {
            let _ = out.write_all(b"\n");
        }
        if let Some(p) = &self.prefix {
            if !(self.mid_line && dangling == self.id) {
                let _ = write!(out, "[{p}] ");
            }
        }
        let _ = out.write_all(&line);
        self.mid_line = !line.ends_with(b"\n");
        DANGLING.store(if self.mid_line { self.id } else { 0 }, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn terminal_control_sequences_are_not_shown() {
        assert_eq!(printable(b"/ # \x1b[6n"), b"/ # ");
        assert_eq!(printable(b"a\r\nb\x1b[1;31mred\x1b[0m\n"), b"a\nbred\n");
        assert_eq!(printable(b"\x1bXkeep"), b"keep");
    }

    #[test]
    fn the_verdict_is_recognised() {
        assert!(is_verdict(b"mvm: 0 deadline misses, 3 overruns in 1 s\n"));
        assert!(is_verdict(b"mvm: 1 deadline miss, 0 overruns in 2 s\n"));
        assert!(!is_verdict(b"mvm: run ended after 1000 ns\n"));
        assert!(!is_verdict(b"[logger] mvm: 0 deadline misses\n"));
    }

    #[test]
    fn the_monitors_verdict_becomes_the_exit_code() {
        assert_eq!(exit_code(Some(0)), 0);
        assert_eq!(exit_code(Some(3)), EXIT_DEADLINE_MISSED);
        assert_eq!(exit_code(Some(4)), EXIT_CORE_SILENT);
        assert_eq!(exit_code(Some(5)), EXIT_MONITOR_FAULT);
        assert_eq!(exit_code(Some(7)), EXIT_GUEST_REFUSED);
        assert_eq!(exit_code(Some(101)), EXIT_MONITOR_BROKEN, "a panic");
        assert_eq!(exit_code(Some(1)), EXIT_MONITOR_BROKEN);
        assert_eq!(exit_code(None), EXIT_MONITOR_BROKEN, "killed by a signal");
    }
}
