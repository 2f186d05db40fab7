//! `keyward explain FILE`: a person's account of each case's decision.

use std::io::Write;
use std::path::PathBuf;

use super::{EXIT_BAD_INPUT, EXIT_DISAGREE, EXIT_OK};
use keyward_iam::{PolicySet, Request};

use crate::case::{Case, Query};
use crate::inputs::{expand, load, Loaded};

/// One request and why it got its decision.
fn render_request(s: &mut String, r: &Request, set: &PolicySet) {
    s.push_str(&format!(
        "request: {} calls {} on {}",
        r.principal(),
        r.action(),
        r.resource()
    ));
    if let Some(a) = r.resource_account() {
        let cross = if r.is_cross_account() {
            ", cross-account"
        } else {
            ""
        };
        s.push_str(&format!(" (resource account {a}{cross})"));
    }
    s.push('\n');
    if !r.context.is_empty() {
        s.push_str("context:\n");
        for (k, v) in r.context.iter() {
            s.push_str(&format!("  {k} = {:?}\n", v.values()));
        }
    }
    s.push_str(&keyward_iam::explain(set, r).to_string());
}

/// The explanation text of one case (also what the snapshots hold).
pub fn render(case: &Case) -> String {
    let mut s = format!("case {}\n", case.id);
    let v = case.verdict();
    match &case.query {
        Query::Request(r) => render_request(&mut s, r, &case.policies),
        Query::Scenario(sc) => {
            let res = sc.run(&case.policies);
            if res.steps.is_empty() {
                s.push_str("the key is rejected before any authorization request\n");
            }
            for (i, step) in res.steps.iter().enumerate() {
                s.push_str(&format!(
                    "-- authorization request {} of the scenario\n",
                    i + 1
                ));
                render_request(&mut s, &step.request, &case.policies);
            }
            // Allowed, then refused (LimitExceeded, NoSuchEntity, ...): said so, so that the
            // request's `decision: allow` above does not read as the call's answer.
            let refused = match &res.decision {
                Some(d)
                    if d.kind == keyward_iam::DecisionKind::Allow && res.outcome.status >= 300 =>
                {
                    "authorization allowed, then refused: "
                }
                _ => "",
            };
            s.push_str(&format!("outcome: {refused}{}\n", res.outcome));
            // The requests' own assumptions are under each request; these are the outcome's.
            if res.assumptions.is_empty() {
                s.push_str("outcome assumptions: none beyond the requests'\n");
            }
            for id in &res.assumptions {
                let statement = keyward_bedrock::Assumption::find(id).map_or("", |a| a.statement);
                s.push_str(&format!("assumption {id}: {statement}\n"));
            }
        }
    }
    if let Some(e) = &case.expect {
        let want = serde_json::to_string(&e.to_json()).unwrap_or_default();
        let verdict = if v.agrees == Some(true) {
            "agrees"
        } else {
            "DISAGREES"
        };
        s.push_str(&format!("expected: {want} -> {verdict}\n"));
    }
    s
}

/// With `deny_warnings`, a lint warning (on the policies of the cases explained) makes an exit
/// of 0 one of 1.
pub fn run(
    path: &PathBuf,
    only: Option<&str>,
    deny_warnings: bool,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> u8 {
    let files = match expand(std::slice::from_ref(path)) {
        Ok(f) => f,
        Err(e) => {
            let _ = writeln!(err, "error: {e}");
            return EXIT_BAD_INPUT;
        }
    };
    let (mut code, mut shown, mut unreadable) = (EXIT_OK, 0, false);
    let mut linter = crate::lints::Linter::default();
    for item in load(&files) {
        match item {
            Loaded::Error(e) => {
                let _ = writeln!(err, "error: {e}");
                code = EXIT_BAD_INPUT;
                // The case asked for exists but is unreadable: not "no case with id".
                unreadable |= only.is_some() && e.case.as_deref() == only;
            }
            Loaded::Case { case, file } => {
                if only.is_some_and(|id| id != case.id) {
                    continue;
                }
                linter.add(&file, &case.id, &case.policies);
                if shown > 0 {
                    let _ = writeln!(out);
                }
                shown += 1;
                let _ = write!(out, "{}", render(&case));
                if case.verdict().agrees == Some(false) && code == EXIT_OK {
                    code = EXIT_DISAGREE;
                }
            }
        }
    }
    if let (Some(id), 0, false) = (only, shown, unreadable) {
        let _ = writeln!(err, "error: {}: no case with id {id:?}", path.display());
        return EXIT_BAD_INPUT;
    }
    let warnings = linter.warnings();
    super::print_warnings(&warnings, err);
    super::deny_warnings(code, deny_warnings, &warnings)
}
