//! The case reader on arbitrary text (`keyward::case::read_cases`, the reader of `keyward eval`
//! and `check` for a whole file): it never panics; every error names the file and a JSON path,
//! and a case whenever the file could be split into cases; every case it reads is evaluated, and
//! written back (`Case::to_json`) into a case that reads again to the same verdict.
#![no_main]

use keyward::case::{read_cases, Case};
use libfuzzer_sys::fuzz_target;

const FILE: &str = "fuzz.json";

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let cases = match read_cases(FILE, text) {
        Ok(cases) => cases,
        Err(e) => {
            assert_eq!(e.file, FILE);
            assert_eq!(
                e.path, "$",
                "a whole-file error is about the whole file: {e}"
            );
            return;
        }
    };
    for case in cases {
        match case {
            Ok(case) => {
                let verdict = case.verdict();
                let written = case.to_json();
                let again = Case::from_json(&written)
                    .unwrap_or_else(|e| panic!("written-back case does not read: {e}\n{written}"));
                assert_eq!(again.verdict(), verdict, "written back: {written}");
            }
            Err(e) => {
                assert_eq!(e.file, FILE);
                assert!(e.case.is_some(), "an error in a case names the case: {e}");
                assert!(e.path.starts_with('$'), "an error names a JSON path: {e}");
            }
        }
    }
});
