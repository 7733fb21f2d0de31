//! The MVM image, built from `partitions/system.toml`.
//!
//! - `build.rs` validates the system description, proves every shared core
//!   schedulable and generates `MVM_SYSTEM`, the static tables below; an
//!   invalid description fails the build with the diagnostics of
//!   `cargo mvm check`.
//! - The host build compiles the same tables (with empty guest images) and
//!   prints the plan they describe, so `cargo test` checks what codegen
//!   emits on every run.

include!(concat!(env!("OUT_DIR"), "/mvm_system.rs"));

#[cfg(not(target_os = "none"))]
fn main() {
    use mvm_kernel::config::{CorePlan, Level};
    let s = &MVM_SYSTEM;
    println!(
        "system `{}` on {}, description sha256 {}",
        s.name, s.board, s.hash
    );
    for (core, plan) in s.cores.iter().enumerate() {
        let name = |g: &u32| s.guests[*g as usize].name;
        match plan {
            CorePlan::Idle => println!("core {core}: idle"),
            CorePlan::Dedicated { guest } => {
                println!("core {core}: dedicated to `{}` (hrt)", name(guest))
            }
            CorePlan::Edf { guests } => {
                let names: Vec<String> = guests.iter().map(|g| format!("`{}`", name(g))).collect();
                println!("core {core}: EDF over {} (srt)", names.join(", "));
            }
        }
    }
    for g in s.guests {
        let level = if g.level == Level::Hrt { "hrt" } else { "srt" };
        println!(
            "guest `{}`: {level} on core {}, {} region(s), {} device(s)",
            g.name,
            g.core,
            g.regions.len(),
            g.devices.len()
        );
    }
}

#[cfg(test)]
mod tests {
    use super::MVM_SYSTEM;
    use mvm_kernel::config::{CorePlan, Level};

    /// The generated tables agree with themselves the way the kernel relies
    /// on: each core plan names guests of the right level placed on it.
    #[test]
    fn core_plans_name_guests_of_the_right_level_on_their_core() {
        assert!(!MVM_SYSTEM.guests.is_empty());
        for (core, plan) in MVM_SYSTEM.cores.iter().enumerate() {
            let (level, guests): (Level, &[u32]) = match plan {
                CorePlan::Idle => continue,
                CorePlan::Dedicated { guest } => (Level::Hrt, core::slice::from_ref(guest)),
                CorePlan::Edf { guests } => (Level::Srt, guests),
            };
            for &g in guests {
                let guest = &MVM_SYSTEM.guests[g as usize];
                assert_eq!(
                    (guest.level, guest.core as usize, guest.id),
                    (level, core, g)
                );
                assert_eq!(guest.server.is_some(), level == Level::Srt);
            }
        }
    }
}
