//! The README's configuration table cannot drift from the code: it names every provider's
//! secret variable with its route.

use crm_sync::config::SECRET_VARS;

#[test]
fn the_readme_names_every_route_and_secret_variable() {
    let readme = include_str!("../README.md");
    for (provider, var) in SECRET_VARS.iter() {
        let row = readme
            .lines()
            .find(|l| l.starts_with(&format!("| `{var}` |")))
            .unwrap_or_else(|| panic!("README: no configuration row for {var}"));
        assert!(
            row.contains(&format!("/webhooks/{}", provider.as_str())),
            "README: the {var} row does not name /webhooks/{provider}"
        );
    }
}
