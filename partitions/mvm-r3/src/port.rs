//! `use_port!`: R3's Arm port, its interrupt controller and its tick, as
//! MVM gives them.

/// Defines the kernel trait type `$Traits` and implements for it what
/// `r3_kernel` needs of a port: threading (r3_port_arm's, with a CPU Lock
/// that masks FIQ too), interrupts (the CPU interface only: [`interrupts`])
/// and the timer (a periodic tick: [`tick`]). `$Traits` must implement
/// [`Options`]; the configuration function calls
/// `$Traits::configure_tick(b)`.
///
/// [`interrupts`]: crate::interrupts
/// [`tick`]: crate::tick
/// [`Options`]: crate::Options
#[macro_export]
macro_rules! use_port {
    (unsafe $vis:vis struct $Traits:ident) => {
        $vis struct $Traits;

        mod mvm_r3_port {
            use super::$Traits;
            use $crate::r3_core::kernel::{
                traits, Cfg, ClearInterruptLineError, EnableInterruptLineError, InterruptNum,
                PendInterruptLineError, QueryInterruptLineError, SetInterruptLinePriorityError,
                StaticInterruptHandler,
            };
            use $crate::r3_core::utils::Init;
            use $crate::r3_kernel::{
                PortInterrupts, PortThreading, PortTimer, PortToKernel, System, TaskCb, UTicks,
            };
            use $crate::r3_port_arm::threading::imp::{PortInstance, State, TaskState};
            use $crate::r3_port_arm::{EntryPoint, InterruptController, ThreadingOptions, Timer};
            use $crate::Options;

            static PORT_STATE: State = Init::INIT;

            unsafe impl PortInstance for $Traits {
                $crate::r3_portkit::sym::sym_static!(
                    #[sym(p_port_state)] fn port_state() -> &State { &PORT_STATE });
            }

            impl ThreadingOptions for $Traits {}

            impl EntryPoint for $Traits {
                #[inline]
                unsafe fn start() -> ! {
                    unsafe { PORT_STATE.port_boot::<Self>() }
                }

                const IRQ_ENTRY: unsafe extern "C" fn() -> ! = State::irq_entry::<Self>;
            }

            /// Where the vectors jump for an IRQ, and for a FIQ handed on.
            #[no_mangle]
            static MVM_R3_IRQ_ENTRY: unsafe extern "C" fn() -> ! =
                <$Traits as EntryPoint>::IRQ_ENTRY;

            /// The tick line, for the native start-up's GIC set-up.
            #[no_mangle]
            static MVM_R3_TICK_LINE: u32 = <$Traits as Options>::TICK_LINE;

            /// Called once by the start-up, in SVC mode.
            #[no_mangle]
            unsafe extern "C" fn mvm_r3_start_kernel() -> ! {
                unsafe { <$Traits as EntryPoint>::start() }
            }

            unsafe impl PortThreading for $Traits {
                type PortTaskState = TaskState;
                #[allow(clippy::declare_interior_mutable_const)]
                const PORT_TASK_STATE_INIT: Self::PortTaskState = Init::INIT;
                const STACK_DEFAULT_SIZE: usize = 2048;
                // AAPCS: 8-byte aligned stacks at public interfaces.
                const STACK_ALIGN: usize = 8;

                #[inline(always)]
                unsafe fn dispatch_first_task() -> ! {
                    unsafe { PORT_STATE.dispatch_first_task::<Self>() }
                }

                #[inline(always)]
                unsafe fn yield_cpu() {
                    unsafe { PORT_STATE.yield_cpu::<Self>() }
                }

                #[inline(always)]
                unsafe fn exit_and_dispatch(task: &'static TaskCb<Self>) -> ! {
                    unsafe { PORT_STATE.exit_and_dispatch::<Self>(task) }
                }

                #[inline(always)]
                unsafe fn enter_cpu_lock() {
                    $crate::interrupts::enter_cpu_lock()
                }

                #[inline(always)]
                unsafe fn leave_cpu_lock() {
                    $crate::interrupts::leave_cpu_lock()
                }

                #[inline(always)]
                unsafe fn initialize_task_state(task: &'static TaskCb<Self>) {
                    unsafe { PORT_STATE.initialize_task_state::<Self>(task) }
                }

                #[inline(always)]
                fn is_cpu_lock_active() -> bool {
                    PORT_STATE.is_cpu_lock_active::<Self>()
                }

                #[inline(always)]
                fn is_task_context() -> bool {
                    PORT_STATE.is_task_context::<Self>()
                }

                #[inline(always)]
                fn is_interrupt_context() -> bool {
                    PORT_STATE.is_interrupt_context::<Self>()
                }

                #[inline(always)]
                fn is_scheduler_active() -> bool {
                    PORT_STATE.is_scheduler_active::<Self>()
                }
            }

            unsafe impl PortInterrupts for $Traits {
                const MANAGED_INTERRUPT_LINES: &'static [InterruptNum] =
                    &[<$Traits as Options>::TICK_LINE as InterruptNum];

                unsafe fn enable_interrupt_line(
                    line: InterruptNum,
                ) -> Result<(), EnableInterruptLineError> {
                    // The monitor enabled the guest's lines at boot.
                    if line == <$Traits as Options>::TICK_LINE as InterruptNum {
                        Ok(())
                    } else {
                        Err(EnableInterruptLineError::NotSupported)
                    }
                }
            }

            impl InterruptController for $Traits {
                #[inline]
                unsafe fn acknowledge_interrupt() -> Option<InterruptNum> {
                    $crate::interrupts::acknowledge(<$Traits as Options>::TICK_LINE)
                }

                #[inline]
                unsafe fn end_interrupt(_line: InterruptNum) {
                    $crate::interrupts::end()
                }
            }

            const PERIOD: $crate::tick::Period = $crate::tick::Period::of(
                <$Traits as Options>::TICK_PERIOD_US,
                <$Traits as Options>::TICK_TIMER_HZ,
            );

            impl PortTimer for $Traits {
                const MAX_TICK_COUNT: UTicks = u32::MAX;
                const MAX_TIMEOUT: UTicks = u32::MAX;

                unsafe fn tick_count() -> UTicks {
                    $crate::tick::micros()
                }
                // `pend_tick_after` and `pend_tick`: the defaults (none);
                // the tick is steady.
            }

            impl Timer for $Traits {
                unsafe fn init() {
                    unsafe {
                        $crate::tick::start(<$Traits as Options>::TICK_TIMER_BASE, PERIOD)
                    }
                }
            }

            fn handle_tick() {
                let now = $crate::global_timer::count();
                // Safety: the tick timer's handler, CPU Lock inactive.
                unsafe {
                    if $crate::tick::take(<$Traits as Options>::TICK_TIMER_BASE, PERIOD, now) {
                        <$Traits as PortToKernel>::timer_tick();
                    }
                }
            }

            impl $Traits {
                /// Registers the tick's handler on the tick line.
                pub const fn configure_tick<C>(b: &mut Cfg<C>)
                where
                    C: ~const traits::CfgInterruptLine<System = System<Self>>,
                {
                    StaticInterruptHandler::define()
                        .line(<$Traits as Options>::TICK_LINE as InterruptNum)
                        .start(handle_tick)
                        .finish(b);
                }
            }
        }

        const _: () = $crate::r3_port_arm::threading::imp::validate::<$Traits>();
    };
}
