//! `cargo xtask demo`: the main job end to end on this machine, printing each
//! step and failing on the first step that misbehaves. Part one is what an
//! agent's plugin does first (the launcher fetching and verifying the CLI);
//! part two is the whole working session, through the plugin's `bin/runcode`,
//! against the devplane: login, list, connect, exec, context, files, a
//! forward, config-ssh with the real ssh, the status line, disconnect.

mod devplane;
mod launcher;

pub fn run(_args: &[String]) -> Result<(), String> {
    let dir = crate::sh::root().join("target/demo");
    let staged = crate::stage::stage(&dir, false)?;
    let release = runcode_e2e::serve::Server::start(&staged.release);
    launcher::run(&dir, &staged, &release)?;
    devplane::run(&dir, &staged, &release)?;
    println!("\ndemo finished: every step behaved as the README and docs/ describe");
    Ok(())
}

pub fn step(n: u32, title: &str) {
    println!("\n== {n}. {title}");
}

pub fn indent(text: &str) -> String {
    text.lines().map(|l| format!("    {l}\n")).collect()
}
