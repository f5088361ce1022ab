use std::process::ExitCode;

fn main() -> ExitCode {
    dpservice_bin::run()
}
