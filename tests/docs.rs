//! The repository stands alone: nothing in it cites a file outside it, every section of
//! docs/aws-behaviour.md that the code or fixtures cite exists, and every relative link in the
//! README and docs/ resolves to a file of the repository.

use std::path::{Path, PathBuf};

use crate::support::root;

/// Text files of the repository that a reader or maintainer sees (not build output).
fn repository_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                if !matches!(name, "target" | ".git" | "node_modules") {
                    walk(&path, out);
                }
            } else if matches!(
                path.extension().and_then(|e| e.to_str()),
                Some("rs" | "md" | "json" | "jsonl" | "toml" | "py" | "expect" | "snap")
            ) || name == "run"
            {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(root(), &mut out);
    out
}

/// Builds the forbidden words at run time, so this file does not cite them itself.
fn outside_references() -> [String; 4] {
    [
        format!("aws-{}", "facts"),
        format!("../{}/", "shared"),
        format!("{}/reference/", "shared"),
        format!("/work/{}", "shared"),
    ]
}

#[test]
fn no_file_cites_anything_outside_the_repository() {
    let forbidden = outside_references();
    let mut found = Vec::new();
    for f in repository_files() {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for (n, line) in text.lines().enumerate() {
            if forbidden.iter().any(|w| line.contains(w.as_str())) {
                found.push(format!("{}:{}: {line}", f.display(), n + 1));
            }
        }
    }
    assert!(
        found.is_empty(),
        "outside references:\n{}",
        found.join("\n")
    );
}

/// The section numbers of docs/aws-behaviour.md (`## 6.` or `### 6.4 ...`).
fn sections() -> Vec<String> {
    let doc = std::fs::read_to_string(root().join("docs/aws-behaviour.md")).unwrap();
    doc.lines()
        .filter(|l| l.starts_with('#'))
        .filter_map(|l| l.trim_start_matches('#').split_whitespace().next())
        .map(|n| n.trim_end_matches('.').to_string())
        .filter(|n| n.chars().next().is_some_and(|c| c.is_ascii_digit()))
        .collect()
}

#[test]
fn every_cited_section_of_aws_behaviour_exists() {
    let have = sections();
    assert!(have.iter().any(|s| s == "6.4"), "sections read: {have:?}");
    let cite = regex::Regex::new(r"aws-behaviour\.md §(\d+(?:\.\d+)?)").unwrap();
    let mut missing = Vec::new();
    let mut cited = 0;
    for f in repository_files() {
        let Ok(text) = std::fs::read_to_string(&f) else {
            continue;
        };
        for c in cite.captures_iter(&text) {
            cited += 1;
            if !have.contains(&c[1].to_string()) {
                missing.push(format!("{}: §{}", f.display(), &c[1]));
            }
        }
    }
    assert!(
        cited > 40,
        "only {cited} citations found: the pattern is wrong"
    );
    assert!(
        missing.is_empty(),
        "cited sections that do not exist: {missing:?}"
    );
}

#[test]
fn relative_links_in_the_readme_and_docs_resolve() {
    let link = regex::Regex::new(r"\]\(([^)#\s]+)(#[^)\s]*)?\)").unwrap();
    let mut docs: Vec<PathBuf> = vec![root().join("README.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let p = entry.unwrap().path();
        if p.extension().is_some_and(|e| e == "md") {
            docs.push(p);
        }
    }
    let mut broken = Vec::new();
    let mut checked = 0;
    for d in &docs {
        let text = std::fs::read_to_string(d).unwrap();
        for c in link.captures_iter(&text) {
            let target = &c[1];
            if target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            checked += 1;
            if !d.parent().unwrap().join(target).exists() {
                broken.push(format!("{}: {target}", d.display()));
            }
        }
    }
    assert!(checked > 5, "only {checked} relative links found");
    assert!(broken.is_empty(), "broken links: {broken:?}");
}
