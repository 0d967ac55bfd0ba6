//! The tour in docs/operator_guide/cli.md is a real session: this test runs its `console` blocks as one
//! bash script from an empty directory, with this build's opsctl first on the PATH, and compares what each
//! command printed with what the guide shows. Uuids (by order of appearance), times and durations may
//! differ; nothing else may. `OPSCTL_TOUR=overwrite` writes this run's output into the guide instead.

mod support;

use std::path::Path;

use support::{ScratchDir, redact_times, replace_shaped};

const GUIDE: &str = "../docs/operator_guide/cli.md";
const SECTION: &str = "## A tour";

/// A command of the tour and the lines the guide shows under it.
struct Step {
    command: String,
    /// Where its output lines are in the guide: `first..end`.
    first: usize,
    end: usize,
}

/// The steps of the tour section: each `$ ` line of its `console` blocks, with the lines under it.
fn steps(lines: &[&str]) -> Vec<Step> {
    let start = lines
        .iter()
        .position(|line| *line == SECTION)
        .expect("the guide has a tour section");
    let mut steps: Vec<Step> = Vec::new();
    let mut in_block = false;
    for (index, line) in lines.iter().enumerate().skip(start + 1) {
        if line.starts_with("## ") {
            break;
        }
        if in_block {
            if *line == "```" {
                in_block = false;
            } else if let Some(command) = line.strip_prefix("$ ") {
                steps.push(Step {
                    command: command.to_owned(),
                    first: index + 1,
                    end: index + 1,
                });
            } else {
                steps.last_mut().expect("a block starts with a command").end = index + 1;
            }
        } else if *line == "```console" {
            in_block = true;
        }
    }
    steps
}

/// Runs the commands as one bash script (so variables carry from one to the next), standard error merged
/// into standard output; returns each command's output lines.
fn run(steps: &[Step]) -> Vec<Vec<String>> {
    const MARK: &str = "\u{1e}step";
    let dir = ScratchDir::new("opsctl-tour");
    let mut script = String::from("exec 2>&1\n");
    for step in steps {
        script.push_str(&format!("printf '\\n{MARK}\\n'\n{}\n", step.command));
    }
    let opsctl = Path::new(env!("CARGO_BIN_EXE_opsctl"));
    let path = format!(
        "{}:{}",
        opsctl.parent().expect("the binary's directory").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let output = std::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .current_dir(dir.path())
        .env("PATH", path)
        .env("TMPDIR", dir.path())
        .env_remove("OPS_DATABASE_URL")
        .env_remove("RUST_LOG")
        .output()
        .expect("run bash");
    let text = String::from_utf8(output.stdout).expect("utf-8 output");
    let mut outputs: Vec<Vec<String>> = text
        .split(&format!("\n{MARK}\n"))
        .skip(1)
        .map(|chunk| chunk.lines().map(str::to_owned).collect())
        .collect();
    for lines in &mut outputs {
        // The next mark's leading newline ends each chunk; a blank line at the end shows nothing.
        while lines.last().is_some_and(|line| line.trim().is_empty()) {
            lines.pop();
        }
    }
    assert_eq!(
        outputs.len(),
        steps.len(),
        "the script stopped early:\n{text}"
    );
    outputs
}

/// `text` with each uuid replaced by `<uuid-N>`, N counting distinct uuids in order of appearance.
fn number_uuids(text: &str) -> String {
    let mut seen: Vec<String> = Vec::new();
    replace_shaped(text, "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx", |uuid| {
        let number = match seen.iter().position(|known| known == uuid) {
            Some(index) => index + 1,
            None => {
                seen.push(uuid.to_owned());
                seen.len()
            }
        };
        format!("<uuid-{number}>")
    })
}

/// What may differ between two runs taken out: uuids numbered, times and durations (`1.3 s`) replaced,
/// and runs of spaces (table columns widen with their contents) made one.
fn normalise(transcript: &str) -> String {
    let text = redact_times(&number_uuids(transcript));
    text.lines()
        .map(|line| {
            let words: Vec<&str> = line.split_whitespace().collect();
            let mut out = Vec::new();
            for (index, word) in words.iter().enumerate() {
                let is_seconds = words
                    .get(index + 1)
                    .is_some_and(|next| next.trim_end_matches(',') == "s")
                    && word.parse::<f64>().is_ok();
                out.push(if is_seconds { "<seconds>" } else { word });
            }
            out.join(" ")
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The guide's transcript or this run's: each command, then its output.
fn transcript(steps: &[Step], outputs: impl Fn(usize) -> Vec<String>) -> String {
    let mut text = String::new();
    for (index, step) in steps.iter().enumerate() {
        text.push_str(&format!("$ {}\n", step.command));
        for line in outputs(index) {
            text.push_str(&line);
            text.push('\n');
        }
    }
    text
}

#[test]
fn the_tour_in_the_cli_guide_is_what_opsctl_prints() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(GUIDE);
    let guide = std::fs::read_to_string(&path).expect("read the CLI guide");
    let lines: Vec<&str> = guide.lines().collect();
    let steps = steps(&lines);
    assert!(steps.len() >= 10, "the tour has {} commands", steps.len());
    let actual = run(&steps);

    if std::env::var("OPSCTL_TOUR").as_deref() == Ok("overwrite") {
        let mut rewritten: Vec<String> = Vec::new();
        let mut next = 0;
        for (step, output) in steps.iter().zip(&actual) {
            rewritten.extend(
                lines[next..step.first]
                    .iter()
                    .map(|line| (*line).to_owned()),
            );
            rewritten.extend(output.iter().cloned());
            next = step.end;
        }
        rewritten.extend(lines[next..].iter().map(|line| (*line).to_owned()));
        std::fs::write(&path, rewritten.join("\n") + "\n").expect("write the CLI guide");
        return;
    }

    let shown = transcript(&steps, |index| {
        lines[steps[index].first..steps[index].end]
            .iter()
            .map(|line| (*line).to_owned())
            .collect()
    });
    let printed = transcript(&steps, |index| actual[index].clone());
    let (shown, printed) = (normalise(&shown), normalise(&printed));
    if shown != printed {
        let first = shown
            .lines()
            .zip(printed.lines())
            .position(|(a, b)| a != b)
            .unwrap_or(shown.lines().count().min(printed.lines().count()));
        panic!(
            "the tour in {GUIDE} differs from what opsctl prints (OPSCTL_TOUR=overwrite updates it) at line \
             {}:\n  guide:  {:?}\n  opsctl: {:?}\n\nopsctl printed:\n{}",
            first + 1,
            shown.lines().nth(first),
            printed.lines().nth(first),
            transcript(&steps, |index| actual[index].clone())
        );
    }
}

#[test]
fn uuids_are_numbered_by_first_appearance() {
    assert_eq!(
        number_uuids(
            "net 8d6ae5c6-0d5e-4a7c-9d3e-51a4e8b2b0f1: op 78c22cd3-e804-46c7-ae40-5c3770b7e809, \
             8d6ae5c6-0d5e-4a7c-9d3e-51a4e8b2b0f1-clusteroperation"
        ),
        "net <uuid-1>: op <uuid-2>, <uuid-1>-clusteroperation"
    );
    assert_eq!(
        normalise("seeds 1..=5: 72 ops, 1.0 s\nSEQ   OP  2026-11-29T03:22:35Z"),
        "seeds 1..=5: 72 ops, <seconds> s\nSEQ OP [time]"
    );
}
