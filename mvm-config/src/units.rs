//! Times and sizes written with units: strict, exact, overflow-checked.
//!
//! - A time is a string: a whole number and a unit (`ns`, `us`, `ms`, `s`),
//!   such as `"250us"`. There is no default unit and no fraction, so nothing
//!   is ever rounded.
//! - A size is a whole number of bytes, or a string with `KiB`, `MiB`, `GiB`
//!   (or `B`).
//! - `_` may separate digits, as in TOML integers (`"1_500us"`).

use core::fmt;

/// Why a time or size string was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum UnitError {
    /// Nothing but spaces.
    Empty,
    /// A number with no unit, such as `"10"`.
    MissingUnit,
    /// A unit that is not one of the known ones.
    UnknownUnit(String),
    /// A unit with no number in front, such as `"ms"`.
    MissingNumber,
    /// A decimal point or other non-digit in the number.
    NotAWholeNumber(String),
    /// The value does not fit the 64-bit count of nanoseconds or bytes.
    Overflow,
}

impl fmt::Display for UnitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnitError::Empty => write!(f, "the value is empty"),
            UnitError::MissingUnit => write!(f, "the number has no unit"),
            UnitError::UnknownUnit(u) => write!(f, "`{u}` is not a known unit"),
            UnitError::MissingNumber => write!(f, "there is no number before the unit"),
            UnitError::NotAWholeNumber(n) => write!(f, "`{n}` is not a whole number"),
            UnitError::Overflow => write!(f, "the value is too large (it must fit in 64 bits)"),
        }
    }
}

/// The time units, smallest first, with their length in nanoseconds.
pub const TIME_UNITS: &[(&str, u64)] = &[
    ("ns", 1),
    ("us", 1_000),
    ("ms", 1_000_000),
    ("s", 1_000_000_000),
];

/// The size units, with their length in bytes.
pub const SIZE_UNITS: &[(&str, u64)] = &[
    ("B", 1),
    ("KiB", 1 << 10),
    ("MiB", 1 << 20),
    ("GiB", 1 << 30),
];

/// Parses a time such as `"10ms"` into nanoseconds.
pub fn parse_time(text: &str) -> Result<u64, UnitError> {
    parse_with_units(text, TIME_UNITS)
}

/// Parses a size string such as `"16MiB"` into bytes.
pub fn parse_size(text: &str) -> Result<u64, UnitError> {
    parse_with_units(text, SIZE_UNITS)
}

fn parse_with_units(text: &str, units: &[(&str, u64)]) -> Result<u64, UnitError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(UnitError::Empty);
    }
    let split = text
        .find(|c: char| !(c.is_ascii_digit() || c == '_' || c == '.' || c == '-' || c == '+'))
        .unwrap_or(text.len());
    let (number, unit) = (&text[..split], text[split..].trim_start());
    if unit.is_empty() {
        return Err(UnitError::MissingUnit);
    }
    let scale = units
        .iter()
        .find(|(name, _)| *name == unit)
        .map(|&(_, scale)| scale)
        .ok_or_else(|| UnitError::UnknownUnit(unit.to_string()))?;
    if number.is_empty() {
        return Err(UnitError::MissingNumber);
    }
    let value = parse_whole(number)?;
    value.checked_mul(scale).ok_or(UnitError::Overflow)
}

/// A run of decimal digits, `_` allowed between them as in TOML.
fn parse_whole(number: &str) -> Result<u64, UnitError> {
    let well_formed = number.bytes().all(|b| b.is_ascii_digit() || b == b'_')
        && !number.starts_with('_')
        && !number.ends_with('_')
        && !number.contains("__");
    if !well_formed {
        return Err(UnitError::NotAWholeNumber(number.to_string()));
    }
    number
        .bytes()
        .filter(|b| b.is_ascii_digit())
        .try_fold(0u64, |acc, digit| {
            acc.checked_mul(10)
                .and_then(|acc| acc.checked_add(u64::from(digit - b'0')))
                .ok_or(UnitError::Overflow)
        })
}

/// Formats nanoseconds with the largest unit that keeps the value whole,
/// so that what is printed parses back to the same number.
pub fn format_time(ns: u64) -> String {
    let (name, scale) = TIME_UNITS
        .iter()
        .rev()
        .find(|(_, scale)| ns.is_multiple_of(*scale) && ns != 0)
        .copied()
        .unwrap_or(("ns", 1));
    format!("{}{name}", ns / scale)
}

/// Formats a byte count with the largest unit that keeps the value whole.
pub fn format_size(bytes: u64) -> String {
    let (name, scale) = SIZE_UNITS
        .iter()
        .rev()
        .find(|(_, scale)| bytes.is_multiple_of(*scale) && bytes != 0)
        .copied()
        .unwrap_or(("B", 1));
    format!("{}{name}", bytes / scale)
}

/// Formats a physical range as half-open hex: `[0x7000_0000..0x7100_0000)`.
pub fn format_range(base: u64, size: u64) -> String {
    format!("[{}..{})", hex(base), hex(base.saturating_add(size)))
}

/// Formats an address as hex with `_` between groups of four digits.
pub fn hex(value: u64) -> String {
    let digits = format!("{value:x}");
    let padded = format!(
        "{digits:0>width$}",
        width = digits.len().div_ceil(4).max(2) * 4
    );
    let groups: Vec<&str> = padded
        .as_bytes()
        .chunks(4)
        .map(|c| core::str::from_utf8(c).expect("hex digits are ASCII"))
        .collect();
    format!("0x{}", groups.join("_").to_uppercase())
}

