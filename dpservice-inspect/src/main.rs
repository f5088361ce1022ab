use std::process::ExitCode;

fn main() -> ExitCode {
    // A shell asking for completion candidates (see `dpservice::completion`).
    if let Some(code) =
        dpservice::completion::Hook::new(dpservice_inspect::command).answer_if_asked()
    {
        return code;
    }
    dpservice_inspect::run()
}
