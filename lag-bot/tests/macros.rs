//! The attribute macros: every misuse is a compile error on the token at fault (checked
//! against the `.stderr` files next to each case) and nothing else, because the user's function
//! is still emitted (several cases use it from `main`); correct uses compile and run.

#[test]
fn misuses_fail_to_compile() {
    let cases = trybuild::TestCases::new();
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
        "bad_schedule",
        "unknown_subcommand",
        "not_a_subcommand",
        "duplicate_subcommand",
    ] {
        cases.compile_fail(format!("tests/ui/{case}.rs"));
    }
}

// The correct uses are compiled into this test instead of by trybuild: with compile-fail cases
// only, trybuild checks its copy of the dependencies instead of building and linking them.
// Each case is a module of its own, as it would be a user's crate, and its `main` runs as a test.

mod pass_command {
    include!("ui/pass_command.rs");

    #[test]
    fn compiles_and_runs() {
        main();
    }
}

mod pass_group {
    include!("ui/pass_group.rs");

    #[test]
    fn compiles_and_runs() {
        main();
    }
}

mod pass_hear {
    include!("ui/pass_hear.rs");

    #[test]
    fn compiles_and_runs() {
        main();
    }
}

mod pass_on {
    include!("ui/pass_on.rs");

    #[test]
    fn compiles_and_runs() {
        main();
    }
}

mod pass_job {
    include!("ui/pass_job.rs");

    #[test]
    fn compiles_and_runs() {
        main();
    }
}
