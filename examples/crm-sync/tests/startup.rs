//! Start-up refusals: each is exit code 2 and one line naming the variable, never its
//! value, and never a panic. Also `--help` and `--version`.

mod support;

use std::path::Path;

use bookhook_verify::Provider;
use support::*;

/// The run's stderr as lines, asserting no panic or backtrace reached it.
fn one_line(run: &Run) -> String {
    assert!(!run.stderr.contains("panicked"), "{}", run.stderr);
    let lines: Vec<_> = run.stderr.lines().collect();
    assert_eq!(lines.len(), 1, "stderr: {}", run.stderr);
    lines[0].to_owned()
}

fn serve(db: &Path, env: &[(&str, &str)]) -> Run {
    let mut all = vec![("CRM_SYNC_ADDR", "127.0.0.1:0")];
    all.extend_from_slice(env);
    crm_sync(db, &all, &["serve"])
}

#[test]
fn help_lists_the_subcommands_and_every_variable_of_the_readme_with_its_default() {
    let (_dir, db) = temp_db();
    let help = crm_sync(&db, &[], &["--help"]);
    assert_eq!(help.code, Some(0), "{}", help.stderr);
    for word in ["serve", "inbox"] {
        assert!(help.stdout.contains(word), "{}", help.stdout);
    }
    // Every variable in the README's configuration table, with its default.
    let readme = include_str!("../README.md");
    let table = readme
        .split("## Configuration")
        .nth(1)
        .and_then(|rest| rest.split("\n\n").nth(1))
        .unwrap();
    let mut seen = 0;
    for line in table.lines().filter(|l| l.starts_with("| `")) {
        for var in line
            .split('|')
            .nth(1)
            .unwrap()
            .split('`')
            .skip(1)
            .step_by(2)
        {
            seen += 1;
            let listed = help
                .stdout
                .lines()
                .find(|l| l.trim_start().starts_with(&format!("{var} ")))
                .unwrap_or_else(|| panic!("{var} missing from --help:\n{}", help.stdout));
            assert!(listed.contains('[') && listed.ends_with(']'), "{listed}");
        }
    }
    assert!(seen >= 22, "only {seen} variables in the README table");
    for (var, default) in [
        ("CRM_SYNC_ADDR", "[127.0.0.1:8080]"),
        ("CRM_SYNC_HEADER_TIMEOUT_SECS", "[10]"),
        ("CRM_SYNC_IDLE_TIMEOUT_SECS", "[60]"),
        ("CRM_SYNC_ADMIN_TOKEN", "[unset: /admin answers 404]"),
    ] {
        let line = help.stdout.lines().find(|l| l.contains(var)).unwrap();
        assert!(line.ends_with(default), "{line}");
    }

    let inbox = crm_sync(&db, &[], &["inbox", "--help"]);
    assert_eq!(inbox.code, Some(0));
    for sub in ["list", "show", "retry", "prune"] {
        assert!(inbox.stdout.contains(sub), "{}", inbox.stdout);
    }
    let version = crm_sync(&db, &[], &["--version"]);
    assert_eq!(version.code, Some(0));
    assert_eq!(
        version.stdout.trim(),
        format!("crm-sync {}", env!("CARGO_PKG_VERSION"))
    );
    assert!(!db.exists(), "--help created no database");
}

#[test]
fn no_provider_configured_exits_2_naming_the_variables_to_set() {
    let (_dir, db) = temp_db();
    for args in [&[][..], &["serve"][..]] {
        let run = crm_sync(&db, &[("CRM_SYNC_ADDR", "127.0.0.1:0")], args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert_eq!(
            one_line(&run),
            "crm-sync: no provider is configured: set at least one of SLATIS_WEBHOOK_SECRET, \
             SLOTFLOW_WEBHOOK_TOKEN, BOOKABLE_WEBHOOK_SECRET, SCHEDULINGKIT_WEBHOOK_SECRET, \
             CALCOM_WEBHOOK_SECRET, CALENDLY_WEBHOOK_SIGNING_KEY, STANDARD_WEBHOOK_SECRET \
             (see crm-sync --help)"
        );
    }
    assert!(!db.exists(), "no database for a refused start");
}

#[test]
fn a_bad_variable_exits_2_naming_it_and_not_its_value() {
    let (_dir, db) = temp_db();
    let slatis = ("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis));
    for (var, value) in [
        ("CRM_SYNC_IDLE_TIMEOUT_SECS", "ninety-nine"),
        ("CRM_SYNC_ADMIN_TOKEN", "tooshort-x7"),
        ("HUBSPOT_BASE_URL", "ftp://crm.invalid/x7"),
        ("CALCOM_WEBHOOK_SECRET", "calcom,,x7"),
    ] {
        let run = serve(&db, &[slatis, (var, value)]);
        assert_eq!(run.code, Some(2), "{var}: {}", run.stderr);
        let line = one_line(&run);
        assert!(
            line.starts_with(&format!("crm-sync: {var} is invalid: ")),
            "{line}"
        );
        assert!(!line.contains("x7") && !line.contains(value), "{line}");
        assert!(run.stdout.contains(var), "logged too: {}", run.stdout);
    }
    assert!(!db.exists());
}

#[test]
fn a_port_in_use_exits_2_naming_crm_sync_addr() {
    let (_dir, db) = temp_db();
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let run = crm_sync(
        &db,
        &[
            ("CRM_SYNC_ADDR", &addr),
            ("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis)),
        ],
        &[],
    );
    assert_eq!(run.code, Some(2), "{}", run.stderr);
    let line = one_line(&run);
    assert!(
        line.starts_with("crm-sync: CRM_SYNC_ADDR is invalid: cannot listen: ")
            && line.contains("in use"),
        "{line}"
    );
}

#[test]
fn an_unreadable_database_exits_2_naming_crm_sync_db() {
    let dir = tempfile::tempdir().unwrap();
    let slatis = ("SLATIS_WEBHOOK_SECRET", secret(Provider::Slatis));
    // Not a database (root reads any file, so an unreadable one is a garbage one), and a
    // directory where the file should be.
    let garbage = dir.path().join("garbage.db");
    std::fs::write(&garbage, vec![0x5a; 8192]).unwrap();
    let folder = dir.path().join("folder.db");
    std::fs::create_dir(&folder).unwrap();
    for (db, expected) in [
        (
            &garbage,
            "crm-sync: CRM_SYNC_DB is invalid: cannot open the inbox: sqlite: file is not a database",
        ),
        (
            &folder,
            "crm-sync: CRM_SYNC_DB is invalid: cannot open the inbox: sqlite: unable to open database file",
        ),
    ] {
        let run = serve(db, &[slatis]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert_eq!(one_line(&run), expected);
        // The inbox commands say the same kind of thing.
        let run = crm_sync(db, &[], &["inbox", "list"]);
        assert_eq!(run.code, Some(2), "{}", run.stderr);
        assert!(
            one_line(&run).starts_with("crm-sync: CRM_SYNC_DB is invalid: "),
            "{}",
            run.stderr
        );
    }
    assert_eq!(
        std::fs::read(&garbage).unwrap(),
        vec![0x5a; 8192],
        "untouched"
    );
}

#[test]
fn a_usage_error_exits_2() {
    let (_dir, db) = temp_db();
    for args in [
        &["inbox", "list", "--status", "lost"][..],
        &["inbox", "retry"][..],
        &["inbox", "prune"][..],
        &["inbox", "show", "abc"][..],
        &["frobnicate"][..],
    ] {
        let run = crm_sync(&db, &[], args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(!run.stderr.contains("panicked"));
    }
}
