//! The README's architecture table is the layering the code keeps: every
//! `crate::module` path in `src/` names a module of its own row or a row
//! above it. Reads both files, so a new back-arrow (or a table that no
//! longer matches the modules) fails here.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// Top-level module → row of the README table (0 = bottom).
fn layers_from_readme(readme: &str) -> BTreeMap<String, usize> {
    let section = readme
        .split("\n## Architecture\n")
        .nth(1)
        .expect("README has an Architecture section");
    let section = section.split("\n## ").next().unwrap_or(section);
    let mut rows = BTreeMap::new();
    let table = section.lines().filter(|l| l.starts_with("| ")).skip(2);
    for (row, line) in table.enumerate() {
        let modules = line.split('|').nth(2).expect("a modules column");
        for tick in modules.split('`').skip(1).step_by(2) {
            let name = tick.trim_end_matches('/').trim_end_matches(".rs");
            if !name.contains('/') {
                rows.insert(name.to_string(), row);
            }
        }
    }
    rows
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|e| e == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn every_module_imports_only_its_row_and_the_rows_above() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let layer = layers_from_readme(&readme);
    let src = root.join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut wrong = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(&src).unwrap();
        let top = rel
            .components()
            .next()
            .unwrap()
            .as_os_str()
            .to_string_lossy()
            .trim_end_matches(".rs")
            .to_string();
        let Some(&mine) = layer.get(&top) else {
            wrong.push(format!(
                "{}: module `{top}` is not in the README table",
                rel.display()
            ));
            continue;
        };
        let text = std::fs::read_to_string(f).unwrap();
        for (n, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("//") {
                continue; // doc links may point anywhere
            }
            for used in line.split("crate::").skip(1) {
                let name: String = used
                    .chars()
                    .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                    .collect();
                let Some(&theirs) = layer.get(&name) else {
                    wrong.push(format!(
                        "{}:{}: `crate::{name}` is no module of the table",
                        rel.display(),
                        n + 1
                    ));
                    continue;
                };
                if theirs > mine {
                    wrong.push(format!(
                        "{}:{}: `{top}` (row {mine}) uses `{name}` (row {theirs}), a row further down the table",
                        rel.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(layer.len() >= 14, "the table lists the modules: {layer:?}");
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
