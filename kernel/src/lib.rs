//! The MVM monitor: boot, world switch, EDF, hypercalls, memory, GIC.
#![cfg_attr(not(test), no_std)]
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::missing_safety_doc)]

pub mod config;
