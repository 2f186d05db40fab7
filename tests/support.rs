//! What the test modules share: the repository's paths, running the `keyward` binary, and the
//! shipped fixtures.

use std::io::Write;
use std::path::Path;
use std::process::{Command, Output, Stdio};

use keyward::case::Case;
use keyward::inputs::{expand, load, Loaded};
use serde_json::Value;

/// The repository root (the root crate's manifest directory).
pub fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Runs `keyward` from the repository root, with nothing on standard input.
pub fn keyward(args: &[&str]) -> Output {
    run(
        Command::new(env!("CARGO_BIN_EXE_keyward")).current_dir(root()),
        args,
        None,
    )
}

/// Runs `keyward` from the repository root with `input` on standard input.
pub fn keyward_with_input(args: &[&str], input: &str) -> Output {
    run(
        Command::new(env!("CARGO_BIN_EXE_keyward")).current_dir(root()),
        args,
        Some(input),
    )
}

/// Runs `keyward` in `dir`, with every AWS and keyward variable cleared and HOME set to `dir`:
/// no sandbox account, no credentials, no configuration file it did not get from the test.
pub fn keyward_offline(args: &[&str], dir: &Path) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_keyward"));
    c.current_dir(dir).env("HOME", dir);
    for (k, _) in std::env::vars() {
        if k.starts_with("AWS_") || k.starts_with("KEYWARD_") {
            c.env_remove(k);
        }
    }
    run(&mut c, args, None)
}

/// Runs the command to its end. Whatever the input, keyward never panics.
fn run(cmd: &mut Command, args: &[&str], input: Option<&str>) -> Output {
    cmd.args(args)
        .stdin(if input.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = cmd.spawn().expect("run the keyward binary");
    // Written from another thread: keyward prints while it reads, so a large input written
    // before its output is read would fill both pipes and wait forever.
    let writer = input.map(|text| {
        let mut stdin = child.stdin.take().expect("stdin");
        let text = text.to_string();
        std::thread::spawn(move || stdin.write_all(text.as_bytes()))
    });
    let out = child.wait_with_output().expect("wait for keyward");
    if let Some(w) = writer {
        w.join().expect("the stdin writer").expect("write stdin");
    }
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !err.contains("panicked"),
        "keyward {args:?} panicked:\n{err}"
    );
    out
}

/// Standard output, which keyward writes in UTF-8.
pub fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).expect("keyward writes UTF-8")
}

/// Standard error, which keyward writes in UTF-8.
pub fn stderr(o: &Output) -> String {
    String::from_utf8(o.stderr.clone()).expect("keyward writes UTF-8")
}

/// Standard output read as JSON Lines (what `eval` prints).
pub fn json_lines(o: &Output) -> Vec<Value> {
    stdout(o)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("stdout line {l:?}: {e}")))
        .collect()
}

/// Writes `text` to `dir/name`.
pub fn write(dir: &Path, name: &str, text: &str) {
    std::fs::write(dir.join(name), text).unwrap();
}

/// A case from its JSON, which must be valid.
pub fn case(v: &Value) -> Case {
    Case::from_json(v).unwrap_or_else(|e| panic!("{e}: {v}"))
}

/// Every case under fixtures/, with the file it is in; every one must be readable.
pub fn fixtures() -> Vec<(String, Case)> {
    let files = expand(&[root().join("fixtures")]).expect("fixtures directory");
    load(&files)
        .into_iter()
        .map(|l| match l {
            Loaded::Case { file, case } => (file, *case),
            Loaded::Error(e) => panic!("unreadable fixture: {e}"),
        })
        .collect()
}

/// The shipped fixture with this id.
pub fn fixture(id: &str) -> Case {
    fixtures()
        .into_iter()
        .find_map(|(_, c)| (c.id == id).then_some(c))
        .unwrap_or_else(|| panic!("no fixture {id}"))
}

/// `n` generated request cases (the check generators, deterministic), one JSON object per line,
/// with ids `g0`, `g1`, ...
pub fn generated_case_lines(n: usize) -> Vec<String> {
    keyward::generate::sample_cases(n)
        .iter()
        .map(Value::to_string)
        .collect()
}
