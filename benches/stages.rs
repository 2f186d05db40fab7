//! `keyward eval` stage by stage, per case, on generated request cases (the check generators,
//! seed fixed, written as JSON Lines in memory; nothing is read from or written to the
//! repository): JSON parsing alone, reading (parsing and compiling the case, on one thread),
//! evaluating, and writing the output line; then `eval` end to end on a file of the same cases,
//! on one thread and on every core.
//! Run: `cargo bench --bench stages`.

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use keyward::case::read_cases;
use keyward::commands::eval::{self, write_verdict};
use keyward::generate::sample_cases;

const CASES: usize = 2_000;

/// `CASES` generated request cases, one JSON object per line.
fn lines() -> String {
    sample_cases(CASES)
        .iter()
        .map(|c| c.to_string())
        .collect::<Vec<_>>()
        .join("\n")
}

fn stages(c: &mut Criterion) {
    let text = lines();
    let cases: Vec<_> = read_cases("bench.jsonl", &text)
        .expect("JSON Lines")
        .into_iter()
        .filter_map(Result::ok)
        .collect();
    let verdicts: Vec<_> = cases.iter().map(|c| c.verdict()).collect();

    let mut g = c.benchmark_group("eval_stage");
    g.throughput(Throughput::Elements(CASES as u64));
    g.sample_size(20);
    g.bench_function("parse_json", |b| {
        b.iter(|| {
            for l in text.lines() {
                black_box(serde_json::from_str::<serde_json::Value>(l).ok());
            }
        })
    });
    // One thread, so that the figure is a per-case cost (eval reads on every core).
    let one = rayon::ThreadPoolBuilder::new()
        .num_threads(1)
        .build()
        .expect("a thread pool");
    g.bench_function("read", |b| {
        b.iter(|| one.install(|| black_box(read_cases("bench.jsonl", black_box(&text)).ok())))
    });
    g.bench_function("evaluate", |b| {
        b.iter(|| {
            for c in &cases {
                black_box(c.verdict());
            }
        })
    });
    g.bench_function("write", |b| {
        let mut out = Vec::with_capacity(1 << 20);
        b.iter(|| {
            out.clear();
            for (c, v) in cases.iter().zip(&verdicts) {
                write_verdict(&mut out, c, v);
                out.push(b'\n');
            }
            black_box(out.len())
        })
    });
    g.finish();

    let dir = tempfile::tempdir().expect("a temporary directory");
    let file = dir.path().join("cases.jsonl");
    std::fs::write(&file, &text).expect("the case file is written");
    let mut g = c.benchmark_group("eval_end_to_end");
    g.throughput(Throughput::Elements(CASES as u64));
    g.sample_size(10);
    for (name, threads) in [("one_thread", 1), ("every_core", 0)] {
        g.bench_function(name, |b| {
            b.iter(|| {
                eval::run(
                    std::slice::from_ref(&file),
                    &keyward::case::Reader::default(),
                    eval::Output::Lines,
                    threads,
                    false,
                    &mut std::io::sink(),
                    &mut std::io::sink(),
                )
            })
        });
    }
    g.finish();
}

criterion_group!(benches, stages);
criterion_main!(benches);
