//! The `preflight` binary: parse arguments, run, exit with the contract's code.

fn main() {
    std::process::exit(preflight::cli::run(std::env::args_os()));
}
