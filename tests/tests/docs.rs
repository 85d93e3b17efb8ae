//! The provider tables of the docs cannot drift from the code: every table that lists
//! providers has exactly one row per provider (the crm-sync README's table is checked by
//! `examples/crm-sync/tests/docs.rs`).

use std::path::Path;

use bookhook_verify::{ByProvider, Provider};

/// How the docs' tables name each provider (the first cell of its row starts with it).
const DOC_NAMES: ByProvider<&str> = ByProvider {
    slatis: "Slatis",
    slotflow: "Slotflow",
    bookable: "Bookable",
    schedulingkit: "SchedulingKit",
    calcom: "Cal.com",
    calendly: "Calendly",
    standard: "Standard Webhooks",
};

fn read(relative: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("..")
        .join(relative);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The rows of the first Markdown table whose header row starts with `| <first> |`.
fn table<'a>(doc: &'a str, first: &str) -> Vec<&'a str> {
    let header = format!("| {first} |");
    let mut lines = doc.lines().skip_while(|l| !l.starts_with(&header));
    assert!(lines.next().is_some(), "no table starting with {header:?}");
    lines
        .skip(1) // the |---| line
        .take_while(|l| l.starts_with('|'))
        .collect()
}

fn first_cell(row: &str) -> &str {
    row.trim_start_matches('|')
        .split('|')
        .next()
        .unwrap_or("")
        .trim()
}

/// Every provider has exactly one row, and every row is a provider's.
fn assert_one_row_per_provider(doc: &str, file: &str, first: &str) {
    let rows = table(doc, first);
    for (provider, name) in DOC_NAMES.iter() {
        let matching = rows
            .iter()
            .filter(|r| first_cell(r).starts_with(name))
            .count();
        assert_eq!(
            matching, 1,
            "{file}: {provider} ({name}) rows in the `{first}` table"
        );
    }
    assert_eq!(
        rows.len(),
        Provider::ALL.len(),
        "{file}: rows of the `{first}` table"
    );
}

#[test]
fn the_readme_provider_table_has_one_row_per_provider_with_its_name() {
    let readme = read("README.md");
    assert_one_row_per_provider(&readme, "README.md", "provider");
    for provider in Provider::ALL {
        let name = format!("`{}`", provider.as_str());
        assert!(
            table(&readme, "provider").iter().any(|r| r.contains(&name)),
            "README.md: no row names {name}"
        );
    }
}

#[test]
fn the_security_table_says_what_each_scheme_cannot_protect_against() {
    assert_one_row_per_provider(&read("SECURITY.md"), "SECURITY.md", "provider");
}
