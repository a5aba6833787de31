//! preflight: decides whether a hypervisor host may go into maintenance.
//!
//! The library is laid out as the pipeline runs: [`inventory`] reads exports into the
//! [`model`], [`policy`] loads and checks the rules, [`pipeline`] prepares the inventory once
//! and runs the audit (the [`engine`] evaluates, the [`plan`] is built, the planner's findings
//! are folded in, the verdict decided: pure, no I/O, no clock), and [`report`] writes the
//! findings in each format to a writer it is given. The command line is the binary's: it reads
//! the inputs, runs the pipeline and writes the outputs.

mod cli;
pub mod diag;
pub mod digest;
pub mod engine;
pub mod inventory;
pub mod model;
pub mod par;
pub mod pipeline;
pub mod placement;
pub mod plan;
pub mod platform;
pub mod policy;
pub mod policytest;
pub mod render;
pub mod report;

/// How a command-line run ended: its exit code, and the inputs it read, handed back so the
/// binary can leave their memory to the operating system at exit instead of freeing it.
#[doc(hidden)]
pub struct Finished {
    pub code: i32,
    pub inputs: Option<pipeline::Prepared>,
}

/// The command line, for the `preflight` binary: parses `args`, runs the command, and returns
/// how it ended (0 go, 1 no-go, 2 could not evaluate, 3 untrusted input). Not an interface of the library.
#[doc(hidden)]
pub fn run(args: impl IntoIterator<Item = std::ffi::OsString>) -> Finished {
    cli::run(args)
}
