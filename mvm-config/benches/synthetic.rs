//! Synthetic system descriptions for the benchmarks: `n` SRT guests on core 1
//! with constrained deadlines and pairwise co-prime (prime) periods.

/// A description with `n` SRT guests sharing core 1 at about 70% utilization,
/// each with its deadline at 90% of its period, and an HRT guest on core 0.
pub fn system(n: usize) -> String {
    let mut out = String::from(
        "[system]\nname = \"bench\"\nboard = \"qemu-vexpress-a9\"\n\n\
         [[guest]]\nname = \"control\"\nlevel = \"hrt\"\ncore = 0\nimage = \"demo-control\"\n\
         memory = [ { name = \"ram\", base = 0x6100_0000, size = \"16MiB\" } ]\n",
    );
    let overhead = 2_000u64; // the board's default switch overhead, ns
    for (i, period) in primes_from(10_000_000).take(n).enumerate() {
        let budget = (period * 7 / 10 / n as u64).saturating_sub(overhead).max(1);
        let deadline = period * 9 / 10;
        out.push_str(&format!(
            "\n[[guest]]\nname = \"g{i}\"\nlevel = \"srt\"\ncore = 1\nimage = \"demo-logger\"\n\
             period = \"{period}ns\"\nbudget = \"{budget}ns\"\ndeadline = \"{deadline}ns\"\n\
             address_spaces = 0\npage_tables = 0\n\
             memory = [ {{ name = \"ram\", base = {:#x}, size = \"1MiB\" }} ]\n",
            0x6200_0000u64 + ((i as u64) << 20)
        ));
    }
    out
}

fn primes_from(start: u64) -> impl Iterator<Item = u64> {
    (start..).filter(|&n| {
        n % 2 == 1
            && (3..)
                .step_by(2)
                .take_while(|d| d * d <= n)
                .all(|d| n % d != 0)
    })
}

/// As [`system`] with `n` SRT guests, each declaring `tasks` EDF tasks of
/// its own (periods 40-400 ms, 5 us each) and, when `auto`, leaving its
/// budget to the check (`budget = "auto"`); 10 ms server periods.
#[allow(dead_code)]
pub fn system_with_tasks(n: usize, tasks: usize, auto: bool) -> String {
    let mut out = String::from(
        "[system]\nname = \"bench\"\nboard = \"qemu-vexpress-a9\"\n\n\
         [[guest]]\nname = \"control\"\nlevel = \"hrt\"\ncore = 0\nimage = \"demo-control\"\n\
         memory = [ { name = \"ram\", base = 0x6100_0000, size = \"16MiB\" } ]\n",
    );
    let periods_ms = [40u64, 50, 80, 100, 200, 400];
    for i in 0..n {
        let budget = if auto {
            "auto".to_string()
        } else {
            "60us".to_string()
        };
        out.push_str(&format!(
            "\n[[guest]]\nname = \"g{i}\"\nlevel = \"srt\"\ncore = 1\nimage = \"demo-logger\"\n\
             period = \"10ms\"\nbudget = \"{budget}\"\n\
             address_spaces = 0\npage_tables = 0\n\
             memory = [ {{ name = \"ram\", base = {:#x}, size = \"1MiB\" }} ]\n",
            0x6200_0000u64 + ((i as u64) << 20)
        ));
        for t in 0..tasks {
            out.push_str(&format!(
                "\n[[guest.task]]\nname = \"t{t}\"\nperiod = \"{}ms\"\nwcet = \"5us\"\n",
                periods_ms[(i + t) % periods_ms.len()]
            ));
        }
    }
    out
}
