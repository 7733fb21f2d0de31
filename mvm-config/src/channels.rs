//! Channels (`[[channel]]`): the rules, where their memory goes, and which
//! line notifies each reader (docs/channels.md).
//!
//! - Every communication path between partitions is declared: a channel
//!   has one writer and one reader, both guests of the system, and nothing
//!   else maps its memory.
//! - The build places the memory, not the user: channels are packed in
//!   declaration order, each on a 4 KiB boundary, in the channel area (the
//!   board's, or `[system] channel_area`), which must collide with nothing
//!   (guest memory, the monitor, the table area, a device) and hold them
//!   all.
//! - A notified reader gets one of the board's `notify_lines`, in
//!   declaration order. Only an SRT reader can be notified: the monitor on
//!   its core polls the doorbell at every scheduling event and sets the
//!   line pending, so an HRT core, whichever end it is, never sees the
//!   monitor. An HRT reader polls (`notify = false`).

use mvm_board::PhysRange;

use crate::diag::{suggest, Diagnostic, ErrorKind, Span};
use crate::model::{Channel, Level, System};
use crate::raw::{Located, RawArea, RawChannel};
use crate::units::{format_range, format_size};

/// The largest channel: the ring's indices and the reader's bounded work
/// are sized for it, and a direct map gives a channel one L2 table.
pub const MAX_SIZE: u64 = 1 << 20;
/// A channel's granule: a page, the unit of mapping and protection.
pub const GRANULE: u64 = 4 << 10;
const MIB: u64 = 1 << 20;

fn rule(code: &'static str, message: String, span: Span, label: impl Into<String>) -> Diagnostic {
    Diagnostic::new(ErrorKind::ChannelRule { code, message }, span, label)
}

/// Checks `raw` against the validated `system` (whose `channels` are still
/// empty) and places the channels; `None` when a rule failed, each failure
/// reported into `diags`.
pub fn check(
    raw: &[RawChannel],
    raw_area: Option<&Located<RawArea>>,
    system: &System,
    diags: &mut Vec<Diagnostic>,
) -> Option<(Vec<Channel>, PhysRange)> {
    let before = diags.len();
    let area = area(raw_area, system, diags);
    let names: Vec<&str> = system.guests.iter().map(|g| g.name.as_str()).collect();
    let guest = |v: &Located<String>, channel: &str, key: &str, diags: &mut Vec<Diagnostic>| {
        let found = system.guests.iter().position(|g| g.name == v.value);
        if found.is_none() {
            let mut d = rule(
                "channel-unknown-guest",
                format!(
                    "the {key} of channel `{channel}`, `{}`, is not a guest of this system",
                    v.value
                ),
                v.span.clone(),
                "no [[guest]] has this name",
            );
            if let Some(s) = suggest(&v.value, &names) {
                d = d.with_help(format!("did you mean `{s}`?"));
            }
            diags.push(d);
        }
        found
    };
    let mut channels = Vec::new();
    let mut lines = system.board.notify_lines.iter();
    let mut next = area.map(|a| a.base);
    let max = mvm_kernel::channels::MAX_CHANNELS;
    if let Some(c) = raw.get(max) {
        diags.push(
            rule(
                "channel-too-many",
                format!(
                    "this system declares {} channels; the monitor keeps the state of {max} at most",
                    raw.len()
                ),
                c.span.clone(),
                format!("channel {} of {}", max + 1, raw.len()),
            )
            .with_help("merge channels between the same two guests: one ring carries messages of any kind a `zerocopy` enum or union can describe"),
        );
    }
    for (i, c) in raw.iter().enumerate() {
        let Some(name) = &c.name else { continue };
        if let Some(first) = raw[..i]
            .iter()
            .filter_map(|o| o.name.as_ref())
            .find(|o| o.value == name.value)
        {
            diags.push(
                rule(
                    "duplicate-channel",
                    format!("channel `{}` is declared twice", name.value),
                    name.span.clone(),
                    "declared again here",
                )
                .with_secondary(first.span.clone(), "first declared here"),
            );
            continue;
        }
        let writer = c
            .writer
            .as_ref()
            .and_then(|w| guest(w, &name.value, "writer", diags));
        let reader = c
            .reader
            .as_ref()
            .and_then(|r| guest(r, &name.value, "reader", diags));
        let size = c.size.as_ref().and_then(|s| size(s, &name.value, diags));
        let notify = c.notify.as_ref().is_none_or(|n| n.value);
        let (Some(writer), Some(reader), Some(size)) = (writer, reader, size) else {
            continue;
        };
        if writer == reader {
            let r = c.reader.as_ref().expect("resolved above");
            diags.push(
                rule(
                    "channel-same-guest",
                    format!(
                        "channel `{}` has `{}` as both its writer and its reader",
                        name.value, r.value
                    ),
                    r.span.clone(),
                    "the writer again",
                )
                .with_help(
                    "a channel connects two partitions; a guest needs none to talk to itself",
                ),
            );
            continue;
        }
        let r = &system.guests[reader];
        let mut irq = None;
        if notify {
            if r.level == Level::Hrt {
                let span = c
                    .notify
                    .as_ref()
                    .map_or_else(|| c.span.clone(), |n| n.span.clone());
                diags.push(
                    rule(
                        "channel-notify-hrt",
                        format!(
                            "channel `{}` would notify `{}`, an HRT guest, but an HRT guest cannot be notified: its core never enters the monitor, and a Group 0 line set pending for it could never be acknowledged by a Non-secure guest",
                            name.value, r.name
                        ),
                        span,
                        if c.notify.is_some() { "notify = true" } else { "`notify` is true unless set" },
                    )
                    .with_help("set `notify = false` and have the HRT guest poll the channel (in its own timer's handler, say)"),
                );
                continue;
            }
            irq = lines.next().copied();
            if irq.is_none() {
                diags.push(
                    rule(
                        "channel-no-line",
                        format!(
                            "channel `{}` would notify `{}`, but the board's {} notification lines ({}) are taken by the channels declared before it",
                            name.value,
                            r.name,
                            system.board.notify_lines.len(),
                            system.board.notify_lines.iter().map(u32::to_string).collect::<Vec<_>>().join(", ")
                        ),
                        c.span.clone(),
                        "no line left for this channel",
                    )
                    .with_help("set `notify = false` on a channel whose reader can poll"),
                );
                continue;
            }
        }
        let Some(base) = next else { continue };
        next = Some((base + size).next_multiple_of(GRANULE));
        channels.push(Channel {
            name: name.value.clone(),
            writer,
            reader,
            base,
            size,
            notify,
            irq,
            span: c.span.clone(),
        });
    }
    if let (Some(area), Some(end)) = (area, next) {
        if end > area.end() {
            let total: u64 = channels.iter().map(|c| c.size).sum();
            diags.push(
                rule(
                    "channel-area-full",
                    format!(
                        "the channels need {} but the channel area {} holds {}",
                        format_size(end - area.base),
                        format_range(area.base, area.size),
                        format_size(area.size)
                    ),
                    raw_area.map_or_else(
                        || raw.last().map_or(0..0, |c| c.span.clone()),
                        |a| a.span.clone(),
                    ),
                    format!("{} of channels", format_size(total)),
                )
                .with_help("make the channels smaller, or set a larger `channel_area = { base, size }` in [system]"),
            );
        }
    }
    (diags.len() == before).then(|| (channels, area.expect("no error, so an area")))
}

