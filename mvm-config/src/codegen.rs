//! Stage 4: the Rust source of the static tables the kernel runs from.
//!
//! - Reads only the IR ([`crate::ir`]), never the TOML.
//! - Emits items of `mvm_kernel::config` with `quote!`, formatted by
//!   `prettyplease` so that a reviewer can read `OUT_DIR/mvm_system.rs`.
//! - Every generated item carries the `MVM_` prefix, and the facts the
//!   kernel relies on are re-checked by the compiler with
//!   `const _: () = assert!(…)`: each image fits its region and its entry
//!   lies in it, each core plan names guests that exist and sit on it.

use std::path::PathBuf;

use proc_macro2::{Literal, TokenStream};
use quote::{format_ident, quote};

use mvm_kernel::config::{
    Channel, ChannelEnd, CorePlan, Health, Interrupt, Level, OnFailure, Paging, Region, Trigger,
};
use mvm_kernel::edf::Params;

use crate::ir::{GuestIr, SystemIr};
use crate::model::Keyword;

/// A guest's program for the generated tables.
#[derive(Clone, Debug)]
pub enum GuestProgram {
    /// The flat image at `path` (embedded with `include_bytes!`), copied to
    /// `load` at boot, entered at `entry`.
    Image {
        load: u32,
        entry: u32,
        path: PathBuf,
        /// r2 at the first instruction (a Linux guest's device tree).
        boot_arg: u32,
        /// Images the board's loader places (a Linux guest's kernel and
        /// initrd).
        in_place: Vec<InPlaceImage>,
    },
    /// No image (host builds of the tables): empty, entered at the start of
    /// the guest's first region.
    None,
}

/// An image the board's loader writes into a guest's memory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InPlaceImage {
    pub what: &'static str,
    pub base: u32,
    pub size: u32,
    pub sha256: [u8; 32],
    /// Where the board's loader places its pristine copy (physical,
    /// outside every guest's memory), for restarts.
    pub pristine: u32,
}