/// Formats a fraction given in millionths as a percentage with two
/// decimals, rounded to the nearest hundredth of a percent, half up
/// (`899_950` is 90.00%, not 89.99%).
///
/// A caller that derives the millionths from an exact fraction should round
/// them down: flooring to a millionth and then rounding to a hundred
/// millionths gives the same result as rounding the exact fraction, since
/// the halfway points are whole millionths.
pub fn format_ppm(ppm: u64) -> String {
    let hundredths = ppm / 100 + u64::from(ppm % 100 >= 50);
    format!("{}.{:02}%", hundredths / 100, hundredths % 100)
}

/// A count and its noun, the noun singular for exactly one:
/// `plural(1, "page table", "page tables")` displays as `1 page table`,
/// `plural(0, …)` as `0 page tables`.
pub fn plural(n: u64, one: &'static str, many: &'static str) -> Plural {
    Plural {
        n,
        noun: noun(n, one, many),
    }
}

/// The noun alone, for a count written elsewhere (`interrupt 38`,
/// `interrupts 41, 42`).
pub fn noun(n: u64, one: &'static str, many: &'static str) -> &'static str {
    if n == 1 {
        one
    } else {
        many
    }
}

/// What [`plural`] returns: displays as the count, a space and the noun.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Plural {
    n: u64,
    noun: &'static str,
}

impl fmt::Display for Plural {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}", self.n, self.noun)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times() {
        assert_eq!(parse_time("250us"), Ok(250_000));
        assert_eq!(parse_time("10ms"), Ok(10_000_000));
        assert_eq!(parse_time("1s"), Ok(1_000_000_000));
        assert_eq!(parse_time("7ns"), Ok(7));
        assert_eq!(parse_time("1_500us"), Ok(1_500_000));
        assert_eq!(parse_time(" 3 ms "), Ok(3_000_000));
        assert_eq!(parse_time("0ms"), Ok(0));
    }

    #[test]
    fn bad_times() {
        assert_eq!(parse_time("10"), Err(UnitError::MissingUnit));
        assert_eq!(parse_time(""), Err(UnitError::Empty));
        assert_eq!(parse_time("ms"), Err(UnitError::MissingNumber));
        assert_eq!(
            parse_time("10 mins"),
            Err(UnitError::UnknownUnit("mins".into()))
        );
        assert_eq!(parse_time("10MS"), Err(UnitError::UnknownUnit("MS".into())));
        assert_eq!(
            parse_time("1.5ms"),
            Err(UnitError::NotAWholeNumber("1.5".into()))
        );
        assert_eq!(
            parse_time("-1ms"),
            Err(UnitError::NotAWholeNumber("-1".into()))
        );
        assert_eq!(
            parse_time("1__0ms"),
            Err(UnitError::NotAWholeNumber("1__0".into()))
        );
        assert_eq!(parse_time("18446744073710s"), Err(UnitError::Overflow));
        assert_eq!(
            parse_time("99999999999999999999ns"),
            Err(UnitError::Overflow)
        );
    }

    #[test]
    fn sizes() {
        assert_eq!(parse_size("16MiB"), Ok(16 << 20));
        assert_eq!(parse_size("4KiB"), Ok(4096));
        assert_eq!(parse_size("1GiB"), Ok(1 << 30));
        assert_eq!(parse_size("12B"), Ok(12));
        assert_eq!(parse_size("16MB"), Err(UnitError::UnknownUnit("MB".into())));
        assert_eq!(parse_size("17179869184GiB"), Err(UnitError::Overflow));
    }

    #[test]
    fn formatting_round_trips() {
        for ns in [1, 999, 1_000, 1_500_000, 10_000_000, 2_000_000_000] {
            assert_eq!(parse_time(&format_time(ns)), Ok(ns));
        }
        assert_eq!(format_time(1_500_000), "1500us");
        assert_eq!(format_size(16 << 20), "16MiB");
        assert_eq!(hex(0x7000_0000), "0x7000_0000");
        assert_eq!(hex(0x1_0000_0000), "0x0001_0000_0000");
        assert_eq!(
            format_range(0x7000_0000, 0x100_0000),
            "[0x7000_0000..0x7100_0000)"
        );
        assert_eq!(format_ppm(875_000), "87.50%");
        assert_eq!(format_ppm(1_000_000), "100.00%");
    }

    #[test]
    fn counted_nouns_are_singular_for_one() {
        assert_eq!(
            plural(1, "address space", "address spaces").to_string(),
            "1 address space"
        );
        assert_eq!(
            plural(2, "address space", "address spaces").to_string(),
            "2 address spaces"
        );
        assert_eq!(plural(0, "guest", "guests").to_string(), "0 guests");
        assert_eq!(noun(1, "interrupt", "interrupts"), "interrupt");
        assert_eq!(noun(3, "interrupt", "interrupts"), "interrupts");
    }

    #[test]
    fn percentages_round_to_nearest_half_up() {
        // Truncation would print 89.99% for the first three.
        assert_eq!(format_ppm(899_996), "90.00%");
        assert_eq!(format_ppm(899_960), "90.00%");
        assert_eq!(format_ppm(899_950), "90.00%", "half up");
        assert_eq!(format_ppm(899_949), "89.99%");
        assert_eq!(format_ppm(5_049), "0.50%");
        assert_eq!(format_ppm(49), "0.00%");
        assert_eq!(format_ppm(50), "0.01%");
        assert_eq!(
            format_ppm(999_950),
            "100.00%",
            "carries into the whole percent"
        );
        assert_eq!(format_ppm(1_000_001), "100.00%");
        assert_eq!(format_ppm(u64::MAX), "1844674407370955.16%", "no overflow");
    }
}
