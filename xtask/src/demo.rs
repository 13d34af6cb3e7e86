//! `cargo xtask demo`: the main job end to end on this machine, printing each
//! step and failing on the first step that misbehaves. Part one is what an
//! agent's plugin does first (the launcher fetching and verifying the CLI);
//! part two is a workspace on the devplane reached over real SSH with a
//! throwaway key.

mod devplane;
mod launcher;

pub fn run(_args: &[String]) -> Result<(), String> {
    let dir = crate::sh::root().join("target/demo");
    launcher::run(&dir)?;
    devplane::run(&dir)?;
    println!("\ndemo finished: every step behaved as the spec says");
    Ok(())
}

pub fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