fn sha_lit(sha: &[u8; 32]) -> TokenStream {
    let bytes = sha.iter().map(|b| Literal::u8_unsuffixed(*b));
    quote!([#(#bytes),*])
}

fn u32_lit(v: u32) -> Literal {
    Literal::u32_unsuffixed(v)
}

fn u64_lit(v: u64) -> Literal {
    Literal::u64_unsuffixed(v)
}

/// An address or size, in hex as the manuals write them: `0x7000_0000`.
fn addr_lit(v: u32) -> Literal {
    crate::units::hex(v.into())
        .parse()
        .expect("a hex integer is a literal")
}

fn guest_ident(g: &GuestIr) -> proc_macro2::Ident {
    format_ident!("MVM_GUEST_{}", g.id)
}

fn guest_item(g: &GuestIr, program: &GuestProgram) -> TokenStream {
    let ident = guest_ident(g);
    let fpu = g.fpu;
    let health = health(&g.health);
    let doc = format!(" Guest `{}` ({}, core {}).", g.name, g.level_str(), g.core);
    let (id, name, core) = (u32_lit(g.id), &g.name, u32_lit(g.core));
    let level = match g.level {
        Level::Hrt => quote!(Level::Hrt),
        Level::Srt => quote!(Level::Srt),
    };
    let paging = match g.paging {
        Paging::Direct => quote!(Paging::Direct),
        Paging::Shadow => quote!(Paging::Shadow),
        Paging::Guest => quote!(Paging::Guest),
    };
    let regions = g.regions.iter().map(region);
    let devices = g.devices.iter().map(|d| {
        let (name, regs) = (d.name, region(&d.regs));
        let irqs = d.interrupts.iter().map(interrupt);
        quote!(Device { name: #name, regs: #regs, interrupts: &[#(#irqs),*] })
    });
    let channels = g.channels.iter().map(channel_end);
    let line_checks = if g.devices.iter().any(|d| !d.interrupts.is_empty()) {
        quote! {
            const _: () = {
                let mut d = 0;
                while d < #ident.devices.len() {
                    let lines = #ident.devices[d].interrupts;
                    let mut i = 0;
                    while i < lines.len() {
                        assert!(lines[i].priority <= Interrupt::MAX_PRIORITY, "each line's priority level is 0 to 14");
                        i += 1;
                    }
                    d += 1;
                }
            };
        }
    } else {
        quote!()
    };
    let first = g.regions[0].guest_base;
    let image = match program {
        GuestProgram::Image {
            load,
            entry,
            path,
            boot_arg,
            in_place,
        } => {
            let (load, entry, boot_arg) = (addr_lit(*load), addr_lit(*entry), addr_lit(*boot_arg));
            let path = path.display().to_string();
            let in_place = in_place.iter().map(|p| {
                let (what, base, size, sha, pristine) = (
                    p.what,
                    addr_lit(p.base),
                    addr_lit(p.size),
                    sha_lit(&p.sha256),
                    addr_lit(p.pristine),
                );
                quote!(::mvm_kernel::config::InPlace { what: #what, base: #base, size: #size, sha256: #sha, pristine: #pristine })
            });
            quote!(Image {
                load: #load,
                entry: #entry,
                bytes: include_bytes!(#path),
                boot_arg: #boot_arg,
                in_place: &[#(#in_place),*],
            })
        }
        GuestProgram::None => {
            let base = addr_lit(first);
            quote!(Image { load: #base, entry: #base, bytes: &[], boot_arg: 0, in_place: &[] })
        }
    };
    let server = match &g.server {
        Some(p) => {
            let p = params(p);
            quote!(Some(#p))
        }
        None => quote!(None),
    };
    let (translation, translation_checks) = match &g.translation {
        None => (quote!(None), quote!()),
        Some(t) => {
            let ttbr0 = addr_lit(t.ttbr0);
            let asid = Literal::u8_unsuffixed(g.asid);
            let tables = t.tables.iter().map(|table| {
                let (address, words) = (addr_lit(table.address), u32_lit(table.words));
                let entries = table.entries.iter().map(|&(index, word)| {
                    let index: Literal = format!("0x{index:03X}")
                        .parse()
                        .expect("a hex integer is a literal");
                    let word = addr_lit(word);
                    quote!(Entry { index: #index, word: #word })
                });
                quote!(Table { address: #address, words: #words, entries: &[#(#entries),*] })
            });
            (
                quote!(Some(Translation { ttbr0: #ttbr0, asid: #asid, tables: &[#(#tables),*] })),
                quote! {
                    const _: () = {
                        let t = match #ident.translation { Some(t) => t, None => panic!() };
                        assert!(t.ttbr0 & !0x3FFF == t.tables[0].address, "TTBR0 points at the L1 table");
                        let mut i = 0;
                        while i < t.tables.len() {
                            let table = t.tables[i];
                            assert!(table.well_formed(), "each table is aligned to its size and its entries lie in it");
                            assert!(
                                table.address >= MVM_TABLE_AREA.base
                                    && MVM_TABLE_AREA.contains(table.address, table.words * 4),
                                "each table lies in the board's table area"
                            );
                            i += 1;
                        }
                    };
                },
            )
        }
    };
    let (shadow, shadow_checks) = match &g.pool {
        None => (quote!(None), quote!()),
        Some((p, asid)) => {
            let (l1, spaces, l2, tables) = (
                addr_lit(p.l1_base),
                u32_lit(p.spaces),
                addr_lit(p.l2_base),
                u32_lit(p.page_tables),
            );
            let asid = Literal::u8_unsuffixed(*asid);
            (
                quote!(Some(ShadowPool { l1_base: #l1, spaces: #spaces, l2_base: #l2, page_tables: #tables, asid: #asid })),
                quote! {
                    const _: () = {
                        let p = match #ident.shadow { Some(p) => p, None => panic!() };
                        assert!(p.l1_base % 0x4000 == 0 && p.l2_base % 0x400 == 0, "pool tables are aligned to their size");
                        assert!(
                            (p.spaces == 0 || MVM_TABLE_AREA.contains(p.l1_base, p.spaces * 0x4000))
                                && (p.page_tables == 0 || MVM_TABLE_AREA.contains(p.l2_base, p.page_tables * 0x400)),
                            "the pool lies in the board's table area"
                        );
                        assert!(p.asid as u32 + p.spaces <= 256, "the ASIDs fit in 8 bits");
                    };
                },
            )
        }
    };
    quote! {
        #[doc = #doc]
        pub const #ident: Guest = Guest {
            id: #id,
            name: #name,
            level: #level,
            core: #core,
            paging: #paging,
            regions: &[#(#regions),*],
            devices: &[#(#devices),*],
            channels: &[#(#channels),*],
            image: #image,
            server: #server,
            fpu: #fpu,
            translation: #translation,
            shadow: #shadow,
            health: #health,
        };
        #translation_checks
        #shadow_checks
        #line_checks
        const _: () = assert!(
            #ident.regions[0].contains_guest(#ident.image.load, #ident.image.bytes.len() as u32),
            "the image fits in the guest's first region"
        );
        const _: () = assert!(
            #ident.regions[0].contains_guest(#ident.image.entry, 4),
            "the entry point lies in the guest's first region"
        );
    }
}

impl GuestIr {
    fn level_str(&self) -> &'static str {
        self.level.as_str()
    }
}

/// A [`Region`] as a constant expression; every field is named, so a field
/// the kernel adds fails here.
fn region(r: &Region) -> TokenStream {
    let Region {
        base,
        size,
        guest_base,
    } = *r;
    let (base, size, guest_base) = (addr_lit(base), addr_lit(size), addr_lit(guest_base));
    quote!(Region { base: #base, size: #size, guest_base: #guest_base })
}

/// An [`Interrupt`] as a constant expression; every field is named, so a
/// field the kernel adds fails here.
fn interrupt(i: &Interrupt) -> TokenStream {
    let Interrupt {
        id,
        priority,
        trigger,
    } = *i;
    let (id, priority) = (u32_lit(id), Literal::u8_unsuffixed(priority));
    let trigger = match trigger {
        Trigger::Level => quote!(Trigger::Level),
        Trigger::Edge => quote!(Trigger::Edge),
    };
    quote!(Interrupt { id: #id, priority: #priority, trigger: #trigger })
}

/// A [`ChannelEnd`] as a constant expression; every field is named, so a
/// field the kernel adds fails here.
fn channel_end(e: &ChannelEnd) -> TokenStream {
    let ChannelEnd {
        name,
        channel,
        region: r,
        writable,
        notify,
    } = *e;
    let (channel, r) = (u32_lit(channel), region(&r));
    let notify = match notify {
        Some(i) => {
            let i = interrupt(&i);
            quote!(Some(#i))
        }
        None => quote!(None),
    };
    quote!(ChannelEnd { name: #name, channel: #channel, region: #r, writable: #writable, notify: #notify })
}

/// A [`Channel`] as a constant expression; every field is named, so a
/// field the kernel adds fails here.
fn channel(c: &Channel) -> TokenStream {
    let Channel {
        name,
        writer,
        reader,
        base,
        size,
        notify,
    } = *c;
    let (writer, reader, base, size) = (
        u32_lit(writer),
        u32_lit(reader),
        addr_lit(base),
        addr_lit(size),
    );
    let notify = match notify {
        Some(i) => {
            let i = u32_lit(i);
            quote!(Some(#i))
        }
        None => quote!(None),
    };
    quote!(Channel { name: #name, writer: #writer, reader: #reader, base: #base, size: #size, notify: #notify })
}

/// A guest's [`Health`] as a constant expression; every field is named, so
/// a field the kernel adds fails here.
fn health(h: &Health) -> TokenStream {
    let Health {
        on_failure,
        max_restarts,
        restart_window_ns,
        watchdog_ns,
    } = *h;
    let on_failure = match on_failure {
        OnFailure::Stop => quote!(OnFailure::Stop),
        OnFailure::Restart => quote!(OnFailure::Restart),
        OnFailure::System => quote!(OnFailure::System),
    };
    let (max_restarts, window, watchdog) = (
        u32_lit(max_restarts),
        u64_lit(restart_window_ns),
        u64_lit(watchdog_ns),
    );
    quote!(Health { on_failure: #on_failure, max_restarts: #max_restarts, restart_window_ns: #window, watchdog_ns: #watchdog })
}

/// A server's [`Params`] as a constant expression, in ns.
fn params(p: &Params) -> TokenStream {
    let Params {
        period,
        budget,
        deadline,
        slack,
    } = *p;
    let (period, budget, deadline) = (u64_lit(period), u64_lit(budget), u64_lit(deadline));
    quote!(Params { period: #period, budget: #budget, deadline: #deadline, slack: #slack })
}

/// A core's plan as a constant expression.
fn core_plan(c: &CorePlan<Vec<u32>>) -> TokenStream {
    match c {
        CorePlan::Idle => quote!(CorePlan::Idle),
        CorePlan::Dedicated { guest } => {
            let g = u32_lit(*guest);
            quote!(CorePlan::Dedicated { guest: #g })
        }
        CorePlan::Edf { guests } => {
            let gs = guests.iter().map(|&g| u32_lit(g));
            quote!(CorePlan::Edf { guests: &[#(#gs),*] })
        }
    }
}

/// The generated source of `mvm_system.rs`.
///
/// `programs` has one entry per guest, in order; `hash` is the SHA-256 of the
/// description, hex; `source` names the description for the header comment.
pub fn generate(
    ir: &SystemIr,
    programs: &[GuestProgram],
    hash: &str,
    manifest: &str,
    source: &str,
) -> String {
    assert_eq!(ir.guests.len(), programs.len(), "one program per guest");
    let guests: Vec<TokenStream> = ir
        .guests
        .iter()
        .zip(programs)
        .map(|(g, p)| guest_item(g, p))
        .collect();
    let guest_idents: Vec<_> = ir.guests.iter().map(guest_ident).collect();
    let cores = ir.cores.iter().map(core_plan);
    let placement = ir.cores.iter().enumerate().flat_map(|(core, c)| {
        let members: Vec<u32> = match c {
            CorePlan::Idle => vec![],
            CorePlan::Dedicated { guest } => vec![*guest],
            CorePlan::Edf { guests } => guests.clone(),
        };
        let core = u32_lit(u32::try_from(core).expect("few cores"));
        members.into_iter().map(move |g| {
            let g = g as usize;
            quote!(const _: () = assert!(MVM_GUESTS[#g].core == #core, "each core plan names guests placed on it");)
        })
    });
    let (name, board, overhead) = (&ir.name, ir.board, u64_lit(ir.switch_overhead_ns));
    let n_guests = ir.guests.len();
    let max_servers = ir
        .cores
        .iter()
        .map(|c| match c {
            CorePlan::Edf { guests } => guests.len(),
            _ => 0,
        })
        .max()
        .unwrap_or(0)
        .max(1);
    let n_cores = ir.cores.len();
    let table_area = region(&ir.table_area);
    let channels = ir.channels.iter().map(channel);
    let tokens = quote! {
        #[allow(unused_imports)]
        use ::mvm_kernel::config::{Channel, ChannelEnd};
        // A system without devices, interrupts or direct maps names
        // fewer of them.
        #[allow(unused_imports)]
        use ::mvm_kernel::config::{CorePlan, Device, Entry, Guest, Health, Image, Interrupt, Level, OnFailure, Paging, Region, System, Table, Translation, Trigger};
        use ::mvm_kernel::edf::Params;
        // Not every system has a shadow-paged guest.
        #[allow(unused_imports)]
        use ::mvm_kernel::shadow::Pool as ShadowPool;

        /// The board's translation table area: the direct-mapped guests'
        /// tables, Non-secure RAM no guest region covers.
        pub const MVM_TABLE_AREA: Region = #table_area;

        #(#guests)*

        /// Every guest, indexed by id.
        pub const MVM_GUESTS: &[Guest] = &[#(#guest_idents),*];

        /// The most SRT guests any one core runs: the capacity of each
        /// core's EDF scheduler.
        pub const MVM_MAX_SERVERS_PER_CORE: usize = #max_servers;

        /// What each core does, indexed by core number.
        pub const MVM_CORES: &[CorePlan] = &[#(#cores),*];

        const _: () = assert!(MVM_GUESTS.len() == #n_guests);
        const _: () = assert!(MVM_CORES.len() == #n_cores, "one plan per core of the board");
        #(#placement)*

        /// The system the monitor runs.
        pub static MVM_SYSTEM: System = System {
            name: #name,
            board: #board,
            hash: #hash,
            manifest: #manifest,
            switch_overhead_ns: #overhead,
            guests: MVM_GUESTS,
            channels: &[#(#channels),*],
            cores: MVM_CORES,
        };
    };
    let file: syn::File = syn::parse2(tokens).expect("generated tokens are a Rust file");
    format!(
        "// @generated by mvm-config from `{source}` (sha256 {hash}).\n// Do not edit: change the system description and rebuild.\n\n{}",
        prettyplease::unparse(&file)
    )
}
