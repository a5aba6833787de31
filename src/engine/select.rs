//! Resolving `--host` names against the inventory (case-insensitive; a short name matches an FQDN; no match or several is an input error).

use crate::diag::{Code, Diagnostics, SourceDiag, did_you_mean};
use crate::model::Inventory;

/// Resolves each name to one host of the inventory, returning their exact names in the order
/// given (duplicates dropped). A name matches case-insensitively, and a short name matches an
/// FQDN by its first label (`hv01` matches `HV01.contoso.local`), and the other way round.
pub fn resolve_hosts(inventory: &Inventory, names: &[String]) -> Result<Vec<String>, Diagnostics> {
    let mut out: Vec<String> = Vec::new();
    let mut diags = Diagnostics::default();
    for name in names {
        let matches = matching(inventory, name);
        match matches.as_slice() {
            [one] => {
                if !out.contains(one) {
                    out.push(one.clone());
                }
            }
            [] => {
                let all: Vec<&str> = inventory.hosts.iter().map(|h| h.name.as_str()).collect();
                let short: Vec<&str> = all.iter().map(|n| first_label(n)).collect();
                let mut d = SourceDiag::plain(
                    Code::HostNotFound,
                    format!("--host {name} matches no host of the inventory"),
                );
                let guess = did_you_mean(name, all.iter().copied()).or_else(|| {
                    did_you_mean(first_label(name), short.iter().copied())
                        .and_then(|s| all.iter().copied().find(|a| first_label(a) == s))
                });
                d = d.with_help(match guess {
                    Some(g) => format!("did you mean `{g}`? hosts: {}", list(&all)),
                    None => format!("hosts: {}", list(&all)),
                });
                diags.push(d);
            }
            many => {
                let names: Vec<&str> = many.iter().map(String::as_str).collect();
                diags.push(
                    SourceDiag::plain(
                        Code::HostAmbiguous,
                        format!("--host {name} matches {} hosts", many.len()),
                    )
                    .with_help(format!("name one of them exactly: {}", names.join(", "))),
                );
            }
        }
    }
    diags.into_result(out)
}

fn matching(inventory: &Inventory, name: &str) -> Vec<String> {
    let exact: Vec<String> = inventory
        .hosts
        .iter()
        .filter(|h| h.name.eq_ignore_ascii_case(name))
        .map(|h| h.name.to_string())
        .collect();
    if !exact.is_empty() {
        return exact;
    }
    let short = first_label(name);
    inventory
        .hosts
        .iter()
        .filter(|h| {
            let host_short = first_label(&h.name);
            // A short name matches an FQDN; an FQDN matches a host listed by its short name.
            (!name.contains('.') && host_short.eq_ignore_ascii_case(name))
                || (!h.name.contains('.') && h.name.eq_ignore_ascii_case(short))
        })
        .map(|h| h.name.to_string())
        .collect()
}

fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn list(names: &[&str]) -> String {
    const MAX: usize = 12;
    if names.len() <= MAX {
        names.join(", ")
    } else {
        format!("{}, … ({} in all)", names[..MAX].join(", "), names.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Host, HostState};

    fn inv(names: &[&str]) -> Inventory {
        Inventory {
            hosts: names
                .iter()
                .map(|n| Host {
                    name: (*n).into(),
                    cluster: None,
                    state: HostState::Up,
                    memory_mb: None,
                    cpus: None,
                    implied: false,
                    facts: Default::default(),
                })
                .collect(),
            ..Inventory::default()
        }
    }

    #[test]
    fn short_names_and_case_match() {
        let i = inv(&["HV01.contoso.local", "HV02.contoso.local"]);
        assert_eq!(
            resolve_hosts(&i, &["hv01".into()]).unwrap(),
            vec!["HV01.contoso.local"]
        );
        assert_eq!(
            resolve_hosts(&i, &["hv02.CONTOSO.local".into()]).unwrap(),
            vec!["HV02.contoso.local"]
        );
        let i = inv(&["HV01"]);
        assert_eq!(
            resolve_hosts(&i, &["hv01.contoso.local".into()]).unwrap(),
            vec!["HV01"]
        );
    }

    #[test]
    fn unknown_and_ambiguous_names_list_candidates() {
        let i = inv(&["HV01.a.local", "HV01.b.local", "HV02.a.local"]);
        let err = resolve_hosts(&i, &["hv01".into()]).unwrap_err();
        assert_eq!(err.0[0].code, Code::HostAmbiguous);
        assert!(err.0[0].help.as_deref().unwrap().contains("HV01.b.local"));
        let err = resolve_hosts(&i, &["hv03".into()]).unwrap_err();
        assert_eq!(err.0[0].code, Code::HostNotFound);
        assert!(
            err.0[0]
                .help
                .as_deref()
                .unwrap()
                .starts_with("did you mean `HV0"),
            "{:?}",
            err.0[0].help
        );
    }
}
