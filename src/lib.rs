//! preflight: decides whether a hypervisor host may go into maintenance.
//!
//! The library is laid out as the pipeline runs: [`inventory`] reads exports into the
//! [`model`], [`policy`] loads and checks the rules, [`engine`] evaluates them (pure, no I/O,
//! no clock), and [`report`] writes the findings in each format to a writer it is given.
//! [`cli`] wires them to the command line; `main.rs` only maps the outcome to an exit code.

pub mod cli;
pub mod diag;
pub mod digest;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod par;
pub mod plan;
pub mod platform;
pub mod policy;
pub mod policytest;
pub mod render;
pub mod report;
