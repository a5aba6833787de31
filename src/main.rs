//! The `preflight` binary: parse arguments, run, exit with the contract's code.

fn main() {
    let finished = preflight::run(std::env::args_os());
    let code = finished.code;
    // The process exits next. Freeing a provider-scale inventory (millions of small
    // allocations) took about 8% of a 1M-VM run in profiles, so its memory is left to the OS.
    std::mem::forget(finished);
    std::process::exit(code);
}
