//! The attribute macros: every misuse is a compile error on the token at fault (checked
//! against the `.stderr` files next to each case) and nothing else, because the user's function
//! is still emitted (several cases use it from `main`); correct uses compile and run.

#[test]
fn macros() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass_*.rs");
    for case in [
        "not_async",
        "unknown_event",
        "empty_trigger",
        "duplicate_alias",
        "self_receiver",
        "generic_fn",
        "no_parser",
        "wrong_context",
        "bad_regex",
        "wrong_payload",
        "bad_return",
        "unknown_option",
        "all_errors_at_once",
        "missing_context",
        "too_many_params",
        "wrong_state",
        "state_after_build",
    ] {
        cases.compile_fail(format!("tests/ui/{case}.rs"));
    }
}
