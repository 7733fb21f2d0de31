//! Boot: core 0 prepares the system, then every core enters its guests.

use core::fmt::Write;
use core::sync::atomic::Ordering;

use mpcore::gic::Group;
use mpcore::scu::Scu;

use super::{say, Monitor, Platform, EXIT_MONITOR_PANIC, SGI_SNAPSHOT};
use crate::config::Guest;
use crate::context::{Cp15, GicCpu, GuestContext, TrapFrame};
use crate::edf::Params;
use crate::interrupts::Delivery;
use crate::plan::{self, CoreAction};
use crate::shadow::TableMemory;
use crate::state::{CoreState, GuestState, Role};
use crate::{arch, timing, GuestEntry, MAX_CORES};

/// The table area, addressed physically (the monitor's MMU is off).
pub(super) struct PhysicalTables;

impl TableMemory for PhysicalTables {
    fn read(&self, address: u32) -> u32 {
        // SAFETY: `shadow` computes addresses in the calling guest's pool
        // only (the generator placed it in the table area, outside every
        // guest region and the monitor image); physical, word aligned.
        unsafe { (address as usize as *const u32).read_volatile() }
    }
    fn write(&mut self, address: u32, word: u32) {
        // SAFETY: as for `read`.
        unsafe { (address as usize as *mut u32).write_volatile(word) }
    }
}

