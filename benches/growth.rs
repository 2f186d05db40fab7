//! `keyward eval` time and peak memory against input size: JSON Lines files of 10 MB, 100 MB and
//! 1 GB, generated on the fly into a temporary directory (never into the repository) from 1,000
//! generated request cases (the check generators, seed fixed) repeated under new ids. Each size
//! runs three times on every core; the table gives the median wall time, the time per case and
//! the largest peak resident memory (wait4's ru_maxrss of the child).
//!
//! Run: `cargo bench --bench growth` (all three sizes: about 2 GB of temporary disk at most, one
//! file at a time), or `KEYWARD_GROWTH_MB=10,100 cargo bench --bench growth` for some sizes.

use std::io::Write;
use std::path::Path;

use keyward::generate::sample_cases;

const DISTINCT: usize = 1_000;
const RUNS: usize = 3;

/// The distinct cases, each a JSON object without its id (added per copy).
fn cases() -> Vec<String> {
    sample_cases(DISTINCT)
        .into_iter()
        .map(|mut c| {
            if let Some(o) = c.as_object_mut() {
                o.shift_remove("id");
            }
            // `{"policies":...}` without its opening brace, to follow an id.
            c.to_string()[1..].to_string()
        })
        .collect()
}

/// Writes at least `bytes` of cases; the number of cases written.
fn write_input(path: &Path, bytes: u64, cases: &[String]) -> usize {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path).expect("a temporary file"));
    let (mut written, mut n) = (0u64, 0usize);
    while written < bytes {
        let line = format!("{{\"id\":\"c{n}\",{}\n", cases[n % cases.len()]);
        out.write_all(line.as_bytes())
            .expect("room on the temporary disk");
        written += line.len() as u64;
        n += 1;
    }
    out.flush().expect("room on the temporary disk");
    n
}

#[path = "../tests/peak.rs"]
mod peak;

fn main() {
    // `cargo bench` passes `--bench`; a filter argument is not used.
    let sizes: Vec<u64> = std::env::var("KEYWARD_GROWTH_MB")
        .ok()
        .map(|s| {
            s.split(',')
                .map(|x| {
                    x.trim()
                        .parse()
                        .expect("KEYWARD_GROWTH_MB: sizes in MB, e.g. 10,100")
                })
                .collect()
        })
        .unwrap_or_else(|| vec![10, 100, 1000]);
    let cases = cases();
    let dir = tempfile::tempdir().expect("a temporary directory");
    println!("| input | cases | wall (median of {RUNS}) | per case | peak memory |");
    println!("|---|---|---|---|---|");
    for mb in sizes {
        let file = dir.path().join(format!("{mb}MB.jsonl"));
        let n = write_input(&file, mb * 1_000_000, &cases);
        let mut walls = Vec::new();
        let mut peak = 0;
        for _ in 0..RUNS {
            let run = peak::eval_measured(&file);
            walls.push(run.wall_seconds);
            peak = peak.max(run.peak_kib);
        }
        walls.sort_by(f64::total_cmp);
        let wall = walls[RUNS / 2];
        println!(
            "| {mb} MB | {n} | {wall:.2} s | {:.1} µs | {:.1} MiB |",
            wall * 1e6 / n as f64,
            peak as f64 / 1024.0
        );
        std::fs::remove_file(&file).expect("the temporary file");
    }
}
