//! The `runcode` binary: everything lives in the library.

fn main() {
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    std::process::exit(runcode::run(&args));
}
