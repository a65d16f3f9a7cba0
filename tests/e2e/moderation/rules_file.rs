//! The parts of the moderation robot that need no database and no Lag: the rules file, its
//! errors, and the disguise-resistant word matching; and the database setting.

use super::robot::rules::{RuleSet, RulesError};
use super::robot::store::Database;
use super::robot::words::WordList;

#[test]
fn the_built_in_rules_cover_every_kind() {
    let rules = RuleSet::default_rules().unwrap();
    let kinds: Vec<String> = rules
        .rules
        .iter()
        .map(|r| {
            format!("{:?}", r.kind)
                .split(['(', ' '])
                .next()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        ["Words", "Regex", "Links", "Mentions", "Flood", "Repeats"]
    );
    let described = rules.describe();
    assert!(described.contains("**insults** (line 23)"), "{described}");
    assert!(described.contains("links to grabify.link"), "{described}");
}

fn error(text: &str) -> RulesError {
    RuleSet::parse(text, "rules.toml").unwrap_err()
}

#[test]
fn a_bad_rules_file_names_the_line_and_the_rule() {
    let unknown_kind = error(
        "[[rule]]\nname = \"ok\"\nkind = \"words\"\nwords = [\"x\"]\naction = \"warn\"\n\n\
         [[rule]]\nname = \"typo\"\nkind = \"wrods\"\naction = \"warn\"\n",
    );
    assert_eq!(unknown_kind.line, Some(9));
    assert_eq!(unknown_kind.rule.as_deref(), Some("\"typo\""));
    assert!(unknown_kind.problem.contains("unknown kind \"wrods\""));
    assert_eq!(
        unknown_kind.to_string(),
        "rules.toml, line 9, rule \"typo\": unknown kind \"wrods\" (words, regex, links, \
         mentions, flood or repeats)"
    );

    let bad_regex =
        error("[[rule]]\nname = \"re\"\nkind = \"regex\"\npattern = \"(\"\naction = \"remove\"\n");
    assert_eq!(
        (bad_regex.line, bad_regex.rule.as_deref()),
        (Some(4), Some("\"re\""))
    );
    assert!(
        bad_regex.problem.contains("not a valid regex"),
        "{bad_regex}"
    );

    // A key the TOML parser rejects: the line comes from its span, the rule from the table.
    let unknown_key = error(
        "[[rule]]\nname = \"links\"\nkind = \"links\"\ndeny = [\"x.com\"]\nactoin = \"warn\"\n",
    );
    assert_eq!(unknown_key.line, Some(5), "{unknown_key}");
    assert_eq!(unknown_key.rule.as_deref(), Some("\"links\""));
    assert!(unknown_key.problem.contains("actoin"), "{unknown_key}");

    let wrong_key = error(
        "[[rule]]\nname = \"m\"\nkind = \"mentions\"\nwords = [\"x\"]\nmax = 3\naction = \"warn\"\n",
    );
    assert!(
        wrong_key.problem.contains("does not take `words`"),
        "{wrong_key}"
    );

    let duplicate = error(
        "[[rule]]\nname = \"a\"\nkind = \"mentions\"\nmax = 1\naction = \"warn\"\n\
         [[rule]]\nname = \"a\"\nkind = \"mentions\"\nmax = 2\naction = \"warn\"\n",
    );
    assert_eq!(duplicate.line, Some(6));
    assert!(
        duplicate.problem.contains("second rule is named"),
        "{duplicate}"
    );

    let bad_window = error(
        "[[rule]]\nname = \"f\"\nkind = \"flood\"\nmax = 3\nper = \"soon\"\naction = \"remove\"\n",
    );
    assert_eq!(bad_window.line, Some(5));
    assert!(
        bad_window.problem.contains("not a duration"),
        "{bad_window}"
    );

    let bad_setting = error("[settings]\nreport_window = \"x\"\n");
    assert_eq!(
        (bad_setting.line, bad_setting.rule.as_deref()),
        (Some(2), None)
    );

    let syntax = error("[[rule]]\nname = \"s\"\nkind = = \"words\"\n");
    assert_eq!(syntax.line, Some(3), "{syntax}");
}

#[test]
fn words_see_through_disguises_but_stay_whole_words() {
    let list = WordList::new(["bad", "ass", "idiot"]);
    for disguised in [
        "that is BAD!",
        "b4d",
        "b.a.d",
        "b a d",
        "b-a-d idea",
        "baaaad",
        "you 1d10t",
        "i.d.i.o.t",
        "a$$",
    ] {
        assert!(list.find(disguised).is_some(), "{disguised:?} should match");
    }
    for innocent in [
        "badge",
        "class",
        "as",
        "a good idea",
        "bread",
        "idiots' guide? no: idiotic",
    ] {
        assert_eq!(list.find(innocent), None, "{innocent:?} should not match");
    }
    assert_eq!(list.find("so b.a.d today"), Some("b.a.d"));
}

#[test]
fn the_database_setting_takes_a_path_or_a_url() {
    assert_eq!(
        Database::parse("data/moderation.sqlite3").unwrap(),
        Database::Sqlite("data/moderation.sqlite3".into())
    );
    assert_eq!(
        Database::parse("sqlite:///var/lib/robot/moderation.sqlite3").unwrap(),
        Database::Sqlite("/var/lib/robot/moderation.sqlite3".into())
    );
    let postgres = Database::parse("postgres://robot:secret@db.internal:5432/moderation").unwrap();
    assert_eq!(
        postgres,
        Database::Postgres("postgres://robot:secret@db.internal:5432/moderation".into())
    );
    assert_eq!(
        postgres.to_string(),
        "postgres://robot:***@db.internal:5432/moderation",
        "the password is never shown"
    );
    assert!(!format!("{postgres:?}").contains("secret"));
    assert!(matches!(
        Database::parse("postgresql://localhost/moderation"),
        Ok(Database::Postgres(_))
    ));

    for (setting, problem) in [
        ("", "empty"),
        (
            "mysql://localhost/moderation",
            "`mysql://` databases are not supported",
        ),
        (
            "sqlite://m.sqlite3?mode=ro",
            "options in an SQLite URL are not taken",
        ),
        ("postgres://localhost:port/db", "not a PostgreSQL URL"),
    ] {
        let err = Database::parse(setting).unwrap_err().to_string();
        assert!(err.contains(problem), "{setting:?}: {err}");
    }
}