fn size(
    s: &Located<crate::raw::RawSize>,
    channel: &str,
    diags: &mut Vec<Diagnostic>,
) -> Option<u64> {
    let bytes = crate::validate::size(s, diags)?;
    if bytes == 0 || bytes % GRANULE != 0 {
        diags.push(
            rule(
                "channel-size",
                if bytes == 0 {
                    format!("channel `{channel}` has a size of zero")
                } else {
                    format!(
                        "channel `{channel}` is {} long, which is not a whole number of 4 KiB pages",
                        format_size(bytes)
                    )
                },
                s.span.clone(),
                "not a multiple of 4 KiB",
            )
            .with_help(format!(
                "a channel is mapped and protected page by page: try \"{}\"",
                format_size(bytes.div_ceil(GRANULE).max(1) * GRANULE)
            )),
        );
        return None;
    }
    if bytes > MAX_SIZE {
        diags.push(
            rule(
                "channel-too-large",
                format!(
                    "channel `{channel}` is {}, more than the largest channel, {}",
                    format_size(bytes),
                    format_size(MAX_SIZE)
                ),
                s.span.clone(),
                "too large",
            )
            .with_help("a channel carries messages, not bulk data: 1 MiB holds thousands of them"),
        );
        return None;
    }
    Some(bytes)
}

