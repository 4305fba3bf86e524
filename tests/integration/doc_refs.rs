//! Docs that stand alone: every file path or document a source, doc or
//! script in the repository names exists in the repository (a reader of the
//! published crate or a fresh clone has nothing else), and the README
//! mentions every example.

use std::path::{Path, PathBuf};

/// Files whose text is read for references.
fn text_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if p.is_dir() {
            // Build output and VCS data are not documentation.
            if !matches!(name.as_str(), "target" | ".git" | "corpus" | "artifacts") {
                text_files(&p, out);
            }
        } else if [".rs", ".md", ".toml", ".c", ".cpp", ".h", ".py", ".sh"]
            .iter()
            .any(|e| name.ends_with(e))
            || name == "run"
        {
            out.push(p);
        }
    }
}

const EXTENSIONS: [&str; 12] = [
    ".md", ".rs", ".toml", ".json", ".csv", ".c", ".cpp", ".h", ".py", ".sh", ".svg", ".txt",
];

/// Path-like words of a line that name a document (a Markdown file) or a
/// file in a folder (`dir/file.ext`).
fn references(line: &str) -> Vec<String> {
    let is_path_char = |c: char| c.is_ascii_alphanumeric() || "._/-".contains(c);
    let mut out = Vec::new();
    for (i, word) in line.split(|c: char| !is_path_char(c)).enumerate() {
        let _ = i;
        let word = word.trim_end_matches('.');
        let Some(ext) = EXTENSIONS.iter().find(|e| word.ends_with(*e)) else {
            continue;
        };
        if word.len() == ext.len() || word.starts_with('/') {
            continue; // a bare extension, or an absolute path of some machine
        }
        let stem = &word[..word.len() - ext.len()];
        let placeholder = stem
            .split('/')
            .any(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_uppercase() || c == '_'));
        if placeholder && *ext != ".md" {
            continue; // FILE.csv, SCENARIO.json: a name the user chooses
        }
        if *ext == ".md" || word.contains('/') {
            out.push(word.to_string());
        }
    }
    out
}

#[test]
fn every_referenced_document_and_path_exists() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    text_files(root, &mut files);
    files.sort();
    let mut missing = Vec::new();
    for f in &files {
        // Tests name missing paths on purpose (a missing file's error, a
        // scratch project's files); they are code, not documentation.
        let rel = f.strip_prefix(root).unwrap();
        if rel.components().any(|c| c.as_os_str() == "tests") {
            continue;
        }
        // The member (folder with a Cargo.toml) the file belongs to.
        let member = f
            .ancestors()
            .find(|d| d.join("Cargo.toml").exists())
            .unwrap_or(root);
        let text = std::fs::read_to_string(f).unwrap_or_default();
        let dir = f.parent().unwrap();
        for (n, line) in text.lines().enumerate() {
            // URLs name pages elsewhere, not files of this repository; a
            // shell variable's path is wherever the variable points.
            let line: String = line
                .split_whitespace()
                .filter(|w| !w.contains("://") && !w.contains('$'))
                .collect::<Vec<_>>()
                .join(" ");
            for r in references(&line) {
                // Build output, generated per run; and the bank records,
                // which the README says are not in the repository.
                if r.starts_with("target/") || r.contains("shared/data/") {
                    continue;
                }
                let exists = root.join(&r).exists()
                    || dir.join(&r).exists()
                    || member.join(&r).exists()
                    || root.join("examples").join(&r).exists();
                if !exists {
                    missing.push(format!(
                        "{}:{}: `{r}`",
                        f.strip_prefix(root).unwrap().display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(
        missing.is_empty(),
        "references to files that are not in the repository:\n{}",
        missing.join("\n")
    );
}

#[test]
fn the_readme_mentions_every_example() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut unmentioned = Vec::new();
    for entry in std::fs::read_dir(root.join("examples")).unwrap() {
        let p = entry.unwrap().path();
        let name = p.file_name().unwrap().to_string_lossy().to_string();
        if let Some(stem) = name.strip_suffix(".rs") {
            if !readme.contains(&format!("--example {stem}")) {
                unmentioned.push(name);
            }
        }
    }
    for c in ["examples/c/quickstart.c", "examples/cpp/quickstart.cpp"] {
        if !readme.contains(c) {
            unmentioned.push(c.to_string());
        }
    }
    unmentioned.sort();
    assert!(
        unmentioned.is_empty(),
        "README never mentions {unmentioned:?}"
    );
}
