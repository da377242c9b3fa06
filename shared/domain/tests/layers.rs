//! The capabilities' order, kept: a module may use (`crate::x::…`) only the
//! modules listed before it. A new module must be given its place here, and
//! an import that points up the list (a circle in the making) fails.
//! `ARCHITECTURE.md` ("Layers") explains the order.

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

/// Bottom first.
const ORDER: &[&str] = &[
    "throttle",
    "feeds",
    "outbox",
    "observations",
    "tenants",
    "devices",
    "sites",
    "access",
    "idtags",
    "tariffs",
    "recount",
    "commands",
    "loads",
    "telemetry",
    "records",
    "campaigns",
    "profiles",
    "flexibility",
    "admin",
    "console",
    "intelligence",
    "partners",
    "chargepoints",
    "storage",
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// The Rust files of a top-level module (`x.rs` or the folder `x/`).
fn files_of(module: &str) -> Vec<PathBuf> {
    let file = src().join(format!("{module}.rs"));
    if file.exists() {
        return vec![file];
    }
    let mut out = Vec::new();
    let mut dirs = vec![src().join(module)];
    while let Some(dir) = dirs.pop() {
        for entry in fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|l| l.split("//").next().unwrap_or_default())
        .collect::<Vec<_>>()
        .join("\n")
}

/// The top-level modules a text names as `crate::x`, including those in
/// `use crate::{x::…, y}` groups.
fn used_modules(text: &str) -> BTreeSet<String> {
    let ident = |s: &str| -> String {
        s.chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect()
    };
    let mut out = BTreeSet::new();
    for (i, _) in text.match_indices("crate::") {
        let rest = &text[i + "crate::".len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let mut depth = 0;
            let mut start = 0;
            for (j, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => {
                        out.insert(ident(group[start..j].trim()));
                        break;
                    }
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        out.insert(ident(group[start..j].trim()));
                        start = j + 1;
                    }
                    _ => {}
                }
            }
        } else {
            out.insert(ident(rest));
        }
    }
    out
}

fn top_level_modules() -> BTreeSet<String> {
    fs::read_dir(src())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter_map(|p| {
            let name = p.file_stem()?.to_str()?.to_owned();
            (p.is_dir() || p.extension().is_some_and(|e| e == "rs")).then_some(name)
        })
        .filter(|name| name != "lib")
        .collect()
}

#[test]
fn every_module_has_its_place_in_the_order() {
    let listed: BTreeSet<String> = ORDER.iter().map(|m| (*m).to_owned()).collect();
    assert_eq!(
        top_level_modules(),
        listed,
        "the domain's modules and ORDER differ"
    );
}

#[test]
fn modules_use_only_those_below_them() {
    let mut wrong = Vec::new();
    for (at, module) in ORDER.iter().enumerate() {
        for file in files_of(module) {
            let text = without_comments(&fs::read_to_string(&file).unwrap());
            for used in used_modules(&text) {
                let Some(pos) = ORDER.iter().position(|m| *m == used) else {
                    // The crate root's items: only the composition root
                    // itself lives there, and nothing may reach back to it.
                    wrong.push(format!("{} uses crate::{used}", file.display()));
                    continue;
                };
                if pos >= at && used != *module {
                    wrong.push(format!(
                        "{} ({module}) uses {used}, which is not below it",
                        file.display()
                    ));
                }
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "imports against the order:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn the_check_sees_grouped_and_plain_imports() {
    let found = used_modules(
        "use crate::{access::Access, commands::{A, B}, feeds};\nlet x = crate::devices::f();",
    );
    let expected: BTreeSet<String> = ["access", "commands", "feeds", "devices"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    assert_eq!(found, expected);
}
