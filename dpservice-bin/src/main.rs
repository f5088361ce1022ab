use std::process::ExitCode;

fn main() -> ExitCode {
    if let Some(code) = dpservice_bin::completion_hook().answer_if_asked() {
        return code;
    }
    dpservice_bin::run()
}
