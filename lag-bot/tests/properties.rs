//! Properties of argument parsing: values typed the way the usage line asks for them parse back
//! to the same values, and a usage line names each parameter with its kind.

use std::time::Duration;

use lag_bot::command::{ArgKind, Args, FromArg, Param, Quoted, Rest};
use proptest::prelude::*;

/// Writes `text` as one argument: bare when it is one plain word, else quoted with `\\` and
/// `\"` escapes.
fn typed(text: &str) -> String {
    let plain = !text.is_empty()
        && !text.chars().any(char::is_whitespace)
        && !text.starts_with(['"', '“', '@'])
        && !text.contains('\\');
    if plain {
        text.to_owned()
    } else {
        format!("\"{}\"", text.replace('\\', "\\\\").replace('"', "\\\""))
    }
}

/// A duration as an author types it, largest unit first: `1d2h3m4s`.
fn compact(duration: Duration) -> String {
    let mut secs = duration.as_secs();
    let mut out = String::new();
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// One parameter of each built-in kind, with a value of it.
#[derive(Debug, Clone)]
enum Value {
    Int(i64),
    Flag(bool),
    Word(String),
    Text(String),
    Wait(Duration),
    Maybe(Option<u32>),
    Many(Vec<i16>),
}

impl Value {
    fn typed(&self) -> String {
        match self {
            Value::Int(n) => n.to_string(),
            Value::Flag(b) => if *b { "yes" } else { "no" }.to_owned(),
            Value::Word(w) => typed(w),
            Value::Text(t) => format!("\"{}\"", t.replace('\\', "\\\\").replace('"', "\\\"")),
            Value::Wait(d) => compact(*d),
            Value::Maybe(m) => m.map(|n| n.to_string()).unwrap_or_default(),
            Value::Many(v) => v.iter().map(i16::to_string).collect::<Vec<_>>().join(" "),
        }
    }

    fn param(&self, name: &'static str) -> Param {
        match self {
            Value::Int(_) => Param::of::<i64>(name),
            Value::Flag(_) => Param::of::<bool>(name),
            Value::Word(_) => Param::of::<String>(name),
            Value::Text(_) => Param::of::<Quoted>(name),
            Value::Wait(_) => Param::of::<Duration>(name),
            Value::Maybe(_) => Param::of::<Option<u32>>(name),
            Value::Many(_) => Param::of::<Vec<i16>>(name),
        }
    }

    /// Parses the same kind of value from `args`.
    fn parse_like(&self, args: &mut Args<'_>) -> Result<Value, String> {
        fn take<T: FromArg>(args: &mut Args<'_>) -> Result<T, String> {
            T::from_arg(args).map_err(|e| e.to_string())
        }
        Ok(match self {
            Value::Int(_) => Value::Int(take(args)?),
            Value::Flag(_) => Value::Flag(take(args)?),
            Value::Word(_) => Value::Word(take(args)?),
            Value::Text(_) => Value::Text(take::<Quoted>(args)?.into_inner()),
            Value::Wait(_) => Value::Wait(take(args)?),
            Value::Maybe(_) => Value::Maybe(take(args)?),
            Value::Many(_) => Value::Many(take(args)?),
        })
    }
}

impl PartialEq for Value {
    fn eq(&self, other: &Self) -> bool {
        format!("{self:?}") == format!("{other:?}")
    }
}

fn text() -> impl Strategy<Value = String> {
    // Any characters, quotes, backslashes and whitespace included.
    proptest::string::string_regex("(?s).{0,12}").unwrap()
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        any::<i64>().prop_map(Value::Int),
        any::<bool>().prop_map(Value::Flag),
        text()
            .prop_filter("a word", |t| !t.is_empty())
            .prop_map(Value::Word),
        text()
            .prop_filter("some text", |t| !t.is_empty())
            .prop_map(Value::Text),
        (1u64..10_000_000).prop_map(|s| Value::Wait(Duration::from_secs(s))),
        any::<Option<u32>>().prop_map(Value::Maybe),
        proptest::collection::vec(any::<i16>(), 0..5).prop_map(Value::Many),
    ]
}

/// Reads a usage line's parameters back: `<name>`, `[name]`, `[name...]`, `<name...>`.
fn read_usage(line: &str) -> Vec<(String, bool, bool)> {
    line.split_whitespace()
        .skip(1)
        .map(|part| {
            let required = part.starts_with('<');
            let inner = &part[1..part.len() - 1];
            let many = inner.ends_with("...");
            (inner.trim_end_matches("...").to_owned(), required, many)
        })
        .collect()
}

const NAMES: [&str; 6] = ["first", "second", "third", "fourth", "fifth", "sixth"];

proptest! {
    /// Values typed in order, the way their usage line shows them, parse back to themselves.
    /// Only the last parameter may take several words or be left out, as in a real command.
    #[test]
    fn typed_arguments_parse_back_to_their_values(
        mut values in proptest::collection::vec(value(), 1..6),
    ) {
        let last = values.len() - 1;
        for v in &mut values[..last] {
            if matches!(v, Value::Maybe(_) | Value::Many(_)) {
                *v = Value::Int(7);
            }
        }
        let line = values.iter().map(Value::typed).collect::<Vec<_>>().join(" ");
        let mut args = Args::new(&line);
        for (i, value) in values.iter().enumerate() {
            let parsed = value.parse_like(&mut args);
            prop_assert_eq!(parsed.as_ref(), Ok(value), "argument {} of {:?}", i, line);
        }
        prop_assert!(args.is_empty(), "{:?} left over in {:?}", args.remaining(), line);
    }

    /// A usage line names every parameter in order, and its brackets say whether it is
    /// required and whether it takes several words.
    #[test]
    fn usage_lines_round_trip_their_parameters(values in proptest::collection::vec(value(), 0..6)) {
        let params: Vec<Param> = values.iter().zip(NAMES).map(|(v, n)| v.param(n)).collect();
        let line = std::iter::once("!cmd".to_owned())
            .chain(params.iter().map(Param::to_string))
            .collect::<Vec<_>>()
            .join(" ");
        let read = read_usage(&line);
        prop_assert_eq!(read.len(), params.len());
        for (param, (name, required, many)) in params.iter().zip(read) {
            prop_assert_eq!(param.name(), name.as_str());
            let (want_required, want_many) = match param.kind() {
                ArgKind::Required => (true, false),
                ArgKind::Optional => (false, false),
                ArgKind::Variadic | ArgKind::OptionalRest => (false, true),
                ArgKind::Rest => (true, true),
                _ => unreachable!("a new kind of argument"),
            };
            prop_assert_eq!((required, many), (want_required, want_many), "{}", line);
        }
    }

    /// The rest of the line is taken exactly as typed, trimmed.
    #[test]
    fn the_rest_is_kept_as_typed(first in any::<u8>(), rest in text()) {
        let line = format!("{first} {rest}");
        let mut args = Args::new(&line);
        prop_assert_eq!(u8::from_arg(&mut args).ok(), Some(first));
        let taken = Option::<Rest>::from_arg(&mut args).unwrap();
        let expected = rest.trim();
        prop_assert_eq!(taken.as_ref().map(Rest::as_str).unwrap_or(""), expected);
    }
}
