//! What changed between a guardrail's snapshot and its answer now, one line per change, in
//! the terms a reviewer reads: which keys are let through now that were not, and why.

use super::{AnswerJson, CreateJson, Report};

const NONE: &str = "(no answer)";

fn verdict(a: Option<&AnswerJson>) -> String {
    match a {
        Some(a) => super::verdict_text(&a.decision, a.by.as_deref()),
        None => NONE.into(),
    }
}

fn statement(a: &AnswerJson) -> String {
    match &a.statement {
        Some(s) => format!("{} statement {}", s.policy, s.index),
        None => "no statement".into(),
    }
}

/// How answer `a` became `b`: the decision first, then what decided it, then the words.
fn change(a: Option<&AnswerJson>, b: Option<&AnswerJson>) -> Option<String> {
    match (a, b) {
        (None, None) => None,
        (Some(x), Some(y)) if x == y => None,
        (Some(x), Some(y)) if x.decision == y.decision && x.by == y.by => {
            if x.statement != y.statement {
                Some(format!("decided by {} -> {}", statement(x), statement(y)))
            } else if x.message == y.message {
                Some(format!(
                    "rests on [{}] -> [{}]",
                    x.assumptions.join(", "),
                    y.assumptions.join(", ")
                ))
            } else {
                Some(format!(
                    "message {:?} -> {:?}",
                    x.message.as_deref().unwrap_or(""),
                    y.message.as_deref().unwrap_or("")
                ))
            }
        }
        _ => Some(format!("{} -> {}", verdict(a), verdict(b))),
    }
}

fn ranged<'a>(rows: &[&'a CreateJson], age: u32) -> Option<&'a AnswerJson> {
    rows.iter()
        .find(|r| r.age_days.is_some_and(|x| x.min <= age && age <= x.max))
        .map(|r| &r.answer)
}

fn never<'a>(rows: &[&'a CreateJson]) -> Option<&'a AnswerJson> {
    rows.iter()
        .find(|r| r.age_days.is_none())
        .map(|r| &r.answer)
}

fn service_rows<'a>(rep: &'a Report, service: &str) -> Vec<&'a CreateJson> {
    rep.create.iter().filter(|r| r.service == service).collect()
}

fn create_changes(before: &Report, now: &Report) -> Vec<String> {
    let mut services: Vec<&str> = Vec::new();
    for r in now.create.iter().chain(&before.create) {
        if !services.contains(&r.service.as_str()) {
            services.push(&r.service);
        }
    }
    let mut out = Vec::new();
    for service in services {
        let b = service_rows(before, service);
        let n = service_rows(now, service);
        // Every age where either side starts a row begins a segment.
        let mut starts: Vec<u32> = b
            .iter()
            .chain(&n)
            .filter_map(|r| r.age_days)
            .flat_map(|x| [x.min, x.max.saturating_add(1)])
            .collect();
        starts.sort_unstable();
        starts.dedup();
        let mut segments: Vec<(u32, u32, String)> = Vec::new();
        for w in starts.windows(2) {
            let (lo, hi) = (w[0], w[1] - 1);
            let Some(c) = change(ranged(&b, lo), ranged(&n, lo)) else {
                continue;
            };
            match segments.last_mut() {
                Some(last) if last.1 + 1 == lo && last.2 == c => last.1 = hi,
                _ => segments.push((lo, hi, c)),
            }
        }
        for (lo, hi, c) in segments {
            let ages = if lo == hi {
                format!("age {lo}")
            } else {
                format!("ages {lo}-{hi}")
            };
            out.push(format!("create {service} {ages}: {c}"));
        }
        if let Some(c) = change(never(&b), never(&n)) {
            out.push(format!("create {service} never expires: {c}"));
        }
    }
    out
}

fn lint_line(l: &super::LintJson) -> String {
    let at = match (&l.policy, l.statement) {
        (Some(p), Some(s)) => format!(" at {p} statement {s}"),
        _ => String::new(),
    };
    format!("lint {}{at}: {}", l.id, l.message)
}

/// One line per change, in the report's order.
pub fn diff(before: &Report, now: &Report) -> Vec<String> {
    let mut out = Vec::new();
    for (name, b, n) in [
        ("principal", &before.principal, &now.principal),
        ("user", &before.user, &now.user),
        ("region", &before.region, &now.region),
    ] {
        if b != n {
            out.push(format!(
                "{name}: {b} -> {n} (the snapshot was taken for another {name})"
            ));
        }
    }
    let mut uses: Vec<(&str, &str)> = Vec::new();
    for r in now.uses.iter().chain(&before.uses) {
        let k = (r.token_type.as_str(), r.endpoint.as_str());
        if !uses.contains(&k) {
            uses.push(k);
        }
    }
    for (t, e) in uses {
        let find = |rep: &'_ Report| {
            rep.uses
                .iter()
                .find(|r| r.token_type == t && r.endpoint == e)
                .map(|r| r.answer.clone())
        };
        if let Some(c) = change(find(before).as_ref(), find(now).as_ref()) {
            out.push(format!("use {t} on {e}: {c}"));
        }
    }
    out.extend(create_changes(before, now));
    for d in &before.depends_on {
        match now.depends_on.iter().find(|x| x.key == d.key) {
            None => out.push(format!("- depends on {}", d.key)),
            Some(x) if x.values != d.values => out.push(format!(
                "depends on {}: {} -> {}",
                d.key,
                d.values.join(", "),
                x.values.join(", ")
            )),
            Some(_) => {}
        }
    }
    for d in &now.depends_on {
        if !before.depends_on.iter().any(|x| x.key == d.key) {
            out.push(format!("+ depends on {}: {}", d.key, d.values.join(", ")));
        }
    }
    for l in &before.lints {
        if !now.lints.contains(l) {
            out.push(format!("- {}", lint_line(l)));
        }
    }
    for l in &now.lints {
        if !before.lints.contains(l) {
            out.push(format!("+ {}", lint_line(l)));
        }
    }
    out
}
