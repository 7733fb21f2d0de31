//! The boards a system description may name, from their own crates.

use mvm_board::Board;

/// Every known board. The data lives in the board crates (one source for
/// the generator and the kernel image).
pub const BOARDS: &[&Board] = &[&board_qemu_vexpress::BOARD, &board_zc702::BOARD];

pub fn by_name(name: &str) -> Option<&'static Board> {
    BOARDS.iter().copied().find(|b| b.name == name)
}

pub fn names() -> Vec<&'static str> {
    BOARDS.iter().map(|b| b.name).collect()
}

/// The 4 KiB MPCore private page of a board (SCU, GIC CPU interface,
/// global and private timers), which every direct-mapped guest gets as
/// Device memory (see `directmap`).
pub fn cpu_interface_page(name: &str) -> Option<u64> {
    let gicc = match name {
        n if n == board_qemu_vexpress::BOARD.name => board_qemu_vexpress::GICC_BASE,
        n if n == board_zc702::BOARD.name => board_zc702::GICC_BASE,
        _ => return None,
    };
    Some(gicc as u64 & !0xFFF)
}

/// A board's MPCore global timer, as guests read it: its register base
/// and its rate (PERIPHCLK).
pub fn global_timer(name: &str) -> Option<(u64, u32)> {
    match name {
        n if n == board_qemu_vexpress::BOARD.name => Some((
            board_qemu_vexpress::GLOBAL_TIMER_BASE as u64,
            board_qemu_vexpress::PERIPHCLK_HZ,
        )),
        n if n == board_zc702::BOARD.name => Some((
            board_zc702::GLOBAL_TIMER_BASE as u64,
            board_zc702::PERIPHCLK_HZ,
        )),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_never_share_a_mib_with_ram_and_tables_fit_their_area() {
        for b in BOARDS {
            for d in b.devices {
                let (first, last) = (d.regs.base >> 20, (d.regs.end() - 1) >> 20);
                assert!(
                    !b.ram.overlaps(first << 20, (last - first + 1) << 20),
                    "{} {}",
                    b.name,
                    d.name
                );
            }
            assert_eq!(
                b.table_area.base % (16 << 10),
                0,
                "L1 tables are 16 KiB aligned"
            );
            assert!(b.ram.contains_range(b.table_area.base, b.table_area.size));
            let x = b.guest_exclusion();
            assert!(x.contains_range(b.table_area.base, b.table_area.size));
        }
        assert_eq!(
            board_zc702::BOARD.guest_exclusion(),
            mvm_board::PhysRange::new(0, 0x0410_0000)
        );
        assert_eq!(cpu_interface_page("zc702"), Some(0xF8F0_0000));
        assert_eq!(cpu_interface_page("qemu-vexpress-a9"), Some(0x1E00_0000));
    }
}