/// The channel area: `[system] channel_area` or the board's; checked to be
/// whole MiBs of RAM that nothing else uses.
fn area(
    raw: Option<&Located<RawArea>>,
    system: &System,
    diags: &mut Vec<Diagnostic>,
) -> Option<PhysRange> {
    let board = system.board;
    let (area, span) = match raw {
        None => (board.channel_area, None),
        Some(a) => {
            let base = a.value.base.as_ref()?;
            let size = crate::validate::size(a.value.size.as_ref()?, diags)?;
            let Ok(b) = u64::try_from(base.value) else {
                diags.push(rule(
                    "channel-area-misaligned",
                    format!("`channel_area` starts at {}, not an address", base.value),
                    base.span.clone(),
                    "not an address",
                ));
                return None;
            };
            (PhysRange::new(b, size), Some(a.span.clone()))
        }
    };
    let span_or_file = span.clone().unwrap_or(0..0);
    let what = if span.is_some() {
        "the channel area"
    } else {
        "the board's channel area"
    };
    if area.base % MIB != 0 || area.size % MIB != 0 || area.size == 0 {
        diags.push(
            rule(
                "channel-area-misaligned",
                format!(
                    "{what} {} is not whole MiBs on a MiB boundary",
                    format_range(area.base, area.size)
                ),
                span_or_file,
                "not MiB-aligned",
            )
            .with_help("a direct-mapped guest maps RAM in 1 MiB sections, so the channel area may share no MiB with guest memory: give a base and a size in whole MiBs"),
        );
        return None;
    }
    let before = diags.len();
    let mut collides = |with: String, other: Option<Span>| {
        // Point at the area when the description sets it, else at what it
        // collides with.
        let (primary, secondary) = match (&span, other) {
            (None, Some(o)) => (o, None),
            (_, o) => (span_or_file.clone(), o),
        };
        let mut d = rule(
            "channel-area-overlap",
            format!(
                "{what} {} overlaps {with}",
                format_range(area.base, area.size)
            ),
            primary,
            if span.is_some() { "the channels' memory would go here" } else { "overlaps the board's channel area" },
        )
        .with_help(format!(
            "set `channel_area = {{ base = ..., size = \"1MiB\" }}` in [system] to RAM that no guest, device or the monitor uses (the board's is {})",
            format_range(board.channel_area.base, board.channel_area.size)
        ));
        if let Some(o) = secondary {
            d = d.with_secondary(o, "this");
        }
        diags.push(d);
    };
    if !board.ram.contains_range(area.base, area.size) {
        collides(
            format!(
                "what is not RAM (RAM is {})",
                format_range(board.ram.base, board.ram.size)
            ),
            None,
        );
    }
    let m = board.guest_exclusion();
    if m.overlaps(area.base, area.size) {
        collides(
            format!(
                "the monitor's reservation and translation tables {}",
                format_range(m.base, m.size)
            ),
            None,
        );
    }
    for g in &system.guests {
        for r in &g.memory {
            if area.overlaps(r.base, r.size) {
                collides(
                    format!(
                        "region `{}` of guest `{}` {}",
                        r.name,
                        g.name,
                        format_range(r.base, r.size)
                    ),
                    Some(r.span.clone()),
                );
            }
        }
    }
    for d in board.devices {
        if area.overlaps(d.regs.base, d.regs.size) {
            collides(
                format!(
                    "device `{}` {}",
                    d.name,
                    format_range(d.regs.base, d.regs.size)
                ),
                None,
            );
        }
    }
    (diags.len() == before).then_some(area)
}

/// The longest a notification can wait, in ns, from the writer's doorbell
/// to the reader's handler, as the schedule bounds it (docs/channels.md):
/// the reader's next switch-in or the next scheduling event while it runs,
/// at most its period plus its deadline minus its budget. `None` for a
/// reader that is not notified or has no server.
pub fn notify_bound(system: &System, channel: &Channel) -> Option<u64> {
    if !channel.notify {
        return None;
    }
    let p = system.guests[channel.reader].server?;
    Some(p.period + p.deadline - p.budget)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SYSTEM: &str = r#"
[system]
name = "t"
board = "qemu-vexpress-a9"
[[guest]]
name = "control"
level = "hrt"
core = 0
image = "x"
memory = [ { name = "ram", base = 0x7000_0000, size = "16MiB" } ]
[[guest]]
name = "telemetry"
level = "srt"
core = 1
image = "x"
period = "10ms"
budget = "3ms"
deadline = "8ms"
memory = [ { name = "ram", base = 0x7200_0000, size = "16MiB" } ]
[[channel]]
name = "samples"
writer = "control"
reader = "telemetry"
size = "8KiB"
[[channel]]
name = "commands"
writer = "telemetry"
reader = "control"
size = "4KiB"
notify = false
[[channel]]
name = "more"
writer = "control"
reader = "telemetry"
size = "4KiB"
"#;

    #[test]
    fn channels_are_packed_in_the_area_in_order_and_notified_readers_get_lines_in_order() {
        let checked = crate::check(SYSTEM);
        assert!(checked.diagnostics.is_empty(), "{:?}", checked.diagnostics);
        let system = checked.system.expect("valid");
        let placed: Vec<_> = system
            .channels
            .iter()
            .map(|c| (c.name.as_str(), c.writer, c.reader, c.base, c.size, c.irq))
            .collect();
        assert_eq!(
            placed,
            [
                ("samples", 0, 1, 0x9FF0_0000, 0x2000, Some(75)),
                ("commands", 1, 0, 0x9FF0_2000, 0x1000, None),
                ("more", 0, 1, 0x9FF0_3000, 0x1000, Some(77)),
            ]
        );
        let ends: Vec<_> = system
            .channel_ends(0)
            .map(|(c, w)| (c.name.as_str(), w))
            .collect();
        assert_eq!(
            ends,
            [("samples", true), ("commands", false), ("more", true)]
        );
        // P + D - B of the reader's server: 10 + 8 - 3 ms.
        assert_eq!(notify_bound(&system, &system.channels[0]), Some(15_000_000));
        assert_eq!(notify_bound(&system, &system.channels[1]), None);
    }

    #[test]
    fn a_system_without_channels_keeps_the_boards_area_and_has_none() {
        let text = SYSTEM.split("[[channel]]").next().expect("prefix");
        let system = crate::check(text).system.expect("valid");
        assert!(system.channels.is_empty());
        assert_eq!(system.channel_area, system.board.channel_area);
    }
}
