//! Progress on stderr while caps sync: a single updating status line on a
//! terminal, plain one-line-per-step messages otherwise (CI logs), nothing with
//! `--json` (stdout stays machine-readable, stderr stays quiet).

use std::collections::BTreeMap;
use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use std::time::Instant;

use pylon_caps::sync::SyncEvent;

pub struct Progress {
    mode: Mode,
    state: Arc<Mutex<State>>,
    ticker: Option<std::thread::JoinHandle<()>>,
}

#[derive(Clone, Copy, PartialEq)]
enum Mode {
    Quiet,
    Lines,
    Terminal,
}

struct State {
    finished: bool,
    start: Instant,
    running: BTreeMap<String, &'static str>,
    done: usize,
}

impl Progress {
    pub fn new(json: bool) -> Self {
        let mode = if json {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() {
            Mode::Terminal
        } else {
            Mode::Lines
        };
        let state = Arc::new(Mutex::new(State {
            finished: false,
            start: Instant::now(),
            running: BTreeMap::new(),
            done: 0,
        }));
        // Builds take minutes with no events in between: keep the clock moving.
        let ticker = (mode == Mode::Terminal).then(|| {
            let state = Arc::clone(&state);
            std::thread::spawn(move || loop {
                std::thread::sleep(Duration::from_millis(500));
                let st = state.lock().unwrap_or_else(|e| e.into_inner());
                if st.finished {
                    break;
                }
                draw(&st);
            })
        });
        Progress {
            mode,
            state,
            ticker,
        }
    }

    pub fn event(&self, ev: SyncEvent<'_>) {
        let mut st = self.state.lock().unwrap_or_else(|e| e.into_inner());
        let mut err = std::io::stderr().lock();
        match ev {
            SyncEvent::Step { cap, step } => {
                st.running.insert(cap.to_string(), step.as_str());
                if self.mode == Mode::Lines {
                    let _ = writeln!(err, "caps-sync: {cap}: {}", step.as_str());
                }
            }
            SyncEvent::WaitingForLock { cap, lock } => {
                if self.mode != Mode::Quiet {
                    let _ = writeln!(
                        err,
                        "{}caps-sync: {cap}: waiting for another caps-sync holding {}",
                        if self.mode == Mode::Terminal {
                            "\r\x1b[K"
                        } else {
                            ""
                        },
                        lock.display()
                    );
                }
            }
            SyncEvent::Finished(outcome) => {
                st.running.remove(&outcome.name);
                st.done += 1;
                if self.mode == Mode::Lines {
                    let _ = writeln!(
                        err,
                        "caps-sync: {}: {} ({:.1}s)",
                        outcome.name,
                        outcome.status.label(),
                        outcome.elapsed.as_secs_f64()
                    );
                }
            }
        }
        drop(err);
        if self.mode == Mode::Terminal {
            draw(&st);
        }
    }

    pub fn finish(mut self) {
        self.state
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .finished = true;
        if let Some(ticker) = self.ticker.take() {
            let _ = ticker.join();
        }
        if self.mode == Mode::Terminal {
            let _ = write!(std::io::stderr(), "\r\x1b[K");
        }
    }
}

/// Redraws the single status line: elapsed time, caps done, caps running and their step.
fn draw(st: &State) {
    let running: Vec<String> = st
        .running
        .iter()
        .map(|(c, s)| format!("{c} ({s})"))
        .collect();
    let mut err = std::io::stderr().lock();
    let _ = write!(
        err,
        "\r\x1b[K[{:>4.0}s] {} done; {}",
        st.start.elapsed().as_secs_f64(),
        st.done,
        if running.is_empty() {
            "…".to_string()
        } else {
            running.join(", ")
        }
    );
    let _ = err.flush();
}