impl<P: Platform, const G: usize, const S: usize> Monitor<P, G, S> {
    /// The MPCore private page (GIC CPU interface, global timer): mapped
    /// for a shadow-paged guest as for a direct-mapped one
    /// (docs/memory.md); its channel ends too.
    pub(super) fn owned(guest: &Guest) -> crate::shadow::Owned<'_> {
        crate::shadow::Owned {
            ram: guest.regions,
            devices: guest.devices,
            cpu_page: Some(((P::MPCORE_BASE + mpcore::GICC_OFFSET) & !0xFFF) as u32),
            channels: guest.channels,
        }
    }

    /// Core 0, before the other cores start: console, banner, guest images,
    /// tables, distributor, SCU, run length, and every core's state.
    pub(super) fn boot_system(&'static self, states: &mut [CoreState<S>; MAX_CORES]) {
        {
            let mut console = self.console.lock();
            // SAFETY: the one console handle of the monitor, behind its lock
            // (fault and panic reports make their own, documented, exception).
            let uart = console.uart.insert(unsafe { P::console() });
            P::init_console(uart);
            let _ = plan::write_banner(uart, self.system, env!("CARGO_PKG_VERSION"));
        }
        if self.system.board != P::NAME {
            say!(
                self,
                "mvm: error: the system was generated for board `{}`, this image runs on `{}`",
                self.system.board,
                P::NAME
            );
            self.end_run(EXIT_MONITOR_PANIC);
        }

        // SAFETY: the SCU is configured once, here, by core 0.
        let scu = unsafe { Scu::new(P::MPCORE_BASE + mpcore::SCU_OFFSET) };
        scu.grant_non_secure();
        self.with_console(|uart| P::secure_devices(self.system, uart));

        let trace = P::LOADER_PARAMETERS && {
            // SAFETY: as for MVM_RUN_FOR_NS below.
            unsafe { core::ptr::read_volatile(&raw const super::MVM_TRACE) != 0 }
        };
        for st in states.iter_mut() {
            st.trace.on = trace;
        }
        let run_for_ns = if P::LOADER_PARAMETERS {
            // SAFETY: the loader wrote the parameter before reset, if at
            // all; nothing writes it while the monitor runs. Volatile: its
            // value is not the initialiser's.
            unsafe { core::ptr::read_volatile(&raw const super::MVM_RUN_FOR_NS) }
        } else {
            0
        };
        if run_for_ns != 0 {
            let ticks = timing::ns_to_ticks_ceil(run_for_ns, P::CLOCK).max(1);
            self.run_end_ticks.store(ticks, Ordering::Relaxed);
            let st = &mut states[self.run_timer_core() as usize];
            st.run_timer = true;
            st.run_end = ticks;
        }

        // The core whose timer ends a bounded run keeps its FIQs for the
        // monitor; elsewhere an HRT guest's lines are delivered as FIQ
        // (docs/interrupts.md).
        let monitor_timer_core = if run_for_ns != 0 {
            self.run_timer_core()
        } else {
            u32::MAX
        };
        self.monitor_timer_core
            .store(monitor_timer_core, Ordering::Relaxed);

        self.clear_channels();
        Self::GICD.disable();
        Self::GICD.reset_spis();
        let mut running = 0;
        let mut table_ticks = 0;
        let mut boot_spaces = 0;
        for (core, st) in (0..Self::max_cores()).zip(states.iter_mut()) {
            let action = plan::core_action(self.system, core, S);
            let ids = plan::guests_of(&action);
            if ids.is_empty() {
                continue;
            }
            let mut ok = true;
            for &id in ids {
                let g = &self.system.guests[id as usize];
                if let Err(e) = plan::check_image(g) {
                    say!(self, "mvm: error: guest `{}`: {e}", g.name);
                    ok = false;
                }
            }
            if !ok {
                continue;
            }
            for &id in ids {
                let g = &self.system.guests[id as usize];
                let mut gs = GuestState::new(g, &self.figures[id as usize]);
                Self::load_image(g);
                let t0 = self.now_ticks();
                Self::install_tables(g);
                if let Some(pool) = g.shadow.filter(|p| p.spaces > 0) {
                    match gs
                        .shadow
                        .build_boot_space(&pool, &Self::owned(g), &mut PhysicalTables)
                    {
                        Ok(space) => {
                            gs.asid = space.asid;
                            gs.boot_space = Some(space);
                            boot_spaces += 1;
                        }
                        Err(_) => say!(
                            self,
                            "mvm: error: guest `{}`: its pool cannot map its own memory; it starts with its MMU off",
                            g.name
                        ),
                    }
                }
                table_ticks += self.now_ticks() - t0;
                if st.guests.push(gs).is_err() {
                    unreachable!("plan::core_action admits at most S guests to a core");
                }
                running += 1;
            }
            st.role = match action {
                CoreAction::Enter(_) => Role::Dedicated,
                _ => Role::Shared,
            };
            self.cores[core as usize]
                .loaded
                .store(true, Ordering::Relaxed);
        }
        self.set_up_lines();
        Self::GICD.enable();
        self.running.store(running, Ordering::Relaxed);

        let tables: usize = self
            .system
            .guests
            .iter()
            .filter_map(|g| g.translation)
            .map(|t| t.tables.len())
            .sum();
        let written = Self::ticks_to_ns(table_ticks);
        if tables != 0 && boot_spaces == 0 {
            say!(
                self,
                "mvm: direct map: {tables} translation tables written in {written} ns"
            );
        } else if boot_spaces != 0 {
            say!(
                self,
                "mvm: translation tables: {tables} of direct maps, shadow paging: {boot_spaces} boot spaces, written in {written} ns"
            );
        }
        say!(self, "mvm: entering guests");
        // Release: the images, the distributor and every core's state are
        // visible to the other cores when they start. Then the board starts
        // the cores its boot ROM still holds (they find the release given).
        arch::release_secondary_cores();
        self.with_console(|uart| P::start_secondary_cores(uart));
    }

    /// Checks the images the loader placed in the guest's memory against
    /// the build's SHA-256 (on the guest's core, before its first
    /// instruction); says why when one differs, and how long it took.
    fn verify_images(&self, guest: &Guest) -> bool {
        let t0 = self.now_ticks();
        let memory = |base: u32, size: u32| -> &'static [u8] {
            let phys = guest.physical(base, size).unwrap_or(base);
            // SAFETY: `check_image` proved every in-place image lies in
            // the guest's own memory; the monitor's MMU is off (or
            // identity), and `physical` turns guest-physical into
            // physical; the guest has not run yet, so nothing writes there
            // while it is read.
            unsafe { core::slice::from_raw_parts(phys as usize as *const u8, size as usize) }
        };
        match plan::verify_images(guest, memory) {
            Ok(()) => {
                if !guest.image.in_place.is_empty() {
                    let bytes: u32 = guest.image.in_place.iter().map(|p| p.size).sum();
                    say!(
                        self,
                        "mvm: guest `{}`: {} KiB loaded in place, SHA-256 checked in {} us",
                        guest.name,
                        bytes / 1024,
                        Self::ticks_to_ns(self.now_ticks() - t0) / 1000
                    );
                }
                true
            }
            Err(m) => {
                say!(
                    self,
                    "mvm: error: guest `{}`: {m}; it is not started",
                    guest.name
                );
                false
            }
        }
    }

    /// A guest whose in-place image failed its check, on its own core
    /// after the release: it is never entered, and its lines, which core 0
    /// set up, are disabled (the guard keeps a guest's lines disabled
    /// while it does not run). When it was the last guest left, the run
    /// ends as when every guest has halted.
    fn refuse(&self, guest: &Guest, st: &mut CoreState<S>) {
        self.figures[guest.id as usize]
            .refused
            .store(true, Ordering::Relaxed);
        crate::switch::for_each_interrupt(guest, |irq| Self::GICD.disable_interrupt(irq.id));
        if self.running.fetch_sub(1, Ordering::AcqRel) == 1 {
            say!(self, "mvm: all guests halted");
            let now = self.now_ticks();
            self.report_and_end(crate::sysreg::core_id(), Some(st), now);
        }
    }

    /// Zeroes every channel's memory, once, before any guest runs: both
    /// ends start from an empty ring, and the doorbell is 0, the value the
    /// monitor's last-seen table starts with. More channels than that table
    /// holds stop the run (the generator's own limit is the channel area).
    fn clear_channels(&self) {
        let channels = self.system.channels;
        if channels.len() > crate::channels::MAX_CHANNELS {
            say!(
                self,
                "mvm: error: {} channels, but the monitor polls at most {}",
                channels.len(),
                crate::channels::MAX_CHANNELS
            );
            self.end_run(EXIT_MONITOR_PANIC);
        }
        for c in channels {
            // SAFETY: the build placed the channel in the channel area,
            // Non-secure RAM apart from the monitor image, the table area
            // and every guest region; 4 KiB aligned, a multiple of 4 KiB;
            // the MMU is off, so the address is physical, and no guest
            // runs yet.
            unsafe {
                core::ptr::write_bytes(c.base as usize as *mut u32, 0, (c.size / 4) as usize)
            };
        }
        for g in self.system.guests {
            self.doorbells
                .reset_reader(channels, self.system.guests, g.id);
        }
    }

    pub(super) fn load_image(guest: &Guest) {
        let bytes = guest.image.bytes;
        let Some(load) = guest.physical(guest.image.load, bytes.len() as u32) else {
            return;
        };
        // SAFETY: `check_image` proved `[load, load + len)` lies in the
        // guest's own memory, which the generator keeps apart from the
        // monitor's reservation and from every other guest; the MMU is off,
        // so the address is physical, and no guest runs yet.
        unsafe {
            core::ptr::copy_nonoverlapping(bytes.as_ptr(), load as usize as *mut u8, bytes.len())
        };
    }

    /// Writes a direct-mapped guest's translation tables to their addresses
    /// in the board's table area (Non-secure RAM, outside every guest's
    /// regions and outside the monitor image: the generator checks both).
    ///
    /// The monitor runs with its MMU and caches off, so the stores reach
    /// memory; the `dsb` orders them before any core's first table walk.
    /// On QEMU nothing more is needed. On silicon the Non-secure world must
    /// find no stale line of the table area in its caches: at boot no
    /// Non-secure code has run, so it holds none once the boot ROM/FSBL
    /// invalidated the L1 caches and the L2 cache controller (as Xilinx's
    /// FSBL does); a monitor that rewrites tables after a guest ran must
    /// clean and invalidate the lines by address (DCCIMVAC) and the PL310
    /// (docs/memory.md).
    pub(super) fn install_tables(guest: &Guest) {
        let Some(translation) = guest.translation else {
            return;
        };
        for table in translation.tables {
            let base = table.address as usize as *mut u32;
            // SAFETY: the generator placed the table, aligned to its size,
            // in the board's table area (checked at compile time in
            // `mvm_system.rs`), which no guest region and no part of the
            // monitor image covers; the MMU is off, so the address is
            // physical, and no guest runs yet.
            unsafe {
                core::ptr::write_bytes(base, 0, table.words as usize);
                for e in table.entries {
                    base.add(e.index as usize).write_volatile(e.word);
                }
            }
        }
        arch::dsb();
    }

    /// Every core, after core 0's preparation: its banked interrupts, its
    /// timer, then its guests.
    pub(super) fn boot_core(&self, core: u32, st: &mut CoreState<S>) -> ! {
        // This core's banked interrupts (SGIs, PPIs): all Secure and
        // disabled. The private timer is enabled on shared cores and on the
        // core that ends a bounded run; SGIs (always enabled in GICv1) stay
        // Group 0.
        Self::GICD.reset_banked();
        Self::GICD.set_priority(SGI_SNAPSHOT, 0x00);
        let action = plan::core_action(self.system, core, S);
        // A dedicated core's guest with a watchdog: the monitor's timer
        // checks it there (docs/health.md).
        let watched = matches!(action, CoreAction::Enter(g) if g.health.watchdog_ns != 0);
        if st.run_timer || watched || matches!(action, CoreAction::Edf { .. }) {
            Self::GICD.set_group(mpcore::IRQ_PRIVATE_TIMER, Group::Secure);
            Self::GICD.set_priority(mpcore::IRQ_PRIVATE_TIMER, 0x00);
            Self::GICD.enable_interrupt(mpcore::IRQ_PRIVATE_TIMER);
        }
        if self.set_guest_scr(st) == Delivery::Fiq {
            // An HRT guest's own core: its lines are Group 0 FIQs straight
            // to it. SGIs become Group 1, so that one sent by another
            // guest's Non-secure write is never a Group 0 FIQ the guest
            // could not acknowledge (QEMU generates those), and Group 1 is
            // off at this CPU interface: nothing but the guest's own lines
            // reaches it (docs/interrupts.md).
            for sgi in 0..16 {
                Self::GICD.set_group(sgi, Group::NonSecure);
                // Below the guest's lines: a pending SGI must not stand in
                // front of them (QEMU picks the highest pending line before
                // it looks at whether its group is enabled).
                Self::GICD.set_priority(sgi, 0xF0);
            }
            Self::GICC.enable_group0_only();
        } else {
            Self::GICC.enable();
        }

        let loaded = self.cores[core as usize].loaded.load(Ordering::Acquire);
        match action {
            CoreAction::Enter(_) if loaded => self.enter_dedicated(core, st),
            CoreAction::Edf { .. } if loaded => self.enter_shared(core, st),
            CoreAction::Enter(_) | CoreAction::Edf { .. } => {
                say!(self, "mvm: core {core}: its guests were not loaded; core parked");
            }
            CoreAction::Idle => {}
            CoreAction::TooManyServers { guests, capacity } => say!(
                self,
                "mvm: error: core {core}: {guests} servers, but the scheduler holds {capacity}; core parked"
            ),
            CoreAction::BadTable => say!(
                self,
                "mvm: error: core {core}: the core plan names an invalid guest; core parked"
            ),
        }
        self.park(st)
    }

    /// A dedicated core: hand it to its HRT guest. No timer is armed unless
    /// this core ends a bounded run.
    fn enter_dedicated(&self, core: u32, st: &mut CoreState<S>) -> ! {
        let g = st.guests[0].guest;
        if !self.verify_images(g) {
            self.refuse(g, st);
            self.park(st)
        }
        st.current = Some(0);
        arch::set_secure_thread_pointer(&self.figures[g.id as usize] as *const _ as u32);
        let nsacr = crate::nsacr_for(g.fpu);
        // SAFETY: Monitor mode at boot: the guest gets VFP only if it
        // declared it.
        unsafe { crate::sysreg::Nsacr::write(crate::sysreg::Nsacr(nsacr)) };
        st.unit.nsacr = nsacr;
        // The Non-secure reset state, kept for a restart (docs/health.md).
        arch::save_cp15(&mut st.reset_cp15);
        st.reset_gic = GicCpu {
            enable_group1: Self::GICC.group1_enabled() as u32,
            pmr: Self::GICC.priority_mask(),
            abpr: Self::GICC.aliased_binary_point(),
        };
        if g.translation.is_some() {
            // The guest's first instruction runs with its MMU on: its CP15
            // state is the Non-secure reset state with the direct map.
            // SAFETY: no guest has run on this core, so there is no state
            // to lose; core 0 wrote the tables before releasing this core.
            unsafe { arch::restore_cp15(&plan::initial_cp15(st.reset_cp15, g, None)) };
        }
        self.beat(st, 0, self.now_ticks());
        if st.run_timer || st.watchdog_due != crate::health::NEVER {
            self.dedicated_timer(st, self.now_ticks());
        }
        self.cores[core as usize]
            .entry_ticks
            .store(self.now_ticks(), Ordering::Relaxed);
        // SAFETY: MVBAR, NSACR, SCR and the GIC are set for this core; core
        // 0 loaded the guest's image after checking that it and its entry
        // lie in the guest's own memory, which the monitor never uses.
        unsafe {
            arch::enter_guest(
                core,
                GuestEntry {
                    entry: g.image.entry,
                    boot_arg: g.image.boot_arg,
                },
            )
        }
    }

    /// A shared core: every guest gets a fresh context (the Non-secure CP15
    /// reset values, as read now), the servers are released together, and
    /// the first decision's guest is entered.
    fn enter_shared(&self, core: u32, st: &mut CoreState<S>) -> ! {
        let mut reset = Cp15::default();
        arch::save_cp15(&mut reset);
        let gic = GicCpu {
            enable_group1: Self::GICC.group1_enabled() as u32,
            pmr: Self::GICC.priority_mask(),
            abpr: Self::GICC.aliased_binary_point(),
        };
        st.reset_cp15 = reset;
        st.reset_gic = gic;
        let mut params = [Params::default(); S];
        for (p, gs) in params.iter_mut().zip(st.guests.iter_mut()) {
            let g = gs.guest;
            gs.context = GuestContext::fresh(
                GuestEntry {
                    entry: g.image.entry,
                    boot_arg: g.image.boot_arg,
                },
                plan::initial_cp15(reset, g, gs.boot_space),
                gic,
            );
            *p = g
                .server
                .expect("plan::core_action admits only SRT guests with a server to an EDF core");
        }
        // The loader's images, hashed here rather than on core 0 so that
        // no other core waits for them (an HRT guest is already running).
        for slot in 0..st.guests.len() {
            let gs = &st.guests[slot];
            if !gs.figures.refused.load(Ordering::Relaxed) && !self.verify_images(gs.guest) {
                self.refuse(gs.guest, st);
            }
        }
        let now = self.now_ticks();
        st.edf
            .restart(&params[..st.guests.len()], Self::ticks_to_ns(now));
        for slot in 0..st.guests.len() {
            if st.guests[slot].figures.refused.load(Ordering::Relaxed) {
                st.edf.halt(slot);
            } else {
                self.beat(st, slot, now);
            }
        }
        self.cores[core as usize]
            .entry_ticks
            .store(now, Ordering::Relaxed);
        self.resume_next(st)
    }

    /// Chooses what runs on this core (waiting if nothing can) and enters
    /// it with an empty monitor stack; for a core's first guest and after a
    /// halt, when no guest's registers are live.
    pub(super) fn resume_next(&self, st: &mut CoreState<S>) -> ! {
        let mut scratch = TrapFrame::default();
        Self::PRIVATE_TIMER.acknowledge();
        let now = self.now_ticks();
        self.reschedule(st, &mut scratch, now);
        let slot = st.current.expect("reschedule returns with a guest chosen");
        let core = crate::sysreg::core_id();
        // SAFETY: the guest's context was just loaded into the processor by
        // `switch_to` (banked, CP15, VFP, NSACR, GIC); its saved frame holds
        // a Non-secure mode; nothing on the monitor stack is needed any
        // more.
        unsafe { arch::resume(core, &st.guests[slot].context.frame) }
    }
}
