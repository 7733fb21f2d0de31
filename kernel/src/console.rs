//! The guests' shared console: whole lines, each under its guest's name.
//!
//! - Guests write any bytes in any pieces; the monitor keeps a partial line
//!   per writer and emits only whole lines, so lines from different cores
//!   never interleave within a line on UART0.
//! - A guest cannot forge a monitor line or repaint the terminal: every line
//!   gets its prefix, and control characters (including carriage return and
//!   escape) are shown as `?`.
#![forbid(unsafe_code)]

/// Longest line emitted in one piece; a longer line is split.
pub const LINE_MAX: usize = 200;

/// One writer's partial line.
pub struct LineBuffer {
    bytes: [u8; LINE_MAX],
    len: usize,
}

impl Default for LineBuffer {
    fn default() -> Self {
        Self::new()
    }
}

impl LineBuffer {
    pub const fn new() -> Self {
        Self {
            bytes: [0; LINE_MAX],
            len: 0,
        }
    }

    /// Appends `input`; calls `emit` with each completed line, without its
    /// newline (a full buffer counts as a completed line).
    pub fn push(&mut self, input: &[u8], mut emit: impl FnMut(&[u8])) {
        for &b in input {
            if b == b'\n' {
                emit(&self.bytes[..self.len]);
                self.len = 0;
                continue;
            }
            self.bytes[self.len] = sanitize(b);
            self.len += 1;
            if self.len == LINE_MAX {
                emit(&self.bytes[..self.len]);
                self.len = 0;
            }
        }
    }

    /// Emits what is left of a partial line, if anything.
    pub fn flush(&mut self, mut emit: impl FnMut(&[u8])) {
        if self.len > 0 {
            emit(&self.bytes[..self.len]);
            self.len = 0;
        }
    }

    /// Whether a partial line is waiting.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Tab and printable bytes pass (including UTF-8 sequences); other control
/// characters become `?`.
fn sanitize(b: u8) -> u8 {
    match b {
        b'\t' | 0x20..=0x7E | 0x80.. => b,
        _ => b'?',
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(buffer: &mut LineBuffer, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        buffer.push(input, |l| out.push(String::from_utf8_lossy(l).into_owned()));
        out
    }

    #[test]
    fn whole_lines_only() {
        let mut b = LineBuffer::new();
        assert!(lines(&mut b, b"hel").is_empty());
        assert!(!b.is_empty());
        assert_eq!(lines(&mut b, b"lo\nwor"), ["hello"]);
        assert_eq!(lines(&mut b, b"ld\n\nx\n"), ["world", "", "x"]);
        assert!(b.is_empty());
    }

    #[test]
    fn long_lines_are_split() {
        let mut b = LineBuffer::new();
        let input = vec![b'a'; LINE_MAX * 2 + 3];
        let out = lines(&mut b, &input);
        assert_eq!(out.len(), 2);
        assert!(out.iter().all(|l| l.len() == LINE_MAX));
        let mut rest = Vec::new();
        b.flush(|l| rest.push(l.to_vec()));
        assert_eq!(rest, [b"aaa".to_vec()]);
        b.flush(|_| panic!("nothing left"));
    }

    #[test]
    fn control_characters_cannot_forge_output() {
        let mut b = LineBuffer::new();
        assert_eq!(
            lines(&mut b, b"ok\r[control] fake\x1b[2J\x00\x7f\ttab \xc3\xa9\n"),
            ["ok?[control] fake?[2J??\ttab é"]
        );
    }
}
