//! One run of `keyward eval FILE`, its wall time and peak resident memory, waited for with
//! `wait4` so that only that child counts. Shared by the streaming test and the growth bench
//! (benches/growth.rs includes this file).

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

/// What one run cost.
pub struct Measured {
    /// Read by the bench; the test reads only the memory.
    #[allow(dead_code)]
    pub wall_seconds: f64,
    pub peak_kib: i64,
}

/// Runs `keyward eval FILE` with its output discarded; panics unless it exits 0.
pub fn eval_measured(file: &Path) -> Measured {
    let start = Instant::now();
    // Waited for with wait4 below, not Child::wait.
    #[allow(clippy::zombie_processes)]
    let child = Command::new(env!("CARGO_BIN_EXE_keyward"))
        .args(["eval", file.to_str().expect("a UTF-8 path")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the keyward binary");
    let mut status = 0;
    // SAFETY: `rusage` is plain data that wait4 fills in; the pid is our own child, not yet
    // waited for.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    let pid = unsafe { libc::wait4(child.id() as i32, &mut status, 0, &mut usage) };
    let wall_seconds = start.elapsed().as_secs_f64();
    assert_eq!(pid, child.id() as i32, "wait4 on the child");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "keyward eval failed on {}",
        file.display()
    );
    Measured {
        wall_seconds,
        peak_kib: usage.ru_maxrss,
    }
}
