//! `print!`/`println!` over the console-write hypercall, a line at a time.

use core::fmt;

use crate::hypercall::{self, abi};

const CHUNK: usize = abi::CONSOLE_WRITE_MAX as usize;

/// Collects formatted text on the stack and hands it to the monitor at each
/// newline (or every [`abi::CONSOLE_WRITE_MAX`] bytes), so that a line
/// usually costs one hypercall and exception handlers can print too.
pub struct Console {
    buffer: [u8; CHUNK],
    len: usize,
}

impl Default for Console {
    fn default() -> Self {
        Self::new()
    }
}

impl Console {
    pub const fn new() -> Self {
        Self {
            buffer: [0; CHUNK],
            len: 0,
        }
    }

    /// Hands everything buffered to the monitor.
    pub fn flush(&mut self) {
        if self.len > 0 {
            // A refusal cannot happen for a buffer on our own stack; there
            // is nowhere else to report it anyway.
            let _ = hypercall::console_write(&self.buffer[..self.len]);
            self.len = 0;
        }
    }
}

impl fmt::Write for Console {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        for &b in s.as_bytes() {
            self.buffer[self.len] = b;
            self.len += 1;
            if b == b'\n' || self.len == CHUNK {
                self.flush();
            }
        }
        Ok(())
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.flush();
    }
}

/// Prints to the MVM console (UART0, under the guest's name).
#[macro_export]
macro_rules! print {
    ($($arg:tt)*) => {{
        let mut console = $crate::console::Console::new();
        let _ = core::fmt::Write::write_fmt(&mut console, format_args!($($arg)*));
    }};
}

/// Prints a line to the MVM console (UART0, under the guest's name).
#[macro_export]
macro_rules! println {
    () => { $crate::print!("\n") };
    ($($arg:tt)*) => {{
        let mut console = $crate::console::Console::new();
        let _ = core::fmt::Write::write_fmt(&mut console, format_args!($($arg)*));
        let _ = core::fmt::Write::write_str(&mut console, "\n");
    }};
}
